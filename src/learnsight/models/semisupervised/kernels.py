"""Base kernels and graph-deformed kernels (SPEC §6; Sindhwani, Niyogi & Belkin 2005, "Beyond the
point cloud: from transductive to semi-supervised learning", ICML).

A kernel ``k`` is *deformed* by a graph on the training points ``T`` so that points joined by
high-density paths become similar:

    k̃(x, z) = k(x, z) − k_xᵀ (I + M K)⁻¹ M k_z,   M = γ Lᵖ,

with ``K = k(T, T)``, ``k_x = k(T, x)`` and ``L`` the graph Laplacian (:mod:`.graph`).  The deformed
kernel is again a kernel (the reproducing kernel of the space whose norm adds ``fᵀ M f``), defined
for any new points, so any kernel machine can use it as a precomputed kernel — an SVM on it is the
LapSVM of the same graph with the graph term moved into the kernel.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import linalg  # type: ignore[import-untyped]
from scipy.spatial.distance import cdist  # type: ignore[import-untyped]

FloatArray = NDArray[np.float64]


def gaussian(x: FloatArray, z: FloatArray, width: float) -> FloatArray:
    """``exp(−‖x − z‖² / (2 width²))`` for every row pair.

    >>> float(gaussian(np.zeros((1, 2)), np.ones((1, 2)), 1.0)[0, 0]) == float(np.exp(-1.0))
    True
    """
    if width <= 0:
        raise ValueError(f"the Gaussian width must be positive, got {width}")
    out: FloatArray = np.exp(-cdist(x, z, "sqeuclidean") / (2.0 * width * width))
    return out


def polynomial(x: FloatArray, z: FloatArray, degree: int) -> FloatArray:
    """``(1 + x·z)^degree`` for every row pair."""
    if degree < 1:
        raise ValueError(f"the polynomial degree must be at least 1, got {degree}")
    out: FloatArray = (1.0 + x @ z.T) ** degree
    return out


def median_distance(x: FloatArray, *, sample: int = 2000, seed: int = 0) -> float:
    """The median pairwise Euclidean distance of (a sample of) the rows of ``x``: the unit of the
    Gaussian widths ``2^-1 … 2^3 × median``."""
    rng = np.random.default_rng(seed)
    rows = x if len(x) <= sample else x[rng.choice(len(x), sample, replace=False)]
    d = cdist(rows, rows)
    upper = d[np.triu_indices(len(rows), 1)]
    return float(np.median(upper)) if upper.size else 1.0


@dataclass
class DeformedKernel:
    """A kernel deformed by ``m`` (``γ Lᵖ`` on the training points) given its Gram matrix ``k_train``
    on those points.

    :meth:`train` is ``K̃(T, T)``; :meth:`cross` gives ``K̃(X, Z)`` for new points from their base
    kernel values against the training points.  When rounding leaves ``K̃(T, T)`` with a negative
    eigenvalue below ``−psd_tolerance × trace/n``, a jitter lifts it back to PSD and a warning says
    by how much (``jitter_``).
    """

    k_train: FloatArray
    m: FloatArray
    psd_tolerance: float = 1e-8
    jitter_: float = field(default=0.0, init=False)
    _a: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.k_train.shape[0]
        if self.k_train.shape != (n, n) or self.m.shape != (n, n):
            raise ValueError(
                f"the kernel and M must both be n × n, got {self.k_train.shape} and {self.m.shape}"
            )
        if not (np.isfinite(self.k_train).all() and np.isfinite(self.m).all()):
            raise ValueError("the kernel or M has NaN or infinite entries")
        # (I + M K)⁻¹ M, solved once: every deformed value reuses it.
        self._a = linalg.solve(np.eye(n) + self.m @ self.k_train, self.m)

    def train(self) -> FloatArray:
        """``K̃`` on the training points (symmetric, PSD up to the documented jitter)."""
        k = self.k_train
        deformed = k - k @ self._a @ k
        deformed = (deformed + deformed.T) / 2.0
        lowest = float(linalg.eigvalsh(deformed, subset_by_index=[0, 0])[0])
        scale = max(float(np.trace(deformed)) / len(deformed), 1e-12)
        if lowest < -self.psd_tolerance * scale:
            self.jitter_ = -lowest + self.psd_tolerance * scale
            warnings.warn(
                f"the deformed kernel was not PSD (lowest eigenvalue {lowest:.3g}); "
                f"added {self.jitter_:.3g} to its diagonal",
                RuntimeWarning,
                stacklevel=2,
            )
            deformed = deformed + self.jitter_ * np.eye(len(deformed))
        return deformed

    def cross(self, k_x_train: FloatArray, k_z_train: FloatArray, k_xz: FloatArray) -> FloatArray:
        """``K̃(X, Z) = K(X, Z) − K(X, T) (I + M K)⁻¹ M K(T, Z)`` from ``K(X, T)``, ``K(Z, T)`` and
        ``K(X, Z)``."""
        out: FloatArray = k_xz - k_x_train @ self._a @ k_z_train.T
        return out


def laplacian_power(laplacian: FloatArray, power: int, gamma: float) -> FloatArray:
    """``M = γ Lᵖ`` (dense) for an integer ``power`` ≥ 1."""
    if power < 1:
        raise ValueError(f"the Laplacian power must be at least 1, got {power}")
    if gamma < 0:
        raise ValueError(f"gamma must be non-negative, got {gamma}")
    out: FloatArray = gamma * np.linalg.matrix_power(laplacian, power)
    return out


@dataclass(frozen=True)
class BaseKernel:
    """One base kernel of the multi-kernel LapSVM, named for reports.

    ``kind="gaussian"`` is :func:`gaussian` with width ``width × median distance`` (the data's
    median pairwise distance, so one list of widths fits every data set); ``kind="polynomial"`` is
    :func:`polynomial` of ``degree`` normalised to a unit diagonal,
    ``k(x, z) / √(k(x, x) k(z, z))``, so that its scale is comparable to a Gaussian's and a kernel
    weight means the same for every kind (spherical normalisation, Kloft et al. 2011 §6).

    >>> BaseKernel("gaussian", width=2.0).name, BaseKernel("polynomial", degree=3).name
    ('gaussian(2×median)', 'poly(3)')
    """

    kind: Literal["gaussian", "polynomial"] = "gaussian"
    width: float = 1.0
    degree: int = 2

    @property
    def name(self) -> str:
        return f"gaussian({self.width:g}×median)" if self.kind == "gaussian" else f"poly({self.degree})"

    def gram(self, x: FloatArray, z: FloatArray, median: float) -> FloatArray:
        """``k(x_i, z_j)`` for every row pair; ``median`` is the training data's median distance."""
        if self.kind == "gaussian":
            return gaussian(x, z, self.width * median)
        if self.kind == "polynomial":
            raw = polynomial(x, z, self.degree)
            nx = (1.0 + np.einsum("ij,ij->i", x, x)) ** self.degree
            nz = (1.0 + np.einsum("ij,ij->i", z, z)) ** self.degree
            out: FloatArray = raw / np.sqrt(np.outer(nx, nz))
            return out
        raise ValueError(f"kernel kind: expected gaussian or polynomial, got {self.kind!r}")


DEFAULT_KERNELS: tuple[BaseKernel, ...] = (
    *(BaseKernel("gaussian", width=w) for w in (0.5, 1.0, 2.0, 4.0, 8.0)),
    *(BaseKernel("polynomial", degree=d) for d in (1, 2, 3)),
)
"""The eight base kernels of SPEC §6: Gaussian widths 2⁻¹…2³ × median distance, polynomial degrees 1–3."""
