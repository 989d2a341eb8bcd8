"""Lexical, semantic and hybrid search over a workflow's artifacts.

Lexical search is the store's full-text index (SQLite FTS5 ranked by BM25, PostgreSQL
tsvector ranked by ts_rank), handed the user's words, never a query string, so no store
can be made to run search syntax; semantic search is cosine similarity over the
embedder's vectors, held in an in-process index per workflow scope and topped up from the
store as artifacts arrive; hybrid fuses both rankings by reciprocal rank fusion, so neither
score scale has to be calibrated against the other.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

from seamline.exceptions import ConfigurationError
from seamline.memory.artifact import Artifact
from seamline.memory.embedder import Embedder
from seamline.memory.fusion import reciprocal_rank_fusion
from seamline.memory.vectors import VectorIndex, from_blobs
from seamline.stores import ArtifactStore

__all__ = ["COMMON", "Hit", "SearchMode", "Searcher"]

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_TERMS = 32
_POOL = 50
"""How many candidates each ranking contributes before fusion."""
COMMON = 0.05
"""A word in more than this share of all artifacts is too common to narrow a search."""
_CACHED_SCOPES = 32
"""Workflows whose vectors stay in memory between searches (least recently used leave)."""
_LARGE = 1_000
"""Below this many artifacts every word is kept: scoring them all is cheap."""


class SearchMode(StrEnum):
    """Which ranking(s) a search uses."""

    HYBRID = "hybrid"
    LEXICAL = "lexical"
    SEMANTIC = "semantic"


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result, with the ranks that produced its score."""

    artifact: Artifact
    score: float
    lexical_rank: int | None
    semantic_rank: int | None


def _words(text: str) -> list[str]:
    words = list(dict.fromkeys(word.lower() for word in _WORD.findall(text)))[:_MAX_TERMS]
    if not words:
        raise ConfigurationError(f"search text {text!r} has no words to look for; pass some words")
    return words


class Searcher:
    """Runs searches against one store with one embedder, caching vectors per scope."""

    def __init__(self, store: ArtifactStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._indexes: OrderedDict[tuple[str, str | None], tuple[VectorIndex, int]] = OrderedDict()

    def search(
        self,
        correlation_id: str,
        tenant: str | None,
        text: str,
        *,
        mode: SearchMode = SearchMode.HYBRID,
        limit: int = 10,
    ) -> list[Hit]:
        """The best ``limit`` artifacts for ``text``, best first."""
        if not 1 <= limit <= 100:
            raise ConfigurationError(f"search limit must be between 1 and 100, got {limit}")
        mode = SearchMode(mode)
        lexical: list[int] = []
        semantic: list[int] = []
        if mode is not SearchMode.SEMANTIC:
            pool = _POOL if mode is SearchMode.HYBRID else limit
            lexical = self.lexical(correlation_id, tenant, text, pool, enough=limit)
        if mode is not SearchMode.LEXICAL:
            if not text.strip():
                raise ConfigurationError("search text is empty; pass some words")
            index = self._index(correlation_id, tenant)
            query = self.embedder.embed([text])[0]
            pool = _POOL if mode is SearchMode.HYBRID else limit
            semantic = [seq for seq, _ in index.search(query, pool)] if len(index) else []
        fused = reciprocal_rank_fusion([r for r in (lexical, semantic) if r])
        found = self.store.artifacts_by_seq([seq for seq, _ in fused])
        lexical_rank = {seq: rank for rank, seq in enumerate(lexical, start=1)}
        semantic_rank = {seq: rank for rank, seq in enumerate(semantic, start=1)}
        hits: list[Hit] = []
        keys: set[tuple[str, str]] = set()
        for seq, score in fused:
            record = found[seq]
            # One hit per key: the version that matched best (usually the newest).
            if (record.correlation_id, record.key) in keys:
                continue
            keys.add((record.correlation_id, record.key))
            hits.append(
                Hit(Artifact.of(record), score, lexical_rank.get(seq), semantic_rank.get(seq))
            )
            if len(hits) == limit:
                break
        return hits

    def lexical(
        self, correlation_id: str, tenant: str | None, text: str, pool: int, *, enough: int = 10
    ) -> list[int]:
        """Up to ``pool`` artifacts by text rank: those holding every distinctive word first, then
        (if fewer than ``enough`` do) those holding any of them.

        In a large store, words found in more than :data:`COMMON` of all artifacts are left
        out of the match: their weight in the rank is near zero, yet scoring them means scoring
        most of the store ("order" in an order desk). If every word is that common, the two
        rarest are used.
        Matching all words first is what people expect of a search box.
        """
        rare = words = _words(text)
        total, holding = self.store.term_documents(words)
        if total >= _LARGE:
            rare = [word for word in words if holding.get(word, 0) <= total * COMMON]
            if not rare:
                rare = sorted(words, key=lambda word: holding.get(word, 0))[:2]
        store = self.store
        ranked = [
            seq
            for seq, _ in store.lexical_search(
                correlation_id, tenant, rare, match="all", limit=pool
            )
        ]
        if len(ranked) < enough and len(rare) > 1:
            seen = set(ranked)
            extra = store.lexical_search(correlation_id, tenant, rare, match="any", limit=pool)
            ranked += [seq for seq, _ in extra if seq not in seen][: pool - len(ranked)]
        return ranked

    def _index(self, correlation_id: str, tenant: str | None) -> VectorIndex:
        """The scope's vector index, topped up with artifacts written since last time."""
        scope = (correlation_id, tenant)
        index, seen = self._indexes.get(scope) or (VectorIndex(self.embedder.dim), 0)
        rows = self.store.artifact_vectors(correlation_id, tenant, seen)
        foreign = {name for _, name, _ in rows if name != self.embedder.name}
        if foreign:
            raise ConfigurationError(
                f"artifacts of this workflow were embedded with {sorted(foreign)}, not "
                f"{self.embedder.name}; search with the embedder they were written with"
            )
        if rows:
            vectors = from_blobs([blob for _, _, blob in rows], self.embedder.dim)
            index.add([seq for seq, _, _ in rows], vectors)
            seen = rows[-1][0]
        self._indexes[scope] = (index, seen)
        self._indexes.move_to_end(scope)
        while len(self._indexes) > _CACHED_SCOPES:
            self._indexes.popitem(last=False)  # a long-running service sees many workflows
        return index
