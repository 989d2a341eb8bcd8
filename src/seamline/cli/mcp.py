"""``seamline mcp``: a store's memory, registry, workflows and dead letters for MCP clients.

The MCP SDK comes with the ``mcp`` extra and is imported only when this command runs, so
every other command works on a core install. Over stdio, stdout belongs to the protocol:
this command prints nothing there, and errors go to stderr as in every command.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from seamline.cli._common import (
    DEFAULT_PROJECT,
    ProjectOption,
    RegistryAppOption,
    StoreOption,
    console,
    open_project,
    open_store,
)

__all__ = ["Transport", "mcp"]


class Transport(StrEnum):
    """How an MCP client reaches the server."""

    STDIO = "stdio"
    """The client starts ``seamline mcp`` and talks over its stdin and stdout."""
    HTTP = "http"
    """Streamable HTTP at ``http://HOST:PORT/mcp``, for clients that connect by URL."""


_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def mcp(
    store: StoreOption,
    project: ProjectOption = DEFAULT_PROJECT,
    app_ref: RegistryAppOption = None,
    transport: Annotated[
        Transport, typer.Option(help="stdio (the client starts this command) or http.")
    ] = Transport.STDIO,
    host: Annotated[str, typer.Option(help="Interface to listen on, with http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port, with http.")] = 8765,
) -> None:
    """Serve the store to MCP clients: memory search, registry lookups, workflow status,
    dead letters (masked) and contract schemas, read-only.

    The server has no authentication of its own: over http, anyone who can reach HOST:PORT
    can read what it serves, so it listens on loopback unless told otherwise.
    """
    from seamline.interop.mcp import build_server  # the mcp extra, only when serving

    registry = open_project(project, app_ref).registry
    server = build_server(open_store(store), registry)
    if transport is Transport.STDIO:
        server.run()
        return
    if not _is_loopback(host):
        _stderr.print(
            f"[yellow]warning:[/] serving {store} without authentication on {host}; anyone "
            "who can reach it can read its workflows, memory and dead letters",
            markup=True,
        )
    console.print(
        f"serving {store} to MCP clients at http://{host}:{port}/mcp; Ctrl-C stops",
        soft_wrap=True,
    )
    server.run("streamable-http", host=host, port=port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False
