"""Memory at scale: exact lookups and hybrid search over 100k artifacts, context down a chain.

Why: agents are told to look facts up in memory instead of passing summaries along, which
only works if a lookup is cheap next to a step, search stays interactive when a workflow
has remembered a lot, and what each receiver is handed does not grow with the chain.

- ``kv_get_us``: p50 of ``Memory.get`` (exact key, newest version) over random keys of one
  workflow holding 100k artifacts (some keys with several versions), beside the raw-SQL
  floor of the same lookup (``kv_get_floor_us``).
- ``search_ms``: p50 of a top-10 hybrid search (FTS5/BM25 + vectors of the default
  HashingEmbedder, fused by RRF) over the same workflow, for varied support queries, warm
  (after one warm-up query). The cold first query, which loads every vector, is reported
  apart, and each warm query is also split into its parts to show what dominates.
- ``context_bytes_hop5`` / ``context_bytes_hop200``: the bytes a receiver is handed in a
  real Runtime chain of 201 relay agents (hops 0-200), each writing an artifact: the
  envelope JSON it is given plus ``ctx.memory.context(keys=[previous hop's key])`` rendered.

The 100k artifacts are generated support-desk records (orders, tickets, refund decisions,
call notes, with ids) written through ``SqliteStore.apply(Commit(artifacts=...))`` in
batches, with vectors embedded in batches: not through agents, which would measure the
runtime instead and take minutes. The chain, by contrast, is real agents on a real Runtime.

Usage: ``python bench/memory.py [--quick] [--json]`` (``--quick``: 10k artifacts)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from seamline import (
    Agent,
    Context,
    Contract,
    Finish,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.contracts.envelope import intent_hash
from seamline.memory import HashingEmbedder, Memory
from seamline.memory.artifact import artifact_text, encode_value
from seamline.memory.search import Searcher
from seamline.memory.vectors import VectorIndex, from_blobs, to_blob
from seamline.stores import ArtifactRecord, Commit, WorkflowRecord, WorkflowStatus
from seamline.types import new_id, utcnow

FULL, QUICK = 100_000, 10_000
BATCH = 5_000
GETS = 2_000
QUERIES = 60
HOPS = 200
CONTEXT_BUDGET = 4_096
TARGETS = {"kv_get_us": 20.0, "search_ms": 20.0, "context_growth": 1.05}
UNITS = {"kv_get_us": " µs", "search_ms": " ms", "context_growth": "×"}

PRODUCTS = (
    "desk lamp", "blender", "coffee grinder", "office chair", "standing desk", "kettle",
    "headphones", "monitor arm", "air purifier", "rice cooker", "bookshelf", "toaster",
    "vacuum cleaner", "wireless mouse", "keyboard", "water filter", "duvet", "frying pan",
)  # fmt: skip
DAMAGE = (
    "broken", "cracked", "scratched", "dented", "not working", "missing parts", "wet",
    "the wrong colour", "late", "smashed",
)  # fmt: skip
CARRIERS = ("DHL", "UPS", "FedEx", "GLS", "DPD", "Royal Mail", "PostNL", "Hermes")
CITIES = (
    "Berlin", "Hamburg", "Munich", "Vienna", "Zurich", "Amsterdam", "Lyon", "Milan", "Leeds",
    "Dublin", "Porto", "Krakow",
)  # fmt: skip
NAMES = (
    "Ana Costa", "Ben Ortiz", "Chen Wei", "Dara Okafor", "Eva Novak", "Farid Haddad",
    "Greta Lind", "Hugo Brandt", "Ines Moreau", "Jon Berg", "Kira Sato", "Liam Walsh",
)  # fmt: skip
STATUSES = ("paid", "packed", "shipped", "in transit", "delivered", "returned")
REASONS = (
    "item arrived damaged and photos confirm it", "parcel lost in transit by the carrier",
    "customer charged twice for the same order", "delivery more than ten days late",
    "wrong item shipped from the warehouse", "customer changed their mind within 14 days",
)  # fmt: skip
MESSAGES = (
    "My {product} arrived {damage}, I want a refund for order {order}.",
    "Where is order {order}? {carrier} tracking {tracking} has not moved since Monday.",
    "I was charged twice for order {order}, please refund {amount} EUR.",
    "The {product} from order {order} is {damage}; can you send a replacement to {city}?",
    "Order {order} says delivered but nothing reached my address in {city}.",
    "Please cancel order {order}, I ordered the {product} by mistake.",
)
QUERY_SHAPES = (
    "{product} arrived {damage} refund",
    "where is order {order} {carrier} tracking",
    "charged twice refund {amount} EUR",
    "{carrier} delivery late {city}",
    "replacement {product} {city}",
    "refund approved {reason}",
)


def order_id(rng: random.Random) -> str:
    """An order id of the kind support records are full of."""
    return f"ORD-{rng.randrange(1_000_000):06d}"


def fill(shape: str, rng: random.Random) -> str:
    """One sentence from a template, with fresh ids and amounts."""
    return shape.format(
        product=rng.choice(PRODUCTS),
        damage=rng.choice(DAMAGE),
        order=order_id(rng),
        carrier=rng.choice(CARRIERS),
        tracking=f"{rng.randrange(10**11):011d}",
        amount=f"{rng.randrange(500, 90_000) / 100:.2f}",
        city=rng.choice(CITIES),
        reason=rng.choice(REASONS),
    )


def record(rng: random.Random, i: int) -> tuple[str, str, str, Any]:
    """The i-th generated artifact: (key, kind, producer, value)."""
    match i % 4:
        case 0:
            order = {
                "order_id": order_id(rng),
                "customer": rng.choice(NAMES),
                "status": rng.choice(STATUSES),
                "carrier": rng.choice(CARRIERS),
                "city": rng.choice(CITIES),
                "items": [{"product": rng.choice(PRODUCTS), "qty": rng.randrange(1, 4)}],
                "value": f"{rng.randrange(500, 90_000) / 100:.2f}",
                "currency": "EUR",
            }
            return f"orders/{order['order_id']}", "tool_output", "order-lookup", order
        case 1:
            ticket = {"ticket_id": f"T-{i:07d}", "message": fill(rng.choice(MESSAGES), rng)}
            return f"tickets/T-{i:07d}", "fact", "intake", ticket
        case 2:
            decision = {
                "refund_id": f"RF-{i:07d}",
                "order_id": order_id(rng),
                "approved": rng.random() < 0.7,
                "amount": f"{rng.randrange(500, 90_000) / 100:.2f}",
                "reason": rng.choice(REASONS),
            }
            return f"decisions/RF-{i:07d}", "decision", "refunds", decision
        case _:
            note = (
                f"Called {rng.choice(NAMES)} about order {order_id(rng)}: "
                f"{rng.choice(REASONS)}; {rng.choice(CARRIERS)} claim opened."
            )
            return f"notes/N-{i:07d}", "note", "fulfillment", note


def populate(store: SqliteStore, count: int, log: Console) -> tuple[str, list[str], float]:
    """A workflow holding ``count`` artifacts; returns its id, its keys and seconds taken.

    One artifact in ten is a new version of an earlier order (a status change), so exact
    lookups have to pick the newest of several versions, as real ones do.
    """
    rng = random.Random(7)
    embedder = HashingEmbedder()
    now = utcnow()
    workflow = WorkflowRecord(
        id=new_id(), name="memory bench", status=WorkflowStatus.RUNNING, entry="intake",
        intent_sha256=intent_hash("benchmark memory"), max_hops=10, app=None, result=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    store.apply(Commit(workflow=workflow))
    versions: dict[str, int] = {}
    orders: list[tuple[str, Any]] = []
    start = time.perf_counter()
    for first in range(0, count, BATCH):
        rows: list[tuple[str, str, str, Any]] = []
        for i in range(first, min(first + BATCH, count)):
            if orders and rng.random() < 0.1:
                key, value = rng.choice(orders)
                rows.append((key, "tool_output", "order-lookup", {**value, "status": "returned"}))
            else:
                rows.append(record(rng, i))
                if rows[-1][1] == "tool_output":
                    orders.append((rows[-1][0], rows[-1][3]))
        encoded = [encode_value(key, value) for key, _, _, value in rows]
        texts = [
            artifact_text(row[0], json.loads(text)) for row, text in zip(rows, encoded, strict=True)
        ]
        vectors = embedder.embed(texts)
        handoff = new_id()
        artifacts = []
        for (key, kind, producer, _), value, text, vector in zip(
            rows, encoded, texts, vectors, strict=True
        ):
            versions[key] = versions.get(key, 0) + 1
            artifacts.append(
                ArtifactRecord(
                    id=new_id(),
                    correlation_id=workflow.id,
                    tenant=None,
                    key=key,
                    version=versions[key],
                    kind=kind,
                    value=value,
                    text=text,
                    producer=producer,
                    producer_version="1.0.0",
                    step=first // BATCH,
                    handoff_id=handoff,
                    contract="support.case@1.0.0",
                    created_at=utcnow(),
                    embedder=embedder.name,
                    vector=to_blob(vector),
                )
            )
        store.apply(Commit(artifacts=artifacts))
        log.print(f"  {first + len(rows):,} / {count:,} artifacts written", style="dim")
    return workflow.id, list(versions), time.perf_counter() - start


def micros(call: Callable[[], object]) -> float:
    """Wall time of one call in µs."""
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1e3


def p50(samples: list[float]) -> float:
    """The median: the machine is shared, so tails say more about neighbours than about us."""
    return statistics.median(samples)


def measure_get(memory: Memory, path: Path, workflow: str, keys: list[str]) -> tuple[float, float]:
    """p50 µs of ``Memory.get`` on random keys, and of the raw-SQL floor on the same keys.

    The floor is the least any SQLite-backed lookup can do here: one indexed SELECT of the
    newest value on a plain sqlite3 connection, decoded with ``json.loads``. The two are
    interleaved key by key so a noisy neighbour slows both alike.
    """
    raw = sqlite3.connect(path)

    def floor(key: str) -> object:
        row = raw.execute(
            "SELECT value FROM artifacts WHERE correlation_id = ? AND key = ? "
            "ORDER BY version DESC LIMIT 1",
            (workflow, key),
        ).fetchone()
        return json.loads(row[0])

    rng = random.Random(11)
    for key in rng.sample(keys, 200):
        memory.get(workflow, key)
        floor(key)
    gc.collect()
    ours: list[float] = []
    floors: list[float] = []
    for key in rng.sample(keys, GETS):
        ours.append(micros(partial(memory.get, workflow, key)))
        floors.append(micros(partial(floor, key)))
    raw.close()
    return p50(ours), p50(floors)


def queries() -> list[str]:
    """Varied support queries: products, damage, carriers, cities, ids, amounts."""
    rng = random.Random(13)
    return [fill(QUERY_SHAPES[i % len(QUERY_SHAPES)], rng) for i in range(QUERIES)]


@dataclass(frozen=True, slots=True)
class SearchTimes:
    """Search latency, whole and by part, in ms."""

    cold_ms: float
    warm_ms: float
    index_load_ms: float
    parts_ms: dict[str, float]


def measure_search(path: Path, workflow: str) -> SearchTimes:
    """Hybrid top-10 search on a freshly opened store: the cold first query, then warm ones.

    The parts re-run each step of a hybrid search on its own (FTS5, embedding the query,
    the vector scan, fetching and decoding the fused candidates), so the whole can be
    attributed; they run with the same pool of 50 candidates per ranking that search uses.
    """
    texts = queries()
    store = SqliteStore(path)
    memory = Memory(store)
    cold = micros(partial(memory.search, workflow, texts[0], limit=10)) / 1e3
    gc.collect()
    warm = p50([micros(partial(memory.search, workflow, t, limit=10)) for t in texts[1:]])

    index = VectorIndex(memory.embedder.dim)

    def load() -> None:
        rows = store.artifact_vectors(workflow, None, 0)
        index.add([seq for seq, _, _ in rows], from_blobs([b for _, _, b in rows], index.dim))

    index_load = micros(load) / 1e3
    parts: dict[str, list[float]] = {"fts": [], "embed": [], "vectors": [], "fetch": []}
    searcher = Searcher(store, memory.embedder)
    for text in texts[1:]:
        parts["fts"].append(micros(partial(searcher.lexical, workflow, None, text, 50)))
        lexical = searcher.lexical(workflow, None, text, 50)
        parts["embed"].append(micros(partial(memory.embedder.embed, [text])))
        vector = memory.embedder.embed([text])[0]
        parts["vectors"].append(micros(partial(index.search, vector, 50)))
        seqs = list(dict.fromkeys(lexical + [seq for seq, _ in index.search(vector, 50)]))
        parts["fetch"].append(micros(partial(store.artifacts_by_seq, seqs)))
    store.close()
    return SearchTimes(
        cold_ms=cold,
        warm_ms=warm / 1e3,
        index_load_ms=index_load,
        parts_ms={name: p50(samples) / 1e3 for name, samples in parts.items()},
    )


class Relay(BaseModel):
    """What each relay hands the next: the case, not its history."""

    case_id: str
    order_id: str
    hop: int


RELAY = Contract(
    model=Relay, name="relay.case", version="1.0.0", owner="bench", tracked=("order_id",)
)


def relay_chain(db: Path, sizes: dict[int, int]) -> Runtime:
    """Relays relay_0..relay_HOPS on SQLite; each records the bytes it is handed in ``sizes``.

    Each hop reads the previous hop's finding by key, measures what it was handed, then
    writes its own finding: every hop adds to memory, none adds to what travels.
    """

    def make(hop: int) -> Agent:
        def step(case: Relay, ctx: Context) -> Outcome:
            keys = [f"findings/hop-{hop - 1}"] if hop else []
            handed = ctx.memory.context(keys=keys, max_bytes=CONTEXT_BUDGET)
            if handed.dropped or len(handed.items) != 2 + len(keys):
                raise RuntimeError(f"hop {hop} was not handed its whole context: {handed}")
            envelope = ctx.envelope.model_dump_json().encode("utf-8")
            sizes[ctx.envelope.hop] = len(envelope) + len(handed.render().encode("utf-8"))
            finding = {
                "hop": hop,
                "order_id": case.order_id,
                "checked": "refund amount matches the order on record",
                "amount": "54.50",
                "currency": "EUR",
                "next": "confirm the carrier claim before paying out",
            }
            ctx.memory.put(f"findings/hop-{hop}", finding, kind="finding")
            if hop == HOPS:
                return Finish({"hops": hop})
            return HandOff(to=f"relay_{hop + 1}", payload=case.model_copy(update={"hop": hop + 1}))

        card = agent(
            name=f"relay_{hop}", version="1.0.0", owner="bench", accepts=[RELAY], emits=[RELAY]
        )
        return card(step)

    registry = Registry(agents=[make(hop) for hop in range(HOPS + 1)], contracts=[RELAY])
    return Runtime(registry, SqliteStore(db), max_hops=HOPS + 5)


def measure_context(tmp: Path) -> dict[int, int]:
    """Bytes handed to the receiver at every hop of one run of the relay chain."""
    sizes: dict[int, int] = {}
    runtime = relay_chain(tmp / "chain.db", sizes)
    first = Relay(case_id="CASE-1002", order_id="ORD-1002", hop=0)
    intent = "My blender arrived damaged, I want a refund of 54.50 EUR for order ORD-1002."
    result = asyncio.run(runtime.run("relay_0", first, intent=intent))
    runtime.store.close()
    if result.status is not WorkflowStatus.COMPLETED or sorted(sizes) != list(range(HOPS + 1)):
        raise RuntimeError(f"the relay chain did not run to its end: {result!r}")
    return sizes


def run(count: int, log: Console) -> dict[str, Any]:
    """Every measurement, as the JSON summary."""
    with tempfile.TemporaryDirectory(prefix="seamline-bench-memory-") as tmp:
        path = Path(tmp) / "memory.db"
        store = SqliteStore(path)
        log.print(f"writing {count:,} artifacts into one workflow", style="dim")
        workflow, keys, populate_s = populate(store, count, log)
        get_us, get_floor_us = measure_get(Memory(store), path, workflow, keys)
        store.close()
        log.print("searching", style="dim")
        search = measure_search(path, workflow)
        log.print(f"running a chain of {HOPS + 1} relay agents", style="dim")
        sizes = measure_context(Path(tmp))
        database_mb = path.stat().st_size / 2**20
    measured = {
        "kv_get_us": round(get_us, 1),
        "search_ms": round(search.warm_ms, 2),
        "context_growth": round(sizes[HOPS] / sizes[5], 3),
    }
    return {
        "artifacts": count,
        "keys": len(keys),
        "kv_get_us": measured["kv_get_us"],
        "kv_get_floor_us": round(get_floor_us, 1),
        "search_ms": measured["search_ms"],
        "search_cold_ms": round(search.cold_ms, 1),
        "search_parts_ms": {name: round(ms, 2) for name, ms in search.parts_ms.items()},
        "vector_index_load_ms": round(search.index_load_ms, 1),
        "context_bytes_hop5": sizes[5],
        f"context_bytes_hop{HOPS}": sizes[HOPS],
        "context_growth": measured["context_growth"],
        "targets": TARGETS,
        "met": {name: measured[name] <= target for name, target in TARGETS.items()},
        "populate_s": round(populate_s, 1),
        "database_mb": round(database_mb, 1),
        "populated": f"SqliteStore.apply(Commit(artifacts=...)) in batches of {BATCH:,}, "
        "vectors embedded per batch; not through agents",
        "embedder": HashingEmbedder().name,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "seamline": version("seamline"),
        "numpy": version("numpy"),
        "sqlite": sqlite3.sqlite_version,
        "note": f"p50 of {GETS:,} gets and {QUERIES - 1} warm queries; one warm-up query first",
    }


def table(summary: dict[str, Any]) -> Table:
    """The human-readable summary, each number next to its target."""
    count = summary["artifacts"]
    out = Table(
        title=f"Memory with {count:,} artifacts in one workflow (medians)",
        caption=f"{summary['machine']}, Python {summary['python']}, SQLite {summary['sqlite']}\n"
        f"populated through {summary['populated']}",
    )
    for header in ("measure", "value", "target", "met"):
        out.add_column(header, justify="left" if header == "measure" else "right")
    parts = summary["search_parts_ms"]
    rows: list[tuple[str, str, str | None]] = [
        ("exact-key get (p50)", f"{summary['kv_get_us']:.1f} µs", "kv_get_us"),
        ("  raw sqlite3 floor: one SELECT", f"{summary['kv_get_floor_us']:.1f} µs", None),
        ("hybrid search, top 10, warm (p50)", f"{summary['search_ms']:.2f} ms", "search_ms"),
        ("  FTS5 / BM25 (all words, then any), 50", f"{parts['fts']:.2f} ms", None),
        ("  embed the query", f"{parts['embed']:.2f} ms", None),
        ("  vector scan, 50 candidates", f"{parts['vectors']:.2f} ms", None),
        ("  fetch the fused candidates", f"{parts['fetch']:.2f} ms", None),
        ("hybrid search, cold first query", f"{summary['search_cold_ms']:.1f} ms", None),
        ("  the vector load alone", f"{summary['vector_index_load_ms']:.1f} ms", None),
        ("context handed over at hop 5", f"{summary['context_bytes_hop5']:,} B", None),
        (
            f"context handed over at hop {HOPS}",
            f"{summary[f'context_bytes_hop{HOPS}']:,} B",
            None,
        ),
        (f"context growth (hop {HOPS} / 5)", f"{summary['context_growth']:.3f}×", "context_growth"),
        ("populating the store", f"{summary['populate_s']:.1f} s", None),
    ]
    for label, value, target in rows:
        if target is None:
            out.add_row(label, value, "", "")
        else:
            met = summary["met"][target]
            out.add_row(
                label,
                value,
                f"≤ {TARGETS[target]:g}{UNITS[target]}",
                "[green]yes[/]" if met else "[red]no[/]",
            )
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse flags, measure, print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} artifacts, for smoke runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args(argv)
    summary = run(QUICK if args.quick else FULL, Console(stderr=True))
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        Console().print(table(summary))


if __name__ == "__main__":
    main()
