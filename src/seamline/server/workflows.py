"""Workflows and handoffs: lists, details and the trace tree, all read-only and masked.

A handoff's envelope is always shown through :meth:`Envelope.masked`, and its ``proposed``
row (the envelope as recorded, sensitive values included) is never returned as data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from seamline.evals import Label, Mode, WorkflowTrace
from seamline.ledger import HandoffStatus, HandoffView, Ledger
from seamline.runtime import RunResult
from seamline.server.errors import IssueBody, responses
from seamline.server.services import ServicesDep, caller
from seamline.stores import WorkflowStatus
from seamline.views import WorkflowSummary

__all__ = [
    "HandoffDetail",
    "HandoffSummary",
    "RunOutcome",
    "TraceHandoff",
    "TraceWorkflow",
    "WorkflowDetail",
    "WorkflowSummary",
    "router",
]

router = APIRouter(
    prefix="/api",
    tags=["workflows"],
    dependencies=[Depends(caller)],
    responses=responses(401, 422, 503),
)

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many, newest first.")]


class HandoffSummary(BaseModel):
    """One handoff: where it went under which contract, and where it stands."""

    id: str
    workflow_id: str
    hop: int
    source: str
    destination: str
    route: str
    """``source@version -> destination@version``."""
    contract: str
    status: HandoffStatus
    created_at: datetime

    @classmethod
    def of(cls, view: HandoffView) -> HandoffSummary:
        """The summary of a ledger view."""
        return cls(
            id=view.id,
            workflow_id=view.correlation_id,
            hop=view.hop,
            source=view.sender,
            destination=view.receiver,
            route=view.route,
            contract=view.contract,
            status=view.status,
            created_at=view.created_at,
        )


class Transition(BaseModel):
    """One ledger row of a handoff."""

    seq: int
    at: datetime
    kind: str
    data: Any = None
    """The row's JSON; None for ``proposed``, whose envelope is shown masked instead."""


class HandoffDetail(HandoffSummary):
    """A handoff with its envelope (masked) and every transition the ledger holds."""

    envelope: dict[str, Any]
    transitions: list[Transition]


class WorkflowDetail(WorkflowSummary):
    """A workflow, how it ended (result, dead letter or escalation) and its chain."""

    outcome: dict[str, Any] | None
    chain: list[HandoffSummary]


class RunOutcome(BaseModel):
    """Where a workflow stands after a replay or a gate decision."""

    workflow_id: str
    status: WorkflowStatus
    result: Any = None
    """The final result when it completed; the dead-letter or escalation details otherwise."""
    handoffs: int
    """Handoffs delivered in the workflow so far."""
    dead_letter_id: str | None

    @classmethod
    def of(cls, result: RunResult) -> RunOutcome:
        """The outcome of a run."""
        return cls(
            workflow_id=result.workflow_id,
            status=result.status,
            result=result.result,
            handoffs=result.handoffs,
            dead_letter_id=result.dead_letter_id,
        )


class TraceEvaluation(BaseModel):
    """One evaluator's result on a handoff (explanations are masked when recorded)."""

    name: str
    mode: Mode
    label: Label
    score: float | None = None
    explanation: str | None = None
    path: str | None = None
    error_type: str | None = None


class TraceNote(BaseModel):
    """A ledger row about what happened at a seam beyond its status."""

    kind: str
    at: datetime
    data: Any = None


class TraceHandoff(BaseModel):
    """One seam of a trace, with the fan-out legs it started."""

    id: str
    hop: int
    source: str
    destination: str
    route: str
    contract: str
    status: HandoffStatus
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: float | None
    issues: list[IssueBody]
    evaluations: list[TraceEvaluation]
    notes: list[TraceNote]
    legs: list[TraceWorkflow]


class TraceWorkflow(BaseModel):
    """A workflow as a tree of its seams (:class:`seamline.evals.WorkflowTrace`)."""

    id: str
    name: str | None
    """None for a fan-out leg that never started."""
    status: WorkflowStatus | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: float | None
    handoffs: list[TraceHandoff]


TraceHandoff.model_rebuild()


@router.get("/workflows", response_model=list[WorkflowSummary])
def list_workflows(
    found: ServicesDep, status: WorkflowStatus | None = None, limit: Limit = 50
) -> list[WorkflowSummary]:
    """Workflows, newest first, optionally of one status."""
    ledger = found.ledger
    return [
        WorkflowSummary.of(workflow, ledger.handoffs(workflow.id))
        for workflow in ledger.workflows(status=status, limit=limit)
    ]


@router.get("/workflows/{workflow_id}", responses=responses(404))
def get_workflow(found: ServicesDep, workflow_id: str) -> WorkflowDetail:
    """One workflow with its outcome and its handoffs in chain order."""
    ledger = found.ledger
    workflow = ledger.workflow(workflow_id)
    views = ledger.handoffs(workflow.id)
    return WorkflowDetail(
        **WorkflowSummary.of(workflow, views).model_dump(),
        outcome=json.loads(workflow.result) if workflow.result else None,
        chain=[HandoffSummary.of(view) for view in views],
    )


@router.get("/workflows/{workflow_id}/trace", responses=responses(404))
def get_trace(found: ServicesDep, workflow_id: str) -> TraceWorkflow:
    """The workflow as a tree of its handoffs: timings, issues, evaluations, notes, legs."""
    ledger = found.ledger
    trace = WorkflowTrace.read(ledger, ledger.workflow(workflow_id).id)
    return TraceWorkflow.model_validate(trace.as_dict())


@router.get("/handoffs", responses=responses(404))
def list_handoffs(
    found: ServicesDep, workflow: str | None = None, limit: Limit = 50
) -> list[HandoffSummary]:
    """The newest handoffs across workflows, or one workflow's in chain order."""
    ledger = found.ledger
    views = _chain(ledger, workflow)[:limit] if workflow else ledger.recent_handoffs(limit=limit)
    return [HandoffSummary.of(view) for view in views]


@router.get("/handoffs/{handoff_id}", responses=responses(404))
def get_handoff(found: ServicesDep, handoff_id: str) -> HandoffDetail:
    """One handoff: its envelope, masked, and every ledger transition."""
    view = found.ledger.handoff(handoff_id)
    return HandoffDetail(
        **HandoffSummary.of(view).model_dump(),
        envelope=view.envelope.masked().model_dump(mode="json"),
        transitions=[
            Transition(
                seq=entry.seq,
                at=entry.at,
                kind=entry.kind,
                data=json.loads(entry.data) if entry.data and entry.kind != "proposed" else None,
            )
            for entry in view.entries
        ],
    )


def _chain(ledger: Ledger, workflow_id: str) -> list[HandoffView]:
    """A workflow's handoffs; NotFoundError for an unknown workflow."""
    return ledger.handoffs(ledger.workflow(workflow_id).id)
