"""Human gates: the inbox (open, decided, all), one gate, and a decision on it.

A gate is decided by the team that owns it (the gated contract's owner, or the team its
gate names) or by an admin, once: a second decision is a 409 naming who decided. An edit is
validated against the contract again; a payload that breaks it is a 422 listing every issue,
and the gate stays open. Decisions are recorded as ``team/token`` in the ledger, and every
attempt in the API's audit log.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from seamline.gates import Decision, GateView
from seamline.server.errors import responses
from seamline.server.services import NOT_BLANK, CallerDep, ServicesDep, caller, restore_masked
from seamline.server.workflows import RunOutcome

__all__ = ["Approve", "DecisionRequest", "Edit", "Reject", "router"]

router = APIRouter(
    prefix="/api",
    tags=["gates"],
    dependencies=[Depends(caller)],
    responses=responses(401, 422, 503),
)


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Approve(_Decision):
    """Deliver the handoff as it is."""

    decision: Literal["approve"]
    reason: str | None = Field(default=None, max_length=2000)


class Reject(_Decision):
    """Stop it: it is dead-lettered with the reason (and escalated if its contract says so)."""

    decision: Literal["reject"]
    reason: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)
    """Read by the sender's owner; required."""


class Edit(_Decision):
    """Deliver a corrected payload instead, validated against the contract first; sensitive
    fields left reading the mask keep their real values."""

    decision: Literal["edit"]
    payload: dict[str, Any]
    reason: str | None = Field(default=None, max_length=2000)


DecisionRequest = Annotated[Approve | Reject | Edit, Field(discriminator="decision")]
"""``{decision, reason?, payload?}``: approve; reject with a reason; edit with a payload."""


@router.get("/gates")
def list_gates(
    found: ServicesDep,
    status: Literal["open", "decided", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[GateView]:
    """Gates, newest first: those waiting for a decision, those decided, or all."""
    return found.runtime.gates(status=status, limit=limit)


@router.get("/gates/{gate_id}", responses=responses(404))
def get_gate(found: ServicesDep, gate_id: str) -> GateView:
    """One gate, open or decided."""
    return found.runtime.gate(gate_id)


@router.post("/gates/{gate_id}/decision", responses=responses(403, 404, 409))
async def decide_gate(
    found: ServicesDep, who: CallerDep, gate_id: str, request: DecisionRequest
) -> RunOutcome:
    """Decide an open gate; approved or edited, the workflow runs on to its end or next gate."""
    with found.access.audited(who, "gate.decide", gate_id) as note:
        note.detail.update(decision=request.decision, reason=request.reason)
        gate = found.runtime.gate(gate_id)
        who.require(gate.owner, f"decide gate {gate_id}")
        payload = None
        if isinstance(request, Edit):
            payload = restore_masked(request.payload, found.ledger.handoff(gate_id).envelope)
        result = await found.runtime.decide(
            gate_id, Decision(request.decision), by=who.who, reason=request.reason, payload=payload
        )
        note.detail.update(status=result.status.value)
    return RunOutcome.of(result)
