"""Schema compatibility between contract versions, in Confluent Schema Registry's terms.

BACKWARD means a reader on the new version reads data written with the old one; FORWARD
means a reader on the old version reads data written with the new one; FULL is both. The
``_TRANSITIVE`` modes check against every earlier version of the same major line instead
of only the previous one; NONE checks nothing.

The schemas are what pydantic's ``model_json_schema()`` emits (JSON Schema 2020-12). The
checker is LENIENT about open objects: a writer is assumed to send only the properties it
declares, so a reader may add optional properties or stop declaring ones it ignores. The
rules, and the other decisions behind them, are described in
:mod:`seamline.contracts._schema_rules`; :data:`RULES` lists every rule id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from seamline.contracts._schema_rules import RULES, Finding, diff, load
from seamline.exceptions import ContractError

__all__ = [
    "RULES",
    "Compatibility",
    "CompatibilityReport",
    "Finding",
    "Violation",
    "check_compatibility",
    "compare",
]


class Compatibility(StrEnum):
    """How a contract may evolve between versions that share a major version."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        """Checked against every earlier version, so no reader or writer is left behind."""
        return self.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """Checks that the new version reads old data (receivers may upgrade first)."""
        return self.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """Checks that old versions read new data (senders may upgrade first)."""
        return self.startswith(("FORWARD", "FULL"))


def compare(writer: Mapping[str, Any], reader: Mapping[str, Any]) -> list[Finding]:
    """Every difference that matters when data written under `writer` is read under `reader`.

    Breaking findings are flagged. Raises :class:`~seamline.exceptions.ContractError` for a
    schema the rules cannot judge (an unsupported keyword, a remote or dangling ``$ref``, a
    malformed value), so an unknown constraint is never silently passed.
    """
    return diff(load(writer, "writer schema"), load(reader, "reader schema"))


@dataclass(frozen=True, slots=True)
class Violation:
    """A breaking finding, tied to the version pair and the direction that produced it."""

    finding: Finding
    writer_version: str
    reader_version: str
    direction: Literal["backward", "forward"]

    def __str__(self) -> str:
        return f"{self.direction} {self.writer_version} -> {self.reader_version}: {self.finding}"


@dataclass(frozen=True, slots=True)
class CompatibilityReport:
    """The outcome of checking one candidate version against its history under a mode."""

    mode: Compatibility
    candidate: str
    violations: tuple[Violation, ...]
    compared: tuple[str, ...]
    """The earlier versions the candidate was checked against, oldest first."""

    @property
    def compatible(self) -> bool:
        """True when no direction the mode asks for breaks."""
        return not self.violations


def check_compatibility(
    history: Sequence[tuple[str, Mapping[str, Any]]],
    candidate: tuple[str, Mapping[str, Any]],
    mode: Compatibility,
) -> CompatibilityReport:
    """Check `candidate` against the earlier versions of its major line under `mode`.

    history = earlier versions (version string, schema), oldest first. Non-transitive modes
    compare only with the last; transitive with all; NONE compares nothing.
    """
    if not isinstance(mode, Compatibility):
        raise ContractError(
            f"{mode!r} is not a compatibility mode; use one of {', '.join(Compatibility)}"
        )
    version, schema = _entry(candidate, "candidate")
    earlier = [_entry(entry, "history entry") for entry in _sequence(history)]
    if mode is Compatibility.NONE:
        return CompatibilityReport(mode, version, (), ())
    against = earlier if mode.transitive else earlier[-1:]
    new = load(schema, f"schema {version}")
    violations: list[Violation] = []
    for old_version, old_schema in against:
        old = load(old_schema, f"schema {old_version}")
        directions: list[
            tuple[Literal["backward", "forward"], tuple[str, Any], tuple[str, Any]]
        ] = [
            ("backward", (old_version, old), (version, new)),
            ("forward", (version, new), (old_version, old)),
        ]
        violations.extend(
            Violation(finding, writer_version, reader_version, direction)
            for direction, (writer_version, writer), (reader_version, reader) in directions
            if getattr(mode, direction)
            for finding in diff(writer, reader)
            if finding.breaking
        )
    return CompatibilityReport(mode, version, tuple(violations), tuple(v for v, _ in against))


def _sequence(history: object) -> Sequence[object]:
    if isinstance(history, str) or not isinstance(history, Sequence):
        raise ContractError(
            "history must be a list of (version, schema) pairs, oldest first; "
            f"got {type(history).__name__}"
        )
    return history


def _entry(entry: object, what: str) -> tuple[str, object]:
    match entry:
        case (str() as version, schema):
            return version, schema
    raise ContractError(
        f"{what} {entry!r:.80} is not a (version, schema) pair; pass e.g. ('1.2.0', schema)"
    )
