"""Model-ready data from the store: one row per (student, course) outcome, features as of a cut-off.

A :class:`Dataset` pairs every final result of :func:`~learnsight.models.outcomes.outcomes` (the
labels) with what was known about that student in that course **before the cut-off** (SPEC §3:
early prediction at week ``N`` must not see later data).  Feature groups (``groups``):

``profile``
    The learner profiles (:mod:`learnsight.store`): ``prior_gpa``, ``retakes`` and every attribute
    of the student-level profile (course ``''``) and of the course's own profile; numbers and
    booleans as they are, text one-hot (``profile.<name>=<value>``).  Known at enrolment, so the
    same at every cut-off.  Never used: the outcome itself (:data:`OUTCOME_ATTRIBUTES`, e.g. UCI's
    ``G3``), bookkeeping (:data:`BOOKKEEPING_ATTRIBUTES`) and, unless ``interim_grades=True``, the
    interim grades (:data:`INTERIM_GRADE_ATTRIBUTES`: UCI's ``G1``, ``G2``, the "with grades"
    setting of Cortez & Silva 2008).
``cross_course``
    The student's *other* courses that started no later than this one (same start, or earlier):
    the mean of their course-specific numeric profile attributes (``other.<name>``, e.g. UCI's
    past failures and absences in the other subject) and their number (``other.courses``).  A
    learner-centred store knows the student beyond one course; later courses are left out because
    a re-registration would reveal this course's outcome.  Interim grades follow ``interim_grades``.
``registry``
    Registration timing, from ``registered`` / ``unregistered`` statements visible at the cut-off:
    ``registry.days_before_start`` (how early the student registered) and ``registry.unregistered``
    (1 when an unregistration is dated before the cut-off: the institution knows it by then).
``assessments``
    The assessment record before the cut-off (:data:`ASSESSMENT_FEATURES`): submissions, the
    assessments already due (their deadlines are published in advance, so the calendar of every
    course's due dates is read from all submissions), how many were missed, the weighted score so
    far (``Σ score × weight / Σ weight`` over the due and submitted ones, a missed one scoring 0),
    mean score by kind (TMA, CMA, exam), failed and late submissions.  Course end = the course's
    last day.
``weekly``
    Summaries of the weekly feature tensor (:mod:`learnsight.indicators.weekly`) over the weeks
    observed before the cut-off (:func:`summarise_weeks`), and the tensor itself
    (:attr:`Dataset.sequences`, weeks ``-1 … N-1``) for sequence models.
``indicators``
    Every numeric indicator (:func:`~learnsight.indicators.compute.compute_indicators` at the
    cut-off), student- and course-level (``ind.<name>``).  Costly on large stores; off by default.

Leakage
    A week cut-off ``AsOf(week=N)`` keeps weeks ``< N`` of each course; the weekly tensor is computed
    once for all data and truncated, which equals recomputing it at the cut-off (tested) because a
    statement's week is a function of its own timestamp.  "Course end" (``AsOf()``) keeps the weeks
    of the course's length: nothing dated after the course's end.  Labels are never features.
"""

# Upper-case X follows scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf, base_views
from learnsight.indicators.engine import DuckDBEngine
from learnsight.indicators.weekly import FEATURE_NAMES, WeeklyFeatures, weekly_features
from learnsight.models.outcomes import DEFAULT_SCHEME, OUTCOME_LABELS, ClassScheme, outcomes
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi import vocab

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

Group = Literal["profile", "cross_course", "registry", "assessments", "weekly", "indicators"]
GROUPS: Final[tuple[Group, ...]] = (
    "profile",
    "cross_course",
    "registry",
    "assessments",
    "weekly",
    "indicators",
)
DEFAULT_GROUPS: Final[tuple[Group, ...]] = ("profile", "registry", "assessments", "weekly")

Target = Literal["three_class", "pass_fail", "pass_fail_all", "five_level", "score"]
TARGETS: Final[tuple[Target, ...]] = ("three_class", "pass_fail", "pass_fail_all", "five_level", "score")
"""What a model predicts:

* ``three_class`` — ``at-risk`` / ``normal`` / ``excellent`` (the scheme's classes, SPEC §3);
* ``pass_fail`` — ``pass`` / ``fail``; OULAD withdrawals are left out (the usual "pass vs fail"
  task: a withdrawn student has no result to predict);
* ``pass_fail_all`` — ``pass`` / ``fail`` with every row, a withdrawal counting as ``fail`` (the
  question an adviser asks: will this student pass the course?);
* ``five_level`` — Cortez & Silva's grades ``I`` (16–20) … ``V`` (0–9) of a 0–20 score (rows with
  a score only);
* ``score`` — the final score (rows with a score only).
"""

OUTCOME_ATTRIBUTES: Final = frozenset({"G3", "final_result"})
"""Profile attributes that are the outcome itself: never features."""
INTERIM_GRADE_ATTRIBUTES: Final = ("G1", "G2")
"""UCI's first- and second-period grades: features only with ``interim_grades=True``."""
BOOKKEEPING_ATTRIBUTES: Final = frozenset({"source_file", "source_line", "courses", "key_status"})
"""Profile attributes about the import, not the student."""

FIVE_LEVELS: Final = ("V", "IV", "III", "II", "I")
"""Cortez & Silva's five levels, worst first: V 0–9, IV 10–11, III 12–13, II 14–15, I 16–20."""

MAX_CATEGORIES: Final = 40
"""A text attribute with more distinct values is an identifier or free text, not a category."""

LAGS: Final = 4
"""Weeks of per-week event counts kept by :func:`summarise_weeks` (``weekly.events.lag1…``)."""

RELATIVE_FEATURES: Final = (
    "weekly.events.total",
    "weekly.clicks.total",
    "weekly.active_days.total",
    "weekly.events.last2",
    "assess.weighted_score",
    "assess.submitted",
)
"""Features also given as a percentile rank among the course's rows at the same cut-off
(``rel.<name>``): the cohort at that moment, so courses of different size and workload compare."""

COUNT_FEATURES: Final = tuple(f for f in FEATURE_NAMES if f != "mean_score")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Rows = (student, course) final results; ``X`` = features before ``as_of`` (NaN = missing)."""

    scheme: str
    """Outcome scheme of the rows (``uci``, ``oulad``, ``campus``; ``mixed`` when several)."""
    as_of: AsOf
    actor_keys: ObjectArray
    courses: ObjectArray
    X: FloatArray
    feature_names: tuple[str, ...]
    outcome: ObjectArray
    passed: npt.NDArray[np.bool_]
    score: FloatArray
    """Final score on a 0–20 scale (NaN when the source has none)."""
    response: ObjectArray
    labelled: npt.NDArray[np.bool_] | None = None
    """Rows with a final result (``None``: all of them)."""
    sequences: npt.NDArray[np.float32] | None = None
    """(rows, weeks, features) weekly tensor before the cut-off; weeks :attr:`weeks`."""
    weeks: tuple[int, ...] = ()
    sequence_features: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def rows(self, index: npt.ArrayLike) -> Dataset:
        """The dataset restricted to ``index`` (a boolean mask or row positions)."""
        idx = np.asarray(index)
        return replace(
            self,
            actor_keys=self.actor_keys[idx],
            courses=self.courses[idx],
            X=self.X[idx],
            outcome=self.outcome[idx],
            passed=self.passed[idx],
            score=self.score[idx],
            response=self.response[idx],
            labelled=None if self.labelled is None else self.labelled[idx],
            sequences=None if self.sequences is None else self.sequences[idx],
        )

    def for_target(self, target: Target) -> tuple[Dataset, ObjectArray | FloatArray]:
        """The labelled rows a target applies to and their labels (see :data:`TARGETS`)."""
        if self.labelled is not None and not self.labelled.all():
            return self.rows(self.labelled).for_target(target)
        if target == "three_class":
            return self, self.outcome
        if target == "pass_fail":
            keep = self.response != "Withdrawn"
            sub = self.rows(keep)
            return sub, np.where(sub.passed, "pass", "fail").astype(object)
        if target == "pass_fail_all":
            return self, np.where(self.passed, "pass", "fail").astype(object)
        if target in ("five_level", "score"):
            sub = self.rows(~np.isnan(self.score))
            if len(sub) == 0:
                raise LearnsightError(
                    f"target {target!r} needs final scores; the {self.scheme} rows have none"
                )
            return sub, (five_level(sub.score) if target == "five_level" else sub.score)
        raise LearnsightError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")

    def flat_sequences(self, *, static: bool = True) -> FloatArray:
        """``[X | sequences flattened week-major]``: the input layout of
        :class:`~learnsight.models.sequence.SequenceClassifier` (``n_static = X.shape[1]``)."""
        if self.sequences is None:
            raise LearnsightError("this dataset has no weekly sequences (feature group 'weekly' is off)")
        seq = self.sequences.reshape(len(self), -1).astype(np.float64)
        return np.hstack([self.X, seq]) if static else seq

    def fingerprint(self) -> str:
        """SHA-256 of the keys, feature names, features and labels: identifies the training data."""
        h = hashlib.sha256()
        for part in (self.actor_keys, self.courses, self.outcome, self.response):
            h.update("\x1f".join(map(str, part.tolist())).encode())
        h.update(json.dumps(list(self.feature_names)).encode())
        h.update(np.ascontiguousarray(round_significant(self.X)).tobytes())
        h.update(np.ascontiguousarray(round_significant(self.score)).tobytes())
        return h.hexdigest()

    def summary(self) -> dict[str, Any]:
        values, counts = np.unique(self.outcome.astype(str), return_counts=True)
        return {
            "scheme": self.scheme,
            "as_of": self.as_of.label(),
            "rows": len(self),
            "students": len(set(self.actor_keys.tolist())),
            "courses": len(set(self.courses.tolist())),
            "features": len(self.feature_names),
            "weeks": len(self.weeks),
            "classes": dict(zip(values.tolist(), counts.tolist(), strict=True)),
            **self.info,
        }


def five_level(score: npt.ArrayLike) -> ObjectArray:
    """Cortez & Silva's five levels of a 0–20 score: I 16–20, II 14–15, III 12–13, IV 10–11, V 0–9.

    >>> five_level([20, 15, 12, 10, 9.5]).tolist()
    ['I', 'II', 'III', 'IV', 'V']
    """
    s = np.asarray(score, dtype=np.float64)
    level = np.digitize(s, [10, 12, 14, 16])  # 0 = V ... 4 = I
    return np.asarray(FIVE_LEVELS, dtype=object)[level]


class DatasetBuilder:
    """Builds :class:`Dataset` s of one store at any number of cut-offs, reading the store once.

    Parameters
    ----------
    store:
        The store (read only).
    scheme:
        Class cut points (:class:`~learnsight.models.outcomes.ClassScheme`).
    groups:
        Feature groups (module docstring); default profile, registry, weekly.
    interim_grades:
        Use UCI's period grades G1, G2 as features.
    courses:
        Only these courses (default: all with a final result, or all enrolled).
    unlabelled:
        Also include enrolled (student, course) pairs without a final result yet — the students
        a prediction is for.  Their ``outcome`` / ``response`` are ``None``, ``score`` NaN and
        :attr:`Dataset.labelled` False; :meth:`Dataset.for_target` (training) leaves them out.
        Enrolled = any statement of the course (model-written ones aside) or a course profile.
    """

    def __init__(
        self,
        store: DuckDBStore,
        *,
        scheme: ClassScheme = DEFAULT_SCHEME,
        groups: Sequence[Group] = DEFAULT_GROUPS,
        interim_grades: bool = False,
        courses: Sequence[str] | None = None,
        unlabelled: bool = False,
    ) -> None:
        unknown = set(groups) - set(GROUPS)
        if unknown:
            raise LearnsightError(f"unknown feature group(s) {sorted(unknown)}; expected {', '.join(GROUPS)}")
        self.store = store
        self.groups = tuple(groups)
        self.interim_grades = interim_grades
        labels = outcomes(store, scheme=scheme)
        if unlabelled:
            labels = _with_enrolled(store, labels)
        if courses is not None:
            wanted = set(courses)
            missing = wanted - set(labels.column("course").to_pylist())
            if missing:
                raise LearnsightError(f"no final results for course(s) {sorted(missing)}")
            mask = np.isin(np.asarray(labels.column("course").to_pylist(), dtype=object), list(wanted))
            labels = labels.filter(pa.array(mask))
        if labels.num_rows == 0:
            raise LearnsightError(
                "the store holds no final results to learn from (import OULAD, UCI or a campus)"
                if not unlabelled
                else "the store holds no enrolled students to predict for"
            )
        self.labels = labels
        self._keys = (labels.column("actor_key"), labels.column("course"))
        self._profile: tuple[FloatArray, list[str]] | None = None
        self._cross: tuple[FloatArray, list[str]] | None = None
        self._weekly: WeeklyFeatures | None = None
        self._tensor: npt.NDArray[np.float32] | None = None

    # -- public ------------------------------------------------------------------------------------

    def build(self, as_of: AsOf | None = None) -> Dataset:
        """The dataset with features visible at ``as_of`` (default: course end)."""
        as_of = as_of or AsOf()
        blocks: list[tuple[FloatArray, list[str]]] = []
        sequences: npt.NDArray[np.float32] | None = None
        weeks: tuple[int, ...] = ()
        if "profile" in self.groups:
            blocks.append(self.profile_block())
        if "cross_course" in self.groups:
            blocks.append(self.cross_course_block())
        if "registry" in self.groups:
            blocks.append(self.registry_block(as_of))
        if "assessments" in self.groups:
            blocks.append(self.assessment_block(as_of))
        if "weekly" in self.groups and self._has_calendar():
            sequences, weeks = self.sequences(as_of)
            blocks.append(summarise_weeks(sequences))
        if "indicators" in self.groups:
            blocks.append(self.indicator_block(as_of))
        n = self.labels.num_rows
        X = np.hstack([b for b, _ in blocks]) if blocks else np.zeros((n, 0))
        names = tuple(name for _, ns in blocks for name in ns)
        # 10 significant digits: DuckDB's parallel float sums may differ in the last bits from run
        # to run, which would otherwise break ties in the ranks, move tree split points and change
        # the data fingerprint
        X = round_significant(X)
        rel, rel_names = relative_ranks(X, names, _objects(self._keys[1]))
        X, names = np.hstack([X, round_significant(rel)]), names + tuple(rel_names)
        schemes = sorted({str(v) for v in self.labels.column("scheme").to_pylist() if v is not None})
        score = self.labels.column("score").to_numpy(zero_copy_only=False).astype(np.float64)
        score_max = self.labels.column("score_max").to_numpy(zero_copy_only=False).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            score20 = np.where(score_max > 0, 20.0 * score / score_max, np.nan)
        return Dataset(
            scheme=schemes[0] if len(schemes) == 1 else ("mixed" if schemes else "none"),
            as_of=as_of,
            actor_keys=_objects(self._keys[0]),
            courses=_objects(self._keys[1]),
            X=X,
            feature_names=names,
            outcome=_objects(self.labels.column("outcome")),
            passed=np.asarray([bool(p) for p in self.labels.column("passed").to_pylist()], dtype=bool),
            score=score20,
            response=_objects(self.labels.column("response")),
            labelled=np.asarray(self.labels.column("outcome").is_valid(), dtype=bool),
            sequences=sequences,
            weeks=weeks,
            sequence_features=FEATURE_NAMES if sequences is not None else (),
            info={"groups": list(self.groups), "interim_grades": self.interim_grades},
        )

    def profile_block(self) -> tuple[FloatArray, list[str]]:
        """Profile features (cached: they do not depend on the cut-off)."""
        if self._profile is None:
            self._profile, self._cross = self._profile_features()
        return self._profile

    def cross_course_block(self) -> tuple[FloatArray, list[str]]:
        """Other-course profile features (cached; see the module docstring)."""
        if self._cross is None:
            self._profile, self._cross = self._profile_features()
        return self._cross

    def registry_block(self, as_of: AsOf) -> tuple[FloatArray, list[str]]:
        """Registration timing visible at ``as_of`` (see the module docstring)."""
        table = self._query_rows(
            as_of,
            _REGISTRY_SQL,
            {
                "registered": vocab.REGISTERED,
                "unregistered": vocab.UNREGISTERED,
                "registry": vocab.SOURCE_REGISTRY,
            },
        )
        if not any(table.column("has_registration").to_pylist()):
            return np.zeros((table.num_rows, 0)), []
        return _columns(table, REGISTRY_FEATURES), [f"registry.{c}" for c in REGISTRY_FEATURES]

    def assessment_block(self, as_of: AsOf) -> tuple[FloatArray, list[str]]:
        """The assessment record visible at ``as_of`` (see the module docstring)."""
        table = self._query_rows(
            as_of,
            _ASSESSMENTS_SQL,
            {
                "submitted": vocab.SUBMITTED,
                "due_path": f'$.context."{vocab.EXT_DUE}"',
                "weight_path": f'$.context."{vocab.EXT_WEIGHT}"',
                "kind_path": f'$.context."{vocab.EXT_ASSESSMENT_KIND}"',
                "late_path": f'$.result."{vocab.EXT_LATE}"',
            },
        )
        if not any(table.column("any_assessment").to_pylist()):
            return np.zeros((table.num_rows, 0)), []
        return _columns(table, ASSESSMENT_FEATURES), [f"assess.{c}" for c in ASSESSMENT_FEATURES]

    def _query_rows(self, as_of: AsOf, sql: str, params: dict[str, object]) -> pa.Table:
        """Run ``sql`` after the as-of views, with the rows as ``_ds_keys`` (``actor_key``,
        ``course``, ``_pos``); the result has one row per dataset row, in order."""
        con = self.store.con
        for name, view in base_views(as_of, vocab.VOIDED):
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {view}")
        keys = pa.table({"actor_key": self._keys[0], "course": self._keys[1]})
        keys = keys.append_column("_pos", pa.array(np.arange(keys.num_rows, dtype=np.int64)))
        con.register("_ds_keys", keys)
        try:
            table: pa.Table = con.sql(sql, params=params).to_arrow_table()
        finally:
            con.unregister("_ds_keys")
        return table

    def sequences(self, as_of: AsOf) -> tuple[npt.NDArray[np.float32], tuple[int, ...]]:
        """The weekly tensor of every row before ``as_of`` and its week axis."""
        if as_of.date is not None:
            wf = weekly_features(DuckDBEngine(self.store), as_of)
            return wf.rows_tensor(*self._keys), tuple(wf.weeks.tolist())
        if self._tensor is None:
            self._weekly = weekly_features(DuckDBEngine(self.store))
            self._tensor = self._weekly.rows_tensor(*self._keys)
        assert self._weekly is not None
        weeks = self._weekly.weeks
        if as_of.week is None:
            return self._tensor, tuple(weeks.tolist())
        keep = weeks < as_of.week
        cut = self._tensor[:, keep]
        if as_of.week > int(weeks[-1]) + 1:  # cut-off beyond the data: pad unobserved weeks
            pad = np.full((cut.shape[0], as_of.week + 1 - cut.shape[1], cut.shape[2]), np.nan, np.float32)
            cut = np.concatenate([cut, pad], axis=1)
        return cut, tuple(range(-1, as_of.week))

    def indicator_block(self, as_of: AsOf) -> tuple[FloatArray, list[str]]:
        """Numeric indicators at ``as_of``, aligned to the rows."""
        from learnsight.indicators.compute import compute_indicators
        from learnsight.indicators.persist import wide_table

        wide = wide_table(compute_indicators(DuckDBEngine(self.store), as_of))
        numeric = [
            f.name
            for f in wide.schema
            if f.name not in ("actor_key", "course")
            and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
        ]
        keys = pa.table({"actor_key": self._keys[0], "course": self._keys[1]})
        keys = keys.append_column("_row", pa.array(np.arange(keys.num_rows, dtype=np.int64)))
        joined = keys.join(
            wide.select(["actor_key", "course", *numeric]), ["actor_key", "course"], join_type="left outer"
        )
        out = np.full((keys.num_rows, len(numeric)), np.nan)
        rows = np.asarray(joined.column("_row").to_numpy(), dtype=np.int64)
        for j, name in enumerate(numeric):
            out[rows, j] = joined.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        return out, [f"ind.{n}" for n in numeric]

    # -- internals ---------------------------------------------------------------------------------

    def _has_calendar(self) -> bool:
        return bool(self.store.scalar("SELECT count(*) FROM courses WHERE start_ts IS NOT NULL"))

    def _profile_features(self) -> tuple[tuple[FloatArray, list[str]], tuple[FloatArray, list[str]]]:
        keys = pa.table({"actor_key": self._keys[0], "course": self._keys[1]})
        con = self.store.con
        con.register("_ds_keys", keys)
        try:
            rows = con.sql(
                """
                SELECT p.actor_key, p.course, p.prior_gpa, p.retakes, CAST(p.attributes AS VARCHAR)
                FROM profiles p
                WHERE p.actor_key IN (SELECT actor_key FROM _ds_keys)
                ORDER BY p.course = '' DESC, p.source
                """
            ).fetchall()
            starts = dict(con.sql("SELECT course, start_ts FROM courses").fetchall())
        finally:
            con.unregister("_ds_keys")
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        general: dict[str, dict[str, Any]] = {}
        for actor, course, gpa, retakes, attrs in rows:
            values: dict[str, Any] = json.loads(attrs) if attrs else {}
            values = {k: v for k, v in values.items() if self._usable(k)}
            if gpa is not None:
                values["prior_gpa"] = gpa
            if retakes is not None:
                values["retakes"] = retakes
            if course == "":
                general.setdefault(actor, {}).update(values)
            else:
                merged.setdefault((actor, course), {}).update(values)
        pairs = list(zip(self._keys[0].to_pylist(), self._keys[1].to_pylist(), strict=True))
        records = [{**general.get(a, {}), **merged.get((a, c), {})} for a, c in pairs]
        courses_of: dict[str, list[str]] = {}
        for a, c in merged:
            courses_of.setdefault(a, []).append(c)
        cross: list[dict[str, Any]] = []
        for a, c in pairs:
            mine = starts.get(c)
            others = [
                merged[(a, o)]
                for o in courses_of.get(a, [])
                if o != c and (mine is None or starts.get(o) is None or starts[o] <= mine)
            ]
            record: dict[str, Any] = {"courses": float(len(others))}
            numeric = {
                k for o in others for k, v in o.items() if isinstance(v, int | float) and v is not None
            }
            for k in numeric:
                vals = [float(o[k]) for o in others if isinstance(o.get(k), int | float)]
                if vals:
                    record[k] = sum(vals) / len(vals)
            cross.append(record)
        return encode_records(records, prefix="profile."), encode_records(cross, prefix="other.")

    def _usable(self, name: str) -> bool:
        if name in OUTCOME_ATTRIBUTES or name in BOOKKEEPING_ATTRIBUTES:
            return False
        return self.interim_grades or name not in INTERIM_GRADE_ATTRIBUTES


REGISTRY_FEATURES: Final = ("days_before_start", "unregistered")
"""Columns of the ``registry`` group (``registry.<name>``)."""

ASSESSMENT_FEATURES: Final = (
    "due",
    "submitted",
    "missed",
    "missed_share",
    "weighted_score",
    "mean_score",
    "min_score",
    "last_score",
    "failed",
    "late",
    "mean_score_tma",
    "mean_score_cma",
    "exam_score",
    "days_early",
)
"""Columns of the ``assessments`` group (``assess.<name>``); scores scaled to [0, 1]."""

_ASSESSMENTS_SQL: Final = """
WITH cutoff AS (
    SELECT c.course,
           coalesce(cc.cutoff, c.start_ts + to_days(CAST(c.length_days AS INTEGER)), TIMESTAMP '9999-01-01')
               AS cutoff
    FROM courses c LEFT JOIN course_cutoff cc USING (course)),
subs AS (
    SELECT actor_key, course, object_id, ts, score_scaled,
           TRY_CAST(json_extract_string(extensions, $due_path) AS TIMESTAMP) AS due,
           coalesce(TRY_CAST(json_extract_string(extensions, $weight_path) AS DOUBLE), 1.0) AS weight,
           upper(json_extract_string(extensions, $kind_path)) AS kind,
           coalesce(json_extract_string(extensions, $late_path) = 'true', FALSE) AS late_flag
    FROM statements
    WHERE verb_id = $submitted AND course IS NOT NULL AND NOT voided),
calendar AS (   -- every course's assessments and their published deadlines
    SELECT course, object_id, max(due) AS due, max(weight) AS weight
    FROM subs GROUP BY course, object_id),
due_now AS (
    SELECT k.actor_key, k.course, cal.object_id, cal.weight
    FROM (SELECT DISTINCT actor_key, course FROM _ds_keys) k
    JOIN calendar cal ON cal.course = k.course
    JOIN cutoff cu ON cu.course = k.course
    WHERE cal.due IS NOT NULL AND cal.due < cu.cutoff),
visible AS (    -- the student's own submissions before the cut-off
    SELECT s.* FROM subs s
    JOIN ev ON ev.verb_id = $submitted AND ev.actor_key = s.actor_key AND ev.object_id = s.object_id
              AND ev.ts = s.ts AND ev.course = s.course),
per_item AS (
    SELECT actor_key, course, object_id, max(score_scaled) AS score, min(ts) AS ts, any_value(due) AS due,
           any_value(weight) AS weight, any_value(kind) AS kind, bool_or(late_flag OR ts > due) AS late
    FROM visible GROUP BY actor_key, course, object_id),
own AS (
    SELECT actor_key, course,
           count(*) AS submitted,
           avg(score) AS mean_score, min(score) AS min_score,
           last(score ORDER BY ts, object_id) AS last_score,
           count(*) FILTER (WHERE score < 0.4) AS failed,
           count(*) FILTER (WHERE late) AS late,
           avg(score) FILTER (WHERE kind = 'TMA') AS mean_score_tma,
           avg(score) FILTER (WHERE kind = 'CMA') AS mean_score_cma,
           max(score) FILTER (WHERE kind = 'EXAM') AS exam_score,
           avg(date_diff('second', ts, due) / 86400.0) AS days_early
    FROM per_item GROUP BY actor_key, course),
due_agg AS (
    SELECT d.actor_key, d.course, count(*) AS due,
           count(*) FILTER (WHERE p.object_id IS NULL) AS missed
    FROM due_now d LEFT JOIN per_item p USING (actor_key, course, object_id)
    GROUP BY d.actor_key, d.course),
weighted AS (   -- due or submitted items, a missed one scoring 0
    SELECT actor_key, course,
           sum(coalesce(score, 0) * weight) / nullif(sum(weight), 0) AS weighted_score
    FROM (SELECT d.actor_key, d.course, d.object_id, d.weight, p.score
          FROM due_now d LEFT JOIN per_item p USING (actor_key, course, object_id)
          UNION ALL
          SELECT p.actor_key, p.course, p.object_id, p.weight, p.score
          FROM per_item p ANTI JOIN due_now d USING (actor_key, course, object_id))
    GROUP BY actor_key, course)
SELECT coalesce(a.due, 0) AS due,
       coalesce(o.submitted, 0) AS submitted,
       coalesce(a.missed, 0) AS missed,
       CASE WHEN coalesce(a.due, 0) > 0 THEN a.missed / a.due END AS missed_share,
       w.weighted_score, o.mean_score, o.min_score, o.last_score,
       coalesce(o.failed, 0) AS failed, coalesce(o.late, 0) AS late,
       o.mean_score_tma, o.mean_score_cma, o.exam_score, o.days_early,
       (SELECT count(*) FROM calendar WHERE course IN (SELECT course FROM _ds_keys)) > 0 AS any_assessment
FROM _ds_keys k
LEFT JOIN due_agg a USING (actor_key, course)
LEFT JOIN own o USING (actor_key, course)
LEFT JOIN weighted w USING (actor_key, course)
ORDER BY k._pos
"""


_ENROLLED_SQL: Final = """
SELECT DISTINCT actor_key, course FROM statements
WHERE course IS NOT NULL AND NOT voided AND NOT list_contains($derived, source)
UNION
SELECT DISTINCT actor_key, course FROM profiles WHERE course <> ''
"""


def _with_enrolled(store: DuckDBStore, labels: pa.Table) -> pa.Table:
    """``labels`` plus every enrolled pair without a final result (label columns null)."""
    enrolled = store.con.sql(_ENROLLED_SQL, params={"derived": list(vocab.DERIVED_SOURCES)}).to_arrow_table()
    con = store.con
    con.register("_ds_labels", labels)
    con.register("_ds_enrolled", enrolled)
    try:
        extra = con.sql(
            "SELECT e.actor_key, e.course FROM _ds_enrolled e "
            "ANTI JOIN _ds_labels l USING (actor_key, course) ORDER BY e.course, e.actor_key"
        ).to_arrow_table()
    finally:
        con.unregister("_ds_labels")
        con.unregister("_ds_enrolled")
    columns = {
        f.name: extra.column(f.name)
        if f.name in ("actor_key", "course")
        else pa.nulls(extra.num_rows, f.type)
        for f in labels.schema
    }
    return pa.concat_tables([labels, pa.table(columns, schema=labels.schema)])


_REGISTRY_SQL: Final = """
WITH reg AS (
    SELECT actor_key, course,
           min(CASE WHEN verb_id = $registered THEN ts END) AS registered,
           max(CASE WHEN verb_id = $unregistered THEN 1 ELSE 0 END) AS unregistered
    FROM ev WHERE source = $registry AND verb_id IN ($registered, $unregistered)
    GROUP BY actor_key, course)
SELECT date_diff('second', r.registered, c.start_ts) / 86400.0 AS days_before_start,
       coalesce(r.unregistered, 0) AS unregistered,
       r.actor_key IS NOT NULL AS has_registration
FROM _ds_keys k
LEFT JOIN reg r ON r.actor_key = k.actor_key AND r.course = k.course
LEFT JOIN courses c ON c.course = k.course
ORDER BY k._pos
"""


def encode_records(
    records: Sequence[dict[str, Any]], *, prefix: str, max_categories: int = MAX_CATEGORIES
) -> tuple[FloatArray, list[str]]:
    """Numbers and booleans as columns, text one-hot (``<prefix><name>=<value>``), absent = NaN.

    A name whose values mix text and numbers is treated as text; a text name with more than
    ``max_categories`` distinct values (an identifier, free text) is left out.  Columns are sorted
    by name.

    >>> X, names = encode_records([{"age": 17, "sex": "F"}, {"sex": "M", "paid": True}], prefix="")
    >>> names
    ['age', 'paid', 'sex=F', 'sex=M']
    >>> X.tolist()
    [[17.0, nan, 1.0, 0.0], [nan, 1.0, 0.0, 1.0]]
    """
    kinds: dict[str, set[str]] = {}
    for rec in records:
        for k, v in rec.items():
            if v is None:
                continue
            kinds.setdefault(k, set()).add("text" if isinstance(v, str) else "number")
    columns: dict[str, int] = {}
    names: list[str] = []
    plan: list[tuple[str, str | None]] = []
    for k in sorted(kinds):
        if "text" in kinds[k]:
            categories = sorted({str(r[k]) for r in records if r.get(k) is not None})
            if len(categories) > max_categories:
                kinds.pop(k)
                continue
            plan.extend((k, c) for c in categories)
        else:
            plan.append((k, None))
    for name, category in plan:
        label = f"{prefix}{name}" if category is None else f"{prefix}{name}={category}"
        columns[label] = len(names)
        names.append(label)
    X = np.full((len(records), len(names)), np.nan)
    text_names = {k for k in kinds if "text" in kinds[k]}
    one_hot = {k: [columns[n] for n in names if n.startswith(f"{prefix}{k}=")] for k in text_names}
    for i, rec in enumerate(records):
        for k in text_names:
            v = rec.get(k)
            if v is None:
                continue
            X[i, one_hot[k]] = 0.0
            X[i, columns[f"{prefix}{k}={v}"]] = 1.0
        for k, v in rec.items():
            if v is not None and k not in text_names and k in kinds:
                X[i, columns[f"{prefix}{k}"]] = float(v)
    return X, names


def summarise_weeks(seq: npt.NDArray[np.float32]) -> tuple[FloatArray, list[str]]:
    """Tabular summaries of a (rows, weeks, features) tensor whose first week is the pre-course one.

    For each count feature: the total over the observed weeks and over the last two observed
    weeks (``weekly.<f>.total``, ``weekly.<f>.last2``); plus ``weekly.mean_score`` (mean of the
    weekly mean scores weighted by ``scored_items``), ``weekly.pre_course_events``,
    ``weekly.active_weeks`` (teaching weeks with an event), ``weekly.active_share`` (of the observed
    teaching weeks) and ``weekly.weeks_since_active`` (observed teaching weeks after the last active
    one; all of them when none was active).  A feature of an absent source stays NaN; a row with no
    observed week gets NaN totals.
    """
    n, _, _ = seq.shape
    s = seq.astype(np.float64)
    idx = {name: j for j, name in enumerate(FEATURE_NAMES)}
    ev = s[:, :, idx["events"]]
    observed = ~np.isnan(ev)
    # rank of each observed week counted from the last observed one (1 = last)
    rank = np.cumsum(observed[:, ::-1], axis=1)[:, ::-1]
    last2 = observed & (rank <= 2)
    cols: list[FloatArray] = []
    names: list[str] = []
    any_obs = observed.any(axis=1)
    for f in COUNT_FEATURES:
        v = s[:, :, idx[f]]
        total = np.where(any_obs & ~np.all(np.isnan(v), axis=1), np.nansum(v, axis=1), np.nan)
        recent = np.where(
            any_obs & ~np.all(np.isnan(v), axis=1), np.nansum(np.where(last2, v, 0.0), axis=1), np.nan
        )
        cols += [total, recent]
        names += [f"weekly.{f}.total", f"weekly.{f}.last2"]
    # events in each of the last LAGS observed weeks (lag1 = the latest), the recent trajectory
    for lag in range(1, LAGS + 1):
        sel = observed & (rank == lag)
        cols.append(np.where(sel.any(axis=1), np.nansum(np.where(sel, ev, 0.0), axis=1), np.nan))
        names.append(f"weekly.events.lag{lag}")
    items = s[:, :, idx["scored_items"]]
    score = s[:, :, idx["mean_score"]]
    weight = np.where(np.isnan(score) | np.isnan(items), 0.0, items)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.nansum(np.where(weight > 0, score * weight, 0.0), axis=1) / weight.sum(axis=1)
    cols.append(np.where(weight.sum(axis=1) > 0, mean_score, np.nan))
    names.append("weekly.mean_score")
    cols.append(s[:, 0, idx["events"]])
    names.append("weekly.pre_course_events")
    teach_obs = observed[:, 1:]
    active = teach_obs & (np.nan_to_num(ev[:, 1:]) > 0)
    n_obs = teach_obs.sum(axis=1).astype(np.float64)
    n_active = active.sum(axis=1).astype(np.float64)
    cols.append(np.where(n_obs > 0, n_active, np.nan))
    names.append("weekly.active_weeks")
    with np.errstate(invalid="ignore", divide="ignore"):
        cols.append(np.where(n_obs > 0, n_active / n_obs, np.nan))
    names.append("weekly.active_share")
    # position (1-based) of the last active teaching week among the observed ones
    obs_pos = np.cumsum(teach_obs, axis=1)
    last_active = np.max(np.where(active, obs_pos, 0), axis=1).astype(np.float64)
    cols.append(np.where(n_obs > 0, n_obs - last_active, np.nan))
    names.append("weekly.weeks_since_active")
    return np.column_stack(cols) if cols else np.zeros((n, 0)), names


def relative_ranks(X: FloatArray, names: Sequence[str], courses: ObjectArray) -> tuple[FloatArray, list[str]]:
    """Percentile rank in [0, 1] of each :data:`RELATIVE_FEATURES` column within its course (ties
    share their mean rank; NaN stays NaN)."""
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    present = [name for name in RELATIVE_FEATURES if name in names]
    out = np.full((X.shape[0], len(present)), np.nan)
    for course in np.unique(courses.astype(str)):
        rows = np.flatnonzero(courses.astype(str) == course)
        for j, name in enumerate(present):
            v = X[rows, names.index(name)]
            ok = ~np.isnan(v)
            if ok.sum() > 1:
                out[rows[ok], j] = (rankdata(v[ok]) - 1) / (ok.sum() - 1)
    return out, [f"rel.{name}" for name in present]


def round_significant(x: FloatArray, digits: int = 10) -> FloatArray:
    """``x`` rounded to ``digits`` significant digits (NaN and 0 kept).

    DuckDB's parallel float sums differ in the last bits from run to run; rounding makes every
    derived value (features, fingerprints, evidence sentences) reproducible."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(
            (x == 0) | ~np.isfinite(x), 1.0, 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(x))))
        )
        out: FloatArray = np.round(x * scale) / scale
    return out


def _columns(table: pa.Table, names: Sequence[str]) -> FloatArray:
    """The named columns of ``table`` as a float matrix (nulls → NaN)."""
    return np.column_stack([table.column(c).cast(pa.float64()).to_numpy(zero_copy_only=False) for c in names])


def _objects(column: pa.ChunkedArray | pa.Array) -> ObjectArray:
    return np.asarray(column.to_pylist(), dtype=object)


def class_order(target: Target, y: npt.ArrayLike) -> list[str]:
    """The classes of ``y`` in their natural order, worst first (for reports and confusion matrices)."""
    present = {str(v) for v in np.asarray(y).tolist()}
    order: Sequence[str]
    if target == "three_class":
        order = OUTCOME_LABELS
    elif target in ("pass_fail", "pass_fail_all"):
        order = ("fail", "pass")
    elif target == "five_level":
        order = FIVE_LEVELS
    else:
        raise LearnsightError(f"target {target!r} has no classes")
    return [c for c in order if c in present] + sorted(present - set(order))


__all__ = [
    "ASSESSMENT_FEATURES",
    "BOOKKEEPING_ATTRIBUTES",
    "DEFAULT_GROUPS",
    "FIVE_LEVELS",
    "GROUPS",
    "INTERIM_GRADE_ATTRIBUTES",
    "OUTCOME_ATTRIBUTES",
    "TARGETS",
    "Dataset",
    "DatasetBuilder",
    "Group",
    "Target",
    "class_order",
    "encode_records",
    "five_level",
    "round_significant",
    "summarise_weeks",
]
