"""What every recommender shares: the scikit-learn contract, input checks and top-k selection.

A recommender is fitted on a users × items rating matrix ``X`` (sparse, ``r_ui = log1p(count)``,
:meth:`.interactions.Interactions.ratings`) and optionally on ``filled``, the dense MLR fill of the
empty cells (:mod:`.fill`; zero on observed cells).  ``score(users)`` gives every item's score for
those rows; ``recommend(users, k)`` the ``k`` best items per row, never an item the learner already
used when ``exclude_seen`` (ties broken by the item's column, so results are deterministic).
"""

# Upper-case matrix names (R ratings, F fill, X/Y factors, A design) follow the papers' notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]
from sklearn.base import BaseEstimator  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class BaseRecommender(BaseEstimator, ABC):  # type: ignore[misc]
    """Base class: subclasses implement ``_fit(X, filled)`` and ``_score(rows)``."""

    def fit(self, X: Any, filled: npt.ArrayLike | None = None) -> BaseRecommender:
        """Fit on the ratings ``X`` (users × items) and, optionally, the dense MLR fill."""
        R = check_ratings(X)
        F = None
        if filled is not None:
            F = np.asarray(filled, dtype=np.float64)
            if F.shape != R.shape or not np.all(np.isfinite(F)) or (F < 0).any():
                raise ValueError(f"filled must be a finite, non-negative {R.shape} array")
        self.seen_ = R.copy()
        self.seen_.data = np.ones_like(self.seen_.data)
        self.n_users_, self.n_items_ = R.shape
        self._fit(R, F)
        return self

    @abstractmethod
    def _fit(self, R: Any, F: FloatArray | None) -> None:
        """Learn from the ratings ``R`` (csr) and the optional dense fill ``F``."""

    @abstractmethod
    def _score(self, rows: IntArray) -> FloatArray:
        """Scores (rows × items) of the given user rows."""

    def score(self, users: npt.ArrayLike) -> FloatArray:
        """Scores (len(users) × items) of the fitted users ``users`` (row indices)."""
        check_is_fitted(self, "seen_")
        rows = np.asarray(users, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self.n_users_):
            raise IndexError(f"user rows must be in [0, {self.n_users_})")
        return self._score(rows)

    def recommend(
        self, users: npt.ArrayLike, k: int = 10, *, exclude_seen: bool = True
    ) -> tuple[IntArray, FloatArray]:
        """The ``k`` best items of each user row: ``(items, scores)``, both ``len(users) × k``.

        When fewer than ``k`` items are left (after excluding seen ones) the row is padded with -1
        and ``-inf``.
        """
        rows = np.asarray(users, dtype=np.int64).reshape(-1)
        scores = self.score(rows)
        if exclude_seen:
            scores = mask_seen(scores, self.seen_[rows])
        return top_k(scores, k)


def check_ratings(X: Any) -> Any:
    """``X`` as a canonical float64 csr matrix of non-negative finite ratings (zeros dropped)."""
    R = sp.csr_matrix(X, dtype=np.float64, copy=True)
    R.sum_duplicates()
    R.eliminate_zeros()
    if R.ndim != 2 or R.shape[0] == 0 or R.shape[1] == 0:
        raise ValueError(f"ratings must be a non-empty 2-D matrix, got shape {R.shape}")
    if R.nnz and (not np.all(np.isfinite(R.data)) or R.data.min() < 0):
        raise ValueError("ratings must be finite and >= 0")
    return R


def mask_seen(scores: FloatArray, seen: Any, own: npt.ArrayLike | None = None) -> FloatArray:
    """``scores`` with the seen cells (non-zeros of ``seen``) set to ``-inf``, and, when ``own``
    gives each row's own column (partners: a learner is never their own partner; -1 for none), that
    cell too."""
    out = np.array(scores, dtype=np.float64, copy=True)
    r, c = sp.csr_matrix(seen).nonzero()
    out[r, c] = -np.inf
    if own is not None:
        cols = np.asarray(own, dtype=np.int64)
        rows = np.flatnonzero(cols >= 0)
        out[rows, cols[rows]] = -np.inf
    return out


def top_k(scores: FloatArray, k: int) -> tuple[IntArray, FloatArray]:
    """Best ``k`` columns per row, best first; ties by column index; ``-inf`` cells → -1.

    >>> top_k(np.array([[0.1, 0.5, 0.5, -np.inf]]), 4)[0].tolist()
    [[1, 2, 0, -1]]
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n, m = scores.shape
    kk = min(k, m)
    order = np.lexsort((np.broadcast_to(np.arange(m), (n, m)), -scores), axis=-1)[:, :kk]
    best = np.take_along_axis(scores, order, axis=1)
    items = np.where(np.isneginf(best), -1, order).astype(np.int64)
    if kk < k:
        items = np.pad(items, ((0, 0), (0, k - kk)), constant_values=-1)
        best = np.pad(best, ((0, 0), (0, k - kk)), constant_values=-np.inf)
    return items, best


def soft_preference(filled: FloatArray, R: Any) -> FloatArray:
    """The fill as a preference in [0, 1]: ``min(1, f_ui / r̄)``, ``r̄`` the mean observed rating.

    Implicit ALS and popularity count an observed cell as preference 1; a filled cell counts as
    much as its fill is of a typical observed rating.
    """
    mean = float(R.data.mean()) if R.nnz else 1.0
    return np.asarray(np.clip(filled / max(mean, 1e-12), 0.0, 1.0), dtype=np.float64)


__all__ = ["BaseRecommender", "check_ratings", "mask_seen", "soft_preference", "top_k"]
