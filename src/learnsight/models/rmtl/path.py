"""Regularisation path over a (rho1, rho2) grid with warm starts, and cross-validated selection."""

# Upper-case names (X, W, P, Q, T) follow the paper's and scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.validation import validate_data  # type: ignore[import-untyped]

from learnsight.models.rmtl._data import FloatArray, IntArray, encode_tasks, split_centred
from learnsight.models.rmtl.regressor import RMTLRegressor, fit_squared
from learnsight.models.rmtl.solver import SquaredLoss


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
    r1, r2 = rho_max(Xs, ys)
    r1, r2 = max(r1, 1e-12), max(r2, 1e-12)
    return np.geomspace(r1, r1 * eps, n), np.geomspace(r2, r2 * eps, n)


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


def task_kfold(codes: IntArray, n_tasks: int, n_splits: int, seed: int | None) -> IntArray:
    """Fold index of each row: K-fold within each task, so every fold holds rows of every task."""
    rng = np.random.default_rng(seed)
    fold = np.empty(codes.shape[0], dtype=np.intp)
    for t in range(n_tasks):
        rows = np.flatnonzero(codes == t)
        if rows.shape[0] < n_splits:
            raise ValueError(f"task {t} has n_samples={rows.shape[0]}, fewer than cv={n_splits} folds")
        fold[rng.permutation(rows)] = np.arange(rows.shape[0]) % n_splits
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
