"""What every command shares: the store and app options, loading them, printing errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from seamline.exceptions import ConfigurationError, StoreError
from seamline.project import PROJECT_FILE, Project, import_registry, load_project
from seamline.registry import Registry
from seamline.stores import SqliteStore

__all__ = [
    "AppOption",
    "ProjectOption",
    "RegistryAppOption",
    "StoreOption",
    "console",
    "load_registry",
    "open_project",
    "open_store",
]

console = Console(highlight=False)
"""Everything the CLI prints goes through here (stdout); errors go to stderr."""

StoreOption = Annotated[
    Path,
    typer.Option(
        "--store",
        envvar="SEAMLINE_STORE",
        help="SQLite ledger file (env SEAMLINE_STORE).",
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

DEFAULT_STORE = Path("seamline.db")
DEFAULT_PROJECT = Path(PROJECT_FILE)


def open_store(path: Path, *, create: bool = False) -> SqliteStore:
    """Open an existing ledger (or create one when ``create``), with a clear error if absent."""
    if not create and not path.exists():
        raise StoreError(
            f"no seamline store at {path}; run `seamline demo` to create one, or pass "
            "--store / set SEAMLINE_STORE to your ledger file"
        )
    return SqliteStore(path)


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
