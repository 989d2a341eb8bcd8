"""Who am I, the API's tokens, and its audit log.

Tokens are issued and revoked by admins (here or with ``seamline tokens``); a team's member
may list its own team's. The audit log is all of it for an admin, a team's own records for
a member. Secrets are shown once, in the answer to the request that issued them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from seamline.access import NAME_PATTERN
from seamline.server.errors import responses
from seamline.server.services import CallerDep, ServicesDep, caller
from seamline.stores import AuditRecord, TokenRecord

__all__ = ["AuditEntry", "IssuedTokenView", "Me", "TokenRequest", "TokenView", "router"]

router = APIRouter(
    prefix="/api",
    tags=["access"],
    dependencies=[Depends(caller)],
    responses=responses(401, 422, 503),
)


class Me(BaseModel):
    """The caller, as the token says."""

    team: str | None
    name: str
    """The token's name."""
    admin: bool


class TokenView(BaseModel):
    """A token without its secret."""

    id: str
    name: str
    team: str
    admin: bool
    active: bool
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, record: TokenRecord) -> TokenView:
        """The view of a stored token (its hash is not shown either)."""
        return cls(
            id=record.id,
            name=record.name,
            team=record.team,
            admin=record.admin,
            active=record.revoked_at is None,
            created_at=record.created_at,
            created_by=record.created_by,
            revoked_at=record.revoked_at,
            revoked_by=record.revoked_by,
        )


class IssuedTokenView(TokenView):
    """A new token, with its secret: shown this once."""

    secret: str


class TokenRequest(BaseModel):
    """A token to issue."""

    model_config = ConfigDict(extra="forbid")

    team: str = Field(pattern=NAME_PATTERN)
    """The owner name the registry gives the team."""
    admin: bool = False
    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    """Default: the team and part of the token's id."""


class AuditEntry(BaseModel):
    """One decision or change: who, what, on what, when, and how it ended."""

    id: str
    at: datetime
    team: str | None
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, record: AuditRecord) -> AuditEntry:
        """The view of a stored record."""
        return cls(
            id=record.id,
            at=record.at,
            team=record.team,
            actor=record.actor,
            action=record.action,
            target=record.target,
            outcome=record.outcome,
            detail=json.loads(record.detail),
        )


@router.get("/me")
def me(who: CallerDep) -> Me:
    """Which team and token this request acts as."""
    return Me(team=who.team, name=who.name, admin=who.admin)


@router.get("/tokens")
def list_tokens(found: ServicesDep, who: CallerDep) -> list[TokenView]:
    """Tokens, newest first: every team's for an admin, the caller's team's otherwise."""
    team = None if who.admin else who.team
    return [TokenView.of(record) for record in found.access.tokens(team=team)]


@router.post("/tokens", status_code=201, responses=responses(403, 409))
def issue_token(found: ServicesDep, who: CallerDep, request: TokenRequest) -> IssuedTokenView:
    """Issue a token for a team (admins only); its secret is in this answer and nowhere else."""
    issued = found.access.issue(request.team, by=who, admin=request.admin, name=request.name)
    return IssuedTokenView(**TokenView.of(issued.record).model_dump(), secret=issued.secret)


@router.post("/tokens/{token}/revoke", responses=responses(403, 404, 409))
def revoke_token(found: ServicesDep, who: CallerDep, token: str) -> TokenView:
    """Revoke the active token with this name or id (admins only)."""
    return TokenView.of(found.access.revoke(token, by=who))


@router.get("/audit-log")
def audit_log(
    found: ServicesDep,
    who: CallerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    """Decisions and changes made through the API, newest first: all for an admin, the
    caller's team's otherwise."""
    return [AuditEntry.of(record) for record in found.access.log(who, limit=limit)]
