"""Events → activities, computed in SQL inside the store (SPEC §1).

An **activity** is a maximal run of consecutive events of the same learner from the same type of
device (the statement's ``source``), with no gap longer than a threshold (default 30 minutes).
"Consecutive" is over the learner's whole event stream ordered by time, so an event from another
device ends the run: the activity flow then follows the learner across learning and living spaces.

The gap is measured from the *end* of the previous event (its timestamp plus its own duration, e.g.
a 20-minute video view) to the start of the next; ties in time are ordered by source and statement id
so the result is deterministic.  Voided statements and the voiding statements themselves are not
events.  Each activity keeps subject (``actor_key``), objects, device (``source``), start, end and an
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
    SELECT id, actor_key, source, ts, object_id, course, verb_id, quantity, duration_s,
           score_scaled, success, completion,
           ts + to_microseconds(CAST(coalesce(duration_s, 0) * 1e6 AS BIGINT)) AS end_ts
    FROM statements
    WHERE NOT voided AND verb_id <> $voided
),
marked AS (
    SELECT *,
        CASE WHEN lag(source) OVER w IS DISTINCT FROM source
               OR ts - max(end_ts) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                  > to_microseconds(CAST($gap_us AS BIGINT))
             THEN 1 ELSE 0 END AS starts_run
    FROM ev
    WINDOW w AS (PARTITION BY actor_key ORDER BY ts, source, id)
),
numbered AS (
    SELECT *, sum(starts_run) OVER (PARTITION BY actor_key ORDER BY ts, source, id
                                    ROWS UNBOUNDED PRECEDING) AS run
    FROM marked
)
SELECT
    row_number() OVER (ORDER BY actor_key, min(ts), run) AS activity_id,
    actor_key,
    any_value(source) AS source,
    min(ts) AS start_ts,
    max(end_ts) AS end_ts,
    count(*) AS n_events,
    count(DISTINCT object_id) AS n_objects,
    list(DISTINCT object_id ORDER BY object_id) AS objects,
    coalesce(list(DISTINCT course ORDER BY course) FILTER (WHERE course IS NOT NULL),
             CAST([] AS VARCHAR[])) AS courses,
    list(DISTINCT verb_id ORDER BY verb_id) AS verbs,
    sum(quantity) AS quantity_sum,
    sum(duration_s) AS duration_sum_s,
    avg(score_scaled) AS score_mean,
    count(*) FILTER (WHERE success) AS n_success,
    count(*) FILTER (WHERE NOT success) AS n_failure,
    count(*) FILTER (WHERE completion) AS n_completed
FROM numbered
GROUP BY actor_key, run
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
    with progress.task("building activities"):
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
