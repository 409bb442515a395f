"""The baselines the LapSVMs are compared with in the benchmark protocol (:mod:`.benchmark`).

Each is a scikit-learn classifier taking ``y`` with ``-1`` for unlabelled rows, as
:mod:`sklearn.semi_supervised` does, and leaving ``transduction_`` (the predicted class of every row
passed to ``fit``) and ``predict`` for new rows:

* :class:`LabelledOnlySVC` — an RBF SVM fitted on the labelled rows alone (the floor any
  semi-supervised method must beat);
* :class:`SelfTrainingSVC` — :class:`sklearn.semi_supervised.SelfTrainingClassifier` around the same
  SVM with Platt probabilities (sigmoid calibration on cross-validated decision values; Yarowsky
  1995, Platt 1999);
* :class:`DeformedKernelSVM` — an SVM on the graph-deformed kernel of :mod:`.kernels` (Sindhwani,
  Niyogi & Belkin 2005), one Gaussian kernel and one graph.

Hyper-parameters are fixed numbers or label-free rules: the Gaussian width is ``width_scale`` times
the median pairwise distance of the rows the kernel is built on — the labelled rows for the
supervised SVMs, all rows for the deformed kernel (whose graph uses all rows anyway).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
from sklearn.semi_supervised import SelfTrainingClassifier  # type: ignore[import-untyped]
from sklearn.svm import SVC  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from learnsight.models.semisupervised._base import UNLABELLED
from learnsight.models.semisupervised.graph import Graph, laplacian
from learnsight.models.semisupervised.kernels import (
    DeformedKernel,
    gaussian,
    laplacian_power,
    median_distance,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _split_labelled(
    estimator: BaseEstimator, x: object, y: object
) -> tuple[FloatArray, IntArray, NDArray[np.bool_]]:
    xv, yv = validate_data(estimator, x, y, dtype=np.float64)
    yv = np.asarray(yv)
    if yv.dtype.kind not in "iu":
        raise ValueError("y must hold integer class labels, -1 for unlabelled rows")
    labelled = yv != UNLABELLED
    classes = np.unique(yv[labelled])
    if len(classes) < 2:
        raise ValueError(f"at least two classes need a labelled row, got {classes.tolist()}")
    return xv, yv.astype(np.int64), labelled


def _gamma(width: float) -> float:
    return 1.0 / (2.0 * width * width)


class LabelledOnlySVC(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """An RBF SVM on the labelled rows only; unlabelled rows (``y == -1``) are ignored.

    Parameters
    ----------
    C : float
        Soft-margin constant.
    width_scale : float
        Gaussian width as a multiple of the labelled rows' median pairwise distance.

    Attributes
    ----------
    classes_, transduction_, width_, svc_
    """

    def __init__(self, C: float = 10.0, width_scale: float = 1.0) -> None:  # noqa: N803
        self.C = C
        self.width_scale = width_scale

    def fit(self, X: object, y: object) -> LabelledOnlySVC:  # noqa: N803
        x, yv, labelled = _split_labelled(self, X, y)
        self.width_ = self.width_scale * median_distance(x[labelled])
        self.svc_ = SVC(C=self.C, gamma=_gamma(self.width_)).fit(x[labelled], yv[labelled])
        self.classes_ = self.svc_.classes_
        self.transduction_ = np.where(labelled, yv, self.svc_.predict(x))
        return self

    def predict(self, X: object) -> NDArray[np.int64]:  # noqa: N803
        check_is_fitted(self, "svc_")
        out: NDArray[np.int64] = self.svc_.predict(validate_data(self, X, dtype=np.float64, reset=False))
        return out

    def decision_function(self, X: object) -> FloatArray:  # noqa: N803
        check_is_fitted(self, "svc_")
        out: FloatArray = self.svc_.decision_function(validate_data(self, X, dtype=np.float64, reset=False))
        return out


class SelfTrainingSVC(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Self-training around an RBF SVM with Platt probabilities: each round labels the unlabelled
    rows predicted with probability ≥ ``threshold`` and refits, for at most ``max_iter`` rounds.

    The Gaussian width is fixed once, from the labelled rows' median distance, for every round.
    """

    def __init__(
        self,
        C: float = 10.0,  # noqa: N803
        width_scale: float = 1.0,
        threshold: float = 0.75,
        max_iter: int = 10,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.width_scale = width_scale
        self.threshold = threshold
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: object, y: object) -> SelfTrainingSVC:  # noqa: N803
        x, yv, labelled = _split_labelled(self, X, y)
        smallest = int(np.unique(yv[labelled], return_counts=True)[1].min())
        if smallest < 2:
            raise ValueError("self-training needs at least two labelled rows of every class (Platt scaling)")
        self.width_ = self.width_scale * median_distance(x[labelled])
        svc = SVC(C=self.C, gamma=_gamma(self.width_))
        # Platt probabilities from cross-validated decision values, one SVM refitted on all rows:
        # what SVC(probability=True) did before scikit-learn 1.9 deprecated it.
        folds = StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=self.random_state)
        base = CalibratedClassifierCV(svc, method="sigmoid", cv=folds, ensemble=False)
        self.model_ = SelfTrainingClassifier(base, threshold=self.threshold, max_iter=self.max_iter)
        self.model_.fit(x, yv)
        self.classes_ = self.model_.classes_
        self.transduction_ = np.where(labelled, yv, self.model_.predict(x))
        return self

    def predict(self, X: object) -> NDArray[np.int64]:  # noqa: N803
        check_is_fitted(self, "model_")
        out: NDArray[np.int64] = self.model_.predict(validate_data(self, X, dtype=np.float64, reset=False))
        return out

    def predict_proba(self, X: object) -> FloatArray:  # noqa: N803
        check_is_fitted(self, "model_")
        out: FloatArray = self.model_.predict_proba(validate_data(self, X, dtype=np.float64, reset=False))
        return out


class DeformedKernelSVM(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """An SVM on a Gaussian kernel deformed by one graph built from all rows passed to ``fit``.

    ``k̃ = k − k_xᵀ (I + M K)⁻¹ M k_z`` with ``M = gamma_I · Lᵖ`` (:class:`.kernels.DeformedKernel`);
    the SVM (precomputed kernel) is trained on the labelled rows; new rows are classified through
    the deformed kernel's extension to new points.

    Parameters
    ----------
    C : float
        Soft-margin constant.
    width_scale : float
        Gaussian width as a multiple of the median pairwise distance of all rows.
    graph : Graph
        The data graph (default: symmetric 10-NN, heat weights, normalised Laplacian).
    power : int
        Laplacian power ``p`` (2: the iterated Laplacian of Belkin, Niyogi & Sindhwani 2006).
    gamma_I : float
        Weight of the graph term.
    """

    def __init__(
        self,
        C: float = 10.0,  # noqa: N803
        width_scale: float = 1.0,
        graph: Graph | None = None,
        power: int = 2,
        gamma_I: float = 1.0,  # noqa: N803
    ) -> None:
        self.C = C
        self.width_scale = width_scale
        self.graph = graph
        self.power = power
        self.gamma_I = gamma_I

    def fit(self, X: object, y: object) -> DeformedKernelSVM:  # noqa: N803
        x, yv, labelled = _split_labelled(self, X, y)
        graph = self.graph if self.graph is not None else Graph()
        if graph.neighbours == "knn" and graph.k >= len(x):
            graph = Graph(**{**graph.__dict__, "k": len(x) - 1})
        self.width_ = self.width_scale * median_distance(x)
        k = gaussian(x, x, self.width_)
        lap = laplacian(x, graph).matrix.toarray()
        self.deformed_ = DeformedKernel(k, laplacian_power(lap, self.power, self.gamma_I))
        k_tilde = self.deformed_.train()
        self.labelled_x_ = x[labelled]
        self.train_x_ = x
        self.k_labelled_train_ = k[labelled]
        self.svc_ = SVC(C=self.C, kernel="precomputed").fit(k_tilde[np.ix_(labelled, labelled)], yv[labelled])
        self.classes_ = self.svc_.classes_
        self.transduction_ = np.where(labelled, yv, self.svc_.predict(k_tilde[:, labelled]))
        return self

    def _cross(self, X: object) -> FloatArray:  # noqa: N803
        check_is_fitted(self, "svc_")
        x = validate_data(self, X, dtype=np.float64, reset=False)
        k_x_train = gaussian(x, self.train_x_, self.width_)
        k_xz = gaussian(x, self.labelled_x_, self.width_)
        return self.deformed_.cross(k_x_train, self.k_labelled_train_, k_xz)

    def predict(self, X: object) -> NDArray[np.int64]:  # noqa: N803
        out: NDArray[np.int64] = self.svc_.predict(self._cross(X))
        return out

    def decision_function(self, X: object) -> FloatArray:  # noqa: N803
        out: FloatArray = self.svc_.decision_function(self._cross(X))
        return out


def label_spreading(**params: Any) -> Any:
    """:class:`sklearn.semi_supervised.LabelSpreading` on a 7-NN graph, clamping ``alpha = 0.2``,
    iterated to convergence (at most 1,000 rounds)."""
    from sklearn.semi_supervised import LabelSpreading

    settings: dict[str, Any] = {"kernel": "knn", "n_neighbors": 7, "alpha": 0.2, "max_iter": 1000}
    settings.update(params)
    return LabelSpreading(**settings)


__all__ = ["DeformedKernelSVM", "LabelledOnlySVC", "SelfTrainingSVC", "label_spreading"]
