"""Interventions in the synthetic campus: a planted, known effect on chosen enrolments (SPEC §4).

A :class:`Treatment` of enrolment (student ``i``, course ``c``) delivered from week ``w₀`` with true
effect ``δ`` raises the weekly effort of :mod:`~learnsight.simulate.traits` for the remaining weeks::

    e'_icw = e_icw + δ · [w ≥ w₀]          (w, w₀ 0-based; w₀ = N is the cut-off AsOf(week=N))

so the student's *behaviour* changes (attendance, videos, quizzes, homework, forum: every generator
that reads ``e_icw``), not only the grade.  The scores of :mod:`~learnsight.simulate.grades` are
standardised with the mean and sd of the **untreated** population's ``η`` and use the same noise
draws, so an untreated enrolment's mid-term and final are exactly those of the untreated campus and
a treated one gains, before rounding to 0.5 and clipping to 0–100::

    gain = score_sd · √R² · 0.35 · δ · (W − w₀) / W / sd(η_raw)        (:func:`expected_gain`)

with ``0.35`` the effort weight of ``η``, ``W`` the semester's weeks and ``sd(η_raw)`` the sd of the
untreated raw final ``η`` (:attr:`Campus.eta_sd <learnsight.simulate.campus.Campus>`).  The
mid-term moves too when ``w₀`` lies before it (same formula over the weeks up to the mid-term).

Why the closed loop simulates twice
    Behaviour is drawn from random streams consumed event by event, so raising some students' effort
    changes which draws *other* students' events get.  The closed loop
    (:mod:`learnsight.interventions.loop`) therefore stores the untreated campus's statements dated
    before the decision cut-off (phase 1: what the institution had seen when it decided) and the
    treated campus's statements dated from the cut-off on (phase 2).  Both phases share the latent
    traits, the enrolments, the timetable and the effort path before ``w₀``, so before the cut-off
    the treated and the untreated process have the same law (the treatment has not started), and
    from the cut-off phase 2 *is* the treated process given that latent state.  The generators draw
    the events of week ``w`` from the latent state of week ``w`` and fresh noise, so the joined
    record is a draw from the treated semester, up to a few seams where an event on one side of the
    cut-off depends on a week on the other side and so comes from the other phase's draw: a slide
    preview on the eve of a post-cut-off session, a video released before the cut-off but watched
    after it, homework due before it but submitted late, and a reply or follow after the cut-off to a
    thread opened before it.  Campus life (canteen, dorm, network, library) does not read effort and
    is identical in both phases; the registry scores carry no seam at all, being functions of the
    latent state and the shared noise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.simulate.config import CampusConfig
from learnsight.simulate.frame import FloatArray, IntArray
from learnsight.simulate.grades import WEIGHTS
from learnsight.simulate.timetable import actor_keys, course_ids, course_iri
from learnsight.simulate.traits import Population

TREATMENT_SCHEMA = pa.schema(
    [
        ("actor_key", pa.string()),
        ("course", pa.string()),
        ("from_week", pa.int64()),
        ("effect", pa.float64()),
        ("expected_gain", pa.float64()),
    ]
)
"""Columns of :attr:`Campus.treatments <learnsight.simulate.campus.Campus>`: one row per treated
enrolment, with the analytic gain of its final score (:func:`expected_gain`)."""


@dataclass(frozen=True)
class Treatment:
    """An intervention on one enrolment with a known true effect (see module docstring).

    ``student`` is a student index (0-based) or an actor key; ``course`` a course index, a course
    IRI or a course id (``C01``); ``from_week`` the 0-based week the effort rises from (the weeks of
    and after the cut-off ``AsOf(week=from_week)``); ``effect`` the rise ``δ`` of weekly effort on
    the z scale (negative for a harmful one).
    """

    student: int | str
    course: int | str
    from_week: int
    effect: float


@dataclass(frozen=True)
class ResolvedTreatments:
    """Treatments as index arrays (one entry per treated enrolment)."""

    student: IntArray
    course: IntArray
    from_week: IntArray
    effect: FloatArray

    @property
    def size(self) -> int:
        return int(self.student.size)


def _index(value: int | str, names: dict[str, int], n: int, what: str, where: str) -> int:
    if isinstance(value, bool):
        raise LearnsightError(f"{where}: {what} must be an index or a name, got {value!r}")
    if isinstance(value, int | np.integer):
        if not 0 <= int(value) < n:
            raise LearnsightError(f"{where}: {what} index {value} is outside 0…{n - 1}")
        return int(value)
    if value not in names:
        raise LearnsightError(f"{where}: unknown {what} {value!r}")
    return names[value]


def resolve_treatments(
    config: CampusConfig, pop: Population, treatments: Sequence[Treatment]
) -> ResolvedTreatments:
    """Check ``treatments`` against the campus and turn names into indices.

    Raises :class:`~learnsight.errors.LearnsightError` naming the treatment (its position) for an
    unknown student or course, a student not enrolled in the course, a week outside the semester, a
    non-finite effect or an enrolment treated twice.
    """
    students = {str(k): i for i, k in enumerate(actor_keys(config.n_students).to_pylist())}
    cids = course_ids(config.n_courses)
    courses = {cid: j for j, cid in enumerate(cids)} | {course_iri(cid): j for j, cid in enumerate(cids)}
    rows: list[tuple[int, int, int, float]] = []
    seen: dict[tuple[int, int], int] = {}
    for k, t in enumerate(treatments):
        where = f"treatment {k}"
        i = _index(t.student, students, config.n_students, "student", where)
        c = _index(t.course, courses, config.n_courses, "course", where)
        if not pop.enrolled[i, c]:
            raise LearnsightError(f"{where}: student {t.student!r} is not enrolled in course {t.course!r}")
        if not 0 <= t.from_week < config.n_weeks:
            raise LearnsightError(
                f"{where}: from_week {t.from_week} is outside the semester's 0…{config.n_weeks - 1}"
            )
        if not math.isfinite(t.effect):
            raise LearnsightError(f"{where}: effect must be finite, got {t.effect!r}")
        if (i, c) in seen:
            raise LearnsightError(
                f"{where}: enrolment ({t.student!r}, {t.course!r}) is already treated by "
                f"treatment {seen[i, c]}"
            )
        seen[i, c] = k
        rows.append((i, c, int(t.from_week), float(t.effect)))
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return ResolvedTreatments(
        student=arr[:, 0].astype(np.int64),
        course=arr[:, 1].astype(np.int64),
        from_week=arr[:, 2].astype(np.int64),
        effect=arr[:, 3].copy(),
    )


def treated_population(pop: Population, treatments: ResolvedTreatments) -> Population:
    """``pop`` with the treated enrolments' weekly effort raised by ``δ`` from ``w₀`` on."""
    effort = pop.effort.copy()
    weeks = np.arange(effort.shape[2])
    for i, c, w0, delta in zip(
        treatments.student.tolist(),
        treatments.course.tolist(),
        treatments.from_week.tolist(),
        treatments.effect.tolist(),
        strict=True,
    ):
        effort[i, c, weeks >= w0] += delta
    return dataclasses.replace(pop, effort=effort)


def expected_gain(config: CampusConfig, *, effect: float, from_week: int, eta_sd: float) -> float:
    """The analytic gain of a treated student's final score before rounding and clipping.

    ``score_sd · √R² · 0.35 · δ · (W − w₀) / W / sd(η_raw)`` (see module docstring).

    >>> cfg = CampusConfig(n_weeks=16)
    >>> round(expected_gain(cfg, effect=1.0, from_week=8, eta_sd=0.5), 3)
    3.524
    """
    if eta_sd <= 0 or not math.isfinite(eta_sd):
        raise LearnsightError(f"eta_sd must be positive and finite, got {eta_sd!r}")
    weeks = max(config.n_weeks - from_week, 0)
    share = weeks / config.n_weeks
    return config.score_sd * math.sqrt(config.score_r2) * WEIGHTS["effort"] * effect * share / eta_sd


def effect_for_gain(config: CampusConfig, *, gain: float, from_week: int, eta_sd: float) -> float:
    """The true effect ``δ`` whose :func:`expected_gain` is ``gain`` points (the inverse).

    >>> cfg = CampusConfig(n_weeks=16)
    >>> round(effect_for_gain(cfg, gain=3.524, from_week=8, eta_sd=0.5), 3)
    1.0
    """
    unit = expected_gain(config, effect=1.0, from_week=from_week, eta_sd=eta_sd)
    if unit == 0:
        raise LearnsightError(
            f"a treatment from week {from_week} of {config.n_weeks} cannot change the final"
        )
    return gain / unit


def treatment_table(config: CampusConfig, treatments: ResolvedTreatments, eta_sd: float) -> pa.Table:
    """The treated enrolments as a table of :data:`TREATMENT_SCHEMA`."""
    keys = actor_keys(config.n_students)
    iris = pa.array([course_iri(c) for c in course_ids(config.n_courses)])
    gains = [
        expected_gain(config, effect=d, from_week=w, eta_sd=eta_sd)
        for d, w in zip(treatments.effect.tolist(), treatments.from_week.tolist(), strict=True)
    ]
    return pa.table(
        {
            "actor_key": keys.take(pa.array(treatments.student)),
            "course": iris.take(pa.array(treatments.course)),
            "from_week": pa.array(treatments.from_week, pa.int64()),
            "effect": pa.array(treatments.effect, pa.float64()),
            "expected_gain": pa.array(gains, pa.float64()),
        },
        schema=TREATMENT_SCHEMA,
    )


__all__ = [
    "TREATMENT_SCHEMA",
    "ResolvedTreatments",
    "Treatment",
    "effect_for_gain",
    "expected_gain",
    "resolve_treatments",
    "treated_population",
    "treatment_table",
]
