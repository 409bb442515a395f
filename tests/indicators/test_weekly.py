"""Weekly feature tensors (SPEC §3): exact values, the as-of guarantee, NaN/0 semantics, a campus."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.indicators.compute import compute_indicators
from learnsight.indicators.engine import DuckDBEngine
from learnsight.indicators.weekly import FEATURE_NAMES, KEYS, WeeklyFeatures, weekly_features, weekly_sql
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, IngestBatch
from learnsight.xapi import vocab as v

C1 = "http://u.example/course/C1"  # starts Monday 2024-01-01, 21 days (weeks 0-2)
C2 = "http://u.example/course/C2"  # starts 2024-01-08, length unknown
VLE = v.vle_activity_type


def _day(month: int, day: int, year: int = 2024, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour)


def _st(
    actor: str,
    verb: str,
    ts: dt.datetime,
    *,
    course: str | None = C1,
    source: str = "lms",
    obj: str | None = None,
    atype: str | None = None,
    **result: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "actor_key": actor,
        "verb_id": verb,
        "ts": ts,
        "course": course,
        "source": source,
        "object_id": obj or f"http://u.example/o/{verb.rsplit('/', 1)[-1]}/{ts.isoformat()}",
        "object_type": "Activity",
        "activity_type": atype,
    }
    row.update(result)
    return row


def _ingest(store: DuckDBStore, rows: list[dict[str, Any]], *, with_courses: bool = True) -> None:
    cols = [
        "actor_key",
        "verb_id",
        "ts",
        "course",
        "source",
        "object_id",
        "object_type",
        "activity_type",
        "quantity",
        "score_scaled",
        "duration_s",
        "extensions",
    ]
    types = {
        "ts": pa.timestamp("us"),
        "quantity": pa.float64(),
        "score_scaled": pa.float64(),
        "duration_s": pa.float64(),
    }
    data = {c: pa.array([r.get(c) for r in rows], types.get(c, pa.string())) for c in cols}
    data["id"] = pa.array([str(uuid.uuid5(uuid.NAMESPACE_OID, repr(sorted(r.items())))) for r in rows])
    courses = pa.table(
        {
            "course": [C1, C2],
            "code": ["C1", "C2"],
            "start_ts": pa.array([dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 8)], pa.timestamp("us")),
            "length_days": pa.array([21, None], pa.int32()),
            "source": ["test", "test"],
        }
    )
    store.ingest(
        IngestBatch(
            "test", "memory", len(rows), statements=pa.table(data), courses=courses if with_courses else None
        )
    )


def _ext(group: str, iri: str, value: object) -> str:
    return json.dumps({group: {iri: value}})


BASE_ROWS = [
    # a in C1
    _st("a", v.REGISTERED, _day(12, 20, 2023), source="registry", obj=C1),  # enrols, never a feature
    _st("a", v.INTERACTED, _day(11, 1, 2023), atype=VLE("quiz"), obj="q1", quantity=2.0),  # day -61 → -1
    _st("a", v.INTERACTED, _day(12, 25, 2023), atype=VLE("oucontent"), obj="p1", quantity=4.0),  # → -1
    _st("a", v.INTERACTED, _day(1, 2), atype=VLE("resource"), obj="r1", quantity=3.0),
    _st("a", v.VIEWED, _day(1, 2), atype=VLE("forumng"), obj="f1", quantity=1.0),
    _st(
        "a",
        v.SUBMITTED,
        _day(1, 6),
        atype=v.ASSESSMENT,
        obj="t1",
        score_scaled=0.8,
        extensions=_ext("context", v.EXT_DUE, "2024-01-05T00:00:00Z"),
    ),  # after its deadline
    _st(
        "a",
        v.SUBMITTED,
        _day(1, 10),
        atype=v.HOMEWORK,
        obj="t2",
        score_scaled=0.6,
        extensions=_ext("result", v.EXT_LATE, True),
    ),  # flagged late
    _st("a", v.ATTENDED, _day(1, 9), source="classroom", obj="s1"),
    _st("a", v.ABSENT, _day(1, 11), source="classroom", obj="s2"),
    _st("a", v.WATCHED, _day(1, 15), atype=v.VIDEO, obj="v1", duration_s=100.0),
    _st("a", v.POSTED, _day(1, 16), atype=v.DISCUSSION, obj="th1"),
    _st("a", v.REPLIED, _day(1, 16), atype=v.DISCUSSION, obj="th1"),
    _st("a", v.INTERACTED, _day(1, 22), atype=VLE("resource"), obj="r1", quantity=9.0),  # course over
    _st("a", v.PASSED, _day(1, 21), source="registry", obj=C1),  # the target: never a feature
    # a's campus life (no course): C1 week 0 and C2 week -1; 2023-12-20 is too early for either
    _st("a", v.SWIPED, _day(1, 3), course=None, source="canteen", obj="canteen"),
    _st("a", v.SWIPED, _day(12, 20, 2023), course=None, source="canteen", obj="canteen"),
    # a in C2 (starts 2024-01-08)
    _st("a", v.INTERACTED, _day(1, 9), course=C2, atype=VLE("oucollaborate"), obj="x1", quantity=5.0),
    # b: registered in C1 only, never active; c: C2 only
    _st("b", v.REGISTERED, _day(12, 28, 2023), source="registry", obj=C1),
    _st("c", v.INTERACTED, _day(1, 10), course=C2, atype=VLE("homepage"), obj="h1", quantity=2.0),
]

ZERO = dict.fromkeys(FEATURE_NAMES, 0)


def _row(wf: WeeklyFeatures, actor: str, course: str, week: int) -> dict[str, Any]:
    for r in wf.table.to_pylist():
        if (r["actor_key"], r["course"], r["week"]) == (actor, course, week):
            return {k: r[k] for k in FEATURE_NAMES}
    raise AssertionError(f"no row for {(actor, course, week)}")


def _expect(**values: object) -> dict[str, Any]:
    absent = {"dorm_returns": None, "network_sessions": None, "library_loans": None, "mean_score": None}
    return ZERO | absent | values


@pytest.fixture
def hand(store: DuckDBStore) -> DuckDBStore:
    _ingest(store, BASE_ROWS)
    return store


def test_exact_values(hand: DuckDBStore) -> None:
    wf = weekly_features(DuckDBEngine(hand))
    assert wf.table.column_names == [*KEYS, *FEATURE_NAMES]
    assert wf.n_weeks == 3  # C1's 21 days; C2 has no length and data only in weeks -1, 0
    assert wf.sources == ["canteen", "classroom", "lms", "registry"]
    keys = [(r["actor_key"], r["course"], r["week"]) for r in wf.table.select(list(KEYS)).to_pylist()]
    assert keys == [
        ("a", C1, -1),
        ("a", C1, 0),
        ("a", C1, 1),
        ("a", C1, 2),
        ("a", C2, -1),
        ("a", C2, 0),
        ("c", C2, 0),
    ]
    assert _row(wf, "a", C1, -1) == _expect(
        events=2,
        lms_events=2,
        clicks=6.0,
        active_days=2,
        distinct_objects=2,
        clicks_content=4.0,
        clicks_quiz=2.0,
    )
    assert _row(wf, "a", C1, 0) == _expect(
        events=3,
        lms_events=3,
        clicks=4.0,
        active_days=2,
        distinct_objects=3,
        clicks_resource=3.0,
        clicks_forum=1.0,
        submissions=1,
        scored_items=1,
        mean_score=0.8,
        late_submissions=1,
        canteen_swipes=1,
    )
    assert _row(wf, "a", C1, 1) == _expect(
        events=3,
        lms_events=1,
        active_days=3,
        distinct_objects=3,
        submissions=1,
        scored_items=1,
        mean_score=0.6,
        late_submissions=1,
        attended=1,
        absent=1,
    )
    assert _row(wf, "a", C1, 2) == _expect(
        events=3, lms_events=3, active_days=2, distinct_objects=2, video_seconds=100.0, forum_posts=2
    )
    assert _row(wf, "a", C2, -1) == _expect(canteen_swipes=1)
    assert _row(wf, "a", C2, 0) == _expect(
        events=1, lms_events=1, clicks=5.0, active_days=1, distinct_objects=1, clicks_other=5.0
    )
    assert _row(wf, "c", C2, 0) == _expect(
        events=1, lms_events=1, clicks=2.0, active_days=1, distinct_objects=1, clicks_content=2.0
    )


def test_tensor_nan_and_zero(hand: DuckDBStore) -> None:
    wf = weekly_features(DuckDBEngine(hand))
    x, index = wf.to_tensor()
    assert x.dtype == np.float32
    assert x.shape == (3, 2, 4, len(FEATURE_NAMES))
    assert index.students == ["a", "b", "c"] and index.courses == [C1, C2]
    assert index.weeks == [-1, 0, 1, 2] and index.features == list(FEATURE_NAMES)
    f = {name: j for j, name in enumerate(FEATURE_NAMES)}
    counts = [
        j
        for name, j in f.items()
        if name not in {"mean_score", "dorm_returns", "network_sessions", "library_loans"}
    ]
    # not enrolled → NaN everywhere
    assert np.isnan(x[1, 1]).all() and np.isnan(x[2, 0]).all()
    # enrolled, nothing happened → 0 (b registered in C1 but never came)
    assert (x[1, 0][:, counts] == 0).all()
    # absent sources and weeks without a score → NaN, never 0
    assert np.isnan(x[..., f["dorm_returns"]]).all() and np.isnan(x[1, 0, :, f["mean_score"]]).all()
    assert x[0, 0, 1, f["clicks"]] == 4 and x[0, 0, 1, f["mean_score"]] == np.float32(0.8)
    assert x[0, 0, 0, f["clicks_content"]] == 4 and x[0, 1, 0, f["canteen_swipes"]] == 1
    # C2 (no length) is open in every week; an enrolled week with no data is 0
    assert (x[2, 1, [0, 2, 3]][:, counts] == 0).all() and x[2, 1, 1, f["clicks"]] == 2
    xc, students = wf.course_tensor(C2)
    assert students == ["a", "c"] and xc.shape == (2, 4, len(FEATURE_NAMES))
    np.testing.assert_array_equal(xc, x[[0, 2], 1])
    with pytest.raises(LearnsightError):
        wf.course_tensor("http://nowhere")


LATER_ROWS = [
    _st("a", v.INTERACTED, _day(1, 8, hour=0), atype=VLE("resource"), obj="r9", quantity=7.0),
    _st("a", v.INTERACTED, _day(1, 8, hour=13), atype=VLE("resource"), obj="r9", quantity=7.0),
    _st("a", v.SWIPED, _day(1, 8, hour=13), course=None, source="canteen", obj="canteen"),
    _st("d", v.REGISTERED, _day(1, 8, hour=13), source="registry", obj=C1),  # a late enrolment
    _st("d", v.SWIPED, _day(1, 9), course=None, source="network", obj="ap"),  # a new source
    _st("c", v.INTERACTED, _day(1, 16), course=C2, atype=VLE("quiz"), obj="q3", quantity=1.0),
]
"""Statements dated after both cut-offs below (course week 1 of C1; 2024-01-08 12:00)."""


@pytest.mark.parametrize(
    "as_of", [AsOf(week=1), AsOf(date=dt.datetime(2024, 1, 8, 12))], ids=["week", "date"]
)
def test_later_statements_change_nothing(store: DuckDBStore, as_of: AsOf) -> None:
    _ingest(store, BASE_ROWS)
    before = weekly_features(DuckDBEngine(store), as_of, n_weeks=3)
    x_before, i_before = before.to_tensor()
    _ingest(store, [r for r in LATER_ROWS if as_of.week is not None or r["ts"].hour != 0])
    after = weekly_features(DuckDBEngine(store), as_of, n_weeks=3)
    x_after, i_after = after.to_tensor()
    assert after.table.equals(before.table)
    assert i_after == i_before and before.sources == after.sources
    np.testing.assert_array_equal(x_after, x_before)
    # and nothing at or after the cut-off is observed: NaN, not 0
    if as_of.week is not None:
        assert np.isnan(x_after[:, :, 2:]).all()  # weeks 1, 2
    else:
        # C2 has no visible statement yet (nobody enrolled); C1's week 2 starts after the date
        assert i_after.courses == [C1] and np.isnan(x_after[:, 0, 3]).all()
        assert not np.isnan(x_after[0, 0, 2, 0])  # week 1 started before the date: observed


def test_week_cutoff_is_a_prefix_of_all_data(hand: DuckDBStore) -> None:
    x_all, _ = weekly_features(DuckDBEngine(hand)).to_tensor()
    early = weekly_features(DuckDBEngine(hand), AsOf(week=1))
    assert early.n_weeks == 1 and early.weeks.tolist() == [-1, 0]
    x_early, _ = early.to_tensor()
    # Source presence is judged on the visible data too: no classroom statement precedes week 1,
    # so attended/absent are missing (NaN) at that cut-off, not 0; all the rest is the same prefix.
    assert "classroom" not in early.sources
    classroom = [FEATURE_NAMES.index("attended"), FEATURE_NAMES.index("absent")]
    assert np.isnan(x_early[..., classroom]).all()
    expected = x_all[:, :, :2].copy()
    expected[..., classroom] = np.nan
    np.testing.assert_array_equal(x_early, expected)
    only_pre = weekly_features(DuckDBEngine(hand), AsOf(week=0))
    assert only_pre.weeks.tolist() == [-1] and set(only_pre.table.column("week").to_pylist()) == {-1}


def test_course_without_calendar_is_left_out(store: DuckDBStore) -> None:
    _ingest(store, [_st("a", v.INTERACTED, _day(1, 2), atype=VLE("url"), quantity=1.0)], with_courses=False)
    wf = weekly_features(DuckDBEngine(store))
    assert wf.table.num_rows == 0 and wf.enrolments.num_rows == 0 and wf.n_weeks == 0
    x, index = wf.to_tensor()
    assert x.shape == (0, 0, 1, len(FEATURE_NAMES)) and index.students == []


def test_sql_transpiles_to_spark() -> None:
    sqlglot = pytest.importorskip("sqlglot")
    views, query = weekly_sql()
    for sql in [*(body for _, body in views), query]:
        [spark] = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level="raise")
        assert spark


@pytest.fixture(scope="module")
def campus_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = DuckDBStore(tmp_path_factory.mktemp("campus") / "campus.duckdb")
    write_campus(store, simulate_campus(CampusConfig(n_students=30, n_courses=2, n_weeks=4, seed=1)))
    yield store
    store.close()


def test_synthetic_campus(campus_store: DuckDBStore) -> None:
    engine = DuckDBEngine(campus_store)
    wf = weekly_features(engine)
    assert wf.n_weeks == 4
    x, _ = wf.to_tensor()
    assert x.shape == (30, 2, 5, len(FEATURE_NAMES))
    f = {name: j for j, name in enumerate(FEATURE_NAMES)}
    enrolled = ~np.isnan(x[:, :, 1, f["events"]])
    assert 0 < enrolled.sum() < 60
    observed = x[enrolled][:, 1:]  # weeks 0-3 of enrolled pairs
    no_score = [j for name, j in f.items() if name != "mean_score"]
    assert not np.isnan(observed[..., no_score]).any()
    assert (observed[..., no_score] >= 0).all()
    assert (observed[..., f["clicks"]] > 0).any() and (observed[..., f["canteen_swipes"]] > 0).any()
    scores = observed[..., f["mean_score"]]
    assert np.nanmin(scores) >= 0 and np.nanmax(scores) <= 1
    # the weekly counts add up to the whole-course indicators of the same data
    course = compute_indicators(engine).student_course.to_pandas().set_index(["actor_key", "course"])
    totals = (
        wf.table.to_pandas()
        .groupby(["actor_key", "course"])[
            ["clicks", "lms_events", "submissions", "attended", "absent", "video_seconds"]
        ]
        .sum()
    )
    joined = totals.join(course.add_suffix("_course"), how="inner")
    assert len(joined) == len(totals)
    for name in ["clicks", "lms_events", "submissions", "attended", "absent", "video_seconds"]:
        np.testing.assert_allclose(joined[name], joined[f"{name}_course"].fillna(0), rtol=1e-9)
    early = weekly_features(engine, AsOf(week=2))
    np.testing.assert_array_equal(early.to_tensor()[0], x[:, :, :3])
