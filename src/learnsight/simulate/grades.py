"""Registry records (source ``registry``): enrolments, mid-term and final scores, learner profiles.

Final score of student ``i`` in course ``c`` (0–100)::

    η_ic  = 0.45 · ability_i + 0.35 · ē_ic + 0.25 · regularity_i + 0.10 · interest_ic − 0.40 · d_c
    z_ic  = (η_ic − mean η) / sd η                       (over all enrolments)
    final = clip(score_mean + score_sd · (√R² · z_ic + √(1 − R²) · ε_ic), 0, 100)   rounded to 0.5

with ``ē_ic`` the student's mean weekly effort in the course (which carries diligence, interest and
the semester drift, see :mod:`~learnsight.simulate.traits`), ``ε_ic ~ N(0, 1)`` and
``R² = score_r2`` (0.6): the true linear predictor explains about 60 % of the variance (a little
less after clipping), so the signal is real but far from trivial.  The mid-term (week
``midterm_week``) uses the same formula with the effort of the weeks up to the mid-term and the noise
``0.5 ε_ic + √0.75 ε'_ic`` (partly the same luck as the final).

Treatments (:mod:`~learnsight.simulate.treatment`): when some enrolments' effort was raised, the
mean and sd of ``z_ic`` are those of the **untreated** population's ``η`` (``reference``), and the
noise draws are the same, so an untreated enrolment's scores are exactly those of the untreated
campus and a treated one's gain is analytic (:func:`~learnsight.simulate.treatment.expected_gain`).

Outcome classes (SPEC §3): **excellent** when final ≥ ``excellent_from`` (85), **at-risk** when
final < ``at_risk_below`` (60), otherwise **normal**; the class is also the result extension
``EXT_OUTCOME`` of the final SCORED statement.

Statements: **REGISTERED** in each course on the first day (object = the course); the mid-term as
**SCORED** of ``…/course/C01/exam/midterm`` (activity type assessment) on the Friday of its week at
18:00; the final as **SCORED** of the course itself (activity type course) on the last Saturday of
the semester at 18:00.  Both carry ``score_raw``/``min`` 0/``max`` 100/``scaled``, ``success``
(≥ 60), ``completion`` and the ``EXT_ASSESSMENT_KIND`` result extension (``midterm``/``final``).

Profiles (one per student, source ``registry``): prior GPA ``clip(2.9 + 0.45 (0.8 ability +
0.6 N(0, 1)), 0, 4)``, retaken courses ``Poisson(exp(−1.2 − 0.9 ability))``, make-up exams
``Poisson(exp(−1.5 − 0.8 ability))``, gender and major (uniform, no effect on anything), dorm
building.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa

from learnsight.simulate.config import CampusConfig
from learnsight.simulate.frame import DAY, HOUR, Events, FloatArray, IntArray, ext_json
from learnsight.simulate.timetable import (
    actor_keys,
    course_ids,
    course_iri,
    epoch_seconds,
    student_ids,
)
from learnsight.simulate.traits import Population
from learnsight.xapi import vocab as v

WEIGHTS: Final = {
    "ability": 0.45,
    "effort": 0.35,
    "regularity": 0.25,
    "interest": 0.10,
    "difficulty": -0.40,
}
"""Coefficients of the true linear predictor ``η`` (see module docstring)."""
OUTCOMES: Final = ("at-risk", "normal", "excellent")
MAJORS: Final = (
    "Computer science",
    "Mathematics",
    "Economics",
    "Physics",
    "Literature",
    "Education",
)
GENDERS: Final = ("female", "male")


@dataclass(frozen=True)
class Scores:
    """Per enrolment (student-major order, as :meth:`Population.enrolments`)."""

    student: IntArray
    course: IntArray
    eta: FloatArray
    """The true linear predictor, standardised (``z_ic``)."""
    midterm: FloatArray
    final: FloatArray
    outcome: IntArray
    """Index into :data:`OUTCOMES`."""
    eta_sd: float
    """Standard deviation of the raw (unstandardised) final ``η`` of the untreated population."""


def _standardise(x: FloatArray, reference: FloatArray) -> FloatArray:
    """``(x − mean) / sd`` with the mean and sd of ``reference`` (``x`` itself when untreated)."""
    sd = float(reference.std())
    return np.asarray((x - reference.mean()) / (sd if sd > 0 else 1.0), dtype=np.float64)


def raw_eta(pop: Population, effort: FloatArray) -> FloatArray:
    """The unstandardised true predictor ``η_ic`` of every enrolment, given its mean effort."""
    s, c = pop.enrolments()
    return np.asarray(
        WEIGHTS["ability"] * pop.ability[s]
        + WEIGHTS["effort"] * effort
        + WEIGHTS["regularity"] * pop.regularity[s]
        + WEIGHTS["interest"] * pop.interest[s, c]
        + WEIGHTS["difficulty"] * pop.difficulty[c],
        dtype=np.float64,
    )


def _score(config: CampusConfig, z: FloatArray, noise: FloatArray) -> FloatArray:
    r2 = config.score_r2
    raw = config.score_mean + config.score_sd * (np.sqrt(r2) * z + np.sqrt(1 - r2) * noise)
    return np.asarray(np.clip(np.round(raw * 2) / 2, 0.0, 100.0), dtype=np.float64)


def outcome_class(config: CampusConfig, final: FloatArray) -> IntArray:
    """0 = at-risk (< at_risk_below), 1 = normal, 2 = excellent (≥ excellent_from)."""
    return np.where(final >= config.excellent_from, 2, np.where(final < config.at_risk_below, 0, 1)).astype(
        np.int64
    )


def draw_scores(
    config: CampusConfig,
    pop: Population,
    rng: np.random.Generator,
    *,
    reference: Population | None = None,
) -> Scores:
    """Mid-term and final scores (see module docstring); ``reference`` = the untreated population
    (same students, enrolments and traits) whose ``η`` fixes the standardisation."""
    s, c = pop.enrolments()
    mid = config.midterm_week_index + 1
    ref = pop if reference is None else reference
    if not np.array_equal(ref.enrolled, pop.enrolled):
        raise ValueError("the reference population must have the same enrolments")

    def eta(weeks: slice) -> FloatArray:
        raw = raw_eta(pop, pop.effort[s, c, weeks].mean(axis=1))
        base = raw if reference is None else raw_eta(ref, ref.effort[s, c, weeks].mean(axis=1))
        return _standardise(raw, base)

    eps = rng.standard_normal(s.size)
    eps_mid = 0.5 * eps + np.sqrt(0.75) * rng.standard_normal(s.size)
    z_final = eta(slice(None))
    z_mid = eta(slice(None, mid))
    final = _score(config, z_final, eps)
    return Scores(
        student=s,
        course=c,
        eta=z_final,
        midterm=_score(config, z_mid, eps_mid),
        final=final,
        outcome=outcome_class(config, final),
        eta_sd=float(raw_eta(ref, ref.effort[s, c, :].mean(axis=1)).std()),
    )


def registry_events(config: CampusConfig, scores: Scores) -> list[Events]:
    """REGISTERED, mid-term SCORED and final SCORED statements (see module docstring)."""
    m = config.n_courses
    start = epoch_seconds(config.start)
    courses = [course_iri(c) for c in course_ids(m)]
    n = scores.student.size
    mid_ts = start + (config.midterm_week_index * 7 + 4) * DAY + 18 * HOUR
    final_ts = start + (config.n_days - 2) * DAY + 18 * HOUR
    final_ext = [ext_json(result={v.EXT_ASSESSMENT_KIND: "final", v.EXT_OUTCOME: name}) for name in OUTCOMES]
    return [
        Events(
            source=v.SOURCE_REGISTRY,
            verb=v.REGISTERED,
            student=scores.student,
            course=scores.course,
            ts=np.full(n, start + 8 * HOUR, dtype=np.int64),
            objects=courses,
            object_idx=scores.course,
            activity_types=v.COURSE,
        ),
        Events(
            source=v.SOURCE_REGISTRY,
            verb=v.SCORED,
            student=scores.student,
            course=scores.course,
            ts=np.full(n, mid_ts, dtype=np.int64),
            objects=[f"{iri}/exam/midterm" for iri in courses],
            object_idx=scores.course,
            activity_types=v.ASSESSMENT,
            score_raw=scores.midterm,
            score_min=0.0,
            score_max=100.0,
            success=scores.midterm >= config.at_risk_below,
            completion=True,
            extensions=[ext_json(result={v.EXT_ASSESSMENT_KIND: "midterm"})],
            extension_idx=np.zeros(n, dtype=np.int64),
        ),
        Events(
            source=v.SOURCE_REGISTRY,
            verb=v.SCORED,
            student=scores.student,
            course=scores.course,
            ts=np.full(n, final_ts, dtype=np.int64),
            objects=courses,
            object_idx=scores.course,
            activity_types=v.COURSE,
            score_raw=scores.final,
            score_min=0.0,
            score_max=100.0,
            success=scores.final >= config.at_risk_below,
            completion=True,
            extensions=final_ext,
            extension_idx=scores.outcome,
        ),
    ]


@dataclass(frozen=True)
class Background:
    """Static per-student facts (the profile)."""

    prior_gpa: FloatArray
    retakes: IntArray
    make_up_exams: IntArray
    gender: IntArray
    major: IntArray


def draw_background(pop: Population, rng: np.random.Generator) -> Background:
    n = pop.n_students
    gpa = 2.9 + 0.45 * (0.8 * pop.ability + 0.6 * rng.standard_normal(n))
    return Background(
        prior_gpa=np.clip(np.round(gpa, 2), 0.0, 4.0),
        retakes=rng.poisson(np.exp(-1.2 - 0.9 * pop.ability)).astype(np.int64),
        make_up_exams=rng.poisson(np.exp(-1.5 - 0.8 * pop.ability)).astype(np.int64),
        gender=rng.integers(0, len(GENDERS), n).astype(np.int64),
        major=rng.integers(0, len(MAJORS), n).astype(np.int64),
    )


def profile_table(pop: Population, bg: Background) -> pa.Table:
    """Profile rows (``PROFILE_COLUMNS``), one per student, not course-specific."""
    n = pop.n_students
    ids = student_ids(n)
    attributes = [
        json.dumps(
            {
                "student_id": ids[i],
                "gender": GENDERS[bg.gender[i]],
                "major": MAJORS[bg.major[i]],
                "dorm_building": f"B{pop.building[i] + 1}",
                "make_up_exams": int(bg.make_up_exams[i]),
            },
            separators=(",", ":"),
        )
        for i in range(n)
    ]
    return pa.table(
        {
            "actor_key": actor_keys(n),
            "course": pa.array([""] * n, type=pa.string()),
            "source": pa.array([v.SOURCE_REGISTRY] * n, type=pa.string()),
            "display_name": pa.array(ids, type=pa.string()),
            "prior_gpa": pa.array(bg.prior_gpa, type=pa.float64()),
            "retakes": pa.array(bg.retakes, type=pa.int32()),
            "attributes": pa.array(attributes, type=pa.string()),
        }
    )
