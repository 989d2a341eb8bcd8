"""The memory tables of the SQLite store: atomic commits, conflicts, upgrade from schema 1."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seamline import ConflictError
from seamline.stores import ArtifactQuery, ArtifactRecord, Commit, Entry, SqliteStore
from seamline.stores.sqlite import SCHEMA_VERSION

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ARTIFACT = ArtifactRecord(
    id="a-1", correlation_id="wf-1", tenant=None, key="order", version=1, kind="fact",
    value='{"id": "ORD-1"}', text="order ORD-1", producer="intake", producer_version="1.0.0",
    step=0, handoff_id="h-1", contract="ticket@1.0.0", created_at=NOW,
)  # fmt: skip


def entry(seq: int) -> Entry:
    """One ledger row of workflow wf-1."""
    return Entry(correlation_id="wf-1", seq=seq, handoff_id="h-1", kind="completed", at=NOW)


def test_a_duplicate_version_conflicts_and_the_whole_commit_is_rolled_back(tmp_path: Path) -> None:
    """Two writers racing to version 1 of a key: the second commit writes nothing at all."""
    store = SqliteStore(tmp_path / "s.db")
    store.apply(Commit(entries=[entry(1)], artifacts=[ARTIFACT]))
    racing = replace(ARTIFACT, id="a-2", value='{"id": "ORD-2"}')
    with pytest.raises(ConflictError, match="nothing was written"):
        store.apply(Commit(entries=[entry(2)], artifacts=[racing]))
    assert [e.seq for e in store.entries(correlation_id="wf-1")] == [1]
    found = store.artifacts(ArtifactQuery("wf-1", latest=False))
    assert [a.id for a in found] == ["a-1"]
    # The search index rolled back with the row: ORD-2 is nowhere to be found.
    found_ord = store.lexical_search("wf-1", None, ["ord"], match="all", limit=10)
    assert [seq for seq, _ in found_ord] == [1]
    assert store.lexical_search("wf-1", None, ["2"], match="any", limit=10) == []


def test_a_schema_1_store_is_upgraded_in_place(tmp_path: Path) -> None:
    """A ledger written before memory existed opens, gains the memory tables, keeps its rows."""
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    store.apply(Commit(entries=[entry(1)]))
    store.close()
    raw = sqlite3.connect(path)
    for table in ("memory_reads", "artifacts_fts", "artifacts"):
        raw.execute(f"DROP TABLE {table}")
    raw.execute("UPDATE seamline_meta SET value = '1' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    upgraded = SqliteStore(path)
    assert [e.seq for e in upgraded.entries(correlation_id="wf-1")] == [1]
    upgraded.apply(Commit(entries=[entry(2)], artifacts=[ARTIFACT]))
    assert upgraded.next_version("wf-1", "order") == 2
    version = upgraded._db.execute("SELECT value FROM seamline_meta").fetchone()[0]
    assert version == str(SCHEMA_VERSION) == "2"
