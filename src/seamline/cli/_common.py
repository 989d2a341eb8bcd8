"""What every command shares: the store and app options, loading them, printing errors."""

from __future__ import annotations

import atexit
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from seamline.exceptions import ConfigurationError, StoreError
from seamline.project import PROJECT_FILE, Project, import_registry, load_project
from seamline.registry import Registry
from seamline.stores import ArtifactStore
from seamline.stores import open_store as open_target
from seamline.stores.target import is_url

__all__ = [
    "AppOption",
    "ProjectOption",
    "RegistryAppOption",
    "StoreOption",
    "console",
    "load_registry",
    "open_project",
    "open_store",
    "store_exists",
]

console = Console(highlight=False)
"""Everything the CLI prints goes through here (stdout); errors go to stderr."""

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="SEAMLINE_STORE",
        help="SQLite ledger file, or a postgresql://USER@HOST:PORT/DATABASE URL (add "
        "?schema=NAME for a schema other than seamline) (env SEAMLINE_STORE).",
        show_default=True,
    ),
]
AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        envvar="SEAMLINE_APP",
        help="module:attribute of your Registry (or a function returning one); "
        "defaults to the one recorded with the workflow.",
    ),
]

RegistryAppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        envvar="SEAMLINE_APP",
        help="module:attribute of your Registry (or a function returning one); overrides "
        "[project] app in the project file.",
    ),
]
ProjectOption = Annotated[
    Path,
    typer.Option(
        "--project",
        envvar="SEAMLINE_PROJECT",
        help="The project file declaring agents, contracts and owners (env SEAMLINE_PROJECT).",
        show_default=True,
    ),
]

DEFAULT_STORE = "seamline.db"
_postgres_stores: dict[str, ArtifactStore] = {}
DEFAULT_PROJECT = Path(PROJECT_FILE)


def open_store(target: str, *, create: bool = False) -> ArtifactStore:
    """Open an existing ledger (or create one when ``create``), with a clear error if absent.

    ``create`` makes a new SQLite file, or creates (or upgrades) a PostgreSQL schema.
    """
    if not create and not store_exists(target):
        raise StoreError(
            f"no seamline store at {target}; run `seamline demo` to create one, or pass "
            "--store / set SEAMLINE_STORE to your ledger file"
        )
    if not is_url(target):
        return open_target(target, migrate=create)
    # Commands keep their store to the end and never close it. A PostgreSQL store is a pool
    # of server connections, so a process opens one per URL and closes it at exit, rather
    # than leave it to the garbage collector (which may run in one of the pool's threads).
    store = _postgres_stores.get(target)
    if store is None:
        store = _postgres_stores[target] = open_target(target, migrate=create)
        atexit.register(store.close)
    return store


def store_exists(target: str) -> bool:
    """Whether there is a store to open: a SQLite file that exists, or any database URL
    (whose server says, when opened, if the store is there)."""
    return is_url(target) or Path(target).exists()


def load_registry(reference: str | None) -> Registry:
    """Import ``module:attribute`` and return the Registry it names (calling it if needed)."""
    if not reference:
        raise ConfigurationError(
            "no app to load agents from; pass --app module:attribute (or set SEAMLINE_APP)"
        )
    return import_registry(reference, "--app")


def open_project(project: Path, app: str | None) -> Project:
    """The project at ``project`` (seamline.toml), or just ``--app`` when no file exists."""
    if project.exists() or project != DEFAULT_PROJECT:
        return load_project(project, app=app)
    return load_project(None, app=app)


def read_json_object(source: str) -> dict[str, Any]:
    """The JSON object in file ``source`` (``-``: stdin), as a ``--payload`` option gives it."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"cannot read --payload {source!r}: {error.strerror}") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"--payload {source!r} is not valid JSON ({error.msg} at line {error.lineno})"
        ) from None
    if not isinstance(payload, dict):
        raise ConfigurationError(
            f"--payload {source!r} must hold a JSON object, not {type(payload).__name__}"
        )
    return payload
