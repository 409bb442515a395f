"""The offline evaluation (learnsight.interventions.recommend.evaluate)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from learnsight.interventions.recommend import (
    Interactions,
    evaluate,
    holdout_split,
    make_model,
    ranking_metrics,
)
from learnsight.interventions.recommend.base import mask_seen


def test_micro_average_over_matrices_equals_pooled_users(make_planted: Callable[..., Interactions]) -> None:
    a = make_planted(n_users=60, seed=1)
    b = make_planted(n_users=90, seed=2)
    both = evaluate([(a, None), (b, None)], models=("popularity",), ks=(10,), strategy="random")
    pooled = []
    for data in (a, b):
        split = holdout_split(data, strategy="random")
        model = make_model("popularity").fit(split.train)
        scores = mask_seen(model.score(split.users), split.train[split.users])
        pooled.append(ranking_metrics(scores, split.test[split.users].toarray() > 0, [10])[10]["ndcg"])
    (row,) = both.rows()
    assert row["users"] == 150 == both.users and both.matrices == 2
    assert row["ndcg"] == pytest.approx(float(np.mean(np.concatenate(pooled))))
    assert "| popularity | none |" in both.markdown()


def test_variants_and_errors(make_planted: Callable[..., Interactions]) -> None:
    data = make_planted(n_users=40)
    features = np.random.default_rng(0).standard_normal((40, 2))
    result = evaluate([(data, features)], models=("random", "als"), ks=(5,))
    assert {(r["model"], r["fill"]) for r in result.rows()} == {
        ("random", "none"),
        ("als", "none"),
        ("als", "mlr"),
    }
    only = evaluate([(data, None)], models=("item-knn",), fill="mlr", ks=(5,))
    assert only.rows() == []  # no features: nothing to fill
    with pytest.raises(ValueError, match="unknown model 'svd'"):
        evaluate([(data, None)], models=("svd",))


@pytest.mark.parametrize("name", ["random", "popularity", "item-knn", "als"])
def test_models_follow_the_estimator_contract(name: str, make_planted: Callable[..., Interactions]) -> None:
    from sklearn.base import clone

    model = make_model(name, random_state=3)
    twin = clone(model)
    assert twin.get_params() == model.get_params() and twin is not model
    data = make_planted(n_users=30).ratings()
    assert model.fit(data) is model
    a = model.score(np.arange(5))
    b = clone(model).fit(data).score(np.arange(5))
    assert np.array_equal(a, b)  # deterministic from the parameters
    with pytest.raises(IndexError):
        model.score([30])
