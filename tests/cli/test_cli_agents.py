"""`seamline agents list`: owners, health and breaker states rebuilt from the ledger."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from seamline import (
    Constraints,
    Context,
    Contract,
    FailurePolicy,
    Finish,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.cli import app
from seamline.types import utcnow


class Job(BaseModel):
    """Work."""

    name: str


JOB = Contract(
    model=Job, name="job", version="1.0.0", owner="tests", policy=FailurePolicy(feedback_retries=0)
)


@agent(name="broken", version="1.2.0", owner="ops", escalation="pager:ops", accepts=[JOB])
def broken(job: Job, ctx: Context) -> Outcome:
    """Always fails."""
    raise RuntimeError("disk full")


@agent(name="steady", version="1.0.0", owner="ops", accepts=[JOB], capabilities=["work"])
def steady(job: Job, ctx: Context) -> Outcome:
    """Always works."""
    return Finish(None)


def build() -> Registry:
    """The registry the CLI loads with --app."""
    return Registry(agents=[broken, steady], contracts=[JOB])


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_breaker_states_are_rebuilt_from_the_ledger(tmp_path: Path) -> None:
    """Five faults in a row read as an open breaker; a working agent reads closed."""
    db = tmp_path / "l.db"
    runtime = Runtime(build(), SqliteStore(db), breakers=None)
    for entry in ["broken"] * 5 + ["steady"] * 2:
        anyio.run(lambda entry=entry: runtime.run(entry, Job(name="j"), intent="go"))  # type: ignore[misc]
    code, out, _ = invoke("agents", "list", "--app", f"{__name__}:build", "--store", str(db))
    assert code == 0
    lines = out.splitlines()
    broken_at = next(i for i, line in enumerate(lines) if line.startswith("broken@1.2.0"))
    assert "ops · pager:ops" in lines[broken_at]
    assert (
        "breaker open" in lines[broken_at + 1]
        and "5 fault(s) in 5 recent call(s)" in lines[broken_at + 1]
    )
    steady_at = next(i for i, line in enumerate(lines) if line.startswith("steady@1.0.0"))
    assert "breaker closed" in lines[steady_at + 1] and "capabilities work" in lines[steady_at + 2]


def test_without_a_ledger_every_breaker_reads_closed(tmp_path: Path) -> None:
    """No store yet: agents are listed with no history rather than an error."""
    code, out, _ = invoke(
        "agents", "list", "--app", f"{__name__}:build", "--store", str(tmp_path / "none.db")
    )
    assert code == 0 and out.count("breaker closed") == 2 and "0 recent call(s)" in out


def test_a_bad_app_is_one_line(tmp_path: Path) -> None:
    """An app that cannot be imported is a one-line error with exit 1."""
    code, _, err = invoke("agents", "list", "--app", "no_such_module:build")
    assert code == 1 and err.startswith("error:") and len(err.strip().splitlines()) == 1


@agent(name="dies", version="1.0.0", owner="ops", accepts=[JOB])
def dies(job: Job, ctx: Context) -> Outcome:
    """Stops the process mid-step, leaving its workflow running."""
    raise SystemExit("stopped")


def build_dying() -> Registry:
    """A registry whose only agent never finishes."""
    return Registry(agents=[dies], contracts=[JOB])


def test_workflows_reap_dead_letters_stuck_work(tmp_path: Path) -> None:
    """`seamline workflows reap` names each stuck workflow it dead-letters, then finds none."""
    db = tmp_path / "l.db"
    runtime = Runtime(build_dying(), SqliteStore(db))
    soon = Constraints(deadline=utcnow() + timedelta(seconds=0.3))
    with pytest.raises(SystemExit):
        anyio.run(lambda: runtime.run("dies", Job(name="j"), intent="x", constraints=soon))
    time.sleep(0.35)
    app_ref = f"{__name__}:build_dying"
    code, out, _ = invoke("workflows", "reap", "--store", str(db), "--app", app_ref)
    assert code == 0 and "dead-lettered as stuck" in out
    code, out, _ = invoke("workflows", "reap", "--store", str(db), "--app", app_ref)
    assert code == 0 and "nothing stuck among 0 running workflow(s)" in out
