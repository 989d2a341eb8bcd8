"""Durable handoffs per second with 1 and 4 worker processes on one PostgreSQL.

Why: scale-out is only worth its complexity if workers add throughput, and users need to know
how close seamline gets to what the database itself allows. Workflows of CHAIN trivial
agents are queued (``Runtime.submit``, not timed), then worker processes, started and ready
beforehand, are told to go together; the clock stops when the queue is empty, every
workflow ended. The anchor, measured in the same run with the same 4 processes: plain SQL
doing what a queue worker minimally does per item, a claim transaction (the same
``UPDATE ... FOR UPDATE SKIP LOCKED``) and a completion transaction (one log row in, the
queue row out). Medians over repetitions; the machine is shared and noisy.

Usage: ``python bench/postgres_throughput.py [--json] [--quick] [--url URL]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from typing import Any

import anyio
import psycopg
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from seamline import Agent, Context, Contract, Finish, HandOff, Outcome, Registry, Runtime, agent
from seamline.stores import PostgresStore

URL = os.environ.get("SEAMLINE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CHAIN = 10


class Item(BaseModel):
    """The payload every agent receives and rebuilds."""

    order_id: str
    step: int


ITEM = Contract(model=Item, name="item", version="1.0.0", owner="bench")


def registry() -> Registry:
    """A line of CHAIN trivial agents; the last one finishes."""

    def make(i: int) -> Agent:
        def step(item: Item, ctx: Context) -> Outcome:
            nxt = Item(order_id=item.order_id, step=item.step + 1)
            return Finish(nxt) if i == CHAIN - 1 else HandOff(to=f"a{i + 1}", payload=nxt)

        card = agent(name=f"a{i}", version="1.0.0", owner="bench", accepts=[ITEM], emits=[ITEM])
        return card(step)

    return Registry(agents=[make(i) for i in range(CHAIN)], contracts=[ITEM])


# -- child processes ---------------------------------------------------------------------------


def child_worker(url: str, schema: str) -> None:
    """One worker: ready, wait for "go" on stdin, drive until the queue stays empty."""
    store = PostgresStore(url, schema=schema, max_size=2)
    worker = Runtime(registry(), store).worker(poll_seconds=0.05)
    print("ready", flush=True)
    sys.stdin.readline()
    stats = anyio.run(lambda: worker.run(idle_exit=0.5))
    print(json.dumps({"handoffs": stats.handoffs, "lost": stats.lost}), flush=True)
    store.close()


_FLOOR_CLAIM = """
UPDATE floor_work SET lease = %s, lease_expires_at = now() + interval '30 seconds'
WHERE id = (SELECT id FROM floor_work WHERE lease IS NULL ORDER BY ready_at LIMIT 1
            FOR UPDATE SKIP LOCKED)
RETURNING id
"""


def child_floor(url: str, schema: str) -> None:
    """The anchor: claim and complete items in plain SQL until none are left."""
    with psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}") as conn:
        token = secrets.token_hex(8)
        print("ready", flush=True)
        sys.stdin.readline()
        done = 0
        while True:
            row = conn.execute(_FLOOR_CLAIM, [token]).fetchone()
            if row is None:
                break
            with conn.transaction():
                conn.execute("INSERT INTO floor_log (id, seq, data) VALUES (%s, 1, '{}')", row)
                conn.execute("DELETE FROM floor_work WHERE id = %s", row)
            done += 1
        print(json.dumps({"handoffs": done, "lost": 0}), flush=True)


# -- the parent --------------------------------------------------------------------------------


def run_together(mode: str, processes: int, url: str, schema: str) -> float:
    """Start ``processes`` children, wait until all are ready, say go; seconds to finish."""
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", mode, "--url", url, "--schema", schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit(f"a {mode} child failed to start")
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    with psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}") as conn:
        table = "work" if mode == "worker" else "floor_work"
        while conn.execute(f"SELECT count(*) FROM {table}").fetchone() != (0,):
            time.sleep(0.005)
    elapsed = time.perf_counter() - started
    for child in children:
        child.communicate(timeout=60)
    return elapsed


def fresh_schema(url: str) -> str:
    """A new schema holding a migrated seamline store and the anchor's two tables."""
    schema = f"bench_{secrets.token_hex(4)}"
    PostgresStore(url, schema=schema, migrate=True).close()
    with psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}") as conn:
        conn.execute(
            "CREATE TABLE floor_work (id bigint PRIMARY KEY, ready_at timestamptz NOT NULL, "
            "lease text, lease_expires_at timestamptz)"
        )
        conn.execute("CREATE INDEX floor_ready ON floor_work (ready_at) WHERE lease IS NULL")
        conn.execute(
            "CREATE TABLE floor_log (id bigint, seq int, data text, PRIMARY KEY (id, seq))"
        )
    return schema


def drop(url: str, schema: str) -> None:
    """Remove a benchmark schema."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def seamline_rate(url: str, processes: int, workflows: int) -> float:
    """Handoffs per second with ``processes`` workers over ``workflows`` queued workflows."""
    schema = fresh_schema(url)
    try:
        store = PostgresStore(url, schema=schema)
        runtime = Runtime(registry(), store)

        async def submit() -> None:
            for n in range(workflows):
                await runtime.submit("a0", Item(order_id=f"o-{n}", step=0), intent="bench")

        anyio.run(submit)
        store.close()
        return workflows * CHAIN / run_together("worker", processes, url, schema)
    finally:
        drop(url, schema)


def floor_rate(url: str, processes: int, items: int) -> float:
    """Plain-SQL claim + complete transactions per second with ``processes`` processes."""
    schema = fresh_schema(url)
    try:
        with psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}") as conn:
            conn.execute(
                "INSERT INTO floor_work SELECT n, now() + n * interval '1 microsecond', NULL, "
                "NULL FROM generate_series(1, %s) n",
                [items],
            )
        return items / run_together("floor", processes, url, schema)
    finally:
        drop(url, schema)


def measure(url: str, repeat: int, workflows: int, log: Console) -> dict[str, Any]:
    """Median rates, the three measurements interleaved in every repetition."""
    one: list[float] = []
    four: list[float] = []
    floor: list[float] = []
    for rep in range(repeat):
        floor.append(floor_rate(url, 4, workflows * CHAIN))
        four.append(seamline_rate(url, 4, workflows))
        one.append(seamline_rate(url, 1, workflows))
        log.print(
            f"repetition {rep + 1}/{repeat}: 1 worker {one[-1]:,.0f}/s, 4 workers "
            f"{four[-1]:,.0f}/s, floor {floor[-1]:,.0f}/s",
            style="dim",
        )
    with psycopg.connect(url) as conn:
        server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    per_4 = statistics.median(four)
    per_floor = statistics.median(floor)
    return {
        "handoffs_per_s_1": round(statistics.median(one), 1),
        "handoffs_per_s_4": round(per_4, 1),
        "floor_per_s": round(per_floor, 1),
        "efficiency": round(per_4 / per_floor, 3),
        "scaling_1_to_4": round(per_4 / statistics.median(one), 2),
        "targets": {"handoffs_per_s_4": 2000, "efficiency": 0.5},
        "workflows": workflows,
        "chain": CHAIN,
        "repetitions": repeat,
        "postgres": server,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "note": "workers and PostgreSQL share the machine; medians of interleaved runs",
    }


def table(summary: dict[str, Any]) -> Table:
    """The numbers for people."""
    out = Table(
        title="Durable handoffs per second on PostgreSQL (median, higher is better)",
        caption=f"{summary['workflows']} workflows × {summary['chain']} handoffs, "
        f"{summary['repetitions']} repetitions · PostgreSQL {summary['postgres']} · "
        f"{summary['machine']}",
    )
    for header in ("1 worker", "4 workers", "plain-SQL floor (4)", "efficiency", "target"):
        out.add_column(header, justify="right")
    out.add_row(
        f"{summary['handoffs_per_s_1']:,.0f}",
        f"{summary['handoffs_per_s_4']:,.0f}",
        f"{summary['floor_per_s']:,.0f}",
        f"{summary['efficiency']:.2f}",
        "≥ 2,000/s, ≥ 0.5",
    )
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse flags, measure, print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="fewer workflows and repetitions")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default=URL, help="PostgreSQL (env SEAMLINE_BENCH_POSTGRES)")
    parser.add_argument("--child", choices=("worker", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "worker":
        child_worker(args.url, args.schema)
        return
    if args.child == "floor":
        child_floor(args.url, args.schema)
        return
    repeat = 1 if args.quick else args.repeat
    workflows = 50 if args.quick else 300
    summary = measure(args.url, repeat, workflows, Console(stderr=True))
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        Console().print(table(summary))


if __name__ == "__main__":
    main()
