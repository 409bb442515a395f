"""Item-based collaborative filtering (learnsight.interventions.recommend.knn)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from learnsight.interventions.recommend import ItemKNNRecommender


def _ratings(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.random((40, 15)) * (rng.random((40, 15)) < 0.3)
    x[0, :] = 0.0
    x[0, 3] = 1.0  # a user with one item
    return np.log1p(np.round(x * 10))


def test_scores_equal_brute_force_cosine() -> None:
    x = _ratings()
    model = ItemKNNRecommender(n_neighbors=100, shrinkage=0.0).fit(x)
    m = x.shape[1]
    cos = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            ni, nj = np.linalg.norm(x[:, i]), np.linalg.norm(x[:, j])
            if i != j and ni > 0 and nj > 0:
                cos[i, j] = x[:, i] @ x[:, j] / (ni * nj)
    expected = x @ cos
    assert np.allclose(model.score(np.arange(x.shape[0])), expected)


def test_shrinkage_and_neighbour_pruning() -> None:
    x = _ratings(1)
    plain = ItemKNNRecommender(n_neighbors=100, shrinkage=0.0).fit(x).weights_
    shrunk = ItemKNNRecommender(n_neighbors=100, shrinkage=5.0).fit(x).weights_
    norms = np.linalg.norm(x, axis=0)
    nz = plain > 0
    expected = (plain * np.outer(norms, norms))[nz] / (np.outer(norms, norms)[nz] + 5.0)
    assert np.allclose(shrunk[nz], expected)
    pruned = ItemKNNRecommender(n_neighbors=3, shrinkage=0.0).fit(x).weights_
    assert ((pruned != 0).sum(axis=0) <= 3).all()
    for i in range(x.shape[1]):  # the kept neighbours are the 3 most similar
        kept = np.flatnonzero(pruned[:, i])
        assert set(kept) <= set(np.argsort(-plain[:, i])[: max(3, kept.size)])


def test_recommend_excludes_seen_items_and_contributions_sum_to_the_score() -> None:
    x = _ratings(2)
    model = ItemKNNRecommender(n_neighbors=5).fit(x)
    items, scores = model.recommend(np.arange(x.shape[0]), k=5)
    for u in range(x.shape[0]):
        recommended = items[u][items[u] >= 0]
        assert not np.any(x[u, recommended] > 0)
        assert np.all(np.diff(scores[u][items[u] >= 0]) <= 0)
        for item, score in zip(items[u][:2], scores[u][:2], strict=True):
            if item >= 0:
                assert model.contributions(u, int(item)).sum() == pytest.approx(score)
    all_items, _ = model.recommend([0], k=15, exclude_seen=False)
    assert 3 in all_items[0].tolist()


def test_fill_enters_the_profiles_and_estimator_contract() -> None:
    x = _ratings(3)
    fill = np.where(x > 0, 0.0, 0.1)
    model = ItemKNNRecommender().fit(x, fill)
    assert np.allclose(model.profiles_, x + fill)
    assert clone(model).get_params() == {"n_neighbors": 50, "shrinkage": 10.0}
    with pytest.raises(ValueError, match="filled"):
        ItemKNNRecommender().fit(x, -fill)
    with pytest.raises(ValueError, match="n_neighbors"):
        ItemKNNRecommender(n_neighbors=0).fit(x)
