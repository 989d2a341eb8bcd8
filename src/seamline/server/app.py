"""The application: the API's routers and the console over one runtime and its store.

The runtime is the one that replays dead letters and runs decided gates on, in this
process; the store also keeps the tokens and the audit log (:mod:`seamline.access`). While
the server runs (under uvicorn, or any ASGI server that sends lifespan events), it sweeps
for open gates past their deadline and escalates them to their fallback owners.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import uvicorn
from fastapi import FastAPI

from seamline import __version__
from seamline.access import Access
from seamline.exceptions import SeamlineError
from seamline.governance import Snapshot
from seamline.project import Project
from seamline.registry import Registry
from seamline.runtime import Runtime
from seamline.server import (
    console,
    dead_letters,
    errors,
    evaluations,
    gates,
    registry,
    tokens,
    workflows,
)
from seamline.server.services import Services
from seamline.stores import Store

__all__ = ["create_app", "run"]

_log = logging.getLogger("seamline.server")

_DESCRIPTION = """\
Workflows, handoffs, human gates, dead letters, the registry and its governance, for the
teams that own them. Send a team's token as `Authorization: Bearer <token>` (an admin
prints one with `seamline tokens create --team TEAM`). Any team may read, and sees
sensitive values masked; a team decides only the gates and dead letters whose contract it
owns; an admin may do anything. Every decision and change is in `/api/audit-log`.
"""


def create_app(
    source: Runtime | Store,
    *,
    project: Project | None = None,
    escalate_every: float | None = 30.0,
) -> FastAPI:
    """The HTTP API over ``source``.

    Args:
        source: the runtime that replays and runs decided gates on; or just a store, run
            with the project's registry (or none: then reads and discards work, and replays
            and decisions say which agent is missing).
        project: what the governance routes read: the contracts check compares with its
            committed export, and the audit looks at its files for exporters and contract
            tests. Without one, the runtime's registry is governed as it is.
        escalate_every: seconds between sweeps escalating open gates past their deadline;
            None turns the sweep off.
    """
    if isinstance(source, Runtime):
        runtime = source
    else:
        runtime = Runtime(project.registry if project else Registry(), source)
    services = Services(
        runtime=runtime,
        access=Access(runtime.store),
        snapshot=Snapshot.of(project.registry if project else runtime.registry),
        project=project,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            if escalate_every is not None:
                tasks.start_soon(_escalate_overdue_gates, runtime, escalate_every)
            yield
            tasks.cancel_scope.cancel()

    app = FastAPI(
        title="seamline",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    for module in (workflows, gates, dead_letters, registry, evaluations, tokens):
        app.include_router(module.router)
    console.install(app)
    return app


def run(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``app`` on uvicorn until Ctrl-C or SIGTERM."""
    uvicorn.run(app, host=host, port=port, log_level="info")


async def _escalate_overdue_gates(runtime: Runtime, every: float) -> None:
    """Escalate open gates past their deadline, every ``every`` seconds, until cancelled."""
    while True:
        try:
            escalated = await anyio.to_thread.run_sync(runtime.escalate_gates)
        except SeamlineError as error:  # the store may be down for a while: try again later
            _log.warning("could not escalate overdue gates: %s", error)
        else:
            for gate_id in escalated:
                _log.info("gate %s is past its deadline: escalated", gate_id)
        await anyio.sleep(every)
