"""Boundary validation: the checks a handoff passes before its receiver runs.

Pure functions over an envelope and the ledger's authoritative view of the workflow (the
intent hash recorded at the start, the constraints and tracked facts of the previous hop).
The envelope's own copies are never trusted for the comparison: a sender that rewrites
them is exactly what these checks exist to catch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from seamline.contracts.contract import Contract
from seamline.contracts.envelope import Constraints, Envelope, intent_hash
from seamline.contracts.version import VersionRange
from seamline.exceptions import Issue, VersionError

__all__ = ["Accepted", "check_handoff"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """A handoff that passed: the typed payload and the workflow's facts after this hop."""

    payload: BaseModel
    facts: dict[str, Any]


def check_handoff(
    envelope: Envelope,
    contract: Contract[Any],
    accepted: VersionRange,
    *,
    intent_sha256: str,
    previous_constraints: Constraints | None,
    facts: Mapping[str, Any],
) -> Accepted | list[Issue]:
    """Validate ``envelope`` for a receiver bound by ``contract`` within ``accepted``.

    Returns every issue found (not just the first), so one round of feedback can fix them all.
    """
    issues: list[Issue] = []
    if envelope.contract.name != contract.name:
        issues.append(
            Issue(
                "contract.name",
                f"receiver expects contract {contract.name}, got {envelope.contract.name}",
                "contract_mismatch",
            )
        )
    try:
        admitted = accepted.admits(envelope.contract.version)
    except VersionError:
        admitted = False
    if not admitted:
        issues.append(
            Issue(
                "contract.version",
                f"version {envelope.contract.version} is outside the accepted range {accepted}",
                "version_not_accepted",
            )
        )
    if envelope.intent.sha256 != intent_sha256 or intent_hash(envelope.intent.text) != (
        intent_sha256
    ):  # the text is re-hashed: a sender that edits it without the hash must not slip by
        issues.append(
            Issue(
                "intent",
                "the user's intent differs from the one the workflow started with; "
                "carry it verbatim",
                "intent_changed",
            )
        )
    if previous_constraints is not None and envelope.constraints is not previous_constraints:
        issues.extend(envelope.constraints.loosened_from(previous_constraints))
    payload: BaseModel | None = None
    try:
        payload = contract.model.model_validate(envelope.payload)
    except ValidationError as error:
        issues.extend(_payload_issues(error))
    new_facts = dict(facts)
    if payload is not None and contract.tracked:
        dumped = payload.model_dump(mode="json", include=set(contract.tracked))
        for name in sorted(contract.tracked):
            if name not in dumped:
                continue
            value = dumped[name]
            if name in facts and facts[name] != value and name not in contract.rewrites:
                issues.append(
                    Issue(
                        f"payload.{name}",
                        f"tracked fact changed from {facts[name]!r} to {value!r}; "
                        "pass the value through exactly as received",
                        "fact_changed",
                    )
                )
            new_facts[name] = value
    if issues or payload is None:
        return issues
    return Accepted(payload=payload, facts=new_facts)


def _payload_issues(error: ValidationError) -> list[Issue]:
    issues = []
    for detail in error.errors(include_url=False):
        path = ".".join(str(part) for part in ("payload", *detail["loc"]))
        issues.append(Issue(path, detail["msg"], detail["type"]))
    return issues
