"""Model-ready datasets: features as of a cut-off, no label leakage, UCI settings on real data."""

# ruff: noqa: N806

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.indicators.engine import DuckDBEngine
from learnsight.indicators.weekly import FEATURE_NAMES, weekly_features
from learnsight.ingest.uci import ingest_uci
from learnsight.models.dataset import (
    DatasetBuilder,
    class_order,
    encode_records,
    five_level,
    summarise_weeks,
)
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, IngestBatch, open_store
from learnsight.xapi import vocab as v
from learnsight.xapi.ids import deterministic_id


@pytest.fixture(scope="module")
def campus() -> Iterator[DuckDBStore]:
    store = open_store(":memory:")
    write_campus(store, simulate_campus(CampusConfig(n_students=60, n_courses=3, n_weeks=6, seed=3)))
    yield store
    store.close()


def _poison(store: DuckDBStore, when: dt.datetime, salt: str) -> None:
    """Huge LMS clicks and a perfect score for every enrolled pair, dated ``when``."""
    pairs = store.con.sql(
        "SELECT DISTINCT actor_key, course FROM statements WHERE course IS NOT NULL AND source = 'lms'"
    ).fetchall()
    n = len(pairs)
    table = pa.table(
        {
            "id": [str(deterministic_id("poison", salt, i)) for i in range(2 * n)],
            "actor_key": [a for a, _ in pairs] * 2,
            "verb_id": [v.INTERACTED] * n + [v.SCORED] * n,
            "object_id": [f"{c}/poison" for _, c in pairs] * 2,
            "object_type": ["Activity"] * (2 * n),
            "course": [c for _, c in pairs] * 2,
            "ts": pa.array([when] * (2 * n), type=pa.timestamp("us")),
            "source": [v.SOURCE_LMS] * (2 * n),
            "quantity": pa.array([1e6] * n + [None] * n, type=pa.float64()),
            "score_scaled": pa.array([None] * n + [1.0] * n, type=pa.float64()),
        }
    )
    store.ingest(IngestBatch(kind="test", source="test", rows_read=2 * n, statements=table))


def test_rows_are_outcomes_and_labels_are_never_features(campus: DuckDBStore) -> None:
    data = DatasetBuilder(campus).build(AsOf(week=3))
    assert len(data) == data.X.shape[0] == data.sequences.shape[0]  # type: ignore[union-attr]
    assert data.X.shape[1] == len(data.feature_names)
    assert data.scheme == "campus"
    assert set(data.outcome.tolist()) <= {"at-risk", "normal", "excellent"}
    assert not any("score" in n and n.startswith("profile.") for n in data.feature_names)
    # identifiers are not categories
    assert not any(n.startswith("profile.student_id=") for n in data.feature_names)
    assert data.weeks == (-1, 0, 1, 2)
    assert data.sequences.shape[1:] == (4, len(FEATURE_NAMES))  # type: ignore[union-attr]


def test_truncated_tensor_equals_recomputing_at_the_cutoff(campus: DuckDBStore) -> None:
    builder = DatasetBuilder(campus)
    data = builder.build(AsOf(week=3))
    direct = weekly_features(DuckDBEngine(campus), AsOf(week=3))
    expected = direct.rows_tensor(pa.array(data.actor_keys.tolist()), pa.array(data.courses.tolist()))
    np.testing.assert_array_equal(np.isnan(data.sequences), np.isnan(expected))  # type: ignore[arg-type]
    np.testing.assert_allclose(np.nan_to_num(data.sequences), np.nan_to_num(expected))  # type: ignore[arg-type]


def test_data_after_the_cutoff_never_changes_early_features(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    write_campus(store, simulate_campus(CampusConfig(n_students=25, n_courses=2, n_weeks=6, seed=4)))
    before3 = DatasetBuilder(store).build(AsOf(week=3))
    before_end = DatasetBuilder(store).build()
    start = store.scalar("SELECT min(start_ts) FROM courses")
    _poison(store, start + dt.timedelta(days=7 * 3 + 1), "late")
    after3 = DatasetBuilder(store).build(AsOf(week=3))
    after_end = DatasetBuilder(store).build()
    np.testing.assert_array_equal(np.nan_to_num(before3.X, nan=-7), np.nan_to_num(after3.X, nan=-7))
    assert before3.fingerprint() == after3.fingerprint()
    # the same poison inside the observed window does change the features
    assert not np.array_equal(np.nan_to_num(before_end.X, nan=-7), np.nan_to_num(after_end.X, nan=-7))
    store.close()


def test_unregistration_is_a_feature_only_once_it_happened(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    write_campus(store, simulate_campus(CampusConfig(n_students=10, n_courses=1, n_weeks=6, seed=5)))
    actor, course, start = store.con.sql(
        "SELECT s.actor_key, s.course, c.start_ts FROM statements s JOIN courses c USING (course) "
        "WHERE s.source = 'lms' LIMIT 1"
    ).fetchall()[0]
    table = pa.table(
        {
            "id": [str(deterministic_id("unreg", 1))],
            "actor_key": [actor],
            "verb_id": [v.UNREGISTERED],
            "object_id": [course],
            "object_type": ["Activity"],
            "course": [course],
            "ts": pa.array([start + dt.timedelta(days=16)], type=pa.timestamp("us")),
            "source": [v.SOURCE_REGISTRY],
        }
    )
    store.ingest(IngestBatch(kind="test", source="test", rows_read=1, statements=table))
    builder = DatasetBuilder(store)
    j = None
    for week, expected in ((2, 0.0), (3, 1.0)):
        data = builder.build(AsOf(week=week))
        j = data.feature_names.index("registry.unregistered")
        row = np.flatnonzero((data.actor_keys == actor) & (data.courses == course))[0]
        assert data.X[row, j] == expected
    assert j is not None
    store.close()


def test_summarise_weeks_by_hand() -> None:
    f = {name: i for i, name in enumerate(FEATURE_NAMES)}
    seq = np.full((2, 4, len(FEATURE_NAMES)), np.nan, np.float32)
    # row 0: pre-course 1 event, weeks 0..2 events 2, 0, 3; scored: one 0.5 in week 0, two 1.0 in week 2
    seq[0, :, :] = 0
    seq[0, :, f["events"]] = [1, 2, 0, 3]
    seq[0, 1, f["scored_items"]], seq[0, 1, f["mean_score"]] = 1, 0.5
    seq[0, 3, f["scored_items"]], seq[0, 3, f["mean_score"]] = 2, 1.0
    seq[0, [0, 2], f["mean_score"]] = np.nan
    # row 1: observed up to week 0 only, nothing done
    seq[1, :2, :] = 0
    X, names = summarise_weeks(seq)
    col = {n: j for j, n in enumerate(names)}
    assert X[0, col["weekly.events.total"]] == 6
    assert X[0, col["weekly.events.last2"]] == 3  # weeks 1 and 2
    assert X[0, col["weekly.mean_score"]] == pytest.approx((0.5 + 2.0) / 3)
    assert X[0, col["weekly.pre_course_events"]] == 1
    assert X[0, col["weekly.active_weeks"]] == 2
    assert X[0, col["weekly.active_share"]] == pytest.approx(2 / 3)
    assert X[0, col["weekly.weeks_since_active"]] == 0
    assert X[1, col["weekly.events.total"]] == 0
    assert X[1, col["weekly.weeks_since_active"]] == 1
    assert np.isnan(X[1, col["weekly.mean_score"]])


def test_encode_records_leaves_out_identifiers() -> None:
    records = [{"id": f"S{i}", "sex": "F" if i % 2 else "M", "age": i} for i in range(50)]
    X, names = encode_records(records, prefix="p.", max_categories=10)
    assert names == ["p.age", "p.sex=F", "p.sex=M"]
    assert X.shape == (50, 3)


def test_five_levels_and_class_order() -> None:
    assert five_level([0, 9.9, 10, 11, 12, 13, 14, 15, 16, 20]).tolist() == [
        "V", "V", "IV", "IV", "III", "III", "II", "II", "I", "I",
    ]  # fmt: skip
    assert class_order("pass_fail", ["pass", "fail"]) == ["fail", "pass"]
    assert class_order("three_class", ["excellent", "at-risk"]) == ["at-risk", "excellent"]


def test_unknown_group_and_empty_store_are_clear_errors(tmp_path: Path) -> None:
    store = open_store(tmp_path / "empty.duckdb")
    with pytest.raises(LearnsightError, match="no final results"):
        DatasetBuilder(store)
    store.close()
    with pytest.raises(LearnsightError, match="unknown feature group"):
        DatasetBuilder(open_store(":memory:"), groups=("profile", "nonsense"))  # type: ignore[arg-type]


@pytest.mark.realdata
def test_uci_settings_on_the_real_data(uci_dir: Path, tmp_path: Path) -> None:
    store = open_store(tmp_path / "uci.duckdb")
    ingest_uci(store, uci_dir)
    without = DatasetBuilder(store, groups=("profile", "cross_course")).build()
    with_grades = DatasetBuilder(store, groups=("profile", "cross_course"), interim_grades=True).build()
    assert len(without) == 395 + 649
    names = set(without.feature_names)
    assert "profile.failures" in names and "profile.absences" in names and "other.failures" in names
    assert not any(n.split("=")[0] in ("profile.G1", "profile.G2", "profile.G3", "other.G3") for n in names)
    assert {"profile.G1", "profile.G2", "other.G1"} <= set(with_grades.feature_names)
    assert "profile.G3" not in with_grades.feature_names
    # linked students have another course; the others have none
    other = without.X[:, without.feature_names.index("other.courses")]
    assert set(np.unique(other).tolist()) == {0.0, 1.0}
    five, y = without.for_target("five_level")
    assert len(five) == len(without) and set(y.tolist()) <= {"I", "II", "III", "IV", "V"}
    store.close()


def test_building_twice_gives_the_same_fingerprint(campus: DuckDBStore) -> None:
    prints = {DatasetBuilder(campus).build(AsOf(week=4)).fingerprint() for _ in range(3)}
    assert len(prints) == 1
