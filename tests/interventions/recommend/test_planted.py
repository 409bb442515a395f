"""On planted low-rank data both collaborative filters beat popularity, which beats a random order."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from learnsight.interventions.recommend import Interactions, evaluate


def test_cf_beats_popularity_beats_random(make_planted: Callable[..., Interactions]) -> None:
    data = make_planted(n_users=300, n_items=60, n_groups=3, per_user=12, seed=0)
    result = evaluate([(data, None)], strategy="random", ks=(10,), random_state=0)
    ndcg = {r["model"]: r["ndcg"] for r in result.rows() if r["fill"] == "none"}
    assert ndcg["popularity"] > 1.3 * ndcg["random"]
    assert ndcg["item-knn"] > 1.3 * ndcg["popularity"]
    assert ndcg["als"] > 1.3 * ndcg["popularity"]
    assert result.users == 300


def test_fill_with_informative_features_helps_item_knn(make_planted: Callable[..., Interactions]) -> None:
    # sparse rows (6 items a user): the indicators (here the users' group) carry what the rows lack
    data = make_planted(n_users=300, n_items=60, n_groups=3, per_user=6, seed=1)
    group = np.array([int(u[1:]) % 3 for u in data.users])
    features = np.eye(3)[group] - 1 / 3
    result = evaluate([(data, features)], models=("item-knn",), strategy="random", ks=(10,))
    ndcg = {r["fill"]: r["ndcg"] for r in result.rows()}
    assert ndcg["mlr"] > 1.1 * ndcg["none"]
    # uninformative (random) indicators must not help as much
    noise = np.random.default_rng(0).standard_normal((len(data.users), 3))
    blind = evaluate([(data, noise)], models=("item-knn",), fill="mlr", strategy="random", ks=(10,))
    assert blind.rows()[0]["ndcg"] < ndcg["mlr"]
