"""The demo end to end on a small campus: every stage runs and the report shows the early warning."""

from __future__ import annotations

from pathlib import Path

from learnsight.demo import run_demo
from learnsight.models.persist import load_model
from learnsight.store import open_store


def test_demo_runs_every_stage(tmp_path: Path) -> None:
    result = run_demo(db=None, out=tmp_path, students=60, courses=2, weeks=6, seed=3, experiment_students=200)
    html = result.report_path.read_text(encoding="utf-8")
    assert "Early warning at week 3" in html
    bundle = load_model(tmp_path / "models" / "rmtl-week3")
    assert bundle.metadata.model == "rmtl" and bundle.metadata.as_of == "week:3"
    with open_store(result.db, read_only=True) as store:
        predictions = store.scalar("SELECT count(*) FROM statements WHERE source = 'model'")
        outcomes = store.scalar(
            "SELECT count(DISTINCT (actor_key, course)) FROM statements WHERE source = 'registry' "
            "AND course IS NOT NULL"
        )
        logged = store.scalar("SELECT count(*) FROM statements WHERE source = 'intervention'")
    assert predictions == outcomes > 0
    assert "Interventions: planned, delivered, reviewed" in html
    assert logged >= 2 * loop_plans(html) > 0  # every plan is planned and delivered in the log
    assert (tmp_path / "student.html").exists()
    assert "Experiment in the simulator: planted gain" in html and "intervention" in html


def loop_plans(html: str) -> int:
    """The plan count the report's intervention table shows."""
    import re

    label = r"plans \(strategies for at-risk student-courses\)"
    match = re.search(label + r"</td><td class=\"num\">([\d,]+)", html)
    assert match, "the report lacks the plan count"
    return int(match.group(1).replace(",", ""))
