"""The embedded ledger: stdlib sqlite3 in WAL mode.

WAL lets the CLI read while a runtime writes, and ``synchronous=NORMAL`` (the default
durability here) survives any process crash, SIGKILL included; only an OS crash or power
loss can drop the last commits. ``durability="strict"`` switches to ``FULL`` for that case.
The SQL is kept portable (no SQLite-only syntax beyond the pragmas and triggers) so the
PostgreSQL store can share the schema's shape.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from seamline.exceptions import ConflictError, StoreCorruptError, StoreError
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
    ReadRecord,
    TermMatch,
    TokenRecord,
    WorkflowRecord,
    WorkflowStatus,
)

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

SCHEMA_VERSION = 3
"""1: ledger, workflows, dead letters. 2: adds memory (artifacts, their index, reads).
3: adds the HTTP API's tokens and audit log.

Every statement of the schema is ``IF NOT EXISTS``, so opening an older store runs the whole
script and adds just what is missing, in one transaction, then records the new version."""

# Every page a commit touches is written to the WAL, and on a small VM each one costs
# ~10us. So the log is clustered by (correlation_id, seq) (a workflow's rows share pages)
# with one secondary index, on handoff_id; UUIDv7 ids make that index append-only too.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS seamline_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workflows (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, entry TEXT NOT NULL,
    intent_sha256 TEXT NOT NULL, max_hops INTEGER NOT NULL, app TEXT, result TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS workflows_by_status ON workflows (status, id);
CREATE TABLE IF NOT EXISTS ledger (
    correlation_id TEXT NOT NULL, seq INTEGER NOT NULL, handoff_id TEXT NOT NULL,
    kind TEXT NOT NULL, at TEXT NOT NULL, data TEXT,
    PRIMARY KEY (correlation_id, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ledger_by_handoff ON ledger (handoff_id);
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY, correlation_id TEXT NOT NULL, reason TEXT NOT NULL,
    message TEXT NOT NULL, issues TEXT NOT NULL, envelope TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, resolved_at TEXT, resolution TEXT);
CREATE INDEX IF NOT EXISTS dead_letters_by_status ON dead_letters (status, id);
CREATE TABLE IF NOT EXISTS artifacts (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, correlation_id TEXT NOT NULL,
    tenant TEXT, key TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL,
    value TEXT NOT NULL, text TEXT NOT NULL, producer TEXT NOT NULL,
    producer_version TEXT NOT NULL, step INTEGER NOT NULL, handoff_id TEXT NOT NULL,
    contract TEXT NOT NULL, created_at TEXT NOT NULL, embedder TEXT, vector BLOB,
    UNIQUE (correlation_id, key, version));
CREATE INDEX IF NOT EXISTS artifacts_by_tenant ON artifacts (tenant, key) WHERE tenant IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS artifacts_fts USING fts5(
    text, content='artifacts', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS artifacts_indexed AFTER INSERT ON artifacts
    BEGIN INSERT INTO artifacts_fts (rowid, text) VALUES (new.seq, new.text); END;
CREATE TRIGGER IF NOT EXISTS artifacts_no_update BEFORE UPDATE ON artifacts
    BEGIN SELECT RAISE(ABORT, 'artifacts are append-only: write a new version'); END;
CREATE TRIGGER IF NOT EXISTS artifacts_no_delete BEFORE DELETE ON artifacts
    BEGIN SELECT RAISE(ABORT, 'artifacts are append-only'); END;
CREATE TABLE IF NOT EXISTS memory_reads (
    id TEXT PRIMARY KEY, correlation_id TEXT NOT NULL, handoff_id TEXT NOT NULL,
    agent TEXT NOT NULL, agent_version TEXT NOT NULL, operation TEXT NOT NULL,
    query TEXT NOT NULL, returned TEXT NOT NULL, at TEXT NOT NULL, trace_id TEXT, span_id TEXT);
CREATE INDEX IF NOT EXISTS memory_reads_by_workflow ON memory_reads (correlation_id, id);
CREATE TRIGGER IF NOT EXISTS memory_reads_no_update BEFORE UPDATE ON memory_reads
    BEGIN SELECT RAISE(ABORT, 'the read audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS memory_reads_no_delete BEFORE DELETE ON memory_reads
    BEGIN SELECT RAISE(ABORT, 'the read audit is append-only'); END;
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL, admin INTEGER NOT NULL,
    secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    revoked_at TEXT, revoked_by TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_active_name ON api_tokens (name)
    WHERE revoked_at IS NULL;
CREATE TRIGGER IF NOT EXISTS api_tokens_only_revoked BEFORE UPDATE ON api_tokens
    WHEN old.revoked_at IS NOT NULL OR new.revoked_at IS NULL OR new.id IS NOT old.id
        OR new.name IS NOT old.name OR new.team IS NOT old.team OR new.admin IS NOT old.admin
        OR new.secret_sha256 IS NOT old.secret_sha256
    BEGIN SELECT RAISE(ABORT, 'a token is only ever revoked'); END;
CREATE TRIGGER IF NOT EXISTS api_tokens_no_delete BEFORE DELETE ON api_tokens
    BEGIN SELECT RAISE(ABORT, 'a token is revoked, never deleted'); END;
CREATE TABLE IF NOT EXISTS api_audit (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, team TEXT, actor TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS api_audit_by_team ON api_audit (team);
CREATE TRIGGER IF NOT EXISTS api_audit_no_update BEFORE UPDATE ON api_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS api_audit_no_delete BEFORE DELETE ON api_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

_UPSERT_WORKFLOW = """
INSERT INTO workflows (id, name, status, entry, intent_sha256, max_hops, app, result,
    created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET status = excluded.status, max_hops = excluded.max_hops,
    result = excluded.result, updated_at = excluded.updated_at
"""
_INSERT_ENTRY = (
    "INSERT INTO ledger (correlation_id, seq, handoff_id, kind, at, data) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_DEAD_LETTER = """
INSERT INTO dead_letters (id, correlation_id, reason, message, issues, envelope, path, status,
    created_at, resolved_at, resolution)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_ARTIFACT = """
INSERT INTO artifacts (id, correlation_id, tenant, key, version, kind, value, text, producer,
    producer_version, step, handoff_id, contract, created_at, embedder, vector)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_READ = """
INSERT INTO memory_reads (id, correlation_id, handoff_id, agent, agent_version, operation, query,
    returned, at, trace_id, span_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_RESOLVE_DEAD_LETTER = """
UPDATE dead_letters SET status = ?, resolved_at = ?, resolution = ?
WHERE id = ? AND status = 'open'
"""
_INSERT_TOKEN = f"INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_REVOKE_TOKEN = (
    "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL"
)
_INSERT_AUDIT = f"INSERT INTO api_audit ({AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


_last_ts: tuple[datetime | None, str] = (None, "")


def _ts(value: datetime) -> str:
    # A commit stamps most of its rows with the same instant; format it once. The memo is
    # read once into a local: another thread may replace it between two reads.
    global _last_ts
    last = _last_ts
    if value is last[0]:
        return last[1]
    text = value.isoformat()
    _last_ts = (value, text)
    return text


_OPEN_PATIENCE = 10.0
"""Seconds an open waits out another process holding a new file's lock (the busy timeout)."""


class SqliteStore:
    """A Store in one SQLite file (or ``":memory:"``)."""

    def __init__(
        self, path: str | Path, *, durability: Literal["normal", "strict"] = "normal"
    ) -> None:
        if durability not in ("normal", "strict"):
            raise StoreError(f"durability must be 'normal' or 'strict', got {durability!r}")
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(
                f"cannot open store {self.path!r}: {error}; check the path and its permissions"
            ) from None
        try:
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._open(durability)
        except sqlite3.DatabaseError as error:
            self._db.close()
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise StoreError(
                    f"store {self.path!r} stayed locked by another process for "
                    f"{_OPEN_PATIENCE:g} s; retry, or find the process holding it"
                ) from None
            raise StoreCorruptError(
                f"{self.path!r} is not a seamline store ({error}); "
                "point --store / SEAMLINE_STORE at a seamline database or a new file"
            ) from None
        except BaseException:  # e.g. a newer schema: do not leak the connection
            self._db.close()
            raise

    def _open(self, durability: str) -> None:
        """Switch to WAL, set the durability and bring the schema up to date.

        A process opening a file while another creates it or recovers its WAL after a
        crash has been seen (in the SIGKILL crash tests) to get "database is locked" at
        once: SQLite does not call the busy handler for every lock (a journal-mode change,
        WAL recovery). That is a moment, not a fault, so it is retried for as long as the
        busy timeout would have waited.
        """
        deadline = time.monotonic() + _OPEN_PATIENCE
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute(
                    f"PRAGMA synchronous = {'FULL' if durability == 'strict' else 'NORMAL'}"
                )
                self._migrate()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _migrate(self) -> None:
        # One statement, one snapshot: read separately, another process creating the schema
        # in between would make a new store look like a foreign database.
        meta, tables = self._db.execute(
            "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            "AND name = 'seamline_meta'), (SELECT count(*) FROM sqlite_master)"
        ).fetchone()
        if not meta and tables:
            raise sqlite3.DatabaseError("it holds other tables and no seamline_meta")
        if meta:
            found = self._db.execute(
                "SELECT value FROM seamline_meta WHERE key = 'schema_version'"
            ).fetchone()
            version = int(found[0]) if found else 0
            if version > SCHEMA_VERSION:
                raise StoreCorruptError(
                    f"{self.path!r} has schema version {version}, newer than this seamline "
                    f"({SCHEMA_VERSION}); upgrade seamline"
                )
            if version == SCHEMA_VERSION:
                return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";\n"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(
                "INSERT INTO seamline_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise StoreError(f"cannot write to store {self.path!r}: {error}") from None
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.Error as error:
                db.execute("ROLLBACK")
                raise StoreError(f"commit to store {self.path!r} failed: {error}") from None

    def apply(self, commit: Commit) -> None:
        """Apply ``commit`` in one transaction."""
        if commit.lease is not None or commit.enqueue is not None:
            raise StoreError(
                "queued workflows and worker leases need a store every worker shares: open a "
                "PostgresStore (postgresql://...); on SQLite, run workflows with Runtime.run"
            )
        try:
            with self._transaction() as db:
                if (w := commit.workflow) is not None:
                    db.execute(
                        _UPSERT_WORKFLOW,
                        (
                            w.id,
                            w.name,
                            w.status,
                            w.entry,
                            w.intent_sha256,
                            w.max_hops,
                            w.app,
                            w.result,
                            _ts(w.created_at),
                            _ts(w.updated_at),
                        ),
                    )
                db.executemany(
                    _INSERT_ENTRY,
                    [
                        (e.correlation_id, e.seq, e.handoff_id, e.kind, _ts(e.at), e.data)
                        for e in commit.entries
                    ],
                )
                if commit.dead_letters:
                    db.executemany(
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
                                _ts(d.created_at),
                                _ts(d.resolved_at) if d.resolved_at else None,
                                d.resolution,
                            )
                            for d in commit.dead_letters
                        ],
                    )
                if commit.artifacts:
                    db.executemany(
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
                                a.producer,
                                a.producer_version,
                                a.step,
                                a.handoff_id,
                                a.contract,
                                _ts(a.created_at),
                                a.embedder,
                                a.vector,
                            )
                            for a in commit.artifacts
                        ],
                    )
                if commit.reads:
                    db.executemany(
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
                                _ts(r.at),
                                r.trace_id,
                                r.span_id,
                            )
                            for r in commit.reads
                        ],
                    )
                for u in commit.dead_letter_updates:
                    cursor = db.execute(
                        _RESOLVE_DEAD_LETTER, (u.status, _ts(u.at), u.resolution, u.id)
                    )
                    if cursor.rowcount != 1:
                        raise ConflictError(
                            f"dead letter {u.id} is no longer open; it was already resolved. "
                            "Nothing was written"
                        )
        except sqlite3.IntegrityError as error:
            raise ConflictError(
                f"another writer already recorded this step ({error}); nothing was written. "
                "Reload the workflow and retry"
            ) from None
        except sqlite3.Error as error:
            raise StoreError(f"write to store {self.path!r} failed: {error}") from None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"read from store {self.path!r} failed: {error}") from None

    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None:
        """One workflow, or None."""
        rows = self._query(f"SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = ?", (workflow_id,))
        return _sql.workflow(rows[0]) if rows else None

    def list_workflows(
        self, *, status: WorkflowStatus | None = None, limit: int = 100
    ) -> list[WorkflowRecord]:
        """Workflows, newest first."""
        where, params = where_equal("?", status=status)
        rows = self._query(
            f"SELECT {WORKFLOW_COLUMNS} FROM workflows {where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [_sql.workflow(row) for row in rows]

    def entries(
        self, *, correlation_id: str | None = None, handoff_id: str | None = None
    ) -> list[Entry]:
        """Ledger rows of one workflow or one handoff, in log order."""
        if correlation_id is not None:
            rows = self._query(
                f"SELECT {ENTRY_COLUMNS} FROM ledger WHERE correlation_id = ? ORDER BY seq",
                (correlation_id,),
            )
        elif handoff_id is not None:
            rows = self._query(
                f"SELECT {ENTRY_COLUMNS} FROM ledger WHERE handoff_id = ? ORDER BY seq",
                (handoff_id,),
            )
        else:
            raise StoreError("entries() needs correlation_id or handoff_id")
        return [_sql.entry(row) for row in rows]

    def get_dead_letter(self, dead_letter_id: str) -> DeadLetterRecord | None:
        """One dead letter, or None."""
        rows = self._query(
            f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = ?", (dead_letter_id,)
        )
        return _sql.dead_letter(rows[0]) if rows else None

    def list_dead_letters(
        self, *, status: DeadLetterStatus | None = None, limit: int = 100
    ) -> list[DeadLetterRecord]:
        """Dead letters, newest first."""
        where, params = where_equal("?", status=status)
        rows = self._query(
            f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters {where} "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [_sql.dead_letter(row) for row in rows]

    # -- memory ------------------------------------------------------------------------------

    def artifacts(self, query: ArtifactQuery) -> list[ArtifactRecord]:
        """Artifacts matching ``query``, newest first."""
        clauses, params = _sql.artifact_filters(query, mark="?", stamp=_ts, field=_json_field)
        rows = self._query(
            f"SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE {' AND '.join(clauses)} "
            "ORDER BY seq DESC LIMIT ?",
            (*params, query.limit),
        )
        return [_sql.artifact(row) for row in rows]

    def artifact(
        self, correlation_id: str, key: str, *, version: int | None, tenant: str | None
    ) -> ArtifactRecord | None:
        """One version of ``key`` (the newest when ``version`` is None), or None.

        The hot path of memory: one lookup on the (correlation_id, key, version) index that
        leaves the search columns (text, vector) unread.
        """
        where = "correlation_id = ? AND key = ?"
        params: list[str | int] = [correlation_id, key]
        if version is not None:
            where += " AND version = ?"
            params.append(version)
        rows = self._query(
            f"SELECT {LOOKUP_COLUMNS} FROM artifacts WHERE {where} ORDER BY version DESC LIMIT 1",
            params,
        )
        if not rows and tenant is not None and version is None:
            rows = self._query(
                f"SELECT {LOOKUP_COLUMNS} FROM artifacts WHERE tenant = ? AND key = ? "
                "ORDER BY seq DESC LIMIT 1",
                (tenant, key),
            )
        return _sql.artifact(rows[0]) if rows else None

    def artifacts_by_seq(self, seqs: Sequence[int]) -> dict[int, ArtifactRecord]:
        """Artifacts by their row number (search results come back as row numbers)."""
        if not seqs:
            return {}
        marks = ", ".join("?" * len(seqs))
        rows = self._query(
            f"SELECT seq, {ARTIFACT_COLUMNS} FROM artifacts WHERE seq IN ({marks})", seqs
        )
        return {row[0]: _sql.artifact(row[1:]) for row in rows}

    def next_version(self, correlation_id: str, key: str) -> int:
        """The version the next write of ``key`` in this workflow gets."""
        rows = self._query(
            "SELECT max(version) FROM artifacts WHERE correlation_id = ? AND key = ?",
            (correlation_id, key),
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
        """``(seq, bm25)`` best first (BM25 is negative: lower is better).

        FTS5 ranks fastest on its own (``ORDER BY rank LIMIT``), so the best matches across
        the store are ranked first and then kept to this workflow's scope; only when most of
        that window belongs to other workflows is the slower scoped ranking run.
        """
        if not terms:
            return []
        match_text = _fts5_query(terms, "AND" if match == "all" else "OR")
        window = limit * 8
        ranked = self._query(
            "SELECT rowid, rank FROM artifacts_fts WHERE artifacts_fts MATCH ? "
            "ORDER BY rank LIMIT ?",
            (match_text, window),
        )
        if not ranked:
            return []
        clauses, params = scope(correlation_id, tenant, mark="?")
        marks = ", ".join("?" * len(ranked))
        inside = {
            int(seq)
            for (seq,) in self._query(
                f"SELECT seq FROM artifacts WHERE seq IN ({marks}) AND {' AND '.join(clauses)}",
                (*(seq for seq, _ in ranked), *params),
            )
        }
        kept = [(int(seq), float(score)) for seq, score in ranked if seq in inside][:limit]
        if len(kept) == limit or len(ranked) < window:
            return kept
        clauses, params = scope(correlation_id, tenant, mark="?", table="a")
        return [
            (int(seq), float(score))
            for seq, score in self._query(
                "SELECT a.seq, bm25(artifacts_fts) AS score FROM artifacts_fts "
                "JOIN artifacts AS a ON a.seq = artifacts_fts.rowid "
                f"WHERE artifacts_fts MATCH ? AND {' AND '.join(clauses)} "
                "ORDER BY score, a.seq DESC LIMIT ?",
                (match_text, *params, limit),
            )
        ]

    def term_documents(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many artifacts there are, and how many hold each of ``terms`` (search stats).

        Read through a per-connection fts5vocab table, so older store files need no change.
        """
        with self._lock:
            try:
                self._db.execute(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.artifacts_terms "
                    "USING fts5vocab(main, artifacts_fts, row)"
                )
            except sqlite3.Error as error:
                raise StoreError(f"read from store {self.path!r} failed: {error}") from None
        total = self._query("SELECT coalesce(max(seq), 0) FROM artifacts")[0][0]
        marks = ", ".join("?" * len(terms))
        rows = self._query(
            f"SELECT term, doc FROM temp.artifacts_terms WHERE term IN ({marks})", terms
        )
        return int(total), {str(term): int(count) for term, count in rows}

    def artifact_vectors(
        self, correlation_id: str, tenant: str | None, after: int
    ) -> list[tuple[int, str, bytes]]:
        """``(seq, embedder, vector)`` of artifacts written after row ``after``."""
        clauses, params = scope(correlation_id, tenant, mark="?")
        rows = self._query(
            f"SELECT seq, embedder, vector FROM artifacts WHERE seq > ? AND vector IS NOT NULL "
            f"AND {' AND '.join(clauses)} ORDER BY seq",
            (after, *params),
        )
        return [(int(seq), str(name), bytes(blob)) for seq, name, blob in rows]

    def reads(self, correlation_id: str, *, agent: str | None = None) -> list[ReadRecord]:
        """The read audit of one workflow, in order."""
        where, params = "correlation_id = ?", [correlation_id]
        if agent is not None:
            where += " AND agent = ?"
            params.append(agent)
        rows = self._query(
            f"SELECT {READ_COLUMNS} FROM memory_reads WHERE {where} ORDER BY rowid", params
        )
        return [_sql.read(row) for row in rows]

    # -- access (the HTTP API's tokens and audit log) -----------------------------------------

    def add_token(self, token: TokenRecord, audit: AuditRecord) -> None:
        """Store a new token and its audit record in one transaction."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(_INSERT_TOKEN, _sql.token_row(token, _ts))
            db.execute(_INSERT_AUDIT, _sql.audit_row(audit, _ts))

        self._write(
            write,
            clash=f"an active token is already named {token.name!r}; nothing was written. "
            "Pick another name, or revoke that token first",
        )

    def get_token(self, token_id: str) -> TokenRecord | None:
        """One token, or None."""
        rows = self._query(f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?", (token_id,))
        return _sql.token(rows[0]) if rows else None

    def list_tokens(self, *, team: str | None = None) -> list[TokenRecord]:
        """Tokens, revoked ones included, newest first."""
        where, params = where_equal("?", team=team)
        rows = self._query(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens {where} ORDER BY created_at DESC, id DESC",
            params,
        )
        return [_sql.token(row) for row in rows]

    def revoke_token(self, token_id: str, at: datetime, by: str, audit: AuditRecord) -> None:
        """Revoke an active token and record it, in one transaction."""

        def write(db: sqlite3.Connection) -> None:
            if db.execute(_REVOKE_TOKEN, (_ts(at), by, token_id)).rowcount != 1:
                raise ConflictError(
                    f"token {token_id} is not active (unknown or already revoked); "
                    "nothing was written"
                )
            db.execute(_INSERT_AUDIT, _sql.audit_row(audit, _ts))

        self._write(write, clash=f"revoking token {token_id} clashed; nothing was written")

    def add_audit(self, record: AuditRecord) -> None:
        """Append one record to the audit log."""
        self._write(
            lambda db: db.execute(_INSERT_AUDIT, _sql.audit_row(record, _ts)),
            clash=f"audit record {record.id} already exists; nothing was written",
        )

    def list_audit(self, *, team: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The audit log, newest first."""
        where, params = where_equal("?", team=team)
        rows = self._query(
            f"SELECT {AUDIT_COLUMNS} FROM api_audit {where} ORDER BY rowid DESC LIMIT ?",
            (*params, limit),
        )
        return [_sql.audit(row) for row in rows]

    def _write(self, work: Callable[[sqlite3.Connection], object], *, clash: str) -> None:
        """Run ``work`` in one transaction; a broken constraint is ConflictError(``clash``)."""
        try:
            with self._transaction() as db:
                work(db)
        except sqlite3.IntegrityError:
            raise ConflictError(clash) from None
        except sqlite3.Error as error:
            raise StoreError(f"write to store {self.path!r} failed: {error}") from None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


def _fts5_query(terms: Sequence[str], operator: str) -> str:
    """A safe FTS5 expression: each term quoted (a phrase), joined by ``operator``.

    Users type words, not FTS5 syntax; quoting every term means ``NEAR``, ``*``, ``:`` or
    an unbalanced quote is searched for as text instead of being executed as syntax.
    """
    return f" {operator} ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _json_field(path: str, value: str | int | float | bool | None) -> tuple[str, list[Any]]:
    # json_extract returns SQL values; JSON true/false come back as 1/0.
    return "json_extract(value, ?) IS ?", [
        f"$.{path}",
        int(value) if isinstance(value, bool) else value,
    ]
