"""Implicit matrix factorisation by alternating least squares (Hu, Koren & Volinsky 2008; SPEC §4).

Every cell of the users × items matrix has a preference ``p_ui`` and a confidence ``c_ui``:

* observed (``r_ui > 0``): ``p_ui = 1``, ``c_ui = 1 + α·r_ui`` (with ``r_ui = log1p(count)`` this
  is the paper's ``1 + α log(1 + count/ε)``, ε = 1);
* empty: ``p_ui = 0`` and ``c_ui = 1`` — or, with the MLR fill, the soft preference
  ``p_ui = min(1, f_ui / r̄)`` (:func:`.base.soft_preference`) at the same confidence 1.

The factors minimise

    L(X, Y) = Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

by alternating exact solves.  With ``Y`` fixed each user's problem is a weighted ridge regression,

    x_u = (YᵀY + Yᵀ(C_u − I)Y + λI)⁻¹ Yᵀ C_u p_u ,

where ``YᵀY`` is shared by all users and ``Yᵀ(C_u − I)Y = Σ_{i ∈ O_u} (c_ui − 1) y_i y_iᵀ`` runs over
the learner's observed items only (the paper's speed-up).  Here the sums of all users are one
sparse product ``(C − 1) (Y ⊙ Y)`` of the confidence increments with the items' outer products,
the right-hand sides ``Yᵀ C_u p_u = Σ_{i∈O_u} c_ui y_i + Σ_{i∉O_u} p_ui y_i`` one sparse and one
dense product, and the ``f × f`` systems one batched ``numpy.linalg.solve`` (in chunks of users to
bound memory).  The items' step is the same with the roles swapped.  Each step minimises ``L``
exactly in its block, so ``L`` never increases (``loss_`` records it).

The score of a learner for an item is ``x_uᵀ y_i``; the paper's §5 explanation writes it as a sum
over the learner's observed items, ``Σ_j s^u_ij c_uj`` with ``s^u_ij = y_iᵀ W^u y_j`` and
``W^u = (YᵀC^uY + λI)⁻¹`` (:meth:`ImplicitALS.contributions`; the fill's share is left out).
"""

# Upper-case matrix names (R ratings, F fill, X/Y factors, A design) follow the papers' notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]

from learnsight.interventions.recommend.base import BaseRecommender, FloatArray, IntArray, soft_preference

_CHUNK = 2048


class ImplicitALS(BaseRecommender):
    """Implicit-feedback matrix factorisation (weighted ALS with confidences).

    Parameters
    ----------
    factors : int
        Latent dimension ``f``.
    regularization : float
        ``λ``.  The default (100, with ``alpha`` 10 and 32 factors) was chosen on two OULAD
        module-presentations (GGG 2013J, DDD 2013B) among λ ∈ {0.1, 1, 10, 100, 300, 1000}; small λ
        overfits matrices of a few thousand learners.
    alpha : float
        Confidence slope ``α`` in ``c_ui = 1 + α r_ui``.
    iterations : int
        Alternating sweeps (items then users).
    random_state : int
        Seed of the initial user factors ``X ~ N(0, 0.01²)`` (each sweep solves the items, then
        the users).
    calculate_loss : bool
        Record ``L`` after every sweep in ``loss_`` (costs one dense pass per sweep).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, factors)
    item_factors_ : ndarray of shape (n_items, factors)
    loss_ : list of float
        ``L`` after each sweep (empty unless ``calculate_loss``).

    References
    ----------
    Hu, Koren & Volinsky (2008), *Collaborative filtering for implicit feedback datasets*, ICDM '08.

    Examples
    --------
    >>> X = np.kron(np.eye(2), np.ones((3, 3)))   # two blocks of users and items
    >>> X[0, 2] = 0.0                               # user 0 has not used item 2 yet
    >>> ImplicitALS(factors=2, regularization=0.1, iterations=10).fit(X).recommend([0], k=1)[0].tolist()
    [[2]]
    """

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 100.0,
        alpha: float = 10.0,
        iterations: int = 15,
        random_state: int = 0,
        calculate_loss: bool = False,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.calculate_loss = calculate_loss

    def _fit(self, R: Any, F: FloatArray | None) -> None:
        if self.factors < 1 or self.iterations < 0 or self.regularization < 0 or self.alpha < 0:
            raise ValueError("factors >= 1, iterations >= 0, regularization >= 0 and alpha >= 0 required")
        increments = R.copy()
        increments.data = self.alpha * increments.data  # c_ui − 1 on observed cells
        soft = None if F is None else soft_preference(F, R)
        rng = np.random.default_rng(self.random_state)
        n, m = R.shape
        X = rng.normal(0.0, 0.01, (n, self.factors))
        Y = np.zeros((m, self.factors))
        inc_t = increments.T.tocsr()
        soft_t = None if soft is None else soft.T
        self.loss_: list[float] = []
        for _ in range(self.iterations):
            # items first, users last: the users are then the exact solve given the final items,
            # which makes the §5 explanation (contributions) add up to the score
            Y = solve_side(inc_t, X, soft_t, self.regularization)
            X = solve_side(increments, Y, soft, self.regularization)
            if self.calculate_loss:
                self.loss_.append(als_loss(increments, soft, X, Y, self.regularization))
        self.user_factors_ = X
        self.item_factors_ = Y
        self._increments = increments

    def _score(self, rows: IntArray) -> FloatArray:
        return np.asarray(self.user_factors_[rows] @ self.item_factors_.T, dtype=np.float64)

    def contributions(self, row: int, item: int) -> FloatArray:
        """``s^u_ij · c_uj`` for every observed item ``j`` of the user (0 elsewhere), Hu et al. §5."""
        Y = self.item_factors_
        inc = self._increments[row]
        cols, extra = inc.indices, inc.data
        gram = Y.T @ Y + (Y[cols].T * extra) @ Y[cols] + self.regularization * np.eye(Y.shape[1])
        w = np.linalg.solve(gram, Y[item])
        out = np.zeros(Y.shape[0])
        out[cols] = (Y[cols] @ w) * (1.0 + extra)
        return out


def solve_side(increments: Any, other: FloatArray, soft: FloatArray | None, reg: float) -> FloatArray:
    """One ALS half-step: the exact factors of every row given the other side's factors ``other``.

    ``increments`` (rows × cols, csr) holds ``c − 1`` on the observed cells; ``soft`` (dense or
    None) the preferences of the empty cells.
    """
    n = increments.shape[0]
    f = other.shape[1]
    base = other.T @ other + reg * np.eye(f)
    outer = (other[:, :, None] * other[:, None, :]).reshape(other.shape[0], f * f)
    pattern = increments.copy()
    pattern.data = 1.0 + pattern.data  # c_ui on observed cells: Σ c_ui y_i for p_ui = 1
    out = np.empty((n, f))
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        block = increments[start:stop]
        grams = np.asarray(block @ outer).reshape(stop - start, f, f) + base
        rhs = np.asarray(pattern[start:stop] @ other)
        if soft is not None:
            rhs = rhs + soft[start:stop] @ other
        out[start:stop] = np.linalg.solve(grams, rhs[:, :, None])[:, :, 0]
    return out


def als_loss(increments: Any, soft: FloatArray | None, X: FloatArray, Y: FloatArray, reg: float) -> float:
    """``L(X, Y)`` of the module docstring (dense over all cells, in chunks of users)."""
    n = increments.shape[0]
    total = reg * (float((X**2).sum()) + float((Y**2).sum()))
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        pred = X[start:stop] @ Y.T
        block = sp.csr_matrix(increments[start:stop])
        p = np.zeros_like(pred) if soft is None else soft[start:stop].copy()
        r, c = block.nonzero()
        p[r, c] = 1.0
        conf = np.ones_like(pred)
        conf[r, c] += np.asarray(block[r, c]).ravel()
        total += float((conf * (p - pred) ** 2).sum())
    return total


__all__ = ["ImplicitALS", "als_loss", "solve_side"]
