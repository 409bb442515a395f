"""Learning enthusiasm (positivity): positive acts per class session (SPEC §2.3).

Each of the five counts the SPEC names is divided by the number of class sessions ``s`` held for
the student in the period, giving a rate per session:

.. math::

    \\text{rate}_x = \\frac{n_x}{s}, \\qquad
    \\text{positivity} = \\sum_x \\text{rate}_x

for ``x`` in previews before class, questions answered in class, discussions in class, notes
taken, homework submitted after class.  ``positivity`` is the total of positive acts per session.
The sessions are the *scheduled* ones (not only those attended), so that skipping class lowers the
rates instead of hiding in a smaller denominator.
"""

from __future__ import annotations

from dataclasses import dataclass

from learnsight.indicators.formulas._checks import check_count


@dataclass(frozen=True)
class Enthusiasm:
    """Per-session rates of the five positive acts (each a non-negative float, acts per session)."""

    previews: float
    questions_answered: float
    discussions: float
    notes: float
    homework_submitted: float

    @property
    def positivity(self) -> float:
        """All positive acts per session: the sum of the five rates."""
        return (
            self.previews + self.questions_answered + self.discussions + self.notes + self.homework_submitted
        )


def enthusiasm(
    previews: int,
    questions_answered: int,
    discussions: int,
    notes: int,
    homework_submitted: int,
    sessions: int,
) -> Enthusiasm | None:
    """Enthusiasm rates of one student in one course, normalised per class session (SPEC §2.3).

    Parameters
    ----------
    previews
        Courseware previews opened before the class they prepare (count).
    questions_answered
        Questions the student answered in class (count).
    discussions
        In-class discussion contributions (count).
    notes
        Notes taken (count).
    homework_submitted
        Homework submissions after class (count).
    sessions
        Class sessions scheduled for the student in the same period (count, the normaliser).

    Returns
    -------
    Enthusiasm | None
        The five rates (acts per session; can exceed 1), or ``None`` when ``sessions = 0``: with no
        class there is no enthusiasm to measure — missing, not zero.

    Raises
    ------
    IndicatorInputError
        (a ``ValueError``) naming the argument when a count is negative or not an integer.

    Examples
    --------
    Over 10 sessions: 8 previews, 3 answers, 5 discussion turns, 10 notes, 9 homework submissions.

    >>> e = enthusiasm(8, 3, 5, 10, 9, sessions=10)
    >>> e.previews, e.questions_answered, round(e.positivity, 2)
    (0.8, 0.3, 3.5)
    >>> enthusiasm(0, 0, 0, 0, 0, sessions=0) is None
    True
    """
    counts = {
        "previews": check_count("previews", previews),
        "questions_answered": check_count("questions_answered", questions_answered),
        "discussions": check_count("discussions", discussions),
        "notes": check_count("notes", notes),
        "homework_submitted": check_count("homework_submitted", homework_submitted),
    }
    s = check_count("sessions", sessions)
    if s == 0:
        return None
    return Enthusiasm(**{name: count / s for name, count in counts.items()})
