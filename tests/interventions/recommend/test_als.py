"""Implicit ALS (learnsight.interventions.recommend.als): exact solves, monotone loss, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from learnsight.interventions.recommend import ImplicitALS
from learnsight.interventions.recommend.als import solve_side
from learnsight.interventions.recommend.base import soft_preference


def _ratings(seed: int = 0, n: int = 30, m: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(2.0, (n, m)) * (rng.random((n, m)) < 0.35)
    counts[:, 0] = np.maximum(counts[:, 0], 1)
    return np.log1p(counts.astype(float))


def _dense_loss(
    x: np.ndarray, p: np.ndarray, alpha: float, reg: float, u: np.ndarray, y: np.ndarray
) -> float:
    c = 1.0 + alpha * x
    return float((c * (p - u @ y.T) ** 2).sum() + reg * ((u**2).sum() + (y**2).sum()))


@pytest.mark.parametrize("with_fill", [False, True])
def test_loss_decreases_monotonically(with_fill: bool) -> None:
    x = _ratings()
    fill = np.where(x > 0, 0.0, 0.3) if with_fill else None
    model = ImplicitALS(factors=4, regularization=0.5, alpha=5.0, iterations=12, calculate_loss=True).fit(
        x, fill
    )
    loss = np.array(model.loss_)
    assert loss.size == 12
    assert np.all(np.diff(loss) <= 1e-9 * loss[:-1])
    assert loss[-1] < 0.9 * loss[0]
    p = (
        (x > 0).astype(float)
        if fill is None
        else np.where(x > 0, 1.0, soft_preference(fill, sp.csr_matrix(x)))
    )
    dense = _dense_loss(x, p, 5.0, 0.5, model.user_factors_, model.item_factors_)
    assert loss[-1] == pytest.approx(dense)


def _closed_form(y: np.ndarray, x_row: np.ndarray, alpha: float, reg: float) -> np.ndarray:
    """x_u = (Yᵀ C_u Y + λI)⁻¹ Yᵀ C_u p_u, written out densely (Hu, Koren & Volinsky 2008, eq. 4)."""
    c = np.diag(1.0 + alpha * x_row)
    p = (x_row > 0).astype(float)
    return np.linalg.solve(y.T @ c @ y + reg * np.eye(y.shape[1]), y.T @ c @ p)


def test_half_step_matches_the_closed_form_weighted_ridge_solve() -> None:
    x = _ratings(1, n=6, m=5)
    alpha, reg, f = 3.0, 0.7, 3
    y = np.random.default_rng(0).standard_normal((x.shape[1], f))
    batched = solve_side(sp.csr_matrix(alpha * x), y, None, reg)
    for row in range(x.shape[0]):
        assert np.allclose(batched[row], _closed_form(y, x[row], alpha, reg))
    # the fitted users are the exact solve given the fitted items (the last half-step is the users')
    model = ImplicitALS(factors=f, regularization=reg, alpha=alpha, iterations=2).fit(x)
    for row in range(x.shape[0]):
        assert np.allclose(model.user_factors_[row], _closed_form(model.item_factors_, x[row], alpha, reg))


def test_contributions_sum_to_the_score_without_fill() -> None:
    x = _ratings(2)
    model = ImplicitALS(factors=5, regularization=1.0, iterations=5).fit(x)
    scores = model.score([3])[0]
    for item in range(x.shape[1]):
        terms = model.contributions(3, item)
        assert terms.sum() == pytest.approx(scores[item], rel=1e-6, abs=1e-9)
        assert np.all(terms[x[3] == 0] == 0)


def test_deterministic_from_random_state_and_excludes_seen() -> None:
    x = _ratings(3)
    a = ImplicitALS(factors=4, random_state=7, iterations=3).fit(x).user_factors_
    b = ImplicitALS(factors=4, random_state=7, iterations=3).fit(x).user_factors_
    c = ImplicitALS(factors=4, random_state=8, iterations=3).fit(x).user_factors_
    assert np.array_equal(a, b) and not np.allclose(a, c)
    items, _ = ImplicitALS(factors=4, regularization=1.0).fit(x).recommend(np.arange(30), k=4)
    for u in range(30):
        assert not np.any(x[u, items[u][items[u] >= 0]] > 0)
