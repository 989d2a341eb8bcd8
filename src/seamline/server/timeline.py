"""A workflow's timeline as the console draws it: a waterfall of its handoffs.

Each handoff is a row on one time axis, the workflow's, with two bars: how long it waited
at the seam (from when it was proposed to when its receiver started: validation, feedback
rounds, retries, a human gate) and how long its receiver ran. An open gate's wait runs on
to now, so a workflow held up by a person shows it. Fan-out legs hang under the handoff
that started them, on the same axis.

Built from :class:`seamline.server.workflows.TraceWorkflow`, the trace the API serves
(:class:`seamline.evals.WorkflowTrace`), so the console draws nothing the API would not
show: issues and explanations were masked when recorded, and no payload is here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seamline.evals import Label
from seamline.server.workflows import TraceEvaluation, TraceHandoff, TraceNote, TraceWorkflow

__all__ = ["SCALE", "Bar", "Row", "Waterfall", "duration"]

SCALE = 1000
"""Bars are placed in thousandths of the axis (the SVG's viewBox width)."""
_THINNEST = 4
"""Even an instant gets a visible sliver."""


@dataclass(frozen=True, slots=True)
class Bar:
    """A stretch of the axis: where it starts and how wide it is, in :data:`SCALE` units."""

    x: float
    width: float


@dataclass(frozen=True, slots=True)
class Row:
    """One handoff on the waterfall."""

    step: TraceHandoff
    depth: int
    """0 for the workflow's own handoffs, 1 for its legs' and so on."""
    wait: Bar | None
    """Proposed until delivered (or until now, at an open gate); None if unknown."""
    run: Bar | None
    """The receiver's run; None if it never started."""
    waited_ms: float | None
    passed: int
    """Evaluations that passed."""
    flagged: list[TraceEvaluation]
    """Evaluations that failed or erred."""
    notes: list[tuple[str, str]]
    """``(kind, what)`` for each row beyond the status: warnings, upcasts, gates, retries."""


@dataclass(frozen=True, slots=True)
class Waterfall:
    """A workflow's rows on its axis, with labelled ticks."""

    rows: list[Row]
    duration_ms: float
    ticks: list[tuple[float, str]]
    """``(x, label)`` at the quarters of the axis."""

    @classmethod
    def of(cls, trace: TraceWorkflow, proposed: Mapping[str, datetime], now: datetime) -> Waterfall:
        """The waterfall of ``trace``; ``proposed`` maps handoff ids to when they were
        proposed (a workflow's chain has them)."""
        steps = list(_walk(trace, 0))
        origin = trace.started_at or now
        ends = [_end(step, now) for step, _ in steps]
        last = max([trace.ended_at or origin, *(end for end in ends if end)])
        span = max(_ms(origin, last), 0.001)

        def bar(start: datetime | None, end: datetime | None) -> Bar | None:
            if start is None or end is None:
                return None
            x = min(max(_ms(origin, start) / span * SCALE, 0), SCALE - _THINNEST)
            width = max(_ms(start, end) / span * SCALE, _THINNEST)
            return Bar(x, min(width, SCALE - x))

        rows = []
        for (step, depth), end in zip(steps, ends, strict=True):
            came = proposed.get(step.id)
            waited = step.started_at or end or came
            rows.append(
                Row(
                    step=step,
                    depth=depth,
                    wait=bar(came, waited),
                    run=bar(step.started_at, step.ended_at),
                    waited_ms=_ms(came, waited) if came and waited else None,
                    passed=sum(1 for e in step.evaluations if e.label is Label.PASS),
                    flagged=[e for e in step.evaluations if e.label is not Label.PASS],
                    notes=[(note.kind, _describe(note)) for note in step.notes],
                )
            )
        ticks = [(0.0, "0"), *((SCALE * q / 4, duration(span * q / 4)) for q in range(1, 5))]
        return cls(rows=rows, duration_ms=span, ticks=ticks)


def _walk(trace: TraceWorkflow, depth: int) -> Iterator[tuple[TraceHandoff, int]]:
    for step in trace.handoffs:
        yield step, depth
        for leg in step.legs:
            yield from _walk(leg, depth + 1)


def _end(step: TraceHandoff, now: datetime) -> datetime | None:
    """When the step stopped: its receiver's end, now at an open gate, else its last row."""
    if step.ended_at is not None:
        return step.ended_at
    if step.status == "gated":
        return now
    return max((note.at for note in step.notes), default=step.started_at)


def _ms(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() * 1000


def duration(ms: float) -> str:
    """A duration the way people read one: 850 µs, 12.5 ms, 3.2 s, 4 min, 2 h 5 min."""
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.1f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _describe(note: TraceNote) -> str:
    """What a ledger row adds, in a few words (its data is masked or holds no values)."""
    data: Any = note.data
    if isinstance(data, list):
        return f"{len(data)} issue{'' if len(data) == 1 else 's'} sent back to the sender"
    if not isinstance(data, dict):
        return ""
    if "from" in data and "to" in data:
        return f"{data['from']} → {data['to']}"
    who = next(
        (f"{word} {data[key]}" for key, word in _PARTIES if data.get(key)),
        "",
    )
    why = str(data.get("message") or data.get("reason") or "")
    return f"{who}: {why}" if who and why else who or why


_PARTIES = (("by", "by"), ("owner", "for"), ("to", "to"), ("as", "as"))
"""Who a row names, in the words its note reads: decided by, gated for, escalated to..."""
