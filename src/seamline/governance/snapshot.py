"""The registry as data: what CI compares, what can-i-deploy reads, what teams commit.

A snapshot holds every contract version (with its JSON Schema and metadata), every agent
card and every declared migration step, with no code. It is what ``seamline contracts
export`` writes and what ``--against`` reads back (from a file or from a git ref), so a
pull request can be checked against what is live without importing yesterday's code.
The JSON is written with sorted keys and one stable order so its diffs review well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seamline.contracts import Lifecycle, Migration, MigrationGraph, Version, VersionRange
from seamline.exceptions import ConfigurationError, ContractError, RegistryError
from seamline.registry import REJECTED_HANDOFF, Registry

__all__ = ["AgentEntry", "ContractEntry", "Edge", "MigrationEntry", "Snapshot"]

FORMAT: Literal[1] = 1


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ContractEntry(_Entry):
    """One contract version: its schema and the metadata teams govern it by."""

    name: str
    version: str
    owner: str
    description: str = ""
    compatibility: str = "BACKWARD"
    deprecated: date | None = None
    retires: date | None = None
    changelog: str = ""
    consequential: bool = False
    fallback_owner: str | None = None
    fallback_agent: str | None = None
    feedback_retries: int = 0
    sensitive: tuple[str, ...] = ()
    tracked: tuple[str, ...] = ()
    json_schema: dict[str, Any] = Field(alias="schema")

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def builtin(self) -> bool:
        """Whether seamline itself defines it (no team owns it)."""
        return self.name.startswith("seamline.")

    def lifecycle(self, today: date | None = None) -> Lifecycle:
        """Active, deprecated or retired on ``today``."""
        return Lifecycle.on(today or date.today(), self.deprecated, self.retires)


class AgentEntry(_Entry):
    """One agent card."""

    name: str
    version: str
    owner: str
    escalation: str | None = None
    description: str = ""
    capabilities: tuple[str, ...] = ()
    accepts: dict[str, str] = Field(default_factory=dict)
    """Contract name -> accepted version range."""
    emits: dict[str, str] = Field(default_factory=dict)
    """Contract name -> emitted version."""
    health: str = "healthy"

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


class MigrationEntry(_Entry):
    """One declared upcast step (the function stays in code; the snapshot keeps the edge)."""

    contract: str
    source: str
    target: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Edge:
    """A seam: who may hand off to whom under which contract, and whether it can work."""

    sender: str | None
    """The emitting agent; ``None`` for an entry point fed from outside any agent."""
    receiver: str
    contract: str
    emitted: str | None
    """The version the sender emits (``None`` for an entry point)."""
    accepted: str
    """The range the receiver accepts."""
    reads: str | None
    """The version the receiver reads: ``emitted``, its upcast, or ``None`` if it cannot."""
    migrations: tuple[str, ...] = ()

    @property
    def works(self) -> bool:
        """Whether a payload can cross this seam."""
        return self.reads is not None

    @property
    def label(self) -> str:
        """``sender → receiver (contract)``, the way reports name an edge."""
        return f"{self.sender or 'external'} → {self.receiver} ({self.contract})"


def _no_code(payload: dict[str, Any]) -> dict[str, Any]:
    raise ContractError("a snapshot's migrations carry no code; run them from the registry")


class Snapshot(BaseModel):
    """A registry as reviewable, comparable data."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: Literal[1] = FORMAT
    project: str | None = None
    contracts: tuple[ContractEntry, ...] = ()
    agents: tuple[AgentEntry, ...] = ()
    migrations: tuple[MigrationEntry, ...] = ()

    @classmethod
    def of(cls, registry: Registry) -> Snapshot:
        """Capture a live registry."""
        contracts = [
            ContractEntry(
                name=c.name,
                version=str(c.version),
                owner=c.owner,
                description=c.description,
                compatibility=c.compatibility.value,
                deprecated=c.deprecated,
                retires=c.retires,
                changelog=c.changelog,
                consequential=c.consequential,
                fallback_owner=c.fallback_owner,
                fallback_agent=c.policy.fallback_agent,
                feedback_retries=c.policy.feedback_retries,
                sensitive=tuple(sorted(c.sensitive)),
                tracked=tuple(sorted(c.tracked)),
                json_schema=c.json_schema(),
            )
            for c in registry.contracts
        ]
        agents = [
            AgentEntry(
                name=a.name,
                version=str(a.card.version),
                owner=a.card.owner,
                escalation=a.card.escalation,
                description=a.card.description,
                capabilities=tuple(sorted(a.card.capabilities)),
                accepts={k: str(v) for k, v in sorted(a.card.accepts.items())},
                emits={k: str(v) for k, v in sorted(a.card.emits.items())},
                health=registry.health(a.name).value,
            )
            for a in registry.agents
        ]
        migrations = [
            MigrationEntry(
                contract=m.contract,
                source=str(m.source),
                target=str(m.target),
                description=m.description,
            )
            for m in registry.migrations
        ]
        return cls(
            project=registry.name,
            contracts=tuple(contracts),
            agents=tuple(agents),
            migrations=tuple(migrations),
        )

    @classmethod
    def loads(cls, text: str, *, source: str) -> Snapshot:
        """Parse an exported snapshot; ``source`` names it in errors (a path or ``ref:path``)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigurationError(
                f"{source}: not JSON ({error.msg} at line {error.lineno}); "
                "regenerate it with `seamline contracts export`"
            ) from None
        if isinstance(data, dict) and data.get("format") not in (None, FORMAT):
            raise ConfigurationError(
                f"{source}: snapshot format {data.get('format')!r} is not {FORMAT}; "
                "export it again with this version of seamline"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "top level"
            raise ConfigurationError(
                f"{source}: not a seamline registry snapshot ({where}: {first['msg']}); "
                "regenerate it with `seamline contracts export`"
            ) from None

    def dumps(self) -> str:
        """Stable, sorted JSON with a trailing newline, ready to commit."""
        data = self.model_dump(mode="json", by_alias=True)
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    # -- lookups ---------------------------------------------------------------------------

    def versions(self, name: str) -> list[ContractEntry]:
        """Every version of one contract, oldest first."""
        found = sorted(
            (c for c in self.contracts if c.name == name), key=lambda c: Version.parse(c.version)
        )
        if not found:
            known = ", ".join(sorted({c.name for c in self.contracts if not c.builtin}))
            raise RegistryError(f"no contract named {name!r} (known: {known or 'none'})")
        return found

    def contract(self, name: str, version: str) -> ContractEntry:
        """One contract version."""
        wanted = Version.parse(version)
        for entry in self.versions(name):
            if Version.parse(entry.version) == wanted:
                return entry
        have = ", ".join(c.version for c in self.versions(name))
        raise RegistryError(f"contract {name} has no version {wanted} (registered: {have})")

    def agent(self, name: str) -> AgentEntry:
        """One agent card."""
        for entry in self.agents:
            if entry.name == name:
                return entry
        known = ", ".join(sorted(a.name for a in self.agents)) or "none"
        raise RegistryError(f"no agent named {name!r} (known: {known})")

    # -- seams -----------------------------------------------------------------------------

    def edges(self) -> list[Edge]:
        """Every seam: each sender of a contract to each receiver of it, plus entry points.

        A receiver of a contract nobody emits is fed from outside (an entry point). The
        built-in rejected-handoff contract is left out: its edges are the failure policies.
        """
        graph = MigrationGraph(
            Migration(m.contract, Version.parse(m.source), Version.parse(m.target), _no_code)
            for m in self.migrations
        )
        found = []
        for receiver in self.agents:
            for name, text in sorted(receiver.accepts.items()):
                if name == REJECTED_HANDOFF.name:
                    continue
                accepted = VersionRange.parse(text)
                senders = [a for a in self.agents if name in a.emits]
                if not senders:
                    found.append(self._entry_edge(receiver, name, accepted))
                for sender in senders:
                    emitted = Version.parse(sender.emits[name])
                    reads: Version | None = emitted if accepted.admits(emitted) else None
                    steps: tuple[str, ...] = ()
                    if reads is None:
                        path = graph.path(name, emitted, accepted, self._versions_of(name))
                        if path is not None:
                            reads, steps = path.target, tuple(path.describe())
                    found.append(
                        Edge(
                            sender.name,
                            receiver.name,
                            name,
                            str(emitted),
                            text,
                            str(reads) if reads else None,
                            steps,
                        )
                    )
        return sorted(found, key=lambda e: (e.contract, e.sender or "", e.receiver))

    def _entry_edge(self, receiver: AgentEntry, name: str, accepted: VersionRange) -> Edge:
        admitted = [v for v in self._versions_of(name) if accepted.admits(v)]
        newest = str(max(admitted)) if admitted else None
        return Edge(None, receiver.name, name, None, str(accepted), newest)

    def _versions_of(self, name: str) -> list[Version]:
        return [Version.parse(c.version) for c in self.contracts if c.name == name]
