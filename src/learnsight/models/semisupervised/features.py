"""Kernel feature maps: exact on the training points, or low-rank (Nyström) for large ``n``.

Every kernel computation of the LapSVMs goes through a feature map ``φ`` with ``k(x, z) ≈ φ(x)ᵀφ(z)``
(Williams & Seeger 2001): choose landmarks ``Z`` (all training points, or ``r`` of them drawn at
random), decompose ``K_ZZ = U Λ Uᵀ`` and set ``φ(x) = Λ^{-1/2} Uᵀ k(Z, x)``.  With every training
point a landmark the map reproduces ``K`` exactly on them (up to dropping eigenvalues below
``1e-10 × λ_max``, which only removes rounding noise) and gives the exact kernel against them for new
points; with ``r ≪ n`` landmarks it is the rank-``r`` approximation the 20,000-sample path needs,
costing ``O(n r)`` memory instead of ``O(n²)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import linalg  # type: ignore[import-untyped]

from learnsight.models.semisupervised.kernels import BaseKernel

FloatArray = NDArray[np.float64]
_CHUNK = 4096


@dataclass(frozen=True)
class FeatureMap:
    """``φ`` for one base kernel: ``landmarks`` ``Z``, the projection ``P = U Λ^{-1/2}`` and the
    features ``train`` of the points it was built on."""

    kernel: BaseKernel
    median: float
    landmarks: FloatArray
    projection: FloatArray
    train: FloatArray

    @property
    def rank(self) -> int:
        return int(self.projection.shape[1])

    def __call__(self, x: FloatArray) -> FloatArray:
        """``φ(x)`` for the rows of ``x`` (computed in chunks, so memory stays ``O(chunk × |Z|)``)."""
        parts = [
            self.kernel.gram(x[i : i + _CHUNK], self.landmarks, self.median) @ self.projection
            for i in range(0, len(x), _CHUNK)
        ]
        return np.vstack(parts) if parts else np.zeros((0, self.rank))


def feature_map(
    kernel: BaseKernel,
    x: FloatArray,
    median: float,
    *,
    rank: int | None = None,
    seed: int = 0,
    tolerance: float = 1e-10,
) -> FeatureMap:
    """Build ``φ`` of ``kernel`` on the rows of ``x``: exact when ``rank`` is ``None`` or at least
    ``len(x)``, Nyström on ``rank`` random landmarks otherwise."""
    n = len(x)
    if rank is None or rank >= n:
        landmarks = x
    else:
        if rank < 1:
            raise ValueError(f"rank must be at least 1, got {rank}")
        chosen = np.sort(np.random.default_rng(seed).choice(n, size=rank, replace=False))
        landmarks = x[chosen]
    k_zz = kernel.gram(landmarks, landmarks, median)
    values, vectors = linalg.eigh((k_zz + k_zz.T) / 2.0)
    keep = values > tolerance * max(float(values[-1]), 1e-300)
    projection = vectors[:, keep] / np.sqrt(values[keep])
    if landmarks is x:
        train = vectors[:, keep] * np.sqrt(values[keep])  # K U Λ^{-1/2} = U Λ^{1/2}
    else:
        train = FeatureMap(kernel, median, landmarks, projection, np.zeros((0, 0)))(x)
    return FeatureMap(kernel, median, landmarks, projection, train)
