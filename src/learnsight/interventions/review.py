"""The feedback loop (SPEC §4): measure each delivered intervention after the next assessment, escalate.

"Feedback: measure the effect; when a student does not improve, change strategy, timing or method."
:func:`review_interventions` takes every intervention of the log (:mod:`~learnsight.interventions.log`)
that was delivered and not yet reviewed, and compares the student's assessment results in that
course just before and just after the delivery.

Assessment results
    Statements with a score on an object of type :data:`ASSESSMENT_TYPES` (assessment, homework, or
    the course itself — the simulator's final grade is a SCORED of the course), not voided, not a
    voiding statement, and not written by learnsight (``source`` not in
    :data:`~learnsight.xapi.vocab.DERIVED_SOURCES`: a prediction's probability is no score).  The
    score is ``score_scaled``, else ``(score_raw − score_min) / (score_max − score_min)``.  This
    covers the synthetic campus (weekly quizzes and homework, mid-term, final), OULAD (SUBMITTED
    assessments, ``score_scaled`` = score / 100) and the UCI grades (SCORED periods G1–G3).
    ``assessments`` (object-IRI globs, e.g. ``["*/exam/*"]``) narrows the set.  A student's result on
    one assessment is their **first** attempt (earliest timestamp; the higher score on a tie): a later
    retake must not move a pre-delivery result past the delivery.  With ``as_of`` only results dated
    before the cut-off exist — for everyone, so the cohorts too are those known at the cut-off.

Before and after
    *before* = the last assessment dated at or before the delivery, *after* = the first one dated
    after it (an assessment at the very instant of delivery could not have been influenced by it).
    No assessment after the delivery yet → **pending** (nothing written, reviewed again next time);
    none before it → **unmeasured** (no baseline; nothing written).

Why z-scores
    Assessments differ in difficulty (a 4-question quiz, a mid-term, a final), so raw scores before
    and after are not comparable.  The student's z-score within the course cohort on each assessment,
    ``z = (score − mean) / sd`` over everyone scored on that assessment
    (:func:`learnsight.indicators.formulas.cohort.z_scores`, population SD), is their place among
    their classmates; the gain ``Δz = z_after − z_before`` says whether they moved up.  An
    assessment with fewer than ``min_cohort`` results, or no spread, has no z-score and is passed
    over.  Raw (scaled) scores are reported beside the z-scores.

Why ``min_gain = 0.1``
    **Improved ⇔ Δz ≥ min_gain.**  A student who merely keeps their place has Δz ≈ 0; requiring a
    tenth of a cohort SD asks that they moved up, not only that they did not slip, while staying at
    half of Cohen's "small" effect (0.2 SD) so that a real but modest improvement is not escalated.
    The bar is deliberately low because the verdict only decides whether to *change the plan* for one
    student — a cheap decision — and one student's Δz between two assessments is noisy (its SD is
    ``√(2(1 − r))`` for assessments correlating ``r``, about 0.9 for r = 0.6; measured on the
    synthetic campus of seed 5: 0.82 between consecutive weekly assessments, 0.57 from mid-term to
    final) and is pulled up by regression to the mean when students were chosen for low results.
    It is not an estimate of a strategy's effect: that needs a comparison group
    (:func:`learnsight.interventions.experiments.compare_groups`).

Escalation
    Not improved → ``escalate(plan, reason)`` gives the changed plan (default: the ladder of
    :func:`learnsight.interventions.strategies.escalate` with the shipped rules, strategies already
    tried in the chain excluded), or ``None`` when nothing is left to try.  The reason names the
    measurement, e.g. ``score z -0.62 on …/quiz/W04 → -0.70 on …/exam/final after delivery on
    2024-10-25: not improved (gain -0.08 < 0.10)``.  The *reviewed* statements, and for each
    escalation the *escalated* statement and the new plan's *planned* statement, are written in ONE
    batch; reviewing again adds nothing (a reviewed plan is never reviewed again, ids are deterministic).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.indicators.formulas.cohort import z_scores
from learnsight.interventions.log import (
    check_plan,
    escalation_statement,
    load_log,
    load_plans,
    plan_statement,
    review_statement,
    utc_naive,
    write_log,
)
from learnsight.interventions.types import PlannedIntervention
from learnsight.store.base import IngestReport, Store
from learnsight.xapi import vocab

if TYPE_CHECKING:
    from learnsight.interventions.strategies import StrategyRules

Escalator = Callable[[PlannedIntervention, str], PlannedIntervention | None]
"""``escalate(plan, reason)``: the changed plan after ``plan`` did not help, or ``None``."""

ASSESSMENT_TYPES: Final[tuple[str, ...]] = (vocab.ASSESSMENT, vocab.HOMEWORK, vocab.COURSE)
"""Activity types whose scored statements are assessment results (module docstring)."""
DEFAULT_MIN_GAIN: Final = 0.1
DEFAULT_MIN_COHORT: Final = 5


@dataclass(frozen=True)
class AssessmentResult:
    """One student's first result on one assessment, placed in the assessment's cohort."""

    object_id: str
    ts: datetime
    score: float
    """Scaled to [0, 1]."""
    z: float
    """z-score within everyone scored on this assessment (population SD)."""
    cohort: int
    """How many students were scored on it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": self.object_id,
            "ts": self.ts.isoformat(sep=" "),
            "score": self.score,
            "z": self.z,
            "cohort": self.cohort,
        }


@dataclass(frozen=True)
class Review:
    """The verdict on one delivered intervention (and the plan that replaces it, if any)."""

    plan: PlannedIntervention
    delivered_at: datetime
    before: AssessmentResult
    after: AssessmentResult
    min_gain: float
    reason: str
    escalation: PlannedIntervention | None = None

    @property
    def gain(self) -> float:
        """``z_after − z_before``."""
        return self.after.z - self.before.z

    @property
    def improved(self) -> bool:
        return self.gain >= self.min_gain

    def measures(self) -> dict[str, Any]:
        """The result extension of the *reviewed* statement."""
        return {
            "delivered_at": self.delivered_at.isoformat(sep=" "),
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "gain": self.gain,
            "score_change": self.after.score - self.before.score,
            "min_gain": self.min_gain,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.plan.id,
            "actor_key": self.plan.actor_key,
            "course": self.plan.course,
            "strategy": self.plan.strategy,
            "attempt": self.plan.attempt,
            "outcome": "improved" if self.improved else "not improved",
            "reason": self.reason,
            **self.measures(),
            "next": self.escalation.to_dict() if self.escalation is not None else None,
        }


@dataclass(frozen=True)
class Unreviewed:
    """A delivered intervention that cannot be judged yet (pending) or at all (unmeasured)."""

    id: str
    actor_key: str
    course: str
    delivered_at: datetime
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor_key": self.actor_key,
            "course": self.course,
            "delivered_at": self.delivered_at.isoformat(sep=" "),
            "why": self.why,
        }


@dataclass(frozen=True)
class ReviewResult:
    """What :func:`review_interventions` did."""

    reviewed: tuple[Review, ...] = ()
    pending: tuple[Unreviewed, ...] = ()
    """No assessment after the delivery yet: reviewed again next time."""
    unmeasured: tuple[Unreviewed, ...] = ()
    """No assessment before the delivery (no baseline): nothing to compare."""
    report: IngestReport | None = None
    """The batch written (``None`` when there was nothing to write)."""
    as_of: str = "all"
    min_gain: float = DEFAULT_MIN_GAIN

    @property
    def improved(self) -> tuple[Review, ...]:
        return tuple(r for r in self.reviewed if r.improved)

    @property
    def not_improved(self) -> tuple[Review, ...]:
        return tuple(r for r in self.reviewed if not r.improved)

    @property
    def escalated(self) -> tuple[PlannedIntervention, ...]:
        """The new plans (one per not-improved review the escalation policy could change)."""
        return tuple(r.escalation for r in self.reviewed if r.escalation is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "min_gain": self.min_gain,
            "counts": {
                "reviewed": len(self.reviewed),
                "improved": len(self.improved),
                "not_improved": len(self.not_improved),
                "escalated": len(self.escalated),
                "pending": len(self.pending),
                "unmeasured": len(self.unmeasured),
            },
            "reviewed": [r.to_dict() for r in self.reviewed],
            "pending": [p.to_dict() for p in self.pending],
            "unmeasured": [u.to_dict() for u in self.unmeasured],
            "written": self.report.to_dict() if self.report is not None else None,
        }


# -- assessment results -----------------------------------------------------------------------------

_RESULTS_SQL: Final = """
WITH cut AS (SELECT course, {cutoff} AS cutoff FROM courses),
scored AS (
    SELECT s.actor_key, s.course, s.object_id, s.ts,
           coalesce(s.score_scaled,
                    CASE WHEN s.score_max > s.score_min
                         THEN (s.score_raw - s.score_min) / (s.score_max - s.score_min) END) AS score
    FROM statements s LEFT JOIN cut c ON c.course = s.course
    WHERE s.course IN (SELECT unnest($courses))
      AND NOT s.voided AND s.verb_id <> $voided
      AND s.source NOT IN (SELECT unnest($derived))
      AND s.activity_type IN (SELECT unnest($types)) {where})
SELECT course, object_id, actor_key, min(ts) AS ts, first(score ORDER BY ts, score DESC) AS score
FROM scored WHERE score IS NOT NULL
GROUP BY course, object_id, actor_key
ORDER BY course, object_id, actor_key
"""


def assessment_results(
    store: Store,
    courses: Sequence[str],
    *,
    as_of: AsOf | None = None,
    assessments: Sequence[str] | None = None,
    min_cohort: int = DEFAULT_MIN_COHORT,
) -> dict[tuple[str, str], list[AssessmentResult]]:
    """Every student's first results in ``courses``, by (actor key, course), in time order.

    Each result carries its z-score within everyone scored on the same assessment (module docstring);
    assessments with fewer than ``min_cohort`` results or no spread are left out.
    """
    con = getattr(store, "con", None)
    if con is None:
        raise LearnsightError(f"{type(store).__name__}: reviewing interventions needs a SQL store (DuckDB)")
    as_of = as_of or AsOf()
    where = ""
    params: dict[str, Any] = {
        "courses": list(courses),
        "voided": vocab.VOIDED,
        "derived": list(vocab.DERIVED_SOURCES),
        "types": list(ASSESSMENT_TYPES),
    }
    if as_of.week is not None:  # a course without a calendar has no week cut-off: nothing is visible
        where += " AND c.cutoff IS NOT NULL AND s.ts < c.cutoff"
    elif as_of.date is not None:
        where += " AND s.ts < $cutoff"
        params["cutoff"] = as_of.date
    if assessments:
        where += " AND (" + " OR ".join(f"s.object_id GLOB $glob{i}" for i in range(len(assessments))) + ")"
        params.update({f"glob{i}": g for i, g in enumerate(assessments)})
    table = con.sql(_RESULTS_SQL.format(cutoff=as_of.course_cutoff_sql(), where=where), params=params)
    rows = table.fetchall()
    by_assessment: dict[tuple[str, str], list[tuple[str, datetime, float]]] = defaultdict(list)
    for course, object_id, actor, ts, score in rows:
        by_assessment[course, object_id].append((actor, ts, float(score)))
    out: dict[tuple[str, str], list[AssessmentResult]] = defaultdict(list)
    for (course, object_id), members in by_assessment.items():
        if len(members) < min_cohort:
            continue
        z = z_scores(np.array([m[2] for m in members]))
        for (actor, ts, score), zi in zip(members, z.tolist(), strict=True):
            if math.isfinite(zi):
                out[actor, course].append(AssessmentResult(object_id, ts, score, zi, len(members)))
    for results in out.values():
        results.sort(key=lambda r: (r.ts, r.object_id))
    return dict(out)


def before_after(
    results: Sequence[AssessmentResult], delivered_at: datetime
) -> tuple[AssessmentResult | None, AssessmentResult | None]:
    """The last result dated at or before ``delivered_at`` and the first dated after it."""
    before = [r for r in results if r.ts <= delivered_at]
    after = [r for r in results if r.ts > delivered_at]
    return (before[-1] if before else None, after[0] if after else None)


def verdict_reason(
    before: AssessmentResult, after: AssessmentResult, delivered_at: datetime, min_gain: float
) -> str:
    """The sentence a review records, e.g. ``score z -0.62 on … → -0.70 on … after delivery on …``."""
    gain = after.z - before.z
    verdict = (
        f"improved (gain {gain:.2f} >= {min_gain:.2f})"
        if gain >= min_gain
        else f"not improved (gain {gain:.2f} < {min_gain:.2f})"
    )
    return (
        f"score z {before.z:.2f} on {before.object_id} → {after.z:.2f} on {after.object_id} "
        f"after delivery on {delivered_at:%Y-%m-%d}: {verdict}"
    )


# -- the review -------------------------------------------------------------------------------------


def tried_strategies(store: Store, plan: PlannedIntervention) -> frozenset[str]:
    """Strategies already tried in ``plan``'s chain (every plan sharing its registration), its own included.

    For an escalation policy of one's own, e.g. with today's data:
    ``lambda p, why: data.escalate(p, rules, why, tried=tried_strategies(store, p))``
    (:meth:`learnsight.interventions.plan.PlanningData.escalate`).
    """
    log = load_log(store, actor_key=plan.actor_key, course=plan.course).to_pylist()
    chain = next((r["registration"] for r in log if r["id"] == plan.id), plan.id)
    return frozenset({plan.strategy, *(r["strategy"] for r in log if r["registration"] == chain)})


def default_escalator(
    tried: dict[str, set[str]], registration: dict[str, str], rules: StrategyRules | None = None
) -> Escalator:
    """:func:`learnsight.interventions.strategies.escalate` with ``rules`` (default: the shipped file).

    ``tried``: strategies already tried per chain (registration); ``registration``: plan id → chain.
    """
    from learnsight.interventions import strategies  # imported only when an escalation needs it

    chosen = rules if rules is not None else strategies.load_rules()

    def escalate(plan: PlannedIntervention, reason: str) -> PlannedIntervention | None:
        chain = tried.get(registration.get(plan.id, plan.id), set())
        return strategies.escalate(plan, chosen, reason, tried=chain)

    return escalate


def review_interventions(
    store: Store,
    *,
    as_of: AsOf | datetime | None = None,
    min_gain: float = DEFAULT_MIN_GAIN,
    escalate: Escalator | None = None,
    rules: StrategyRules | None = None,
    timestamp: datetime | None = None,
    assessments: Sequence[str] | None = None,
    min_cohort: int = DEFAULT_MIN_COHORT,
) -> ReviewResult:
    """Review every delivered, not yet reviewed intervention (module docstring) and write the verdicts.

    Parameters
    ----------
    as_of:
        Only assessment results dated before this cut-off count (a date, or a course week).
    min_gain:
        Improved ⇔ the z-score gain is at least this (module docstring: why 0.1).
    escalate:
        ``escalate(plan, reason)`` for a student who did not improve; default: the escalation
        ladder of ``rules`` (:func:`~learnsight.interventions.strategies.escalate`).
    rules:
        The strategy rules of the default escalation (default: the shipped file); ignored when
        ``escalate`` is given.
    timestamp:
        Time of the written statements (default now).
    assessments:
        Object-IRI globs of the assessments that count (default all).
    min_cohort:
        Fewest results an assessment needs to give z-scores.
    """
    if not math.isfinite(min_gain):
        raise LearnsightError(f"review: min_gain must be a finite number, got {min_gain}")
    if min_cohort < 2:
        raise LearnsightError(f"review: min_cohort must be at least 2, got {min_cohort}")
    cut = as_of if isinstance(as_of, AsOf) else AsOf(date=utc_naive(as_of)) if as_of is not None else AsOf()
    when = timestamp or datetime.now(UTC)
    log = load_log(store).to_pylist()
    registration = {r["id"]: r["registration"] for r in log}
    tried: dict[str, set[str]] = defaultdict(set)
    for r in log:
        tried[r["registration"]].add(r["strategy"])
    todo = [r for r in log if r["status"] == "delivered"]
    if not todo:
        return ReviewResult(as_of=cut.label(), min_gain=min_gain)
    plans = {p.id: p for p in load_plans(store, ids=[r["id"] for r in todo])}
    results = assessment_results(
        store,
        sorted({r["course"] for r in todo}),
        as_of=cut,
        assessments=assessments,
        min_cohort=min_cohort,
    )
    policy = escalate or default_escalator(tried, registration, rules)
    reviewed: list[Review] = []
    pending: list[Unreviewed] = []
    unmeasured: list[Unreviewed] = []
    statements: list[dict[str, Any]] = []
    for row in todo:
        plan = plans[row["id"]]
        delivered: datetime = row["delivered_at"]
        before, after = before_after(results.get((plan.actor_key, plan.course), []), delivered)
        if after is None:
            pending.append(
                Unreviewed(
                    plan.id, plan.actor_key, plan.course, delivered, "no assessment after delivery yet"
                )
            )
            continue
        if before is None:
            unmeasured.append(
                Unreviewed(plan.id, plan.actor_key, plan.course, delivered, "no assessment before delivery")
            )
            continue
        reason = verdict_reason(before, after, delivered, min_gain)
        review = Review(plan, delivered, before, after, min_gain, reason)
        chain = row["registration"]
        if not review.improved:
            new = policy(plan, reason)
            if new is not None:
                _check_escalation(plan, new)
                review = Review(plan, delivered, before, after, min_gain, reason, escalation=new)
        statements.append(
            review_statement(
                plan,
                registration=chain,
                improved=review.improved,
                reason=reason,
                measures=review.measures(),
                timestamp=when,
            )
        )
        if review.escalation is not None:
            statements.append(
                escalation_statement(plan, review.escalation, registration=chain, timestamp=when)
            )
            statements.append(plan_statement(review.escalation, registration=chain, timestamp=when))
        reviewed.append(review)
    report = write_log(store, statements, source=f"review(as_of={cut.label()})") if statements else None
    return ReviewResult(
        reviewed=tuple(reviewed),
        pending=tuple(pending),
        unmeasured=tuple(unmeasured),
        report=report,
        as_of=cut.label(),
        min_gain=min_gain,
    )


def _check_escalation(plan: PlannedIntervention, new: PlannedIntervention) -> None:
    where = f"escalation of intervention {plan.id}"
    check_plan(new)
    if new.previous != plan.id or new.attempt != plan.attempt + 1:
        raise LearnsightError(
            f"{where}: the new plan must have previous = {plan.id} and attempt {plan.attempt + 1}, "
            f"got {new.previous!r} and {new.attempt}"
        )
    if (new.actor_key, new.course) != (plan.actor_key, plan.course):
        raise LearnsightError(f"{where}: the new plan is for another student or course")
    if new.id == plan.id:
        raise LearnsightError(f"{where}: the new plan reuses the old id")
    if not new.reason:
        raise LearnsightError(f"{where}: the new plan records no reason")


__all__ = [
    "ASSESSMENT_TYPES",
    "DEFAULT_MIN_COHORT",
    "DEFAULT_MIN_GAIN",
    "AssessmentResult",
    "Escalator",
    "Review",
    "ReviewResult",
    "Unreviewed",
    "assessment_results",
    "before_after",
    "default_escalator",
    "review_interventions",
    "tried_strategies",
    "verdict_reason",
]
