"""Weekly feature tensors (student × course × week × feature) for sequence models (SPEC §3).

The features are defined once, in ``sql/weekly.sql`` (read its header for each feature, the week
numbering and which statements count); this module runs that SQL on any :class:`Engine` after the
as-of views, so week-``N`` early prediction sees only statements dated before week ``N``, and turns
the long result into dense NumPy arrays without a Python loop over rows.

Weeks
    Week ``w`` of a course is days ``[7w, 7w + 7)`` from its ``start_ts`` (``courses`` calendar);
    week ``-1`` holds everything the student did on the course before the start.  The week axis of
    every tensor is ``-1, 0, ..., n_weeks - 1`` (:attr:`TensorIndex.weeks`).

Missing values (the tensor is ``float32``; NaN = missing, 0 = observed nothing)
    * a (student, course) pair that is not enrolled (no statement of the course visible at the
      cut-off) → NaN in every week and feature;
    * an enrolled pair with no statement in a week → 0 for every count;
    * a week that is not observed → NaN: after the course's end (``length_days``), or at/after the
      cut-off (``AsOf(week=N)``: weeks ``>= N``; ``AsOf(date=d)``: weeks starting at or after ``d``;
      the week holding ``d`` is kept, partly observed);
    * a feature whose source the visible data does not have at all (e.g. ``canteen_swipes`` on
      OULAD) → NaN everywhere, never a misleading 0;
    * ``mean_score`` in a week without a scored item → NaN (``scored_items`` says how many there were).

>>> from learnsight.store import open_store
>>> from learnsight.indicators.engine import DuckDBEngine
>>> from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
>>> store = open_store(":memory:")
>>> _ = write_campus(store, simulate_campus(CampusConfig(n_students=12, n_courses=2, n_weeks=3, seed=1)))
>>> X, index = weekly_features(DuckDBEngine(store)).to_tensor()
>>> X.shape == (12, 2, 4, len(FEATURE_NAMES)), index.weeks
(True, [-1, 0, 1, 2])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf, base_views
from learnsight.indicators.engine import Engine
from learnsight.indicators.sql_templates import render
from learnsight.xapi.vocab import VOIDED


@dataclass(frozen=True)
class WeeklyFeature:
    """One column of ``sql/weekly.sql``: its name, the source it needs (``None``: any) and meaning."""

    name: str
    source: str | None
    description: str


FEATURES: Final[tuple[WeeklyFeature, ...]] = (
    WeeklyFeature("events", None, "statements of the course (registry excluded)"),
    WeeklyFeature("lms_events", "lms", "LMS statements of the course"),
    WeeklyFeature("clicks", "lms", "sum of quantity of LMS interacted/viewed statements"),
    WeeklyFeature("active_days", None, "distinct days with a statement of the course"),
    WeeklyFeature("distinct_objects", None, "distinct objects of the course acted on"),
    WeeklyFeature("clicks_content", "lms", "clicks on content pages"),
    WeeklyFeature("clicks_resource", "lms", "clicks on files, links, folders"),
    WeeklyFeature("clicks_forum", "lms", "clicks in forums"),
    WeeklyFeature("clicks_quiz", "lms", "clicks on quizzes, questionnaires, assessments"),
    WeeklyFeature("clicks_video", "lms", "clicks on video and media"),
    WeeklyFeature("clicks_other", "lms", "clicks on any other activity type"),
    WeeklyFeature("submissions", "lms", "submissions"),
    WeeklyFeature("scored_items", "lms", "LMS submissions and quizzes with a scaled score"),
    WeeklyFeature("mean_score", "lms", "mean scaled score of those (NaN without one)"),
    WeeklyFeature("late_submissions", "lms", "submissions flagged late or after their deadline"),
    WeeklyFeature("attended", "classroom", "class sessions attended"),
    WeeklyFeature("absent", "classroom", "class sessions missed"),
    WeeklyFeature("video_seconds", "lms", "seconds of video played"),
    WeeklyFeature("forum_posts", "lms", "forum posts and replies"),
    WeeklyFeature("canteen_swipes", "canteen", "canteen card swipes (student-level)"),
    WeeklyFeature("dorm_returns", "dorm", "returns to the dorm (student-level)"),
    WeeklyFeature("network_sessions", "network", "campus network sessions (student-level)"),
    WeeklyFeature("library_loans", "library", "library loans (student-level)"),
)
"""The weekly features, in tensor order (the last axis)."""

FEATURE_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FEATURES)

KEYS: Final[tuple[str, ...]] = ("actor_key", "course", "week")
"""Key columns of the long table."""

PRE_COURSE_WEEK: Final = -1
"""Week index of everything done on a course before its start (first slot of the week axis)."""

ENROLMENTS_SQL: Final = """
SELECT e.actor_key, e.course
FROM (SELECT DISTINCT actor_key, course FROM ev WHERE course IS NOT NULL) e
JOIN courses c ON e.course = c.course
WHERE c.start_ts IS NOT NULL
"""
"""Enrolled (student, course) pairs at the cut-off: any visible statement of a course with a start
date (registrations included: a registered student who never logs in is enrolled, with zeros)."""

CALENDAR_SQL: Final = """
SELECT course, start_ts, CAST(ceil(length_days / 7.0) AS INTEGER) AS course_weeks
FROM courses WHERE start_ts IS NOT NULL
"""
"""Each course's start and number of weeks (NULL when its length is unknown)."""

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class TensorIndex:
    """The labels of a tensor's axes."""

    students: list[str]
    courses: list[str]
    weeks: list[int]
    features: list[str]


@dataclass
class WeeklyFeatures:
    """The weekly features at one cut-off: the long table and its dense views.

    ``table`` has one row per (``actor_key``, ``course``, ``week``) with at least one attributed
    statement, columns :data:`KEYS` + :data:`FEATURE_NAMES` (features of a source absent from the
    data are null).  ``enrolments`` lists the enrolled pairs and ``calendar`` each course's
    ``start_ts`` and ``course_weeks``.
    """

    as_of: AsOf
    engine: str
    n_weeks: int
    table: pa.Table
    enrolments: pa.Table
    calendar: pa.Table
    sources: list[str]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return list(FEATURE_NAMES)

    @property
    def weeks(self) -> npt.NDArray[np.int64]:
        """The week axis: ``-1`` (pre-course), then ``0 ... n_weeks - 1``."""
        return np.arange(PRE_COURSE_WEEK, self.n_weeks, dtype=np.int64)

    def summary(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.label(),
            "engine": self.engine,
            "rows": self.table.num_rows,
            "enrolments": self.enrolments.num_rows,
            "n_weeks": self.n_weeks,
            "features": len(FEATURE_NAMES),
            "sources": self.sources,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def to_tensor(self) -> tuple[FloatArray, TensorIndex]:
        """``X`` of shape (students, courses, weeks, features), ``float32``, and its axis labels.

        Students and courses are those of :attr:`enrolments`, sorted; see the module docstring for
        NaN (not enrolled, week not observed, source absent) versus 0 (enrolled, nothing happened).
        The array is dense: for data where each student takes few of many courses (OULAD), prefer
        :meth:`course_tensor`.
        """
        students = _sorted_unique(self.enrolments.column("actor_key"))
        courses = _sorted_unique(self.enrolments.column("course"))
        s = _positions(self.enrolments.column("actor_key"), students)
        c = _positions(self.enrolments.column("course"), courses)
        x = np.full((len(students), len(courses), len(self.weeks), len(FEATURE_NAMES)), np.nan, np.float32)
        x[s, c] = self._baseline(self.enrolments.column("course"))
        rows = self.table
        x[
            _positions(rows.column("actor_key"), students),
            _positions(rows.column("course"), courses),
            _week_positions(rows),
        ] = _values(rows)
        return x, TensorIndex(students.to_pylist(), courses.to_pylist(), self.weeks.tolist(), self.features)

    def course_tensor(self, course: str) -> tuple[FloatArray, list[str]]:
        """``X`` of shape (students, weeks, features) for the students enrolled in ``course``.

        Same values and missing-value rules as :meth:`to_tensor`, without the not-enrolled rows:
        the input of a per-course sequence model.  Returns ``X`` and the sorted student keys.
        """
        enrolled = self.enrolments.filter(pc.equal(self.enrolments.column("course"), course))
        if enrolled.num_rows == 0:
            known = sorted(set(self.enrolments.column("course").to_pylist()))
            raise LearnsightError(f"no enrolment in course {course!r} at the cut-off (courses: {known})")
        students = _sorted_unique(enrolled.column("actor_key"))
        x = np.empty((len(students), len(self.weeks), len(FEATURE_NAMES)), np.float32)
        x[:] = self._baseline(pa.array([course]))[0]
        rows = self.table.filter(pc.equal(self.table.column("course"), course))
        x[_positions(rows.column("actor_key"), students), _week_positions(rows)] = _values(rows)
        return x, students.to_pylist()

    def rows_tensor(
        self, actor_keys: pa.Array | pa.ChunkedArray, courses: pa.Array | pa.ChunkedArray
    ) -> FloatArray:
        """``X`` of shape (rows, weeks, features) for given (student, course) pairs, in their order.

        The pairs may repeat and need not be enrolled: a pair with no enrolment at the cut-off is
        NaN throughout (as in :meth:`to_tensor`); a course outside the calendar raises.  This is
        the aligned input of a model whose rows are (student, course) outcomes.
        """
        if len(actor_keys) != len(courses):
            raise LearnsightError(f"rows_tensor: {len(actor_keys)} students but {len(courses)} courses")
        keys = pa.table({"actor_key": actor_keys, "course": courses})
        keys = keys.append_column("_row", pa.array(np.arange(keys.num_rows, dtype=np.int64)))
        x = np.full((keys.num_rows, len(self.weeks), len(FEATURE_NAMES)), np.nan, np.float32)
        enrolled = keys.join(
            self.enrolments.select(["actor_key", "course"]), ["actor_key", "course"], join_type="inner"
        )
        rows = np.asarray(enrolled.column("_row").to_numpy(), dtype=np.int64)
        if rows.size:
            x[rows] = self._baseline(enrolled.column("course"))
        data = self.table.join(keys, ["actor_key", "course"], join_type="inner")
        if data.num_rows:
            x[np.asarray(data.column("_row").to_numpy(), dtype=np.int64), _week_positions(data)] = _values(
                data
            )
        return x

    def _baseline(self, courses: pa.Array | pa.ChunkedArray) -> FloatArray:
        """The (len(courses), weeks, features) values of an enrolled pair with no statement.

        0 for every feature of a present source in an observed week of the course, NaN otherwise.
        """
        present = np.array(
            [f.name != "mean_score" and (f.source is None or f.source in self.sources) for f in FEATURES]
        )
        template = np.where(present, np.float32(0), np.float32(np.nan)).astype(np.float32)
        open_weeks = self._open_weeks()
        cal = self.calendar.column("course")
        per_course = open_weeks[_positions(courses, cal)]
        observed = self.weeks[None, :] < per_course[:, None]
        out: FloatArray = np.where(observed[:, :, None], template, np.float32(np.nan)).astype(np.float32)
        return out

    def _open_weeks(self) -> npt.NDArray[np.int64]:
        """Per calendar course: weeks ``w < open`` are observed (course not over, before cut-off)."""
        n = self.calendar.num_rows
        lengths = self.calendar.column("course_weeks").to_numpy(zero_copy_only=False)
        length = np.where(np.isnan(lengths.astype(np.float64)), self.n_weeks, lengths).astype(np.int64)
        if self.as_of.week is not None:
            cutoff = np.full(n, self.as_of.week, np.int64)
        elif self.as_of.date is not None:
            starts = self.calendar.column("start_ts").cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
            elapsed_s = (np.datetime64(self.as_of.date, "us") - starts) / np.timedelta64(1, "s")
            # A week that starts before the cut-off instant is (at least partly) observed.
            cutoff = np.ceil(elapsed_s / (7 * 86400)).astype(np.int64)
        else:
            cutoff = np.full(n, self.n_weeks, np.int64)
        return np.minimum(np.minimum(length, cutoff), self.n_weeks)


def weekly_features(
    engine: Engine, as_of: AsOf | None = None, *, n_weeks: int | None = None
) -> WeeklyFeatures:
    """The weekly features visible at ``as_of`` (default: all data), computed on ``engine``.

    ``n_weeks`` is the number of teaching weeks kept (the week axis is ``-1 ... n_weeks - 1``);
    by default ``N`` for ``AsOf(week=N)``, otherwise the longest course (or the last week with data
    when no course has a length).
    """
    as_of = as_of or AsOf()
    if n_weeks is not None and n_weeks < 0:
        raise LearnsightError(f"n_weeks must be >= 0, got {n_weeks}")
    if n_weeks is None and as_of.week is not None:
        n_weeks = as_of.week
    started = time.perf_counter()
    timings: dict[str, float] = {}
    t = started
    engine.create_views(base_views(as_of, VOIDED))
    sources = sorted(str(s) for s in engine.query("SELECT DISTINCT source FROM ev").column(0).to_pylist())
    calendar = engine.query(CALENDAR_SQL).sort_by("course")
    enrolments = engine.query(ENROLMENTS_SQL).sort_by([("course", "ascending"), ("actor_key", "ascending")])
    timings["views, calendar, enrolments"] = (now := time.perf_counter()) - t
    t = now
    views, sql = weekly_sql()
    engine.create_views(views)
    if n_weeks is not None:
        sql = f"SELECT * FROM ({sql}) w WHERE week < {int(n_weeks)}"
    table = engine.query(sql)
    timings["weekly sql"] = (now := time.perf_counter()) - t
    t = now
    if n_weeks is None:
        lengths = [w for w in calendar.column("course_weeks").to_pylist() if w is not None]
        last = pc.max(table.column("week")).as_py() if table.num_rows else None
        n_weeks = max([0, *lengths, *([int(last) + 1] if last is not None else [])])
    table = _null_absent_sources(table, sources)
    table = table.select([*KEYS, *FEATURE_NAMES]).sort_by([(k, "ascending") for k in KEYS])
    timings["arrange"] = time.perf_counter() - t
    return WeeklyFeatures(
        as_of=as_of,
        engine=engine.name,
        n_weeks=int(n_weeks),
        table=table,
        enrolments=enrolments,
        calendar=calendar,
        sources=sources,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def weekly_sql() -> tuple[list[tuple[str, str]], str]:
    """The views and the query of ``sql/weekly.sql``, in DuckDB SQL.

    The file holds sections headed ``-- @@view <name>`` (created in order, after the as-of views)
    and one ``-- @@query``; views rather than CTEs so that no engine materialises the statement-level
    rows that several aggregates read.
    """
    views: list[tuple[str, str]] = []
    query: str | None = None
    for section in render("weekly").split("\n-- @@")[1:]:
        head, _, body = section.partition("\n")
        kind, _, name = head.partition(" ")
        if kind == "view":
            views.append((name.strip(), body.strip()))
        elif kind == "query":
            query = body.strip()
    if query is None or not views:
        raise LearnsightError("indicators/sql/weekly.sql: expected '-- @@view' sections and a '-- @@query'")
    return views, query


def _null_absent_sources(table: pa.Table, sources: list[str]) -> pa.Table:
    """Counts of a source the data does not have are missing, not zero."""
    for feature in FEATURES:
        if feature.source is not None and feature.source not in sources:
            i = table.column_names.index(feature.name)
            table = table.set_column(i, feature.name, pa.nulls(table.num_rows, table.column(i).type))
    return table


def _sorted_unique(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    unique = pc.unique(column)
    return unique.take(pc.sort_indices(unique))


def _positions(
    values: pa.Array | pa.ChunkedArray, labels: pa.Array | pa.ChunkedArray
) -> npt.NDArray[np.int64]:
    """Position of each value in ``labels`` (every value must be there)."""
    if isinstance(labels, pa.ChunkedArray):
        labels = labels.combine_chunks()
    idx = pc.index_in(values, value_set=labels)
    if idx.null_count:
        raise LearnsightError("weekly features: a row refers to a student or course outside the index")
    return np.asarray(idx.to_numpy(zero_copy_only=False), dtype=np.int64)


def _week_positions(rows: pa.Table) -> npt.NDArray[np.int64]:
    return np.asarray(rows.column("week").to_numpy(zero_copy_only=False), dtype=np.int64) - PRE_COURSE_WEEK


def _values(rows: pa.Table) -> FloatArray:
    """The feature columns as a (rows, features) ``float32`` matrix; nulls become NaN."""
    out = np.empty((rows.num_rows, len(FEATURE_NAMES)), np.float32)
    for j, name in enumerate(FEATURE_NAMES):
        out[:, j] = pc.cast(rows.column(name), pa.float32()).to_numpy(zero_copy_only=False)
    return out


__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "KEYS",
    "PRE_COURSE_WEEK",
    "TensorIndex",
    "WeeklyFeature",
    "WeeklyFeatures",
    "weekly_features",
    "weekly_sql",
]
