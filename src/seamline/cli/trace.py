"""``seamline trace``: one workflow as a tree of its seams, with timings and every check.

``workflows show`` is a timeline of ledger rows; a trace is organised by handoff, so a
failure that surfaced at step six can be walked back to the seam where it began. Each node
is one handoff: hop, route, contract, status, how long its receiver ran, and a mark for what
the evaluators said. Under it, in ledger order, what happened at that seam: deprecation
warnings, upcasts, validation issues, failed or erred evaluations, retries, feedback rounds,
fallbacks, dead letters, escalations, replays. A supervisor's fan-out legs are workflows of
their own; each hangs, as its own tree, under the handoff that fanned out.

Nothing here shows a payload: issues and evaluation explanations are masked when recorded,
and the rest is ids, names and timings. ``--json`` prints the same tree as one JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.text import Text
from rich.tree import Tree

from seamline.cli._common import StoreOption, console, open_store
from seamline.cli.render import describe, evaluation_head, note_line, outcome_line, status_text
from seamline.evals import Evaluation, Label, Mode, loads
from seamline.ledger import HandoffView, Ledger, fold
from seamline.stores import Entry, WorkflowRecord, WorkflowStatus

__all__ = ["trace"]

_STATES = frozenset({"proposed", "validated", "delivered", "completed"})
"""Rows every handoff has: its node's status and timing say them."""
_NOT_NOTES = _STATES | {"rejected", "evaluated", "fanned_out"}
"""Rows shown as issues, evaluations and legs rather than as notes."""


def trace(
    store: StoreOption,
    workflow_id: Annotated[str, typer.Argument(help="Workflow (correlation) id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show a workflow as a tree: each handoff with its timing, validation and evaluations."""
    ledger = Ledger(open_store(store))
    found = _Trace.read(ledger, ledger.workflow(workflow_id).id)
    if as_json:
        typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
    else:
        console.print(found.tree())


@dataclass(frozen=True, slots=True)
class _Step:
    """One handoff, and the leg workflows it fanned out to."""

    view: HandoffView
    legs: tuple[_Trace, ...]

    @property
    def started(self) -> datetime | None:
        """When its receiver started, if it was delivered."""
        return next((e.at for e in self.view.entries if e.kind == "delivered"), None)

    @property
    def ended(self) -> datetime | None:
        """When its receiver finished or failed."""
        ends = [e.at for e in self.view.entries if e.kind in ("completed", "failed")]
        return ends[-1] if ends else None

    @property
    def issues(self) -> list[dict[str, str]]:
        """Why the boundary rejected it (already masked)."""
        return [i for e in self._rows("rejected") for i in json.loads(e.data or "[]")]

    @property
    def evaluations(self) -> list[Evaluation]:
        """Every evaluator's result: before delivery, then those run beside the receiver."""
        return [found for entry in self._rows("evaluated") for found in loads(entry.data)]

    @property
    def notes(self) -> list[Entry]:
        """The rows about what happened at the seam, beyond its status."""
        return [entry for entry in self.view.entries if entry.kind not in _NOT_NOTES]

    def _rows(self, kind: str) -> Iterable[Entry]:
        return (entry for entry in self.view.entries if entry.kind == kind)

    def label(self) -> Text:
        """``#hop source → destination  contract  status  duration  mark``."""
        view = self.view
        parts: list[str | tuple[str, str] | Text] = [
            (f"#{view.hop} ", "dim"), (view.route_names, "bold"), "  ",
            (view.contract, "dim"), "  ", status_text(view.status),
        ]  # fmt: skip
        if self.started is not None and self.ended is not None:
            parts.append(f"  {_duration(self.started, self.ended)}")
        mark = _mark(self.evaluations)
        if mark:
            parts.extend(["  ", mark])
        return Text.assemble(*parts)

    def grow(self, node: Tree) -> None:
        """Add what happened at this seam under ``node``, in ledger order."""
        # A failed blocking evaluation is also one of the rejection's issues: say it once.
        repeated = {(Label.FAIL, Mode.BLOCKING)} if self.issues else set()
        for entry in self.view.entries:
            if entry.kind == "evaluated":
                for found in loads(entry.data):
                    if not found.passed and (found.label, found.mode) not in repeated:
                        node.add(_evaluation(found))
            elif entry.kind == "rejected":
                for issue in json.loads(entry.data or "[]"):
                    node.add(_issue(issue))
            elif entry.kind == "fanned_out":
                fan = node.add(Text(f"⑃ fan-out to {len(self.legs)} leg(s)", "cyan"))
                for leg in self.legs:
                    leg.grow(fan.add(leg.label()))
            elif entry.kind not in _STATES:
                event = describe(entry, self.view)
                if event is not None:
                    node.add(note_line(event.label, event.text, event.details))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        view = self.view
        return {
            "id": view.id,
            "hop": view.hop,
            "source": view.sender,
            "destination": view.receiver,
            "route": view.route,
            "contract": view.contract,
            "status": view.status.value,
            **_timing(self.started, self.ended),
            "issues": self.issues,
            "evaluations": [found.as_dict() for found in self.evaluations],
            "notes": [
                {
                    "kind": entry.kind,
                    "at": entry.at.isoformat(),
                    "data": json.loads(entry.data) if entry.data else None,
                }
                for entry in self.notes
            ],
            "legs": [leg.as_dict() for leg in self.legs],
        }


@dataclass(frozen=True, slots=True)
class _Trace:
    """One workflow's handoffs; ``workflow`` is None for a fan-out leg that never started."""

    id: str
    workflow: WorkflowRecord | None
    steps: tuple[_Step, ...]
    started: datetime | None
    ended: datetime | None

    @classmethod
    def read(cls, ledger: Ledger, workflow_id: str) -> _Trace:
        """The workflow and, recursively, the legs its handoffs fanned out to."""
        entries = ledger.store.entries(correlation_id=workflow_id)
        steps = tuple(
            _Step(view, tuple(cls.read(ledger, leg) for leg in _legs(view)))
            for view in fold(entries)
        )
        started, ended = (entries[0].at, entries[-1].at) if entries else (None, None)
        return cls(workflow_id, ledger.store.get_workflow(workflow_id), steps, started, ended)

    def label(self) -> Text:
        """Name, status and duration, then the id on its own line (it is long)."""
        if self.workflow is None:
            return Text.assemble(("not started", "yellow"), "\n", (self.id, "dim"))
        parts: list[str | tuple[str, str] | Text] = [
            (self.workflow.name, "bold"), "  ", status_text(self.workflow.status),
        ]  # fmt: skip
        if self.started is not None and self.ended is not None:
            parts.append(f"  {_duration(self.started, self.ended)}")
        return Text.assemble(*parts, "\n", (self.id, "dim"))

    def tree(self) -> Tree:
        """The whole trace as a rich tree."""
        root = Tree(self.label(), guide_style="dim")
        self.grow(root)
        return root

    def grow(self, node: Tree) -> None:
        """Add one node per handoff under ``node``, then how the workflow ended unless it
        finished (a result is the agents' business, not the seams')."""
        for step in self.steps:
            step.grow(node.add(step.label()))
        workflow = self.workflow
        if workflow is not None and workflow.status is not WorkflowStatus.COMPLETED:
            ended = outcome_line(workflow)
            if ended:
                node.add(Text(ended, status_text(workflow.status).style))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        workflow = self.workflow
        return {
            "id": self.id,
            "name": workflow.name if workflow else None,
            "status": workflow.status.value if workflow else None,
            **_timing(self.started, self.ended),
            "handoffs": [step.as_dict() for step in self.steps],
        }


def _legs(view: HandoffView) -> list[str]:
    """The workflow ids a handoff's receiver fanned out to."""
    return [
        str(leg)
        for entry in view.entries
        if entry.kind == "fanned_out"
        for leg in json.loads(entry.data or "{}").get("legs", [])
    ]


def _mark(evaluations: list[Evaluation]) -> Text:
    """``✓ 6/6`` when all passed, else what failed, flagged or erred, by name."""
    if all(found.passed for found in evaluations):
        return Text(f"✓ {len(evaluations)}/{len(evaluations)}", "green") if evaluations else Text()

    def names(label: Label, mode: Mode | None = None) -> str:
        picked = (e.name for e in evaluations if e.label is label and mode in (None, e.mode))
        return ", ".join(dict.fromkeys(picked))

    kinds = [
        ("✗ ", names(Label.FAIL, Mode.BLOCKING), "red"),
        ("⚑ flagged: ", names(Label.FAIL, Mode.FLAGGING), "yellow"),
        ("! error: ", names(Label.ERROR), "magenta"),
    ]
    return Text("  ").join(Text(tag + which, style) for tag, which, style in kinds if which)


def _evaluation(found: Evaluation) -> Text:
    """``✗ name (mode label, score 0.2): explanation``."""
    return note_line("", evaluation_head(found), [found.explanation] if found.explanation else [])


def _issue(issue: dict[str, str]) -> Text:
    """``✗ path: message [code]``."""
    return Text.assemble(
        ("✗ ", "red"), f"{issue['path']}: {issue['message']} ", (f"[{issue['code']}]", "dim")
    )


def _timing(started: datetime | None, ended: datetime | None) -> dict[str, Any]:
    """Start, end and duration for JSON; None where the ledger has no such row."""
    took = (ended - started).total_seconds() * 1000 if started and ended else None
    return {
        "started_at": started.isoformat() if started else None,
        "ended_at": ended.isoformat() if ended else None,
        "duration_ms": None if took is None else round(took, 3),
    }


def _duration(started: datetime, ended: datetime) -> str:
    """A span for people: ``0.4 ms``, ``12.3 ms``, ``1.52 s``, ``4 min 05 s``, ``2 h 03 min``."""
    seconds = (ended - started).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
