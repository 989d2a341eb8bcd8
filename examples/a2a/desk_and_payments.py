"""Two teams, two runtimes, one A2A seam on loopback.

Payments serves its refunds agent over A2A (uvicorn on a free 127.0.0.1 port, in a thread):
the card lists the contract it accepts, every request is validated against it before the
agent runs, and refunds over 100 wait at payments' own human gate. The support desk reads
that card into its registry and hands off to it like to any local agent: triage sends the
request, the reply is validated as ``refund.decision`` and handed on to the desk's notifier.

Three tickets: a plain refund; a large one that waits at payments' gate until payments
approves it (the desk's step waits meanwhile); and one whose amount triage copies as prose,
which the boundary in front of the remote agent refuses before anything crosses the
network: triage gets the issues back, repeats itself, and the handoff is dead-lettered.

Run it: ``python examples/a2a/desk_and_payments.py [DIR]`` (the two ledgers go in DIR, a
temporary directory by default). Needs ``pip install "seamline[a2a]" uvicorn``.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import anyio
import uvicorn
from pydantic import BaseModel

from seamline import (
    Context,
    Contract,
    Finish,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.contracts import Gate
from seamline.interop.a2a import a2a_app, remote_agent


class Ticket(BaseModel):
    """What a customer wrote, as the desk's intake read it."""

    order_id: str
    amount_text: str
    reason: str


class RefundRequest(BaseModel):
    """What payments needs to decide a refund."""

    order_id: str
    amount: Decimal
    reason: str


class RefundDecision(BaseModel):
    """What payments answers."""

    order_id: str
    approved: bool
    refunded: Decimal


TICKET = Contract(model=Ticket, name="support.ticket", version="1.0.0", owner="support")
REFUND = Contract(
    model=RefundRequest, name="refund.request", version="1.2.0", owner="payments",
    tracked=("order_id", "amount"),
)  # fmt: skip
DECISION = Contract(model=RefundDecision, name="refund.decision", version="1.0.0", owner="payments")


# -- payments: its own registry, ledger and gate ------------------------------------------


@agent(name="refunds", version="3.0.0", owner="payments", accepts=[REFUND],
       capabilities=["refunds"])  # fmt: skip
def refunds(request: RefundRequest, ctx: Context) -> Outcome:
    """Decides refunds against the order on record."""
    return Finish(RefundDecision(order_id=request.order_id, approved=True, refunded=request.amount))


def payments(ledger: Path) -> Runtime:
    """Payments' runtime: a person approves every refund over 100 before it runs."""
    gate = Gate(when=lambda r: r.amount > 100, summary="Refund {amount} for order {order_id}")
    registry = Registry(agents=[refunds], contracts=[REFUND], gates={("external", "refunds"): gate})
    return Runtime(registry, SqliteStore(ledger))


# -- the support desk: a local sender, the remote refunds agent, a local notifier ---------


@agent(name="triage", version="2.1.0", owner="support", accepts=[TICKET], emits=[REFUND])
def triage(ticket: Ticket, ctx: Context) -> Outcome:
    """Turns a ticket into a refund request for payments (copying the amount as written)."""
    request = {"order_id": ticket.order_id, "amount": ticket.amount_text, "reason": ticket.reason}
    return HandOff(to="refunds", payload=request)


@agent(name="notifier", version="1.0.0", owner="support", accepts=[DECISION])
def notifier(decision: RefundDecision, ctx: Context) -> Outcome:
    """Tells the customer."""
    verdict = "refunded" if decision.approved else "declined"
    return Finish(
        {"order_id": decision.order_id, "told_customer": f"{verdict} {decision.refunded}"}
    )


@contextmanager
def serving(runtime: Runtime) -> Iterator[str]:
    """Payments' refunds agent over A2A on a free loopback port; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    app = a2a_app(runtime, "refunds", url=url, poll=0.1)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


async def approve_when_gated(runtime: Runtime) -> None:
    """A payments lead, approving the refund that waits at the gate."""
    while not (gates := runtime.gates()):
        await anyio.sleep(0.1)
    print(f"  payments: gate {gates[0].id} says {gates[0].headline!r}; approving")
    await runtime.decide(gates[0].id, "approve", by="payments-lead")


async def main(directory: Path, url: str, pay: Runtime) -> list[str]:
    """Register the remote agent from its card, then run the three tickets."""
    remote = await remote_agent(url, reply=DECISION, then="notifier", poll=0.1)
    accepts = ", ".join(f"{name} {versions}" for name, versions in remote.card.accepts.items())
    tags = ", ".join(sorted(remote.card.capabilities))
    print(f"card: {remote.card.ref}, owned by {remote.card.owner}, tags {tags}, accepts {accepts}")
    desk = Runtime(
        Registry(agents=[triage, remote, notifier], contracts=[TICKET, REFUND, DECISION]),
        SqliteStore(directory / "desk.db"),
    )
    lines = []
    tickets = [
        ("The lamp arrived broken", Ticket(order_id="ORD-1", amount_text="39.90", reason="broken")),
        ("Refund the whole sofa", Ticket(order_id="ORD-2", amount_text="899.00", reason="late")),
        ("Give me about 130 back", Ticket(order_id="ORD-3", amount_text="about 130", reason="?")),
    ]
    for intent, ticket in tickets:
        print(f"ticket {ticket.order_id}: {intent}")
        async with anyio.create_task_group() as group:
            if ticket.order_id == "ORD-2":
                group.start_soon(approve_when_gated, pay)
            result = await desk.run("triage", ticket, intent=intent)
        if result.dead_letter_id is not None:
            letter = desk.ledger.dead_letter(result.dead_letter_id)
            outcome = f"dead-lettered ({letter.reason}): {json.loads(letter.issues)[0]['message']}"
        else:
            outcome = f"{result.status.value} {result.result}"
        lines.append(f"{ticket.order_id}: {outcome}")
        print(f"  {lines[-1]}")
    for workflow in pay.ledger.workflows():
        print(f"payments' ledger: workflow {workflow.id} ({workflow.name}) {workflow.status.value}")
    return lines


if __name__ == "__main__":
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="a2a-"))
    pay = payments(where / "payments.db")
    with serving(pay) as base:
        anyio.run(main, where, base, pay)
    print(f"ledgers in {where}: `seamline workflows list --store {where / 'desk.db'}`")
