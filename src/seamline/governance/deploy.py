"""can-i-deploy: may this agent version go live next to the agents that are live now?

Consumer-driven, as a Pact broker answers it, with the receiver owning each contract. The
candidate's card comes from the code about to ship; its partners come from what is live (an
exported snapshot). Every seam the candidate would join is checked in the direction it
carries data:

- **emits to**: each live receiver of a contract the candidate emits must accept the
  emitted version (or reach its range through declared migrations), its registry must
  already hold that version (the receiver's owner publishes a version before senders use
  it), and the candidate's schema for it must be readable under the live one.
- **receives from**: each live sender of a contract the candidate accepts must still be
  admitted (or migrated), the candidate must still register what that sender emits, and
  the live schema it writes must be readable under the candidate's.

Both sides' schemas for the version on the wire are compared with
:func:`~seamline.contracts.compatibility.compare`; any difference at all between them means
a published version was changed without a version bump, which is reported on its own. The
candidate's own live version is replaced, never treated as its partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seamline.contracts import Version
from seamline.contracts.compatibility import compare
from seamline.exceptions import RegistryError
from seamline.governance.snapshot import AgentEntry, ContractEntry, Edge, Snapshot

__all__ = ["DeployCheck", "DeployVerdict", "Direction", "can_i_deploy"]

Direction = Literal["emits to", "receives from"]


@dataclass(frozen=True, slots=True)
class DeployCheck:
    """One seam between the candidate and a live partner, and whether it still works."""

    partner: str
    partner_version: str
    direction: Direction
    contract: str
    emitted: str
    """The version on the wire."""
    accepted: str
    """The receiver's range."""
    reads: str | None
    """The version the receiver reads (``emitted`` or its upcast); ``None`` if it cannot."""
    ok: bool
    reasons: tuple[str, ...]
    """Why it fails, one reason per problem; or, when it passes, why it works."""


@dataclass(frozen=True, slots=True)
class DeployVerdict:
    """The answer: yes when every check passes (also when there is no live partner)."""

    agent: str
    version: str
    ok: bool
    checks: tuple[DeployCheck, ...]

    @property
    def answer(self) -> Literal["yes", "no"]:
        """``yes`` or ``no``, as the CLI prints it."""
        return "yes" if self.ok else "no"


def can_i_deploy(candidate: Snapshot, live: Snapshot, agent: str, version: str) -> DeployVerdict:
    """Check ``agent@version`` from ``candidate`` against the live partners in ``live``."""
    card = candidate.agent(agent)
    if Version.parse(card.version) != Version.parse(version):
        raise RegistryError(
            f"the code declares {card.ref}, not {agent}@{version}; ask about {card.ref}, or "
            f"bump the version on {agent}'s card to {version}"
        )
    world = _world(candidate, live, card)
    checks = [
        _check(edge, card, candidate, live, world)
        for edge in world.edges()
        if edge.sender not in (None, edge.receiver) and agent in (edge.sender, edge.receiver)
    ]
    checks.sort(key=lambda c: (c.direction, c.contract, c.partner))
    return DeployVerdict(card.name, card.version, all(c.ok for c in checks), tuple(checks))


def _world(candidate: Snapshot, live: Snapshot, card: AgentEntry) -> Snapshot:
    """What is live, with the candidate in place of its live version and its versions added.

    Both sides' contract versions and migrations count for routing; the candidate's entry
    wins where both hold a version (the schemas themselves are compared per check).
    """
    contracts = {(c.name, c.version): c for c in (*live.contracts, *candidate.contracts)}
    migrations = {
        (m.contract, m.source, m.target): m for m in (*live.migrations, *candidate.migrations)
    }
    return Snapshot(
        project=live.project,
        contracts=tuple(contracts.values()),
        agents=(*(a for a in live.agents if a.name != card.name), card),
        migrations=tuple(migrations.values()),
    )


def _check(
    edge: Edge, card: AgentEntry, candidate: Snapshot, live: Snapshot, world: Snapshot
) -> DeployCheck:
    emits = edge.sender == card.name
    partner = world.agent(edge.receiver if emits else edge.sender or "")
    wire = edge.emitted or ""
    writer, reader = (candidate, live) if emits else (live, candidate)
    if not edge.works:
        problems = [_gap(edge, card, partner, emits)]
    else:
        written = _held(writer, edge.contract, wire) or _held(reader, edge.contract, wire)
        read = _held(reader, edge.contract, wire)
        problems = (
            _schema_problems(written, read, card, partner, emits)
            if written and read
            else [_unpublished(edge, card, partner, emits)]
        )
    return DeployCheck(
        partner=partner.name,
        partner_version=partner.version,
        direction="emits to" if emits else "receives from",
        contract=edge.contract,
        emitted=wire,
        accepted=edge.accepted,
        reads=edge.reads,
        ok=not problems,
        reasons=tuple(problems) or (_works(edge),),
    )


def _held(snapshot: Snapshot, name: str, version: str) -> ContractEntry | None:
    wanted = Version.parse(version)
    return next(
        (c for c in snapshot.contracts if c.name == name and Version.parse(c.version) == wanted),
        None,
    )


def _schema_problems(
    written: ContractEntry,
    read: ContractEntry,
    card: AgentEntry,
    partner: AgentEntry,
    emits: bool,
) -> list[str]:
    sender, receiver = (card, partner) if emits else (partner, card)
    findings = compare(written.json_schema, read.json_schema)
    problems = [
        f"{written.ref} as {sender.name} writes it cannot be read by {receiver.name}: {finding}"
        for finding in findings
        if finding.breaking
    ]
    if findings or compare(read.json_schema, written.json_schema):
        problems.append(
            f"{written.ref} changed without a version bump: the candidate's schema differs "
            "from the live one; publish the change as a new version"
        )
    return problems


def _gap(edge: Edge, card: AgentEntry, partner: AgentEntry, emits: bool) -> str:
    wire = f"{edge.contract}@{edge.emitted}"
    if emits:
        return (
            f"{partner.ref} accepts {edge.contract} {edge.accepted}, which excludes {wire}, "
            f"and no declared migration leads into it; emit a version in that range, or "
            f"declare a migration step from {edge.emitted}"
        )
    return (
        f"{partner.ref} emits {wire}, which {card.ref} no longer accepts ({edge.accepted}) "
        f"and no declared migration leads into that range; keep {edge.emitted} in the range "
        f"or declare a migration step from it"
    )


def _unpublished(edge: Edge, card: AgentEntry, partner: AgentEntry, emits: bool) -> str:
    wire = f"{edge.contract}@{edge.emitted}"
    if emits:
        return (
            f"the live registry has no {wire}, so {partner.ref} cannot validate it; have "
            f"{edge.contract}'s owner publish {wire} on the receiving side first, or emit a "
            "version that is live"
        )
    return (
        f"{card.ref} no longer registers {wire}, which {partner.ref} emits; keep it registered "
        "(announce a retirement date instead) until every sender has moved off it"
    )


def _works(edge: Edge) -> str:
    via = f" upcast to {edge.reads} ({', '.join(edge.migrations)})" if edge.migrations else ""
    return (
        f"{edge.receiver} accepts {edge.accepted} and reads {edge.contract}@{edge.emitted}"
        f"{via}; both sides hold the same schema"
    )
