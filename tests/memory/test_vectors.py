"""The vector index against brute force, BLOB encoding, and which backend this Python gets."""

from __future__ import annotations

import re
import sqlite3
import sys
from itertools import cycle
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

import seamline.memory.vectors
from seamline.exceptions import ConfigurationError, StoreCorruptError
from seamline.memory.vectors import (
    VectorIndex,
    from_blob,
    from_blobs,
    to_blob,
    vector_backend,
    vector_backend_choice,
)


def brute_force(
    ids: list[int], vectors: NDArray[np.float32], query: NDArray[np.float32], k: int
) -> list[tuple[int, float]]:
    """The reference: every cosine in float64, sorted by score then id."""
    wide = vectors.astype(np.float64)
    norms = np.linalg.norm(wide, axis=1)
    scores = (wide @ query.astype(np.float64)) / np.where(norms > 0, norms, 1.0)
    scores /= np.linalg.norm(query.astype(np.float64))
    ranked = sorted(zip(ids, scores.tolist(), strict=True), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:k]


def random_vectors(n: int, dim: int, seed: int) -> NDArray[np.float32]:
    """Seeded Gaussian vectors, not normalised: the index must normalise them."""
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def assert_same_ranking(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> None:
    """Same ids in the same order, scores equal to float32 precision."""
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-5)


@pytest.mark.parametrize("k", [1, 10, 100, 1999, 2000, 5000])
def test_top_k_matches_brute_force(k: int) -> None:
    """Exact search: the index returns the brute-force top k for several queries."""
    vectors = random_vectors(2000, 32, seed=1)
    ids = list(range(10, 4010, 2))
    index = VectorIndex(32)
    index.add(ids, vectors)
    for query in random_vectors(5, 32, seed=2):
        assert_same_ranking(index.search(query, k), brute_force(ids, vectors, query, k))


@given(
    axes=st.lists(st.integers(min_value=-1, max_value=3), min_size=1, max_size=40),
    query=st.lists(st.integers(min_value=-3, max_value=3), min_size=4, max_size=4),
    k=st.integers(min_value=1, max_value=45),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_ties_rank_by_id_whatever_the_insertion_order(
    axes: list[int], query: list[int], k: int, seed: int
) -> None:
    """Many exact ties (one-hot and zero vectors, shuffled ids): equal scores rank by id."""
    ids = np.random.default_rng(seed).permutation(1000)[: len(axes)].tolist()
    vectors = np.zeros((len(axes), 4), dtype=np.float32)
    for row, axis in enumerate(axes):
        if axis >= 0:
            vectors[row, axis] = 2.0  # one-hot, not unit: the index normalises
    q = np.array(query, dtype=np.float32)
    index = VectorIndex(4)
    index.add(ids, vectors)
    if not q.any():
        assert index.search(q, k) == []
        return
    unit = q / np.linalg.norm(q)
    # A one-hot vector's cosine is exactly one query component: ties are exact.
    scores = [float(unit[a]) if a >= 0 else 0.0 for a in axes]
    want = sorted(zip(ids, scores, strict=True), key=lambda pair: (-pair[1], pair[0]))[:k]
    assert_same_ranking(index.search(q, k), want)


def test_allowed_restricts_the_search() -> None:
    """Only allowed ids come back; unknown and repeated allowed ids are ignored."""
    vectors = random_vectors(500, 16, seed=3)
    ids = list(range(500))
    index = VectorIndex(16)
    index.add(ids, vectors)
    allowed = [7, 3, 400, 250, 3, 99999, -5, *range(100, 150)]
    members = sorted(set(allowed) & set(ids))
    query = random_vectors(1, 16, seed=4)[0]
    want = brute_force(members, vectors[members], query, 10)
    assert_same_ranking(index.search(query, 10, allowed=np.array(allowed)), want)
    assert_same_ranking(index.search(query, 10, allowed=allowed), want)
    few = [480, 5, 77, 5]  # few enough that the index gathers rows instead of scanning all
    assert_same_ranking(
        index.search(query, 10, allowed=few),
        brute_force([5, 77, 480], vectors[[5, 77, 480]], query, 10),
    )
    assert index.search(query, 10, allowed=[]) == []
    assert index.search(query, 10, allowed=[99999]) == []


def test_many_small_adds_grow_the_index() -> None:
    """Thousands of adds of one or a few vectors, from capacity 1, stay exact."""
    vectors = random_vectors(3001, 8, seed=5)
    index = VectorIndex(8, capacity=1)
    start = 0
    for size in cycle([1, 1, 2, 3]):
        stop = min(start + size, len(vectors))
        index.add(list(range(start, stop)), vectors[start:stop])
        start = stop
        if stop == len(vectors):
            break
    assert len(index) == 3001
    query = random_vectors(1, 8, seed=6)[0]
    assert_same_ranking(index.search(query, 25), brute_force(list(range(3001)), vectors, query, 25))
    # a later add invalidates the sorted ids behind ``allowed``
    assert index.search(query, 3, allowed=[3001]) == []
    index.add([3001], query[np.newaxis, :])
    assert_same_ranking(index.search(query, 3, allowed=[3001]), [(3001, 1.0)])


def test_scores_are_cosines_of_unnormalised_vectors() -> None:
    """Vectors and query are normalised; a zero vector scores 0; a zero query finds nothing."""
    index = VectorIndex(2)
    index.add([1, 2, 3], np.array([[3.0, 4.0], [0.0, -5.0], [0.0, 0.0]]))
    assert_same_ranking(index.search(np.array([10.0, 0.0]), 3), [(1, 0.6), (2, 0.0), (3, 0.0)])
    assert index.search(np.zeros(2), 3) == []
    assert VectorIndex(2).search(np.array([1.0, 0.0]), 3) == []


def test_huge_components_do_not_overflow_the_norm() -> None:
    """float32 components near their maximum still normalise to a unit vector."""
    index = VectorIndex(2)
    index.add([1], np.array([[3e38, 3e38]], dtype=np.float32))
    assert_same_ranking(index.search(np.array([1.0, 1.0]), 1), [(1, 1.0)])


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        ([1, 2], np.zeros((2, 3)), r"shape \(len\(ids\), dim\) = \(2, 4\), got \(2, 3\)"),
        ([1], np.zeros(4), r"shape \(len\(ids\), dim\) = \(1, 4\), got \(4,\)"),
        ([1, 2], np.array([[0, 0, 0, 1], [np.nan, 0, 0, 0]]), "id 2 has NaN or infinite"),
        ([1], np.array([[np.inf, 0, 0, 0]]), "id 1 has NaN or infinite"),
        ([5, 5], np.ones((2, 4)), r"repeated in one add: \[5\]"),
        ([0], np.ones((1, 4)), r"already in the index or repeated in one add: \[0\]"),
        ([1.5], np.ones((1, 4)), "flat sequence of int row ids, got float64"),
    ],
)
def test_bad_adds_are_configuration_errors(
    ids: list[int], vectors: NDArray[np.float64], message: str
) -> None:
    """Wrong shapes, NaN, duplicate or non-int ids are refused, and nothing is added."""
    index = VectorIndex(4)
    index.add([0], np.ones((1, 4)))
    with pytest.raises(ConfigurationError, match=message):
        index.add(ids, vectors)
    assert len(index) == 1


def test_bad_searches_are_configuration_errors() -> None:
    """k < 1, a query of the wrong shape or with NaN, and a bad dim are refused clearly."""
    index = VectorIndex(4)
    index.add([0], np.ones((1, 4)))
    for k in (0, -1, True):
        with pytest.raises(ConfigurationError, match=r"k \(how many results\) must be an int >= 1"):
            index.search(np.ones(4), k)
    with pytest.raises(ConfigurationError, match=r"shape \(4,\), got \(3,\)"):
        index.search(np.ones(3), 1)
    with pytest.raises(ConfigurationError, match=r"shape \(4,\), got \(1, 4\)"):
        index.search(np.ones((1, 4)), 1)
    with pytest.raises(ConfigurationError, match="query vector has NaN"):
        index.search(np.array([1.0, np.nan, 0.0, 0.0]), 1)
    with pytest.raises(ConfigurationError, match="allowed must be a flat sequence"):
        index.search(np.ones(4), 1, allowed=[[1]])
    with pytest.raises(ConfigurationError, match="dim must be a positive int"):
        VectorIndex(0)


def test_blob_round_trip_is_exact_little_endian_float32() -> None:
    """A vector survives SQLite storage bit for bit, 4 little-endian bytes a component."""
    vector = random_vectors(1, 256, seed=7)[0]
    blob = to_blob(vector)
    assert len(blob) == 1024
    restored = from_blob(blob)
    assert restored.dtype == np.float32
    assert np.array_equal(restored, vector)
    restored[0] = 1.0  # a new array, not a read-only view of the bytes
    assert to_blob(np.array([1.0, -2.0])) == b"\x00\x00\x80\x3f\x00\x00\x00\xc0"


def test_many_blobs_load_as_one_matrix() -> None:
    """``from_blobs`` gives the rows ``from_blob`` would, in one array."""
    vectors = random_vectors(5, 16, seed=8)
    blobs = [to_blob(vector) for vector in vectors]
    assert np.array_equal(from_blobs(blobs, 16), vectors)
    assert from_blobs([], 16).shape == (0, 16)


def test_bad_blobs_are_refused() -> None:
    """NaN or 2-D vectors are not stored; a blob of a partial float is store corruption."""
    with pytest.raises(ConfigurationError, match="NaN or infinite"):
        to_blob(np.array([0.0, np.nan]))
    with pytest.raises(ConfigurationError, match="one vector"):
        to_blob(np.ones((2, 2)))
    with pytest.raises(StoreCorruptError, match="7 bytes, not a whole number of float32s"):
        from_blob(b"\x00" * 7)
    with pytest.raises(StoreCorruptError, match=r"vectors of \[32\] bytes where 16-dimensional"):
        from_blobs([b"\x00" * 64, b"\x00" * 32], 16)


@pytest.mark.skipif(
    hasattr(sqlite3.Connection, "enable_load_extension"),
    reason="this Python's sqlite3 can load extensions",
)
def test_backend_is_numpy_because_sqlite3_cannot_load_extensions() -> None:
    """Here sqlite-vec is ruled out by the interpreter itself, and the reason says so."""
    choice = vector_backend_choice()
    assert choice.backend == "numpy"
    assert "has no enable_load_extension" in choice.reason
    assert vector_backend() == "numpy"


class FakeConnection:
    """An sqlite3 connection that can load extensions, as some Pythons' can."""

    def __init__(self) -> None:
        self.closed = False

    def enable_load_extension(self, enabled: bool) -> None:
        """Accept, like a Python built with loadable extensions."""

    def execute(self, sql: str) -> FakeConnection:
        """Answer ``select vec_version()``."""
        assert sql == "select vec_version()"
        return self

    def fetchone(self) -> tuple[str]:
        """The version sqlite-vec would report."""
        return ("v0.1.9",)

    def close(self) -> None:
        """Record the close, so the probe connection is seen not to leak."""
        self.closed = True


def fake_sqlite_vec(load_error: Exception | None) -> ModuleType:
    """A stand-in ``sqlite_vec`` whose load fails with ``load_error``, or succeeds."""
    module = ModuleType("sqlite_vec")

    def load(connection: FakeConnection) -> None:
        if load_error is not None:
            raise load_error

    module.load = load  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(
    ("installed", "backend", "reason"),
    [
        (None, "numpy", "sqlite-vec is not installed"),
        (fake_sqlite_vec(sqlite3.OperationalError("bad ELF")), "numpy", "did not load: .*bad ELF"),
        (fake_sqlite_vec(None), "sqlite-vec", "sqlite-vec v0.1.9 loads"),
    ],
)
def test_backend_detection_on_a_python_that_can_load_extensions(
    monkeypatch: pytest.MonkeyPatch, installed: ModuleType | None, backend: str, reason: str
) -> None:
    """With extension loading available, the choice turns on sqlite-vec importing and loading.

    sqlite3 and sqlite_vec are stand-ins: this machine's Python cannot load extensions, and
    what is tested is the decision and its reason, never sqlite-vec itself.
    """
    connection = FakeConnection()
    fake_sqlite3 = SimpleNamespace(Connection=FakeConnection, connect=lambda _: connection)
    monkeypatch.setattr(seamline.memory.vectors, "sqlite3", fake_sqlite3)
    monkeypatch.setitem(sys.modules, "sqlite_vec", installed)
    choice = vector_backend_choice()
    assert choice.backend == backend
    assert re.search(reason, choice.reason)
    assert connection.closed == (installed is not None)
