"""Events → activities, computed in SQL inside the store (SPEC §1).

An **activity** is a maximal run of consecutive events of the same learner from the same type of
device (the statement's ``source``), with no gap longer than a threshold (default 30 minutes).
"Consecutive" is over the learner's whole event stream ordered by time, so an event from another
device ends the run: the activity flow then follows the learner across learning and living spaces.

The gap is measured from the *end* of the latest earlier event (its timestamp plus its own duration,
e.g. a 20-minute video view) to the start of the next; ties in time are ordered by source and then by
storage order, so the result is deterministic.  Voided statements and the voiding statements
themselves are not events.  Each activity keeps subject (``actor_key``), objects, device (``source``),
the course when all its events share one, start, end and an
aggregated result (sums of quantities and durations, mean scaled score, success/failure/completion
counts).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from learnsight import progress
from learnsight.errors import LearnsightError
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi.vocab import VOIDED

ACTIVITIES_SQL = """
INSERT INTO activities
WITH ev AS (
    -- Only the columns that decide runs go through the window sorts (it is several times faster
    -- than sorting whole rows); rowid ties identical timestamps deterministically.
    SELECT rowid AS k, actor_key, source, ts,
           ts + to_microseconds(CAST(coalesce(duration_s, 0) * 1e6 AS BIGINT)) AS end_ts
    FROM statements
    WHERE NOT voided AND verb_id <> $voided
),
marked AS (
    SELECT k, actor_key, source, ts,
        CASE WHEN lag(source) OVER w IS DISTINCT FROM source
               OR ts - max(end_ts) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                  > to_microseconds(CAST($gap_us AS BIGINT))
             THEN 1 ELSE 0 END AS starts_run
    FROM ev
    WINDOW w AS (PARTITION BY actor_key ORDER BY ts, source, k)
),
runs AS (
    SELECT k, sum(starts_run) OVER (PARTITION BY actor_key ORDER BY ts, source, k
                                    ROWS UNBOUNDED PRECEDING) AS run
    FROM marked
),
grouped AS (
    SELECT
        s.actor_key,
        r.run,
        any_value(s.source) AS source,
        min(s.ts) AS start_ts,
        max(s.ts + to_microseconds(CAST(coalesce(s.duration_s, 0) * 1e6 AS BIGINT))) AS end_ts,
        count(*) AS n_events,
        CASE WHEN min(s.course) = max(s.course) AND count(s.course) = count(*)
             THEN min(s.course) END AS course,
        list_sort(list_distinct(list(s.object_id))) AS objects,
        sum(s.quantity) AS quantity_sum,
        sum(s.duration_s) AS duration_sum_s,
        avg(s.score_scaled) AS score_mean,
        count(*) FILTER (WHERE s.success) AS n_success,
        count(*) FILTER (WHERE NOT s.success) AS n_failure,
        count(*) FILTER (WHERE s.completion) AS n_completed
    FROM statements s JOIN runs r ON s.rowid = r.k
    GROUP BY s.actor_key, r.run
)
SELECT
    row_number() OVER (ORDER BY actor_key, start_ts, run) AS activity_id,
    actor_key, source, course, start_ts, end_ts, n_events, len(objects) AS n_objects, objects,
    quantity_sum, duration_sum_s, score_mean, n_success, n_failure, n_completed
FROM grouped
"""


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
            con.execute(ACTIVITIES_SQL, {"voided": VOIDED, "gap_us": gap_minutes * 60e6})
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
