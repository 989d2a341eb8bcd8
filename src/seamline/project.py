"""The project file, ``seamline.toml``: the registry as teams review it in pull requests.

Behaviour lives in Python (payload models, agent functions, migrations); who owns what, how
contracts may evolve, when versions retire and which agents route where lives here, where a
change is a reviewed diff. A project may build its whole registry from this file (each agent
and contract version names its importable object) or name a Python ``app`` registry and
use this file to govern it; values set here win, because they are the reviewed ones.

```toml
[project]
name = "support-desk"
app = "seamline.demo:build_registry"

[contracts."refund.request"]
owner = "payments"
compatibility = "BACKWARD"

[contracts."refund.request".versions."1.2.0"]
retires = 2027-03-31

[agents.refunds]
escalation = "payments-oncall@example.com"
```

Every mistake is reported as ``file:line: key: what is wrong and how to fix it``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seamline.agents import Agent, AgentCard
from seamline.contracts import Compatibility, Contract, FailurePolicy, Migration, Version
from seamline.contracts.version import VersionRange
from seamline.exceptions import ConfigurationError, SeamlineError
from seamline.registry import Health, Registry

__all__ = ["PROJECT_FILE", "Project", "Settings", "import_object", "load_project"]

PROJECT_FILE = "seamline.toml"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ProjectTable(_Table):
    name: str | None = None
    app: str | None = None
    """``module:attribute`` of a Registry (or a function returning one)."""
    export: str = "seamline-registry.json"
    schemas: str = "contracts"
    runbooks: str = "runbooks"


class _AuditTable(_Table):
    threshold: float = Field(default=80, ge=0, le=100)


class _TracingTable(_Table):
    exporter: Literal["console", "otlp", "otlp-http", "otlp-grpc", "none"] = "none"
    endpoint: str | None = None


class _VersionTable(_Table):
    model: str | None = None
    """``module:Model`` when this version is not declared in Python."""
    deprecated: date | None = None
    retires: date | None = None
    changelog: str | None = None


class _ContractTable(_Table):
    owner: str | None = None
    description: str | None = None
    compatibility: Compatibility | None = None
    consequential: bool | None = None
    fallback_owner: str | None = None
    fallback_agent: str | None = None
    feedback_retries: int | None = Field(default=None, ge=0)
    tracked: list[str] | None = None
    sensitive: list[str] | None = None
    versions: dict[str, _VersionTable] = Field(default_factory=dict)


class _AgentTable(_Table):
    entry: str | None = None
    """``module:attribute`` of the agent (or its plain function) when not in the app."""
    version: str | None = None
    owner: str | None = None
    escalation: str | None = None
    description: str | None = None
    capabilities: list[str] | None = None
    accepts: dict[str, str] | None = None
    emits: dict[str, str] | None = None
    health: Health | None = None


class _MigrationTable(_Table):
    contract: str
    source: str
    target: str
    function: str
    """``module:attribute`` of the upcast function (or a declared Migration)."""


class _File(_Table):
    project: _ProjectTable = Field(default_factory=_ProjectTable)
    audit: _AuditTable = Field(default_factory=_AuditTable)
    tracing: _TracingTable = Field(default_factory=_TracingTable)
    contracts: dict[str, _ContractTable] = Field(default_factory=dict)
    agents: dict[str, _AgentTable] = Field(default_factory=dict)
    migrations: list[_MigrationTable] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Settings:
    """Where governance output goes and what it holds the project to."""

    export: Path
    """The committed registry snapshot that CI compares against."""
    schemas: Path
    """Where ``seamline contracts export`` writes one JSON Schema per contract version."""
    runbooks: Path
    audit_threshold: float
    tracing: str | None
    """The declared span exporter, or ``None`` when the project declares none."""


@dataclass(frozen=True, slots=True)
class Project:
    """A loaded project: its registry and its settings."""

    root: Path
    file: Path | None
    name: str | None
    registry: Registry
    settings: Settings


def load_project(file: Path | None = None, *, app: str | None = None) -> Project:
    """Load ``file`` (a ``seamline.toml``) and/or the Python registry ``app``.

    ``app`` overrides the file's ``[project] app``. With neither a file nor an app there is
    nothing to load, and the error says how to provide one.
    """
    if file is None:
        if not app:
            raise ConfigurationError(
                f"no {PROJECT_FILE} and no --app; create {PROJECT_FILE} or pass --app "
                "module:attribute naming your Registry"
            )
        root = Path.cwd()
        return Project(root, None, None, import_registry(app, "--app"), _settings(root, _File()))
    if not file.is_file():
        raise ConfigurationError(
            f"project file {file} does not exist; create it or point --project at yours"
        )
    text = file.read_text(encoding="utf-8")
    located = _Locator(file, text)
    data = located.parse()
    try:
        spec = _File.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise located.error(tuple(first["loc"]), _pydantic_message(first)) from None
    root = file.resolve().parent
    reference = app or spec.project.app
    registry = import_registry(reference, "[project] app") if reference else Registry()
    registry = _Builder(spec, registry, located).build()
    return Project(root, file, spec.project.name, registry, _settings(root, spec))


def _settings(root: Path, spec: _File) -> Settings:
    return Settings(
        export=root / spec.project.export,
        schemas=root / spec.project.schemas,
        runbooks=root / spec.project.runbooks,
        audit_threshold=spec.audit.threshold,
        tracing=None if spec.tracing.exporter == "none" else spec.tracing.exporter,
    )


def import_object(reference: str, what: str) -> Any:
    """Import ``module:attribute`` (attribute may be dotted), explaining any failure."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"{what} {reference!r} must look like 'package.module:attribute'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigurationError(
            f"{what}: cannot import {module_name!r} ({error}); check the name and that the "
            "module is on PYTHONPATH"
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConfigurationError(
                f"{what}: module {module_name!r} has no attribute {attribute!r}"
            )
        target = getattr(target, part)
    return target


def import_registry(reference: str, what: str) -> Registry:
    """The Registry named by ``module:attribute`` (a registry or a function returning one)."""
    target = import_object(reference, what)
    registry = target() if callable(target) and not isinstance(target, Registry) else target
    if not isinstance(registry, Registry):
        raise ConfigurationError(
            f"{what} {reference} gave {type(registry).__name__}, not a seamline Registry"
        )
    return registry


class _Builder:
    """Applies a parsed project file to a registry, locating every error in the file."""

    def __init__(self, spec: _File, base: Registry, located: _Locator) -> None:
        self.spec = spec
        self.base = base
        self.located = located

    def build(self) -> Registry:
        contracts = self._contracts()
        agents = [self._agent(a) for a in self.base.agents]
        known = {a.name for a in agents}
        for name, table in self.spec.agents.items():
            if name not in known:
                agents.append(self._new_agent(name, table))
        migrations = list(self.base.migrations)
        migrations.extend(self._migration(i, m) for i, m in enumerate(self.spec.migrations))
        try:
            registry = Registry(
                agents=agents,
                contracts=contracts,
                migrations=migrations,
                name=self.spec.project.name or self.base.name,
            )
            inherited = {a.name for a in self.base.agents}
            for one in agents:
                health = self.spec.agents.get(one.name, _AgentTable()).health
                if health is None and one.name in inherited:
                    health = self.base.health(one.name)
                registry.set_health(one.name, health or Health.HEALTHY)
        except SeamlineError as error:
            raise ConfigurationError(f"{self.located.file}: {error}") from None
        return registry

    def _contracts(self) -> list[Contract[Any]]:
        declared = {c.name for c in self.base.contracts}
        result: list[Contract[Any]] = []
        for contract in self.base.contracts:
            table = self.spec.contracts.get(contract.name)
            result.append(self._contract(contract, table) if table else contract)
        for name, table in self.spec.contracts.items():
            existing = {str(c.version) for c in result if c.name == name}
            for version, spec in table.versions.items():
                if version not in existing:
                    result.append(self._new_contract(name, version, table, spec))
            if name not in declared and not table.versions:
                raise self.located.error(
                    ("contracts", name),
                    f"contract {name!r} is not declared in the app; add "
                    f'[contracts."{name}".versions."1.0.0"] with model = "module:Model"',
                )
        return result

    def _contract(self, base: Contract[Any], table: _ContractTable) -> Contract[Any]:
        spec = table.versions.get(str(base.version), _VersionTable())
        if spec.model is not None:
            raise self.located.error(
                ("contracts", base.name, "versions", str(base.version), "model"),
                f"{base.ref} is already declared in the app; drop model= here",
            )
        return self._evolve(base, table, spec, ("contracts", base.name))

    def _new_contract(
        self, name: str, version: str, table: _ContractTable, spec: _VersionTable
    ) -> Contract[Any]:
        where = ("contracts", name, "versions", version)
        if spec.model is None:
            raise self.located.error(
                (*where, "model"),
                f"{name}@{version} is not declared in the app; name its payload model "
                'with model = "module:Model"',
            )
        if table.owner is None:
            raise self.located.error(
                ("contracts", name, "owner"), f"contract {name!r} needs an owner team"
            )
        model = self._import(spec.model, (*where, "model"))
        try:
            base = Contract(model=model, name=name, version=version, owner=table.owner)
        except SeamlineError as error:
            raise self.located.error(where, str(error)) from None
        return self._evolve(base, table, spec, ("contracts", name))

    def _evolve(
        self,
        base: Contract[Any],
        table: _ContractTable,
        spec: _VersionTable,
        where: tuple[str, ...],
    ) -> Contract[Any]:
        policy = FailurePolicy(
            feedback_retries=_pick(table.feedback_retries, base.policy.feedback_retries),
            fallback_agent=_pick(table.fallback_agent, base.policy.fallback_agent),
        )
        try:
            return dataclasses.replace(
                base,
                owner=_pick(table.owner, base.owner),
                description=_pick(table.description, base.description),
                compatibility=_pick(table.compatibility, base.compatibility),
                consequential=_pick(table.consequential, base.consequential),
                fallback_owner=_pick(table.fallback_owner, base.fallback_owner),
                tracked=_pick(table.tracked, base.tracked),
                sensitive=_pick(table.sensitive, base.sensitive),
                policy=policy,
                deprecated=_pick(spec.deprecated, base.deprecated),
                retires=_pick(spec.retires, base.retires),
                changelog=_pick(spec.changelog, base.changelog),
            )
        except SeamlineError as error:
            raise self.located.error(where, str(error)) from None

    def _agent(self, base: Agent) -> Agent:
        table = self.spec.agents.get(base.name)
        if table is None:
            return base
        if table.entry is not None:
            raise self.located.error(
                ("agents", base.name, "entry"),
                f"agent {base.name!r} is already declared in the app; drop entry= here",
            )
        return Agent(card=self._card(base.card, table, ("agents", base.name)), fn=base.fn)

    def _new_agent(self, name: str, table: _AgentTable) -> Agent:
        where = ("agents", name)
        if table.entry is None:
            raise self.located.error(
                where,
                f"agent {name!r} is not declared in the app; name it with "
                'entry = "module:attribute"',
            )
        target = self._import(table.entry, (*where, "entry"))
        if isinstance(target, Agent) and target.name != name:
            raise self.located.error(
                (*where, "entry"),
                f"{table.entry} is agent {target.name!r}; name the table [agents.{target.name}]",
            )
        if isinstance(target, Agent):
            return Agent(card=self._card(target.card, table, where), fn=target.fn)
        if not callable(target):
            raise self.located.error(
                (*where, "entry"), f"{table.entry} is neither an Agent nor a function"
            )
        if table.version is None or table.owner is None:
            raise self.located.error(
                where, f"agent {name!r} is a plain function: declare its version and owner"
            )
        blank = AgentCard(name=name, version=Version.parse(table.version), owner=table.owner)
        return Agent(card=self._card(blank, table, where), fn=target)

    def _card(self, card: AgentCard, table: _AgentTable, where: tuple[str, ...]) -> AgentCard:
        try:
            accepts = None
            if table.accepts is not None:
                accepts = {k: VersionRange.parse(v) for k, v in table.accepts.items()}
            emits = None
            if table.emits is not None:
                emits = {k: Version.parse(v) for k, v in table.emits.items()}
            version = Version.parse(table.version) if table.version else card.version
        except SeamlineError as error:
            raise self.located.error(where, str(error)) from None
        return dataclasses.replace(
            card,
            version=version,
            owner=_pick(table.owner, card.owner),
            escalation=_pick(table.escalation, card.escalation),
            description=_pick(table.description, card.description),
            capabilities=frozenset(_pick(table.capabilities, card.capabilities)),
            accepts=_pick(accepts, card.accepts),
            emits=_pick(emits, card.emits),
        )

    def _migration(self, index: int, table: _MigrationTable) -> Migration:
        where: tuple[str | int, ...] = ("migrations", index)
        target = self._import(table.function, (*where, "function"))
        try:
            step = Migration(
                table.contract,
                Version.parse(table.source),
                Version.parse(table.target),
                target.fn if isinstance(target, Migration) else target,
            )
        except SeamlineError as error:
            raise self.located.error(where, str(error)) from None
        if not callable(step.fn):
            raise self.located.error((*where, "function"), f"{table.function} is not callable")
        return step

    def _import(self, reference: str, where: tuple[str | int, ...]) -> Any:
        try:
            return import_object(reference, ".".join(map(str, where)))
        except ConfigurationError as error:
            raise self.located.error(where, str(error)) from None


def _pick(value: Any, default: Any) -> Any:
    """The project file's value when it sets one, else what the code declared."""
    return default if value is None else value


def _pydantic_message(detail: Mapping[str, Any]) -> str:
    if detail["type"] == "extra_forbidden":
        return "unknown key; check the spelling (see the seamline.toml reference in the README)"
    return str(detail["msg"])


# -- locating keys in the file ------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")
_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")


class _Locator:
    """Finds the line a dotted key path was written on, for ``file:line`` messages.

    tomllib reports lines only for syntax errors; for a wrong value the line of its key (or
    of its table header) is what a reviewer needs.
    """

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.text = text
        self.lines: dict[tuple[str | int, ...], int] = {}
        arrays: dict[tuple[str, ...], int] = {}
        table: tuple[str | int, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                parts = tuple(_split(header.group(2)))
                if header.group(1) == "[[":
                    arrays[parts] = arrays.get(parts, -1) + 1
                    table = (*parts, arrays[parts])
                else:
                    table = parts
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self.lines.setdefault((*table, *_split(key.group(1))), number)

    def parse(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            match = re.search(r"line (\d+)", str(error))
            line = match.group(1) if match else "1"
            raise ConfigurationError(
                f"{self.file}:{line}: not valid TOML ({error}); fix the syntax"
            ) from None

    def error(self, path: tuple[str | int, ...], message: str) -> ConfigurationError:
        line = self._line(path)
        key = ".".join(str(p) for p in path) or "top level"
        return ConfigurationError(f"{self.file}:{line}: {key}: {message}")

    def _line(self, path: tuple[str | int, ...]) -> int:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            found = self.lines.get(prefix)
            if found is None:  # e.g. a table only written as sub-tables
                below = [n for key, n in self.lines.items() if key[:end] == prefix]
                found = min(below, default=None)
            if found is not None:
                return found
        return 1


def _split(dotted: str) -> Iterator[str]:
    for match in _PART.finditer(dotted):
        token = match.group(1)
        yield token[1:-1] if token[:1] in "\"'" else token
