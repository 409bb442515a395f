"""Learning the weights of a kernel combination ``K_μ = Σ_m μ_m K_m`` (multiple kernel learning).

MKL is the saddle problem ``min_{μ ∈ P} max_α  Σ_c [Σᵢ α_ci − ½ Σ_m μ_m β_cᵀ K_m β_c]`` summed over
the binary problems ``c`` of a one-vs-rest classifier (``β = α ∘ y``), with ``P`` the simplex
(``L1``: sparse weights, Lanckriet et al. 2004) or the non-negative part of the unit ``L2`` ball
(non-sparse weights, Kloft et al. 2011).  ``J(μ) = max_α(...)`` is convex in ``μ``; each SVM solve at
``μ`` gives its value and the cutting plane ``μ ↦ Σα − ½ Σ_m μ_m βᵀK_mβ`` below it.

* :func:`level_method` — the extended level method of Xu, Jin, King & Lyu (2008, NIPS): the
  cutting-plane model gives a lower bound (a linear programme over ``P``), the best ``J`` so far an
  upper bound; the next ``μ`` is the projection of the current one onto the level set
  ``{μ ∈ P : model(μ) ≤ ℓ}``, ``ℓ = λ·upper + (1 − λ)·lower``.  It stops when the relative gap is
  below ``tol``; the gap is a certificate of optimality.
* :func:`closed_form_l2` — the analytic ℓp-norm update of Kloft et al. (2011, eq. 12) for ``p = 2``,
  ``μ_m ∝ ‖w_m‖^{2/3}`` with ``‖w_m‖² = μ_m² βᵀK_mβ``: the simple baseline the level method is
  compared with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import optimize  # type: ignore[import-untyped]

FloatArray = NDArray[np.float64]
Norm = Literal["l1", "l2"]

Oracle = Callable[[FloatArray], tuple[float, FloatArray]]
"""``μ ↦ (Σα, q)`` with ``q_m = Σ_c β_cᵀK_mβ_c`` at the SVM optimum for ``K_μ``: ``J(μ) = Σα − ½ μ·q``."""


@dataclass
class MKLTrace:
    """What the weight search did: weights, ``J`` (upper) and the lower bound at every iteration."""

    weights: FloatArray
    upper: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    converged: bool = False

    @property
    def gap(self) -> float:
        if not self.upper or not self.lower:
            return float("inf")
        best = min(self.upper)
        return (best - self.lower[-1]) / max(abs(best), 1e-12)


def start(m: int, norm: Norm) -> FloatArray:
    """Uniform weights on ``P``: ``1/m`` (simplex) or ``1/√m`` (L2 sphere)."""
    return np.full(m, 1.0 / m if norm == "l1" else 1.0 / np.sqrt(m))


def _feasible_constraints(m: int, norm: Norm) -> list[dict[str, object]]:
    if norm == "l1":
        return [
            {
                "type": "eq",
                "fun": lambda mu: float(np.sum(mu[:m]) - 1.0),
                "jac": lambda mu: np.r_[np.ones(m), np.zeros(len(mu) - m)],
            }
        ]
    return [
        {
            "type": "ineq",
            "fun": lambda mu: float(1.0 - mu[:m] @ mu[:m]),
            "jac": lambda mu: np.r_[-2.0 * mu[:m], np.zeros(len(mu) - m)],
        }
    ]


def _lower_bound(sums: FloatArray, quads: FloatArray, norm: Norm, guess: FloatArray) -> float:
    """``min_{μ∈P} max_j (sums_j − ½ quads_j·μ)``."""
    t, m = quads.shape
    if norm == "l1":
        # variables (μ, θ): min θ s.t. sums_j − ½ q_j·μ − θ ≤ 0, Σμ = 1, μ ≥ 0
        c = np.r_[np.zeros(m), 1.0]
        a_ub = np.hstack([-0.5 * quads, -np.ones((t, 1))])
        res = optimize.linprog(
            c,
            A_ub=a_ub,
            b_ub=-sums,
            A_eq=np.r_[np.ones(m), 0.0][None, :],
            b_eq=[1.0],
            bounds=[(0, None)] * m + [(None, None)],
            method="highs",
        )
        return float(res.fun)
    x0 = np.r_[guess, float(np.max(sums - 0.5 * quads @ guess))]
    cons = [
        *_feasible_constraints(m, norm),
        {
            "type": "ineq",
            "fun": lambda v: v[m] - (sums - 0.5 * quads @ v[:m]),
            "jac": lambda v: np.hstack([0.5 * quads, np.ones((t, 1))]),
        },
    ]
    res = optimize.minimize(
        lambda v: v[m],
        x0,
        jac=lambda v: np.r_[np.zeros(m), 1.0],
        constraints=cons,
        bounds=[(0, 1)] * m + [(None, None)],
        method="SLSQP",
        options={"maxiter": 200, "ftol": 1e-10},
    )
    return float(res.x[m])


def _project(
    current: FloatArray, sums: FloatArray, quads: FloatArray, level: float, norm: Norm
) -> FloatArray:
    """``argmin ‖μ − current‖²`` over ``{μ ∈ P : sums_j − ½ q_j·μ ≤ level ∀j}``."""
    m = len(current)
    cons = [
        *_feasible_constraints(m, norm),
        {"type": "ineq", "fun": lambda mu: level - (sums - 0.5 * quads @ mu), "jac": lambda mu: 0.5 * quads},
    ]
    res = optimize.minimize(
        lambda mu: float((mu - current) @ (mu - current)),
        current,
        jac=lambda mu: 2.0 * (mu - current),
        constraints=cons,
        bounds=[(0, 1)] * m,
        method="SLSQP",
        options={"maxiter": 200, "ftol": 1e-12},
    )
    mu: FloatArray = np.clip(np.asarray(res.x, dtype=np.float64), 0.0, None)
    if norm == "l1":
        return mu / mu.sum() if mu.sum() > 0 else start(m, norm)
    size = float(np.linalg.norm(mu))
    return mu / size if size > 1.0 else mu


def level_method(
    oracle: Oracle, m: int, *, norm: Norm = "l1", tol: float = 1e-2, max_iter: int = 50, lam: float = 0.9
) -> MKLTrace:
    """Kernel weights on ``P`` by the extended level method (see the module docstring)."""
    mu = start(m, norm)
    trace = MKLTrace(weights=mu)
    sums: list[float] = []
    quads: list[FloatArray] = []
    best_mu, best_value = mu, float("inf")
    for _ in range(max_iter):
        total, q = oracle(mu)
        value = total - 0.5 * float(mu @ q)
        sums.append(total)
        quads.append(q)
        if value < best_value:
            best_mu, best_value = mu, value
        s, qs = np.array(sums), np.vstack(quads)
        lower = _lower_bound(s, qs, norm, mu)
        trace.upper.append(value)
        trace.lower.append(lower)
        if trace.gap <= tol:
            trace.converged = True
            break
        level = lam * best_value + (1.0 - lam) * lower
        mu = _project(mu, s, qs, level, norm)
    trace.weights = best_mu
    return trace


def closed_form_l2(oracle: Oracle, m: int, *, tol: float = 1e-4, max_iter: int = 50) -> MKLTrace:
    """Kernel weights on the L2 ball by the analytic update ``μ_m ∝ (μ_m² q_m)^{1/3}`` (Kloft et al.
    2011, p = 2), iterated to a fixed point."""
    mu = start(m, "l2")
    trace = MKLTrace(weights=mu)
    for _ in range(max_iter):
        total, q = oracle(mu)
        trace.upper.append(total - 0.5 * float(mu @ q))
        norms = np.maximum(mu * mu * np.maximum(q, 0.0), 0.0) ** (1.0 / 3.0)
        size = float(np.sqrt(np.sum(norms**2)))
        new = norms / size if size > 0 else start(m, "l2")
        change = float(np.max(np.abs(new - mu)))
        mu = new
        if change < tol:
            trace.converged = True
            break
    trace.weights = mu
    return trace
