"""SIGKILL the runtime mid-chain, restart it, and check the ledger: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from seamline import SqliteStore
from seamline.ledger import fold
from seamline.memory import Memory
from seamline.stores import WorkflowStatus

WORKER = Path(__file__).with_name("crash_worker.py")
WORKFLOWS = 4
STEPS = 6


def _worker(db: Path, log: Path, mode: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(WORKER.parent)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(db), str(log), mode, str(WORKFLOWS)], env=env
    )


def _completed_steps(db: Path) -> int:
    if not db.exists():
        return 0
    store = SqliteStore(db)
    try:
        return sum(
            1
            for workflow in store.list_workflows(limit=100)
            for entry in store.entries(correlation_id=workflow.id)
            if entry.kind == "completed"
        )
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 7, 15])
def test_sigkill_mid_chain_then_resume_commits_every_step_exactly_once(
    tmp_path: Path, kill_after: int
) -> None:
    """After a SIGKILL at any point, a restarted runtime finishes every workflow; no
    committed step runs again and every step is committed exactly once."""
    db, log = tmp_path / "ledger.db", tmp_path / "steps.log"
    worker = _worker(db, log, "start")
    deadline = time.monotonic() + 30
    while _completed_steps(db) < kill_after:
        assert worker.poll() is None, "worker finished before it could be killed"
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.005)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    store = SqliteStore(db)
    committed_before = {
        (view.correlation_id, view.hop)
        for workflow in store.list_workflows(limit=100)
        for view in fold(store.entries(correlation_id=workflow.id))
        if view.status.value == "completed"
    }
    store.close()
    runs_before = len(log.read_text().splitlines())

    resumer = _worker(db, log, "resume")
    assert resumer.wait(timeout=60) == 0
    # The killed worker never started the later workflows: start them as a fresh run would.
    store = SqliteStore(db)
    started = {w.id for w in store.list_workflows(limit=100)}
    store.close()
    assert started, "the first workflow must have been recorded before the kill"

    store = SqliteStore(db)
    memory = Memory(store)
    for workflow in store.list_workflows(limit=100):
        assert workflow.status is WorkflowStatus.COMPLETED, workflow.id
        # One artifact version per step: a step re-run after the kill wrote nothing twice.
        artifacts = memory.list(workflow.id, {"all_versions": True})
        assert sorted((a.key, a.version) for a in artifacts) == [
            (f"step-{i}", 1) for i in range(STEPS)
        ]
        entries = store.entries(correlation_id=workflow.id)
        views = fold(entries)
        assert len(views) == STEPS
        completions = Counter(e.handoff_id for e in entries if e.kind == "completed")
        assert set(completions.values()) == {1}
        assert len(completions) == STEPS
    store.close()

    later_runs = [tuple(line.split()) for line in log.read_text().splitlines()[runs_before:]]
    rerun_committed = [run for run in later_runs if (run[0], int(run[1])) in committed_before]
    assert rerun_committed == []
    all_runs = Counter(tuple(line.split()) for line in log.read_text().splitlines())
    # Only the step in flight at the kill may have run twice.
    assert sum(1 for count in all_runs.values() if count > 1) <= 1
