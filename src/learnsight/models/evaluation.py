"""The evaluation protocol of SPEC §3: splits, classification metrics, calibration, CV summaries.

Splits
------
* :func:`holdout_split` — the papers' 2:1 hold-out: a third of every stratum goes to the test set
  (``round(n_s / 3)`` rows of a stratum of ``n_s``, so a lone row stays in training).
* :func:`repeated_splits` / :func:`repeated_cv` — repeated stratified k-fold (default 20 × 10-fold,
  as Cortez & Silva 2008), scikit-learn's :class:`~sklearn.model_selection.RepeatedStratifiedKFold`.

A stratum is a class, or with ``tasks`` (the course of each row, for multi-task learning) a
(task, class) pair: every course keeps its class mix in every fold, and every course appears in
training and test.  Everything is a function of ``seed`` alone.

Metrics (:func:`evaluate`)
--------------------------
Accuracy, per-class recall and F1, macro-F1 (the unweighted mean of the per-class F1, the papers'
"comprehensive analysis index") and the confusion matrix (rows = true class, columns = predicted,
both in ``labels`` order), from :mod:`sklearn.metrics`.  A class absent from both truth and
prediction gets recall and F1 0 (``zero_division=0``).

With class probabilities (``proba``, columns in ``labels`` order; a 1-D array for two classes is
the probability of ``labels[1]``):

* **Brier score**: ``1/(2n) Σ_i Σ_k (p_ik − [y_i = k])²`` (scikit-learn's ``brier_score_loss``
  with ``scale_by_half=True``), in [0, 1]; for two classes it is the usual
  ``1/n Σ (p_i − y_i)²`` of the positive class.
* **Expected calibration error** of the top-label confidence ``c_i = max_k p_ik`` (Guo et al.,
  *On Calibration of Modern Neural Networks*, ICML 2017): ``n_bins`` equal-width bins
  ``[j/B, (j+1)/B)`` (the last one closed), ``ECE = Σ_b (n_b / n) · |acc_b − conf_b|`` with
  ``acc_b`` the share of rows of bin ``b`` whose top-probability class is the true one and
  ``conf_b`` their mean confidence.  The non-empty bins are the reliability curve.

Repeated CV results are summarised as mean ± sd (sample sd, ``ddof = 1``) over all folds
(:func:`summarize`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from sklearn.metrics import (  # type: ignore[import-untyped]
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    recall_score,
)
from sklearn.model_selection import RepeatedStratifiedKFold  # type: ignore[import-untyped]

Label = int | str
"""A class label (outcome name or code)."""
IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

HOLDOUT_TEST_SIZE = 1 / 3
"""The 2:1 hold-out."""


class Classifier(Protocol):
    """What :func:`repeated_cv` needs of a model: scikit-learn's ``fit`` / ``predict``.

    ``predict_proba`` and ``classes_`` are used when present.  With ``repeated_cv(...,
    pass_tasks=True)`` the three methods also get ``tasks=`` (the rows' tasks), as the multi-task
    models of :mod:`learnsight.models.rmtl` take them.
    """

    def fit(self, X: Any, y: Any) -> Any: ...  # noqa: N803

    def predict(self, X: Any) -> Any: ...  # noqa: N803


# -- splits ------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Split:
    """Row indices (sorted) of one training/test split; ``repeat`` and ``fold`` count from 0."""

    train: IntArray
    test: IntArray
    repeat: int = 0
    fold: int = 0


def _codes(values: npt.ArrayLike) -> IntArray:
    _, inverse = np.unique(np.asarray(values), return_inverse=True)
    return np.asarray(inverse, dtype=np.intp).ravel()


def strata(y: npt.ArrayLike, tasks: npt.ArrayLike | None = None) -> IntArray:
    """Stratum code of each row: its class, or its (task, class) pair when ``tasks`` is given."""
    y_codes = _codes(y)
    if tasks is None:
        return y_codes
    t_codes = _codes(tasks)
    if t_codes.shape != y_codes.shape:
        raise ValueError(f"tasks has {t_codes.size} rows, y has {y_codes.size}")
    return _codes(t_codes * (int(y_codes.max(initial=0)) + 1) + y_codes)


def holdout_split(
    y: npt.ArrayLike,
    groups: npt.ArrayLike | None = None,
    *,
    seed: int,
    test_size: float = HOLDOUT_TEST_SIZE,
) -> Split:
    """Stratified hold-out split (2:1 by default), within each group (task) when ``groups`` is given.

    Each stratum's rows are shuffled with ``numpy.random.default_rng(seed)`` and its first
    ``round(test_size · n_s)`` (halves rounded up) go to the test set.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    codes = strata(y, groups)
    rng = np.random.default_rng(seed)
    test_parts: list[IntArray] = []
    for code in range(int(codes.max(initial=-1)) + 1):
        rows = rng.permutation(np.flatnonzero(codes == code))
        test_parts.append(rows[: math.floor(test_size * rows.size + 0.5)])
    test = np.sort(np.concatenate(test_parts)) if test_parts else np.empty(0, dtype=np.intp)
    train = np.setdiff1d(np.arange(codes.size, dtype=np.intp), test)
    return Split(train=train.astype(np.intp), test=test.astype(np.intp))


def repeated_splits(
    y: npt.ArrayLike,
    *,
    n_splits: int = 10,
    n_repeats: int = 20,
    seed: int,
    tasks: npt.ArrayLike | None = None,
) -> list[Split]:
    """``n_repeats`` stratified ``n_splits``-fold partitions (repeat-major order)."""
    codes = strata(y, tasks)
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return [
        Split(
            train=np.sort(np.asarray(train, dtype=np.intp)),
            test=np.sort(np.asarray(test, dtype=np.intp)),
            repeat=i // n_splits,
            fold=i % n_splits,
        )
        for i, (train, test) in enumerate(cv.split(np.zeros((codes.size, 1)), codes))
    ]


def grouped_splits(
    y: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    n_splits: int = 10,
    n_repeats: int = 1,
    seed: int,
    tasks: npt.ArrayLike | None = None,
) -> list[Split]:
    """Repeated stratified k-fold that keeps each group (student) on one side of every split.

    With several courses per student, a plain row split would train on a student's Math result
    and test on their Portuguese one; grouping by student makes every test student unseen.
    Repeat ``r`` uses scikit-learn's :class:`~sklearn.model_selection.StratifiedGroupKFold` with
    ``random_state = seed + r``; strata as :func:`strata`.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    codes = strata(y, tasks)
    group_codes = _codes(groups)
    if group_codes.shape != codes.shape:
        raise ValueError(f"groups has {group_codes.size} rows, y has {codes.size}")
    out: list[Split] = []
    dummy = np.zeros((codes.size, 1))
    for r in range(n_repeats):
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
        for f, (train, test) in enumerate(cv.split(dummy, codes, group_codes)):
            out.append(
                Split(
                    train=np.sort(np.asarray(train, dtype=np.intp)),
                    test=np.sort(np.asarray(test, dtype=np.intp)),
                    repeat=r,
                    fold=f,
                )
            )
    return out


def grouped_holdout(
    y: npt.ArrayLike, groups: npt.ArrayLike, *, seed: int, tasks: npt.ArrayLike | None = None
) -> Split:
    """The 2:1 hold-out with whole groups (students) on one side: one fold of a stratified
    3-fold :func:`grouped_splits` is the test set."""
    return grouped_splits(y, groups, n_splits=3, n_repeats=1, seed=seed, tasks=tasks)[0]


# -- metrics -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityBin:
    """One non-empty bin of the reliability curve."""

    lower: float
    upper: float
    count: int
    confidence: float
    """Mean top-label probability of the bin's rows."""
    accuracy: float
    """Share of the bin's rows whose top-probability class is the true one."""


@dataclass(frozen=True)
class Metrics:
    """Classification metrics of one test set (see the module docstring)."""

    labels: tuple[Label, ...]
    n: int
    accuracy: float
    recall: tuple[float, ...]
    """Per class, in ``labels`` order."""
    f1: tuple[float, ...]
    """Per class, in ``labels`` order."""
    macro_f1: float
    confusion: tuple[tuple[int, ...], ...]
    """Rows = true class, columns = predicted class, in ``labels`` order."""
    brier: float | None = None
    ece: float | None = None
    reliability: tuple[ReliabilityBin, ...] | None = None

    def scalars(self) -> dict[str, float]:
        """The single-number metrics, per-class ones as ``recall[<label>]`` / ``f1[<label>]``."""
        out = {"accuracy": self.accuracy, "macro_f1": self.macro_f1}
        out |= {f"recall[{k}]": r for k, r in zip(self.labels, self.recall, strict=True)}
        out |= {f"f1[{k}]": f for k, f in zip(self.labels, self.f1, strict=True)}
        if self.brier is not None:
            out["brier"] = self.brier
        if self.ece is not None:
            out["ece"] = self.ece
        return out

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {
            "labels": list(self.labels),
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "recall": {str(k): r for k, r in zip(self.labels, self.recall, strict=True)},
            "f1": {str(k): f for k, f in zip(self.labels, self.f1, strict=True)},
            "confusion": [list(row) for row in self.confusion],
            "brier": self.brier,
            "ece": self.ece,
            "reliability": None if self.reliability is None else [vars(b).copy() for b in self.reliability],
        }


def _label(value: object) -> Label:
    item = value.item() if isinstance(value, np.generic) else value
    if isinstance(item, bool) or not isinstance(item, int | str):
        raise TypeError(f"class labels must be int or str, got {type(item).__name__}: {item!r}")
    return item


def _proba_matrix(proba: npt.ArrayLike, n: int, k: int) -> FloatArray:
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 1 and k == 2:
        p = np.column_stack([1.0 - p, p])
    if p.shape != (n, k):
        raise ValueError(f"proba must have shape ({n}, {k}) (rows, labels), got {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("proba rows must be non-negative and sum to 1")
    return p


def reliability_curve(
    y_true: npt.ArrayLike, proba: npt.ArrayLike, labels: Sequence[Label], *, n_bins: int = 10
) -> tuple[float, tuple[ReliabilityBin, ...]]:
    """(ECE, non-empty bins) of the top-label confidence with ``n_bins`` equal-width bins."""
    truth = np.asarray(y_true)
    p = _proba_matrix(proba, truth.size, len(labels))
    if truth.size == 0:
        return 0.0, ()
    confidence = p.max(axis=1)
    correct = np.asarray(labels, dtype=object)[p.argmax(axis=1)] == truth.astype(object)
    index = np.minimum(np.floor(confidence * n_bins), n_bins - 1).astype(np.intp)
    bins: list[ReliabilityBin] = []
    ece = 0.0
    for b in range(n_bins):
        in_bin = index == b
        count = int(in_bin.sum())
        if count == 0:
            continue
        conf, acc = float(confidence[in_bin].mean()), float(correct[in_bin].mean())
        ece += count / truth.size * abs(acc - conf)
        bins.append(ReliabilityBin(b / n_bins, (b + 1) / n_bins, count, conf, acc))
    return ece, tuple(bins)


def pool_reliability(curves: Iterable[Iterable[Mapping[str, float]]]) -> tuple[float, list[dict[str, float]]]:
    """(ECE, bins) of several reliability curves pooled, as if their rows had been one test set.

    Each curve is a list of bins ``{"lower", "count", "confidence", "accuracy"}`` (a
    :class:`ReliabilityBin` as a dictionary); bins with the same ``lower`` edge are merged with the
    row-weighted mean confidence and accuracy, and the ECE of the pooled bins is returned with them.
    """
    totals: dict[float, list[float]] = {}
    for curve in curves:
        for b in curve:
            total = totals.setdefault(round(float(b["lower"]), 6), [0.0, 0.0, 0.0])
            total[0] += b["count"]
            total[1] += b["count"] * b["confidence"]
            total[2] += b["count"] * b["accuracy"]
    bins = [
        {"lower": lower, "count": int(n), "confidence": c / n, "accuracy": a / n}
        for lower, (n, c, a) in sorted(totals.items())
        if n > 0
    ]
    rows = sum(b["count"] for b in bins)
    ece = sum(b["count"] / rows * abs(b["accuracy"] - b["confidence"]) for b in bins) if rows else 0.0
    return ece, bins


def evaluate(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    proba: npt.ArrayLike | None = None,
    labels: Sequence[Label] | None = None,
    *,
    n_bins: int = 10,
) -> Metrics:
    """Metrics of one set of predictions; ``labels`` fixes the class order (default: sorted).

    Raises ``ValueError`` when a true or predicted class is not in ``labels``, or ``proba`` has
    the wrong shape.
    """
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    if truth.shape != pred.shape or truth.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of one length, got {truth.shape}, {pred.shape}")
    seen = [_label(v) for v in np.unique(np.concatenate([truth, pred]))] if truth.size else []
    order = tuple(_label(v) for v in labels) if labels is not None else tuple(seen)
    unknown = set(seen) - set(order)
    if unknown:
        raise ValueError(f"classes not in labels {list(order)}: {sorted(map(str, unknown))}")
    keys = list(order)
    recall = recall_score(truth, pred, labels=keys, average=None, zero_division=0)
    f1 = f1_score(truth, pred, labels=keys, average=None, zero_division=0)
    cm = confusion_matrix(truth, pred, labels=keys) if truth.size else np.zeros((len(keys),) * 2, int)
    brier = ece = reliability = None
    if proba is not None:
        p = _proba_matrix(proba, truth.size, len(keys))
        # scikit-learn reads the probability columns in sorted-label order
        lexical = [int(j) for j in np.argsort(np.asarray(keys), kind="stable")]
        brier = float(
            brier_score_loss(truth, p[:, lexical], labels=[keys[j] for j in lexical], scale_by_half=True)
        )
        ece, reliability = reliability_curve(truth, p, keys, n_bins=n_bins)
    return Metrics(
        labels=order,
        n=int(truth.size),
        accuracy=float(accuracy_score(truth, pred)) if truth.size else math.nan,
        recall=tuple(float(r) for r in recall),
        f1=tuple(float(f) for f in f1),
        macro_f1=float(np.mean(f1)) if len(keys) else math.nan,
        confusion=tuple(tuple(int(c) for c in row) for row in cm),
        brier=brier,
        ece=ece,
        reliability=reliability,
    )


# -- repeated cross-validation -----------------------------------------------------------------------


class MeanSD(NamedTuple):
    """Mean and sample standard deviation of a metric over ``n`` folds."""

    mean: float
    sd: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.sd:.4f}"


def summarize(metrics: Iterable[Metrics]) -> dict[str, MeanSD]:
    """Mean ± sd of every scalar metric (:meth:`Metrics.scalars`) present in all the results."""
    rows = [m.scalars() for m in metrics]
    if not rows:
        return {}
    names = [k for k in rows[0] if all(k in r for r in rows)]
    out: dict[str, MeanSD] = {}
    for name in names:
        values = np.array([r[name] for r in rows], dtype=np.float64)
        sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
        out[name] = MeanSD(float(values.mean()), sd, int(values.size))
    return out


@dataclass(frozen=True, eq=False)
class CVResult:
    """The splits of a repeated cross-validation and the metrics of each."""

    splits: tuple[Split, ...]
    metrics: tuple[Metrics, ...]

    def summary(self) -> dict[str, MeanSD]:
        return summarize(self.metrics)

    def confusion(self) -> IntArray:
        """Sum of the folds' confusion matrices (each repeat counts every row once)."""
        k = len(self.metrics[0].labels) if self.metrics else 0
        total = np.zeros((k, k), dtype=np.intp)
        for m in self.metrics:
            total += np.asarray(m.confusion, dtype=np.intp)
        return total

    def to_dict(self) -> dict[str, object]:
        return {
            "n_results": len(self.metrics),
            "summary": {k: {"mean": v.mean, "sd": v.sd} for k, v in self.summary().items()},
            "confusion": self.confusion().tolist(),
        }


def _aligned_proba(
    model: Classifier,
    X: Any,  # noqa: N803
    keys: list[Label],
    kwargs: dict[str, Any],
) -> FloatArray | None:
    predict_proba = getattr(model, "predict_proba", None)
    if predict_proba is None:
        return None
    raw = np.asarray(predict_proba(X, **kwargs), dtype=np.float64)
    classes = getattr(model, "classes_", keys)
    full = np.zeros((raw.shape[0], len(keys)))
    for j, c in enumerate(classes):
        full[:, keys.index(_label(c))] = raw[:, j]
    return full


def repeated_cv(
    estimator_factory: Callable[[], Classifier],
    X: npt.ArrayLike,  # noqa: N803
    y: npt.ArrayLike,
    *,
    n_splits: int = 10,
    n_repeats: int = 20,
    seed: int,
    tasks: npt.ArrayLike | None = None,
    labels: Sequence[Label] | None = None,
    n_bins: int = 10,
    pass_tasks: bool = False,
) -> CVResult:
    """Fit a fresh model per fold of :func:`repeated_splits` and evaluate it on the held-out fold.

    ``labels`` defaults to the sorted classes of ``y``; calibration is computed when the model
    has ``predict_proba``.  ``tasks`` stratifies the folds within each task; with ``pass_tasks``
    the model's ``fit`` / ``predict`` / ``predict_proba`` also get ``tasks=`` of their rows.
    Returns ``n_splits × n_repeats`` results.
    """
    if pass_tasks and tasks is None:
        raise ValueError("pass_tasks needs tasks")
    task_array = None if tasks is None else np.asarray(tasks)
    features, target = np.asarray(X), np.asarray(y)
    keys = [_label(v) for v in labels] if labels is not None else [_label(v) for v in np.unique(target)]
    splits = repeated_splits(target, n_splits=n_splits, n_repeats=n_repeats, seed=seed, tasks=tasks)
    results: list[Metrics] = []
    for split in splits:
        fit_kw: dict[str, Any] = {}
        test_kw: dict[str, Any] = {}
        if pass_tasks and task_array is not None:
            fit_kw, test_kw = {"tasks": task_array[split.train]}, {"tasks": task_array[split.test]}
        model = estimator_factory()
        model.fit(features[split.train], target[split.train], **fit_kw)
        x_test = features[split.test]
        pred = np.asarray(model.predict(x_test, **test_kw))
        proba = _aligned_proba(model, x_test, keys, test_kw)
        results.append(evaluate(target[split.test], pred, proba, keys, n_bins=n_bins))
    return CVResult(splits=tuple(splits), metrics=tuple(results))


__all__ = [
    "HOLDOUT_TEST_SIZE",
    "CVResult",
    "Classifier",
    "Label",
    "MeanSD",
    "Metrics",
    "ReliabilityBin",
    "Split",
    "evaluate",
    "grouped_holdout",
    "grouped_splits",
    "holdout_split",
    "reliability_curve",
    "repeated_cv",
    "repeated_splits",
    "strata",
    "summarize",
]
