"""The synthetic campus: one seeded semester of statements from every source, and its ground truth.

>>> campus = simulate_campus(CampusConfig(n_students=20, n_courses=2, n_weeks=2, seed=1))
>>> sorted(campus.counts_by_source())
['camera', 'canteen', 'classroom', 'dorm', 'library', 'lms', 'network', 'registry']

The generative model is documented where it is implemented: latent traits and weekly effort in
:mod:`~learnsight.simulate.traits`, the timetable and every IRI in
:mod:`~learnsight.simulate.timetable`, then :mod:`~learnsight.simulate.classroom`,
:mod:`~learnsight.simulate.lms`, :mod:`~learnsight.simulate.campus_life` and
:mod:`~learnsight.simulate.grades`; every rate is a field of :class:`CampusConfig`.

Each part draws from its own random stream ``default_rng([seed, part])``, so the same seed gives
identical tables and changing one part's parameters leaves the other parts' draws unchanged.

Interventions: ``simulate_campus(config, treatments=[Treatment(...), ...])`` raises the treated
enrolments' weekly effort from the treatment's week on with a known true effect
(:mod:`~learnsight.simulate.treatment`); without treatments the campus is bit-for-bit the untreated
one, and with them the untreated enrolments' scores are unchanged.

Extensions convention: ``extensions`` is ``{"result": {...}, "context": {...}}`` as in
:mod:`learnsight.store.rebuild`.  Facts about the *object* (a video's ``EXT_FULL_LENGTH``, a book's
category/author/title, a terminal, gate or access point, a thread's author, a resource's level) are
**context** extensions; facts about the *outcome* (lateness, expression, a loan's return time, the
exam kind and outcome class) are **result** extensions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from learnsight import progress
from learnsight.simulate.campus_life import CATEGORIES, course_category, simulate_campus_life
from learnsight.simulate.classroom import simulate_classroom
from learnsight.simulate.config import CampusConfig
from learnsight.simulate.export import export_sources
from learnsight.simulate.frame import Events, to_table, with_ids
from learnsight.simulate.grades import (
    GENDERS,
    MAJORS,
    OUTCOMES,
    Scores,
    draw_background,
    draw_scores,
    profile_table,
    registry_events,
)
from learnsight.simulate.lms import simulate_lms
from learnsight.simulate.timetable import (
    WEEKDAY_NAMES,
    actor_keys,
    course_ids,
    course_iri,
    draw_timetable,
    student_ids,
)
from learnsight.simulate.traits import Population, draw_population
from learnsight.simulate.treatment import (
    TREATMENT_SCHEMA,
    ResolvedTreatments,
    Treatment,
    resolve_treatments,
    treated_population,
    treatment_table,
)
from learnsight.store.base import IngestBatch, IngestReport, Store

_STREAMS: Final = {
    "traits": 1,
    "timetable": 2,
    "classroom": 3,
    "lms": 4,
    "campus_life": 5,
    "grades": 6,
    "background": 7,
}


@dataclass(frozen=True)
class Campus:
    """A simulated semester: statements and profiles for the store, plus the ground truth.

    ``traits`` has one row per enrolment (student × course taken): the student's latent traits,
    the course's difficulty, the student's interest and mean weekly effort in it, the standardised
    true linear predictor ``eta``, the mid-term and final scores and the outcome class.
    ``students`` has one row per student, ``courses`` one per course (difficulty, timetable).
    ``treatments`` has one row per treated enrolment (empty when untreated) with the analytic gain
    of its final score; ``eta_sd`` is the sd of the untreated population's raw final ``η`` (the
    scale of :func:`~learnsight.simulate.treatment.expected_gain`).  For a treated campus the
    ``effort`` and ``eta`` of ``traits`` are the treated ones.
    """

    config: CampusConfig
    statements: pa.Table
    profiles: pa.Table
    traits: pa.Table
    students: pa.Table
    courses: pa.Table
    treatments: pa.Table = field(default_factory=TREATMENT_SCHEMA.empty_table)
    eta_sd: float = math.nan

    def counts_by_source(self) -> dict[str, int]:
        """Number of statements of each source."""
        counts = pc.value_counts(self.statements.column("source")).to_pylist()
        return {str(c["values"]): int(c["counts"]) for c in sorted(counts, key=lambda x: x["values"])}


def _rng(config: CampusConfig, part: str) -> np.random.Generator:
    return np.random.default_rng([config.seed, _STREAMS[part]])


@dataclass(frozen=True)
class GroundTruth:
    """A semester's latent state and scores without its statements (:func:`simulate_ground_truth`):
    ``traits``, ``treatments`` and ``eta_sd`` exactly as in the :class:`Campus` of the same
    config and treatments."""

    config: CampusConfig
    traits: pa.Table
    treatments: pa.Table
    eta_sd: float


def _draw_scores(
    config: CampusConfig, treatments: Sequence[Treatment] | None
) -> tuple[Population, ResolvedTreatments, Scores]:
    """The (treated) population and its scores; streams ``traits`` and ``grades`` only."""
    untreated = draw_population(config, _rng(config, "traits"))
    resolved = resolve_treatments(config, untreated, treatments or ())
    pop = treated_population(untreated, resolved) if resolved.size else untreated
    scores = draw_scores(config, pop, _rng(config, "grades"), reference=untreated if resolved.size else None)
    return pop, resolved, scores


def _traits_table(config: CampusConfig, pop: Population, scores: Scores) -> pa.Table:
    sids = student_ids(config.n_students)
    cids = course_ids(config.n_courses)
    actors = actor_keys(config.n_students)
    courses = pa.array([course_iri(c) for c in cids])
    s, c = scores.student, scores.course
    return pa.table(
        {
            "student_id": pa.array(sids).take(pa.array(s)),
            "actor_key": actors.take(pa.array(s)),
            "course_id": pa.array(cids).take(pa.array(c)),
            "course": courses.take(pa.array(c)),
            "ability": pop.ability[s],
            "diligence": pop.diligence[s],
            "regularity": pop.regularity[s],
            "sociability": pop.sociability[s],
            "interest": pop.interest[s, c],
            "difficulty": pop.difficulty[c],
            "effort": pop.effort[s, c, :].mean(axis=1),
            "eta": scores.eta,
            "midterm": scores.midterm,
            "final": scores.final,
            "outcome": pa.array(list(OUTCOMES)).take(pa.array(scores.outcome)),
        }
    )


def simulate_ground_truth(config: CampusConfig, treatments: Sequence[Treatment] | None = None) -> GroundTruth:
    """Traits and scores of :func:`simulate_campus` without simulating behaviour (milliseconds):
    the random streams of every part are separate, so they equal the full simulation's."""
    pop, resolved, scores = _draw_scores(config, treatments)
    return GroundTruth(
        config=config,
        traits=_traits_table(config, pop, scores),
        treatments=treatment_table(config, resolved, scores.eta_sd),
        eta_sd=scores.eta_sd,
    )


def simulate_campus(config: CampusConfig, treatments: Sequence[Treatment] | None = None) -> Campus:
    """Simulate one semester (see module docstring); deterministic in ``config`` and ``treatments``.

    ``treatments`` (see :class:`~learnsight.simulate.treatment.Treatment`) raise the treated
    enrolments' effort; ``None`` or an empty list gives the untreated campus.
    """
    with progress.task("simulating campus", total=6) as advance:
        pop, resolved, scores = _draw_scores(config, treatments)
        tt = draw_timetable(config, _rng(config, "timetable"))
        background = draw_background(pop, _rng(config, "background"))
        advance(1)
        steps: list[Callable[[], list[Events]]] = [
            lambda: simulate_classroom(config, pop, tt, _rng(config, "classroom")),
            lambda: simulate_lms(config, pop, tt, _rng(config, "lms")),
            lambda: simulate_campus_life(config, pop, _rng(config, "campus_life")),
            lambda: registry_events(config, scores),
        ]
        actors = actor_keys(config.n_students)
        courses = pa.array([course_iri(c) for c in course_ids(config.n_courses)])
        tables: list[pa.Table] = []
        for step in steps:
            tables.extend(to_table(ev, actors, courses) for ev in step())
            advance(1)
        statements = with_ids(pa.concat_tables(tables), config.seed)
        advance(1)

    sids = student_ids(config.n_students)
    cids = course_ids(config.n_courses)
    traits = _traits_table(config, pop, scores)
    students = pa.table(
        {
            "student_id": pa.array(sids),
            "actor_key": actors,
            "ability": pop.ability,
            "diligence": pop.diligence,
            "regularity": pop.regularity,
            "sociability": pop.sociability,
            "study_hour": pop.study_hour,
            "building": pa.array([f"B{b + 1}" for b in pop.building.tolist()]),
            "prior_gpa": background.prior_gpa,
            "retakes": background.retakes,
            "make_up_exams": background.make_up_exams,
            "gender": pa.array(list(GENDERS)).take(pa.array(background.gender)),
            "major": pa.array(list(MAJORS)).take(pa.array(background.major)),
        }
    )
    categories = course_category(np.arange(config.n_courses))
    course_table = pa.table(
        {
            "course_id": pa.array(cids),
            "course": courses,
            "difficulty": pop.difficulty,
            "category": pa.array([CATEGORIES[k] for k in categories.tolist()]),
            "weekdays": pa.array(["/".join(WEEKDAY_NAMES[d] for d in pair) for pair in tt.days.tolist()]),
            "start_time": pa.array([f"{h:02d}:00" for h in tt.hours.tolist()]),
            "enrolled": pop.enrolled.sum(axis=0),
        }
    )
    return Campus(
        config=config,
        statements=statements,
        profiles=profile_table(pop, background),
        traits=traits,
        students=students,
        courses=course_table,
        treatments=treatment_table(config, resolved, scores.eta_sd),
        eta_sd=scores.eta_sd,
    )


def course_calendar(campus: Campus) -> pa.Table:
    """The campus's courses in the store's ``courses`` layout (all start on the semester's Monday)."""
    cfg = campus.config
    n = campus.courses.num_rows
    start = datetime.combine(cfg.start, datetime.min.time())
    return pa.table(
        {
            "course": campus.courses.column("course"),
            "code": campus.courses.column("course_id"),
            "title": pa.array(
                [
                    f"{cid} ({cat})"
                    for cid, cat in zip(
                        campus.courses.column("course_id").to_pylist(),
                        campus.courses.column("category").to_pylist(),
                        strict=True,
                    )
                ]
            ),
            "start_ts": pa.array([start] * n, pa.timestamp("us")),
            "length_days": pa.array([7 * cfg.n_weeks] * n, pa.int32()),
            "source": pa.array(["simulate"] * n),
        }
    )


def write_campus(store: Store, campus: Campus) -> IngestReport:
    """Ingest the campus's statements and profiles in one atomic, idempotent batch."""
    cfg = campus.config
    batch = IngestBatch(
        kind="simulate",
        source=f"simulate(seed={cfg.seed}, {cfg.n_students}x{cfg.n_courses}x{cfg.n_weeks})",
        rows_read=campus.statements.num_rows,
        statements=campus.statements,
        profiles=campus.profiles,
        courses=course_calendar(campus),
        details={
            "seed": cfg.seed,
            "n_students": cfg.n_students,
            "n_courses": cfg.n_courses,
            "n_weeks": cfg.n_weeks,
            "statements_by_source": campus.counts_by_source(),
        },
    )
    with progress.task("writing campus to store"):
        return store.ingest(batch)


__all__ = [
    "Campus",
    "CampusConfig",
    "GroundTruth",
    "Treatment",
    "course_calendar",
    "export_sources",
    "simulate_campus",
    "simulate_ground_truth",
    "write_campus",
]
