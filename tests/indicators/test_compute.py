"""Indicator computation on the store: hand-made statements, as-of cut-offs, missing values."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest

from learnsight.indicators import AsOf, DuckDBEngine, compute_indicators, save_indicators, wide_table
from learnsight.indicators.catalog import indicators
from learnsight.indicators.formulas import online_completion, participation, rest_regularity
from learnsight.indicators.formulas.online_completion import bounded_completion
from learnsight.indicators.formulas.real_entropy import real_entropy
from learnsight.indicators.meals import meal_symbols
from learnsight.store import DuckDBStore, IngestBatch
from learnsight.xapi import vocab as v
from learnsight.xapi.ids import deterministic_id

START = dt.datetime(2024, 9, 2)
COURSE = "https://campus.example.edu/course/C01"
A = "account:https://campus.example.edu|S1"
B = "account:https://campus.example.edu|S2"


class Events:
    """A tiny builder of statement rows."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(
        self,
        actor: str,
        verb: str,
        ts: dt.datetime,
        source: str,
        *,
        course: str | None = None,
        obj: str = "https://x/o",
        **extra: object,
    ) -> None:
        self.rows.append(
            {
                "actor_key": actor,
                "verb_id": verb,
                "ts": ts,
                "source": source,
                "course": course,
                "object_id": obj,
                **extra,
            }
        )

    def table(self, salt: str = "") -> pa.Table:
        cols = [
            "actor_key",
            "verb_id",
            "ts",
            "source",
            "course",
            "object_id",
            "duration_s",
            "quantity",
            "score_scaled",
            "success",
            "response",
            "extensions",
        ]
        data = {c: [r.get(c) for r in self.rows] for c in cols}
        n = len(self.rows)
        return pa.table(
            {
                "id": [str(deterministic_id("t", salt, i)) for i in range(n)],
                "object_type": ["Activity"] * n,
                "actor_key": data["actor_key"],
                "verb_id": data["verb_id"],
                "object_id": data["object_id"],
                "ts": pa.array(data["ts"], pa.timestamp("us")),
                "source": data["source"],
                "course": pa.array(data["course"], pa.string()),
                "duration_s": pa.array(data["duration_s"], pa.float64()),
                "quantity": pa.array(data["quantity"], pa.float64()),
                "score_scaled": pa.array(data["score_scaled"], pa.float64()),
                "success": pa.array(data["success"], pa.bool_()),
                "response": pa.array(data["response"], pa.string()),
                "extensions": pa.array(
                    [json.dumps(e) if e is not None else None for e in data["extensions"]], pa.string()
                ),
            }
        )


def _courses() -> pa.Table:
    return pa.table(
        {
            "course": [COURSE],
            "code": ["C01"],
            "start_ts": pa.array([START], pa.timestamp("us")),
            "length_days": pa.array([112], pa.int32()),
            "source": ["test"],
        }
    )


def _campus() -> Events:
    e = Events()
    day = dt.timedelta(days=1)
    for d in range(10):
        t = START + d * day
        # dorm: 10 returns, 3 late (23:30), of which one after midnight (00:30)
        back = dt.timedelta(hours=23, minutes=30) if d < 2 else dt.timedelta(hours=22)
        e.add(A, v.RETURNED, t + (dt.timedelta(hours=24, minutes=30) if d == 5 else back), "dorm")
        # network: 10 sessions, the first 4 at 01:00 (early morning)
        e.add(
            A,
            v.CONNECTED,
            t + dt.timedelta(hours=1 if d < 4 else 20),
            "network",
            duration_s=1800.0,
            quantity=1048576.0,
        )
        # canteen: breakfast at 07:10 every other day, lunch 12:05 every day
        if d % 2 == 0:
            e.add(A, v.SWIPED, t + dt.timedelta(hours=7, minutes=10), "canteen", quantity=5.0)
        e.add(A, v.SWIPED, t + dt.timedelta(hours=12, minutes=5), "canteen", quantity=9.0)
    for s in range(8):  # 8 scheduled sessions, 2 missed
        t = START + dt.timedelta(days=s, hours=9)
        e.add(A, v.ABSENT if s in (1, 6) else v.ATTENDED, t, "classroom", course=COURSE)
    # B: only classroom, all attended, so no dorm/network/canteen data of their own
    for s in range(8):
        e.add(B, v.ATTENDED, START + dt.timedelta(days=s, hours=9), "classroom", course=COURSE)
    # forum: A posts 2 threads, replies once; B replies twice and follows A's thread once
    thread = {"context": {v.EXT_THREAD_AUTHOR: A}}
    e.add(A, v.POSTED, START + dt.timedelta(hours=20), "lms", course=COURSE, extensions=thread)
    e.add(A, v.POSTED, START + dt.timedelta(days=1, hours=20), "lms", course=COURSE, extensions=thread)
    e.add(A, v.REPLIED, START + dt.timedelta(days=2, hours=20), "lms", course=COURSE)
    e.add(B, v.REPLIED, START + dt.timedelta(days=2, hours=21), "lms", course=COURSE)
    e.add(B, v.REPLIED, START + dt.timedelta(days=3, hours=21), "lms", course=COURSE)
    e.add(B, v.FOLLOWED, START + dt.timedelta(days=3, hours=22), "lms", course=COURSE, extensions=thread)
    # videos: two in the course (600 s and 300 s long); A watches v1 twice (200 + 400 s)
    length = lambda z: {"context": {v.EXT_FULL_LENGTH: z}}  # noqa: E731
    e.add(
        A,
        v.WATCHED,
        START + dt.timedelta(hours=18),
        "lms",
        course=COURSE,
        obj="https://x/v1",
        duration_s=200.0,
        extensions=length(600),
    )
    e.add(
        A,
        v.WATCHED,
        START + dt.timedelta(days=1, hours=18),
        "lms",
        course=COURSE,
        obj="https://x/v1",
        duration_s=400.0,
        extensions=length(600),
    )
    e.add(
        B,
        v.WATCHED,
        START + dt.timedelta(hours=18),
        "lms",
        course=COURSE,
        obj="https://x/v2",
        duration_s=450.0,
        extensions=length(300),
    )
    return e


@pytest.fixture
def campus_store(store: DuckDBStore) -> DuckDBStore:
    store.ingest(IngestBatch("test", "campus", 0, statements=_campus().table(), courses=_courses()))
    return store


def _row(table: pa.Table, **keys: str) -> dict[str, object]:
    rows = [r for r in table.to_pylist() if all(r[k] == val for k, val in keys.items())]
    assert len(rows) == 1, rows
    return rows[0]


def test_columns_match_the_catalogue(campus_store: DuckDBStore) -> None:
    t = compute_indicators(DuckDBEngine(campus_store))
    assert set(t.student.column_names) == {"actor_key"} | {i.name for i in indicators("student")}
    assert set(t.student_course.column_names) == {"actor_key", "course"} | {
        i.name for i in indicators("student_course")
    }


def test_hand_computed_values(campus_store: DuckDBStore) -> None:
    t = compute_indicators(DuckDBEngine(campus_store))
    a = _row(t.student, actor_key=A)
    # w = 3 late of 10 returns; q = 2 absences of 8 sessions; l = 4 early of 10 network sessions
    assert (
        a["late_returns"],
        a["dorm_returns"],
        a["absences"],
        a["scheduled_sessions"],
        a["early_sessions"],
        a["network_sessions"],
    ) == (3, 10, 2, 8, 4, 10)
    assert a["rest_regularity_z"] == pytest.approx(rest_regularity(3, 10, 2, 8, 4, 10))
    assert a["rest_regularity_z"] == pytest.approx(9 / 28)
    assert a["internet_minutes_per_day"] == pytest.approx(30.0)
    assert a["internet_mb_per_day"] == pytest.approx(1.0)
    # breakfast on days 0,2,4,6,8 at slot 14; lunch every day at slot 24
    breakfast = meal_symbols([0, 2, 4, 6, 8], [14] * 5, 10)
    assert a["meal_entropy_breakfast"] == pytest.approx(real_entropy(breakfast))
    assert a["meal_entropy_lunch"] == pytest.approx(real_entropy([24] * 10))
    assert a["meal_entropy_dinner"] == pytest.approx(real_entropy([-1] * 10))
    ac = _row(t.student_course, actor_key=A, course=COURSE)
    assert ac["attendance_rate"] == pytest.approx(6 / 8)
    # C = (p + a + r) / q = (2 + 1 + 1) / 5
    assert ac["participation_c"] == pytest.approx(participation(2, 1, 1, 5))
    assert ac["participation_c"] == pytest.approx(0.8)
    # W = Σ t f / z over A's videos: v1 600 s watched in 2 sessions of a 600 s video
    assert ac["online_completion_w"] == pytest.approx(online_completion([600.0], [2], [600.0]))
    # bounded share over the course's m = 2 videos; A never watched v2
    assert ac["completion_share"] == pytest.approx(bounded_completion([600.0, 0.0], [600.0, 300.0]))
    assert ac["video_repeats"] == 1
    bc = _row(t.student_course, actor_key=B, course=COURSE)
    assert bc["completion_share"] == pytest.approx(0.5)  # min(1, 450/300) over 2 videos
    assert bc["participation_c"] == pytest.approx(2 / 5)


def test_missing_is_missing_with_a_reason(campus_store: DuckDBStore) -> None:
    t = compute_indicators(DuckDBEngine(campus_store))
    b = _row(t.student, actor_key=B)
    assert b["canteen_swipes"] == 0  # the campus has canteen data; B has none
    assert b["meal_regularity_e"] is None
    assert b["library_loans"] is None  # no library source at all: missing, not zero
    reasons = {(r["actor_key"], r["indicator"]): r["reason"] for r in t.missing.to_pylist()}
    assert reasons[(B, "library_loans")] == "source_absent:library"
    assert reasons[(B, "meal_regularity_e")] == "no_canteen_data"
    assert reasons[(B, "prior_gpa")] == "no_profile"
    cov = {r["indicator"]: r for r in t.coverage.to_pylist()}
    assert cov["meal_regularity_e"]["coverage"] == 0.5
    assert json.loads(cov["library_loans"]["missing_reasons"]) == {"source_absent:library": 2}


def test_as_of_sees_nothing_later(campus_store: DuckDBStore) -> None:
    """Adding statements dated after the cut-off changes nothing computed before it."""
    cut_date = AsOf(date=START + dt.timedelta(days=3))
    cut_week = AsOf(week=1)
    before = {c: compute_indicators(DuckDBEngine(campus_store), c) for c in (cut_date, cut_week)}
    later = Events()
    late = START + dt.timedelta(days=30)
    for i in range(20):
        t = late + dt.timedelta(hours=i)
        later.add(A, v.RETURNED, t.replace(hour=23), "dorm")
        later.add(B, v.SWIPED, t, "canteen")
        later.add(A, v.ABSENT, t, "classroom", course=COURSE)
        later.add(B, v.POSTED, t, "lms", course=COURSE)
    campus_store.ingest(IngestBatch("test", "later", 0, statements=later.table("later")))
    for cut, first in before.items():
        again = compute_indicators(DuckDBEngine(campus_store), cut)
        assert again.student.equals(first.student), cut
        assert again.student_course.equals(first.student_course), cut
    everything = compute_indicators(DuckDBEngine(campus_store))
    assert _row(everything.student, actor_key=A)["dorm_returns"] == 30


def test_week_cutoff_uses_the_course_calendar(campus_store: DuckDBStore) -> None:
    t = compute_indicators(DuckDBEngine(campus_store), AsOf(week=0))
    assert t.student.num_rows == 0  # nothing happens before the first day of week 0
    t = compute_indicators(DuckDBEngine(campus_store), AsOf.parse("week:1"))
    a = _row(t.student_course, actor_key=A, course=COURSE)
    assert a["attended"] + a["absent"] == 7  # sessions on days 0..6


def test_save_and_wide_table(campus_store: DuckDBStore, tmp_path: Path) -> None:
    t = compute_indicators(DuckDBEngine(campus_store))
    save_indicators(campus_store, t)
    assert campus_store.scalar("SELECT count(*) FROM indicators_course") == 2
    wide = wide_table(t)
    assert wide.num_rows == 2
    assert "rest_regularity_z" in wide.column_names and "participation_c" in wide.column_names


def test_asof_parse_errors() -> None:
    from learnsight.errors import LearnsightError

    assert AsOf.parse("w3") == AsOf(week=3)
    assert AsOf.parse("2024-10-01").date == dt.datetime(2024, 10, 1)
    assert AsOf.parse("2024-10-01T10:00:00+02:00").date == dt.datetime(2024, 10, 1, 8)
    with pytest.raises(LearnsightError, match="--as-of"):
        AsOf.parse("next tuesday")
