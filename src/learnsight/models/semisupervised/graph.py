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
from sklearn import config_context  # type: ignore[import-untyped]
from sklearn.neighbors import NearestNeighbors  # type: ignore[import-untyped]

Metric = Literal["euclidean", "cosine", "hamming"]
Weights = Literal["connectivity", "heat"]
FloatArray = NDArray[np.float64]
_TINY = 1e-12
_WORKING_MB = 256


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


def _neighbour_distances(x: FloatArray, graph: Graph) -> sparse.csr_matrix:
    """The sparse matrix of neighbour distances (k-NN or ε), never the dense n × n one: it scales
    to the 20,000-sample low-rank path.  Exact zero distances (duplicate points) are stored as a tiny
    positive number so that the edge survives sparse storage."""
    n = x.shape[0]
    if graph.metric not in ("euclidean", "cosine", "hamming"):
        raise ValueError(f"metric: expected euclidean, cosine or hamming, got {graph.metric!r}")
    algorithm = "auto" if graph.metric == "euclidean" else "brute"
    if graph.neighbours == "knn":
        if not 1 <= graph.k < n:
            raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, got {graph.k}")
        nn = NearestNeighbors(n_neighbors=graph.k + 1, metric=graph.metric, algorithm=algorithm).fit(x)
        with config_context(working_memory=_WORKING_MB):  # brute-force distance blocks of 20,000 points
            dist, index = nn.kneighbors(x)
        rows, cols, vals = [], [], []
        for i in range(n):
            keep = index[i] != i
            chosen = index[i][keep][: graph.k]
            rows.append(np.full(len(chosen), i))
            cols.append(chosen)
            vals.append(dist[i][keep][: graph.k])
        r, c = np.concatenate(rows), np.concatenate(cols)
        v = np.maximum(np.nan_to_num(np.concatenate(vals), nan=1.0), _TINY)
        d = sparse.csr_matrix((v, (r, c)), shape=(n, n))
        return sparse.csr_matrix(d.maximum(d.T))  # symmetrised: an edge when either side chose it
    if graph.neighbours == "epsilon":
        if graph.epsilon is None or graph.epsilon <= 0:
            raise ValueError("an epsilon graph needs epsilon > 0")
        nn = NearestNeighbors(radius=graph.epsilon, metric=graph.metric, algorithm=algorithm).fit(x)
        with config_context(working_memory=_WORKING_MB):
            d = nn.radius_neighbors_graph(x, mode="distance", sort_results=False).tocoo()
        off = (d.row != d.col) & (d.data < graph.epsilon)
        v = np.maximum(d.data[off], _TINY)
        return sparse.csr_matrix((v, (d.row[off], d.col[off])), shape=(n, n))
    raise ValueError(f"neighbours: expected knn or epsilon, got {graph.neighbours!r}")


def adjacency(x: FloatArray, graph: Graph) -> sparse.csr_matrix:
    """The symmetric weight matrix ``W`` of ``graph`` on the rows of ``x`` (sparse, zero diagonal)."""
    d = _neighbour_distances(np.asarray(x, dtype=np.float64), graph)
    if graph.weights == "connectivity":
        w = d.copy()
        w.data = np.ones_like(w.data)
        return w
    if graph.weights == "heat":
        edges = d.data[d.data > _TINY]
        t = (
            graph.heat_width
            if graph.heat_width is not None
            else (float(np.median(edges)) if edges.size else 1.0)
        )
        if t <= 0:
            t = 1.0
        w = d.copy()
        w.data = np.exp(-(np.where(w.data <= _TINY, 0.0, w.data) ** 2) / (2.0 * t * t))
        return w
    raise ValueError(f"weights: expected connectivity or heat, got {graph.weights!r}")


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
