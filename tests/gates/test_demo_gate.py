"""The gated demo: refunds above 100 wait for payments; an approval finishes the ticket."""

from __future__ import annotations

import warnings

import anyio

from seamline import Runtime
from seamline.demo import TICKETS, build_gated_registry
from seamline.stores import WorkflowStatus


def test_the_gated_demo_waits_for_payments_then_finishes() -> None:
    """T-1 (54.50) goes through; T-2 (129.99) waits; approved, it completes like before."""
    runtime = Runtime(build_gated_registry())
    statuses = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's deprecated refund version warns
        for _, ticket in TICKETS[:2]:
            result = anyio.run(lambda t=ticket: runtime.run("intake", t, intent=t.message))  # type: ignore[misc]
            statuses[ticket.ticket_id] = result
        assert statuses["T-1"].status is WorkflowStatus.COMPLETED
        assert statuses["T-2"].status is WorkflowStatus.WAITING
        [gate] = runtime.gates()
        assert gate.owner == "payments" and "ORD-1001" in gate.headline
        assert '"value": "129.99"' in gate.summary
        done = anyio.run(lambda: runtime.decide(gate.id, "approve", by="pat"))
    assert done.status is WorkflowStatus.COMPLETED
    assert done.result["refunded"] == "129.99 USD"
