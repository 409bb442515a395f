"""The models a teaching evaluation can use, behind one seam.

Semi-supervised (they see every row and the revealed labels, ``-1`` elsewhere):

* ``mklapsvm`` — :class:`~learnsight.models.semisupervised.MultiKernelLapSVM` with its recommended
  settings (SPEC §6: several base kernels deformed by several graphs, weights learned); the default;
* ``lapsvm`` — :class:`~learnsight.models.semisupervised.LapSVM` (one kernel, one graph);
* ``label-spreading`` — :class:`sklearn.semi_supervised.LabelSpreading` (RBF graph), a reference.

Supervised baselines (they see the labelled rows only): ``svm`` (RBF SVC, ``C = 1``,
``gamma = "scale"``) and ``logistic`` (multinomial logistic regression).

:func:`transduce` and :func:`supervise` fit and return the predicted level of **every** row; rows
whose label was revealed keep it (the protocol scores them with their label, whatever the model
says).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from learnsight.teaching.protocol import BoolArray, FloatArray, IntArray, ProtocolError

SEMI_SUPERVISED: Final[tuple[str, ...]] = ("mklapsvm", "lapsvm", "label-spreading")
BASELINES: Final[tuple[str, ...]] = ("svm", "logistic")
DEFAULT_MODEL: Final = "mklapsvm"
DEFAULT_BASELINE: Final = "svm"


@dataclass(frozen=True)
class Fitted:
    """A model's predicted level for every row (revealed labels kept), with what it learned."""

    model: str
    levels: IntArray
    seconds: float
    kernel_weights: dict[str, float] = field(default_factory=dict)


def check_model(name: str, choices: tuple[str, ...]) -> str:
    if name not in choices:
        raise ProtocolError(f"unknown model {name!r}; expected one of {', '.join(choices)}")
    return name


def make_semi_supervised(name: str, *, seed: int, classes: IntArray, n_features: int) -> Any:
    """A fresh, unfitted semi-supervised classifier ``name`` (see the module docstring)."""
    check_model(name, SEMI_SUPERVISED)
    if name == "label-spreading":
        from sklearn.semi_supervised import LabelSpreading  # type: ignore[import-untyped]

        return LabelSpreading(kernel="rbf", gamma=1.0 / max(n_features, 1), alpha=0.2, max_iter=200)
    from learnsight.models.semisupervised import LapSVM, MultiKernelLapSVM

    if name == "lapsvm":
        return LapSVM(classes=classes.tolist(), random_state=seed)
    return MultiKernelLapSVM(classes=classes.tolist(), random_state=seed)


def make_baseline(name: str, *, seed: int) -> Any:
    """A fresh, unfitted supervised classifier ``name``."""
    check_model(name, BASELINES)
    if name == "svm":
        from sklearn.svm import SVC  # type: ignore[import-untyped]

        return SVC(C=1.0, gamma="scale", random_state=seed)
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    return LogisticRegression(max_iter=5000, random_state=seed)


def transduce(name: str, x: FloatArray, levels: IntArray, labelled: BoolArray, *, seed: int) -> Fitted:
    """Fit the semi-supervised model ``name`` on every row of ``x`` with the labels of the
    ``labelled`` rows; the predicted level of every row."""
    partial = np.where(labelled, levels, -1).astype(np.int64)
    classes = np.unique(levels[labelled])
    model = make_semi_supervised(name, seed=seed, classes=classes, n_features=x.shape[1])
    start = time.perf_counter()
    try:
        model.fit(x, partial)
    except ValueError as exc:
        raise ProtocolError(f"{name}: {exc}") from exc
    predicted = _as_levels(model.transduction_)
    weights = getattr(model, "kernel_weights_", None) or {}
    return Fitted(
        model=name,
        levels=np.where(labelled, levels, predicted),
        seconds=time.perf_counter() - start,
        kernel_weights={str(k): float(v) for k, v in weights.items()},
    )


def supervise(name: str, x: FloatArray, levels: IntArray, labelled: BoolArray, *, seed: int) -> Fitted:
    """Fit the supervised baseline ``name`` on the ``labelled`` rows only; the predicted level of every
    row."""
    model = make_baseline(name, seed=seed)
    start = time.perf_counter()
    try:
        model.fit(x[labelled], levels[labelled])
    except ValueError as exc:
        raise ProtocolError(f"{name}: {exc}") from exc
    predicted = _as_levels(model.predict(x))
    return Fitted(
        model=name,
        levels=np.where(labelled, levels, predicted),
        seconds=time.perf_counter() - start,
    )


def _as_levels(values: NDArray[Any]) -> IntArray:
    return np.asarray(values, dtype=np.int64)
