"""`learnsight evaluate`, `train` and `predict` end to end on a small synthetic campus."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import open_store


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "learnsight.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def campus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "campus.duckdb"
    store = open_store(db)
    write_campus(store, simulate_campus(CampusConfig(n_students=150, n_courses=3, n_weeks=6, seed=21)))
    store.close()
    return db


def test_evaluate_writes_report_and_goals(campus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    done = _run(
        "evaluate", "--db", str(campus_db), "--out", str(out), "--models", "majority,logistic_pooled",
        "--weeks", "2", "--targets", "pass_fail", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert Path(summary["html"]).exists() and Path(summary["json"]).exists()
    result = json.loads((out / "evaluation.json").read_text())
    assert [s["week"] for s in result["studies"]] == [2, None]
    assert "logistic_pooled" in (out / "evaluation.html").read_text()


def test_evaluate_rejects_unknown_names(campus_db: Path, tmp_path: Path) -> None:
    for args, message in (
        (("--models", "nope"), "unknown model"),
        (("--targets", "grades"), "unknown target"),
        (("--weeks", "two"), "--weeks"),
    ):
        done = _run("evaluate", "--db", str(campus_db), "--out", str(tmp_path), *args)
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_train_then_predict_with_statements(campus_db: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    done = _run(
        "train", "--db", str(campus_db), "--model", "logistic_pooled", "--target", "pass_fail",
        "--as-of", "week:3", "--out", str(model),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    meta = json.loads((model / "metadata.json").read_text())
    assert meta["model"] == "logistic_pooled" and meta["as_of"] == "week:3" and meta["data_fingerprint"]
    out = tmp_path / "pred.csv"
    done = _run("predict", "--db", str(campus_db), "--model", str(model), "--out", str(out), "--statements")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows and {r["predicted"] for r in rows} <= {"pass", "fail"}
    assert all(json.loads(r["drivers"]) for r in rows)
    store = open_store(campus_db, read_only=True)
    n = store.scalar("SELECT count(*) FROM statements WHERE source = 'model'")
    store.close()
    assert n == len(rows)
    # a second run writes nothing new (deterministic ids)
    done = _run("predict", "--db", str(campus_db), "--model", str(model), "--statements", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["statements_written"] == 0


def test_predict_with_a_missing_model_is_one_clear_line(campus_db: Path, tmp_path: Path) -> None:
    done = _run("predict", "--db", str(campus_db), "--model", str(tmp_path / "nowhere"))
    assert done.returncode == 1
    assert "nowhere" in done.stderr and "Traceback" not in done.stderr
