"""The binary problems inside the LapSVMs: the SVM dual on a precomputed kernel, the squared-hinge
SVM primal by Newton's method, and Platt's sigmoid calibration.

The graph term lives in the (deformed) kernel (:mod:`.deformation`), so what is left to solve is an
ordinary SVM on the labelled points:

* **dual** (Belkin, Niyogi & Sindhwani 2006, eq. 3.9–3.11, with the deformed kernel): hinge loss,
  ``max Σαᵢ − ½ Σᵢⱼ αᵢαⱼyᵢyⱼ k̃ᵢⱼ`` s.t. ``0 ≤ αᵢ ≤ C``, ``Σ αᵢyᵢ = 0``, solved by libsvm's SMO
  (scikit-learn's ``SVC(kernel="precomputed")``);
* **primal** (Chapelle 2007; Melacci & Belkin 2011): squared hinge,
  ``min ½‖w‖² + C/2 Σᵢ max(0, 1 − yᵢ(ψᵢᵀw + b))²`` over the deformed features ``ψ``, by Newton steps
  on the active set with an exact line search along each step (the objective is a convex piecewise
  quadratic, so this converges in a few steps).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, optimize  # type: ignore[import-untyped]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.svm import SVC  # type: ignore[import-untyped]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DualSolution:
    """``f(x) = Σᵢ βᵢ k̃(x, xᵢ) + b`` over the labelled points (``β = αᵢyᵢ``, zero off the support)."""

    beta: FloatArray
    intercept: float

    @property
    def alpha(self) -> FloatArray:
        """``αᵢ = |βᵢ|``, the dual variables."""
        out: FloatArray = np.abs(self.beta)
        return out

    def objective_terms(self, gram: FloatArray) -> tuple[float, float]:
        """``(Σ αᵢ, βᵀ K β)`` for a kernel ``gram`` on the labelled points: the dual objective at a
        fixed ``β`` is ``Σα − ½ βᵀKβ``, linear in the kernel — what multiple-kernel learning uses."""
        return float(self.alpha.sum()), float(self.beta @ gram @ self.beta)


def solve_dual(gram: FloatArray, y: NDArray[np.int64], c: float, *, max_iter: int = 100_000) -> DualSolution:
    """The hinge-loss SVM dual on the precomputed ``gram`` of the labelled points, labels ``y`` in
    ``{−1, +1}``."""
    svc = SVC(kernel="precomputed", C=c, max_iter=max_iter, tol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svc.fit(gram, y)
    beta = np.zeros(len(y))
    beta[svc.support_] = svc.dual_coef_[0]
    sign = 1.0 if svc.classes_[1] == 1 else -1.0
    return DualSolution(beta=sign * beta, intercept=sign * float(svc.intercept_[0]))


def solve_primal(
    features: FloatArray, y: NDArray[np.int64], c: float, *, max_iter: int = 50
) -> tuple[FloatArray, float]:
    """``(w, b)`` minimising ``½‖w‖² + C/2 Σ max(0, 1 − yᵢ(ψᵢᵀw + b))²`` by Newton's method."""
    n, d = features.shape
    h = np.hstack([features, np.ones((n, 1))])
    reg = np.ones(d + 1)
    reg[-1] = 1e-8  # the bias is not regularised; a whisker keeps the system definite
    yf = y.astype(np.float64)

    def objective(theta: FloatArray) -> float:
        margin = 1.0 - yf * (h @ theta)
        return 0.5 * float(theta[:d] @ theta[:d]) + 0.5 * c * float(np.sum(np.maximum(margin, 0.0) ** 2))

    theta = np.zeros(d + 1)
    active = np.ones(n, dtype=bool)  # at θ = 0 every margin is violated
    for _ in range(max_iter):
        ha = h[active]
        system = np.diag(reg) + c * ha.T @ ha
        target = linalg.solve(system, c * ha.T @ yf[active], assume_a="pos")
        step = target - theta
        # exact line search on the piecewise quadratic along the Newton direction
        t = float(
            optimize.minimize_scalar(
                lambda s, at=theta, along=step: objective(at + s * along), bounds=(0.0, 1.0), method="bounded"
            ).x
        )
        t = 1.0 if objective(theta + step) <= objective(theta + t * step) else t
        theta = theta + t * step
        new_active = yf * (h @ theta) < 1.0
        if np.array_equal(new_active, active) and t == 1.0:
            break
        active = new_active
    return theta[:d], float(theta[d])


@dataclass(frozen=True)
class Platt:
    """``P(y = +1 | f) = 1 / (1 + exp(a f))`` (Platt 1999 with the intercept fixed at 0)."""

    a: float

    def __call__(self, decision: FloatArray) -> FloatArray:
        out: FloatArray = 1.0 / (1.0 + np.exp(np.clip(self.a * decision, -500.0, 500.0)))
        return out


def fit_platt(decision: FloatArray, y: NDArray[np.int64]) -> Platt:
    """Fit :class:`Platt` to decision values and labels in ``{−1, +1}`` with Platt's smoothed targets
    ``(N₊ + 1)/(N₊ + 2)`` and ``1/(N₋ + 2)``, which keep a few labelled points from making it
    overconfident.  The intercept is fixed at 0 so that ``P(+1) > ½`` exactly when the decision is
    positive: ``predict``, ``decision_function`` and ``predict_proba`` never disagree."""
    positive = y == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    target = np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(a: float) -> float:
        z = a * decision
        # −Σ t log σ(−z) + (1 − t) log σ(z), written stably
        return float(np.sum(np.logaddexp(0.0, z) - (1.0 - target) * z))

    result = optimize.minimize_scalar(loss, bounds=(-100.0, 0.0), method="bounded")
    return Platt(a=float(result.x))
