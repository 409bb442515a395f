"""The closed loop: a planted effect is recovered through the store; none is found when none is planted."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats  # type: ignore[import-untyped]

from learnsight.errors import LearnsightError
from learnsight.interventions.loop import (
    DEFAULT_CONFIG,
    LoopResult,
    cutoff_instant,
    replicate_experiment,
    run_closed_loop,
    simulation_study,
)
from learnsight.simulate.campus import CampusConfig, Treatment, simulate_campus
from learnsight.store import open_store
from learnsight.xapi import vocab

WEEK = 4
REPLICATIONS = 200
SMALL = CampusConfig(n_students=200, n_courses=2, n_weeks=8, seed=100, midterm_week=4)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> LoopResult:
    """The whole loop with a true effect worth 8 points of the final score."""
    return run_closed_loop(week=WEEK, gain=8.0, workdir=tmp_path_factory.mktemp("planted"), seed=0)


@pytest.mark.slow
def test_planted_effect_is_recovered_through_the_store(planted: LoopResult) -> None:
    r = planted
    assert r.expected_gain == pytest.approx(8.0)
    assert r.predicted.get("at-risk", 0) >= 40
    assert r.study.units == r.predicted["at-risk"] and r.study.missing == ()
    assert r.p is not None and r.p < 0.05
    assert r.difference_ci is not None and r.difference is not None
    assert r.difference_ci[0] <= r.expected_gain <= r.difference_ci[1]
    assert r.covers_expected and r.difference > 0
    json.dumps(r.to_dict())


@pytest.mark.slow
def test_the_store_holds_both_phases(planted: LoopResult) -> None:
    """Before the cut-off the untreated campus, from it the treated one; finals = the treated truth."""
    cfg = planted.config
    treated = simulate_campus(
        cfg,
        [
            Treatment(u.actor_key, u.course, WEEK, planted.effect)
            for u in planted.assignment.units
            if u.arm == "intervention"
        ],
    )
    truth = {(r["actor_key"], r["course"]): r["final"] for r in treated.traits.to_pylist()}
    cut = cutoff_instant(cfg, WEEK)
    with open_store(planted.db) as store:
        finals = store.con.execute(
            "SELECT actor_key, course, score_raw FROM statements WHERE verb_id = ? AND object_id = course "
            "AND source = 'registry'",
            [vocab.SCORED],
        ).fetchall()
        assert len(finals) == treated.traits.num_rows
        assert all(truth[(a, c)] == s for a, c, s in finals)
        kinds = dict(
            store.con.execute(
                "SELECT source, count(*) FROM statements "
                "WHERE source IN ('model', 'intervention') GROUP BY source"
            ).fetchall()
        )
        assert kinds == {
            "model": sum(planted.predicted.values()),
            "intervention": len(planted.assignment.units),
        }
        # nothing dated before the cut-off comes from the treated run: the store equals phase 1 there
        before = store.scalar(
            "SELECT count(*) FROM statements WHERE ts < ? AND source NOT IN ('model', 'intervention')", [cut]
        )
    untreated = simulate_campus(cfg)
    want = untreated.statements.filter(
        pc.less(untreated.statements.column("ts"), pa.scalar(cut, pa.timestamp("us")))
    )
    assert before == want.num_rows


@pytest.mark.slow
def test_no_effect_no_finding(planted: LoopResult, tmp_path: Path) -> None:
    null = run_closed_loop(week=WEEK, effect=0.0, workdir=tmp_path, seed=0, model=planted.bundle)
    assert null.expected_gain == 0.0
    assert null.last_year_db is None
    assert null.p is not None and null.p > 0.05
    assert null.covers_expected
    # same model, same cut-off, same seed: the same units in the same arms
    assert null.assignment.units == planted.assignment.units


def test_false_positive_rate_is_five_percent() -> None:
    study = simulation_study(SMALL, week=WEEK, effect=0.0, replications=REPLICATIONS)
    assert min(min(r.n_intervention, r.n_control) for r in study.replications) >= 10
    # two-sided binomial test of the rejection count against 5 %
    assert stats.binomtest(study.rejections, REPLICATIONS, 0.05).pvalue > 0.01, study.to_dict()
    assert stats.binomtest(round(study.coverage * REPLICATIONS), REPLICATIONS, 0.95).pvalue > 0.01


def test_planted_effect_is_found_in_replications() -> None:
    unit = replicate_experiment(SMALL, week=WEEK, effect=1.0, seed=0).expected_gain
    study = simulation_study(SMALL, week=WEEK, effect=8.0 / unit, replications=REPLICATIONS)
    assert study.rejection_rate > 0.8, study.to_dict()
    assert stats.binomtest(round(study.coverage * REPLICATIONS), REPLICATIONS, 0.95).pvalue > 0.01
    assert study.mean_difference == pytest.approx(8.0, abs=1.0)


def test_a_fixed_null_replication_finds_nothing() -> None:
    r = replicate_experiment(SMALL, week=WEEK, effect=0.0, seed=0)
    assert r.p > 0.05 and r.expected_gain == 0.0 and r.covers_expected


def test_design_errors(tmp_path: Path) -> None:
    with pytest.raises(LearnsightError, match=r"mid-term \(week 4\) falls after the intervention"):
        run_closed_loop(week=3, effect=1.0, workdir=tmp_path)
    with pytest.raises(LearnsightError, match="exactly one of effect"):
        run_closed_loop(week=WEEK, workdir=tmp_path)
    with pytest.raises(LearnsightError, match="intervention week must lie"):
        replicate_experiment(SMALL, week=8, effect=1.0, seed=0)
    with pytest.raises(LearnsightError, match="another seed"):
        run_closed_loop(week=WEEK, effect=1.0, workdir=tmp_path, last_year_seed=DEFAULT_CONFIG.seed)
    (tmp_path / "this_year.duckdb").write_bytes(b"")
    with pytest.raises(LearnsightError, match="already exists"):
        run_closed_loop(dataclasses.replace(DEFAULT_CONFIG), week=WEEK, effect=1.0, workdir=tmp_path)
