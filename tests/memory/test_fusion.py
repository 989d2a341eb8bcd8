"""Reciprocal rank fusion on hand-computed rankings."""

from __future__ import annotations

import pytest

from seamline.exceptions import ConfigurationError
from seamline.memory.fusion import reciprocal_rank_fusion


def test_scores_are_sums_of_reciprocal_ranks() -> None:
    """With k=60: b (ranks 2 and 1) beats c (3, 2), which beats a (1 only) and d (3 only)."""
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]])
    assert [item for item, _ in fused] == ["b", "c", "a", "d"]
    assert [score for _, score in fused] == pytest.approx(
        [1 / 62 + 1 / 61, 1 / 63 + 1 / 62, 1 / 61, 1 / 63]
    )


def test_k_damps_the_head_of_each_ranking() -> None:
    """At k=0 one first place equals two second places; at k=60 the two win clearly."""
    rankings = [["x", "y"], ["z", "y"]]
    assert reciprocal_rank_fusion(rankings, k=0) == [("x", 1.0), ("y", 1.0), ("z", 1.0)]
    assert [item for item, _ in reciprocal_rank_fusion(rankings)] == ["y", "x", "z"]


def test_ties_keep_first_appearance_order() -> None:
    """Equal scores come out in the order the items first appear, rankings read in turn."""
    assert [i for i, _ in reciprocal_rank_fusion([["a", "b"], ["b", "a"]])] == ["a", "b"]
    assert [i for i, _ in reciprocal_rank_fusion([["b", "a"], ["a", "b"]])] == ["b", "a"]


def test_same_ranks_tie_exactly_whatever_the_summation_order() -> None:
    """p (ranks 1, 2, 3) and q (ranks 3, 1, 2) tie bit for bit, so first appearance decides.

    At k=2, adding 1/3 + 1/4 + 1/5 left to right and 1/5 + 1/3 + 1/4 differ in the last
    bit; a naive sum would put q first.
    """
    rankings = [["p", "x", "q"], ["q", "p"], ["y", "q", "p"]]
    fused = reciprocal_rank_fusion(rankings, k=2)
    assert [item for item, _ in fused][:2] == ["p", "q"]
    assert fused[0][1] == fused[1][1] == pytest.approx(1 / 3 + 1 / 4 + 1 / 5)


def test_repeats_within_one_ranking_count_once_at_the_best_rank() -> None:
    """An item listed twice by one ranking is credited for its first position only."""
    assert reciprocal_rank_fusion([["a", "b", "a"]]) == [("a", 1 / 61), ("b", 1 / 62)]


def test_limit_keeps_the_best() -> None:
    """``limit`` cuts after sorting; 0 gives nothing; no rankings give nothing."""
    rankings = [[3, 1, 2], [1, 2, 3]]
    assert [item for item, _ in reciprocal_rank_fusion(rankings, limit=2)] == [1, 3]
    assert reciprocal_rank_fusion(rankings, limit=0) == []
    assert reciprocal_rank_fusion([]) == []


@pytest.mark.parametrize(
    ("k", "limit", "message"),
    [(-1, None, "k must be an int >= 0"), (60, -1, "limit must be >= 0")],
)
def test_bad_parameters_are_configuration_errors(k: int, limit: int | None, message: str) -> None:
    """A negative k (division by zero at rank 1 - k) or limit is refused with its rule."""
    with pytest.raises(ConfigurationError, match=message):
        reciprocal_rank_fusion([["a"]], k=k, limit=limit)
