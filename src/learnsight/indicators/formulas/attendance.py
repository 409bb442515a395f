"""Attendance rate of one student in one course: attended over scheduled sessions (SPEC §2.3).

.. math::

    \\text{attendance} = \\frac{a}{s - e} \\quad\\text{(excused sessions excluded, the default)}

with ``a`` sessions attended, ``s`` sessions scheduled and ``e`` excused absences.  The SPEC names
the rate but not the treatment of excused absences; three policies are offered:

``"exclude"`` (default)
    an excused session is neither attended nor missed: ``a / (s − e)``.  A leave of absence
    (illness, a competition) does not lower the rate, and it does not raise it either.
``"absent"``
    an excused session is a missed one: ``a / s``.  Measures exposure to teaching.
``"present"``
    an excused session counts as attended: ``(a + e) / s``.  Matches registrars that treat
    an approved leave as attendance.
"""

from __future__ import annotations

from typing import Literal

from learnsight.indicators.formulas._checks import IndicatorInputError, check_at_most, check_count

ExcusedPolicy = Literal["exclude", "absent", "present"]


def attendance_rate(
    attended: int,
    scheduled: int,
    excused: int = 0,
    *,
    excused_policy: ExcusedPolicy = "exclude",
) -> float | None:
    """Attendance rate in ``[0, 1]`` (SPEC §2.3); see the module docstring for the policies.

    Parameters
    ----------
    attended
        Sessions the student attended (count).
    scheduled
        Sessions scheduled for the student in the period (count).
    excused
        Sessions missed with an approved excuse (count); ``attended + excused <= scheduled``.
    excused_policy
        ``"exclude"`` (default), ``"absent"`` or ``"present"``.

    Returns
    -------
    float | None
        The rate, or ``None`` when the denominator is zero (no session scheduled, or under
        ``"exclude"`` every session excused): missing, not zero.

    Raises
    ------
    IndicatorInputError
        (a ``ValueError``) naming the argument when a count is negative or not an integer, when
        ``attended + excused`` exceeds ``scheduled``, or for an unknown policy.

    Examples
    --------
    16 sessions, 12 attended, 2 excused, 2 unexcused absences:

    >>> attendance_rate(12, 16, 2)
    0.8571428571428571
    >>> attendance_rate(12, 16, 2, excused_policy="absent")
    0.75
    >>> attendance_rate(12, 16, 2, excused_policy="present")
    0.875
    >>> attendance_rate(0, 0) is None
    True
    """
    a = check_count("attended", attended)
    s = check_count("scheduled", scheduled)
    e = check_count("excused", excused)
    check_at_most("attended + excused", a + e, "scheduled", s)
    if excused_policy == "exclude":
        numerator, denominator = a, s - e
    elif excused_policy == "absent":
        numerator, denominator = a, s
    elif excused_policy == "present":
        numerator, denominator = a + e, s
    else:
        raise IndicatorInputError(
            f"excused_policy: expected 'exclude', 'absent' or 'present', got {excused_policy!r}"
        )
    if denominator == 0:
        return None
    return numerator / denominator
