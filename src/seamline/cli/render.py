"""Readable pictures of the ledger: timelines, tables and panels built with rich.

Everything here is for people, so payloads and facts are shown masked (``Envelope.masked``).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, NamedTuple

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from seamline.contracts import Envelope
from seamline.evals import Evaluation, Label, Mode
from seamline.ledger import HandoffStatus, HandoffView, Ledger
from seamline.stores import DeadLetterRecord, Entry, WorkflowRecord, WorkflowStatus

__all__ = [
    "Event",
    "dead_letter_panel",
    "dead_letters_table",
    "describe",
    "evaluation_head",
    "handoff_panel",
    "handoffs_table",
    "note_line",
    "outcome_line",
    "short_id",
    "status_text",
    "timeline",
    "workflows_table",
]

_STATUS_STYLE: dict[StrEnum, str] = {
    WorkflowStatus.RUNNING: "cyan",
    WorkflowStatus.WAITING: "bold yellow",
    WorkflowStatus.COMPLETED: "green",
    WorkflowStatus.DEAD_LETTERED: "bold red",
    WorkflowStatus.ESCALATED: "magenta",
    WorkflowStatus.DISCARDED: "dim",
    HandoffStatus.VALIDATED: "cyan",
    HandoffStatus.COMPLETED: "green",
    HandoffStatus.REJECTED: "red",
    HandoffStatus.FAILED: "red",
    HandoffStatus.DEAD_LETTERED: "bold red",
    HandoffStatus.PROPOSED: "yellow",
    HandoffStatus.GATED: "bold yellow",
    HandoffStatus.EDITED: "dim",
}


def status_text(value: WorkflowStatus | HandoffStatus) -> Text:
    """A status in its colour, the same in every view."""
    return Text(str(value), style=_STATUS_STYLE.get(value, ""))


def short_id(identifier: str) -> str:
    """Ids are UUIDv7: the tail is the random part, unique enough to read and to paste."""
    return identifier[-12:]


def _issues(data: str | None) -> list[dict[str, str]]:
    loaded: list[dict[str, str]] = json.loads(data) if data else []
    return loaded


def timeline(ledger: Ledger, workflow: WorkflowRecord, *, title: str | None = None) -> Panel:
    """Every transition of one workflow, in order, with the reasons for the unhappy ones."""
    entries = ledger.store.entries(correlation_id=workflow.id)
    views = {view.id: view for view in ledger.handoffs(workflow.id)}
    start = entries[0].at if entries else workflow.created_at
    lines: list[RenderableType] = []
    grid: Table | None = None
    for entry in entries:
        line = _timeline_line(entry, views.get(entry.handoff_id))
        if line is None:
            continue
        route, contract, event, details = line
        if grid is None:
            grid = _timeline_grid()
            lines.append(grid)
        grid.add_row(f"+{(entry.at - start).total_seconds() * 1000:.1f}ms", route, contract, event)
        if details:
            lines.extend(Padding(Text(detail, style="dim"), (0, 0, 0, 11)) for detail in details)
            grid = None
    if workflow.result:
        style = _STATUS_STYLE.get(workflow.status, "")
        lines.append(Padding(Text(outcome_line(workflow), style=style), (0, 0, 0, 11)))
    heading = Text.assemble(
        status_text(workflow.status), "  ", (title or workflow.name, "bold"), "  ",
        (short_id(workflow.id), "dim"),
    )  # fmt: skip
    return Panel(Group(*lines), title=heading, title_align="left", border_style="dim")


def _timeline_grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="dim", min_width=9)
    grid.add_column(no_wrap=True)
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


_TimelineLine = tuple[str, str, Text, list[str]]


def _timeline_line(entry: Entry, view: HandoffView | None) -> _TimelineLine | None:
    event = describe(entry, view)
    if event is None:
        return None
    if event.label:
        return event.label, "", event.text, event.details
    route, contract = (view.route_names, view.contract) if view else ("", "")
    return route, contract, event.text, event.details


class Event(NamedTuple):
    """What one ledger row says, in words for people."""

    label: str
    """A short tag for a row about the seam (``⇡ upcast``, ``↺ triage``); empty for a row
    that changes the handoff's own state, which views show beside its route."""
    text: Text
    details: list[str]
    """Sentences too long for a column: issues, error messages, leg ids."""


def describe(entry: Entry, view: HandoffView | None) -> Event | None:
    """The words for a ledger row, or None for the rows every handoff has (proposed, ...)."""
    data = json.loads(entry.data) if entry.data and entry.kind != "proposed" else {}
    match entry.kind:
        case "validated":
            return Event("", Text("✓ validated", style="green"), [])
        case "rejected":
            details = [f"{i['path']}: {i['message']} [{i['code']}]" for i in data]
            return Event("", Text(f"✗ rejected ({len(data)})", style="red"), details)
        case "retried":
            sender = view.receiver if view else "sender"
            return Event(f"↺ {sender}", Text(f"re-run with {len(data)} issue(s)", "yellow"), [])
        case "fallback":
            return Event("↪ fallback", Text(str(data.get("to", "?")), style="yellow"), [])
        case "failed":
            # Handed to a fallback, the row holds the fallback handoff, not an error message.
            message = [str(data["message"])] if "message" in data else []
            return Event("", Text("✗ failed", style="red"), message)
        case "dead_lettered":
            return Event("", Text(f"☠ dead letter: {data.get('reason')}", "bold red"), [])
        case "escalated":
            return Event("⚑ escalated", Text(str(data.get("owner")), style="magenta"), [])
        case "fanned_out":
            legs = [str(leg) for leg in data.get("legs", [])]
            return Event("⑃ fan-out", Text(f"{len(legs)} leg(s)", style="cyan"), legs)
        case "retry":
            label = (
                f"re-run {data.get('attempt')} after {data.get('code')}, "
                f"backoff {data.get('delay')} s"
            )
            receiver = view.receiver if view else "receiver"
            return Event(f"↻ {receiver}", Text(label, "yellow"), [str(data.get("message"))])
        case "upcast":
            steps = f"{data.get('from')} → {data.get('to')}"
            return Event("⇡ upcast", Text(steps, style="cyan"), [])
        case "warning":
            # The message is a sentence: it goes on its own line, the column keeps a label.
            label = str(data.get("code", "warning")).replace("version_", "").replace("_", " ")
            return Event("! warning", Text(label, style="yellow"), [str(data.get("message"))])
        case "replayed":
            return Event("", Text(f"replayed as {short_id(str(data.get('as')))}", "cyan"), [])
        case "discarded":
            return Event("", Text(f"discarded: {data.get('reason')}", style="cyan"), [])
        case "gated":
            text = Text(f"⏸ waiting for {data.get('owner')}", style="bold yellow")
            return Event("", text, [str(data.get("headline"))])
        case "approved":
            text = Text(f"✓ approved by {data.get('by')}", style="green")
            return Event("", text, [str(data["reason"])] if "reason" in data else [])
        case "declined":
            text = Text(f"✗ rejected at its gate by {data.get('by')}", style="red")
            return Event("", text, [str(data.get("reason"))])
        case "edited":
            changed = [f"{d['path']}: {d['was']} → {d['now']}" for d in data.get("diff", [])]
            return Event("", Text(f"✎ edited by {data.get('by')}", style="cyan"), changed)
        case "gate_escalated":
            return Event("⚑ gate escalated", Text(str(data.get("to")), style="magenta"), [])
        case "completed" if data.get("kind") == "finish":
            return Event("", Text("■ finished", style="green"), [])
        case _:
            return None


def note_line(label: str, text: Text, details: list[str]) -> Text:
    """One line about a seam: its tag, what happened and, dimmed, the particulars."""
    line = Text.assemble(f"{label} " if label else "", text)
    if details:
        line.append(": " + "; ".join(details), "dim")
    return line


def evaluation_head(found: Evaluation) -> Text:
    """``✗ name (mode label, score 0.2)``: the title of an evaluation that did not pass.

    ``✗`` failed and blocked, ``⚑`` flagged (failed beside the receiver), ``!`` erred.
    """
    facts = [f"{found.mode.value} {found.label.value}"]
    if found.score is not None:
        facts.append(f"score {found.score:g}")
    if found.error_type:
        facts.append(found.error_type)
    if found.label is Label.ERROR:
        mark, style = "!", "magenta"
    elif found.mode is Mode.FLAGGING:
        mark, style = "⚑", "yellow"
    else:
        mark, style = "✗", "red"
    return Text.assemble((f"{mark} {found.name}", style), f" ({', '.join(facts)})")


def outcome_line(workflow: WorkflowRecord) -> str:
    """How a workflow ended, in one line: its result, dead letter or who must decide."""
    outcome: dict[str, Any] = json.loads(workflow.result or "{}")
    match outcome.get("kind"):
        case "finish":
            return f"result: {json.dumps(outcome.get('result'))}"
        case "dead_letter":
            return (
                f"{outcome['message']}; inspect with: seamline dlq show {outcome['dead_letter_id']}"
            )
        case "escalate":
            return f"waiting on {outcome['owner']}: {outcome['reason']}"
        case _:
            return ""


def workflows_table(ledger: Ledger, workflows: list[WorkflowRecord]) -> Table:
    """One row per workflow."""
    table = Table(title="workflows", title_justify="left")
    for column in ("id", "name", "status", "handoffs", "at agent", "updated"):
        table.add_column(column)
    for workflow in workflows:
        views = ledger.handoffs(workflow.id)
        current = views[-1].route.split(" -> ")[-1] if views else ""
        table.add_row(
            workflow.id, workflow.name, status_text(workflow.status), str(len(views)), current,
            workflow.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
    return table


def handoffs_table(views: list[HandoffView]) -> Table:
    """One row per handoff."""
    table = Table(title="handoffs", title_justify="left")
    for column in ("id", "workflow", "hop", "route", "contract", "status"):
        table.add_column(column)
    for view in views:
        table.add_row(
            view.id, short_id(view.correlation_id), str(view.hop), view.route, view.contract,
            status_text(view.status),
        )  # fmt: skip
    return table


def handoff_panel(view: HandoffView) -> Panel:
    """A handoff's envelope and its ledger history."""
    history = Table(box=None, padding=(0, 2))
    for column in ("seq", "at", "transition", "data"):
        history.add_column(column, style="dim" if column != "transition" else "")
    for entry in view.entries:
        data = entry.data if entry.kind != "proposed" else "(envelope below)"
        history.add_row(str(entry.seq), entry.at.isoformat(), entry.kind, (data or "")[:120])
    envelope = Syntax(
        json.dumps(json.loads(view.masked_envelope_json), indent=2, ensure_ascii=False),
        "json",
        word_wrap=True,
    )
    title = Text.assemble(("handoff ", "bold"), view.id, "  ", status_text(view.status))
    return Panel(Group(Text(view.route), history, envelope), title=title, title_align="left")


def dead_letters_table(letters: list[DeadLetterRecord]) -> Table:
    """One row per dead letter."""
    table = Table(title="dead letters", title_justify="left")
    for column in ("id", "workflow", "reason", "message", "status", "since"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(
            letter.id, short_id(letter.correlation_id), letter.reason, letter.message,
            letter.status.value, letter.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
    return table


def dead_letter_panel(letter: DeadLetterRecord) -> Panel:
    """Why a handoff died, how it got there, and what it carried."""
    issues = Table(box=None, padding=(0, 2))
    for column in ("path", "problem", "rule"):
        issues.add_column(column)
    for issue in _issues(letter.issues):
        issues.add_row(issue["path"], issue["message"], Text(issue["code"], style="dim"))
    path = Text(" ⇒ ".join(json.loads(letter.path)))
    payload = Envelope.model_validate_json(letter.envelope).masked().payload
    parts: list[RenderableType] = [
        Text.assemble(("reason  ", "bold"), letter.reason, ": ", letter.message),
        Text.assemble(("path    ", "bold"), path),
        issues,
        Text("payload", style="bold"),
        Syntax(json.dumps(payload, indent=2, ensure_ascii=False), "json", word_wrap=True),
    ]
    if letter.resolution:
        parts.append(Text.assemble(("resolved  ", "bold"), letter.resolution))
    title = Text.assemble(("dead letter ", "bold red"), letter.id, "  ", letter.status.value)
    return Panel(Group(*parts), title=title, title_align="left")
