"""Workers: processes on any number of machines driving queued workflows from one store.

PostgreSQL is the distributed engine; a worker is a loop around it. It claims the
longest-waiting workflow whose open handoff is for an agent it runs (``FOR UPDATE SKIP
LOCKED``, under a lease), drives it step by step with every commit fenced by the lease
token, and releases it after ``steps_per_claim`` steps, or when it is told to stop. A
worker that dies holds its lease until it expires; any live worker then reaps it back onto
the queue, and whoever claims it next resumes from the last committed step. Exactly-once
recorded effects come from the ledger, not from the lease: a step's completion, the next
handoff and its idempotency key are one transaction, and a late writer collides on the
log key even if its fence somehow passed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass

import anyio

from seamline.exceptions import ConfigurationError, ConflictError, StoreError
from seamline.runtime._engine import Engine, _Cursor
from seamline.stores import Lease, WorkflowStatus, WorkQueue

__all__ = ["Worker", "WorkerStats"]

_log = logging.getLogger("seamline.worker")


@dataclass(slots=True)
class WorkerStats:
    """What one worker did, for its exit line and for tests."""

    claimed: int = 0
    """Leases taken."""
    handoffs: int = 0
    """Handoffs delivered to receivers under this worker's leases."""
    finished: int = 0
    """Workflows this worker drove to their end (completed, escalated, dead-lettered)."""
    released: int = 0
    """Leases given back with the workflow still running (yielding, or stopping)."""
    lost: int = 0
    """Leases lost mid-workflow (expired and reclaimed): the step was not recorded."""
    reaped: int = 0
    """Expired leases of other workers this one returned to the queue."""


class Worker:
    """Claims queued workflows from a shared store and drives them.

    Args:
        engine: the runtime's engine (``Runtime.worker()`` builds a Worker).
        store: a WorkQueue store (PostgresStore), shared by every worker.
        agents: the agents this worker can run; it claims only handoffs for them.
        name: how leases name their holder (default ``host:pid``).
        lease_seconds: how long a lease lasts without a commit or a heartbeat; a dead
            worker's workflows wait this long before another takes them.
        poll_seconds: the longest an idle worker sleeps before looking again (it is woken
            sooner by a notification when work is queued).
        steps_per_claim: steps driven under one claim before the workflow is handed back,
            so one long workflow cannot hold a worker while others wait.
    """

    def __init__(
        self,
        engine: Engine,
        store: WorkQueue,
        agents: list[str],
        *,
        name: str | None = None,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        steps_per_claim: int = 100,
    ) -> None:
        if not lease_seconds > 0 or not poll_seconds > 0:
            raise ConfigurationError(
                f"lease ({lease_seconds}) and poll ({poll_seconds}) must be positive seconds"
            )
        if steps_per_claim < 1:
            raise ConfigurationError(f"steps_per_claim must be at least 1, got {steps_per_claim}")
        if not agents:
            raise ConfigurationError("this worker's registry has no agents, so it can run nothing")
        self.engine = engine
        self.store = store
        self.agents = agents
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.steps_per_claim = steps_per_claim
        self.stats = WorkerStats()
        self._stopping = False

    def stop(self) -> None:
        """Stop after the step in flight, handing its workflow back.

        Safe to call from a signal handler: it only sets a flag, which the worker reads
        between steps (a sync agent holds the event loop, so a signal cannot reach an async
        task until the step is over, and the workflow's next step would already be running).
        """
        self._stopping = True

    async def run(
        self,
        stop: anyio.Event | None = None,
        *,
        idle_exit: float | None = None,
        max_workflows: int | None = None,
    ) -> WorkerStats:
        """Claim and drive until ``stop`` is set (after the step in flight, whose lease is
        then released), after ``idle_exit`` seconds without work, or after
        ``max_workflows`` claims."""
        stop = stop or anyio.Event()
        reaped_at = 0.0
        idle_since = time.monotonic()
        while not (stop.is_set() or self._stopping):
            if max_workflows is not None and self.stats.claimed >= max_workflows:
                break
            try:
                if time.monotonic() - reaped_at > self.lease_seconds / 2:
                    self.stats.reaped += len(self.store.reap())
                    reaped_at = time.monotonic()
                lease = self.store.claim(self.name, self.agents, self.lease_seconds)
                if lease is not None:
                    self.stats.claimed += 1
                    await self._drive(lease, stop)
                    idle_since = time.monotonic()
                    continue
            except StoreError as error:
                # The server is away or the connection dropped: whatever this worker held
                # expires and is reaped; keep trying at the poll interval.
                _log.warning("%s: %s; retrying in %gs", self.name, error, self.poll_seconds)
            if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                break
            await _first_of(stop, self.store, self.poll_seconds)
        return self.stats

    async def _drive(self, lease: Lease, stop: anyio.Event) -> None:
        workflow = self.store.get_workflow(lease.workflow_id)
        cursor = self.engine.cursor(workflow) if workflow is not None else None
        if cursor is None:  # it ended meanwhile (or its open handoff could not be read)
            return
        cursor.lease = lease
        first = cursor.delivered

        def enough() -> bool:
            return (
                stop.is_set() or self._stopping or cursor.delivered - first >= self.steps_per_claim
            )

        lost = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(self._heartbeat, cursor, lost, group.cancel_scope)
            try:
                result = await self.engine.drive(cursor, lease.workflow_id, until=enough)
            except ConflictError as error:
                # Lost the lease (or a late writer's step collided): nothing was recorded
                # for the step in flight, and another worker carries the workflow on.
                self.stats.lost += 1
                _log.warning("%s gave up workflow %s: %s", self.name, lease.workflow_id, error)
                return
            finally:
                self.stats.handoffs += cursor.delivered - first
                group.cancel_scope.cancel()
        if lost.is_set():
            self.stats.lost += 1  # the heartbeat found the lease gone and stopped the step
            return
        if result.status is WorkflowStatus.RUNNING:
            self.store.release(cursor.lease, cursor.envelope.destination.name)
            self.stats.released += 1
        else:
            self.stats.finished += 1

    async def _heartbeat(
        self, cursor: _Cursor, lost: anyio.Event, scope: anyio.CancelScope
    ) -> None:
        """Renew the lease while a long step runs; if it is gone, stop driving at once."""
        while True:
            await anyio.sleep(self.lease_seconds / 3)
            assert cursor.lease is not None
            try:
                cursor.lease = self.store.renew(cursor.lease)
            except ConflictError:
                lost.set()
                scope.cancel()
                return
            except StoreError as error:  # the server is away: the next commit will tell
                _log.warning("%s could not renew its lease: %s", self.name, error)


async def _first_of(stop: anyio.Event, store: WorkQueue, timeout: float) -> None:
    """Return when work is announced or ``stop`` is set, whichever comes first."""
    async with anyio.create_task_group() as group:

        async def notified() -> None:
            await anyio.to_thread.run_sync(store.wait_for_work, timeout, abandon_on_cancel=True)
            group.cancel_scope.cancel()

        async def stopped() -> None:
            await stop.wait()
            group.cancel_scope.cancel()

        group.start_soon(notified)
        group.start_soon(stopped)
