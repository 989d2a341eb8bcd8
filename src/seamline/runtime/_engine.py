"""The handoff-chain engine behind :class:`seamline.runtime.Runtime`.

One step = deliver the open handoff to its receiver, take its outcome, validate the next
handoff against its receiver's contract, and append "delivered, completed" for this
handoff together with "proposed, validated" for the next in one ledger transaction. The
open (``validated``) handoff is the workflow's cursor, so a restarted runtime knows exactly
where to continue: a committed step never runs again; a step interrupted before its commit
is delivered again (at-least-once for the step in flight, exactly-once for recorded ones).
"""

from __future__ import annotations

import inspect
import json
import logging
import random
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import anyio.lowlevel
import anyio.to_thread
from opentelemetry.trace import Span
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from seamline.agents import Agent, Context, Escalate, Finish, HandOff, Leg, LegResult, Outcome
from seamline.contracts import (
    EXTERNAL,
    Accepted,
    AgentRef,
    Constraints,
    Contract,
    ContractRef,
    Envelope,
    FailurePolicy,
    Intent,
    check_handoff,
    deprecation,
    mask_payload,
    redact,
    retirement,
    upcast,
)
from seamline.evals import (
    Evaluation,
    Evaluator,
    Label,
    Mode,
    Subject,
    blocking_issues,
    boundary,
    dumps,
    run_evaluators,
)
from seamline.exceptions import (
    AgentError,
    ConfigurationError,
    ConflictError,
    ContractDeprecationWarning,
    HandoffError,
    HandoffValidationError,
    Issue,
    RegistryError,
    StoreError,
    TransientError,
)
from seamline.gates import Decision, describe_gate, list_gates, open_gate, payload_diff
from seamline.ledger import HandoffStatus, HandoffView, Ledger, fold
from seamline.memory import Memory, StepMemory
from seamline.registry import REJECTED_HANDOFF, Registry, RejectedHandoff, Route
from seamline.runtime._breakers import Breakers, BreakerState
from seamline.runtime._loops import TRAIL_LENGTH, Hop, detect_loop, hop_of
from seamline.stores import (
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    DeadLetterUpdate,
    Entry,
    Lease,
    Store,
    WorkflowRecord,
    WorkflowStatus,
)
from seamline.tracing import (
    agent_span,
    handoff_span,
    record_envelope,
    record_evaluations,
    record_event,
    record_outcome,
    record_tool_call,
    recording,
    workflow_span,
)
from seamline.types import jsonable, new_id, utcnow

__all__ = ["Engine", "RunResult"]


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a workflow stands after a run, resume, replay or delivery."""

    workflow_id: str
    status: WorkflowStatus
    result: Any = None
    """The final result (completed), or the escalation / dead-letter details."""
    handoffs: int = 0
    """Handoffs delivered to a receiver in this workflow so far."""
    dead_letter_id: str | None = None


@dataclass(slots=True)
class _Cursor:
    """The open handoff of a running workflow, with what the next commit needs."""

    workflow: WorkflowRecord
    envelope: Envelope
    payload: BaseModel | None
    """The open handoff's payload, typed; None only until a resume has validated it."""
    trail: list[Hop]
    seq: int
    """The next free position in the workflow's log."""
    delivered: int
    traced: bool = False
    """Whether spans are recorded for this run (asked once per run, see tracing.recording)."""
    memory: StepMemory | None = None
    """The running step's memory handle; its writes and reads go into the next commit."""
    lease: Lease | None = None
    """A worker's lease on the workflow: every commit is fenced by it (and renews it)."""
    flags: list[Evaluation] | None = None
    """What the flagging evaluators said about the open handoff while its receiver ran;
    None until they ran this step. Recorded with the step's next commit."""


_log = logging.getLogger("seamline.evals")

_TRANSIENT = (TransientError, TimeoutError, ConnectionError)
"""Agent exceptions that may pass on a second try; everything else is permanent."""


@dataclass(frozen=True, slots=True)
class _Fault:
    code: str
    message: str
    transient: bool = False
    """Worth re-running the receiver for (its contract's ``retries``)."""


@dataclass(slots=True)
class _Checked:
    """A boundary check: the envelope as delivered (maybe upcast), its verdict, its notes."""

    envelope: Envelope
    verdict: Accepted | list[Issue]
    notes: list[tuple[str, str]] = field(default_factory=list)
    """Ledger rows (kind, data) about the new handoff: deprecation warnings, upcasts,
    evaluations."""
    evaluations: tuple[Evaluation, ...] = ()


@dataclass(frozen=True, slots=True)
class _End:
    workflow: WorkflowRecord
    delivered: int


class _Batch:
    """Entries for one commit, numbered from the cursor's next free position."""

    __slots__ = ("cid", "entries", "seq")

    def __init__(self, cursor: _Cursor) -> None:
        self.cid = cursor.workflow.id
        self.seq = cursor.seq
        self.entries: list[Entry] = []

    def add(self, handoff_id: str, kind: str, at: datetime, data: str | None = None) -> None:
        self.entries.append(
            Entry(
                correlation_id=self.cid,
                seq=self.seq,
                handoff_id=handoff_id,
                kind=kind,
                at=at,
                data=data,
            )
        )
        self.seq += 1

    def propose(
        self,
        envelope: Envelope,
        notes: list[tuple[str, str]],
        at: datetime,
        *,
        verdict: tuple[str, str | None] = ("validated", None),
    ) -> None:
        """A new handoff: its envelope, what the boundary noted, and the verdict."""
        self.add(envelope.handoff_id, "proposed", at, envelope.model_dump_json())
        for kind, data in notes:
            self.add(envelope.handoff_id, kind, at, data)
        self.add(envelope.handoff_id, verdict[0], at, verdict[1])


def _issues_json(issues: Iterable[Issue]) -> str:
    return json.dumps([{"path": i.path, "message": i.message, "code": i.code} for i in issues])


class Engine:
    """Runs handoff chains against a registry and a store."""

    def __init__(
        self,
        registry: Registry,
        store: Store,
        *,
        app: str | None,
        max_hops: int,
        bounces: int,
        memory: Memory | None,
        breakers: Breakers | None,
        evaluators: Sequence[Evaluator],
    ) -> None:
        self.registry = registry
        self.store = store
        self.memory = memory
        self.breakers = breakers
        self.evaluators = tuple(evaluators)
        self._scoped: dict[tuple[str, Mode], tuple[Evaluator, ...]] = {}
        self._driving: set[str] = set()
        """Workflows this process is driving now: a cancellation stops them between steps."""
        self._cancels: dict[str, str] = {}
        """Cancellations asked for a workflow being driven here, by id: the reason."""
        self.ledger = Ledger(store)
        self.app = app
        self.max_hops = max_hops
        self.bounces = bounces
        self._refs: dict[str, AgentRef] = {}

    def _ref(self, agent: Agent) -> AgentRef:
        ref = self._refs.get(agent.name)
        if ref is None:
            ref = AgentRef(name=agent.name, version=str(agent.card.version))
            self._refs[agent.name] = ref
        return ref

    # -- starting and resuming -------------------------------------------------------------

    def first_envelope(
        self,
        entry: str,
        payload: BaseModel | dict[str, Any],
        *,
        intent: str,
        constraints: Constraints,
        contract: str | None,
        workflow_id: str | None,
    ) -> Envelope:
        """The envelope that starts a workflow at ``entry``, from outside any agent."""
        receiver = self.registry.agent(entry)
        name = self.registry.contract_for(
            receiver, HandOff(to=entry, payload=payload, contract=contract)
        )
        accepted = receiver.card.accepts[name]
        version = max(
            c.version
            for c in self.registry.contracts
            if c.name == name and accepted.admits(c.version)
        )
        try:
            data = jsonable(payload)
        except ValueError as error:
            raise HandoffValidationError(
                contract=f"{name}@{version}",
                issues=[Issue("payload", f"not JSON-serializable: {error}", "not_json")],
            ) from None
        bound = self.registry.contract(name, version)
        return Envelope(
            handoff_id=new_id(),
            correlation_id=workflow_id or new_id(),
            source=EXTERNAL,
            destination=self._ref(receiver),
            contract=ContractRef(name=name, version=str(version)),
            sensitive=_sensitive(bound),
            intent=Intent.of(intent),
            constraints=constraints,
            fallback_owner=bound.fallback_owner,
            hop=0,
            created_at=utcnow(),
            payload=data,
        )

    def _evaluators(self, contract: str, mode: Mode) -> tuple[Evaluator, ...]:
        """The evaluators of ``mode`` that apply to handoffs under ``contract``."""
        chosen = self._scoped.get((contract, mode))
        if chosen is None:
            chosen = tuple(e for e in self.evaluators if e.mode is mode and e.applies(contract))
            self._scoped[(contract, mode)] = chosen
        return chosen

    async def start(
        self, envelope: Envelope, *, name: str, max_hops: int | None, enqueue: bool = False
    ) -> _Cursor:
        """Validate a workflow's first handoff and record the workflow; raise if invalid.

        With ``enqueue`` the workflow also goes on the store's work queue, in the same
        commit, for a worker to claim (``Runtime.submit``).
        """
        receiver = self.registry.agent(envelope.destination.name)
        checked = await self._vet(
            envelope, receiver, intent_sha256=envelope.intent.sha256, previous=None, facts={}
        )
        if not isinstance(checked.verdict, Accepted):
            raise HandoffValidationError(
                contract=str(checked.envelope.contract),
                issues=checked.verdict,
                handoff_id=envelope.handoff_id,
            )
        envelope = checked.envelope.model_copy(update={"facts": checked.verdict.facts})
        now = utcnow()
        workflow = WorkflowRecord(
            id=envelope.correlation_id,
            name=name,
            status=WorkflowStatus.RUNNING,
            entry=receiver.name,
            intent_sha256=envelope.intent.sha256,
            max_hops=max_hops or self.max_hops,
            app=self.app,
            result=None,
            created_at=now,
            updated_at=now,
        )
        gated = self._gate(envelope, checked.verdict.payload, None, now)
        if gated is not None:
            workflow = replace(workflow, status=WorkflowStatus.WAITING)
        cursor = _Cursor(workflow, envelope, checked.verdict.payload, [hop_of(envelope)], 1, 0)
        batch = _Batch(cursor)
        batch.propose(envelope, checked.notes, now, verdict=_verdict(gated))
        queued = receiver.name if enqueue and gated is None else None
        self._commit(cursor, batch, workflow=workflow, enqueue=queued)
        return cursor

    def cursor(self, workflow: WorkflowRecord) -> _Cursor | None:
        """Rebuild the cursor of a running workflow from the ledger (resume)."""
        if workflow.status is not WorkflowStatus.RUNNING:
            return None
        entries = self.store.entries(correlation_id=workflow.id)
        views = fold(entries)
        open_ = [view for view in views if view.is_open]
        if len(open_) != 1:
            raise StoreError(
                f"workflow {workflow.id} is running but has {len(open_)} open handoffs; "
                "the ledger was changed outside seamline"
            )
        envelope = open_[0].envelope
        cursor = _Cursor(
            workflow,
            envelope,
            None,
            _trail(entries, views),
            entries[-1].seq + 1,
            sum(1 for e in entries if e.kind == "delivered"),
        )
        try:
            contract = self.registry.contract(envelope.contract.name, envelope.contract.version)
            cursor.payload = contract.model.model_validate(envelope.payload)
        except (RegistryError, ValueError) as error:
            fault = _Fault("contract_changed", f"cannot re-read the open handoff: {error}")
            self._dead_letter_inbound(cursor, utcnow(), fault)
            return None
        return cursor

    def reap(self, workflow: WorkflowRecord) -> RunResult | None:
        """Dead-letter a running workflow whose open handoff's deadline has passed."""
        cursor = self.cursor(workflow)
        deadline = cursor.envelope.constraints.deadline if cursor is not None else None
        if cursor is None or deadline is None or deadline > utcnow():
            return None
        # None: a live runtime moved it on meanwhile, so it was not stuck after all.
        return self._stop(
            cursor,
            "stuck",
            f"unfinished past its deadline ({deadline.isoformat()}); nobody completed it",
        )

    def result(self, workflow_id: str) -> RunResult:
        """The recorded result of a workflow."""
        workflow = self.ledger.workflow(workflow_id)
        delivered = sum(
            1 for e in self.store.entries(correlation_id=workflow_id) if e.kind == "delivered"
        )
        return _result(workflow, delivered)

    # -- the chain -------------------------------------------------------------------------

    async def drive(
        self,
        cursor: _Cursor | None,
        workflow_id: str,
        *,
        until: Callable[[], bool] | None = None,
    ) -> RunResult:
        """Run the workflow until it finishes, escalates or is dead-lettered, or, between
        steps, until ``until()`` says to stop (a worker shutting down or yielding)."""
        if cursor is None or cursor.workflow.status is not WorkflowStatus.RUNNING:
            return self.result(workflow_id)  # ended, or waiting at a gate from the start
        cursor.traced = recording()
        self._driving.add(workflow_id)
        try:
            with workflow_span(cursor.workflow.name, workflow_id, on=cursor.traced):
                step: _Cursor | _End = cursor
                while isinstance(step, _Cursor):
                    if self._cancels and workflow_id in self._cancels:
                        reason = self._cancels.pop(workflow_id)
                        return self._stop(step, "canceled", reason) or self.result(workflow_id)
                    if until is not None:
                        # Let the worker's lease heartbeat in between steps: sync agents
                        # never yield to the event loop by themselves.
                        await anyio.lowlevel.checkpoint()
                        if until():
                            return _result(step.workflow, step.delivered)
                    step = await self._step(step)
            return _result(step.workflow, step.delivered)
        finally:
            self._driving.discard(workflow_id)
            self._cancels.pop(workflow_id, None)

    def cancel(self, workflow: WorkflowRecord, reason: str) -> RunResult | None:
        """Stop a workflow: its open (or gated) handoff is dead-lettered as ``canceled``,
        kept whole for a replay. One driven here stops after the step in flight, and its
        driver returns the result (None here). One driven elsewhere loses its next commit
        to this one on the ledger's key, and stops there."""
        if workflow.id in self._driving:
            self._cancels[workflow.id] = reason
            return None
        cursor = self._open_cursor(workflow)
        if cursor is None:
            raise ConflictError(
                f"workflow {workflow.id} is already {workflow.status.value}; only a running "
                "or waiting workflow can be canceled"
            )
        result = self._stop(cursor, "canceled", reason)
        if result is None:
            raise ConflictError(
                f"workflow {workflow.id} moved on while it was being canceled; look again"
            )
        return result

    def _open_cursor(self, workflow: WorkflowRecord) -> _Cursor | None:
        """A cursor on a running workflow's open handoff, or on a waiting one's gated one."""
        if workflow.status is WorkflowStatus.RUNNING:
            return self.cursor(workflow)
        if workflow.status is not WorkflowStatus.WAITING:
            return None
        entries = self.store.entries(correlation_id=workflow.id)
        views = fold(entries)
        gated = next(view for view in views if view.status is HandoffStatus.GATED)
        return _Cursor(
            workflow,
            gated.envelope,
            None,
            _trail(entries, views),
            entries[-1].seq + 1,
            sum(1 for e in entries if e.kind == "delivered"),
        )

    def _stop(self, cursor: _Cursor, code: str, message: str) -> RunResult | None:
        """Dead-letter the open handoff with ``code``; None if another writer got there
        first (then it was not the workflow's state to stop after all)."""
        fault = _Fault(code, message)
        now = utcnow()
        hid = cursor.envelope.handoff_id
        letter = self._letter(cursor, cursor.envelope, fault, [], now)
        batch = _Batch(cursor)
        batch.add(hid, "failed", now, json.dumps({"reason": fault.code, "message": fault.message}))
        batch.add(hid, "dead_lettered", now, json.dumps({"reason": fault.code}))
        dead = _dead_workflow(cursor.workflow, letter, now, self._escalation(cursor.envelope))
        try:
            self._commit(cursor, batch, workflow=dead, letters=[letter])
        except ConflictError:
            return None
        return _result(dead, cursor.delivered)

    async def _step(self, cursor: _Cursor) -> _Cursor | _End:
        delivered_at = utcnow()
        cursor.delivered += 1
        try:
            receiver = self.registry.agent(cursor.envelope.destination.name)
        except RegistryError as error:
            return await self._fail(cursor, delivered_at, _Fault("unknown_agent", str(error)))
        version = str(receiver.card.version)
        if self.breakers is not None and not self.breakers.allow(receiver.name, version):
            fault = _Fault(
                "circuit_open",
                f"{receiver.name}@{version} keeps failing; its circuit breaker is open, so the "
                "handoff goes to the failure policy instead of waiting on it",
            )
            return await self._fail(cursor, delivered_at, fault)
        feedback: tuple[Issue, ...] = ()
        attempt = 1
        faults = 0
        while True:
            outcome = await self._invoke(receiver, cursor, feedback, attempt)
            if self.breakers is not None:
                self.breakers.record(receiver.name, version, failed=isinstance(outcome, _Fault))
            if isinstance(outcome, _Fault):
                delay = self._retry_delay(cursor, outcome, faults)
                tripped = self.breakers is not None and (
                    self.breakers.state(receiver.name, version) is not BreakerState.CLOSED
                )
                if delay is None or tripped:
                    return await self._fail(cursor, delivered_at, outcome)
                faults += 1
                self._record_retry(cursor, outcome, faults, delay)
                await anyio.sleep(delay)
                continue
            if isinstance(outcome, Finish):
                return self._finish(cursor, delivered_at, outcome)
            if isinstance(outcome, Escalate):
                return self._escalate(cursor, delivered_at, receiver, outcome)
            try:
                route = self.registry.route(receiver, outcome)
                envelope = self._next_envelope(cursor, receiver, route, outcome)
            except (RegistryError, AgentError) as error:
                fault = _Fault("bad_handoff", _masked(cursor.envelope, str(error)))
                return await self._fail(cursor, delivered_at, fault)
            contract = self.registry.contract(route.contract, route.target)
            target = self.registry.agent(route.receiver)
            started = time.perf_counter()
            with handoff_span(
                receiver.name, target.name, contract.ref, envelope.handoff_id, on=cursor.traced
            ) as span:
                checked = await self._vet_next(cursor, envelope, target)
                record_envelope(span, checked.envelope)
                record_evaluations(span, checked.evaluations)
                for kind, data in checked.notes:
                    if kind != "evaluated":
                        record_event(span, f"seamline.{kind}", json.loads(data))
                if isinstance(checked.verdict, Accepted):
                    ended = self._advance(cursor, delivered_at, checked)
                    waiting = isinstance(ended, _End) and (
                        ended.workflow.status is WorkflowStatus.WAITING
                    )
                    record_outcome(span, "gated" if waiting else "validated", 0, attempt, started)
                    return ended
                issues = checked.verdict
                retry = attempt <= contract.policy.feedback_retries
                self._record_rejection(cursor, envelope, checked, retry=retry)
                if retry:
                    record_outcome(span, "rejected_with_feedback", len(issues), attempt, started)
                    attempt += 1
                    feedback = tuple(issues)
                    continue
                ended = await self._exhausted(cursor, delivered_at, envelope, contract, issues)
                path = "fallback" if isinstance(ended, _Cursor) else "dead_lettered"
                record_outcome(span, path, len(issues), attempt, started)
                return ended

    async def _invoke(
        self, agent: Agent, cursor: _Cursor, feedback: tuple[Issue, ...], attempt: int
    ) -> Outcome | _Fault:
        ref = self._ref(agent)
        if self.memory is not None and cursor.memory is None:
            cursor.memory = self.memory.step(cursor.envelope, ref.name, ref.version)

        async def fan_out(legs: Sequence[Leg], concurrency: int, rerun: bool) -> list[LegResult]:
            return await self._fan_out(cursor, agent, legs, concurrency, rerun)

        context = Context(cursor.envelope, feedback, attempt, cursor.memory, fan_out)
        timeout = self._time_left(cursor)
        if timeout is not None and timeout <= 0:
            return _Fault("deadline", f"the deadline passed before {agent.name} could run")
        flagging = () if cursor.flags is not None else self._flagging(cursor)
        with agent_span(ref.name, ref.version, cursor.workflow.id, on=cursor.traced) as span:
            if not flagging:
                return await self._call(agent, cursor, context, timeout)
            # Flagging evaluators judge the handoff while its receiver works on it.
            async with anyio.create_task_group() as group:
                group.start_soon(self._flag, cursor, flagging, span)
                outcome = await self._call(agent, cursor, context, timeout)
        return outcome

    def _flagging(self, cursor: _Cursor) -> tuple[Evaluator, ...]:
        chosen = self._evaluators(cursor.envelope.contract.name, Mode.FLAGGING)
        if not chosen:
            cursor.flags = []
        return chosen

    async def _flag(self, cursor: _Cursor, evaluators: Sequence[Evaluator], span: Span) -> None:
        envelope, payload = cursor.envelope, cursor.payload
        assert payload is not None  # a delivered handoff was validated
        contract = self.registry.contract(envelope.contract.name, envelope.contract.version)
        flags = await run_evaluators(evaluators, Subject(envelope, payload, contract))
        record_evaluations(span, flags, envelope.handoff_id)
        for flag in flags:
            if flag.label is not Label.PASS:
                _log.warning(
                    "evaluator %s flagged handoff %s (%s, %s): %s",
                    flag.name,
                    envelope.handoff_id,
                    envelope.contract,
                    flag.label.value,
                    flag.explanation or "no reason given",
                )
        cursor.flags = flags

    async def _call(
        self, agent: Agent, cursor: _Cursor, context: Context, timeout: float | None
    ) -> Outcome | _Fault:
        """Run the receiver once, within its time limit; its faults come back as values."""
        outcome: object = None
        with anyio.move_on_after(timeout) as limit:
            try:
                if agent.card.threaded:
                    outcome = await anyio.to_thread.run_sync(
                        agent.fn, cursor.payload, context, abandon_on_cancel=True
                    )
                else:
                    outcome = agent.fn(cursor.payload, context)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
                if cursor.traced and isinstance(outcome, HandOff):
                    for output in outcome.tool_outputs:
                        record_tool_call(output.tool, output.call_id, output.isError)
            except Exception as error:  # an agent's bug must not take the runtime down
                return _Fault(
                    "agent_error",
                    _masked(
                        cursor.envelope, f"{agent.name} raised {type(error).__name__}: {error}"
                    ),
                    transient=isinstance(error, _TRANSIENT),
                )
        if limit.cancelled_caught:
            return _Fault(
                "timeout", f"{agent.name} ran past its {timeout:.3g}s time limit", transient=True
            )
        if isinstance(outcome, HandOff | Finish | Escalate):
            return outcome
        kind = "nothing" if outcome is None else f"a {type(outcome).__name__}"
        return _Fault(
            "bad_outcome",
            f"{agent.name} returned {kind}; an agent must return HandOff, Finish or Escalate",
        )

    # -- fan-out (supervisor topology) -----------------------------------------------------

    async def _fan_out(
        self,
        cursor: _Cursor,
        supervisor: Agent,
        legs: Sequence[Leg],
        concurrency: int,
        rerun_failed: bool,
    ) -> list[LegResult]:
        """Run each leg as a child workflow with an id derived from the workflow and hop.

        The derived ids make the fan-out idempotent: when the supervisor's step runs again
        (after a crash, or a replay of its dead letter), finished legs return their recorded
        results instead of running, and only failed ones are replayed on request.
        """
        parent = cursor.envelope.handoff_id
        stem = f"{cursor.workflow.id}.{cursor.envelope.hop}"
        ids = [f"{stem}.{index}" for index in range(len(legs))]
        recorded = any(e.kind == "fanned_out" for e in self.store.entries(handoff_id=parent))
        if not recorded:  # written alone: the supervisor's memory stays with its step
            batch = _Batch(cursor)
            batch.add(parent, "fanned_out", utcnow(), json.dumps({"legs": ids}))
            self.store.apply(Commit(entries=batch.entries, lease=cursor.lease))
            cursor.seq = batch.seq
        results: list[LegResult | None] = [None] * len(legs)
        limiter = anyio.CapacityLimiter(concurrency)

        async def run(index: int) -> None:
            async with limiter:
                results[index] = await self._leg(
                    cursor, supervisor, legs[index], ids[index], rerun_failed
                )

        async with anyio.create_task_group() as group:
            for index in range(len(legs)):
                group.start_soon(run, index)
        return [result for result in results if result is not None]

    async def _leg(
        self, cursor: _Cursor, supervisor: Agent, leg: Leg, workflow_id: str, rerun: bool
    ) -> LegResult:
        record = self.store.get_workflow(workflow_id)
        if record is None:
            try:
                envelope = self.first_envelope(
                    leg.to,
                    jsonable(leg.payload),
                    intent=leg.intent or cursor.envelope.intent.text,
                    constraints=cursor.envelope.constraints,
                    contract=leg.contract,
                    workflow_id=workflow_id,
                ).model_copy(update={"source": self._ref(supervisor)})
                child = await self.start(
                    envelope, name=f"{cursor.workflow.name} / {leg.to}", max_hops=None
                )
            except (HandoffValidationError, RegistryError) as error:
                issues = getattr(error, "issues", (Issue("leg", str(error), "bad_leg"),))
                return LegResult(workflow_id, "rejected", issues=tuple(issues))
            return _leg_result(await self.drive(child, workflow_id))
        if record.status is WorkflowStatus.RUNNING:
            return _leg_result(await self.drive(self.cursor(record), workflow_id))
        done = self.result(workflow_id)
        if rerun and done.status is WorkflowStatus.DEAD_LETTERED and done.dead_letter_id:
            try:
                again = await self.replay(done.dead_letter_id, payload=None, extra_hops=0)
            except HandoffValidationError as error:
                return LegResult(workflow_id, "rejected", issues=error.issues)
            return _leg_result(await self.drive(again, workflow_id))
        return _leg_result(done)

    def _policy(self, cursor: _Cursor) -> FailurePolicy:
        ref = cursor.envelope.contract
        try:
            return self.registry.contract(ref.name, ref.version).policy
        except RegistryError:
            return FailurePolicy()

    def _time_left(self, cursor: _Cursor) -> float | None:
        """Seconds the receiver may run: its contract's timeout, cut by the deadline."""
        limit = self._policy(cursor).timeout
        deadline = cursor.envelope.constraints.deadline
        if deadline is not None:
            left = (deadline - utcnow()).total_seconds()
            limit = left if limit is None else min(limit, left)
        return limit

    def _retry_delay(self, cursor: _Cursor, fault: _Fault, faults: int) -> float | None:
        """How long to wait before re-running the receiver, or None to stop retrying."""
        policy = self._policy(cursor)
        if not fault.transient or faults >= policy.retries:
            return None
        delay = random.uniform(0, min(policy.max_backoff, policy.backoff * 2**faults))
        deadline = cursor.envelope.constraints.deadline
        if deadline is not None and utcnow() + timedelta(seconds=delay) >= deadline:
            return None  # the wait alone would outlast the deadline
        return delay

    def _record_retry(self, cursor: _Cursor, fault: _Fault, attempt: int, delay: float) -> None:
        """A failed attempt, durable before the wait, so a crash mid-backoff loses nothing."""
        if cursor.memory is not None:
            cursor.memory.abandon()
        detail = {
            "attempt": attempt,
            "code": fault.code,
            "message": fault.message,
            "delay": round(delay, 3),
        }
        batch = _Batch(cursor)
        batch.add(cursor.envelope.handoff_id, "retry", utcnow(), json.dumps(detail))
        self._commit(cursor, batch)

    def _next_envelope(
        self, cursor: _Cursor, sender: Agent, route: Route, outcome: HandOff
    ) -> Envelope:
        previous = cursor.envelope
        try:
            payload = jsonable(outcome.payload)
        except ValueError as error:
            raise AgentError(f"{sender.name} sent a payload that is not JSON: {error}") from None
        contract = self.registry.contract(route.contract, route.version)
        try:
            # model_validate over already-typed parts is ~4x cheaper than model_construct
            # and still rejects an agent that passed the wrong types.
            return Envelope.model_validate(
                {
                    "handoff_id": new_id(),
                    "correlation_id": previous.correlation_id,
                    "parent_id": previous.handoff_id,
                    "source": self._ref(sender),
                    "destination": self._ref(self.registry.agent(route.receiver)),
                    "contract": ContractRef(name=route.contract, version=route.version),
                    # A sensitive fact stays masked on later hops, whatever contract they use.
                    "sensitive": _sensitive(contract, previous.facts.keys() & previous.sensitive),
                    "tasks": outcome.task_items() or previous.tasks,
                    "intent": previous.intent,
                    "tool_outputs": tuple(outcome.tool_outputs),
                    "constraints": outcome.constraints or previous.constraints,
                    "facts": previous.facts,
                    "fallback_owner": contract.fallback_owner or previous.fallback_owner,
                    "hop": previous.hop + 1,
                    "created_at": utcnow(),
                    "payload": payload,
                }
            )
        except ValidationError as error:
            raise AgentError(
                f"{sender.name} returned a HandOff with malformed parts: {error}"
            ) from None

    def _check(
        self,
        envelope: Envelope,
        receiver: Agent,
        *,
        intent_sha256: str,
        previous: Envelope | None,
        facts: dict[str, Any],
    ) -> _Checked:
        """Everything a handoff passes before its receiver runs.

        The version the sender emitted is checked against its calendar first (retired:
        rejected; deprecated: noted and warned). A version outside the receiver's range is
        upcast through declared migrations, then the rewritten envelope is validated.
        """
        name = envelope.contract.name
        accepted = receiver.card.accepts.get(name)
        if accepted is None:
            issue = Issue(
                "contract.name",
                f"{receiver.name} does not accept contract {name}",
                "contract_mismatch",
            )
            return _Checked(envelope, [issue])
        try:
            emitted = self.registry.contract(name, envelope.contract.version)
        except RegistryError as error:
            return _Checked(envelope, [Issue("contract.version", str(error), "unknown_version")])
        today = date.today()
        retired = retirement(emitted, accepted, today)
        if retired is not None:
            return _Checked(envelope, [retired])
        checked = _Checked(envelope, [])
        warning = deprecation(emitted, today)
        if warning is not None:
            warnings.warn(warning.message, ContractDeprecationWarning, stacklevel=2)
            detail = {"code": warning.code, "message": warning.message}
            checked.notes.append(("warning", json.dumps(detail)))
        contract = emitted
        path = None
        if not accepted.admits(emitted.version):
            path = self.registry.migration_path(name, emitted.version, accepted)
        if path is not None:
            rewritten = upcast(envelope, emitted, path)
            if isinstance(rewritten, list):
                checked.verdict = rewritten
                return checked
            detail = {
                "from": str(path.source),
                "to": str(path.target),
                "steps": ", ".join(path.describe()),
            }
            checked.notes.append(("upcast", json.dumps(detail)))
            contract = self.registry.contract(name, path.target)
            # Now under the target version: its sensitive fields join the sender's.
            sensitive = _sensitive(contract, rewritten.sensitive)
            checked.envelope = rewritten.model_copy(update={"sensitive": sensitive})
        checked.verdict = check_handoff(
            checked.envelope,
            contract,
            accepted,
            intent_sha256=intent_sha256,
            previous_constraints=previous.constraints if previous else None,
            facts=facts,
        )
        if isinstance(checked.verdict, Accepted):
            checked.envelope = _projected(checked.envelope, checked.verdict.payload)
        return checked

    async def _vet(
        self,
        envelope: Envelope,
        receiver: Agent,
        *,
        intent_sha256: str,
        previous: Envelope | None,
        facts: dict[str, Any],
    ) -> _Checked:
        """The boundary check, then the blocking evaluators: all a handoff passes before
        delivery. Every result is noted for the ledger; a failed blocking evaluator turns
        the verdict into issues, so the handoff walks the failure policy like any other."""
        checked = self._check(
            envelope, receiver, intent_sha256=intent_sha256, previous=previous, facts=facts
        )
        verdict = checked.verdict
        evaluations = boundary(verdict if isinstance(verdict, list) else ())
        if isinstance(verdict, Accepted):
            ref = checked.envelope.contract
            chosen = self._evaluators(ref.name, Mode.BLOCKING)
            if chosen:
                contract = self.registry.contract(ref.name, ref.version)
                ran = await run_evaluators(
                    chosen, Subject(checked.envelope, verdict.payload, contract)
                )
                evaluations = (*evaluations, *ran)
                blocked = blocking_issues(chosen, ran)
                if blocked:
                    checked.verdict = blocked
        checked.evaluations = evaluations
        checked.notes.append(("evaluated", _evaluations_json(evaluations)))
        return checked

    async def _vet_next(self, cursor: _Cursor, envelope: Envelope, receiver: Agent) -> _Checked:
        return await self._vet(
            envelope,
            receiver,
            intent_sha256=cursor.workflow.intent_sha256,
            previous=cursor.envelope,
            facts=cursor.envelope.facts,
        )

    def _commit(
        self,
        cursor: _Cursor,
        batch: _Batch,
        *,
        workflow: WorkflowRecord | None = None,
        letters: list[DeadLetterRecord] | None = None,
        resolved: list[DeadLetterUpdate] | None = None,
        enqueue: str | None = None,
    ) -> None:
        writes, reads = cursor.memory.drain() if cursor.memory is not None else ([], [])
        if cursor.flags:
            batch.add(cursor.envelope.handoff_id, "evaluated", utcnow(), dumps(cursor.flags))
            cursor.flags = []
        self.store.apply(
            Commit(
                workflow=workflow,
                entries=batch.entries,
                dead_letters=letters or [],
                dead_letter_updates=resolved or [],
                artifacts=writes,
                reads=reads,
                lease=cursor.lease,
                enqueue=enqueue,
            )
        )
        cursor.seq = batch.seq

    def _advance(
        self,
        cursor: _Cursor,
        delivered_at: datetime,
        checked: _Checked,
        *,
        inbound: str = "completed",
        note: tuple[str, str] | None = None,
    ) -> _Cursor | _End:
        envelope, accepted = checked.envelope, checked.verdict
        assert isinstance(accepted, Accepted)  # only accepted handoffs advance
        if accepted.facts != envelope.facts:
            envelope = envelope.model_copy(update={"facts": accepted.facts})
        hop = hop_of(envelope)
        if envelope.hop > cursor.workflow.max_hops:
            fault = _Fault(
                "hop_budget",
                f"hop budget of {cursor.workflow.max_hops} spent; "
                "raise max_hops or fix the routing",
            )
            return self._dead_letter_next(cursor, delivered_at, envelope, fault, inbound)
        loop = detect_loop(cursor.trail, hop, bounces=self.bounces)
        if loop is not None:
            return self._dead_letter_next(
                cursor, delivered_at, envelope, _Fault("ping_pong", loop), inbound
            )
        now = utcnow()
        old = cursor.envelope.handoff_id
        batch = _Batch(cursor)
        batch.add(old, "delivered", delivered_at)
        if note is not None:
            batch.add(old, note[0], now, note[1])
        batch.add(old, inbound, now, _handoff_outcome(envelope))
        gated = self._gate(envelope, accepted.payload, cursor.envelope, now)
        if gated is not None:
            batch.propose(envelope, checked.notes, now, verdict=("gated", gated))
            waiting = replace(cursor.workflow, status=WorkflowStatus.WAITING, updated_at=now)
            self._commit(cursor, batch, workflow=waiting)
            return _End(waiting, cursor.delivered)
        batch.propose(envelope, checked.notes, now)
        self._commit(cursor, batch)
        cursor.envelope = envelope
        cursor.payload = accepted.payload
        cursor.memory = None  # the next receiver gets its own handle
        cursor.flags = None  # and its own flagging evaluation
        cursor.trail = [*cursor.trail[-(TRAIL_LENGTH - 1) :], hop]
        return cursor

    def _gate(
        self, envelope: Envelope, payload: BaseModel, previous: Envelope | None, now: datetime
    ) -> str | None:
        """The ``gated`` row's data if this accepted handoff must wait for a person.

        A gate test that raises gates the handoff (failing closed: a consequential handoff
        that cannot be assessed goes to a person, not through), and says so in the summary.
        """
        ref = envelope.contract
        contract = self.registry.contract(ref.name, ref.version)
        gate = self.registry.gate_for(envelope.source.name, envelope.destination.name, contract)
        if gate is None:
            return None
        trouble = None
        try:
            if not gate.applies(payload):
                return None
        except Exception as error:  # the test is user code; its bug must not skip the gate
            trouble = f"The gate's test raised {type(error).__name__}: {error}."
        escalation = self._escalation(envelope)
        data = describe_gate(
            gate,
            contract,
            envelope,
            previous,
            escalation=escalation[0] if escalation else None,
            now=now,
        )
        if trouble is not None:
            data["summary"] += "\n" + _masked(envelope, trouble)
        return json.dumps(data)

    def _record_rejection(
        self, cursor: _Cursor, envelope: Envelope, checked: _Checked, *, retry: bool
    ) -> None:
        """Record a rejected handoff as its sender sent it (before any upcast).

        The dead letter keeps the same envelope, so a fix is written in the sender's
        version and a replay walks the same upcast again.
        """
        now = utcnow()
        if cursor.memory is not None:
            cursor.memory.abandon()
        detail = _issues_json(checked.verdict if isinstance(checked.verdict, list) else [])
        batch = _Batch(cursor)
        batch.propose(envelope, checked.notes, now, verdict=("rejected", detail))
        if retry:
            batch.add(cursor.envelope.handoff_id, "retried", now, detail)
        self._commit(cursor, batch)

    async def _exhausted(
        self,
        cursor: _Cursor,
        delivered_at: datetime,
        envelope: Envelope,
        contract: Contract[Any],
        issues: list[Issue],
    ) -> _Cursor | _End:
        """Sender feedback ran out: the fallback agent, else the dead-letter queue."""
        if cursor.memory is not None:
            cursor.memory.abandon()
        fallback = contract.policy.fallback_agent
        if fallback is not None:
            routed = await self._to_fallback(
                cursor, delivered_at, fallback, envelope, issues, "completed"
            )
            if routed is not None:
                return routed
        fault = _Fault("validation", f"rejected by {contract.ref} after every feedback round")
        return self._dead_letter_next(
            cursor, delivered_at, envelope, fault, "completed", issues, recorded=True
        )

    async def _to_fallback(
        self,
        cursor: _Cursor,
        delivered_at: datetime,
        fallback: str,
        rejected: Envelope,
        issues: list[Issue],
        inbound: str,
    ) -> _Cursor | _End | None:
        """Hand ``rejected`` with its issues to the fallback agent; None if it cannot take it.

        The fallback repairs the payload, so it receives the real values; the wrapper's
        envelope marks them sensitive where they now sit (under ``payload``) for every view.
        """
        if fallback == cursor.envelope.destination.name:
            return None  # the fallback itself failed; going round again would loop
        wrapped = RejectedHandoff.build(
            sender=str(rejected.source),
            receiver=str(rejected.destination),
            contract=str(rejected.contract),
            payload=rejected.payload,
            issues=issues,
        )
        sender = self.registry.agent(cursor.envelope.destination.name)
        outcome = HandOff(to=fallback, payload=wrapped, contract=REJECTED_HANDOFF.name)
        route = Route(fallback, REJECTED_HANDOFF.name, str(REJECTED_HANDOFF.version))
        envelope = self._next_envelope(cursor, sender, route, outcome)
        nested = (f"payload.{name}" for name in rejected.sensitive)
        envelope = envelope.model_copy(update={"sensitive": (*envelope.sensitive, *nested)})
        checked = await self._vet_next(cursor, envelope, self.registry.agent(fallback))
        if not isinstance(checked.verdict, Accepted):
            return None
        note = ("fallback", json.dumps({"to": fallback}))
        return self._advance(cursor, delivered_at, checked, inbound=inbound, note=note)

    async def _fail(self, cursor: _Cursor, delivered_at: datetime, fault: _Fault) -> _Cursor | _End:
        """The receiver failed: its contract's fallback agent, else dead-letter the handoff."""
        if cursor.memory is not None:
            cursor.memory.abandon()
        ref = cursor.envelope.contract
        try:
            fallback = self.registry.contract(ref.name, ref.version).policy.fallback_agent
        except RegistryError:
            fallback = None
        if fallback is not None:
            issues = [Issue("agent", fault.message, fault.code)]
            routed = await self._to_fallback(
                cursor, delivered_at, fallback, cursor.envelope, issues, "failed"
            )
            if routed is not None:
                return routed
        return self._dead_letter_inbound(cursor, delivered_at, fault)

    def _finish(self, cursor: _Cursor, delivered_at: datetime, outcome: Finish) -> _End:
        try:
            result = jsonable(outcome.result)
        except ValueError as error:
            fault = _Fault("bad_outcome", f"the final result is not JSON: {error}")
            return self._dead_letter_inbound(cursor, delivered_at, fault)
        return self._close(
            cursor, delivered_at, WorkflowStatus.COMPLETED, {"kind": "finish", "result": result}
        )

    def _escalate(
        self, cursor: _Cursor, delivered_at: datetime, agent: Agent, outcome: Escalate
    ) -> _End:
        owner = outcome.owner or cursor.envelope.fallback_owner or agent.card.owner
        request = (
            f"To {owner}: workflow {cursor.workflow.id} needs a decision. {agent.name} escalated: "
            f"{outcome.reason}. User intent: {cursor.envelope.intent.text!r}."
        )
        detail = {"kind": "escalate", "owner": owner, "reason": outcome.reason, "request": request}
        return self._close(cursor, delivered_at, WorkflowStatus.ESCALATED, detail)

    def _close(
        self,
        cursor: _Cursor,
        delivered_at: datetime,
        status: WorkflowStatus,
        outcome: dict[str, Any],
    ) -> _End:
        now = utcnow()
        text = json.dumps(outcome)
        hid = cursor.envelope.handoff_id
        workflow = replace(cursor.workflow, status=status, result=text, updated_at=now)
        batch = _Batch(cursor)
        batch.add(hid, "delivered", delivered_at)
        batch.add(hid, "completed", now, text)
        if status is WorkflowStatus.ESCALATED:
            batch.add(hid, "escalated", now, text)
        self._commit(cursor, batch, workflow=workflow)
        return _End(workflow, cursor.delivered)

    # -- dead letters ----------------------------------------------------------------------

    def _dead_letter_next(
        self,
        cursor: _Cursor,
        delivered_at: datetime,
        envelope: Envelope,
        fault: _Fault,
        inbound: str,
        issues: list[Issue] | None = None,
        *,
        recorded: bool = False,
    ) -> _End:
        """Dead-letter the handoff the receiver produced; it is never delivered."""
        now = utcnow()
        old, new = cursor.envelope.handoff_id, envelope.handoff_id
        letter = self._letter(cursor, envelope, fault, issues or [], now)
        batch = _Batch(cursor)
        batch.add(old, "delivered", delivered_at)
        batch.add(old, inbound, now, _handoff_outcome(envelope))
        if not recorded:
            batch.add(new, "proposed", now, envelope.model_dump_json())
        batch.add(new, "dead_lettered", now, json.dumps({"reason": fault.code}))
        workflow = _dead_workflow(cursor.workflow, letter, now, self._escalation(envelope))
        self._commit(cursor, batch, workflow=workflow, letters=[letter])
        return _End(workflow, cursor.delivered)

    def _dead_letter_inbound(self, cursor: _Cursor, delivered_at: datetime, fault: _Fault) -> _End:
        """Dead-letter the handoff being delivered (its receiver failed)."""
        now = utcnow()
        hid = cursor.envelope.handoff_id
        letter = self._letter(
            cursor, cursor.envelope, fault, [Issue("agent", fault.message, fault.code)], now
        )
        batch = _Batch(cursor)
        batch.add(hid, "delivered", delivered_at)
        batch.add(hid, "failed", now, json.dumps({"reason": fault.code, "message": fault.message}))
        batch.add(hid, "dead_lettered", now, json.dumps({"reason": fault.code}))
        workflow = _dead_workflow(cursor.workflow, letter, now, self._escalation(cursor.envelope))
        self._commit(cursor, batch, workflow=workflow, letters=[letter])
        return _End(workflow, cursor.delivered)

    def _escalation(self, envelope: Envelope) -> tuple[str, str] | None:
        """``(owner, intent)`` when the envelope's contract escalates what it dead-letters."""
        ref = envelope.contract
        try:
            contract = self.registry.contract(ref.name, ref.version)
        except RegistryError:
            return None
        if not contract.policy.escalate or contract.fallback_owner is None:
            return None
        return contract.fallback_owner, envelope.intent.text

    def _letter(
        self,
        cursor: _Cursor,
        envelope: Envelope,
        fault: _Fault,
        issues: list[Issue],
        now: datetime,
    ) -> DeadLetterRecord:
        path = [
            view.route
            for view in self.ledger.handoffs(cursor.workflow.id)
            if view.status in (HandoffStatus.COMPLETED, HandoffStatus.FAILED)
            or view.id == cursor.envelope.handoff_id
        ]
        if envelope.handoff_id != cursor.envelope.handoff_id:
            path.append(f"{envelope.source} -> {envelope.destination}")
        return DeadLetterRecord(
            id=envelope.handoff_id,
            correlation_id=cursor.workflow.id,
            reason=fault.code,
            message=fault.message,
            issues=_issues_json(issues),
            envelope=envelope.model_dump_json(),
            path=json.dumps(path),
            status=DeadLetterStatus.OPEN,
            created_at=now,
        )

    async def replay(
        self, dead_letter_id: str, *, payload: dict[str, Any] | None, extra_hops: int
    ) -> _Cursor:
        """Validate a dead letter again (optionally with a fixed payload) and reopen it."""
        letter = self._open_letter(dead_letter_id)
        workflow = self.ledger.workflow(letter.correlation_id)
        entries = self.store.entries(correlation_id=workflow.id)
        old = Envelope.model_validate_json(letter.envelope)
        parent = next((v for v in fold(entries) if v.id == old.parent_id), None)
        previous = parent.envelope if parent else None
        facts = previous.facts if previous else {}
        envelope = old.model_copy(
            update={
                "handoff_id": new_id(),
                "created_at": utcnow(),
                "payload": old.payload if payload is None else payload,
                "facts": facts,
            }
        )
        receiver = self.registry.agent(envelope.destination.name)
        checked = await self._vet(
            envelope,
            receiver,
            intent_sha256=workflow.intent_sha256,
            previous=previous,
            facts=facts,
        )
        if not isinstance(checked.verdict, Accepted):
            raise HandoffValidationError(
                contract=str(checked.envelope.contract),
                issues=checked.verdict,
                handoff_id=dead_letter_id,
            )
        accepted = checked.verdict
        envelope = checked.envelope
        max_hops = workflow.max_hops + extra_hops
        if envelope.hop > max_hops:
            raise HandoffError(
                f"replaying {dead_letter_id} would exceed the hop budget ({envelope.hop} > "
                f"{max_hops}); pass extra_hops (--extra-hops) to grant more",
                handoff_id=dead_letter_id,
            )
        envelope = envelope.model_copy(update={"facts": accepted.facts})
        now = utcnow()
        workflow = replace(
            workflow, status=WorkflowStatus.RUNNING, max_hops=max_hops, result=None, updated_at=now
        )
        cursor = _Cursor(
            workflow,
            envelope,
            accepted.payload,
            [hop_of(envelope)],
            entries[-1].seq + 1,
            sum(1 for e in entries if e.kind == "delivered"),
        )
        gated = self._gate(envelope, accepted.payload, previous, now)
        if gated is not None:  # the fixed handoff goes through its gate again
            cursor.workflow = workflow = replace(workflow, status=WorkflowStatus.WAITING)
        batch = _Batch(cursor)
        batch.add(dead_letter_id, "replayed", now, json.dumps({"as": envelope.handoff_id}))
        batch.propose(envelope, checked.notes, now, verdict=_verdict(gated))
        resolution = DeadLetterUpdate(
            dead_letter_id,
            DeadLetterStatus.REPLAYED,
            now,
            f"replayed as handoff {envelope.handoff_id}",
        )
        self._commit(cursor, batch, workflow=workflow, resolved=[resolution])
        return cursor

    def discard(self, dead_letter_id: str, *, reason: str) -> None:
        """Close a dead letter without replaying it; its workflow ends as discarded."""
        letter = self._open_letter(dead_letter_id)
        workflow = self.ledger.workflow(letter.correlation_id)
        entries = self.store.entries(correlation_id=workflow.id)
        now = utcnow()
        self.store.apply(
            Commit(
                workflow=replace(workflow, status=WorkflowStatus.DISCARDED, updated_at=now)
                if workflow.status is WorkflowStatus.DEAD_LETTERED
                else None,
                entries=[
                    Entry(
                        correlation_id=workflow.id,
                        seq=entries[-1].seq + 1,
                        handoff_id=dead_letter_id,
                        kind="discarded",
                        at=now,
                        data=json.dumps({"reason": reason}),
                    )
                ],
                dead_letter_updates=[
                    DeadLetterUpdate(dead_letter_id, DeadLetterStatus.DISCARDED, now, reason)
                ],
            )
        )

    # -- gates ---------------------------------------------------------------------------

    async def decide(
        self,
        gate_id: str,
        decision: Decision,
        *,
        by: str,
        reason: str | None,
        payload: dict[str, Any] | None,
        queue: bool,
    ) -> _Cursor | RunResult:
        """Record a person's decision on an open gate; the cursor to drive on, or the result.

        Nothing is written unless the whole decision holds: a gate already decided is a
        ConflictError naming who decided it; an edited payload that fails its contract is
        a HandoffValidationError with the issues, and the gate stays open.
        """
        if not by.strip():
            raise ConfigurationError("say who decides (by is empty): decisions are audited")
        view, gate = open_gate(self.ledger, gate_id)
        if not gate.is_open:
            who = f" by {gate.decided_by}" if gate.decided_by else ""
            raise ConflictError(
                f"gate {gate_id} was already {gate.status}{who} at "
                f"{gate.decided_at:%Y-%m-%d %H:%M:%S} UTC; nothing changed"
            )
        workflow = self.ledger.workflow(view.correlation_id)
        entries = self.store.entries(correlation_id=workflow.id)
        views = fold(entries)
        envelope = view.envelope
        cursor = _Cursor(
            workflow,
            envelope,
            None,
            _trail(entries, views),
            entries[-1].seq + 1,
            sum(1 for e in entries if e.kind == "delivered"),
        )
        now = utcnow()
        said = {"by": by} | ({"reason": reason} if reason else {})
        batch = _Batch(cursor)
        if decision is Decision.REJECT:
            if not reason or not reason.strip():
                raise ConfigurationError("a rejection needs a reason: the sender's owner reads it")
            issue = Issue("gate", f"rejected at its gate by {by}: {reason}", "gate_rejected")
            batch.add(gate_id, "declined", now, json.dumps(said))
            routed = await self._declined_to_fallback(cursor, batch, issue, queue=queue)
            if routed is not None:
                return routed
            fault = _Fault("gate_rejected", issue.message)
            letter = self._letter(cursor, envelope, fault, [issue], now)
            batch.add(gate_id, "dead_lettered", now, json.dumps({"reason": fault.code}))
            dead = _dead_workflow(workflow, letter, now, self._escalation(envelope))
            self._commit(cursor, batch, workflow=dead, letters=[letter])
            return _result(dead, cursor.delivered)
        if decision is Decision.EDIT:
            if payload is None:
                raise ConfigurationError("an edit needs the edited payload")
            envelope = await self._edited(view, workflow, envelope, payload, by, said, batch)
        else:
            batch.add(gate_id, "approved", now, json.dumps(said))
        running = replace(workflow, status=WorkflowStatus.RUNNING, updated_at=now)
        queued = envelope.destination.name if queue else None
        self._commit(cursor, batch, workflow=running, enqueue=queued)
        contract = self.registry.contract(envelope.contract.name, envelope.contract.version)
        cursor.workflow, cursor.envelope = running, envelope
        cursor.payload = contract.model.model_validate(envelope.payload)
        return _result(running, cursor.delivered) if queue else cursor

    async def _declined_to_fallback(
        self, cursor: _Cursor, batch: _Batch, issue: Issue, *, queue: bool
    ) -> _Cursor | RunResult | None:
        """A rejected gate walks its contract's failure policy: the fallback agent gets the
        rejected handoff (as for a validation failure) when there is one that can take it;
        None leaves the dead-letter queue to the caller."""
        gated = cursor.envelope
        contract = self.registry.contract(gated.contract.name, gated.contract.version)
        fallback = contract.policy.fallback_agent
        if fallback is None or fallback == gated.destination.name:
            return None
        wrapped = RejectedHandoff.build(
            sender=str(gated.source),
            receiver=str(gated.destination),
            contract=str(gated.contract),
            payload=gated.payload,
            issues=[issue],
        )
        outcome = HandOff(to=fallback, payload=wrapped, contract=REJECTED_HANDOFF.name)
        route = Route(fallback, REJECTED_HANDOFF.name, str(REJECTED_HANDOFF.version))
        sender = self.registry.agent(gated.source.name) if gated.source != EXTERNAL else None
        if sender is None:
            return None  # the first handoff has no sending agent to hand on for
        envelope = self._next_envelope(cursor, sender, route, outcome)
        nested = (f"payload.{name}" for name in gated.sensitive)
        envelope = envelope.model_copy(update={"sensitive": (*envelope.sensitive, *nested)})
        checked = await self._vet_next(cursor, envelope, self.registry.agent(fallback))
        if not isinstance(checked.verdict, Accepted):
            return None
        now = utcnow()
        batch.add(gated.handoff_id, "fallback", now, json.dumps({"to": fallback}))
        batch.propose(checked.envelope, checked.notes, now)
        running = replace(cursor.workflow, status=WorkflowStatus.RUNNING, updated_at=now)
        self._commit(cursor, batch, workflow=running, enqueue=fallback if queue else None)
        cursor.workflow, cursor.envelope = running, checked.envelope
        cursor.payload = checked.verdict.payload
        return _result(running, cursor.delivered) if queue else cursor

    async def _edited(
        self,
        view: HandoffView,
        workflow: WorkflowRecord,
        envelope: Envelope,
        payload: dict[str, Any],
        by: str,
        said: dict[str, str],
        batch: _Batch,
    ) -> Envelope:
        """Validate a person's edit like any handoff (schema, intent, constraints,
        evaluators) and add its rows to ``batch``; the new envelope carries on.

        The editor may change tracked facts (that is often the point: a lower refund), so
        facts are not compared; the edit row keeps the diff and who made it.
        """
        parent = next(
            (v.envelope for v in self.ledger.handoffs(workflow.id) if v.id == envelope.parent_id),
            None,
        )
        edited = envelope.model_copy(
            update={"handoff_id": new_id(), "created_at": utcnow(), "payload": payload}
        )
        receiver = self.registry.agent(edited.destination.name)
        checked = await self._vet(
            edited, receiver, intent_sha256=workflow.intent_sha256, previous=parent, facts={}
        )
        if not isinstance(checked.verdict, Accepted):
            raise HandoffValidationError(
                contract=str(checked.envelope.contract),
                issues=checked.verdict,
                handoff_id=view.id,
            )
        facts = {**envelope.facts, **checked.verdict.facts}
        edited = checked.envelope.model_copy(update={"facts": facts})
        diff = payload_diff(
            mask_payload(envelope.payload, envelope.sensitive),
            mask_payload(edited.payload, edited.sensitive),
        )
        at = utcnow()
        batch.add(view.id, "edited", at, json.dumps(said | {"as": edited.handoff_id, "diff": diff}))
        batch.propose(edited, checked.notes, at, verdict=("approved", json.dumps(said)))
        return edited

    def escalate_gates(self, now: datetime | None = None) -> list[str]:
        """Escalate every open gate past its deadline to its contract's fallback owner
        (once each); the gates escalated."""
        now = now or utcnow()
        escalated = []
        for gate in list_gates(self.ledger, status="open", limit=1_000_000):
            if gate.deadline is None or gate.deadline > now or gate.escalated_to is not None:
                continue
            view = self.ledger.handoff(gate.id)
            data = json.loads(next(e.data for e in view.entries if e.kind == "gated") or "{}")
            to = data.get("fallback_owner") or gate.owner
            last = self.store.entries(correlation_id=gate.workflow_id)[-1].seq
            row = Entry(
                correlation_id=gate.workflow_id,
                seq=last + 1,
                handoff_id=gate.id,
                kind="gate_escalated",
                at=now,
                data=json.dumps({"to": to, "deadline": gate.deadline.isoformat()}),
            )
            try:
                self.store.apply(Commit(entries=[row]))
            except ConflictError:
                continue  # decided (or escalated) meanwhile
            escalated.append(gate.id)
        return escalated

    def _open_letter(self, dead_letter_id: str) -> DeadLetterRecord:
        letter = self.ledger.dead_letter(dead_letter_id)
        if letter.status is not DeadLetterStatus.OPEN:
            raise ConflictError(
                f"dead letter {dead_letter_id} is already {letter.status.value}; "
                "only open dead letters can be replayed or discarded"
            )
        return letter


def _result(workflow: WorkflowRecord, delivered: int) -> RunResult:
    outcome = json.loads(workflow.result) if workflow.result else {}
    return RunResult(
        workflow_id=workflow.id,
        status=workflow.status,
        result=outcome.get("result") if outcome.get("kind") == "finish" else outcome or None,
        handoffs=delivered,
        dead_letter_id=outcome.get("dead_letter_id"),
    )


def _dead_workflow(
    workflow: WorkflowRecord,
    letter: DeadLetterRecord,
    now: datetime,
    escalation: tuple[str, str] | None,
) -> WorkflowRecord:
    outcome = {
        "kind": "dead_letter",
        "dead_letter_id": letter.id,
        "reason": letter.reason,
        "message": letter.message,
    }
    status = WorkflowStatus.DEAD_LETTERED
    if escalation is not None:
        owner, intent = escalation
        status = WorkflowStatus.ESCALATED
        outcome |= {
            "kind": "escalate",
            "owner": owner,
            "request": (
                f"To {owner}: workflow {workflow.id} could not proceed: {letter.message} "
                f"({letter.reason}). User intent: {intent!r}. The handoff is kept whole as "
                f"dead letter {letter.id}: inspect it with `seamline dlq show {letter.id}`, "
                f"fix and `seamline dlq replay {letter.id} --payload fixed.json`, or "
                f"`seamline dlq discard {letter.id} --reason TEXT`."
            ),
        }
    return replace(workflow, status=status, result=json.dumps(outcome), updated_at=now)


def _trail(entries: list[Entry], views: list[HandoffView]) -> list[Hop]:
    """Loop-detection memory rebuilt from the log: validated hops since the last replay."""
    replayed = max((e.seq for e in entries if e.kind == "replayed"), default=0)
    kept = [
        view
        for view in views
        if view.entries[0].seq > replayed
        and view.status in (HandoffStatus.VALIDATED, HandoffStatus.COMPLETED, HandoffStatus.FAILED)
    ]
    return [hop_of(view.envelope) for view in kept[-TRAIL_LENGTH:]]


@lru_cache(maxsize=256)
def _evaluations_json(evaluations: tuple[Evaluation, ...]) -> str:
    """The ledger row for a handoff's evaluations; cached, most handoffs pass alike."""
    return dumps(evaluations)


def _verdict(gated: str | None) -> tuple[str, str | None]:
    """The row that ends a new handoff's proposal: ``gated`` (with the gate) or ``validated``."""
    return ("gated", gated) if gated is not None else ("validated", None)


def _masked(envelope: Envelope, message: str) -> str:
    """An agent's error text goes into the ledger, dead letters and every view: any
    sensitive value of the handoff it was working on that the text quotes is masked."""
    return redact(message, envelope.payload, envelope.sensitive) if envelope.sensitive else message


def _sensitive(contract: Contract[Any], carried: Iterable[str] = ()) -> tuple[str, ...]:
    """What an envelope under ``contract`` masks: its sensitive fields and ``carried`` ones."""
    return tuple(sorted(contract.sensitive.union(carried)))


def _handoff_outcome(envelope: Envelope) -> str:
    outcome = {
        "kind": "handoff",
        "handoff_id": envelope.handoff_id,
        "to": str(envelope.destination),
    }
    return to_json(outcome).decode()


def _projected(envelope: Envelope, payload: BaseModel) -> Envelope:
    """The envelope with only the payload fields the receiver's contract declares.

    Minimum necessary context: whatever else a sender put in the payload is not handed on
    (nor recorded as delivered); a rejected handoff keeps it, for diagnosis.
    """
    declared = type(payload).model_fields
    if all(name in declared for name in envelope.payload):
        return envelope
    kept = {name: value for name, value in envelope.payload.items() if name in declared}
    return envelope.model_copy(update={"payload": kept})


def _leg_result(result: RunResult) -> LegResult:
    return LegResult(
        result.workflow_id,
        result.status.value,
        result.result if result.status is WorkflowStatus.COMPLETED else None,
        result.dead_letter_id,
    )
