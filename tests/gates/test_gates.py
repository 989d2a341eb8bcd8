"""Human gates on real workflows: pause durably, show a masked summary, decide once."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from seamline import (
    ConflictError,
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    HandoffValidationError,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.contracts import MASK, Gate
from seamline.exceptions import ConfigurationError, ContractError, NotFoundError
from seamline.gates import Decision
from seamline.registry import RejectedHandoff
from seamline.stores import WorkflowStatus

IBAN = "DE89370400440532013000"


class Claim(BaseModel):
    """What intake hands to the assessor."""

    claim_id: str
    amount: Decimal
    iban: str


class Refund(BaseModel):
    """What the assessor proposes to pay out."""

    claim_id: str
    amount: Decimal
    iban: str
    note: str = ""


CLAIM = Contract(model=Claim, name="claim", version="1.0.0", owner="claims", sensitive=["iban"])


def refund_contract(gate: Gate | None, *, escalate: bool = False) -> Contract[Refund]:
    """The gated contract, owned by payments."""
    return Contract(
        model=Refund,
        name="refund",
        version="1.0.0",
        owner="payments",
        sensitive=["iban"],
        tracked=["claim_id", "amount"],
        fallback_owner="payments-oncall@example.com",
        policy=FailurePolicy(escalate=escalate),
        gate=gate,
    )


LIMIT = Gate(
    when=lambda refund: refund.amount > 100,
    summary="Refund {amount} EUR on claim {claim_id} to {iban}",
    deadline=timedelta(hours=4),
)


def registry(gate: Gate | None = LIMIT, *, escalate: bool = False, **options: Any) -> Registry:
    """intake -> assessor -(refund, maybe gated)-> payer; payer reports what it was paid."""
    refund = refund_contract(gate, escalate=escalate)

    @agent(name="intake", version="1.0.0", owner="claims", accepts=[CLAIM], emits=[CLAIM])
    def intake(claim: Claim, ctx: Context) -> Outcome:
        return HandOff(to="assessor", payload=claim)

    @agent(name="assessor", version="1.0.0", owner="claims", accepts=[CLAIM], emits=[refund])
    def assessor(claim: Claim, ctx: Context) -> Outcome:
        return HandOff(to="payer", payload=Refund(**claim.model_dump(), note="assessed"))

    @agent(name="payer", version="1.0.0", owner="payments", accepts=[refund])
    def payer(refund: Refund, ctx: Context) -> Outcome:
        return Finish({"paid": str(refund.amount), "to_iban_ok": refund.iban == IBAN})

    return Registry(agents=[intake, assessor, payer], contracts=[CLAIM, refund], **options)


def start(runtime: Runtime, amount: str = "250.00") -> Any:
    """A claim for ``amount`` from sync code."""
    claim = Claim(claim_id="C-7", amount=Decimal(amount), iban=IBAN)
    return runtime.run_sync("intake", claim, intent="pay my claim C-7")


def decide(runtime: Runtime, gate_id: str, decision: str, **options: Any) -> Any:
    """runtime.decide from sync code, as alice unless told otherwise."""
    options.setdefault("by", "alice")
    return anyio.run(lambda: runtime.decide(gate_id, decision, **options))


def test_a_gated_handoff_waits_with_a_masked_human_summary() -> None:
    """Over the limit: the workflow waits before payer runs, and the gate says why."""
    runtime = Runtime(registry())
    result = start(runtime)
    assert result.status is WorkflowStatus.WAITING and result.handoffs == 2
    [gate] = runtime.gates()
    assert gate.status == "open" and gate.owner == "payments"
    assert gate.route == "assessor → payer" and gate.contract == "refund@1.0.0"
    assert gate.headline == f"Refund 250.00 EUR on claim C-7 to {MASK}"
    assert "Decision requested from payments: approve, reject with a reason" in gate.summary
    assert "- Approve: payer receives it" in gate.summary
    assert "- Reject: it is dead-lettered with your reason." in gate.summary
    assert "payload.note: (absent) -> assessed" in gate.summary  # the diff against hop 1
    assert gate.payload["iban"] == MASK and gate.payload["amount"] == "250.00"
    assert gate.deadline is not None
    assert timedelta(hours=3, minutes=59) < gate.deadline - gate.gated_at <= timedelta(hours=4)
    assert IBAN not in json.dumps(gate.as_dict())
    assert runtime.ledger.workflow(result.workflow_id).status is WorkflowStatus.WAITING


def test_under_the_limit_nothing_waits() -> None:
    """The gate's test decides: a small refund goes straight through."""
    runtime = Runtime(registry())
    assert start(runtime, "80.00").result == {"paid": "80.00", "to_iban_ok": True}
    assert runtime.gates() == []


def test_approval_delivers_and_is_recorded_once() -> None:
    """Approve: payer gets the real values; a second decision is a conflict, changing nothing."""
    runtime = Runtime(registry())
    start(runtime)
    [gate] = runtime.gates()
    done = decide(runtime, gate.id, "approve", reason="checked the invoice")
    assert done.status is WorkflowStatus.COMPLETED
    assert done.result == {"paid": "250.00", "to_iban_ok": True}
    decided = runtime.gate(gate.id)
    assert (decided.status, decided.decided_by, decided.reason) == (
        "approved",
        "alice",
        "checked the invoice",
    )
    assert runtime.gates() == [] and runtime.gates(status="decided") == [decided]
    rows = len(runtime.store.entries(correlation_id=gate.workflow_id))
    with pytest.raises(ConflictError, match=r"already approved by alice at .*; nothing changed"):
        decide(runtime, gate.id, "reject", by="bob", reason="too late")
    assert len(runtime.store.entries(correlation_id=gate.workflow_id)) == rows


def test_rejection_dead_letters_with_the_reason_and_escalates() -> None:
    """Reject: the handoff is a dead letter naming who and why; the contract escalates."""
    runtime = Runtime(registry(escalate=True))
    start(runtime)
    [gate] = runtime.gates()
    with pytest.raises(ConfigurationError, match="a rejection needs a reason"):
        decide(runtime, gate.id, "reject")
    done = decide(runtime, gate.id, "reject", reason="duplicate of claim C-6")
    assert done.status is WorkflowStatus.ESCALATED
    assert done.result["owner"] == "payments-oncall@example.com"
    letter = runtime.ledger.dead_letter(done.dead_letter_id)
    assert letter.reason == "gate_rejected" and letter.id == gate.id
    assert "rejected at its gate by alice: duplicate of claim C-6" in letter.message
    assert runtime.gate(gate.id).status == "rejected"


def test_an_edit_is_validated_then_delivered_in_place_of_the_original() -> None:
    """Edit: the lowered amount reaches payer; the gate records who, the diff and the
    handoff that carried the edit on. An invalid edit changes nothing."""
    runtime = Runtime(registry())
    start(runtime)
    [gate] = runtime.gates()
    edited = {"claim_id": "C-7", "amount": "120.00", "iban": IBAN, "note": "capped"}
    with pytest.raises(HandoffValidationError, match="amount"):
        decide(runtime, gate.id, "edit", payload={**edited, "amount": "lots"})
    assert runtime.gate(gate.id).is_open
    done = decide(runtime, gate.id, "edit", payload=edited, reason="policy cap")
    assert done.result == {"paid": "120.00", "to_iban_ok": True}
    decided = runtime.gate(gate.id)
    assert decided.status == "edited" and decided.replaced_by is not None
    view = runtime.ledger.handoff(gate.id)
    [row] = [e for e in view.entries if e.kind == "edited"]
    diff = json.loads(row.data or "{}")["diff"]
    assert {d["path"] for d in diff} == {"payload.amount", "payload.note"}
    replacement = runtime.ledger.handoff(decided.replaced_by or "")
    assert replacement.envelope.facts["amount"] == "120.00"  # the editor may change facts


def test_a_registry_edge_can_be_gated_without_its_contract() -> None:
    """Gates keyed by (sender, receiver) gate that transition only."""
    runtime = Runtime(registry(gate=None, gates={("assessor", "payer"): Gate()}))
    assert start(runtime, "5.00").status is WorkflowStatus.WAITING
    [gate] = runtime.gates()
    assert gate.headline == "refund@1.0.0 from assessor to payer"
    with pytest.raises(Exception, match="gate on nobody -> payer names unknown agents"):
        Runtime(registry(gate=None, gates={("nobody", "payer"): Gate()}))


def test_a_gate_test_that_raises_gates_the_handoff() -> None:
    """Fail closed: a consequential handoff that cannot be assessed goes to a person."""

    def broken(refund: Refund) -> bool:
        raise ValueError(f"no rate for {refund.iban}")

    runtime = Runtime(registry(Gate(when=broken)))
    assert start(runtime, "5.00").status is WorkflowStatus.WAITING
    [gate] = runtime.gates()
    assert f"The gate's test raised ValueError: no rate for {MASK}." in gate.summary


def test_a_gate_survives_a_restart(tmp_path: Path) -> None:
    """The pause is in the ledger: another runtime on the same file decides and finishes."""
    store = SqliteStore(tmp_path / "l.db")
    start(Runtime(registry(), store))
    store.close()
    again = Runtime(registry(), SqliteStore(tmp_path / "l.db"))
    [gate] = again.gates()
    assert anyio.run(again.resume_all) == []  # a waiting workflow is not resumed by itself
    done = decide(again, gate.id, "approve")
    assert done.status is WorkflowStatus.COMPLETED and done.result["paid"] == "250.00"


def test_deadlines_escalate_once_to_the_fallback_owner() -> None:
    """Past its deadline an open gate is escalated, once; decided gates never are."""
    runtime = Runtime(registry(Gate(deadline=timedelta(microseconds=1))))
    start(runtime)
    [gate] = runtime.gates()
    assert runtime.escalate_gates() == [gate.id]
    assert runtime.escalate_gates() == []
    assert runtime.gate(gate.id).escalated_to == "payments-oncall@example.com"
    assert runtime.gate(gate.id).is_open


def test_the_first_handoff_can_be_gated_and_replays_pass_the_gate_again() -> None:
    """A gated entry edge pauses before the first agent runs; a rejected gate's dead
    letter, replayed, waits at the gate again."""
    runtime = Runtime(registry(gate=None, gates={("external", "intake"): Gate()}))
    result = start(runtime)
    assert result.status is WorkflowStatus.WAITING and result.handoffs == 0
    [gate] = runtime.gates()
    assert gate.route == "external → intake"
    assert "This is the workflow's first handoff" in gate.summary
    rejected = decide(runtime, gate.id, "reject", reason="check the amount")
    replayed = anyio.run(lambda: runtime.replay(rejected.dead_letter_id or ""))
    assert replayed.status is WorkflowStatus.WAITING
    [again] = runtime.gates()
    assert again.id != gate.id and again.workflow_id == gate.workflow_id


def test_bad_gates_and_decisions_are_clear_errors() -> None:
    """Templates naming unknown fields, bad deadlines, unknown gates and decisions."""
    with pytest.raises(ContractError, match=r"gate summary names \['amout'\]"):
        refund_contract(Gate(summary="Refund {amout}"))
    with pytest.raises(ContractError, match="empty"):
        refund_contract(Gate(summary="Refund {}"))
    with pytest.raises(ContractError, match="deadline must be positive"):
        Gate(deadline=timedelta(0))
    runtime = Runtime(registry())
    start(runtime)
    [gate] = runtime.gates()
    with pytest.raises(NotFoundError, match="seamline gates list"):
        runtime.gate("nope")
    with pytest.raises(ConfigurationError, match="unknown decision 'maybe'"):
        decide(runtime, gate.id, "maybe")
    with pytest.raises(ConfigurationError, match="say who decides"):
        decide(runtime, gate.id, "approve", by=" ")
    with pytest.raises(ConfigurationError, match="an edit needs the edited payload"):
        decide(runtime, gate.id, Decision.EDIT)
    assert runtime.gate(gate.id).is_open


def test_a_rejection_goes_to_the_contracts_fallback_agent_when_it_has_one() -> None:
    """The failure policy applies: the fallback agent gets the rejected handoff, with the
    decider's reason as its issue and the real values it must repair."""
    seen: list[tuple[str, str]] = []

    @agent(
        name="manual-review", version="1.0.0", owner="payments",
        accepts={"seamline.rejected-handoff": "^1"},
    )  # fmt: skip
    def review(rejected: RejectedHandoff, ctx: Context) -> Outcome:
        seen.append((rejected.issues[0].code, rejected.payload["iban"]))
        return Finish({"reviewed": rejected.issues[0].message})

    base = registry()
    refund = base.contract("refund", "1.0.0")
    policy = FailurePolicy(fallback_agent="manual-review")
    guarded = Contract(
        model=Refund, name="refund", version="1.0.0", owner="payments", sensitive=["iban"],
        policy=policy, gate=LIMIT,
    )  # fmt: skip
    assert refund.gate is LIMIT
    runtime = Runtime(
        Registry(
            agents=[*(a for a in base.agents), review],
            contracts=[CLAIM, guarded],
        )
    )
    start(runtime)
    [gate] = runtime.gates()
    assert "- Reject: manual-review gets it with your reason" in gate.summary
    done = decide(runtime, gate.id, "reject", reason="the IBAN belongs to someone else")
    assert done.status is WorkflowStatus.COMPLETED
    assert done.result == {
        "reviewed": "rejected at its gate by alice: the IBAN belongs to someone else"
    }
    assert seen == [("gate_rejected", IBAN)]
    assert runtime.gate(gate.id).status == "rejected"
    assert runtime.ledger.dead_letters() == []


def test_a_gate_test_must_be_callable_and_statuses_are_known() -> None:
    """A non-callable ``when`` is refused at declaration; an unknown status when listing."""
    with pytest.raises(ContractError, match="a gate's when must be a callable"):
        Gate(when="amount > 100")  # type: ignore[arg-type]
    runtime = Runtime(registry())
    with pytest.raises(ConfigurationError, match="unknown gate status 'pending'"):
        runtime.gates(status="pending")


def test_queueing_a_decision_needs_a_shared_store(tmp_path: Path) -> None:
    """decide(queue=True) on SQLite is refused before anything is recorded."""
    runtime = Runtime(registry(), SqliteStore(tmp_path / "l.db"))
    start(runtime)
    [gate] = runtime.gates()
    with pytest.raises(ConfigurationError, match="need a store every worker shares"):
        decide(runtime, gate.id, "approve", queue=True)
    assert runtime.gate(gate.id).is_open
