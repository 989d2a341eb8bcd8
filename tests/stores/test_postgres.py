"""What only the PostgreSQL store promises: schema versions, triggers, lost connections, errors.

The Store contract itself is pinned for every backend by test_store_suite.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seamline.exceptions import ConfigurationError, ConflictError, StoreCorruptError, StoreError
from seamline.stores import (
    ArtifactQuery,
    ArtifactRecord,
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    Entry,
    Lease,
    PostgresStore,
    ReadRecord,
    WorkflowRecord,
    WorkflowStatus,
)
from seamline.stores._pg_schema import EXPECTED_VERSION, migrations
from seamline.stores.postgres import upgrade

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WORKFLOW = WorkflowRecord(
    id="wf-1", name="support", status=WorkflowStatus.RUNNING, entry="intake",
    intent_sha256="ab" * 32, max_hops=10, app=None, result=None, created_at=T0, updated_at=T0,
)  # fmt: skip
LETTER = DeadLetterRecord(
    id="h-1", correlation_id="wf-1", reason="validation", message="rejected", issues="[]",
    envelope="{}", path="[]", status=DeadLetterStatus.OPEN, created_at=T0,
)  # fmt: skip
ARTIFACT = ArtifactRecord(
    id="a-1", correlation_id="wf-1", tenant=None, key="order", version=1, kind="fact",
    value='{"id": "ORD-1"}', text="order ORD-1", producer="intake", producer_version="1.0.0",
    step=0, handoff_id="h-1", contract="ticket@1.0.0", created_at=T0,
)  # fmt: skip
READ = ReadRecord(
    id="r-1", correlation_id="wf-1", handoff_id="h-1", agent="refunds", agent_version="1.0.0",
    operation="get", query="{}", returned="[]", at=T0,
)  # fmt: skip


def entry(seq: int) -> Entry:
    """Row ``seq`` of wf-1."""
    return Entry(correlation_id="wf-1", seq=seq, handoff_id="h-1", kind="proposed", at=T0)


def raw(url: str, schema: str) -> psycopg.Connection[Any]:
    """A plain connection (autocommit) working in ``schema``."""
    return psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}")


def recorded(url: str, schema: str) -> list[tuple[Any, ...]]:
    """The schema's migration rows."""
    with raw(url, schema) as conn:
        return conn.execute("SELECT version, name FROM seamline_migrations ORDER BY 1").fetchall()


def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait up to 30 s for ``condition``."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def waiting_on_advisory_locks(url: str, schema: str) -> int:
    """How many connections of the store in ``schema`` wait for an advisory lock."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
            [f"seamline/{schema}"],
        ).fetchone()
    return int(row[0]) if row else 0


# --- append-only tables ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE ledger SET kind = 'completed'", "the ledger is append-only"),
        ("DELETE FROM ledger", "the ledger is append-only"),
        ("TRUNCATE ledger", "the ledger is append-only"),
        ("UPDATE artifacts SET value = '\"forged\"'", "artifacts are append-only: write a new"),
        ("DELETE FROM artifacts", "artifacts are append-only"),
        ("TRUNCATE artifacts", "artifacts are append-only"),
        ("UPDATE memory_reads SET agent = 'someone'", "the read audit is append-only"),
        ("TRUNCATE memory_reads", "the read audit is append-only"),
    ],
)
def test_raw_sql_cannot_change_what_was_recorded(
    pg_store: PostgresStore, pg_url: str, pg_schema: str, statement: str, message: str
) -> None:
    """Triggers refuse UPDATE, DELETE and TRUNCATE on the log, the artifacts and the audit."""
    pg_store.apply(Commit(entries=[entry(1)], artifacts=[ARTIFACT], reads=[READ]))
    with raw(pg_url, pg_schema) as conn, pytest.raises(psycopg.errors.RestrictViolation) as caught:
        conn.execute(statement)
    assert message in str(caught.value)
    assert pg_store.entries(correlation_id="wf-1") == [entry(1)]
    assert [a.value for a in pg_store.artifacts(ArtifactQuery("wf-1"))] == [ARTIFACT.value]
    assert pg_store.reads("wf-1") == [READ]


def test_timestamps_round_trip_as_the_same_instant(pg_store: PostgresStore) -> None:
    """A time in any zone reads back equal (as UTC); microseconds are kept."""
    later = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    pg_store.apply(Commit(workflow=replace(WORKFLOW, updated_at=later)))
    stored = pg_store.get_workflow("wf-1")
    assert stored is not None and stored.updated_at == later
    assert stored.updated_at.utcoffset() == timedelta(0)


# --- schema versions ---------------------------------------------------------------------


def test_a_new_store_records_every_migration(pg_store: PostgresStore, pg_url: str) -> None:
    """migrate=True applies the shipped migrations, numbered 1..N, each recorded once."""
    assert [m.version for m in migrations()] == list(range(1, EXPECTED_VERSION + 1))
    assert recorded(pg_url, pg_store.schema) == [(m.version, m.name) for m in migrations()]


def test_a_missing_schema_names_the_command_that_creates_it(pg_url: str, pg_schema: str) -> None:
    """No schema yet: a StoreError naming `seamline db upgrade`, and nothing is created."""
    with pytest.raises(StoreError) as caught:
        PostgresStore(pg_url, schema=pg_schema)
    assert type(caught.value) is StoreError
    message = str(caught.value)
    assert f"schema {pg_schema!r} of postgresql://" in message
    assert "has no seamline store yet; create it with `seamline db upgrade --store " in message
    assert f"?schema={pg_schema}`" in message
    with psycopg.connect(pg_url) as conn:
        found = conn.execute("SELECT FROM pg_namespace WHERE nspname = %s", [pg_schema])
        assert found.fetchall() == []


def test_an_older_schema_is_refused_until_upgraded_in_place(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """A schema at version 1 is refused with the upgrade command; upgrading keeps its rows."""
    pg_store.apply(Commit(workflow=WORKFLOW, entries=[entry(1)]))
    pg_store.close()
    with raw(pg_url, pg_schema) as conn:  # back to what migration 1 made
        conn.execute("DROP TABLE api_audit, api_tokens, work, memory_reads, artifacts")
        conn.execute("DROP FUNCTION refuse_token_change")
        conn.execute("DELETE FROM seamline_migrations WHERE version > 1")
    with pytest.raises(StoreError) as caught:
        PostgresStore(pg_url, schema=pg_schema)
    message = str(caught.value)
    assert f"has schema version 1, older than this seamline ({EXPECTED_VERSION})" in message
    assert "stop the workers and run `seamline db upgrade --store postgresql://" in message
    before, after = upgrade(pg_url, schema=pg_schema)
    later = [m.name for m in migrations()[1:]]
    assert (before.version, [m.name for m in before.pending]) == (1, later)
    assert (after.version, after.pending) == (EXPECTED_VERSION, ())
    store = PostgresStore(pg_url, schema=pg_schema)
    try:
        assert store.entries(correlation_id="wf-1") == [entry(1)]
        store.apply(Commit(entries=[entry(2)], artifacts=[ARTIFACT]))
        assert store.next_version("wf-1", "order") == 2
    finally:
        store.close()


def test_a_newer_schema_is_refused_and_left_alone(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """A schema a newer seamline wrote: StoreCorruptError asking to upgrade seamline."""
    future = EXPECTED_VERSION + 1
    with raw(pg_url, pg_schema) as conn:
        conn.execute(
            "INSERT INTO seamline_migrations (version, name) VALUES (%s, 'future')", [future]
        )
    for attempt in (
        lambda: PostgresStore(pg_url, schema=pg_schema),
        lambda: PostgresStore(pg_url, schema=pg_schema, migrate=True),
        lambda: upgrade(pg_url, schema=pg_schema),
    ):
        with pytest.raises(StoreCorruptError) as caught:
            attempt()
        assert (
            f"has schema version {future}, newer than this seamline ({EXPECTED_VERSION}); "
            "upgrade seamline"
        ) in str(caught.value)
    assert recorded(pg_url, pg_schema)[-1] == (future, "future")


def test_a_schema_of_other_tables_is_not_taken_over(pg_url: str, pg_schema: str) -> None:
    """A schema holding someone else's tables is refused by the store and by upgrade."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {pg_schema}")
        conn.execute(f"CREATE TABLE {pg_schema}.customers (id int)")
    for attempt in (
        lambda: PostgresStore(pg_url, schema=pg_schema, migrate=True),
        lambda: upgrade(pg_url, schema=pg_schema),
    ):
        with pytest.raises(StoreCorruptError, match="holds other tables and no seamline_migr"):
            attempt()
    with raw(pg_url, pg_schema) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [pg_schema]
        ).fetchall()
    assert tables == [("customers",)]


def test_upgrading_twice_does_nothing_the_second_time(pg_url: str, pg_schema: str) -> None:
    """upgrade is idempotent: the second run finds nothing pending and records nothing."""
    first_before, first_after = upgrade(pg_url, schema=pg_schema)
    assert (first_before.version, len(first_before.pending)) == (None, EXPECTED_VERSION)
    second_before, second_after = upgrade(pg_url, schema=pg_schema)
    assert second_before.pending == () and second_before.version == EXPECTED_VERSION
    assert first_after == second_after
    assert len(recorded(pg_url, pg_schema)) == EXPECTED_VERSION


def test_two_processes_upgrading_at_once_take_turns(pg_url: str, pg_schema: str) -> None:
    """Two `seamline db upgrade` racing on one schema: one creates it, the other finds it done."""
    lock = f"seamline.migrate:{pg_schema}"
    store = f"{pg_url}?schema={pg_schema}"
    with psycopg.connect(pg_url, autocommit=True) as holder:
        # Hold the upgrade lock so both processes are surely inside upgrade at once.
        holder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [lock])
        upgrades = [
            subprocess.Popen(
                [sys.executable, "-m", "seamline", "db", "upgrade", "--store", store],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        eventually(lambda: waiting_on_advisory_locks(pg_url, pg_schema) == 2, "both upgrades")
        holder.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [lock])
    outputs = [process.communicate(timeout=60) for process in upgrades]
    assert [process.returncode for process in upgrades] == [0, 0], outputs
    said = sorted(" ".join(out.split()) for out, _ in outputs)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in migrations())
    assert f"upgraded from nothing to {EXPECTED_VERSION}: {names}" in said[1]
    assert f"is at version {EXPECTED_VERSION}; nothing to do" in said[0]
    assert recorded(pg_url, pg_schema) == [(m.version, m.name) for m in migrations()]


# --- connection strings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        pytest.param("postgresql://postgres:hunter2@127.0.0.1:1/test", "refused", id="port"),
        pytest.param("postgresql://postgres@host.invalid/test", "host.invalid", id="host"),
        pytest.param(
            "postgresql://postgres@127.0.0.1:5432/no_such_database",
            'database "no_such_database" does not exist',
            id="database",
        ),
    ],
)
def test_an_unreachable_store_is_one_clear_store_error(url: str, detail: str) -> None:
    """Bad host, port or database: one StoreError naming the store and what to check."""
    with pytest.raises(StoreError) as caught:
        PostgresStore(url)
    message = str(caught.value)
    assert message.startswith("cannot connect to the PostgreSQL store postgresql://postgres@")
    assert detail in message and "\n" not in message
    assert "check the host, port, database name and credentials" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@127.0.0.1/test", "'mysql://root:***@127.0.0.1/test' is not a Post"),
        ("postgresql://h/db?colour=red", 'invalid URI query parameter: "colour"'),
    ],
)
def test_a_malformed_url_is_a_configuration_error(url: str, message: str) -> None:
    """A string libpq cannot read is the caller's mistake, said without its password."""
    with pytest.raises(ConfigurationError) as caught:
        PostgresStore(url)
    assert message in str(caught.value) and "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"schema": "Bad-Name"}, "schema name 'Bad-Name' is not allowed"),
        ({"schema": "x; DROP TABLE ledger"}, "is not allowed"),
        ({"min_size": 0}, "1 <= min_size <= max_size, got min_size=0"),
        ({"min_size": 5, "max_size": 2}, "got min_size=5 and max_size=2"),
    ],
)
def test_bad_options_are_refused_before_connecting(options: dict[str, Any], message: str) -> None:
    """Schema names and pool sizes are checked before any connection is made."""
    with pytest.raises(ConfigurationError, match=message):
        PostgresStore("postgresql://postgres@127.0.0.1:1/test", **options)


def test_a_closed_store_says_so(pg_url: str, pg_schema: str) -> None:
    """Reads and writes on a closed store raise StoreError saying it is closed."""
    store = PostgresStore(pg_url, schema=pg_schema, migrate=True)
    store.close()
    with pytest.raises(StoreError, match=r"read from store .* failed: it is closed"):
        store.get_workflow("wf-1")
    with pytest.raises(StoreError, match=r"cannot write to store .*: it is closed"):
        store.apply(Commit(entries=[entry(1)]))


# --- lost connections --------------------------------------------------------------------

KILL_ONCE = """
CREATE SEQUENCE kills;
CREATE FUNCTION kill_the_connection() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('kills') <= %(times)s THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
    END IF;
    RETURN NEW;
END $$;
"""
COMMIT = Commit(workflow=WORKFLOW, entries=[entry(1), entry(2)], dead_letters=[LETTER])


def sabotage(url: str, schema: str, trigger: str, *, times: int) -> None:
    """Make the server drop the connection that inserts a ledger row, ``times`` times."""
    with raw(url, schema) as conn:
        conn.execute(KILL_ONCE.replace("%(times)s", str(times)))
        conn.execute(trigger)


def assert_applied_once(store: PostgresStore) -> None:
    """COMMIT's rows are all there, once."""
    assert store.get_workflow("wf-1") == WORKFLOW
    assert store.entries(correlation_id="wf-1") == COMMIT.entries
    assert store.list_dead_letters() == [LETTER]


def test_connections_dropped_while_idle_are_replaced(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """The server drops every pooled connection: the next write and read just reconnect."""
    pg_store.apply(Commit(entries=[entry(1)]))
    for operation in (
        lambda: pg_store.apply(Commit(entries=[entry(2)])),
        lambda: pg_store.entries(correlation_id="wf-1"),
    ):
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [f"seamline/{pg_schema}"],
            )
        operation()
    assert [e.seq for e in pg_store.entries(correlation_id="wf-1")] == [1, 2]


def test_a_connection_dropped_mid_transaction_is_retried_and_applied_once(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """Killed between statements, the commit runs again on a new connection: all of it, once."""
    sabotage(
        pg_url,
        pg_schema,
        "CREATE TRIGGER kill BEFORE INSERT ON ledger FOR EACH ROW "
        "EXECUTE FUNCTION kill_the_connection()",
        times=1,
    )
    pg_store.apply(COMMIT)
    assert_applied_once(pg_store)


def test_a_connection_dropped_during_commit_is_asked_about_and_retried(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """Killed while COMMIT runs (deferred trigger), the server says aborted: it runs again."""
    sabotage(
        pg_url,
        pg_schema,
        "CREATE CONSTRAINT TRIGGER kill AFTER INSERT ON ledger DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION kill_the_connection()",
        times=1,
    )
    pg_store.apply(COMMIT)
    assert_applied_once(pg_store)


def test_a_connection_that_keeps_dropping_fails_cleanly(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """Killed on every attempt: a StoreError saying nothing was written, and nothing was."""
    sabotage(
        pg_url,
        pg_schema,
        "CREATE TRIGGER kill BEFORE INSERT ON ledger FOR EACH ROW "
        "EXECUTE FUNCTION kill_the_connection()",
        times=1_000,
    )
    with pytest.raises(StoreError) as caught:
        pg_store.apply(COMMIT)
    assert type(caught.value) is StoreError
    assert "the connection was lost twice; nothing was written" in str(caught.value)
    assert pg_store.get_workflow("wf-1") is None
    assert pg_store.list_dead_letters() == []


class CommitCutter:
    """A TCP relay to the server that, once armed, loses the reply to the next COMMIT.

    It passes the COMMIT on, swallows what the server answers and then closes both sides:
    the server has committed, and the client only knows its connection is gone.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.marker = b"COMMIT"
        """What the statement whose reply is lost contains."""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.armed = False
        self.cuts = 0
        self._swallow = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._relay, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, False), daemon=True).start()

    def _relay(self, source: socket.socket, target: socket.socket, upward: bool) -> None:
        try:
            while data := source.recv(65536):
                cut = upward and self.armed and self.marker in data
                if cut:
                    self.armed = False
                    self._swallow.set()
                if upward or not self._swallow.is_set():
                    target.sendall(data)
                if cut:
                    time.sleep(0.3)  # the server commits; its answer is swallowed
                    self.cuts += 1
                    self._swallow.clear()
                    break
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def close(self) -> None:
        """Stop accepting connections."""
        self.listener.close()


@pytest.fixture
def cutter(pg_url: str) -> Iterator[CommitCutter]:
    """A CommitCutter in front of the test server."""
    params = conninfo_to_dict(pg_url)
    relay = CommitCutter(str(params.get("host", "127.0.0.1")), int(str(params.get("port", 5432))))
    yield relay
    relay.close()


def test_a_lost_reply_to_a_commit_that_landed_is_not_applied_twice(
    pg_store: PostgresStore, pg_url: str, pg_schema: str, cutter: CommitCutter
) -> None:
    """The server committed but the reply never came: the store asks, learns it landed, and
    neither applies it again nor reports a conflict with itself."""
    through_relay = make_conninfo(
        pg_url, host="127.0.0.1", port=str(cutter.port), sslmode="disable"
    )
    store = PostgresStore(through_relay, schema=pg_schema)
    try:
        cutter.armed = True
        store.apply(COMMIT)
        assert cutter.cuts == 1
        assert_applied_once(pg_store)
    finally:
        store.close()


def leased(store: PostgresStore) -> Lease:
    """WORKFLOW queued with its first row, and leased: a worker's next step is a fast path."""
    store.apply(Commit(workflow=WORKFLOW, entries=[entry(1)], enqueue="a0"))
    lease = store.claim("worker-1", ["a0"], 30)
    assert lease is not None
    return lease


def test_a_workers_step_killed_mid_statement_is_retried_and_applied_once(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """A leased step is one statement; killed while it runs, it runs again, once."""
    lease = leased(pg_store)
    sabotage(
        pg_url,
        pg_schema,
        "CREATE TRIGGER kill BEFORE INSERT ON ledger FOR EACH ROW "
        "EXECUTE FUNCTION kill_the_connection()",
        times=1,
    )
    pg_store.apply(Commit(entries=[entry(2), entry(3)], lease=lease))
    assert [e.seq for e in pg_store.entries(correlation_id="wf-1")] == [1, 2, 3]


def test_a_lost_reply_to_a_workers_step_that_landed_is_not_applied_twice(
    pg_store: PostgresStore, pg_url: str, pg_schema: str, cutter: CommitCutter
) -> None:
    """The step's statement ran but its reply was lost: the store finds its first row in
    the log and neither runs it again nor reports a conflict with itself."""
    lease = leased(pg_store)
    through_relay = make_conninfo(
        pg_url, host="127.0.0.1", port=str(cutter.port), sslmode="disable"
    )
    store = PostgresStore(through_relay, schema=pg_schema)
    try:
        cutter.marker = b"WITH fence"
        cutter.armed = True
        store.apply(Commit(entries=[entry(2), entry(3)], lease=lease))
        assert cutter.cuts == 1
        assert [e.seq for e in pg_store.entries(correlation_id="wf-1")] == [1, 2, 3]
    finally:
        store.close()


def test_a_workers_step_that_collides_changes_nothing(pg_store: PostgresStore) -> None:
    """A step whose rows are already there (a late duplicate) is a conflict; the lease and
    the log stay as they were."""
    lease = leased(pg_store)
    pg_store.apply(Commit(entries=[entry(2)], lease=lease))
    with pytest.raises(ConflictError, match="already recorded this step"):
        pg_store.apply(Commit(entries=[entry(3), entry(2)], lease=lease))
    assert [e.seq for e in pg_store.entries(correlation_id="wf-1")] == [1, 2]


# --- concurrent writers ------------------------------------------------------------------


def test_a_writer_waiting_on_an_uncommitted_key_loses_when_it_commits(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """Another transaction holds (wf-1, 1) uncommitted: the store waits, then gets ConflictError
    and writes nothing of its commit."""
    outcome: list[BaseException | None] = []
    with raw(pg_url, pg_schema) as other, other.transaction():
        other.execute(
            "INSERT INTO ledger (correlation_id, seq, handoff_id, kind, at) "
            "VALUES ('wf-1', 1, 'h-other', 'proposed', now())"
        )

        def write() -> None:
            try:
                pg_store.apply(COMMIT)
                outcome.append(None)
            except ConflictError as error:
                outcome.append(error)

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.3)
        assert outcome == []  # waiting for the other transaction
    writer.join(timeout=30)
    assert isinstance(outcome[0], ConflictError)
    assert "another writer already recorded this step" in str(outcome[0])
    assert pg_store.get_workflow("wf-1") is None and pg_store.list_dead_letters() == []
    assert [e.handoff_id for e in pg_store.entries(correlation_id="wf-1")] == ["h-other"]


def test_commits_that_write_artifacts_take_turns(
    pg_store: PostgresStore, pg_url: str, pg_schema: str
) -> None:
    """Artifact commits wait on one lock (so row numbers commit in order); others do not."""
    done = threading.Event()
    with raw(pg_url, pg_schema) as other, other.transaction():
        other.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"seamline.artifacts:{pg_schema}"],
        )

        def write() -> None:
            pg_store.apply(Commit(artifacts=[ARTIFACT]))
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        eventually(lambda: waiting_on_advisory_locks(pg_url, pg_schema) == 1, "the writer")
        pg_store.apply(Commit(entries=[entry(1)]))  # no artifacts: not held up
        assert not done.is_set()
    writer.join(timeout=30)
    assert done.is_set() and pg_store.next_version("wf-1", "order") == 2


# --- the extra ---------------------------------------------------------------------------


def python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_core_install_never_imports_psycopg() -> None:
    """Importing seamline, its stores and its CLI loads no psycopg module."""
    done = python(
        "import sys, seamline, seamline.stores, seamline.cli, seamline.memory\n"
        "print(sorted(m for m in sys.modules if m.startswith('psycopg')))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_postgres_names_it() -> None:
    """Without psycopg, PostgresStore, open_store and `seamline db` say which extra to install."""
    done = python(
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "from seamline.exceptions import MissingExtraError\n"
        "from seamline.stores import open_store\n"
        "try:\n"
        "    open_store('postgresql://postgres@127.0.0.1/test')\n"
        "except MissingExtraError as error:\n"
        "    print(error)\n"
        "from seamline.cli import main\n"
        "sys.argv = ['seamline', 'db', 'status', '--store', 'postgresql://127.0.0.1/test']\n"
        "main()\n"
    )
    expected = 'the PostgreSQL store needs an optional dependency: pip install "seamline[postgres]"'
    assert done.stdout.strip() == expected
    assert done.returncode == 1 and " ".join(done.stderr.split()) == f"error: {expected}"
