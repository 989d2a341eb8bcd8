"""The registry and its governance: agents, contract versions, compatibility and the audit.

Agents come with their owners, declared health and circuit-breaker state rebuilt from the
ledger (:mod:`seamline.health`); contracts with every version, owner, mode, lifecycle and
JSON Schema. The compatibility view is ``seamline contracts check`` (against the project's
committed export when there is one) with each version's check against its major line; the
audit is ``seamline audit``'s scorecard.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from seamline.contracts import Compatibility, Lifecycle, Violation
from seamline.governance import ContractEntry, Evidence, audit, gather_evidence
from seamline.governance.check import CheckFinding, Severity, check_contracts
from seamline.governance.scorecard import EdgeAudit
from seamline.governance.sources import snapshot_from
from seamline.server.errors import responses
from seamline.server.services import ServicesDep, caller
from seamline.views import AgentStatus

__all__ = [
    "AgentStatus",
    "CompatibilityView",
    "ContractVersion",
    "LineageCheck",
    "Scorecard",
    "router",
]

router = APIRouter(
    prefix="/api",
    tags=["registry"],
    dependencies=[Depends(caller)],
    responses=responses(401, 422, 503),
)


class ContractVersion(ContractEntry):
    """One contract version with where it stands on its owner's calendar today."""

    stage: Lifecycle


class LineageCheck(BaseModel):
    """One version checked against the earlier ones of its major line, under its mode."""

    contract: str
    version: str
    mode: Compatibility
    compatible: bool
    compared: list[str]
    violations: list[Violation]


class CompatibilityView(BaseModel):
    """``seamline contracts check``'s findings, and every version's lineage check."""

    against: str | None
    """The committed export compared with, or None (then only the live seams are checked)."""
    errors: int
    findings: list[CheckFinding]
    lineage: list[LineageCheck]


class Scorecard(BaseModel):
    """``seamline audit``: every seam scored against the production checklist."""

    project: str | None
    score: float
    threshold: float | None
    """The project's ``[audit] threshold``; None without a project."""
    passed: bool | None
    edges: list[EdgeAudit]


@router.get("/agents")
def list_agents(
    found: ServicesDep,
    workflows: Annotated[
        int, Query(ge=1, le=10_000, description="Recent workflows the breakers are rebuilt from.")
    ] = 200,
) -> list[AgentStatus]:
    """Every agent: owner, escalation contact, capabilities, contracts, health, breaker."""
    return AgentStatus.all(found.registry, found.ledger, found.snapshot.agents, workflows=workflows)


@router.get("/contracts")
def list_contracts(found: ServicesDep) -> list[ContractVersion]:
    """Every version of every contract: owner, mode, lifecycle, changelog, JSON Schema."""
    today = date.today()
    return [
        ContractVersion(**entry.model_dump(), stage=entry.lifecycle(today))
        for entry in found.snapshot.contracts
        if not entry.builtin
    ]


@router.get("/contracts/compatibility")
def contracts_compatibility(found: ServicesDep) -> CompatibilityView:
    """Breaking changes against the committed export, and each version's lineage check."""
    project = found.project
    export = project.settings.export if project is not None else None
    against = str(export) if export is not None and export.is_file() else None
    base = snapshot_from(against, project) if against and project else None
    findings = check_contracts(found.snapshot, base)
    lineage = [
        LineageCheck(
            contract=name,
            version=report.candidate,
            mode=report.mode,
            compatible=report.compatible,
            compared=list(report.compared),
            violations=list(report.violations),
        )
        for name, report in found.registry.compatibility()
    ]
    return CompatibilityView(
        against=against,
        errors=sum(1 for f in findings if f.severity is Severity.ERROR),
        findings=findings,
        lineage=lineage,
    )


@router.get("/audit")
def audit_scorecard(found: ServicesDep) -> Scorecard:
    """Every seam scored: documented, versioned, owned, fallback owner, failure path, gated,
    instrumented, contract tests. Without a project on disk, nothing counts as exported or
    tested."""
    project = found.project
    evidence = gather_evidence(project) if project is not None else Evidence()
    report = audit(found.snapshot, evidence)
    threshold = project.settings.audit_threshold if project is not None else None
    return Scorecard(
        project=report.project,
        score=report.score,
        threshold=threshold,
        passed=None if threshold is None else report.score >= threshold,
        edges=list(report.edges),
    )
