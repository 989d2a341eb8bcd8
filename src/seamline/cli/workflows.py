"""``seamline workflows``: list, show and resume workflows."""

from __future__ import annotations

from typing import Annotated

import anyio
import typer

from seamline.cli._common import AppOption, StoreOption, console, load_registry, open_store
from seamline.cli.render import timeline, workflows_table
from seamline.exceptions import ConfigurationError
from seamline.ledger import Ledger
from seamline.runtime import Runtime
from seamline.stores import WorkflowStatus

app = typer.Typer(
    help="Workflows: list, show a timeline, resume after a crash.", no_args_is_help=True
)


@app.command("list")
def list_(
    store: StoreOption,
    status: Annotated[WorkflowStatus | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 20,
) -> None:
    """List workflows, newest first."""
    ledger = Ledger(open_store(store))
    console.print(workflows_table(ledger, ledger.workflows(status=status, limit=limit)))


@app.command()
def show(
    store: StoreOption, workflow_id: Annotated[str, typer.Argument(help="Workflow id.")]
) -> None:
    """Show a workflow's timeline: every handoff, rejection, retry and dead letter."""
    ledger = Ledger(open_store(store))
    console.print(timeline(ledger, ledger.workflow(workflow_id)))


@app.command()
def resume(
    store: StoreOption,
    app_ref: AppOption = None,
    workflow_id: Annotated[str | None, typer.Argument(help="Workflow id; omit with --all.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Resume every running workflow.")] = False,
) -> None:
    """Continue workflows from their last committed step (after a crash or restart)."""
    if (workflow_id is None) == (not all_):
        raise ConfigurationError("name one workflow id, or pass --all (not both)")
    ledger = Ledger(open_store(store))
    if workflow_id is not None:
        targets = [ledger.workflow(workflow_id)]
    else:
        targets = ledger.workflows(status=WorkflowStatus.RUNNING, limit=1_000_000)
    if not targets:
        console.print("nothing to resume: no running workflows")
        return
    for workflow in reversed(targets):
        runtime = Runtime(load_registry(app_ref or workflow.app), ledger.store)
        result = anyio.run(runtime.resume, workflow.id)
        console.print(f"{workflow.id}: {result.status.value} after {result.handoffs} handoff(s)")


@app.command()
def reap(store: StoreOption, app_ref: AppOption = None) -> None:
    """Dead-letter running workflows whose open handoff is past its deadline (stuck work)."""
    ledger = Ledger(open_store(store))
    running = ledger.workflows(status=WorkflowStatus.RUNNING, limit=1_000_000)
    reaped = []
    for workflow in reversed(running):
        runtime = Runtime(load_registry(app_ref or workflow.app), ledger.store)
        for result in runtime.reap(workflow.id):
            reaped.append(result)
            console.print(f"{workflow.id}: dead-lettered as stuck ({result.dead_letter_id})")
    if not reaped:
        console.print(f"nothing stuck among {len(running)} running workflow(s)")
