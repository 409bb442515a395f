"""Data graphs and their Laplacians for semi-supervised learning (SPEC §6).

A graph is built from all samples, labelled and unlabelled alike:

* **neighbours**: ``k``-nearest neighbours (symmetrised: an edge when either point is among the
  other's ``k`` nearest) or ``ε``-neighbourhoods (every pair closer than ``ε``);
* **weights**: ``connectivity`` (1 per edge) or ``heat`` (``exp(−d² / (2 t²))``, the heat kernel of
  Belkin & Niyogi 2003, with ``t`` the median edge length when not given);
* **metric**: Euclidean, cosine (``1 − cos``) or Hamming (share of differing coordinates, for
  binary data).

The Laplacian is ``L = D − W`` or, normalised, ``L = I − D^{-1/2} W D^{-1/2}`` (Belkin, Niyogi &
Sindhwani 2006, §2).  An isolated point (no edge) has a zero row; with ``normalised`` its degree is
taken as 1 so the matrix stays finite, and :func:`laplacian` reports how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]
from scipy.spatial.distance import cdist  # type: ignore[import-untyped]

Metric = Literal["euclidean", "cosine", "hamming"]
Weights = Literal["connectivity", "heat"]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Graph:
    """How to build a data graph (see the module docstring); ``name`` labels it in reports."""

    neighbours: Literal["knn", "epsilon"] = "knn"
    k: int = 10
    epsilon: float | None = None
    metric: Metric = "euclidean"
    weights: Weights = "heat"
    heat_width: float | None = None
    normalised: bool = True

    @property
    def name(self) -> str:
        size = f"k={self.k}" if self.neighbours == "knn" else f"eps={self.epsilon:g}"
        width = "" if self.weights == "connectivity" else f",t={self.heat_width or 'median'}"
        norm = ",norm" if self.normalised else ""
        return f"{self.neighbours}({size},{self.metric},{self.weights}{width}{norm})"


@dataclass(frozen=True)
class Laplacian:
    """A graph Laplacian (sparse CSR) and the number of isolated points of its graph."""

    matrix: sparse.csr_matrix
    isolated: int


def distances(x: FloatArray, metric: Metric) -> FloatArray:
    """All pairwise distances of the rows of ``x`` under ``metric`` (dense, n × n)."""
    if metric not in ("euclidean", "cosine", "hamming"):
        raise ValueError(f"metric: expected euclidean, cosine or hamming, got {metric!r}")
    d: FloatArray = cdist(x, x, metric=metric)
    np.fill_diagonal(d, 0.0)
    return np.nan_to_num(d, nan=1.0) if metric == "cosine" else d


def adjacency(x: FloatArray, graph: Graph) -> sparse.csr_matrix:
    """The symmetric weight matrix ``W`` of ``graph`` on the rows of ``x`` (zero diagonal)."""
    n = x.shape[0]
    d = distances(x, graph.metric)
    if graph.neighbours == "knn":
        if not 1 <= graph.k < n:
            raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, got {graph.k}")
        order = np.argsort(d + np.diag(np.full(n, np.inf)), axis=1)[:, : graph.k]
        mask = np.zeros((n, n), dtype=bool)
        mask[np.repeat(np.arange(n), graph.k), order.ravel()] = True
        mask |= mask.T
    elif graph.neighbours == "epsilon":
        if graph.epsilon is None or graph.epsilon <= 0:
            raise ValueError("an epsilon graph needs epsilon > 0")
        mask = d < graph.epsilon
        np.fill_diagonal(mask, False)
    else:
        raise ValueError(f"neighbours: expected knn or epsilon, got {graph.neighbours!r}")
    if graph.weights == "connectivity":
        w = mask.astype(np.float64)
    elif graph.weights == "heat":
        if graph.heat_width is not None:
            t = graph.heat_width
        else:
            t = float(np.median(d[mask])) if mask.any() else 1.0
        if t <= 0:
            t = 1.0
        w = np.where(mask, np.exp(-(d**2) / (2.0 * t * t)), 0.0)
    else:
        raise ValueError(f"weights: expected connectivity or heat, got {graph.weights!r}")
    return sparse.csr_matrix(w)


def laplacian(x: FloatArray, graph: Graph) -> Laplacian:
    """The Laplacian of ``graph`` on the rows of ``x`` (see the module docstring).

    >>> lap = laplacian(np.array([[0.0], [1.0], [2.0]]), Graph(k=1, weights="connectivity", normalised=False))
    >>> lap.matrix.toarray().tolist()
    [[1.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 1.0]]
    """
    w = adjacency(x, graph)
    degree = np.asarray(w.sum(axis=1)).ravel()
    isolated = int(np.sum(degree == 0))
    if not graph.normalised:
        return Laplacian(sparse.csr_matrix(sparse.diags(degree) - w), isolated)
    scale = 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0))
    normalised = sparse.identity(len(degree), format="csr") - sparse.diags(scale) @ w @ sparse.diags(scale)
    return Laplacian(sparse.csr_matrix(normalised), isolated)
