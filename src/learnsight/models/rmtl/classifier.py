"""Robust multi-task classification: one-vs-rest logistic loss under the RMTL regulariser."""

# Upper-case names (X, W, P, Q, T) follow the paper's and scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score  # type: ignore[import-untyped]
from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from learnsight.models.rmtl._data import FloatArray, IntArray, encode_tasks, lookup_tasks, split_centred
from learnsight.models.rmtl.solver import FistaResult, LogisticLoss, fista


def class_signs(y: Any, codes: IntArray, n_tasks: int, classes: Any) -> list[list[FloatArray]]:
    """``+1`` / ``-1`` labels of each one-vs-rest problem (outer list) and task (inner list).

    Two classes make one problem (``classes[1]`` against ``classes[0]``); more make one per class.
    """
    n_problems = 1 if len(classes) == 2 else len(classes)
    return [
        [np.where(y[codes == t] == label, 1.0, -1.0) for t in range(n_tasks)]
        for label in classes[-n_problems:]
    ]


def null_intercepts(signs: list[FloatArray]) -> FloatArray:
    """Per-task intercepts of the model with ``W = 0``: the logit of each task's positive share.

    The share is smoothed (``(n_pos + 1/2) / (n + 1)``), so a task whose rows are all of one sign
    gets a large finite intercept rather than an infinite one.
    """
    share = np.array([(np.sum(s > 0) + 0.5) / (s.shape[0] + 1.0) for s in signs])
    out: FloatArray = np.log(share) - np.log1p(-share)
    return out


def logistic_lipschitz(Xs: list[FloatArray]) -> float:
    """An upper bound on the Lipschitz constant of the logistic loss's gradient in ``(P, Q, b)``.

    The second derivative of ``log(1 + e^{-z})`` is at most ``1/4``; with per-task centred ``X_t``
    the ``W`` and ``b`` blocks of the Hessian bound decouple, and ``W = P + Q`` doubles the ``W``
    block, so ``L <= max_t max(2 ||X_t||_2^2, n_t) / (4 T n_t)``.
    """
    T = len(Xs)
    # ||X_t||_2^2 is the top eigenvalue of the d x d Gram matrix: cheaper than an SVD of X_t
    top = [float(np.linalg.eigvalsh(X.T @ X)[-1]) for X in Xs]
    return float(max(max(2.0 * g, X.shape[0]) / (4.0 * T * X.shape[0]) for g, X in zip(top, Xs, strict=True)))


def fit_logistic(
    Xs: list[FloatArray],
    signs: list[list[FloatArray]],
    rho1: float,
    rho2: float,
    *,
    starts: list[tuple[FloatArray, FloatArray, FloatArray]] | None,
    tol: float,
    max_iter: int,
    losses: list[LogisticLoss] | None = None,
    lipschitz: float | None = None,
) -> list[FistaResult]:
    """Solve each one-vs-rest RMTL logistic problem on per-task centred ``Xs`` (optionally warm-started).

    Without ``starts`` each problem starts at ``W = 0`` with the intercepts of :func:`null_intercepts`,
    which is the exact solution once ``rho1``, ``rho2`` are large enough to zero ``W``.

    FISTA's backtracking starts from a quarter of :func:`logistic_lipschitz` (pass ``lipschitz`` to
    reuse it): the loss is scaled by ``1 / (T n_t)``, so its curvature is far below FISTA's default
    start of 1 with many tasks, and starting there would take needlessly short steps throughout
    (backtracking only ever raises the estimate).
    """
    d, T = Xs[0].shape[1], len(Xs)
    start_L = 0.25 * (logistic_lipschitz(Xs) if lipschitz is None else lipschitz)
    results = []
    for k, s in enumerate(signs):
        loss = LogisticLoss(Xs, s) if losses is None else losses[k]
        P0, Q0, b0 = (
            starts[k] if starts is not None else (np.zeros((d, T)), np.zeros((d, T)), null_intercepts(s))
        )
        results.append(fista(loss, rho1, rho2, P0, Q0, b0, tol=tol, max_iter=max_iter, lipschitz=start_L))
    return results


class RMTLClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Robust multi-task classifier (e.g. at-risk / normal / excellent per course).

    For each class ``k`` a one-vs-rest problem is solved with the logistic loss in place of the
    squared loss and the same regulariser as :class:`RMTLRegressor`:

    ``min sum_t 1/(T n_t) sum_i log(1 + exp(-s_ik (x_i^T w_kt + b_kt)))``
    ``+ rho1 ||P_k||_* + rho2 ||Q_k||_{1,2}``

    with ``s_ik = +1`` when row ``i`` is of class ``k``. Only the smooth part changes, so the same
    FISTA solver and proximal steps apply; the per-task intercepts ``b_kt`` are unpenalised (their
    proximal step is the identity), and ``X`` is centred per task internally for conditioning.
    ``predict_proba`` normalises the ``K`` one-vs-rest sigmoids to sum to one. A cold fit starts
    at ``W = 0`` with the intercepts of that model (the logit of each task's class share), and
    FISTA's step-size search starts from a bound on the loss's curvature (:func:`fit_logistic`).

    Why one-vs-rest rather than regression on the score plus cut points: it needs no underlying
    score (courses without one still train), gives calibrated-in-spirit probabilities for the
    intervention stage, and lets each class have its own shared structure and its own outlier
    courses. It ignores the order of the classes; with few rows per course that costs little.

    Parameters
    ----------
    rho1 : float, default=0.01
        Weight of the trace norm of each ``P_k``.
    rho2 : float, default=0.01
        Weight of the column-group norm of each ``Q_k``.
    tol : float, default=1e-7
        Relative objective decrease at which each FISTA run stops.
    max_iter : int, default=3000
        Maximum FISTA iterations per class.
    warm_start : bool, default=False
        Start from the previous ``P_``, ``Q_``, intercepts when shapes agree.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    P_, Q_, W_ : ndarray of shape (n_problems, n_features, n_tasks)
        Low-rank part, outlier part and their sum, per one-vs-rest problem (``n_problems`` is
        ``n_classes``, or 1 for two classes: ``classes_[1]`` against ``classes_[0]``).
    intercept_ : ndarray of shape (n_problems, n_tasks)
    tasks_ : ndarray of shape (n_tasks,)
    n_iter_ : ndarray of shape (n_problems,)
    objective_ : list of ndarray
        Objective history of each class's problem.
    outlier_tasks_ : ndarray
        Tasks whose column of ``Q_k`` is non-zero for at least one class.
    n_features_in_ : int

    References
    ----------
    .. [1] J. Chen, J. Zhou and J. Ye, "Integrating low-rank and group-sparse structures for
       robust multi-task learning", KDD 2011, pp. 42-50.
    .. [2] A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear
       inverse problems", SIAM J. Imaging Sciences 2(1), 2009.
    """

    P_: FloatArray
    Q_: FloatArray
    W_: FloatArray
    _b: FloatArray

    def __init__(
        self,
        rho1: float = 0.01,
        rho2: float = 0.01,
        *,
        tol: float = 1e-7,
        max_iter: int = 3000,
        warm_start: bool = False,
    ) -> None:
        self.rho1 = rho1
        self.rho2 = rho2
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any, tasks: Any = None) -> RMTLClassifier:
        """Fit on rows ``X``, class labels ``y`` and each row's task label ``tasks``.

        Returns
        -------
        self : RMTLClassifier
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if self.rho1 < 0 or self.rho2 < 0:
            raise ValueError(f"rho1 and rho2 must be >= 0, got {self.rho1}, {self.rho2}")
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise ValueError(f"need at least two classes, got 1 class: {classes.tolist()}")
        labels, codes = encode_tasks(tasks, X.shape[0])
        T, d = labels.shape[0], X.shape[1]
        K = 1 if classes.shape[0] == 2 else classes.shape[0]
        Xs, _, x_means, _ = split_centred(X, np.zeros(X.shape[0]), codes, T, centre_y=False)
        starts = None
        if self.warm_start and hasattr(self, "P_") and self.P_.shape == (K, d, T):
            starts = [(self.P_[k], self.Q_[k], self._b[k]) for k in range(K)]
        signs = class_signs(y, codes, T, classes)
        results = fit_logistic(
            Xs, signs, self.rho1, self.rho2, starts=starts, tol=self.tol, max_iter=self.max_iter
        )
        self.classes_ = classes
        self.tasks_ = labels
        self._store(results, x_means)
        return self

    def _store(self, results: list[FistaResult], x_means: FloatArray) -> None:
        P = np.stack([r.P for r in results])
        Q = np.stack([r.Q for r in results])
        b = np.stack([r.b for r in results])
        self.P_, self.Q_, self.W_ = P, Q, P + Q
        self._b = b
        self.intercept_ = b - np.sum(x_means[None] * self.W_, axis=1)
        self.n_iter_ = np.array([r.n_iter for r in results], dtype=np.intp)
        self.objective_ = [r.objective for r in results]
        self.outlier_tasks_ = self.tasks_[np.any(np.linalg.norm(Q, axis=1) > 0.0, axis=0)]

    def decision_function(self, X: Any, tasks: Any = None) -> FloatArray:
        """One-vs-rest logits, shape ``(n_samples, n_classes)``; ``(n_samples,)`` for two classes."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        codes = lookup_tasks(tasks, X.shape[0], self.tasks_)
        scores: FloatArray = np.einsum("ij,kji->ik", X, self.W_[:, :, codes]) + self.intercept_[:, codes].T
        return scores[:, 0] if self.classes_.shape[0] == 2 else scores

    def predict_proba(self, X: Any, tasks: Any = None) -> FloatArray:
        """Class probabilities: the one-vs-rest sigmoids normalised to sum to one per row."""
        z = self.decision_function(X, tasks)
        if z.ndim == 1:
            z = np.column_stack([-z, z])  # sigmoid(-z) = 1 - sigmoid(z): already normalised
        p: FloatArray = np.exp(-np.logaddexp(0.0, -z))
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Most probable class of each row."""
        check_is_fitted(self)
        z = self.decision_function(X, tasks)
        return self.classes_[(z > 0).astype(np.intp) if z.ndim == 1 else np.argmax(z, axis=1)]

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """Accuracy of ``predict(X, tasks)``."""
        return float(accuracy_score(y, self.predict(X, tasks), sample_weight=sample_weight))
