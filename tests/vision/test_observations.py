"""Video observations become statements that the SPEC §2.5 classroom indicators read unchanged; the
summaries and the timeline agree with them; erasure removes a student's video statements."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from learnsight.indicators import DuckDBEngine, compute_indicators
from learnsight.store import DuckDBStore
from learnsight.vision import observations as obs
from learnsight.vision.summary import summarise, write_tables, write_timeline
from learnsight.xapi.keys import account_key
from learnsight.xapi.parse import parse_statement

HOME = "https://campus.example.edu"
COURSE = f"{HOME}/course/C01"
LESSON = obs.Lesson(
    lesson="W01-1",
    camera="front",
    start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    home_page=HOME,
    digest="ab" * 32,
    video_name="lesson.mp4",
    course=COURSE,
)


def window(
    i: int, posture: str, expression: str, state: str, student: str | None = "S0001"
) -> obs.Observation:
    return obs.Observation(
        track=1 if student else 9,
        start_s=10.0 * i,
        end_s=10.0 * (i + 1),
        student=student,
        identity_probability=0.97,
        posture=posture,
        posture_confidence=0.8,
        expression=expression,
        expression_state=state,
        expression_confidence=0.7,
    )


OBSERVATIONS = [
    window(0, "upright", "calm", "positive"),
    window(1, "upright", "joy", "positive"),
    window(2, "hand-raised", "anger", "negative"),
    window(3, "phone", "uncertain", "uncertain"),
    window(0, "looking-around", "fear", "negative", student=None),
]
RAISES = [obs.HandRaise(track=1, t=20.0, student="S0001")]


def test_statements_are_valid_xapi_with_documented_fields() -> None:
    statements = obs.to_statements(LESSON, OBSERVATIONS, RAISES)
    assert len(statements) == 6
    for s in statements:
        parse_statement(s, version="1.0.3")
        assert s["context"]["platform"] == "camera"
        assert s["object"]["id"] == f"{COURSE}/session/W01-1"
    first = statements[0]
    assert first["actor"]["account"] == {"homePage": HOME, "name": "S0001"}
    assert first["result"]["response"] == "upright"
    assert first["result"]["extensions"][obs.v.EXT_EXPRESSION_STATE] == "positive"
    assert first["timestamp"] == "2026-03-02T09:00:00.000Z"
    uncertain = statements[3]["result"]["extensions"]
    assert uncertain[obs.v.EXT_EXPRESSION] == "uncertain" and obs.v.EXT_EXPRESSION_STATE not in uncertain
    stranger = statements[4]["actor"]["account"]
    assert stranger["homePage"].endswith("/video-tracks") and "S0001" not in json.dumps(stranger)
    assert statements[5]["verb"]["id"] == obs.v.RAISED_HAND
    assert len({s["id"] for s in statements}) == 6
    assert [s["id"] for s in obs.to_statements(LESSON, OBSERVATIONS, RAISES)] == [s["id"] for s in statements]


def test_indicators_read_video_statements_and_reanalysis_writes_nothing(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "store.duckdb")
    statements = obs.to_statements(LESSON, OBSERVATIONS, RAISES)
    report = obs.write(store, LESSON, statements)
    assert report.statements_written == 6
    assert obs.write(store, LESSON, statements).statements_written == 0  # the same video again
    table = compute_indicators(DuckDBEngine(store)).student_course.to_pylist()
    row = next(r for r in table if r["actor_key"] == account_key(HOME, "S0001") and r["course"] == COURSE)
    assert row["observations"] == 4
    assert row["upright_share"] == pytest.approx(0.5)
    assert row["hand_raised_share"] == pytest.approx(0.25)
    assert row["phone_share"] == pytest.approx(0.25)
    assert row["positive_expression_share"] == pytest.approx(2 / 3)  # the uncertain window is not counted
    store.close()


def test_a_statement_that_fails_validation_writes_nothing(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "store.duckdb")
    statements = obs.to_statements(LESSON, OBSERVATIONS, RAISES)
    statements[2]["actor"] = {"objectType": "Agent"}  # no identifier
    with pytest.raises(Exception, match="actor"):
        obs.write(store, LESSON, statements)
    assert store.scalar("SELECT count(*) FROM statements") == 0
    store.close()


def test_summaries_and_timeline(tmp_path: Path) -> None:
    people = summarise(OBSERVATIONS, RAISES)
    assert [p.person for p in people] == ["S0001", "track-9"]
    s1 = people[0]
    assert s1.seconds == pytest.approx(40.0)
    assert s1.shares["upright"] == pytest.approx(0.5)
    assert s1.positive_posture_share == pytest.approx(0.75)
    assert s1.positive_expression_share == pytest.approx(2 / 3)
    assert s1.hand_raises == 1 and s1.enrolled and not people[1].enrolled
    paths = write_tables(people, {"lesson": "W01-1"}, tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["people"][0]["person"] == "S0001" and data["people"][0]["hand_raises"] == 1
    assert (tmp_path / "students.csv").read_text().splitlines()[0].startswith("person,enrolled")
    html = write_timeline(OBSERVATIONS, tmp_path, title="lesson W01-1").read_text()
    assert "S0001" in html and "track-9" in html and "plotly" in html.lower()
    assert len(paths) == 2
