"""Canceling a workflow: between steps when driven here, at once otherwise; replayable."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from chain_fixtures import ORDER, ORDER_1, Order, chain, relay

from seamline import (
    ConfigurationError,
    ConflictError,
    Context,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.contracts import Gate
from seamline.stores import WorkflowStatus


def test_a_workflow_driven_here_stops_after_the_step_in_flight() -> None:
    """a1 asks to cancel its own workflow: its step is recorded, a2 never runs."""
    ran: list[str] = []
    runtime: Runtime

    @agent(name="a1", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
    def a1(order: Order, ctx: Context) -> Outcome:
        ran.append("a1")
        assert runtime.cancel(ctx.envelope.correlation_id, reason="customer withdrew") is None
        return HandOff(to="a2", payload=order)

    @agent(name="a2", version="1.0.0", owner="tests", accepts=[ORDER])
    def a2(order: Order, ctx: Context) -> Outcome:
        ran.append("a2")
        raise AssertionError("a canceled workflow ran on")

    runtime = Runtime(Registry(agents=[relay("a0", "a1"), a1, a2], contracts=[ORDER]))
    result = runtime.run_sync("a0", ORDER_1, intent="refund")
    assert ran == ["a1"]
    assert result.status is WorkflowStatus.DEAD_LETTERED
    letter = runtime.ledger.dead_letter(result.dead_letter_id or "")
    assert (letter.reason, letter.message) == ("canceled", "customer withdrew")
    assert runtime.ledger.handoffs(result.workflow_id)[-1].route_names == "a1 → a2"


def test_an_idle_running_workflow_is_canceled_at_once_and_can_be_replayed(
    tmp_path: Path,
) -> None:
    """A runtime died mid-step (the workflow is running, nobody drives it): cancel records
    it now; a replay of its dead letter runs it to its end."""
    crash = {"on": True}

    @agent(name="a1", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
    def a1(order: Order, ctx: Context) -> Outcome:
        if crash["on"]:
            raise KeyboardInterrupt  # the process dies; nothing of this step is recorded
        return HandOff(to="a2", payload=order)

    store = SqliteStore(tmp_path / "l.db")
    runtime = Runtime(
        Registry(agents=[relay("a0", "a1"), a1, *chain(3)[2:]], contracts=[ORDER]), store
    )
    with pytest.raises(KeyboardInterrupt):
        runtime.run_sync("a0", ORDER_1, intent="refund", workflow_id="wf-1")
    assert runtime.result("wf-1").status is WorkflowStatus.RUNNING
    canceled = runtime.cancel("wf-1", reason="stuck after a crash")
    assert canceled is not None and canceled.status is WorkflowStatus.DEAD_LETTERED
    crash["on"] = False
    replayed = anyio.run(lambda: runtime.replay(canceled.dead_letter_id or ""))
    assert replayed.status is WorkflowStatus.COMPLETED
    with pytest.raises(ConflictError, match="already completed"):
        runtime.cancel("wf-1", reason="too late")


def test_a_workflow_waiting_at_a_gate_is_canceled_and_the_gate_says_so() -> None:
    """The gated handoff becomes a canceled dead letter; the gate is no longer open."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER], gates={("a0", "a1"): Gate()}))
    waiting = runtime.run_sync("a0", ORDER_1, intent="refund")
    [gate] = runtime.gates()
    canceled = runtime.cancel(waiting.workflow_id, reason="duplicate request")
    assert canceled is not None and canceled.dead_letter_id == gate.id
    assert runtime.gates() == []
    closed = runtime.gate(gate.id)
    assert (closed.status, closed.reason) == ("canceled", "duplicate request")
    with pytest.raises(ConflictError, match=r"already canceled at .*; nothing changed"):
        anyio.run(lambda: runtime.decide(gate.id, "approve", by="alice"))


def test_bad_cancellations_are_clear_errors() -> None:
    """No reason, unknown workflows."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]))
    done = runtime.run_sync("a0", ORDER_1, intent="refund")
    with pytest.raises(ConfigurationError, match="say why"):
        runtime.cancel(done.workflow_id, reason=" ")
    with pytest.raises(Exception, match="no workflow 'nope'"):
        runtime.cancel("nope", reason="x")
    assert json.loads(runtime.ledger.workflow(done.workflow_id).result or "{}")["kind"] == "finish"
