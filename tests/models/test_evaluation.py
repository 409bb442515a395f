"""The evaluation protocol: hand-computed metrics, stratified reproducible splits, repeated CV."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from learnsight.models.evaluation import (
    Metrics,
    evaluate,
    holdout_split,
    pool_reliability,
    reliability_curve,
    repeated_cv,
    repeated_splits,
    summarize,
)

# -- metrics -----------------------------------------------------------------------------------------

Y_TRUE = ["a", "a", "b", "b", "c", "c"]
Y_PRED = ["a", "b", "b", "b", "c", "a"]


def test_hand_computed_metrics() -> None:
    m = evaluate(Y_TRUE, Y_PRED, labels=["a", "b", "c"])
    # a: TP 1, FN 1, FP 1 -> recall 1/2, F1 1/2;  b: TP 2, FP 1 -> recall 1, precision 2/3, F1 4/5;
    # c: TP 1, FN 1, FP 0 -> recall 1/2, precision 1, F1 2/3
    assert m.n == 6
    assert m.accuracy == pytest.approx(4 / 6)
    assert m.recall == pytest.approx((0.5, 1.0, 0.5))
    assert m.f1 == pytest.approx((0.5, 0.8, 2 / 3))
    assert m.macro_f1 == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert m.confusion == ((1, 1, 0), (0, 2, 0), (1, 0, 1))
    assert m.brier is None and m.ece is None and m.reliability is None


def test_labels_fix_the_order_and_absent_classes_count() -> None:
    m = evaluate(Y_TRUE, Y_PRED, labels=["c", "b", "a", "z"])
    assert m.labels == ("c", "b", "a", "z")
    assert m.confusion == ((1, 0, 1, 0), (0, 2, 0, 0), (0, 1, 1, 0), (0, 0, 0, 0))
    assert m.recall == pytest.approx((0.5, 1.0, 0.5, 0.0))
    assert m.macro_f1 == pytest.approx((2 / 3 + 0.8 + 0.5 + 0.0) / 4)
    assert evaluate(Y_TRUE, Y_PRED).labels == ("a", "b", "c")  # default: sorted


def test_unknown_class_is_an_error() -> None:
    with pytest.raises(ValueError, match="not in labels"):
        evaluate(Y_TRUE, Y_PRED, labels=["a", "b"])


def test_hand_computed_calibration() -> None:
    y = [0, 1, 1, 0]
    p1 = [0.2, 0.7, 0.9, 0.6]
    m = evaluate(y, [0, 1, 1, 1], proba=p1, labels=[0, 1], n_bins=10)
    # Brier: (0.2² + 0.3² + 0.1² + 0.6²) / 4
    assert m.brier == pytest.approx(0.125)
    # top-label confidences 0.8 ✓, 0.7 ✓, 0.9 ✓, 0.6 ✗, one per bin: (0.2 + 0.3 + 0.1 + 0.6) / 4
    assert m.ece == pytest.approx(0.3)
    assert m.reliability is not None
    assert [(b.lower, b.count, b.accuracy) for b in m.reliability] == [
        (0.6, 1, 0.0),
        (0.7, 1, 1.0),
        (0.8, 1, 1.0),
        (0.9, 1, 1.0),
    ]
    # two bins: all four in [0.5, 1]; accuracy 3/4 = mean confidence 0.75
    ece, bins = reliability_curve(y, p1, [0, 1], n_bins=2)
    assert ece == pytest.approx(0.0)
    assert [(b.count, b.confidence) for b in bins] == [(4, pytest.approx(0.75))]


def test_pooled_reliability_equals_one_curve_of_all_rows() -> None:
    rng = np.random.default_rng(1)
    p1 = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p1).astype(int)
    pred = (p1 > 0.5).astype(int)
    whole = evaluate(y, pred, proba=p1, labels=[0, 1])
    parts = [evaluate(y[i::3], pred[i::3], proba=p1[i::3], labels=[0, 1]) for i in range(3)]
    ece, bins = pool_reliability([[vars(b) for b in m.reliability or ()] for m in parts])
    assert whole.reliability is not None and ece == pytest.approx(whole.ece)
    assert [(b["lower"], b["count"]) for b in bins] == [(b.lower, b.count) for b in whole.reliability]
    for got, want in zip(bins, whole.reliability, strict=True):
        assert got["confidence"] == pytest.approx(want.confidence)
        assert got["accuracy"] == pytest.approx(want.accuracy)
    assert pool_reliability([]) == (0.0, [])


def test_multiclass_brier_matches_the_formula() -> None:
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    m = evaluate(["a", "b", "c"], ["a", "b", "c"], proba=proba, labels=["a", "b", "c"])
    onehot = np.eye(3)
    assert m.brier == pytest.approx(((proba - onehot) ** 2).sum() / (2 * 3))


def test_bad_proba_shape_or_sum() -> None:
    with pytest.raises(ValueError, match="shape"):
        evaluate([0, 1], [0, 1], proba=np.ones((2, 3)) / 3, labels=[0, 1])
    with pytest.raises(ValueError, match="sum to 1"):
        evaluate([0, 1], [0, 1], proba=np.array([[0.5, 0.6], [0.5, 0.5]]), labels=[0, 1])


def test_perfectly_calibrated_predictor_has_small_ece() -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1.0, 1.0, 1.0], size=40_000)
    y = np.array([rng.choice(3, p=p) for p in proba])
    good = evaluate(y, proba.argmax(axis=1), proba=proba, labels=[0, 1, 2])
    assert good.ece is not None and good.ece < 0.015
    sharp = proba**4 / (proba**4).sum(axis=1, keepdims=True)  # overconfident
    bad = evaluate(y, sharp.argmax(axis=1), proba=sharp, labels=[0, 1, 2])
    assert bad.ece is not None and bad.ece > 0.05
    assert good.brier is not None and bad.brier is not None and good.brier < bad.brier


def test_to_dict_is_json_ready() -> None:
    m = evaluate([0, 1, 1], [0, 1, 0], proba=[0.1, 0.8, 0.4], labels=[0, 1])
    d = json.loads(json.dumps(m.to_dict()))
    assert d["recall"] == {"0": 1.0, "1": 0.5}
    assert d["confusion"] == [[1, 0], [1, 1]]
    assert d["reliability"][0].keys() == {"lower", "upper", "count", "confidence", "accuracy"}


def test_summarize_mean_and_sd() -> None:
    half = evaluate([0, 1], [0, 0], labels=[0, 1])
    full = evaluate([0, 1], [0, 1], labels=[0, 1])
    s = summarize([half, full])
    assert s["accuracy"].mean == pytest.approx(0.75)
    assert s["accuracy"].sd == pytest.approx(np.sqrt(2 * 0.25**2))  # sample sd
    assert s["recall[1]"].mean == pytest.approx(0.5)
    assert "ece" not in s
    assert str(s["accuracy"]) == "0.7500 ± 0.3536"


# -- splits ------------------------------------------------------------------------------------------


def _labels() -> np.ndarray:
    return np.array(["a"] * 30 + ["b"] * 60 + ["c"] * 9)


def test_holdout_is_stratified_disjoint_and_reproducible() -> None:
    y = _labels()
    split = holdout_split(y, seed=7)
    assert np.intersect1d(split.train, split.test).size == 0
    assert np.array_equal(np.union1d(split.train, split.test), np.arange(y.size))
    assert Counter(y[split.test]) == {"a": 10, "b": 20, "c": 3}
    again = holdout_split(y, seed=7)
    assert np.array_equal(again.test, split.test) and np.array_equal(again.train, split.train)
    assert not np.array_equal(holdout_split(y, seed=8).test, split.test)


def test_holdout_stratifies_within_groups() -> None:
    y = np.tile(["pass"] * 6 + ["fail"] * 3, 2)
    tasks = np.repeat(["mat", "por"], 9)
    split = holdout_split(y, tasks, seed=1)
    assert Counter(zip(tasks[split.test], y[split.test], strict=True)) == {
        ("mat", "pass"): 2,
        ("mat", "fail"): 1,
        ("por", "pass"): 2,
        ("por", "fail"): 1,
    }


def test_repeated_splits_partition_each_repeat_and_are_stratified() -> None:
    y = _labels()
    splits = repeated_splits(y, n_splits=5, n_repeats=3, seed=3)
    assert len(splits) == 15
    assert [(s.repeat, s.fold) for s in splits[:6]] == [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0)]
    for r in range(3):
        tests = np.concatenate([s.test for s in splits if s.repeat == r])
        assert np.array_equal(np.sort(tests), np.arange(y.size))  # each row tested once per repeat
    for s in splits:
        assert np.intersect1d(s.train, s.test).size == 0
        assert s.train.size + s.test.size == y.size
        counts = Counter(y[s.test])
        assert counts["a"] == 6 and counts["b"] == 12 and counts["c"] in (1, 2)
    again = repeated_splits(y, n_splits=5, n_repeats=3, seed=3)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again, strict=True))
    other = repeated_splits(y, n_splits=5, n_repeats=3, seed=4)
    assert not all(np.array_equal(a.test, b.test) for a, b in zip(splits, other, strict=True))


def test_repeated_splits_stratify_within_tasks() -> None:
    y = np.tile(["pass"] * 20 + ["fail"] * 10, 2)
    tasks = np.repeat(["mat", "por"], 30)
    for s in repeated_splits(y, n_splits=5, n_repeats=2, seed=0, tasks=tasks):
        counts = Counter(zip(tasks[s.test], y[s.test], strict=True))
        assert counts == {("mat", "pass"): 4, ("mat", "fail"): 2, ("por", "pass"): 4, ("por", "fail"): 2}


# -- repeated CV -------------------------------------------------------------------------------------


def _data(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, 3))
    y = np.where(x[:, 0] + 0.3 * rng.standard_normal(n) > 0, "normal", "at-risk")
    return x, y


def test_repeated_cv_gives_n_splits_times_n_repeats_results() -> None:
    x, y = _data()
    result = repeated_cv(LogisticRegression, x, y, n_splits=5, n_repeats=2, seed=0)
    assert len(result.metrics) == 10 and len(result.splits) == 10
    summary = result.summary()
    assert summary["accuracy"].n == 10
    assert summary["accuracy"].mean > 0.85
    assert "ece" in summary and "brier" in summary
    assert int(result.confusion().sum()) == 2 * y.size
    again = repeated_cv(LogisticRegression, x, y, n_splits=5, n_repeats=2, seed=0)
    assert again.summary() == summary
    json.dumps(result.to_dict())


class _Majority:
    """Predicts the most frequent training class; no probabilities."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Majority:
        values, counts = np.unique(y, return_counts=True)
        self.label_ = values[counts.argmax()]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.label_)


def test_repeated_cv_without_probabilities_and_with_fixed_labels() -> None:
    x, y = _data(60)
    result = repeated_cv(_Majority, x, y, n_splits=3, n_repeats=2, seed=1, labels=["at-risk", "normal", "x"])
    assert len(result.metrics) == 6
    m: Metrics = result.metrics[0]
    assert m.labels == ("at-risk", "normal", "x") and m.ece is None
    assert "ece" not in result.summary()
    assert result.summary()["recall[x]"].mean == 0.0


class _PerTaskMajority:
    """Majority class per task: needs ``tasks=`` in fit and predict."""

    def fit(self, x: np.ndarray, y: np.ndarray, tasks: np.ndarray) -> _PerTaskMajority:
        self.by_task_ = {t: Counter(y[tasks == t]).most_common(1)[0][0] for t in np.unique(tasks)}
        return self

    def predict(self, x: np.ndarray, tasks: np.ndarray) -> np.ndarray:
        assert len(tasks) == len(x)
        return np.array([self.by_task_[t] for t in tasks])


def test_repeated_cv_passes_tasks() -> None:
    tasks = np.repeat(["mat", "por"], 30)
    y = np.array(["pass"] * 24 + ["fail"] * 6 + ["fail"] * 24 + ["pass"] * 6)
    x = np.zeros((60, 1))
    result = repeated_cv(
        _PerTaskMajority, x, y, n_splits=3, n_repeats=2, seed=0, tasks=tasks, pass_tasks=True
    )
    assert result.summary()["accuracy"].mean == pytest.approx(0.8)
    with pytest.raises(ValueError, match="pass_tasks needs tasks"):
        repeated_cv(_PerTaskMajority, x, y, n_splits=3, n_repeats=1, seed=0, pass_tasks=True)
