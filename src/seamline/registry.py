"""The registry: which agents and contracts exist, who owns them, and how handoffs route.

Routes are checked when the registry is built (:meth:`Registry.check`), so a wiring
mistake fails at start-up with a message naming the fix, not at three in the morning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from seamline.agents import Agent, HandOff
from seamline.contracts import Contract, FailurePolicy, Version
from seamline.exceptions import Issue, RegistryError

__all__ = ["REJECTED_HANDOFF", "Registry", "RejectedHandoff", "Route"]


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


@dataclass(frozen=True, slots=True)
class Route:
    """Where a handoff goes: the receiving agent and the contract version it travels under."""

    receiver: str
    contract: str
    version: str


class Registry:
    """Agents and contracts by name; the routing table of a workflow."""

    def __init__(
        self, *, agents: Iterable[Agent] = (), contracts: Iterable[Contract[Any]] = ()
    ) -> None:
        self._agents: dict[str, Agent] = {}
        self._contracts: dict[str, dict[Version, Contract[Any]]] = {}
        self._by_model: dict[type[BaseModel], Contract[Any]] = {}
        self._resolved: dict[tuple[str, str], Contract[Any]] = {}
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
            return Route(receiver=receiver.name, contract=name, version=str(version))
        capability = handoff.capability or ""
        candidates = [a for a in self.agents if capability in a.card.capabilities]
        if not candidates:
            raise RegistryError(
                f"no agent declares capability {capability!r}; add it to an agent's card"
            )
        # Deterministic rule: among capable agents that accept the emitted version,
        # the first by name. Health-aware choice arrives with circuit breakers.
        reasons = []
        for receiver in candidates:
            try:
                name = self.contract_for(receiver, handoff)
                version = self._emitted_version(sender, name)
            except RegistryError as error:
                reasons.append(f"{receiver.name}: {error}")
                continue
            if receiver.card.accepts[name].admits(version):
                return Route(receiver=receiver.name, contract=name, version=str(version))
            reasons.append(f"{receiver.name}: accepts {name} {receiver.card.accepts[name]}")
        raise RegistryError(
            f"no agent with capability {capability!r} accepts this handoff: " + "; ".join(reasons)
        )

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

    def check(self) -> None:
        """Refuse wiring that cannot work: unknown contracts, versions, fallbacks, ranges."""
        problems: list[str] = []
        for one in self.agents:
            for name, accepted in one.card.accepts.items():
                versions = self._contracts.get(name, {})
                if not any(accepted.admits(v) for v in versions):
                    problems.append(
                        f"agent {one.name} accepts {name} {accepted} but no such version is "
                        "registered"
                    )
            for name, version in one.card.emits.items():
                if version not in self._contracts.get(name, {}):
                    problems.append(
                        f"agent {one.name} emits {name}@{version}, which is not registered"
                    )
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
        if problems:
            raise RegistryError("registry check failed: " + "; ".join(problems))
