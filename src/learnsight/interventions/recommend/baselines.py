"""Baselines every collaborative filter must beat: most popular first, and random order.

Popularity scores item ``i`` by the number of learners who used it, ``pop_i = Σ_u 1[r_ui > 0]``;
with the MLR fill each empty cell adds its soft preference ``min(1, f_ui / r̄)``
(:func:`.base.soft_preference`), so the fill can shift what counts as popular but popularity stays
the same list for everyone.  Random scores are i.i.d. uniform per (user, item), seeded.
"""

# Upper-case matrix names (R ratings, F fill, X/Y factors, A design) follow the papers' notation.
# ruff: noqa: N803

from __future__ import annotations

from typing import Any

import numpy as np

from learnsight.interventions.recommend.base import BaseRecommender, FloatArray, IntArray, soft_preference


class PopularityRecommender(BaseRecommender):
    """Most-used items first, the same list for every learner.

    Attributes
    ----------
    item_scores_ : ndarray of shape (n_items,)
        ``pop_i`` (plus the summed soft preferences of the fill).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    >>> PopularityRecommender().fit(X).recommend([1], k=2)[0].tolist()   # item 2 is already used
    [[0, 1]]
    """

    def _fit(self, R: Any, F: FloatArray | None) -> None:
        scores = np.asarray((R > 0).sum(axis=0), dtype=np.float64).ravel()
        if F is not None:
            scores = scores + soft_preference(F, R).sum(axis=0)
        self.item_scores_ = scores

    def _score(self, rows: IntArray) -> FloatArray:
        return np.asarray(np.broadcast_to(self.item_scores_, (rows.size, self.n_items_)), dtype=np.float64)


class RandomRecommender(BaseRecommender):
    """Items in a random order (uniform scores, reproducible from ``random_state``).

    Parameters
    ----------
    random_state : int
        Seed; scores depend only on it and the user row.
    """

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, R: Any, F: FloatArray | None) -> None:
        self.random_state_ = int(self.random_state)

    def _score(self, rows: IntArray) -> FloatArray:
        out = np.empty((rows.size, self.n_items_))
        for j, row in enumerate(rows.tolist()):
            out[j] = np.random.default_rng([self.random_state_, row]).random(self.n_items_)
        return out


__all__ = ["PopularityRecommender", "RandomRecommender"]
