"""LangGraph: ``Command(goto=...)`` handoffs between nodes that travel as seamline handoffs.

In LangGraph a node hands off by returning ``Command(goto="refunds", update=...)``: the
update lands in the shared state unchecked, and the next node reads whatever is there. A
node returns :func:`contracted_command` instead, with the payload for the receiving node;
seamline validates it against the contract that node accepts before the node runs, and the
node is called with the validated payload, typed, as its input (a ``Send``). Add such a node
with ``input_schema=`` its contract's model: LangGraph then types its input and, under
``LANGGRAPH_STRICT_MSGPACK``, allows that model in its checkpoints.

**How a run maps onto the graph's loop.** A :class:`GraphTeam` makes the graph's entry and
each receiving node seamline agents. seamline runs the graph on a thread named after the
workflow (``thread_id`` is the workflow id), in stretches: the first from the run's input,
each later one from a receiving node called with its payload, and each ending where a node
returns a contracted command (the command itself goes to ``END``, carrying the node's own
``update``). The graph's checkpointer keeps the state between stretches and seamline's
ledger keeps the handoffs, each written durably before the other moves on (the graph runs
with ``durability="sync"``). The contract's failure policy decides what happens next:

- **Rejected**: the thread is forked from the checkpoint before the node that handed off,
  which runs again with :func:`feedback` returning the issues (``feedback_retries``
  rounds). The rejected attempt stays in the thread's history, as in any LangGraph fork.
- **Dead-lettered** after the last round (or sent to the contract's fallback node): the
  workflow ends ``dead_lettered`` with the payload in the ledger; replaying the dead letter
  (with a fixed payload) runs the receiving node from it on the same thread.
- **Gated**: the workflow ends ``waiting`` and the thread rests at its last checkpoint;
  approving the gate runs the receiving node from the approved or edited payload, in any
  process that shares the ledger and the checkpointer.

A stretch that raised, ran past its contract's timeout or lost its process is a step in
flight: it runs again from where it began (a retry, ``workflows resume``, or a replay of
its dead letter with a fixed payload). Its partial writes are left behind on a fork: the
checkpoint before it is copied without its pending writes, and the stretch starts over from
its handoff, so the thread never holds an abandoned attempt beside the new one.

A seamline agent here is a stretch of graph: a receiving node and whatever it flows into
through plain edges, up to the next contracted command, which is that agent's handoff. One
contracted command per step: two in one superstep are refused (seamline carries one handoff
at a time). A node that calls ``interrupt()`` escalates the workflow to its owner, since
seamline cannot resume a LangGraph interrupt; gate the contracted handoff instead.

Needs the ``langgraph`` extra: ``pip install "seamline[langgraph]"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from seamline.agents import Agent, Context, Escalate, Finish, HandOff, Outcome, agent
from seamline.contracts import Constraints, Contract
from seamline.exceptions import AgentError, ConfigurationError, Issue, MissingExtraError
from seamline.runtime import RunResult, Runtime

try:
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.graph import END
    from langgraph.graph.state import CompiledStateGraph
    from langgraph.types import Command, GraphOutput, Send, StateSnapshot
except ImportError as missing:
    raise MissingExtraError(
        feature="LangGraph handoffs (seamline.interop.langgraph)", extra="langgraph"
    ) from missing

__all__ = ["GRAPH_INPUT", "GraphInput", "GraphTeam", "contracted_command", "feedback", "run"]

Graph = CompiledStateGraph[Any, Any, Any, Any]


class GraphInput(BaseModel):
    """A run's input state, as JSON: what the ledger records is what the graph is given."""

    model_config = ConfigDict(frozen=True)
    values: dict[str, Any]


GRAPH_INPUT = Contract(
    model=GraphInput,
    name="langgraph.input",
    version="1.0.0",
    owner="seamline",
    description="The input state a LangGraph graph run starts from.",
)


@dataclass(frozen=True, slots=True)
class _Proposal:
    goto: str
    payload: BaseModel | Mapping[str, Any]


@dataclass(slots=True)
class _Run:
    """One stretch of graph in flight: the feedback it runs with, the handoffs it made."""

    feedback: tuple[Issue, ...]
    proposals: list[_Proposal] = field(default_factory=list)


_HANDOFF = "seamline_handoff"
"""Checkpoint metadata: the handoff whose stretch wrote the checkpoint."""

_running: ContextVar[_Run | None] = ContextVar("seamline_langgraph_run", default=None)
"""Set while seamline runs a stretch of graph; nodes (in tasks or threads) inherit it."""


def _current(helper: str) -> _Run:
    running = _running.get()
    if running is None:
        raise ConfigurationError(
            f"{helper}() works inside a graph that seamline runs: start it with "
            "seamline.interop.langgraph.run(runtime, graph, input, intent=...), not invoke()"
        )
    return running


def contracted_command(
    goto: str,
    payload: BaseModel | Mapping[str, Any],
    *,
    update: Mapping[str, Any] | None = None,
) -> Command[Any]:
    """Hand off to node ``goto``: return this from a node instead of ``Command(goto=...)``.

    ``payload`` must satisfy the contract ``goto`` accepts; the node is called with it,
    validated and typed, as its input. ``update`` is this node's own write to the state,
    applied now, as a Command's update would be.
    """
    _current("contracted_command").proposals.append(_Proposal(goto, payload))
    return Command(goto=END, update=dict(update) if update is not None else None)


def feedback() -> tuple[Issue, ...]:
    """Why this node's previous contracted command was rejected; empty on a first try."""
    return _current("feedback").feedback


@dataclass(frozen=True, slots=True)
class _Stretch:
    """The graph run from one seamline delivery up to the next handoff or the end."""

    graph: Graph
    node: str | None
    """The receiving node; None for the graph's entry (the run's input)."""

    async def __call__(self, payload: BaseModel, ctx: Context) -> Outcome:
        start = self._input(payload)
        thread: RunnableConfig = {"configurable": {"thread_id": ctx.envelope.correlation_id}}
        latest = await self.graph.aget_state(thread)
        if ctx.feedback and not latest.next:
            assert latest.parent_config is not None  # the step that handed off has a parent
            start, thread = None, latest.parent_config  # that step again, from before it
        elif latest.next or _stretch_of(latest) == ctx.envelope.handoff_id:
            # The last stretch never finished (it raised, timed out or lost its process), or
            # finished without seamline recording it: it runs again, from before it began.
            thread = await self._beginning(latest)
        config: RunnableConfig = {
            "configurable": thread["configurable"],
            "metadata": {_HANDOFF: ctx.envelope.handoff_id},
        }
        running = _Run(ctx.feedback)
        entered = _running.set(running)
        try:
            output: GraphOutput[Any] = await self.graph.ainvoke(
                start, config, durability="sync", version="v2"
            )
        finally:
            _running.reset(entered)
        return self._outcome(running, output, ctx)

    def _input(self, payload: BaseModel) -> Any:
        if self.node is None:
            assert isinstance(payload, GraphInput)  # the entry accepts GRAPH_INPUT only
            return payload.values
        return Command(goto=Send(self.node, payload))

    async def _beginning(self, snapshot: StateSnapshot) -> RunnableConfig:
        """A checkpoint to run again the stretch ``snapshot`` is part of: a copy of the one
        before its first (or of the thread's first), without that checkpoint's pending
        writes, which would start the abandoned stretch's input again beside the new one."""
        stretch = _stretch_of(snapshot)
        while snapshot.parent_config is not None:
            snapshot = await self.graph.aget_state(snapshot.parent_config)
            if _stretch_of(snapshot) != stretch:
                break
        return await self.graph.aupdate_state(snapshot.config, None)

    def _outcome(self, running: _Run, output: GraphOutput[Any], ctx: Context) -> Outcome:
        if len(running.proposals) > 1:
            targets = ", ".join(proposal.goto for proposal in running.proposals)
            raise AgentError(
                f"{self.graph.name} made {len(running.proposals)} contracted commands in one "
                f"step (to {targets}); seamline carries one handoff at a time, so hand off "
                "from one node per step"
            )
        if running.proposals:
            (proposal,) = running.proposals
            return HandOff(to=proposal.goto, payload=proposal.payload)
        if output.interrupts:
            return Escalate(
                f"{self.graph.name} stopped at interrupt() ({len(output.interrupts)} pending) "
                f"on thread {ctx.envelope.correlation_id}; seamline cannot resume a LangGraph "
                "interrupt: resume the thread yourself, or gate the contracted handoff instead"
            )
        return Finish(output.value)


def _stretch_of(snapshot: StateSnapshot) -> Any:
    """The handoff whose stretch wrote this checkpoint (None: not one seamline ran)."""
    return dict(snapshot.metadata or {}).get(_HANDOFF)


class GraphTeam:
    """A compiled graph's entry and receiving nodes as seamline agents, to register with a
    :class:`~seamline.Registry`.

    The entry agent is named after the graph (``builder.compile(name=...)``) and accepts
    :data:`GRAPH_INPUT`; each node of ``receivers`` accepts ``^version`` of its contract.
    The graph needs a checkpointer: its state lives there between stretches (an
    ``InMemorySaver`` serves one process; gates decided elsewhere need a shared one).

    Example:
        ```python
        graph = builder.compile(checkpointer=InMemorySaver(), name="support")
        team = GraphTeam(graph, receivers={"refunds": refund_v1}, owner="support",
                         version="1.0.0")
        runtime = Runtime(Registry(agents=team.agents, contracts=team.contracts),
                          SqliteStore("seamline.db"))
        result = await run(runtime, graph, {"messages": [...]}, intent="refund my lamp")
        ```
    """

    def __init__(
        self,
        graph: Graph,
        *,
        receivers: Mapping[str, Contract[Any]],
        owner: str,
        version: str,
    ) -> None:
        if not isinstance(graph.checkpointer, BaseCheckpointSaver):
            raise ConfigurationError(
                f"graph {graph.name} has no checkpointer; compile it with one "
                "(builder.compile(checkpointer=InMemorySaver())): seamline continues its "
                "thread after every contracted handoff"
            )
        unknown = sorted(set(receivers) - set(graph.nodes))
        if unknown:
            raise ConfigurationError(
                f"graph {graph.name} has no node {', '.join(unknown)} to receive handoffs "
                f"(its nodes: {', '.join(sorted(set(graph.nodes) - {'__start__'}))})"
            )
        if graph.name in receivers:
            raise ConfigurationError(
                f"{graph.name!r} names both the graph (its entry agent) and a node; compile the "
                "graph with another name"
            )
        self.contracts: tuple[Contract[Any], ...] = tuple(
            {id(c): c for c in [GRAPH_INPUT, *receivers.values()]}.values()
        )
        """:data:`GRAPH_INPUT` and the receivers' contracts."""
        entry = _member(graph, None, GRAPH_INPUT, owner, version)
        self.agents: tuple[Agent, ...] = (
            entry,
            *(_member(graph, n, c, owner, version) for n, c in receivers.items()),
        )
        """The entry agent, then one agent per receiving node."""


def _member(
    graph: Graph, node: str | None, contract: Contract[Any], owner: str, version: str
) -> Agent:
    name = node or graph.name
    return agent(
        name=name,
        version=version,
        owner=owner,
        accepts={contract.name: f"^{contract.version}"},
        description=f"LangGraph {'node' if node else 'graph'} {name}",
    )(_Stretch(graph, node))


async def run(
    runtime: Runtime,
    graph: Graph,
    input: Mapping[str, Any],
    *,
    intent: str,
    constraints: Constraints | None = None,
    workflow_id: str | None = None,
) -> RunResult:
    """Run ``graph`` (registered with ``runtime`` through a :class:`GraphTeam`) from
    ``input`` as a workflow; returns when it ends or waits at a gate (``result.status``).

    ``input`` must be JSON (messages as ``{"role": ..., "content": ...}`` dicts): the ledger
    records it and the graph is given exactly that. ``intent`` is the user's request,
    verbatim. A completed workflow's result is the graph's final output state.
    """
    return await runtime.run(
        graph.name,
        {"values": dict(input)},
        intent=intent,
        constraints=constraints,
        contract=GRAPH_INPUT.name,
        workflow_id=workflow_id,
    )
