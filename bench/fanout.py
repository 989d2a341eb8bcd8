"""Fan-out overhead and breaker shedding, for the supervisor topology.

- ``fanout_overhead_ms``: 1,000 no-op subtasks fanned out durably on SQLite by one
  supervisor step (each leg is a child workflow: a start commit and a completion commit),
  wall time minus the sub-agents' own time.
- ``breaker_shed_ms``: time to route 1,000 handoffs away from an agent whose breaker is open:
  the breaker check plus the health-aware capability route to a healthy peer.
- ``breaker_shed_e2e_ms`` (extra): the same 1,000 handoffs delivered end to end to the open
  agent, each failing fast as ``circuit_open`` into the dead-letter queue, ledger included.

Usage: ``python bench/fanout.py [--json] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from seamline import (
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
from seamline.runtime import BreakerPolicy

TARGETS = {"fanout_overhead_ms": 150.0, "breaker_shed_ms": 50.0}


class Task(BaseModel):
    """A no-op subtask."""

    n: int


TASK = Contract(
    model=Task, name="bench.task", version="1.0.0", owner="bench",
    policy=FailurePolicy(feedback_retries=0),
)  # fmt: skip
own: list[float] = []


@agent(name="noop", version="1.0.0", owner="bench", accepts=[TASK], capabilities=["work"])
def noop(task: Task, ctx: Context) -> Outcome:
    """Does nothing, and says how long that took."""
    started = time.perf_counter()
    outcome = Finish({"n": task.n})
    own.append(time.perf_counter() - started)
    return outcome


def supervisor(legs: int, concurrency: int) -> Any:
    """A supervisor that fans ``legs`` no-op subtasks out."""

    @agent(name="lead", version="1.0.0", owner="bench", accepts=[TASK], emits=[TASK])
    async def lead(task: Task, ctx: Context) -> Outcome:
        results = await ctx.fan_out(
            [Leg(to="noop", payload=Task(n=i)) for i in range(legs)], concurrency=concurrency
        )
        return Finish({"done": sum(r.ok for r in results)})

    return lead


def fanout_once(tmp: Path, legs: int, concurrency: int) -> float:
    """Milliseconds of fan-out overhead for one supervisor run."""
    db = tmp / f"fanout-{time.perf_counter_ns()}.db"
    runtime = Runtime(
        Registry(agents=[supervisor(legs, concurrency), noop], contracts=[TASK]),
        SqliteStore(db),
        breakers=None,
    )
    own.clear()
    started = time.perf_counter()
    result = anyio.run(lambda: runtime.run("lead", Task(n=0), intent="bench"))
    wall = time.perf_counter() - started
    assert result.result == {"done": legs}, result.result
    return (wall - sum(own)) * 1000


@agent(name="down", version="1.0.0", owner="bench", accepts=[TASK], capabilities=["work"])
def down(task: Task, ctx: Context) -> Outcome:
    """Always fails: its breaker opens."""
    raise ConnectionError("unreachable")


@agent(name="dispatch", version="1.0.0", owner="bench", accepts=[TASK], emits=[TASK])
def dispatch(task: Task, ctx: Context) -> Outcome:
    """Hands work to whichever agent has the capability."""
    return HandOff(capability="work", payload=task)


def shed_once(tmp: Path, count: int) -> tuple[float, float]:
    """(decision ms, end-to-end ms) for ``count`` handoffs away from an open breaker."""
    registry = Registry(agents=[down, noop, dispatch], contracts=[TASK])
    db = tmp / f"shed-{time.perf_counter_ns()}.db"
    runtime = Runtime(registry, SqliteStore(db), breakers=BreakerPolicy(failures=1))
    anyio.run(lambda: runtime.run("down", Task(n=0), intent="trip it"))
    breakers = runtime.breakers
    assert breakers is not None and not breakers.allow("down", "1.0.0")
    handoff = HandOff(capability="work", payload=Task(n=1))
    started = time.perf_counter()
    for _ in range(count):
        breakers.allow("down", "1.0.0")
        assert registry.route(dispatch, handoff).receiver == "noop"
    decision = (time.perf_counter() - started) * 1000

    async def deliver_all() -> None:
        for n in range(count):
            await runtime.run("down", Task(n=n), intent="shed")

    started = time.perf_counter()
    anyio.run(deliver_all)
    return decision, (time.perf_counter() - started) * 1000


def measure(quick: bool) -> dict[str, Any]:
    """Medians over repeated runs."""
    repeat = 3 if quick else 5
    legs = 200 if quick else 1000
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        fan = [fanout_once(tmp, legs, 32) for _ in range(repeat)]
        shed = [shed_once(tmp, legs) for _ in range(repeat)]
    return {
        "fanout_overhead_ms": round(statistics.median(fan), 1),
        "fanout_legs": legs,
        "fanout_per_leg_us": round(statistics.median(fan) * 1000 / legs, 1),
        "breaker_shed_ms": round(statistics.median(d for d, _ in shed), 2),
        "breaker_shed_e2e_ms": round(statistics.median(e for _, e in shed), 1),
        "handoffs": legs,
        "repetitions": repeat,
        "targets": TARGETS,
        # The targets are for 1,000 legs; a --quick run answers nothing about them.
        "met": None
        if quick
        else {
            "fanout_overhead_ms": statistics.median(fan) <= TARGETS["fanout_overhead_ms"],
            "breaker_shed_ms": statistics.median(d for d, _ in shed) <= TARGETS["breaker_shed_ms"],
        },
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "machine": f"{platform.system()} {platform.machine()}",
    }


def _met(summary: dict[str, Any], key: str) -> str:
    met = summary["met"]
    if met is None:
        return "n/a (quick)"
    return "yes" if met[key] else "no"


def main() -> None:
    """Print a table, or one JSON object with --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="200 legs, 3 runs, for smoke runs")
    args = parser.parse_args()
    summary = measure(args.quick)
    if args.json:
        print(json.dumps(summary))
        return
    table = Table(title=f"Fan-out and breakers (medians of {summary['repetitions']} runs)")
    for column in ("measure", "value", "target", "met"):
        table.add_column(column)
    n = summary["handoffs"]
    table.add_row(
        f"fan-out overhead, {n} no-op legs (durable)",
        f"{summary['fanout_overhead_ms']} ms",
        "≤ 150 ms",
        _met(summary, "fanout_overhead_ms"),
    )
    table.add_row("  per leg (two commits each)", f"{summary['fanout_per_leg_us']} µs", "", "")
    table.add_row(
        f"breaker shed, {n} handoffs routed away",
        f"{summary['breaker_shed_ms']} ms",
        "≤ 50 ms",
        _met(summary, "breaker_shed_ms"),
    )
    table.add_row(
        f"  end to end: {n} deliveries dead-lettered as circuit_open",
        f"{summary['breaker_shed_e2e_ms']} ms",
        "",
        "",
    )
    console = Console()
    console.print(table)
    console.print(f"{summary['machine']}, Python {summary['python']}, SQLite {summary['sqlite']}")


if __name__ == "__main__":
    main()
