"""What machines are shown: typed read models of workflows, dead letters and agents.

The HTTP API and the MCP server answer the same questions (what is running, what died and
why, which agents are healthy), so they share these models instead of keeping two copies
that would drift. Every value is masked: a dead letter's envelope is shown with its
sensitive fields replaced, whoever asks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from seamline.contracts import Envelope
from seamline.governance import AgentEntry
from seamline.health import agent_health
from seamline.ledger import HandoffView, Ledger
from seamline.registry import Health, IssueModel, Registry
from seamline.runtime import BreakerState
from seamline.stores import DeadLetterRecord, DeadLetterStatus, WorkflowRecord, WorkflowStatus

__all__ = ["AgentStatus", "DeadLetterDetail", "DeadLetterSummary", "WorkflowSummary"]


class WorkflowSummary(BaseModel):
    """One workflow: its status, how far it got and where its work is."""

    id: str
    name: str
    status: WorkflowStatus
    entry: str
    """The agent it started at."""
    app: str | None
    """The registry it runs with (``module:attribute``), when recorded."""
    handoffs: int
    at_agent: str | None
    """The destination of its newest handoff."""
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, workflow: WorkflowRecord, views: list[HandoffView]) -> WorkflowSummary:
        """The summary of a workflow and its handoffs."""
        return cls(
            id=workflow.id,
            name=workflow.name,
            status=workflow.status,
            entry=workflow.entry,
            app=workflow.app,
            handoffs=len(views),
            at_agent=views[-1].receiver if views else None,
            created_at=workflow.created_at,
            updated_at=workflow.updated_at,
        )


class DeadLetterSummary(BaseModel):
    """A handoff that could not proceed, and who may act on it."""

    id: str
    """The dead-lettered handoff's id."""
    workflow_id: str
    route: str
    contract: str
    owner: str | None = None
    """The team that may replay or discard it (besides admins), where that is known."""
    reason: str
    message: str
    status: DeadLetterStatus
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None

    @classmethod
    def of(cls, letter: DeadLetterRecord, owner: str | None = None) -> DeadLetterSummary:
        """The summary of a dead letter."""
        return cls(**_summary(letter, owner))


class DeadLetterDetail(DeadLetterSummary):
    """A dead letter whole: its issues, the path that led there and its envelope, masked."""

    issues: list[IssueModel]
    path: list[str]
    envelope: dict[str, Any]

    @classmethod
    def of(cls, letter: DeadLetterRecord, owner: str | None = None) -> DeadLetterDetail:
        """A dead letter with everything it keeps, its values masked."""
        return cls(
            **_summary(letter, owner),
            issues=json.loads(letter.issues),
            path=json.loads(letter.path),
            envelope=_envelope(letter).masked().model_dump(mode="json"),
        )


class AgentStatus(AgentEntry):
    """An agent card with its health now and its breaker as the ledger's calls leave it."""

    health: Health
    """Declared, or set by an operator or a breaker; capability routing steers around
    degraded and down agents."""
    breaker: BreakerState
    calls: int
    """Recent deliveries the breaker state was rebuilt from."""
    faults: int

    @classmethod
    def all(
        cls,
        registry: Registry,
        ledger: Ledger,
        cards: Iterable[AgentEntry],
        *,
        workflows: int = 200,
    ) -> list[AgentStatus]:
        """Every carded agent's status, its breaker rebuilt from the newest ``workflows``."""
        by_name: Mapping[str, AgentEntry] = {card.name: card for card in cards}
        return [
            cls(
                **by_name[one.agent].model_dump(exclude={"health"}),
                health=registry.health(one.agent),
                breaker=one.breaker,
                calls=one.calls,
                faults=one.faults,
            )
            for one in agent_health(registry, ledger, workflows=workflows)
            if one.agent in by_name
        ]


def _envelope(letter: DeadLetterRecord) -> Envelope:
    return Envelope.model_validate_json(letter.envelope)


def _summary(letter: DeadLetterRecord, owner: str | None) -> dict[str, Any]:
    envelope = _envelope(letter)
    return {
        "id": letter.id,
        "workflow_id": letter.correlation_id,
        "route": f"{envelope.source} -> {envelope.destination}",
        "contract": str(envelope.contract),
        "owner": owner,
        "reason": letter.reason,
        "message": letter.message,
        "status": letter.status,
        "created_at": letter.created_at,
        "resolved_at": letter.resolved_at,
        "resolution": letter.resolution,
    }
