"""The supervisor topology: fan-out to sub-agents, typed results, durable legs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from seamline import (
    AgentError,
    ConfigurationError,
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    Leg,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.stores import WorkflowStatus


class Research(BaseModel):
    """The supervisor's task."""

    topic: str


class Question(BaseModel):
    """One scoped subtask."""

    ask: str


class Answer(BaseModel):
    """A sub-agent's typed result."""

    ask: str
    facts: int


STRICT = FailurePolicy(feedback_retries=0)
RESEARCH = Contract(model=Research, name="research", version="1.0.0", owner="t", policy=STRICT)
QUESTION = Contract(model=Question, name="question", version="1.0.0", owner="t", policy=STRICT)
runs: Counter[str] = Counter()
state: dict[str, Any] = {}


@agent(name="lead", version="1.0.0", owner="t", accepts=[RESEARCH], emits=[QUESTION])
async def lead(task: Research, ctx: Context) -> Outcome:
    """Splits the topic into three questions, runs them two at a time, sums the answers."""
    runs["lead"] += 1
    asks = [f"{task.topic} {n}" for n in ("history", "market", "risks")]
    results = await ctx.fan_out(
        [Leg(to="analyst", payload=Question(ask=ask)) for ask in asks],
        concurrency=2,
        rerun_failed=state.get("rerun", False),
    )
    state["results"] = results
    failed = [r.workflow_id for r in results if not r.ok]
    if failed:  # dead-letter the supervisor's step, so a replay can reprocess the failures
        raise RuntimeError(f"legs failed: {failed}")
    answers = [r.value(Answer) for r in results]
    return Finish({"facts": sum(a.facts for a in answers), "asks": [a.ask for a in answers]})


@agent(name="analyst", version="1.0.0", owner="t", accepts=[QUESTION], emits=[QUESTION])
async def analyst(question: Question, ctx: Context) -> Outcome:
    """Holds no workflow state: answers from the scoped question alone (via a reviewer)."""
    runs[question.ask] += 1
    state["active"] = state.get("active", 0) + 1
    state["peak"] = max(state.get("peak", 0), state["active"])
    await anyio.sleep(0.02)
    state["active"] -= 1
    if question.ask in state.get("fail", ()):
        raise RuntimeError("source unavailable")
    if question.ask in state.get("stop", ()):
        raise SystemExit("the process stopped mid fan-out")
    return HandOff(to="reviewer", payload=question)


@agent(name="reviewer", version="1.0.0", owner="t", accepts=[QUESTION])
def reviewer(question: Question, ctx: Context) -> Outcome:
    """The second step of each leg's chain: a leg can be a chain."""
    return Finish(Answer(ask=question.ask, facts=len(question.ask)))


def runtime(tmp_path: Path) -> Runtime:
    """The research team on one SQLite ledger."""
    registry = Registry(agents=[lead, analyst, reviewer], contracts=[RESEARCH, QUESTION])
    return Runtime(registry, SqliteStore(tmp_path / "l.db"))


def start(rt: Runtime) -> Any:
    """Run the supervisor on one topic."""
    return anyio.run(lambda: rt.run("lead", Research(topic="solar"), intent="brief me on solar"))


@pytest.fixture(autouse=True)
def fresh() -> None:
    """Each test starts with no recorded runs or failure switches."""
    runs.clear()
    state.clear()


def test_legs_run_concurrently_within_the_bound_and_results_come_back_typed(
    tmp_path: Path,
) -> None:
    """Three legs, two at a time, each a two-agent chain; results in leg order."""
    rt = runtime(tmp_path)
    result = start(rt)
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result["asks"] == ["solar history", "solar market", "solar risks"]
    assert result.result["facts"] == sum(len(a) for a in result.result["asks"])
    assert state["peak"] == 2
    legs = state["results"]
    assert [leg.workflow_id for leg in legs] == [f"{result.workflow_id}.0.{i}" for i in range(3)]
    child = rt.ledger.handoffs(legs[0].workflow_id)
    assert [v.route_names for v in child] == ["lead → analyst", "analyst → reviewer"]
    parent = rt.ledger.handoffs(result.workflow_id)[0]
    assert [e.kind for e in parent.entries].count("fanned_out") == 1


def test_a_crash_during_fan_out_resumes_without_rerunning_finished_legs(tmp_path: Path) -> None:
    """After the process stops mid fan-out, resume finishes it; done legs do not run again."""
    rt = runtime(tmp_path)
    state["stop"] = {"solar risks"}
    with pytest.raises(SystemExit):
        start(rt)
    finished_before = {k for k, v in runs.items() if k != "lead"}
    state["stop"] = set()
    results = anyio.run(rt.resume_all)
    parent = next(r for r in results if r.result and "facts" in r.result)
    assert parent.status is WorkflowStatus.COMPLETED
    assert runs["solar history"] == 1 and runs["solar market"] == 1
    assert runs["solar risks"] == 2  # the leg in flight at the stop ran again, once
    assert finished_before == {"solar history", "solar market", "solar risks"}


def test_only_failed_legs_are_reprocessed(tmp_path: Path) -> None:
    """A failed leg dead-letters the supervisor; replaying it re-runs only that leg."""
    rt = runtime(tmp_path)
    state["fail"] = {"solar market"}
    first = start(rt)
    assert first.status is WorkflowStatus.DEAD_LETTERED
    failed = state["results"][1]
    assert failed.status == "dead_lettered"
    assert [r.ok for r in state["results"]] == [True, False, True]
    with pytest.raises(AgentError, match="ended dead_lettered, so it has no result"):
        failed.value(Answer)
    state["fail"] = set()
    state["rerun"] = True
    again = anyio.run(lambda: rt.replay(first.dead_letter_id or ""))
    assert again.status is WorkflowStatus.COMPLETED
    assert runs == Counter({"lead": 2, "solar history": 1, "solar market": 2, "solar risks": 1})


def test_fan_out_bad_input(tmp_path: Path) -> None:
    """A leg to an unknown agent comes back rejected; concurrency below 1 is refused."""

    @agent(name="lead", version="1.0.0", owner="t", accepts=[RESEARCH])
    async def sloppy(task: Research, ctx: Context) -> Outcome:
        with pytest.raises(ConfigurationError, match="concurrency must be at least 1"):
            await ctx.fan_out([], concurrency=0)
        (leg,) = await ctx.fan_out([Leg(to="ghost", payload={"ask": "x"})])
        return Finish({"status": leg.status, "issue": leg.issues[0].message})

    rt = Runtime(Registry(agents=[sloppy], contracts=[RESEARCH, QUESTION]))
    result = anyio.run(lambda: rt.run("lead", Research(topic="t"), intent="x"))
    assert result.result["status"] == "rejected"
    assert "no agent named 'ghost'" in result.result["issue"]


def test_a_chain_step_can_fan_out_and_hand_off(tmp_path: Path) -> None:
    """Hybrid: a middle step of a chain fans out, then passes its synthesis on."""

    @agent(name="lead", version="1.0.0", owner="t", accepts=[RESEARCH], emits=[RESEARCH])
    async def middle(task: Research, ctx: Context) -> Outcome:
        results = await ctx.fan_out([Leg(to="analyst", payload=Question(ask=task.topic))])
        facts = results[0].value(Answer).facts
        return HandOff(to="editor", payload=Research(topic=f"{task.topic} ({facts} facts)"))

    @agent(name="editor", version="1.0.0", owner="t", accepts=[RESEARCH])
    def editor(task: Research, ctx: Context) -> Outcome:
        return Finish({"headline": task.topic})

    registry = Registry(agents=[middle, analyst, reviewer, editor], contracts=[RESEARCH, QUESTION])
    rt = Runtime(registry, SqliteStore(tmp_path / "l.db"))
    result = anyio.run(lambda: rt.run("lead", Research(topic="wind"), intent="x"))
    assert result.result == {"headline": "wind (4 facts)"}
    assert [v.route_names for v in rt.ledger.handoffs(result.workflow_id)] == [
        "external → lead",
        "lead → editor",
    ]
