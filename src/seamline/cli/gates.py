"""``seamline gates``: list, show and decide handoffs waiting for a person."""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import anyio
import typer
from rich.console import Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from seamline.cli._common import (
    AppOption,
    StoreOption,
    console,
    load_registry,
    open_store,
    read_json_object,
)
from seamline.gates import Decision, GateView, list_gates, open_gate
from seamline.ledger import Ledger
from seamline.runtime import Runtime

app = typer.Typer(help="Human gates: handoffs waiting for a decision.", no_args_is_help=True)

ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who decides (recorded with the decision); default: your login."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("list")
def list_(
    store: StoreOption,
    status: Annotated[str, typer.Option(help="open, decided or all.")] = "open",
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List gates, newest first: who decides, by when, and what is asked."""
    gates = list_gates(Ledger(open_store(store)), status=status, limit=limit)
    if as_json:
        console.print_json(json.dumps({"gates": [gate.as_dict() for gate in gates]}))
        return
    if not gates:
        console.print(f"no {status} gates" if status != "all" else "no gates")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("gate", "owner", "status", "waiting since", "asks"):
        table.add_column(column, overflow="fold")
    for gate in gates:
        table.add_row(
            gate.id[-12:],
            gate.owner,
            _status(gate),
            f"{gate.gated_at:%Y-%m-%d %H:%M}",
            gate.headline,
        )
    console.print(table)


@app.command()
def show(
    store: StoreOption,
    gate_id: Annotated[str, typer.Argument(help="Gate (handoff) id.")],
    as_json: JsonOption = False,
) -> None:
    """Show a gate: the human summary beside the machine payload (masked)."""
    gate = open_gate(Ledger(open_store(store)), gate_id)[1]
    if as_json:
        console.print_json(json.dumps(gate.as_dict()))
        return
    console.print(_panel(gate))


@app.command()
def approve(
    store: StoreOption,
    gate_id: Annotated[str, typer.Argument(help="Gate (handoff) id.")],
    by: ByOption = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
    app_ref: AppOption = None,
) -> None:
    """Approve: the receiver gets the handoff as it is, and the workflow runs on."""
    _decide(store, gate_id, Decision.APPROVE, by, reason, None, app_ref)


@app.command()
def reject(
    store: StoreOption,
    gate_id: Annotated[str, typer.Argument(help="Gate (handoff) id.")],
    reason: Annotated[str, typer.Option(help="Why: the sender's owner reads it.")],
    by: ByOption = None,
    app_ref: AppOption = None,
) -> None:
    """Reject with a reason: the handoff is dead-lettered (and escalated if its contract says)."""
    _decide(store, gate_id, Decision.REJECT, by, reason, None, app_ref)


@app.command()
def edit(
    store: StoreOption,
    gate_id: Annotated[str, typer.Argument(help="Gate (handoff) id.")],
    payload: Annotated[str, typer.Option(help="The edited payload: a JSON file, or - for stdin.")],
    by: ByOption = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
    app_ref: AppOption = None,
) -> None:
    """Deliver an edited payload instead, validated against the contract first."""
    _decide(store, gate_id, Decision.EDIT, by, reason, read_json_object(payload), app_ref)


@app.command()
def escalate(store: StoreOption, app_ref: AppOption = None) -> None:
    """Escalate open gates past their deadline to their contracts' fallback owners."""
    ledger = Ledger(open_store(store))
    waiting = list_gates(ledger, status="open", limit=1_000_000)
    if not waiting:
        console.print("no open gates")
        return
    runtime = Runtime(
        load_registry(app_ref or ledger.workflow(waiting[0].workflow_id).app), ledger.store
    )
    escalated = runtime.escalate_gates()
    for gate_id in escalated:
        gate = runtime.gate(gate_id)
        console.print(f"{gate_id}: escalated to {gate.escalated_to} (deadline {gate.deadline})")
    if not escalated:
        console.print(f"none of {len(waiting)} open gate(s) is past its deadline")


def _decide(
    store: str,
    gate_id: str,
    decision: Decision,
    by: str | None,
    reason: str | None,
    payload: dict[str, Any] | None,
    app_ref: str | None,
) -> None:
    ledger = Ledger(open_store(store))
    view, _ = open_gate(ledger, gate_id)
    runtime = Runtime(
        load_registry(app_ref or ledger.workflow(view.correlation_id).app), ledger.store
    )
    who = by or getpass.getuser()
    result = anyio.run(
        lambda: runtime.decide(gate_id, decision, by=who, reason=reason, payload=payload)
    )
    done = {"approve": "approved", "reject": "rejected", "edit": "edited"}[decision.value]
    console.print(
        f"{gate_id}: {done} by {who}; workflow {result.workflow_id} is now "
        f"{result.status.value} after {result.handoffs} handoff(s)",
        soft_wrap=True,
    )


def _status(gate: GateView) -> Text:
    style = {"open": "bold yellow", "approved": "green", "edited": "cyan"}.get(gate.status, "red")
    text = Text(gate.status, style=style)
    if gate.escalated_to and gate.is_open:
        text.append(f" (escalated to {gate.escalated_to})", style="magenta")
    return text


def _panel(gate: GateView) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_row("route", gate.route)
    facts.add_row("contract", gate.contract)
    facts.add_row("decides", gate.owner)
    facts.add_row("status", _status(gate))
    if gate.deadline:
        facts.add_row("deadline", f"{gate.deadline:%Y-%m-%d %H:%M} UTC")
    if gate.decided_by:
        when = f" at {gate.decided_at:%Y-%m-%d %H:%M:%S}" if gate.decided_at else ""
        facts.add_row(
            "decided", f"by {gate.decided_by}{when}" + (f": {gate.reason}" if gate.reason else "")
        )
    payload = Syntax(json.dumps(gate.payload, indent=2), "json", word_wrap=True)
    body = Group(facts, Text(), Text(gate.summary), Text(), Text("payload", style="bold"), payload)
    return Panel(body, title=f"gate {gate.id}", title_align="left")
