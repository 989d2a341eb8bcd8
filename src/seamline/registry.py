"""The registry: which agents and contracts exist, who owns them, and how handoffs route.

Routes are checked when the registry is built (:meth:`Registry.check`), so a wiring
mistake fails at start-up with a message naming the fix, not at three in the morning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from seamline.agents import Agent, HandOff
from seamline.contracts import (
    EXTERNAL,
    Contract,
    FailurePolicy,
    Gate,
    Lifecycle,
    Migration,
    MigrationGraph,
    MigrationPath,
    Version,
    VersionRange,
)
from seamline.contracts.compatibility import CompatibilityReport
from seamline.contracts.lineage import lineage
from seamline.exceptions import ContractError, Issue, RegistryError

__all__ = ["REJECTED_HANDOFF", "Health", "Registry", "RejectedHandoff", "Route"]


class IssueModel(BaseModel):
    """One validation issue, as carried inside a rejected handoff."""

    model_config = ConfigDict(frozen=True)
    path: str
    message: str
    code: str


class RejectedHandoff(BaseModel):
    """What a fallback agent receives when a handoff failed validation after all feedback."""

    model_config = ConfigDict(frozen=True)
    sender: str
    receiver: str
    contract: str
    payload: dict[str, Any]
    issues: tuple[IssueModel, ...]

    @classmethod
    def build(
        cls,
        *,
        sender: str,
        receiver: str,
        contract: str,
        payload: dict[str, Any],
        issues: Iterable[Issue],
    ) -> RejectedHandoff:
        """Wrap a rejected payload and its issues."""
        return cls(
            sender=sender,
            receiver=receiver,
            contract=contract,
            payload=payload,
            issues=tuple(IssueModel(path=i.path, message=i.message, code=i.code) for i in issues),
        )


REJECTED_HANDOFF = Contract(
    model=RejectedHandoff,
    name="seamline.rejected-handoff",
    version="1.0.0",
    owner="seamline",
    description="A handoff its receiver's contract rejected, with every issue, for a fallback.",
    # Nobody upstream can fix a rejected-handoff wrapper: no sender feedback round.
    policy=FailurePolicy(feedback_retries=0),
)


class Health(StrEnum):
    """Whether capability routing may choose an agent."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    """Chosen only when no healthy agent can take the handoff."""
    DOWN = "down"
    """Never chosen by capability; a handoff by name still goes (and meets its failure policy)."""


_ROUTING_ORDER = {Health.HEALTHY: 0, Health.DEGRADED: 1}


@dataclass(frozen=True, slots=True)
class Route:
    """Where a handoff goes: the receiver, the version sent, and any upcast on the way."""

    receiver: str
    contract: str
    version: str
    """The version the sender emits."""
    path: MigrationPath | None = None
    """Declared migrations from ``version`` to the version the receiver reads."""

    @property
    def target(self) -> str:
        """The version the receiver reads."""
        return str(self.path.target) if self.path else self.version


class Registry:
    """Agents and contracts by name; the routing table of a workflow."""

    def __init__(
        self,
        *,
        agents: Iterable[Agent] = (),
        contracts: Iterable[Contract[Any]] = (),
        migrations: Iterable[Migration] = (),
        name: str | None = None,
        gates: Mapping[tuple[str, str], Gate] | None = None,
    ) -> None:
        self.name = name
        self.gates: dict[tuple[str, str], Gate] = dict(gates or {})
        """Gates on registry edges, by ``(sender, receiver)`` agent names: for a transition
        that is consequential here but not wherever its contract is used. The sender of a
        workflow's first handoff is ``"external"``."""
        """The project's name, shown in exports, audits and runbooks."""
        self._agents: dict[str, Agent] = {}
        self._contracts: dict[str, dict[Version, Contract[Any]]] = {}
        self._by_model: dict[type[BaseModel], Contract[Any]] = {}
        self._resolved: dict[tuple[str, str], Contract[Any]] = {}
        self._health: dict[str, Health] = {}
        try:
            self._migrations = MigrationGraph(migrations)
        except ContractError as error:
            raise RegistryError(str(error)) from None
        self.add_contract(REJECTED_HANDOFF)
        for contract in contracts:
            self.add_contract(contract)
        for one in agents:
            self.add_agent(one)

    def add_contract(self, contract: Contract[Any]) -> None:
        """Register one contract version."""
        versions = self._contracts.setdefault(contract.name, {})
        if contract.version in versions and versions[contract.version] is not contract:
            raise RegistryError(
                f"contract {contract.ref} is registered twice with different definitions; "
                "bump the version for a changed schema"
            )
        versions[contract.version] = contract
        self._by_model.setdefault(contract.model, contract)

    def add_agent(self, agent: Agent) -> None:
        """Register an agent; names are unique."""
        if agent.name in self._agents and self._agents[agent.name] is not agent:
            raise RegistryError(
                f"agent {agent.name!r} is registered twice; give each agent a unique name"
            )
        self._agents[agent.name] = agent

    def add_migration(self, step: Migration) -> None:
        """Register one upcast step."""
        try:
            self._migrations.add(step)
        except ContractError as error:
            raise RegistryError(str(error)) from None

    @property
    def migrations(self) -> tuple[Migration, ...]:
        """Every declared migration step, by contract then source version."""
        return tuple(sorted(self._migrations, key=lambda m: (m.contract, m.source, m.target)))

    def health(self, name: str) -> Health:
        """An agent's health as routing sees it (healthy unless someone said otherwise)."""
        self.agent(name)
        return self._health.get(name, Health.HEALTHY)

    def set_health(self, name: str, health: Health | str) -> None:
        """Mark an agent healthy, degraded or down (an operator's drain switch)."""
        self.agent(name)
        try:
            self._health[name] = Health(health)
        except ValueError:
            states = ", ".join(h.value for h in Health)
            raise RegistryError(
                f"unknown health {health!r} for agent {name!r}; use one of {states}"
            ) from None

    def versions(self, name: str) -> tuple[Contract[Any], ...]:
        """Every registered version of one contract, oldest first."""
        self.contract(name)
        return tuple(self._contracts[name][v] for v in sorted(self._contracts[name]))

    def migration_path(
        self, name: str, source: Version | str, accepted: VersionRange
    ) -> MigrationPath | None:
        """How a payload of ``name@source`` reaches a reader that accepts ``accepted``."""
        return self._migrations.path(
            name, Version.parse(source), accepted, self._contracts.get(name, {})
        )

    @property
    def agents(self) -> tuple[Agent, ...]:
        """All agents, sorted by name."""
        return tuple(self._agents[name] for name in sorted(self._agents))

    @property
    def contracts(self) -> tuple[Contract[Any], ...]:
        """All contract versions, sorted by name then version."""
        return tuple(
            self._contracts[name][v]
            for name in sorted(self._contracts)
            for v in sorted(self._contracts[name])
        )

    def agent(self, name: str) -> Agent:
        """The agent called ``name``."""
        try:
            return self._agents[name]
        except KeyError:
            known = ", ".join(sorted(self._agents)) or "none"
            raise RegistryError(
                f"no agent named {name!r} is registered (known: {known}); "
                "register it or fix the handoff's destination"
            ) from None

    def contract(self, name: str, version: Version | str | None = None) -> Contract[Any]:
        """A contract by name, at ``version`` or the newest registered."""
        if isinstance(version, str) and (hit := self._resolved.get((name, version))):
            return hit
        versions = self._contracts.get(name)
        if not versions:
            known = ", ".join(sorted(self._contracts))
            raise RegistryError(
                f"no contract named {name!r} is registered (known: {known}); register it"
            )
        if version is None:
            return versions[max(versions)]
        parsed = Version.parse(version)
        if parsed not in versions:
            have = ", ".join(str(v) for v in sorted(versions))
            raise RegistryError(
                f"contract {name} has no version {parsed} (registered: {have}); "
                "register that version or emit one that exists"
            )
        if isinstance(version, str):
            self._resolved[(name, version)] = versions[parsed]
        return versions[parsed]

    def route(self, sender: Agent, handoff: HandOff) -> Route:
        """Resolve a handoff's receiver and contract version, or explain why it cannot go."""
        if handoff.to is not None:
            receiver = self.agent(handoff.to)
            name = self.contract_for(receiver, handoff)
            version = self._emitted_version(sender, name)
            # A version outside the range with no upcast is left to boundary validation,
            # which rejects it with feedback the sender can act on.
            return self._route(receiver, name, version) or Route(receiver.name, name, str(version))
        capability = handoff.capability or ""
        candidates = [a for a in self.agents if capability in a.card.capabilities]
        if not candidates:
            raise RegistryError(
                f"no agent declares capability {capability!r}; add it to an agent's card"
            )
        # Deterministic rule: healthy agents before degraded ones, never one marked down;
        # within a health class, the first by name that reads the emitted version (directly,
        # or through declared migrations).
        reasons = []
        for receiver in sorted(
            candidates, key=lambda a: (_ROUTING_ORDER.get(self.health(a.name), 2), a.name)
        ):
            if self.health(receiver.name) is Health.DOWN:
                reasons.append(f"{receiver.name}: marked down")
                continue
            try:
                name = self.contract_for(receiver, handoff)
                version = self._emitted_version(sender, name)
            except RegistryError as error:
                reasons.append(f"{receiver.name}: {error}")
                continue
            route = self._route(receiver, name, version)
            if route is not None:
                return route
            reasons.append(f"{receiver.name}: accepts {name} {receiver.card.accepts[name]}")
        raise RegistryError(
            f"no agent with capability {capability!r} accepts this handoff: " + "; ".join(reasons)
        )

    def _route(self, receiver: Agent, name: str, version: Version) -> Route | None:
        accepted = receiver.card.accepts[name]
        if accepted.admits(version):
            return Route(receiver.name, name, str(version))
        path = self.migration_path(name, version, accepted)
        return Route(receiver.name, name, str(version), path) if path else None

    def contract_for(self, receiver: Agent, handoff: HandOff) -> str:
        """Which contract a handoff to ``receiver`` travels under."""
        accepts = receiver.card.accepts
        if handoff.contract is not None:
            name = handoff.contract
        elif isinstance(handoff.payload, BaseModel) and type(handoff.payload) in self._by_model:
            name = self._by_model[type(handoff.payload)].name
        elif len(accepts) == 1:
            name = next(iter(accepts))
        else:
            raise RegistryError(
                f"cannot tell which contract this handoff to {receiver.name!r} uses; "
                f"pass contract= (it accepts {', '.join(sorted(accepts)) or 'nothing'})"
            )
        if name not in accepts:
            raise RegistryError(
                f"agent {receiver.name!r} does not accept contract {name!r} "
                f"(it accepts {', '.join(sorted(accepts)) or 'nothing'})"
            )
        return name

    def _emitted_version(self, sender: Agent, name: str) -> Version:
        version = sender.card.emits.get(name)
        return version if version is not None else self.contract(name).version

    def gate_for(self, sender: str, receiver: str, contract: Contract[Any]) -> Gate | None:
        """The gate a handoff from ``sender`` to ``receiver`` under ``contract`` passes:
        the edge's if there is one, else the contract's."""
        return self.gates.get((sender, receiver)) or contract.gate

    def check(self, today: date | None = None) -> None:
        """Refuse wiring that cannot work, listing every problem at once.

        Unknown contracts and versions, ranges nothing satisfies, emitted versions that are
        retired or that no receiver can read (directly or through migrations), migrations
        between unregistered versions, fallbacks that cannot take a rejected handoff, and
        contract versions that break their compatibility mode without a major bump.
        """
        today = today or date.today()
        problems: list[str] = []
        for sender, receiver in self.gates:
            known = {*self._agents, EXTERNAL.name}  # "external": a workflow's first handoff
            missing = [name for name in (sender, receiver) if name not in known]
            if missing:
                problems.append(
                    f"gate on {sender} -> {receiver} names unknown agents {missing}; "
                    "gates are keyed by (sender, receiver) agent names"
                )
        for one in self.agents:
            problems.extend(self._accept_problems(one))
            problems.extend(self._emit_problems(one, today))
        problems.extend(self._migration_problems())
        problems.extend(self._fallback_problems())
        problems.extend(
            f"{name}@{report.candidate} breaks {report.mode} without a major version bump: "
            f"{violation}"
            for name, report in self.compatibility()
            for violation in report.violations
        )
        if problems:
            raise RegistryError("registry check failed: " + "; ".join(problems))

    def compatibility(self) -> list[tuple[str, CompatibilityReport]]:
        """Each contract version checked against its predecessors in the same major line."""
        return [
            (name, report)
            for name in sorted(self._contracts)
            for report in lineage(
                (c.version, c.json_schema(), c.compatibility) for c in self.versions(name)
            )
        ]

    def _accept_problems(self, one: Agent) -> list[str]:
        return [
            f"agent {one.name} accepts {name} {accepted} but no such version is registered"
            for name, accepted in one.card.accepts.items()
            if not any(accepted.admits(v) for v in self._contracts.get(name, {}))
        ]

    def _emit_problems(self, one: Agent, today: date) -> list[str]:
        problems = []
        for name, version in one.card.emits.items():
            contract = self._contracts.get(name, {}).get(version)
            if contract is None:
                problems.append(f"agent {one.name} emits {name}@{version}, which is not registered")
                continue
            if contract.lifecycle(today) is Lifecycle.RETIRED:
                problems.append(
                    f"agent {one.name} emits {contract.ref}, retired on {contract.retires}; "
                    "move it to a current version"
                )
            # Itself aside: a relay that accepts what it emits is not its own receiver.
            readers = [a for a in self.agents if name in a.card.accepts and a is not one]
            if readers and not any(self._route(r, name, version) for r in readers):
                problems.append(self._gap(one, name, version, readers))
        return problems

    def _gap(self, sender: Agent, name: str, version: Version, readers: list[Agent]) -> str:
        ranges = ", ".join(f"{r.name} accepts {r.card.accepts[name]}" for r in readers)
        reach = self._migrations.reachable(name, version)
        via = (
            f"migrations from {version} reach {', '.join(map(str, reach))} only"
            if reach
            else f"no migration starts at {version}"
        )
        return (
            f"agent {sender.name} emits {name}@{version} but no receiver reads it ({ranges}); "
            f"{via}: declare the missing migration step or change the emitted version"
        )

    def _migration_problems(self) -> list[str]:
        problems = []
        for step in self._migrations:
            registered = self._contracts.get(step.contract, {})
            missing = [str(v) for v in (step.source, step.target) if v not in registered]
            if missing:
                problems.append(
                    f"migration {step.label} names unregistered version(s) "
                    f"{', '.join(missing)} of {step.contract}; register them or drop the step"
                )
        return problems

    def _fallback_problems(self) -> list[str]:
        problems = []
        for contract in self.contracts:
            fallback = contract.policy.fallback_agent
            if fallback is None:
                continue
            if fallback not in self._agents:
                problems.append(
                    f"contract {contract.ref} names unknown fallback agent {fallback!r}"
                )
            elif REJECTED_HANDOFF.name not in self._agents[fallback].card.accepts:
                problems.append(
                    f"fallback agent {fallback!r} of {contract.ref} must accept "
                    f"{REJECTED_HANDOFF.name}"
                )
        return problems
