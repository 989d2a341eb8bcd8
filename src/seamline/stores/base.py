"""The Store protocol and the rows it keeps.

Stores know rows, not agents. The ledger is one append-only log of entries, keyed by
``(correlation_id, seq)``: every transition of every handoff is a row, and a handoff's
current state is a fold over its rows (:mod:`seamline.ledger`). Nothing in the log is ever
updated, so a step's completion and the next handoff's creation are just rows appended in
one transaction, and two runtimes racing on one workflow collide on the key instead of
silently interleaving. Workflows (changed only when their status changes) and dead
letters are small mutable tables beside the log.

Every write goes through :meth:`Store.apply` with one :class:`Commit`, applied atomically
or not at all. JSON travels as already-serialized strings so a backend never re-encodes it.

Example:
    ```python
    store = SqliteStore("seamline.db")
    store.apply(Commit(workflow=wf, entries=[proposed, validated]))
    store.entries(correlation_id=wf.id)
    ```

Notes:
    Calls are synchronous and short (one local transaction); the runtime calls them inline.
    On a key collision or a guard that does not hold, implementations raise
    :class:`~seamline.exceptions.ConflictError` and leave the store unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "AccessStore",
    "ArtifactQuery",
    "ArtifactRecord",
    "ArtifactStore",
    "AuditRecord",
    "Commit",
    "DeadLetterRecord",
    "DeadLetterStatus",
    "DeadLetterUpdate",
    "Entry",
    "Lease",
    "ReadRecord",
    "Store",
    "TermMatch",
    "TokenRecord",
    "WorkQueue",
    "WorkflowRecord",
    "WorkflowStatus",
]

TermMatch = Literal["all", "any"]
"""Whether a lexical search wants artifacts holding every term or any of them."""


class WorkflowStatus(StrEnum):
    """Where a workflow stands."""

    RUNNING = "running"
    WAITING = "waiting"
    """Paused at a human gate: nothing runs until someone decides (seamline.gates)."""
    COMPLETED = "completed"
    DEAD_LETTERED = "dead_lettered"
    ESCALATED = "escalated"
    DISCARDED = "discarded"


class DeadLetterStatus(StrEnum):
    """Whether a dead letter still needs someone."""

    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowRecord:
    """One workflow (correlation id). Written when it starts and when its status changes."""

    id: str
    name: str
    status: WorkflowStatus
    entry: str
    intent_sha256: str
    max_hops: int
    app: str | None
    """``module:attribute`` of the registry factory, so a CLI can resume without guessing."""
    result: str | None
    """JSON of the final result, or of the escalation / dead-letter details."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One append-only ledger row: a transition of one handoff."""

    correlation_id: str
    seq: int
    """Position in the workflow's log, from 1; unique per workflow."""
    handoff_id: str
    kind: str
    at: datetime
    data: str | None = None
    """JSON: the envelope on ``proposed``, the outcome on ``completed``, issues on ``rejected``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetterRecord:
    """A handoff that could not proceed, kept whole with its reason and path."""

    id: str
    """The dead-lettered handoff's id."""
    correlation_id: str
    reason: str
    message: str
    issues: str
    """JSON list of ``{path, message, code}``."""
    envelope: str
    path: str
    """JSON list of ``source -> destination`` hops that led here."""
    status: DeadLetterStatus
    created_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterUpdate:
    """Resolve a dead letter; only an open one can be resolved."""

    id: str
    status: DeadLetterStatus
    at: datetime
    resolution: str


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """One immutable version of a memory artifact, with where it came from."""

    id: str
    correlation_id: str
    tenant: str | None
    """Set when the artifact may be read by other workflows of the same tenant."""
    key: str
    version: int
    """1 for the first write of ``key`` in the workflow, then 2, 3, ...: never overwritten."""
    kind: str
    value: str
    """The value as JSON text."""
    text: str
    """What lexical and semantic search index."""
    producer: str
    producer_version: str
    step: int
    """The hop of the handoff whose receiver wrote it."""
    handoff_id: str
    contract: str
    created_at: datetime
    embedder: str | None = None
    vector: bytes | None = None


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One memory read: who asked what, what they got, linked to the handoff and its span."""

    id: str
    correlation_id: str
    handoff_id: str
    agent: str
    agent_version: str
    operation: str
    """``get``, ``list``, ``search`` or ``context``."""
    query: str
    """The request as JSON (key, filter or search text)."""
    returned: str
    """JSON list of the artifact ids handed back, in order."""
    at: datetime
    trace_id: str | None = None
    span_id: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactQuery:
    """Structured filters over one workflow's artifacts (and its tenant's shared ones).

    ``fields`` compares JSON values inside the artifact's value: ``("order.status",
    "delivered")`` matches ``{"order": {"status": "delivered"}}``. Paths are validated by
    the memory layer and passed to the store as parameters, never spliced into SQL.
    """

    correlation_id: str
    tenant: str | None = None
    key: str | None = None
    kind: str | None = None
    producer: str | None = None
    step: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    fields: tuple[tuple[str, str | int | float | bool | None], ...] = ()
    latest: bool = True
    """Only the newest version of each key."""
    limit: int = 100


@dataclass(slots=True)
class Commit:
    """Everything one atomic ledger write changes."""

    workflow: WorkflowRecord | None = None
    """Inserted, or replacing status, max_hops, result and updated_at of the same id."""
    entries: list[Entry] = field(default_factory=list)
    dead_letters: list[DeadLetterRecord] = field(default_factory=list)
    dead_letter_updates: list[DeadLetterUpdate] = field(default_factory=list)
    artifacts: list[ArtifactRecord] = field(default_factory=list)
    """Artifacts the step wrote: recorded with the step or not at all."""
    reads: list[ReadRecord] = field(default_factory=list)
    lease: Lease | None = None
    """The writer's lease on the workflow (a worker): the commit applies only while that
    lease is still held, and renews it; a commit that ends the workflow also takes it off
    the work queue. Only a :class:`WorkQueue` store accepts it."""
    enqueue: str | None = None
    """Put the workflow on the work queue, waiting for this agent (``Runtime.submit``)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A worker's hold on one queued workflow, fenced by ``token``.

    A worker whose lease expired (it stalled, or lost its network) cannot commit: every
    commit it makes names the token, and the store refuses one that no longer matches.
    """

    workflow_id: str
    token: str
    owner: str
    agent: str
    """The agent the workflow's open handoff waited for when it was claimed."""
    seconds: float
    """How long each commit or renewal extends it."""
    expires_at: datetime


@runtime_checkable
class Store(Protocol):
    """Where the ledger lives. See the module docstring for the contract."""

    def apply(self, commit: Commit) -> None:
        """Apply ``commit`` atomically; raise ConflictError and change nothing on a clash."""
        ...

    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None:
        """One workflow, or None."""
        ...

    def list_workflows(
        self, *, status: WorkflowStatus | None = None, limit: int = 100
    ) -> list[WorkflowRecord]:
        """Workflows, newest first."""
        ...

    def entries(
        self, *, correlation_id: str | None = None, handoff_id: str | None = None
    ) -> list[Entry]:
        """Ledger rows of one workflow or one handoff, in log order. One filter is required."""
        ...

    def get_dead_letter(self, dead_letter_id: str) -> DeadLetterRecord | None:
        """One dead letter, or None."""
        ...

    def list_dead_letters(
        self, *, status: DeadLetterStatus | None = None, limit: int = 100
    ) -> list[DeadLetterRecord]:
        """Dead letters, newest first."""
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


@runtime_checkable
class ArtifactStore(Store, Protocol):
    """A Store that also keeps memory: artifacts, their search index and the read audit.

    Artifacts and reads are written through :class:`Commit` (with the step that produced
    them); these are the read side.
    """

    def artifacts(self, query: ArtifactQuery) -> list[ArtifactRecord]:
        """Artifacts matching ``query``, newest first."""
        ...

    def artifact(
        self, correlation_id: str, key: str, *, version: int | None, tenant: str | None
    ) -> ArtifactRecord | None:
        """One version of ``key`` (the newest when ``version`` is None), or None."""
        ...

    def artifacts_by_seq(self, seqs: Sequence[int]) -> dict[int, ArtifactRecord]:
        """Artifacts by row number."""
        ...

    def next_version(self, correlation_id: str, key: str) -> int:
        """The version the next write of ``key`` in this workflow gets."""
        ...

    def lexical_search(
        self,
        correlation_id: str,
        tenant: str | None,
        terms: Sequence[str],
        *,
        match: TermMatch,
        limit: int,
    ) -> list[tuple[int, float]]:
        """``(row, score)`` best first: artifacts holding every term, or any of them.

        ``terms`` are the words a user typed, lower-cased. Each store quotes them into its
        own full-text language, so a term is always searched for and never run as syntax.
        Scores are the backend's own (BM25, ts_rank): compare ranks across stores, not scores.
        """
        ...

    def term_documents(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """The number of artifacts, and how many hold each term."""
        ...

    def artifact_vectors(
        self, correlation_id: str, tenant: str | None, after: int
    ) -> list[tuple[int, str, bytes]]:
        """``(row, embedder, vector)`` written after row ``after``."""
        ...

    def reads(self, correlation_id: str, *, agent: str | None = None) -> list[ReadRecord]:
        """The read audit of one workflow."""
        ...


@runtime_checkable
class WorkQueue(Store, Protocol):
    """A Store that queues workflows for workers on many machines (PostgreSQL).

    Queued workflows (``Commit.enqueue``) wait for a worker that runs their open handoff's
    agent. A worker claims one with a lease, drives it with fenced commits and releases it
    (or its commit ending the workflow removes it). Expired leases are reaped back to the
    queue. Idle workers wait on a notification, and poll whatever happens.
    """

    def claim(self, owner: str, agents: Sequence[str], seconds: float) -> Lease | None:
        """Lease the longest-waiting unleased workflow for one of ``agents``, or None."""
        ...

    def renew(self, lease: Lease) -> Lease:
        """Extend ``lease``; raise ConflictError if it was lost (expired and reclaimed)."""
        ...

    def release(self, lease: Lease, agent: str) -> None:
        """Give the workflow back to the queue, now waiting for ``agent``."""
        ...

    def reap(self) -> list[str]:
        """Return every expired lease to the queue; the workflows they held."""
        ...

    def wait_for_work(self, timeout: float) -> bool:
        """Block until work may be ready (a notification) or ``timeout``; True if notified."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """One API token: the team it acts for, and only a hash of its secret."""

    id: str
    """Public, and part of the secret, so a presented token is found without a hash lookup."""
    name: str
    """How people and the audit log name it; unique among tokens not revoked."""
    team: str
    admin: bool
    secret_sha256: str
    """Hex SHA-256 of the whole secret; the secret itself is shown once and never stored."""
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One decision or change made through the API (or a token issued from the CLI)."""

    id: str
    at: datetime
    team: str | None
    """The acting token's team; None for the operator at the command line."""
    actor: str
    """The acting token's name (``cli:USER`` for the command line)."""
    action: str
    """What was tried, e.g. ``gate.decide`` or ``dead_letter.replay``."""
    target: str
    """The id of the gate, dead letter or token acted on."""
    outcome: str
    """``ok``, or why not: ``denied``, ``not_found``, ``conflict``, ``invalid``, ``failed``."""
    detail: str
    """JSON object: the decision, reason or result; never a payload."""


@runtime_checkable
class AccessStore(Protocol):
    """Where the HTTP API keeps its tokens and its own audit log, beside the ledger.

    A token's issue or revocation commits together with its audit record, so the log never
    misses a change to who may act. The audit log is append-only.
    """

    def add_token(self, token: TokenRecord, audit: AuditRecord) -> None:
        """Store a new token; ConflictError (nothing written) if an active one has its name."""
        ...

    def get_token(self, token_id: str) -> TokenRecord | None:
        """One token (revoked ones too), or None."""
        ...

    def list_tokens(self, *, team: str | None = None) -> list[TokenRecord]:
        """Tokens, revoked ones included, newest first."""
        ...

    def revoke_token(self, token_id: str, at: datetime, by: str, audit: AuditRecord) -> None:
        """Revoke an active token; ConflictError (nothing written) if it is not active."""
        ...

    def add_audit(self, record: AuditRecord) -> None:
        """Append one record to the audit log."""
        ...

    def list_audit(self, *, team: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The audit log, newest (last appended) first; ``team`` keeps one team's records."""
        ...
