"""open_store: one string names a SQLite file or a PostgreSQL schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.exceptions import ConfigurationError
from seamline.stores import PostgresStore, SqliteStore, open_store
from seamline.stores.target import is_url, postgres_target


def test_a_path_opens_a_sqlite_file(tmp_path: Path) -> None:
    """A path (str or Path) is a SQLite store, created when missing."""
    for target in (tmp_path / "a.db", str(tmp_path / "b.db")):
        store = open_store(target)
        try:
            assert isinstance(store, SqliteStore)
        finally:
            store.close()
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()


def test_a_url_opens_the_schema_it_names(pg_url: str, pg_schema: str) -> None:
    """postgresql://...?schema=NAME opens (and with migrate, creates) that schema."""
    store = open_store(f"{pg_url}?schema={pg_schema}", migrate=True)
    try:
        assert isinstance(store, PostgresStore) and store.schema == pg_schema
    finally:
        store.close()


@pytest.mark.parametrize(
    ("target", "url", "schema"),
    [
        ("postgresql://u@h/db", "postgresql://u@h/db", "seamline"),
        ("postgres://u@h/db?schema=tenant_a", "postgres://u@h/db", "tenant_a"),
        (
            "postgresql://u@h/db?sslmode=require&schema=s&options=-c%20a%3Db+c",
            "postgresql://u@h/db?sslmode=require&options=-c%20a%3Db+c",
            "s",
        ),
    ],
)
def test_the_schema_parameter_is_cut_from_the_url_untouched(
    target: str, url: str, schema: str
) -> None:
    """?schema= is seamline's; every other parameter reaches libpq byte for byte."""
    assert postgres_target(target) == (url, schema)


@pytest.mark.parametrize("target", ["mysql://root@h/db", "sqlite:///tmp/x.db", "seamline.db"])
def test_only_postgresql_urls_are_postgres_targets(target: str) -> None:
    """Another scheme, or no scheme, is a ConfigurationError saying what to pass."""
    with pytest.raises(ConfigurationError, match="is not a PostgreSQL store; pass postgresql://"):
        postgres_target(target)


def test_open_store_refuses_other_schemes() -> None:
    """A URL of another database is refused before anything is opened."""
    assert is_url("mysql://root@h/db") and not is_url("C:/ledger.db")
    with pytest.raises(ConfigurationError, match="store URL scheme 'mysql' is not a Post"):
        open_store("mysql://root@h/db")
