"""Linear Laplacian-regularised least squares: a semi-supervised *regressor* (Belkin, Niyogi &
Sindhwani 2006, §4.2, with a linear kernel).

For a score on a scale (an expert's 1–5 rating of a lesson) rather than a class, regressing the
score keeps what a classifier throws away: that a 4 is closer to a 5 than to a 1, and that a group's
score is a *mean*.  With a handful of labels per level a one-vs-rest classifier pulls the rare
extreme levels towards the middle, and a group mean built from its votes inherits the bias; the
least-squares fit of the score does not (measured on the simulated lessons of
:mod:`learnsight.teaching.lesson_evaluation`).
"""

# ruff: noqa: N803  (scikit-learn names: X, gamma_I as in the paper)

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, RegressorMixin  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data  # type: ignore[import-untyped]

from learnsight.models.semisupervised.graph import Graph, laplacian

FloatArray = NDArray[np.float64]

DEFAULT_ALPHAS: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)
DEFAULT_GAMMAS: tuple[float, ...] = (0.0, 0.01, 0.1, 1.0, 10.0)


class LapRLS(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Linear Laplacian RLS: ``f(x) = wᵀx + b`` minimising

    ``(1/l) Σᵢ∈labelled (yᵢ − f(xᵢ))² + alpha ‖w‖² + (gamma_I / n) fᵀ L f``

    over the ``n`` rows passed to :meth:`fit`, ``l`` of them labelled (target not NaN), ``L`` the
    Laplacian of a graph of all ``n`` rows (:mod:`.graph`), the intercept ``b`` unpenalised.  The
    minimiser solves one ``(d + 1) × (d + 1)`` linear system.

    ``alpha`` and ``gamma_I`` may be sequences: the pair with the smallest exact leave-one-out
    squared error on the labelled rows is used (each left-out row stays in the graph, unlabelled),
    so no unlabelled target is needed to choose them.  ``gamma_I = 0`` is ridge regression on the
    labelled rows; the grid lets the labels decide whether the graph helps.

    Parameters
    ----------
    alpha : float or sequence of float, default=(0.001, 0.01, 0.1, 1, 10)
        Ridge penalty of ``w`` (per labelled row).
    gamma_I : float or sequence of float, default=(0, 0.01, 0.1, 1, 10)
        Strength of the graph smoothness term.
    n_neighbors : int, default=5
        k of the symmetrised k-NN graph (heat weights, median width, normalised Laplacian), at most
        ``n − 1``.

    Attributes
    ----------
    coef_, intercept_ : the fitted ``w`` and ``b``.
    alpha_, gamma_I_ : the values used (chosen by leave-one-out when a sequence was given).
    loo_mse_ : float or None
        The leave-one-out mean squared error of the chosen pair (``None`` without a grid).
    transduction_ : ndarray
        ``f`` of every row passed to :meth:`fit`.
    n_labelled_ : int

    References
    ----------
    M. Belkin, P. Niyogi, V. Sindhwani, "Manifold regularization: a geometric framework for learning
    from labeled and unlabeled examples", JMLR 7 (2006) 2399–2434, §4.2 (LapRLS).
    """

    def __init__(
        self,
        alpha: float | Sequence[float] = DEFAULT_ALPHAS,
        gamma_I: float | Sequence[float] = DEFAULT_GAMMAS,
        n_neighbors: int = 5,
    ) -> None:
        self.alpha = alpha
        self.gamma_I = gamma_I
        self.n_neighbors = n_neighbors

    def fit(self, X: object, y: object) -> LapRLS:
        """Fit on every row of ``X``; ``y`` is the target, NaN for unlabelled rows.

        Raises ``ValueError`` for non-finite features, an infinite target, no labelled row, a
        negative ``alpha``/``gamma_I``, or a grid to choose from with fewer than 3 labelled rows.
        """
        x = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        target = column_or_1d(np.asarray(y, dtype=np.float64), warn=True)
        if len(target) != len(x):
            raise ValueError(f"X has {len(x)} rows but y has {len(target)}")
        if np.any(np.isinf(target)):
            raise ValueError("y holds an infinite target; use NaN for an unlabelled row")
        labelled = ~np.isnan(target)
        if not labelled.any():
            raise ValueError("no labelled row: every target is NaN")
        alphas, gammas = _grid(self.alpha, "alpha"), _grid(self.gamma_I, "gamma_I")
        design = np.column_stack([x, np.ones(len(x))])
        graph = Graph(k=max(1, min(self.n_neighbors, len(x) - 1)))
        lap = laplacian(x, graph).matrix
        smooth = np.asarray(design.T @ (lap @ design)) / len(x)
        pairs = list(product(alphas, gammas))
        if len(pairs) > 1:
            if labelled.sum() < 3:
                raise ValueError(
                    "choosing alpha/gamma_I by leave-one-out needs at least 3 labelled rows; "
                    "give single values instead"
                )
            errors = [_loo_mse(design, target, labelled, smooth, a, g) for a, g in pairs]
            best = int(np.argmin(errors))
            self.loo_mse_: float | None = float(errors[best])
        else:
            best, self.loo_mse_ = 0, None
        self.alpha_, self.gamma_I_ = pairs[best]
        theta = _solve(design, target, labelled, smooth, self.alpha_, self.gamma_I_)
        self.coef_: FloatArray = theta[:-1]
        self.intercept_ = float(theta[-1])
        self.transduction_: FloatArray = design @ theta
        self.n_labelled_ = int(labelled.sum())
        return self

    def predict(self, X: object) -> FloatArray:
        """``f`` of each row of ``X``."""
        check_is_fitted(self, "coef_")
        x = validate_data(self, X, dtype=np.float64, reset=False)
        out: FloatArray = x @ self.coef_ + self.intercept_
        return out


def _grid(value: float | Sequence[float], name: str) -> tuple[float, ...]:
    values = (float(value),) if isinstance(value, int | float) else tuple(float(v) for v in value)
    if not values or any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError(
            f"{name} must be a non-negative number or a non-empty sequence of them, got {value!r}"
        )
    return values


def _solve(
    design: FloatArray, target: FloatArray, labelled: NDArray[np.bool_], smooth: FloatArray, alpha: float,
    gamma: float,
) -> FloatArray:  # fmt: skip
    """The minimiser ``θ = (w, b)`` of the class docstring's objective."""
    xl = design[labelled]
    ridge = np.eye(design.shape[1]) * alpha
    ridge[-1, -1] = 0.0  # the intercept is not penalised
    lhs = xl.T @ xl / len(xl) + ridge + gamma * smooth
    rhs = xl.T @ target[labelled] / len(xl)
    theta: FloatArray = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    return theta


def _loo_mse(
    design: FloatArray, target: FloatArray, labelled: NDArray[np.bool_], smooth: FloatArray, alpha: float,
    gamma: float,
) -> float:  # fmt: skip
    """Exact leave-one-out mean squared error over the labelled rows (one refit per row)."""
    errors = []
    for i in np.flatnonzero(labelled):
        keep = labelled.copy()
        keep[i] = False
        theta = _solve(design, target, keep, smooth, alpha, gamma)
        errors.append(float(design[i] @ theta - target[i]) ** 2)
    return float(np.mean(errors))


__all__ = ["DEFAULT_ALPHAS", "DEFAULT_GAMMAS", "LapRLS"]
