"""Compute the indicator tables from the store at an as-of cut-off (SPEC §2), on any engine.

Steps, identical for every engine:

1. the as-of views (:mod:`~learnsight.indicators.asof`) — nothing after the cut-off is visible;
2. the SQL definitions (``sql/student.sql``, ``sql/student_course.sql``);
3. the real-entropy grouped map (:mod:`~learnsight.indicators.meals`);
4. *missing, not zero*: counts of a source absent from the data are nulled, and every null gets a
   reason code (:mod:`~learnsight.indicators.catalog`); coverage per indicator is reported;
5. cohort statistics (percentile rank, z-score) with the pure functions of
   :mod:`~learnsight.indicators.formulas.cohort` — across all students for student-level indicators,
   within the course for course-level ones.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from learnsight import progress
from learnsight.indicators.asof import AsOf, base_views
from learnsight.indicators.catalog import BY_NAME, Indicator, indicators
from learnsight.indicators.engine import Engine
from learnsight.indicators.formulas.cohort import percentile_ranks, z_scores
from learnsight.indicators.meals import (
    MEAL_ENTROPY_SCHEMA,
    MEALS,
    meal_entropy_group,
    never_taken_entropy,
)
from learnsight.indicators.sql_templates import render
from learnsight.xapi.vocab import VOIDED

MISSING_SCHEMA = pa.schema(
    [
        ("actor_key", pa.string()),
        ("course", pa.string()),
        ("indicator", pa.string()),
        ("reason", pa.string()),
    ]
)


@dataclass
class IndicatorTables:
    """The result of one computation."""

    as_of: AsOf
    engine: str
    student: pa.Table
    student_course: pa.Table
    missing: pa.Table
    coverage: pa.Table
    cohort: pa.Table
    sources: list[str]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.label(),
            "engine": self.engine,
            "students": self.student.num_rows,
            "student_courses": self.student_course.num_rows,
            "sources": self.sources,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "coverage": self.coverage.to_pylist(),
        }


def compute_indicators(engine: Engine, as_of: AsOf | None = None) -> IndicatorTables:
    """All SPEC §2 indicators visible at ``as_of`` (default: all data), computed on ``engine``."""
    as_of = as_of or AsOf()
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = now - t0
        return now

    with progress.task(f"indicators on {engine.name} (as of {as_of.label()})", total=5) as advance:
        t = time.perf_counter()
        engine.create_views(base_views(as_of, VOIDED))
        sources = sorted(str(s) for s in engine.query("SELECT DISTINCT source FROM ev").column(0).to_pylist())
        t = lap("views", t)
        advance(1)
        student = engine.query(render("student"))
        t = lap("student sql", t)
        advance(1)
        course = engine.query(render("student_course"))
        t = lap("student_course sql", t)
        advance(1)
        meals = engine.grouped_map(
            render("meal_swipes"), ["actor_key", "meal"], meal_entropy_group, MEAL_ENTROPY_SCHEMA
        )
        student = _add_meal_entropy(student, meals)
        t = lap("meal entropy grouped map", t)
        advance(1)
        student = _sort(_null_absent_sources(student, indicators("student"), sources), ["actor_key"])
        course = _sort(
            _null_absent_sources(course, indicators("student_course"), sources), ["actor_key", "course"]
        )
        missing = pa.concat_tables(
            [
                _missing(student, indicators("student"), sources),
                _missing(course, indicators("student_course"), sources),
            ]
        )
        coverage = _coverage(student, course, missing)
        cohort = pa.concat_tables(
            [
                _cohort(student, indicators("student"), None),
                _cohort(course, indicators("student_course"), "course"),
            ]
        )
        lap("missing, coverage, cohort", t)
        advance(1)
    return IndicatorTables(
        as_of=as_of,
        engine=engine.name,
        student=student,
        student_course=course,
        missing=missing,
        coverage=coverage,
        cohort=cohort,
        sources=sources,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def _sort(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


def _add_meal_entropy(student: pa.Table, meals: pa.Table) -> pa.Table:
    """Pivot (student, meal) entropies into columns; E is the mean of the meals' entropies.

    A student with canteen swipes who never took a meal gets that meal's all-missed entropy.
    """
    n_days = int(pc.max(meals.column("days")).as_py()) if meals.num_rows else 0
    by_key: dict[tuple[str, str], float | None] = {
        (a, m): e
        for a, m, e in zip(
            meals.column("actor_key").to_pylist(),
            meals.column("meal").to_pylist(),
            meals.column("entropy").to_pylist(),
            strict=True,
        )
    }
    empty = never_taken_entropy(n_days) if n_days else None
    actors = student.column("actor_key").to_pylist()
    swipes = student.column("canteen_swipes").to_pylist()
    columns: dict[str, list[float | None]] = {m: [] for m in MEALS}
    for actor, n in zip(actors, swipes, strict=True):
        for m in MEALS:
            columns[m].append(by_key.get((actor, m), empty) if n else None)
    mean: list[float | None] = []
    for values in zip(*(columns[m] for m in MEALS), strict=True):
        present = [v for v in values if v is not None]
        mean.append(float(np.mean(present)) if present else None)
    for m in MEALS:
        student = student.append_column(f"meal_entropy_{m}", pa.array(columns[m], pa.float64()))
    return student.append_column("meal_regularity_e", pa.array(mean, pa.float64()))


def _null_absent_sources(table: pa.Table, catalog: tuple[Indicator, ...], sources: list[str]) -> pa.Table:
    """Counts of a source absent from the data are missing, not zero."""
    for ind in catalog:
        if ind.source is not None and ind.source not in sources and ind.name in table.column_names:
            idx = table.column_names.index(ind.name)
            table = table.set_column(idx, ind.name, pa.nulls(table.num_rows, table.column(idx).type))
    return table


def _missing(table: pa.Table, catalog: tuple[Indicator, ...], sources: list[str]) -> pa.Table:
    """One row per null value: who, which indicator, why."""
    parts = []
    course = table.column("course") if "course" in table.column_names else None
    for ind in catalog:
        col = table.column(ind.name)
        mask = pc.is_null(col)
        n = int(pc.sum(mask).as_py() or 0)
        if not n:
            continue
        absent = ind.source is not None and ind.source not in sources
        reason = f"source_absent:{ind.source}" if absent else ind.missing
        parts.append(
            pa.table(
                {
                    "actor_key": pc.filter(table.column("actor_key"), mask),
                    "course": pc.filter(course, mask) if course is not None else pa.nulls(n, pa.string()),
                    "indicator": pa.array([ind.name] * n, pa.string()),
                    "reason": pa.array([reason] * n, pa.string()),
                },
                schema=MISSING_SCHEMA,
            )
        )
    return pa.concat_tables(parts) if parts else MISSING_SCHEMA.empty_table()


def _coverage(student: pa.Table, course: pa.Table, missing: pa.Table) -> pa.Table:
    rows = []
    reasons: dict[str, dict[str, int]] = {}
    for ind, reason in zip(
        missing.column("indicator").to_pylist(), missing.column("reason").to_pylist(), strict=True
    ):
        counts = reasons.setdefault(ind, {})
        counts[reason] = counts.get(reason, 0) + 1
    for level, table in (("student", student), ("student_course", course)):
        for ind in indicators(level):  # type: ignore[arg-type]
            n = table.num_rows
            present = n - table.column(ind.name).null_count
            rows.append(
                {
                    "indicator": ind.name,
                    "level": level,
                    "family": ind.family,
                    "rows": n,
                    "present": present,
                    "coverage": present / n if n else None,
                    "missing_reasons": json.dumps(reasons.get(ind.name, {}), sort_keys=True),
                }
            )
    return pa.Table.from_pylist(rows)


def _cohort(table: pa.Table, catalog: tuple[Indicator, ...], group: str | None) -> pa.Table:
    """Percentile rank and z-score of every numeric indicator within its cohort (long table)."""
    numeric = [
        i
        for i in catalog
        if i.kind != "label"
        and (
            pa.types.is_floating(table.column(i.name).type) or pa.types.is_integer(table.column(i.name).type)
        )
    ]
    actors = table.column("actor_key")
    courses = table.column(group) if group else pa.nulls(table.num_rows, pa.string())
    if group:
        keys = np.asarray(courses.to_pylist(), dtype=object)
        cohorts = [np.flatnonzero(keys == k) for k in sorted(set(keys.tolist()))]
    else:
        cohorts = [np.arange(table.num_rows)]
    parts = []
    for ind in numeric:
        values = table.column(ind.name).to_numpy(zero_copy_only=False).astype(np.float64)
        pct = np.full(table.num_rows, np.nan)
        z = np.full(table.num_rows, np.nan)
        for rows in cohorts:
            pct[rows] = percentile_ranks(values[rows])
            z[rows] = z_scores(values[rows])
        parts.append(
            pa.table(
                {
                    "actor_key": actors,
                    "course": courses,
                    "indicator": pa.array([ind.name] * table.num_rows, pa.string()),
                    "value": pa.array(values, pa.float64(), from_pandas=True),
                    "percentile": pa.array(pct, pa.float64(), from_pandas=True),
                    "z": pa.array(z, pa.float64(), from_pandas=True),
                }
            )
        )
    return pa.concat_tables(parts)


__all__ = ["BY_NAME", "IndicatorTables", "compute_indicators"]
