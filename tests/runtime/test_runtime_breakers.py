"""Circuit breakers: a failing agent stops receiving work, then is probed back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from seamline import (
    ConfigurationError,
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    RejectedHandoff,
    RunResult,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.ledger import Ledger
from seamline.registry import REJECTED_HANDOFF, Health
from seamline.runtime import BreakerPolicy, BreakerState
from seamline.stores import WorkflowStatus


class Job(BaseModel):
    """Work for the workers."""

    name: str


JOB = Contract(
    model=Job, name="job", version="1.0.0", owner="tests", policy=FailurePolicy(feedback_retries=0)
)
calls: list[str] = []
healthy = {"now": False}


@agent(name="worker", version="2.0.0", owner="ops", accepts=[JOB], capabilities=["work"])
def worker(job: Job, ctx: Context) -> Outcome:
    """Fails until told it is healthy."""
    calls.append("worker")
    if not healthy["now"]:
        raise RuntimeError("database unreachable")
    return Finish({"by": "worker"})


def runtime(tmp_path: Path, *agents: Any, contracts: Any = (JOB,), **policy: Any) -> Runtime:
    """A runtime whose breakers open after two consecutive faults unless told otherwise."""
    calls.clear()
    healthy["now"] = False
    settings = {"failures": 2, "cooldown": 0.5} | policy
    return Runtime(
        Registry(agents=agents or (worker,), contracts=contracts),
        SqliteStore(tmp_path / "l.db"),
        breakers=BreakerPolicy(**settings),
    )


def run(rt: Runtime, entry: str = "worker") -> RunResult:
    """One workflow."""
    return anyio.run(lambda: rt.run(entry, Job(name="j"), intent="work"))


def reason(rt: Runtime, result: RunResult) -> str:
    """Why the workflow was dead-lettered."""
    return Ledger(rt.store).dead_letter(result.dead_letter_id or "").reason


def test_consecutive_faults_open_the_breaker_and_work_stops_waiting(tmp_path: Path) -> None:
    """After two faults the third handoff fails at once, without running the agent."""
    rt = runtime(tmp_path)
    assert [reason(rt, run(rt)) for _ in range(2)] == ["agent_error", "agent_error"]
    third = run(rt)
    assert reason(rt, third) == "circuit_open" and calls == ["worker", "worker"]
    assert rt.breakers is not None
    assert rt.breakers.state("worker", "2.0.0") is BreakerState.OPEN
    assert rt.registry.health("worker") is Health.DOWN


def test_after_the_cooldown_one_probe_closes_or_reopens_it(tmp_path: Path) -> None:
    """Half-open lets one call through: a fault re-opens, a success closes and heals."""
    rt = runtime(tmp_path)
    for _ in range(2):
        run(rt)
    time.sleep(0.55)
    assert rt.breakers is not None
    assert rt.breakers.state("worker", "2.0.0") is BreakerState.HALF_OPEN
    assert reason(rt, run(rt)) == "agent_error"  # the probe ran and failed
    assert rt.breakers.state("worker", "2.0.0") is BreakerState.OPEN
    time.sleep(0.55)
    healthy["now"] = True
    assert run(rt).status is WorkflowStatus.COMPLETED
    assert rt.breakers.state("worker", "2.0.0") is BreakerState.CLOSED
    assert rt.registry.health("worker") is Health.HEALTHY


def test_an_error_rate_over_the_window_opens_it(tmp_path: Path) -> None:
    """Alternating success and failure trips at the rate, not the consecutive count."""
    rt = runtime(tmp_path, failures=100, min_calls=4, error_rate=0.5)
    outcomes = []
    for ok in (True, False, True, False):
        healthy["now"] = ok
        outcomes.append(run(rt).status)
    assert rt.breakers is not None
    assert rt.breakers.state("worker", "2.0.0") is BreakerState.OPEN
    assert outcomes.count(WorkflowStatus.COMPLETED) == 2


def test_an_open_breaker_sends_work_to_the_contracts_fallback(tmp_path: Path) -> None:
    """With a fallback agent declared, an open breaker routes there at once."""

    @agent(name="manual", version="1.0.0", owner="ops", accepts=[REJECTED_HANDOFF])
    def manual(rejected: RejectedHandoff, ctx: Context) -> Outcome:
        return Finish({"by": "manual", "why": rejected.issues[0].code})

    guarded = Contract(
        model=Job, name="job", version="1.0.0", owner="tests",
        policy=FailurePolicy(feedback_retries=0, fallback_agent="manual"),
    )  # fmt: skip
    rt = runtime(tmp_path, worker, manual, contracts=(guarded,))
    for _ in range(2):
        run(rt)
    result = run(rt)
    assert result.result == {"by": "manual", "why": "circuit_open"}
    assert calls == ["worker", "worker"]


def test_capability_routing_steers_around_an_open_breaker(tmp_path: Path) -> None:
    """A healthy agent with the same capability gets the work while the first is down."""

    # Named to sort after "worker": while healthy, the rule picks the worker first.
    @agent(name="zz-spare", version="1.0.0", owner="ops", accepts=[JOB], capabilities=["work"])
    def spare(job: Job, ctx: Context) -> Outcome:
        calls.append("spare")
        return Finish({"by": "spare"})

    @agent(name="dispatch", version="1.0.0", owner="ops", accepts=[JOB], emits=[JOB])
    def dispatch(job: Job, ctx: Context) -> Outcome:
        return HandOff(capability="work", payload=job)

    rt = runtime(tmp_path, worker, spare, dispatch)
    assert [run(rt, "dispatch").status for _ in range(2)] == [WorkflowStatus.DEAD_LETTERED] * 2
    assert run(rt, "dispatch").result == {"by": "spare"}
    assert calls == ["worker", "worker", "spare"]


def test_breakers_can_be_turned_off(tmp_path: Path) -> None:
    """breakers=None: every handoff is delivered, however often the agent fails."""
    calls.clear()
    healthy["now"] = False
    rt = Runtime(Registry(agents=[worker], contracts=[JOB]), breakers=None)
    for _ in range(4):
        run(rt)
    assert calls == ["worker"] * 4 and rt.breakers is None


def test_retries_stop_once_the_breaker_opens(tmp_path: Path) -> None:
    """A retry budget larger than the breaker's patience ends when the breaker trips."""
    flaky = Contract(
        model=Job, name="job", version="1.0.0", owner="tests",
        policy=FailurePolicy(feedback_retries=0, retries=10, backoff=0.001),
    )  # fmt: skip

    @agent(name="worker", version="2.0.0", owner="ops", accepts=[flaky])
    def timeouts(job: Job, ctx: Context) -> Outcome:
        calls.append("worker")
        raise TimeoutError("upstream timed out")

    rt = runtime(tmp_path, timeouts, contracts=(flaky,), failures=3)
    run(rt)
    assert calls == ["worker"] * 3


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"failures": 0}, "at least 1"),
        ({"error_rate": 0}, r"error_rate must be in \(0, 1\]"),
        ({"error_rate": 1.5}, r"error_rate must be in \(0, 1\]"),
        ({"cooldown": 0}, "must be positive seconds"),
    ],
)
def test_nonsense_breaker_policies_are_refused(policy: dict[str, Any], message: str) -> None:
    """Breaker settings that could never work are configuration errors."""
    with pytest.raises(ConfigurationError, match=message):
        BreakerPolicy(**policy)
