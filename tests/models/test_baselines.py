"""Single-task baselines: per-task / pooled equivalences, probability alignment, CV on task splits."""

# ruff: noqa: N806

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from learnsight.models.baselines import PerTask, baseline_models
from learnsight.models.evaluation import repeated_cv


def make_tasks(seed: int, n_t: int = 40, d: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two tasks with opposite linear signal: (X, y regression, y 3-class, tasks)."""
    rng = np.random.default_rng(seed)
    tasks = np.repeat(np.array(["a", "b"]), n_t)
    X = rng.normal(size=(2 * n_t, d))
    w = np.where(tasks == "a", 1.0, -1.0)
    y = w * (X[:, 0] + 0.5 * X[:, 1]) + rng.normal(scale=0.3, size=2 * n_t)
    y_cls = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    return X, y, y_cls, tasks


def test_per_task_equals_one_clone_per_task() -> None:
    X, y, y_cls, tasks = make_tasks(0)
    for base, target in [(Ridge(alpha=0.5), y), (LogisticRegression(C=0.7, max_iter=500), y_cls)]:
        model = PerTask(base).fit(X, target, tasks)
        assert list(model.tasks_) == ["a", "b"]
        pred = model.predict(X, tasks)
        for t in ["a", "b"]:
            rows = tasks == t
            ref = clone(base).fit(X[rows], target[rows])
            np.testing.assert_allclose(pred[rows], ref.predict(X[rows]))
            if is_classifier(base):
                proba = model.predict_proba(X[rows], tasks[rows])
                np.testing.assert_allclose(proba, ref.predict_proba(X[rows]))


def test_pooled_equals_one_model_on_all_rows() -> None:
    X, y, y_cls, tasks = make_tasks(1)
    pooled = PerTask(Ridge(), pooled=True).fit(X, y, tasks)
    ref = Ridge().fit(X, y)
    np.testing.assert_allclose(pooled.predict(X, tasks), ref.predict(X))
    np.testing.assert_allclose(pooled.predict(X), ref.predict(X))  # no task information needed
    onehot = np.column_stack([tasks == "a", tasks == "b"]).astype(float)
    with_tf = PerTask(LogisticRegression(max_iter=500), pooled=True, task_feature=True).fit(X, y_cls, tasks)
    ref_tf = LogisticRegression(max_iter=500).fit(np.hstack([X, onehot]), y_cls)
    np.testing.assert_allclose(with_tf.predict_proba(X, tasks), ref_tf.predict_proba(np.hstack([X, onehot])))
    np.testing.assert_array_equal(with_tf.predict(X, tasks), ref_tf.predict(np.hstack([X, onehot])))


def test_task_feature_needs_pooled() -> None:
    X, y, _, tasks = make_tasks(2)
    with pytest.raises(ValueError, match="pooled"):
        PerTask(Ridge(), task_feature=True).fit(X, y, tasks)


def test_predict_proba_aligns_when_a_task_lacks_classes() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    tasks = np.repeat(np.array([0, 1, 2]), 20)
    y = np.array(["at-risk", "excellent", "normal"])[rng.integers(0, 3, size=60)]
    y[tasks == 1] = np.where(X[tasks == 1, 0] > 0, "normal", "excellent")  # lacks "at-risk"
    y[tasks == 2] = "normal"  # a single class
    model = PerTask(LogisticRegression(max_iter=500)).fit(X, y, tasks)
    assert list(model.classes_) == ["at-risk", "excellent", "normal"]
    proba = model.predict_proba(X, tasks)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[tasks == 1, 0], 0.0)
    np.testing.assert_array_equal(proba[tasks == 2], np.tile([0.0, 0.0, 1.0], (20, 1)))
    pred = model.predict(X, tasks)
    assert set(pred[tasks == 2]) == {"normal"}
    np.testing.assert_array_equal(pred, model.classes_[proba.argmax(axis=1)])
    # a tree fitted on a subset of classes is aligned too
    tree = PerTask(DecisionTreeClassifier(random_state=0)).fit(X, y, tasks)
    np.testing.assert_array_equal(tree.predict_proba(X, tasks)[tasks == 1, 0], 0.0)


def test_unseen_task_is_an_error() -> None:
    X, y, y_cls, tasks = make_tasks(4)
    model = PerTask(LogisticRegression()).fit(X, y_cls, tasks)
    with pytest.raises(ValueError, match="not seen in fit"):
        model.predict(X[:2], np.array(["a", "z"]))
    with pytest.raises(ValueError, match="not seen in fit"):
        model.predict_proba(X[:2], np.array(["c", "a"]))
    with pytest.raises(ValueError, match="pass tasks="):
        model.predict(X[:2])
    pooled = PerTask(Ridge(), pooled=True, task_feature=True).fit(X, y, tasks)
    with pytest.raises(ValueError, match="not seen in fit"):
        pooled.predict(X[:1], np.array(["q"]))


def test_clone_and_params() -> None:
    model = PerTask(LogisticRegression(C=2.0), pooled=True, task_feature=True)
    params = model.get_params()
    assert params["estimator__C"] == 2.0 and params["pooled"] and params["task_feature"]
    model.set_params(estimator__C=0.3, pooled=False, task_feature=False)
    copy = clone(model)
    assert copy is not model and copy.estimator is not model.estimator
    assert copy.get_params()["estimator__C"] == 0.3 and not copy.pooled
    assert is_classifier(model) and is_regressor(PerTask(Ridge()))
    assert not hasattr(PerTask(Ridge()), "predict_proba")


def test_baseline_models_through_repeated_cv() -> None:
    X, y, y_cls, tasks = make_tasks(5, n_t=30)
    clf = baseline_models("classification", seed=0)
    reg = baseline_models("regression", seed=0)
    names = {"random_forest", "gradient_boosting"}
    assert set(clf) == {f"{n}{s}" for n in names | {"logistic"} for s in ("", "_pooled")}
    assert set(reg) == {f"{n}{s}" for n in names | {"ridge"} for s in ("", "_pooled")}
    assert all(is_classifier(m) for m in clf.values()) and all(is_regressor(m) for m in reg.values())
    for name, model in reg.items():
        fitted = clone(model).set_params(estimator__n_estimators=10) if "forest" in name else clone(model)
        r2 = fitted.fit(X, y, tasks).score(X, y, tasks)
        # the tasks' signals have opposite signs: only a pooled *linear* model cannot fit both
        assert r2 > 0.3 or name == "ridge_pooled", (name, r2)
    for name in ["logistic", "logistic_pooled", "gradient_boosting"]:
        result = repeated_cv(
            lambda name=name: clone(clf[name]),
            X,
            y_cls,
            n_splits=3,
            n_repeats=1,
            seed=0,
            tasks=tasks,
            pass_tasks=True,
        )
        assert len(result.metrics) == 3
        summary = result.summary()
        assert np.isfinite(summary["accuracy"].mean), name
    # per-task learns the opposite signs; pooled without task information cannot
    per_task = repeated_cv(
        lambda: clone(clf["logistic"]),
        X,
        y_cls,
        n_splits=3,
        n_repeats=1,
        seed=0,
        tasks=tasks,
        pass_tasks=True,
    )
    blind = repeated_cv(
        lambda: PerTask(clone(clf["logistic"].estimator), pooled=True),
        X,
        y_cls,
        n_splits=3,
        n_repeats=1,
        seed=0,
        tasks=tasks,
        pass_tasks=True,
    )
    assert per_task.summary()["accuracy"].mean > blind.summary()["accuracy"].mean + 0.1


def test_baseline_models_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        baseline_models("ranking", seed=0)  # type: ignore[arg-type]


@parametrize_with_checks(
    [PerTask(Ridge()), PerTask(LogisticRegression()), PerTask(Ridge(), pooled=True, task_feature=True)]
)
def test_sklearn_estimator_contract(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def test_missing_values_pass_through_when_the_estimator_allows_them() -> None:
    X, _, y_cls, tasks = make_tasks(6)
    X[0, 0] = np.nan
    model = PerTask(HistGradientBoostingClassifier(min_samples_leaf=5, max_iter=20)).fit(X, y_cls, tasks)
    assert np.all(np.isfinite(model.predict_proba(X, tasks)))
    with pytest.raises(ValueError, match="NaN"):
        PerTask(Ridge()).fit(X, y_cls, tasks)
