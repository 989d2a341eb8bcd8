"""A refund desk on the OpenAI Agents SDK, its handoff carried by seamline.

triage hands off to refunds with a contracted handoff: the SDK's ``transfer_to_refunds``
tool, whose arguments are the ``refund.request`` contract. Three tickets:

1. a clean refund: validated, recorded, and refunds reads the validated payload;
2. a refund whose amount triage first writes as prose ("about 130"): rejected, triage's
   model is shown the issue and hands off again with the number;
3. a refund above 100: it waits at the contract's gate, and the approval runs refunds.

The models are the SDK's ScriptedModel, so this runs offline; give the agents a real model
(``model="gpt-4.1-mini"`` with OPENAI_API_KEY set) and nothing else changes.

Run it: ``python examples/openai_agents/refund_desk.py [ledger.db]``
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import anyio
from agents import Agent, RunConfig
from agents.testing import ScriptedModel, assistant_message, function_call
from pydantic import BaseModel, Field

from seamline import Contract, FailurePolicy, Registry, Runtime, SqliteStore
from seamline.contracts import Gate
from seamline.interop.openai_agents import AgentTeam, contracted_handoff, run
from seamline.ledger import HandoffView
from seamline.stores import WorkflowStatus


class RefundRequest(BaseModel):
    """What refunds needs to pay a refund back."""

    order_id: str = Field(pattern=r"^ORD-\d+$")
    amount: Decimal = Field(gt=0)
    reason: str


REFUND = Contract(
    model=RefundRequest,
    name="refund.request",
    version="1.0.0",
    owner="payments",
    description="A refund to pay, in the order's currency.",
    policy=FailurePolicy(feedback_retries=1),
    gate=Gate(when=lambda refund: refund.amount > 100, summary="Refund {amount} on {order_id}"),
)


def transfer(call: str, **arguments: Any) -> Any:
    """One scripted triage turn: the model calls the contracted handoff."""
    return [function_call("transfer_to_refunds", arguments, call_id=call)]


def build_team() -> tuple[Agent[Any], AgentTeam]:
    """triage -> refunds, with the turns the scripted models play for the three tickets."""
    triage_model = ScriptedModel(
        [
            transfer("t1", order_id="ORD-1", amount=24.5, reason="damaged"),
            transfer("t2", order_id="ORD-2", amount="about 130", reason="late"),
            transfer("t2-fixed", order_id="ORD-2", amount=38.0, reason="late"),
            transfer("t3", order_id="ORD-3", amount=129.99, reason="damaged"),
        ]
    )
    refunds_model = ScriptedModel(
        [[assistant_message(f"Refund on {order} paid.")] for order in ("ORD-1", "ORD-2", "ORD-3")]
    )
    refunds = Agent(name="refunds", model=refunds_model, handoff_description="Pays refunds.")
    triage = Agent(
        name="triage",
        instructions="Hand refund requests to refunds, with the exact amount.",
        model=triage_model,
        handoffs=[contracted_handoff(refunds, REFUND)],
    )
    # The SDK's own tracing would try to export to OpenAI; seamline's spans are separate.
    offline = RunConfig(tracing_disabled=True)
    return triage, AgentTeam(triage, owner="support", version="1.0.0", run_config=offline)


async def main(path: str = ":memory:") -> dict[str, Any]:
    """Run the three tickets, approve the gated one, and return each ticket's hops."""
    triage, team = build_team()
    runtime = Runtime(Registry(agents=team.agents, contracts=team.contracts), SqliteStore(path))
    ended: dict[str, Any] = {}
    for ticket in (
        "ORD-1 arrived broken, refund 24.50",
        "ORD-2 came a week late, refund the shipping",
        "ORD-3 arrived broken, refund all of it",
    ):
        result = await run(runtime, triage, ticket)
        print(ticket)
        if result.status is WorkflowStatus.WAITING:
            (gate,) = runtime.gates()
            print(f"    waiting at the gate: {gate.headline}; alice@payments approves")
            result = await runtime.decide(gate.id, "approve", by="alice@payments")
        hops = [hop(view) for view in runtime.ledger.handoffs(result.workflow_id)]
        for line in hops:
            print(f"    {line}")
        print(f"    {result.status}: {result.result}")
        ended[ticket] = {"status": result.status.value, "result": result.result, "hops": hops}
    return ended


def hop(view: HandoffView) -> str:
    """One handoff as a line: route, contract, status, and why it was rejected."""
    line = f"{view.route_names} ({view.contract}): {view.status}"
    rejected = [json.loads(e.data or "[]") for e in view.entries if e.kind == "rejected"]
    issues = [f"{issue['path']} {issue['code']}" for found in rejected for issue in found]
    return f"{line}: {', '.join(issues)}" if issues else line


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else ":memory:")
