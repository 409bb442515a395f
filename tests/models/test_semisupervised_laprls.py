"""LapRLS, the semi-supervised regressor: the closed form, the leave-one-out choice, the graph term,
bad input, and scikit-learn's estimator contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from learnsight.models.semisupervised import Graph, LapRLS
from learnsight.models.semisupervised.graph import laplacian


@parametrize_with_checks([LapRLS()])
def test_sklearn_estimator_contract(estimator: Any, check: Any) -> None:
    check(estimator)


def line(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return x, 2.0 * x[:, 0] - 0.5 * x[:, 2] + 3.0


def test_without_penalties_it_is_least_squares_on_the_labelled_rows() -> None:
    x, y = line()
    partial = y.copy()
    partial[10:] = np.nan  # 10 labelled rows, 30 unlabelled
    model = LapRLS(alpha=0.0, gamma_I=0.0).fit(x, partial)
    assert model.coef_ == pytest.approx([2.0, 0.0, -0.5], abs=1e-9)
    assert model.intercept_ == pytest.approx(3.0)
    assert model.transduction_ == pytest.approx(y)  # unlabelled rows predicted too
    assert model.predict(x[:5]) == pytest.approx(y[:5])
    assert model.n_labelled_ == 10 and model.loo_mse_ is None
    assert (model.alpha_, model.gamma_I_) == (0.0, 0.0)


def test_the_grid_is_chosen_by_exact_leave_one_out_on_labelled_rows() -> None:
    rng = np.random.default_rng(1)
    x, y = line(60, 1)
    noisy = y + rng.normal(0.0, 1.0, len(y))
    partial = np.where(np.arange(60) < 12, noisy, np.nan)
    model = LapRLS(alpha=(0.01, 1.0), gamma_I=(0.0, 1.0)).fit(x, partial)
    scores = {}
    for a in (0.01, 1.0):
        for g in (0.0, 1.0):
            errors = []
            for i in range(12):
                keep = partial.copy()
                keep[i] = np.nan
                fitted = LapRLS(alpha=a, gamma_I=g).fit(x, keep)
                errors.append((fitted.transduction_[i] - noisy[i]) ** 2)
            scores[(a, g)] = float(np.mean(errors))
    best = min(scores, key=scores.__getitem__)
    assert (model.alpha_, model.gamma_I_) == best
    assert model.loo_mse_ == pytest.approx(scores[best])


def test_the_graph_term_makes_f_smoother_over_the_data_graph() -> None:
    x, y = line(80, 2)
    partial = np.where(np.arange(80) < 8, y + np.random.default_rng(2).normal(0, 2.0, 80), np.nan)
    lap = laplacian(x, Graph(k=5)).matrix
    roughness = []
    for gamma in (0.0, 1.0, 100.0):
        f = LapRLS(alpha=0.01, gamma_I=gamma).fit(x, partial).transduction_
        roughness.append(float(f @ (lap @ f)))
    assert roughness[0] > roughness[1] > roughness[2]


def test_bad_input_is_a_clear_error() -> None:
    x, y = line()
    with pytest.raises(ValueError, match="no labelled row"):
        LapRLS().fit(x, np.full(len(y), np.nan))
    with pytest.raises(ValueError, match="infinite target"):
        LapRLS().fit(x, np.where(np.arange(len(y)) == 3, np.inf, y))
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LapRLS().fit(bad, y)
    with pytest.raises(ValueError, match="alpha must be a non-negative"):
        LapRLS(alpha=-1.0).fit(x, y)
    with pytest.raises(ValueError, match="gamma_I must be a non-negative"):
        LapRLS(gamma_I=()).fit(x, y)
    with pytest.raises(ValueError, match="at least 3 labelled rows"):
        LapRLS().fit(x, np.where(np.arange(len(y)) < 2, y, np.nan))
    with pytest.raises(ValueError, match="X has 40 rows but y has 39"):
        LapRLS().fit(x, y[:-1])
    model = clone(LapRLS(alpha=0.5, gamma_I=0.1, n_neighbors=3))
    assert model.get_params() == {"alpha": 0.5, "gamma_I": 0.1, "n_neighbors": 3}
