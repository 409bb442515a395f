"""`learnsight intervene plan|record|review|report` end to end on a small synthetic campus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from learnsight.cli import app
from learnsight.indicators.asof import AsOf
from learnsight.interventions.log import load_log
from learnsight.models.dataset import DatasetBuilder
from learnsight.models.persist import save_model
from learnsight.models.predict import train_model
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import open_store

runner = CliRunner()


@pytest.fixture(scope="module")
def campus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A campus store and an RMTL model trained on it at week 6 (as `learnsight train` saves it)."""
    root = tmp_path_factory.mktemp("intervene")
    db, model = root / "campus.duckdb", root / "model"
    with open_store(db) as store:
        write_campus(store, simulate_campus(CampusConfig(n_students=160, n_courses=2, n_weeks=10, seed=11)))
        bundle = train_model(DatasetBuilder(store).build(AsOf(week=6)), "three_class", "rmtl", seed=1)
    save_model(bundle, model)
    return db, model


def _invoke(*args: str) -> dict[str, object]:
    done = runner.invoke(app, [*args, "--json"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_plan_record_review_report(campus: tuple[Path, Path], tmp_path: Path) -> None:
    db, model = campus
    planned = _invoke("intervene", "plan", "--db", str(db), "--model", str(model), "--record")
    plans = planned["plans"]
    assert isinstance(plans, list) and plans, planned
    assert planned["statements_written"] == len(plans)
    assert all("{" not in p["message"] for p in plans)
    # planning again adds nothing: the plan ids are deterministic
    again = _invoke("intervene", "plan", "--db", str(db), "--model", str(model), "--record")
    assert again["statements_written"] == 0

    student = plans[0]["actor_key"]
    delivered = _invoke("intervene", "record", "--db", str(db), "--all", "--at", "2024-10-14T09:00")
    assert sorted(delivered["delivered"]) == sorted(p["id"] for p in plans)  # type: ignore[arg-type]

    reviewed = _invoke("intervene", "review", "--db", str(db))
    counts = reviewed["counts"]
    assert isinstance(counts, dict)
    assert counts["reviewed"] + counts["pending"] + counts["unmeasured"] == len(plans)
    assert counts["reviewed"] > 0 and counts["improved"] + counts["not_improved"] == counts["reviewed"]
    with open_store(db) as store:
        log = load_log(store).to_pylist()
    escalated = [r for r in log if r["status"] == "escalated"]
    assert len(escalated) == counts["escalated"]
    assert all(r["next_id"] in {x["id"] for x in log} for r in escalated)

    page = tmp_path / "class.html"
    done = runner.invoke(app, ["intervene", "report", "--db", str(db), "--out", str(page)])
    assert done.exit_code == 0, done.output
    text = page.read_text()
    assert "Where every strategy stands" in text and "plotly" in text.lower()
    one = tmp_path / "student.html"
    args = ["intervene", "report", "--db", str(db), "--out", str(one), "--student", student]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "The chain of interventions" in one.read_text()


def test_bad_rule_file_is_one_clear_error(campus: tuple[Path, Path], tmp_path: Path) -> None:
    db, model = campus
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'version = 1\n[[rule]]\nname = "x"\nstrategy = "shout"\nfactors = ["absences"]\nmessage = "hi"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "learnsight.cli", "intervene", "plan", "--db", str(db), "--model", str(model),
         "--rules", str(rules)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "rules.toml" in done.stderr and "rule 'x'" in done.stderr and "strategy" in done.stderr
    assert "Traceback" not in done.stderr


def test_record_needs_a_selection(campus: tuple[Path, Path]) -> None:
    db, _ = campus
    done = runner.invoke(app, ["intervene", "record", "--db", str(db)])
    assert done.exit_code != 0
