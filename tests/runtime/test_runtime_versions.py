"""Several versions of one contract in flight: upcasts, deprecations and retirements."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel, Field

from seamline import (
    Agent,
    Context,
    Contract,
    ContractDeprecationWarning,
    ContractError,
    FailurePolicy,
    Finish,
    HandOff,
    HandoffValidationError,
    Outcome,
    Registry,
    RegistryError,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.contracts import Migration, migration
from seamline.ledger import HandoffStatus, Ledger
from seamline.stores import WorkflowStatus


class QuoteV1(BaseModel):
    """Amounts as one string, the way the first team wrote them."""

    sku: str
    price: str = Field(pattern=r"^\d+\.\d\d [A-Z]{3}$")


class QuoteV2(BaseModel):
    """Amount and currency split."""

    sku: str
    amount: float
    currency: str


class QuoteV3(BaseModel):
    """Amounts in minor units, as payments asked."""

    sku: str
    cents: int
    currency: str


V1 = Contract(model=QuoteV1, name="quote", version="1.0.0", owner="pricing")
V2 = Contract(model=QuoteV2, name="quote", version="2.0.0", owner="pricing")
V3 = Contract(model=QuoteV3, name="quote", version="3.0.0", owner="pricing")


@migration("quote", "1.0.0", "2.0.0")
def split_price(payload: dict[str, Any]) -> dict[str, Any]:
    """Split "12.50 EUR" into amount and currency."""
    amount, currency = payload["price"].split()
    return {"sku": payload["sku"], "amount": float(amount), "currency": currency}


@migration("quote", "2.0.0", "3.0.0")
def to_cents(payload: dict[str, Any]) -> dict[str, Any]:
    """Floats become integer cents."""
    rest = {k: v for k, v in payload.items() if k != "amount"}
    return {**rest, "cents": round(payload["amount"] * 100)}


def broken(payload: dict[str, Any]) -> dict[str, Any]:
    """A migration with a bug."""
    raise KeyError("amount")


seen: list[BaseModel] = []


@agent(name="seller", version="1.0.0", owner="sales", accepts={"quote": "^1"}, emits=[V1])
def seller(quote: QuoteV1, ctx: Context) -> Outcome:
    """Passes the v1 quote it was given on to the biller."""
    return HandOff(to="biller", payload=quote, contract="quote")


@agent(name="biller", version="4.0.0", owner="payments", accepts={"quote": "^3"})
def biller(quote: QuoteV3, ctx: Context) -> Outcome:
    """Reads v3 only."""
    seen.append(quote)
    return Finish({"charged": quote.cents, "currency": quote.currency})


QUOTE = QuoteV1(sku="LAMP-1", price="12.50 EUR")


def runtime(tmp_path: Path, *contracts: Contract[Any], steps: list[Migration]) -> Runtime:
    """A seller -> biller runtime on a real SQLite ledger."""
    registry = Registry(agents=[seller, biller], contracts=contracts, migrations=steps)
    return Runtime(registry, SqliteStore(tmp_path / "ledger.db"))


def run(rt: Runtime) -> Any:
    """Start the workflow at the seller."""
    return anyio.run(lambda: rt.run("seller", QUOTE, intent="bill this quote"))


def test_v1_payload_is_upcast_through_composed_migrations(tmp_path: Path) -> None:
    """A v1 sender reaches a v3 reader through v1 -> v2 -> v3, recorded in the ledger."""
    seen.clear()
    rt = runtime(tmp_path, V1, V2, V3, steps=[split_price, to_cents])
    result = run(rt)
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result == {"charged": 1250, "currency": "EUR"}
    assert seen == [QuoteV3(sku="LAMP-1", cents=1250, currency="EUR")]
    handoff = Ledger(rt.store).handoffs(result.workflow_id)[1]
    assert handoff.contract == "quote@3.0.0"
    upcast = next(e for e in handoff.entries if e.kind == "upcast")
    assert json.loads(upcast.data or "") == {
        "from": "1.0.0",
        "to": "3.0.0",
        "steps": "quote 1.0.0 -> 2.0.0, quote 2.0.0 -> 3.0.0",
    }


def test_capability_routing_counts_a_migration_path_as_accepting(tmp_path: Path) -> None:
    """Routing by capability picks a receiver that can read the version after upcasting."""

    @agent(name="router", version="1.0.0", owner="sales", accepts={"quote": "^1"}, emits=[V1])
    def router(quote: QuoteV1, ctx: Context) -> Outcome:
        return HandOff(capability="billing", payload=quote, contract="quote")

    billing = Agent(card=replace(biller.card, capabilities=frozenset({"billing"})), fn=biller.fn)
    registry = Registry(
        agents=[router, billing], contracts=[V1, V2, V3], migrations=[split_price, to_cents]
    )
    route = registry.route(router, HandOff(capability="billing", payload=QUOTE, contract="quote"))
    assert (route.receiver, route.version, route.target) == ("biller", "1.0.0", "3.0.0")


def test_a_failing_migration_rejects_the_handoff_and_changes_nothing_else(tmp_path: Path) -> None:
    """A migration that raises is a handoff issue, fed back, then dead-lettered."""
    bad = Migration("quote", V1.version, V3.version, broken)
    rt = runtime(tmp_path, V1, V3, steps=[bad])
    result = run(rt)
    assert result.status is WorkflowStatus.DEAD_LETTERED
    letter = Ledger(rt.store).dead_letter(result.dead_letter_id or "")
    issues = json.loads(letter.issues)
    assert issues[0]["code"] == "migration_failed"
    assert "KeyError" in issues[0]["message"] and "fix the migration" in issues[0]["message"]


def test_a_payload_broken_before_the_upcast_is_reported_in_the_senders_terms(
    tmp_path: Path,
) -> None:
    """The payload is validated as the version it claims before any migration runs."""

    @agent(name="seller", version="1.0.0", owner="sales", accepts={"quote": "^1"}, emits=[V1])
    def sloppy(quote: QuoteV1, ctx: Context) -> Outcome:
        broken_price = {"sku": "LAMP-1", "price": "about 12"}
        return HandOff(to="biller", payload=broken_price, contract="quote")

    registry = Registry(
        agents=[sloppy, biller], contracts=[V1, V2, V3], migrations=[split_price, to_cents]
    )
    rt = Runtime(registry, SqliteStore(tmp_path / "l.db"))
    result = run(rt)
    letter = Ledger(rt.store).dead_letter(result.dead_letter_id or "")
    assert [i["path"] for i in json.loads(letter.issues)] == ["payload.price"]


def test_deprecated_version_validates_and_warns_with_its_retirement_date(tmp_path: Path) -> None:
    """Deprecated: delivered, with a ledger note and a Python warning naming the date."""
    retires = date.today() + timedelta(days=30)
    old = Contract(model=QuoteV1, name="quote", version="1.0.0", owner="pricing", retires=retires)
    rt = runtime(tmp_path, old, V2, V3, steps=[split_price, to_cents])
    with pytest.warns(ContractDeprecationWarning, match=f"retires on {retires}"):
        result = run(rt)
    assert result.status is WorkflowStatus.COMPLETED
    handoff = Ledger(rt.store).handoffs(result.workflow_id)[1]
    note = json.loads(next(e.data for e in handoff.entries if e.kind == "warning") or "")
    assert note["code"] == "version_deprecated"
    assert str(retires) in note["message"]


def test_retired_version_is_refused_when_the_registry_is_built(tmp_path: Path) -> None:
    """An agent that emits a retired version cannot start: the check names the date."""
    gone = Contract(
        model=QuoteV1, name="quote", version="1.0.0", owner="pricing", retires="2020-01-01"
    )
    with pytest.raises(RegistryError, match=r"emits quote@1\.0\.0, retired on 2020-01-01"):
        runtime(tmp_path, gone, V2, V3, steps=[split_price, to_cents])


def test_retired_version_is_rejected_at_the_boundary_naming_the_accepted_range(
    tmp_path: Path,
) -> None:
    """A dead letter written before a retirement cannot be replayed under the retired version."""
    strict = FailurePolicy(feedback_retries=0)
    old = Contract(model=QuoteV1, name="quote", version="1.0.0", owner="pricing", policy=strict)
    rt = runtime(tmp_path, old, V3, steps=[Migration("quote", V1.version, V3.version, broken)])
    letter_id = run(rt).dead_letter_id or ""
    retired = Contract(
        model=QuoteV1, name="quote", version="1.0.0", owner="pricing", retires="2020-01-01"
    )
    # The seller moved on; the letter still carries the v1 payload it sent back then.
    moved = Agent(card=replace(seller.card, emits={}), fn=seller.fn)
    registry = Registry(agents=[moved, biller], contracts=[retired, V3])
    later = Runtime(registry, SqliteStore(tmp_path / "ledger.db"))
    with pytest.raises(HandoffValidationError, match=r"retired on 2020-01-01.*accepts quote \^3"):
        anyio.run(lambda: later.replay(letter_id))
    view = Ledger(later.store).handoff(letter_id)
    assert view.status is HandoffStatus.DEAD_LETTERED


def test_registry_refuses_a_gap_in_the_migration_chain() -> None:
    """Steps 1 -> 2 and nothing further cannot reach a ^3 reader: refused at build time."""
    registry = Registry(agents=[seller, biller], contracts=[V1, V2, V3], migrations=[split_price])
    with pytest.raises(RegistryError, match=r"migrations from 1\.0\.0 reach 2\.0\.0 only"):
        registry.check()
    bare = Registry(agents=[seller, biller], contracts=[V1, V3])
    with pytest.raises(RegistryError, match=r"no migration starts at 1\.0\.0"):
        bare.check()


def test_migrations_only_go_up_and_are_declared_once() -> None:
    """A downcast, or two functions for one step, are configuration errors."""
    with pytest.raises(ContractError, match="does not go up"):
        Migration("quote", V3.version, V1.version, broken)
    with pytest.raises(RegistryError, match="declared twice"):
        Registry(migrations=[split_price, Migration("quote", V1.version, V2.version, broken)])


def test_migration_between_unregistered_versions_is_refused() -> None:
    """A step naming a version nobody registered is named in the check."""
    registry = Registry(contracts=[V1, V3], migrations=[split_price])
    with pytest.raises(RegistryError, match=r"names unregistered version\(s\) 2\.0\.0"):
        registry.check()
