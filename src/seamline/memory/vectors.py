"""Vector search for memory: an exact in-memory index, BLOB encoding, backend detection.

Search is exact, not approximate: a scope's memory holds thousands of artifacts, rarely
100k, and a brute-force scan of 100k × 256 float32 vectors takes a few milliseconds with
numpy, so an approximate index would buy little and cost recall and determinism.

SQLite stores the vectors as little-endian float32 BLOBs (:func:`to_blob`,
:func:`from_blob`) and the index is rebuilt from them in memory. sqlite-vec would let SQLite
scan them itself, but it is a loadable extension and many Python builds (this project's
machines among them) cannot load extensions; :func:`vector_backend_choice` says which
backend this interpreter can use and why, so nobody has to guess.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from seamline.exceptions import ConfigurationError, StoreCorruptError

__all__ = [
    "BackendChoice",
    "VectorIndex",
    "from_blob",
    "from_blobs",
    "to_blob",
    "unit_rows",
    "vector_backend",
    "vector_backend_choice",
]

Backend = Literal["sqlite-vec", "numpy"]
F = TypeVar("F", bound=np.floating[Any])


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """Which vector backend this interpreter can use, and why (for logs and diagnostics)."""

    backend: Backend
    reason: str


def vector_backend_choice() -> BackendChoice:
    """sqlite-vec if this Python can load it into SQLite, else numpy; never raises.

    Checked in the order a fix has to happen: an interpreter without extension loading
    cannot use sqlite-vec whatever is installed, so that reason comes first.
    """
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        return BackendChoice(
            "numpy",
            "this Python's sqlite3 cannot load extensions (sqlite3.Connection has no "
            "enable_load_extension; CPython was built without "
            "--enable-loadable-sqlite-extensions), so sqlite-vec cannot be used here",
        )
    try:
        sqlite_vec = importlib.import_module("sqlite_vec")
    except ImportError:
        return BackendChoice("numpy", "sqlite-vec is not installed (pip install sqlite-vec)")
    connection = sqlite3.connect(":memory:")
    try:
        connection.enable_load_extension(True)
        sqlite_vec.load(connection)
        (version,) = connection.execute("select vec_version()").fetchone()
    # Anything a broken third-party install raises must fall back, not stop a store opening.
    except Exception as error:
        return BackendChoice("numpy", f"sqlite-vec is installed but did not load: {error!r}")
    finally:
        connection.close()
    return BackendChoice("sqlite-vec", f"sqlite-vec {version} loads into this Python's sqlite3")


def vector_backend() -> Backend:
    """The backend :func:`vector_backend_choice` picks, without the reason."""
    return vector_backend_choice().backend


class VectorIndex:
    """Exact cosine search over ``(row id, vector)`` pairs held in memory.

    Vectors are normalised on :meth:`add`, so a score is the cosine similarity; an
    all-zero vector (a blank text) stays zero and scores 0 against every query. Storage is
    two preallocated arrays that double when full: adding one vector at a time stays
    amortised O(1) instead of copying every vector on each add, as ``np.vstack`` would.
    """

    def __init__(self, dim: int, *, capacity: int = 1024) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ConfigurationError(f"vector dim must be a positive int, got {dim!r}")
        self.dim = dim
        self._ids = np.empty(max(capacity, 1), dtype=np.int64)
        self._vectors = np.empty((max(capacity, 1), dim), dtype=np.float32)
        self._size = 0
        self._known: set[int] = set()
        self._by_id: tuple[NDArray[np.int64], NDArray[np.intp]] | None = None
        """Ids sorted, and the row of each, for ``allowed``; rebuilt after an add."""

    def __len__(self) -> int:
        return self._size

    def add(self, ids: Sequence[int], vectors: ArrayLike) -> None:
        """Index ``vectors[i]`` under ``ids[i]``; an id may be added once."""
        new_ids = _id_array(ids, "ids")
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.shape != (len(new_ids), self.dim):
            raise ConfigurationError(
                f"vectors must have shape (len(ids), dim) = ({len(new_ids)}, {self.dim}), "
                f"got {matrix.shape}; were they made by another embedder?"
            )
        finite = np.isfinite(matrix).all(axis=1)
        if not finite.all():
            bad = int(new_ids[np.flatnonzero(~finite)[0]])
            raise ConfigurationError(f"the vector for id {bad} has NaN or infinite components")
        unique, counts = np.unique(new_ids, return_counts=True)
        repeated = self._known.intersection(unique.tolist()) | set(unique[counts > 1].tolist())
        if repeated:
            raise ConfigurationError(
                f"ids already in the index or repeated in one add: {sorted(repeated)[:10]}"
            )
        end = self._size + len(new_ids)
        if end > len(self._ids):
            self._grow(end)
        self._ids[self._size : end] = new_ids
        self._vectors[self._size : end] = unit_rows(matrix)
        self._size = end
        self._known.update(new_ids.tolist())
        self._by_id = None

    def search(
        self, query: ArrayLike, k: int, allowed: ArrayLike | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` ids most similar to ``query`` with their cosine, best first.

        ``allowed`` restricts the search to those ids (ids not in the index are ignored).
        Equal scores rank by id, ascending, so results never depend on insertion order.
        An all-zero query (a text with nothing to embed) is similar to nothing: ``[]``.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigurationError(f"k (how many results) must be an int >= 1, got {k!r}")
        vector = np.asarray(query, dtype=np.float32)
        if vector.shape != (self.dim,):
            raise ConfigurationError(
                f"query must be one vector of shape ({self.dim},), got {vector.shape}"
            )
        if not np.isfinite(vector).all():
            raise ConfigurationError("the query vector has NaN or infinite components")
        unit = unit_rows(vector)
        if self._size == 0 or not unit.any():
            return []
        if allowed is None:
            ids, scores = self._ids[: self._size], self._vectors[: self._size] @ unit
        else:
            rows = self._rows_of(_id_array(allowed, "allowed"))
            # Gathering copies each row: past ~1/16 of the index, scoring all rows and
            # keeping the allowed scores is faster (measured at 100k × 256).
            if len(rows) * 16 < self._size:
                scores = self._vectors[rows] @ unit
            else:
                scores = (self._vectors[: self._size] @ unit)[rows]
            ids = self._ids[rows]
        best = _top_k(scores, ids, k)
        return list(zip(ids[best].tolist(), scores[best].tolist(), strict=True))

    def _grow(self, needed: int) -> None:
        capacity = max(needed, 2 * len(self._ids))
        ids = np.empty(capacity, dtype=np.int64)
        vectors = np.empty((capacity, self.dim), dtype=np.float32)
        ids[: self._size] = self._ids[: self._size]
        vectors[: self._size] = self._vectors[: self._size]
        self._ids, self._vectors = ids, vectors

    def _rows_of(self, allowed: NDArray[np.int64]) -> NDArray[np.intp]:
        """Rows holding the ``allowed`` ids, by binary search over the sorted ids."""
        if self._by_id is None:
            order = np.argsort(self._ids[: self._size])
            self._by_id = (self._ids[: self._size][order], order)
        sorted_ids, order = self._by_id
        needles = np.sort(allowed)  # sorted needles keep the binary searches cache-friendly
        at = np.minimum(np.searchsorted(sorted_ids, needles), self._size - 1)
        keep = np.zeros(self._size, dtype=bool)  # dedupes and orders rows in O(size)
        keep[order[at[sorted_ids[at] == needles]]] = True
        return np.flatnonzero(keep)


def _id_array(ids: ArrayLike, what: str) -> NDArray[np.int64]:
    array = np.asarray(ids)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ConfigurationError(
            f"{what} must be a flat sequence of int row ids, got {array.dtype} of shape "
            f"{array.shape}"
        )
    return array.astype(np.int64, copy=False)


def unit_rows(matrix: NDArray[F]) -> NDArray[F]:
    """Vectors along the last axis scaled to length 1, same dtype; all-zero ones stay zero.

    Norms are summed in float64, so float32 components near their maximum cannot overflow;
    the division runs in buffered chunks, so no float64 copy of the whole matrix is made.
    """
    norms = np.sqrt(np.einsum("...i,...i->...", matrix, matrix, dtype=np.float64))
    unit = np.zeros_like(matrix)
    np.divide(matrix, norms[..., np.newaxis], out=unit, where=norms[..., np.newaxis] > 0)
    return unit


def _top_k(scores: NDArray[np.float32], ids: NDArray[np.int64], k: int) -> NDArray[np.intp]:
    """Positions of the best ``k`` scores, ties by id: partition first, sort only the head."""
    if k < len(scores):
        kth_best = np.partition(scores, len(scores) - k)[len(scores) - k]
        # keep every score tied with the k-th: the id tie-break, not the partition, decides
        candidates = np.flatnonzero(scores >= kth_best)
    else:
        candidates = np.arange(len(scores))
    order = np.lexsort((ids[candidates], -scores[candidates]))
    return candidates[order[:k]]


def to_blob(vector: ArrayLike) -> bytes:
    """A vector as the little-endian float32 bytes SQLite stores (4 bytes a component)."""
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1:
        raise ConfigurationError(f"to_blob takes one vector (1-D), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ConfigurationError("cannot store a vector with NaN or infinite components")
    return array.astype("<f4", copy=False).tobytes()


def from_blob(blob: bytes) -> NDArray[np.float32]:
    """The vector :func:`to_blob` stored, as a new writable float32 array."""
    if len(blob) % 4:
        raise StoreCorruptError(
            f"a stored vector is {len(blob)} bytes, not a whole number of float32s: the "
            "store was written by something else or damaged"
        )
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def from_blobs(blobs: Sequence[bytes], dim: int) -> NDArray[np.float32]:
    """Many stored vectors as one ``(len(blobs), dim)`` array, for loading an index.

    One join and one conversion: several times faster than :func:`from_blob` per row.
    """
    wrong = {len(blob) for blob in blobs} - {4 * dim}
    if wrong:
        raise StoreCorruptError(
            f"stored vectors of {sorted(wrong)} bytes where {dim}-dimensional float32 vectors "
            f"take {4 * dim}: the store was written by another embedder or damaged"
        )
    return np.frombuffer(b"".join(blobs), dtype="<f4").astype(np.float32).reshape(-1, dim)
