"""The intervention log: statement shape, deterministic ids, round trip, idempotence, atomic errors."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from learnsight.activities import build_activities
from learnsight.errors import LearnsightError, StatementValidationError
from learnsight.indicators.compute import compute_indicators
from learnsight.indicators.engine import DuckDBEngine
from learnsight.interventions.log import (
    DELIVERED,
    ESCALATED,
    EXT_ATTEMPT,
    EXT_EVIDENCE,
    EXT_FACTORS,
    EXT_MESSAGE,
    EXT_METHOD,
    EXT_NOTE,
    EXT_PREVIOUS,
    EXT_REASON,
    EXT_RULE,
    EXT_STRATEGY,
    EXT_TIMING,
    INGEST_KIND,
    INTERVENTION,
    LOG_SCHEMA,
    PLANNED,
    REVIEWED,
    delivery_statements,
    escalation_statement,
    event_id,
    intervention_iri,
    load_log,
    load_plans,
    plan_statements,
    record_delivery,
    record_plans,
    write_log,
)
from learnsight.interventions.types import Method, PlannedIntervention
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, IngestBatch, open_store
from learnsight.xapi import vocab
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.parse import parse_statement

HOME = "https://campus.example.edu"
C01 = f"{HOME}/course/C01"
C02 = f"{HOME}/course/C02"
TEACHER = "mailto:teacher@campus.example.edu"
PLANNED_AT = datetime(2024, 9, 30, 8, 0, tzinfo=UTC)
DELIVERED_AT = datetime(2024, 10, 2, 12, 0)


def student(n: int) -> str:
    return f"account:{HOME}|S{n:04d}"


def make_plan(n: int, course: str = C01, **changes: object) -> PlannedIntervention:
    plan = PlannedIntervention(
        id=str(deterministic_id("test-plan", n, course)),
        actor_key=student(n),
        course=course,
        strategy="resource_recommendation",
        rule="easier-resources-first",
        timing="during",
        method=Method("individual", "online", "shallow"),
        message=f"S{n:04d}, try the easier exercises first — «ça marche».",
        factors=("mean_test_score", "completion_share"),
        as_of="week:4",
        evidence=("mean test score 0.41 (cohort median 0.66)", "completed 30 % of the items"),
    )
    return dataclasses.replace(plan, **changes)  # type: ignore[arg-type]


def escalation_of(plan: PlannedIntervention) -> PlannedIntervention:
    return dataclasses.replace(
        plan,
        id=str(deterministic_id("test-escalation", plan.id)),
        method=dataclasses.replace(plan.method, depth="deep"),
        attempt=plan.attempt + 1,
        previous=plan.id,
        reason="score z -0.62 -> -0.70: not improved",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = open_store(tmp_path / "store.duckdb")
    try:
        yield s
    finally:
        s.close()


def batches(store: DuckDBStore) -> list[tuple[str, int]]:
    return [
        (str(kind), int(n))
        for kind, n in store.con.execute(
            "SELECT kind, statements_written FROM ingest_batches ORDER BY batch_id"
        ).fetchall()
    ]


# -- statement shape ----------------------------------------------------------------------------------


def test_planned_statement_shape_validates() -> None:
    plan = make_plan(1)
    (s,) = plan_statements([plan], timestamp=PLANNED_AT, instructor=TEACHER)
    parsed = parse_statement(s)  # strict xAPI validation
    assert parsed.actor.key() == plan.actor_key  # the learner is the actor
    assert s["verb"]["id"] == PLANNED
    assert s["object"]["id"] == intervention_iri(plan.id) == f"{vocab.BASE}/interventions/{plan.id}"
    assert s["object"]["definition"] == {"type": INTERVENTION, "name": {"en-US": plan.strategy}}
    ctx = s["context"]
    assert ctx["platform"] == vocab.SOURCE_INTERVENTION
    assert ctx["registration"] == plan.id  # a first plan starts its chain
    assert ctx["contextActivities"]["grouping"][0]["id"] == C01
    assert ctx["instructor"] == {"objectType": "Agent", "mbox": TEACHER}
    ext = ctx["extensions"]
    assert ext[EXT_STRATEGY] == "resource_recommendation"
    assert ext[EXT_RULE] == "easier-resources-first"
    assert ext[EXT_TIMING] == "during"
    assert ext[EXT_METHOD] == {"mode": "individual", "channel": "online", "depth": "shallow"}
    assert ext[EXT_MESSAGE] == plan.message
    assert ext[EXT_FACTORS] == list(plan.factors)
    assert ext[EXT_EVIDENCE] == list(plan.evidence)
    assert ext[vocab.EXT_AS_OF] == "week:4"
    assert ext[EXT_ATTEMPT] == 1
    assert EXT_PREVIOUS not in ext and EXT_REASON not in ext
    assert s["timestamp"] == "2024-09-30T08:00:00.000Z"
    assert s["version"] == "1.0.3"


def test_escalated_plan_shares_the_chain_registration() -> None:
    first = make_plan(1)
    second = escalation_of(first)
    third = escalation_of(second)
    # any order within one call: the chain is resolved
    statements = plan_statements([third, first, second], timestamp=PLANNED_AT)
    by_object = {s["object"]["id"]: s for s in statements}
    for plan in (first, second, third):
        assert by_object[intervention_iri(plan.id)]["context"]["registration"] == first.id
    ext = by_object[intervention_iri(third.id)]["context"]["extensions"]
    assert (ext[EXT_ATTEMPT], ext[EXT_PREVIOUS], ext[EXT_REASON]) == (3, second.id, third.reason)
    # the previous plan known only from the log
    (alone,) = plan_statements([second], timestamp=PLANNED_AT, registrations={first.id: first.id})
    assert alone["context"]["registration"] == first.id
    with pytest.raises(LearnsightError, match=f"intervention {second.id}: its previous plan {first.id}"):
        plan_statements([second], timestamp=PLANNED_AT)


def test_ids_are_deterministic() -> None:
    a = plan_statements([make_plan(1), make_plan(2)], timestamp=PLANNED_AT)
    b = plan_statements([make_plan(1), make_plan(2)], timestamp=datetime(2025, 1, 1, tzinfo=UTC))
    assert [s["id"] for s in a] == [s["id"] for s in b]  # the event, not the time, identifies it
    assert a[0]["id"] != a[1]["id"]
    assert a[0]["id"] == event_id("planned", make_plan(1).id)
    assert len({event_id(e, make_plan(1).id) for e in ("planned", "delivered", "reviewed", "escalated")}) == 4


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "plan-1"}, "'plan-1': a plan id must be a UUID"),
        ({"strategy": "scolding"}, "strategy 'scolding' is not one of"),
        ({"timing": "never"}, "timing 'never' is not one of"),
        ({"method": Method("individual", "online", "medium")}, "method.depth 'medium'"),  # type: ignore[arg-type]
        ({"attempt": 2}, "attempt 2 with previous None"),
        ({"attempt": 0}, "attempt must be an integer >= 1"),
        ({"actor_key": "S0001"}, "names no xAPI agent"),
        ({"actor_key": "mailto:ana@example.org "}, "is not a mailto IRI"),
    ],
)
def test_bad_plans_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises((LearnsightError, StatementValidationError), match=message):
        plan_statements([make_plan(1, **changes)], timestamp=PLANNED_AT)


# -- writing and reading --------------------------------------------------------------------------------


def test_round_trip_plans_store_load_plans(store: DuckDBStore) -> None:
    first = make_plan(1)
    plans = [
        first,
        make_plan(2, course=C02, timing="course_start", method=Method("group", "offline", "deep")),
        make_plan(3, factors=(), evidence=(), message=""),
        escalation_of(first),
    ]
    report = record_plans(store, plans, timestamp=PLANNED_AT, instructor=TEACHER)
    assert (report.kind, report.statements_written, report.statements_skipped) == (INGEST_KIND, 4, 0)
    loaded = load_plans(store)
    assert sorted(loaded, key=lambda p: p.id) == sorted(plans, key=lambda p: p.id)
    assert load_plans(store, ids=[first.id]) == [first]
    log = load_log(store)
    assert log.schema == LOG_SCHEMA
    rows = {r["id"]: r for r in log.to_pylist()}
    assert {r["status"] for r in rows.values()} == {"planned"}
    assert rows[plans[3].id]["registration"] == first.id
    assert rows[first.id]["planned_by"] == TEACHER
    assert rows[first.id]["planned_at"] == datetime(2024, 9, 30, 8, 0)
    assert rows[plans[1].id]["mode"] == "group"
    assert load_log(store, course=C02).column("id").to_pylist() == [plans[1].id]
    assert sorted(load_log(store, actor_key=student(1)).column("id").to_pylist()) == sorted(
        [first.id, plans[3].id]
    )
    # an escalation recorded later joins its chain through the log
    later = escalation_of(plans[3])
    record_plans(store, [later], timestamp=PLANNED_AT)
    (row,) = load_log(store).filter(pa.compute.field("id") == later.id).to_pylist()
    assert (row["registration"], row["attempt"], row["previous"]) == (first.id, 3, plans[3].id)
    assert load_plans(store, ids=[later.id]) == [later]


def test_duplicates_are_skipped(store: DuckDBStore) -> None:
    plans = [make_plan(1), make_plan(2)]
    record_plans(store, plans, timestamp=PLANNED_AT)
    count = store.count_statements()
    again = record_plans(store, plans, timestamp=datetime(2024, 11, 1, tzinfo=UTC))
    assert (again.statements_written, again.statements_skipped) == (0, 2)
    first = record_delivery(store, plans, delivered_at=DELIVERED_AT, by=TEACHER)
    same = record_delivery(store, [p.id for p in plans], delivered_at=DELIVERED_AT, by=TEACHER)
    assert (first.statements_written, same.statements_written, same.statements_skipped) == (2, 0, 2)
    assert store.count_statements() == count + 2
    # the same statement twice in one call is written once
    twice = plan_statements([make_plan(3)], timestamp=PLANNED_AT) * 2
    assert write_log(store, twice).statements_written == 1


def test_replanning_an_id_with_other_content_is_refused(store: DuckDBStore) -> None:
    record_plans(store, [make_plan(1)], timestamp=PLANNED_AT)
    count = store.count_statements()
    with pytest.raises(
        LearnsightError, match=f"intervention {make_plan(1).id}: already planned with another message"
    ):
        record_plans(store, [make_plan(2), make_plan(1, message="other")], timestamp=PLANNED_AT)
    assert store.count_statements() == count


def test_delivery_statements(store: DuckDBStore) -> None:
    plan = make_plan(1)
    record_plans(store, [plan], timestamp=PLANNED_AT)
    (s,) = delivery_statements(
        store, [plan], delivered_at=DELIVERED_AT, by=TEACHER, note="talked after class"
    )
    parse_statement(s)
    assert s["verb"]["id"] == DELIVERED
    assert s["id"] == event_id("delivered", plan.id)
    assert s["timestamp"] == "2024-10-02T12:00:00.000Z"
    assert s["context"]["registration"] == plan.id
    assert s["context"]["instructor"] == {"objectType": "Agent", "mbox": TEACHER}
    assert s["context"]["extensions"] == {EXT_NOTE: "talked after class"}
    write_log(store, [s])
    (row,) = load_log(store).to_pylist()
    assert (row["status"], row["delivered_at"], row["delivered_by"], row["note"]) == (
        "delivered",
        DELIVERED_AT,
        TEACHER,
        "talked after class",
    )


def test_bad_delivery_raises_and_writes_nothing(store: DuckDBStore) -> None:
    plan = make_plan(1)
    record_plans(store, [plan], timestamp=PLANNED_AT)
    count, n_batches = store.count_statements(), len(batches(store))
    unknown = str(deterministic_id("never planned"))
    with pytest.raises(LearnsightError, match=f"intervention {unknown}: no such plan"):
        record_delivery(store, [plan.id, unknown], delivered_at=DELIVERED_AT)
    assert (store.count_statements(), len(batches(store))) == (count, n_batches)
    record_delivery(store, [plan], delivered_at=DELIVERED_AT)
    count, n_batches = store.count_statements(), len(batches(store))
    with pytest.raises(
        LearnsightError, match=f"intervention {plan.id}: already delivered at 2024-10-02 12:00"
    ):
        record_delivery(store, [plan], delivered_at=datetime(2024, 10, 3, 9, 0))
    assert (store.count_statements(), len(batches(store))) == (count, n_batches)


def test_write_log_is_strict_and_atomic(store: DuckDBStore) -> None:
    good = plan_statements([make_plan(1)], timestamp=PLANNED_AT)
    bad = plan_statements([make_plan(2)], timestamp=PLANNED_AT)
    bad[0]["timestamp"] = "yesterday"
    with pytest.raises(StatementValidationError, match="timestamp"):
        write_log(store, good + bad)
    assert store.count_statements() == 0
    foreign = plan_statements([make_plan(3)], timestamp=PLANNED_AT)
    foreign[0]["context"]["platform"] = vocab.SOURCE_LMS
    with pytest.raises(LearnsightError, match=r"context\.platform is 'lms'"):
        write_log(store, good + foreign)
    clash = plan_statements([make_plan(1, message="changed")], timestamp=PLANNED_AT)
    with pytest.raises(LearnsightError, match=f"two different statements with id {good[0]['id']}"):
        write_log(store, good + clash)
    assert store.count_statements() == 0


def test_statuses_follow_the_events(store: DuckDBStore) -> None:
    from learnsight.interventions.log import review_statement

    plans = [make_plan(i) for i in range(1, 5)]
    record_plans(store, plans, timestamp=PLANNED_AT)
    record_delivery(store, plans[1:], delivered_at=DELIVERED_AT)
    when = datetime(2024, 10, 20)
    nxt = escalation_of(plans[3])
    statements = [
        review_statement(
            p,
            registration=p.id,
            improved=i == 2,
            reason=f"r{i}",
            measures={"gain": 0.5 - i / 5},
            timestamp=when,
        )
        for i, p in enumerate(plans)
        if i >= 2
    ]
    statements.append(escalation_statement(plans[3], nxt, registration=plans[3].id, timestamp=when))
    statements += plan_statements([nxt], timestamp=when, registrations={plans[3].id: plans[3].id})
    report = write_log(store, statements)
    assert report.details == {"events": {"escalated": 1, "planned": 1, "reviewed": 2}}
    assert {s["verb"]["id"] for s in statements} == {REVIEWED, ESCALATED, PLANNED}
    rows = {r["id"]: r for r in load_log(store).to_pylist()}
    assert [rows[p.id]["status"] for p in plans] == ["planned", "delivered", "reviewed", "escalated"]
    assert (rows[plans[2].id]["outcome"], rows[plans[2].id]["gain"]) == ("improved", pytest.approx(0.1))
    assert rows[plans[3].id]["outcome"] == "not improved"
    assert rows[plans[3].id]["next_id"] == nxt.id
    assert (rows[nxt.id]["status"], rows[nxt.id]["attempt"], rows[nxt.id]["registration"]) == (
        "planned",
        2,
        plans[3].id,
    )


def test_voided_events_leave_the_log(store: DuckDBStore) -> None:
    plan = make_plan(1)
    record_plans(store, [plan], timestamp=PLANNED_AT)
    record_delivery(store, [plan], delivered_at=DELIVERED_AT)
    voiding = {
        "actor": {"mbox": TEACHER},
        "verb": {"id": vocab.VOIDED},
        "object": {"objectType": "StatementRef", "id": event_id("delivered", plan.id)},
        "timestamp": "2024-10-03T00:00:00Z",
    }
    row = statement_columns(parse_statement(voiding), stored=datetime(2024, 10, 3), source=voiding)
    store.ingest(IngestBatch("xapi", "voiding", 1, statements=statements_table([row])))
    (row,) = load_log(store).to_pylist()
    assert (row["status"], row["delivered_at"]) == ("planned", None)


# -- the log is never a trace -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def campus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("campus") / "campus.duckdb"
    with open_store(path) as s:
        write_campus(s, simulate_campus(CampusConfig(n_students=40, n_courses=2, n_weeks=6, seed=3)))
    return path


def test_log_is_invisible_to_indicators_and_activities(campus_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    shutil.copy(campus_file, path)
    with open_store(path) as s:
        before = compute_indicators(DuckDBEngine(s))
        acts = build_activities(s).to_dict()
        actors = [
            r[0] for r in s.con.execute("SELECT DISTINCT actor_key FROM statements ORDER BY 1").fetchall()
        ]
        plans = [
            make_plan(i, actor_key=a, course=C01 if i % 2 else C02, id=str(deterministic_id("inv", a)))
            for i, a in enumerate(actors[:12])
        ]
        record_plans(s, plans, timestamp=PLANNED_AT, instructor=TEACHER)
        record_delivery(s, plans, delivered_at=DELIVERED_AT, by=TEACHER)
        assert s.count_statements() > 0
        after = compute_indicators(DuckDBEngine(s))
        assert after.student.equals(before.student)
        assert after.student_course.equals(before.student_course)
        again = build_activities(s).to_dict()
        assert (again["events"], again["activities"], again["by_source"]) == (
            acts["events"],
            acts["activities"],
            acts["by_source"],
        )
        assert pa.compute.sum(load_log(s).column("attempt")).as_py() == 12
