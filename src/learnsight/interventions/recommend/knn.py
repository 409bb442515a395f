"""Item-based collaborative filtering: cosine similarity with shrinkage, top-N neighbours (SPEC §4).

With ``P`` the users × items rating matrix (plus the MLR fill when given, :mod:`.fill`) and
``p_i`` its column ``i``, the similarity of two items is the shrunk cosine

    s_ij = p_iᵀ p_j / (‖p_i‖ ‖p_j‖ + h)                     (s_ii = 0)

— the shrinkage ``h`` pulls the similarity of items seen by few learners towards 0 (Sarwar et al.
2001 for the item-based scheme; the ``+ h`` in the denominator as in Aiolli 2013 and the
``implicit`` library).  Each item keeps its ``N`` most similar items ``N(i)``, and a learner's score
for item ``i`` is the similarity-weighted sum of their own ratings of those neighbours:

    score_ui = Σ_{j ∈ N(i)} s_ij · p_uj

so an item ranks high when it resembles what the learner used a lot.  The terms of the sum are the
reason of the recommendation (:meth:`ItemKNNRecommender.contributions`).
"""

# Upper-case matrix names (R ratings, F fill, X/Y factors, A design) follow the papers' notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any

import numpy as np

from learnsight.interventions.recommend.base import BaseRecommender, FloatArray, IntArray


class ItemKNNRecommender(BaseRecommender):
    """Item-based k-nearest-neighbour collaborative filter.

    Parameters
    ----------
    n_neighbors : int
        ``N``: neighbours kept per item.
    shrinkage : float
        ``h`` in the shrunk cosine (0 = plain cosine).

    Attributes
    ----------
    weights_ : ndarray of shape (n_items, n_items)
        ``W[j, i] = s_ij`` for ``j ∈ N(i)``, else 0: ``score = P @ W``.
    profiles_ : ndarray of shape (n_users, n_items)
        The rows ``p_u`` the scores are computed from (ratings plus fill).

    References
    ----------
    Sarwar, Karypis, Konstan & Riedl (2001), *Item-based collaborative filtering recommendation
    algorithms*, WWW '01.

    Examples
    --------
    >>> X = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    >>> ItemKNNRecommender(shrinkage=0.0).fit(X).recommend([3], k=1)[0].tolist()
    [[1]]
    """

    def __init__(self, n_neighbors: int = 50, shrinkage: float = 10.0) -> None:
        self.n_neighbors = n_neighbors
        self.shrinkage = shrinkage

    def _fit(self, R: Any, F: FloatArray | None) -> None:
        if self.n_neighbors < 1 or self.shrinkage < 0:
            raise ValueError("n_neighbors must be >= 1 and shrinkage >= 0")
        P = R.toarray() if F is None else R.toarray() + F
        gram = P.T @ P
        norms = np.sqrt(np.diag(gram))
        sim = gram / (np.outer(norms, norms) + self.shrinkage + 1e-12)
        np.fill_diagonal(sim, 0.0)
        m = sim.shape[0]
        n = min(self.n_neighbors, m - 1)
        weights = np.zeros_like(sim)
        if n > 0:
            # column i holds item i's neighbours j (sim is symmetric: s_ij = s_ji)
            keep = np.argpartition(-sim, n - 1, axis=0)[:n]
            cols = np.broadcast_to(np.arange(m), keep.shape)
            weights[keep, cols] = sim[keep, cols]
        self.weights_ = weights
        self.profiles_ = P

    def _score(self, rows: IntArray) -> FloatArray:
        return np.asarray(self.profiles_[rows] @ self.weights_, dtype=np.float64)

    def contributions(self, row: int, item: int) -> FloatArray:
        """The terms ``s_ij · p_uj`` of ``score_ui`` for every item ``j`` (sums to the score)."""
        return np.asarray(self.profiles_[row] * self.weights_[:, item], dtype=np.float64)


__all__ = ["ItemKNNRecommender"]
