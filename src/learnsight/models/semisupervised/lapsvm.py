"""Laplacian SVM on one kernel and one data graph (Belkin, Niyogi & Sindhwani 2006)."""

# ruff: noqa: N803  (scikit-learn names: X, C, gamma_I as in the papers)

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import linalg  # type: ignore[import-untyped]

from learnsight.models.semisupervised._base import Expansion, FloatArray, IntArray, LapSVMBase, Pair
from learnsight.models.semisupervised.graph import Graph, Metric, Weights
from learnsight.models.semisupervised.kernels import BaseKernel
from learnsight.models.semisupervised.solvers import solve_primal


class LapSVM(LapSVMBase):
    """Laplacian support vector machine: an SVM whose norm adds the smoothness of ``f`` over a data
    graph built from labelled and unlabelled samples alike.

    It minimises ``C Σᵢ∈labelled V(yᵢ, f(xᵢ)) + ½‖f‖²_K + ½ fᵀ M f`` with ``M = γ_I Lᵖ`` and ``L`` the
    graph Laplacian.  The graph term is moved into the kernel (the deformed kernel of Sindhwani,
    Niyogi & Belkin 2005, which defines the same minimiser), so the problem that remains is an SVM on
    the labelled samples, solved in the dual (hinge loss, libsvm SMO; ``solver="dual"``) or in the
    primal (squared hinge by Newton's method; ``solver="primal"``, Melacci & Belkin 2011).  Unlike a
    transductive method it predicts new points with the same function.

    Parameters
    ----------
    C : float, default=10.0
        Trade-off of the loss on the labelled samples (``1 / (2 l γ_A)`` in the paper's terms).
    kernel : {"rbf", "poly"}, default="rbf"
    width : float, default=0.5
        Gaussian width as a multiple of the median pairwise distance.
    degree : int, default=2
        Polynomial degree (normalised polynomial kernel).
    neighbours : {"knn", "epsilon"}, default="knn"
    n_neighbors : int, default=5
    epsilon : float, optional
        Radius of an ε-graph.
    metric : {"euclidean", "cosine", "hamming"}, default="euclidean"
    weights : {"heat", "connectivity"}, default="heat"
    normalised : bool, default=True
        Use the normalised Laplacian ``I − D^{-1/2} W D^{-1/2}``.
    gamma_I : float, default=10.0
        Strength of the graph term (``γ_I / γ_A`` of the paper, up to its ``(l+u)²``).
    laplacian_power : int, default=1
    solver : {"dual", "primal"}, default="dual"
    rank : None, "auto" or int, default="auto"
        Exact kernel up to 3,000 samples, rank-500 Nyström above.
    classes : sequence, optional
        The classes to expect; a class without a labelled sample is then an error.
    class_balance : bool, default=True
        Shift the decision thresholds so that the unlabelled samples are predicted in the class
        shares of the labelled ones (class mass normalisation; see :func:`~._base.balance_offsets`).
        Right when the labelled samples were drawn at random; switch it off when they were not
        (e.g. a counsellor labelled mostly students at risk).
    relevance : {"auto", "mutual-info", "none"}, default="auto"
        Feature weights learned from the labelled samples (see :func:`~._base.relevance_weights`):
        with ``"auto"``, binary features are weighted by their mutual information with the class.
    random_state : int, optional

    Attributes
    ----------
    classes_ : ndarray
    feature_weights_ : ndarray
        The scale of each feature (all ones unless ``relevance`` weighted them).
    transduction_ : ndarray
        The predicted label of every sample passed to ``fit``.
    label_distributions_ : ndarray
    isolated_points_ : dict[str, int]
        Points without an edge in the graph (they are still classified, by the kernel alone).

    References
    ----------
    Belkin, Niyogi & Sindhwani (2006), Manifold regularization: a geometric framework for learning
    from labeled and unlabeled examples, JMLR 7:2399–2434.
    Sindhwani, Niyogi & Belkin (2005), Beyond the point cloud, ICML.
    Melacci & Belkin (2011), Laplacian support vector machines trained in the primal, JMLR 12:1149–1184.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> x, y = make_moons(200, noise=0.05, random_state=0)
    >>> y_partial = np.full(200, -1); y_partial[[0, 1, 2, 3]] = y[[0, 1, 2, 3]]
    >>> model = LapSVM(width=0.3, gamma_I=100.0, normalised=False).fit(x, y_partial)
    >>> bool((model.transduction_ == y).mean() > 0.9)
    True
    """

    def __init__(
        self,
        C: float = 10.0,
        *,
        kernel: Literal["rbf", "poly"] = "rbf",
        width: float = 0.5,
        degree: int = 2,
        neighbours: Literal["knn", "epsilon"] = "knn",
        n_neighbors: int = 5,
        epsilon: float | None = None,
        metric: Metric = "euclidean",
        weights: Weights = "heat",
        normalised: bool = True,
        gamma_I: float = 10.0,
        laplacian_power: int = 1,
        solver: Literal["dual", "primal"] = "dual",
        rank: int | str | None = "auto",
        classes: object = None,
        class_balance: bool = True,
        relevance: Literal["auto", "mutual-info", "none"] = "auto",
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.kernel = kernel
        self.width = width
        self.degree = degree
        self.neighbours = neighbours
        self.n_neighbors = n_neighbors
        self.epsilon = epsilon
        self.metric = metric
        self.weights = weights
        self.normalised = normalised
        self.gamma_I = gamma_I
        self.laplacian_power = laplacian_power
        self.solver = solver
        self.rank = rank
        self.classes = classes
        self.class_balance = class_balance
        self.relevance = relevance
        self.random_state = random_state

    def base_kernel(self) -> BaseKernel:
        """The :class:`~.kernels.BaseKernel` these parameters name."""
        if self.kernel == "rbf":
            return BaseKernel("gaussian", width=self.width)
        if self.kernel == "poly":
            return BaseKernel("polynomial", degree=self.degree)
        raise ValueError(f"kernel: expected rbf or poly, got {self.kernel!r}")

    def graph(self) -> Graph:
        """The :class:`~.graph.Graph` these parameters name."""
        return Graph(
            neighbours=self.neighbours,
            k=self.n_neighbors,
            epsilon=self.epsilon,
            metric=self.metric,
            weights=self.weights,
            normalised=self.normalised,
        )

    def fit(self, X: object, y: object) -> LapSVM:
        """Learn from ``X`` (every row is used by the graph) and ``y`` (``-1`` = unlabelled)."""
        if self.solver not in ("dual", "primal"):
            raise ValueError(f"solver: expected dual or primal, got {self.solver!r}")
        x, index = self._check_fit_input(X, y)
        kernel = self.base_kernel()
        maps, pairs = self._pairs(x, index, [kernel], [self.graph()])
        if self.solver == "dual":
            self._finish_dual(maps, pairs, np.ones(1), index)
        else:
            self._fit_primal(maps[kernel].train, maps[kernel].projection, pairs[0], index)
        self._set_transduction(x, index)
        return self

    def _fit_primal(self, phi: FloatArray, projection: FloatArray, pair: Pair, index: IntArray) -> None:
        d = pair.deformation
        labelled = np.flatnonzero(index >= 0)
        psi = d.features(phi[labelled])
        problems = self._problems(index)
        solutions = [solve_primal(psi, target, self.C) for target in problems]
        # f(x) = ψ(x)·w + b with ψ(x) = √s φ(x) R⁻¹ and φ(x) = k(x, Z) P
        to_features = np.sqrt(d.scale) * linalg.solve_triangular(d.factor, np.eye(len(d.factor)), lower=False)
        self.expansions_ = [Expansion(pair.kernel, projection @ to_features)]
        self.coef_ = np.vstack([w for w, _ in solutions])
        self.intercept_ = np.array([b for _, b in solutions])
        cv = np.column_stack([psi @ w + b for w, b in solutions])
        for train, test in self._folds(index):
            for j, target in enumerate(problems):
                if len(np.unique(target[train])) < 2:
                    continue
                w, b = solve_primal(psi[train], target[train], self.C)
                cv[test, j] = psi[test] @ w + b
        self._calibrate(problems, cv)
