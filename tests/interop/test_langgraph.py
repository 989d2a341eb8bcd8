"""LangGraph Command handoffs travel as seamline handoffs, beside the graph's checkpointer."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypedDict

import anyio
import pytest
from fresh_process import load_example, python
from graph_desk import ASK, Desk, Ticket, desk, runtime_for
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt
from pydantic import BaseModel, Field
from refunds import REFUND, RefundRequest, refund_contract

import seamline.interop.langgraph
from seamline import (
    Contract,
    FailurePolicy,
    Registry,
    RejectedHandoff,
    RunResult,
    Runtime,
    SqliteStore,
)
from seamline.contracts import Gate
from seamline.exceptions import ConfigurationError, StoreError
from seamline.interop.langgraph import (
    GRAPH_INPUT,
    GraphTeam,
    contracted_command,
    feedback,
    run,
)
from seamline.registry import REJECTED_HANDOFF
from seamline.stores import Commit, WorkflowStatus

HERE = Path(__file__).parent
ORD_1 = RefundRequest(order_id="ORD-1", amount=Decimal("129.99"))


def start(graph_desk: Desk) -> RunResult:
    """Run the desk's graph on the ticket; the workflow's result."""
    return anyio.run(lambda: run(graph_desk.runtime, graph_desk.graph, {"ticket": ASK}, intent=ASK))


def thread_log(graph_desk: Desk, workflow_id: str) -> list[str]:
    """The ``log`` the graph's checkpointer holds for the workflow's thread."""
    state = anyio.run(lambda: graph_desk.graph.aget_state(graph_desk.thread(workflow_id)))
    log: list[str] = state.values["log"]
    return log


def test_the_module_exports_exactly_its_api() -> None:
    """The adapter's public names, pinned."""
    assert sorted(seamline.interop.langgraph.__all__) == [
        "GRAPH_INPUT",
        "GraphInput",
        "GraphTeam",
        "contracted_command",
        "feedback",
        "run",
    ]


def test_a_valid_command_is_recorded_and_the_receiver_gets_the_typed_payload(
    tmp_path: Path,
) -> None:
    """The ledger holds both hops, the checkpointer the thread; refunds gets a RefundRequest."""
    graph_desk = desk(tmp_path / "l.db", ["129.99"])
    result = start(graph_desk)
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result == {"ticket": ASK, "log": ["intake", "triage 129.99", "refunded 129.99"]}
    entry, refund = graph_desk.runtime.ledger.handoffs(result.workflow_id)
    assert (entry.route, entry.contract) == ("external@0.0.0 -> support@1.0.0", GRAPH_INPUT.ref)
    assert entry.envelope.payload == {"values": {"ticket": ASK}}
    assert (refund.route, refund.contract) == ("support@1.0.0 -> refunds@1.0.0", REFUND.ref)
    kinds = [entry.kind for entry in refund.entries]
    assert kinds == ["proposed", "evaluated", "validated", "delivered", "completed"]
    assert graph_desk.received == [ORD_1]
    assert graph_desk.feedback == [()]
    assert thread_log(graph_desk, result.workflow_id)[-1] == "refunded 129.99"


def test_a_rejected_command_runs_the_sender_again_with_the_issues(tmp_path: Path) -> None:
    """The thread forks from before triage; the rejected attempt stays in its history only."""
    graph_desk = desk(tmp_path / "l.db", ["-5", "129.99"])
    result = start(graph_desk)
    assert result.status is WorkflowStatus.COMPLETED
    first, retry = graph_desk.feedback
    assert first == () and [issue.code for issue in retry] == ["greater_than"]
    assert retry[0].path == "payload.amount"
    assert graph_desk.received == [ORD_1]
    _, rejected, accepted = graph_desk.runtime.ledger.handoffs(result.workflow_id)
    assert rejected.status == "rejected" and rejected.envelope.payload["amount"] == "-5"
    assert accepted.status == "completed"
    assert thread_log(graph_desk, result.workflow_id) == [
        "intake",
        "triage 129.99",
        "refunded 129.99",
    ]
    thread = graph_desk.thread(result.workflow_id)

    async def history() -> list[list[str]]:
        return [s.values.get("log", []) async for s in graph_desk.graph.aget_state_history(thread)]

    assert ["intake", "triage -5"] in anyio.run(history)


def test_a_command_that_never_fits_is_dead_lettered_and_replays_on_the_thread(
    tmp_path: Path,
) -> None:
    """Nothing reaches refunds; a fixed replay continues the same thread at refunds."""
    graph_desk = desk(tmp_path / "l.db", ["-5", "0"])
    runtime = graph_desk.runtime
    result = start(graph_desk)
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    assert graph_desk.received == []
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert json.loads(letter.envelope)["payload"] == {"order_id": "ORD-1", "amount": "0"}
    fixed = {"order_id": "ORD-1", "amount": "12.50"}
    replayed = anyio.run(lambda: runtime.replay(result.dead_letter_id or "", payload=fixed))
    assert replayed.status is WorkflowStatus.COMPLETED
    assert graph_desk.received == [RefundRequest(order_id="ORD-1", amount=Decimal("12.50"))]
    assert thread_log(graph_desk, result.workflow_id) == ["intake", "triage 0", "refunded 12.50"]


def test_a_gated_command_waits_and_the_approval_runs_the_receiver(tmp_path: Path) -> None:
    """The thread rests at its checkpoint until someone approves; then refunds runs."""
    gated = refund_contract(gate=Gate(when=lambda refund: refund.amount > 100))
    graph_desk = desk(tmp_path / "l.db", ["129.99"], contract=gated)
    runtime = graph_desk.runtime
    result = start(graph_desk)
    assert result.status is WorkflowStatus.WAITING
    assert graph_desk.received == []
    assert thread_log(graph_desk, result.workflow_id) == ["intake", "triage 129.99"]
    (gate,) = runtime.gates()
    decided = anyio.run(lambda: runtime.decide(gate.id, "approve", by="alice"))
    assert decided.status is WorkflowStatus.COMPLETED
    assert graph_desk.received == [ORD_1]
    assert thread_log(graph_desk, result.workflow_id)[-1] == "refunded 129.99"


class Note(BaseModel):
    """What refunds hands to notify."""

    text: str = Field(min_length=1)
    order_id: str


def test_a_receiver_can_hand_off_and_a_fallback_node_gets_the_rejected_handoff(
    tmp_path: Path,
) -> None:
    """refunds' bad note is fed back to refunds itself (a fork from its Send), and a note
    that never fits reaches the fallback node typed as a RejectedHandoff."""
    notes = iter(["", "", ""])
    seen: dict[str, list[Any]] = {"feedback": [], "repaired": []}

    def triage(state: Ticket) -> Command[Any]:
        return contracted_command("refunds", ORD_1)

    def refunds(state: RefundRequest) -> Command[Any]:
        seen["feedback"].append([issue.code for issue in feedback()])
        return contracted_command("notify", {"text": next(notes), "order_id": state.order_id})

    def notify(state: Note) -> dict[str, Any]:
        return {"log": [state.text]}

    def repair(state: RejectedHandoff) -> dict[str, Any]:
        seen["repaired"].append(state)
        return {"log": ["repaired"]}

    builder = StateGraph(Ticket)
    builder.add_node("triage", triage)
    builder.add_node("refunds", refunds, input_schema=RefundRequest)
    builder.add_node("notify", notify, input_schema=Note)
    builder.add_node("repair", repair, input_schema=RejectedHandoff)
    builder.add_edge(START, "triage")
    graph = builder.compile(checkpointer=InMemorySaver(), name="desk")
    policy = FailurePolicy(feedback_retries=2, fallback_agent="repair")
    note = Contract(model=Note, name="note", version="1.0.0", owner="support", policy=policy)
    receivers: dict[str, Contract[Any]] = {
        "refunds": REFUND,
        "notify": note,
        "repair": REJECTED_HANDOFF,
    }
    runtime = runtime_for(graph, receivers, tmp_path / "l.db")
    result = anyio.run(lambda: run(runtime, graph, {"ticket": ASK}, intent=ASK))
    assert result.status is WorkflowStatus.COMPLETED
    assert seen["feedback"] == [[], ["string_too_short"], ["string_too_short"]]
    (rejected,) = seen["repaired"]
    assert rejected.sender == "refunds@1.0.0" and rejected.payload["text"] == ""
    assert result.result["log"] == ["repaired"]


def refund_then_notify(notify: Callable[[RefundRequest], None], contract: Contract[Any]) -> Any:
    """triage hands ORD-1 to refunds, which flows into notify (calling ``notify``)."""

    def triage(state: Ticket) -> Command[Any]:
        return contracted_command("refunds", ORD_1, update={"log": ["triage"]})

    def refunds(state: RefundRequest) -> dict[str, Any]:
        return {"log": [f"refunded {state.amount}"], "ticket": state.model_dump_json()}

    def notify_node(state: Ticket) -> dict[str, Any]:
        notify(RefundRequest.model_validate_json(state["ticket"]))
        return {"log": ["notified"]}

    builder = StateGraph(Ticket)
    builder.add_node("triage", triage)
    builder.add_node("refunds", refunds, input_schema=RefundRequest)
    builder.add_node("notify", notify_node)
    builder.add_edge(START, "triage")
    builder.add_edge("refunds", "notify")
    return builder.compile(checkpointer=InMemorySaver(), name="desk")


def test_a_stretch_that_fails_runs_again_from_where_it_began(tmp_path: Path) -> None:
    """A transient fault after refunds wrote its state: the retry starts the stretch over,
    so the thread holds one refund, not the failed attempt's too."""
    flaky = iter([ConnectionError("mail server down"), None])

    def notify(refund: RefundRequest) -> None:
        fault = next(flaky)
        if fault is not None:
            raise fault

    retrying = refund_contract(policy=FailurePolicy(retries=1, backoff=0))
    graph = refund_then_notify(notify, retrying)
    runtime = runtime_for(graph, {"refunds": retrying}, tmp_path / "l.db")
    result = anyio.run(lambda: run(runtime, graph, {"ticket": ASK}, intent=ASK))
    assert result.status is WorkflowStatus.COMPLETED
    refund = runtime.ledger.handoffs(result.workflow_id)[1]
    assert [e.kind for e in refund.entries].count("retry") == 1
    assert result.result["log"] == ["triage", "refunded 129.99", "notified"]


def test_a_replay_with_a_fixed_payload_starts_the_failed_stretch_over(tmp_path: Path) -> None:
    """The dead-lettered stretch's writes are forked away; the fix is what refunds runs on."""

    def notify(refund: RefundRequest) -> None:
        if refund.amount > 100:
            raise ValueError("refunds above 100 need a manager")

    graph = refund_then_notify(notify, REFUND)
    runtime = runtime_for(graph, {"refunds": REFUND}, tmp_path / "l.db")
    result = anyio.run(lambda: run(runtime, graph, {"ticket": ASK}, intent=ASK))
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    assert runtime.ledger.dead_letter(result.dead_letter_id).reason == "agent_error"
    fixed = {"order_id": "ORD-1", "amount": "99.00"}
    replayed = anyio.run(lambda: runtime.replay(result.dead_letter_id or "", payload=fixed))
    assert replayed.status is WorkflowStatus.COMPLETED
    assert replayed.result["log"] == ["triage", "refunded 99.00", "notified"]


def test_a_replayed_first_stretch_starts_the_thread_over(tmp_path: Path) -> None:
    """The entry failed on its input; the replay's fixed input is all the thread holds."""

    def intake(state: Ticket) -> dict[str, Any]:
        if not state["ticket"].startswith("ORD-"):
            raise ValueError("a ticket names its order first")
        return {"log": ["intake"]}

    builder = StateGraph(Ticket)
    builder.add_node("intake", intake)
    builder.add_edge(START, "intake")
    graph = builder.compile(checkpointer=InMemorySaver(), name="desk")
    runtime = runtime_for(graph, {}, tmp_path / "l.db")
    result = anyio.run(lambda: run(runtime, graph, {"ticket": ASK, "log": ["in"]}, intent=ASK))
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    fixed = {"values": {"ticket": "ORD-1: " + ASK, "log": ["fixed"]}}
    replayed = anyio.run(lambda: runtime.replay(result.dead_letter_id or "", payload=fixed))
    assert replayed.result == {"ticket": "ORD-1: " + ASK, "log": ["fixed", "intake"]}


class DiesBeforeTheLastCommit(SqliteStore):
    """A ledger whose process dies once, as the workflow's final step is being recorded."""

    died = False

    def apply(self, commit: Commit) -> None:
        finishing = any('"finish"' in (entry.data or "") for entry in commit.entries)
        if finishing and not self.died:
            self.died = True
            raise StoreError("the process died before this commit")
        super().apply(commit)


def test_a_stretch_that_finished_unrecorded_runs_again_on_resume(tmp_path: Path) -> None:
    """The graph ran refunds but the ledger never heard: resuming runs the stretch again
    from before it (at least once), and the thread holds its writes once."""
    graph_desk = desk(tmp_path / "unused.db", ["129.99"])
    team = GraphTeam(graph_desk.graph, receivers={"refunds": REFUND}, owner="s", version="1.0.0")
    store = DiesBeforeTheLastCommit(tmp_path / "l.db")
    runtime = Runtime(Registry(agents=team.agents, contracts=team.contracts), store)
    with pytest.raises(StoreError):
        anyio.run(lambda: run(runtime, graph_desk.graph, {"ticket": ASK}, intent=ASK))
    (workflow,) = runtime.ledger.workflows()
    resumed = anyio.run(lambda: runtime.resume(workflow.id))
    assert resumed.status is WorkflowStatus.COMPLETED
    assert graph_desk.received == [ORD_1, ORD_1]
    assert resumed.result["log"] == ["intake", "triage 129.99", "refunded 129.99"]


def test_two_commands_in_one_step_fail_the_step(tmp_path: Path) -> None:
    """seamline carries one handoff at a time; the step is dead-lettered, saying so."""

    def split(state: Ticket) -> Command[Any]:
        contracted_command("refunds", ORD_1)
        return contracted_command("refunds", ORD_1)

    def refunds(state: RefundRequest) -> dict[str, Any]:
        return {}

    builder = StateGraph(Ticket)
    builder.add_node("split", split)
    builder.add_node("refunds", refunds, input_schema=RefundRequest)
    builder.add_edge(START, "split")
    graph = builder.compile(checkpointer=InMemorySaver(), name="desk")
    runtime = runtime_for(graph, {"refunds": REFUND}, tmp_path / "l.db")
    result = anyio.run(lambda: run(runtime, graph, {"ticket": ASK}, intent=ASK))
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "agent_error"
    assert "desk made 2 contracted commands in one step (to refunds, refunds)" in letter.message


def test_an_interrupt_escalates_the_workflow_to_its_owner(tmp_path: Path) -> None:
    """seamline cannot resume a LangGraph interrupt, so it asks a person instead."""

    class Asking(TypedDict, total=False):
        log: Annotated[list[str], operator.add]

    def ask(state: Asking) -> dict[str, Any]:
        interrupt("may I?")
        return {"log": ["asked"]}

    builder = StateGraph(Asking)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    graph = builder.compile(checkpointer=InMemorySaver(), name="asker")
    runtime = runtime_for(graph, {}, tmp_path / "l.db")
    result = anyio.run(lambda: run(runtime, graph, {"log": []}, intent="ask first"))
    assert result.status is WorkflowStatus.ESCALATED
    assert result.result["owner"] == "support"
    assert "asker stopped at interrupt() (1 pending)" in result.result["reason"]


def test_a_graph_team_refuses_what_cannot_work(tmp_path: Path) -> None:
    """No checkpointer, a receiver that is not a node, a graph named like a node."""
    builder = StateGraph(Ticket)
    builder.add_node("refunds", lambda state: {})
    builder.add_edge(START, "refunds")
    with pytest.raises(ConfigurationError, match="has no checkpointer"):
        GraphTeam(builder.compile(name="desk"), receivers={}, owner="s", version="1.0.0")
    saved = builder.compile(checkpointer=InMemorySaver(), name="desk")
    with pytest.raises(ConfigurationError, match="has no node billing to receive handoffs"):
        GraphTeam(saved, receivers={"billing": REFUND}, owner="s", version="1.0.0")
    named = builder.compile(checkpointer=InMemorySaver(), name="refunds")
    with pytest.raises(ConfigurationError, match="names both the graph"):
        GraphTeam(named, receivers={"refunds": REFUND}, owner="s", version="1.0.0")


def test_the_helpers_outside_seamline_say_how_to_run_the_graph(tmp_path: Path) -> None:
    """invoke() would let the command through unchecked; it fails naming the fix."""
    graph_desk = desk(tmp_path / "l.db", ["129.99"])
    thread = graph_desk.thread("plain")
    with pytest.raises(ConfigurationError, match=r"seamline.interop.langgraph.run\(runtime"):
        anyio.run(lambda: graph_desk.graph.ainvoke({"ticket": ASK}, thread))
    with pytest.raises(ConfigurationError, match=r"feedback\(\) works inside"):
        feedback()


def test_commands_are_traced_like_any_handoff(tmp_path: Path) -> None:
    """With an exporter configured, the graph's stretches are agent spans and the command a
    handoff span (in a fresh process: OpenTelemetry allows one provider per process)."""
    code = f"""
import json, sys
sys.path.insert(0, {str(HERE)!r})
import anyio
from seamline.telemetry import configure
from seamline.interop.langgraph import run
from graph_desk import ASK, desk

provider = configure("memory")
graph_desk = desk({str(tmp_path / "l.db")!r}, ["129.99"])
anyio.run(lambda: run(graph_desk.runtime, graph_desk.graph, {{"ticket": ASK}}, intent=ASK))
spans = {{s.name: dict(s.attributes or {{}}) for s in provider.exporter.get_finished_spans()}}
print(json.dumps(spans))
"""
    done = python(code)
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout)
    assert {"invoke_agent support", "invoke_agent refunds"} <= spans.keys()
    handoff = spans["handoff support -> refunds"]
    assert handoff["seamline.handoff.contract"] == "refund.request@1.0.0"
    assert handoff["seamline.handoff.outcome"] == "validated"


def test_without_the_extra_the_import_names_it() -> None:
    """No LangGraph installed: importing the adapter raises MissingExtraError naming it."""
    done = python(
        "import sys\nsys.modules['langgraph'] = None  # as if langgraph were not installed\n"
        "from seamline.exceptions import MissingExtraError\n"
        "try:\n    import seamline.interop.langgraph\n"
        "except MissingExtraError as error:\n    print(error)\n"
    )
    assert done.returncode == 0, done.stderr
    assert 'pip install "seamline[langgraph]"' in done.stdout


def test_the_example_runs_its_three_tickets(tmp_path: Path) -> None:
    """The clean refund, the paraphrased amount fixed from the record, the approved one."""
    example = load_example(HERE.parents[1] / "examples" / "langgraph" / "refund_graph.py")
    logs = anyio.run(example.main, str(tmp_path / "desk.db"))
    assert logs["ORD-2 came a week late, refund about 38"] == [
        "intake",
        "triage (after decimal_parsing)",
        "refunded 38.00 on ORD-2",
    ]
    assert logs["ORD-3 arrived broken, refund 129.99"][-1] == "refunded 129.99 on ORD-3"
