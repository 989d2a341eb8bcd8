"""`contracts check` logic: what a change does to contracts other teams rely on."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, Field

from seamline import Context, Contract, Finish, HandOff, Outcome, Registry, agent
from seamline.contracts import Migration
from seamline.governance import Snapshot
from seamline.governance.check import CheckFinding, Severity, check_contracts


class QuoteV1(BaseModel):
    """A price quote."""

    sku: str
    price: float = Field(ge=0)


class QuoteDocs(BaseModel):
    """A price quote, better documented."""

    sku: str = Field(description="The stock-keeping unit.")
    price: float = Field(ge=0, description="Price in EUR.")


class QuoteRetyped(BaseModel):
    """A price quote whose price became text."""

    sku: str
    price: str


class QuoteRequiredAdded(BaseModel):
    """A minor release that demands a new field."""

    sku: str
    price: float = Field(ge=0)
    currency: str


class QuoteOptionalAdded(BaseModel):
    """A minor release with a new optional field."""

    sku: str
    price: float = Field(ge=0)
    currency: str = "EUR"


def quote(model: type[BaseModel], version: str, **extra: Any) -> Contract[Any]:
    """One version of the quote contract."""
    return Contract(model=model, name="quote", version=version, owner="pricing", **extra)


def snapshot(*contracts: Contract[Any], emits: str = "1.0.0", accepts: str = "^1") -> Snapshot:
    """A seller emitting ``quote@emits`` to a biller accepting ``accepts``."""

    @agent(name="seller", version="1.0.0", owner="sales", emits={"quote": emits})
    def seller(payload: Any, ctx: Context) -> Outcome:
        return HandOff(to="biller", payload=payload)

    @agent(name="biller", version="1.0.0", owner="billing", accepts={"quote": accepts})
    def biller(payload: Any, ctx: Context) -> Outcome:
        return Finish(None)

    migrations = [
        Migration("quote", c.version, d.version, dict)
        for c, d in pairwise(contracts)
        if d.version.major > c.version.major
    ]
    return Snapshot.of(
        Registry(agents=[seller, biller], contracts=contracts, migrations=migrations)
    )


BASE = snapshot(quote(QuoteV1, "1.0.0"))


def rules(findings: list[CheckFinding]) -> list[tuple[str, str, str]]:
    """(severity, contract, rule) of each finding."""
    return [(f.severity.value, f.contract, f.rule) for f in findings]


def test_an_unchanged_registry_has_no_findings() -> None:
    """The same registry against itself is clean."""
    assert check_contracts(BASE, BASE) == []


def test_a_documentation_edit_in_place_is_not_a_change() -> None:
    """Descriptions are annotations; editing them does not touch the wire."""
    assert check_contracts(snapshot(quote(QuoteDocs, "1.0.0")), BASE) == []


def test_a_type_change_in_place_is_an_error_naming_the_path() -> None:
    """Editing a published version breaks every reader of it."""
    findings = check_contracts(snapshot(quote(QuoteRetyped, "1.0.0")), BASE)
    assert ("error", "quote@1.0.0", "VERSION_EDITED_IN_PLACE") in rules(findings)
    edited = next(f for f in findings if f.rule == "VERSION_EDITED_IN_PLACE")
    assert edited.path == "/properties/price"
    assert "publish the change as a new version" in edited.message


def test_a_minor_that_adds_a_required_field_breaks_backward() -> None:
    """A new reader demanding a field old writers never sent is caught with its path."""
    current = snapshot(quote(QuoteV1, "1.0.0"), quote(QuoteRequiredAdded, "1.1.0"))
    findings = check_contracts(current, BASE)
    assert rules(findings) == [("error", "quote@1.1.0", "REQUIRED_PROPERTY_ADDED")]
    assert findings[0].path == "/properties/currency"
    assert "breaks BACKWARD" in findings[0].message and "bump the major" in findings[0].message
    assert str(findings[0]).startswith("error: quote@1.1.0: REQUIRED_PROPERTY_ADDED at ")


def test_a_minor_that_adds_an_optional_field_with_a_default_passes() -> None:
    """Backward-compatible evolution is not reported."""
    current = snapshot(quote(QuoteV1, "1.0.0"), quote(QuoteOptionalAdded, "1.1.0"))
    assert check_contracts(current, BASE) == []


def test_the_mode_decides_what_breaks() -> None:
    """Under FORWARD an added optional field is fine; under NONE anything goes."""
    forward = snapshot(
        quote(QuoteV1, "1.0.0"), quote(QuoteRequiredAdded, "1.1.0", compatibility="FORWARD")
    )
    assert check_contracts(forward, BASE) == []
    loose = snapshot(quote(QuoteV1, "1.0.0"), quote(QuoteRetyped, "1.1.0", compatibility="NONE"))
    assert check_contracts(loose, BASE) == []


def test_a_major_bump_may_break() -> None:
    """A new major version is the declared way to break; a migration keeps the edge working."""
    current = snapshot(quote(QuoteV1, "1.0.0"), quote(QuoteRetyped, "2.0.0"), accepts="^2")
    assert check_contracts(current, BASE) == []


def test_the_base_history_judges_a_rewritten_line() -> None:
    """A branch cannot escape the check by rewriting the published version alongside."""
    current = snapshot(quote(QuoteRetyped, "1.0.0"), quote(QuoteRetyped, "1.1.0"))
    assert rules(check_contracts(current, BASE)) == [
        ("error", "quote@1.0.0", "VERSION_EDITED_IN_PLACE"),
        ("error", "quote@1.1.0", "TYPE_CHANGED"),
    ]


def test_removing_a_version_someone_emits_is_an_error() -> None:
    """A version still sent cannot disappear; one nobody sends only warns."""
    base = snapshot(quote(QuoteV1, "1.0.0"), quote(QuoteOptionalAdded, "1.1.0"))
    emitted_gone = snapshot(quote(QuoteOptionalAdded, "1.1.0"), emits="1.1.0")
    found = check_contracts(emitted_gone, base)
    assert ("error", "quote@1.0.0", "VERSION_REMOVED") in rules(found)
    assert "retire it first" in next(f.message for f in found if f.rule == "VERSION_REMOVED")
    unused_gone = snapshot(quote(QuoteV1, "1.0.0"))
    assert rules(check_contracts(unused_gone, base)) == [
        ("warning", "quote@1.1.0", "VERSION_REMOVED")
    ]


def test_an_edge_no_payload_can_cross_is_an_error_without_a_base() -> None:
    """A receiver range that excludes the emitted version with no migration fails alone."""
    found = check_contracts(snapshot(quote(QuoteV1, "1.0.0"), accepts="^2"))
    assert rules(found) == [("error", "quote@1.0.0", "EDGE_CANNOT_WORK")]
    assert "seller → biller (quote)" in found[0].message


def test_deprecated_traffic_warns_and_retired_traffic_fails() -> None:
    """Senders still on an old version are named, with the retirement date."""
    soon = quote(QuoteV1, "1.0.0", retires="2030-01-01")
    found = check_contracts(snapshot(soon), BASE, today=date(2029, 6, 1))
    assert rules(found) == [("warning", "quote@1.0.0", "VERSION_DEPRECATED")]
    assert "seller@1.0.0 still emits it (retires 2030-01-01)" in found[0].message
    found = check_contracts(snapshot(soon), BASE, today=date(2030, 1, 1))
    assert rules(found) == [("error", "quote@1.0.0", "VERSION_RETIRED")]


def test_errors_come_before_warnings() -> None:
    """The report leads with what fails the build."""
    base = snapshot(quote(QuoteV1, "1.0.0"), quote(QuoteOptionalAdded, "1.1.0"))
    current = snapshot(quote(QuoteRetyped, "1.0.0", retires="2999-01-01"))
    severities = [f.severity for f in check_contracts(current, base)]
    assert severities == sorted(severities, key=lambda s: s is not Severity.ERROR)
    assert Severity.WARNING in severities and Severity.ERROR in severities
