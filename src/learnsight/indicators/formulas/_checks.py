"""Input checks shared by the indicator formulas (one error type, one message format).

Every formula validates its inputs at the top and raises :class:`IndicatorInputError`, which is both
a :class:`~learnsight.errors.LearnsightError` (so the CLI prints it as one line) and a
:class:`ValueError` (so callers that expect the standard library's convention catch it).  Messages
always start with the argument name, e.g. ``late_returns: -1 is negative``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import numpy.typing as npt

from learnsight.errors import LearnsightError


class IndicatorInputError(LearnsightError, ValueError):
    """An indicator formula received an impossible input; the message names the argument."""


def check_count(name: str, value: object) -> int:
    """Return ``value`` as an ``int`` if it is a non-negative integer count, else raise.

    >>> check_count("posts", 3)
    3
    >>> check_count("posts", -1)
    Traceback (most recent call last):
    ...
    learnsight.indicators.formulas._checks.IndicatorInputError: posts: -1 is negative
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise IndicatorInputError(f"{name}: expected a non-negative integer count, got {value!r}")
    count = int(value)
    if count < 0:
        raise IndicatorInputError(f"{name}: {count} is negative")
    return count


def check_at_most(name: str, value: int, bound_name: str, bound: int) -> None:
    """Raise unless ``value <= bound`` (a count of events cannot exceed its opportunities)."""
    if value > bound:
        raise IndicatorInputError(f"{name}: {value} exceeds {bound_name} ({bound})")


def check_non_negative_real(name: str, value: object) -> float | None:
    """Return ``value`` as a float (``None`` when it is ``None`` or NaN: missing), rejecting negatives.

    >>> check_non_negative_real("minutes", 2) is None
    False
    >>> check_non_negative_real("minutes", float("nan")) is None
    True
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise IndicatorInputError(f"{name}: expected a number, got {value!r}")
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise IndicatorInputError(f"{name}: {number} is not finite")
    if number < 0:
        raise IndicatorInputError(f"{name}: {number} is negative")
    return number


def as_float_array(name: str, values: Sequence[float] | npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``values`` as a one-dimensional float array (NaN kept: it means missing)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise IndicatorInputError(f"{name}: expected numbers ({exc})") from exc
    if array.ndim != 1:
        raise IndicatorInputError(f"{name}: expected a one-dimensional sequence, got shape {array.shape}")
    return array


def check_same_length(**arrays: npt.NDArray[np.float64]) -> int:
    """Return the common length of the named arrays, or raise naming them all."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise IndicatorInputError(f"{', '.join(lengths)}: lengths differ ({described})")
    return next(iter(lengths.values()), 0)
