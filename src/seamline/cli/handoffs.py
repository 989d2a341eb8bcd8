"""``seamline handoffs``: list and inspect handoffs."""

from __future__ import annotations

from typing import Annotated

import typer

from seamline.cli._common import StoreOption, console, open_store
from seamline.cli.render import handoff_panel, handoffs_table
from seamline.ledger import Ledger

app = typer.Typer(help="Handoffs: the ledger's view of each seam crossing.", no_args_is_help=True)


@app.command("list")
def list_(
    store: StoreOption,
    workflow: Annotated[
        str | None, typer.Option(help="Only this workflow, in chain order.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 50,
) -> None:
    """List handoffs, newest first (or one workflow's, in chain order)."""
    ledger = Ledger(open_store(store))
    if workflow is not None:
        ledger.workflow(workflow)
        views = ledger.handoffs(workflow)[:limit]
    else:
        views = ledger.recent_handoffs(limit=limit)
    console.print(handoffs_table(views))


@app.command()
def show(
    store: StoreOption, handoff_id: Annotated[str, typer.Argument(help="Handoff id.")]
) -> None:
    """Show one handoff: its envelope and every transition the ledger holds for it."""
    console.print(handoff_panel(Ledger(open_store(store)).handoff(handoff_id)))
