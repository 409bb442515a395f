"""Latent traits: who the students are, how hard the courses are, how effort moves week to week.

Generative model (all on the standard-normal *z* scale; parameters in :class:`CampusConfig`)
----------------------------------------------------------------------------------------------
Per student ``i`` the four traits ``(ability, diligence, regularity, sociability)`` are drawn from
a multivariate normal with unit variances and the correlations ``corr_*`` (ability–diligence 0.30,
ability–regularity 0.20, diligence–regularity 0.40, diligence–sociability 0.15,
regularity–sociability −0.10; the rest 0):

* **ability** — prior academic ability (drives prior GPA, retakes, quiz/homework/exam success);
* **diligence** — effort (attendance, videos, quizzes, homework, notes, library loans);
* **regularity** — orderliness of sleep and meals (meal-time jitter, skipped breakfasts, late dorm
  returns, early-morning network sessions, lateness to class, late-evening study);
* **sociability** — interest in others and in ideas (forum posts, replies, followers, hand raises).

Per course ``c``: difficulty ``d_c ~ N(0, difficulty_sd²)``.  Per student and course: interest
``u_ic = g · sociability_i + √(1 − g²) · ε_ic`` with ``g = interest_general_weight``.

Enrolment: student ``i`` takes course ``c`` with probability ``enrol_prob`` (at least one course).

Weekly effort (the engine of every learning behaviour) for week ``w = 0 … W−1``::

    e_icw = 0.7 · diligence_i + 0.4 · interest_ic + τ_i · (w − (W−1)/2) / W + η_icw
    τ_i   = 0.5 · diligence_i + effort_trend_sd · ε_i          (diligent students keep up)
    η_icw ~ N(0, weekly_effort_sd²)

Preferred hour of online study: ``study_hour − 1.5 · regularity_i + N(0, 1)`` (irregular students
work late at night).  Dorm building: uniform among ``n_buildings``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learnsight.simulate.config import CampusConfig
from learnsight.simulate.frame import BoolArray, FloatArray, IntArray

TRAIT_NAMES = ("ability", "diligence", "regularity", "sociability")


def trait_correlation(config: CampusConfig) -> FloatArray:
    """The 4×4 correlation matrix of the student traits (in :data:`TRAIT_NAMES` order)."""
    corr = np.eye(4)
    pairs = {
        (0, 1): config.corr_ability_diligence,
        (0, 2): config.corr_ability_regularity,
        (1, 2): config.corr_diligence_regularity,
        (1, 3): config.corr_diligence_sociability,
        (2, 3): config.corr_regularity_sociability,
    }
    for (a, b), r in pairs.items():
        corr[a, b] = corr[b, a] = r
    return corr


@dataclass(frozen=True)
class Population:
    """The ground truth every generator draws from (arrays indexed by student / course)."""

    ability: FloatArray
    diligence: FloatArray
    regularity: FloatArray
    sociability: FloatArray
    interest: FloatArray
    """(students, courses)"""
    difficulty: FloatArray
    """(courses,)"""
    enrolled: BoolArray
    """(students, courses)"""
    effort: FloatArray
    """(students, courses, weeks): weekly effort ``e_icw``."""
    study_hour: FloatArray
    building: IntArray

    @property
    def n_students(self) -> int:
        return int(self.ability.size)

    def enrolments(self) -> tuple[IntArray, IntArray]:
        """(student, course) index pairs of every enrolment, student-major."""
        s, c = np.nonzero(self.enrolled)
        return s.astype(np.int64), c.astype(np.int64)


def draw_population(config: CampusConfig, rng: np.random.Generator) -> Population:
    """Draw traits, enrolments and weekly effort (see module docstring)."""
    n, m, w = config.n_students, config.n_courses, config.n_weeks
    corr = trait_correlation(config)
    z = rng.standard_normal((n, 4)) @ np.linalg.cholesky(corr).T
    ability, diligence, regularity, sociability = (z[:, j].copy() for j in range(4))
    difficulty = rng.normal(0.0, config.difficulty_sd, m)
    g = config.interest_general_weight
    interest = g * sociability[:, None] + np.sqrt(1.0 - g * g) * rng.standard_normal((n, m))
    enrolled = rng.random((n, m)) < config.enrol_prob
    nobody = ~enrolled.any(axis=1)
    enrolled[np.flatnonzero(nobody), rng.integers(0, m, int(nobody.sum()))] = True
    trend = 0.5 * diligence + config.effort_trend_sd * rng.standard_normal(n)
    weeks = (np.arange(w) - (w - 1) / 2.0) / w
    effort = (
        0.7 * diligence[:, None, None]
        + 0.4 * interest[:, :, None]
        + trend[:, None, None] * weeks[None, None, :]
        + rng.normal(0.0, config.weekly_effort_sd, (n, m, w))
    )
    study_hour = config.study_hour - 1.5 * regularity + rng.standard_normal(n)
    building = rng.integers(0, config.n_buildings, n).astype(np.int64)
    return Population(
        ability=ability,
        diligence=diligence,
        regularity=regularity,
        sociability=sociability,
        interest=interest,
        difficulty=difficulty,
        enrolled=enrolled,
        effort=effort,
        study_hour=study_hour,
        building=building,
    )


def study_times(
    rng: np.random.Generator, hours: FloatArray, day_start: IntArray, max_days: IntArray
) -> IntArray:
    """Unix seconds of online-study events: a day in ``[day_start, day_start + max_days)`` (day
    starts as Unix seconds) at the student's preferred ``hours`` ± N(0, 2²) hours."""
    day = rng.integers(0, np.maximum(max_days, 1), dtype=np.int64)
    hour = np.mod(hours + rng.normal(0.0, 2.0, hours.size), 24.0)
    return np.asarray(day_start + day * 86_400 + (hour * 3600.0).astype(np.int64), dtype=np.int64)
