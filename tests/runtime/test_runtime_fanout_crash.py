"""SIGKILL in the middle of a fan-out, then a fresh process resumes it."""

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
from seamline.stores import WorkflowStatus

WORKER = Path(__file__).with_name("fanout_worker.py")
LEGS = 12


def worker(db: Path, log: Path, mode: str) -> subprocess.Popen[bytes]:
    """The worker process, importing seamline from this checkout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKER.parent), *sys.path])}
    return subprocess.Popen([sys.executable, str(WORKER), str(db), str(log), mode], env=env)


def finished_legs(db: Path) -> set[str]:
    """Child workflows of the supervisor that completed."""
    if not db.exists():
        return set()
    store = SqliteStore(db)
    try:
        done = store.list_workflows(status=WorkflowStatus.COMPLETED, limit=1000)
    finally:
        store.close()
    return {w.id for w in done if w.id.startswith("boss.")}


@pytest.mark.slow
def test_sigkill_mid_fan_out_then_resume_runs_no_finished_leg_again(tmp_path: Path) -> None:
    """Legs finished before the kill never run again; the supervisor completes after resume."""
    db, log = tmp_path / "ledger.db", tmp_path / "legs.log"
    process = worker(db, log, "start")
    deadline = time.monotonic() + 30
    try:
        while len(finished_legs(db)) < 4:
            assert process.poll() is None, "the fan-out finished before it could be killed"
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.01)
    finally:  # a failed wait must not leave the worker running into the next tests
        process.send_signal(signal.SIGKILL)
        process.wait()
    done_before = finished_legs(db)
    runs_before = Counter(log.read_text().split())

    resumer = worker(db, log, "resume")
    assert resumer.wait(timeout=60) == 0
    store = SqliteStore(db)
    boss = store.get_workflow("boss")
    store.close()
    assert boss is not None and boss.status is WorkflowStatus.COMPLETED
    assert '"sum": 66' in (boss.result or "")
    runs = Counter(log.read_text().split())
    assert set(runs) == {str(i) for i in range(LEGS)}
    for leg_id in done_before:
        index = leg_id.rsplit(".", 1)[-1]
        assert runs[index] == runs_before[index] == 1, f"finished leg {index} ran again"
    assert all(count <= 2 for count in runs.values())  # only legs in flight ran twice
