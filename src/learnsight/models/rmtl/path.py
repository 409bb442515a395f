"""Regularisation path over a (rho1, rho2) grid with warm starts, and cross-validated selection."""

# Upper-case names (X, W, P, Q, T) follow the paper's and scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import-untyped]
from sklearn.utils.validation import validate_data  # type: ignore[import-untyped]

from learnsight.models.rmtl._data import FloatArray, IntArray, encode_tasks, split_centred
from learnsight.models.rmtl.classifier import (
    RMTLClassifier,
    class_signs,
    fit_logistic,
    logistic_lipschitz,
    null_intercepts,
)
from learnsight.models.rmtl.regressor import RMTLRegressor, fit_squared
from learnsight.models.rmtl.solver import LogisticLoss, SquaredLoss

SCORINGS = ("log_loss", "accuracy", "macro_f1")


@dataclass(frozen=True)
class RMTLPath:
    """Solutions along a grid: entry ``[i, j]`` is for ``(rho1s[i], rho2s[j])``."""

    rho1s: FloatArray
    rho2s: FloatArray
    P: FloatArray  # (n1, n2, d, T)
    Q: FloatArray  # (n1, n2, d, T)
    intercept: FloatArray  # (n1, n2, T)
    n_iter: IntArray  # (n1, n2)
    objective: FloatArray  # (n1, n2)


def rho_max(Xs: list[FloatArray], ys: list[FloatArray]) -> tuple[float, float]:
    """Smallest ``(rho1, rho2)`` for which ``P = 0`` resp. ``Q = 0`` alone is optimal at ``W = 0``.

    At ``W = 0`` the gradient is ``G``; zero is optimal iff ``||G||_2 <= rho1`` and
    ``max_t ||G[:, t]|| <= rho2``, so these bound a useful grid from above.
    """
    loss = SquaredLoss(Xs, ys)
    d, T = Xs[0].shape[1], len(Xs)
    _, G, _ = loss.value_grad(np.zeros((d, T)), np.zeros(T))
    return float(np.linalg.norm(G, 2)), float(np.linalg.norm(G, axis=0).max())


def default_grid(
    Xs: list[FloatArray], ys: list[FloatArray], n: int, eps: float
) -> tuple[FloatArray, FloatArray]:
    """Geometric grids from ``rho_max`` down to ``eps * rho_max``, largest first."""
    return _geometric(*rho_max(Xs, ys), n, eps)


def _geometric(r1: float, r2: float, n: int, eps: float) -> tuple[FloatArray, FloatArray]:
    r1, r2 = max(r1, 1e-12), max(r2, 1e-12)
    return np.geomspace(r1, r1 * eps, n), np.geomspace(r2, r2 * eps, n)


def logistic_rho_max(Xs: list[FloatArray], signs: list[list[FloatArray]]) -> tuple[float, float]:
    """:func:`rho_max` for the one-vs-rest logistic loss: the largest over the problems ``signs``.

    The gradient ``G_k`` of problem ``k`` is taken at ``W = 0`` with the intercepts fitted to that
    point (:func:`~learnsight.models.rmtl.classifier.null_intercepts`); ``(0, 0)`` is then optimal
    for problem ``k`` iff ``||G_k||_2 <= rho1`` and ``max_t ||G_k[:, t]|| <= rho2``. On per-task
    centred ``X`` the intercepts do not change ``G_k``: it is ``-X_t^T 1[class k] / (T n_t)``.
    """
    d, T = Xs[0].shape[1], len(Xs)
    r1 = r2 = 0.0
    for s in signs:
        _, G, _ = LogisticLoss(Xs, s).value_grad(np.zeros((d, T)), null_intercepts(s))
        r1 = max(r1, float(np.linalg.norm(G, 2)))
        r2 = max(r2, float(np.linalg.norm(G, axis=0).max()))
    return r1, r2


def logistic_grid(
    Xs: list[FloatArray], signs: list[list[FloatArray]], n: int, eps: float
) -> tuple[FloatArray, FloatArray]:
    """Geometric grids from :func:`logistic_rho_max` down to ``eps`` times it, largest first."""
    return _geometric(*logistic_rho_max(Xs, signs), n, eps)


def _path_centred(
    Xs: list[FloatArray],
    ys: list[FloatArray],
    rho1s: FloatArray,
    rho2s: FloatArray,
    *,
    tol: float,
    max_iter: int,
    warm_start: bool,
) -> tuple[FloatArray, FloatArray, IntArray, FloatArray]:
    loss = SquaredLoss(Xs, ys)
    d, T = Xs[0].shape[1], len(Xs)
    n1, n2 = rho1s.shape[0], rho2s.shape[0]
    P, Q = np.zeros((n1, n2, d, T)), np.zeros((n1, n2, d, T))
    n_iter = np.zeros((n1, n2), dtype=np.intp)
    objective = np.zeros((n1, n2))
    start: tuple[FloatArray, FloatArray] | None = None
    for i in range(n1):
        # snake order: consecutive grid points are always neighbours, so each warm start is close
        for j in range(n2) if i % 2 == 0 else reversed(range(n2)):
            res = fit_squared(
                Xs, ys, float(rho1s[i]), float(rho2s[j]), start=start, tol=tol, max_iter=max_iter, loss=loss
            )
            P[i, j], Q[i, j], n_iter[i, j], objective[i, j] = res.P, res.Q, res.n_iter, res.objective[-1]
            if warm_start:
                start = (res.P, res.Q)
    return P, Q, n_iter, objective


def rmtl_path(
    X: Any,
    y: Any,
    tasks: Any,
    rho1s: Any,
    rho2s: Any,
    *,
    tol: float = 1e-8,
    max_iter: int = 5000,
    warm_start: bool = True,
) -> RMTLPath:
    """Fit RMTL regression at every ``(rho1, rho2)`` of a grid, each fit warm-started from the last.

    The grid is visited row by row in snake order (``rho1s`` outer, ``rho2s`` inner, alternating
    direction); pass both grids largest first for the sparse-to-dense path that warm starts favour.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    labels, codes = encode_tasks(tasks, X.shape[0])
    Xs, ys, x_means, y_means = split_centred(X, y, codes, labels.shape[0])
    r1, r2 = np.asarray(rho1s, dtype=np.float64), np.asarray(rho2s, dtype=np.float64)
    P, Q, n_iter, objective = _path_centred(Xs, ys, r1, r2, tol=tol, max_iter=max_iter, warm_start=warm_start)
    intercept = y_means - np.sum(x_means * (P + Q), axis=2)
    return RMTLPath(r1, r2, P, Q, intercept, n_iter, objective)


def task_kfold(
    codes: IntArray, n_tasks: int, n_splits: int, seed: int | None, *, strata: IntArray | None = None
) -> IntArray:
    """Fold index of each row: K-fold within each task, so every fold holds rows of every task.

    Without ``strata`` every task needs at least ``n_splits`` rows. With ``strata`` (e.g. each
    row's class code) the folds are stratified within each task (rows shuffled, then dealt out
    class by class from a random first fold), and small tasks are tolerated: a task with fewer rows
    than folds is held out in only some folds (one row each), and a task with a single row is never
    held out (fold ``-1``), so every training split still holds at least one row of every task.
    """
    rng = np.random.default_rng(seed)
    fold = np.empty(codes.shape[0], dtype=np.intp)
    for t in range(n_tasks):
        rows = np.flatnonzero(codes == t)
        if strata is None:
            if rows.shape[0] < n_splits:
                raise ValueError(f"task {t} has n_samples={rows.shape[0]}, fewer than cv={n_splits} folds")
            fold[rng.permutation(rows)] = np.arange(rows.shape[0]) % n_splits
            continue
        if rows.shape[0] < 2:
            fold[rows] = -1
            continue
        order = rng.permutation(rows)
        order = order[np.argsort(strata[order], kind="stable")]
        fold[order] = (int(rng.integers(n_splits)) + np.arange(order.shape[0])) % n_splits
    return fold


class RMTLRegressorCV(RMTLRegressor):
    """:class:`RMTLRegressor` with ``rho1``, ``rho2`` chosen by K-fold cross-validation.

    Folds are drawn within each task, so every task is represented in every fold. The validation
    error is the mean over tasks of each task's mean squared error (the weighting of the training
    loss). The whole grid is fitted with warm starts (:func:`rmtl_path`) on each fold, then the
    best pair is refitted on all rows.

    Parameters
    ----------
    rho1s, rho2s : array-like or None, default=None
        Grids; ``None``: ``n_rhos`` geometric values from the smallest value that zeroes the
        component down to ``eps`` times it.
    n_rhos : int, default=6
    eps : float, default=1e-3
    cv : int, default=5
        Number of folds.
    tol, max_iter : as in :class:`RMTLRegressor`.
    random_state : int or None, default=None
        Seed of the fold assignment.

    Attributes
    ----------
    rho1_, rho2_ : float
        Selected weights.
    rho1s_, rho2s_ : ndarray
        Grids used.
    mse_path_ : ndarray of shape (cv, n_rho1, n_rho2)
        Validation error of each fold and grid point.
    Other attributes : as in :class:`RMTLRegressor`, for the refit on all rows.

    References
    ----------
    .. [1] J. Chen, J. Zhou and J. Ye, "Integrating low-rank and group-sparse structures for
       robust multi-task learning", KDD 2011, pp. 42-50.
    """

    def __init__(
        self,
        rho1s: Any = None,
        rho2s: Any = None,
        *,
        n_rhos: int = 6,
        eps: float = 1e-3,
        cv: int = 5,
        tol: float = 1e-7,
        max_iter: int = 5000,
        random_state: int | None = None,
    ) -> None:
        self.rho1s = rho1s
        self.rho2s = rho2s
        self.n_rhos = n_rhos
        self.eps = eps
        self.cv = cv
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any, tasks: Any = None) -> RMTLRegressorCV:
        """Select ``rho1``, ``rho2`` by cross-validation, then fit on all rows.

        Returns
        -------
        self : RMTLRegressorCV
        """
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        labels, codes = encode_tasks(tasks, X.shape[0])
        T = labels.shape[0]
        Xs, ys, x_means, y_means = split_centred(X, y, codes, T)
        if self.rho1s is None or self.rho2s is None:
            g1, g2 = default_grid(Xs, ys, self.n_rhos, self.eps)
        r1 = g1 if self.rho1s is None else np.asarray(self.rho1s, dtype=np.float64)
        r2 = g2 if self.rho2s is None else np.asarray(self.rho2s, dtype=np.float64)
        fold = task_kfold(codes, T, self.cv, self.random_state)
        mse = np.zeros((self.cv, r1.shape[0], r2.shape[0]))
        for k in range(self.cv):
            train = fold != k
            tr = split_centred(X[train], y[train], codes[train], T)
            P, Q, _, _ = _path_centred(
                tr[0], tr[1], r1, r2, tol=self.tol, max_iter=self.max_iter, warm_start=True
            )
            W = P + Q
            intercept = tr[3] - np.sum(tr[2] * W, axis=2)
            for t in range(T):
                rows = (fold == k) & (codes == t)
                pred = np.einsum("ij,abj->abi", X[rows], W[:, :, :, t]) + intercept[:, :, t, None]
                mse[k] += np.mean((pred - y[rows]) ** 2, axis=2) / T
        best = np.unravel_index(np.argmin(mse.mean(axis=0)), mse.shape[1:])
        self.rho1s_, self.rho2s_, self.mse_path_ = r1, r2, mse
        self.rho1_, self.rho2_ = float(r1[best[0]]), float(r2[best[1]])
        result = fit_squared(Xs, ys, self.rho1_, self.rho2_, start=None, tol=self.tol, max_iter=self.max_iter)
        self.tasks_ = labels
        self._store(result, x_means, y_means)
        return self


def _logistic_path(
    Xs: list[FloatArray],
    signs: list[list[FloatArray]],
    rho1s: FloatArray,
    rho2s: FloatArray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray]:
    """Weights ``(n1, n2, K, d, T)`` and intercepts ``(n1, n2, K, T)`` (centred ``Xs``) along the grid.

    Snake order as in :func:`rmtl_path`; each problem's fit starts from its fit at the previous point.
    """
    d, T, K = Xs[0].shape[1], len(Xs), len(signs)
    n1, n2 = rho1s.shape[0], rho2s.shape[0]
    W, b = np.zeros((n1, n2, K, d, T)), np.zeros((n1, n2, K, T))
    losses = [LogisticLoss(Xs, s) for s in signs]
    lipschitz = logistic_lipschitz(Xs)
    starts: list[tuple[FloatArray, FloatArray, FloatArray]] | None = None
    for i in range(n1):
        for j in range(n2) if i % 2 == 0 else reversed(range(n2)):
            results = fit_logistic(
                Xs,
                signs,
                float(rho1s[i]),
                float(rho2s[j]),
                starts=starts,
                tol=tol,
                max_iter=max_iter,
                losses=losses,
                lipschitz=lipschitz,
            )
            for k, res in enumerate(results):
                W[i, j, k], b[i, j, k] = res.P + res.Q, res.b
            starts = [(res.P, res.Q, res.b) for res in results]
    return W, b


def _validation_scores(
    z: FloatArray, y: IntArray, weights: FloatArray, n_classes: int, scoring: str
) -> FloatArray:
    """Weighted validation criterion of the logits ``z`` ``(..., n, K)`` for class codes ``y``.

    ``weights`` sum to one. ``K`` is 1 for two classes (logit of ``classes_[1]``), as in
    :meth:`RMTLClassifier.decision_function`; the probabilities are those of ``predict_proba``.
    """
    if n_classes == 2:
        z = np.concatenate([-z, z], axis=-1)
    if scoring == "log_loss":
        p = np.exp(-np.logaddexp(0.0, -z))
        p /= p.sum(axis=-1, keepdims=True)
        p_true = np.take_along_axis(p, np.broadcast_to(y[:, None], (*p.shape[:-1], 1)), axis=-1)[..., 0]
        out: FloatArray = -np.log(np.clip(p_true, 1e-15, 1.0)) @ weights
        return out
    pred = np.argmax(z, axis=-1)
    if scoring == "accuracy":
        out = (pred == y).astype(np.float64) @ weights
        return out
    # macro F1 with weighted counts, over the classes present in the truth or the predictions
    classes = np.arange(n_classes)
    hit = (pred[..., None] == classes).astype(np.float64)  # (..., n, C)
    truth = (y[:, None] == classes).astype(np.float64)  # (n, C)
    tp = np.einsum("...nc,nc,n->...c", hit, truth, weights)
    support = np.einsum("...nc,n->...c", hit, weights) + truth.T @ weights
    present = support > 0.0
    f1 = np.divide(2.0 * tp, support, out=np.zeros_like(tp), where=present)
    out = f1.sum(axis=-1) / np.maximum(present.sum(axis=-1), 1)
    return out


class RMTLClassifierCV(RMTLClassifier):
    """:class:`RMTLClassifier` with ``rho1``, ``rho2`` chosen by K-fold cross-validation.

    Folds are drawn within each task and stratified by class there (:func:`task_kfold` with
    ``strata``), so every fold holds rows of every task with enough rows; a task with fewer rows
    than folds is held out in only some folds and a one-row task is always in training. A task (or
    a whole training split) that lacks a class is fine: that one-vs-rest problem is all negatives
    there. On each fold the whole grid is fitted along a warm-start path, largest weights first,
    each one-vs-rest problem starting from its solution at the previous grid point. The best pair
    is then refitted on all rows, from scratch, exactly as ``RMTLClassifier(rho1_, rho2_)`` would.

    Validation criterion (``scoring``), each row weighted by ``1 / (T_v n_tv)`` so that every task
    with held-out rows counts equally, as in the training loss (``T_v`` tasks with held-out rows,
    ``n_tv`` held-out rows of task ``t``):

    * ``"log_loss"`` (lowest wins): mean over tasks of each task's mean ``-log p(true class)``, with
      the normalised probabilities of ``predict_proba`` (clipped at ``1e-15``);
    * ``"accuracy"`` (highest wins): mean over tasks of each task's accuracy;
    * ``"macro_f1"`` (highest wins): F1 of each class from the weighted counts, averaged over the
      classes present in the held-out truth or predictions.

    Ties go to the first grid point in ``(rho1s_, rho2s_)`` order, i.e. the larger weights.

    Parameters
    ----------
    rho1s, rho2s : array-like or None, default=None
        Grids (sorted largest first before use); ``None``: ``n_rhos`` geometric values from the
        smallest value that zeroes the component at ``W = 0`` for the logistic loss
        (:func:`logistic_rho_max`, on all rows) down to ``eps`` times it.
    n_rhos : int, default=5
    eps : float, default=1e-2
    cv : int, default=3
        Number of folds.
    scoring : {"log_loss", "accuracy", "macro_f1"}, default="log_loss"
    tol : float, default=1e-5
        FISTA tolerance of every fit, on the path and in the refit.
    max_iter : int, default=2000
    random_state : int or None, default=None
        Seed of the fold assignment.

    Attributes
    ----------
    rho1_, rho2_ : float
        Selected weights.
    rho1s_, rho2s_ : ndarray
        Grids used, largest first.
    cv_scores_ : ndarray of shape (cv, n_rho1, n_rho2)
        Validation criterion of each fold and grid point (``nan`` for a fold with no held-out row).
    Other attributes : as in :class:`RMTLClassifier`, for the refit on all rows.

    References
    ----------
    .. [1] J. Chen, J. Zhou and J. Ye, "Integrating low-rank and group-sparse structures for
       robust multi-task learning", KDD 2011, pp. 42-50.
    """

    def __init__(
        self,
        rho1s: Any = None,
        rho2s: Any = None,
        *,
        n_rhos: int = 5,
        eps: float = 1e-2,
        cv: int = 3,
        scoring: str = "log_loss",
        tol: float = 1e-5,
        max_iter: int = 2000,
        random_state: int | None = None,
    ) -> None:
        self.rho1s = rho1s
        self.rho2s = rho2s
        self.n_rhos = n_rhos
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def _grid(self, values: Any, default: FloatArray, name: str) -> FloatArray:
        if values is None:
            return default
        grid = np.sort(np.asarray(values, dtype=np.float64).ravel())[::-1]
        if grid.shape[0] == 0 or not np.all(np.isfinite(grid)) or grid[-1] < 0:
            raise ValueError(f"{name} must be a non-empty list of finite values >= 0, got {values!r}")
        return grid

    def fit(self, X: Any, y: Any, tasks: Any = None) -> RMTLClassifierCV:
        """Select ``rho1``, ``rho2`` by cross-validation, then fit on all rows.

        Returns
        -------
        self : RMTLClassifierCV
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}, got {self.scoring!r}")
        if not isinstance(self.cv, int | np.integer) or self.cv < 2:
            raise ValueError(f"cv must be an integer >= 2, got {self.cv!r}")
        if self.n_rhos < 1 or not 0.0 < self.eps <= 1.0:
            raise ValueError(f"need n_rhos >= 1 and 0 < eps <= 1, got {self.n_rhos}, {self.eps}")
        classes, y_codes = np.unique(y, return_inverse=True)
        y_codes = y_codes.astype(np.intp).ravel()
        if classes.shape[0] < 2:
            raise ValueError(f"need at least two classes, got 1 class: {classes.tolist()}")
        labels, codes = encode_tasks(tasks, X.shape[0])
        T = labels.shape[0]
        Xs, _, x_means, _ = split_centred(X, np.zeros(X.shape[0]), codes, T, centre_y=False)
        signs = class_signs(y_codes, codes, T, np.arange(classes.shape[0]))
        g1, g2 = (
            logistic_grid(Xs, signs, self.n_rhos, self.eps)
            if self.rho1s is None or self.rho2s is None
            else (np.empty(0), np.empty(0))
        )
        r1, r2 = self._grid(self.rho1s, g1, "rho1s"), self._grid(self.rho2s, g2, "rho2s")
        fold = task_kfold(codes, T, self.cv, self.random_state, strata=y_codes)
        scores = np.full((self.cv, r1.shape[0], r2.shape[0]), np.nan)
        for k in range(self.cv):
            held = fold == k
            if not np.any(held):
                continue
            train = ~held
            tr_codes = codes[train]
            tr_Xs, _, tr_means, _ = split_centred(
                X[train], np.zeros(tr_codes.shape[0]), tr_codes, T, centre_y=False
            )
            tr_signs = class_signs(y_codes[train], tr_codes, T, np.arange(classes.shape[0]))
            W, b = _logistic_path(tr_Xs, tr_signs, r1, r2, tol=self.tol, max_iter=self.max_iter)
            intercept = b - np.einsum("dt,abkdt->abkt", tr_means, W)
            held_tasks = [t for t in range(T) if np.any(held & (codes == t))]
            z, y_held, weights = [], [], []
            for t in held_tasks:
                rows = held & (codes == t)
                z.append(np.einsum("id,abkd->abik", X[rows], W[..., t]) + intercept[:, :, None, :, t])
                y_held.append(y_codes[rows])
                weights.append(np.full(int(rows.sum()), 1.0 / (len(held_tasks) * rows.sum())))
            scores[k] = _validation_scores(
                np.concatenate(z, axis=2),
                np.concatenate(y_held),
                np.concatenate(weights),
                classes.shape[0],
                self.scoring,
            )
        if np.all(np.isnan(scores)):
            raise ValueError("cross-validation needs at least one task with 2 or more rows")
        mean = np.nanmean(scores, axis=0)
        flat = np.argmin(mean) if self.scoring == "log_loss" else np.argmax(mean)
        best = np.unravel_index(flat, mean.shape)
        self.rho1s_, self.rho2s_, self.cv_scores_ = r1, r2, scores
        self.rho1_, self.rho2_ = float(r1[best[0]]), float(r2[best[1]])
        results = fit_logistic(
            Xs, signs, self.rho1_, self.rho2_, starts=None, tol=self.tol, max_iter=self.max_iter
        )
        self.classes_ = classes
        self.tasks_ = labels
        self._store(results, x_means)
        return self
