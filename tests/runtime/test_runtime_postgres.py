"""Workflows end to end on PostgreSQL, one store shared by two runtimes as on two machines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from chain_fixtures import ORDER, ORDER_1, Order, chain, relay

from seamline import (
    ConflictError,
    Context,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    Store,
    agent,
)
from seamline.stores import DeadLetterStatus, PostgresStore, WorkflowStatus


def run(runtime: Runtime, entry: str) -> Any:
    """Run ``entry`` on ORDER_1 from a sync test."""
    return anyio.run(lambda: runtime.run(entry, ORDER_1, intent="refund my order"))


def kinds(store: Store, workflow_id: str) -> list[str]:
    """The workflow's transitions, in log order."""
    return [entry.kind for entry in store.entries(correlation_id=workflow_id)]


def test_a_chain_records_the_same_transitions_as_on_sqlite(
    pg_store: PostgresStore, tmp_path: Path
) -> None:
    """Three agents hand off in turn on PostgreSQL; the log matches SQLite's row for row."""
    registry = Registry(agents=chain(3), contracts=[ORDER])
    runtime = Runtime(registry, pg_store)
    result = run(runtime, "a0")
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result == {"order_id": "ORD-1", "steps": 2}
    assert [v.route_names for v in runtime.ledger.handoffs(result.workflow_id)] == [
        "external → a0",
        "a0 → a1",
        "a1 → a2",
    ]
    sqlite = SqliteStore(tmp_path / "l.db")
    try:
        on_sqlite = run(Runtime(registry, sqlite), "a0")
        assert kinds(pg_store, result.workflow_id) == kinds(sqlite, on_sqlite.workflow_id)
    finally:
        sqlite.close()


@agent(name="sender", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
def paraphrasing_sender(order: Order, ctx: Context) -> Outcome:
    """Hands the order on with its amount in words: rejected every time."""
    return HandOff(to="receiver", payload={**order.model_dump(mode="json"), "amount": "a lot"})


def test_a_dead_letter_left_by_one_runtime_is_replayed_by_another(
    pg_store: PostgresStore, pg_url: str
) -> None:
    """Runtime A dead-letters a handoff; runtime B, with its own pool on the same schema,
    replays it fixed and completes the workflow; A sees that, and cannot replay it again."""
    registry = Registry(agents=[paraphrasing_sender, relay("receiver", None)], contracts=[ORDER])
    first = Runtime(registry, pg_store)
    letter_id = run(first, "sender").dead_letter_id
    assert letter_id is not None
    elsewhere = PostgresStore(pg_url, schema=pg_store.schema)
    try:
        second = Runtime(registry, elsewhere)
        fixed = {"order_id": "ORD-1", "amount": "12.50", "reason": "damaged"}
        replayed = anyio.run(lambda: second.replay(letter_id, payload=fixed))
        assert replayed.status is WorkflowStatus.COMPLETED
    finally:
        elsewhere.close()
    letter = first.ledger.dead_letter(letter_id)
    assert letter.status is DeadLetterStatus.REPLAYED
    assert first.ledger.workflow(letter.correlation_id).status is WorkflowStatus.COMPLETED
    with pytest.raises(ConflictError, match="already replayed"):
        anyio.run(first.replay, letter_id)
