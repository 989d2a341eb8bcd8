"""PostgreSQL for the tests: one server, a fresh schema per test, all dropped at the end.

Every schema a run creates is named ``seamline_test_<run>_<n>``, so runs sharing a server
(CI's and a developer's, or two developers') never see each other's rows, and the
session's teardown drops whatever its tests left behind. ``SEAMLINE_TEST_POSTGRES`` points
the tests at another server.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest

from seamline.stores import PostgresStore

POSTGRES_URL = os.environ.get("SEAMLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
_RUN = f"seamline_test_{secrets.token_hex(4)}"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The test server's URL once it answers; this run's schemas are dropped at the end."""
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        pytest.fail(
            f"the PostgreSQL tests need a server at {POSTGRES_URL} ({error}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or point SEAMLINE_TEST_POSTGRES at one"
        )
    yield POSTGRES_URL
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        left = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [_RUN]
        ).fetchall()
        for (schema,) in left:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def new_pg_schema(pg_url: str) -> Callable[[], str]:
    """Makes names for schemas nobody has used; whatever is left in them goes at the end."""
    return lambda: f"{_RUN}_{next(_numbers)}"


@pytest.fixture
def pg_schema(pg_url: str, new_pg_schema: Callable[[], str]) -> Iterator[str]:
    """A schema name nobody has used (nothing is created in it), dropped after the test."""
    schema = new_pg_schema()
    yield schema
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_store(pg_url: str, pg_schema: str) -> Iterator[PostgresStore]:
    """An empty PostgresStore in its own schema."""
    store = PostgresStore(pg_url, schema=pg_schema, migrate=True)
    yield store
    store.close()
