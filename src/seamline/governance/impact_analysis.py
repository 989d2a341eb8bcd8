"""Impact analysis: which seams a contract version reaches, which it breaks, and whom to tell.

Asked of ``CONTRACT@VERSION`` before a change ships: every agent that accepts the contract
either reads that version (directly or through declared migrations) or breaks on it, every
sender keeps emitting what it emits today, and every team on those seams is named, with
its escalation contact, so the change is announced to the right people. The version may be
one that is registered or one only proposed (a new major, say): a proposed version is
judged by the ranges and migrations already declared, and inherits its owner from the
contract's newest registered version.
"""

from __future__ import annotations

from dataclasses import dataclass

from seamline.contracts import Version
from seamline.exceptions import RegistryError
from seamline.governance.snapshot import AgentEntry, Edge, Snapshot

__all__ = ["Contact", "EdgeImpact", "ImpactReport", "ReceiverImpact", "SenderImpact", "impact"]

_PROBE = ""
"""The name of the imagined sender of the version under study (no agent is named "")."""


@dataclass(frozen=True, slots=True)
class ReceiverImpact:
    """An agent that accepts the contract, and how it would read the version."""

    agent: str
    version: str
    owner: str
    escalation: str | None
    accepts: str
    """Its accepted range."""
    reads: str | None
    """The version it would read: the version itself, its upcast, or ``None`` (it breaks)."""
    migrations: tuple[str, ...] = ()

    @property
    def breaks(self) -> bool:
        """Whether a payload of the version would be rejected at this receiver."""
        return self.reads is None


@dataclass(frozen=True, slots=True)
class SenderImpact:
    """An agent that emits the contract today."""

    agent: str
    version: str
    owner: str
    escalation: str | None
    emits: str
    unread_by: tuple[str, ...]
    """Receivers that cannot read what it emits today."""


@dataclass(frozen=True, slots=True)
class EdgeImpact:
    """A seam of the contract as it is today, and what the version would do there."""

    edge: Edge
    carries: bool
    """Whether the version crosses this seam today (emitted or read here)."""
    breaks: bool
    """Whether the receiver would reject the version if its sender emitted it."""


@dataclass(frozen=True, slots=True)
class Contact:
    """Someone to notify, with every reason they are on the list."""

    who: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImpactReport:
    """Everything ``CONTRACT@VERSION`` touches."""

    contract: str
    version: str
    registered: bool
    """Whether the version exists in the registry (``False``: a proposed version)."""
    owner: str
    compatibility: str
    receivers: tuple[ReceiverImpact, ...]
    senders: tuple[SenderImpact, ...]
    edges: tuple[EdgeImpact, ...]
    notify: tuple[Contact, ...]

    @property
    def breaking(self) -> tuple[ReceiverImpact, ...]:
        """The receivers the version would break."""
        return tuple(r for r in self.receivers if r.breaks)


def impact(snapshot: Snapshot, contract: str, version: str) -> ImpactReport:
    """Who ``contract@version`` reaches and breaks; raises RegistryError for an unknown name."""
    versions = snapshot.versions(contract)
    if versions[0].builtin:
        raise RegistryError(
            f"{contract} is seamline's own contract: its seams are failure policies, not "
            "handoffs; ask about the contract that was rejected instead"
        )
    wanted = str(Version.parse(version))
    registered = next((c for c in versions if c.version == wanted), None)
    entry = registered or versions[-1]
    receivers = _receivers(snapshot, contract, wanted)
    edges = [e for e in snapshot.edges() if e.contract == contract]
    senders = [
        _sender(snapshot.agent(name), contract, edges)
        for name in sorted({e.sender for e in edges if e.sender is not None})
    ]
    broken = {r.agent for r in receivers if r.breaks}
    affected = [
        EdgeImpact(edge, wanted in (edge.emitted, edge.reads), edge.receiver in broken)
        for edge in edges
    ]
    notify = _contacts(
        [
            (entry.owner, f"owner of {contract}"),
            (entry.fallback_owner, f"fallback owner of {contract}"),
            *((r.owner, f"owner of receiver {r.agent}") for r in receivers),
            *((r.escalation, f"escalation for receiver {r.agent}") for r in receivers),
            *((s.owner, f"owner of sender {s.agent}") for s in senders),
            *((s.escalation, f"escalation for sender {s.agent}") for s in senders),
        ]
    )
    return ImpactReport(
        contract=contract,
        version=wanted,
        registered=registered is not None,
        owner=entry.owner,
        compatibility=entry.compatibility,
        receivers=tuple(receivers),
        senders=tuple(senders),
        edges=tuple(affected),
        notify=notify,
    )


def _receivers(snapshot: Snapshot, contract: str, version: str) -> list[ReceiverImpact]:
    """Each receiver's reading of the version, found by imagining a sender that emits it.

    The imagined sender makes :meth:`Snapshot.edges` apply the registry's own routing rule
    (the range first, then the newest version reachable through declared migrations).
    """
    receivers = [a for a in snapshot.agents if contract in a.accepts]
    probe = AgentEntry(name=_PROBE, version="0.0.0", owner="", emits={contract: version})
    imagined = snapshot.model_copy(update={"agents": (probe, *receivers)})
    reading = {e.receiver: e for e in imagined.edges() if e.sender == _PROBE}
    return [
        ReceiverImpact(
            agent=a.name,
            version=a.version,
            owner=a.owner,
            escalation=a.escalation,
            accepts=a.accepts[contract],
            reads=reading[a.name].reads,
            migrations=reading[a.name].migrations,
        )
        for a in receivers
    ]


def _sender(agent: AgentEntry, contract: str, edges: list[Edge]) -> SenderImpact:
    return SenderImpact(
        agent=agent.name,
        version=agent.version,
        owner=agent.owner,
        escalation=agent.escalation,
        emits=agent.emits[contract],
        unread_by=tuple(e.receiver for e in edges if e.sender == agent.name and not e.works),
    )


def _contacts(pairs: list[tuple[str | None, str]]) -> tuple[Contact, ...]:
    """One contact per person or team, first-named first, with all their roles."""
    roles: dict[str, list[str]] = {}
    for who, role in pairs:
        if who:
            roles.setdefault(who, []).append(role)
    return tuple(Contact(who, tuple(found)) for who, found in roles.items())
