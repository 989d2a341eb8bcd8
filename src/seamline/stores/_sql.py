"""What the SQLite and PostgreSQL stores share: column lists, filters and row decoding.

Both speak the same SQL over the same columns. They differ in the placeholder (``?`` or
``%s``), in how a timestamp travels (ISO text in SQLite, timestamptz in PostgreSQL) and in
their JSON functions; callers pass those in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from seamline.stores.base import (
    ArtifactQuery,
    ArtifactRecord,
    AuditRecord,
    DeadLetterRecord,
    DeadLetterStatus,
    Entry,
    ReadRecord,
    TokenRecord,
    WorkflowRecord,
    WorkflowStatus,
)

__all__ = [
    "ARTIFACT_COLUMNS",
    "AUDIT_COLUMNS",
    "DEAD_LETTER_COLUMNS",
    "ENTRY_COLUMNS",
    "LOOKUP_COLUMNS",
    "READ_COLUMNS",
    "TOKEN_COLUMNS",
    "WORKFLOW_COLUMNS",
    "FieldClause",
    "artifact",
    "artifact_filters",
    "audit",
    "audit_row",
    "dead_letter",
    "entry",
    "read",
    "scope",
    "token",
    "token_row",
    "where_equal",
    "workflow",
]

WORKFLOW_COLUMNS = (
    "id, name, status, entry, intent_sha256, max_hops, app, result, created_at, updated_at"
)
ENTRY_COLUMNS = "correlation_id, seq, handoff_id, kind, at, data"
DEAD_LETTER_COLUMNS = (
    "id, correlation_id, reason, message, issues, envelope, path, status, created_at, "
    "resolved_at, resolution"
)
ARTIFACT_COLUMNS = (
    "id, correlation_id, tenant, key, version, kind, value, text, producer, producer_version, "
    "step, handoff_id, contract, created_at, embedder, vector"
)
LOOKUP_COLUMNS = (
    "id, correlation_id, tenant, key, version, kind, value, '', producer, producer_version, "
    "step, handoff_id, contract, created_at, NULL, NULL"
)
"""An artifact without its search columns (text, vector): what a lookup by key returns."""
READ_COLUMNS = (
    "id, correlation_id, handoff_id, agent, agent_version, operation, query, returned, at, "
    "trace_id, span_id"
)
TOKEN_COLUMNS = (
    "id, name, team, admin, secret_sha256, created_at, created_by, revoked_at, revoked_by"
)
AUDIT_COLUMNS = "id, at, team, actor, action, target, outcome, detail"

FieldClause = Callable[[str, str | int | float | bool | None], tuple[str, Sequence[Any]]]
"""Builds the clause comparing the JSON value at a dotted path, and its parameters."""


def where_equal(mark: str, **filters: str | None) -> tuple[str, tuple[str, ...]]:
    """``WHERE a = ? AND ...`` over the filters that are set (or nothing)."""
    chosen = {k: v for k, v in filters.items() if v is not None}
    if not chosen:
        return "", ()
    return "WHERE " + " AND ".join(f"{k} = {mark}" for k in chosen), tuple(chosen.values())


def scope(
    correlation_id: str, tenant: str | None, *, mark: str, table: str = "artifacts"
) -> tuple[list[str], list[Any]]:
    """The workflow's own artifacts, plus those its tenant shares."""
    if tenant is None:
        return [f"{table}.correlation_id = {mark}"], [correlation_id]
    return [f"({table}.correlation_id = {mark} OR {table}.tenant = {mark})"], [
        correlation_id,
        tenant,
    ]


def artifact_filters(
    query: ArtifactQuery, *, mark: str, stamp: Callable[[datetime], Any], field: FieldClause
) -> tuple[list[str], list[Any]]:
    """The WHERE clauses of an artifact query and their parameters, in order."""
    clauses, params = scope(query.correlation_id, query.tenant, mark=mark)
    exact: tuple[tuple[str, str | int | None], ...] = (
        ("key", query.key),
        ("kind", query.kind),
        ("producer", query.producer),
        ("step", query.step),
    )
    for column, wanted in exact:
        if wanted is not None:
            clauses.append(f"{column} = {mark}")
            params.append(wanted)
    if query.since is not None:
        clauses.append(f"created_at >= {mark}")
        params.append(stamp(query.since))
    if query.until is not None:
        clauses.append(f"created_at <= {mark}")
        params.append(stamp(query.until))
    for path, value in query.fields:
        clause, values = field(path, value)
        clauses.append(clause)
        params.extend(values)
    if query.latest:
        clauses.append(
            "version = (SELECT max(version) FROM artifacts AS newer WHERE "
            "newer.correlation_id = artifacts.correlation_id AND newer.key = artifacts.key)"
        )
    return clauses, params


def _at(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def workflow(r: Sequence[Any]) -> WorkflowRecord:
    """A row of WORKFLOW_COLUMNS."""
    return WorkflowRecord(
        id=r[0],
        name=r[1],
        status=WorkflowStatus(r[2]),
        entry=r[3],
        intent_sha256=r[4],
        max_hops=r[5],
        app=r[6],
        result=r[7],
        created_at=_at(r[8]),
        updated_at=_at(r[9]),
    )


def entry(r: Sequence[Any]) -> Entry:
    """A row of ENTRY_COLUMNS."""
    return Entry(correlation_id=r[0], seq=r[1], handoff_id=r[2], kind=r[3], at=_at(r[4]), data=r[5])


def dead_letter(r: Sequence[Any]) -> DeadLetterRecord:
    """A row of DEAD_LETTER_COLUMNS."""
    return DeadLetterRecord(
        id=r[0],
        correlation_id=r[1],
        reason=r[2],
        message=r[3],
        issues=r[4],
        envelope=r[5],
        path=r[6],
        status=DeadLetterStatus(r[7]),
        created_at=_at(r[8]),
        resolved_at=_at(r[9]) if r[9] else None,
        resolution=r[10],
    )


def artifact(r: Sequence[Any]) -> ArtifactRecord:
    """A row of ARTIFACT_COLUMNS or LOOKUP_COLUMNS."""
    return ArtifactRecord(
        id=r[0],
        correlation_id=r[1],
        tenant=r[2],
        key=r[3],
        version=r[4],
        kind=r[5],
        value=r[6],
        text=r[7],
        producer=r[8],
        producer_version=r[9],
        step=r[10],
        handoff_id=r[11],
        contract=r[12],
        created_at=_at(r[13]),
        embedder=r[14],
        vector=r[15],
    )


def read(r: Sequence[Any]) -> ReadRecord:
    """A row of READ_COLUMNS."""
    return ReadRecord(
        id=r[0],
        correlation_id=r[1],
        handoff_id=r[2],
        agent=r[3],
        agent_version=r[4],
        operation=r[5],
        query=r[6],
        returned=r[7],
        at=_at(r[8]),
        trace_id=r[9],
        span_id=r[10],
    )


def token(r: Sequence[Any]) -> TokenRecord:
    """A row of TOKEN_COLUMNS (SQLite keeps ``admin`` as 0 or 1)."""
    return TokenRecord(
        id=r[0],
        name=r[1],
        team=r[2],
        admin=bool(r[3]),
        secret_sha256=r[4],
        created_at=_at(r[5]),
        created_by=r[6],
        revoked_at=_at(r[7]) if r[7] else None,
        revoked_by=r[8],
    )


def token_row(t: TokenRecord, stamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The values of TOKEN_COLUMNS for ``t``, timestamps as the backend keeps them."""
    return (
        t.id,
        t.name,
        t.team,
        t.admin,
        t.secret_sha256,
        stamp(t.created_at),
        t.created_by,
        stamp(t.revoked_at) if t.revoked_at else None,
        t.revoked_by,
    )


def audit(r: Sequence[Any]) -> AuditRecord:
    """A row of AUDIT_COLUMNS."""
    return AuditRecord(
        id=r[0],
        at=_at(r[1]),
        team=r[2],
        actor=r[3],
        action=r[4],
        target=r[5],
        outcome=r[6],
        detail=r[7],
    )


def audit_row(a: AuditRecord, stamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The values of AUDIT_COLUMNS for ``a``."""
    return (a.id, stamp(a.at), a.team, a.actor, a.action, a.target, a.outcome, a.detail)
