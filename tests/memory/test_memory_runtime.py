"""Memory through a real runtime on SQLite and PostgreSQL: provenance, versions, audit, search,
budgets."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
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
    NotFoundError,
    Outcome,
    Registry,
    RunResult,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.memory import MAX_ARTIFACT_BYTES, Memory
from seamline.stores import ArtifactStore, WorkflowStatus


class Note(BaseModel):
    """What travels between the test agents."""

    text: str


NOTE = Contract(
    model=Note,
    name="note",
    version="1.0.0",
    owner="tests",
    policy=FailurePolicy(feedback_retries=0),
)
seen: dict[str, Any] = {}

Body = Callable[[Note, Context], Outcome]


def chain(first: Body, second: Body) -> Registry:
    """writer -> reader, each running the given body."""
    writer = agent(name="writer", version="1.1.0", owner="ops", accepts=[NOTE], emits=[NOTE])(first)
    reader = agent(name="reader", version="2.0.0", owner="ops", accepts=[NOTE])(second)
    return Registry(agents=[writer, reader], contracts=[NOTE])


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    """Each memory store, empty: SQLite in a fresh file, PostgreSQL in a fresh schema."""
    if request.param == "postgres":
        yield request.getfixturevalue("pg_store")
        return
    made = SqliteStore(tmp_path / "ledger.db")
    yield made
    made.close()


def run(registry: Registry, store: ArtifactStore, **options: Any) -> tuple[Runtime, RunResult]:
    """Run the chain once on ``store``."""
    runtime = Runtime(registry, store, **options)
    result = anyio.run(lambda: runtime.run("writer", Note(text="hi"), intent="refund the lamp"))
    return runtime, result


def order_writer(note: Note, ctx: Context) -> Outcome:
    """Remembers an order twice (two versions), a decision, then hands off."""
    ctx.memory.put("order", {"id": "ORD-1001", "status": "shipped"}, kind="tool_output")
    delivered = {"id": "ORD-1001", "status": "delivered", "value": "129.99"}
    ctx.memory.put("order", delivered, kind="tool_output")
    ctx.memory.put("decision", "refund approved: the lamp arrived broken", kind="decision")
    seen["own_read"] = ctx.memory.get("order").version
    return HandOff(to="reader", payload=note)


def order_reader(note: Note, ctx: Context) -> Outcome:
    """Reads by key, filter, search and budgeted context."""
    seen["order"] = ctx.memory.get("order")
    seen["first"] = ctx.memory.get("order", version=1)
    seen["decisions"] = ctx.memory.list({"kind": "decision"})
    seen["delivered"] = ctx.memory.list({"where": {"status": "delivered"}})
    seen["hits"] = ctx.memory.search("broken lamp")
    seen["context"] = ctx.memory.context(keys=["order", "missing"], query="refund", max_bytes=200)
    return Finish({"ok": True})


def test_writes_carry_provenance_and_never_overwrite(store: ArtifactStore) -> None:
    """Each put is a new version with producer, step, handoff and contract; both stay readable."""
    runtime, result = run(chain(order_writer, order_reader), store)
    assert result.status is WorkflowStatus.COMPLETED
    assert seen["own_read"] == 2  # a step reads its own writes at once
    newest, first = seen["order"], seen["first"]
    assert (newest.version, newest.value["status"]) == (2, "delivered")
    assert first.value["status"] == "shipped"
    assert (newest.producer, newest.producer_version, newest.step) == ("writer", "1.1.0", 0)
    assert newest.contract == "note@1.0.0" and newest.kind == "tool_output"
    first_handoff = runtime.ledger.handoffs(result.workflow_id)[0]
    assert newest.handoff_id == first_handoff.id
    assert [a.key for a in seen["decisions"]] == ["decision"]
    assert [a.ref for a in seen["delivered"]] == ["order@2"]
    every = runtime.memory.list(result.workflow_id, {"all_versions": True, "key": "order"})  # type: ignore[union-attr]
    assert [a.version for a in every] == [2, 1]


def test_artifacts_are_append_only_in_the_database(tmp_path: Path) -> None:
    """Even raw SQL cannot change or delete a stored version (SQLite; see test_postgres.py)."""
    run(chain(order_writer, order_reader), SqliteStore(tmp_path / "ledger.db"))
    raw = sqlite3.connect(tmp_path / "ledger.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE artifacts SET value = '\"forged\"'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM memory_reads")
    raw.close()


def test_every_read_is_audited_with_who_what_and_the_handoff(store: ArtifactStore) -> None:
    """get, list, search and context each leave a row naming the agent and returned ids."""
    runtime, result = run(chain(order_writer, order_reader), store)
    assert runtime.memory is not None
    reads = runtime.memory.reads(result.workflow_id, agent="reader")
    assert [r.operation for r in reads] == ["get", "get", "list", "list", "search", "context"]
    assert {(r.agent, r.agent_version) for r in reads} == {("reader", "2.0.0")}
    second_handoff = runtime.ledger.handoffs(result.workflow_id)[1]
    assert {r.handoff_id for r in reads} == {second_handoff.id}
    assert json.loads(reads[0].returned) == [seen["order"].id]
    assert json.loads(reads[4].query) == {"text": "broken lamp", "mode": "hybrid", "limit": 10}
    assert json.loads(reads[4].returned) == [hit.artifact.id for hit in seen["hits"]]
    writer_reads = runtime.memory.reads(result.workflow_id, agent="writer")
    assert [r.operation for r in writer_reads] == ["get"]


def test_search_finds_by_words_and_by_meaning(store: ArtifactStore) -> None:
    """The decision about a broken lamp ranks first for 'broken lamp', found both ways."""
    runtime, result = run(chain(order_writer, order_reader), store)
    assert runtime.memory is not None
    top = seen["hits"][0]
    assert top.artifact.key == "decision" and top.lexical_rank == 1 and top.semantic_rank == 1
    exact = runtime.memory.search(result.workflow_id, "ORD-1001", mode="lexical")
    assert [hit.artifact.key for hit in exact] == ["order"]
    meaning = runtime.memory.search(
        result.workflow_id, "lamps that arrived broken", mode="semantic"
    )
    assert meaning[0].artifact.key == "decision" and meaning[0].lexical_rank is None


@pytest.mark.parametrize(
    "text", ['"NEAR(', "refund*", "text:lamp", "lamp AND OR NOT", "'; DROP TABLE artifacts; --"]
)
def test_search_syntax_is_searched_as_text_never_executed(store: ArtifactStore, text: str) -> None:
    """FTS5 operators and SQL in a query are words to look for, not syntax."""
    runtime, result = run(chain(order_writer, order_reader), store)
    assert runtime.memory is not None
    runtime.memory.search(result.workflow_id, text, mode="lexical")
    assert len(runtime.memory.list(result.workflow_id)) == 2


def test_budgeted_context_keeps_the_documented_order(store: ArtifactStore) -> None:
    """Intent and constraints, then asked keys, then hits; what does not fit is named."""
    run(chain(order_writer, order_reader), store)
    context = seen["context"]
    assert [item.source for item in context.items][:3] == ["intent", "constraints", "key"]
    assert context.items[2].value["status"] == "delivered"
    assert context.size <= 200 and context.size == sum(item.size for item in context.items)
    assert context.dropped == ("decision",)  # the search hit did not fit; never truncated
    assert context.tokens == -(-context.size // 4)


def failing_writer(note: Note, ctx: Context) -> Outcome:
    """Writes, reads, then fails: its writes must not become memory."""
    ctx.memory.put("draft", "half-done work")
    with pytest.raises(NotFoundError):
        ctx.memory.get("nothing-here")
    raise RuntimeError("tool timed out")


def test_a_failed_step_leaves_no_artifacts_but_its_reads_stay_on_record(
    store: ArtifactStore,
) -> None:
    """Writes commit only with an accepted outcome; what the step read explains the failure."""
    runtime, result = run(chain(failing_writer, order_reader), store)
    assert result.status is WorkflowStatus.DEAD_LETTERED and runtime.memory is not None
    assert runtime.memory.list(result.workflow_id) == []
    reads = runtime.memory.reads(result.workflow_id)
    assert [(r.operation, json.loads(r.returned)) for r in reads] == [("get", [])]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * (MAX_ARTIFACT_BYTES + 1), "over the 262,144-byte limit"),
        ("bad \ud800 text", "invalid UTF-8"),
        (object(), "is not JSON"),
        (float("nan"), "is not JSON"),
    ],
)
def test_values_that_cannot_be_stored_exactly_are_refused(
    store: ArtifactStore, value: Any, message: str
) -> None:
    """Oversized, invalid UTF-8 and non-JSON values raise and store nothing."""

    def writer(note: Note, ctx: Context) -> Outcome:
        ctx.memory.put("fine", "kept only if the step succeeds")
        with pytest.raises(ConfigurationError, match=message):
            ctx.memory.put("bad", value)
        return Finish({"ok": True})

    runtime, result = run(chain(writer, order_reader), store)
    assert runtime.memory is not None
    assert [a.key for a in runtime.memory.list(result.workflow_id)] == ["fine"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"colour": "red"}, r"bad memory filter: colour: Extra inputs"),
        ({"where": {"a..b": 1}}, r"not a field path"),
        ({"where": {"status": {"nested": 1}}}, r"bad memory filter: where\.status"),
        ({"limit": 0}, r"bad memory filter: limit"),
        ({"step": -1}, r"bad memory filter: step"),
        ({"key": "bad key!"}, r"memory key 'bad key!' is invalid"),
    ],
)
def test_malformed_filters_are_clear_errors(
    store: ArtifactStore, where: dict[str, Any], message: str
) -> None:
    """A bad filter names what is wrong; no SQL error leaks."""
    runtime, result = run(chain(order_writer, order_reader), store)
    assert runtime.memory is not None
    with pytest.raises(ConfigurationError, match=message):
        runtime.memory.list(result.workflow_id, where)


def test_bad_keys_kinds_and_search_arguments(store: ArtifactStore) -> None:
    """Keys, kinds, empty queries and limits are checked before anything is stored or run."""
    runtime, result = run(chain(order_writer, order_reader), store)
    memory = runtime.memory
    assert memory is not None
    with pytest.raises(ConfigurationError, match="has no words"):
        memory.search(result.workflow_id, "?!", mode="lexical")
    with pytest.raises(ConfigurationError, match="between 1 and 100"):
        memory.search(result.workflow_id, "lamp", limit=0)
    with pytest.raises(ValueError, match="'fuzzy' is not a valid SearchMode"):
        memory.search(result.workflow_id, "lamp", mode="fuzzy")
    step = memory.step(runtime.ledger.handoffs(result.workflow_id)[0].envelope, "ops", "1.0.0")
    with pytest.raises(ConfigurationError, match="memory key ' ' is invalid"):
        step.put(" ", 1)
    with pytest.raises(ConfigurationError, match="artifact kind 'Tool Output' is invalid"):
        step.put("k", 1, kind="Tool Output")
    with pytest.raises(ConfigurationError, match="max_bytes or max_tokens, not both"):
        step.context(max_bytes=10, max_tokens=10)
    with pytest.raises(ConfigurationError, match="intent and constraints alone take"):
        step.context(max_bytes=10)


def test_unknown_workflow_ids_are_not_found(store: ArtifactStore) -> None:
    """Every read names the unknown workflow and how to list the real ones."""
    memory = Memory(store)
    for call in (
        lambda: memory.get("nope", "order"),
        lambda: memory.list("nope"),
        lambda: memory.search("nope", "lamp"),
        lambda: memory.reads("nope"),
    ):
        with pytest.raises(NotFoundError, match="no workflow 'nope' in the ledger"):
            call()


def test_unknown_key_and_version_are_not_found(store: ArtifactStore) -> None:
    """A key nobody wrote, or a version that does not exist, says so."""
    runtime, result = run(chain(order_writer, order_reader), store)
    assert runtime.memory is not None
    with pytest.raises(NotFoundError, match="no memory key 'ghost'"):
        runtime.memory.get(result.workflow_id, "ghost")
    with pytest.raises(NotFoundError, match="no version 9 of memory key 'order'"):
        runtime.memory.get(result.workflow_id, "order", version=9)


def test_shared_artifacts_reach_other_workflows_of_the_tenant(store: ArtifactStore) -> None:
    """shared=True makes an artifact visible to the tenant's next workflow; others stay private."""

    def writer(note: Note, ctx: Context) -> Outcome:
        if note.text == "first":
            ctx.memory.put("policy", "refunds over 500 need a human", shared=True)
            ctx.memory.put("scratch", "private to the first workflow")
        return HandOff(to="reader", payload=note)

    def reader(note: Note, ctx: Context) -> Outcome:
        found = {k: [a.key for a in ctx.memory.list({"key": k})] for k in ("policy", "scratch")}
        return Finish(found)

    runtime = Runtime(chain(writer, reader), store, tenant="acme")
    anyio.run(lambda: runtime.run("writer", Note(text="first"), intent="set up"))
    second = anyio.run(lambda: runtime.run("writer", Note(text="second"), intent="use it"))
    assert second.result == {"policy": ["policy"], "scratch": []}


def test_the_receiver_gets_only_the_fields_its_contract_declares(store: ArtifactStore) -> None:
    """An undeclared field a sender adds is neither handed on nor recorded as delivered."""

    def sender(note: Note, ctx: Context) -> Outcome:
        return HandOff(to="reader", payload={"text": "hi", "internal_notes": "not for you"})

    def receiver(note: Note, ctx: Context) -> Outcome:
        seen["payload"] = dict(ctx.envelope.payload)
        return Finish(None)

    runtime, result = run(chain(sender, receiver), store)
    assert seen["payload"] == {"text": "hi"}
    delivered = runtime.ledger.handoffs(result.workflow_id)[1].envelope
    assert delivered.payload == {"text": "hi"}


def test_context_without_a_memory_store_explains_itself(store: ArtifactStore) -> None:
    """ctx.memory on a context built without memory is a clear configuration error."""
    runtime, result = run(chain(order_writer, order_reader), store)
    context = Context(runtime.ledger.handoffs(result.workflow_id)[0].envelope)
    with pytest.raises(ConfigurationError, match="this runtime keeps no memory"):
        _ = context.memory


def test_vector_indexes_are_kept_for_a_bounded_number_of_workflows(store: ArtifactStore) -> None:
    """A long-running service searching many workflows keeps only the recent ones' vectors."""
    from seamline.memory import search

    runtime = Runtime(chain(order_writer, order_reader), store)
    assert runtime.memory is not None
    ids = []
    for _ in range(search._CACHED_SCOPES + 3):
        result = anyio.run(lambda: runtime.run("writer", Note(text="hi"), intent="refund"))
        ids.append(result.workflow_id)
        runtime.memory.search(result.workflow_id, "lamp", mode="semantic")
    cached = runtime.memory._searcher._indexes
    assert len(cached) == search._CACHED_SCOPES
    assert (ids[-1], None) in cached and (ids[0], None) not in cached
    assert runtime.memory.search(ids[0], "lamp", mode="semantic")[0].artifact.key == "decision"
