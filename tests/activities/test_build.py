"""Events → activities (SPEC §1), on hand-made event streams."""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa
import pytest

from learnsight.activities import build_activities
from learnsight.errors import LearnsightError
from learnsight.store import DuckDBStore, IngestBatch
from learnsight.xapi.vocab import VOIDED

Event = tuple[str, str, dt.datetime, float | None]


def _t(h: int, m: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, h, m)


def _ingest(store: DuckDBStore, events: list[Event], **extra: list[object]) -> list[str]:
    ids = [str(uuid.uuid5(uuid.NAMESPACE_OID, f"{i}-{e}")) for i, e in enumerate(events)]
    table = pa.table(
        {
            "id": ids,
            "actor_key": [e[0] for e in events],
            "verb_id": extra.pop("verb_id", ["http://adlnet.gov/expapi/verbs/experienced"] * len(events)),
            "object_id": extra.pop("object_id", [f"http://x/o{i}" for i in range(len(events))]),
            "object_type": extra.pop("object_type", ["Activity"] * len(events)),
            "ts": pa.array([e[2] for e in events], pa.timestamp("us")),
            "source": [e[1] for e in events],
            "duration_s": pa.array([e[3] for e in events], pa.float64()),
            **extra,
        }
    )
    store.ingest(IngestBatch("test", "memory", len(events), statements=table))
    return ids


def _runs(store: DuckDBStore) -> list[tuple[str, str, dt.datetime, dt.datetime, int]]:
    return [
        (str(a), str(s), st, en, int(n))
        for a, s, st, en, n in store.con.execute(
            "SELECT actor_key, source, start_ts, end_ts, n_events FROM activities "
            "ORDER BY actor_key, start_ts"
        ).fetchall()
    ]


def test_gap_device_change_and_duration(store: DuckDBStore) -> None:
    _ingest(
        store,
        [
            ("a", "lms", _t(8, 0), None),
            ("a", "lms", _t(8, 20), None),  # 20 min gap: same activity
            ("a", "lms", _t(9, 0), None),  # 40 min gap: new activity
            ("a", "canteen", _t(9, 5), None),  # other device: new activity
            ("a", "lms", _t(9, 10), 600.0),  # ends 9:20
            ("a", "lms", _t(9, 45), None),  # 25 min after the video ended: same activity
            ("b", "lms", _t(8, 0), None),
        ],
    )
    summary = build_activities(store, gap_minutes=30)
    assert summary.activities == 5
    assert summary.events == 7
    assert _runs(store) == [
        ("a", "lms", _t(8, 0), _t(8, 20), 2),
        ("a", "lms", _t(9, 0), _t(9, 0), 1),
        ("a", "canteen", _t(9, 5), _t(9, 5), 1),
        ("a", "lms", _t(9, 10), _t(9, 45), 2),
        ("b", "lms", _t(8, 0), _t(8, 0), 1),
    ]


def test_threshold_is_configurable_and_rebuild_replaces(store: DuckDBStore) -> None:
    _ingest(store, [("a", "lms", _t(8, 0), None), ("a", "lms", _t(8, 50), None)])
    assert build_activities(store, gap_minutes=30).activities == 2
    assert build_activities(store, gap_minutes=60).activities == 1
    assert store.scalar("SELECT count(*) FROM activities") == 1
    with pytest.raises(LearnsightError, match="positive"):
        build_activities(store, gap_minutes=0)


def test_aggregated_result_and_objects(store: DuckDBStore) -> None:
    _ingest(
        store,
        [("a", "lms", _t(8, 0), 60.0), ("a", "lms", _t(8, 5), 30.0), ("a", "lms", _t(8, 6), None)],
        object_id=["http://x/q", "http://x/q", "http://x/v"],
        quantity=pa.array([2.0, 3.0, None], pa.float64()),
        score_scaled=pa.array([0.5, 1.0, None], pa.float64()),
        success=pa.array([True, False, None], pa.bool_()),
        course=["http://c/1", "http://c/1", None],
    )
    build_activities(store)
    row = store.con.execute(
        "SELECT activity_id, n_objects, course, quantity_sum, duration_sum_s, score_mean, n_success, "
        "n_failure FROM activities"
    ).fetchall()
    # one event has no course, so the run is not attributed to one course
    assert [r[1:] for r in row] == [(2, None, 5.0, 90.0, 0.75, 1, 1)]
    objects = store.con.execute(
        "SELECT activity_id, object_id, n_events, first_ts FROM activity_objects ORDER BY object_id"
    ).fetchall()
    assert objects == [
        (row[0][0], "http://x/q", 2, _t(8, 0)),
        (row[0][0], "http://x/v", 1, _t(8, 6)),
    ]


def test_voided_events_are_not_events(store: DuckDBStore) -> None:
    ids = _ingest(store, [("a", "lms", _t(8, 0), None), ("a", "lms", _t(8, 10), None)])
    _ingest(
        store,
        [("admin", "lms", _t(9, 0), None)],
        verb_id=[VOIDED],
        object_id=[ids[1]],
        object_type=["StatementRef"],
    )
    assert store.scalar("SELECT count(*) FROM statements WHERE voided") == 1
    summary = build_activities(store)
    assert summary.events == 1
    assert summary.activities == 1
