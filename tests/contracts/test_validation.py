"""Boundary validation: every check a handoff passes before its receiver runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, Field

from seamline.contracts import (
    EXTERNAL,
    Accepted,
    AgentRef,
    Budget,
    Constraints,
    Contract,
    ContractRef,
    Envelope,
    Intent,
    VersionRange,
    check_handoff,
)
from seamline.exceptions import Issue

INTENT = Intent.of("refund order A-1, it arrived broken")
NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Item(BaseModel):
    """One order line."""

    sku: str
    quantity: int = Field(ge=1)


class Refund(BaseModel):
    """A refund to issue."""

    order_id: str
    amount: Decimal = Field(gt=0)
    reason: str
    items: list[Item] = []


REFUND = Contract(
    model=Refund,
    name="refund.request",
    version="1.2.0",
    owner="payments",
    tracked=("order_id", "amount"),
)
ADJUSTED = Contract(
    model=Refund,
    name="refund.adjusted",
    version="1.0.0",
    owner="payments",
    tracked=("order_id", "amount"),
    rewrites=("amount",),
)
ACCEPTS = VersionRange.parse("^1.0")
GOOD = {"order_id": "A-1", "amount": "12.50", "reason": "broken"}


def envelope(
    payload: dict[str, Any] | None = None,
    *,
    contract: ContractRef | None = None,
    intent: Intent = INTENT,
    constraints: Constraints | None = None,
) -> Envelope:
    """A handoff to the refunds agent carrying ``payload``."""
    return Envelope(
        handoff_id="h-2",
        correlation_id="wf-1",
        parent_id="h-1",
        source=EXTERNAL,
        destination=AgentRef(name="refunds", version="1.0.0"),
        contract=contract or ContractRef(name="refund.request", version="1.2.0"),
        intent=intent,
        constraints=constraints or Constraints(),
        hop=1,
        created_at=NOON,
        payload=GOOD if payload is None else payload,
    )


def check(
    env: Envelope,
    contract: Contract[Any] = REFUND,
    *,
    accepted: VersionRange = ACCEPTS,
    facts: dict[str, Any] | None = None,
    previous: Constraints | None = None,
) -> Accepted | list[Issue]:
    """check_handoff with the workflow's recorded intent and the given facts."""
    return check_handoff(
        env,
        contract,
        accepted,
        intent_sha256=INTENT.sha256,
        previous_constraints=previous,
        facts={} if facts is None else facts,
    )


def issues_of(result: Accepted | list[Issue]) -> list[Issue]:
    """The issues of a rejected handoff; fails the test if it was accepted."""
    assert isinstance(result, list), f"expected issues, handoff was accepted: {result}"
    return result


def accepted_of(result: Accepted | list[Issue]) -> Accepted:
    """The accepted handoff; fails the test (listing the issues) if it was rejected."""
    assert isinstance(result, Accepted), f"expected acceptance, got issues: {result}"
    return result


def test_valid_handoff_is_accepted_with_a_typed_payload() -> None:
    """A conforming handoff returns Accepted with the payload parsed into the contract model."""
    accepted = accepted_of(check(envelope()))
    assert isinstance(accepted.payload, Refund)
    assert accepted.payload.amount == Decimal("12.50")
    assert accepted.payload.order_id == "A-1"


def test_tracked_facts_are_recorded_on_first_sight() -> None:
    """Tracked fields seen for the first time are added to the facts, in JSON form."""
    accepted = accepted_of(check(envelope(), facts={"customer": "c-9"}))
    assert accepted.facts == {"customer": "c-9", "order_id": "A-1", "amount": "12.50"}


def test_untracked_fields_are_not_facts() -> None:
    """Only tracked fields become facts; other payload fields are not recorded."""
    accepted = accepted_of(check(envelope()))
    assert "reason" not in accepted.facts


def test_caller_facts_are_not_mutated() -> None:
    """check_handoff returns a new facts dict and leaves the caller's mapping alone."""
    facts: dict[str, Any] = {}
    accepted = accepted_of(check(envelope(), facts=facts))
    assert facts == {}
    assert accepted.facts is not facts


def test_unchanged_tracked_facts_pass() -> None:
    """Tracked values equal to the recorded facts are accepted."""
    facts = {"order_id": "A-1", "amount": "12.50"}
    assert accepted_of(check(envelope(), facts=facts)).facts == facts


def test_every_bad_field_is_reported_at_once() -> None:
    """Several bad payload fields give one issue each, addressed by payload.<field> paths."""
    payload = {"amount": "lots", "reason": "broken", "items": [{"sku": "S", "quantity": 0}]}
    found = {(i.path, i.code) for i in issues_of(check(envelope(payload)))}
    assert found == {
        ("payload.order_id", "missing"),
        ("payload.amount", "decimal_parsing"),
        ("payload.items.0.quantity", "greater_than_equal"),
    }


def test_payload_issue_messages_say_what_is_wrong() -> None:
    """Payload issues carry pydantic's human-readable reason."""
    [issue] = issues_of(check(envelope({**GOOD, "amount": "-3"})))
    assert issue.path == "payload.amount"
    assert issue.code == "greater_than"
    assert "greater than 0" in issue.message


def test_extra_payload_fields_follow_the_model_config() -> None:
    """Unknown payload fields are ignored by a default pydantic model (the model decides)."""
    assert isinstance(check(envelope({**GOOD, "note": "x"})), Accepted)


def test_all_kinds_of_issue_are_collected_together() -> None:
    """Contract, version, intent, constraint and payload problems are all returned in one list."""
    env = envelope(
        {"order_id": "A-1"},
        contract=ContractRef(name="refund.requets", version="2.0.0"),
        intent=Intent.of("refund everything"),
        constraints=Constraints(),
    )
    issues = issues_of(check(env, previous=Constraints(budget=Budget(limit=Decimal(5)))))
    assert [(i.path, i.code) for i in issues] == [
        ("contract.name", "contract_mismatch"),
        ("contract.version", "version_not_accepted"),
        ("intent", "intent_changed"),
        ("constraints.budget", "constraint_dropped"),
        ("payload.amount", "missing"),
        ("payload.reason", "missing"),
    ]


def test_contract_name_mismatch() -> None:
    """A handoff under another contract's name is rejected, naming both contracts."""
    env = envelope(contract=ContractRef(name="refund.legacy", version="1.2.0"))
    [issue] = issues_of(check(env))
    assert issue.path == "contract.name"
    assert issue.code == "contract_mismatch"
    assert "expects contract refund.request, got refund.legacy" in issue.message


@pytest.mark.parametrize(
    ("range_", "version", "ok"),
    [
        pytest.param("^1.0", "1.2.0", True, id="inside-caret"),
        pytest.param("^1.0", "2.0.0", False, id="next-major"),
        pytest.param("~1.1", "1.2.0", False, id="tilde-excludes-next-minor"),
        pytest.param(">=1.0,<1.2", "1.2.0", False, id="upper-bound-exclusive"),
        pytest.param("*", "9.9.9", True, id="anything"),
    ],
)
def test_version_must_lie_in_the_accepted_range(range_: str, version: str, ok: bool) -> None:
    """The envelope's contract version is checked against the receiver's accepted range."""
    env = envelope(contract=ContractRef(name="refund.request", version=version))
    result = check(env, accepted=VersionRange.parse(range_))
    if ok:
        accepted_of(result)
        return
    [issue] = issues_of(result)
    assert issue.path == "contract.version"
    assert issue.code == "version_not_accepted"
    assert f"version {version} is outside the accepted range {range_}" in issue.message


def test_intent_text_edited_under_the_old_hash_is_caught() -> None:
    """Paraphrasing the intent while keeping the original hash is detected by re-hashing."""
    forged = Intent(text="refund order A-1", sha256=INTENT.sha256)
    [issue] = issues_of(check(envelope(intent=forged)))
    assert issue.path == "intent"
    assert issue.code == "intent_changed"
    assert "carry it verbatim" in issue.message


def test_intent_replaced_with_consistent_text_and_hash_is_caught() -> None:
    """A new intent with its own correct hash still differs from the workflow's recorded one."""
    [issue] = issues_of(check(envelope(intent=Intent.of("cancel my account"))))
    assert (issue.path, issue.code) == ("intent", "intent_changed")
    assert "differs from the one the workflow started with" in issue.message


def test_tracked_fact_changed_is_rejected() -> None:
    """Changing a tracked value since it was first seen is a fact_changed issue on its path."""
    facts = {"order_id": "A-1", "amount": "120.50"}
    [issue] = issues_of(check(envelope(), facts=facts))
    assert issue.path == "payload.amount"
    assert issue.code == "fact_changed"
    assert "tracked fact changed from '120.50' to '12.50'" in issue.message
    assert "pass the value through exactly as received" in issue.message


def test_several_changed_facts_are_all_reported() -> None:
    """Every changed tracked field gets its own issue, in field-name order."""
    issues = issues_of(check(envelope(), facts={"order_id": "B-2", "amount": "1.00"}))
    assert [(i.path, i.code) for i in issues] == [
        ("payload.amount", "fact_changed"),
        ("payload.order_id", "fact_changed"),
    ]


def test_rewrites_allow_a_tracked_fact_to_change() -> None:
    """A contract's rewrites may change a tracked fact; the new value becomes the fact."""
    env = envelope(contract=ContractRef(name="refund.adjusted", version="1.0.0"))
    accepted = accepted_of(check(env, ADJUSTED, facts={"order_id": "A-1", "amount": "99.00"}))
    assert accepted.facts == {"order_id": "A-1", "amount": "12.50"}


def test_rewrites_do_not_cover_other_tracked_fields() -> None:
    """A rewrite of one field does not permit changing another tracked field."""
    env = envelope(contract=ContractRef(name="refund.adjusted", version="1.0.0"))
    [issue] = issues_of(check(env, ADJUSTED, facts={"order_id": "Z-9", "amount": "99.00"}))
    assert (issue.path, issue.code) == ("payload.order_id", "fact_changed")


PER_AGENT = Contract(
    model=Refund,
    name="refund.adjusted",
    version="1.0.0",
    owner="payments",
    tracked=("order_id", "amount"),
    rewrites={"amount": ["adjuster"]},
)


@pytest.mark.parametrize(("sender", "allowed"), [("adjuster", True), ("intake", False)])
def test_rewrites_can_name_the_producing_agents(sender: str, allowed: bool) -> None:
    """Only the agents a rewrite names may change the fact; any other sender is caught."""
    env = envelope(contract=ContractRef(name="refund.adjusted", version="1.0.0"))
    env = env.model_copy(update={"source": AgentRef(name=sender, version="2.0.0")})
    verdict = check(env, PER_AGENT, facts={"order_id": "A-1", "amount": "99.00"})
    if allowed:
        assert accepted_of(verdict).facts["amount"] == "12.50"
    else:
        [issue] = issues_of(verdict)
        assert (issue.path, issue.code) == ("payload.amount", "fact_changed")


def test_facts_are_compared_in_json_form() -> None:
    """Numerically equal but differently spelled decimals are different facts (no paraphrase)."""
    [issue] = issues_of(check(envelope({**GOOD, "amount": "12.5"}), facts={"amount": "12.50"}))
    assert issue.code == "fact_changed"


def test_invalid_payload_skips_fact_comparison() -> None:
    """When the payload does not validate, only payload issues are reported, not fact ones."""
    issues = issues_of(check(envelope({"order_id": "Z-9"}), facts={"order_id": "A-1"}))
    assert {i.code for i in issues} == {"missing"}


def test_loosened_constraints_are_rejected() -> None:
    """Constraints looser than the previous hop's give constraint issues."""
    env = envelope(constraints=Constraints(budget=Budget(limit=Decimal(500))))
    [issue] = issues_of(check(env, previous=Constraints(budget=Budget(limit=Decimal(100)))))
    assert (issue.path, issue.code) == ("constraints.budget.limit", "constraint_loosened")


def test_tightened_constraints_pass() -> None:
    """Constraints that tighten the previous hop's are accepted."""
    env = envelope(constraints=Constraints(deadline=NOON))
    previous = Constraints(deadline=NOON + timedelta(days=1))
    accepted_of(check(env, previous=previous))


def test_first_hop_has_no_constraint_comparison() -> None:
    """With no previous constraints (the first hop) any constraints are accepted."""
    env = envelope(constraints=Constraints(permissions=frozenset({"everything"})))
    accepted_of(check(env, previous=None))


def test_envelope_constraints_are_compared_to_the_ledger_not_trusted() -> None:
    """Loosening is judged against the previous constraints passed in, not the envelope's own."""
    env = envelope(constraints=Constraints())
    issues = issues_of(check(env, previous=Constraints(compliance=frozenset({"pci"}))))
    assert [i.path for i in issues] == ["constraints.compliance"]


def test_unparseable_envelope_version_is_an_issue_not_a_crash() -> None:
    """A garbage version in a foreign envelope is reported like any other bad field."""
    bad = envelope(contract=ContractRef(name="refund.request", version="one.two"))
    assert [issue.code for issue in issues_of(check(bad))] == ["version_not_accepted"]
