"""Boundary validation: the checks a handoff passes before its receiver runs.

Pure functions over an envelope and the ledger's authoritative view of the workflow (the
intent hash recorded at the start, the constraints and tracked facts of the previous hop).
The envelope's own copies are never trusted for the comparison: a sender that rewrites
them is exactly what these checks exist to catch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from seamline.contracts.contract import Contract, Lifecycle
from seamline.contracts.envelope import Constraints, ContractRef, Envelope, intent_hash
from seamline.contracts.masking import MASK
from seamline.contracts.migration import MigrationPath
from seamline.contracts.version import VersionRange
from seamline.exceptions import Issue, VersionError

__all__ = [
    "Accepted",
    "check_handoff",
    "deprecation",
    "payload_issues",
    "retirement",
    "upcast",
]


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
        issues.extend(payload_issues(error))
    new_facts = dict(facts)
    if payload is not None and contract.tracked:
        dumped = payload.model_dump(mode="json", include=set(contract.tracked))
        # Issues reach senders, ledgers and terminals: a sensitive value is never quoted.
        hidden = contract.sensitive.union(envelope.sensitive)
        for name in sorted(contract.tracked):
            if name not in dumped:
                continue
            value = dumped[name]
            if (
                name in facts
                and facts[name] != value
                and not contract.may_rewrite(name, envelope.source.name)
            ):
                was, now = (MASK, MASK) if name in hidden else (repr(facts[name]), repr(value))
                issues.append(
                    Issue(
                        f"payload.{name}",
                        f"tracked fact changed from {was} to {now}; "
                        "pass the value through exactly as received",
                        "fact_changed",
                    )
                )
            new_facts[name] = value
    if issues or payload is None:
        return issues
    return Accepted(payload=payload, facts=new_facts)


def retirement(contract: Contract[Any], accepted: VersionRange, today: date) -> Issue | None:
    """The rejection for a sender still emitting a version past its retirement date."""
    if contract.lifecycle(today) is not Lifecycle.RETIRED:
        return None
    return Issue(
        "contract.version",
        f"{contract.ref} was retired on {contract.retires}; the receiver accepts "
        f"{contract.name} {accepted}: emit a version in that range",
        "version_retired",
    )


def deprecation(contract: Contract[Any], today: date) -> Issue | None:
    """The warning for a sender emitting a deprecated version (it still validates)."""
    if contract.lifecycle(today) is not Lifecycle.DEPRECATED:
        return None
    when = f"retires on {contract.retires}" if contract.retires else "has no retirement date yet"
    return Issue(
        "contract.version",
        f"{contract.ref} is deprecated and {when}; move the sender to a newer version",
        "version_deprecated",
    )


def upcast(
    envelope: Envelope, source: Contract[Any], path: MigrationPath
) -> Envelope | list[Issue]:
    """The envelope rewritten for the version its receiver reads, or why it cannot be.

    The payload is first validated as the version the sender claims to emit, so a broken
    payload is reported in the sender's own terms instead of as a migration crash.
    """
    try:
        written = source.model.model_validate(envelope.payload)
    except ValidationError as error:
        return payload_issues(error)
    try:
        migrated = path.apply(written.model_dump(mode="json"))
    except Exception as error:  # a migration is user code; its bug is this handoff's issue
        return [
            Issue(
                "payload",
                f"upcast {path.source} -> {path.target} failed: {type(error).__name__}: "
                f"{error}; fix the migration",
                "migration_failed",
            )
        ]
    return envelope.model_copy(
        update={
            "contract": ContractRef(name=source.name, version=str(path.target)),
            "payload": migrated,
        }
    )


def payload_issues(error: ValidationError) -> list[Issue]:
    """A payload's validation errors as issues addressed ``payload.<field>``, so every
    sender, code at the boundary or a model checking its own answer, is told the same way."""
    issues = []
    for detail in error.errors(include_url=False):
        path = ".".join(str(part) for part in ("payload", *detail["loc"]))
        issues.append(Issue(path, detail["msg"], detail["type"]))
    return issues
