"""The PostgreSQL store's schema: versioned migrations, applied under a lock, checked on open.

Migrations are the numbered SQL files shipped in ``seamline/stores/migrations``
(``0001_ledger.sql``, ``0002_memory.sql``, ...). :func:`upgrade` applies the pending ones
and records each in ``seamline_migrations``, all in one transaction (PostgreSQL's DDL is
transactional: an upgrade that fails leaves the schema as it was) under an advisory lock
named after the schema, so two processes upgrading at once take turns and the second finds
nothing left to do. The newest recorded version is the schema's version.

Stores check it when they open (:func:`check`) and do not upgrade by themselves: many
workers share one database, and the schema should change once per release, by
``seamline db upgrade``, not by whichever worker starts first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from seamline.exceptions import ConfigurationError, StoreCorruptError, StoreError

__all__ = [
    "EXPECTED_VERSION",
    "Migration",
    "SchemaStatus",
    "check",
    "check_schema_name",
    "migrations",
    "read_status",
    "upgrade",
]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_FILE = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One versioned step of the schema."""

    version: int
    name: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with this seamline, in version order (1, 2, ... no gaps)."""
    found = []
    for item in resources.files("seamline.stores").joinpath("migrations").iterdir():
        if matched := _FILE.match(item.name):
            found.append(Migration(int(matched[1]), matched[2], item.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    # A missing or doubled number is a packaging mistake; no store should run on it.
    assert [m.version for m in found] == list(range(1, len(found) + 1)), found
    return tuple(found)


EXPECTED_VERSION = len(migrations())
"""The schema version this seamline reads and writes."""


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a schema stands against this seamline's migrations."""

    store: str
    """The store's locator, without its password."""
    schema: str
    version: int | None
    """The newest applied migration; None when the schema holds no seamline store."""
    foreign: bool
    """The schema holds other tables and no ``seamline_migrations``: not a seamline store."""
    pgvector: str | None
    """The pgvector version the server could install (``pg_available_extensions``), or None.

    Only reported: vectors are float32 bytes in a bytea column and are searched by
    seamline's numpy index whether or not the server has pgvector."""

    @property
    def expected(self) -> int:
        """The version this seamline needs."""
        return EXPECTED_VERSION

    @property
    def pending(self) -> tuple[Migration, ...]:
        """The migrations an upgrade would apply, in order."""
        if self.foreign or (self.version or 0) >= EXPECTED_VERSION:
            return ()
        return migrations()[self.version or 0 :]


def check_schema_name(schema: str) -> str:
    """``schema`` if it is a plain lower-case identifier (it goes into ``search_path``)."""
    if not _SCHEMA_NAME.match(schema):
        raise ConfigurationError(
            f"schema name {schema!r} is not allowed; use 1-63 lower-case letters, digits and "
            "underscores, starting with a letter or underscore (e.g. 'seamline')"
        )
    return schema


_STATUS = """
SELECT
    EXISTS (SELECT FROM pg_tables WHERE schemaname = %(schema)s
            AND tablename = 'seamline_migrations'),
    EXISTS (SELECT FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
            WHERE nspname = %(schema)s),
    (SELECT default_version FROM pg_available_extensions WHERE name = 'vector')
"""


def read_status(conn: psycopg.Connection[TupleRow], schema: str, store: str) -> SchemaStatus:
    """The schema's version, read on ``conn`` (whose search_path is ``schema``)."""
    row = conn.execute(_STATUS, {"schema": schema}).fetchone()
    assert row is not None  # a SELECT without FROM returns one row
    recorded, anything, pgvector = row
    version = None
    if recorded:
        found = conn.execute("SELECT max(version) FROM seamline_migrations").fetchone()
        version = int(found[0]) if found and found[0] is not None else 0
    return SchemaStatus(
        store, schema, version, foreign=bool(anything) and not recorded, pgvector=pgvector
    )


def check(status: SchemaStatus) -> None:
    """Raise unless a store may run on this schema; each error says what to run."""
    where = f"schema {status.schema!r} of {status.store}"
    upgrade_command = f"`seamline db upgrade --store {status.store}`"
    if status.foreign:
        raise StoreCorruptError(
            f"{where} holds other tables and no seamline_migrations, so it is not a seamline "
            "store; pick another schema (?schema=NAME in the URL)"
        )
    if status.version is None:
        raise StoreError(
            f"{where} has no seamline store yet; create it with {upgrade_command} "
            "(or PostgresStore(..., migrate=True))"
        )
    if status.version > EXPECTED_VERSION:
        raise StoreCorruptError(
            f"{where} has schema version {status.version}, newer than this seamline "
            f"({EXPECTED_VERSION}); upgrade seamline"
        )
    if status.version < EXPECTED_VERSION:
        raise StoreError(
            f"{where} has schema version {status.version}, older than this seamline "
            f"({EXPECTED_VERSION}); stop the workers and run {upgrade_command}"
        )


def upgrade(conn: psycopg.Connection[TupleRow], schema: str, store: str) -> SchemaStatus:
    """Apply the pending migrations on ``conn`` (autocommit, search_path ``schema``).

    Returns the status before the upgrade. Waits for any other upgrade of the same schema
    to finish first, then applies what is still pending.
    """
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"seamline.migrate:{schema}"]
        )
        before = read_status(conn, schema, store)
        if before.foreign or (before.version or 0) > EXPECTED_VERSION:
            check(before)
        if before.pending:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS seamline_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        for migration in before.pending:
            conn.execute(migration.sql, prepare=False)
            conn.execute(
                "INSERT INTO seamline_migrations (version, name) VALUES (%s, %s)",
                [migration.version, migration.name],
            )
    return before
