"""EvaluationReport: every evaluation of real workflows on a SQLite ledger, counted exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from seamline import (
    Context,
    Contract,
    ContractDeprecationWarning,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.demo import TICKETS, build_registry
from seamline.evals import EvaluationReport, Label, Mode, Subject, Verdict, evaluator, value_range
from seamline.ledger import Ledger

BOUNDARY = (
    "constraints_kept",
    "contract_accepted",
    "facts_unchanged",
    "intent_unchanged",
    "schema_valid",
)


class Order(BaseModel):
    """A refund in flight."""

    order_id: str
    amount: Decimal


ORDER = Contract(
    model=Order, name="order", version="1.0.0", owner="tests",
    policy=FailurePolicy(feedback_retries=1),
)  # fmt: skip


@agent(name="s0", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
def s0(order: Order, ctx: Context) -> Outcome:
    """Asks for 900 (over the cap) first, 90 once the cap's issue comes back."""
    amount = Decimal("90" if ctx.feedback else "900")
    return HandOff(to="s1", payload=order.model_copy(update={"amount": amount}))


@agent(name="s1", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
def s1(order: Order, ctx: Context) -> Outcome:
    """Passes the order on."""
    return HandOff(to="s2", payload=order)


@agent(name="s2", version="1.0.0", owner="tests", accepts=[ORDER])
def s2(order: Order, ctx: Context) -> Outcome:
    """Finishes."""
    return Finish("refunded")


@evaluator("judge", mode="flagging")
def judge(handoff: Subject) -> Verdict:
    """Flags the handoff to s2 and passes the rest."""
    return Verdict(handoff.receiver != "s2", score=0.2, explanation="looks off")


@evaluator("boom")
def boom(handoff: Subject) -> bool:
    """Always raises: an error on every handoff, never a stop."""
    raise RuntimeError("judge unavailable")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """An empty SQLite ledger."""
    store = SqliteStore(tmp_path / "ledger.db")
    yield Ledger(store)
    store.close()


def run_chain(ledger: Ledger) -> str:
    """s0 -> s1 -> s2 with a blocking cap, a flagging judge and a raising evaluator.

    Four handoffs: external -> s0, s0 -> s1 rejected by the cap (900), s0 -> s1 again (90),
    s1 -> s2. Each carries the five boundary invariants, the cap and boom (seven); each
    delivered one also the judge (eight), so 8 + 7 + 8 + 8 = 31 evaluations.
    """
    evaluators = [value_range("amount", le=500), judge, boom]
    registry = Registry(agents=[s0, s1, s2], contracts=[ORDER])
    runtime = Runtime(registry, ledger.store, evaluators=evaluators)
    result = runtime.run_sync("s0", Order(order_id="A-1", amount=Decimal(5)), intent="refund")
    return result.workflow_id


def run_demo(ledger: Ledger) -> None:
    """The demo's four tickets (its refund contract is deprecated: it warns on every hop)."""
    runtime = Runtime(build_registry(), ledger.store)
    for _, ticket in TICKETS:
        with pytest.warns(ContractDeprecationWarning):
            runtime.run_sync("intake", ticket, intent=ticket.message)


def test_failures_flags_and_errors_are_counted_by_evaluator(ledger: Ledger) -> None:
    """Runs, passes, failures and errors per evaluator; the worst first."""
    run_chain(ledger)
    report = EvaluationReport.collect(ledger)
    assert (report.workflows, report.handoffs, report.evaluations) == (1, 4, 31)
    assert (report.failures, report.errors) == (2, 4)
    rows = {row.name: row for row in report.by_evaluator}
    assert [row.name for row in report.by_evaluator][:3] == ["boom", "value_range:amount", "judge"]
    assert (rows["boom"].runs, rows["boom"].errors, rows["boom"].fail_rate) == (4, 4, 0.0)
    cap = rows["value_range:amount"]
    assert (cap.mode, cap.runs, cap.passes, cap.failures, cap.fail_rate) == (
        Mode.BLOCKING, 4, 3, 1, 0.25,
    )  # fmt: skip
    assert (rows["judge"].mode, rows["judge"].runs, rows["judge"].failures) == (Mode.FLAGGING, 3, 1)
    for name in BOUNDARY:
        assert (rows[name].runs, rows[name].passes) == (4, 4)


def test_contract_and_producing_agent_carry_the_blame(ledger: Ledger) -> None:
    """A failure counts against the handoff's contract and its sender, naming the receiver."""
    run_chain(ledger)
    report = EvaluationReport.collect(ledger)
    [contract] = report.by_contract
    assert (contract.key, contract.runs, contract.failures, contract.errors) == (
        "order@1.0.0", 31, 2, 4,
    )  # fmt: skip
    assert contract.evaluators == (("boom", 4), ("value_range:amount", 1), ("judge", 1))
    assert contract.receivers == (("s1", 3), ("s2", 2), ("s0", 1))
    agents = [(row.key, row.runs, row.failures, row.errors) for row in report.by_agent]
    assert agents == [("s0", 15, 1, 2), ("s1", 8, 1, 1), ("external", 8, 0, 1)]
    s0_row = report.by_agent[0]
    assert s0_row.evaluators == (("boom", 2), ("value_range:amount", 1))
    assert s0_row.receivers == (("s1", 3),)


def test_recent_failures_are_newest_first_with_their_handoff(ledger: Ledger) -> None:
    """The judge's flag on s1 -> s2 came last; the cap's failure names its explanation."""
    workflow_id = run_chain(ledger)
    report = EvaluationReport.collect(ledger, recent=5)
    names = [(f.evaluation.name, f.route) for f in report.recent]
    assert names == [
        ("judge", "s1 → s2"),
        ("boom", "s1 → s2"),
        ("boom", "s0 → s1"),
        ("value_range:amount", "s0 → s1"),
        ("boom", "s0 → s1"),
    ]
    cap = report.recent[3]
    assert cap.workflow_id == workflow_id and cap.contract == "order@1.0.0"
    assert cap.evaluation.label is Label.FAIL
    assert cap.evaluation.explanation == "payload.amount is 900, outside the range <= 500"
    rejected = {view.id for view in ledger.handoffs(workflow_id) if view.status == "rejected"}
    assert rejected == {cap.handoff_id}


def test_the_demo_counts_upcast_refunds_under_the_version_triage_emits(ledger: Ledger) -> None:
    """82 evaluations: 13 accepted handoffs of six, one schema and three fact failures.

    T-1 has four accepted handoffs, T-2 four and one rejected, T-3 two and three rejected,
    T-4 three. Accepted refunds are recorded upcast to 2.0.0; the report keys them, with the
    rejected ones, by the 1.2.0 that triage emitted.
    """
    run_demo(ledger)
    report = EvaluationReport.collect(ledger)
    assert (report.workflows, report.handoffs, report.evaluations) == (4, 17, 82)
    rows = {row.name: (row.runs, row.failures, row.errors) for row in report.by_evaluator}
    assert rows == {
        "facts_unchanged": (16, 3, 0),
        "schema_valid": (14, 1, 0),
        "constraints_kept": (13, 0, 0),
        "contract_accepted": (13, 0, 0),
        "intent_unchanged": (13, 0, 0),
        "required_fields": (13, 0, 0),
    }
    contracts = [(row.key, row.runs, row.failures) for row in report.by_contract]
    assert contracts == [
        ("refund.request@1.2.0", 22, 4),
        ("support.case@1.0.0", 24, 0),
        ("support.ticket@1.0.0", 24, 0),
        ("fulfillment.order@2.0.0", 12, 0),
    ]
    agents = [(row.key, row.runs, row.failures, row.receivers) for row in report.by_agent]
    assert agents == [
        ("triage", 22, 4, (("refunds", 4),)),
        ("external", 24, 0, ()),
        ("intake", 24, 0, ()),
        ("refunds", 12, 0, ()),
    ]
    assert report.by_contract[0].evaluators == (("facts_unchanged", 3), ("schema_valid", 1))


def test_only_the_newest_workflows_are_read(ledger: Ledger) -> None:
    """workflows=1 reads the last ticket alone: three clean handoffs."""
    run_demo(ledger)
    report = EvaluationReport.collect(ledger, workflows=1)
    assert (report.workflows, report.handoffs, report.evaluations, report.failures) == (1, 3, 18, 0)
    assert report.recent == ()


def test_an_empty_store_reports_nothing(ledger: Ledger) -> None:
    """No workflows: zeros and empty tables, not an error."""
    report = EvaluationReport.collect(ledger)
    assert report.as_dict() == {
        "workflows": 0, "handoffs": 0, "evaluations": 0, "failures": 0, "errors": 0,
        "by_evaluator": [], "by_contract": [], "by_agent": [], "recent": [],
    }  # fmt: skip


def test_the_json_form_round_trips(ledger: Ledger) -> None:
    """as_dict is plain JSON with every row and the full failure records."""
    run_chain(ledger)
    data = json.loads(json.dumps(EvaluationReport.collect(ledger).as_dict()))
    assert data["by_evaluator"][1] == {
        "name": "value_range:amount", "mode": "blocking", "runs": 4, "passes": 3,
        "failures": 1, "errors": 0, "fail_rate": 0.25,
    }  # fmt: skip
    assert data["by_agent"][0]["receivers"] == {"s1": 3}
    judged = data["recent"][0]
    assert (judged["name"], judged["label"], judged["score"]) == ("judge", "fail", 0.2)
