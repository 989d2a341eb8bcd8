"""The memory tables of each SQL store: atomic commits, conflicts, search; SQLite's upgrade."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seamline import ConflictError
from seamline.stores import (
    ArtifactQuery,
    ArtifactRecord,
    ArtifactStore,
    Commit,
    Entry,
    SqliteStore,
    TermMatch,
)
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


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    """An empty memory store: SQLite in a fresh file, PostgreSQL in a fresh schema."""
    if request.param == "postgres":
        yield request.getfixturevalue("pg_store")
        return
    made = SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


def test_a_duplicate_version_conflicts_and_the_whole_commit_is_rolled_back(
    store: ArtifactStore,
) -> None:
    """Two writers racing to version 1 of a key: the second commit writes nothing at all."""
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
    assert version == str(SCHEMA_VERSION) == "3"


def note(seq: int, text: str, *, key: str = "note", value: str = "{}") -> ArtifactRecord:
    """Version ``seq`` of ``key`` in wf-1, indexed under ``text``."""
    return replace(ARTIFACT, id=f"n-{seq}", key=key, version=seq, text=text, value=value)


def found(store: ArtifactStore, *terms: str, match: TermMatch = "all") -> list[int]:
    """Row numbers a lexical search of wf-1 returns, best first."""
    return [seq for seq, _ in store.lexical_search("wf-1", None, terms, match=match, limit=10)]


def test_every_store_cuts_words_the_same_way(store: ArtifactStore) -> None:
    """Case, accents, hyphens, dots and underscores split and fold alike on both stores."""
    store.apply(
        Commit(
            artifacts=[
                note(1, "Order ORD-1001 for the Café"),
                note(2, "mail refunds@example.com about v1.2.0"),
                note(3, "the snake_case name"),
            ]
        )
    )
    rows = {text: found(store, *text.split()) for text in ("1001", "ord 1001", "cafe", "CAFÉ")}
    assert rows == {"1001": [1], "ord 1001": [1], "cafe": [1], "CAFÉ": [1]}
    assert found(store, "example") == found(store, "2", "0") == [2]
    assert found(store, "snake_case") == [3]  # one term, two words: a phrase
    assert found(store, "case_snake") == []


def test_all_needs_every_term_and_any_takes_one(store: ArtifactStore) -> None:
    """match='all' is an AND of the terms, match='any' an OR; unknown words find nothing."""
    store.apply(Commit(artifacts=[note(1, "broken lamp"), note(2, "broken chair")]))
    assert found(store, "broken", "lamp") == [1]
    assert sorted(found(store, "lamp", "chair", match="any")) == [1, 2]
    assert found(store, "sofa") == found(store, "sofa", "table", match="any") == []


@pytest.mark.parametrize(
    "term", ['"', "'", "lamp'", "a & b", "!lamp", "lamp:*", "<->", "NEAR(lamp", "*", "\\"]
)
def test_query_syntax_in_a_term_is_searched_for_never_run(store: ArtifactStore, term: str) -> None:
    """FTS5 and tsquery operators in a term are words (or nothing), never syntax or an error."""
    store.apply(Commit(artifacts=[note(1, "lamp a b near")]))
    for match in ("all", "any"):
        assert set(found(store, term, match=match)) <= {1}


def test_term_documents_counts_artifacts_holding_each_term(store: ArtifactStore) -> None:
    """The total is the number of artifacts; each term counts the artifacts that hold it."""
    store.apply(Commit(artifacts=[note(1, "lamp lamp broken"), note(2, "broken chair")]))
    total, holding = store.term_documents(["lamp", "broken", "sofa"])
    assert total == 2
    assert {term: holding.get(term, 0) for term in ("lamp", "broken", "sofa")} == {
        "lamp": 1,
        "broken": 2,
        "sofa": 0,
    }


def test_json_filters_compare_values_alike(store: ArtifactStore) -> None:
    """Field filters match strings, numbers, booleans and null (or a missing path) exactly."""
    values = ['{"a": {"b": "x"}, "n": 2}', '{"a": {"b": "y"}, "flag": true, "n": 2.5}', "{}"]
    store.apply(
        Commit(artifacts=[note(i, "v", key=f"k{i}", value=v) for i, v in enumerate(values, 1)])
    )

    def keys(**where: str | int | float | bool | None) -> list[str]:
        query = ArtifactQuery(
            "wf-1", fields=tuple((p.replace("__", "."), v) for p, v in where.items())
        )
        return sorted(a.key for a in store.artifacts(query))

    assert keys(a__b="x") == ["k1"]
    assert keys(n=2) == ["k1"]
    assert keys(n=2.5) == ["k2"]
    assert keys(flag=True) == ["k2"]
    assert keys(flag=None) == ["k1", "k3"]
    assert keys(a__b="x", n=3) == []


def test_vectors_come_back_after_the_row_asked_for(store: ArtifactStore) -> None:
    """artifact_vectors returns the scope's vectors written after a row, in row order."""
    with_vector = [replace(note(i, "v"), embedder="e", vector=bytes([i]) * 4) for i in (1, 2, 3)]
    store.apply(Commit(artifacts=with_vector[:2]))
    first = store.artifact_vectors("wf-1", None, 0)
    assert [blob for _, _, blob in first] == [b"\x01" * 4, b"\x02" * 4]
    store.apply(Commit(artifacts=with_vector[2:]))
    later = store.artifact_vectors("wf-1", None, first[-1][0])
    assert [(name, blob) for _, name, blob in later] == [("e", b"\x03" * 4)]
