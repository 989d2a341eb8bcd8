"""Per-handoff overhead of seamline against LangGraph + SqliteSaver, on the same chain.

Why: seamline validates, commits and de-duplicates every handoff, so users need to know what
that costs next to the usual alternative. Both systems run a line of N trivial agents that
pass one pydantic payload, each persisting every step to SQLite (WAL, ``synchronous=NORMAL``
on both sides) before the next starts. Per-handoff cost = wall time of one run / N; the
machine is shared, so the systems are interleaved within each repetition and medians quoted.

Usage: ``python bench/handoff_overhead.py [--quick] [--repeat R] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypedDict

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from seamline import (
    Agent,
    Context,
    Contract,
    Finish,
    HandOff,
    MissingExtraError,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)

SIZES = (5, 50, 200)
SYSTEMS = ("seamline", "langgraph_sync", "langgraph_default")
Runner = Callable[[], Awaitable[float]]


class Item(BaseModel):
    """The payload every agent receives and rebuilds."""

    order_id: str
    amount: float
    step: int


class State(TypedDict):
    """LangGraph's state: the same payload under one key."""

    item: Item


ITEM = Contract(model=Item, name="item", version="1.0.0", owner="bench", tracked=("order_id",))
FIRST = Item(order_id="ord-1", amount=42.5, step=0)


def _next(item: Item) -> Item:
    """The agents' whole job, identical on both sides: build the next payload."""
    return Item(order_id=item.order_id, amount=item.amount, step=item.step + 1)


def _check(ok: bool, got: object) -> None:
    """A benchmark of a chain that silently stopped early would flatter whoever stopped."""
    if not ok:
        raise RuntimeError(f"the chain did not run to its end: {got!r}")


def seamline_chain(n: int, db: Path) -> Runtime:
    """A line of n seamline agents; the last one finishes with the final payload."""

    def make(i: int) -> Agent:
        def step(item: Item, ctx: Context) -> Outcome:
            nxt = _next(item)
            return Finish(nxt) if i == n - 1 else HandOff(to=f"a{i + 1}", payload=nxt)

        card = agent(name=f"a{i}", version="1.0.0", owner="bench", accepts=[ITEM], emits=[ITEM])
        return card(step)

    registry = Registry(agents=[make(i) for i in range(n)], contracts=[ITEM])
    return Runtime(registry, SqliteStore(db), max_hops=n + 5)


def langgraph_chain(n: int, db: Path) -> tuple[Any, sqlite3.Connection]:
    """The same line as a LangGraph StateGraph checkpointed by SqliteSaver."""
    try:
        from langgraph.checkpoint.sqlite import SqliteSaver
        from langgraph.graph import END, START, StateGraph
    except ImportError:
        raise SystemExit(
            str(MissingExtraError(feature="the LangGraph anchor", extra="bench"))
        ) from None
    conn = sqlite3.connect(db, check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()  # turns WAL on
    # SQLite's default FULL would fsync every commit; NORMAL is what seamline uses by default.
    conn.execute("PRAGMA synchronous = NORMAL")

    def node(state: State) -> State:
        return {"item": _next(state["item"])}

    builder = StateGraph(State)
    names = [f"n{i}" for i in range(n)]
    for name in names:
        builder.add_node(name, node)
    for a, b in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=saver), conn


def runners(n: int, tmp: Path) -> tuple[dict[str, Runner], Callable[[], None]]:
    """One timed run per system, each returning µs per handoff; plus a cleanup."""
    graph, conn = langgraph_chain(n, tmp / f"langgraph-{n}.db")
    runtime = seamline_chain(n, tmp / f"seamline-{n}.db")

    async def seamline() -> float:
        start = time.perf_counter()
        result = await runtime.run("a0", FIRST, intent="benchmark the handoff overhead")
        elapsed = time.perf_counter() - start
        _check(result.handoffs == n and result.result["step"] == n, result)
        return elapsed / n * 1e6

    def langgraph(durability: str | None) -> Runner:
        async def run() -> float:
            config = {"configurable": {"thread_id": uuid.uuid4().hex}, "recursion_limit": n + 5}
            options = {} if durability is None else {"durability": durability}
            start = time.perf_counter()
            out = graph.invoke({"item": FIRST}, config, **options)
            elapsed = time.perf_counter() - start
            _check(out["item"].step == n, out)
            return elapsed / n * 1e6

        return run

    def close() -> None:
        runtime.store.close()
        conn.close()

    systems = {"seamline": seamline, "langgraph_sync": langgraph("sync")}
    return {**systems, "langgraph_default": langgraph(None)}, close


async def measure(repeat: int, log: Console) -> dict[int, dict[str, float]]:
    """Median µs per handoff per N and system, interleaved and rotated each repetition."""
    medians: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="seamline-bench-") as tmp:
        for n in SIZES:
            run, close = runners(n, Path(tmp))
            reps = repeat if n <= 50 else max(2, repeat // 2)
            for _ in range(2 if n <= 50 else 1):  # warm-up: imports, caches, first pages
                for system in SYSTEMS:
                    await run[system]()
            samples: dict[str, list[float]] = {system: [] for system in SYSTEMS}
            for rep in range(reps):
                shift = rep % len(SYSTEMS)  # no system always runs first (or after a GC)
                for system in SYSTEMS[shift:] + SYSTEMS[:shift]:
                    gc.collect()
                    samples[system].append(await run[system]())
            close()
            medians[n] = {s: statistics.median(v) for s, v in samples.items()}
            medians[n]["repetitions"] = reps
            log.print(f"N={n}: {reps} repetitions done", style="dim")
    return medians


def report(medians: dict[int, dict[str, float]]) -> dict[str, Any]:
    """The JSON summary: N=50 headline numbers, flatness, and where they were measured."""
    mid = medians[50]
    return {
        "seamline_us_per_handoff": round(mid["seamline"], 1),
        "langgraph_us_per_handoff": round(mid["langgraph_sync"], 1),
        "ratio": round(mid["langgraph_sync"] / mid["seamline"], 2),
        "flatness": round(medians[200]["seamline"] / medians[5]["seamline"], 2),
        "per_n": {str(n): {k: round(v, 1) for k, v in m.items()} for n, m in medians.items()},
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "seamline": version("seamline"),
        "langgraph": version("langgraph"),
        "sqlite": sqlite3.sqlite_version,
        "note": "medians of interleaved runs; SQLite WAL, synchronous=NORMAL on both sides",
    }


def table(medians: dict[int, dict[str, float]], summary: dict[str, Any]) -> Table:
    """The human-readable side-by-side table."""
    out = Table(
        title="Per-handoff overhead (median µs per handoff, lower is better)",
        caption=f"flatness (seamline N=200 / N=5): {summary['flatness']}  ·  "
        f"{summary['machine']}, Python {summary['python']}, SQLite {summary['sqlite']}",
    )
    for header in ("N", "runs", "seamline", "LangGraph sync", "LangGraph default", "ratio"):
        out.add_column(header, justify="right")
    for n, m in medians.items():
        ratio = m["langgraph_sync"] / m["seamline"]
        cells = [m["seamline"], m["langgraph_sync"], m["langgraph_default"]]
        out.add_row(
            str(n), str(int(m["repetitions"])), *(f"{c:,.0f}" for c in cells), f"{ratio:.2f}×"
        )
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse flags, measure, print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=15, help="repetitions for N=5 and N=50")
    parser.add_argument("--quick", action="store_true", help="3 repetitions, for smoke runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    medians = asyncio.run(measure(repeat, Console(stderr=True)))
    summary = report(medians)
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        Console().print(table(medians, summary))


if __name__ == "__main__":
    main()
