"""The MLR fill (learnsight.interventions.recommend.fill) recovers a planted linear rating model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from learnsight.interventions.recommend import MLRFill, mlr_fill


def _planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, d, m = 400, 3, 6
    z = rng.standard_normal((n, d))
    beta = rng.normal(0, 0.3, (m, d))
    intercept = rng.uniform(5.0, 6.0, m)
    ratings = intercept + z @ beta.T  # every cell's true rating
    observed = rng.random((n, m)) < 0.4
    return z, np.where(observed, ratings, 0.0), ratings, np.c_[intercept, beta]


def test_observed_fit_recovers_the_planted_coefficients_and_fills_only_empty_cells() -> None:
    z, x, truth, coef = _planted()
    model = MLRFill(alpha=1e-8, fill_weight=1.0, target="observed").fit(sp.csr_matrix(x), z)
    assert np.allclose(model.coef_, coef, atol=1e-6)
    fill = model.transform(sp.csr_matrix(x), z)
    empty = x == 0
    assert np.all(fill[~empty] == 0.0)
    lo = np.where(empty, np.inf, x).min(axis=0)
    hi = np.where(empty, -np.inf, x).max(axis=0)
    assert np.allclose(fill[empty], np.clip(truth, lo, hi)[empty])


def test_fill_weight_clipping_and_all_target() -> None:
    z, x, _, _ = _planted(1)
    r = sp.csr_matrix(x)
    full = mlr_fill(r, z, alpha=0.0, fill_weight=1.0, target="observed")
    half = mlr_fill(r, z, alpha=0.0, fill_weight=0.5, target="observed")
    assert np.allclose(half, 0.5 * full)
    # target "all": one least-squares fit of every cell with empty = 0, clipped to [0, max]
    model = MLRFill(alpha=0.0, fill_weight=1.0, target="all").fit(r, z)
    a = np.c_[np.ones(len(z)), z]
    expected = np.linalg.lstsq(a, x, rcond=None)[0].T
    assert np.allclose(model.coef_, expected)
    assert model.predict(z).min() >= 0.0


def test_ridge_shrinks_the_slopes_not_the_intercept() -> None:
    z, x, _, _ = _planted(2)
    r = sp.csr_matrix(x)
    loose = MLRFill(alpha=0.0, target="all").fit(r, z).coef_
    tight = MLRFill(alpha=1e6, target="all").fit(r, z).coef_
    assert np.abs(tight[:, 1:]).max() < 1e-3 * np.abs(loose[:, 1:]).max()
    assert np.allclose(tight[:, 0], x.mean(axis=0), atol=1e-3)


def test_unused_item_gets_no_fill_and_bad_input_is_refused() -> None:
    z, x, _, _ = _planted(3)
    x[:, 2] = 0.0
    fill = mlr_fill(sp.csr_matrix(x), z, target="observed")
    assert np.all(fill[:, 2] == 0.0)
    with pytest.raises(ValueError, match="finite"):
        mlr_fill(sp.csr_matrix(x), np.where(z > 1, np.nan, z))
    with pytest.raises(ValueError, match="rows"):
        mlr_fill(sp.csr_matrix(x), z[:-1])
    with pytest.raises(ValueError, match="target"):
        MLRFill(target="some").fit(sp.csr_matrix(x), z)
