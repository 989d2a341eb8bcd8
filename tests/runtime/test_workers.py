"""Workers on PostgreSQL: claims, leases and their fence, the reaper, notifications, and
shutdown, on the real server, in-process and as `seamline worker` subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import gate_fixture
import psycopg
import pytest
import worker_app
from chain_fixtures import ORDER, ORDER_1, Order, chain, relay

from seamline import (
    ConfigurationError,
    ConflictError,
    Context,
    HandOff,
    HandoffValidationError,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.exceptions import StoreError
from seamline.stores import Commit, Entry, Lease, PostgresStore, WorkflowStatus
from seamline.stores.postgres import _CLAIM
from seamline.types import utcnow

HERE = Path(__file__).parent


def submit(runtime: Runtime, count: int = 1, entry: str = "a0") -> list[str]:
    """Queue ``count`` workflows at ``entry``."""

    async def main() -> list[str]:
        return [await runtime.submit(entry, ORDER_1, intent="refund") for _ in range(count)]

    return anyio.run(main)


def queue(store: PostgresStore) -> list[tuple[Any, ...]]:
    """The work table: (workflow, agent, leased?) rows."""
    return [
        tuple(row)
        for row in store._query(
            "SELECT workflow_id, agent, lease_token IS NOT NULL FROM work ORDER BY ready_at"
        )
    ]


def completions(store: PostgresStore, workflow_id: str) -> dict[str, int]:
    """How many ``completed`` rows each handoff of the workflow has."""
    counts: dict[str, int] = {}
    for entry in store.entries(correlation_id=workflow_id):
        if entry.kind == "completed":
            counts[entry.handoff_id] = counts.get(entry.handoff_id, 0) + 1
    return counts


@pytest.fixture
def other(pg_url: str, pg_store: PostgresStore) -> Iterator[PostgresStore]:
    """A second store on the same schema: another machine's view of it."""
    store = PostgresStore(pg_url, schema=pg_store.schema)
    yield store
    store.close()


def test_a_worker_runs_submitted_workflows_and_empties_the_queue(pg_store: PostgresStore) -> None:
    """Submitted workflows wait on the queue; a worker drives each to its end, and the
    commit that ends one takes it off the queue."""
    runtime = Runtime(Registry(agents=chain(3), contracts=[ORDER]), pg_store)
    ids = submit(runtime, 3)
    assert [(agent, leased) for _, agent, leased in queue(pg_store)] == [("a0", False)] * 3
    assert all(runtime.result(i).status is WorkflowStatus.RUNNING for i in ids)
    stats = anyio.run(lambda: runtime.worker(poll_seconds=0.05).run(idle_exit=0.2))
    assert (stats.claimed, stats.finished, stats.handoffs, stats.lost) == (3, 3, 9, 0)
    for workflow_id in ids:
        result = runtime.result(workflow_id)
        assert result.status is WorkflowStatus.COMPLETED and result.result["steps"] == 2
        assert set(completions(pg_store, workflow_id).values()) == {1}
    assert queue(pg_store) == []


def test_submit_needs_a_shared_store(tmp_path: Path) -> None:
    """On SQLite there is nobody to share a queue with: a clear error, nothing stored."""
    store = SqliteStore(tmp_path / "l.db")
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), store)
    with pytest.raises(ConfigurationError, match="Open a PostgresStore"):
        submit(runtime)
    with pytest.raises(ConfigurationError, match="Open a PostgresStore"):
        runtime.worker()
    assert store.list_workflows() == []


def test_an_invalid_first_payload_is_refused_and_nothing_is_queued(
    pg_store: PostgresStore,
) -> None:
    """Validation happens at submit time, before anything reaches the queue."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), pg_store)

    async def main() -> None:
        await runtime.submit("a0", {"order_id": "nope"}, intent="refund")

    with pytest.raises(HandoffValidationError, match="order_id"):
        anyio.run(main)
    assert queue(pg_store) == [] and pg_store.list_workflows() == []


def test_concurrent_claims_skip_each_others_rows(
    pg_store: PostgresStore, other: PostgresStore
) -> None:
    """Two machines claim at once and get different workflows; a third claim finds none."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), pg_store)
    submit(runtime, 2)
    with psycopg.connect(pg_store._conninfo, autocommit=True) as holder:
        # Hold the oldest row locked, as a claim in flight would: the next claim skips it
        # instead of waiting.
        holder.execute("BEGIN")
        held = holder.execute(
            "SELECT workflow_id FROM work ORDER BY ready_at LIMIT 1 FOR UPDATE"
        ).fetchone()
        started = time.monotonic()
        first = other.claim("machine-b", ["a0"], 30)
        assert time.monotonic() - started < 2
        assert first is not None and held is not None and first.workflow_id != held[0]
        holder.execute("ROLLBACK")
    second = pg_store.claim("machine-a", ["a0"], 30)
    assert second is not None and second.workflow_id == held[0]
    assert pg_store.claim("machine-a", ["a0"], 30) is None
    assert other.claim("machine-b", ["a0", "a1"], 30) is None


def test_a_lost_lease_fences_late_writes(pg_store: PostgresStore, other: PostgresStore) -> None:
    """After a lease expires and is reaped and reclaimed, its old holder can neither commit
    nor renew; the new holder can, and its commit renews the lease."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), pg_store)
    [workflow_id] = submit(runtime)
    stale = pg_store.claim("slow", ["a0"], 0.2)
    assert stale is not None
    time.sleep(0.4)
    assert other.reap() == [workflow_id]
    fresh = other.claim("fast", ["a0"], 30)
    assert fresh is not None and fresh.workflow_id == workflow_id
    before = pg_store.entries(correlation_id=workflow_id)

    def row(seq: int) -> Entry:
        return Entry(
            correlation_id=workflow_id, seq=seq, handoff_id="h-x", kind="retry", at=utcnow()
        )

    next_seq = before[-1].seq + 1
    with pytest.raises(ConflictError, match=r"lease of slow on workflow \S+ was lost"):
        pg_store.apply(Commit(entries=[row(next_seq)], lease=stale))
    with pytest.raises(ConflictError, match="was lost"):
        pg_store.renew(stale)
    assert pg_store.entries(correlation_id=workflow_id) == before
    other.apply(Commit(entries=[row(next_seq)], lease=fresh))
    renewed = other.renew(fresh)
    assert renewed.expires_at >= fresh.expires_at
    assert len(pg_store.entries(correlation_id=workflow_id)) == len(before) + 1


def test_a_worker_that_loses_its_lease_mid_step_records_nothing(
    pg_store: PostgresStore, other: PostgresStore
) -> None:
    """While a0 works, its lease is stolen (expired, reaped, claimed elsewhere). The step's
    commit is refused; the new holder runs a0 again and every handoff completes once."""
    stolen: list[str] = []

    @agent(name="a0", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
    def a0(order: Order, ctx: Context) -> Outcome:
        if not stolen:
            workflow = ctx.envelope.correlation_id
            other._query(
                "UPDATE work SET lease_expires_at = now() - interval '1 second' "
                "WHERE workflow_id = %s RETURNING 1",
                [workflow],
            )
            other.reap()
            lease = other.claim("thief", ["a0"], 30)
            assert lease is not None
            stolen.append(lease.token)
            other.release(lease, "a0")
        return HandOff(to="a1", payload=order)

    runtime = Runtime(Registry(agents=[a0, relay("a1", None)], contracts=[ORDER]), pg_store)
    [workflow_id] = submit(runtime)
    stats = anyio.run(lambda: runtime.worker(poll_seconds=0.05).run(idle_exit=0.3))
    assert stats.lost == 1 and stats.finished == 1
    assert runtime.result(workflow_id).status is WorkflowStatus.COMPLETED
    assert set(completions(pg_store, workflow_id).values()) == {1}
    assert queue(pg_store) == []


def test_the_claim_query_uses_the_partial_index(pg_store: PostgresStore) -> None:
    """EXPLAIN of the claim on a queue of 20,000 rows (most of them leased) reads the
    partial index of waiting rows, not the table."""
    with psycopg.connect(pg_store._conninfo, autocommit=True) as db:
        db.execute(
            "INSERT INTO workflows SELECT 'w' || n, 'bench', 'running', 'a0', '', 10, NULL, "
            "NULL, now(), now() FROM generate_series(1, 20000) n"
        )
        db.execute(
            "INSERT INTO work SELECT 'w' || n, 'a' || (n % 5), now() - n * interval '1 ms', "
            "CASE WHEN n % 10 = 0 THEN NULL ELSE 'token' END, NULL, NULL "
            "FROM generate_series(1, 20000) n"
        )
        db.execute("ANALYZE work")
        plan = "\n".join(
            str(row[0])
            for row in db.execute(f"EXPLAIN {_CLAIM}", ["t", "owner", 30, ["a1", "a2"]]).fetchall()
        )
    assert "work_ready" in plan, plan
    assert "Seq Scan on work" not in plan, plan


def test_the_reaper_returns_only_expired_leases(pg_store: PostgresStore) -> None:
    """Expired leases go back to the queue; live ones stay with their holders."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), pg_store)
    submit(runtime, 2)
    short = pg_store.claim("dying", ["a0"], 0.1)
    long = pg_store.claim("alive", ["a0"], 60)
    assert short is not None and long is not None
    time.sleep(0.3)
    assert pg_store.reap() == [short.workflow_id]
    assert sorted(queue(pg_store), key=lambda r: r[0] != short.workflow_id) == [
        (short.workflow_id, "a0", False),
        (long.workflow_id, "a0", True),
    ]


def test_steps_per_claim_hands_the_workflow_back_between_steps(pg_store: PostgresStore) -> None:
    """With one step per claim, each step is a claim of its own; the workflow still ends."""
    runtime = Runtime(Registry(agents=chain(3), contracts=[ORDER]), pg_store)
    [workflow_id] = submit(runtime)
    stats = anyio.run(
        lambda: runtime.worker(poll_seconds=0.05, steps_per_claim=1).run(idle_exit=0.3)
    )
    assert (stats.claimed, stats.released, stats.finished) == (3, 2, 1)
    assert runtime.result(workflow_id).status is WorkflowStatus.COMPLETED


def test_a_worker_claims_only_handoffs_for_agents_it_runs(pg_store: PostgresStore) -> None:
    """A worker without the b-agents leaves the b-workflow queued for one that has them."""
    everything = Registry(
        agents=[*chain(2), relay("b0", "b1"), relay("b1", None)], contracts=[ORDER]
    )
    runtime = Runtime(everything, pg_store)
    [a_flow] = submit(runtime, entry="a0")
    [b_flow] = submit(runtime, entry="b0")
    only_a = Runtime(Registry(agents=chain(2), contracts=[ORDER]), pg_store)
    stats = anyio.run(lambda: only_a.worker(poll_seconds=0.05).run(idle_exit=0.2))
    assert stats.finished == 1
    assert runtime.result(a_flow).status is WorkflowStatus.COMPLETED
    assert runtime.result(b_flow).status is WorkflowStatus.RUNNING
    assert queue(pg_store) == [(b_flow, "b0", False)]


def test_an_idle_worker_is_woken_by_the_submit(pg_store: PostgresStore) -> None:
    """Polling every 30 s, a worker still picks up new work at once: the submit notifies."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), pg_store)
    finished: list[float] = []

    async def main() -> None:
        stop = anyio.Event()
        running = runtime.worker(poll_seconds=30)
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: running.run(stop))
            await anyio.sleep(0.5)  # the worker found nothing and waits
            started = time.monotonic()
            workflow_id = await runtime.submit("a0", ORDER_1, intent="refund")
            while runtime.result(workflow_id).status is WorkflowStatus.RUNNING:
                await anyio.sleep(0.02)
                assert time.monotonic() - started < 10
            finished.append(time.monotonic() - started)
            stop.set()

    anyio.run(main)
    assert finished[0] < 5


def worker_process(url: str, *args: str, **env: str) -> subprocess.Popen[str]:
    """`seamline worker` in a subprocess on ``url`` with the chain of worker_app."""
    return subprocess.Popen(
        [sys.executable, "-m", "seamline", "worker", "--store", url,
         "--app", "worker_app:registry", "--poll", "0.1", *args],
        env={**os.environ, "PYTHONPATH": str(HERE), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def test_sigterm_finishes_the_step_in_flight_and_hands_back(
    pg_url: str, pg_store: PostgresStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM while a0 sleeps: a0's step is recorded, the lease released for a1, exit 0."""
    monkeypatch.setenv("SEAMLINE_TEST_SLOW", "1")
    runtime = Runtime(worker_app.registry(), pg_store)
    [workflow_id] = submit(runtime)
    marker = tmp_path / "started"
    url = f"{pg_url}?schema={pg_store.schema}"
    process = worker_process(url, SEAMLINE_TEST_SLOW="1", SEAMLINE_TEST_MARKER=str(marker))
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "SIGTERM: finished the step in flight" in out and "1 handed back" in out
    assert runtime.result(workflow_id).status is WorkflowStatus.RUNNING
    kinds = [e.kind for e in pg_store.entries(correlation_id=workflow_id)]
    assert kinds.count("completed") == 1  # a0's step, not a1's
    assert queue(pg_store) == [(workflow_id, "a1", False)]


def test_worker_command_bad_inputs(pg_url: str, pg_store: PostgresStore, tmp_path: Path) -> None:
    """A SQLite store, an app that cannot be imported: one clear line each, exit 1."""
    sqlite = tmp_path / "l.db"
    SqliteStore(sqlite).close()
    url = f"{pg_url}?schema={pg_store.schema}"
    cases = [
        (str(sqlite), "worker_app:registry", "need a store every worker shares"),
        (url, "worker_app_missing:registry", "cannot import 'worker_app_missing'"),
    ]
    for store, app, message in cases:
        done = subprocess.run(
            [sys.executable, "-m", "seamline", "worker", "--store", store, "--app", app],
            env={**os.environ, "PYTHONPATH": str(HERE)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done.stdout
        assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_worker_finds_its_agents_through_the_project_file(
    pg_url: str, pg_store: PostgresStore, tmp_path: Path
) -> None:
    """`seamline worker --project seamline.toml` imports the registry the file names."""
    runtime = Runtime(worker_app.registry(), pg_store)
    [workflow_id] = submit(runtime)
    project = tmp_path / "seamline.toml"
    project.write_text('[project]\nname = "workers"\napp = "worker_app:registry"\n')
    done = subprocess.run(
        [sys.executable, "-m", "seamline", "worker", "--project", str(project),
         "--store", f"{pg_url}?schema={pg_store.schema}", "--idle-exit", "0.3", "--poll", "0.1"],
        env={**os.environ, "PYTHONPATH": str(HERE)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 claimed, 4 handoffs, 1 finished" in done.stdout
    assert runtime.result(workflow_id).status is WorkflowStatus.COMPLETED


def test_a_decided_gate_goes_back_to_the_workers(pg_store: PostgresStore) -> None:
    """A queued workflow that stops at a gate leaves the queue; approved with queue=True it
    is queued again for its receiver, and a worker finishes it."""
    runtime = Runtime(gate_fixture.registry(), pg_store)
    [workflow_id] = submit(runtime)
    anyio.run(lambda: runtime.worker(poll_seconds=0.05).run(idle_exit=0.2))
    assert runtime.result(workflow_id).status is WorkflowStatus.WAITING
    assert queue(pg_store) == []
    [gate] = runtime.gates()
    decided = anyio.run(lambda: runtime.decide(gate.id, "approve", by="alice", queue=True))
    assert decided.status is WorkflowStatus.RUNNING
    assert queue(pg_store) == [(workflow_id, "a1", False)]
    anyio.run(lambda: runtime.worker(poll_seconds=0.05).run(idle_exit=0.2))
    assert runtime.result(workflow_id).status is WorkflowStatus.COMPLETED


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lease_seconds": 0}, "must be positive seconds"),
        ({"poll_seconds": -1}, "must be positive seconds"),
        ({"steps_per_claim": 0}, "steps_per_claim must be at least 1"),
    ],
)
def test_bad_worker_settings_are_refused(
    pg_store: PostgresStore, options: dict[str, Any], message: str
) -> None:
    """Each setting that could not work says so when the worker is built."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), pg_store)
    with pytest.raises(ConfigurationError, match=message):
        runtime.worker(**options)


def test_sqlite_refuses_leases_and_queueing(tmp_path: Path) -> None:
    """A commit carrying a lease or a queue entry is refused whole by SQLite."""
    store = SqliteStore(tmp_path / "l.db")
    lease = Lease("wf-1", "t", "w", "a0", 30, utcnow())
    row = Entry(correlation_id="wf-1", seq=1, handoff_id="h", kind="retry", at=utcnow())
    for commit in (Commit(entries=[row], lease=lease), Commit(entries=[row], enqueue="a0")):
        with pytest.raises(StoreError, match="need a store every worker shares"):
            store.apply(commit)
    assert store.entries(correlation_id="wf-1") == []
    store.close()
