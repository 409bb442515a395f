"""Precision@k, recall@k and NDCG@k against hand-computed values (recommend.metrics)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from learnsight.interventions.recommend.metrics import (
    expected_gains,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
)

LOG2 = [1.0 / math.log2(j + 1) for j in range(1, 30)]  # discount of rank j = 1, 2, ...


def test_distinct_scores_by_hand() -> None:
    # ranking: i3, i1, i4, i0, i2 ; relevant {i1, i2}
    scores = [[0.2, 0.8, 0.1, 0.9, 0.5]]
    rel = [[False, True, True, False, False]]
    assert precision_at_k(scores, rel, 2)[0] == pytest.approx(0.5)
    assert recall_at_k(scores, rel, 2)[0] == pytest.approx(0.5)
    dcg = LOG2[1]  # relevant i1 at rank 2
    idcg = LOG2[0] + LOG2[1]
    assert ndcg_at_k(scores, rel, 2)[0] == pytest.approx(dcg / idcg)
    dcg5 = LOG2[1] + LOG2[4]
    assert ndcg_at_k(scores, rel, 5)[0] == pytest.approx(dcg5 / idcg)
    assert recall_at_k(scores, rel, 5)[0] == pytest.approx(1.0)


def test_fewer_relevant_than_k() -> None:
    # one relevant item, ranked first: NDCG is 1 whatever k; precision@10 is 1/10 (k, not the list)
    scores = [[3.0, 2.0, 1.0]]
    rel = [[True, False, False]]
    m = ranking_metrics(scores, rel, ks=[1, 10])
    assert m[10]["ndcg"][0] == pytest.approx(1.0)
    assert m[10]["precision"][0] == pytest.approx(0.1)
    assert m[1]["precision"][0] == pytest.approx(1.0)
    # ranked last of three: DCG = 1/log2(4), IDCG = 1
    assert ndcg_at_k([[1.0, 2.0, 3.0]], rel, 10)[0] == pytest.approx(LOG2[2])


def test_ties_take_the_expected_value() -> None:
    # all scores tied: every position gets the mean relevance 2/4
    scores = [[1.0, 1.0, 1.0, 1.0]]
    rel = [[True, False, True, False]]
    assert expected_gains(scores, rel).tolist() == [[0.5, 0.5, 0.5, 0.5]]
    assert precision_at_k(scores, rel, 2)[0] == pytest.approx(0.5)
    expected_dcg = 0.5 * (LOG2[0] + LOG2[1])
    assert ndcg_at_k(scores, rel, 2)[0] == pytest.approx(expected_dcg / (LOG2[0] + LOG2[1]))
    # a tie straddling the cut-off: ranks 2-3 tied, one of them relevant
    scores = [[0.9, 0.5, 0.5, 0.1]]
    rel = [[False, True, False, False]]
    assert precision_at_k(scores, rel, 2)[0] == pytest.approx(0.25)
    assert ndcg_at_k(scores, rel, 2)[0] == pytest.approx(0.5 * LOG2[1] / LOG2[0])


def test_ties_equal_the_mean_over_all_tie_orders() -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((1, 7)) * 3) / 3  # few distinct values: many ties
    rel = rng.random((1, 7)) < 0.4
    rel[0, 0] = True
    tie_aware = ndcg_at_k(scores, rel, 4)[0]
    # brute force: average NDCG over many random tie-breaks
    values = []
    for _ in range(4000):
        jitter = scores + rng.random(scores.shape) * 1e-6
        values.append(ndcg_at_k(jitter, rel, 4)[0])
    assert tie_aware == pytest.approx(np.mean(values), abs=0.01)


def test_excluded_items_rank_last_and_rows_without_relevant_items_are_nan() -> None:
    scores = np.array([[-np.inf, 0.3, 0.2], [0.5, 0.4, 0.3]])
    rel = np.array([[False, False, True], [False, False, False]])
    m = ranking_metrics(scores, rel, ks=[1, 2])
    assert m[2]["recall"][0] == pytest.approx(1.0)
    assert m[1]["recall"][0] == pytest.approx(0.0)
    assert np.isnan(m[2]["ndcg"][1]) and m[2]["precision"][1] == 0.0


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="same shape"):
        ranking_metrics([[1.0, 2.0]], [[True]])
    with pytest.raises(ValueError, match="k must be"):
        ranking_metrics([[1.0]], [[True]], ks=[0])
