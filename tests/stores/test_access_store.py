"""The AccessStore contract on every backend: API tokens and the API's audit log.

Plus the SQLite upgrade from schema 2 (before the API's tables) to 3, in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from seamline.exceptions import ConflictError
from seamline.stores import (
    AccessStore,
    AuditRecord,
    Commit,
    Entry,
    MemoryStore,
    PostgresStore,
    SqliteStore,
    TokenRecord,
)
from seamline.stores.sqlite import SCHEMA_VERSION

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def token(token_id: str = "0" * 16, *, name: str = "pay-1", team: str = "payments") -> TokenRecord:
    """An active member token created at T0."""
    return TokenRecord(
        id=token_id,
        name=name,
        team=team,
        admin=False,
        secret_sha256="ab" * 32,
        created_at=T0,
        created_by="cli:ops",
    )


def note(record_id: str, *, team: str | None = "payments", minute: int = 0) -> AuditRecord:
    """An audit record at T0 + ``minute``; ids sort like the time-ordered ones the API makes."""
    return AuditRecord(
        id=record_id,
        at=T0 + timedelta(minutes=minute),
        team=team,
        actor="pay-1",
        action="dead_letter.discard",
        target="h-1",
        outcome="ok",
        detail='{"reason": "duplicate"}',
    )


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccessStore]:
    """Each backend, empty."""
    if request.param == "postgres":
        made: AccessStore = request.getfixturevalue("pg_store")
        yield made
        return
    local = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "a.db")
    yield local
    local.close()


def test_every_backend_is_an_access_store(store: AccessStore) -> None:
    """The protocol is runtime-checkable and every store satisfies it."""
    assert isinstance(store, AccessStore)


def test_a_token_and_its_audit_record_round_trip(store: AccessStore) -> None:
    """A token reads back equal, and the record of its issue is in the log."""
    store.add_token(token(), note("a-1"))
    assert store.get_token("0" * 16) == token()
    assert store.get_token("f" * 16) is None
    assert store.list_audit() == [note("a-1")]


def test_tokens_list_newest_first_and_by_team(store: AccessStore) -> None:
    """list_tokens is newest first; ``team`` keeps one team's."""
    store.add_token(token("1" * 16, name="a"), note("a-1"))
    later = replace(token("2" * 16, name="b", team="support"), created_at=T0 + timedelta(hours=1))
    store.add_token(later, note("a-2"))
    assert [t.name for t in store.list_tokens()] == ["b", "a"]
    assert [t.name for t in store.list_tokens(team="payments")] == ["a"]


def test_an_active_name_is_taken_until_revoked(store: AccessStore) -> None:
    """A second active token of the same name clashes and writes nothing, its audit record
    included; once the first is revoked the name is free."""
    store.add_token(token("1" * 16), note("a-1"))
    with pytest.raises(ConflictError, match="an active token is already named 'pay-1'"):
        store.add_token(token("2" * 16), note("a-2"))
    assert store.get_token("2" * 16) is None
    assert [r.id for r in store.list_audit()] == ["a-1"]
    store.revoke_token("1" * 16, T0 + timedelta(days=1), "cli:ops", note("a-3"))
    store.add_token(token("2" * 16), note("a-4"))
    active = [(t.id, t.revoked_at is None) for t in store.list_tokens()]
    assert active == [("2" * 16, True), ("1" * 16, False)]


def test_revoking_records_when_and_by_whom(store: AccessStore) -> None:
    """Revocation sets revoked_at and revoked_by and appends its audit record."""
    store.add_token(token(), note("a-1"))
    when = T0 + timedelta(days=2)
    store.revoke_token("0" * 16, when, "cli:ops", note("a-2", minute=5))
    assert store.get_token("0" * 16) == replace(token(), revoked_at=when, revoked_by="cli:ops")
    assert [r.id for r in store.list_audit()] == ["a-2", "a-1"]


@pytest.mark.parametrize("token_id", ["0" * 16, "9" * 16], ids=["twice", "unknown"])
def test_only_an_active_token_can_be_revoked(store: AccessStore, token_id: str) -> None:
    """Revoking a revoked or unknown token clashes and writes nothing."""
    store.add_token(token(), note("a-1"))
    store.revoke_token("0" * 16, T0, "cli:ops", note("a-2"))
    with pytest.raises(ConflictError, match=f"token {token_id} is not active"):
        store.revoke_token(token_id, T0, "someone", note("a-3"))
    assert [r.id for r in store.list_audit()] == ["a-2", "a-1"]
    assert store.get_token("0" * 16) == replace(token(), revoked_at=T0, revoked_by="cli:ops")


def test_audit_log_newest_first_by_team_with_limit(store: AccessStore) -> None:
    """list_audit reads newest first, keeps one team's when asked, and honours limit."""
    for record in (note("a-1"), note("a-2", team="support"), note("a-3", team=None)):
        store.add_audit(record)
    assert [r.id for r in store.list_audit()] == ["a-3", "a-2", "a-1"]
    assert [r.id for r in store.list_audit(team="payments")] == ["a-1"]
    assert [r.id for r in store.list_audit(limit=2)] == ["a-3", "a-2"]
    assert store.list_audit()[0] == note("a-3", team=None)


def test_a_duplicate_audit_record_clashes(store: AccessStore) -> None:
    """Audit ids are unique; a repeat raises ConflictError."""
    store.add_audit(note("a-1"))
    with pytest.raises(ConflictError, match="audit record a-1 already exists"):
        store.add_audit(note("a-1"))


# --- what the database itself refuses --------------------------------------------------------

_CHANGES = [
    pytest.param("UPDATE api_audit SET outcome = 'denied'", "append-only", id="audit-update"),
    pytest.param("DELETE FROM api_audit", "append-only", id="audit-delete"),
    pytest.param("UPDATE api_tokens SET team = 'ops'", "only ever revoked", id="token-team"),
    pytest.param("DELETE FROM api_tokens", "never deleted", id="token-delete"),
]


@pytest.mark.parametrize(("statement", "refusal"), _CHANGES)
def test_sqlite_refuses_raw_changes(tmp_path: Path, statement: str, refusal: str) -> None:
    """Triggers keep the audit log append-only and let a token change only by revocation."""
    store = SqliteStore(tmp_path / "a.db")
    store.add_token(token(), note("a-1"))
    store.close()
    raw = sqlite3.connect(tmp_path / "a.db")
    try:
        with pytest.raises(sqlite3.IntegrityError, match=refusal):
            raw.execute(statement)
    finally:
        raw.close()


@pytest.mark.parametrize(("statement", "refusal"), _CHANGES)
def test_postgres_refuses_raw_changes(
    pg_store: PostgresStore, pg_url: str, statement: str, refusal: str
) -> None:
    """The same guards on PostgreSQL."""
    pg_store.add_token(token(), note("a-1"))
    with (
        psycopg.connect(pg_url, options=f"-c search_path={pg_store.schema}") as conn,
        pytest.raises(psycopg.errors.RestrictViolation, match=refusal),
    ):
        conn.execute(statement)


def test_sqlite_upgrades_a_schema_2_store_in_place(tmp_path: Path) -> None:
    """A store from before the API (schema 2) gains the tokens and audit log on open and
    keeps every row it had."""
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    entry = Entry(correlation_id="wf-1", seq=1, handoff_id="h-1", kind="proposed", at=T0)
    store.apply(Commit(entries=[entry]))
    store.close()
    raw = sqlite3.connect(path)
    raw.executescript(
        "DROP TABLE api_tokens; DROP TABLE api_audit; "
        "UPDATE seamline_meta SET value = '2' WHERE key = 'schema_version';"
    )
    raw.close()
    assert SCHEMA_VERSION == 3
    upgraded = SqliteStore(path)
    try:
        assert upgraded.entries(correlation_id="wf-1") == [entry]
        upgraded.add_token(token(), note("a-1"))
        assert upgraded.get_token("0" * 16) == token()
    finally:
        upgraded.close()
    raw = sqlite3.connect(path)
    try:
        found = raw.execute("SELECT value FROM seamline_meta WHERE key = 'schema_version'")
        assert found.fetchone() == ("3",)
    finally:
        raw.close()
