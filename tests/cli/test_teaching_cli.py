"""`learnsight teaching evaluate|lessons` through a test Typer app: one JSON object on stdout, the
HTML report, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from learnsight.commands.teaching import teaching_app
from learnsight.errors import LearnsightError
from learnsight.teaching.models import DEFAULT_MODEL
from learnsight.teaching.survey import COLUMNS

app = typer.Typer()
app.add_typer(teaching_app, name="teaching")
runner = CliRunner()
GROUP_KEYS = {"instructor", "course", "n", "score_true", "score_predicted", "deviation_pct"}


@pytest.mark.realdata
def test_evaluate_json_is_one_object_with_the_groups(teaching_survey: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # the command, with the default model (the multi-kernel LapSVM, ~15 s on one core)
    done = runner.invoke(
        app,
        [
            "teaching",
            "evaluate",
            "--survey",
            str(teaching_survey),
            "--labelled",
            "0.05",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["model"] == DEFAULT_MODEL == "mklapsvm" and document["baseline"]["model"] == "svm"
    assert document["kernel_weights"] and document["protocol"]["labelled_fraction"] == 0.05
    groups = document["groups"]
    assert len(groups) == 14 and all(set(g) == GROUP_KEYS for g in groups)
    judged = [g["deviation_pct"] for g in groups if g["n"] >= 40]
    assert document["max_deviation_pct"] == pytest.approx(max(judged), abs=1e-3)
    assert document["baseline"]["max_deviation_pct"] is not None
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Protocol (re-runnable)" in html and "±5 %" in html and "learnsight teaching evaluate" in html
    assert json.loads((out / "evaluation.json").read_text())["groups"] == groups


def test_a_bad_survey_cell_names_file_line_and_column(tmp_path: Path) -> None:
    good = ",".join(["1", "2", "1", "0", "4", *["3"] * 28])
    bad = good.split(",")
    bad[COLUMNS.index("Q5")] = "n/a"
    survey = tmp_path / "survey.csv"
    survey.write_text("\n".join([",".join(COLUMNS), good, good, ",".join(bad)]) + "\n")
    done = runner.invoke(
        app, ["teaching", "evaluate", "--survey", str(survey), "--json", "--out", str(tmp_path)]
    )
    assert isinstance(done.exception, LearnsightError)
    assert str(done.exception) == f"{survey}:4: column 'Q5': 'n/a' is not an integer 1–5"
    assert done.stdout == ""


def test_all_labels_given_is_refused(tmp_path: Path) -> None:
    rows = [",".join(["1", "2", "1", "0", "4", *[str(1 + i % 5)] * 28]) for i in range(50)]
    survey = tmp_path / "survey.csv"
    survey.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n")
    done = runner.invoke(
        app, ["teaching", "evaluate", "--survey", str(survey), "--labelled", "1", "--out", str(tmp_path)]
    )
    assert isinstance(done.exception, LearnsightError) and "nothing to predict" in str(done.exception)
    done = runner.invoke(
        app, ["teaching", "evaluate", "--survey", str(survey), "--labelled", "0.01", "--out", str(tmp_path)]
    )
    assert isinstance(done.exception, LearnsightError)
    assert "level 1 (20 rows) gets no labelled sample at a labelled fraction of 0.01" in str(done.exception)


def test_lessons_json_and_report(tmp_path: Path) -> None:
    out = tmp_path / "lessons"
    args = ["teaching", "lessons", "--teachers", "4", "--lessons", "8", "--students", "10", "--seed", "2"]
    done = runner.invoke(app, [*args, "--model", "lapsvm", "--json", "--out", str(out)])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert len(document["groups"]) == 4 and all(set(g) == GROUP_KEYS for g in document["groups"])
    assert document["lessons_scored"] == 32 and document["spearman_score_quality"] > 0.6
    assert (out / "lessons.duckdb").exists() and (out / "report.html").exists()
    again = runner.invoke(app, [*args, "--model", "lapsvm", "--json", "--out", str(out)])
    assert json.loads(again.stdout)["groups"] == document["groups"]
    bad = runner.invoke(app, [*args, "--expert-share", "1.0", "--out", str(out)])
    assert isinstance(bad.exception, LearnsightError) and "labelled fraction must be in" in str(bad.exception)
