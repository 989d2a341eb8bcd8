"""What the step-level evaluators found across the store: ``seamline evals report``.

The report (:class:`seamline.evals.EvaluationReport`) is counted from the ledger; the models
here give its JSON form (``as_dict``) a schema. Explanations were masked when recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from seamline.evals import EvaluationReport, Label, Mode
from seamline.server.errors import responses
from seamline.server.services import ServicesDep, caller

__all__ = ["EvaluationsView", "router"]

router = APIRouter(
    prefix="/api",
    tags=["evaluations"],
    dependencies=[Depends(caller)],
    responses=responses(401, 422, 503),
)


class EvaluatorCount(BaseModel):
    """One evaluator (in one mode): how often it ran and what it answered."""

    name: str
    mode: Mode
    runs: int
    passes: int
    failures: int
    errors: int
    fail_rate: float


class TallyCount(BaseModel):
    """Failures and errors at one contract or producing agent."""

    key: str
    runs: int
    failures: int
    errors: int
    evaluators: dict[str, int]
    """Which evaluators failed or erred here, and how often."""
    receivers: dict[str, int]
    """Whom the failed or erred handoffs were for."""


class RecentFailure(BaseModel):
    """One failed or erred evaluation, with the handoff it was about."""

    at: datetime
    workflow_id: str
    handoff_id: str
    route: str
    contract: str
    name: str
    mode: Mode
    label: Label
    score: float | None = None
    explanation: str | None = None
    path: str | None = None
    error_type: str | None = None


class EvaluationsView(BaseModel):
    """Every evaluation of the newest workflows, counted three ways, and the newest failures."""

    workflows: int
    handoffs: int
    evaluations: int
    failures: int
    errors: int
    by_evaluator: list[EvaluatorCount]
    by_contract: list[TallyCount]
    by_agent: list[TallyCount]
    recent: list[RecentFailure]


@router.get("/evaluations")
def evaluation_report(
    found: ServicesDep,
    workflows: Annotated[int, Query(ge=1, le=10_000, description="Newest workflows read.")] = 1000,
    recent: Annotated[int, Query(ge=0, le=100, description="Newest failures kept whole.")] = 5,
) -> EvaluationsView:
    """Evaluation failures and errors by evaluator, contract and producing agent."""
    report = EvaluationReport.collect(found.ledger, workflows=workflows, recent=recent)
    return EvaluationsView.model_validate(report.as_dict())
