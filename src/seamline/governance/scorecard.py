"""The audit: every handoff seam scored against what a production seam should have.

Each seam of :meth:`Snapshot.edges` (entry points included) is checked for:

- **documented**: the contract has a description, and so does every top-level field.
- **versioned**: the receiver accepts a bounded range (``^1.2``, ``~1.2``, ``>=1,<2``; not
  ``*`` or a bare ``>=1``); a sender always names the version it emits.
- **owned**: the contract, the receiver and the sender (if any) each name an owner team.
- **fallback owner**: the contract names one, or the receiver an escalation contact.
- **failure path**: a fallback agent, or feedback retries to the sender followed by a
  fallback owner who hears of the dead letter (either half alone leaves a rejected
  handoff with nobody able to fix it).
- **gated** (consequential contracts only): a human gate before delivery. Gates arrive in
  issue 8, so until then this fails, honestly, wherever it applies.
- **instrumented**: spans reach an exporter (see :mod:`seamline.governance.evidence`).
- **contract tests**: the contract is under the generated contract tests.

The contract audited on a seam is the one whose policy applies there at run time (see
:func:`governing_contract`). A seam scores passed / applicable × 100; the project scores the mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from statistics import fmean

from seamline.contracts import Version, VersionRange
from seamline.governance.evidence import Evidence
from seamline.governance.snapshot import AgentEntry, ContractEntry, Edge, Snapshot

__all__ = [
    "AuditReport",
    "Check",
    "CheckResult",
    "EdgeAudit",
    "Status",
    "audit",
    "governing_contract",
]

NO_GATE = "consequential but no human gate (gates: issue 8)"


class Check(StrEnum):
    """One item of the checklist, in the order reports show them."""

    DOCUMENTED = "documented"
    VERSIONED = "versioned"
    OWNED = "owned"
    FALLBACK_OWNER = "fallback owner"
    FAILURE_PATH = "failure path"
    GATED = "gated"
    INSTRUMENTED = "instrumented"
    CONTRACT_TESTS = "contract tests"


class Status(StrEnum):
    """How a seam fared on one check."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check on one seam, with why it passed or what to do about it."""

    check: Check
    status: Status
    reason: str


@dataclass(frozen=True, slots=True)
class EdgeAudit:
    """One seam's results and score."""

    edge: Edge
    contract: str
    """The contract version audited, ``name@version``."""
    score: float
    results: tuple[CheckResult, ...]

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks this seam failed."""
        return tuple(r for r in self.results if r.status is Status.FAIL)


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Every seam's audit and the project's score (100 when it has no seam to fault)."""

    project: str | None
    score: float
    edges: tuple[EdgeAudit, ...]


def audit(snapshot: Snapshot, evidence: Evidence) -> AuditReport:
    """Score every seam of ``snapshot``; ``evidence`` says what the project shows on disk."""
    edges = tuple(_audit_edge(snapshot, edge, evidence) for edge in snapshot.edges())
    score = fmean(e.score for e in edges) if edges else 100.0
    return AuditReport(snapshot.project, round(score, 1), edges)


def _audit_edge(snapshot: Snapshot, edge: Edge, evidence: Evidence) -> EdgeAudit:
    contract = governing_contract(snapshot, edge)
    receiver = snapshot.agent(edge.receiver)
    sender = snapshot.agent(edge.sender) if edge.sender else None
    fallback_owner = contract.fallback_owner or receiver.escalation
    results = (
        _documented(contract),
        _versioned(edge),
        _owned(contract, receiver, sender),
        _fallback_owner(contract, receiver, fallback_owner),
        _failure_path(contract, fallback_owner),
        _gated(contract),
        _instrumented(evidence),
        _tested(evidence, contract.name),
    )
    applicable = [r for r in results if r.status is not Status.NOT_APPLICABLE]
    passed = sum(r.status is Status.PASS for r in applicable)
    return EdgeAudit(edge, contract.ref, round(100 * passed / len(applicable), 1), results)


def governing_contract(snapshot: Snapshot, edge: Edge) -> ContractEntry:
    """The contract version whose policy applies on a seam, as at run time.

    That is the version the receiver reads; for a seam that cannot work, the version
    emitted; for an entry point nothing admits, the newest.
    """
    versions = snapshot.versions(edge.contract)
    held = {str(Version.parse(c.version)): c for c in versions}
    return held.get(edge.reads or "") or held.get(edge.emitted or "") or versions[-1]


def _result(check: Check, problem: str | None, fine: str) -> CheckResult:
    if problem:
        return CheckResult(check, Status.FAIL, problem)
    return CheckResult(check, Status.PASS, fine)


def _documented(contract: ContractEntry) -> CheckResult:
    properties = contract.json_schema.get("properties", {})
    bare = [
        name
        for name, spec in properties.items()
        if not (isinstance(spec, dict) and spec.get("description"))
    ]
    problems = []
    if not contract.description.strip():
        problems.append(f"{contract.ref} has no description; give its payload model a docstring")
    if bare:
        problems.append(
            f"undocumented fields of {contract.ref}: {', '.join(bare)}; add attribute "
            "docstrings (use_attribute_docstrings=True) or Field(description=...)"
        )
    return _result(Check.DOCUMENTED, "; ".join(problems), f"{len(properties)} fields described")


def _versioned(edge: Edge) -> CheckResult:
    bounded = any(b.op in ("<", "<=", "==") for b in VersionRange.parse(edge.accepted).bounds)
    unbounded = (
        f"{edge.receiver} accepts {edge.contract} {edge.accepted}, which has no upper bound, "
        "so a breaking major would be let in; accept a bounded range such as ^1"
    )
    sent = f"{edge.sender} emits {edge.emitted}, " if edge.sender else ""
    fine = f"{sent}{edge.receiver} accepts {edge.accepted}"
    return _result(Check.VERSIONED, None if bounded else unbounded, fine)


def _owned(contract: ContractEntry, receiver: AgentEntry, sender: AgentEntry | None) -> CheckResult:
    parties = [
        (f"contract {contract.name}", contract.owner),
        (f"agent {receiver.name}", receiver.owner),
    ]
    if sender is not None:
        parties.append((f"agent {sender.name}", sender.owner))
    missing = [who for who, owner in parties if not owner.strip()]
    return _result(
        Check.OWNED,
        f"no owner for {', '.join(missing)}; name the responsible team" if missing else None,
        ", ".join(owner for _, owner in parties),
    )


def _fallback_owner(
    contract: ContractEntry, receiver: AgentEntry, fallback_owner: str | None
) -> CheckResult:
    missing = (
        f"no fallback owner: set fallback_owner on {contract.name} or an escalation contact "
        f"on agent {receiver.name}"
    )
    fine = f"escalations go to {fallback_owner}"
    return _result(Check.FALLBACK_OWNER, None if fallback_owner else missing, fine)


def _failure_path(contract: ContractEntry, fallback_owner: str | None) -> CheckResult:
    retries = contract.feedback_retries
    if contract.fallback_agent:
        return _result(Check.FAILURE_PATH, None, f"fallback agent {contract.fallback_agent}")
    owner = f"fallback owner {fallback_owner}" if fallback_owner else "no fallback owner"
    missing = (
        f"no failure path for {contract.ref} ({retries} feedback retries, no fallback agent, "
        f"{owner}); declare a fallback agent, or feedback_retries > 0 and a fallback owner"
    )
    fine = f"{retries} feedback round(s), then dead letters for {fallback_owner}"
    return _result(Check.FAILURE_PATH, None if retries and fallback_owner else missing, fine)


def _gated(contract: ContractEntry) -> CheckResult:
    if contract.consequential:
        return CheckResult(Check.GATED, Status.FAIL, NO_GATE)
    return CheckResult(Check.GATED, Status.NOT_APPLICABLE, "not marked consequential")


def _instrumented(evidence: Evidence) -> CheckResult:
    if evidence.exporter is None:
        problem: str | None = (
            "no span exporter: set [tracing] exporter in seamline.toml or "
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
    elif not evidence.sdk_installed:
        problem = (
            "opentelemetry-sdk is not installed, so no span is exported: "
            'pip install "seamline[otel]"'
        )
    else:
        problem = None
    return _result(Check.INSTRUMENTED, problem, f"spans exported ({evidence.exporter})")


def _tested(evidence: Evidence, contract: str) -> CheckResult:
    source = evidence.covers(contract)
    missing = (
        f"no contract tests for {contract}: set seamline_contracts in the pytest "
        "configuration, or call contract_tests(...) for it in a test file"
    )
    return _result(Check.CONTRACT_TESTS, None if source else missing, f"covered by {source}")
