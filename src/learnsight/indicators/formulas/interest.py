"""Interest preferences: shares, top preferences and excess flags (SPEC §2.4).

A *dimension* is one aspect of a student's interests, and within it each *category* gets a weight:

* borrowing — book categories, authors (weights: loans);
* learning — time of day, place, resource type, strategy (weights: minutes or events);
* internet — daily time (minutes), traffic (MB) and number of sessions.

For a dimension with weights ``x_c`` the share of category ``c`` is ``x_c / Σ_c' x_c'``; the top
preferences are the ``k`` largest shares (ties broken by category name so results are stable).
Internet use is summarised as the mean per observed day and compared with configurable
thresholds; a mean strictly above its threshold raises a flag.  Optionally a dimension dominated
by one category (share above ``dominant_share``) is flagged too, e.g. a student who only borrows
novels.  Flags feed the choice of interventions and recommendations (SPEC §4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from learnsight.indicators.formulas._checks import (
    IndicatorInputError,
    as_float_array,
    check_non_negative_real,
)

#: Flag names for excessive internet use.
INTERNET_TIME = "internet_time"
INTERNET_TRAFFIC = "internet_traffic"
INTERNET_SESSIONS = "internet_sessions"


@dataclass(frozen=True)
class InterestThresholds:
    """Where excess begins; ``None`` switches a check off.

    The defaults are platform choices (the SPEC asks for configurable thresholds but fixes none):
    4 hours of internet a day, 2 GiB of traffic a day, 50 sessions a day; no dominance check.
    """

    daily_internet_minutes: float | None = 240.0
    daily_traffic_mb: float | None = 2048.0
    daily_sessions: float | None = 50.0
    dominant_share: float | None = None
    top_k: int = 3

    def __post_init__(self) -> None:
        for name in ("daily_internet_minutes", "daily_traffic_mb", "daily_sessions"):
            check_non_negative_real(name, getattr(self, name))
        if self.dominant_share is not None and not 0 < self.dominant_share <= 1:
            raise IndicatorInputError(
                f"dominant_share: expected a share in (0, 1], got {self.dominant_share}"
            )
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise IndicatorInputError(f"top_k: expected a positive integer, got {self.top_k!r}")


@dataclass(frozen=True)
class Preference:
    """One category of a dimension and its share of the dimension's total weight."""

    category: str
    share: float


@dataclass(frozen=True)
class InternetUsage:
    """Mean internet use per observed day; ``None`` where no day was observed (missing)."""

    days: int
    mean_daily_minutes: float | None
    mean_daily_traffic_mb: float | None
    mean_daily_sessions: float | None


@dataclass(frozen=True)
class InterestProfile:
    """Top preferences per dimension, internet use, and the raised flags."""

    top: Mapping[str, tuple[Preference, ...]]
    internet: InternetUsage
    flags: frozenset[str] = field(default_factory=frozenset)


def preference_shares(weights: Mapping[str, float]) -> dict[str, float] | None:
    """Share ``x_c / Σ x`` of every category of one dimension (SPEC §2.4).

    ``weights`` are non-negative (counts, minutes, …; one unit per dimension).  Returns ``None``
    when the total is zero or there are no categories — no interest observed is missing, not an
    even spread.

    >>> preference_shares({"fiction": 6, "math": 3, "history": 1})
    {'fiction': 0.6, 'math': 0.3, 'history': 0.1}
    >>> preference_shares({}) is None
    True
    """
    checked: dict[str, float] = {}
    for category, weight in weights.items():
        value = check_non_negative_real(f"weights[{category!r}]", weight)
        if value is None:
            raise IndicatorInputError(f"weights[{category!r}]: missing weight; drop the category instead")
        checked[category] = value
    total = math.fsum(checked.values())
    if total == 0:
        return None
    return {category: value / total for category, value in checked.items()}


def top_preferences(weights: Mapping[str, float], k: int = 3) -> tuple[Preference, ...]:
    """The ``k`` categories with the largest shares, largest first, ties by category name.

    Categories with zero weight are never preferences; the result is empty when nothing was
    observed.

    >>> top_preferences({"library": 5, "dorm": 3, "classroom": 3, "cafe": 0}, k=2)  # doctest: +ELLIPSIS
    (Preference(category='library', share=0.4545...), Preference(category='classroom', share=0.2727...))
    """
    shares = preference_shares(weights) or {}
    ranked = sorted((item for item in shares.items() if item[1] > 0), key=lambda item: (-item[1], item[0]))
    return tuple(Preference(category, share) for category, share in ranked[:k])


def _mean_per_day(name: str, values: Sequence[float]) -> tuple[float | None, int]:
    array = as_float_array(name, values)
    observed = array[~np.isnan(array)]
    for index in np.flatnonzero(np.isinf(array) | (array < 0)):
        raise IndicatorInputError(f"{name}[{index}]: {array[index]} is not a finite non-negative number")
    if observed.size == 0:
        return None, 0
    return float(observed.mean()), int(observed.size)


def internet_usage(
    daily_minutes: Sequence[float] = (),
    daily_traffic_mb: Sequence[float] = (),
    daily_sessions: Sequence[float] = (),
) -> InternetUsage:
    """Mean daily internet time (minutes), traffic (MB) and sessions over the observed days.

    Each sequence has one entry per day of the observation window: ``0`` for a day without use
    (a real zero), ``NaN`` for a day without records (missing, left out of the mean).  ``days`` is
    the largest number of observed days among the three.

    >>> internet_usage([120, 300, float("nan")], [500, 700, 900], [10, 20, 30])
    InternetUsage(days=3, mean_daily_minutes=210.0, mean_daily_traffic_mb=700.0, mean_daily_sessions=20.0)
    """
    minutes, n_minutes = _mean_per_day("daily_minutes", daily_minutes)
    traffic, n_traffic = _mean_per_day("daily_traffic_mb", daily_traffic_mb)
    sessions, n_sessions = _mean_per_day("daily_sessions", daily_sessions)
    return InternetUsage(max(n_minutes, n_traffic, n_sessions), minutes, traffic, sessions)


def _exceeds(mean: float | None, threshold: float | None) -> bool:
    return mean is not None and threshold is not None and mean > threshold


def interest_profile(
    dimensions: Mapping[str, Mapping[str, float]],
    *,
    daily_minutes: Sequence[float] = (),
    daily_traffic_mb: Sequence[float] = (),
    daily_sessions: Sequence[float] = (),
    thresholds: InterestThresholds | None = None,
) -> InterestProfile:
    """A student's interest profile: top preferences, internet use and excess flags (SPEC §2.4).

    Parameters
    ----------
    dimensions
        Weights per category, per dimension, e.g. ``{"borrowing_category": {"fiction": 6, …},
        "learning_place": {"library": 300, …}}`` (dimension names are free; see module docstring).
    daily_minutes, daily_traffic_mb, daily_sessions
        Internet use per day (see :func:`internet_usage`).
    thresholds
        Where excess begins (default :class:`InterestThresholds()`).

    Returns
    -------
    InterestProfile
        ``top[dimension]`` the top ``thresholds.top_k`` preferences (empty when nothing observed);
        ``flags`` holds :data:`INTERNET_TIME`, :data:`INTERNET_TRAFFIC`, :data:`INTERNET_SESSIONS`
        when the mean daily value is strictly above its threshold (never raised on missing data),
        and ``"dominant:<dimension>"`` when one category's share exceeds ``dominant_share``.

    Examples
    --------
    >>> profile = interest_profile(
    ...     {"borrowing_category": {"fiction": 9, "math": 1}},
    ...     daily_minutes=[300, 360],
    ...     thresholds=InterestThresholds(dominant_share=0.8, top_k=1),
    ... )
    >>> profile.top["borrowing_category"]
    (Preference(category='fiction', share=0.9),)
    >>> sorted(profile.flags)
    ['dominant:borrowing_category', 'internet_time']
    """
    limits = thresholds if thresholds is not None else InterestThresholds()
    top: dict[str, tuple[Preference, ...]] = {}
    flags: set[str] = set()
    for dimension, weights in dimensions.items():
        top[dimension] = top_preferences(weights, k=limits.top_k)
        best = top_preferences(weights, k=1)
        if limits.dominant_share is not None and best and best[0].share > limits.dominant_share:
            flags.add(f"dominant:{dimension}")
    usage = internet_usage(daily_minutes, daily_traffic_mb, daily_sessions)
    if _exceeds(usage.mean_daily_minutes, limits.daily_internet_minutes):
        flags.add(INTERNET_TIME)
    if _exceeds(usage.mean_daily_traffic_mb, limits.daily_traffic_mb):
        flags.add(INTERNET_TRAFFIC)
    if _exceeds(usage.mean_daily_sessions, limits.daily_sessions):
        flags.add(INTERNET_SESSIONS)
    return InterestProfile(top=top, internet=usage, flags=frozenset(flags))
