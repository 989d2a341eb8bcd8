"""Timeouts, deadlines and retries of transient faults, on a real SQLite ledger."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from seamline import (
    Constraints,
    Context,
    Contract,
    ContractError,
    FailurePolicy,
    Finish,
    Outcome,
    Registry,
    RunResult,
    Runtime,
    SqliteStore,
    TransientError,
    agent,
)
from seamline.ledger import Ledger
from seamline.stores import WorkflowStatus
from seamline.types import utcnow


class Job(BaseModel):
    """Work for the flaky worker."""

    name: str


calls: list[str] = []


def contract(**policy: Any) -> Contract[Job]:
    """The job contract under a given failure policy (no sender feedback)."""
    return Contract(
        model=Job,
        name="job",
        version="1.0.0",
        owner="tests",
        policy=FailurePolicy(feedback_retries=0, backoff=0.01, **policy),
    )


def run(
    body: Any,
    tmp_path: Path,
    *,
    threaded: bool = False,
    deadline_in: float | None = None,
    **policy: Any,
) -> tuple[Runtime, RunResult]:
    """One workflow at a worker running ``body`` under ``policy``."""
    job = contract(**policy)
    worker = agent(name="worker", version="1.0.0", owner="ops", accepts=[job], threaded=threaded)(
        body
    )
    runtime = Runtime(Registry(agents=[worker], contracts=[job]), SqliteStore(tmp_path / "l.db"))
    constraints = Constraints(
        deadline=None if deadline_in is None else utcnow() + timedelta(seconds=deadline_in)
    )
    calls.clear()
    result = anyio.run(
        lambda: runtime.run("worker", Job(name="j"), intent="do it", constraints=constraints)
    )
    return runtime, result


def retries(runtime: Runtime, result: RunResult) -> list[dict[str, Any]]:
    """The retry rows the ledger holds for the workflow's handoff."""
    view = Ledger(runtime.store).handoffs(result.workflow_id)[0]
    return [json.loads(e.data or "{}") for e in view.entries if e.kind == "retry"]


def reason(runtime: Runtime, result: RunResult) -> str:
    """Why the workflow's handoff was dead-lettered."""
    return Ledger(runtime.store).dead_letter(result.dead_letter_id or "").reason


def flaky(job: Job, ctx: Context) -> Outcome:
    """Fails transiently twice, then succeeds."""
    calls.append("call")
    if len(calls) < 3:
        raise TransientError("rate limited, try again")
    return Finish({"calls": len(calls)})


def test_transient_faults_are_retried_and_every_attempt_recorded(tmp_path: Path) -> None:
    """Two TransientErrors then success: three runs, two retry rows, a completed workflow."""
    runtime, result = run(flaky, tmp_path, retries=2)
    assert result.status is WorkflowStatus.COMPLETED and result.result == {"calls": 3}
    rows = retries(runtime, result)
    assert [(r["attempt"], r["code"]) for r in rows] == [(1, "agent_error"), (2, "agent_error")]
    assert "rate limited" in rows[0]["message"] and 0 <= rows[0]["delay"] <= 0.01


def test_retries_are_bounded_then_the_failure_policy_applies(tmp_path: Path) -> None:
    """With one retry allowed, the third failure never happens: dead-lettered after two runs."""
    runtime, result = run(flaky, tmp_path, retries=1)
    assert result.status is WorkflowStatus.DEAD_LETTERED
    assert len(calls) == 2 and len(retries(runtime, result)) == 1


def test_permanent_faults_are_not_retried(tmp_path: Path) -> None:
    """A bug (ValueError) goes straight down the ladder, whatever the retry budget."""

    def broken(job: Job, ctx: Context) -> Outcome:
        calls.append("call")
        raise ValueError("bad input")

    runtime, result = run(broken, tmp_path, retries=3)
    assert result.status is WorkflowStatus.DEAD_LETTERED
    assert len(calls) == 1 and retries(runtime, result) == []


def test_an_async_agent_past_its_timeout_is_cancelled(tmp_path: Path) -> None:
    """The contract's timeout cancels a hanging async agent and retries it as transient."""

    async def hangs(job: Job, ctx: Context) -> Outcome:
        calls.append("call")
        await anyio.sleep(10)
        return Finish(None)

    started = time.monotonic()
    runtime, result = run(hangs, tmp_path, timeout=0.05, retries=1)
    assert time.monotonic() - started < 5
    assert result.status is WorkflowStatus.DEAD_LETTERED and reason(runtime, result) == "timeout"
    assert len(calls) == 2
    assert retries(runtime, result)[0]["code"] == "timeout"


def test_a_threaded_sync_agent_past_its_timeout_is_abandoned(tmp_path: Path) -> None:
    """A blocking agent run in a thread does not hold the workflow hostage."""

    def blocks(job: Job, ctx: Context) -> Outcome:
        time.sleep(1.5)
        return Finish(None)

    started = time.monotonic()
    runtime, result = run(blocks, tmp_path, threaded=True, timeout=0.1)
    assert time.monotonic() - started < 1.45  # the agent alone would take 1.5 s
    assert reason(runtime, result) == "timeout"


def test_the_envelope_deadline_cuts_the_time_limit(tmp_path: Path) -> None:
    """With no contract timeout, the constraints' deadline still cancels the receiver."""

    async def slow(job: Job, ctx: Context) -> Outcome:
        await anyio.sleep(10)
        return Finish(None)

    started = time.monotonic()
    runtime, result = run(slow, tmp_path, deadline_in=0.2, retries=5)
    assert time.monotonic() - started < 5
    assert reason(runtime, result) in ("timeout", "deadline")


def test_a_passed_deadline_fails_without_running_the_agent(tmp_path: Path) -> None:
    """Work delivered after its deadline is dead-lettered as such; the agent never runs."""

    def never(job: Job, ctx: Context) -> Outcome:
        calls.append("call")
        return Finish(None)

    runtime, result = run(never, tmp_path, deadline_in=-1.0)
    assert calls == [] and reason(runtime, result) == "deadline"


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"retries": -1}, "retries must be 0 or more"),
        ({"backoff": 10.0, "max_backoff": 1.0}, r"backoff \(10.0\) must be between 0 and"),
        ({"backoff": -1.0}, "backoff"),
        ({"timeout": 0}, "timeout must be a positive number of seconds"),
    ],
)
def test_nonsense_policies_are_contract_errors(policy: dict[str, Any], message: str) -> None:
    """Negative retries, inverted backoff and a zero timeout are refused with the rule."""
    with pytest.raises(ContractError, match=message):
        FailurePolicy(**policy)


def test_an_escalating_policy_hands_the_failure_to_the_fallback_owner(tmp_path: Path) -> None:
    """The ladder ends with a pre-formatted request to a person; the letter stays replayable."""
    job = Contract(
        model=Job, name="job", version="1.0.0", owner="tests",
        fallback_owner="ops-oncall@example.com",
        policy=FailurePolicy(feedback_retries=0, escalate=True),
    )  # fmt: skip
    state = {"broken": True}

    @agent(name="worker", version="1.0.0", owner="ops", accepts=[job])
    def worker(payload: Job, ctx: Context) -> Outcome:
        if state["broken"]:
            raise ValueError("ledger API returned 500")
        return Finish({"done": payload.name})

    runtime = Runtime(Registry(agents=[worker], contracts=[job]), SqliteStore(tmp_path / "l.db"))
    result = anyio.run(lambda: runtime.run("worker", Job(name="j"), intent="close the books"))
    assert result.status is WorkflowStatus.ESCALATED
    letter = result.dead_letter_id or ""
    assert result.result["owner"] == "ops-oncall@example.com"
    request = result.result["request"]
    assert request.startswith("To ops-oncall@example.com: workflow")
    assert "ledger API returned 500" in request and "'close the books'" in request
    assert f"seamline dlq replay {letter}" in request
    state["broken"] = False
    replayed = anyio.run(lambda: runtime.replay(letter))
    assert replayed.status is WorkflowStatus.COMPLETED and replayed.result == {"done": "j"}


def test_escalating_without_a_fallback_owner_is_refused() -> None:
    """A policy that escalates must have someone to address the request to."""
    with pytest.raises(ContractError, match="no fallback_owner to address the request to"):
        Contract(
            model=Job, name="job", version="1.0.0", owner="tests",
            policy=FailurePolicy(escalate=True),
        )  # fmt: skip


def stranded(tmp_path: Path, deadline_in: float | None) -> tuple[Runtime, str]:
    """A workflow left running with an open handoff, as when its process stops mid-step."""

    def dies(job: Job, ctx: Context) -> Outcome:
        raise SystemExit("the worker process stopped")

    job = contract()
    worker = agent(name="worker", version="1.0.0", owner="ops", accepts=[job])(dies)
    runtime = Runtime(Registry(agents=[worker], contracts=[job]), SqliteStore(tmp_path / "l.db"))
    deadline = None if deadline_in is None else utcnow() + timedelta(seconds=deadline_in)
    with pytest.raises(SystemExit):
        anyio.run(
            lambda: runtime.run(
                "worker", Job(name="j"), intent="x", constraints=Constraints(deadline=deadline)
            )
        )
    (running,) = runtime.ledger.workflows(status=WorkflowStatus.RUNNING)
    return runtime, running.id


def test_stuck_work_past_its_deadline_is_dead_lettered(tmp_path: Path) -> None:
    """reap() dead-letters a running workflow whose open handoff's deadline has passed."""
    runtime, workflow_id = stranded(tmp_path, deadline_in=0.05)
    time.sleep(0.1)
    (result,) = runtime.reap()
    assert result.workflow_id == workflow_id and result.status is WorkflowStatus.DEAD_LETTERED
    letter = Ledger(runtime.store).dead_letter(result.dead_letter_id or "")
    assert letter.reason == "stuck" and "unfinished past its deadline" in letter.message
    assert runtime.reap() == []


def test_work_with_time_left_or_no_deadline_is_not_reaped(tmp_path: Path) -> None:
    """Only handoffs past a deadline are stuck; others wait for a resume."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    runtime, _ = stranded(tmp_path / "a", deadline_in=60)
    assert runtime.reap() == []
    runtime, workflow_id = stranded(tmp_path / "b", deadline_in=None)
    assert runtime.reap(workflow_id) == []
