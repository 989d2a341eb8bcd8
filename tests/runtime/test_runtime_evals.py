"""Evaluators in a running workflow: recorded, blocking through the failure policy,
flagging beside the receiver, and never able to crash a workflow."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anyio
import pytest
from chain_fixtures import ORDER, ORDER_1, Order, chain

from seamline import (
    Agent,
    Context,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    agent,
)
from seamline.contracts import Contract
from seamline.evals import (
    DEFAULT_EVALUATORS,
    Label,
    Subject,
    Verdict,
    evaluator,
    loads,
    value_range,
)
from seamline.stores import SqliteStore, WorkflowStatus


def evaluations(runtime: Runtime, workflow_id: str) -> list[tuple[str, str, list[Any]]]:
    """``(handoff route, handoff status, evaluations)`` for every ``evaluated`` row."""
    rows = []
    for view in runtime.ledger.handoffs(workflow_id):
        for entry in view.entries:
            if entry.kind == "evaluated":
                rows.append((view.route_names, view.status.value, loads(entry.data)))
    return rows


def start(runtime: Runtime, payload: Any = ORDER_1) -> Any:
    """Run a workflow at a0 from sync code."""
    return anyio.run(lambda: runtime.run("a0", payload, intent="refund my order"))


def test_every_handoff_records_the_boundary_and_default_evaluations() -> None:
    """Each proposed handoff gets one ``evaluated`` row: five invariants and required_fields."""
    runtime = Runtime(Registry(agents=chain(3), contracts=[ORDER]))
    result = start(runtime)
    rows = evaluations(runtime, result.workflow_id)
    assert [route for route, _, _ in rows] == ["external → a0", "a0 → a1", "a1 → a2"]
    for _, _, found in rows:
        assert {e.name for e in found} == {
            "contract_accepted",
            "schema_valid",
            "intent_unchanged",
            "constraints_kept",
            "facts_unchanged",
            "required_fields",
        }
        assert all(e.passed for e in found)


def test_no_extra_evaluators_still_records_the_boundary() -> None:
    """evaluators=() turns required_fields off; the contract's own invariants stay."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), evaluators=())
    result = start(runtime)
    names = {e.name for _, _, found in evaluations(runtime, result.workflow_id) for e in found}
    assert "required_fields" not in names and "intent_unchanged" in names


def sender_then_receiver(
    first: dict[str, Any], fixed: dict[str, Any], policy: FailurePolicy | None = None
) -> tuple[list[Agent], Contract[Order]]:
    """a0 sends ``first`` then, given feedback, ``fixed``; a1 finishes with the amount."""
    contract = Contract(
        model=Order,
        name="order",
        version="1.0.0",
        owner="tests",
        policy=policy or FailurePolicy(feedback_retries=1),
    )
    seen: list[tuple[str, ...]] = []

    @agent(name="a0", version="1.0.0", owner="tests", accepts=[contract], emits=[contract])
    def a0(order: Order, ctx: Context) -> Outcome:
        seen.append(tuple(issue.code for issue in ctx.feedback))
        return HandOff(to="a1", payload=fixed if ctx.feedback else first)

    @agent(name="a1", version="1.0.0", owner="tests", accepts=[contract])
    def a1(order: Order, ctx: Context) -> Outcome:
        return Finish({"amount": str(order.amount), "feedback": seen})

    return [a0, a1], contract


BASE = {"order_id": "ORD-1", "reason": "late"}


def test_a_failing_blocking_evaluator_sends_feedback_to_the_sender() -> None:
    """The sender sees evaluation_failed as feedback and its corrected handoff goes through."""
    agents, contract = sender_then_receiver({**BASE, "amount": "900"}, {**BASE, "amount": "90"})
    cap = value_range("amount", le=500, contracts=["order"])
    runtime = Runtime(Registry(agents=agents, contracts=[contract]), evaluators=[cap])
    result = start(runtime, {**BASE, "amount": "5"})
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result == {"amount": "90", "feedback": [[], ["evaluation_failed"]]}
    rows = evaluations(runtime, result.workflow_id)
    rejected = [found for route, status, found in rows if status == "rejected"]
    [cap_result] = [e for e in rejected[0] if e.name == "value_range:amount"]
    assert cap_result.label is Label.FAIL and "<= 500" in cap_result.explanation


def test_required_fields_reject_a_blank_field_by_default() -> None:
    """A blank memo would pass the schema; the default evaluator stops it."""

    class Note(Order):
        memo: str

    noted = Contract(model=Note, name="noted", version="1.0.0", owner="tests")

    @agent(name="n0", version="1.0.0", owner="tests", accepts=[ORDER], emits=[noted])
    def n0(order: Order, ctx: Context) -> Outcome:
        return HandOff(to="n1", payload={**order.model_dump(mode="json"), "memo": "  "})

    @agent(name="n1", version="1.0.0", owner="tests", accepts=[noted])
    def n1(note: Note, ctx: Context) -> Outcome:
        return Finish("never")

    runtime = Runtime(Registry(agents=[n0, n1], contracts=[ORDER, noted]))
    result = runtime.run_sync("n0", ORDER_1, intent="x")
    assert result.status is WorkflowStatus.DEAD_LETTERED
    letter = runtime.ledger.dead_letter(result.dead_letter_id or "")
    issues = json.loads(letter.issues)
    assert [(i["path"], i["code"]) for i in issues] == [("payload.memo", "evaluation_failed")]


def test_exhausted_blocking_evaluator_dead_letters_the_handoff() -> None:
    """When feedback runs out, the handoff is dead-lettered with the evaluator's issue."""
    agents, contract = sender_then_receiver({**BASE, "amount": "900"}, {**BASE, "amount": "800"})
    cap = value_range("amount", le=500)
    runtime = Runtime(Registry(agents=agents, contracts=[contract]), evaluators=[cap])
    result = start(runtime, {**BASE, "amount": "5"})
    assert result.status is WorkflowStatus.DEAD_LETTERED
    letter = runtime.ledger.dead_letter(result.dead_letter_id or "")
    assert letter.reason == "validation"
    assert "evaluation_failed" in letter.issues


def test_flagging_evaluator_runs_beside_the_receiver_and_is_recorded() -> None:
    """A flagging evaluator waits for a signal the receiver sends: only concurrency passes.

    Its failing verdict on another hop is recorded and logged; the workflow still completes.
    """
    signal: dict[str, anyio.Event] = {}

    @evaluator(mode="flagging", timeout=5)
    async def concurrent(handoff: Subject) -> Verdict:
        if handoff.receiver == "a1":
            await signal["a1"].wait()  # set by a1 while it runs
            return Verdict(True, explanation="ran beside a1")
        return Verdict(False, score=0.2, explanation=f"hop to {handoff.receiver} looks off")

    async def a1_fn(order: Order, ctx: Context) -> Outcome:
        signal["a1"].set()
        return HandOff(to="a2", payload=order)

    agents = chain(3)
    a1 = agent(name="a1", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])(a1_fn)
    registry = Registry(agents=[agents[0], a1, agents[2]], contracts=[ORDER])
    runtime = Runtime(registry, evaluators=[concurrent])

    async def main() -> Any:
        signal["a1"] = anyio.Event()
        return await runtime.run("a0", ORDER_1, intent="refund my order")

    result = anyio.run(main)
    assert result.status is WorkflowStatus.COMPLETED
    flagged = {
        route: found[0]
        for route, _, found in evaluations(runtime, result.workflow_id)
        if found and found[0].name == "concurrent"
    }
    assert flagged["a0 → a1"].label is Label.PASS
    assert flagged["a0 → a1"].explanation == "ran beside a1"
    assert flagged["a1 → a2"].label is Label.FAIL and flagged["a1 → a2"].score == 0.2


def test_failing_flag_is_logged_once_per_handoff(caplog: pytest.LogCaptureFixture) -> None:
    """The on-call sees a flag without reading the ledger."""
    never = evaluator("never", mode="flagging")(lambda s: False)
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), evaluators=[never])
    with caplog.at_level(logging.WARNING, logger="seamline.evals"):
        result = start(runtime)
    assert result.status is WorkflowStatus.COMPLETED
    assert len([r for r in caplog.records if "evaluator never flagged" in r.message]) == 2


@pytest.mark.parametrize("mode", ["blocking", "flagging"])
def test_raising_and_hanging_evaluators_never_stop_a_workflow(mode: str) -> None:
    """Errors are recorded as such and the workflow completes (fail-open by default)."""

    def boom(handoff: Subject) -> bool:
        raise RuntimeError("judge unavailable")

    async def hang(handoff: Subject) -> bool:
        await anyio.sleep(60)
        return True

    chosen = [
        evaluator("boom", mode=mode)(boom),
        evaluator("hang", mode=mode, timeout=0.05)(hang),
    ]
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), evaluators=chosen)
    result = start(runtime)
    assert result.status is WorkflowStatus.COMPLETED
    errors = [
        (e.name, e.error_type)
        for _, _, found in evaluations(runtime, result.workflow_id)
        for e in found
        if e.label is Label.ERROR
    ]
    assert ("boom", "RuntimeError") in errors and ("hang", "timeout") in errors


def test_a_fail_closed_evaluator_error_blocks() -> None:
    """fail_closed turns an evaluator's error into a rejection."""
    chosen = evaluator("strict", fail_closed=True)(lambda s: 1 / 0 > 0)
    policy = FailurePolicy(feedback_retries=0)
    agents, contract = sender_then_receiver(BASE | {"amount": "5"}, BASE | {"amount": "5"}, policy)
    runtime = Runtime(Registry(agents=agents, contracts=[contract]), evaluators=[chosen])
    with pytest.raises(Exception, match="strict could not decide"):
        start(runtime, {**BASE, "amount": "5"})


def test_evaluators_apply_only_to_their_contracts() -> None:
    """An evaluator scoped to another contract never runs."""
    calls: list[str] = []

    @evaluator(contracts=["other"])
    def scoped(handoff: Subject) -> bool:
        calls.append(handoff.receiver)
        return False

    runtime = Runtime(
        Registry(agents=chain(3), contracts=[ORDER]), evaluators=[*DEFAULT_EVALUATORS, scoped]
    )
    assert start(runtime).status is WorkflowStatus.COMPLETED
    assert calls == []


def test_evaluations_survive_in_a_durable_store(tmp_path: Path) -> None:
    """The rows are ordinary ledger entries: a new store object reads them back."""
    store = SqliteStore(tmp_path / "l.db")
    flag = evaluator("flag", mode="flagging")(lambda s: Verdict(True, score=1.0))
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), store, evaluators=[flag])
    result = runtime.run_sync("a0", ORDER_1, intent="x")
    store.close()
    again = Runtime(Registry(agents=chain(2), contracts=[ORDER]), SqliteStore(tmp_path / "l.db"))
    rows = evaluations(again, result.workflow_id)
    scores = [e.score for _, _, found in rows for e in found if e.name == "flag"]
    assert scores == [1.0, 1.0]
