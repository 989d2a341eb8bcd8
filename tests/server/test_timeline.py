"""The console's waterfall: rows on one axis, an open gate's wait, fan-out legs nested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
from pydantic import BaseModel

from seamline import Context, Contract, Finish, Leg, Outcome, Registry, Runtime, agent
from seamline.evals import WorkflowTrace
from seamline.ledger import HandoffStatus
from seamline.server.timeline import SCALE, Waterfall, duration
from seamline.server.workflows import TraceHandoff, TraceWorkflow
from seamline.stores import WorkflowStatus


class Topic(BaseModel):
    """What to look into."""

    name: str


def test_a_fan_out_hangs_its_legs_under_the_handoff_that_started_them() -> None:
    """A supervisor's two legs come right after its own handoff, one level deeper, on the
    same axis; every bar lies within it."""
    topic = Contract(model=Topic, name="topic", version="1.0.0", owner="research")

    @agent(name="lead", version="1.0.0", owner="research", accepts=[topic], emits=[topic])
    async def lead(asked: Topic, ctx: Context) -> Outcome:
        legs = [Leg(to="analyst", payload=Topic(name=f"{asked.name} {n}")) for n in (1, 2)]
        await ctx.fan_out(legs, concurrency=2)
        return Finish({"done": asked.name})

    @agent(name="analyst", version="1.0.0", owner="research", accepts=[topic])
    def analyst(asked: Topic, ctx: Context) -> Outcome:
        return Finish({"read": asked.name})

    runtime = Runtime(Registry(agents=[lead, analyst], contracts=[topic]))
    result = anyio.run(lambda: runtime.run("lead", Topic(name="tides"), intent="tides"))
    ledger = runtime.ledger
    trace = TraceWorkflow.model_validate(WorkflowTrace.read(ledger, result.workflow_id).as_dict())
    proposed = {view.id: view.created_at for view in ledger.handoffs(result.workflow_id)}
    waterfall = Waterfall.of(trace, proposed, datetime.now(UTC))
    assert [(row.depth, row.step.destination) for row in waterfall.rows] == [
        (0, "lead"),
        (1, "analyst"),
        (1, "analyst"),
    ]
    bars = [bar for row in waterfall.rows for bar in (row.wait, row.run) if bar is not None]
    assert bars and all(bar.x >= 0 and bar.x + bar.width <= SCALE for bar in bars)
    assert all(row.passed > 0 and not row.flagged for row in waterfall.rows)


def test_an_open_gate_waits_until_now_on_an_axis_that_reaches_now() -> None:
    """A gated step that has not been decided waits from its proposal to now, and the axis
    stretches to now, so the wait fills it; the ticks read the axis in people's units."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    gated = TraceHandoff(
        id="h-1",
        hop=0,
        source="external",
        destination="payer",
        route="external@0.0.0 -> payer@1.0.0",
        contract="refund@1.0.0",
        status=HandoffStatus.GATED,
        started_at=None,
        ended_at=None,
        duration_ms=None,
        issues=[],
        evaluations=[],
        notes=[],
        legs=[],
    )
    trace = TraceWorkflow(
        id="w-1",
        name="claim",
        status=WorkflowStatus.WAITING,
        started_at=start,
        ended_at=start + timedelta(milliseconds=5),
        duration_ms=5,
        handoffs=[gated],
    )
    waterfall = Waterfall.of(trace, {"h-1": start}, start + timedelta(minutes=10))
    [row] = waterfall.rows
    assert row.wait is not None and (row.wait.x, row.wait.width) == (0, SCALE)
    assert row.run is None and row.waited_ms == 600_000
    assert [label for _, label in waterfall.ticks] == [
        "0",
        "2 min",
        "5 min",
        "7 min",
        "10 min",
    ]
    assert [duration(ms) for ms in (0.25, 12.5, 3_200, 7_500_000)] == [
        "250 µs",
        "12.5 ms",
        "3.2 s",
        "2 h 5 min",
    ]
