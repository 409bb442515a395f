"""Run models on identical splits of a :class:`~learnsight.models.dataset.Dataset` and summarise.

One *study* = one dataset (at one cut-off), one target, several models, one protocol:

* ``cv`` — repeated stratified k-fold, students grouped (a student is never on both sides);
* ``holdout`` — the 2:1 hold-out, students grouped.

Every model sees the same folds.  For each model the result holds the metrics over all test rows
(mean ± sd over folds), per course (task), the summed confusion matrix, the reliability curve of
all out-of-fold probabilities and the fit time.  Regression (``score``) reports RMSE, MAE and R².
"""

# Upper-case X follows scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from learnsight.errors import LearnsightError
from learnsight.models.dataset import Dataset, Target, class_order
from learnsight.models.evaluation import (
    Metrics,
    Split,
    evaluate,
    grouped_holdout,
    grouped_splits,
)
from learnsight.models.zoo import ModelContext, build_model, model_spec

ProtocolName = Literal["cv", "holdout"]


@dataclass(frozen=True)
class Protocol:
    """How rows are split: ``cv`` (``n_repeats`` × ``n_splits``-fold) or ``holdout`` (2:1)."""

    name: ProtocolName = "cv"
    n_splits: int = 10
    n_repeats: int = 5
    seed: int = 0

    def splits(self, y: npt.ArrayLike, tasks: npt.ArrayLike, groups: npt.ArrayLike) -> list[Split]:
        if self.name == "holdout":
            return [grouped_holdout(y, groups, seed=self.seed, tasks=tasks)]
        if self.name == "cv":
            return grouped_splits(
                y, groups, n_splits=self.n_splits, n_repeats=self.n_repeats, seed=self.seed, tasks=tasks
            )
        raise LearnsightError(f"unknown protocol {self.name!r}; expected cv or holdout")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "seed": self.seed, "grouped_by": "student"}
        if self.name == "cv":
            out |= {"n_splits": self.n_splits, "n_repeats": self.n_repeats}
        else:
            out["test_size"] = "1/3"
        return out


@dataclass
class ModelResult:
    """One model's results in one study."""

    name: str
    family: str
    overall: dict[str, dict[str, float]]
    """metric → {"mean", "sd"} over folds."""
    per_task: dict[str, dict[str, dict[str, float]]]
    """course → metric → {"mean", "sd"}."""
    confusion: list[list[int]] | None
    reliability: list[dict[str, float]] | None
    fit_seconds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "overall": self.overall,
            "per_task": self.per_task,
            "confusion": self.confusion,
            "reliability": self.reliability,
            "fit_seconds": round(self.fit_seconds, 3),
            "error": self.error,
        }

    def mean(self, metric: str, task: str | None = None) -> float:
        table = self.overall if task is None else self.per_task.get(task, {})
        return table.get(metric, {}).get("mean", math.nan)


@dataclass
class StudyResult:
    """Models compared on one dataset, target and protocol."""

    name: str
    target: Target
    as_of: str
    week: int | None
    labels: list[str]
    rows: int
    tasks: list[str]
    protocol: dict[str, Any]
    models: list[ModelResult] = field(default_factory=list)
    setting: dict[str, Any] = field(default_factory=dict)

    def model(self, name: str) -> ModelResult | None:
        return next((m for m in self.models if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "as_of": self.as_of,
            "week": self.week,
            "labels": self.labels,
            "rows": self.rows,
            "tasks": self.tasks,
            "protocol": self.protocol,
            "setting": self.setting,
            "models": [m.to_dict() for m in self.models],
        }


def _ms(values: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {"mean": math.nan, "sd": math.nan, "n": 0}
    return {
        "mean": float(arr.mean()),
        "sd": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "n": int(arr.size),
    }


def _regression_metrics(y: npt.NDArray[np.float64], pred: npt.NDArray[np.float64]) -> dict[str, float]:
    err = pred - y
    ss = float(np.sum((y - y.mean()) ** 2))
    return {
        "rmse": float(np.sqrt(np.mean(err**2))) if y.size else math.nan,
        "mae": float(np.mean(np.abs(err))) if y.size else math.nan,
        "r2": 1.0 - float(np.sum(err**2)) / ss if ss > 0 else math.nan,
    }


def _proba(model: Any, X: Any, tasks: Any, labels: list[str]) -> npt.NDArray[np.float64] | None:
    if not hasattr(model, "predict_proba"):
        return None
    raw = np.asarray(model.predict_proba(X, tasks=tasks), dtype=np.float64)
    classes = [str(c) for c in getattr(model, "classes_", labels)]
    full = np.zeros((raw.shape[0], len(labels)))
    for j, c in enumerate(classes):
        if c in labels:
            full[:, labels.index(c)] = raw[:, j]
    return full


def run_study(
    dataset: Dataset,
    target: Target,
    models: Sequence[str],
    *,
    protocol: Protocol,
    name: str | None = None,
    setting: dict[str, Any] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> StudyResult:
    """Fit and evaluate every model of ``models`` on the same splits of ``dataset`` for ``target``.

    A model that fails to fit is reported with its error rather than stopping the study.
    """
    data, y = dataset.for_target(target)
    regression = target == "score"
    tasks = data.courses.astype(str)
    groups = data.actor_keys.astype(str)
    labels: list[str] = [] if regression else class_order(target, y)
    strat = np.zeros(len(data), dtype=np.intp) if regression else np.asarray(y).astype(str)
    splits = protocol.splits(strat, tasks, groups)
    study = StudyResult(
        name=name or f"{target} @ {dataset.as_of.label()}",
        target=target,
        as_of=dataset.as_of.label(),
        week=dataset.as_of.week,
        labels=labels,
        rows=len(data),
        tasks=sorted(set(tasks.tolist())),
        protocol=protocol.to_dict(),
        setting=setting or {},
    )
    for model_name in models:
        spec = model_spec(model_name)
        ctx = ModelContext(
            kind="regression" if regression else "classification",
            seed=protocol.seed,
            feature_names=data.feature_names,
            n_weeks=len(data.weeks),
        )
        started = time.perf_counter()
        fold_metrics: list[dict[str, float]] = []
        per_task_rows: dict[str, list[dict[str, float]]] = {t: [] for t in study.tasks}
        confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
        all_truth: list[Any] = []
        all_proba: list[npt.NDArray[np.float64]] = []
        error: str | None = None
        try:
            X = data.flat_sequences() if spec.sequences else data.X
            for split in splits:
                model = build_model(model_name, ctx)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X[split.train], np.asarray(y)[split.train], tasks=tasks[split.train])
                    pred = np.asarray(model.predict(X[split.test], tasks=tasks[split.test]))
                    proba = None if regression else _proba(model, X[split.test], tasks[split.test], labels)
                truth = np.asarray(y)[split.test]
                test_tasks = tasks[split.test]
                if regression:
                    fold_metrics.append(_regression_metrics(truth.astype(float), pred.astype(float)))
                    for t in study.tasks:
                        m = test_tasks == t
                        if m.any():
                            per_task_rows[t].append(
                                _regression_metrics(truth[m].astype(float), pred[m].astype(float))
                            )
                    continue
                pred = pred.astype(str)
                metrics = evaluate(truth.astype(str), pred, proba, labels)
                fold_metrics.append(metrics.scalars())
                confusion += np.asarray(metrics.confusion, dtype=np.int64)
                all_truth.extend(truth.astype(str).tolist())
                if proba is not None:
                    all_proba.append(proba)
                for t in study.tasks:
                    m = test_tasks == t
                    if m.any():
                        tm: Metrics = evaluate(
                            truth[m].astype(str), pred[m], None if proba is None else proba[m], labels
                        )
                        per_task_rows[t].append(tm.scalars() | {"n": float(m.sum())})
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        overall = {
            k: _ms([r.get(k, math.nan) for r in fold_metrics])
            for k in (fold_metrics[0] if fold_metrics else {})
        }
        per_task = {
            t: {k: _ms([r.get(k, math.nan) for r in rows]) for k in rows[0]}
            for t, rows in per_task_rows.items()
            if rows
        }
        reliability = None
        if all_proba and not regression and len(all_proba) == len(splits):
            pooled = evaluate(
                np.asarray(all_truth),
                np.asarray(labels, dtype=object)[np.argmax(np.vstack(all_proba), axis=1)].astype(str),
                np.vstack(all_proba),
                labels,
            )
            reliability = [vars(b).copy() for b in pooled.reliability or ()]
        study.models.append(
            ModelResult(
                name=model_name,
                family=spec.family,
                overall=overall,
                per_task=per_task,
                confusion=None if regression or error else confusion.tolist(),
                reliability=reliability,
                fit_seconds=seconds,
                error=error,
            )
        )
        if on_step is not None:
            metric = "rmse" if regression else "accuracy"
            value = study.models[-1].mean(metric)
            on_step(f"{study.name}: {model_name} {metric} {value:.4f} ({seconds:.1f} s)")
    return study


__all__ = ["ModelResult", "Protocol", "ProtocolName", "StudyResult", "run_study"]
