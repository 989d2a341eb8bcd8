"""What every command shares: the store and app options, loading them, printing errors."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from seamline.exceptions import ConfigurationError, StoreError
from seamline.registry import Registry
from seamline.stores import SqliteStore

__all__ = ["AppOption", "StoreOption", "console", "load_registry", "open_store"]

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

DEFAULT_STORE = Path("seamline.db")


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
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"--app {reference!r} must look like 'package.module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigurationError(
            f"cannot import {module_name!r} for --app ({error}); check the name and that the "
            f"module is on PYTHONPATH (cwd: {os.getcwd()})"
        ) from None
    target = getattr(module, attribute, None)
    if target is None:
        raise ConfigurationError(f"module {module_name!r} has no attribute {attribute!r}")
    registry = target() if callable(target) and not isinstance(target, Registry) else target
    if not isinstance(registry, Registry):
        raise ConfigurationError(
            f"{reference} gave {type(registry).__name__}, not a seamline Registry"
        )
    return registry
