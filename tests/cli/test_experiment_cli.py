"""`learnsight experiment assign|analyze` on a small synthetic campus, through a test Typer app."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
import typer
from typer.testing import CliRunner

from learnsight.commands.experiment import experiment_app
from learnsight.errors import LearnsightError
from learnsight.interventions.study import analyze, load_assignments
from learnsight.models.predict import agent_from_key, write_predictions
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import open_store
from learnsight.xapi import vocab

app = typer.Typer()
app.add_typer(experiment_app, name="experiment")
runner = CliRunner()
CFG = CampusConfig(n_students=100, n_courses=2, n_weeks=8, seed=3, midterm_week=4)


@pytest.fixture(scope="module")
def campus_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A campus store with predictions at week 4, and a CSV of units (mid-term below 65)."""
    root = tmp_path_factory.mktemp("experiment-cli")
    campus = simulate_campus(CFG)
    db = root / "campus.duckdb"
    low = campus.traits.filter(pc.less(campus.traits.column("midterm"), 65.0)).to_pylist()
    with open_store(db) as store:
        write_campus(store, campus)
        write_predictions(store, [_prediction(i, r["actor_key"], r["course"]) for i, r in enumerate(low)])
    units = root / "units.csv"
    with units.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["actor_key", "course", "stratum"])
        w.writerows([r["actor_key"], r["course"], r["course_id"]] for r in low)
    return db, units


def _prediction(n: int, actor: str, course: str) -> dict[str, Any]:
    activity = {"objectType": "Activity", "id": course, "definition": {"type": vocab.COURSE}}
    return {
        "id": f"20000000-0000-4000-8000-{n:012d}",
        "actor": agent_from_key(actor),
        "verb": {"id": vocab.PREDICTED},
        "object": activity,
        "result": {"response": "at-risk"},
        "context": {
            "platform": vocab.SOURCE_MODEL,
            "contextActivities": {"grouping": [activity]},
            "extensions": {vocab.EXT_TARGET: "three_class", vocab.EXT_AS_OF: "week:4"},
        },
        "timestamp": "2024-09-30T00:00:00.000Z",
        "version": "1.0.3",
    }


def _json(*args: str) -> dict[str, Any]:
    done = runner.invoke(app, [*args, "--json"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_assign_and_analyze_from_a_units_file(campus_db: tuple[Path, Path], tmp_path: Path) -> None:
    src, units = campus_db
    db = tmp_path / "s.duckdb"
    db.write_bytes(src.read_bytes())
    n = sum(1 for _ in units.open()) - 1
    assigned = _json(
        "experiment", "assign", "--db", str(db), "--name", "csv", "--units", str(units), "--seed", "5"
    )
    assert assigned["statements_written"] == n and len(assigned["units"]) == n
    assert set(assigned["counts"]) == {"C01", "C02"}
    analysed = _json(
        "experiment",
        "analyze",
        "--db",
        str(db),
        "--name",
        "csv",
        "--before",
        "exam/midterm",
        "--after",
        "course",
    )
    with open_store(db) as store:
        direct = analyze(store, "csv", before="exam/midterm", after="course")
        assert load_assignments(store, "csv").num_rows == n
    assert analysed == json.loads(json.dumps(direct.to_dict()))
    row = analysed["groups"][0]["arms"][0]
    assert {
        "n",
        "mean_before",
        "mean_after",
        "change",
        "t",
        "p",
        "cohens_dz",
        "ci_low",
        "ci_high",
        "power",
    } <= set(row)
    # the same again with another seed would move units between arms: refused, nothing written
    again = runner.invoke(
        app, ["experiment", "assign", "--db", str(db), "--name", "csv", "--units", str(units), "--seed", "6"]
    )
    assert again.exit_code != 0 and isinstance(again.exception, LearnsightError)
    assert "is already assigned to" in str(again.exception)


def test_assign_from_predictions_and_report(campus_db: tuple[Path, Path], tmp_path: Path) -> None:
    src, units = campus_db
    db = tmp_path / "p.duckdb"
    db.write_bytes(src.read_bytes())
    assigned = _json("experiment", "assign", "--db", str(db), "--name", "pred", "--as-of", "week:4")
    assert assigned["as_of"] == "week:4"
    assert len(assigned["units"]) == sum(1 for _ in units.open()) - 1
    assert all(s.startswith("at-risk · https://") for s in assigned["counts"])
    page = tmp_path / "report.html"
    done = runner.invoke(
        app,
        [
            *("experiment", "analyze", "--db", str(db), "--name", "pred"),
            *("--before", "exam/midterm", "--after", "course", "--by", "all", "--html", str(page)),
        ],
        env={"COLUMNS": "200"},
    )
    assert done.exit_code == 0, done.output
    assert "→" in done.stdout and "intervention" in done.stdout and "Welch t" in done.stdout
    html = page.read_text()
    assert "plotly" in html.lower() and "Before and after" in html and "mean change with CI" in html


def test_errors_are_clear(campus_db: tuple[Path, Path], tmp_path: Path) -> None:
    src, units = campus_db
    db = tmp_path / "e.duckdb"
    db.write_bytes(src.read_bytes())
    bad = tmp_path / "bad.csv"
    bad.write_text("student,course\nS1,C01\n")
    done = runner.invoke(app, ["experiment", "assign", "--db", str(db), "--name", "x", "--units", str(bad)])
    assert isinstance(done.exception, LearnsightError) and "no column 'actor_key'" in str(done.exception)
    assert str(bad) in str(done.exception)
    empty = tmp_path / "empty.csv"
    empty.write_text("actor_key,course\nS1,\n")
    done = runner.invoke(app, ["experiment", "assign", "--db", str(db), "--name", "x", "--units", str(empty)])
    assert isinstance(done.exception, LearnsightError) and f"{empty}:2:" in str(done.exception)
    _json("experiment", "assign", "--db", str(db), "--name", "x", "--units", str(units))
    done = runner.invoke(
        app,
        [
            "experiment",
            "analyze",
            "--db",
            str(db),
            "--name",
            "x",
            "--before",
            "exam/nope",
            "--after",
            "course",
        ],
    )
    assert isinstance(done.exception, LearnsightError) and "'exam/nope' matches no score" in str(
        done.exception
    )
    done = runner.invoke(
        app,
        [
            "experiment",
            "analyze",
            "--db",
            str(db),
            "--name",
            "y",
            "--before",
            "exam/midterm",
            "--after",
            "course",
        ],
    )
    assert isinstance(done.exception, LearnsightError) and "no experiment named 'y'" in str(done.exception)
