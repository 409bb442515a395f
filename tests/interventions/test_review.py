"""The feedback loop on a synthetic campus: verdicts against hand computations, escalation, idempotence."""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.interventions.log import (
    ESCALATED,
    EXT_OUTCOME_MEASURES,
    EXT_REASON,
    PLANNED,
    REVIEWED,
    event_id,
    load_log,
    load_plans,
    record_delivery,
    record_plans,
)
from learnsight.interventions.review import (
    AssessmentResult,
    before_after,
    review_interventions,
    tried_strategies,
    verdict_reason,
)
from learnsight.interventions.types import Method, PlannedIntervention
from learnsight.simulate.campus import Campus, CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, IngestBatch, open_store
from learnsight.xapi import vocab
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.parse import parse_statement

CONFIG = CampusConfig(n_students=120, n_courses=2, n_weeks=10, seed=5)
WEEK5 = datetime(2024, 10, 2, 12, 0)  # Wednesday of week 5 (the semester starts Monday 2024-09-02)
WEEK9 = datetime(2024, 10, 30, 12, 0)  # after the mid-term (week 8), before the final (week 10)
REVIEWED_AT = datetime(2024, 11, 20, 9, 0, tzinfo=UTC)
EXAMS = ["*/exam/midterm", "*/course/C[0-9][0-9]"]  # the registry's mid-term and final grades
ASSESSMENT_TYPES = {vocab.ASSESSMENT, vocab.HOMEWORK, vocab.COURSE}


@pytest.fixture(scope="module")
def campus() -> Campus:
    return simulate_campus(CONFIG)


@pytest.fixture(scope="module")
def campus_file(campus: Campus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("review") / "campus.duckdb"
    with open_store(path) as s:
        write_campus(s, campus)
    return path


@pytest.fixture
def store(campus_file: Path, tmp_path: Path) -> Iterator[DuckDBStore]:
    path = tmp_path / "store.duckdb"
    shutil.copy(campus_file, path)
    s = open_store(path)
    try:
        yield s
    finally:
        s.close()


def plans_for(campus: Campus, n: int = 40, **changes: Any) -> list[PlannedIntervention]:
    """First plans for the ``n`` enrolments with the lowest mid-term (the ones a teacher would pick)."""
    rows = sorted(campus.traits.to_pylist(), key=lambda r: (r["midterm"], r["actor_key"], r["course"]))[:n]
    return [
        PlannedIntervention(
            id=str(deterministic_id("review-test", r["actor_key"], r["course"])),
            actor_key=r["actor_key"],
            course=r["course"],
            strategy="learning_progress_comparison",
            rule="progress-vs-peers",
            timing="during",
            method=changes.get("method", Method("individual", "online", "shallow")),
            message="You are behind your classmates; here is where you stand.",
            factors=("mean_test_score",),
            as_of="week:4",
            evidence=("mean test score in the bottom decile",),
        )
        for r in rows
    ]


def deepen_then_group(plan: PlannedIntervention, reason: str) -> PlannedIntervention | None:
    """A small real policy: shallow → deep, then individual → group, then give up."""
    method = plan.method
    if method.depth == "shallow":
        method = dataclasses.replace(method, depth="deep")
    elif method.mode == "individual":
        method = dataclasses.replace(method, mode="group")
    else:
        return None
    return dataclasses.replace(
        plan,
        id=str(deterministic_id("test-escalation", plan.id)),
        method=method,
        attempt=plan.attempt + 1,
        previous=plan.id,
        reason=reason,
    )


def deliver(store: DuckDBStore, plans: list[PlannedIntervention], when: datetime) -> None:
    record_plans(store, plans, timestamp=datetime(2024, 9, 30, 8, 0))
    record_delivery(store, plans, delivered_at=when, by="mailto:counsellor@campus.example.edu")


def n_batches(store: DuckDBStore) -> int:
    return int(store.con.execute("SELECT count(*) FROM ingest_batches").fetchone()[0])  # type: ignore[index]


# -- hand computations ----------------------------------------------------------------------------------


def z_by_traits(campus: Campus, column: str) -> dict[tuple[str, str], float]:
    """Each enrolment's z-score of ``column`` (mid-term or final) within its course, from ground truth."""
    rows = campus.traits.to_pylist()
    out = {}
    for course in {r["course"] for r in rows}:
        values = [r[column] for r in rows if r["course"] == course]
        mean, sd = statistics.fmean(values), statistics.pstdev(values)
        out.update({(r["actor_key"], course): (r[column] - mean) / sd for r in rows if r["course"] == course})
    return out


def hand_before_after(store: DuckDBStore, delivered: datetime) -> dict[tuple[str, str], tuple[Any, Any]]:
    """Last assessment result at/before ``delivered`` and first after it, with z-scores, in plain Python."""
    rows = store.con.execute(
        "SELECT actor_key, course, object_id, activity_type, source, ts, score_scaled FROM statements "
        "WHERE score_scaled IS NOT NULL AND NOT voided"
    ).fetchall()
    first: dict[tuple[str, str, str], tuple[datetime, float]] = {}
    for actor, course, obj, kind, source, ts, score in rows:
        if kind not in ASSESSMENT_TYPES or source in vocab.DERIVED_SOURCES:
            continue
        key = (course, obj, actor)
        if key not in first or (ts, -score) < (first[key][0], -first[key][1]):
            first[key] = (ts, score)
    cohorts: dict[tuple[str, str], list[float]] = {}
    for (course, obj, _), (_, score) in first.items():
        cohorts.setdefault((course, obj), []).append(score)
    timeline: dict[tuple[str, str], list[tuple[datetime, str, float]]] = {}
    for (course, obj, actor), (ts, score) in first.items():
        cohort = cohorts[course, obj]
        if len(cohort) < 5 or statistics.pstdev(cohort) == 0:
            continue
        z = (score - statistics.fmean(cohort)) / statistics.pstdev(cohort)
        timeline.setdefault((actor, course), []).append((ts, obj, z))
    out = {}
    for key, events in timeline.items():
        events.sort()
        before = [e for e in events if e[0] <= delivered]
        after = [e for e in events if e[0] > delivered]
        out[key] = (before[-1] if before else None, after[0] if after else None)
    return out


# -- tests ------------------------------------------------------------------------------------------------


def test_verdicts_match_the_ground_truth_exam_scores(store: DuckDBStore, campus: Campus) -> None:
    """Delivered in week 9: before = the mid-term, after = the final; z-scores from campus.traits."""
    plans = plans_for(campus)
    deliver(store, plans, WEEK9)
    result = review_interventions(store, assessments=EXAMS, escalate=deepen_then_group, timestamp=REVIEWED_AT)
    mid, final = z_by_traits(campus, "midterm"), z_by_traits(campus, "final")
    assert len(result.reviewed) == len(plans) and not result.pending and not result.unmeasured
    for review in result.reviewed:
        key = (review.plan.actor_key, review.plan.course)
        assert review.before.object_id == f"{review.plan.course}/exam/midterm"
        assert review.after.object_id == review.plan.course  # the final is a SCORED of the course
        assert review.before.z == pytest.approx(mid[key], abs=1e-9)
        assert review.after.z == pytest.approx(final[key], abs=1e-9)
        expected = final[key] - mid[key] >= 0.1
        assert review.improved == expected, key
        assert review.before.score == pytest.approx(
            next(
                r["midterm"] / 100 for r in campus.traits.to_pylist() if (r["actor_key"], r["course"]) == key
            )
        )
        assert (review.escalation is not None) == (not expected)
    # both verdicts occur, so the comparison above could fail either way
    assert result.improved and result.not_improved
    # a student whose z dropped is escalated, with the measurement as the reason
    worst = min(result.reviewed, key=lambda r: r.gain)
    key = (worst.plan.actor_key, worst.plan.course)
    assert final[key] < mid[key]
    course = worst.plan.course
    reason = (
        f"score z {mid[key]:.2f} on {course}/exam/midterm → {final[key]:.2f} on {course} "
        f"after delivery on 2024-10-30: not improved (gain {final[key] - mid[key]:.2f} < 0.10)"
    )
    assert worst.reason == reason
    assert worst.escalation is not None
    assert (worst.escalation.reason, worst.escalation.previous, worst.escalation.attempt) == (
        reason,
        worst.plan.id,
        2,
    )
    assert worst.escalation.method == Method("individual", "online", "deep")


def test_review_writes_one_batch_and_the_log_shows_it(store: DuckDBStore, campus: Campus) -> None:
    plans = plans_for(campus)
    deliver(store, plans, WEEK9)
    count, batches = store.count_statements(), n_batches(store)
    result = review_interventions(store, assessments=EXAMS, escalate=deepen_then_group, timestamp=REVIEWED_AT)
    n_esc = len(result.escalated)
    assert n_esc == len(result.not_improved) > 0
    assert result.report is not None and result.report.kind == "interventions"
    assert n_batches(store) == batches + 1  # one atomic batch
    assert store.count_statements() == count + len(plans) + 2 * n_esc
    verbs = dict(
        store.con.execute(
            "SELECT verb_id, count(*) FROM statements WHERE batch_id = ? GROUP BY 1", [result.report.batch_id]
        ).fetchall()
    )
    assert verbs == {REVIEWED: len(plans), ESCALATED: n_esc, PLANNED: n_esc}
    log = {r["id"]: r for r in load_log(store).to_pylist()}
    for review in result.reviewed:
        row = log[review.plan.id]
        assert row["outcome"] == ("improved" if review.improved else "not improved")
        assert row["gain"] == pytest.approx(review.gain)
        assert row["review_reason"] == review.reason
        assert json.loads(row["measures"])["after"]["object"] == review.after.object_id
        if review.escalation is None:
            assert row["status"] == "reviewed"
        else:
            assert (row["status"], row["next_id"]) == ("escalated", review.escalation.id)
            new = log[review.escalation.id]
            assert (new["status"], new["attempt"], new["previous"], new["registration"]) == (
                "planned",
                2,
                review.plan.id,
                review.plan.id,
            )
    assert set(load_plans(store)) == set(plans) | set(result.escalated)  # the new plans round-trip
    stored = store.get_statement(event_id("reviewed", result.reviewed[0].plan.id))
    assert stored is not None
    assert stored["context"]["extensions"][EXT_REASON] == result.reviewed[0].reason
    assert stored["result"]["extensions"][EXT_OUTCOME_MEASURES]["gain"] == pytest.approx(
        result.reviewed[0].gain
    )
    json.dumps(result.to_dict())  # serialisable
    assert result.to_dict()["counts"]["escalated"] == n_esc


def test_pending_until_the_next_assessment_then_reviewed_once(store: DuckDBStore, campus: Campus) -> None:
    plans = plans_for(campus, n=10)
    deliver(store, plans, WEEK9)
    count = store.count_statements()
    # week 10 starts 2024-11-04; the final is on 2024-11-09: not visible at a week-9 cut-off
    for cut in (AsOf(week=9), datetime(2024, 11, 9, 17, 0)):
        early = review_interventions(store, as_of=cut, assessments=EXAMS, escalate=deepen_then_group)
        assert {p.id for p in early.pending} == {p.id for p in plans}
        assert early.pending[0].why == "no assessment after delivery yet"
        assert not early.reviewed and early.report is None
    assert store.count_statements() == count  # nothing written for pending reviews
    done = review_interventions(store, as_of=AsOf(week=10), assessments=EXAMS, escalate=deepen_then_group)
    assert len(done.reviewed) == len(plans) and not done.pending
    count, batches = store.count_statements(), n_batches(store)
    again = review_interventions(store, assessments=EXAMS, escalate=deepen_then_group)
    assert not again.reviewed and not again.pending and again.report is None
    assert (store.count_statements(), n_batches(store)) == (count, batches)  # reviewing twice adds nothing


def test_week5_review_uses_the_next_quiz_or_homework(store: DuckDBStore, campus: Campus) -> None:
    """Default assessment set, delivery in week 5: before/after picked by hand from the store."""
    plans = plans_for(campus)
    deliver(store, plans, WEEK5)
    expected = hand_before_after(store, WEEK5)
    result = review_interventions(store, escalate=deepen_then_group, timestamp=REVIEWED_AT)
    assert len(result.reviewed) == len(plans)
    kinds = set()
    for review in result.reviewed:
        before, after = expected[review.plan.actor_key, review.plan.course]
        assert (review.before.ts, review.before.object_id) == (before[0], before[1])
        assert (review.after.ts, review.after.object_id) == (after[0], after[1])
        assert review.gain == pytest.approx(after[2] - before[2], abs=1e-9)
        assert review.improved == (after[2] - before[2] >= 0.1)
        assert review.before.ts <= WEEK5 < review.after.ts
        kinds.add(review.after.object_id.rsplit("/", 2)[-2])
    assert {"quiz", "homework"} <= kinds  # mostly the next weekly assessment (the mid-term for the idle)
    assert result.improved and result.not_improved
    # the escalated plans are delivered in turn and reviewed: the chain goes on, attempt 3
    second = list(result.escalated)
    record_delivery(store, second, delivered_at=WEEK9)
    again = review_interventions(store, escalate=deepen_then_group, timestamp=REVIEWED_AT)
    assert {r.plan.id for r in again.reviewed} == {p.id for p in second}
    third = again.escalated
    assert third and all(p.attempt == 3 and p.method == Method("group", "online", "deep") for p in third)
    log = {r["id"]: r for r in load_log(store).to_pylist()}
    roots = {p.id: p.previous for p in second}
    assert all(log[p.id]["registration"] == roots[p.previous] for p in third if p.previous)


def test_derived_scores_are_not_assessments(store: DuckDBStore, campus: Campus) -> None:
    """A model's probability (score_scaled on the course) right after delivery must not count."""
    plans = plans_for(campus, n=8)
    deliver(store, plans, WEEK9)
    fake = [
        {
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": "https://campus.example.edu", "name": p.actor_key.rsplit("|", 1)[1]},
            },
            "verb": {"id": vocab.PREDICTED},
            "object": {"id": p.course, "definition": {"type": vocab.COURSE}},
            "result": {"score": {"scaled": 1.0 if i % 2 else 0.0}},
            "context": {
                "platform": vocab.SOURCE_MODEL,
                "contextActivities": {"grouping": [{"id": p.course, "definition": {"type": vocab.COURSE}}]},
            },
            "timestamp": "2024-10-30T13:00:00Z",
        }
        for i, p in enumerate(plans)
    ]
    rows = [statement_columns(parse_statement(s), stored=datetime(2024, 10, 30), source=s) for s in fake]
    store.ingest(IngestBatch("predictions", "fake", len(rows), statements=statements_table(rows)))
    result = review_interventions(store, assessments=EXAMS, escalate=deepen_then_group)
    assert {r.after.ts for r in result.reviewed} == {datetime(2024, 11, 9, 18, 0)}  # the real final


def scored(actor_key: str, course: str, obj: str, ts: str, score: dict[str, float]) -> dict[str, Any]:
    home, name = actor_key.removeprefix("account:").split("|")
    return {
        "actor": {"objectType": "Agent", "account": {"homePage": home, "name": name}},
        "verb": {"id": vocab.SCORED},
        "object": {"id": obj, "definition": {"type": vocab.ASSESSMENT}},
        "result": {"score": score},
        "context": {
            "platform": vocab.SOURCE_REGISTRY,
            "contextActivities": {"grouping": [{"id": course, "definition": {"type": vocab.COURSE}}]},
        },
        "timestamp": ts,
    }


def test_first_attempts_raw_scores_and_small_cohorts(store: DuckDBStore, campus: Campus) -> None:
    """A retake after delivery leaves the first result in place; a make-up exam taken by 3 counts only
    when ``min_cohort`` allows it, its raw score scaled by its own min/max."""
    plans = plans_for(campus, n=6)
    deliver(store, plans, WEEK9)
    retake = [
        scored(p.actor_key, p.course, f"{p.course}/exam/midterm", "2024-11-01T10:00:00Z", {"scaled": 1.0})
        for p in plans
    ]
    makeup = [
        scored(
            p.actor_key,
            p.course,
            f"{p.course}/exam/makeup",
            "2024-11-02T10:00:00Z",
            {"raw": raw, "min": 20.0, "max": 70.0},
        )
        for p, raw in zip(plans[:3], (45.0, 20.0, 70.0), strict=True)
    ]
    rows = [
        statement_columns(parse_statement(x), stored=datetime(2024, 11, 2), source=x) for x in retake + makeup
    ]
    store.ingest(IngestBatch("xapi", "retakes", len(rows), statements=statements_table(rows)))
    globs = [*EXAMS, "*/exam/makeup"]
    mid = z_by_traits(campus, "midterm")
    cut = datetime(2024, 11, 5)
    strict = review_interventions(store, as_of=cut, assessments=globs, escalate=deepen_then_group)
    # the final (2024-11-09) is after the cut-off, the 3-student make-up too small: all pending
    assert {p.id for p in strict.pending} == {p.id for p in plans} and not strict.reviewed
    loose = review_interventions(
        store, as_of=cut, assessments=globs, escalate=deepen_then_group, min_cohort=3
    )
    assert {r.plan.id for r in loose.reviewed} == {p.id for p in plans[:3]}
    for review in loose.reviewed:
        key = (review.plan.actor_key, review.plan.course)
        assert review.before.z == pytest.approx(mid[key], abs=1e-9)  # the first attempt, not the retake
        assert review.before.ts == datetime(2024, 10, 25, 18, 0)
        assert review.after.object_id.endswith("/exam/makeup")
    makeup_scores = sorted(r.after.score for r in loose.reviewed)
    assert makeup_scores == pytest.approx([0.0, 0.5, 1.0])
    assert sorted(r.after.z for r in loose.reviewed) == pytest.approx([-(1.5**0.5), 0.0, 1.5**0.5])


def test_no_baseline_is_unmeasured_and_policy_may_give_up(store: DuckDBStore, campus: Campus) -> None:
    early = plans_for(campus, n=3)
    deep = [
        dataclasses.replace(
            p, id=str(deterministic_id("deep", p.id)), method=Method("group", "offline", "deep")
        )
        for p in plans_for(campus, n=40)[3:]
    ]
    deliver(store, early, datetime(2024, 9, 1))  # before the semester: nothing to compare with
    deliver(store, deep, WEEK9)
    result = review_interventions(store, assessments=EXAMS, escalate=deepen_then_group)
    assert {u.id for u in result.unmeasured} == {p.id for p in early}
    assert result.unmeasured[0].why == "no assessment before delivery"
    assert result.not_improved and not result.escalated  # the policy had nothing left to change
    status = {r["id"]: r["status"] for r in load_log(store).to_pylist()}
    assert {status[r.plan.id] for r in result.not_improved} == {"reviewed"}
    assert {status[p.id] for p in early} == {"delivered"}


def test_a_failing_policy_writes_nothing(store: DuckDBStore, campus: Campus) -> None:
    plans = plans_for(campus)
    deliver(store, plans, WEEK9)
    count = store.count_statements()
    calls = []

    def flaky(plan: PlannedIntervention, reason: str) -> PlannedIntervention | None:
        calls.append(plan.id)
        if len(calls) == 2:
            raise LearnsightError("rules file unreadable")
        return deepen_then_group(plan, reason)

    with pytest.raises(LearnsightError, match="unreadable"):
        review_interventions(store, assessments=EXAMS, escalate=flaky)

    def wrong(plan: PlannedIntervention, reason: str) -> PlannedIntervention | None:
        return dataclasses.replace(plan, reason=reason)  # same id, no attempt + 1

    with pytest.raises(
        LearnsightError, match=r"escalation of intervention .*: the new plan must have previous ="
    ):
        review_interventions(store, assessments=EXAMS, escalate=wrong)
    assert store.count_statements() == count
    assert {r["status"] for r in load_log(store).to_pylist()} == {"delivered"}


def test_before_after_and_reason() -> None:
    t = datetime(2024, 10, 2, 12, 0)
    a = AssessmentResult("x/quiz/W04", datetime(2024, 9, 29), 0.5, -0.62, 50)
    b = AssessmentResult("x/exam/final", t, 0.4, -0.70, 50)  # at the very instant: counts as before
    c = AssessmentResult("x/quiz/W06", datetime(2024, 10, 9), 0.4, -0.70, 50)
    assert before_after([a, b, c], t) == (b, c)
    assert before_after([a], t) == (a, None)
    assert before_after([c], t) == (None, c)
    assert verdict_reason(a, c, t, 0.1) == (
        "score z -0.62 on x/quiz/W04 → -0.70 on x/quiz/W06 after delivery on 2024-10-02: "
        "not improved (gain -0.08 < 0.10)"
    )
    assert verdict_reason(c, a, t, 0.05).endswith("improved (gain 0.08 >= 0.05)")


def test_bad_arguments(store: DuckDBStore) -> None:
    with pytest.raises(LearnsightError, match="min_gain"):
        review_interventions(store, min_gain=float("nan"))
    with pytest.raises(LearnsightError, match="min_cohort"):
        review_interventions(store, min_cohort=1)


def test_default_escalation_uses_the_strategy_ladder(store: DuckDBStore, campus: Campus) -> None:
    plans = plans_for(campus, n=20)
    deliver(store, plans, WEEK9)
    result = review_interventions(store, assessments=EXAMS, timestamp=REVIEWED_AT)
    assert result.not_improved
    assert len(result.escalated) == len(result.not_improved)
    for review in result.not_improved:
        new = review.escalation
        assert new is not None
        assert (new.previous, new.attempt, new.reason) == (review.plan.id, 2, review.reason)
        assert (new.actor_key, new.course) == (review.plan.actor_key, review.plan.course)
        changed = (new.strategy, new.timing, new.method) != (
            review.plan.strategy,
            review.plan.timing,
            review.plan.method,
        )
        assert changed
    assert set(load_plans(store)) >= set(result.escalated)
    new = result.escalated[0]
    assert tried_strategies(store, new) == {"learning_progress_comparison", new.strategy}


def test_default_escalation_follows_the_given_rules(store: DuckDBStore, campus: Campus) -> None:
    from learnsight.interventions.strategies import load_rules

    shipped = load_rules()
    one_try = shipped.model_copy(
        update={"escalation": shipped.escalation.model_copy(update={"max_attempts": 1})}
    )
    deliver(store, plans_for(campus, n=20), WEEK9)
    result = review_interventions(store, assessments=EXAMS, rules=one_try)
    assert result.not_improved and not result.escalated  # one attempt allowed: nothing to escalate to
