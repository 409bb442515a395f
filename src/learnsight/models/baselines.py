"""Single-task baselines with the multi-task interface, so they run on the same splits as RMTL.

:class:`PerTask` wraps any scikit-learn estimator behind ``fit(X, y, tasks)`` /
``predict(X, tasks)`` / ``predict_proba(X, tasks)``, the interface of
:class:`~learnsight.models.rmtl.RMTLRegressor` and :class:`~learnsight.models.rmtl.RMTLClassifier`,
so :func:`learnsight.models.evaluation.repeated_cv` (``pass_tasks=True``) evaluates baselines and
RMTL on identical folds (SPEC §3: "compare with single-task learning on the same splits, and with
strong single-task baselines"). :func:`baseline_models` builds the standard set.
"""

# Upper-case names (X) follow scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, clone, is_classifier  # type: ignore[import-untyped]
from sklearn.dummy import DummyClassifier  # type: ignore[import-untyped]
from sklearn.ensemble import (  # type: ignore[import-untyped]
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score, r2_score  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]
from sklearn.utils import get_tags  # type: ignore[import-untyped]
from sklearn.utils.metaestimators import available_if  # type: ignore[import-untyped]
from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from learnsight.models.rmtl._data import FloatArray, encode_tasks, lookup_tasks

Kind = Literal["regression", "classification"]


def _inner_has_proba(self: PerTask) -> bool:
    return hasattr(self.estimator, "predict_proba")


class PerTask(BaseEstimator):  # type: ignore[misc]
    """Fit a scikit-learn estimator per task (course), or once on all tasks pooled.

    A meta-estimator with the multi-task interface of the RMTL estimators: ``fit(X, y, tasks)``,
    ``predict(X, tasks)`` and, when the wrapped estimator is a classifier,
    ``predict_proba(X, tasks)``. With ``pooled=False`` (single-task learning) an independent clone
    of ``estimator`` is fitted on each task's rows and predicts that task's rows. With
    ``pooled=True`` one clone is fitted on all rows; ``task_feature=True`` then appends one-hot
    task indicator columns to ``X`` so the pooled model can learn per-task offsets.

    For classifiers, ``classes_`` are the classes of all of ``y``; a task whose training rows hold
    only some of them predicts probability 0 for the others (``predict_proba`` is always
    ``(n_samples, n_classes)`` in the order of ``classes_``), and a task whose training rows hold a
    single class predicts that class with probability 1 (a
    :class:`~sklearn.dummy.DummyClassifier` stands in, since e.g. logistic regression cannot be
    fitted on one class).

    Parameters
    ----------
    estimator : estimator object
        Unfitted scikit-learn regressor or classifier; cloned, never fitted itself.
    pooled : bool, default=False
        Fit one model on all rows instead of one per task.
    task_feature : bool, default=False
        With ``pooled=True``, append one-hot task indicators (one column per task seen in
        ``fit``, in the order of ``tasks_``) to the features. Requires ``pooled=True``.

    Attributes
    ----------
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in ``fit`` (``[0]`` when ``tasks`` was None).
    estimators_ : list of estimator
        Fitted models: one per task aligned with ``tasks_``, or a single one when pooled.
    classes_ : ndarray of shape (n_classes,)
        All classes of ``y`` (classifiers only).
    n_features_in_ : int
        Number of columns of ``X`` (without the task indicators).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> X = np.arange(8.0).reshape(-1, 1)
    >>> tasks = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> y = np.where(tasks == 0, 2 * X[:, 0], -X[:, 0])
    >>> model = PerTask(Ridge(alpha=1e-9)).fit(X, y, tasks)
    >>> np.round(model.predict(np.array([[1.0], [1.0]]), tasks=[0, 1]), 3)
    array([ 2., -1.])
    """

    tasks_: npt.NDArray[Any]
    estimators_: list[Any]

    def __init__(self, estimator: Any, *, pooled: bool = False, task_feature: bool = False) -> None:
        self.estimator = estimator
        self.pooled = pooled
        self.task_feature = task_feature

    def __sklearn_tags__(self) -> Any:
        """Estimator type and NaN support follow the wrapped estimator."""
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    def _indicators(self, X: FloatArray, codes: npt.NDArray[np.intp]) -> FloatArray:
        if not (self.pooled and self.task_feature):
            return X
        onehot = np.zeros((X.shape[0], self.tasks_.shape[0]))
        onehot[np.arange(X.shape[0]), codes] = 1.0
        return np.hstack([X, onehot])

    def fit(self, X: Any, y: Any, tasks: Any = None) -> PerTask:
        """Fit one clone of ``estimator`` per task, or one pooled clone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        tasks : array-like of shape (n_samples,), default=None
            Task (course) label of each row; None means a single task.

        Returns
        -------
        self : PerTask

        Raises
        ------
        ValueError
            If ``task_feature=True`` without ``pooled=True``, or ``tasks`` has the wrong shape.
        """
        if self.task_feature and not self.pooled:
            raise ValueError("task_feature=True needs pooled=True (per-task models see one task each)")
        allow_nan = get_tags(self.estimator).input_tags.allow_nan
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_all_finite="allow-nan" if allow_nan else True
        )
        classifier = is_classifier(self.estimator)
        if classifier:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
        labels, codes = encode_tasks(tasks, X.shape[0])
        self.tasks_ = labels
        if self.pooled:
            self.estimators_ = [clone(self.estimator).fit(self._indicators(X, codes), y)]
            return self
        models: list[Any] = []
        for t in range(labels.shape[0]):
            rows = codes == t
            if classifier and np.unique(y[rows]).shape[0] == 1:
                models.append(DummyClassifier(strategy="most_frequent").fit(X[rows], y[rows]))
            else:
                models.append(clone(self.estimator).fit(X[rows], y[rows]))
        self.estimators_ = models
        return self

    def _prepare(self, X: Any, tasks: Any) -> tuple[FloatArray, npt.NDArray[np.intp]]:
        check_is_fitted(self)
        allow_nan = get_tags(self.estimator).input_tags.allow_nan
        X = validate_data(
            self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan" if allow_nan else True
        )
        if self.pooled and not self.task_feature and tasks is None:
            return X, np.zeros(X.shape[0], dtype=np.intp)  # the pooled model needs no tasks
        return X, lookup_tasks(tasks, X.shape[0], self.tasks_)

    def predict(self, X: Any, tasks: Any = None) -> npt.NDArray[Any]:
        """Predict each row with its task's model (or the pooled model).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        tasks : array-like of shape (n_samples,), default=None
            Task of each row; needed unless the model was fitted on one task, or is pooled
            without task indicators.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)

        Raises
        ------
        ValueError
            If a task was not seen in ``fit``.
        """
        X, codes = self._prepare(X, tasks)
        if self.pooled:
            return np.asarray(self.estimators_[0].predict(self._indicators(X, codes)))
        dtype = self.classes_.dtype if is_classifier(self.estimator) else np.float64
        out = np.empty(X.shape[0], dtype=dtype)
        for t in np.unique(codes):
            rows = codes == t
            out[rows] = self.estimators_[t].predict(X[rows])
        return out

    @available_if(_inner_has_proba)  # type: ignore[untyped-decorator]
    def predict_proba(self, X: Any, tasks: Any = None) -> FloatArray:
        """Class probabilities, columns in the order of ``classes_`` (all classes of the fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        tasks : array-like of shape (n_samples,), default=None
            Task of each row, as in :meth:`predict`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Classes absent from a task's training rows get probability 0 for that task's rows.

        Raises
        ------
        ValueError
            If a task was not seen in ``fit``.
        """
        X, codes = self._prepare(X, tasks)
        out = np.zeros((X.shape[0], self.classes_.shape[0]))
        if self.pooled:
            groups = [(self.estimators_[0], np.ones(X.shape[0], dtype=bool))]
            X = self._indicators(X, codes)
        else:
            groups = [(self.estimators_[t], codes == t) for t in np.unique(codes)]
        for model, rows in groups:
            cols = np.searchsorted(self.classes_, model.classes_)
            out[np.ix_(rows, cols)] = model.predict_proba(X[rows])
        return out

    def score(self, X: Any, y: Any, tasks: Any = None) -> float:
        """Accuracy for classifiers, R² for regressors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        tasks : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        metric = accuracy_score if is_classifier(self.estimator) else r2_score
        return float(metric(y, self.predict(X, tasks)))


def _linear(kind: Kind, seed: int) -> Any:
    if kind == "regression":
        return make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000, random_state=seed))


def baseline_models(kind: Kind, seed: int, *, task_feature: bool = True) -> dict[str, PerTask]:
    """The standard single-task baselines, each per task and pooled.

    Parameters
    ----------
    kind : {"regression", "classification"}
        Regression (scores) or classification (excellent / normal / at-risk).
    seed : int
        ``random_state`` of the randomised estimators (forest, boosting, logistic regression).
    task_feature : bool, default=True
        Give the pooled models one-hot task indicators.

    Returns
    -------
    models : dict of str to PerTask
        Unfitted models: ``"ridge"`` (or ``"logistic"``), ``"random_forest"`` and
        ``"gradient_boosting"`` fitted per task, and the same names with ``"_pooled"`` fitted once
        on all tasks. The linear models standardise features first (``StandardScaler`` in a
        ``Pipeline``, fitted within each training fold). Gradient boosting uses
        ``min_samples_leaf=5`` (scikit-learn's default of 20 cannot split a course of fewer than
        40 rows, so a per-course model would predict a constant).

    Raises
    ------
    ValueError
        If ``kind`` is neither ``"regression"`` nor ``"classification"``.
    """
    if kind == "regression":
        bases: dict[str, Any] = {
            "ridge": _linear(kind, seed),
            "random_forest": RandomForestRegressor(n_estimators=200, random_state=seed),
            "gradient_boosting": HistGradientBoostingRegressor(min_samples_leaf=5, random_state=seed),
        }
    elif kind == "classification":
        bases = {
            "logistic": _linear(kind, seed),
            "random_forest": RandomForestClassifier(n_estimators=200, random_state=seed),
            "gradient_boosting": HistGradientBoostingClassifier(min_samples_leaf=5, random_state=seed),
        }
    else:
        raise ValueError(f"kind must be 'regression' or 'classification', got {kind!r}")
    models: dict[str, PerTask] = {}
    for name, base in bases.items():
        models[name] = PerTask(base)
        models[f"{name}_pooled"] = PerTask(clone(base), pooled=True, task_feature=task_feature)
    return models


__all__ = ["Kind", "PerTask", "baseline_models"]
