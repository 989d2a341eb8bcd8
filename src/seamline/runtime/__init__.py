"""The runtime: the public face of the handoff-chain engine.

Example:
    ```python
    runtime = Runtime(Registry(agents=[intake, triage], contracts=[ticket_v1]),
                      SqliteStore("seamline.db"))
    result = runtime.run_sync("intake", Ticket(text="..."), intent="refund my order")
    ```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import anyio
from pydantic import BaseModel

from seamline.contracts import Constraints, Envelope
from seamline.evals import DEFAULT_EVALUATORS, Evaluator
from seamline.exceptions import ConfigurationError, ConflictError
from seamline.gates import Decision, GateView, list_gates, open_gate
from seamline.ledger import Ledger, fold
from seamline.memory import Embedder, Memory
from seamline.registry import Registry
from seamline.runtime._breakers import BreakerPolicy, Breakers, BreakerState
from seamline.runtime._engine import Engine, RunResult
from seamline.runtime._worker import Worker, WorkerStats
from seamline.stores import ArtifactStore, MemoryStore, Store, WorkflowStatus, WorkQueue
from seamline.tracing import gate_span

__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "Breakers",
    "RunResult",
    "Runtime",
    "Worker",
    "WorkerStats",
]

_DEFAULT_BREAKERS = BreakerPolicy()

ResultT = TypeVar("ResultT")


class Runtime:
    """Runs handoff chains durably: every transition is in the store before it takes effect.

    Args:
        registry: the agents and contracts; checked here, so a broken route fails now.
        store: the ledger; an in-memory store when omitted (nothing survives the process).
        app: ``module:attribute`` of a zero-argument callable returning this registry,
            recorded with each workflow so ``seamline workflows resume`` can find the agents.
        max_hops: the default hop budget per workflow.
        bounces: consecutive A<->B handoffs without progress that count as ping-pong.
        embedder: how memory search embeds text; the offline HashingEmbedder by default.
        tenant: artifacts written with ``shared=True`` are visible to every workflow of it.
        breakers: when a destination agent's circuit breaker opens and closes again; None
            turns breakers off. Their state is mirrored into the registry's health.
        evaluators: checks run on every handoff beyond its contract, blocking or flagging
            (see :mod:`seamline.evals`); ``required_fields`` by default. The boundary's own
            invariants (intent, constraints, tracked facts, accepted contract) always run
            and are recorded as evaluations too; pass ``()`` to record only those.
    """

    def __init__(
        self,
        registry: Registry,
        store: Store | None = None,
        *,
        app: str | None = None,
        max_hops: int = 25,
        bounces: int = 4,
        embedder: Embedder | None = None,
        tenant: str | None = None,
        breakers: BreakerPolicy | None = _DEFAULT_BREAKERS,
        evaluators: Sequence[Evaluator] = DEFAULT_EVALUATORS,
    ) -> None:
        if max_hops < 1:
            raise ConfigurationError(f"max_hops must be at least 1, got {max_hops}")
        if bounces < 2:
            raise ConfigurationError(f"bounces must be at least 2, got {bounces}")
        registry.check()
        self.registry = registry
        self.store: Store = store if store is not None else MemoryStore()
        self.ledger = Ledger(self.store)
        """Read-only views of what happened (handoffs, workflows, dead letters)."""
        self.memory = (
            Memory(self.store, embedder=embedder, tenant=tenant)
            if isinstance(self.store, ArtifactStore)
            else None
        )
        """Read access to the artifacts agents wrote; None when the store keeps no memory."""
        self.breakers = Breakers(breakers, registry) if breakers is not None else None
        """Per-agent circuit breakers (``state(agent, version)``); None when turned off."""
        self._engine = Engine(
            registry,
            self.store,
            app=app,
            max_hops=max_hops,
            bounces=bounces,
            memory=self.memory,
            breakers=self.breakers,
            evaluators=evaluators,
        )

    async def run(
        self,
        entry: str,
        payload: BaseModel | dict[str, Any],
        *,
        intent: str,
        constraints: Constraints | None = None,
        contract: str | None = None,
        workflow_id: str | None = None,
        name: str | None = None,
        max_hops: int | None = None,
    ) -> RunResult:
        """Start a workflow at agent ``entry`` and run it to its end.

        Raises HandoffValidationError (and stores nothing) when the first payload breaks
        ``entry``'s contract, and ConflictError when ``workflow_id`` is already taken.
        """
        envelope = self._first(entry, payload, intent, constraints, contract, workflow_id)
        return await self.deliver(envelope, name=name, max_hops=max_hops)

    async def submit(
        self,
        entry: str,
        payload: BaseModel | dict[str, Any],
        *,
        intent: str,
        constraints: Constraints | None = None,
        contract: str | None = None,
        workflow_id: str | None = None,
        name: str | None = None,
        max_hops: int | None = None,
    ) -> str:
        """Validate and record a workflow's first handoff and queue it for the workers;
        returns its id at once. Nothing runs here: ``seamline worker`` processes (or
        :meth:`worker`) on any machine sharing the store pick it up.

        Needs a WorkQueue store (PostgresStore). Raises HandoffValidationError (queueing
        nothing) when the first payload breaks ``entry``'s contract.
        """
        self._queue()
        envelope = self._first(entry, payload, intent, constraints, contract, workflow_id)
        await self._engine.start(envelope, name=name or entry, max_hops=max_hops, enqueue=True)
        return envelope.correlation_id

    def worker(
        self,
        *,
        name: str | None = None,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        steps_per_claim: int = 100,
    ) -> Worker:
        """A worker driving this store's queued workflows with this runtime's agents."""
        return Worker(
            self._engine,
            self._queue(),
            [agent.name for agent in self.registry.agents],
            name=name,
            lease_seconds=lease_seconds,
            poll_seconds=poll_seconds,
            steps_per_claim=steps_per_claim,
        )

    # -- human gates ---------------------------------------------------------------------

    def gates(self, *, status: str = "open", limit: int = 100) -> list[GateView]:
        """Gates, newest first: ``open`` (waiting for a decision), ``decided`` or ``all``."""
        return list_gates(self.ledger, status=status, limit=limit)

    def gate(self, gate_id: str) -> GateView:
        """One gate (by its handoff id), open or decided; NotFoundError if there is none."""
        return open_gate(self.ledger, gate_id)[1]

    async def decide(
        self,
        gate_id: str,
        decision: Decision | str,
        *,
        by: str,
        reason: str | None = None,
        payload: dict[str, Any] | None = None,
        queue: bool = False,
    ) -> RunResult:
        """Approve, reject (with a reason) or edit (with a payload) an open gate, as ``by``.

        Approved or edited, the workflow runs on here, to its end or its next gate; with
        ``queue`` it goes back on the work queue for the workers instead. Rejected, the
        handoff is dead-lettered with the reason (and escalated if its contract says so).
        Raises ConflictError for a gate already decided and HandoffValidationError for an
        edit that breaks the contract; either way nothing is recorded.
        """
        try:
            chosen = Decision(decision)
        except ValueError:
            raise ConfigurationError(
                f"unknown decision {decision!r}; use approve, reject or edit"
            ) from None
        if queue:
            self._queue()
        workflow_id = self.gate(gate_id).workflow_id
        with gate_span(gate_id, workflow_id, chosen.value, by):
            outcome = await self._engine.decide(
                gate_id, chosen, by=by, reason=reason, payload=payload, queue=queue
            )
            if isinstance(outcome, RunResult):
                return outcome
            return await self._engine.drive(outcome, outcome.workflow.id)

    def escalate_gates(self) -> list[str]:
        """Escalate the open gates past their deadline to their fallback owners (once each);
        run it periodically (``seamline gates escalate``, or the server does)."""
        return self._engine.escalate_gates()

    def _queue(self) -> WorkQueue:
        if not isinstance(self.store, WorkQueue):
            raise ConfigurationError(
                f"queued workflows need a store every worker shares; {type(self.store).__name__} "
                "is not one. Open a PostgresStore (postgresql://...), or run workflows in "
                "this process with Runtime.run"
            )
        return self.store

    def _first(
        self,
        entry: str,
        payload: BaseModel | dict[str, Any],
        intent: str,
        constraints: Constraints | None,
        contract: str | None,
        workflow_id: str | None,
    ) -> Envelope:
        """The first handoff of a new workflow; ConflictError if its id is taken."""
        if workflow_id is not None and self.store.get_workflow(workflow_id) is not None:
            raise ConflictError(
                f"workflow {workflow_id} already exists; resume it, or start with a new id"
            )
        return self._engine.first_envelope(
            entry,
            payload,
            intent=intent,
            constraints=constraints or Constraints(),
            contract=contract,
            workflow_id=workflow_id,
        )

    async def deliver(
        self, envelope: Envelope, *, name: str | None = None, max_hops: int | None = None
    ) -> RunResult:
        """Deliver a workflow's first handoff; idempotent on ``envelope.handoff_id``.

        Delivering an id the ledger already holds runs nothing new: an open handoff is
        resumed, a finished one returns its recorded result.
        """
        known = fold(self.store.entries(handoff_id=envelope.handoff_id))
        if known:
            if known[0].is_open:
                return await self.resume(known[0].correlation_id)
            return self._engine.result(known[0].correlation_id)
        if self.store.get_workflow(envelope.correlation_id) is not None:
            raise ConflictError(
                f"workflow {envelope.correlation_id} already exists and handoff "
                f"{envelope.handoff_id} is not part of it; start a new workflow id"
            )
        cursor = await self._engine.start(
            envelope, name=name or envelope.destination.name, max_hops=max_hops
        )
        return await self._engine.drive(cursor, envelope.correlation_id)

    async def resume(self, workflow_id: str) -> RunResult:
        """Continue a workflow from its open handoff; a finished one just reports its result."""
        workflow = self.ledger.workflow(workflow_id)
        return await self._engine.drive(self._engine.cursor(workflow), workflow_id)

    async def resume_all(self) -> list[RunResult]:
        """Resume every running workflow (after a crash or restart), oldest first."""
        running = self.store.list_workflows(status=WorkflowStatus.RUNNING, limit=1_000_000)
        return [await self.resume(workflow.id) for workflow in reversed(running)]

    def reap(self, workflow_id: str | None = None) -> list[RunResult]:
        """Dead-letter running workflows (or just ``workflow_id``) past their open deadline.

        Stuck work (its runtime crashed and nobody resumed it, or a step hangs elsewhere)
        should not wait forever: each one goes to the dead-letter queue with reason
        ``stuck``, where it can be inspected and replayed. Workflows with no deadline are
        left alone.
        """
        if workflow_id is not None:
            running = [self.ledger.workflow(workflow_id)]
        else:
            running = self.store.list_workflows(status=WorkflowStatus.RUNNING, limit=1_000_000)
        reaped = [self._engine.reap(workflow) for workflow in reversed(running)]
        return [result for result in reaped if result is not None]

    async def replay(
        self,
        dead_letter_id: str,
        *,
        payload: dict[str, Any] | None = None,
        extra_hops: int = 0,
    ) -> RunResult:
        """Validate a dead letter again (optionally with a fixed payload) and continue.

        Raises HandoffValidationError and leaves the dead letter open if it is still invalid.
        """
        cursor = await self._engine.replay(dead_letter_id, payload=payload, extra_hops=extra_hops)
        return await self._engine.drive(cursor, cursor.workflow.id)

    def cancel(self, workflow_id: str, *, reason: str) -> RunResult | None:
        """Stop a running or waiting workflow: its open handoff is dead-lettered as
        ``canceled`` with ``reason`` (replayable, or discarded later).

        A workflow this runtime is driving stops after the step in flight, and the call
        driving it returns the canceled result; this returns None then. Otherwise the
        cancellation is recorded at once and returned. ConflictError if it already ended.
        """
        if not reason.strip():
            raise ConfigurationError("say why the workflow is canceled (reason is empty)")
        return self._engine.cancel(self.ledger.workflow(workflow_id), reason)

    def discard(self, dead_letter_id: str, *, reason: str) -> None:
        """Close a dead letter for good, saying why."""
        if not reason.strip():
            raise ConfigurationError("say why the dead letter is discarded (reason is empty)")
        self._engine.discard(dead_letter_id, reason=reason)

    def result(self, workflow_id: str) -> RunResult:
        """A workflow's recorded result, without running anything."""
        return self._engine.result(workflow_id)

    def run_sync(
        self, entry: str, payload: BaseModel | dict[str, Any], *, intent: str, **options: Any
    ) -> RunResult:
        """:meth:`run` from synchronous code."""
        return self._sync(lambda: self.run(entry, payload, intent=intent, **options))

    @staticmethod
    def _sync(call: Callable[[], Awaitable[ResultT]]) -> ResultT:
        async def main() -> ResultT:
            return await call()

        return anyio.run(main)
