"""``seamline worker``: claim and drive queued workflows from a shared PostgreSQL store."""

from __future__ import annotations

import signal
from typing import Annotated

import anyio
import typer
from rich.text import Text

from seamline.cli._common import (
    DEFAULT_PROJECT,
    ProjectOption,
    RegistryAppOption,
    StoreOption,
    console,
    open_project,
    open_store,
)
from seamline.runtime import Runtime, Worker, WorkerStats


def worker(
    store: StoreOption,
    project: ProjectOption = DEFAULT_PROJECT,
    app_ref: RegistryAppOption = None,
    name: Annotated[
        str | None, typer.Option(help="How leases name this worker (default host:pid).")
    ] = None,
    lease: Annotated[
        float, typer.Option(min=0.1, help="Lease seconds: how long a dead worker's work waits.")
    ] = 30.0,
    poll: Annotated[
        float, typer.Option(min=0.01, help="Longest idle sleep, in seconds, between looks.")
    ] = 1.0,
    steps_per_claim: Annotated[
        int, typer.Option(min=1, help="Steps driven under one claim before handing back.")
    ] = 100,
    idle_exit: Annotated[
        float | None, typer.Option(help="Exit after this many seconds without work.")
    ] = None,
    max_workflows: Annotated[
        int | None, typer.Option(min=1, help="Exit after this many claims.")
    ] = None,
) -> None:
    """Run queued workflows (Runtime.submit) with this project's agents, until SIGTERM.

    Start one per core on as many machines as you like, all on the same --store. SIGTERM or
    Ctrl-C finishes the step in flight, hands its workflow back to the queue and exits.
    """
    registry = open_project(project, app_ref).registry
    runtime = Runtime(registry, open_store(store), app=app_ref)
    running = runtime.worker(
        name=name, lease_seconds=lease, poll_seconds=poll, steps_per_claim=steps_per_claim
    )
    agents = ", ".join(running.agents)
    console.print(
        Text.assemble(
            ("worker ", "bold"),
            (running.name, "bold"),
            f" on {store} · agents {agents} · lease {lease:g}s",
        ),
        soft_wrap=True,
    )
    stats = anyio.run(_serve, running, idle_exit, max_workflows)
    console.print(
        f"worker {running.name} stopped: {stats.claimed} claimed, {stats.handoffs} handoffs, "
        f"{stats.finished} finished, {stats.released} handed back, {stats.lost} lost, "
        f"{stats.reaped} reaped",
        soft_wrap=True,
    )


async def _serve(
    running: Worker, idle_exit: float | None, max_workflows: int | None
) -> WorkerStats:
    signals: list[str] = []

    def on_signal(number: int, _frame: object) -> None:
        signals.append(signal.Signals(number).name)
        running.stop()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, on_signal)
    stats = await running.run(idle_exit=idle_exit, max_workflows=max_workflows)
    if signals:
        console.print(f"{signals[0]}: finished the step in flight and handed its workflow back")
    return stats
