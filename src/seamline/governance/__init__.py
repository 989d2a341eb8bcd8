"""Governance: the registry as data, and the questions teams ask of it in CI.

Everything here works on a :class:`Snapshot` (plain data, no code), so the same answers
come from a live registry, an exported file, or the file as it was at a git ref.
"""

from seamline.governance.deploy import DeployCheck, DeployVerdict, can_i_deploy
from seamline.governance.evidence import Evidence, gather_evidence
from seamline.governance.impact_analysis import ImpactReport, impact
from seamline.governance.runbooks import runbook, write_runbooks
from seamline.governance.scorecard import AuditReport, audit
from seamline.governance.snapshot import AgentEntry, ContractEntry, Edge, MigrationEntry, Snapshot

__all__ = [
    "AgentEntry",
    "AuditReport",
    "ContractEntry",
    "DeployCheck",
    "DeployVerdict",
    "Edge",
    "Evidence",
    "ImpactReport",
    "MigrationEntry",
    "Snapshot",
    "audit",
    "can_i_deploy",
    "gather_evidence",
    "impact",
    "runbook",
    "write_runbooks",
]
