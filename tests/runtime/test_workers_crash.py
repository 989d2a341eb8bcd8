"""Several workers, SIGKILLed at random again and again: afterwards every workflow is
complete, no handoff is lost and no step was recorded twice, as the ledger shows."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import anyio
import pytest
import worker_app
from chain_fixtures import ORDER_1

from seamline import Runtime
from seamline.ledger import fold
from seamline.stores import PostgresStore, WorkflowStatus

HERE = Path(__file__).parent
WORKFLOWS = 40
CHAIN = 6
WORKERS = 3
ENVIRONMENT = {"SEAMLINE_TEST_CHAIN": str(CHAIN), "SEAMLINE_TEST_DELAY": "0.02"}


def start_worker(url: str) -> subprocess.Popen[bytes]:
    """`seamline worker` with a short lease, so killed workers' work comes back quickly."""
    return subprocess.Popen(
        [sys.executable, "-m", "seamline", "worker", "--store", url,
         "--app", "worker_app:registry", "--lease", "1", "--poll", "0.1",
         "--steps-per-claim", "2"],
        env={**os.environ, **ENVIRONMENT, "PYTHONPATH": str(HERE)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def finished(store: PostgresStore, ids: list[str]) -> int:
    """How many of ``ids`` have ended."""
    return sum(
        1
        for workflow_id in ids
        if (record := store.get_workflow(workflow_id)) is not None
        and record.status is not WorkflowStatus.RUNNING
    )


@pytest.mark.slow
def test_killing_workers_again_and_again_loses_nothing_and_repeats_nothing(
    pg_url: str, pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three workers share 40 six-step workflows; every 0.25-0.5 s one of them is SIGKILLed
    and replaced, until at least eight kills have landed while work remained."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    runtime = Runtime(worker_app.registry(), pg_store)

    async def submit_all() -> list[str]:
        return [await runtime.submit("a0", ORDER_1, intent="refund") for _ in range(WORKFLOWS)]

    ids = anyio.run(submit_all)
    url = f"{pg_url}?schema={pg_store.schema}"
    chaos = random.Random(7)
    workers = [start_worker(url) for _ in range(WORKERS)]
    kills = 0
    deadline = time.monotonic() + 120
    try:
        while finished(pg_store, ids) < WORKFLOWS:
            assert time.monotonic() < deadline, f"only {finished(pg_store, ids)} finished"
            time.sleep(chaos.uniform(0.25, 0.5))
            if kills < 8 and finished(pg_store, ids) < WORKFLOWS:
                victim = chaos.randrange(WORKERS)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].communicate()  # reaps it and closes its pipe
                workers[victim] = start_worker(url)
                kills += 1
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        errors = [process.communicate(timeout=30)[1].decode() for process in workers]
    assert kills == 8
    assert [process.returncode for process in workers] == [0] * WORKERS, errors
    for workflow_id in ids:
        entries = pg_store.entries(correlation_id=workflow_id)
        views = fold(entries)
        result = runtime.result(workflow_id)
        assert result.status is WorkflowStatus.COMPLETED, (workflow_id, result)
        assert result.result == {"order_id": "ORD-1", "steps": CHAIN - 1}
        # One handoff per hop, each proposed, delivered and completed exactly once.
        assert len(views) == CHAIN
        kinds = Counter((entry.handoff_id, entry.kind) for entry in entries)
        for view in views:
            for kind in ("proposed", "validated", "delivered", "completed"):
                assert kinds[(view.id, kind)] == 1, (workflow_id, view.id, kind)
        assert [entry.seq for entry in entries] == list(range(1, len(entries) + 1))
    assert pg_store._query("SELECT count(*) FROM work") == [(0,)]
