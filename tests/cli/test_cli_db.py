"""``seamline db status`` and ``seamline db upgrade`` against the test server."""

from __future__ import annotations

from pathlib import Path

import psycopg
from typer.testing import CliRunner

from seamline.cli import app
from seamline.stores import PostgresStore
from seamline.stores._pg_schema import EXPECTED_VERSION, migrations

NAMES = ", ".join(f"{m.version:04d}_{m.name}" for m in migrations())

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; exit code, stdout and stderr (whitespace folded)."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.stdout.split()), " ".join(result.stderr.split())


def test_status_then_upgrade_then_status(pg_url: str, pg_schema: str) -> None:
    """A new schema shows as pending, is created by upgrade, then shows as up to date."""
    store = f"{pg_url}?schema={pg_schema}"
    code, out, _ = invoke("db", "status", "--store", store)
    assert code == 0
    assert f"store postgresql://postgres@127.0.0.1:5432/test?schema={pg_schema}" in out
    assert f"version none yet (this seamline needs {EXPECTED_VERSION})" in out
    assert f"pending {NAMES}: run `seamline db upgrade --store {store}`" in out
    assert "vectors searched in numpy (stored as bytea)" in out
    code, out, _ = invoke("db", "upgrade", "--store", store)
    assert code == 0
    assert out == (
        f"schema '{pg_schema}' of {store} upgraded from nothing to {EXPECTED_VERSION}: {NAMES}"
    )
    code, out, _ = invoke("db", "upgrade", "--store", store)
    at = f"schema '{pg_schema}' of {store} is at version {EXPECTED_VERSION}; nothing to do"
    assert (code, out) == (0, at)
    code, out, _ = invoke("db", "status", "--store", store)
    assert code == 0 and f"version {EXPECTED_VERSION}, up to date" in out
    assert "pending" not in out
    PostgresStore(pg_url, schema=pg_schema).close()  # and a store opens on it


def test_status_names_a_schema_that_is_not_a_store(pg_url: str, pg_schema: str) -> None:
    """A schema of other tables is reported as such; upgrade refuses it with exit code 1."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {pg_schema}")
        conn.execute(f"CREATE TABLE {pg_schema}.customers (id int)")
    store = f"{pg_url}?schema={pg_schema}"
    code, out, _ = invoke("db", "status", "--store", store)
    assert code == 0 and "version none: the schema holds other tables; not a seamline" in out
    code, _, err = invoke("db", "upgrade", "--store", store)
    assert code == 1 and "holds other tables and no seamline_migrations" in err


def test_db_commands_want_a_postgresql_url(tmp_path: Path) -> None:
    """A SQLite path or another scheme is one clear error, exit code 1."""
    code, _, err = invoke("db", "upgrade", "--store", str(tmp_path / "s.db"))
    assert code == 1
    assert "is a SQLite file (those upgrade themselves when opened)" in err
    code, _, err = invoke("db", "status", "--store", "mysql://root@127.0.0.1/test")
    assert code == 1 and "error: store URL scheme 'mysql' is not a PostgreSQL store" in err
    code, _, err = invoke("db", "status", "--store", "postgresql://postgres@127.0.0.1:1/test")
    assert code == 1 and "error: cannot connect to the PostgreSQL store" in err


def test_other_commands_read_a_postgresql_store(pg_store: PostgresStore, pg_url: str) -> None:
    """--store takes a postgresql:// URL in every command: an empty store lists nothing."""
    store = f"{pg_url}?schema={pg_store.schema}"
    code, out, _ = invoke("workflows", "list", "--store", store)
    assert code == 0, out
    code, _, err = invoke("workflows", "list", "--store", f"{pg_url}?schema=no_such_schema")
    assert code == 1 and "has no seamline store yet; create it with `seamline db upgrade" in err
