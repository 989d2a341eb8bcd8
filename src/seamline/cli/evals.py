"""``seamline evals``: what the step-level evaluators found across a store.

``report`` draws :class:`~seamline.evals.EvaluationReport`: failures and errors by
evaluator, by contract and by producing agent, then the newest ones in full. The contract
and agent tables list only rows with something wrong (a store of a thousand clean
workflows would otherwise bury them); ``--json`` prints every row.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from seamline.cli._common import StoreOption, console, open_store
from seamline.cli.render import evaluation_head
from seamline.evals import EvaluationReport, Tally
from seamline.evals.report import Ranked
from seamline.ledger import Ledger

__all__ = ["app"]

app = typer.Typer(
    help="Evaluations: what the step-level evaluators found across workflows.",
    no_args_is_help=True,
)

_TIME = "%Y-%m-%d %H:%M:%S"


@app.command()
def report(
    store: StoreOption,
    workflows: Annotated[
        int, typer.Option(min=1, help="Read the newest N workflows (legs count as workflows).")
    ] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Summarise evaluation failures and errors by evaluator, contract and agent."""
    found = EvaluationReport.collect(Ledger(open_store(store)), workflows=workflows)
    if as_json:
        typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
        return
    if not found.evaluations:
        console.print(
            f"no evaluations in {store} yet ({found.workflows} workflow(s) read); "
            "they are recorded for every handoff a runtime proposes"
        )
        return
    parts: list[RenderableType] = [
        Text(
            f"{found.evaluations} evaluations of {found.handoffs} handoffs in "
            f"{found.workflows} workflow(s): {found.failures} failed, {found.errors} erred"
        ),
        _evaluators(found),
    ]
    if found.failures or found.errors:
        parts += [
            _tallies("by contract (as emitted)", "contract", found.by_contract),
            _tallies("by producing agent", "agent", found.by_agent, receivers=True),
            _recent(found),
        ]
    console.print(Group(*parts))


def _evaluators(found: EvaluationReport) -> Table:
    table = Table(title="by evaluator", title_justify="left")
    table.add_column("evaluator", overflow="fold")
    table.add_column("mode")
    for column in ("runs", "pass", "fail", "error", "fail %"):
        table.add_column(column, justify="right")
    for row in found.by_evaluator:
        table.add_row(
            row.name, row.mode.value, str(row.runs), str(row.passes),
            _count(row.failures, "red"), _count(row.errors, "magenta"), f"{row.fail_rate:.1%}",
        )  # fmt: skip
    return table


def _tallies(title: str, key: str, rows: tuple[Tally, ...], *, receivers: bool = False) -> Table:
    """Rows with failures or errors; ``receivers`` adds whom the failed handoffs were for."""
    table = Table(title=title, title_justify="left")
    table.add_column(key, overflow="fold")
    for column in ("runs", "fail", "error"):
        table.add_column(column, justify="right")
    if receivers:
        table.add_column("to", overflow="fold")
    table.add_column("evaluators", overflow="fold")
    for row in rows:
        if not row.failures + row.errors:
            continue
        cells: list[str | Text] = [
            row.key,
            str(row.runs),
            _count(row.failures, "red"),
            _count(row.errors, "magenta"),
        ]
        if receivers:
            cells.append(_ranked(row.receivers))
        table.add_row(*cells, _ranked(row.evaluators))
    return table


def _recent(found: EvaluationReport) -> Group:
    """Each failure: when and what, then where (indented, so wrapped lines stay in place)."""
    lines: list[RenderableType] = [Text("latest failures and errors", style="italic")]
    for failure in found.recent:
        head = evaluation_head(failure.evaluation)
        lines.append(Text.assemble((failure.at.strftime(_TIME), "dim"), "  ", head))
        where = [
            Text(f"{failure.route}  {failure.contract}"),
            Text(f"workflow {failure.workflow_id}", style="dim"),
        ]
        if failure.evaluation.explanation:
            where.append(Text(failure.evaluation.explanation, style="dim"))
        lines.extend(Padding(line, (0, 0, 0, 4), expand=False) for line in where)
    return Group(*lines)


def _count(value: int, style: str) -> Text:
    return Text(str(value), style=style if value else "dim")


def _ranked(counts: Ranked) -> str:
    """``facts_unchanged ×3, schema_valid``."""
    return ", ".join(name if count == 1 else f"{name} ×{count}" for name, count in counts)
