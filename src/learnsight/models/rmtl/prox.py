"""Proximal operators of the two RMTL regularisers.

``svt`` is the proximal operator of ``tau * ||P||_*`` (singular-value soft-thresholding, Cai,
Candès & Shen 2010); ``group_shrink`` that of ``tau * ||Q||_{1,2}`` with groups = columns (one
column per task). Both also return the penalty of their result, which the solver needs anyway and
would otherwise recompute.
"""

# Upper-case names (M, P, Q, U) follow the paper's matrix notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def svt(M: FloatArray, tau: float) -> tuple[FloatArray, float]:
    """Singular-value soft-thresholding: ``argmin_P 1/2 ||P - M||_F^2 + tau ||P||_*``.

    Returns the minimiser ``U diag(max(s - tau, 0)) V^T`` and its trace norm.

    Examples
    --------
    >>> P, nuc = svt(np.diag([3.0, 1.0]), 2.0)
    >>> P.round(12).tolist(), float(nuc)
    ([[1.0, 0.0], [0.0, 0.0]], 1.0)
    """
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    s = np.maximum(s - tau, 0.0)
    keep = s > 0.0
    P: FloatArray = (U[:, keep] * s[keep]) @ Vt[keep]
    return P, float(s.sum())


def group_shrink(M: FloatArray, tau: float) -> tuple[FloatArray, FloatArray]:
    """Column-wise group soft-thresholding: ``argmin_Q 1/2 ||Q - M||_F^2 + tau sum_t ||Q[:, t]||_2``.

    Each column is scaled by ``max(0, 1 - tau / ||M[:, t]||)``: columns whose norm is at most
    ``tau`` become exactly zero. Returns the minimiser and the L2 norm of each of its columns.

    Examples
    --------
    >>> Q, norms = group_shrink(np.array([[3.0, 0.5], [4.0, 0.0]]), 1.0)
    >>> Q.round(12).tolist(), norms.round(12).tolist()
    ([[2.4, 0.0], [3.2, 0.0]], [4.0, 0.0])
    """
    norms = np.linalg.norm(M, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > tau, 1.0 - tau / np.where(norms > 0.0, norms, 1.0), 0.0)
    Q: FloatArray = M * scale
    return Q, norms * scale
