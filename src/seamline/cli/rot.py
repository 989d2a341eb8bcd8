"""``seamline rot``: the context-rot meter of one workflow, hop by hop."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from seamline.cli._common import AppOption, StoreOption, console, load_registry, open_store
from seamline.evals import Change, RotReport, context_rot
from seamline.exceptions import ConfigurationError
from seamline.ledger import Ledger
from seamline.registry import Registry

_CHANGE_STYLE = {
    Change.CHANGED: "bold red",
    Change.LOOSENED: "bold red",
    Change.DROPPED: "red",
    Change.TIGHTENED: "yellow",
    Change.ADDED: "cyan",
}
_BAR = 10


def rot(
    store: StoreOption,
    workflow_id: Annotated[str, typer.Argument(help="Workflow (correlation) id.")],
    app_ref: AppOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show what each agent was handed next to the original intent, constraints and facts.

    With the workflow's agents at hand (--app, or the app recorded with the workflow), facts
    a receiver's contract does not declare count as out of scope rather than dropped.
    """
    ledger = Ledger(open_store(store))
    workflow = ledger.workflow(workflow_id)
    registry = _registry(app_ref or workflow.app)
    report = context_rot(ledger, workflow_id, registry)
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
        return
    console.print(_render(report, scoped=registry is not None))


def _registry(reference: str | None) -> Registry | None:
    """The workflow's registry if it can be imported; the meter works without it."""
    if not reference:
        return None
    try:
        return load_registry(reference)
    except ConfigurationError:
        return None


def _render(report: RotReport, *, scoped: bool) -> Group:
    title = Text.assemble(
        ("context rot of ", "bold"),
        (report.name, "bold"),
        f"  {report.workflow_id}\nhanded intact at the last delivered hop ",
        _bar(report.fidelity),
    )
    hops = Table(box=None, pad_edge=False, header_style="bold")
    hops.add_column("hop", justify="right")
    hops.add_column("handed to")
    hops.add_column("kept", no_wrap=True)
    hops.add_column("what diverged", overflow="fold")
    for hop in report.hops:
        route = Text(hop.route)
        if not hop.delivered:
            route.append(f" ({hop.status.value.replace('_', '-')})", style="dim")
        diverged = Text()
        for divergence in hop.divergences:
            if diverged:
                diverged.append(", ")
            diverged.append(
                f"{divergence.item} {divergence.change.value}",
                style=_CHANGE_STYLE.get(divergence.change, ""),
            )
        hops.add_row(str(hop.hop), route, _bar(hop.fidelity), diverged or Text("—", style="dim"))
    parts: list[Table | Text] = [title, Text(), hops]
    if report.divergences:
        first = Table(
            title="first appearance of each divergence",
            title_justify="left",
            box=None,
            pad_edge=False,
            header_style="bold",
        )
        first.add_column("item")
        first.add_column("change")
        first.add_column("hop", justify="right")
        first.add_column("was → now", overflow="fold")
        for divergence in report.divergences:
            change = Text(divergence.change.value, style=_CHANGE_STYLE.get(divergence.change, ""))
            if divergence.caught:
                change.append(" (caught)", style="dim")
            first.add_row(
                divergence.item,
                change,
                str(divergence.hop),
                f"{divergence.was or '—'} → {divergence.now or '—'}",
            )
        parts += [Text(), first]
    else:
        parts += [Text(), Text("every receiver was handed the start intact", style="green")]
    if not scoped:
        parts.append(
            Text(
                "facts a contract does not declare count as dropped: pass --app to scope them",
                style="dim",
            )
        )
    return Group(*parts)


def _bar(fidelity: float) -> Text:
    filled = round(fidelity * _BAR)
    style = "green" if fidelity == 1 else "yellow" if fidelity >= 0.75 else "red"
    return Text.assemble(("█" * filled, style), ("░" * (_BAR - filled), "dim"), f" {fidelity:.0%}")
