"""The command line: one-line errors, --json output, stats and activities end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from learnsight.store import IngestBatch, open_store
from learnsight.xapi.ids import deterministic_id


def _run(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "learnsight.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _seed(db: Path) -> None:
    import datetime as dt

    n = 6
    table = pa.table(
        {
            "id": [str(deterministic_id("cli", i)) for i in range(n)],
            "actor_key": ["account:https://x|1"] * n,
            "verb_id": ["http://adlnet.gov/expapi/verbs/experienced"] * n,
            "object_id": [f"https://x/{i}" for i in range(n)],
            "object_type": ["Activity"] * n,
            "ts": pa.array([dt.datetime(2024, 1, 1, 8, 10 * i) for i in range(n)], pa.timestamp("us")),
            "source": ["lms", "lms", "lms", "canteen", "lms", "lms"],
        }
    )
    with open_store(db) as store:
        store.ingest(IngestBatch("test", "seed", n, statements=table))


def test_stats_and_activities_json(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _seed(db)
    out = _run("activities", "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["activities"] == 3 and summary["events"] == 6
    out = _run("stats", "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["statements"] == 6
    assert stats["activities"] == 3
    assert dict(map(tuple, stats["by_source"])) == {"lms": 5, "canteen": 1}
    human = _run("stats", "--db", str(db))
    assert "statements" in human.stdout and "canteen" in human.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    out = _run("activities", "--db", str(tmp_path / "s.duckdb"), "--gap-minutes", "-1")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "error:" in out.stderr and "positive" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    debug = _run("--debug", "activities", "--db", str(tmp_path / "s.duckdb"), "--gap-minutes", "-1")
    assert "Traceback" in debug.stderr


def test_usage_error_exit_code(tmp_path: Path) -> None:
    out = _run("activities", "--bogus")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_indicators_and_profile_commands(tmp_path: Path) -> None:
    from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus

    db = tmp_path / "campus.duckdb"
    with open_store(db) as store:
        write_campus(store, simulate_campus(CampusConfig(n_students=12, n_courses=2, n_weeks=3, seed=5)))
    out = tmp_path / "ind.csv"
    res = _run("indicators", "--db", str(db), "--as-of", "week:2", "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["as_of"] == "week:2" and summary["students"] == 12
    header = out.read_text().splitlines()[0]
    assert "rest_regularity_z" in header and "participation_c" in header
    res = _run("profile", "S0003", "--db", str(db), "--plot", str(tmp_path / "p.html"), "--json")
    assert res.returncode == 0, res.stderr
    prof = json.loads(res.stdout)
    assert prof["actor_key"].endswith("|S0003") and prof["as_of"] == "week:2"
    assert any(r["indicator"] == "rest_regularity_z" for r in prof["indicators"])
    assert (tmp_path / "p.html").stat().st_size > 1000
    bad = _run("profile", "S9999", "--db", str(db))
    assert bad.returncode == 1 and "not found" in bad.stderr
    bad = _run("indicators", "--db", str(db), "--as-of", "someday")
    assert bad.returncode == 1 and "--as-of" in bad.stderr
