"""Why a model predicted what it did: signed per-feature contributions of each row.

:func:`contributions` gives, for each row and each input feature, the signed contribution of the
feature to the **log-odds of the row's predicted class** (the class of highest probability).
Sign convention: **positive pushes towards the predicted class**, negative away from it.  For a
regressor (no ``predict_proba``) it is the contribution to the predicted value.

Exact, for linear models
    :class:`~learnsight.models.preprocess.Prepared` around an
    :class:`~learnsight.models.rmtl.RMTLClassifier` (one weight vector per course in ``W_``), or
    around a :class:`~learnsight.models.baselines.PerTask` of logistic regressions (a
    ``StandardScaler`` → ``LogisticRegression`` pipeline per course, or one pooled): the
    contribution of a model input is ``weight × (value − training mean)``, so the contributions of
    a row sum to its logit minus the logit of the training mean.  The training mean is the mean of
    the rows the weights were fitted on: all training rows for RMTL and pooled models, the course's
    own training rows for per-course models.  For two classes the logit is that of ``classes_[1]``,
    negated when the prediction is ``classes_[0]``; for more classes it is the predicted class's
    one-vs-rest logit (RMTL) or softmax logit (logistic regression).  A pooled model's course
    indicators are not input features: their share (the course's offset) is left out.  Through
    ``Prepared``, the contribution of a ``<name> missing`` indicator is added to ``<name>``, so
    the result is per original input feature; columns ``Prepared`` dropped (empty or constant)
    get 0.
Occlusion, for any other model (trees, sequence networks)
    The contribution of a feature is the change in the predicted class's log-odds
    ``log p − log(1 − p)`` when the feature is replaced by its training median: ``score(row) −
    score(row with the median)``, computed only for rows whose value differs from the median (a
    row already at the median contributes exactly 0); the occluded copies of several features go
    to the model in one ``predict_proba`` call (:data:`BATCH_ROWS`), so there is at most one call
    per feature (30,000 rows × 90 features: 90 calls at most, usually far fewer).  Occlusion is
    not additive: contributions need not sum to anything, and correlated features share credit
    unevenly.  The medians come from the model's own imputer (``Prepared.imputer_``) when it has
    one, else from ``reference`` (training rows, or their medians), else from ``X`` itself.

``blocks`` groups input columns into one explained feature (e.g. all weeks of one weekly feature of
a sequence model): exact contributions are summed over the block, occlusion replaces the whole
block at once.
"""

# Upper-case X follows scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from sklearn.dummy import DummyClassifier  # type: ignore[import-untyped]
from sklearn.linear_model._base import LinearClassifierMixin  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from learnsight.errors import LearnsightError
from learnsight.models.baselines import PerTask
from learnsight.models.preprocess import Prepared
from learnsight.models.rmtl import RMTLClassifier
from learnsight.models.rmtl._data import lookup_tasks

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Method = Literal["auto", "exact", "occlusion"]

_EPS = 1e-12
BATCH_ROWS = 65_536
"""Occluded rows stacked into one model call at most (a single feature's rows may exceed it)."""


# -- entry points -----------------------------------------------------------------------------------


def contributions(
    model: Any,
    X: npt.ArrayLike,
    tasks: npt.ArrayLike | None,
    feature_names: Sequence[str],
    *,
    reference: npt.ArrayLike | None = None,
    blocks: Sequence[Sequence[int]] | None = None,
    method: Method = "auto",
    proba: npt.ArrayLike | None = None,
) -> FloatArray:
    """Signed contribution of each feature to each row's predicted class (module docstring).

    Parameters
    ----------
    model
        A fitted model with ``predict_proba(X, tasks=...)`` (or ``predict`` for a regressor).
    X
        The rows, as the model takes them (``n_rows × n_columns``).
    tasks
        Each row's task (course), passed to the model.
    feature_names
        One name per column of ``X``, or per block when ``blocks`` is given.
    reference
        Occlusion only: training rows (2-D: their column medians are used) or the medians (1-D).
    blocks
        Column indices of each explained feature (default: each column alone).
    method
        ``auto`` (exact when the model is linear, else occlusion), ``exact`` (error when the model
        is not linear) or ``occlusion``.
    proba
        ``model.predict_proba(X, tasks)`` when the caller already has it.

    Returns
    -------
    ndarray of shape (n_rows, len(feature_names))
    """
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2:
        raise LearnsightError(f"X must be 2-D, got shape {Xa.shape}")
    n, d = Xa.shape
    task_arr = None if tasks is None else np.asarray(tasks)
    groups = [list(b) for b in blocks] if blocks is not None else [[j] for j in range(d)]
    if len(feature_names) != len(groups):
        what = "blocks" if blocks is not None else "columns of X"
        raise LearnsightError(f"{len(feature_names)} feature names for {len(groups)} {what}")
    if n == 0:
        return np.zeros((0, len(groups)))
    # Prepared has predict_proba even around a regressor: a classifier also has classes
    classifier = hasattr(model, "predict_proba") and getattr(model, "classes_", None) is not None
    cidx: IntArray | None = None
    if classifier:
        p = np.asarray(
            proba if proba is not None else _call(model, "predict_proba", Xa, task_arr), dtype=np.float64
        )
        cidx = np.argmax(p, axis=1).astype(np.intp)
    if method in ("auto", "exact") and classifier and cidx is not None:
        predicted = np.asarray(model.classes_)[cidx]
        per_column = linear_contributions(model, Xa, task_arr, predicted)
        if per_column is not None:
            return _sum_blocks(per_column, groups)
        if method == "exact":
            raise LearnsightError(f"no exact contributions for {type(model).__name__}: not a linear model")
    elif method == "exact":
        raise LearnsightError("exact contributions need a linear classifier")
    return occlusion_contributions(model, Xa, task_arr, groups, cidx=cidx, reference=reference)


def top_drivers(
    contrib: npt.ArrayLike, feature_names: Sequence[str], X: npt.ArrayLike, k: int = 5
) -> list[list[dict[str, Any]]]:
    """The ``k`` largest contributions of each row by absolute value, largest first.

    Each driver is ``{"feature": name, "value": the row's value (None when missing),
    "contribution": signed contribution}``; zero contributions are never drivers.  ``X`` holds the
    values, one column per name.
    """
    C = np.asarray(contrib, dtype=np.float64)
    V = np.asarray(X, dtype=np.float64)
    if C.shape != V.shape or C.shape[1:] != (len(feature_names),):
        raise LearnsightError(
            f"contributions {C.shape}, values {V.shape} and {len(feature_names)} feature names disagree"
        )
    if C.shape[0] == 0 or k <= 0:
        return [[] for _ in range(C.shape[0])]
    k = min(k, C.shape[1])
    mag = np.abs(np.nan_to_num(C))
    top = (
        np.argpartition(-mag, k - 1, axis=1)[:, :k]
        if k < C.shape[1]
        else np.tile(np.arange(k), (C.shape[0], 1))
    )
    order = np.take_along_axis(
        top, np.argsort(-np.take_along_axis(mag, top, axis=1), axis=1, kind="stable"), axis=1
    )
    names = list(feature_names)
    out: list[list[dict[str, Any]]] = []
    for i in range(C.shape[0]):
        row: list[dict[str, Any]] = []
        for j in order[i].tolist():
            c = float(C[i, j])
            if c == 0.0 or math.isnan(c):
                continue
            v = float(V[i, j])
            row.append({"feature": names[j], "value": None if math.isnan(v) else v, "contribution": c})
        out.append(row)
    return out


# -- exact contributions of linear models ------------------------------------------------------------


def linear_contributions(
    model: Any, X: FloatArray, tasks: Any, predicted: npt.ArrayLike
) -> FloatArray | None:
    """Exact per-column contributions of a linear model (module docstring), or None when ``model``
    is not one of the supported linear models."""
    pred = np.asarray(predicted)
    if isinstance(model, Prepared):
        est = model.estimator_
        Xt = model.transform(X)
        columns = _prepared_columns(model)
        centred = model.scaler_ is not None
    else:
        est, Xt, columns, centred = model, X, np.arange(X.shape[1]), False
    terms = _linear_terms(est, Xt, tasks, pred, centred=centred)
    if terms is None:
        return None
    fold = np.zeros((Xt.shape[1], X.shape[1]))
    fold[np.arange(Xt.shape[1]), columns] = 1.0
    out: FloatArray = terms @ fold
    return out


def _prepared_columns(model: Prepared) -> IntArray:
    """The input column of each of ``Prepared``'s output columns (indicators map to their column)."""
    kept = np.asarray(model.kept_, dtype=np.intp)
    cols = [kept]
    imputer = model.imputer_
    if imputer is not None and imputer.indicator_ is not None:
        cols.append(kept[np.asarray(imputer.indicator_.features_, dtype=np.intp)])
    return np.concatenate(cols) if cols else np.zeros(0, dtype=np.intp)


def _linear_terms(
    est: Any, Xt: FloatArray, tasks: Any, pred: npt.NDArray[Any], *, centred: bool
) -> FloatArray | None:
    n, d = Xt.shape
    if isinstance(est, RMTLClassifier):
        if not centred:
            return None
        codes = lookup_tasks(tasks, n, est.tasks_)
        cidx = _class_index(est.classes_, pred)
        if est.W_.shape[0] == 1:
            w = est.W_[np.zeros(n, dtype=np.intp), :, codes] * np.where(cidx == 1, 1.0, -1.0)[:, None]
        else:
            w = est.W_[cidx, :, codes]
        out: FloatArray = w * Xt
        return out
    if isinstance(est, PerTask):
        if est.pooled:
            parts: list[tuple[Any, npt.NDArray[np.bool_]]] = [(est.estimators_[0], np.ones(n, dtype=bool))]
        else:
            codes = lookup_tasks(tasks, n, est.tasks_)
            parts = [(est.estimators_[t], codes == t) for t in np.unique(codes)]
        terms = np.zeros((n, d))
        for inner, rows in parts:
            lin = _linear_parts(inner)
            if lin is None:
                return None
            if lin.constant:
                continue
            coef, classes, shift, scale = lin.coef, lin.classes, lin.shift, lin.scale
            if shift is None:
                if not centred:
                    return None
                shift, scale = np.zeros(coef.shape[1]), np.ones(coef.shape[1])
            cidx = _class_index(classes, pred[rows])
            if coef.shape[0] == 1:
                w = coef[0][None, :] * np.where(cidx == 1, 1.0, -1.0)[:, None]
            else:
                w = coef[cidx]
            w = w / scale[None, :]
            terms[rows] = w[:, :d] * (Xt[rows] - shift[None, :d])
        return terms
    return None


class _Linear(NamedTuple):
    """A (pipeline ending in a) linear classifier: logits ``coef @ ((x − shift) / scale) + b``."""

    coef: FloatArray
    classes: npt.NDArray[Any]
    shift: FloatArray | None
    """None when no scaler centres the inputs."""
    scale: FloatArray
    constant: bool = False
    """A constant model (every contribution 0)."""


def _linear_parts(m: Any) -> _Linear | None:
    """The linear form of ``m`` (:class:`_Linear`), or None when it is not linear."""
    if isinstance(m, DummyClassifier):
        empty = np.zeros((1, 0))
        return _Linear(empty, np.asarray(m.classes_), None, np.zeros(0), constant=True)
    steps = (
        [s for _, s in m.steps if s is not None and s != "passthrough"] if isinstance(m, Pipeline) else [m]
    )
    final = steps[-1]
    if not isinstance(final, LinearClassifierMixin) or not hasattr(final, "coef_"):
        return None
    coef = np.asarray(final.coef_, dtype=np.float64)
    shift: FloatArray | None = None
    scale = np.ones(coef.shape[1])
    for step in steps[:-1]:
        if not isinstance(step, StandardScaler) or not step.with_mean or step.mean_ is None:
            return None
        step_scale = (
            np.ones(coef.shape[1]) if step.scale_ is None else np.asarray(step.scale_, dtype=np.float64)
        )
        shift = (np.zeros(coef.shape[1]) if shift is None else shift) + scale * np.asarray(
            step.mean_, dtype=np.float64
        )
        scale = scale * step_scale
    return _Linear(coef, np.asarray(final.classes_), shift, scale)


def _class_index(classes: npt.ArrayLike, pred: npt.NDArray[Any]) -> IntArray:
    lookup = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
    try:
        return np.fromiter((lookup[c] for c in pred.tolist()), dtype=np.intp, count=pred.shape[0])
    except KeyError as exc:
        raise LearnsightError(f"predicted class {exc.args[0]!r} is not a class of the model") from None


# -- occlusion -------------------------------------------------------------------------------------


def occlusion_contributions(
    model: Any,
    X: FloatArray,
    tasks: Any,
    blocks: Sequence[Sequence[int]],
    *,
    cidx: IntArray | None = None,
    reference: npt.ArrayLike | None = None,
    batch_rows: int = BATCH_ROWS,
) -> FloatArray:
    """Occlusion contributions (module docstring); ``cidx``: the predicted class's column of
    ``predict_proba`` (None for a regressor).

    The occluded copies of several features are stacked into one call of up to ``batch_rows``
    rows (a feature's rows are never split), so a model with a fixed cost per call (a forest of
    per-course models, a network) is called at most once per feature and usually far less.
    """
    n = X.shape[0]
    medians = reference_medians(model, X, reference)
    unused = _unused_columns(model, X.shape[1])
    base = _score(model, X, tasks, cidx)
    out = np.zeros((n, len(blocks)))
    pending: list[tuple[int, IntArray, FloatArray]] = []
    pending_rows = 0

    def flush() -> None:
        nonlocal pending, pending_rows
        if not pending:
            return
        rows = np.concatenate([r for _, r, _ in pending])
        scores = _score(
            model,
            np.vstack([x for _, _, x in pending]),
            None if tasks is None else tasks[rows],
            None if cidx is None else cidx[rows],
        )
        at = 0
        for j, r, _ in pending:
            out[r, j] = base[r] - scores[at : at + r.size]
            at += r.size
        pending, pending_rows = [], 0

    for j, cols in enumerate(blocks):
        idx = np.asarray(cols, dtype=np.intp)
        if idx.size == 0 or unused[idx].all():
            continue
        med = medians[idx]
        values = X[:, idx]
        same = (values == med[None, :]) | (np.isnan(values) & np.isnan(med)[None, :])
        rows = np.flatnonzero(~same.all(axis=1))
        if rows.size == 0:
            continue
        if pending_rows and pending_rows + rows.size > batch_rows:
            flush()
        sub = X[rows]
        sub[:, idx] = med[None, :]
        pending.append((j, rows, sub))
        pending_rows += rows.size
    flush()
    return out


def reference_medians(model: Any, X: FloatArray, reference: npt.ArrayLike | None = None) -> FloatArray:
    """The occlusion value of every column of ``X`` (module docstring)."""
    d = X.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        if reference is not None:
            ref = np.asarray(reference, dtype=np.float64)
            med = ref if ref.ndim == 1 else np.nanmedian(ref, axis=0)
        else:
            med = np.nanmedian(X, axis=0) if X.shape[0] else np.full(d, np.nan)
    med = np.array(med, dtype=np.float64)
    if med.shape != (d,):
        raise LearnsightError(f"reference has {med.shape[-1]} columns, X has {d}")
    if isinstance(model, Prepared) and model.imputer_ is not None:
        stats = np.asarray(model.imputer_.statistics_, dtype=np.float64)
        med[np.asarray(model.kept_, dtype=np.intp)] = stats[: len(model.kept_)]
    return med


def _unused_columns(model: Any, d: int) -> npt.NDArray[np.bool_]:
    unused = np.zeros(d, dtype=bool)
    if isinstance(model, Prepared) and getattr(model, "n_features_in_", None) == d:
        unused[:] = True
        unused[np.asarray(model.kept_, dtype=np.intp)] = False
    return unused


def _score(model: Any, X: FloatArray, tasks: Any, cidx: IntArray | None) -> FloatArray:
    if cidx is None:
        return np.asarray(_call(model, "predict", X, tasks), dtype=np.float64)
    p = np.asarray(_call(model, "predict_proba", X, tasks), dtype=np.float64)[np.arange(X.shape[0]), cidx]
    p = np.clip(p, _EPS, 1.0 - _EPS)
    out: FloatArray = np.log(p) - np.log1p(-p)
    return out


def _call(model: Any, method: str, X: FloatArray, tasks: Any) -> Any:
    fn = getattr(model, method)
    try:
        takes_tasks = "tasks" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        takes_tasks = False
    return fn(X, tasks=tasks) if takes_tasks else fn(X)


def _sum_blocks(per_column: FloatArray, blocks: Sequence[Sequence[int]]) -> FloatArray:
    out = np.zeros((per_column.shape[0], len(blocks)))
    for j, cols in enumerate(blocks):
        if len(cols):
            out[:, j] = per_column[:, np.asarray(cols, dtype=np.intp)].sum(axis=1)
    return out


__all__ = [
    "contributions",
    "linear_contributions",
    "occlusion_contributions",
    "reference_medians",
    "top_drivers",
]
