"""Classroom-observation shares from video analysis (SPEC §2.5, classes from §5).

For one student over one or more lessons:

* posture share of behaviour ``b`` ``= d_b / Σ_b' d_b'`` where ``d_b`` is the observed time (seconds)
  in posture ``b`` among the six classes of SPEC §5 — upright, writing, hand raised (positive) /
  lying on the desk, looking around, phone (negative);
* positive-expression share ``= (d_calm + d_joy + d_surprise) / Σ_e d_e`` over the six expression
  classes (calm, joy, surprise positive / disgust, fear, anger negative);
* hand raises per lesson ``= raises / lessons``.

Time the models could not classify (SPEC §5 sends those cases to an expert) is not passed in and
so is not in any denominator: shares are *of the classified time*.  Durations may equally be frame
counts, as long as one unit is used throughout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, Literal, get_args

from learnsight.indicators.formulas._checks import IndicatorInputError, check_count, check_non_negative_real

Posture = Literal["upright", "writing", "hand-raised", "lying-on-desk", "looking-around", "phone"]
"""The response values of video observation statements (the same names the indicator SQL counts)."""
Expression = Literal["calm", "joy", "surprise", "disgust", "fear", "anger"]

POSTURES: Final[tuple[str, ...]] = get_args(Posture)
EXPRESSIONS: Final[tuple[str, ...]] = get_args(Expression)
POSITIVE_POSTURES: Final = frozenset({"upright", "writing", "hand-raised"})
POSITIVE_EXPRESSIONS: Final = frozenset({"calm", "joy", "surprise"})


def _durations(name: str, durations: Mapping[str, float], classes: tuple[str, ...]) -> dict[str, float]:
    checked = dict.fromkeys(classes, 0.0)
    for label, duration in durations.items():
        if label not in checked:
            raise IndicatorInputError(
                f"{name}: unknown class {label!r}; expected one of {', '.join(classes)}"
            )
        value = check_non_negative_real(f"{name}[{label!r}]", duration)
        if value is None:
            raise IndicatorInputError(f"{name}[{label!r}]: missing duration; leave the class out instead")
        checked[label] = value
    return checked


def posture_shares(durations: Mapping[str, float]) -> dict[str, float] | None:
    """Time share of each of the six posture behaviours (SPEC §2.5); the shares sum to 1.

    ``durations`` maps posture classes (see :data:`POSTURES`) to observed time; absent classes
    are 0 and appear in the result with share 0.  ``None`` when no time was classified (missing).

    >>> shares = posture_shares({"upright": 1800, "writing": 600, "phone": 600})
    >>> shares["upright"], shares["phone"], shares["lying-on-desk"]
    (0.6, 0.2, 0.0)
    """
    checked = _durations("durations", durations, POSTURES)
    total = math.fsum(checked.values())
    if total == 0:
        return None
    return {label: value / total for label, value in checked.items()}


def positive_posture_share(durations: Mapping[str, float]) -> float | None:
    """Share of classified time in a positive posture (upright, writing, hand raised), SPEC §2.5.

    >>> positive_posture_share({"upright": 1800, "writing": 600, "phone": 600})
    0.8
    """
    shares = posture_shares(durations)
    if shares is None:
        return None
    return math.fsum(shares[label] for label in POSITIVE_POSTURES)


def positive_expression_share(durations: Mapping[str, float]) -> float | None:
    """Share of classified time with a positive expression (calm, joy, surprise), SPEC §2.5.

    ``durations`` maps expression classes (see :data:`EXPRESSIONS`) to observed time.  ``None``
    when no expression was classified (missing, not zero).

    >>> positive_expression_share({"calm": 2000, "joy": 400, "disgust": 100, "fear": 0})
    0.96
    >>> positive_expression_share({}) is None
    True
    """
    checked = _durations("durations", durations, EXPRESSIONS)
    total = math.fsum(checked.values())
    if total == 0:
        return None
    return math.fsum(checked[label] for label in POSITIVE_EXPRESSIONS) / total


def hand_raises_per_lesson(hand_raises: int, lessons: int) -> float | None:
    """Hand raises per observed lesson (SPEC §2.5); ``None`` when no lesson was observed.

    ``lessons`` counts the lessons in which the student was observed on video, so lessons without
    footage do not dilute the rate.

    >>> hand_raises_per_lesson(7, 4)
    1.75
    >>> hand_raises_per_lesson(0, 0) is None
    True
    """
    raises = check_count("hand_raises", hand_raises)
    observed = check_count("lessons", lessons)
    if observed == 0:
        if raises:
            raise IndicatorInputError(f"hand_raises: {raises} raises in no observed lesson")
        return None
    return raises / observed
