"""A graph deformation of a kernel, in feature space (Sindhwani, Niyogi & Belkin 2005).

With ``K = ΦΦᵀ`` on the training points (:mod:`.features`) and ``M = γ Lᵖ``, the Woodbury identity
turns the deformed kernel of :mod:`.kernels`,

    k̃(x, z) = k(x, z) − k_xᵀ (I + M K)⁻¹ M k_z,

into ``k̃(x, z) = φ(x)ᵀ (I + A)⁻¹ φ(z)`` with the ``r × r`` matrix ``A = Φᵀ M Φ``: one Cholesky
factor ``RᵀR = I + A`` per (kernel, graph) pair instead of an ``n × n`` solve, and, since
``(I + A)⁻¹`` is positive definite, a deformed kernel that is PSD by construction.  Only the
columns against the labelled points are kept (``G = s (I + A)⁻¹ Φ_Lᵀ``, ``r × l``): a kernel machine
trained on the labelled points needs nothing else, for the training points or for new ones.

``s`` rescales every deformed kernel to a mean diagonal of 1 over the training points (labels are
not used), so kernel weights of different (kernel, graph) pairs are comparable.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, sparse  # type: ignore[import-untyped]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def apply_m(laplacian: sparse.csr_matrix, power: int, gamma: float, v: FloatArray) -> FloatArray:
    """``M v = γ Lᵖ v`` without forming ``Lᵖ``."""
    if power < 1:
        raise ValueError(f"the Laplacian power must be at least 1, got {power}")
    out = v
    for _ in range(power):
        out = laplacian @ out
    return np.asarray(gamma * out, dtype=np.float64)


@dataclass(frozen=True)
class Deformation:
    """One deformed kernel, as the columns ``G`` (``r × l``) against the labelled points:
    ``k̃(x, L) = φ(x) G``.  ``factor`` is the Cholesky factor ``R`` of ``I + A`` and ``scale`` the
    normalisation ``s``; ``jitter`` is what had to be added to ``I + A`` (0 unless rounding broke
    positive definiteness)."""

    columns: FloatArray
    factor: FloatArray
    scale: float
    jitter: float

    def features(self, phi: FloatArray) -> FloatArray:
        """The deformed features ``ψ = √s φ R⁻¹`` (``ψ(x)ᵀψ(z) = k̃(x, z)``), for the primal solver."""
        out: FloatArray = (
            np.sqrt(self.scale) * linalg.solve_triangular(self.factor, phi.T, trans="T", lower=False).T
        )
        return out


def deform(
    phi: FloatArray,
    laplacian: sparse.csr_matrix,
    labelled: IntArray,
    *,
    gamma: float,
    power: int = 1,
) -> Deformation:
    """Deform the kernel whose training features are ``phi`` by ``M = γ Lᵖ`` (see the module
    docstring) and return its columns against the ``labelled`` rows."""
    if gamma < 0 or not np.isfinite(gamma):
        raise ValueError(f"gamma_I must be a finite non-negative number, got {gamma}")
    r = phi.shape[1]
    a = phi.T @ apply_m(laplacian, power, gamma, phi)
    system = np.eye(r) + (a + a.T) / 2.0
    jitter = 0.0
    try:
        factor = linalg.cholesky(system, lower=False)
    except linalg.LinAlgError:
        lowest = float(linalg.eigvalsh(system, subset_by_index=[0, 0])[0])
        jitter = 1e-8 - lowest
        warnings.warn(
            f"the deformed kernel was not positive definite (lowest eigenvalue of I + A {lowest:.3g}); "
            f"added {jitter:.3g} to its diagonal",
            RuntimeWarning,
            stacklevel=2,
        )
        factor = linalg.cholesky(system + jitter * np.eye(r), lower=False)
    # mean diagonal of k̃ over the training points, ‖R⁻ᵀ φ_i‖², estimated on an evenly spaced
    # sample of at most 500 of them: the scale needs two digits, not an O(n r²) solve
    sample = phi[:: max(1, len(phi) // 500)]
    half = linalg.solve_triangular(factor, sample.T, trans="T", lower=False)
    mean_diagonal = float(np.einsum("ij,ij->", half, half)) / max(len(sample), 1)
    scale = 1.0 / mean_diagonal if mean_diagonal > 0 else 1.0
    columns = scale * linalg.cho_solve((factor, False), phi[labelled].T)
    return Deformation(columns=columns, factor=factor, scale=scale, jitter=jitter)
