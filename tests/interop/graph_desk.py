"""A LangGraph intake -> triage -> refunds desk with a real checkpointer and no model.

triage hands off the amounts it is given, one per run of the node, and notes the feedback
it saw; refunds notes the typed payloads it received. Shared by the adapter's tests and the
span test's subprocess.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command
from refunds import REFUND, RefundRequest

from seamline import Contract, Issue, Registry, Runtime, SqliteStore
from seamline.interop.langgraph import GraphTeam, contracted_command, feedback

ASK = "My lamp arrived broken, refund order ORD-1"


class Ticket(TypedDict, total=False):
    """The graph's state."""

    ticket: str
    log: Annotated[list[str], operator.add]


@dataclass
class Desk:
    """The compiled graph, a runtime on a SQLite ledger, and what the nodes saw."""

    graph: Any
    runtime: Runtime
    feedback: list[tuple[Issue, ...]] = field(default_factory=list)
    received: list[RefundRequest] = field(default_factory=list)

    def thread(self, workflow_id: str) -> dict[str, Any]:
        """The graph's own config for a workflow's thread."""
        return {"configurable": {"thread_id": workflow_id}}


def desk(ledger: Path, amounts: Iterable[object], *, contract: Contract[Any] = REFUND) -> Desk:
    """intake -> triage, which hands each of ``amounts`` in turn to refunds under
    ``contract``."""
    queue = list(amounts)
    seen: Desk | None = None

    def intake(state: Ticket) -> dict[str, Any]:
        return {"log": ["intake"]}

    def triage(state: Ticket) -> Command[Any]:
        assert seen is not None
        seen.feedback.append(feedback())
        amount = queue.pop(0)
        payload = {"order_id": "ORD-1", "amount": amount}
        return contracted_command("refunds", payload, update={"log": [f"triage {amount}"]})

    def refunds(state: RefundRequest) -> dict[str, Any]:
        # LangGraph calls a node's input "state"; here it is the validated handoff.
        assert seen is not None
        seen.received.append(state)
        return {"log": [f"refunded {state.amount}"]}

    builder = StateGraph(Ticket)
    builder.add_node("intake", intake)
    builder.add_node("triage", triage)
    builder.add_node("refunds", refunds, input_schema=RefundRequest)
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "triage")
    graph = builder.compile(checkpointer=InMemorySaver(), name="support")
    seen = Desk(graph, runtime_for(graph, {"refunds": contract}, ledger))
    return seen


def runtime_for(graph: Any, receivers: dict[str, Contract[Any]], ledger: Path) -> Runtime:
    """A runtime on a SQLite ledger whose registry is ``graph``'s team (owned by support)."""
    team = GraphTeam(graph, receivers=receivers, owner="support", version="1.0.0")
    return Runtime(Registry(agents=team.agents, contracts=team.contracts), SqliteStore(ledger))
