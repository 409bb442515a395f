"""Rest regularity ``Z`` — the share of rest-disturbing events among their opportunities (SPEC §2.2).

.. math::

    Z = \\frac{w + q + l}{\\sum p}, \\qquad
    \\sum p = \\text{dorm returns} + \\text{scheduled class sessions} + \\text{network sessions}

``w`` late dorm returns, ``q`` class absences, ``l`` network sessions begun in the early morning.
Each numerator term is a subset of its own opportunities, so ``0 <= Z <= 1``; smaller is better.

Clock times are compared as wall-clock times of whatever time zone the timestamp carries: convert
to the campus's local time before classifying (a UTC timestamp of 22:30 may be a 06:30 return).
"""

from __future__ import annotations

from datetime import datetime, time

from learnsight.indicators.formulas._checks import IndicatorInputError, check_at_most, check_count

#: A dorm return at or after this clock time is late (default; SPEC §2.2 leaves it open).
LATE_RETURN_AFTER = time(23, 0)
#: ... and so is one before this clock time (the window wraps past midnight).
LATE_RETURN_BEFORE = time(5, 0)
#: Early-morning network sessions start in ``[00:00, 05:00)`` (SPEC §2.2 default).
EARLY_MORNING_START = time(0, 0)
EARLY_MORNING_END = time(5, 0)


def in_daily_window(moment: datetime | time, start: time, end: time) -> bool:
    """Whether the clock time of ``moment`` lies in the half-open daily window ``[start, end)``.

    The window wraps past midnight when ``start > end`` (``[23:00, 05:00)`` contains 23:30 and
    04:59 but not 05:00).  ``start == end`` is ambiguous (empty or whole day) and is rejected.
    Seconds and microseconds count: 04:59:59 is before 05:00.

    >>> in_daily_window(time(23, 30), time(23, 0), time(5, 0))
    True
    >>> in_daily_window(time(12, 0), time(23, 0), time(5, 0))
    False
    """
    if start == end:
        raise IndicatorInputError(f"start: equals end ({start}); the window would be ambiguous")
    clock = (moment.time() if isinstance(moment, datetime) else moment).replace(tzinfo=None)
    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def is_late_return(
    moment: datetime | time,
    *,
    after: time = LATE_RETURN_AFTER,
    before: time = LATE_RETURN_BEFORE,
) -> bool:
    """Whether a dorm-gate entry at ``moment`` counts as a late return ``w`` (SPEC §2.2).

    Late means in the daily window ``[after, before)``, by default ``[23:00, 05:00)``: at or after
    23:00, or before 05:00 the next morning.  An entry at 05:00 or later is an (early) ordinary
    return.  The SPEC does not fix the curfew; 23:00 is a common dormitory closing time, so it is
    only the default — set it per campus.

    >>> is_late_return(datetime(2024, 3, 1, 23, 15))
    True
    >>> is_late_return(time(22, 59))
    False
    >>> is_late_return(time(0, 30), after=time(0, 0))
    True
    """
    return in_daily_window(moment, after, before)


def is_early_morning_session(
    moment: datetime | time,
    *,
    start: time = EARLY_MORNING_START,
    end: time = EARLY_MORNING_END,
) -> bool:
    """Whether a network session beginning at ``moment`` counts as early-morning ``l`` (SPEC §2.2).

    A session counts by its **start** time, in ``[start, end)``, default ``[00:00, 05:00)``.  A
    session begun at 23:50 that runs past midnight is not counted (pass ``start=time(23, 0)`` to
    widen the window).

    >>> is_early_morning_session(time(2, 0))
    True
    >>> is_early_morning_session(time(5, 0))
    False
    """
    return in_daily_window(moment, start, end)


def rest_regularity(
    late_returns: int,
    dorm_returns: int,
    absences: int,
    scheduled_sessions: int,
    early_sessions: int,
    network_sessions: int,
) -> float | None:
    """Rest regularity ``Z = (w + q + l) / Σp`` of one student over one period (SPEC §2.2).

    Parameters
    ----------
    late_returns
        ``w``: dorm-gate entries classified late by :func:`is_late_return` (count).
    dorm_returns
        All dorm-gate entries in the period (count; opportunities for ``w``).
    absences
        ``q``: scheduled class sessions the student missed (count).  Whether excused absences count
        is the caller's choice; be consistent with :func:`~.attendance.attendance_rate`.
    scheduled_sessions
        All class sessions scheduled for the student (count; opportunities for ``q``).
    early_sessions
        ``l``: network sessions started early in the morning, see
        :func:`is_early_morning_session` (count).
    network_sessions
        All network sessions of the student (count; opportunities for ``l``).

    Returns
    -------
    float | None
        ``Z`` in ``[0, 1]`` (dimensionless; smaller is better), or ``None`` when ``Σp = 0``: with no
        opportunity to misbehave the regularity is **missing, not zero** (a student with no records
        is not a perfectly regular one).

    Raises
    ------
    IndicatorInputError
        (a ``ValueError``) naming the argument when a count is negative or not an integer, or when a
        count exceeds its opportunities (e.g. more late returns than returns).

    Examples
    --------
    20 returns of which 2 late, 30 sessions of which 3 missed, 50 network sessions of which 5 early:
    ``Z = (2 + 3 + 5) / (20 + 30 + 50) = 0.1``.

    >>> rest_regularity(2, 20, 3, 30, 5, 50)
    0.1
    >>> rest_regularity(0, 0, 0, 0, 0, 0) is None
    True
    """
    w = check_count("late_returns", late_returns)
    returns = check_count("dorm_returns", dorm_returns)
    q = check_count("absences", absences)
    scheduled = check_count("scheduled_sessions", scheduled_sessions)
    ell = check_count("early_sessions", early_sessions)
    sessions = check_count("network_sessions", network_sessions)
    check_at_most("late_returns", w, "dorm_returns", returns)
    check_at_most("absences", q, "scheduled_sessions", scheduled)
    check_at_most("early_sessions", ell, "network_sessions", sessions)
    opportunities = returns + scheduled + sessions
    if opportunities == 0:
        return None
    return (w + q + ell) / opportunities
