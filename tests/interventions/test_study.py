"""Experiments in the store: assignment statements and the SPEC §4 analysis read back from the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.ingest.xapi_json import ingest_xapi
from learnsight.interventions.experiments import compare_groups, paired_analysis, stratified_assignment
from learnsight.interventions.study import (
    ASSIGNED,
    EXT_STRATUM,
    AssignedUnit,
    Selector,
    Unit,
    analyze,
    assign,
    experiment_id,
    load_assignments,
    predicted_units,
)
from learnsight.models.predict import agent_from_key, write_predictions
from learnsight.simulate.campus import Campus, CampusConfig, course_calendar, simulate_campus
from learnsight.store import DuckDBStore, IngestBatch, open_store
from learnsight.xapi import vocab

CFG = CampusConfig(n_students=120, n_courses=3, n_weeks=8, seed=1, midterm_week=4)


@pytest.fixture(scope="module")
def campus() -> Campus:
    return simulate_campus(CFG)


@pytest.fixture(scope="module")
def units(campus: Campus) -> list[Unit]:
    """Every enrolment with a mid-term below 65, stratified by course."""
    t = campus.traits.filter(pc.less(campus.traits.column("midterm"), 65.0))
    return [Unit(r["actor_key"], r["course"], r["course_id"]) for r in t.to_pylist()]


@pytest.fixture(scope="module")
def no_final(units: list[Unit]) -> set[tuple[str, str]]:
    """Three units whose final result is left out of the store."""
    return {(u.actor_key, u.course) for u in units[:3]}


@pytest.fixture(scope="module")
def store_path(
    tmp_path_factory: pytest.TempPathFactory, campus: Campus, no_final: set[tuple[str, str]]
) -> Path:
    s = campus.statements
    is_final = pc.and_(
        pc.equal(s.column("verb_id"), vocab.SCORED), pc.equal(s.column("object_id"), s.column("course"))
    )
    drop = [
        bool(f) and (a, c) in no_final
        for f, a, c in zip(
            is_final.to_pylist(),
            s.column("actor_key").to_pylist(),
            s.column("course").to_pylist(),
            strict=True,
        )
    ]
    kept = s.filter(pc.invert(pa.array(drop)))
    path = tmp_path_factory.mktemp("study") / "campus.duckdb"
    with open_store(path) as store:
        store.ingest(
            IngestBatch(
                kind="simulate",
                source="test",
                rows_read=kept.num_rows,
                statements=kept,
                profiles=campus.profiles,
                courses=course_calendar(campus),
            )
        )
    return path


@pytest.fixture
def store(store_path: Path, tmp_path: Path) -> DuckDBStore:
    """A fresh copy of the campus store per test (assignments must not leak between tests)."""
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store_path.read_bytes())
    return open_store(copy)


def _counts(store: DuckDBStore) -> tuple[int, int]:
    return (
        int(store.scalar("SELECT count(*) FROM statements")),
        int(store.scalar("SELECT count(*) FROM ingest_batches")),
    )


def test_assign_records_one_statement_per_unit(store: DuckDBStore, units: list[Unit]) -> None:
    result = assign(store, experiment="reminders", units=units, seed=3)
    assert result.statements_written == len(units)
    keys = sorted(units, key=lambda u: (u.stratum, u.course, u.actor_key))
    want = stratified_assignment(
        [f"{u.actor_key}\t{u.course}" for u in keys], [u.stratum for u in keys], seed=3, treated_share=0.5
    )
    got = {f"{u.actor_key}\t{u.course}": u.arm for u in result.units}
    assert got == want
    for arms in result.counts().values():
        assert abs(arms["intervention"] - arms["control"]) <= 1
    stored = load_assignments(store, "reminders")
    assert stored.num_rows == len(units)
    assert {f"{r['actor_key']}\t{r['course']}": r["arm"] for r in stored.to_pylist()} == want
    rows = store.con.execute(
        "SELECT DISTINCT source, verb_id, CAST(registration AS VARCHAR), object_id FROM statements "
        "WHERE verb_id = ?",
        [ASSIGNED],
    ).fetchall()
    assert rows == [
        (
            vocab.SOURCE_INTERVENTION,
            ASSIGNED,
            experiment_id("reminders"),
            f"{vocab.BASE}/experiments/{experiment_id('reminders')}",
        )
    ]
    raw = json.loads(store.scalar("SELECT raw FROM statements WHERE verb_id = ? LIMIT 1", [ASSIGNED]))
    assert raw["context"]["extensions"][EXT_STRATUM] in {u.stratum for u in units}
    assert raw["result"]["response"] in ("intervention", "control")


def test_assigning_again_adds_nothing_and_a_flip_is_refused(store: DuckDBStore, units: list[Unit]) -> None:
    assign(store, experiment="reminders", units=units, seed=3)
    again = assign(store, experiment="reminders", units=units, seed=3)
    assert (again.statements_written, again.statements_skipped) == (0, len(units))
    before = _counts(store)
    with pytest.raises(
        LearnsightError, match=r"account:https://campus\.example\.edu\|S\d+ in https://\S+ is already"
    ):
        assign(store, experiment="reminders", units=units, seed=4)
    assert _counts(store) == before
    # another experiment is independent
    assert assign(store, experiment="other", units=units, seed=4).statements_written == len(units)


def test_assign_rejects_bad_units(store: DuckDBStore, units: list[Unit]) -> None:
    before = _counts(store)
    with pytest.raises(LearnsightError, match="is listed twice"):
        assign(store, experiment="x", units=[units[0], units[1], units[0]])
    with pytest.raises(LearnsightError, match="not canonical"):
        assign(store, experiment="x", units=[Unit("sha1:" + "AB" * 20, units[0].course, "s")])
    with pytest.raises(LearnsightError, match="no units"):
        assign(store, experiment="x", units=[])
    with pytest.raises(LearnsightError, match="treated_share"):
        assign(store, experiment="x", units=units, treated_share=1.5)
    assert _counts(store) == before


def _by_hand(
    campus: Campus, units: list[AssignedUnit], arm: str, stratum: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Mid-term and final of the given units of one arm (and stratum), from the ground truth."""
    truth = {(r["actor_key"], r["course"]): (r["midterm"], r["final"]) for r in campus.traits.to_pylist()}
    arms = {(u.actor_key, u.course): (u.arm, u.stratum) for u in units}
    pairs = [
        truth[k]
        for k, (a, s) in sorted(arms.items())
        if a == arm and (stratum is None or s == stratum) and k in truth
    ]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def test_analyze_equals_paired_analysis_on_the_ground_truth(
    store: DuckDBStore, campus: Campus, units: list[Unit], no_final: set[tuple[str, str]]
) -> None:
    assignment = assign(store, experiment="reminders", units=units, seed=3)
    result = analyze(store, "reminders", before="exam/midterm", after="course")
    assert result.units == len(units)
    assert {(m.actor_key, m.course) for m in result.missing} == no_final
    assert {m.missing for m in result.missing} == {"after"}
    assert result.analysed == len(units) - len(no_final)
    kept = [u for u in assignment.units if (u.actor_key, u.course) not in no_final]
    assert [g.group for g in result.groups] == sorted({u.stratum for u in units})
    for g in result.groups:
        for arm in g.arms:
            b, a = _by_hand(campus, kept, arm.arm, g.group)
            want = paired_analysis(b, a, group=g.group)
            assert arm.paired.n == want.n
            for name in ("mean_before", "mean_after", "change", "t", "p", "cohens_dz", "ci_low", "ci_high"):
                assert getattr(arm.paired, name) == pytest.approx(getattr(want, name), rel=1e-9), name
            assert arm.power is not None and 0 < arm.power < 1
        assert g.comparison is not None
        want_c = compare_groups(
            _by_hand(campus, kept, "intervention", g.group), _by_hand(campus, kept, "control", g.group)
        )
        assert g.comparison.difference == pytest.approx(want_c.difference, rel=1e-9)
        assert g.comparison.p == pytest.approx(want_c.p, rel=1e-9)
        assert (
            g.difference_ci is not None and g.difference_ci[0] < g.comparison.difference < g.difference_ci[1]
        )

    pooled = analyze(store, "reminders", before="exam/midterm", after="course", by=())
    assert [g.group for g in pooled.groups] == ["all"]
    b, a = _by_hand(campus, kept, "intervention", None)
    assert pooled.groups[0].arms[0].arm == "intervention"
    assert pooled.groups[0].arms[0].paired.t == pytest.approx(paired_analysis(b, a).t, rel=1e-9)
    json.dumps(pooled.to_dict())


def test_selectors(store: DuckDBStore, campus: Campus, units: list[Unit]) -> None:
    assign(store, experiment="reminders", units=units, seed=3)
    c01 = "https://campus.example.edu/course/C01"
    by_iri = analyze(store, "reminders", before=f"{c01}/exam/midterm", after="course", by=("course",))
    # an IRI selects one course's exam: every other course's units miss their "before" (a student's
    # C01 mid-term is not the "before" of their C02 enrolment)
    assert [g.group for g in by_iri.groups] == [c01]
    by_suffix = analyze(store, "reminders", before="/exam/midterm/", after="course", by=("course",))
    assert by_suffix.groups[0].to_dict() == by_iri.groups[0].to_dict()
    assert {m.missing for m in by_iri.missing} >= {"before"}
    with pytest.raises(LearnsightError, match="before assessment 'exam/final' matches no score"):
        analyze(store, "reminders", before="exam/final", after="course")
    with pytest.raises(LearnsightError, match="no experiment named 'nope'"):
        analyze(store, "nope", before="exam/midterm", after="course")
    with pytest.raises(LearnsightError, match="cannot group by 'arm'"):
        analyze(store, "reminders", before="exam/midterm", after="course", by=("arm",))
    with pytest.raises(LearnsightError, match="selector is empty"):
        Selector.parse(" ")


def test_scores_are_put_on_0_to_100(tmp_path: Path) -> None:
    actor = "account:https://campus.example.edu|S0001"
    course = "https://campus.example.edu/course/C01"

    def scored(n: int, obj: str, score: dict[str, float], ts: str) -> dict[str, Any]:
        return {
            "id": f"00000000-0000-4000-8000-00000000000{n}",
            "actor": agent_from_key(actor),
            "verb": {"id": vocab.SCORED},
            "object": {"id": obj},
            "result": {"score": score},
            "context": {
                "platform": "registry",
                "contextActivities": {"grouping": [{"id": course, "definition": {"type": vocab.COURSE}}]},
            },
            "timestamp": ts,
        }

    lines = [
        scored(1, f"{course}/quiz/1", {"scaled": 0.42}, "2024-09-10T10:00:00Z"),
        scored(2, f"{course}/quiz/2", {"raw": 15, "min": 0, "max": 20}, "2024-09-20T10:00:00Z"),
        scored(3, f"{course}/quiz/2", {"raw": 12, "min": 0, "max": 20}, "2024-09-19T10:00:00Z"),  # older
    ]
    path = tmp_path / "scores.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in lines))
    with open_store(tmp_path / "s.duckdb") as store:
        ingest_xapi(store, path)
        assign(store, experiment="e", units=[Unit(actor, course, "s")])
        result = analyze(store, "e", before="quiz/1", after="quiz/2")
        data = result.scores.to_pylist()
    # one unit: no paired test, and the notes say why
    assert result.groups[0].arms == ()
    assert result.groups[0].comparison is None
    assert any("too few for a paired test" in n for n in result.groups[0].notes)
    assert data == [
        {
            "actor_key": actor,
            "course": course,
            "arm": data[0]["arm"],
            "stratum": "s",
            "group": "s",
            "before": pytest.approx(42.0),
            "after": pytest.approx(75.0),
        }
    ]


def _prediction(n: int, actor: str, course: str, label: str, as_of: str) -> dict[str, Any]:
    """A ``predicted`` statement shaped as :func:`learnsight.models.predict.prediction_statements`."""
    activity = {"objectType": "Activity", "id": course, "definition": {"type": vocab.COURSE}}
    return {
        "id": f"10000000-0000-4000-8000-{n:012d}",
        "actor": agent_from_key(actor),
        "verb": {"id": vocab.PREDICTED},
        "object": activity,
        "result": {"response": label, "score": {"scaled": 0.7}},
        "context": {
            "platform": vocab.SOURCE_MODEL,
            "contextActivities": {"grouping": [activity]},
            "extensions": {vocab.EXT_TARGET: "three_class", vocab.EXT_AS_OF: as_of},
        },
        "timestamp": "2024-10-28T00:00:00.000Z",
        "version": "1.0.3",
    }


def test_default_units_are_the_predicted_at_risk(store: DuckDBStore, campus: Campus) -> None:
    rows = campus.traits.to_pylist()[:12]
    labels = ["at-risk", "normal", "excellent"]
    statements = [
        _prediction(i, r["actor_key"], r["course"], labels[i % 3], "week:4") for i, r in enumerate(rows)
    ]
    write_predictions(store, statements)
    got = predicted_units(store)
    assert [(u.actor_key, u.course) for u in got] == sorted(
        [(r["actor_key"], r["course"]) for i, r in enumerate(rows) if i % 3 == 0], key=lambda p: (p[1], p[0])
    )
    assert all(u.stratum == f"at-risk · {u.course}" for u in got)
    result = assign(store, experiment="auto", as_of=AsOf(week=4), seed=1)
    assert len(result.units) == 4 and result.as_of == "week:4"
    write_predictions(store, [_prediction(99, rows[0]["actor_key"], rows[0]["course"], "at-risk", "week:6")])
    with pytest.raises(LearnsightError, match="several cut-offs"):
        predicted_units(store)
    assert len(predicted_units(store, as_of=AsOf(week=6))) == 1
    with pytest.raises(LearnsightError, match="no 'three_class' predictions made at week:5"):
        predicted_units(store, as_of=AsOf(week=5))
    with pytest.raises(LearnsightError, match="no units to assign"):
        assign(store, experiment="auto2", as_of=AsOf(week=6), classes=("excellent",))
