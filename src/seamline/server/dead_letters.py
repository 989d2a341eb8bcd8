"""The dead-letter queue: inspect (masked), replay (optionally fixed) and discard.

Replaying and discarding belong to the team that owns the dead letter's contract (the
receiving team), or an admin; every attempt is written to the audit log. A replay runs the
workflow on in this process, to its end or its next gate, and answers with where it stands.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from seamline.contracts import Envelope
from seamline.server.errors import responses
from seamline.server.services import (
    NOT_BLANK,
    CallerDep,
    Services,
    ServicesDep,
    caller,
    restore_masked,
)
from seamline.server.workflows import RunOutcome
from seamline.stores import DeadLetterRecord, DeadLetterStatus
from seamline.views import DeadLetterDetail, DeadLetterSummary

__all__ = [
    "DeadLetterDetail",
    "DeadLetterSummary",
    "DiscardRequest",
    "ReplayRequest",
    "router",
]

router = APIRouter(
    prefix="/api",
    tags=["dead letters"],
    dependencies=[Depends(caller)],
    responses=responses(401, 422, 503),
)


class ReplayRequest(BaseModel):
    """Replay as it was, or with a fixed payload; sensitive fields left reading the mask
    keep their real values."""

    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] | None = None
    extra_hops: int = Field(default=0, ge=0, le=1000)
    """More hops for the workflow, when it died of its hop budget."""


class DiscardRequest(BaseModel):
    """Why the dead letter is dropped; kept in the ledger and the audit log."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)


@router.get("/dead-letters")
def list_dead_letters(
    found: ServicesDep,
    status: DeadLetterStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeadLetterSummary]:
    """Dead letters, newest first, optionally of one status."""
    letters = found.ledger.dead_letters(status=status, limit=limit)
    return [DeadLetterSummary.of(letter, _owner(found, letter)) for letter in letters]


@router.get("/dead-letters/{dead_letter_id}", responses=responses(404))
def get_dead_letter(found: ServicesDep, dead_letter_id: str) -> DeadLetterDetail:
    """Why a handoff died, the path that led there and its envelope, masked."""
    return _detail(found, found.ledger.dead_letter(dead_letter_id))


@router.post("/dead-letters/{dead_letter_id}/replay", responses=responses(403, 404, 409))
async def replay_dead_letter(
    found: ServicesDep,
    who: CallerDep,
    dead_letter_id: str,
    request: Annotated[ReplayRequest, Body()] = ReplayRequest(),  # noqa: B008 - a body default
) -> RunOutcome:
    """Validate the dead letter again (optionally with a fixed payload) and run on."""
    with found.access.audited(who, "dead_letter.replay", dead_letter_id) as note:
        letter = found.ledger.dead_letter(dead_letter_id)
        envelope = Envelope.model_validate_json(letter.envelope)
        who.require(found.owner(envelope), f"replay dead letter {dead_letter_id}")
        fixed = restore_masked(request.payload, envelope) if request.payload is not None else None
        note.detail.update(fixed_payload=fixed is not None, extra_hops=request.extra_hops)
        result = await found.runtime.replay(
            dead_letter_id, payload=fixed, extra_hops=request.extra_hops
        )
        note.detail.update(status=result.status.value)
    return RunOutcome.of(result)


@router.post("/dead-letters/{dead_letter_id}/discard", responses=responses(403, 404, 409))
def discard_dead_letter(
    found: ServicesDep, who: CallerDep, dead_letter_id: str, request: DiscardRequest
) -> DeadLetterDetail:
    """Close the dead letter without replaying it, saying why."""
    with found.access.audited(who, "dead_letter.discard", dead_letter_id) as note:
        note.detail.update(reason=request.reason)
        letter = found.ledger.dead_letter(dead_letter_id)
        envelope = Envelope.model_validate_json(letter.envelope)
        who.require(found.owner(envelope), f"discard dead letter {dead_letter_id}")
        found.runtime.discard(dead_letter_id, reason=request.reason)
    return _detail(found, found.ledger.dead_letter(dead_letter_id))


def _owner(found: Services, letter: DeadLetterRecord) -> str | None:
    return found.owner(Envelope.model_validate_json(letter.envelope))


def _detail(found: Services, letter: DeadLetterRecord) -> DeadLetterDetail:
    return DeadLetterDetail.of(letter, _owner(found, letter))
