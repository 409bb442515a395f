"""The teaching-evaluation protocol (SPEC §6): expert labels, the labelled split, group scores and
their deviation — pure functions shared by the survey path and the simulated-lesson path.

Labels
    An **expert label** is an ordered level of a 1–5 quality scale.  For a survey evaluation it is
    derived from the sixteen instructor statements Q13–Q28 (:func:`expert_levels` on their mean);
    for a simulated lesson it is the planted expert rating.  A :class:`LabelDesign` fixes the level
    boundaries and the **value** each level contributes to a score, on the same 1–5 scale.  The
    default design, ``"3"``, is the coarse rating an expert gives a lesson: poor < 2.5 ≤ fair < 3.5
    ≤ good, each valued at its band's midpoint (1.75, 3, 4.25).  ``"5"`` is the survey's own
    scale — the mean rounded half up (1.5 → 2), valued at the level itself — a finer and harder
    target (5 % labels then keep every group within 5 % on seven seeds in ten, against every
    seed in ten for ``"3"``; the closing note of issue 9 gives the figures).

Labelled split
    :func:`labelled_split` reveals a fraction ``f`` of the labels, stratified by level and seeded:
    level ``c`` with ``n_c`` members gets ``⌊f·n_c + ½⌋`` labels drawn at random.  A level that would
    get no label, or a split that reveals every label (nothing left to predict), is an error, as is
    ``f`` outside (0, 1).  (The lesson path asks for at least one rated lesson per level, as an
    expert asked to rate a few lessons would cover the range; the survey path does not.)

Group score and deviation
    The score of a group (an instructor × course, a teacher) is the mean level value of its members.
    The **true** score uses every member's true label; the **predicted** score uses the model's
    prediction for each unlabelled member and the given label for each labelled one.
    ``deviation_pct = 100 · |predicted − true| / true``; :func:`max_deviation` is its maximum over the
    groups with at least ``min_n`` members (40 for surveys: smaller groups are reported, not judged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from learnsight.errors import LearnsightError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MIN_GROUP_N: Final = 40
"""Survey groups with fewer evaluations are reported but not judged by :func:`max_deviation`."""
TOLERANCE_PCT: Final = 5.0
"""The goal of SPEC §6: a system score within 5 % of the expert's."""


class ProtocolError(LearnsightError):
    """The protocol cannot run on this input (labelled fraction, classes, non-finite features)."""


@dataclass(frozen=True)
class LabelDesign:
    """Ordered levels on the 1–5 scale: level ``k`` (1-based) holds the values ``x`` with
    ``cuts[k-2] ≤ x < cuts[k-1]`` and contributes ``values[k-1]`` to a score."""

    name: str
    cuts: tuple[float, ...]
    values: tuple[float, ...]
    names: tuple[str, ...]

    @property
    def levels(self) -> int:
        return len(self.values)

    def describe(self) -> str:
        bands = []
        edges = (1.0, *self.cuts, 5.0)
        for k in range(self.levels):
            high = "]" if k == self.levels - 1 else ")"
            bands.append(
                f"{k + 1} {self.names[k]} [{edges[k]:g}, {edges[k + 1]:g}{high} → {self.values[k]:g}"
            )
        return "; ".join(bands)


DESIGNS: Final[dict[str, LabelDesign]] = {
    "5": LabelDesign(
        name="5",
        cuts=(1.5, 2.5, 3.5, 4.5),
        values=(1.0, 2.0, 3.0, 4.0, 5.0),
        names=("very poor", "poor", "fair", "good", "very good"),
    ),
    "3": LabelDesign(
        name="3",
        cuts=(2.5, 3.5),
        values=(1.75, 3.0, 4.25),
        names=("poor", "fair", "good"),
    ),
}
"""The label designs; ``"3"`` is the default (see the module docstring)."""


def expert_levels(ratings: FloatArray, design: LabelDesign) -> IntArray:
    """The level (1 … ``design.levels``) of each rating on the 1–5 scale.

    >>> expert_levels(np.array([1.0, 1.49, 1.5, 3.2, 4.5, 5.0]), DESIGNS["5"]).tolist()
    [1, 1, 2, 3, 5, 5]
    >>> expert_levels(np.array([2.4, 2.5, 3.5]), DESIGNS["3"]).tolist()
    [1, 2, 3]
    """
    ratings = np.asarray(ratings, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(ratings) | (ratings < 1.0) | (ratings > 5.0))
    if bad.size:
        raise ProtocolError(f"rating {ratings[bad[0]]!r} (row {bad[0]}) is not on the 1–5 scale")
    levels = np.searchsorted(np.asarray(design.cuts), ratings, side="right") + 1
    return np.asarray(levels, dtype=np.int64)


def level_values(levels: IntArray, design: LabelDesign) -> FloatArray:
    """The score value of each level.

    >>> level_values(np.array([1, 3]), DESIGNS["3"]).tolist()
    [1.75, 4.25]
    """
    values: FloatArray = np.asarray(design.values, dtype=np.float64)[np.asarray(levels) - 1]
    return values


def labelled_split(levels: IntArray, fraction: float, seed: int, *, minimum: int = 0) -> BoolArray:
    """Which rows reveal their label: ``max(minimum, ⌊fraction·n_c + ½⌋)`` random rows (at most
    ``n_c``) of each level ``c``.

    >>> mask = labelled_split(np.array([1] * 10 + [2] * 30), 0.1, seed=0)
    >>> int(mask[:10].sum()), int(mask[10:].sum())
    (1, 3)

    Raises
    ------
    ProtocolError
        ``fraction`` is not in (0, 1); a level would get no labelled row; every row would be labelled.
    """
    if not (math.isfinite(fraction) and 0.0 < fraction < 1.0):
        raise ProtocolError(
            f"labelled fraction must be in (0, 1), got {fraction}: with every label given there is nothing "
            "to predict, with none there is nothing to learn from"
        )
    rng = np.random.default_rng(seed)
    mask = np.zeros(levels.size, dtype=np.bool_)
    for level in np.unique(levels):
        rows = np.flatnonzero(levels == level)
        k = min(rows.size, max(minimum, math.floor(fraction * rows.size + 0.5)))
        if k == 0:
            raise ProtocolError(
                f"level {int(level)} ({rows.size} rows) gets no labelled sample at a labelled fraction of "
                f"{fraction:g}; label at least {1 / (2 * rows.size):.3g} or use a coarser label design"
            )
        mask[rng.choice(rows, size=k, replace=False)] = True
    if mask.all():
        raise ProtocolError(
            f"a labelled fraction of {fraction:g} labels every row: nothing is left to predict"
        )
    return mask


def check_features(x: FloatArray, names: Sequence[str], *, rows: Sequence[str] | None = None) -> None:
    """Raise :class:`ProtocolError` naming the first row and feature that is NaN or infinite.

    >>> check_features(np.array([[1.0, np.inf]]), ["a", "b"], rows=["lesson L1"])
    Traceback (most recent call last):
    ...
    learnsight.teaching.protocol.ProtocolError: lesson L1, feature 'b': inf is not a finite number
    """
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        r, c = (int(i) for i in bad[0])
        where = rows[r] if rows is not None else f"row {r}"
        more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
        raise ProtocolError(f"{where}, feature {names[c]!r}: {x[r, c]!r} is not a finite number{more}")


def standardise(x: FloatArray) -> FloatArray:
    """Columns to zero mean and unit variance over every row (labelled or not: it uses no label); a
    constant column becomes 0."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    return np.asarray((x - mean) / scale, dtype=np.float64)


@dataclass(frozen=True)
class GroupScore:
    """One group's true and predicted score (see the module docstring)."""

    instructor: int | str
    course: int | str
    n: int
    score_true: float
    score_predicted: float

    @property
    def deviation_pct(self) -> float:
        return deviation_pct(self.score_predicted, self.score_true)

    def to_dict(self) -> dict[str, int | str | float]:
        return {
            "instructor": self.instructor,
            "course": self.course,
            "n": self.n,
            "score_true": round(self.score_true, 4),
            "score_predicted": round(self.score_predicted, 4),
            "deviation_pct": round(self.deviation_pct, 3),
        }


def deviation_pct(predicted: float, true: float) -> float:
    """``100 · |predicted − true| / true``.

    >>> round(deviation_pct(3.15, 3.0), 6)
    5.0
    """
    if true <= 0:
        raise ProtocolError(f"a true score of {true} has no relative deviation")
    return 100.0 * abs(predicted - true) / true


def group_scores(
    instructors: Sequence[int | str],
    courses: Sequence[int | str],
    true_values: FloatArray,
    predicted_values: FloatArray,
) -> list[GroupScore]:
    """One :class:`GroupScore` per (instructor, course), sorted by instructor then course."""
    keys = list(zip(instructors, courses, strict=True))
    order: dict[tuple[int | str, int | str], list[int]] = {}
    for i, key in enumerate(keys):
        order.setdefault(key, []).append(i)
    out = []
    for (instructor, course), members in sorted(order.items(), key=lambda kv: _sort_key(kv[0])):
        idx = np.asarray(members)
        out.append(
            GroupScore(
                instructor=instructor,
                course=course,
                n=int(idx.size),
                score_true=float(true_values[idx].mean()),
                score_predicted=float(predicted_values[idx].mean()),
            )
        )
    return out


def max_deviation(groups: Sequence[GroupScore], min_n: int = MIN_GROUP_N) -> float | None:
    """The largest ``deviation_pct`` over groups with at least ``min_n`` members (``None`` if none)."""
    judged = [g.deviation_pct for g in groups if g.n >= min_n]
    return max(judged) if judged else None


def _sort_key(key: tuple[int | str, int | str]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, k, "") if isinstance(k, int) else (1, 0, k) for k in key)
