"""The planted signal is real: traits drive behaviour and grades the way the docstrings say."""

from __future__ import annotations

import duckdb
import numpy as np

from learnsight.simulate import Campus
from learnsight.xapi import vocab as v


def _corr(campus: Campus, per_student_sql: str, trait: str) -> float:
    """Correlation between a trait and a per-student measure (``actor_key, x``) across students."""
    con = duckdb.connect()
    con.register("s", campus.statements)
    con.register("st", campus.students)
    value = con.execute(
        f"WITH m AS ({per_student_sql}) SELECT corr(st.{trait}, m.x) FROM st JOIN m USING (actor_key)"
    ).fetchall()[0][0]
    assert value is not None
    return float(value)


def test_final_score_signal(signal_campus: Campus) -> None:
    t = signal_campus.traits
    final = np.asarray(t.column("final").to_numpy())
    for trait in ("diligence", "ability", "regularity"):
        assert np.corrcoef(np.asarray(t.column(trait).to_numpy()), final)[0, 1] > 0.3, trait
    r2 = np.corrcoef(np.asarray(t.column("eta").to_numpy()), final)[0, 1] ** 2
    assert 0.45 < r2 < 0.75
    assert set(t.column("outcome").to_pylist()) == {"excellent", "normal", "at-risk"}


def test_regularity_drives_late_returns_and_early_sessions(signal_campus: Campus) -> None:
    late = (
        "SELECT actor_key, avg(CASE WHEN hour(ts) >= 23 OR hour(ts) < 5 THEN 1 ELSE 0 END) AS x "
        f"FROM s WHERE verb_id = '{v.RETURNED}' GROUP BY 1"
    )
    early = (
        "SELECT actor_key, avg(CASE WHEN hour(ts) < 5 THEN 1 ELSE 0 END) AS x "
        f"FROM s WHERE verb_id = '{v.CONNECTED}' GROUP BY 1"
    )
    absent = (
        f"SELECT actor_key, avg(CASE WHEN verb_id = '{v.ABSENT}' THEN 1 ELSE 0 END) AS x "
        f"FROM s WHERE verb_id IN ('{v.ATTENDED}', '{v.ABSENT}') GROUP BY 1"
    )
    assert _corr(signal_campus, late, "regularity") < -0.3
    assert _corr(signal_campus, early, "regularity") < -0.3
    assert _corr(signal_campus, absent, "regularity") < -0.1


def test_regularity_steadies_meal_times(signal_campus: Campus) -> None:
    breakfast_spread = (
        "SELECT actor_key, stddev(hour(ts) * 60 + minute(ts)) AS x FROM s "
        f"WHERE verb_id = '{v.SWIPED}' AND hour(ts) < 10 GROUP BY 1"
    )
    assert _corr(signal_campus, breakfast_spread, "regularity") < -0.3


def test_diligence_and_sociability_drive_learning_behaviour(signal_campus: Campus) -> None:
    homework = f"SELECT actor_key, count(*) AS x FROM s WHERE verb_id = '{v.SUBMITTED}' GROUP BY 1"
    watched = f"SELECT actor_key, sum(duration_s) AS x FROM s WHERE verb_id = '{v.WATCHED}' GROUP BY 1"
    posts = (
        f"SELECT actor_key, count(*) AS x FROM s WHERE verb_id IN ('{v.POSTED}', '{v.REPLIED}') GROUP BY 1"
    )
    assert _corr(signal_campus, homework, "diligence") > 0.3
    assert _corr(signal_campus, watched, "diligence") > 0.3
    assert _corr(signal_campus, posts, "sociability") > 0.3
