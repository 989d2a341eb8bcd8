"""The MCP server's tools: one method each, and the typed answers clients see the schemas of.

The facade, :mod:`seamline.interop.mcp`, registers them on the SDK's server; this module
holds what they read and how they answer. A method's signature becomes the tool's input
schema, its return type the output schema, and its docstring what the client's model reads.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from seamline.evals.trace import WorkflowTrace
from seamline.exceptions import SeamlineError
from seamline.governance import Snapshot
from seamline.ledger import Ledger
from seamline.memory import Artifact, ArtifactFilter, Memory, SearchMode
from seamline.registry import Health, Registry
from seamline.stores import DeadLetterStatus, WorkflowRecord, WorkflowStatus
from seamline.views import AgentStatus, DeadLetterDetail, DeadLetterSummary, WorkflowSummary

__all__ = [
    "AgentList",
    "AgentStatus",
    "ArtifactList",
    "ContractReaders",
    "DeadLetterDetail",
    "DeadLetterList",
    "DeadLetterSummary",
    "MemoryHit",
    "MemorySearch",
    "Reader",
    "Tools",
    "WorkflowList",
    "WorkflowState",
    "WorkflowSummary",
    "tool_errors",
]


class MemoryHit(BaseModel):
    """One search result and the rankings that placed it."""

    rank: int
    score: float
    lexical_rank: int | None
    semantic_rank: int | None
    artifact: Artifact


class MemorySearch(BaseModel):
    """The best artifacts of a workflow for some words, best first."""

    workflow: str
    text: str
    mode: SearchMode
    hits: list[MemoryHit]


class ArtifactList(BaseModel):
    """A workflow's artifacts matching a filter, newest first."""

    workflow: str
    artifacts: list[Artifact]
    more: bool
    """The limit was reached: raise it (up to 1000) or narrow the filter to see the rest."""


class AgentList(BaseModel):
    """Every registered agent, by name."""

    agents: list[AgentStatus]


class Reader(BaseModel):
    """An agent that accepts a contract, and how it reads the version asked about."""

    agent: str
    version: str
    owner: str
    health: Health
    accepts: str
    """The version range its card accepts."""
    reads: str | None
    """The version it reads the asked version as (itself, or its upcast); None when no
    version was asked about."""
    upcast: list[str]
    """The migration steps on the way; empty when it reads the version directly."""


class ContractReaders(BaseModel):
    """Who accepts a contract (at one version, or at any)."""

    contract: str
    version: str | None
    agents: list[Reader]


class DeadLetterList(BaseModel):
    """Dead letters, newest first."""

    dead_letters: list[DeadLetterSummary]


class WorkflowList(BaseModel):
    """Workflows, newest first."""

    workflows: list[WorkflowSummary]


class WorkflowState(WorkflowSummary):
    """A workflow's status, how it ended, and each of its handoffs (``seamline trace``)."""

    outcome: dict[str, Any] | None
    """Its result, or the dead letter or escalation it ended in; None while it runs."""
    trace: dict[str, Any]
    """Every handoff with its route, contract, status, timings, issues and evaluations."""


WorkflowId = Annotated[str, Field(description="A workflow id; list_workflows names them.")]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def tool_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Report seamline's own errors (an unknown id, a bad filter) as the tool's error.

    The SDK sends a ``ToolError``'s text to the client; any other exception it reduces to
    "Error executing tool", which tells the caller nothing it can fix.
    """

    @functools.wraps(method)  # the SDK reads the tool's signature through __wrapped__
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except SeamlineError as error:
            raise ToolError(str(error)) from None

    return call


class Tools:
    """The tools, one method each; a method's docstring is what the client's model reads."""

    def __init__(self, ledger: Ledger, memory: Memory, registry: Registry) -> None:
        self._ledger = ledger
        self._memory = memory
        self._registry = registry
        self._cards = Snapshot.of(registry).agents
        """Agent cards as data, taken once: definitions do not change while served."""

    def list_workflows(
        self,
        status: WorkflowStatus | None = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> WorkflowList:
        """Workflows (one run of a task across agents), newest first, optionally of one
        status."""
        found = self._ledger.workflows(status=status, limit=limit)
        return WorkflowList(workflows=[self._summary(workflow) for workflow in found])

    def workflow_status(self, workflow: WorkflowId) -> WorkflowState:
        """Where a workflow stands, how it ended, and every handoff it made (route,
        contract, status, timings, validation issues and evaluations)."""
        record = self._ledger.workflow(workflow)
        return WorkflowState(
            **self._summary(record).model_dump(),
            outcome=json.loads(record.result) if record.result else None,
            trace=WorkflowTrace.read(self._ledger, workflow).as_dict(),
        )

    def search_memory(
        self,
        workflow: WorkflowId,
        text: Annotated[str, Field(min_length=1, description="Words to look for.")],
        mode: SearchMode = SearchMode.HYBRID,
        limit: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> MemorySearch:
        """Search what a workflow's agents remembered: lexical (BM25), semantic (vectors)
        or hybrid (both, fused). The words are searched for, never run as query syntax."""
        hits = self._memory.search(workflow, text, mode=mode, limit=limit)
        return MemorySearch(
            workflow=workflow,
            text=text,
            mode=mode,
            hits=[
                MemoryHit(
                    rank=rank,
                    score=hit.score,
                    lexical_rank=hit.lexical_rank,
                    semantic_rank=hit.semantic_rank,
                    artifact=hit.artifact,
                )
                for rank, hit in enumerate(hits, start=1)
            ],
        )

    def get_artifact(
        self,
        workflow: WorkflowId,
        key: Annotated[str, Field(description="The memory key, e.g. order.")],
        version: Annotated[int | None, Field(ge=1, description="Default: the newest.")] = None,
    ) -> Artifact:
        """One remembered value, exactly as written, with who wrote it at which step."""
        return self._memory.get(workflow, key, version=version)

    def list_artifacts(
        self, workflow: WorkflowId, filters: ArtifactFilter | None = None
    ) -> ArtifactList:
        """A workflow's artifacts, newest first, filtered by key, kind, producer agent,
        step, time, or values inside them by dotted path (filters: {"where":
        {"order.status": "delivered"}}); only each key's newest version unless all_versions."""
        spec = filters or ArtifactFilter()
        found = self._memory.list(workflow, spec)
        return ArtifactList(workflow=workflow, artifacts=found, more=len(found) == spec.limit)

    def list_agents(self) -> AgentList:
        """Every agent: owner, escalation contact, capabilities, contracts accepted and
        emitted, health, and its circuit breaker as the ledger's recent calls leave it."""
        return AgentList(agents=AgentStatus.all(self._registry, self._ledger, self._cards))

    def agents_accepting(
        self,
        contract: Annotated[str, Field(description="A contract name, e.g. refund.request.")],
        version: Annotated[
            str | None,
            Field(description="Only agents that can read this version, directly or upcast."),
        ] = None,
    ) -> ContractReaders:
        """Which agents accept a contract, with the range each accepts; given a version,
        only those that can read it, and through which migrations."""
        self._registry.versions(contract)  # an unknown name is an error, not an empty list
        asked = self._registry.contract(contract, version).version if version else None
        readers = []
        for one in self._registry.agents:
            accepted = one.card.accepts.get(contract)
            if accepted is None:
                continue
            reads, upcast = None, []
            if asked is not None and accepted.admits(asked):
                reads = str(asked)
            elif asked is not None:
                path = self._registry.migration_path(contract, asked, accepted)
                if path is None:
                    continue
                reads, upcast = str(path.target), path.describe()
            readers.append(
                Reader(
                    agent=one.name,
                    version=str(one.card.version),
                    owner=one.card.owner,
                    health=self._registry.health(one.name),
                    accepts=str(accepted),
                    reads=reads,
                    upcast=upcast,
                )
            )
        return ContractReaders(
            contract=contract, version=str(asked) if asked else None, agents=readers
        )

    def list_dead_letters(
        self,
        status: DeadLetterStatus | None = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> DeadLetterList:
        """Handoffs that could not proceed, newest first, with why."""
        letters = self._ledger.dead_letters(status=status, limit=limit)
        return DeadLetterList(dead_letters=[DeadLetterSummary.of(letter) for letter in letters])

    def show_dead_letter(
        self, dead_letter_id: Annotated[str, Field(description="A dead letter's id.")]
    ) -> DeadLetterDetail:
        """A dead letter whole: why, every validation issue, the path that led there, and
        its envelope with sensitive values masked."""
        return DeadLetterDetail.of(self._ledger.dead_letter(dead_letter_id))

    def _summary(self, workflow: WorkflowRecord) -> WorkflowSummary:
        return WorkflowSummary.of(workflow, self._ledger.handoffs(workflow.id))
