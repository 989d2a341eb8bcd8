"""One handoff through the real boundary check, and how its issues are addressed.

Generated tests never re-implement validation: every probe builds a real envelope and runs
:func:`seamline.contracts.check_handoff`, so what they pin is what a receiver would see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from seamline.contracts import (
    EXTERNAL,
    AgentRef,
    Contract,
    ContractRef,
    Envelope,
    Intent,
    VersionRange,
    check_handoff,
)
from seamline.exceptions import Issue

__all__ = ["Location", "dotted", "hands_off", "lands_at"]

Location = tuple[str | int, ...]
"""Where a value sits inside a payload: keys and list indexes, outermost first."""

_INTENT = Intent.of("seamline.testing: generated contract test")
_SENT_AT = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so a failing envelope reproduces exactly
_RECEIVER = AgentRef(name="contract-under-test", version="0.0.0")


def hands_off(
    contract: Contract[Any],
    payload: dict[str, Any],
    *,
    claimed: ContractRef | None = None,
    accepted: VersionRange | None = None,
) -> list[Issue]:
    """The issues ``check_handoff`` reports for ``payload``; empty when it is accepted.

    ``claimed`` is what the envelope says it carries (the contract itself by default) and
    ``accepted`` the receiver's range (exactly the contract's version by default).
    """
    envelope = Envelope(
        handoff_id="seamline-testing",
        correlation_id="seamline-testing",
        source=EXTERNAL,
        destination=_RECEIVER,
        contract=claimed or ContractRef(name=contract.name, version=str(contract.version)),
        intent=_INTENT,
        hop=0,
        created_at=_SENT_AT,
        payload=payload,
    )
    result = check_handoff(
        envelope,
        contract,
        accepted or VersionRange.parse(f"={contract.version}"),
        intent_sha256=_INTENT.sha256,
        previous_constraints=None,
        facts={},
    )
    return result if isinstance(result, list) else []


def dotted(location: Location) -> str:
    """A payload location spelled the way ``check_handoff`` reports it: ``payload.a.0.b``."""
    return ".".join(str(part) for part in ("payload", *location))


def lands_at(issues: Sequence[Issue], path: str, code: str | None = None) -> bool:
    """Whether an issue sits at ``path`` or below it (a union member, a list item, ...)."""
    return any(
        (issue.path == path or issue.path.startswith(f"{path}."))
        and (code is None or issue.code == code)
        for issue in issues
    )
