"""The as-of cut-off: every indicator sees only statements dated before it (no leakage).

A cut-off is either a **date** (one instant for everything) or a **course week** ``N``: for each
course, statements before ``course start + 7·N days`` (the ``courses`` calendar).  Statements that
belong to no course (canteen, dorm, network, library) are cut, for a week cut-off, at the earliest
week-``N`` instant of the student's courses, so a student-level indicator never sees later data than
any of the student's course-level ones.

The cut-off is applied in exactly one place, the ``ev`` view (:func:`base_views`), which every
indicator definition reads; the same SQL runs on DuckDB and, transpiled, on Spark.

Statements learnsight writes itself (``source`` in :data:`~learnsight.xapi.vocab.DERIVED_SOURCES`:
the ``predicted`` statements of :mod:`learnsight.models.predict`, the intervention log of
:mod:`learnsight.interventions`) are never events: a prediction must not feed back into the
features of the next one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from learnsight.errors import LearnsightError
from learnsight.xapi.vocab import DERIVED_SOURCES


@dataclass(frozen=True)
class AsOf:
    """An as-of cut-off; ``AsOf()`` means "all data"."""

    date: datetime | None = None
    week: int | None = None

    def __post_init__(self) -> None:
        if self.date is not None and self.week is not None:
            raise LearnsightError("--as-of: give a date or a course week, not both")
        if self.week is not None and self.week < 0:
            raise LearnsightError(f"--as-of: week must be >= 0, got {self.week}")

    @classmethod
    def parse(cls, text: str | None) -> AsOf:
        """``None``/``""`` → all data; ``2024-10-15`` or ``2024-10-15T08:00`` → a date;
        ``week:6`` or ``w6`` → course week 6."""
        if not text:
            return cls()
        m = re.fullmatch(r"\s*(?:week:|w)(\d+)\s*", text, flags=re.IGNORECASE)
        if m:
            return cls(week=int(m.group(1)))
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError:
            raise LearnsightError(
                f"--as-of: expected a date (2024-10-15), a timestamp or a course week (week:6), got {text!r}"
            ) from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return cls(date=parsed)

    @classmethod
    def from_date(cls, day: dt.date) -> AsOf:
        return cls(date=datetime.combine(day, dt.time()))

    def label(self) -> str:
        if self.week is not None:
            return f"week:{self.week}"
        if self.date is not None:
            return self.date.isoformat(sep=" ")
        return "all"

    def course_cutoff_sql(self) -> str:
        """SQL (over ``courses``) giving each course's cut-off instant, NULL for no cut-off."""
        if self.week is not None:
            return f"start_ts + INTERVAL ({7 * self.week}) DAY"
        if self.date is not None:
            return f"CAST('{self.date.isoformat(sep=' ')}' AS TIMESTAMP)"
        return "CAST(NULL AS TIMESTAMP)"


def base_views(as_of: AsOf, voided_verb: str) -> list[tuple[str, str]]:
    """The (name, SQL) views every indicator reads, in creation order.

    ``course_cutoff``: one row per course and its cut-off; ``ev``: the statements visible at the
    cut-off (voided and voiding statements, and statements learnsight wrote itself, are never events).
    """
    escaped = voided_verb.replace("'", "''")
    not_model = "s.source NOT IN (" + ", ".join(f"'{x}'" for x in DERIVED_SOURCES) + ")"
    valid = f"NOT s.voided AND s.verb_id <> '{escaped}' AND {not_model}"
    course_cutoff = ("course_cutoff", f"SELECT course, {as_of.course_cutoff_sql()} AS cutoff FROM courses")
    if as_of.week is None:
        date_filter = f" AND s.ts < {as_of.course_cutoff_sql()}" if as_of.date is not None else ""
        return [course_cutoff, ("ev", f"SELECT s.* FROM statements s WHERE {valid}{date_filter}")]
    # Week mode.  A course without a start date has no calendar: its statements are left out
    # rather than leaked.  Statements outside any course are cut at the student's earliest cut-off.
    student_cutoff = (
        "student_cutoff",
        "SELECT s.actor_key, min(c.cutoff) AS cutoff FROM statements s "
        "JOIN course_cutoff c ON s.course = c.course "
        f"WHERE c.cutoff IS NOT NULL AND {not_model} GROUP BY s.actor_key",
    )
    events = (
        "ev",
        "SELECT s.* FROM statements s "
        "LEFT JOIN course_cutoff c ON s.course = c.course "
        "LEFT JOIN student_cutoff sc ON s.actor_key = sc.actor_key "
        f"WHERE {valid} AND ("
        "(s.course IS NOT NULL AND c.cutoff IS NOT NULL AND s.ts < c.cutoff) OR "
        "(s.course IS NULL AND sc.cutoff IS NOT NULL AND s.ts < sc.cutoff))",
    )
    return [course_cutoff, student_cutoff, events]
