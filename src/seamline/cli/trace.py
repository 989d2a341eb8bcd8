"""``seamline trace``: one workflow as a tree of its seams, with timings and every check.

``workflows show`` is a timeline of ledger rows; a trace is organised by handoff (see
:mod:`seamline.evals.trace`, which reads it). Each node is one handoff: hop, route,
contract, status, how long its receiver ran, and a mark for what the evaluators said. Under
it, in ledger order, what happened at that seam: deprecation warnings, upcasts, validation
issues, failed or erred evaluations, retries, feedback rounds, fallbacks, dead letters,
escalations, replays. A supervisor's fan-out legs hang, each as its own tree, under the
handoff that fanned out. ``--json`` prints the same tree as one JSON object.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from seamline.cli._common import StoreOption, console, open_store
from seamline.cli.render import describe, evaluation_head, note_line, outcome_line, status_text
from seamline.evals import Evaluation, Label, Mode, loads
from seamline.evals.trace import STATE_ROWS, TraceStep, WorkflowTrace
from seamline.ledger import Ledger
from seamline.stores import WorkflowStatus

__all__ = ["trace"]


def trace(
    store: StoreOption,
    workflow_id: Annotated[str, typer.Argument(help="Workflow (correlation) id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show a workflow as a tree: each handoff with its timing, validation and evaluations."""
    ledger = Ledger(open_store(store))
    found = WorkflowTrace.read(ledger, ledger.workflow(workflow_id).id)
    if as_json:
        typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
    else:
        root = Tree(_workflow_label(found), guide_style="dim")
        _grow_workflow(found, root)
        console.print(root)


def _step_label(step: TraceStep) -> Text:
    """``#hop source → destination  contract  status  duration  mark``."""
    view = step.view
    parts: list[str | tuple[str, str] | Text] = [
        (f"#{view.hop} ", "dim"), (view.route_names, "bold"), "  ",
        (view.contract, "dim"), "  ", status_text(view.status),
    ]  # fmt: skip
    if step.started is not None and step.ended is not None:
        parts.append(f"  {_duration(step.started, step.ended)}")
    mark = _mark(step.evaluations)
    if mark:
        parts.extend(["  ", mark])
    return Text.assemble(*parts)


def _grow_step(step: TraceStep, node: Tree) -> None:
    """Add what happened at this seam under ``node``, in ledger order."""
    # A failed blocking evaluation is also one of the rejection's issues: say it once.
    repeated = {(Label.FAIL, Mode.BLOCKING)} if step.issues else set()
    for entry in step.view.entries:
        if entry.kind == "evaluated":
            for found in loads(entry.data):
                if not found.passed and (found.label, found.mode) not in repeated:
                    node.add(_evaluation(found))
        elif entry.kind == "rejected":
            for issue in json.loads(entry.data or "[]"):
                node.add(_issue(issue))
        elif entry.kind == "fanned_out":
            fan = node.add(Text(f"⑃ fan-out to {len(step.legs)} leg(s)", "cyan"))
            for leg in step.legs:
                _grow_workflow(leg, fan.add(_workflow_label(leg)))
        elif entry.kind not in STATE_ROWS:
            event = describe(entry, step.view)
            if event is not None:
                node.add(note_line(event.label, event.text, event.details))


def _workflow_label(found: WorkflowTrace) -> Text:
    """Name, status and duration, then the id on its own line (it is long)."""
    if found.workflow is None:
        return Text.assemble(("not started", "yellow"), "\n", (found.id, "dim"))
    parts: list[str | tuple[str, str] | Text] = [
        (found.workflow.name, "bold"), "  ", status_text(found.workflow.status),
    ]  # fmt: skip
    if found.started is not None and found.ended is not None:
        parts.append(f"  {_duration(found.started, found.ended)}")
    return Text.assemble(*parts, "\n", (found.id, "dim"))


def _grow_workflow(found: WorkflowTrace, node: Tree) -> None:
    """Add one node per handoff under ``node``, then how the workflow ended unless it
    finished (a result is the agents' business, not the seams')."""
    for step in found.steps:
        _grow_step(step, node.add(_step_label(step)))
    workflow = found.workflow
    if workflow is not None and workflow.status is not WorkflowStatus.COMPLETED:
        ended = outcome_line(workflow)
        if ended:
            node.add(Text(ended, status_text(workflow.status).style))


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
