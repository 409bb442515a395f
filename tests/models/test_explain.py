"""Per-row contributions: exact for linear models (RMTL, logistic per course or pooled), occlusion
for the rest, missing-indicator folding, batching, top drivers."""

# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from learnsight.errors import LearnsightError
from learnsight.models.baselines import PerTask
from learnsight.models.explain import (
    contributions,
    occlusion_contributions,
    reference_medians,
    top_drivers,
)
from learnsight.models.preprocess import Prepared
from learnsight.models.rmtl import RMTLClassifier

NAMES = ["x0", "x1", "x2", "x3", "x4"]


def _data(seed: int = 0, n: int = 240, classes: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)) * np.array([1.0, 3.0, 0.5, 10.0, 1.0]) + np.array([0, 5, -1, 100, 0])
    tasks = np.where(np.arange(n) % 2 == 0, "c1", "c2")
    signal = X[:, 0] - 0.3 * (X[:, 1] - 5) + np.where(tasks == "c1", 0.5, -0.5) * X[:, 4]
    signal += rng.normal(scale=0.5, size=n)
    if classes == 2:
        y = np.where(signal > 0, "pass", "fail").astype(object)
    else:
        y = np.asarray(["low", "mid", "high"], dtype=object)[
            np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))
        ]
    return X, y, tasks


def _logit_of_predicted(z: np.ndarray, classes: Any, pred: np.ndarray) -> np.ndarray:
    """The logit of each row's predicted class from a decision function (binary: signed)."""
    classes = list(classes)
    idx = np.array([classes.index(c) for c in pred])
    if z.ndim == 1:
        return np.where(idx == 1, z, -z)
    return z[np.arange(z.shape[0]), idx]


def _predicted(model: Any, X: np.ndarray, tasks: np.ndarray) -> np.ndarray:
    return np.asarray(model.classes_)[np.argmax(model.predict_proba(X, tasks=tasks), axis=1)]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_rmtl_contributions_sum_to_logit_minus_logit_at_training_mean(n_classes: int) -> None:
    X, y, tasks = _data(1, classes=n_classes)
    model = Prepared(RMTLClassifier(rho1=0.01, rho2=0.01), feature_names=NAMES).fit(X, y, tasks=tasks)
    contrib = contributions(model, X, tasks, NAMES)
    assert contrib.shape == (X.shape[0], 5)
    pred = _predicted(model, X, tasks)
    est = model.estimator_
    mean = X.mean(axis=0)  # no missing values: the training mean maps to the scaled origin
    z = est.decision_function(model.transform(X), tasks)
    z0 = est.decision_function(model.transform(np.tile(mean, (X.shape[0], 1))), tasks)
    expected = _logit_of_predicted(z, est.classes_, pred) - _logit_of_predicted(z0, est.classes_, pred)
    np.testing.assert_allclose(contrib.sum(axis=1), expected, atol=1e-9)
    # the informative feature pushes rows towards their predicted class on average
    assert np.mean(np.abs(contrib[:, 0])) > np.mean(np.abs(contrib[:, 2]))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_per_course_logistic_contributions_are_exact(n_classes: int) -> None:
    X, y, tasks = _data(2, classes=n_classes)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    model = Prepared(PerTask(pipe), feature_names=NAMES).fit(X, y, tasks=tasks)
    contrib = contributions(model, X, tasks, NAMES, method="exact")
    pred = _predicted(model, X, tasks)
    est = model.estimator_
    for t, inner in zip(est.tasks_, est.estimators_, strict=True):
        rows = tasks == t
        task_mean = X[rows].mean(axis=0)  # per-course model: its own training rows' mean
        z = inner.decision_function(model.transform(X[rows]))
        z0 = inner.decision_function(model.transform(np.tile(task_mean, (rows.sum(), 1))))
        expected = _logit_of_predicted(z, inner.classes_, pred[rows]) - _logit_of_predicted(
            z0, inner.classes_, pred[rows]
        )
        np.testing.assert_allclose(contrib[rows].sum(axis=1), expected, atol=1e-9)


def test_pooled_logistic_leaves_out_the_course_offset() -> None:
    X, y, tasks = _data(3)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    model = Prepared(PerTask(pipe, pooled=True, task_feature=True), feature_names=NAMES).fit(
        X, y, tasks=tasks
    )
    contrib = contributions(model, X, tasks, NAMES, method="exact")
    pred = _predicted(model, X, tasks)
    inner = model.estimator_.estimators_[0]
    onehot = np.column_stack([tasks == "c1", tasks == "c2"]).astype(float)
    Xt = np.hstack([model.transform(X), onehot])
    # reference: the training mean of the features, with the row's own course indicator
    Xm = np.hstack([model.transform(np.tile(X.mean(axis=0), (X.shape[0], 1))), onehot])
    expected = _logit_of_predicted(inner.decision_function(Xt), inner.classes_, pred) - _logit_of_predicted(
        inner.decision_function(Xm), inner.classes_, pred
    )
    np.testing.assert_allclose(contrib.sum(axis=1), expected, atol=1e-9)


def test_missing_indicators_fold_into_their_feature_and_dropped_columns_get_zero() -> None:
    X, y, tasks = _data(4)
    rng = np.random.default_rng(4)
    X[rng.random(X.shape[0]) < 0.3, 1] = np.nan
    X[:, 2] = 5.0  # constant: dropped by Prepared
    model = Prepared(RMTLClassifier(rho1=0.01, rho2=0.01), feature_names=NAMES).fit(X, y, tasks=tasks)
    assert "x1 missing" in model.feature_names_out_ and "x2" not in model.feature_names_out_
    contrib = contributions(model, X, tasks, NAMES)
    assert np.all(contrib[:, 2] == 0.0)
    # by hand, in the model's own input space
    est = model.estimator_
    Xt = model.transform(X)
    pred = _predicted(model, X, tasks)
    k = np.array([list(est.classes_).index(c) for c in pred])
    codes = np.array([list(est.tasks_).index(t) for t in tasks])
    W = est.W_[k, :, codes]  # (rows, model inputs)
    out_names = list(model.feature_names_out_)
    i1, i1m = out_names.index("x1"), out_names.index("x1 missing")
    np.testing.assert_allclose(contrib[:, 1], W[:, i1] * Xt[:, i1] + W[:, i1m] * Xt[:, i1m], atol=1e-12)
    np.testing.assert_allclose(contrib[:, 0], W[:, out_names.index("x0")] * Xt[:, out_names.index("x0")])
    # still exact: the sum is the logit minus the logit at the scaled origin (the training mean)
    z = est.decision_function(Xt, tasks)
    expected = z[np.arange(len(k)), k] - est.intercept_[k, codes]
    np.testing.assert_allclose(contrib.sum(axis=1), expected, atol=1e-9)


def test_blocks_sum_exact_contributions() -> None:
    X, y, tasks = _data(5)
    model = Prepared(RMTLClassifier(rho1=0.01, rho2=0.01), feature_names=NAMES).fit(X, y, tasks=tasks)
    per_column = contributions(model, X, tasks, NAMES)
    blocks = contributions(model, X, tasks, ["a", "b"], blocks=[[0, 1], [2, 3, 4]])
    np.testing.assert_allclose(blocks[:, 0], per_column[:, :2].sum(axis=1))
    np.testing.assert_allclose(blocks[:, 1], per_column[:, 2:].sum(axis=1))
    with pytest.raises(LearnsightError, match="feature names"):
        contributions(model, X, tasks, ["only one"])


class FirstOnly:
    """A classifier whose probabilities depend on column 0 only (counts its calls)."""

    classes_ = np.array(["no", "yes"], dtype=object)

    def __init__(self) -> None:
        self.calls = 0

    def predict_proba(self, X: npt.ArrayLike, tasks: Any = None) -> np.ndarray:
        self.calls += 1
        x = np.asarray(X, dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-2.0 * (x[:, 0] - 1.0)))
        return np.column_stack([1.0 - p, p])


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def test_occlusion_only_credits_the_feature_the_model_uses() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 4))
    train = rng.normal(size=(200, 4))
    med = np.median(train, axis=0)
    X[:7, 0] = med[0]  # rows at the median: exactly 0
    model = FirstOnly()
    contrib = contributions(model, X, None, ["a", "b", "c", "d"], reference=train)
    assert np.all(contrib[:, 1:] == 0.0)
    assert np.all(contrib[:7, 0] == 0.0) and np.all(contrib[7:, 0] != 0.0)
    p = model.predict_proba(X)
    pm = model.predict_proba(np.column_stack([np.full(60, med[0]), X[:, 1:]]))
    c = np.argmax(p, axis=1)
    expected = _logit(p[np.arange(60), c]) - _logit(pm[np.arange(60), c])
    np.testing.assert_allclose(contrib[:, 0], expected, atol=1e-12)
    # sign: positive pushes towards the predicted class
    towards = (p[np.arange(60), c] > pm[np.arange(60), c])[7:]
    assert np.array_equal(contrib[7:, 0] > 0, towards)
    # medians given directly (1-D) are the same reference
    np.testing.assert_allclose(contributions(model, X, None, ["a", "b", "c", "d"], reference=med), contrib)
    with pytest.raises(LearnsightError, match="not a linear model"):
        contributions(model, X, None, ["a", "b", "c", "d"], method="exact")


def test_occlusion_calls_the_model_at_most_once_per_feature() -> None:
    rng = np.random.default_rng(7)
    n, d = 30_000, 90
    X = rng.poisson(2.0, size=(n, d)).astype(np.float64)
    X[:, 1:][rng.random((n, d - 1)) < 0.05] = np.nan  # FirstOnly cannot take a missing x0
    model = FirstOnly()
    names = [f"f{j}" for j in range(d)]
    contrib = contributions(model, X, None, names, reference=X, method="occlusion")
    assert contrib.shape == (n, d)
    assert model.calls <= 2 + d  # predicted class, base scores, at most one batch per feature
    assert np.all(contrib[:, 1:] == 0.0)
    # with a tiny batch, each feature is its own call (never split)
    model = FirstOnly()
    occlusion_contributions(
        model, X[:50], None, [[j] for j in range(d)], cidx=np.zeros(50, dtype=np.intp), batch_rows=1
    )
    assert model.calls == 1 + d


def test_occlusion_of_a_block_replaces_all_its_columns() -> None:
    rng = np.random.default_rng(8)
    X = rng.normal(size=(30, 4))
    contrib = contributions(
        FirstOnly(), X, None, ["first two", "last two"], reference=X, blocks=[[0, 1], [2, 3]]
    )
    assert np.all(contrib[:, 1] == 0.0) and np.any(contrib[:, 0] != 0.0)


def test_occlusion_of_a_regressor_is_the_change_of_the_prediction() -> None:
    class Linear:
        def predict(self, X: npt.ArrayLike) -> np.ndarray:
            return 3.0 * np.asarray(X)[:, 1]

    X = np.array([[0.0, 1.0], [5.0, 4.0], [1.0, 2.0]])
    contrib = contributions(Linear(), X, None, ["a", "b"], reference=np.array([0.0, 2.0]))
    np.testing.assert_allclose(contrib, [[0.0, -3.0], [0.0, 6.0], [0.0, 0.0]])


def test_prepared_medians_come_from_its_imputer() -> None:
    X, y, tasks = _data(9)
    X[::5, 3] = np.nan
    X[:, 2] = 1.0
    model = Prepared(PerTask(RandomForestClassifier(n_estimators=5, random_state=0)), feature_names=NAMES)
    model.fit(X, y, tasks=tasks)
    other = np.zeros((3, 5))
    med = reference_medians(model, other, reference=np.full((4, 5), 99.0))
    np.testing.assert_allclose(med[[0, 1, 3, 4]], np.nanmedian(X, axis=0)[[0, 1, 3, 4]])
    contrib = contributions(model, X[:20], tasks[:20], NAMES)
    assert np.all(contrib[:, 2] == 0.0)  # dropped constant column
    assert np.any(contrib != 0.0)


def test_top_drivers_are_sorted_by_magnitude_and_skip_zeros() -> None:
    contrib = np.array([[0.1, -0.5, 0.0, 0.3], [0.0, 0.0, 0.0, 0.0]])
    values = np.array([[1.0, np.nan, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    drivers = top_drivers(contrib, ["a", "b", "c", "d"], values, k=3)
    assert drivers[0] == [
        {"feature": "b", "value": None, "contribution": -0.5},
        {"feature": "d", "value": 4.0, "contribution": 0.3},
        {"feature": "a", "value": 1.0, "contribution": 0.1},
    ]
    assert drivers[1] == []
    assert [d["feature"] for d in top_drivers(contrib, ["a", "b", "c", "d"], values, k=10)[0]] == [
        "b",
        "d",
        "a",
    ]
    with pytest.raises(LearnsightError):
        top_drivers(contrib, ["a"], values)
