"""Treatments in the synthetic campus: untreated runs unchanged, treated gains analytic, behaviour moves."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from learnsight.errors import LearnsightError
from learnsight.simulate.campus import (
    Campus,
    CampusConfig,
    Treatment,
    simulate_campus,
    simulate_ground_truth,
)
from learnsight.simulate.traits import draw_population
from learnsight.simulate.treatment import (
    effect_for_gain,
    expected_gain,
    resolve_treatments,
    treated_population,
)

SMALL = CampusConfig(n_students=30, n_courses=2, n_weeks=4, seed=11)
CFG = CampusConfig(n_students=120, n_courses=3, n_weeks=8, seed=1, midterm_week=4)
WEEK = 4

# Fingerprints of the untreated SMALL campus as simulated before treatments existed: SHA-256 of every
# non-float column (ids, actors, verbs, objects, timestamps, responses, extensions …) and, per float
# column, (missing values, sum, sum of squares) — compared with a tolerance, so a last-bit difference
# of a transcendental function on another CPU does not fail the test while any change of a draw does.
REFERENCE = {
    "statements": (
        "77617c86b81e83691f2e369ecc805d824791e40d05094eab48206b001c9f2762",
        {
            "score_scaled": [7851, 182.425, 124.35837500000001],
            "score_raw": [7851, 13826.5, 927839.75],
            "score_min": [7851, 0.0, 0.0],
            "score_max": [7851, 24456.0, 2401824.0],
            "duration_s": [5924, 6605428.0, 38275462472.0],
            "quantity": [4313, 883184093627.5, 2.0203190121032214e21],
        },
    ),
    "traits": (
        "e2a9005e73bae515098ff16eb2cf2264167ad02edf1bbf01a3a2e99dc6282013",
        {
            "ability": [0, -11.02403271022208, 63.19264645190476],
            "diligence": [0, -25.655595738803093, 83.91879549068335],
            "regularity": [0, -10.580755906749067, 65.01063544630613],
            "sociability": [0, 2.9436947685543418, 57.87258983741808],
            "interest": [0, -0.4953453120948841, 52.99579428495877],
            "difficulty": [0, 50.44816259862452, 54.27512839177572],
            "effort": [0, -19.261096175059652, 56.18624931855229],
            "eta": [0, 4.218847493575595e-15, 49.99999999999999],
            "midterm": [0, 3595.5, 266805.75],
            "final": [0, 3686.5, 279138.25],
        },
    ),
}


def fingerprint(table: pa.Table) -> tuple[str, dict[str, list[float]]]:
    exact = hashlib.sha256()
    floats: dict[str, list[float]] = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_floating(col.type):
            x = col.to_numpy(zero_copy_only=False).astype(float)
            floats[name] = [int(np.isnan(x).sum()), float(np.nansum(x)), float(np.nansum(x * x))]
        else:
            exact.update(name.encode())
            exact.update(json.dumps(col.to_pylist(), default=str).encode())
    return exact.hexdigest(), floats


@pytest.fixture(scope="module")
def base() -> Campus:
    return simulate_campus(CFG)


@pytest.fixture(scope="module")
def treated_rows(base: Campus) -> list[int]:
    """Every third enrolment."""
    return list(range(0, base.traits.num_rows, 3))


@pytest.fixture(scope="module")
def treated(base: Campus, treated_rows: list[int]) -> Campus:
    keys = base.traits.column("actor_key").to_pylist()
    courses = base.traits.column("course").to_pylist()
    return simulate_campus(CFG, [Treatment(keys[i], courses[i], WEEK, 2.0) for i in treated_rows])


def _col(campus: Campus, name: str) -> np.ndarray:
    return np.asarray(campus.traits.column(name).to_numpy(zero_copy_only=False))


@pytest.mark.parametrize("name", ["statements", "traits"])
def test_untreated_campus_is_unchanged(name: str) -> None:
    digest, floats = fingerprint(getattr(simulate_campus(SMALL), name))
    want_digest, want_floats = REFERENCE[name]
    assert digest == want_digest
    assert floats.keys() == want_floats.keys()
    for column, (missing, total, squares) in want_floats.items():
        got = floats[column]
        assert got[0] == missing, column
        assert got[1] == pytest.approx(total, rel=1e-9, abs=1e-9), column
        assert got[2] == pytest.approx(squares, rel=1e-9, abs=1e-9), column


def test_no_treatments_is_bit_identical(base: Campus) -> None:
    again = simulate_campus(CFG, [])
    assert again.statements.equals(base.statements)
    assert again.traits.equals(base.traits)
    assert again.profiles.equals(base.profiles)
    assert base.treatments.num_rows == 0


def test_zero_effect_is_bit_identical(base: Campus) -> None:
    keys = base.traits.column("actor_key").to_pylist()
    courses = base.traits.column("course").to_pylist()
    zero = simulate_campus(CFG, [Treatment(keys[i], courses[i], WEEK, 0.0) for i in range(10)])
    assert zero.statements.equals(base.statements)
    assert zero.traits.equals(base.traits)


def test_treated_gain_is_analytic_and_untreated_scores_are_unchanged(
    base: Campus, treated: Campus, treated_rows: list[int]
) -> None:
    mask = np.zeros(base.traits.num_rows, dtype=bool)
    mask[treated_rows] = True
    gain = expected_gain(CFG, effect=2.0, from_week=WEEK, eta_sd=base.eta_sd)
    assert gain > 3  # a visible effect, so the comparison below means something
    assert treated.eta_sd == base.eta_sd
    f0, f1 = _col(base, "final"), _col(treated, "final")
    np.testing.assert_array_equal(f1[~mask], f0[~mask])
    np.testing.assert_array_equal(_col(treated, "eta")[~mask], _col(base, "eta")[~mask])
    # the mid-term (week 4, before the treatment) is nobody's business
    np.testing.assert_array_equal(_col(treated, "midterm"), _col(base, "midterm"))
    inside = mask & (f0 + gain <= 100.0)
    assert inside.sum() > 20
    # rounding to 0.5 moves each score by at most 0.25
    assert np.all(np.abs((f1 - f0)[inside] - gain) <= 0.5)
    assert np.all(f1[mask & ~inside] == 100.0)
    assert treated.treatments.num_rows == len(treated_rows)
    assert treated.treatments.column("expected_gain").to_pylist() == pytest.approx([gain] * len(treated_rows))


def test_treatment_before_the_midterm_moves_it(base: Campus) -> None:
    keys = base.traits.column("actor_key").to_pylist()
    courses = base.traits.column("course").to_pylist()
    early = simulate_campus(CFG, [Treatment(keys[i], courses[i], 1, 2.0) for i in range(5)])
    m0, m1 = _col(base, "midterm"), _col(early, "midterm")
    assert np.all(m1[:5] > m0[:5])
    np.testing.assert_array_equal(m1[5:], m0[5:])


def test_state_before_the_treatment_is_shared(base: Campus, treated: Campus, treated_rows: list[int]) -> None:
    """Phase 2 of the loop differs from phase 1 only from the treatment week on."""
    for name in ("actor_key", "course", "ability", "diligence", "regularity", "sociability", "interest"):
        assert treated.traits.column(name).equals(base.traits.column(name)), name
    assert treated.students.equals(base.students)
    assert treated.profiles.equals(base.profiles)
    pop = draw_population(CFG, np.random.default_rng([CFG.seed, 1]))
    keys = base.traits.column("actor_key").to_pylist()
    courses = base.traits.column("course").to_pylist()
    resolved = resolve_treatments(CFG, pop, [Treatment(keys[i], courses[i], WEEK, 2.0) for i in treated_rows])
    after = treated_population(pop, resolved)
    np.testing.assert_array_equal(after.effort[:, :, :WEEK], pop.effort[:, :, :WEEK])
    diff = after.effort[:, :, WEEK:] - pop.effort[:, :, WEEK:]
    assert np.allclose(diff[resolved.student, resolved.course], 2.0)
    assert np.count_nonzero(diff) == len(treated_rows) * (CFG.n_weeks - WEEK)
    # sources that do not read effort are identical, before and after the cut-off
    for source in ("canteen", "dorm", "network", "library"):
        a = base.statements.filter(pc.equal(base.statements.column("source"), source))
        b = treated.statements.filter(pc.equal(treated.statements.column("source"), source))
        assert a.equals(b), source


def test_treated_behaviour_rises_after_the_cutoff(
    base: Campus, treated: Campus, treated_rows: list[int]
) -> None:
    cut = datetime.combine(CFG.start, datetime.min.time()) + timedelta(days=7 * WEEK)
    pairs = {
        (k, c)
        for i, (k, c) in enumerate(
            zip(
                base.traits.column("actor_key").to_pylist(),
                base.traits.column("course").to_pylist(),
                strict=True,
            )
        )
        if i in set(treated_rows)
    }

    def lms_events(campus: Campus, *, after: bool) -> int:
        s = campus.statements
        ts = pa.scalar(cut, type=s.column("ts").type)
        keep = pc.and_(
            pc.equal(s.column("source"), "lms"),
            pc.greater_equal(s.column("ts"), ts) if after else pc.less(s.column("ts"), ts),
        )
        rows = s.filter(keep).select(["actor_key", "course"]).to_pylist()
        return sum((r["actor_key"], r["course"]) in pairs for r in rows)

    assert lms_events(treated, after=True) > 1.3 * lms_events(base, after=True)
    assert lms_events(treated, after=False) == pytest.approx(lms_events(base, after=False), rel=0.05)


def test_ground_truth_equals_the_full_simulation(treated: Campus) -> None:
    rows = treated.treatments.to_pylist()
    truth = simulate_ground_truth(
        CFG, [Treatment(r["actor_key"], r["course"], r["from_week"], r["effect"]) for r in rows]
    )
    assert truth.traits.equals(treated.traits)
    assert truth.treatments.equals(treated.treatments)
    assert truth.eta_sd == treated.eta_sd


def test_treatments_by_index_and_course_id(base: Campus) -> None:
    s = int(base.traits.column("student_id").to_pylist()[0][1:]) - 1
    cid = base.traits.column("course_id").to_pylist()[0]
    by_index = simulate_ground_truth(CFG, [Treatment(s, cid, WEEK, 1.0)])
    by_key = simulate_ground_truth(
        CFG,
        [
            Treatment(
                base.traits.column("actor_key")[0].as_py(), base.traits.column("course")[0].as_py(), WEEK, 1.0
            )
        ],
    )
    assert by_index.traits.equals(by_key.traits)


@pytest.mark.parametrize(
    ("treatment", "message"),
    [
        (Treatment("account:https://campus.example.edu|S9999", 0, 4, 1.0), "treatment 0: unknown student"),
        (Treatment(0, "C09", 4, 1.0), "treatment 0: unknown course"),
        (Treatment(0, 0, 8, 1.0), "from_week 8 is outside"),
        (Treatment(0, 0, 4, float("nan")), "effect must be finite"),
        (Treatment(True, 0, 4, 1.0), "must be an index or a name"),
    ],
)
def test_bad_treatments(treatment: Treatment, message: str, base: Campus) -> None:
    enrolled = base.traits.column("course_id").to_pylist()[0]
    if treatment.course == 0:
        treatment = Treatment(treatment.student, enrolled, treatment.from_week, treatment.effect)
    with pytest.raises(LearnsightError, match=message):
        simulate_ground_truth(CFG, [treatment])


def test_not_enrolled_and_twice(base: Campus) -> None:
    keys = base.traits.column("actor_key").to_pylist()
    pairs = set(zip(keys, base.traits.column("course_id").to_pylist(), strict=True))
    key, missing = next((k, c) for k in keys for c in ("C01", "C02", "C03") if (k, c) not in pairs)
    with pytest.raises(LearnsightError, match=r"treatment 0: student .* is not enrolled in course 'C0"):
        simulate_ground_truth(CFG, [Treatment(key, missing, 4, 1.0)])
    key, course = keys[0], base.traits.column("course")[0].as_py()
    with pytest.raises(LearnsightError, match=r"treatment 1: .* already treated by treatment 0"):
        simulate_ground_truth(CFG, [Treatment(key, course, 4, 1.0), Treatment(key, course, 5, 1.0)])


def test_effect_for_gain_inverts_expected_gain() -> None:
    delta = effect_for_gain(CFG, gain=8.0, from_week=WEEK, eta_sd=0.7)
    assert expected_gain(CFG, effect=delta, from_week=WEEK, eta_sd=0.7) == pytest.approx(8.0)
    with pytest.raises(LearnsightError, match="eta_sd"):
        expected_gain(CFG, effect=1.0, from_week=WEEK, eta_sd=0.0)
