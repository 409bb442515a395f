"""Who gets adaptive recommendations: students known or predicted to be excellent (SPEC §4).

SPEC §4 splits the intervention model by class: at-risk students get active interventions,
**excellent** students adaptive recommendations.  A (student, course) is excellent when

* its final result says so (:func:`learnsight.models.outcomes.outcomes`, class ``excellent``), or
* it has no final result yet and the latest stored prediction for it
  (:data:`~learnsight.xapi.vocab.PREDICTED`, written by ``learnsight predict --statements``)
  predicts ``excellent``.

A known result always wins over a prediction, and counts only when it is dated before the as-of
cut-off of its course (a final result after the cut-off is not known yet).  For the kinds that span
courses (books, courses, partners) a student who is excellent in any course counts.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

from learnsight.indicators.asof import AsOf
from learnsight.models.outcomes import outcomes
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi import vocab

EXCELLENT: Final = "excellent"

_PREDICTED = """
SELECT actor_key, course, response FROM (
    SELECT actor_key, course, response,
           row_number() OVER (PARTITION BY actor_key, course ORDER BY ts DESC, stored DESC, id) AS rn
    FROM statements
    WHERE verb_id = $predicted AND source = $model AND NOT voided AND course IS NOT NULL
) WHERE rn = 1
"""


def excellent_pairs(store: DuckDBStore, as_of: AsOf | None = None) -> set[tuple[str, str]]:
    """Every (actor_key, course) known (before ``as_of``) or predicted to be excellent."""
    known = outcomes(store)
    if as_of is not None and (as_of.date is not None or as_of.week is not None):
        cutoff = dict(
            store.con.execute(f"SELECT course, {as_of.course_cutoff_sql()} FROM courses").fetchall()
        )
        keep = [
            c in cutoff and cutoff[c] is not None and ts < cutoff[c]
            for c, ts in zip(known.column("course").to_pylist(), known.column("ts").to_pylist(), strict=True)
        ]
        known = known.filter(pa.array(keep, pa.bool_()))
    decided = {
        (str(a), str(c))
        for a, c in zip(
            known.column("actor_key").to_pylist(), known.column("course").to_pylist(), strict=True
        )
    }
    out = {
        (str(a), str(c))
        for a, c, o in zip(
            known.column("actor_key").to_pylist(),
            known.column("course").to_pylist(),
            known.column("outcome").to_pylist(),
            strict=True,
        )
        if o == EXCELLENT
    }
    rows = store.con.execute(
        _PREDICTED, {"predicted": vocab.PREDICTED, "model": vocab.SOURCE_MODEL}
    ).fetchall()
    out |= {(str(a), str(c)) for a, c, r in rows if r == EXCELLENT and (str(a), str(c)) not in decided}
    return out


def excellent_students(
    store: DuckDBStore, *, course: str | None = None, as_of: AsOf | None = None
) -> list[str]:
    """Sorted actor keys excellent in ``course`` (in any course when ``course`` is None)."""
    return sorted({a for a, c in excellent_pairs(store, as_of) if course is None or c == course})


__all__ = ["EXCELLENT", "excellent_pairs", "excellent_students"]
