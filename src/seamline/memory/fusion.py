"""Reciprocal rank fusion: one ranking out of several whose scores are not comparable."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import TypeVar

from seamline.exceptions import ConfigurationError

__all__ = ["reciprocal_rank_fusion"]

T = TypeVar("T", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[T]], k: int = 60, limit: int | None = None
) -> list[tuple[T, float]]:
    """Items of all ``rankings`` (each best first), scored ``Σ 1/(k + rank)``, best first.

    Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
    individual Rank Learning Methods", SIGIR 2009. Only ranks are used, so BM25 scores and
    cosine similarities never have to be calibrated against each other. ``k`` damps the
    head of each list: with the paper's k=60, rank 1 counts 1/61 and rank 10 still 1/70,
    so an item that two rankings both place fairly high beats one that a single ranking
    places first. The paper fixed k=60 in a pilot run and found the choice not critical;
    search engines that offer RRF default to it, so scores here read like theirs.

    Ranks start at 1. An item repeated within one ranking counts at its first (best) rank
    only. Each score is summed exactly (``math.fsum``), so items with the same ranks tie
    exactly, whatever order their terms were added in; ties keep the order in which the
    items first appear when the rankings are read one after another. ``limit`` keeps only
    the best that many.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ConfigurationError(f"RRF k must be an int >= 0 (60 is standard), got {k!r}")
    if limit is not None and limit < 0:
        raise ConfigurationError(f"RRF limit must be >= 0 or None for all, got {limit}")
    contributions: dict[T, list[float]] = {}
    for ranking in rankings:
        seen: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item not in seen:
                seen.add(item)
                contributions.setdefault(item, []).append(1.0 / (k + rank))
    scored = [(item, math.fsum(terms)) for item, terms in contributions.items()]
    scored.sort(key=lambda pair: -pair[1])  # stable: ties keep first-appearance order
    return scored if limit is None else scored[:limit]
