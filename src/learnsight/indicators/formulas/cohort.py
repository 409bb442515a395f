"""Position of a value within a cohort: percentile rank and z-score (SPEC §2, used by §4).

Intervention needs "indicators that fall short of the cohort or of successful peers" (SPEC §4);
these two functions say how far short.

* Percentile rank, mean-rank convention for ties:
  ``PR(x) = 100 · (#{c < x} + ½ · #{c = x}) / N``.  A value tied with others gets the mean of the
  ranks the tied block spans, so a cohort of identical values puts everyone at 50, and the ranks of
  a whole cohort average to 50.  (Equal to ``scipy.stats.percentileofscore(kind="mean")``.)
* z-score: ``z(x) = (x − mean) / sd`` with the cohort's standard deviation, population form
  (``ddof = 0``) by default since the cohort is the whole reference group, not a sample.

Missing values — ``None`` or ``NaN`` — are left out of the cohort (``N`` counts the present ones)
and a missing ``x`` has a missing rank and z-score.  Results are ``None`` (scalar) or ``NaN``
(vectorised) when undefined: empty cohort, or zero spread for the z-score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from learnsight.indicators.formulas._checks import IndicatorInputError, as_float_array


def _present(cohort: Iterable[float | None]) -> npt.NDArray[np.float64]:
    values = _finite_or_nan("cohort", [math.nan if c is None else c for c in cohort])
    return np.sort(values[~np.isnan(values)])


def _value(value: float | None) -> float | None:
    """``value`` as a float, ``None`` when missing; infinities are errors, not extremes."""
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        raise IndicatorInputError(f"value: {value} is not finite")
    return float(value)


def _finite_or_nan(name: str, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = as_float_array(name, values)
    if np.isinf(array).any():
        raise IndicatorInputError(f"{name}[{int(np.flatnonzero(np.isinf(array))[0])}]: not finite")
    return array


def percentile_rank(value: float | None, cohort: Iterable[float | None]) -> float | None:
    """Percentile rank of ``value`` in ``cohort``, in ``[0, 100]``, ties at the mean rank.

    ``PR = 100 · (#{c < x} + ½ · #{c = x}) / N`` over the cohort's present values.  Include the
    student in ``cohort`` to rank them among peers (as :func:`percentile_ranks` does).  ``None``
    when ``value`` is missing or the cohort has no present value.

    >>> percentile_rank(3, [1, 2, 3, 3, 5])
    60.0
    >>> percentile_rank(None, [1, 2]) is None
    True
    """
    present = _present(cohort)
    x = _value(value)
    if x is None or present.size == 0:
        return None
    below = int(np.searchsorted(present, x, side="left"))
    equal = int(np.searchsorted(present, x, side="right")) - below
    return 100.0 * (below + 0.5 * equal) / present.size


def z_score(value: float | None, cohort: Iterable[float | None], *, ddof: int = 0) -> float | None:
    """Standard score ``(x − mean) / sd`` of ``value`` against ``cohort``'s present values.

    ``None`` when ``value`` is missing, fewer than ``ddof + 1`` values are present, or the cohort
    has zero spread (every value equal: no scale to measure distance in).

    >>> z_score(4, [2, 4, 4, 4, 5, 5, 7, 9])
    -0.5
    """
    present = _present(cohort)
    x = _value(value)
    if x is None or present.size <= ddof:
        return None
    spread = float(np.std(present, ddof=ddof))
    if spread == 0:
        return None
    return (x - float(present.mean())) / spread


def percentile_ranks(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Percentile rank of every member among all members (mean rank for ties), NaN stays NaN.

    >>> percentile_ranks([10, 20, 20, float("nan"), 40]).tolist()
    [12.5, 50.0, 50.0, nan, 87.5]
    """
    array = _finite_or_nan("values", values)
    result = np.full(array.shape, np.nan)
    present = ~np.isnan(array)
    cohort = np.sort(array[present])
    if cohort.size:
        below = np.searchsorted(cohort, array[present], side="left")
        upto = np.searchsorted(cohort, array[present], side="right")
        result[present] = 100.0 * (below + 0.5 * (upto - below)) / cohort.size
    return result


def z_scores(values: npt.ArrayLike, *, ddof: int = 0) -> npt.NDArray[np.float64]:
    """z-score of every member against all present members; NaN where missing or undefined.

    >>> z_scores([1.0, 3.0, float("nan")]).tolist()
    [-1.0, 1.0, nan]
    """
    array = _finite_or_nan("values", values)
    present = array[~np.isnan(array)]
    spread = float(np.std(present, ddof=ddof)) if present.size > ddof else 0.0
    if spread == 0:
        return np.full(array.shape, np.nan)
    result: npt.NDArray[np.float64] = (array - present.mean()) / spread
    return result
