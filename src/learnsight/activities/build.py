"""Events → activities, computed in SQL inside the store (SPEC §1).

An **activity** is a maximal run of consecutive events of the same learner from the same type of
device (the statement's ``source``), with no gap longer than a threshold (default 30 minutes).
"Consecutive" is over the learner's whole event stream ordered by time, so an event from another
device ends the run: the activity flow then follows the learner across learning and living spaces.

The gap is measured from the *end* of the latest earlier event (its timestamp plus its own duration,
e.g. a 20-minute video view) to the start of the next; ties in time are ordered by source and then
by storage order, so the result is deterministic. Voided statements, the voiding statements
themselves and statements learnsight wrote (``DERIVED_SOURCES``: predictions, the intervention log)
are not events. Each activity keeps subject (``actor_key``), device (``source``), the course when
all its events share one, start, end and an aggregated result (sums of quantities and durations,
mean scaled score, success/failure/completion counts); its objects are rows of ``activity_objects``
(object, events, first use).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from learnsight import progress
from learnsight.errors import LearnsightError
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi.vocab import DERIVED_SOURCES, VOIDED

ACTIVITIES_SQL: tuple[str, ...] = (
    # Learners numbered once, so the window sorts partition on an integer, not on long keys.
    """
    CREATE OR REPLACE TEMP TABLE _activity_actors AS
    SELECT actor_key, row_number() OVER (ORDER BY actor_key) AS a
    FROM (SELECT DISTINCT actor_key FROM statements
          WHERE NOT voided AND verb_id <> $voided AND NOT list_contains($derived, source))
    """,
    # Only the columns that decide runs go through the window sorts; rowid ties identical
    # timestamps deterministically.  activity_id = learner number * 2^24 + run number.
    """
    CREATE OR REPLACE TEMP TABLE _activity_runs AS
    WITH ev AS (
        SELECT s.rowid AS k, x.a, s.source, s.ts,
               s.ts + to_microseconds(CAST(coalesce(s.duration_s, 0) * 1e6 AS BIGINT)) AS end_ts
        FROM statements s JOIN _activity_actors x ON s.actor_key = x.actor_key
        WHERE NOT s.voided AND s.verb_id <> $voided AND NOT list_contains($derived, s.source)
    ),
    marked AS (
        SELECT k, a, source, ts,
            CASE WHEN lag(source) OVER w IS DISTINCT FROM source
                   OR ts - max(end_ts) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                      > to_microseconds(CAST($gap_us AS BIGINT))
                 THEN 1 ELSE 0 END AS starts_run
        FROM ev
        WINDOW w AS (PARTITION BY a ORDER BY ts, source, k)
    )
    SELECT k, a * 16777216 + sum(starts_run) OVER (PARTITION BY a ORDER BY ts, source, k
                                                   ROWS UNBOUNDED PRECEDING) AS activity_id
    FROM marked
    """,
    """
    INSERT INTO activity_objects
    SELECT r.activity_id, s.object_id, count(*), min(s.ts)
    FROM statements s JOIN _activity_runs r ON s.rowid = r.k
    GROUP BY r.activity_id, s.object_id
    """,
    """
    INSERT INTO activities
    SELECT
        r.activity_id,
        any_value(s.actor_key),
        any_value(s.source),
        CASE WHEN min(s.course) = max(s.course) AND count(s.course) = count(*)
             THEN min(s.course) END,
        min(s.ts),
        max(s.ts + to_microseconds(CAST(coalesce(s.duration_s, 0) * 1e6 AS BIGINT))),
        count(*),
        any_value(o.n_objects),
        sum(s.quantity),
        sum(s.duration_s),
        avg(s.score_scaled),
        count(*) FILTER (WHERE s.success),
        count(*) FILTER (WHERE NOT s.success),
        count(*) FILTER (WHERE s.completion)
    FROM statements s
    JOIN _activity_runs r ON s.rowid = r.k
    JOIN (SELECT activity_id, count(*) AS n_objects FROM activity_objects GROUP BY activity_id) o
      ON r.activity_id = o.activity_id
    GROUP BY r.activity_id
    """,
)
"""The build, statement by statement (run inside one transaction)."""


@dataclass(frozen=True)
class ActivitySummary:
    """What :func:`build_activities` built."""

    gap_minutes: float
    events: int
    activities: int
    seconds: float
    by_source: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "gap_minutes": self.gap_minutes,
            "events": self.events,
            "activities": self.activities,
            "seconds": round(self.seconds, 3),
            "by_source": self.by_source,
        }


def build_activities(store: DuckDBStore, *, gap_minutes: float = 30.0) -> ActivitySummary:
    """Rebuild the ``activities`` table from all stored events, atomically.

    Parameters
    ----------
    store:
        The store to read events from and write activities to.
    gap_minutes:
        The largest gap between the end of one event and the start of the next within one activity.
    """
    if not gap_minutes > 0:
        raise LearnsightError(f"--gap-minutes must be positive, got {gap_minutes}")
    started = time.perf_counter()
    con = store.con
    with progress.task("building activities"), store.analytics():
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM activities")
            con.execute("DELETE FROM activity_objects")
            params = {"voided": VOIDED, "gap_us": gap_minutes * 60e6, "derived": list(DERIVED_SOURCES)}
            for sql in ACTIVITIES_SQL:
                con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
            con.execute("DROP TABLE _activity_runs")
            con.execute("DROP TABLE _activity_actors")
            seconds = time.perf_counter() - started
            con.execute(
                "INSERT OR REPLACE INTO derived_builds VALUES ('activities', now()::TIMESTAMP, ?, ?)",
                [json.dumps({"gap_minutes": gap_minutes}), seconds],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    rows = con.execute(
        "SELECT source, count(*), sum(n_events), avg(n_events), "
        "avg(epoch(end_ts - start_ts)) / 60 FROM activities GROUP BY source ORDER BY 2 DESC"
    ).fetchall()
    by_source: list[dict[str, Any]] = [
        {
            "source": str(r[0]),
            "activities": int(r[1]),
            "events": int(r[2]),
            "mean_events": float(r[3]),
            "mean_minutes": float(r[4]),
        }
        for r in rows
    ]
    return ActivitySummary(
        gap_minutes=gap_minutes,
        events=sum(r["events"] for r in by_source),
        activities=sum(r["activities"] for r in by_source),
        seconds=time.perf_counter() - started,
        by_source=by_source,
    )
