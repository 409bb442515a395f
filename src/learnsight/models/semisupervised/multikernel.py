"""Multi-graph multi-kernel Laplacian SVM (SPEC §6)."""

# ruff: noqa: N803  (scikit-learn names: X, C, gamma_I as in the papers)

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from learnsight.models.semisupervised._base import FloatArray, LapSVMBase
from learnsight.models.semisupervised.graph import Graph
from learnsight.models.semisupervised.kernels import DEFAULT_KERNELS, BaseKernel
from learnsight.models.semisupervised.mkl import MKLTrace, Oracle, closed_form_l2, level_method, start
from learnsight.models.semisupervised.solvers import solve_dual

MKLMethod = Literal["level", "closed-form", "uniform"]


def default_graphs(x: FloatArray) -> tuple[Graph, ...]:
    """Six graphs: k = 5, 10, 20 nearest neighbours under two metrics, Euclidean and cosine, or
    Euclidean and Hamming when every feature is 0 or 1; heat weights, normalised Laplacians."""
    binary = bool(np.isin(x, (0.0, 1.0)).all())
    other: Literal["cosine", "hamming"] = "hamming" if binary else "cosine"
    return tuple(Graph(k=k, metric=metric) for metric in ("euclidean", other) for k in (5, 10, 20))


class MultiKernelLapSVM(LapSVMBase):
    """Laplacian SVM over several base kernels and several data graphs, with learned kernel weights.

    Every base kernel is deformed by every graph (``k̃ = k − k_xᵀ(I + MK)⁻¹Mk_z``, ``M = γ_I Lᵖ``;
    Sindhwani, Niyogi & Belkin 2005); an SVM on the labelled samples uses the combination
    ``Σ_m μ_m k̃_m`` whose weights ``μ`` are learned on the simplex (``norm="l1"``, sparse) or the
    L2 ball (``norm="l2"``) by the extended level method (Xu et al. 2008), or by the analytic
    L2 update (``mkl="closed-form"``, Kloft et al. 2011), or left uniform (``mkl="uniform"``).
    Choosing among graphs and widths is thus part of the fit: no labelled validation set is needed,
    which is what matters with 5 % labels.

    Parameters
    ----------
    C : float, default=10.0
        SVM trade-off on the labelled samples.
    kernels : sequence of BaseKernel, optional
        Base kernels; default :data:`~.kernels.DEFAULT_KERNELS` (Gaussian 2⁻¹…2³ × median distance,
        normalised polynomial degrees 1–3).
    graphs : sequence of Graph, optional
        Data graphs; default :func:`default_graphs` (k = 5, 10, 20; Euclidean and cosine, or
        Hamming for binary data).
    gamma_I : float, default=10.0
        Strength of the graph term ``γ_I`` in ``M = γ_I Lᵖ`` (relative to the kernel norm).
    laplacian_power : int, default=1
        ``p`` in ``Lᵖ``.
    mkl : {"level", "closed-form", "uniform"}, default="level"
    norm : {"l1", "l2"}, default="l1"
        Where the level method keeps the weights (``closed-form`` is always L2).
    tol : float, default=1e-2
        Relative duality gap at which the level method stops.
    max_iter : int, default=50
    rank : None, "auto" or int, default="auto"
        Exact kernels up to 3,000 samples, rank-500 Nyström above (``None``: always exact; an int:
        that rank).
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
        Seeds the Nyström landmarks and the calibration folds.

    Attributes
    ----------
    classes_ : ndarray
    kernel_weights_ : dict[str, float]
        ``"kernel|graph"`` → weight, for every pair.
    mkl_trace_ : MKLTrace
        Upper/lower bounds of every iteration.
    n_iter_ : int
        Iterations of the weight search.
    feature_weights_ : ndarray
        The scale of each feature (all ones unless ``relevance`` weighted them).
    transduction_ : ndarray
        The predicted label of every sample passed to ``fit``.
    label_distributions_ : ndarray
        Their class probabilities.

    References
    ----------
    Belkin, Niyogi & Sindhwani (2006), Manifold regularization, JMLR 7:2399–2434.
    Sindhwani, Niyogi & Belkin (2005), Beyond the point cloud, ICML.
    Xu, Jin, King & Lyu (2008), An extended level method for efficient multiple kernel learning, NIPS.
    Kloft, Brefeld, Sonnenburg & Zien (2011), lp-norm multiple kernel learning, JMLR 12:953–997.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> x, y = make_moons(200, noise=0.05, random_state=0)
    >>> y_partial = np.full(200, -1); y_partial[[0, 1, 2, 3]] = y[[0, 1, 2, 3]]
    >>> model = MultiKernelLapSVM(random_state=0).fit(x, y_partial)
    >>> bool((model.transduction_ == y).mean() > 0.9)
    True
    """

    def __init__(
        self,
        C: float = 10.0,
        *,
        kernels: Sequence[BaseKernel] | None = None,
        graphs: Sequence[Graph] | None = None,
        gamma_I: float = 10.0,
        laplacian_power: int = 1,
        mkl: MKLMethod = "level",
        norm: Literal["l1", "l2"] = "l1",
        tol: float = 1e-2,
        max_iter: int = 50,
        rank: int | str | None = "auto",
        classes: Sequence[object] | None = None,
        class_balance: bool = True,
        relevance: Literal["auto", "mutual-info", "none"] = "auto",
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.kernels = kernels
        self.graphs = graphs
        self.gamma_I = gamma_I
        self.laplacian_power = laplacian_power
        self.mkl = mkl
        self.norm = norm
        self.tol = tol
        self.max_iter = max_iter
        self.rank = rank
        self.classes = classes
        self.class_balance = class_balance
        self.relevance = relevance
        self.random_state = random_state

    def fit(self, X: object, y: object) -> MultiKernelLapSVM:
        """Learn from ``X`` (every row is used by the graphs) and ``y`` (``-1`` = unlabelled)."""
        x, index = self._check_fit_input(X, y)
        kernels = tuple(self.kernels) if self.kernels is not None else DEFAULT_KERNELS
        graphs = tuple(self.graphs) if self.graphs is not None else default_graphs(x)
        maps, pairs = self._pairs(x, index, kernels, graphs)
        problems = self._problems(index)

        def oracle(mu: FloatArray) -> tuple[float, FloatArray]:
            gram = sum(
                (w * p.gram for w, p in zip(mu, pairs, strict=True) if w > 0), np.zeros_like(pairs[0].gram)
            )
            total, quads = 0.0, np.zeros(len(pairs))
            for target in problems:
                s = solve_dual(gram, target, self.C)
                total += float(s.alpha.sum())
                support = np.flatnonzero(s.beta)
                b = s.beta[support]
                quads += np.array([b @ p.gram[np.ix_(support, support)] @ b for p in pairs])
            return total, quads

        self.mkl_trace_ = self._weights(oracle, len(pairs))
        self.n_iter_ = max(len(self.mkl_trace_.upper), 1)
        weights = self.mkl_trace_.weights
        weights = np.where(weights > 1e-6 * weights.max(), weights, 0.0)
        self.kernel_weights_ = {p.name: float(w) for p, w in zip(pairs, weights, strict=True)}
        self._finish_dual(maps, pairs, weights, index)
        self._set_transduction(x, index)
        return self

    def _weights(self, oracle: Oracle, m: int) -> MKLTrace:
        if self.mkl == "level":
            return level_method(oracle, m, norm=self.norm, tol=self.tol, max_iter=self.max_iter)
        if self.mkl == "closed-form":
            return closed_form_l2(oracle, m, max_iter=self.max_iter)
        if self.mkl == "uniform":
            return MKLTrace(weights=start(m, "l1"), converged=True)
        raise ValueError(f"mkl: expected level, closed-form or uniform, got {self.mkl!r}")
