"""``seamline serve``: the web console and the HTTP API over a store, on uvicorn.

FastAPI and uvicorn come with the ``server`` extra and are imported only when this command
runs, so every other command works on a core install.
"""

from __future__ import annotations

from typing import Annotated

import typer

from seamline.cli._common import (
    DEFAULT_PROJECT,
    ProjectOption,
    RegistryAppOption,
    StoreOption,
    console,
    open_project,
    open_store,
)
from seamline.runtime import Runtime

__all__ = ["serve"]


def serve(
    store: StoreOption,
    project: ProjectOption = DEFAULT_PROJECT,
    app_ref: RegistryAppOption = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0: every one).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    escalate_every: Annotated[
        float, typer.Option(min=0.1, help="Seconds between sweeps escalating overdue gates.")
    ] = 30.0,
) -> None:
    """Serve the web console and the HTTP API: workflows, gates, dead letters, registry, audit.

    Requests need a team's token (`seamline tokens create --team TEAM`). Replays and gate
    decisions run the project's agents in this process.
    """
    from seamline.server import create_app, run  # the server extra, only when serving

    loaded = open_project(project, app_ref)
    runtime = Runtime(loaded.registry, open_store(store), app=app_ref)
    app = create_app(runtime, project=loaded, escalate_every=escalate_every)
    url = f"http://{host}:{port}"
    console.print(
        f"serving {store}: the console at {url}/, the API at {url}/api (docs at /docs); "
        "Ctrl-C stops",
        soft_wrap=True,
    )
    console.file.flush()  # the URLs, before uvicorn's own lines, even into a pipe
    run(app, host=host, port=port)
