"""The shared ledger: PostgreSQL through psycopg 3 and a connection pool.

One database serves every runtime that opens it, on any machine. It keeps each promise of
the SQLite store: the log, the artifacts and the read audit are append-only (triggers refuse
UPDATE, DELETE and TRUNCATE); a ``(correlation_id, seq)`` or artifact-version collision
raises ConflictError and rolls the whole commit back; only an open dead letter can be
resolved. And it adds what a database across a network needs:

- A versioned schema (:mod:`seamline.stores._pg_schema`): a store opens only on a schema at
  this seamline's version and otherwise says what to run. ``seamline db upgrade`` creates
  and upgrades it; ``migrate=True`` does the same on open, for tests and embedded use.
- Lost connections: a commit or read whose connection drops is run again on a fresh one when
  that cannot apply it twice (see :meth:`PostgresStore.apply`). PostgreSQL never keeps half
  a transaction, so a commit is always whole or absent.
- Full-text search with tsvector and tsquery over a GIN index, ranked by ``ts_rank``; the
  words are cut in Python the way FTS5 cuts them (:mod:`seamline.stores._pg_words`).
- Vectors as float32 bytes in a bytea column, searched by the numpy index as on SQLite.
  pgvector is neither needed nor used: an exact scan of one workflow's vectors takes
  milliseconds in numpy. Whether the server could install it is detected through
  ``pg_available_extensions`` and shown by ``seamline db status``
  (:attr:`SchemaStatus.pgvector`), for the day an approximate index pays off.

Importing this module without the ``postgres`` extra raises MissingExtraError.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from seamline.exceptions import ConfigurationError, ConflictError, MissingExtraError, StoreError
from seamline.stores import _sql
from seamline.stores._sql import (
    ARTIFACT_COLUMNS,
    AUDIT_COLUMNS,
    DEAD_LETTER_COLUMNS,
    ENTRY_COLUMNS,
    LOOKUP_COLUMNS,
    READ_COLUMNS,
    TOKEN_COLUMNS,
    WORKFLOW_COLUMNS,
    scope,
    where_equal,
)
from seamline.stores.base import (
    ArtifactQuery,
    ArtifactRecord,
    AuditRecord,
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    Entry,
    Lease,
    ReadRecord,
    TermMatch,
    TokenRecord,
    WorkflowRecord,
    WorkflowStatus,
)
from seamline.stores.target import DEFAULT_SCHEMA

try:
    import psycopg
    import psycopg.sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from psycopg.rows import TupleRow
    from psycopg.types.json import Jsonb
    from psycopg_pool import ConnectionPool, PoolClosed
except ImportError as missing:
    raise MissingExtraError(feature="the PostgreSQL store", extra="postgres") from missing

from seamline.stores import _pg_schema, _pg_words
from seamline.stores._pg_schema import SchemaStatus

__all__ = ["PostgresStore", "SchemaStatus", "schema_status", "upgrade"]

T = TypeVar("T")
Connection = psycopg.Connection[TupleRow]

_UPSERT_WORKFLOW = """
INSERT INTO workflows (id, name, status, entry, intent_sha256, max_hops, app, result,
    created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET status = excluded.status, max_hops = excluded.max_hops,
    result = excluded.result, updated_at = excluded.updated_at
"""
_INSERT_ENTRY = (
    "INSERT INTO ledger (correlation_id, seq, handoff_id, kind, at, data) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
_INSERT_DEAD_LETTER = """
INSERT INTO dead_letters (id, correlation_id, reason, message, issues, envelope, path, status,
    created_at, resolved_at, resolution)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_INSERT_ARTIFACT = """
INSERT INTO artifacts (id, correlation_id, tenant, key, version, kind, value, text, words,
    producer, producer_version, step, handoff_id, contract, created_at, embedder, vector)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_INSERT_READ = """
INSERT INTO memory_reads (id, correlation_id, handoff_id, agent, agent_version, operation,
    query, returned, at, trace_id, span_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_RESOLVE_DEAD_LETTER = """
UPDATE dead_letters SET status = %s, resolved_at = %s, resolution = %s
WHERE id = %s AND status = 'open'
"""
_INSERT_TOKEN = (
    f"INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_REVOKE_TOKEN = (
    "UPDATE api_tokens SET revoked_at = %s, revoked_by = %s WHERE id = %s AND revoked_at IS NULL"
)
_INSERT_AUDIT = f"INSERT INTO api_audit ({AUDIT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
_LEASE_FOR = "make_interval(secs => %s)"
_FENCE = f"""
UPDATE work SET lease_expires_at = now() + {_LEASE_FOR}
WHERE workflow_id = %s AND lease_token = %s
RETURNING lease_expires_at, pg_current_xact_id()::text
"""
_STEP = f"""
WITH fence AS (
    UPDATE work SET lease_expires_at = now() + {_LEASE_FOR}
    WHERE workflow_id = %s AND lease_token = %s
    RETURNING 1
)
INSERT INTO ledger (correlation_id, seq, handoff_id, kind, at, data)
SELECT v.* FROM (VALUES {{values}}) AS v (correlation_id, seq, handoff_id, kind, at, data)
WHERE EXISTS (SELECT FROM fence)
RETURNING seq
"""
"""A worker's ordinary step in one statement (an implicit transaction of its own): renew
the lease and append the rows only if the lease is still this worker's."""
_STEP_FIRST_ROW = "(%s, %s::integer, %s, %s, %s::timestamptz, %s)"
_ENQUEUE = "INSERT INTO work (workflow_id, agent, ready_at) VALUES (%s, %s, now())"
_DEQUEUE = "DELETE FROM work WHERE workflow_id = %s"
_CLAIM = f"""
UPDATE work SET lease_token = %s, lease_owner = %s, lease_expires_at = now() + {_LEASE_FOR}
WHERE workflow_id = (
    SELECT workflow_id FROM work
    WHERE lease_token IS NULL AND agent = ANY(%s)
    ORDER BY ready_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING workflow_id, agent, lease_expires_at
"""
"""The claim: one statement, one round trip. SKIP LOCKED lets concurrent workers pass over
each other's candidate rows instead of queueing behind them; the partial index
``work_ready`` holds only unleased rows, so the scan never wades through leased ones."""
_RELEASE = """
UPDATE work SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, agent = %s,
    ready_at = now()
WHERE workflow_id = %s AND lease_token = %s
"""
_REAP = """
UPDATE work SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
    ready_at = now()
WHERE lease_token IS NOT NULL AND lease_expires_at < now()
RETURNING workflow_id
"""
_CONFLICTS = (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected)
"""Two writers on the same keys: one loses on the unique index (or, if each waits for the
other, PostgreSQL aborts one); either way the loser's transaction is rolled back whole."""
_OUTCOME_WAIT = 10.0
"""How long to wait for a commit whose connection was lost to show as committed or not."""


class PostgresStore:
    """A Store in one schema of a PostgreSQL database, shared by every process that opens it.

    ``url`` is a libpq connection string (``postgresql://user:password@host:5432/db``);
    ``schema`` is where the tables live, so several stores can share a database. The pool
    keeps ``min_size`` to ``max_size`` connections; each is a server process, so keep
    ``max_size`` times the number of processes under the server's ``max_connections``.
    The store opens only on a schema at this seamline's version: ``migrate=True`` creates
    or upgrades it first (for tests and embedded use; a fleet of workers should leave that
    to one ``seamline db upgrade`` per release). Threads may share a store: each call takes
    its own connection from the pool.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        min_size: int = 1,
        max_size: int = 10,
        migrate: bool = False,
    ) -> None:
        self.schema = _pg_schema.check_schema_name(schema)
        if not 1 <= min_size <= max_size:
            raise ConfigurationError(
                f"pool sizes must satisfy 1 <= min_size <= max_size, got min_size={min_size} "
                f"and max_size={max_size}"
            )
        conninfo, location = _conninfo(url, self.schema)
        self.location = location
        """The store's URL without its password, as commands and messages name it."""
        with _connect(conninfo, self.location) as conn:
            try:
                if migrate:
                    _pg_schema.upgrade(conn, self.schema, self.location)
                _pg_schema.check(_pg_schema.read_status(conn, self.schema, self.location))
            except psycopg.Error as error:
                raise StoreError(
                    f"cannot read the schema of {self.location}: {_one_line(error)}"
                ) from None
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True},
            name=f"seamline.{self.schema}",
            open=True,
        )
        self._artifacts_lock = f"seamline.artifacts:{self.schema}"
        self._conninfo = conninfo
        self._channel = f"seamline_work_{self.schema}"
        self._listener: Connection | None = None

    # -- writing -------------------------------------------------------------------------------

    def apply(self, commit: Commit) -> None:
        """Apply ``commit`` in one transaction; run it again if the connection was lost.

        Lost before COMMIT was sent, the transaction is certainly gone and runs again on a
        fresh connection. Lost while COMMIT was in flight, the outcome is asked of the
        server by transaction id (``pg_xact_status``): committed means done, aborted means
        run it again. Nothing is ever applied twice or in part.
        """
        step = _is_step(commit)
        try:
            for attempt in range(2):
                if attempt:
                    self._pool.check()  # the other idle connections may be gone too
                if step:
                    if self._try_step(commit) or self._landed(commit):
                        return
                    continue
                progress: list[str] = []
                if self._try_apply(commit, progress):
                    return
                if len(progress) == 2 and self._outcome(progress[0]) == "committed":
                    return
            raise StoreError(
                f"write to store {self.location} failed: the connection was lost twice; "
                "nothing was written. Check the server and retry"
            )
        except _CONFLICTS as error:
            raise ConflictError(
                f"another writer already recorded this step ({_one_line(error)}); nothing "
                "was written. Reload the workflow and retry"
            ) from None
        except PoolClosed:
            raise StoreError(f"cannot write to store {self.location}: it is closed") from None
        except psycopg.Error as error:
            raise StoreError(f"write to store {self.location} failed: {_one_line(error)}") from None

    def _try_step(self, commit: Commit) -> bool:
        """A worker's step (fence and log rows only) as one statement, so one round trip
        and no BEGIN/COMMIT: False when the connection was lost before the answer."""
        assert commit.lease is not None
        lease = commit.lease
        rows = [
            (e.correlation_id, e.seq, e.handoff_id, e.kind, e.at, e.data) for e in commit.entries
        ]
        values = ", ".join([_STEP_FIRST_ROW] + ["(%s, %s, %s, %s, %s, %s)"] * (len(rows) - 1))
        params = [lease.seconds, lease.workflow_id, lease.token]
        params += [value for row in rows for value in row]
        with self._pool.connection() as conn:
            try:
                inserted = conn.execute(_STEP.format(values=values), params).fetchall()
            except psycopg.OperationalError:
                if conn.broken:
                    return False
                raise
        if not inserted:  # the fence matched nothing, so nothing was inserted
            raise _lost(lease)
        return True

    def _landed(self, commit: Commit) -> bool:
        """Whether a step whose answer was lost is in the log (its first row decides: the
        rows of one statement land together or not at all)."""
        first = commit.entries[0]
        rows = self._query(
            "SELECT handoff_id, kind FROM ledger WHERE correlation_id = %s AND seq = %s",
            [first.correlation_id, first.seq],
        )
        return bool(rows) and tuple(rows[0]) == (first.handoff_id, first.kind)

    def _try_apply(self, commit: Commit, progress: list[str]) -> bool:
        """One attempt: True when applied, False when the connection was lost.

        ``progress`` gets the transaction id once it has one, then ``"commit"`` when COMMIT
        is about to be sent: after that, a lost connection leaves the outcome to be asked.
        """
        with self._pool.connection() as conn:
            try:
                with conn.transaction():
                    if commit.artifacts:
                        # Commits that write artifacts take turns, so artifact row numbers
                        # are committed in order and a reader resuming after row N misses
                        # none. First, before any row is locked: no deadlock.
                        conn.execute(
                            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                            [self._artifacts_lock],
                        )
                    if commit.lease is not None:
                        # The fence first, and it names the transaction: one round trip.
                        lease = commit.lease
                        fenced = conn.execute(
                            _FENCE, [lease.seconds, lease.workflow_id, lease.token]
                        ).fetchone()
                        if fenced is None:  # a worker whose lease was lost writes nothing
                            raise _lost(lease)
                        progress.append(str(fenced[1]))
                    else:
                        found = conn.execute("SELECT pg_current_xact_id()::text").fetchone()
                        progress.append(str(found[0]) if found else "")
                    _write(conn, commit, self._channel)
                    progress.append("commit")
            except psycopg.OperationalError:
                if conn.broken:
                    return False
                raise
        return True

    def _outcome(self, xid: str) -> str:
        """Whether transaction ``xid``, whose COMMIT reply was lost, committed or aborted."""
        deadline = time.monotonic() + _OUTCOME_WAIT
        self._pool.check()
        while True:
            try:
                rows = self._query("SELECT pg_xact_status(%s::xid8)", [xid])
            except StoreError as error:
                raise StoreError(
                    f"the connection to {self.location} was lost while committing, and "
                    f"whether the commit landed cannot be asked ({error}); reload the "
                    "workflow once the server is back and retry only if it is not there"
                ) from None
            status = str(rows[0][0])
            if status != "in progress" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if status == "in progress":
            raise StoreError(
                f"the connection to {self.location} was lost while committing and transaction "
                f"{xid} is still in progress after {_OUTCOME_WAIT:.0f} s; reload the workflow "
                "later and retry only if the step is not there"
            )
        return status

    # -- reading -------------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[TupleRow]:
        """Rows of one statement, read again on a fresh connection if the first was lost."""
        try:
            return self._attempt(lambda conn: conn.execute(sql, params).fetchall())
        except PoolClosed:
            raise StoreError(f"read from store {self.location} failed: it is closed") from None
        except psycopg.Error as error:
            raise StoreError(
                f"read from store {self.location} failed: {_one_line(error)}"
            ) from None

    def _attempt(self, work: Callable[[Connection], T]) -> T:
        with self._pool.connection() as conn:
            try:
                return work(conn)
            except psycopg.OperationalError:
                if not conn.broken:
                    raise
        self._pool.check()  # the other idle connections may be gone too
        with self._pool.connection() as conn:
            return work(conn)

    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None:
        """One workflow, or None."""
        rows = self._query(f"SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = %s", [workflow_id])
        return _sql.workflow(rows[0]) if rows else None

    def list_workflows(
        self, *, status: WorkflowStatus | None = None, limit: int = 100
    ) -> list[WorkflowRecord]:
        """Workflows, newest first."""
        where, params = where_equal("%s", status=status)
        rows = self._query(
            f"SELECT {WORKFLOW_COLUMNS} FROM workflows {where} ORDER BY id DESC LIMIT %s",
            [*params, limit],
        )
        return [_sql.workflow(row) for row in rows]

    def entries(
        self, *, correlation_id: str | None = None, handoff_id: str | None = None
    ) -> list[Entry]:
        """Ledger rows of one workflow or one handoff, in log order."""
        if correlation_id is not None:
            column, value = "correlation_id", correlation_id
        elif handoff_id is not None:
            column, value = "handoff_id", handoff_id
        else:
            raise StoreError("entries() needs correlation_id or handoff_id")
        rows = self._query(
            f"SELECT {ENTRY_COLUMNS} FROM ledger WHERE {column} = %s ORDER BY seq", [value]
        )
        return [_sql.entry(row) for row in rows]

    def get_dead_letter(self, dead_letter_id: str) -> DeadLetterRecord | None:
        """One dead letter, or None."""
        rows = self._query(
            f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = %s", [dead_letter_id]
        )
        return _sql.dead_letter(rows[0]) if rows else None

    def list_dead_letters(
        self, *, status: DeadLetterStatus | None = None, limit: int = 100
    ) -> list[DeadLetterRecord]:
        """Dead letters, newest first."""
        where, params = where_equal("%s", status=status)
        rows = self._query(
            f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters {where} "
            "ORDER BY created_at DESC, id DESC LIMIT %s",
            [*params, limit],
        )
        return [_sql.dead_letter(row) for row in rows]

    # -- memory --------------------------------------------------------------------------------

    def artifacts(self, query: ArtifactQuery) -> list[ArtifactRecord]:
        """Artifacts matching ``query``, newest first."""
        clauses, params = _sql.artifact_filters(query, mark="%s", stamp=_same, field=_json_field)
        rows = self._query(
            f"SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE {' AND '.join(clauses)} "
            "ORDER BY seq DESC LIMIT %s",
            [*params, query.limit],
        )
        return [_sql.artifact(row) for row in rows]

    def artifact(
        self, correlation_id: str, key: str, *, version: int | None, tenant: str | None
    ) -> ArtifactRecord | None:
        """One version of ``key`` (the newest when ``version`` is None), or None."""
        where = "correlation_id = %s AND key = %s"
        params: list[str | int] = [correlation_id, key]
        if version is not None:
            where += " AND version = %s"
            params.append(version)
        rows = self._query(
            f"SELECT {LOOKUP_COLUMNS} FROM artifacts WHERE {where} ORDER BY version DESC LIMIT 1",
            params,
        )
        if not rows and tenant is not None and version is None:
            rows = self._query(
                f"SELECT {LOOKUP_COLUMNS} FROM artifacts WHERE tenant = %s AND key = %s "
                "ORDER BY seq DESC LIMIT 1",
                [tenant, key],
            )
        return _sql.artifact(rows[0]) if rows else None

    def artifacts_by_seq(self, seqs: Sequence[int]) -> dict[int, ArtifactRecord]:
        """Artifacts by their row number (search results come back as row numbers)."""
        if not seqs:
            return {}
        rows = self._query(
            f"SELECT seq, {ARTIFACT_COLUMNS} FROM artifacts WHERE seq = ANY(%s::bigint[])",
            [list(seqs)],
        )
        return {row[0]: _sql.artifact(row[1:]) for row in rows}

    def next_version(self, correlation_id: str, key: str) -> int:
        """The version the next write of ``key`` in this workflow gets."""
        rows = self._query(
            "SELECT max(version) FROM artifacts WHERE correlation_id = %s AND key = %s",
            [correlation_id, key],
        )
        return int(rows[0][0] or 0) + 1

    def lexical_search(
        self,
        correlation_id: str,
        tenant: str | None,
        terms: Sequence[str],
        *,
        match: TermMatch,
        limit: int,
    ) -> list[tuple[int, float]]:
        """``(seq, ts_rank)`` best first (higher is better), newest first among equals.

        The rank is normalized by document length (``ts_rank(..., 1)``), as BM25 is, so a
        short artifact that holds the words ranks above a long one that mentions them once.
        """
        query = _pg_words.tsquery(terms, match)
        if query is None:
            return []
        clauses, params = scope(correlation_id, tenant, mark="%s")
        rows = self._query(
            "SELECT seq, ts_rank(words, query, 1) AS score "
            "FROM artifacts, CAST(%s AS tsquery) AS query "
            f"WHERE words @@ query AND {' AND '.join(clauses)} "
            "ORDER BY score DESC, seq DESC LIMIT %s",
            [query, *params, limit],
        )
        return [(int(seq), float(score)) for seq, score in rows]

    def term_documents(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many artifacts there are (the highest row number: exact enough for search
        statistics and read from the index), and how many hold each of ``terms``."""
        queries = {term: q for term in terms if (q := _pg_words.tsquery([term], "all"))}
        ((total, counts),) = self._query(
            "SELECT (SELECT coalesce(max(seq), 0) FROM artifacts), ARRAY("
            "SELECT (SELECT count(*) FROM artifacts WHERE words @@ asked.query) "
            "FROM unnest(%s::tsquery[]) WITH ORDINALITY AS asked (query, n) ORDER BY n)",
            [list(queries.values())],
        )
        return int(total), {term: int(count) for term, count in zip(queries, counts, strict=True)}

    def artifact_vectors(
        self, correlation_id: str, tenant: str | None, after: int
    ) -> list[tuple[int, str, bytes]]:
        """``(seq, embedder, vector)`` of artifacts written after row ``after``."""
        clauses, params = scope(correlation_id, tenant, mark="%s")
        rows = self._query(
            "SELECT seq, embedder, vector FROM artifacts WHERE seq > %s AND vector IS NOT NULL "
            f"AND {' AND '.join(clauses)} ORDER BY seq",
            [after, *params],
        )
        return [(int(seq), str(name), bytes(blob)) for seq, name, blob in rows]

    def reads(self, correlation_id: str, *, agent: str | None = None) -> list[ReadRecord]:
        """The read audit of one workflow, in order."""
        where, params = "correlation_id = %s", [correlation_id]
        if agent is not None:
            where += " AND agent = %s"
            params.append(agent)
        rows = self._query(
            f"SELECT {READ_COLUMNS} FROM memory_reads WHERE {where} ORDER BY seq", params
        )
        return [_sql.read(row) for row in rows]

    # -- access (the HTTP API's tokens and audit log) -------------------------------------------

    def add_token(self, token: TokenRecord, audit: AuditRecord) -> None:
        """Store a new token and its audit record in one transaction."""

        def write(conn: Connection) -> None:
            conn.execute(_INSERT_TOKEN, _sql.token_row(token, _same))
            conn.execute(_INSERT_AUDIT, _sql.audit_row(audit, _same))

        self._write(
            write,
            clash=f"an active token is already named {token.name!r}; nothing was written. "
            "Pick another name, or revoke that token first",
        )

    def get_token(self, token_id: str) -> TokenRecord | None:
        """One token, or None."""
        rows = self._query(f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = %s", [token_id])
        return _sql.token(rows[0]) if rows else None

    def list_tokens(self, *, team: str | None = None) -> list[TokenRecord]:
        """Tokens, revoked ones included, newest first."""
        where, params = where_equal("%s", team=team)
        rows = self._query(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens {where} ORDER BY created_at DESC, id DESC",
            params,
        )
        return [_sql.token(row) for row in rows]

    def revoke_token(self, token_id: str, at: datetime, by: str, audit: AuditRecord) -> None:
        """Revoke an active token and record it, in one transaction."""

        def write(conn: Connection) -> None:
            if conn.execute(_REVOKE_TOKEN, [at, by, token_id]).rowcount != 1:
                raise ConflictError(
                    f"token {token_id} is not active (unknown or already revoked); "
                    "nothing was written"
                )
            conn.execute(_INSERT_AUDIT, _sql.audit_row(audit, _same))

        self._write(write, clash=f"revoking token {token_id} clashed; nothing was written")

    def add_audit(self, record: AuditRecord) -> None:
        """Append one record to the audit log."""
        self._write(
            lambda conn: conn.execute(_INSERT_AUDIT, _sql.audit_row(record, _same)),
            clash=f"audit record {record.id} already exists; nothing was written",
        )

    def list_audit(self, *, team: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The audit log, newest first."""
        where, params = where_equal("%s", team=team)
        rows = self._query(
            f"SELECT {AUDIT_COLUMNS} FROM api_audit {where} ORDER BY seq DESC LIMIT %s",
            [*params, limit],
        )
        return [_sql.audit(row) for row in rows]

    def _write(self, work: Callable[[Connection], object], *, clash: str) -> None:
        """Run ``work`` in one transaction, once: these small writes are not retried on a
        lost connection (an insert whose COMMIT reply was lost would clash with itself), so
        the caller hears of it and decides."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                work(conn)
        except _CONFLICTS:
            raise ConflictError(clash) from None
        except PoolClosed:
            raise StoreError(f"cannot write to store {self.location}: it is closed") from None
        except psycopg.Error as error:
            raise StoreError(f"write to store {self.location} failed: {_one_line(error)}") from None

    # -- the work queue -----------------------------------------------------------------------

    def claim(self, owner: str, agents: Sequence[str], seconds: float) -> Lease | None:
        """Lease the longest-waiting unleased workflow whose open handoff is for one of
        ``agents``, for ``seconds``; None when there is none."""
        token = uuid.uuid4().hex
        rows = self._write_one(_CLAIM, [token, owner, seconds, list(agents)])
        if not rows:
            return None
        workflow_id, agent, expires = rows[0]
        return Lease(str(workflow_id), token, owner, str(agent), seconds, expires)

    def renew(self, lease: Lease) -> Lease:
        """Extend ``lease`` by its seconds; ConflictError if it was lost."""
        rows = self._write_one(_FENCE, [lease.seconds, lease.workflow_id, lease.token])
        if not rows:
            raise _lost(lease)
        return dataclasses.replace(lease, expires_at=rows[0][0])

    def release(self, lease: Lease, agent: str) -> None:
        """Put the workflow back on the queue for ``agent``; a lost lease has nothing to give."""
        self._write_one(_RELEASE, [agent, lease.workflow_id, lease.token], notify=True)

    def reap(self) -> list[str]:
        """Return expired leases to the queue (their holders stalled or died)."""
        rows = self._write_one(_REAP, [], notify=True)
        return [str(row[0]) for row in rows]

    def wait_for_work(self, timeout: float) -> bool:
        """Block until a commit announces ready work (LISTEN/NOTIFY) or ``timeout`` passes.

        Notifications only wake idle workers sooner; a worker polls regardless, so a lost
        notification costs at most one poll interval.
        """
        try:
            if self._listener is None or self._listener.closed:
                self._listener = psycopg.connect(self._conninfo, autocommit=True)
                self._listener.execute(
                    psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self._channel))
                )
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                return True
        except psycopg.OperationalError:
            self._listener = None  # reconnect on the next wait; this one counts as a poll
        return False

    def _write_one(
        self, sql: str, params: Sequence[Any], *, notify: bool = False
    ) -> list[TupleRow]:
        """One statement in its own transaction (the queue's small writes), retried once on
        a lost connection: each is safe to run twice, as a claim lost in flight simply
        expires and is reaped."""

        def run(conn: Connection) -> list[TupleRow]:
            with conn.transaction():
                cursor = conn.execute(sql, params)
                rows = cursor.fetchall() if cursor.description else []
                if notify and (rows or cursor.rowcount):
                    conn.execute("SELECT pg_notify(%s, '')", [self._channel])
            return rows

        try:
            return self._attempt(run)
        except PoolClosed:
            raise StoreError(f"cannot use store {self.location}: it is closed") from None
        except psycopg.Error as error:
            raise StoreError(f"work queue of {self.location} failed: {_one_line(error)}") from None

    def close(self) -> None:
        """Close every pooled connection; the store is unusable afterwards."""
        if self._listener is not None:
            self._listener.close()
        self._pool.close()


def schema_status(url: str, *, schema: str = DEFAULT_SCHEMA) -> SchemaStatus:
    """Where ``schema`` stands: its version (None if absent) against this seamline's."""
    conninfo, location = _conninfo(url, _pg_schema.check_schema_name(schema))
    with _connect(conninfo, location) as conn:
        try:
            return _pg_schema.read_status(conn, schema, location)
        except psycopg.Error as error:
            raise StoreError(f"cannot read the schema of {location}: {_one_line(error)}") from None


def upgrade(url: str, *, schema: str = DEFAULT_SCHEMA) -> tuple[SchemaStatus, SchemaStatus]:
    """Create ``schema`` or apply its pending migrations; the status before and after.

    Safe to run from several processes at once: they take turns on an advisory lock, and
    whoever comes second finds nothing to do.
    """
    conninfo, location = _conninfo(url, _pg_schema.check_schema_name(schema))
    with _connect(conninfo, location) as conn:
        try:
            before = _pg_schema.upgrade(conn, schema, location)
            return before, _pg_schema.read_status(conn, schema, location)
        except psycopg.Error as error:
            raise StoreError(f"cannot upgrade {location}: {_one_line(error)}") from None


def _same(at: datetime) -> datetime:
    """Timestamps travel to PostgreSQL as they are (timestamptz)."""
    return at


def _is_step(commit: Commit) -> bool:
    """Whether ``commit`` is a leased writer's plain step: log rows and nothing else."""
    return (
        commit.lease is not None
        and bool(commit.entries)
        and commit.workflow is None
        and not (commit.dead_letters or commit.dead_letter_updates)
        and not (commit.artifacts or commit.reads)
        and commit.enqueue is None
    )


def _lost(lease: Lease) -> ConflictError:
    return ConflictError(
        f"the lease of {lease.owner} on workflow {lease.workflow_id} was lost (it expired and "
        "the workflow went back to the queue); nothing was written. Another worker carries on"
    )


def _write(conn: Connection, commit: Commit, channel: str) -> None:
    """Every row of ``commit`` (its lease already fenced), in the order SqliteStore writes
    them; then the work queue."""
    if (w := commit.workflow) is not None:
        conn.execute(
            _UPSERT_WORKFLOW,
            [
                w.id,
                w.name,
                w.status,
                w.entry,
                w.intent_sha256,
                w.max_hops,
                w.app,
                w.result,
                w.created_at,
                w.updated_at,
            ],
        )
    with conn.cursor() as cursor:
        if commit.entries:
            # One multi-row statement: a step's four or five rows cost one execution.
            rows = [
                (e.correlation_id, e.seq, e.handoff_id, e.kind, e.at, e.data)
                for e in commit.entries
            ]
            cursor.execute(
                _INSERT_ENTRY + ", (%s, %s, %s, %s, %s, %s)" * (len(rows) - 1),
                [value for row in rows for value in row],
            )
        if commit.dead_letters:
            cursor.executemany(
                _INSERT_DEAD_LETTER,
                [
                    (
                        d.id,
                        d.correlation_id,
                        d.reason,
                        d.message,
                        d.issues,
                        d.envelope,
                        d.path,
                        d.status,
                        d.created_at,
                        d.resolved_at,
                        d.resolution,
                    )
                    for d in commit.dead_letters
                ],
            )
        if commit.artifacts:
            cursor.executemany(
                _INSERT_ARTIFACT,
                [
                    (
                        a.id,
                        a.correlation_id,
                        a.tenant,
                        a.key,
                        a.version,
                        a.kind,
                        a.value,
                        a.text,
                        _pg_words.tsvector(a.text),
                        a.producer,
                        a.producer_version,
                        a.step,
                        a.handoff_id,
                        a.contract,
                        a.created_at,
                        a.embedder,
                        a.vector,
                    )
                    for a in commit.artifacts
                ],
            )
        if commit.reads:
            cursor.executemany(
                _INSERT_READ,
                [
                    (
                        r.id,
                        r.correlation_id,
                        r.handoff_id,
                        r.agent,
                        r.agent_version,
                        r.operation,
                        r.query,
                        r.returned,
                        r.at,
                        r.trace_id,
                        r.span_id,
                    )
                    for r in commit.reads
                ],
            )
    for u in commit.dead_letter_updates:
        resolved = conn.execute(_RESOLVE_DEAD_LETTER, [u.status, u.at, u.resolution, u.id])
        if resolved.rowcount != 1:
            raise ConflictError(
                f"dead letter {u.id} is no longer open; it was already resolved. "
                "Nothing was written"
            )
    if commit.enqueue is not None:
        if w is None:
            raise StoreError("Commit.enqueue needs the workflow record in the same commit")
        conn.execute(_ENQUEUE, [w.id, commit.enqueue])
        conn.execute("SELECT pg_notify(%s, '')", [channel])
    elif w is not None and w.status is not WorkflowStatus.RUNNING:
        conn.execute(_DEQUEUE, [w.id])  # it ended: off the queue with its last rows


def _json_field(path: str, value: str | int | float | bool | None) -> tuple[str, list[Any]]:
    # JSON null and a missing path both compare equal to None, as json_extract's NULL does.
    return "coalesce(value::jsonb #> %s::text[], 'null') = %s", [path.split("."), Jsonb(value)]


_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@|(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def _redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    return _PASSWORD.sub(lambda m: f"{m[1]}:***@" if m[1] else f"{m[2]}***", url)


def _conninfo(url: str, schema: str) -> tuple[str, str]:
    """The libpq connection string every connection uses, and the store's locator.

    Each connection starts in ``schema`` and UTC, with a connect timeout (libpq waits
    forever by default) and, unless the URL sets its own, the application name
    ``seamline/SCHEMA``, so ``pg_stat_activity`` tells which store a connection serves.
    """
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        reason = _one_line(error).replace(url, _redacted(url))
        raise ConfigurationError(
            f"{_redacted(url)!r} is not a PostgreSQL connection string ({reason}); use "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    options = f"{params.get('options') or ''} -c search_path={schema} -c TimeZone=UTC"
    extra = {
        "options": options.strip(),
        "connect_timeout": params.get("connect_timeout") or 10,
        "application_name": params.get("application_name") or f"seamline/{schema}",
    }
    user, host, port = params.get("user"), params.get("host"), params.get("port")
    location = "postgresql://{}{}{}/{}".format(
        f"{user}@" if user else "", host or "", f":{port}" if port else "", params.get("dbname", "")
    )
    if schema != DEFAULT_SCHEMA:
        location += f"?schema={schema}"
    return make_conninfo(url, **extra), location


def _connect(conninfo: str, location: str) -> Connection:
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as error:
        raise StoreError(
            f"cannot connect to the PostgreSQL store {location}: {_one_line(error)}; check "
            "the host, port, database name and credentials, and that the server is running"
        ) from None


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
