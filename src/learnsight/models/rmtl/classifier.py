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

from learnsight.models.rmtl._data import FloatArray, encode_tasks, lookup_tasks, split_centred
from learnsight.models.rmtl.solver import LogisticLoss, fista


class RMTLClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Robust multi-task classifier (e.g. at-risk / normal / excellent per course).

    For each class ``k`` a one-vs-rest problem is solved with the logistic loss in place of the
    squared loss and the same regulariser as :class:`RMTLRegressor`:

    ``min sum_t 1/(T n_t) sum_i log(1 + exp(-s_ik (x_i^T w_kt + b_kt)))``
    ``+ rho1 ||P_k||_* + rho2 ||Q_k||_{1,2}``

    with ``s_ik = +1`` when row ``i`` is of class ``k``. Only the smooth part changes, so the same
    FISTA solver and proximal steps apply; the per-task intercepts ``b_kt`` are unpenalised (their
    proximal step is the identity), and ``X`` is centred per task internally for conditioning.
    ``predict_proba`` normalises the ``K`` one-vs-rest sigmoids to sum to one.

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
        # two classes: one problem (classes_[1] against classes_[0]), as scikit-learn's binary convention
        T, d, K = labels.shape[0], X.shape[1], (1 if classes.shape[0] == 2 else classes.shape[0])
        Xs, _, x_means, _ = split_centred(X, np.zeros(X.shape[0]), codes, T, centre_y=False)
        warm = self.warm_start and hasattr(self, "P_") and self.P_.shape == (K, d, T)
        P, Q, b = np.zeros((K, d, T)), np.zeros((K, d, T)), np.zeros((K, T))
        n_iter = np.zeros(K, dtype=np.intp)
        history: list[FloatArray] = []
        for k, label in enumerate(classes[-K:]):
            signs = [np.where(y[codes == t] == label, 1.0, -1.0) for t in range(T)]
            loss = LogisticLoss(Xs, signs)
            if warm:
                start = (self.P_[k], self.Q_[k], self._b[k])
            else:
                start = (np.zeros((d, T)), np.zeros((d, T)), np.zeros(T))
            res = fista(loss, self.rho1, self.rho2, *start, tol=self.tol, max_iter=self.max_iter)
            P[k], Q[k], b[k], n_iter[k] = res.P, res.Q, res.b, res.n_iter
            history.append(res.objective)
        self.classes_ = classes
        self.tasks_ = labels
        self.P_, self.Q_, self.W_ = P, Q, P + Q
        self._b = b
        self.intercept_ = b - np.sum(x_means[None] * self.W_, axis=1)
        self.n_iter_ = n_iter
        self.objective_ = history
        self.outlier_tasks_ = labels[np.any(np.linalg.norm(Q, axis=1) > 0.0, axis=0)]
        return self

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
