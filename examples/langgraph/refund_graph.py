"""A refund desk as a LangGraph graph, its Command handoff carried by seamline.

intake reads the ticket, triage hands off to refunds with ``contracted_command``, and
refunds is called with the validated ``refund.request`` payload as its typed input. The
graph keeps its state in its checkpointer; seamline keeps the handoffs in its ledger.
Three tickets:

1. a clean refund: validated, recorded, and refunds runs on the payload;
2. a refund whose amount triage first copies from the customer ("about 38"): rejected, so
   triage runs again (the thread forked from before it), reads ``feedback()``, and takes
   the amount from the order record instead;
3. a refund above 100: the thread rests at its checkpoint at the contract's gate, and the
   approval runs refunds.

No model is involved; the nodes are plain functions.

Run it: ``python examples/langgraph/refund_graph.py [ledger.db]``
"""

from __future__ import annotations

import operator
import re
import sys
from decimal import Decimal
from typing import Annotated, Any, TypedDict

import anyio
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel, Field

from seamline import Contract, FailurePolicy, Registry, Runtime, SqliteStore
from seamline.contracts import Gate
from seamline.interop.langgraph import GraphTeam, contracted_command, feedback, run
from seamline.stores import WorkflowStatus

ORDERS = {"ORD-1": Decimal("24.50"), "ORD-2": Decimal("38.00"), "ORD-3": Decimal("129.99")}
"""The order records triage can look amounts up in."""


class RefundRequest(BaseModel):
    """What refunds needs to pay a refund back."""

    order_id: str = Field(pattern=r"^ORD-\d+$")
    amount: Decimal = Field(gt=0)


REFUND = Contract(
    model=RefundRequest,
    name="refund.request",
    version="1.0.0",
    owner="payments",
    policy=FailurePolicy(feedback_retries=1),
    gate=Gate(when=lambda refund: refund.amount > 100, summary="Refund {amount} on {order_id}"),
)


class Desk(TypedDict, total=False):
    """The graph's state."""

    ticket: str
    order_id: str
    log: Annotated[list[str], operator.add]


def intake(state: Desk) -> dict[str, Any]:
    """Find the order the ticket is about."""
    found = re.search(r"ORD-\d+", state["ticket"])
    return {"order_id": found.group() if found else "", "log": ["intake"]}


def triage(state: Desk) -> Command[Any]:
    """Hand the refund on: the customer's figure at first, the order record after a rejection."""
    issues = feedback()
    said = re.search(r"refund (.+)$", state["ticket"])
    amount: Any = ORDERS[state["order_id"]] if issues else (said.group(1) if said else "")
    note = f"triage (after {', '.join(i.code for i in issues)})" if issues else "triage"
    return contracted_command(
        "refunds", {"order_id": state["order_id"], "amount": amount}, update={"log": [note]}
    )


def refunds(state: RefundRequest) -> dict[str, Any]:
    """Pay the refund; LangGraph calls a node's input "state", here the validated handoff."""
    return {"log": [f"refunded {state.amount} on {state.order_id}"]}


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """intake -> triage, which hands off to refunds; compiled with a checkpointer."""
    builder = StateGraph(Desk)
    builder.add_node("intake", intake)
    builder.add_node("triage", triage)
    builder.add_node("refunds", refunds, input_schema=RefundRequest)
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "triage")
    return builder.compile(checkpointer=InMemorySaver(), name="desk")


async def main(path: str = ":memory:") -> dict[str, list[str]]:
    """Run the three tickets, approve the gated one, and return each thread's log."""
    graph = build_graph()
    team = GraphTeam(graph, receivers={"refunds": REFUND}, owner="support", version="1.0.0")
    runtime = Runtime(Registry(agents=team.agents, contracts=team.contracts), SqliteStore(path))
    logs: dict[str, list[str]] = {}
    for ticket in (
        "ORD-1 arrived broken, refund 24.50",
        "ORD-2 came a week late, refund about 38",
        "ORD-3 arrived broken, refund 129.99",
    ):
        result = await run(runtime, graph, {"ticket": ticket}, intent=ticket)
        print(ticket)
        if result.status is WorkflowStatus.WAITING:
            (gate,) = runtime.gates()
            print(f"    waiting at the gate: {gate.headline}; alice@payments approves")
            result = await runtime.decide(gate.id, "approve", by="alice@payments")
        for view in runtime.ledger.handoffs(result.workflow_id):
            print(f"    ledger: {view.route_names} ({view.contract}): {view.status}")
        thread = await graph.aget_state({"configurable": {"thread_id": result.workflow_id}})
        logs[ticket] = thread.values["log"]
        print(f"    graph state: {' -> '.join(logs[ticket])}")
        print(f"    {result.status}")
    return logs


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else ":memory:")
