"""``seamline dlq``: inspect, replay and discard dead letters."""

from __future__ import annotations

import functools
from typing import Annotated

import anyio
import typer

from seamline.cli._common import (
    AppOption,
    StoreOption,
    console,
    load_registry,
    open_store,
    read_json_object,
)
from seamline.cli.render import dead_letter_panel, dead_letters_table, timeline
from seamline.ledger import Ledger
from seamline.registry import Registry
from seamline.runtime import Runtime
from seamline.stores import DeadLetterStatus

app = typer.Typer(
    help="The dead-letter queue: handoffs that could not proceed.", no_args_is_help=True
)


@app.command("list")
def list_(
    store: StoreOption,
    status: Annotated[
        DeadLetterStatus | None, typer.Option(help="Only this status (default: all).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """List dead letters, newest first."""
    console.print(
        dead_letters_table(Ledger(open_store(store)).dead_letters(status=status, limit=limit))
    )


@app.command()
def show(
    store: StoreOption, dead_letter_id: Annotated[str, typer.Argument(help="Dead letter id.")]
) -> None:
    """Show why a handoff died, the path that led there and its payload."""
    console.print(dead_letter_panel(Ledger(open_store(store)).dead_letter(dead_letter_id)))


@app.command()
def replay(
    store: StoreOption,
    dead_letter_id: Annotated[str, typer.Argument(help="Dead letter id.")],
    app_ref: AppOption = None,
    payload: Annotated[
        str | None, typer.Option(help="JSON file with a fixed payload ('-' reads stdin).")
    ] = None,
    extra_hops: Annotated[int, typer.Option(min=0, help="Grant more hops to the workflow.")] = 0,
) -> None:
    """Validate a dead letter again (optionally with a fixed payload) and continue its workflow."""
    fixed = read_json_object(payload) if payload is not None else None
    ledger = Ledger(open_store(store))
    letter = ledger.dead_letter(dead_letter_id)
    workflow = ledger.workflow(letter.correlation_id)
    runtime = Runtime(load_registry(app_ref or workflow.app), ledger.store)
    result = anyio.run(
        functools.partial(runtime.replay, dead_letter_id, payload=fixed, extra_hops=extra_hops)
    )
    console.print(timeline(ledger, ledger.workflow(result.workflow_id)))


@app.command()
def discard(
    store: StoreOption,
    dead_letter_id: Annotated[str, typer.Argument(help="Dead letter id.")],
    reason: Annotated[str, typer.Option(help="Why it is dropped (kept in the ledger).")],
) -> None:
    """Close a dead letter without replaying it."""
    # Discarding touches only the ledger, so no agents need to be loaded.
    Runtime(Registry(), open_store(store)).discard(dead_letter_id, reason=reason)
    console.print(f"discarded {dead_letter_id}: {reason}")
