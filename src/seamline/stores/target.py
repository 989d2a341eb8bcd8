"""Opening a store from one string: a SQLite file path or a PostgreSQL URL.

The command line and configuration name a store with one string (``--store``,
``SEAMLINE_STORE``): ``seamline.db`` is a SQLite file, ``postgresql://user@host/db`` a
PostgreSQL database. Only the URL form loads the ``postgres`` extra. A PostgreSQL URL may
carry ``?schema=NAME`` for a schema other than ``seamline``; the rest of it goes to libpq
untouched.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from seamline.exceptions import ConfigurationError
from seamline.stores.base import ArtifactStore
from seamline.stores.sqlite import SqliteStore

__all__ = ["DEFAULT_SCHEMA", "is_url", "open_store", "postgres_target"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES = ("postgresql", "postgres")
DEFAULT_SCHEMA = "seamline"
"""Where a PostgreSQL store's tables live unless the URL says ``?schema=NAME``."""


def is_url(target: str | Path) -> bool:
    """True when ``target`` is a URL (``scheme://...``) rather than a file path."""
    return isinstance(target, str) and _SCHEME.match(target) is not None


def open_store(target: str | Path, *, migrate: bool = False) -> ArtifactStore:
    """The store ``target`` names: a PostgresStore for a ``postgresql://`` URL, else a
    SqliteStore on that path (created if missing).

    ``migrate`` lets a PostgreSQL store create or upgrade its schema on open; SQLite files
    always do.
    """
    if not is_url(target):
        return SqliteStore(target)
    url, schema = postgres_target(str(target))
    from seamline.stores.postgres import PostgresStore

    return PostgresStore(url, schema=schema, migrate=migrate)


def postgres_target(target: str) -> tuple[str, str]:
    """The libpq URL and the schema a ``postgresql://`` locator names.

    The schema comes from a ``schema=`` query parameter (default ``seamline``), which is cut
    out by hand rather than re-encoded: libpq reads ``+`` literally, which a round trip
    through urlencode would not keep.
    """
    scheme = target.split("://", 1)[0] if is_url(target) else None
    if scheme is None or scheme.lower() not in _POSTGRES:
        raise ConfigurationError(
            f"{'store URL scheme ' + repr(scheme) if scheme else repr(target)} is not a "
            "PostgreSQL store; pass postgresql://USER@HOST:PORT/DATABASE (or a SQLite file "
            "path where a command takes one)"
        )
    base, _, query = target.partition("?")
    kept, schema = [], DEFAULT_SCHEMA
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        if name == "schema":
            schema = unquote(value)
        else:
            kept.append(pair)
    return (f"{base}?{'&'.join(kept)}" if kept else base), schema
