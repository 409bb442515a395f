"""Fill the empty cells of the rating matrix by multiple linear regression on the indicators (SPEC §4).

SPEC §4: "missing ratings in the sparse matrix are first filled by multiple linear regression".
For each item ``i`` a linear model of its ratings on the learners' standardised indicators
``z_u`` (:mod:`.features`) is fitted by ridge-regularised least squares:

    β_i = argmin_β  Σ_{u ∈ O_i} (r_ui − β_0 − z_uᵀ β_{1:})²  +  λ ‖β_{1:}‖²

(the intercept is not penalised).  ``O_i`` is, with ``target="observed"`` (the source model), the
learners who used item ``i`` — the model predicts how strongly a learner would use it; with
``target="all"``, every learner, an unobserved cell counting as ``r_ui = 0`` — the model predicts
the expected rating, use and intensity together, which suits implicit feedback.  The normal
equations are solved for all items at once: ``(A_iᵀA_i + λD) β_i = A_iᵀ r_i`` with ``A = [1, Z]``
and ``D = diag(0, 1, …, 1)``; the per-item Gram matrices ``A_iᵀA_i = Σ_{u∈O_i} a_u a_uᵀ`` are one
sparse product ``Mᵀ (A ⊙ A)`` of the observed pattern ``M`` with the row-wise outer products, then
one batched ``numpy.linalg.solve``.

Each empty cell ``(u, i)`` then gets

    f_ui = w · clip(β_i0 + z_uᵀ β_i,  min_{O_i} r,  max_{O_i} r)          (observed cells: f = 0)

where ``w`` (``fill_weight`` < 1) keeps a filled cell below an observed one of the same value: the
regression is a guess, an interaction is evidence.  ``target="all"`` clips to ``[0, max_{O_i} r]``.
An item nobody used in the training data gets no fill.
"""

# Upper-case matrix names (R ratings, F fill, X/Y factors, A design) follow the papers' notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]
from sklearn.base import BaseEstimator  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]


class MLRFill(BaseEstimator):  # type: ignore[misc]
    """Per-item ridge regression of the ratings on the indicators; fills the empty cells.

    Parameters
    ----------
    alpha : float
        Ridge penalty λ on the slopes (features are standardised, so one λ suits every item).
    fill_weight : float
        ``w``: a filled cell is worth ``w`` times its predicted rating (0 < w ≤ 1).
    target : {"observed", "all"}
        Fit on every cell with empty = 0 (default) or on the observed cells only (the source
        model's explicit-rating reading).  On implicit feedback the "observed" fit predicts a
        similar, high rating for almost every empty cell, which mostly lifts rarely used items; the
        benchmark (``benchmarks/bench_recommend.py``) measures both.

    Attributes
    ----------
    coef_ : ndarray of shape (n_items, n_features + 1)
        ``β_i``, intercept first.
    low_, high_ : ndarray of shape (n_items,)
        The clipping range of each item's predictions.
    n_observed_ : ndarray of shape (n_items,)
        Learners who used each item.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> z = np.array([[-1.0], [0.0], [1.0], [2.0]])
    >>> r = sp.csr_matrix(np.array([[1.0], [2.0], [0.0], [4.0]]))
    >>> f = MLRFill(alpha=0.0, fill_weight=1.0, target="observed").fit(r, z).transform(r, z)
    >>> f.round(3).ravel().tolist()     # the line through (-1, 1), (0, 2), (2, 4) gives 3 at z = 1
    [0.0, 0.0, 3.0, 0.0]
    """

    def __init__(
        self, alpha: float = 1.0, fill_weight: float = 0.5, target: Literal["observed", "all"] = "all"
    ) -> None:
        self.alpha = alpha
        self.fill_weight = fill_weight
        self.target = target

    def fit(self, X: Any, Z: npt.ArrayLike) -> MLRFill:
        """Fit ``β_i`` for every item of the ratings ``X`` (users × items, sparse) on ``Z``."""
        R, A = _check(X, Z)
        if self.target not in ("observed", "all"):
            raise ValueError(f"target must be 'observed' or 'all', got {self.target!r}")
        if self.alpha < 0 or not 0 < self.fill_weight <= 1:
            raise ValueError("alpha must be >= 0 and fill_weight in (0, 1]")
        n, p = A.shape
        m = R.shape[1]
        pattern = R.copy()
        pattern.data = np.ones_like(pattern.data)
        self.n_observed_ = np.asarray(pattern.sum(axis=0)).ravel()
        penalty = self.alpha * np.diag(np.r_[0.0, np.ones(p - 1)])
        rhs = np.asarray((R.T @ A), dtype=np.float64)  # items × p: A_iᵀ r_i (empty cells add 0)
        if self.target == "all":
            gram = A.T @ A + penalty
            coef = np.linalg.solve(gram, rhs.T).T
        else:
            outer = (A[:, :, None] * A[:, None, :]).reshape(n, p * p)
            grams = np.asarray(pattern.T @ outer).reshape(m, p, p) + penalty
            coef = np.zeros((m, p))
            used = self.n_observed_ > 0
            coef[used] = np.linalg.solve(grams[used], rhs[used][:, :, None])[:, :, 0]
        self.coef_ = coef
        high = _column_extreme(R, np.maximum)
        low = np.zeros(m) if self.target == "all" else -_column_extreme(-R, np.maximum)
        low[self.n_observed_ == 0] = 0.0
        high[self.n_observed_ == 0] = 0.0
        self.low_, self.high_ = low, high
        return self

    def predict(self, Z: npt.ArrayLike) -> FloatArray:
        """Predicted ratings ``β_i0 + z_uᵀβ_i`` of every user and item, clipped (not weighted)."""
        check_is_fitted(self, "coef_")
        A = _design(np.asarray(Z, dtype=np.float64))
        raw = A @ self.coef_.T
        return np.asarray(np.clip(raw, self.low_, self.high_), dtype=np.float64)

    def transform(self, X: Any, Z: npt.ArrayLike) -> FloatArray:
        """The dense fill ``f`` (users × items): ``w ·`` predictions on empty cells, 0 on observed."""
        R, _ = _check(X, Z)
        fill = self.fill_weight * self.predict(Z)
        rows, cols = R.nonzero()
        fill[rows, cols] = 0.0
        return fill

    def fit_transform(self, X: Any, Z: npt.ArrayLike) -> FloatArray:
        return self.fit(X, Z).transform(X, Z)


def mlr_fill(
    ratings: Any,
    features: npt.ArrayLike,
    *,
    alpha: float = 1.0,
    fill_weight: float = 0.5,
    target: Literal["observed", "all"] = "all",
) -> FloatArray:
    """:class:`MLRFill` fitted on ``ratings`` and applied to them: the dense fill of the empty cells."""
    return MLRFill(alpha=alpha, fill_weight=fill_weight, target=target).fit_transform(ratings, features)


def _design(Z: FloatArray) -> FloatArray:
    if Z.ndim != 2 or not np.all(np.isfinite(Z)):
        raise ValueError("features must be a finite 2-D array (standardise and impute them first)")
    return np.column_stack([np.ones(Z.shape[0]), Z])


def _check(X: Any, Z: npt.ArrayLike) -> tuple[Any, FloatArray]:
    R = sp.csr_matrix(X, dtype=np.float64)
    A = _design(np.asarray(Z, dtype=np.float64))
    if A.shape[0] != R.shape[0]:
        raise ValueError(f"features have {A.shape[0]} rows, ratings {R.shape[0]}")
    if R.nnz and (R.data.min() < 0 or not np.all(np.isfinite(R.data))):
        raise ValueError("ratings must be finite and >= 0")
    return R, A


def _column_extreme(R: Any, op: Any) -> FloatArray:
    """Per-column maximum over the stored entries only (``op`` = ``np.maximum``)."""
    csc = R.tocsc()
    out = np.full(R.shape[1], -np.inf)
    cols = np.repeat(np.arange(R.shape[1]), np.diff(csc.indptr))
    op.at(out, cols, csc.data)
    out[~np.isfinite(out)] = 0.0
    return out


__all__ = ["MLRFill", "mlr_fill"]
