"""``seamline contracts check``: what a pull request does to the contracts other teams rely on.

Compared with a base snapshot (what is live, usually the export committed on main), a change
is breaking when it edits a published version in place, adds a version that breaks its
contract's compatibility mode within the same major line, removes a version someone still
emits, or leaves a seam no payload can cross. Without a base, only the last check runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from seamline.contracts import Compatibility, Lifecycle, Version
from seamline.contracts.compatibility import compare
from seamline.contracts.lineage import lineage
from seamline.governance.snapshot import ContractEntry, Snapshot

__all__ = ["CheckFinding", "Severity", "check_contracts"]


class Severity(StrEnum):
    """Errors fail CI; warnings are printed for the reviewer."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class CheckFinding:
    """One thing the change does to a contract, with a rule id and where it is."""

    severity: Severity
    contract: str
    """``name@version`` (or the contract's name for edge findings)."""
    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.severity}: {self.contract}: {self.rule}{where}: {self.message}"


def check_contracts(
    current: Snapshot, base: Snapshot | None = None, *, today: date | None = None
) -> list[CheckFinding]:
    """Every finding, errors first, then by contract."""
    today = today or date.today()
    names = sorted({c.name for c in current.contracts if not c.builtin})
    findings: list[CheckFinding] = []
    for name in names:
        mine = current.versions(name)
        theirs = _versions(base, name)
        findings.extend(_edited_in_place(mine, theirs))
        findings.extend(_lineage(mine, theirs))
        findings.extend(_removed(mine, theirs, base, current))
    findings.extend(_broken_edges(current))
    findings.extend(_deprecated_traffic(current, today))
    return sorted(findings, key=lambda f: (f.severity is not Severity.ERROR, f.contract, f.rule))


def _versions(snapshot: Snapshot | None, name: str) -> dict[Version, ContractEntry]:
    if snapshot is None:
        return {}
    return {Version.parse(c.version): c for c in snapshot.contracts if c.name == name}


def _edited_in_place(
    mine: list[ContractEntry], theirs: dict[Version, ContractEntry]
) -> Iterable[CheckFinding]:
    for entry in mine:
        published = theirs.get(Version.parse(entry.version))
        if published is None:
            continue
        changes = [
            *compare(published.json_schema, entry.json_schema),
            *compare(entry.json_schema, published.json_schema),
        ]
        if not changes:
            continue
        breaking = [c for c in changes if c.breaking]
        seen: set[tuple[str, str]] = set()
        for change in breaking or changes[:1]:
            if (change.path, change.rule) in seen:
                continue  # both directions often report one edit; one line per place
            seen.add((change.path, change.rule))
            yield CheckFinding(
                Severity.ERROR if breaking else Severity.WARNING,
                entry.ref,
                "VERSION_EDITED_IN_PLACE",
                change.path,
                f"published {entry.ref} changed ({change.rule}: {change.message}); "
                "publish the change as a new version instead",
            )


def _lineage(
    mine: list[ContractEntry], theirs: dict[Version, ContractEntry]
) -> Iterable[CheckFinding]:
    reports = lineage(
        ((Version.parse(c.version), c.json_schema, Compatibility(c.compatibility)) for c in mine),
        history=((v, c.json_schema) for v, c in theirs.items()),
    )
    name = mine[0].name
    for report in reports:
        for violation in report.violations:
            yield CheckFinding(
                Severity.ERROR,
                f"{name}@{report.candidate}",
                violation.finding.rule,
                violation.finding.path,
                f"breaks {report.mode} ({violation.direction}: data written as "
                f"{violation.writer_version}, read as {violation.reader_version}): "
                f"{violation.finding.message}; bump the major version or keep it compatible",
            )


def _removed(
    mine: list[ContractEntry],
    theirs: dict[Version, ContractEntry],
    base: Snapshot | None,
    current: Snapshot,
) -> Iterable[CheckFinding]:
    kept = {Version.parse(c.version) for c in mine}
    for version, entry in sorted(theirs.items()):
        if version in kept:
            continue
        senders = sorted(
            a.ref
            for snapshot in (base, current)
            if snapshot is not None
            for a in snapshot.agents
            if a.emits.get(entry.name) and Version.parse(a.emits[entry.name]) == version
        )
        if senders:
            yield CheckFinding(
                Severity.ERROR,
                entry.ref,
                "VERSION_REMOVED",
                "",
                f"removed while {', '.join(sorted(set(senders)))} still emit it; retire it "
                "first (set retires = DATE) and remove it once nobody sends it",
            )
        else:
            yield CheckFinding(
                Severity.WARNING, entry.ref, "VERSION_REMOVED", "", "removed; nobody emits it"
            )


def _broken_edges(current: Snapshot) -> Iterable[CheckFinding]:
    for edge in current.edges():
        if edge.works:
            continue
        where = f"{edge.contract}@{edge.emitted}" if edge.emitted else edge.contract
        yield CheckFinding(
            Severity.ERROR,
            where,
            "EDGE_CANNOT_WORK",
            "",
            f"{edge.label}: the receiver accepts {edge.accepted} and no declared migration "
            "reaches that range; widen the range, change the emitted version or add a migration",
        )


def _deprecated_traffic(current: Snapshot, today: date) -> Iterable[CheckFinding]:
    for one in current.agents:
        for name, version in sorted(one.emits.items()):
            entry = current.contract(name, version)
            stage = entry.lifecycle(today)
            if stage is Lifecycle.ACTIVE:
                continue
            when = f"retires {entry.retires}" if entry.retires else "no retirement date yet"
            yield CheckFinding(
                Severity.ERROR if stage is Lifecycle.RETIRED else Severity.WARNING,
                entry.ref,
                f"VERSION_{stage.value.upper()}",
                "",
                f"{one.ref} still emits it ({when}); move it to a current version",
            )
