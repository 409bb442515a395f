"""What both LapSVMs share: checking ``(X, y)``, graphs and deformed kernels, one-vs-rest problems,
the final expansion ``f_c(x) = Σ_k k_k(x, Z) E_k coef_c + b_c``, and calibrated probabilities."""

# ruff: noqa: N803, N815  (scikit-learn names: X, C, gamma_I as in the papers)

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.feature_selection import mutual_info_classif  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from learnsight.models.semisupervised.deformation import Deformation, deform
from learnsight.models.semisupervised.features import FeatureMap, feature_map
from learnsight.models.semisupervised.graph import Graph, Laplacian, laplacian
from learnsight.models.semisupervised.kernels import BaseKernel, median_distance
from learnsight.models.semisupervised.solvers import DualSolution, fit_platt, solve_dual

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

UNLABELLED = -1
"""The target of an unlabelled sample, as in :mod:`sklearn.semi_supervised`."""

DENSE_LIMIT = 3000
"""Up to this many samples ``rank="auto"`` is exact; above it, Nyström with :data:`AUTO_RANK`."""
AUTO_RANK = 500


@dataclass(frozen=True)
class Pair:
    """One (base kernel, graph) pair: its deformation and deformed Gram matrix on the labelled points."""

    kernel: BaseKernel
    graph: Graph
    deformation: Deformation
    gram: FloatArray

    @property
    def name(self) -> str:
        return f"{self.kernel.name}|{self.graph.name}"


@dataclass(frozen=True)
class Expansion:
    """One base kernel's share of the decision function: ``k(x, Z) @ matrix`` (``|Z| × d``)."""

    kernel: BaseKernel
    matrix: FloatArray


def relevance_weights(x: FloatArray, index: IntArray, relevance: str) -> FloatArray:
    """Per-feature scale factors learned from the labelled samples only.

    ``"auto"``: when every feature is binary, feature ``j`` is scaled by ``√(I_j / max I)`` with
    ``I_j`` the plug-in mutual information between it and the class on the labelled samples, so that
    distances, graphs and kernels count the informative positions (a DNA sequence's splice-site
    neighbourhood, say) and not the many uninformative ones; continuous features are left as they
    are, since a few labelled samples cannot estimate their mutual information reliably.
    ``"mutual-info"`` forces the weighting (continuous features by the k-NN estimator of Kraskov et
    al. 2004); ``"none"`` switches it off.
    """
    if relevance not in ("auto", "mutual-info", "none"):
        raise ValueError(f"relevance: expected auto, mutual-info or none, got {relevance!r}")
    binary = bool(np.isin(x, (0.0, 1.0)).all())
    if relevance == "none" or (relevance == "auto" and not binary):
        return np.ones(x.shape[1])
    labelled = index >= 0
    info = mutual_info_classif(x[labelled], index[labelled], discrete_features=binary, random_state=0)
    top = float(np.max(info)) if len(info) else 0.0
    if top <= 0:
        return np.ones(x.shape[1])
    out: FloatArray = np.sqrt(np.asarray(info, dtype=np.float64) / top)
    return out


def balance_offsets(raw: FloatArray, labelled_counts: IntArray, *, rounds: int = 200) -> FloatArray:
    """Offsets added to the decision values so that the unlabelled samples are predicted in the class
    shares of the labelled ones — class mass normalisation (Zhu, Ghahramani & Lafferty 2003), the
    balancing constraint of transductive SVMs (Joachims 1999).  A graph-regularised classifier can
    otherwise let one class flood a neighbouring cluster of the other.

    Two classes (one decision column): the threshold is the matching quantile.  More classes: the
    offsets of the one-vs-rest columns are raised or lowered in turn until the argmax shares match
    (to one sample).

    >>> balance_offsets(np.array([[-2.0], [-1.0], [0.5], [1.0]]), np.array([5, 5])).round(2).tolist()
    [0.25]
    """
    if len(raw) == 0:
        return np.zeros(raw.shape[1])
    share = labelled_counts / labelled_counts.sum()
    if raw.shape[1] == 1:
        threshold = float(np.quantile(raw[:, 0], share[0]))
        return np.array([-threshold])
    offsets = np.zeros(raw.shape[1])
    target = share * len(raw)
    spread = float(np.std(raw)) or 1.0
    for step in range(rounds):
        counts = np.bincount(np.argmax(raw + offsets, axis=1), minlength=raw.shape[1])
        if np.all(np.abs(counts - target) <= 1.0):
            break
        offsets += spread * (target - counts) / len(raw) / (1.0 + step / 20.0)
    out: FloatArray = offsets
    return out


class LapSVMBase(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Shared machinery; see :class:`~.lapsvm.LapSVM` and :class:`~.multikernel.MultiKernelLapSVM`."""

    # set by subclasses' __init__
    C: float
    gamma_I: float
    laplacian_power: int
    rank: int | str | None
    random_state: int | None

    # ---- input -----------------------------------------------------------------------------------
    def _check_fit_input(self, x: object, y: object) -> tuple[FloatArray, NDArray[np.int64]]:
        """Validate ``X`` (finite, 2-D, ≥ 2 rows) and ``y``; set ``classes_``; return ``X`` and the
        index of each sample's class in ``classes_`` (``-1`` when unlabelled)."""
        xv, yv = validate_data(self, x, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(yv)
        labelled = yv != UNLABELLED if yv.dtype.kind in "iuf" else np.ones(len(yv), dtype=bool)
        if not labelled.any():
            raise ValueError("no labelled sample: every target is -1 (unlabelled)")
        classes = np.unique(yv[labelled])
        if len(classes) < 2:
            raise ValueError(
                f"the labelled samples have only one class ({classes[0]!r}); "
                "at least two classes need a labelled sample"
            )
        expected = getattr(self, "classes", None)
        if expected is not None:
            missing = [c for c in expected if c not in set(classes.tolist())]
            if missing:
                raise ValueError(f"no labelled sample of class {missing[0]!r} (classes={list(expected)!r})")
            classes = np.sort(np.asarray(list(expected)))
        self.classes_ = classes
        index = np.full(len(yv), -1, dtype=np.int64)
        index[labelled] = np.searchsorted(classes, yv[labelled])
        self.feature_weights_ = relevance_weights(xv, index, getattr(self, "relevance", "none"))
        return xv * self.feature_weights_, index

    def _check_predict_input(self, x: object) -> FloatArray:
        check_is_fitted(self, "expansions_")
        out: FloatArray = validate_data(self, x, dtype=np.float64, reset=False)
        return out * self.feature_weights_

    # ---- kernels and graphs ------------------------------------------------------------------------
    def _rank(self, n: int) -> int | None:
        if self.rank is None:
            return None
        if self.rank == "auto":
            return None if n <= DENSE_LIMIT else AUTO_RANK
        if isinstance(self.rank, int) and self.rank >= 1:
            return self.rank
        raise ValueError(f"rank must be None, 'auto' or a positive integer, got {self.rank!r}")

    def _feature_maps(self, x: FloatArray, kernels: Sequence[BaseKernel]) -> dict[BaseKernel, FeatureMap]:
        median = median_distance(x, seed=self._seed())
        self.median_distance_ = median
        rank = self._rank(len(x))
        return {k: feature_map(k, x, median, rank=rank, seed=self._seed()) for k in kernels}

    def _laplacian(self, x: FloatArray, graph: Graph) -> Laplacian:
        if graph.neighbours == "knn" and graph.k >= len(x):
            graph = Graph(**{**graph.__dict__, "k": len(x) - 1})
        lap = laplacian(x, graph)
        self.isolated_points_[graph.name] = lap.isolated
        return lap

    def _seed(self) -> int:
        return 0 if self.random_state is None else int(self.random_state)

    def _pairs(
        self, x: FloatArray, index: IntArray, kernels: Sequence[BaseKernel], graphs: Sequence[Graph]
    ) -> tuple[dict[BaseKernel, FeatureMap], list[Pair]]:
        """Feature maps of ``kernels`` and every (kernel, graph) deformation, graphs built from all
        rows of ``x``."""
        if not kernels or not graphs:
            raise ValueError("at least one base kernel and one graph are needed")
        labelled = np.flatnonzero(index >= 0)
        maps = self._feature_maps(x, kernels)
        self.landmarks_ = next(iter(maps.values())).landmarks
        self.isolated_points_: dict[str, int] = {}
        pairs: list[Pair] = []
        for graph in graphs:
            lap = self._laplacian(x, graph)
            for kernel in kernels:
                fmap = maps[kernel]
                d = deform(fmap.train, lap.matrix, labelled, gamma=self.gamma_I, power=self.laplacian_power)
                gram = fmap.train[labelled] @ d.columns
                pairs.append(Pair(kernel, graph, d, (gram + gram.T) / 2.0))
        return maps, pairs

    def _finish_dual(
        self,
        maps: dict[BaseKernel, FeatureMap],
        pairs: list[Pair],
        weights: FloatArray,
        index: IntArray,
    ) -> None:
        """Solve the SVMs on ``Σ μ_m K̃_m``, keep the pairs with a non-zero weight, set the expansion,
        the calibration and the transductive labels."""
        problems = self._problems(index)
        gram = sum(
            (w * p.gram for w, p in zip(weights, pairs, strict=True) if w > 0), np.zeros_like(pairs[0].gram)
        )
        solutions = [solve_dual(gram, y, self.C) for y in problems]
        matrices: dict[BaseKernel, FloatArray] = {}
        for w, p in zip(weights, pairs, strict=True):
            if w > 0:
                part = w * (maps[p.kernel].projection @ p.deformation.columns)
                matrices[p.kernel] = matrices[p.kernel] + part if p.kernel in matrices else part
        self.expansions_ = [Expansion(k, m) for k, m in matrices.items()]
        self.coef_ = np.vstack([s.beta for s in solutions])
        self.intercept_ = np.array([s.intercept for s in solutions])
        self._calibrate(problems, self._cv_dual(gram, index, problems, solutions))

    def _cv_dual(
        self, gram: FloatArray, index: IntArray, problems: list[IntArray], solutions: list[DualSolution]
    ) -> FloatArray:
        """Cross-validated decision values of the labelled samples on a fixed kernel (in-sample values
        where a fold cannot be formed)."""
        out = np.column_stack([gram @ s.beta + s.intercept for s in solutions])
        for train, test in self._folds(index):
            for j, y in enumerate(problems):
                if len(np.unique(y[train])) < 2:
                    continue
                s = solve_dual(gram[np.ix_(train, train)], y[train], self.C)
                out[test, j] = gram[np.ix_(test, train)] @ s.beta + s.intercept
        return out

    def _set_transduction(self, x: FloatArray, index: IntArray) -> None:
        raw = self._raw_decision(x)  # x is already in weighted feature space
        if getattr(self, "class_balance", False):
            offsets = balance_offsets(
                raw[index < 0], np.bincount(index[index >= 0], minlength=len(self.classes_))
            )
            self.intercept_ = self.intercept_ + offsets
            raw = raw + offsets
        self.label_distributions_ = self._proba(raw)
        self.transduction_ = self._labels(raw)

    # ---- one-vs-rest -----------------------------------------------------------------------------
    def _problems(self, index: IntArray) -> list[IntArray]:
        """The ``±1`` targets of each binary problem on the labelled samples (one when there are two
        classes, the positive one being ``classes_[1]``; one per class otherwise)."""
        y = index[index >= 0]
        if len(self.classes_) == 2:
            return [np.where(y == 1, 1, -1).astype(np.int64)]
        return [np.where(y == c, 1, -1).astype(np.int64) for c in range(len(self.classes_))]

    # ---- prediction ------------------------------------------------------------------------------
    def _expansion_features(self, x: FloatArray) -> FloatArray:
        total: FloatArray | None = None
        for e in self.expansions_:
            part = e.kernel.gram(x, self.landmarks_, self.median_distance_) @ e.matrix
            total = part if total is None else total + part
        assert total is not None
        return total

    def _raw_decision(self, x: FloatArray) -> FloatArray:
        out: FloatArray = self._expansion_features(x) @ self.coef_.T + self.intercept_
        return out

    def decision_function(self, X: object) -> FloatArray:
        """Signed distance to the margin: shape ``(n,)`` for two classes (positive means
        ``classes_[1]``), ``(n, n_classes)`` one-vs-rest otherwise."""
        raw = self._raw_decision(self._check_predict_input(X))
        out: FloatArray = raw[:, 0] if len(self.classes_) == 2 else raw
        return out

    def predict(self, X: object) -> NDArray[np.generic]:
        """The class of each row of ``X``."""
        return self._labels(self._raw_decision(self._check_predict_input(X)))

    def _labels(self, raw: FloatArray) -> NDArray[np.generic]:
        winner = (raw[:, 0] > 0).astype(int) if len(self.classes_) == 2 else np.argmax(raw, axis=1)
        out: NDArray[np.generic] = self.classes_[winner]
        return out

    def predict_proba(self, X: object) -> FloatArray:
        """Class probabilities from a Platt sigmoid fitted on cross-validated decision values of the
        labelled samples (for several classes, the one-vs-rest sigmoids renormalised to sum to 1)."""
        return self._proba(self._raw_decision(self._check_predict_input(X)))

    def _proba(self, raw: FloatArray) -> FloatArray:
        p = self.calibration_(raw)
        if len(self.classes_) == 2:
            out: FloatArray = np.column_stack([1.0 - p[:, 0], p[:, 0]])
            return out
        p = np.clip(p, 1e-12, None)
        out = p / p.sum(axis=1, keepdims=True)
        return out

    def predict_log_proba(self, X: object) -> FloatArray:
        out: FloatArray = np.log(np.clip(self.predict_proba(X), 1e-300, None))
        return out

    # ---- calibration -----------------------------------------------------------------------------
    def _calibrate(self, problems: list[IntArray], cv_decision: FloatArray) -> None:
        """One sigmoid for every one-vs-rest problem, fitted on their pooled cross-validated decision
        values: a single monotone map keeps ``argmax predict_proba == predict``."""
        self.calibration_ = fit_platt(cv_decision.T.ravel(), np.concatenate(problems))

    def _folds(self, index: IntArray) -> list[tuple[IntArray, IntArray]]:
        """Stratified folds of the labelled samples for the calibration (at most 5; none when a
        class has a single labelled sample, and then the in-sample decision values are used)."""
        y = index[index >= 0]
        smallest = int(np.bincount(y).min()) if len(y) else 0
        if smallest < 2:
            return []
        split = StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=self._seed())
        return [(a.astype(np.int64), b.astype(np.int64)) for a, b in split.split(np.zeros(len(y)), y)]

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
