"""Per-handoff overhead of seamline against LangGraph + SqliteSaver, on the same chain.

Why: seamline validates, commits and de-duplicates every handoff, so users need to know what
that costs next to the usual alternative. Both systems run a line of N trivial agents that
pass one pydantic payload, each persisting every step to SQLite (WAL, ``synchronous=NORMAL``
on both sides) before the next starts. Per-handoff cost = wall time of one run / N; the
machine is shared, so the systems are interleaved within each repetition and medians quoted.

With ``--tracing`` it measures instead what tracing and evaluation add to each seamline
handoff: the same N=50 chain with the OpenTelemetry SDK exporting to memory and the built-in
evaluators on, against the chain with neither. A tracer provider is process-wide, so the two
run in alternating child processes and the overhead is the median of paired differences.

Usage: ``python bench/handoff_overhead.py [--quick] [--repeat R] [--json] [--tracing]``
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
import subprocess
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
from seamline.evals import DEFAULT_EVALUATORS

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


def seamline_chain(n: int, db: Path, *, evaluate: bool = True) -> Runtime:
    """A line of n seamline agents; the last one finishes with the final payload."""

    def make(i: int) -> Agent:
        def step(item: Item, ctx: Context) -> Outcome:
            nxt = _next(item)
            return Finish(nxt) if i == n - 1 else HandOff(to=f"a{i + 1}", payload=nxt)

        card = agent(name=f"a{i}", version="1.0.0", owner="bench", accepts=[ITEM], emits=[ITEM])
        return card(step)

    registry = Registry(agents=[make(i) for i in range(n)], contracts=[ITEM])
    evaluators = DEFAULT_EVALUATORS if evaluate else ()
    return Runtime(registry, SqliteStore(db), max_hops=n + 5, evaluators=evaluators)


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


TRACED_N = 50


async def child_samples(traced: bool, runs: int) -> list[float]:
    """One side of the tracing comparison, in this (child) process: µs per handoff per run."""
    exporter = None
    if traced:
        from seamline.telemetry import configure

        exporter = configure("memory").exporter  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="seamline-bench-") as tmp:
        runtime = seamline_chain(TRACED_N, Path(tmp) / "t.db", evaluate=traced)
        samples = []
        for index in range(runs + 3):  # three warm-up runs
            gc.collect()
            start = time.perf_counter()
            result = await runtime.run("a0", FIRST, intent="benchmark the tracing overhead")
            elapsed = time.perf_counter() - start
            _check(result.handoffs == TRACED_N, result)
            if exporter is not None:
                spans = exporter.get_finished_spans()
                # workflow + one agent span per step + one handoff span per transition
                _check(len(spans) == 2 * TRACED_N, len(spans))
                passed = [s for s in spans if "seamline.evaluation.passed" in (s.attributes or {})]
                _check(len(passed) == TRACED_N - 1, len(passed))  # the built-in evaluations
                exporter.clear()
            if index >= 3:
                samples.append(elapsed / TRACED_N * 1e6)
        runtime.store.close()
    return samples


def bare_span_us(count: int = 5000) -> float:
    """The anchor: one SDK span with five attributes, exported to memory, in this process.

    Two spans per handoff (the step's and the handoff's) are the floor any instrumentation
    of this shape pays, whatever it records.
    """
    from opentelemetry import trace

    from seamline.telemetry import configure

    exporter = configure("memory").exporter  # type: ignore[attr-defined]
    tracer = trace.get_tracer("bench")
    attributes = {f"bench.attribute.{i}": f"value {i}" for i in range(5)}
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(count):
            with tracer.start_as_current_span("bench", attributes=attributes):
                pass
        rounds.append((time.perf_counter() - start) / count * 1e6)
        exporter.clear()
    return statistics.median(rounds)


def measure_tracing(pairs: int, runs: int, log: Console) -> dict[str, Any]:
    """Alternate plain and traced child processes; overhead = median paired difference."""
    plain: list[float] = []
    traced: list[float] = []
    spans: list[float] = []
    for rep in range(pairs):
        pair = {}
        for side in (False, True) if rep % 2 == 0 else (True, False):
            flag = "traced" if side else "plain"
            out = subprocess.run(
                [sys.executable, __file__, "--child", flag, "--runs", str(runs)],
                capture_output=True,
                text=True,
                check=True,
            )
            pair[side] = statistics.median(json.loads(out.stdout))
        plain.append(pair[False])
        traced.append(pair[True])
        out = subprocess.run(
            [sys.executable, __file__, "--child", "span"],
            capture_output=True,
            text=True,
            check=True,
        )
        spans.append(json.loads(out.stdout))
        log.print(f"pair {rep + 1}/{pairs}: {pair[False]:.0f} vs {pair[True]:.0f} µs", style="dim")
    overhead = statistics.median(t - p for p, t in zip(plain, traced, strict=True))
    floor = 2 * statistics.median(spans)
    return {
        "tracing_overhead_us": round(overhead, 1),
        "two_bare_spans_us": round(floor, 1),
        "overhead_vs_two_bare_spans": round(overhead / floor, 2),
        "plain_us_per_handoff": round(statistics.median(plain), 1),
        "traced_us_per_handoff": round(statistics.median(traced), 1),
        "target_us": 30,
        "pairs": pairs,
        "runs_per_process": runs,
        "n": TRACED_N,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "opentelemetry_sdk": version("opentelemetry-sdk"),
        "note": "traced = SDK + in-memory exporter (SimpleSpanProcessor) + built-in evaluators; "
        "plain = no SDK, evaluators=(); medians of paired child processes",
    }


def tracing_table(summary: dict[str, Any]) -> Table:
    """The tracing comparison for people."""
    out = Table(
        title="What tracing and evaluation add per handoff (median µs, N=50)",
        caption=f"{summary['pairs']} process pairs × {summary['runs_per_process']} runs  ·  "
        f"{summary['machine']}, Python {summary['python']}",
    )
    for header in ("plain", "traced + evaluated", "overhead", "2 bare SDK spans", "target"):
        out.add_column(header, justify="right")
    out.add_row(
        f"{summary['plain_us_per_handoff']:,.0f}",
        f"{summary['traced_us_per_handoff']:,.0f}",
        f"{summary['tracing_overhead_us']:,.1f}",
        f"{summary['two_bare_spans_us']:,.1f}",
        f"≤ {summary['target_us']}",
    )
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse flags, measure, print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=15, help="repetitions for N=5 and N=50")
    parser.add_argument("--quick", action="store_true", help="3 repetitions, for smoke runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument(
        "--tracing", action="store_true", help="measure what tracing + evaluators add instead"
    )
    parser.add_argument("--child", choices=("plain", "traced", "span"), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=15, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "span":
        sys.stdout.write(json.dumps(bare_span_us()) + "\n")
        return
    if args.child:
        samples = asyncio.run(child_samples(args.child == "traced", args.runs))
        sys.stdout.write(json.dumps(samples) + "\n")
        return
    repeat = 3 if args.quick else args.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.tracing:
        runs = 5 if args.quick else 15
        summary = measure_tracing(max(3, repeat // 2), runs, Console(stderr=True))
        if args.json:
            sys.stdout.write(json.dumps(summary) + "\n")
        else:
            Console().print(tracing_table(summary))
        return
    medians = asyncio.run(measure(repeat, Console(stderr=True)))
    summary = report(medians)
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        Console().print(table(medians, summary))


if __name__ == "__main__":
    main()
