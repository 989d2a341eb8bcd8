"""One workflow as a tree of its seams: each handoff with its timing, issues and evaluations.

A timeline is a list of ledger rows; a trace is organised by handoff, so a failure that
surfaced at step six can be walked back to the seam where it began. Each step is one
handoff: hop, route, contract, status, how long its receiver ran and what the evaluators
said, then the rows about what happened at that seam (deprecation warnings, upcasts,
retries, feedback rounds, fallbacks, dead letters, escalations, replays). A supervisor's
fan-out legs are workflows of their own; each hangs, as its own trace, under the handoff
that fanned out.

Pure: it reads the ledger. ``seamline trace`` draws it; ``--json`` and the HTTP API serve
:meth:`WorkflowTrace.as_dict`. Nothing here holds a payload: issues and evaluation
explanations are masked when they are recorded, and the rest is ids, names and timings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seamline.evals.evaluation import Evaluation, loads
from seamline.ledger import HandoffView, Ledger, fold
from seamline.stores import Entry, WorkflowRecord

__all__ = ["STATE_ROWS", "TraceStep", "WorkflowTrace"]

STATE_ROWS = frozenset({"proposed", "validated", "delivered", "completed"})
"""Rows every handoff has: its step's status and timing say them."""
_NOT_NOTES = STATE_ROWS | {"rejected", "evaluated", "fanned_out"}
"""Rows shown as issues, evaluations and legs rather than as notes."""


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One handoff, and the leg workflows it fanned out to."""

    view: HandoffView
    legs: tuple[WorkflowTrace, ...]

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
class WorkflowTrace:
    """One workflow's handoffs; ``workflow`` is None for a fan-out leg that never started."""

    id: str
    workflow: WorkflowRecord | None
    steps: tuple[TraceStep, ...]
    started: datetime | None
    ended: datetime | None

    @classmethod
    def read(cls, ledger: Ledger, workflow_id: str) -> WorkflowTrace:
        """The workflow and, recursively, the legs its handoffs fanned out to."""
        entries = ledger.store.entries(correlation_id=workflow_id)
        steps = tuple(
            TraceStep(view, tuple(cls.read(ledger, leg) for leg in _legs(view)))
            for view in fold(entries)
        )
        started, ended = (entries[0].at, entries[-1].at) if entries else (None, None)
        return cls(workflow_id, ledger.store.get_workflow(workflow_id), steps, started, ended)

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


def _timing(started: datetime | None, ended: datetime | None) -> dict[str, Any]:
    """Start, end and duration for JSON; None where the ledger has no such row."""
    took = (ended - started).total_seconds() * 1000 if started and ended else None
    return {
        "started_at": started.isoformat() if started else None,
        "ended_at": ended.isoformat() if ended else None,
        "duration_ms": None if took is None else round(took, 3),
    }
