"""End to end on a simulated campus: recommendations for excellent students, and ``learnsight recommend``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from learnsight.commands.recommend import recommend as recommend_command
from learnsight.indicators.asof import AsOf
from learnsight.interventions.recommend import (
    RECOMMENDATION_SCHEMA,
    RecommendError,
    excellent_pairs,
    excellent_students,
    load_interactions,
    recommend,
    resource_courses,
)
from learnsight.models.outcomes import outcomes
from learnsight.store import DuckDBStore, IngestBatch, open_store
from learnsight.xapi import vocab
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.parse import parse_statement


def _used(store: DuckDBStore, kind: str, course: str | None) -> set[tuple[str, str]]:
    x = load_interactions(store, kind, course=course)
    rows, cols = x.counts.nonzero()
    return {(x.users[r], x.items[c]) for r, c in zip(rows, cols, strict=True)}


@pytest.mark.parametrize(("kind", "model"), [("resources", "knn"), ("books", "als"), ("partners", "knn")])
def test_recommendations_for_excellent_students_are_new_to_them(
    campus_store: DuckDBStore, kind: str, model: str
) -> None:
    table = recommend(campus_store, kind, model=model, k=3)
    assert table.schema.equals(RECOMMENDATION_SCHEMA)
    assert table.num_rows > 0
    rows = table.to_pylist()
    pairs = excellent_pairs(campus_store)
    for row in rows:
        if kind == "resources":
            assert (row["actor_key"], row["course"]) in pairs
        else:
            assert row["actor_key"] in {a for a, _ in pairs}
        assert 1 <= row["rank"] <= 3 and row["reason"] and row["label"]
        if kind == "partners":
            assert row["item"] != row["actor_key"]
    courses = {r["course"] for r in rows}
    used: set[tuple[str, str]] = set()
    for course in courses:
        used |= _used(campus_store, kind, course)
    assert not any((r["actor_key"], r["item"]) in used for r in rows)
    assert all(r["fill"] for r in rows)


def test_excellent_students_come_from_outcomes(campus_store: DuckDBStore) -> None:
    known = outcomes(campus_store).to_pylist()
    expected = sorted({r["actor_key"] for r in known if r["outcome"] == "excellent"})
    assert excellent_students(campus_store) == expected
    assert 0 < len(expected) < 120


def test_named_student_all_audience_and_paths(campus_store: DuckDBStore) -> None:
    course = resource_courses(campus_store)[0]
    student = load_interactions(campus_store, "resources", course=course).users[0]
    one = recommend(
        campus_store, "resources", students=[student], course=course, k=5, model="popularity", fill=False
    )
    assert set(one.column("actor_key").to_pylist()) == {student}
    assert one.column("rank").to_pylist() == [1, 2, 3, 4, 5]
    scores = one.column("score").to_pylist()
    assert scores == sorted(scores, reverse=True)
    everyone = recommend(campus_store, "courses", audience="all", k=1, fill=False)
    assert everyone.num_rows > 0
    paths = recommend(campus_store, "paths", course=course, k=4)
    assert paths.num_rows > 0 and set(paths.column("model").to_pylist()) == {"path"}
    assert all("step" in r for r in paths.column("reason").to_pylist())
    used = _used(campus_store, "paths", course)
    assert not any((r["actor_key"], r["item"]) in used for r in paths.to_pylist())


def test_clear_errors(campus_store: DuckDBStore) -> None:
    with pytest.raises(RecommendError, match="unknown kind 'films'"):
        recommend(campus_store, "films")
    with pytest.raises(RecommendError, match="has no books interactions"):
        recommend(campus_store, "books", students=["account:https://campus.example.edu|S9999"])
    with pytest.raises(RecommendError, match="unknown model"):
        recommend(campus_store, "books", model="svd")
    with pytest.raises(RecommendError, match="no project statements"):
        recommend(campus_store, "projects")


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("recommend")(recommend_command)

    @app.callback()
    def _root() -> None:
        """Test root, so that ``recommend`` stays a sub-command."""

    return app


def test_cli_json_out_and_errors(campus_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(campus_db.read_bytes())  # the command opens the store for writing
    runner = CliRunner()
    out = tmp_path / "rec.parquet"
    result = runner.invoke(
        _app(),
        [
            "recommend",
            "--db",
            str(db),
            "--kind",
            "books",
            "--k",
            "2",
            "--json",
            "--out",
            str(out),
            "--limit",
            "500",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["kind"] == "books" and payload["for"] == "excellent" and payload["rows"] > 0
    assert payload["recommendations"][0]["rank"] == 1
    assert pq.read_table(out).num_rows == payload["rows"]
    short = runner.invoke(
        _app(),
        [
            "recommend",
            "--db",
            str(db),
            "--kind",
            "resources",
            "--course",
            "C02",
            "--student",
            "S0003",
            "--json",
            "--no-fill",
        ],
    )
    assert short.exit_code == 0, short.output
    rows = json.loads(short.output)["recommendations"]
    assert rows and {r["actor_key"] for r in rows} == {"account:https://campus.example.edu|S0003"}
    bad = runner.invoke(_app(), ["recommend", "--db", str(db), "--kind", "films"])
    assert isinstance(bad.exception, RecommendError) and "unknown kind 'films'" in str(bad.exception)
    nobody = runner.invoke(_app(), ["recommend", "--db", str(db), "--student", "S9999"])
    assert "unknown student 'S9999'" in str(nobody.exception)
    evaluation = runner.invoke(
        _app(), ["recommend", "--db", str(db), "--kind", "books", "--evaluate", "--json"]
    )
    assert evaluation.exit_code == 0, evaluation.output
    metrics = json.loads(evaluation.output)["metrics"]
    assert {(m["model"], m["fill"]) for m in metrics} >= {("popularity", "none"), ("item-knn", "mlr")}


def test_final_results_after_the_cut_off_are_not_known_yet(campus_store: DuckDBStore) -> None:
    assert excellent_students(campus_store, as_of=AsOf(week=4)) == []
    with pytest.raises(RecommendError, match=r"no student to recommend to.*--for all"):
        recommend(campus_store, "books", as_of=AsOf(week=4), fill=False)


def _prediction(name: str, course: str, label: str, when: str) -> dict[str, Any]:
    activity = {"objectType": "Activity", "id": course, "definition": {"type": vocab.COURSE}}
    return {
        "actor": {"objectType": "Agent", "account": {"homePage": "https://uni.example.org", "name": name}},
        "verb": {"id": vocab.PREDICTED},
        "object": activity,
        "result": {"response": label},
        "context": {"platform": vocab.SOURCE_MODEL, "contextActivities": {"grouping": [activity]}},
        "timestamp": when,
    }


def test_predicted_excellent_students_latest_prediction_wins(tmp_path: Path) -> None:
    course = "https://uni.example.org/course/X"
    raw = [
        _prediction("ana", course, "excellent", "2024-10-01T00:00:00Z"),
        _prediction("ben", course, "excellent", "2024-10-01T00:00:00Z"),
        _prediction("ben", course, "normal", "2024-10-08T00:00:00Z"),
    ]
    stored = datetime.now(UTC).replace(tzinfo=None)
    rows = [statement_columns(parse_statement(s), stored=stored, source=s) for s in raw]
    with open_store(tmp_path / "p.duckdb") as store:
        store.ingest(
            IngestBatch(kind="test", source="predictions", rows_read=3, statements=statements_table(rows))
        )
        assert excellent_pairs(store) == {("account:https://uni.example.org|ana", course)}
