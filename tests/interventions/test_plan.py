"""Planning end to end on the synthetic campus: RMTL predictions at week 6 → factors → rules → plans."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.interventions.plan import LEVELS, PlanningData, Resource, plan_interventions, plans_table
from learnsight.interventions.strategies import load_rules
from learnsight.interventions.types import PlannedIntervention
from learnsight.models.dataset import DatasetBuilder
from learnsight.models.predict import predict_table, train_model
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, open_store
from learnsight.xapi import vocab

WEEK = 6


@dataclass
class Planned:
    store: DuckDBStore
    predictions: pa.Table
    data: PlanningData
    plans: list[PlannedIntervention]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planned]:
    campus = simulate_campus(CampusConfig(n_students=120, n_courses=3, n_weeks=8, seed=3))
    store = open_store(Path(tmp_path_factory.mktemp("plan")) / "store.duckdb")
    write_campus(store, campus)
    data = DatasetBuilder(store).build(AsOf(week=WEEK))
    bundle = train_model(data, "three_class", "rmtl", seed=0, evaluate=False)
    predictions = predict_table(bundle, data, top_k=3)
    plans = plan_interventions(store, predictions, load_rules(), as_of=AsOf(week=WEEK))
    try:
        yield Planned(
            store, predictions, PlanningData.build(store, predictions, as_of=AsOf(week=WEEK)), plans
        )
    finally:
        store.close()


def _at_risk(predictions: pa.Table) -> set[tuple[str, str]]:
    return {(r["actor_key"], r["course"]) for r in predictions.to_pylist() if r["predicted"] == "at-risk"}


def test_every_at_risk_prediction_gets_a_plan(planned: Planned) -> None:
    at_risk = _at_risk(planned.predictions)
    assert len(at_risk) >= 10
    covered = {(p.actor_key, p.course) for p in planned.plans}
    assert covered == at_risk
    per_student: dict[tuple[str, str], list[str]] = {}
    for p in planned.plans:
        per_student.setdefault((p.actor_key, p.course), []).append(p.strategy)
    assert all(1 <= len(s) <= 2 and len(set(s)) == len(s) for s in per_student.values())
    assert {p.as_of for p in planned.plans} == {f"week:{WEEK}"}
    assert all(p.attempt == 1 and p.previous is None and p.factors for p in planned.plans)
    assert all(len(p.factors) == len(p.evidence) for p in planned.plans)


def test_messages_have_no_unfilled_placeholders(planned: Planned) -> None:
    for p in planned.plans:
        assert not re.search(r"\{[^}]*\}", p.message), p.message
        assert p.message.startswith(p.actor_key.rsplit("|", 1)[-1])
    # during the course (week 6 >= start_weeks 3): no course-start timing
    assert {p.timing for p in planned.plans} == {"during"}


def test_recommended_resources_are_unseen_and_easier_first(planned: Planned) -> None:
    recommendations = [p for p in planned.plans if p.strategy == "resource_recommendation"]
    assert recommendations
    con = planned.store.con
    for p in recommendations:
        unseen = planned.data.unseen_resources(p.actor_key, p.course)
        assert unseen and all(r.level in LEVELS for r in unseen)
        levels = [LEVELS[r.level or ""] for r in unseen]
        assert levels == sorted(levels)
        listed = unseen[:3]
        assert ", ".join(r.label() for r in listed) in p.message
        start = con.execute("SELECT start_ts FROM courses WHERE course = ?", [p.course]).fetchone()
        assert start is not None
        seen = con.execute(
            "SELECT count(*) FROM statements WHERE actor_key = ? AND course = ? AND ts < ? AND object_id IN "
            f"({', '.join('?' for _ in listed)})",
            [p.actor_key, p.course, start[0] + timedelta(days=7 * WEEK), *(r.object_id for r in listed)],
        ).fetchone()
        assert seen == (0,)
        # ...and they are resources of this course, with the level the data gives them
        for r in listed:
            level = con.execute(
                "SELECT DISTINCT json_extract_string(extensions, ?) FROM statements WHERE object_id = ? "
                "AND verb_id = ?",
                [f'$.context."{vocab.EXT_LEVEL}"', r.object_id, vocab.VIEWED],
            ).fetchall()
            assert level == [(r.level,)] and r.object_id.startswith(p.course)


def test_partner_is_a_successful_peer_of_the_same_course(planned: Planned) -> None:
    wide = planned.data.wide.to_pylist()
    for actor, course in sorted(_at_risk(planned.predictions)):
        group = planned.data.peers[course]
        assert group.basis == "successful peers" and actor not in group.actors
        partner = planned.data.partner(actor, course, "attendance_rate")
        assert partner is not None and partner in group.actors
        # the peer with the best attendance in the course
        best = max(
            (r["attendance_rate"] for r in wide if r["course"] == course and r["actor_key"] in group.actors),
            key=lambda v: -1.0 if v is None else v,
        )
        assert (
            next(r for r in wide if (r["actor_key"], r["course"]) == (partner, course))["attendance_rate"]
            == best
        )
        top = planned.data.factors[(actor, course)][:1]
        ctx = planned.data.context(actor, course, top)
        assert (
            ctx["partner"] == (planned.data.partner(actor, course, top[0].indicator) or "").rsplit("|", 1)[-1]
        )
        rank, size = planned.data.standing(actor, course, ctx["top_factor"]) or (0, 0)
        assert 1 <= rank <= size


def test_planning_is_idempotent(planned: Planned) -> None:
    again = plan_interventions(planned.store, planned.predictions, load_rules(), as_of=AsOf(week=WEEK))
    assert [p.to_dict() for p in again] == [p.to_dict() for p in planned.plans]
    assert len({p.id for p in planned.plans}) == len(planned.plans)
    table = plans_table(planned.plans)
    assert table.num_rows == len(planned.plans) and table.column("id").to_pylist() == [
        p.id for p in planned.plans
    ]


def test_planning_at_another_cutoff_than_the_predictions_is_an_error(planned: Planned) -> None:
    with pytest.raises(LearnsightError, match=r"week:6 .* week:8"):
        plan_interventions(planned.store, planned.predictions, as_of=AsOf(week=8))
    with pytest.raises(LearnsightError, match="max_per_student"):
        planned.data.plans(load_rules(), max_per_student=0)


def test_escalating_a_real_plan_fills_its_message(planned: Planned) -> None:
    rules = load_rules()
    plan = next(p for p in planned.plans if p.method.depth == "shallow" and p.method.mode == "individual")
    chain = [plan]
    while (
        nxt := planned.data.escalate(chain[-1], rules, "no improvement", tried={p.strategy for p in chain})
    ) is not None:
        chain.append(nxt)
    # depth, channel, mode; timing stays (already "during"); then strategies not yet tried
    assert [p.method.label() for p in chain[:4]] == [
        "individual · online · shallow",
        "individual · online · deep",
        "individual · offline · deep",
        "group · offline · deep",
    ]
    assert chain[4].strategy != plan.strategy and chain[4].method == chain[3].method
    changed = [p for p in chain if p.strategy != plan.strategy]
    assert changed, "the ladder ends in a strategy change"
    for p in chain:
        assert not re.search(r"\{[^}]*\}", p.message)


def test_resource_order() -> None:
    resources = [
        Resource("c/R4", None, 9),
        Resource("c/R3", "hard", 9),
        Resource("c/R2", "easy", 1),
        Resource("c/R1", "easy", 5),
        Resource("c/R5", "medium", 0),
    ]
    assert [r.object_id for r in sorted(resources, key=Resource.sort_key)] == [
        "c/R1",
        "c/R2",
        "c/R5",
        "c/R3",
        "c/R4",
    ]
    assert Resource("c/R4", None, 9).label() == "R4 (used by 9 peers)"
