"""Robust multi-task regression (Chen, Zhou & Ye, KDD 2011) as a scikit-learn estimator."""

# Upper-case names (X, W, P, Q, T) follow the paper's and scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin  # type: ignore[import-untyped]
from sklearn.metrics import r2_score  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from learnsight.models.rmtl._data import FloatArray, encode_tasks, lookup_tasks, split_centred
from learnsight.models.rmtl.solver import FistaResult, SquaredLoss, fista


def fit_squared(
    Xs: list[FloatArray],
    ys: list[FloatArray],
    rho1: float,
    rho2: float,
    *,
    start: tuple[FloatArray, FloatArray] | None,
    tol: float,
    max_iter: int,
    loss: SquaredLoss | None = None,
) -> FistaResult:
    """Solve the RMTL least-squares problem on per-task centred data (optionally warm-started)."""
    loss = SquaredLoss(Xs, ys) if loss is None else loss
    d, T = Xs[0].shape[1], len(Xs)
    P0, Q0 = start if start is not None else (np.zeros((d, T)), np.zeros((d, T)))
    return fista(loss, rho1, rho2, P0, Q0, np.zeros(T), tol=tol, max_iter=max_iter)


class RMTLRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Robust multi-task least squares: a low-rank shared part plus whole outlier tasks.

    Solves, with one column of ``W = P + Q`` per task ``t`` (``n_t`` rows ``X_t``, targets ``y_t``),

    ``min_{P,Q} sum_t 1/(T n_t) ||X_t w_t - y_t||^2 + rho1 ||P||_* + rho2 ||Q||_{1,2}``

    ``||P||_*`` (sum of singular values) pulls related tasks onto a shared low-rank subspace;
    ``||Q||_{1,2}`` (sum of column L2 norms) lets a few whole tasks depart from it: those are the
    outlier tasks. Solved by monotone FISTA with backtracking on the joint variable ``(P, Q)``
    (see :mod:`learnsight.models.rmtl.solver`).

    Each task has an unpenalised intercept, handled by centring ``X_t`` and ``y_t`` on the task
    means before solving and setting ``intercept_[t] = mean(y_t) - mean(X_t) @ w_t`` afterwards;
    for least squares this is exactly the solution with a free intercept per task.

    Parameters
    ----------
    rho1 : float, default=0.01
        Weight of the trace norm of ``P``.
    rho2 : float, default=0.01
        Weight of the column-group norm of ``Q``.
    tol : float, default=1e-8
        Stop when an accepted step decreases the objective by at most ``tol`` relative.
    max_iter : int, default=5000
        Maximum number of FISTA iterations (gradient evaluations).
    warm_start : bool, default=False
        Start from the previous ``P_``, ``Q_`` when they fit the new problem's shape.

    Attributes
    ----------
    P_ : ndarray of shape (n_features, n_tasks)
        Low-rank component.
    Q_ : ndarray of shape (n_features, n_tasks)
        Column-sparse (outlier-task) component.
    W_ : ndarray of shape (n_features, n_tasks)
        ``P_ + Q_``: the weights of each task, one column per task in the order of ``tasks_``.
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task.
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in ``fit``.
    n_iter_ : int
        FISTA iterations run.
    objective_ : ndarray
        Objective after the start and after each accepted step (non-increasing).
    outlier_tasks_ : ndarray
        Labels of the tasks whose column of ``Q_`` is non-zero.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    .. [1] J. Chen, J. Zhou and J. Ye, "Integrating low-rank and group-sparse structures for
       robust multi-task learning", KDD 2011, pp. 42-50.
    .. [2] A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear
       inverse problems", SIAM J. Imaging Sciences 2(1), 2009.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 5)); tasks = np.repeat(["a", "b", "c"], 40)
    >>> y = X @ np.ones(5) + rng.normal(scale=0.1, size=120)
    >>> model = RMTLRegressor(rho1=1e-3, rho2=1e-3).fit(X, y, tasks)
    >>> model.W_.shape, bool(model.score(X, y, tasks) > 0.99)
    ((5, 3), True)
    """

    P_: FloatArray
    Q_: FloatArray

    def __init__(
        self,
        rho1: float = 0.01,
        rho2: float = 0.01,
        *,
        tol: float = 1e-8,
        max_iter: int = 5000,
        warm_start: bool = False,
    ) -> None:
        self.rho1 = rho1
        self.rho2 = rho2
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any, tasks: Any = None) -> RMTLRegressor:
        """Fit on rows ``X``, targets ``y`` and each row's task label ``tasks`` (``None``: one task).

        Returns
        -------
        self : RMTLRegressor
        """
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        if self.rho1 < 0 or self.rho2 < 0:
            raise ValueError(f"rho1 and rho2 must be >= 0, got {self.rho1}, {self.rho2}")
        labels, codes = encode_tasks(tasks, X.shape[0])
        Xs, ys, x_means, y_means = split_centred(X, y, codes, labels.shape[0])
        start = None
        if self.warm_start and hasattr(self, "P_") and self.P_.shape == (X.shape[1], labels.shape[0]):
            start = (self.P_, self.Q_)
        result = fit_squared(Xs, ys, self.rho1, self.rho2, start=start, tol=self.tol, max_iter=self.max_iter)
        self.tasks_ = labels
        self._store(result, x_means, y_means)
        return self

    def _store(self, result: FistaResult, x_means: FloatArray, y_means: FloatArray) -> None:
        self.P_ = result.P
        self.Q_ = result.Q
        self.W_ = result.P + result.Q
        self.intercept_ = y_means - np.sum(x_means * self.W_, axis=0)
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        self.outlier_tasks_ = self.tasks_[np.linalg.norm(result.Q, axis=0) > 0.0]

    def predict(self, X: Any, tasks: Any = None) -> FloatArray:
        """Predict each row with the weights of its task.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        codes = lookup_tasks(tasks, X.shape[0], self.tasks_)
        pred: FloatArray = np.einsum("ij,ji->i", X, self.W_[:, codes]) + self.intercept_[codes]
        return pred

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of ``predict(X, tasks)``."""
        return float(r2_score(y, self.predict(X, tasks), sample_weight=sample_weight))
