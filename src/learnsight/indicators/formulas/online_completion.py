"""Online completion of a course's items: the weighted sum ``W`` and the bounded share (SPEC §2.3).

.. math::

    W = \\sum_{i=1}^{m} \\frac{t_i \\, f_i}{z_i}, \\qquad
    \\text{bounded share} = \\frac{1}{m} \\sum_{i=1}^{m} \\min\\!\\Big(1, \\frac{t_i}{z_i}\\Big)

over the course's ``m`` online items (videos, readings, quizzes): ``t_i`` the time the student spent
on item ``i``, ``f_i`` the number of sessions on it, ``z_i`` the item's full length.  ``t_i`` and
``z_i`` must share one time unit (seconds, say); ``W`` is then in "full lengths × sessions" and is
unbounded (re-watching raises it), which is why the SPEC also asks for the bounded share in
``[0, 1]``: the mean fraction of each item covered, capped at one item per item.

Item data come as parallel sequences, one entry per item of the course — an item the student never
opened is ``t_i = 0, f_i = 0`` (a real zero).  ``NaN`` marks a value that was not recorded: the
result is then missing (``None``), never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from learnsight.indicators.formulas._checks import (
    IndicatorInputError,
    as_float_array,
    check_same_length,
)


def _check_items(name: str, values: npt.NDArray[np.float64]) -> None:
    finite_or_nan = np.isfinite(values) | np.isnan(values)
    for index in np.flatnonzero(~finite_or_nan):
        raise IndicatorInputError(f"{name}[{index}]: {values[index]} is not finite")
    for index in np.flatnonzero(values < 0):
        raise IndicatorInputError(f"{name}[{index}]: {values[index]} is negative")


def _check_lengths(full_length: npt.NDArray[np.float64]) -> None:
    for index in np.flatnonzero(full_length <= 0):
        raise IndicatorInputError(
            f"full_length[{index}]: item {index} has length {full_length[index]}; an item's full "
            "length must be positive"
        )
    for index in np.flatnonzero(np.isinf(full_length)):
        raise IndicatorInputError(f"full_length[{index}]: {full_length[index]} is not finite")


def online_completion(
    time_spent: Sequence[float],
    sessions: Sequence[float],
    full_length: Sequence[float],
) -> float | None:
    """Weighted online completion ``W = Σ t_i · f_i / z_i`` of one student in one course (SPEC §2.3).

    Parameters
    ----------
    time_spent
        ``t_i``: time spent on each item, ``>= 0``, same unit as ``full_length``.
    sessions
        ``f_i``: number of sessions on each item, ``>= 0`` (counts; floats are accepted so that NumPy
        arrays pass, but a session count is naturally an integer).
    full_length
        ``z_i``: each item's full length, ``> 0``.

    Returns
    -------
    float | None
        ``W >= 0``; ``None`` when the course has no items (``m = 0``) or any value is ``NaN``
        (not recorded): missing, not zero.

    Raises
    ------
    IndicatorInputError
        (a ``ValueError``) when the sequences differ in length, a value is negative or infinite, or
        an item has ``z_i <= 0`` — the message names the item index, e.g. ``full_length[2]: …``.

    Examples
    --------
    Two 600 s videos: the first watched whole in 2 sessions, the second half-way in 1:
    ``W = 600·2/600 + 300·1/600 = 2.5``.

    >>> online_completion([600, 300], [2, 1], [600, 600])
    2.5
    >>> online_completion([], [], []) is None
    True
    """
    t = as_float_array("time_spent", time_spent)
    f = as_float_array("sessions", sessions)
    z = as_float_array("full_length", full_length)
    m = check_same_length(time_spent=t, sessions=f, full_length=z)
    _check_items("time_spent", t)
    _check_items("sessions", f)
    _check_lengths(z)
    if m == 0 or np.isnan(t).any() or np.isnan(f).any() or np.isnan(z).any():
        return None
    return float(np.sum(t * f / z))


def bounded_completion(time_spent: Sequence[float], full_length: Sequence[float]) -> float | None:
    """Bounded completion share ``(1/m) Σ min(1, t_i / z_i)`` of one student in one course (SPEC §2.3).

    Parameters
    ----------
    time_spent
        ``t_i``: time spent on each item, ``>= 0``, same unit as ``full_length``.
    full_length
        ``z_i``: each item's full length, ``> 0``.

    Returns
    -------
    float | None
        A share in ``[0, 1]`` (1 = every item covered at least once its length); ``None`` when
        there are no items or a value is ``NaN`` (missing, not zero).

    Raises
    ------
    IndicatorInputError
        (a ``ValueError``) as :func:`online_completion`, naming the item index.

    Examples
    --------
    ``(min(1, 900/600) + min(1, 300/600)) / 2 = (1 + 0.5) / 2``:

    >>> bounded_completion([900, 300], [600, 600])
    0.75
    """
    t = as_float_array("time_spent", time_spent)
    z = as_float_array("full_length", full_length)
    m = check_same_length(time_spent=t, full_length=z)
    _check_items("time_spent", t)
    _check_lengths(z)
    if m == 0 or np.isnan(t).any() or np.isnan(z).any():
        return None
    return float(np.mean(np.minimum(1.0, t / z)))
