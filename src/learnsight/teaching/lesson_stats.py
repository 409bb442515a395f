"""Classroom behaviour and expression statistics per lesson, read from the stored statements
(SPEC §2.5 at the level of a lesson rather than of a student).

One SQL query (:data:`LESSON_SQL`) sums, per lesson activity, the observed seconds of each posture
behaviour, the seconds of each expression class among the windows whose expression state was read,
the students observed and the hand raises; the §2.5 formulas of
:mod:`learnsight.indicators.formulas.classroom` then turn the durations into shares, so a lesson's
statistics are defined exactly as a student's are:

* ``<behaviour>_share`` for the six posture behaviours — share of the **classified** time (windows
  the posture model left ``uncertain`` are in no denominator);
* ``positive_expression_share`` — calm + joy + surprise over the classified expression time;
* ``hand_raises_per_student`` — hand raises / students observed.

A lesson without any classified posture or expression time has no statistics: it is reported in
:attr:`LessonStatistics.missing` with the reason, never scored on invented values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from learnsight.indicators.formulas.classroom import (
    EXPRESSIONS,
    POSTURES,
    positive_expression_share,
    posture_shares,
)
from learnsight.store import DuckDBStore
from learnsight.teaching.protocol import FloatArray
from learnsight.xapi import vocab as v

LESSON_SQL: Final = """
WITH obs AS (
    SELECT object_id, actor_key, response, coalesce(duration_s, 0) AS seconds,
           json_extract_string(extensions, $expression_path) AS expression,
           json_extract_string(extensions, $state_path) AS state
    FROM statements
    WHERE verb_id = $observed AND NOT voided AND list_contains($lessons, object_id)
)
SELECT object_id, 'posture' AS part, response AS class, sum(seconds) AS value
FROM obs GROUP BY object_id, response
UNION ALL
SELECT object_id, 'expression', expression, sum(seconds)
FROM obs WHERE state IS NOT NULL GROUP BY object_id, expression
UNION ALL
SELECT object_id, 'students', NULL, count(DISTINCT actor_key) FROM obs GROUP BY object_id
UNION ALL
SELECT object_id, 'hand-raises', NULL, count(*)
FROM statements
WHERE verb_id = $raised_hand AND NOT voided AND list_contains($lessons, object_id)
GROUP BY object_id
"""
"""Per lesson activity: seconds per posture and per read expression, students, hand raises."""

FEATURES: Final[tuple[str, ...]] = (
    *(f"{p.replace('-', '_')}_share" for p in POSTURES),
    "positive_expression_share",
    "hand_raises_per_student",
)
"""The lesson statistics, in the order of :attr:`LessonStatistics.x`'s columns."""

FEATURE_LABELS: Final[dict[str, str]] = {
    "upright_share": "sitting upright (time share)",
    "writing_share": "writing (time share)",
    "hand_raised_share": "hand raised (time share)",
    "lying_on_desk_share": "lying on the desk (time share)",
    "looking_around_share": "looking around (time share)",
    "phone_share": "playing with a phone (time share)",
    "positive_expression_share": "positive expression (time share)",
    "hand_raises_per_student": "hand raises per student",
}


@dataclass(frozen=True)
class LessonStatistics:
    """The statistics of the lessons that have them (rows of ``x``, columns :data:`FEATURES`), the
    seconds left ``uncertain`` by the posture model, and the lessons that have none."""

    lessons: list[str]
    x: FloatArray
    students: list[int]
    uncertain_share: list[float]
    missing: dict[str, str]


def _expression_path() -> str:
    return f'$.result."{v.EXT_EXPRESSION}"'


def _state_path() -> str:
    return f'$.result."{v.EXT_EXPRESSION_STATE}"'


def lesson_statistics(store: DuckDBStore, lessons: Sequence[str]) -> LessonStatistics:
    """The statistics of each lesson activity id in ``lessons``, in that order (module docstring)."""
    rows = store.con.execute(
        LESSON_SQL,
        {
            "expression_path": _expression_path(),
            "state_path": _state_path(),
            "observed": v.OBSERVED,
            "raised_hand": v.RAISED_HAND,
            "lessons": list(lessons),
        },
    ).fetchall()
    posture: dict[str, dict[str, float]] = defaultdict(dict)
    expression: dict[str, dict[str, float]] = defaultdict(dict)
    counts: dict[tuple[str, str], int] = {}
    for lesson, part, label, value in rows:
        if part == "posture":
            posture[lesson][label] = float(value)
        elif part == "expression":
            expression[lesson][label] = float(value)
        else:
            counts[(lesson, part)] = int(value)
    kept: list[str] = []
    x: list[list[float]] = []
    students: list[int] = []
    uncertain: list[float] = []
    missing: dict[str, str] = {}
    for lesson in lessons:
        times = posture.get(lesson, {})
        classified = {k: t for k, t in times.items() if k in POSTURES}
        shares = posture_shares(classified)
        read = {k: t for k, t in expression.get(lesson, {}).items() if k in EXPRESSIONS}
        positive = positive_expression_share(read)
        if not times:
            missing[lesson] = "no observation stored"
            continue
        if shares is None or positive is None:
            missing[lesson] = "no classified posture time" if shares is None else "no expression read"
            continue
        n = counts.get((lesson, "students"), 0)
        kept.append(lesson)
        students.append(n)
        total = sum(times.values())
        uncertain.append((total - sum(classified.values())) / total if total > 0 else 0.0)
        x.append([*(shares[p] for p in POSTURES), positive, counts.get((lesson, "hand-raises"), 0) / n])
    return LessonStatistics(
        lessons=kept,
        x=np.asarray(x, dtype=np.float64).reshape(len(kept), len(FEATURES)),
        students=students,
        uncertain_share=uncertain,
        missing=missing,
    )
