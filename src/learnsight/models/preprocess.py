"""Tabular preprocessing fitted on training rows only, in front of any task-aware model.

Features from the store have missing values (NaN: a source the student has no data in, a week not
yet observed) and very different scales (clicks in thousands, shares in [0, 1]).  :class:`Prepared`
wraps a model with the preprocessing it needs and passes each row's task (course) through to
models that take one (:class:`~learnsight.models.rmtl.RMTLClassifier`,
:class:`~learnsight.models.baselines.PerTask`): scikit-learn's ``Pipeline`` cannot route ``tasks``
without the global metadata-routing switch.

Steps, all learnt on the rows given to ``fit``:

1. drop columns that are empty (all NaN) or constant — an absent source carries no information;
2. with ``impute=True``: median imputation plus a 0/1 *missing* indicator per column that had
   missing values (the fact that a value is missing is itself informative);
3. with ``scale=True``: standardisation (zero mean, unit variance), which penalised linear models
   and RMTL's trace and group norms assume.

Tree ensembles that handle NaN themselves (histogram gradient boosting) take ``impute=False,
scale=False``: only step 1.
"""

# Upper-case X follows scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin, clone  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]


def accepts_tasks(estimator: Any) -> bool:
    """Whether ``estimator.fit`` takes a ``tasks`` argument."""
    return "tasks" in inspect.signature(estimator.fit).parameters


class Prepared(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A model behind drop-empty → (impute + missing indicators) → (standardise) preprocessing.

    Parameters
    ----------
    estimator : estimator
        The model; cloned at ``fit``.  Gets ``tasks=`` when its ``fit`` accepts it.
    impute : bool, default=True
        Median imputation with missing indicators.
    scale : bool, default=True
        Standardisation.
    feature_names : sequence of str or None, default=None
        Names of the input columns, for :attr:`feature_names_out_`.

    Attributes
    ----------
    estimator_ : the fitted model
    kept_ : ndarray of int — input columns kept by step 1
    feature_names_out_ : list of str — names of the model's input columns (``<name>`` and
        ``<name> missing`` for the indicators)
    classes_ : ndarray — the model's classes
    """

    def __init__(
        self,
        estimator: Any,
        *,
        impute: bool = True,
        scale: bool = True,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        self.estimator = estimator
        self.impute = impute
        self.scale = scale
        self.feature_names = feature_names

    def fit(self, X: Any, y: Any, tasks: Any = None) -> Prepared:
        """Learn the preprocessing on ``X`` and fit the model on the transformed rows."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}")
        names = (
            list(self.feature_names)
            if self.feature_names is not None
            else [f"x{j}" for j in range(X.shape[1])]
        )
        if len(names) != X.shape[1]:
            raise ValueError(f"feature_names has {len(names)} names, X has {X.shape[1]} columns")
        self.n_features_in_ = X.shape[1]
        with np.errstate(invalid="ignore"):
            lo, hi = (
                np.nanmin(np.where(np.isnan(X), np.inf, X), axis=0),
                np.nanmax(np.where(np.isnan(X), -np.inf, X), axis=0),
            )
        self.kept_ = np.flatnonzero(np.isfinite(lo) & (hi > lo))
        kept_names = [names[j] for j in self.kept_]
        Xk = X[:, self.kept_]
        self.imputer_: SimpleImputer | None = None
        self.scaler_: StandardScaler | None = None
        out_names = kept_names
        if self.impute:
            self.imputer_ = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
            Xk = self.imputer_.fit_transform(Xk)
            flagged = self.imputer_.indicator_.features_ if self.imputer_.indicator_ is not None else []
            out_names = kept_names + [f"{kept_names[j]} missing" for j in flagged]
        if self.scale:
            self.scaler_ = StandardScaler()
            Xk = self.scaler_.fit_transform(Xk)
        self.feature_names_out_ = out_names
        self.estimator_ = clone(self.estimator)
        if accepts_tasks(self.estimator_):
            self.estimator_.fit(Xk, y, tasks=tasks)
        else:
            self.estimator_.fit(Xk, y)
        self.classes_ = getattr(self.estimator_, "classes_", None)
        return self

    def transform(self, X: Any) -> FloatArray:
        """``X`` as the model sees it."""
        check_is_fitted(self, "estimator_")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[-1]} columns, the model was fitted on {self.n_features_in_}")
        Xk = X[:, self.kept_]
        if self.imputer_ is not None:
            Xk = self.imputer_.transform(Xk)
        if self.scaler_ is not None:
            Xk = self.scaler_.transform(Xk)
        return np.asarray(Xk, dtype=np.float64)

    def _call(self, method: str, X: Any, tasks: Any) -> Any:
        Xt = self.transform(X)
        fn = getattr(self.estimator_, method)
        if "tasks" in inspect.signature(fn).parameters:
            return fn(Xt, tasks=tasks)
        return fn(Xt)

    def predict(self, X: Any, tasks: Any = None) -> Any:
        return self._call("predict", X, tasks)

    def predict_proba(self, X: Any, tasks: Any = None) -> FloatArray:
        return np.asarray(self._call("predict_proba", X, tasks), dtype=np.float64)

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        from sklearn.metrics import accuracy_score  # type: ignore[import-untyped]

        return float(accuracy_score(y, self.predict(X, tasks), sample_weight=sample_weight))


__all__ = ["Prepared", "accepts_tasks"]
