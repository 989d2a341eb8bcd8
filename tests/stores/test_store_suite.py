"""One suite, every backend: the Store contract, then what only the SQLite store promises.

What only PostgreSQL adds (schema versions, lost connections) is in test_postgres.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from seamline.exceptions import ConflictError, StoreCorruptError, StoreError
from seamline.stores import (
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    DeadLetterUpdate,
    Entry,
    MemoryStore,
    SqliteStore,
    Store,
    WorkflowRecord,
    WorkflowStatus,
)
from seamline.stores.sqlite import SCHEMA_VERSION

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def workflow(
    workflow_id: str = "wf-1",
    *,
    status: WorkflowStatus = WorkflowStatus.RUNNING,
    minute: int = 0,
    **fields: Any,
) -> WorkflowRecord:
    """A workflow row, created and updated at T0 + ``minute``."""
    values: dict[str, Any] = {
        "id": workflow_id,
        "name": "support",
        "status": status,
        "entry": "intake",
        "intent_sha256": "ab" * 32,
        "max_hops": 10,
        "app": "app:build",
        "result": None,
        "created_at": at(minute),
        "updated_at": at(minute),
    }
    values.update(fields)
    return WorkflowRecord(**values)


def entry(seq: int, *, cid: str = "wf-1", handoff: str = "h-1", kind: str = "proposed") -> Entry:
    """A ledger row."""
    return Entry(
        correlation_id=cid, seq=seq, handoff_id=handoff, kind=kind, at=at(seq), data='{"n": 1}'
    )


def letter(letter_id: str = "h-1", *, cid: str = "wf-1", minute: int = 0) -> DeadLetterRecord:
    """An open dead letter created at T0 + ``minute``."""
    return DeadLetterRecord(
        id=letter_id,
        correlation_id=cid,
        reason="validation",
        message="handoff rejected",
        issues='[{"path": "payload.amount", "message": "missing", "code": "missing"}]',
        envelope='{"handoff_id": "h-1"}',
        path='["intake@1.0.0 -> refunds@1.0.0"]',
        status=DeadLetterStatus.OPEN,
        created_at=at(minute),
    )


def resolve(
    letter_id: str = "h-1", status: DeadLetterStatus = DeadLetterStatus.REPLAYED
) -> DeadLetterUpdate:
    """Resolve a dead letter at T0 + 1h."""
    return DeadLetterUpdate(id=letter_id, status=status, at=at(60), resolution="replayed as h-9")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each Store backend, empty; SQLite in a fresh file, PostgreSQL in a fresh schema."""
    if request.param == "postgres":
        yield request.getfixturevalue("pg_store")
        return
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


def assert_nothing_of(store: Store, commit: Commit) -> None:
    """None of the rows in ``commit`` that were new are in ``store``."""
    if commit.workflow is not None:
        assert store.get_workflow(commit.workflow.id) is None
    for d in commit.dead_letters:
        assert store.get_dead_letter(d.id) is None


# --- the Store contract, on every backend ----------------------------------------------


def test_store_satisfies_the_protocol(store: Store) -> None:
    """Every backend is a runtime-checkable Store."""
    assert isinstance(store, Store)


def test_empty_store(store: Store) -> None:
    """A new store has no workflows, entries or dead letters."""
    assert store.get_workflow("wf-1") is None
    assert store.list_workflows() == []
    assert store.entries(correlation_id="wf-1") == []
    assert store.entries(handoff_id="h-1") == []
    assert store.get_dead_letter("h-1") is None
    assert store.list_dead_letters() == []


def test_rows_round_trip(store: Store) -> None:
    """Workflows, entries and dead letters read back equal to what was written."""
    wf = workflow(result='{"ok": true}')
    entries = [entry(1), entry(2, kind="validated")]
    dead = letter()
    store.apply(Commit(workflow=wf, entries=entries, dead_letters=[dead]))
    assert store.get_workflow("wf-1") == wf
    assert store.entries(correlation_id="wf-1") == entries
    assert store.get_dead_letter("h-1") == dead


def test_empty_commit_is_a_no_op(store: Store) -> None:
    """Applying an empty commit succeeds and writes nothing."""
    store.apply(Commit())
    assert store.list_workflows() == []


def test_entries_come_back_in_seq_order(store: Store) -> None:
    """entries() returns log order (by seq), whatever order the rows were committed in."""
    store.apply(Commit(entries=[entry(3), entry(1)]))
    store.apply(Commit(entries=[entry(2)]))
    assert [e.seq for e in store.entries(correlation_id="wf-1")] == [1, 2, 3]


def test_entries_by_handoff_span_commits_and_skip_other_handoffs(store: Store) -> None:
    """entries(handoff_id=) returns that handoff's rows only, in seq order."""
    store.apply(Commit(entries=[entry(1, handoff="h-1"), entry(2, handoff="h-2")]))
    store.apply(Commit(entries=[entry(3, handoff="h-1", kind="validated")]))
    store.apply(Commit(entries=[entry(1, cid="wf-2", handoff="h-3")]))
    assert [(e.seq, e.kind) for e in store.entries(handoff_id="h-1")] == [
        (1, "proposed"),
        (3, "validated"),
    ]


def test_entries_by_workflow_skip_other_workflows(store: Store) -> None:
    """entries(correlation_id=) returns that workflow's rows only."""
    store.apply(Commit(entries=[entry(1), entry(1, cid="wf-2", handoff="h-2")]))
    assert [e.correlation_id for e in store.entries(correlation_id="wf-2")] == ["wf-2"]


def test_entries_requires_a_filter(store: Store) -> None:
    """entries() with neither filter raises StoreError naming the two options."""
    with pytest.raises(StoreError, match="entries\\(\\) needs correlation_id or handoff_id"):
        store.entries()


def test_same_seq_in_different_workflows_is_fine(store: Store) -> None:
    """The log key is (correlation_id, seq): seq 1 may exist once per workflow."""
    store.apply(Commit(entries=[entry(1, cid="wf-1")]))
    store.apply(Commit(entries=[entry(1, cid="wf-2")]))
    assert len(store.entries(handoff_id="h-1")) == 2


def test_colliding_entry_rolls_back_the_whole_commit(store: Store) -> None:
    """A commit with an entry on an existing (correlation_id, seq) raises and writes nothing."""
    store.apply(Commit(workflow=workflow(), entries=[entry(1)]))
    losing = Commit(
        workflow=workflow("wf-2"),
        entries=[entry(1, cid="wf-2", handoff="h-9"), entry(2, handoff="h-9"), entry(1)],
        dead_letters=[letter("h-9", cid="wf-2")],
    )
    with pytest.raises(ConflictError) as caught:
        store.apply(losing)
    message = str(caught.value)
    assert "another writer already recorded this step" in message
    assert "nothing was written" in message
    assert "retry" in message
    assert_nothing_of(store, losing)
    assert store.entries(handoff_id="h-9") == []
    assert store.entries(correlation_id="wf-1") == [entry(1)]
    assert [w.id for w in store.list_workflows()] == ["wf-1"]


def test_duplicate_keys_within_one_commit_conflict(store: Store) -> None:
    """Two entries with the same key in one commit raise ConflictError and write nothing."""
    commit = Commit(
        workflow=workflow(),
        entries=[entry(1), entry(1, handoff="h-2")],
        dead_letters=[letter()],
    )
    with pytest.raises(ConflictError):
        store.apply(commit)
    assert_nothing_of(store, commit)
    assert store.entries(correlation_id="wf-1") == []


def test_conflict_leaves_an_existing_workflow_unchanged(store: Store) -> None:
    """A losing commit does not apply its workflow status change either."""
    store.apply(Commit(workflow=workflow(), entries=[entry(1)]))
    finished = workflow(status=WorkflowStatus.COMPLETED, result='"done"', updated_at=at(5))
    with pytest.raises(ConflictError):
        store.apply(Commit(workflow=finished, entries=[entry(1)]))
    assert store.get_workflow("wf-1") == workflow()


def test_workflow_upsert_keeps_identity_fields(store: Store) -> None:
    """Re-applying a workflow updates status, max_hops, result, updated_at and nothing else."""
    original = workflow()
    store.apply(Commit(workflow=original))
    store.apply(
        Commit(
            workflow=workflow(
                name="renamed",
                entry="other-agent",
                intent_sha256="cd" * 32,
                app="other:app",
                created_at=at(30),
                updated_at=at(31),
                status=WorkflowStatus.ESCALATED,
                max_hops=20,
                result='{"reason": "human"}',
            )
        )
    )
    assert store.get_workflow("wf-1") == replace(
        original,
        status=WorkflowStatus.ESCALATED,
        max_hops=20,
        result='{"reason": "human"}',
        updated_at=at(31),
    )


def test_list_workflows_newest_first_with_filter_and_limit(store: Store) -> None:
    """Workflows list newest (highest time-ordered id) first, filter by status, honour limit."""
    store.apply(Commit(workflow=workflow("wf-1")))
    store.apply(Commit(workflow=workflow("wf-3", status=WorkflowStatus.COMPLETED)))
    store.apply(Commit(workflow=workflow("wf-2", status=WorkflowStatus.COMPLETED)))
    assert [w.id for w in store.list_workflows()] == ["wf-3", "wf-2", "wf-1"]
    completed = store.list_workflows(status=WorkflowStatus.COMPLETED)
    assert [w.id for w in completed] == ["wf-3", "wf-2"]
    assert [w.id for w in store.list_workflows(limit=1)] == ["wf-3"]
    assert store.list_workflows(status=WorkflowStatus.DISCARDED) == []


def test_list_dead_letters_newest_first_with_filter_and_limit(store: Store) -> None:
    """Dead letters list by created_at then id, newest first; filter by status; honour limit."""
    store.apply(Commit(dead_letters=[letter("d-1", minute=1), letter("d-3", minute=1)]))
    store.apply(Commit(dead_letters=[letter("d-2", minute=2), letter("d-0", minute=0)]))
    assert [d.id for d in store.list_dead_letters()] == ["d-2", "d-3", "d-1", "d-0"]
    store.apply(Commit(dead_letter_updates=[resolve("d-3")]))
    assert [d.id for d in store.list_dead_letters(status=DeadLetterStatus.OPEN)] == [
        "d-2",
        "d-1",
        "d-0",
    ]
    assert [d.id for d in store.list_dead_letters(status=DeadLetterStatus.REPLAYED)] == ["d-3"]
    assert [d.id for d in store.list_dead_letters(limit=2)] == ["d-2", "d-3"]


def test_duplicate_dead_letter_conflicts(store: Store) -> None:
    """A dead letter id that already exists raises ConflictError and writes nothing."""
    store.apply(Commit(dead_letters=[letter()]))
    commit = Commit(workflow=workflow("wf-2"), entries=[entry(1)], dead_letters=[letter()])
    with pytest.raises(ConflictError):
        store.apply(commit)
    assert_nothing_of(store, Commit(workflow=commit.workflow))
    assert store.entries(correlation_id="wf-1") == []


def test_open_dead_letter_can_be_resolved(store: Store) -> None:
    """Updating an open dead letter sets its status, resolution time and resolution."""
    store.apply(Commit(dead_letters=[letter()]))
    store.apply(Commit(dead_letter_updates=[resolve(status=DeadLetterStatus.DISCARDED)]))
    assert store.get_dead_letter("h-1") == replace(
        letter(),
        status=DeadLetterStatus.DISCARDED,
        resolved_at=at(60),
        resolution="replayed as h-9",
    )


def test_resolved_dead_letter_cannot_be_resolved_again(store: Store) -> None:
    """A second resolution raises ConflictError saying it was already resolved; nothing changes."""
    store.apply(Commit(dead_letters=[letter()]))
    store.apply(Commit(dead_letter_updates=[resolve()]))
    resolved = store.get_dead_letter("h-1")
    commit = Commit(
        workflow=workflow("wf-2"),
        entries=[entry(1)],
        dead_letter_updates=[resolve(status=DeadLetterStatus.DISCARDED)],
    )
    with pytest.raises(ConflictError) as caught:
        store.apply(commit)
    message = str(caught.value)
    assert "dead letter h-1 is no longer open" in message
    assert "Nothing was written" in message
    assert store.get_dead_letter("h-1") == resolved
    assert_nothing_of(store, Commit(workflow=commit.workflow))
    assert store.entries(correlation_id="wf-1") == []


def test_unknown_dead_letter_cannot_be_resolved(store: Store) -> None:
    """Resolving an id that is not a dead letter raises ConflictError."""
    with pytest.raises(ConflictError, match="dead letter ghost is no longer open"):
        store.apply(Commit(dead_letter_updates=[resolve("ghost")]))


def test_one_commit_cannot_resolve_a_dead_letter_twice(store: Store) -> None:
    """Two updates of one open dead letter in one commit: the second finds it resolved."""
    store.apply(Commit(dead_letters=[letter()]))
    with pytest.raises(ConflictError, match="no longer open"):
        store.apply(
            Commit(dead_letter_updates=[resolve(), resolve(status=DeadLetterStatus.DISCARDED)])
        )
    stored = store.get_dead_letter("h-1")
    assert stored is not None
    assert stored.status is DeadLetterStatus.OPEN


def test_a_dead_letter_can_be_resolved_in_the_commit_that_records_it(store: Store) -> None:
    """Updates apply after inserts: a commit may record a dead letter and resolve it."""
    store.apply(Commit(dead_letters=[letter()], dead_letter_updates=[resolve()]))
    stored = store.get_dead_letter("h-1")
    assert stored is not None
    assert stored.status is DeadLetterStatus.REPLAYED


# --- SQLite only -----------------------------------------------------------------------


def sqlite_at(path: Path, **kwargs: Any) -> Iterator[SqliteStore]:
    """Open a SqliteStore and close it afterwards."""
    made = SqliteStore(path, **kwargs)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's SQLite store lives."""
    return tmp_path / "seamline.db"


def test_sqlite_data_survives_reopening(db_path: Path) -> None:
    """Everything written is there after closing and reopening the file."""
    first = SqliteStore(db_path)
    first.apply(Commit(workflow=workflow(), entries=[entry(1), entry(2)], dead_letters=[letter()]))
    first.close()
    again = SqliteStore(str(db_path))
    try:
        assert again.get_workflow("wf-1") == workflow()
        assert again.entries(correlation_id="wf-1") == [entry(1), entry(2)]
        assert again.get_dead_letter("h-1") == letter()
        again.apply(Commit(entries=[entry(3)]))  # and it is still writable
    finally:
        again.close()


def test_sqlite_two_writers_collide_on_the_log_key(db_path: Path) -> None:
    """Two stores on one file: the second to write the same (workflow, seq) gets ConflictError."""
    a, b = SqliteStore(db_path), SqliteStore(db_path)
    try:
        a.apply(Commit(entries=[entry(1)]))
        with pytest.raises(ConflictError):
            b.apply(Commit(workflow=workflow(), entries=[entry(1, handoff="h-b")]))
        assert a.get_workflow("wf-1") is None
        assert a.entries(correlation_id="wf-1") == [entry(1)]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE ledger SET kind = 'completed'", id="update"),
        pytest.param("DELETE FROM ledger", id="delete"),
    ],
)
def test_sqlite_ledger_is_append_only(db_path: Path, statement: str) -> None:
    """Raw UPDATE or DELETE on the ledger table is refused by triggers."""
    store = SqliteStore(db_path)
    store.apply(Commit(entries=[entry(1)]))
    store.close()
    raw = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="the ledger is append-only"):
            raw.execute(statement)
        raw.rollback()
    finally:
        raw.close()
    reopened = SqliteStore(db_path)
    try:
        assert reopened.entries(correlation_id="wf-1") == [entry(1)]
    finally:
        reopened.close()


def test_sqlite_uses_wal_and_the_chosen_durability(tmp_path: Path) -> None:
    """The store runs in WAL mode with synchronous NORMAL by default and FULL when strict."""
    normal = SqliteStore(tmp_path / "n.db")
    strict = SqliteStore(tmp_path / "s.db", durability="strict")
    try:
        assert normal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert normal._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert strict._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        normal.close()
        strict.close()


def test_sqlite_rejects_an_unknown_durability(db_path: Path) -> None:
    """A durability other than 'normal' or 'strict' raises StoreError before touching the file."""
    bad: Any = "paranoid"
    with pytest.raises(StoreError, match="durability must be 'normal' or 'strict', got 'paranoid'"):
        SqliteStore(db_path, durability=bad)
    assert not db_path.exists()


def test_sqlite_in_memory_database_works() -> None:
    """':memory:' gives a working, private store."""
    store = SqliteStore(":memory:")
    try:
        store.apply(Commit(workflow=workflow(), entries=[entry(1)]))
        assert store.entries(handoff_id="h-1") == [entry(1)]
    finally:
        store.close()


def test_sqlite_records_its_schema_version(db_path: Path) -> None:
    """A new store file records the schema version it was written with."""
    SqliteStore(db_path).close()
    raw = sqlite3.connect(db_path)
    try:
        found = raw.execute("SELECT value FROM seamline_meta WHERE key = 'schema_version'")
        assert found.fetchone() == (str(SCHEMA_VERSION),)
    finally:
        raw.close()


class TrackedConnection(sqlite3.Connection):
    """A connection that remembers whether it was closed."""

    opened: list[TrackedConnection] = []  # noqa: RUF012 - a test-local registry
    closed: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        TrackedConnection.opened.append(self)

    def close(self) -> None:
        """Close and remember it."""
        self.closed = True
        super().close()


@pytest.fixture
def tracked_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[TrackedConnection]]:
    """Make SqliteStore open TrackedConnections; yield the list of those opened."""
    connect = sqlite3.connect

    def tracking(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return connect(*args, factory=TrackedConnection, **kwargs)

    TrackedConnection.opened = []
    monkeypatch.setattr(sqlite3, "connect", tracking)
    yield TrackedConnection.opened
    for leftover in TrackedConnection.opened:
        leftover.close()


def test_sqlite_rejects_a_file_that_is_not_sqlite(
    db_path: Path, tracked_connections: list[TrackedConnection]
) -> None:
    """A non-database file raises StoreCorruptError saying where to point instead."""
    db_path.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(StoreCorruptError) as caught:
        SqliteStore(db_path)
    message = str(caught.value)
    assert f"{str(db_path)!r} is not a seamline store" in message
    assert "point --store / SEAMLINE_STORE at a seamline database or a new file" in message
    assert [c.closed for c in tracked_connections] == [True]


def test_sqlite_rejects_a_foreign_database(
    db_path: Path, tracked_connections: list[TrackedConnection]
) -> None:
    """A SQLite file holding other tables and no seamline metadata raises StoreCorruptError."""
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    raw.commit()
    raw.close()
    tracked_connections.clear()
    with pytest.raises(StoreCorruptError) as caught:
        SqliteStore(db_path)
    message = str(caught.value)
    assert "is not a seamline store" in message
    assert "it holds other tables and no seamline_meta" in message
    assert [c.closed for c in tracked_connections] == [True]
    raw = sqlite3.connect(db_path)
    try:  # and the foreign file was not modified
        tables = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert tables == [("customers",)]
    finally:
        raw.close()


def test_sqlite_rejects_a_newer_schema(
    db_path: Path, tracked_connections: list[TrackedConnection]
) -> None:
    """A store written by a newer seamline raises StoreCorruptError asking to upgrade."""
    SqliteStore(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(
        "UPDATE seamline_meta SET value = ? WHERE key = 'schema_version'",
        (str(SCHEMA_VERSION + 1),),
    )
    raw.commit()
    raw.close()
    tracked_connections.clear()
    with pytest.raises(StoreCorruptError) as caught:
        SqliteStore(db_path)
    message = str(caught.value)
    assert f"has schema version {SCHEMA_VERSION + 1}, newer than this seamline" in message
    assert "upgrade seamline" in message
    assert [c.closed for c in tracked_connections] == [True]


def test_sqlite_migrates_a_store_without_a_version_row(db_path: Path) -> None:
    """A seamline store missing its schema_version row is brought up to date on open."""
    SqliteStore(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute("DELETE FROM seamline_meta")
    raw.commit()
    raw.close()
    store = SqliteStore(db_path)
    try:
        store.apply(Commit(entries=[entry(1)]))
    finally:
        store.close()
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("SELECT value FROM seamline_meta").fetchall() == [(str(SCHEMA_VERSION),)]
    finally:
        raw.close()


def test_sqlite_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    """A path SQLite cannot open (a directory) raises StoreError, not StoreCorruptError."""
    with pytest.raises(StoreError) as caught:
        SqliteStore(tmp_path)
    assert type(caught.value) is StoreError
    message = str(caught.value)
    assert f"cannot open store {str(tmp_path)!r}" in message
    assert "check the path and its permissions" in message


def test_sqlite_closed_store_raises_store_error(db_path: Path) -> None:
    """Reading or writing a closed store raises StoreError rather than a raw sqlite3 error."""
    store = SqliteStore(db_path)
    store.close()
    with pytest.raises(StoreError, match="read from store"):
        store.get_workflow("wf-1")
    with pytest.raises(StoreError, match="cannot write to store"):
        store.apply(Commit(entries=[entry(1)]))


def test_sqlite_failed_write_is_a_store_error_and_rolls_back(db_path: Path) -> None:
    """A write SQLite itself refuses (an unbindable value) raises StoreError; nothing is kept."""
    store = SqliteStore(db_path)
    unbindable: Any = {"not": "json text"}
    bad = Entry(
        correlation_id="wf-1", seq=2, handoff_id="h-1", kind="proposed", at=T0, data=unbindable
    )
    try:
        with pytest.raises(StoreError, match=f"write to store {str(db_path)!r} failed") as caught:
            store.apply(Commit(workflow=workflow(), entries=[entry(1), bad]))
        assert not isinstance(caught.value, ConflictError)
        assert store.get_workflow("wf-1") is None
        assert store.entries(correlation_id="wf-1") == []
        store.apply(Commit(entries=[entry(1)]))  # the connection is still usable
    finally:
        store.close()


def test_sqlite_open_waits_out_a_lock_sqlite_does_not_wait_for(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in CI: a process opening a file another process was creating got "database is
    locked" at once, busy timeout or not. The open retries it; a lock that never goes
    away still ends in one clear error."""
    import seamline.stores.sqlite as module

    real = module.SqliteStore._migrate
    refusals = iter(range(2))

    def flaky(self: SqliteStore) -> None:
        if next(refusals, None) is not None:
            raise sqlite3.OperationalError("database is locked")
        real(self)

    monkeypatch.setattr(module.SqliteStore, "_migrate", flaky)
    SqliteStore(db_path).close()  # opened on the third try

    def stuck(self: SqliteStore) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(module.SqliteStore, "_migrate", stuck)
    monkeypatch.setattr(module, "_OPEN_PATIENCE", 0.1)
    with pytest.raises(StoreError, match="stayed locked by another process"):
        SqliteStore(db_path)
