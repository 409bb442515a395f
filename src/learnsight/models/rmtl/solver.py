"""Accelerated proximal gradient (FISTA) for robust multi-task learning.

Minimises ``F(P, Q, b) = f(P + Q, b) + rho1 ||P||_* + rho2 ||Q||_{1,2}`` over the joint variable
``(P, Q)`` (both ``d x T``) and unpenalised per-task intercepts ``b`` (length ``T``), where ``f`` is a
smooth loss (squared or logistic). The gradient of ``f`` with respect to ``P`` and to ``Q`` is the
same matrix ``grad_W f``; the proximal step separates into singular-value shrinkage for ``P``,
column-wise group shrinkage for ``Q`` and the identity for ``b``.

Step size: backtracking (Beck & Teboulle 2009, FISTA with backtracking): the Lipschitz estimate
``L`` is doubled until ``f(x+) <= f(y) + <grad f(y), x+ - y> + L/2 ||x+ - y||^2``.

Monotonicity: when an extrapolated step would increase ``F`` it is rejected and momentum restarts
from the current iterate (function-value restart, O'Donoghue & Candès 2015). A step taken from the
iterate itself never increases ``F`` (sufficient decrease), so the recorded objective history is
non-increasing.
"""

# Upper-case names (X, W, P, Q, T) follow the paper's and scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from learnsight.models.rmtl.prox import group_shrink, svt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class SmoothLoss(Protocol):
    """A smooth multi-task loss ``f(W, b)``: ``W`` is ``d x T``, ``b`` has length ``T``."""

    def value(self, W: FloatArray, b: FloatArray) -> float:
        """Loss at ``(W, b)``."""
        ...

    def value_grad(self, W: FloatArray, b: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """Loss and its gradients with respect to ``W`` and ``b``."""
        ...


class SquaredLoss:
    """``sum_t 1/(T n_t) ||X_t w_t - y_t||^2`` on centred data, through per-task Gram matrices.

    With ``G_t = X_t^T X_t / (T n_t)``, ``c_t = X_t^T y_t / (T n_t)`` the loss is
    ``sum_t w_t^T G_t w_t - 2 c_t^T w_t + const``: after one pass over the data each iteration costs
    ``O(T d^2)``, whatever the number of rows. ``b`` is ignored (its gradient is zero) because the
    data are centred per task, which makes the optimal intercepts exact and separable.
    """

    def __init__(self, Xs: list[FloatArray], ys: list[FloatArray]) -> None:
        T = len(Xs)
        self.gram = np.stack([X.T @ X / (T * X.shape[0]) for X in Xs])
        self.cross = np.stack([X.T @ y / (T * X.shape[0]) for X, y in zip(Xs, ys, strict=True)], axis=1)
        self.const = float(sum(y @ y / (T * y.shape[0]) for y in ys))

    def _gw(self, W: FloatArray) -> FloatArray:
        # batched mat-vec (BLAS) rather than einsum: the hot line of every iteration
        out: FloatArray = np.matmul(self.gram, W.T[:, :, None])[:, :, 0].T
        return out

    def value(self, W: FloatArray, b: FloatArray) -> float:
        """Loss at ``W`` (``b`` unused)."""
        return float(np.sum(W * (self._gw(W) - 2.0 * self.cross))) + self.const

    def value_grad(self, W: FloatArray, b: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """Loss and gradients; the ``b`` gradient is zero."""
        GW = self._gw(W)
        value = float(np.sum(W * (GW - 2.0 * self.cross))) + self.const
        return value, 2.0 * (GW - self.cross), np.zeros_like(b)


class LogisticLoss:
    """``sum_t 1/(T n_t) sum_i log(1 + exp(-s_i (x_i^T w_t + b_t)))`` with labels ``s_i`` in {-1, +1}."""

    def __init__(self, Xs: list[FloatArray], signs: list[FloatArray]) -> None:
        self.Xs = Xs
        self.signs = signs
        T = len(Xs)
        self.weights = [1.0 / (T * X.shape[0]) for X in Xs]

    def value(self, W: FloatArray, b: FloatArray) -> float:
        """Loss at ``(W, b)``."""
        total = 0.0
        for t, (X, s) in enumerate(zip(self.Xs, self.signs, strict=True)):
            margin = s * (X @ W[:, t] + b[t])
            total += self.weights[t] * float(np.logaddexp(0.0, -margin).sum())
        return total

    def value_grad(self, W: FloatArray, b: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """Loss and gradients with respect to ``W`` and ``b``."""
        total = 0.0
        gW = np.empty_like(W)
        gb = np.empty_like(b)
        for t, (X, s) in enumerate(zip(self.Xs, self.signs, strict=True)):
            margin = s * (X @ W[:, t] + b[t])
            total += self.weights[t] * float(np.logaddexp(0.0, -margin).sum())
            # d/dz log(1 + e^{-s z}) = -s * sigmoid(-s z), written stably via exp(-logaddexp)
            r = -s * np.exp(-np.logaddexp(0.0, margin)) * self.weights[t]
            gW[:, t] = X.T @ r
            gb[t] = r.sum()
        return total, gW, gb


@dataclass(frozen=True)
class FistaResult:
    """What :func:`fista` returns."""

    P: FloatArray
    Q: FloatArray
    b: FloatArray
    n_iter: int
    objective: FloatArray
    lipschitz: float
    converged: bool


def rmtl_objective(
    loss: SmoothLoss, P: FloatArray, Q: FloatArray, b: FloatArray, rho1: float, rho2: float
) -> float:
    """The full RMTL objective ``f(P + Q, b) + rho1 ||P||_* + rho2 ||Q||_{1,2}``."""
    nuclear = float(np.linalg.svd(P, compute_uv=False).sum())
    groups = float(np.linalg.norm(Q, axis=0).sum())
    return loss.value(P + Q, b) + rho1 * nuclear + rho2 * groups


def fista(
    loss: SmoothLoss,
    rho1: float,
    rho2: float,
    P0: FloatArray,
    Q0: FloatArray,
    b0: FloatArray,
    *,
    tol: float = 1e-8,
    max_iter: int = 5000,
    lipschitz: float = 1.0,
) -> FistaResult:
    """Solve the RMTL problem from ``(P0, Q0, b0)`` by monotone FISTA with backtracking.

    Stops when the relative decrease of the objective over an accepted step is at most ``tol``,
    or after ``max_iter`` iterations (each counts one gradient evaluation).
    """
    P, Q, b = P0.copy(), Q0.copy(), b0.copy()
    F = rmtl_objective(loss, P, Q, b, rho1, rho2)
    history = [F]
    Ps, Qs, bs = P, Q, b
    t = 1.0
    extrapolated = False
    L = float(lipschitz)
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported after the loop
        fs, g, gb = loss.value_grad(Ps + Qs, bs)
        while True:
            Pn, nuclear = svt(Ps - g / L, rho1 / L)
            Qn, norms = group_shrink(Qs - g / L, rho2 / L)
            bn = bs - gb / L
            dP, dQ, db = Pn - Ps, Qn - Qs, bn - bs
            fn = loss.value(Pn + Qn, bn)
            model = (
                fs
                + float(np.sum(g * (dP + dQ)) + gb @ db)
                + 0.5 * L * float(np.sum(dP * dP) + np.sum(dQ * dQ) + db @ db)
            )
            # the small slack stops rounding error from doubling L forever near the optimum
            if fn <= model + 1e-12 * max(1.0, abs(model)) or L > 1e30:
                break
            L *= 2.0
        Fn = fn + rho1 * nuclear + rho2 * float(norms.sum())
        if extrapolated and Fn > F:
            Ps, Qs, bs = P, Q, b
            t = 1.0
            extrapolated = False
            continue
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        Ps, Qs, bs = Pn + beta * (Pn - P), Qn + beta * (Qn - Q), bn + beta * (bn - b)
        extrapolated = beta > 0.0
        P, Q, b, t = Pn, Qn, bn, t_next
        decrease = F - Fn
        F = Fn
        history.append(F)
        if abs(decrease) <= tol * max(abs(F), float(np.finfo(float).tiny)):
            converged = True
            break
    return FistaResult(P, Q, b, n_iter, np.asarray(history), L, converged)
