"""The models a teaching evaluation can use, behind one seam.

Semi-supervised (they see every row and the revealed labels, ``-1`` elsewhere):

* ``mklapsvm`` — :class:`~learnsight.models.semisupervised.MultiKernelLapSVM` with its recommended
  settings (SPEC §6: several base kernels deformed by several graphs, weights learned); the default
  of the survey path;
* ``lapsvm`` — :class:`~learnsight.models.semisupervised.LapSVM` (one kernel, one graph);
* ``label-spreading`` — :class:`sklearn.semi_supervised.LabelSpreading` (RBF graph), a reference;
* ``laprls`` — :class:`~learnsight.models.semisupervised.LapRLS`, a semi-supervised *regressor* of
  the level (1 … K as a number), its ridge and graph strengths chosen by leave-one-out on the
  labelled rows; its predictions are kept as numbers (:attr:`Fitted.values`, clipped to ``[1, K]``)
  and scored on the design's value scale by linear interpolation, so a group's mean is not pulled
  to the middle by rounding each row to a level.  The default of the lesson path, where the expert's
  ratings are few and the extreme levels rare.

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

from learnsight.teaching.protocol import (
    BoolArray,
    FloatArray,
    IntArray,
    LabelDesign,
    ProtocolError,
    level_values,
)

SEMI_SUPERVISED: Final[tuple[str, ...]] = ("mklapsvm", "lapsvm", "label-spreading", "laprls")
BASELINES: Final[tuple[str, ...]] = ("svm", "logistic")
DEFAULT_MODEL: Final = "mklapsvm"
DEFAULT_LESSON_MODEL: Final = "laprls"
"""The lesson path's default (module docstring: ``laprls``)."""
DEFAULT_BASELINE: Final = "svm"


@dataclass(frozen=True)
class Fitted:
    """A model's predicted level for every row (revealed labels kept), with what it learned."""

    model: str
    levels: IntArray
    seconds: float
    kernel_weights: dict[str, float] = field(default_factory=dict)
    settings: dict[str, float] = field(default_factory=dict)
    """Hyper-parameters the model chose from the labelled rows (``laprls``: ``alpha``, ``gamma_I``)."""
    values: FloatArray | None = None
    """A regressor's level of every row as a number in ``[1, K]`` (revealed labels kept); ``None``
    for a classifier, whose ``levels`` are all there is."""

    def scores(self, design: LabelDesign) -> FloatArray:
        """Each row's score on ``design``'s value scale: the level's value, or for a regressor the
        value interpolated linearly between the levels around it."""
        if self.values is None:
            return level_values(self.levels, design)
        out: FloatArray = np.interp(self.values, np.arange(1, design.levels + 1), design.values)
        return out


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


def transduce(
    name: str, x: FloatArray, levels: IntArray, labelled: BoolArray, *, seed: int, n_levels: int | None = None
) -> Fitted:
    """Fit the semi-supervised model ``name`` on every row of ``x`` with the labels of the
    ``labelled`` rows; the predicted level of every row (a regressor's numbers are clipped to
    ``[1, n_levels]``, default the highest revealed level)."""
    if name == "laprls":
        return _regress(x, levels, labelled, n_levels or int(levels[labelled].max()))
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


def _regress(x: FloatArray, levels: IntArray, labelled: BoolArray, top: int) -> Fitted:
    """``laprls``: the level as a number, clipped to the range of levels, revealed labels kept."""
    from learnsight.models.semisupervised import LapRLS

    start = time.perf_counter()
    try:
        model = LapRLS().fit(x, np.where(labelled, levels, np.nan).astype(np.float64))
    except ValueError as exc:
        raise ProtocolError(f"laprls: {exc}") from exc
    values = np.where(labelled, levels, np.clip(model.transduction_, 1.0, top)).astype(np.float64)
    return Fitted(
        model="laprls",
        levels=np.clip(np.rint(values), 1, top).astype(np.int64),
        seconds=time.perf_counter() - start,
        settings={"alpha": float(model.alpha_), "gamma_I": float(model.gamma_I_)},
        values=values,
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
