"""Agents: a callable plus the card that says who owns it and which contracts it speaks.

An agent receives its validated payload (an instance of its contract's model) and a
:class:`Context`, and returns exactly one outcome: :class:`HandOff` to another agent,
:class:`Finish` with a result, or :class:`Escalate` to a human owner. Sync and async
callables are both accepted; the runtime awaits whichever it was given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from seamline.contracts import (
    Constraints,
    Contract,
    Envelope,
    TaskItem,
    TaskState,
    ToolOutput,
    Version,
    VersionRange,
)
from seamline.exceptions import AgentError, ConfigurationError, Issue

if TYPE_CHECKING:
    from seamline.memory import StepMemory

__all__ = [
    "Agent",
    "AgentCard",
    "AgentFunction",
    "Context",
    "Escalate",
    "Finish",
    "HandOff",
    "Leg",
    "LegResult",
    "Outcome",
    "agent",
]

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True, slots=True, kw_only=True)
class HandOff:
    """Pass control to another agent, by name (``to``) or by ``capability``."""

    payload: BaseModel | Mapping[str, Any]
    to: str | None = None
    capability: str | None = None
    contract: str | None = None
    """Contract name; inferred from the payload's model or the receiver's only contract."""
    tasks: Sequence[TaskItem] | Mapping[str, TaskState] = ()
    """Task progress; replaces the previous hop's list when given, else it is carried over."""
    constraints: Constraints | None = None
    """Tighter constraints for downstream agents; ``None`` carries the current ones on."""
    tool_outputs: Sequence[ToolOutput] = ()

    def __post_init__(self) -> None:
        if (self.to is None) == (self.capability is None):
            raise ConfigurationError(
                "HandOff needs exactly one of to='agent-name' or capability='tag'"
            )

    def task_items(self) -> tuple[TaskItem, ...]:
        """Tasks as typed items, whichever form they were given in."""
        if isinstance(self.tasks, Mapping):
            return tuple(TaskItem(name=name, state=state) for name, state in self.tasks.items())
        return tuple(self.tasks)


@dataclass(frozen=True, slots=True)
class Finish:
    """End the workflow with ``result`` (a pydantic model or JSON-compatible value)."""

    result: Any


@dataclass(frozen=True, slots=True)
class Escalate:
    """Stop and hand the workflow to a human owner, saying why."""

    reason: str
    owner: str | None = None
    """Who should act; defaults to the contract's fallback owner, then the agent's owner."""


Outcome = HandOff | Finish | Escalate


@dataclass(frozen=True, slots=True, kw_only=True)
class Leg:
    """One subtask of a fan-out: a scoped payload for one agent, run as its own workflow."""

    to: str
    payload: BaseModel | Mapping[str, Any]
    contract: str | None = None
    intent: str | None = None
    """What this subtask is for; defaults to the parent workflow's intent."""


@dataclass(frozen=True, slots=True)
class LegResult:
    """How one leg ended: its workflow id, status and result (or dead letter)."""

    workflow_id: str
    status: str
    """``completed``, ``dead_lettered``, ``escalated`` or ``rejected`` (never started)."""
    result: Any = None
    dead_letter_id: str | None = None
    issues: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the leg completed."""
        return self.status == "completed"

    def value(self, model: type[ModelT]) -> ModelT:
        """The leg's result validated as ``model`` (a typed result, not a loose dict)."""
        if not self.ok:
            raise AgentError(
                f"leg {self.workflow_id} ended {self.status}, so it has no result to read; "
                "check .ok (or .status) first"
            )
        return model.model_validate(self.result)


FanOutRunner = Callable[[Sequence[Leg], int, bool], Awaitable[list[LegResult]]]


@dataclass(frozen=True, slots=True)
class Context:
    """What a receiver knows besides its payload."""

    envelope: Envelope
    feedback: tuple[Issue, ...] = ()
    """Why this agent's previous handoff was rejected; empty on a first attempt."""
    attempt: int = 1
    step_memory: StepMemory | None = None
    fan_out_runner: FanOutRunner | None = None

    async def fan_out(
        self, legs: Sequence[Leg], *, concurrency: int = 4, rerun_failed: bool = False
    ) -> list[LegResult]:
        """Run independent subtasks concurrently (at most ``concurrency`` at once).

        Each leg is a workflow of its own (a chain, if its agent hands off), with an id
        derived from this workflow and step: if this step runs again (after a crash, or when
        its dead letter is replayed), finished legs are not run again, running ones are
        resumed, and with ``rerun_failed`` dead-lettered ones are replayed. Results come
        back in ``legs`` order.
        """
        if self.fan_out_runner is None:
            raise ConfigurationError("fan_out needs a runtime; this context was built without one")
        if concurrency < 1:
            raise ConfigurationError(f"concurrency must be at least 1, got {concurrency}")
        return await self.fan_out_runner(legs, concurrency, rerun_failed)

    @property
    def memory(self) -> StepMemory:
        """This workflow's memory: put artifacts, get them by key, list, search, context."""
        if self.step_memory is None:
            raise ConfigurationError(
                "this runtime keeps no memory: its store does not hold artifacts; run it on "
                "a SqliteStore (or MemoryStore) to use ctx.memory"
            )
        return self.step_memory

    @property
    def intent(self) -> str:
        """The user's request, verbatim."""
        return self.envelope.intent.text

    @property
    def constraints(self) -> Constraints:
        """The constraints in force for this step."""
        return self.envelope.constraints

    @property
    def tasks(self) -> tuple[TaskItem, ...]:
        """Task progress as the sender left it."""
        return self.envelope.tasks


AgentFunction = Callable[[Any, Context], Outcome | Awaitable[Outcome]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCard:
    """Who an agent is and which contracts it speaks."""

    name: str
    version: Version
    owner: str
    capabilities: frozenset[str] = frozenset()
    accepts: Mapping[str, VersionRange] = field(default_factory=dict)
    """Contract name -> the version range this agent can receive."""
    emits: Mapping[str, Version] = field(default_factory=dict)
    """Contract name -> the version this agent sends."""
    description: str = ""
    escalation: str | None = None
    """Who to page when this agent misbehaves (a person, rota or channel)."""
    threaded: bool = False
    """Run this (sync) agent in a worker thread so blocking I/O does not stall the runtime."""

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent card bound to its callable (sync or async)."""

    card: AgentCard
    fn: AgentFunction

    @property
    def name(self) -> str:
        """The agent's name (routing key)."""
        return self.card.name


def agent(
    *,
    name: str,
    version: str,
    owner: str,
    accepts: Mapping[str, str] | Iterable[Contract[Any]] = (),
    emits: Mapping[str, str] | Iterable[Contract[Any]] = (),
    capabilities: Iterable[str] = (),
    description: str = "",
    escalation: str | None = None,
    threaded: bool = False,
) -> Callable[[AgentFunction], Agent]:
    """Declare an agent.

    ``accepts`` maps contract names to version ranges (``{"refund.request": "^1"}``), or lists
    Contract objects, each accepted as ``^version`` (up to the next major; for 0.x, the next
    minor, as semver treats 0.x minors as breaking). ``emits`` maps
    contract names to the version sent, or lists Contract objects.

    Example:
        ```python
        @agent(name="triage", version="1.0.0", owner="support", accepts=[ticket_v1],
               emits=[refund_v1])
        def triage(ticket: Ticket, ctx: Context) -> Outcome:
            return HandOff(to="refunds", payload=RefundRequest(...))
        ```
    """
    if not name:
        raise ConfigurationError("agent name must not be empty")
    if not owner:
        raise ConfigurationError(f"agent {name!r} has no owner; name the team that runs it")
    card = AgentCard(
        name=name,
        version=Version.parse(version),
        owner=owner,
        capabilities=frozenset(capabilities),
        accepts=_accepts(accepts),
        emits=_emits(emits),
        description=description,
        escalation=escalation,
        threaded=threaded,
    )

    def bind(fn: AgentFunction) -> Agent:
        if not callable(fn):
            raise ConfigurationError(f"agent {name!r} must decorate a callable, got {fn!r}")
        if card.description:
            return Agent(card=card, fn=fn)
        lines = (fn.__doc__ or "").strip().splitlines()
        return Agent(card=replace(card, description=lines[0] if lines else ""), fn=fn)

    return bind


def _accepts(accepts: Mapping[str, str] | Iterable[Contract[Any]]) -> dict[str, VersionRange]:
    if isinstance(accepts, Mapping):
        return {str(k): VersionRange.parse(v) for k, v in accepts.items()}
    return {c.name: VersionRange.parse(f"^{c.version}") for c in accepts}


def _emits(emits: Mapping[str, str] | Iterable[Contract[Any]]) -> dict[str, Version]:
    if isinstance(emits, Mapping):
        return {str(k): Version.parse(v) for k, v in emits.items()}
    return {c.name: c.version for c in emits}
