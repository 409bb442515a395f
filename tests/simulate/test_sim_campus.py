"""Structure and determinism of the simulated campus."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from learnsight.simulate import Campus, CampusConfig, simulate_campus
from learnsight.simulate.frame import SIM_SCHEMA
from learnsight.store.schema import PROFILE_COLUMNS
from learnsight.xapi import vocab as v

EXPECTED_VERBS = {
    v.SOURCE_LMS: {
        v.WATCHED,
        v.PREVIEWED,
        v.VIEWED,
        v.ANSWERED,
        v.SCORED,
        v.SUBMITTED,
        v.POSTED,
        v.REPLIED,
        v.FOLLOWED,
    },
    v.SOURCE_CLASSROOM: {v.ATTENDED, v.ABSENT, v.RAISED_HAND, v.ANSWERED, v.TOOK_NOTES},
    v.SOURCE_CAMERA: {v.OBSERVED},
    v.SOURCE_CANTEEN: {v.SWIPED},
    v.SOURCE_DORM: {v.RETURNED, v.LEFT_DORM},
    v.SOURCE_NETWORK: {v.CONNECTED},
    v.SOURCE_LIBRARY: {v.BORROWED},
    v.SOURCE_REGISTRY: {v.REGISTERED, v.SCORED},
}


def _sql(campus: Campus, query: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.register("s", campus.statements)
    con.register("traits", campus.traits)
    return con.execute(query).fetchall()


def test_same_seed_same_tables(small_campus: Campus) -> None:
    small = small_campus.config
    again = simulate_campus(small)
    assert again.statements.equals(small_campus.statements)
    assert again.profiles.equals(small_campus.profiles)
    assert again.traits.equals(small_campus.traits)
    assert again.students.equals(small_campus.students)


def test_other_seed_other_tables(small_campus: Campus) -> None:
    small = small_campus.config
    other = simulate_campus(dataclasses.replace(small, seed=small.seed + 1))
    assert not other.traits.equals(small_campus.traits)
    shared = set(other.statements.column("id").to_pylist()) & set(
        small_campus.statements.column("id").to_pylist()
    )
    assert len(shared) < 0.01 * small_campus.statements.num_rows


def test_counts_scale_with_config(small_campus: Campus) -> None:
    small = small_campus.config
    n = small_campus.statements.num_rows
    double = simulate_campus(dataclasses.replace(small, n_students=2 * small.n_students))
    assert 1.6 * n < double.statements.num_rows < 2.4 * n
    longer = simulate_campus(dataclasses.replace(small, n_weeks=2 * small.n_weeks))
    assert 1.6 * n < longer.statements.num_rows < 2.4 * n


def test_every_source_and_verb_present(small_campus: Campus) -> None:
    found: dict[str, set[str]] = {}
    for source, verb in _sql(small_campus, "SELECT DISTINCT source, verb_id FROM s"):
        found.setdefault(str(source), set()).add(str(verb))
    assert found == EXPECTED_VERBS


def test_schema_ids_and_time_range(small_campus: Campus) -> None:
    small = small_campus.config
    s = small_campus.statements
    assert s.schema == SIM_SCHEMA
    ids = s.column("id").to_pylist()
    assert len(set(ids)) == len(ids)
    first, last = _sql(small_campus, "SELECT min(ts), max(ts) FROM s")[0]
    start = datetime(2024, 9, 2)
    assert isinstance(first, datetime) and isinstance(last, datetime)
    assert start <= first and last < start + timedelta(weeks=small.n_weeks)
    bad_course = _sql(
        small_campus,
        "SELECT count(*) FROM s WHERE (course IS NULL) <> "
        "(source IN ('canteen', 'dorm', 'network', 'library'))",
    )
    assert bad_course == [(0,)]
    keys = _sql(small_campus, "SELECT DISTINCT actor_key FROM s ORDER BY 1 LIMIT 1")
    assert keys == [("account:https://campus.example.edu|S0001",)]


def test_attendance_covers_every_scheduled_session(small_campus: Campus) -> None:
    small = small_campus.config
    rows = _sql(
        small_campus,
        "SELECT count(*), count(DISTINCT (actor_key, object_id)) FROM s "
        f"WHERE verb_id IN ('{v.ATTENDED}', '{v.ABSENT}')",
    )
    enrolments = small_campus.traits.num_rows
    assert rows == [(enrolments * 2 * small.n_weeks, enrolments * 2 * small.n_weeks)]


def test_forum_threads_name_their_author(small_campus: Campus) -> None:
    rows = _sql(
        small_campus,
        "SELECT verb_id, actor_key, object_id, "
        f"CAST(extensions AS JSON)->'context'->>'{v.EXT_THREAD_AUTHOR}' FROM s "
        f"WHERE verb_id IN ('{v.POSTED}', '{v.REPLIED}', '{v.FOLLOWED}')",
    )
    assert rows
    for verb, actor, thread, author in rows:
        assert str(author).endswith("|" + str(thread).split("/forum/")[1].split("/")[0])
        if verb == v.POSTED:
            assert actor == author
        else:
            assert actor != author


def test_videos_quizzes_and_scores_are_consistent(small_campus: Campus) -> None:
    too_long = _sql(
        small_campus,
        f"SELECT count(*) FROM s WHERE verb_id = '{v.WATCHED}' AND duration_s > "
        f"CAST((CAST(extensions AS JSON)->'context'->>'{v.EXT_FULL_LENGTH}') AS DOUBLE)",
    )
    assert too_long == [(0,)]
    mismatched = _sql(
        small_campus,
        f"""
        WITH answers AS (
            SELECT actor_key, regexp_replace(object_id, '/q[0-9]+$', '') AS quiz,
                   sum(CAST(success AS INTEGER)) AS right_answers
            FROM s WHERE source = 'lms' AND verb_id = '{v.ANSWERED}' GROUP BY ALL)
        SELECT count(*) FROM s JOIN answers a ON a.actor_key = s.actor_key AND a.quiz = s.object_id
        WHERE s.source = 'lms' AND s.verb_id = '{v.SCORED}' AND s.score_raw <> a.right_answers
        """,
    )
    assert mismatched == [(0,)]
    finals = _sql(
        small_campus,
        f"SELECT count(*) FROM s JOIN traits t USING (actor_key, course) WHERE s.source = 'registry' "
        f"AND s.verb_id = '{v.SCORED}' AND s.object_id = s.course AND s.score_raw = t.final "
        f"AND s.success = (t.final >= 60) "
        f"AND (CAST(extensions AS JSON)->'result'->>'{v.EXT_OUTCOME}') = t.outcome",
    )
    assert finals == [(small_campus.traits.num_rows,)]


def test_ground_truth_tables(small_campus: Campus) -> None:
    small = small_campus.config
    traits = small_campus.traits.to_pylist()
    assert len({(t["student_id"], t["course_id"]) for t in traits}) == len(traits)
    for t in traits:
        expected = "excellent" if t["final"] >= 85 else "at-risk" if t["final"] < 60 else "normal"
        assert t["outcome"] == expected
        assert 0 <= t["final"] <= 100 and 0 <= t["midterm"] <= 100
    assert small_campus.students.num_rows == small.n_students
    assert small_campus.courses.column("course_id").to_pylist() == ["C01", "C02"]


def test_profiles(small_campus: Campus) -> None:
    small = small_campus.config
    profiles = small_campus.profiles
    assert set(profiles.schema.names) <= set(PROFILE_COLUMNS)
    assert profiles.num_rows == small.n_students
    for row in profiles.to_pylist():
        assert 0.0 <= row["prior_gpa"] <= 4.0
        assert row["retakes"] >= 0
        attributes = json.loads(row["attributes"])
        assert {"gender", "major", "dorm_building", "make_up_exams"} <= set(attributes)


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="Monday"):
        CampusConfig(start=date(2024, 9, 3))
    with pytest.raises(ValueError):
        CampusConfig(n_students=0)


def test_statements_are_arrow(small_campus: Campus) -> None:
    assert isinstance(small_campus.statements, pa.Table)
    assert sum(small_campus.counts_by_source().values()) == small_campus.statements.num_rows
