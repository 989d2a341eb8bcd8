"""Generated contract tests as plain objects: one case per property of one contract version.

Pure library: nothing here needs pytest, so a case runs the same from a script, a notebook,
another test runner or the seamline pytest plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from seamline.contracts import Contract, ContractRef, Version, VersionRange
from seamline.exceptions import MissingExtraError
from seamline.registry import REJECTED_HANDOFF, Registry
from seamline.testing._boundary import hands_off

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["ContractCase", "cases_for", "contract_cases", "registry_cases"]

_EXTRA_MODULES = frozenset({"hypothesis", "hypothesis_jsonschema", "jsonschema"})


@dataclass(frozen=True, slots=True)
class ContractCase:
    """One generated test of one contract version, runnable on its own.

    Each case checks one property a receiver relies on (valid payloads get through, malformed
    ones are stopped at the right field, boundaries hold, foreign versions are refused), so a
    failure names the property that broke rather than a bare traceback.
    """

    contract: Contract[Any]
    name: str
    """What the case checks, e.g. ``valid_payloads_accepted``."""
    check: Callable[[], None] = field(repr=False, compare=False)
    """The test itself: returns quietly, or raises AssertionError."""

    @property
    def id(self) -> str:
        """A stable id, e.g. ``refund.request@1.2.0::valid_payloads_accepted``."""
        return f"{self.contract.ref}::{self.name}"

    def run(self) -> None:
        """Run the case; raises AssertionError saying what the boundary got wrong and the fix."""
        __tracebackhide__ = True  # pytest shows the message, not this frame
        self.check()


def contract_cases(
    contract: Contract[Any],
    accepted: VersionRange | str | Iterable[VersionRange | str] | None = None,
) -> list[ContractCase]:
    """The generated cases for one contract version.

    ``accepted`` is the version range (or ranges) receivers of this contract declare; the
    version-mismatch case claims versions just outside each. By default it is the caret range
    of the contract's own version (``^1.2.0`` for 1.2.0), what a receiver usually accepts.

    Raises MissingExtraError when the ``testing`` extra is not installed.
    """
    probes = _probes()
    checks: dict[str, Callable[..., None]] = {
        "valid_payloads_accepted": probes.valid_payloads_accepted,
        "malformed_payloads_rejected": probes.malformed_payloads_rejected,
        "edge_values_handled": probes.edge_values_handled,
        "version_mismatch_detected": partial(_version_mismatch, ranges=_ranges(contract, accepted)),
    }
    return [
        ContractCase(contract, name, partial(check, contract)) for name, check in checks.items()
    ]


def registry_cases(registry: Registry) -> list[ContractCase]:
    """The cases for every contract version in ``registry``, oldest version first.

    The built-in ``seamline.rejected-handoff`` is seamline's own and is left out. Each
    contract's version-mismatch case uses the ranges the registry's agents accept it with.
    """
    cases: list[ContractCase] = []
    for contract in registry.contracts:
        if contract.name == REJECTED_HANDOFF.name:
            continue
        ranges = [
            one.card.accepts[contract.name]
            for one in registry.agents
            if contract.name in one.card.accepts
        ]
        cases.extend(contract_cases(contract, list(dict.fromkeys(ranges)) or None))
    return cases


def cases_for(source: Registry | Contract[Any] | Iterable[Contract[Any]]) -> list[ContractCase]:
    """The cases for a registry, one contract, or several contracts."""
    if isinstance(source, Registry):
        return registry_cases(source)
    if isinstance(source, Contract):
        return contract_cases(source)
    return [case for contract in source for case in contract_cases(contract)]


def _probes() -> ModuleType:
    try:
        from seamline.testing import _probes
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in _EXTRA_MODULES:
            raise
        raise MissingExtraError(
            feature="seamline.testing (generated contract tests)", extra="testing"
        ) from error
    return _probes


def _ranges(
    contract: Contract[Any], accepted: VersionRange | str | Iterable[VersionRange | str] | None
) -> tuple[VersionRange, ...]:
    if accepted is None:
        return (VersionRange.parse(f"^{contract.version}"),)
    if isinstance(accepted, VersionRange | str):
        return (VersionRange.parse(accepted),)
    return tuple(VersionRange.parse(one) for one in accepted)


@dataclass(frozen=True, slots=True)
class _Claim:
    """An envelope's claim about its contract, and the issue a receiver must answer it with."""

    ref: ContractRef
    accepted: VersionRange
    path: str
    code: str | None
    """None: the claim is in range and must raise no issue at ``path``."""


def _claims(contract: Contract[Any], ranges: Iterable[VersionRange]) -> Iterator[_Claim]:
    """What an envelope may claim to carry, and how the boundary must answer.

    Kept in one place so version rules (deprecation, retirement, migrations) add their claims
    here: versions one step either side of each part of the contract's version, read against
    every range a receiver declares, and the same version under another contract's name.
    """
    major, minor, patch = contract.version.major, contract.version.minor, contract.version.patch
    nearby = {
        Version(major + 1),
        Version(major, minor + 1),
        Version(major, minor, patch + 1),
        *([Version(major - 1, 0, 0)] if major else []),
        *([Version(major, minor - 1, 0)] if minor else []),
        *([Version(major, minor, patch - 1)] if patch else []),
        contract.version,
    }
    for accepted in ranges:
        for version in sorted(nearby):
            yield _Claim(
                ContractRef(name=contract.name, version=str(version)),
                accepted,
                "contract.version",
                None if accepted.admits(version) else "version_not_accepted",
            )
        yield _Claim(
            ContractRef(name=f"{contract.name}.other", version=str(contract.version)),
            accepted,
            "contract.name",
            "contract_mismatch",
        )


def _version_mismatch(contract: Contract[Any], ranges: tuple[VersionRange, ...]) -> None:
    """Envelopes claiming a version outside the receiver's range, or another contract, fail."""
    __tracebackhide__ = True
    failures = []
    for claim in _claims(contract, ranges):
        issues = hands_off(contract, {}, claimed=claim.ref, accepted=claim.accepted)
        at = [issue for issue in issues if issue.path == claim.path]
        if claim.code is None and at:
            failures.append(f"{claim.ref} within {claim.accepted}: rejected ({at[0]})")
        elif claim.code is not None and not any(issue.code == claim.code for issue in at):
            failures.append(
                f"{claim.ref} against {claim.accepted}: no [{claim.code}] issue at {claim.path}"
            )
    if failures:
        listed = "\n".join(f"  {failure}" for failure in failures)
        raise AssertionError(
            f"{contract.ref}::version_mismatch_detected: the boundary answered {len(failures)} "
            f"contract claim(s) wrongly\n{listed}\nA receiver must refuse envelopes outside its "
            "accepted range or for another contract (check_handoff), and take the ones inside it."
        )
