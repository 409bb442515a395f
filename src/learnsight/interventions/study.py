"""Intervention experiments in the store: who was assigned to which arm, and what the scores say
(SPEC §4, "Experiments").

**Assignment** (:func:`assign`).  The units of an experiment are enrolments (student, course) —
by default the students a model predicted *at-risk* at a cut-off (the ``predicted`` statements of
:mod:`learnsight.models.predict`), stratified by course × predicted class.  Within each stratum the
units are randomised to ``intervention`` or ``control`` by
:func:`~learnsight.interventions.experiments.stratified_assignment` (a function of the seed alone),
and each unit's arm is recorded as one xAPI statement:

* actor = the learner; verb :data:`ASSIGNED` ("was assigned to"); object = the experiment activity
  ``BASE/experiments/<uuid>`` (type :data:`EXPERIMENT`, name = the experiment's name);
* ``result.response`` = the arm;
* ``context.registration`` = the experiment's UUID (:func:`experiment_id`, derived from its name, so
  every statement of one experiment shares it); ``context.platform`` =
  :data:`~learnsight.xapi.vocab.SOURCE_INTERVENTION` (never an indicator event or a model feature);
  ``context.contextActivities.grouping`` = the course; context extensions: the stratum, the seed,
  the treated share and the cut-off of the predictions (:data:`~learnsight.xapi.vocab.EXT_AS_OF`);
* the statement id is deterministic — (experiment, learner, course) — so assigning again adds
  nothing, and a unit cannot hold two arms: assigning a stored unit to the other arm is an error
  that names the unit and writes nothing.  One call writes one atomic batch (kind :data:`INGEST_KIND`).

**Analysis** (:func:`analyze`).  Each assigned unit's score on the ``before`` and the ``after``
assessment is read from the store.  An assessment **selector** is one of

* ``course`` — the course's final result: a scored statement whose object is the unit's course
  (the registry's final grade in the synthetic campus and OULAD);
* a **suffix** such as ``exam/midterm`` — the object ``<unit's course IRI>/exam/midterm``, so one
  selector picks each unit's own course's assessment;
* an absolute **IRI** (``https://…``) — that object, for the units of the course it belongs to.

In every case the scored statement must belong to the unit's course (its ``course`` column, from
``contextActivities.grouping``) or to no course, so one course's exam never stands in for another's.

A score on 0–100 is ``100 · (score_raw − score_min) / (score_max − score_min)`` when the raw score
and its bounds are known, else ``100 · score_scaled``; the latest such statement (by timestamp)
counts.  Model-written and intervention statements are never scores.  Units without both scores
are dropped and reported (:attr:`StudyResult.missing`).  Per group (``by``: the stratum, the
course, or nothing for all units together) × arm the SPEC §4 row comes from
:func:`~learnsight.interventions.experiments.paired_analysis` (n, mean before → after, change, paired
``T`` on before − after, p, Cohen's ``d_z``, CI of the change) with the power of the paired test at
the observed ``d_z`` for that n and the n that 80 % power would need
(:func:`~learnsight.interventions.experiments.paired_power`,
:func:`~learnsight.interventions.experiments.paired_sample_size`); per group,
:func:`~learnsight.interventions.experiments.compare_groups` says whether the intervention arm
improved more than the control arm (difference of the mean changes, Welch's t, p, Cohen's d), with
the Welch confidence interval of that difference from SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.interventions.experiments import (
    GroupComparison,
    PairedResult,
    compare_groups,
    paired_analysis,
    paired_power,
    paired_sample_size,
    stratified_assignment,
)
from learnsight.models.predict import agent_from_key
from learnsight.store.base import IngestBatch, IngestReport
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi import vocab
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.vocab import (  # the experiments' vocabulary, re-exported
    ASSIGNED,
    EXPERIMENT,
    EXPERIMENT_PREFIX,
    EXT_ASSIGNMENT_SEED,
    EXT_STRATUM,
    EXT_TREATED_SHARE,
)

INGEST_KIND: Final = "experiment"
"""``ingest_batches.kind`` of stored assignments."""
XAPI_VERSION: Final = "1.0.3"
LANG: Final = "en-US"
INTERVENTION: Final = "intervention"
CONTROL: Final = "control"
ARMS: Final = (INTERVENTION, CONTROL)
GROUP_FIELDS: Final = ("stratum", "course")
"""What :func:`analyze` can group by."""


def experiment_id(name: str) -> str:
    """The experiment's UUID (``context.registration`` of its statements), derived from its name.

    >>> experiment_id("reminders-2024")
    'aa117c6e-ad5c-5459-82d6-0e9dab96fc5d'
    """
    if not name or not name.strip():
        raise LearnsightError("an experiment needs a non-empty name")
    return str(deterministic_id("experiment", name))


def experiment_iri(name: str) -> str:
    """The object IRI of the experiment ``name``."""
    return EXPERIMENT_PREFIX + experiment_id(name)


@dataclass(frozen=True)
class Unit:
    """One enrolment taking part in an experiment, with the stratum it is randomised in."""

    actor_key: str
    course: str
    stratum: str


@dataclass(frozen=True)
class AssignedUnit:
    """A unit and its arm."""

    actor_key: str
    course: str
    stratum: str
    arm: str

    def to_dict(self) -> dict[str, Any]:
        return {"actor_key": self.actor_key, "course": self.course, "stratum": self.stratum, "arm": self.arm}


@dataclass(frozen=True)
class Assignment:
    """What :func:`assign` did: every unit's arm and what the store took."""

    experiment: str
    experiment_id: str
    seed: int
    treated_share: float
    as_of: str | None
    units: tuple[AssignedUnit, ...]
    statements_written: int
    statements_skipped: int

    def counts(self) -> dict[str, dict[str, int]]:
        """``{stratum: {arm: n}}``."""
        out: dict[str, dict[str, int]] = {}
        for u in self.units:
            arms = out.setdefault(u.stratum, dict.fromkeys(ARMS, 0))
            arms[u.arm] = arms.get(u.arm, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "experiment_id": self.experiment_id,
            "seed": self.seed,
            "treated_share": self.treated_share,
            "as_of": self.as_of,
            "counts": self.counts(),
            "statements_written": self.statements_written,
            "statements_skipped": self.statements_skipped,
            "units": [u.to_dict() for u in self.units],
        }


# -- units ------------------------------------------------------------------------------------------

_PREDICTIONS_SQL: Final = """
SELECT actor_key, course, response AS predicted, as_of FROM (
    SELECT actor_key, course, response, json_extract_string(raw, $as_of_path) AS as_of,
           row_number() OVER (PARTITION BY actor_key, course ORDER BY stored DESC, id DESC) AS k
    FROM statements
    WHERE verb_id = $verb AND source = $source AND NOT voided AND course IS NOT NULL
      AND json_extract_string(raw, $target_path) = $target
      AND json_extract_string(raw, $as_of_path) = $as_of)
WHERE k = 1
ORDER BY course, actor_key
"""
_PREDICTION_CUTOFFS_SQL: Final = """
SELECT DISTINCT json_extract_string(raw, $as_of_path) AS as_of FROM statements
WHERE verb_id = $verb AND source = $source AND NOT voided AND json_extract_string(raw, $target_path) = $target
ORDER BY as_of
"""


def _context_path(iri: str) -> str:
    return f'$.context.extensions."{iri}"'


def predicted_units(
    store: DuckDBStore,
    *,
    as_of: AsOf | None = None,
    target: str = "three_class",
    classes: Sequence[str] = ("at-risk",),
) -> list[Unit]:
    """The enrolments a model predicted in one of ``classes`` at ``as_of``, stratified by course ×
    predicted class (stratum ``"<class> · <course>"``).

    Reads the ``predicted`` statements for ``target`` made at the cut-off ``as_of`` (the
    :data:`~learnsight.xapi.vocab.EXT_AS_OF` context extension); when several were stored for one
    enrolment, the latest counts.  Without ``as_of`` the store must hold predictions of one cut-off
    only.  Raises when there is no prediction to choose from or ``classes`` is empty.
    """
    if not classes:
        raise LearnsightError("give at least one predicted class to draw the units from")
    params: dict[str, object] = {
        "verb": vocab.PREDICTED,
        "source": vocab.SOURCE_MODEL,
        "target": target,
        "target_path": _context_path(vocab.EXT_TARGET),
        "as_of_path": _context_path(vocab.EXT_AS_OF),
    }
    if as_of is None:
        cuts = [
            str(r[0])
            for r in store.con.execute(_PREDICTION_CUTOFFS_SQL, params).fetchall()
            if r[0] is not None
        ]
        if not cuts:
            raise LearnsightError(
                f"the store holds no {target!r} predictions (run `learnsight predict --store`)"
            )
        if len(cuts) > 1:
            raise LearnsightError(
                f"the store holds {target!r} predictions at several cut-offs ({', '.join(cuts)}); "
                "choose one with as_of (--as-of)"
            )
        label = cuts[0]
    else:
        label = as_of.label()
    rows = store.con.execute(_PREDICTIONS_SQL, {**params, "as_of": label}).fetchall()
    if not rows:
        raise LearnsightError(f"the store holds no {target!r} predictions made at {label}")
    wanted = set(classes)
    return [Unit(str(a), str(c), f"{p} · {c}") for a, c, p, _ in rows if p in wanted]


# -- assignment -------------------------------------------------------------------------------------

_ASSIGNMENTS_SQL: Final = """
SELECT actor_key, course, response AS arm, json_extract_string(raw, $stratum_path) AS stratum, ts
FROM statements
WHERE verb_id = $verb AND source = $source AND registration = CAST($registration AS UUID) AND NOT voided
ORDER BY course, actor_key
"""


def load_assignments(store: DuckDBStore, experiment: str) -> pa.Table:
    """The stored units of ``experiment``: ``actor_key, course, arm, stratum, ts`` (empty if none)."""
    return store.con.sql(
        _ASSIGNMENTS_SQL,
        params={
            "verb": ASSIGNED,
            "source": vocab.SOURCE_INTERVENTION,
            "registration": experiment_id(experiment),
            "stratum_path": _context_path(EXT_STRATUM),
        },
    ).to_arrow_table()


def _unit_key(actor_key: str, course: str) -> str:
    return f"{actor_key}\t{course}"


def assignment_statement(
    experiment: str,
    unit: AssignedUnit,
    *,
    seed: int,
    treated_share: float,
    as_of: str | None,
    timestamp: datetime,
) -> dict[str, Any]:
    """The xAPI statement recording ``unit``'s arm (see the module docstring)."""
    exp_id = experiment_id(experiment)
    course = {"objectType": "Activity", "id": unit.course, "definition": {"type": vocab.COURSE}}
    extensions: dict[str, Any] = {
        EXT_STRATUM: unit.stratum,
        EXT_ASSIGNMENT_SEED: seed,
        EXT_TREATED_SHARE: treated_share,
    }
    if as_of is not None:
        extensions[vocab.EXT_AS_OF] = as_of
    when = timestamp if timestamp.tzinfo is None else timestamp.astimezone(UTC).replace(tzinfo=None)
    return {
        "id": str(
            deterministic_id(vocab.SOURCE_INTERVENTION, "assigned", exp_id, unit.actor_key, unit.course)
        ),
        "actor": agent_from_key(unit.actor_key),
        "verb": {"id": ASSIGNED, "display": {LANG: vocab.VERB_DISPLAY[ASSIGNED]}},
        "object": {
            "objectType": "Activity",
            "id": EXPERIMENT_PREFIX + exp_id,
            "definition": {"type": EXPERIMENT, "name": {LANG: experiment}},
        },
        "result": {"response": unit.arm},
        "context": {
            "registration": exp_id,
            "platform": vocab.SOURCE_INTERVENTION,
            "contextActivities": {"grouping": [course]},
            "extensions": extensions,
        },
        "timestamp": when.isoformat(timespec="milliseconds") + "Z",
        "version": XAPI_VERSION,
    }


def assign(
    store: DuckDBStore,
    *,
    experiment: str,
    units: Sequence[Unit] | None = None,
    seed: int = 7,
    treated_share: float = 0.5,
    as_of: AsOf | None = None,
    target: str = "three_class",
    classes: Sequence[str] = ("at-risk",),
    timestamp: datetime | None = None,
) -> Assignment:
    """Randomise ``units`` (default: :func:`predicted_units` at ``as_of``) to intervention and
    control within their strata and record every unit's arm in the store (module docstring).

    The arms are a function of the seed and the set of units (sorted before shuffling).  A unit
    already stored in this experiment with the other arm is an error naming it; nothing is written
    then.  ``timestamp`` (default now) is the assignment's time.
    """
    exp_id = experiment_id(experiment)
    from_predictions = units is None
    chosen = list(
        predicted_units(store, as_of=as_of, target=target, classes=classes) if units is None else units
    )
    if not chosen:
        raise LearnsightError(
            f"experiment {experiment!r}: no units to assign"
            + (f" (no student predicted {' or '.join(classes)})" if from_predictions else "")
        )
    for u in chosen:
        if not u.actor_key or not u.course or not u.stratum:
            raise LearnsightError(
                f"experiment {experiment!r}: unit {u} has an empty actor key, course or stratum"
            )
    chosen.sort(key=lambda u: (u.stratum, u.course, u.actor_key))
    keys = [_unit_key(u.actor_key, u.course) for u in chosen]
    listed: set[str] = set()
    for u, k in zip(chosen, keys, strict=True):
        if k in listed:
            raise LearnsightError(f"experiment {experiment!r}: {u.actor_key} in {u.course} is listed twice")
        listed.add(k)
    arms = stratified_assignment(keys, [u.stratum for u in chosen], seed=seed, treated_share=treated_share)
    assigned = tuple(
        AssignedUnit(u.actor_key, u.course, u.stratum, arms[k]) for u, k in zip(chosen, keys, strict=True)
    )
    stored = {
        _unit_key(r["actor_key"], r["course"]): str(r["arm"])
        for r in load_assignments(store, experiment).to_pylist()
    }
    for au in assigned:
        before = stored.get(_unit_key(au.actor_key, au.course))
        if before is not None and before != au.arm:
            raise LearnsightError(
                f"experiment {experiment!r}: {au.actor_key} in {au.course} is already assigned to {before}, "
                f"this assignment would put them in {au.arm}; nothing was written"
            )
    cut = as_of.label() if as_of is not None else None
    when = timestamp or datetime.now(UTC)
    statements = [
        assignment_statement(
            experiment, au, seed=seed, treated_share=treated_share, as_of=cut, timestamp=when
        )
        for au in assigned
    ]
    report = _write(store, experiment, statements, assigned)
    return Assignment(
        experiment=experiment,
        experiment_id=exp_id,
        seed=seed,
        treated_share=treated_share,
        as_of=cut,
        units=assigned,
        statements_written=report.statements_written,
        statements_skipped=report.statements_skipped,
    )


def _write(
    store: DuckDBStore, experiment: str, statements: Sequence[dict[str, Any]], units: Sequence[AssignedUnit]
) -> IngestReport:
    """Validate every statement strictly and write them in one atomic batch."""
    from learnsight.xapi.columns import statement_columns, statements_table
    from learnsight.xapi.parse import parse_statement

    stored = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for i, (s, u) in enumerate(zip(statements, units, strict=True)):
        row = statement_columns(parse_statement(s, index=i), stored=stored, source=s)
        if row["actor_key"] != u.actor_key:
            raise LearnsightError(
                f"experiment {experiment!r}: actor key {u.actor_key!r} is not canonical "
                f"(the store keys it as {row['actor_key']!r})"
            )
        rows.append(row)
    counts = {arm: sum(u.arm == arm for u in units) for arm in ARMS}
    return store.ingest(
        IngestBatch(
            kind=INGEST_KIND,
            source=f"experiment({experiment}: " + ", ".join(f"{k}={v}" for k, v in counts.items()) + ")",
            rows_read=len(rows),
            statements=statements_table(rows),
            details={"experiment": experiment, "experiment_id": experiment_id(experiment), "arms": counts},
        )
    )


# -- scores -----------------------------------------------------------------------------------------

SelectorKind = Literal["course", "suffix", "iri"]


@dataclass(frozen=True)
class Selector:
    """Which assessment a score comes from (see the module docstring)."""

    text: str
    kind: SelectorKind
    value: str

    @classmethod
    def parse(cls, text: str) -> Selector:
        """``course``, a suffix (``exam/midterm``) or an IRI (``https://…``).

        >>> Selector.parse("exam/midterm").kind, Selector.parse("course").kind
        ('suffix', 'course')
        """
        t = (text or "").strip()
        if not t:
            raise LearnsightError(
                "an assessment selector is empty; give 'course', a suffix such as exam/midterm or an IRI"
            )
        if t == "course":
            return cls(t, "course", "")
        if "://" in t or t.startswith("urn:"):
            return cls(t, "iri", t)
        if any(ch.isspace() for ch in t):
            raise LearnsightError(f"assessment selector {t!r}: a suffix cannot contain spaces")
        return cls(t, "suffix", t.strip("/"))

    def object_sql(self) -> str:
        """SQL giving the wanted object IRI of unit ``u`` (``$<name>`` parameter for the value)."""
        return {"course": "u.course", "suffix": "u.course || '/' || $value", "iri": "$value"}[self.kind]


_SCORES_SQL: Final = """
SELECT u.actor_key, u.course, arg_max(
    CASE WHEN s.score_raw IS NOT NULL AND s.score_min IS NOT NULL AND s.score_max IS NOT NULL
              AND s.score_max > s.score_min
         THEN 100.0 * (s.score_raw - s.score_min) / (s.score_max - s.score_min)
         ELSE 100.0 * s.score_scaled END, s.ts) AS score
FROM _study_units u
JOIN statements s ON s.actor_key = u.actor_key AND s.object_id = {target}
WHERE NOT s.voided AND NOT list_contains($derived, s.source) AND (s.course = u.course OR s.course IS NULL)
  AND (s.score_scaled IS NOT NULL
       OR (s.score_raw IS NOT NULL AND s.score_min IS NOT NULL AND s.score_max > s.score_min))
GROUP BY u.actor_key, u.course
"""


def unit_scores(store: DuckDBStore, units: pa.Table, selector: Selector) -> dict[tuple[str, str], float]:
    """Each unit's 0–100 score on the selected assessment (units without one are absent)."""
    params: dict[str, object] = {"derived": list(vocab.DERIVED_SOURCES)}
    if selector.kind != "course":
        params["value"] = selector.value
    store.con.register("_study_units", units.select(["actor_key", "course"]))
    try:
        rows = store.con.execute(_SCORES_SQL.format(target=selector.object_sql()), params).fetchall()
    finally:
        store.con.unregister("_study_units")
    return {(str(a), str(c)): float(v) for a, c, v in rows if v is not None and math.isfinite(v)}


# -- analysis ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingScore:
    """A unit left out of the analysis, and which score it lacks."""

    actor_key: str
    course: str
    arm: str
    stratum: str
    missing: str
    """``before``, ``after`` or ``both``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "actor_key": self.actor_key,
            "course": self.course,
            "arm": self.arm,
            "stratum": self.stratum,
            "missing": self.missing,
        }


@dataclass(frozen=True)
class ArmResult:
    """One SPEC §4 row: a group's arm, its paired before/after analysis and its power."""

    group: str
    arm: str
    paired: PairedResult
    power: float | None
    """Power of the paired t-test with this n at the observed ``d_z`` (None when ``d_z`` is undefined)."""
    needed_n: int | None
    """Students a paired t-test needs for 80 % power at the observed ``d_z`` (None when undefined)."""

    def to_dict(self) -> dict[str, Any]:
        d = self.paired.to_dict()
        d.update({"group": self.group, "arm": self.arm, "power": self.power, "needed_n": self.needed_n})
        return d


@dataclass(frozen=True)
class GroupResult:
    """The arms of one group and, when both have at least 2 units, their comparison."""

    group: str
    arms: tuple[ArmResult, ...]
    comparison: GroupComparison | None
    notes: tuple[str, ...] = ()

    @property
    def difference_ci(self) -> tuple[float, float] | None:
        """Welch confidence interval of the difference of mean changes (intervention − control)."""
        c = self.comparison
        return None if c is None else (c.ci_low, c.ci_high)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "arms": [a.to_dict() for a in self.arms],
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "difference_ci": None if self.difference_ci is None else list(self.difference_ci),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class StudyResult:
    """The analysis of one experiment (see :func:`analyze`)."""

    experiment: str
    experiment_id: str
    before: str
    after: str
    by: tuple[str, ...]
    confidence: float
    units: int
    """Units assigned."""
    analysed: int
    """Units with both scores."""
    missing: tuple[MissingScore, ...]
    groups: tuple[GroupResult, ...]
    scores: pa.Table = field(repr=False)
    """Per analysed unit: ``actor_key, course, arm, stratum, group, before, after``."""

    def rows(self) -> list[ArmResult]:
        """Every SPEC §4 row, group by group."""
        return [a for g in self.groups for a in g.arms]

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "experiment_id": self.experiment_id,
            "before": self.before,
            "after": self.after,
            "by": list(self.by),
            "confidence": self.confidence,
            "units": self.units,
            "analysed": self.analysed,
            "missing": [m.to_dict() for m in self.missing],
            "groups": [g.to_dict() for g in self.groups],
        }


def _power(dz: float, n: int, *, alpha: float, power: float) -> tuple[float | None, int | None]:
    if not math.isfinite(dz):
        return None, None
    achieved = paired_power(dz, n, alpha=alpha)
    if dz == 0:
        return achieved, None
    try:
        return achieved, paired_sample_size(dz, alpha=alpha, power=power)
    except LearnsightError:  # an effect too small for any realistic study
        return achieved, None


def analyze(
    store: DuckDBStore,
    experiment: str,
    *,
    before: str,
    after: str,
    by: Sequence[str] = ("stratum",),
    confidence: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.8,
) -> StudyResult:
    """The SPEC §4 table of ``experiment``: per group × arm the paired before/after analysis, per
    group intervention against control (module docstring).

    ``before`` / ``after`` are assessment selectors; ``by`` a subset of :data:`GROUP_FIELDS`
    (empty: all units in one group ``all``).  Raises for an unknown experiment, an unknown group
    field, or a selector that matches no score of any unit.
    """
    unknown = [b for b in by if b not in GROUP_FIELDS]
    if unknown:
        raise LearnsightError(f"cannot group by {unknown[0]!r}; expected one of {', '.join(GROUP_FIELDS)}")
    sel_before, sel_after = Selector.parse(before), Selector.parse(after)
    units = load_assignments(store, experiment)
    if units.num_rows == 0:
        raise LearnsightError(f"no experiment named {experiment!r} in the store (assign units first)")
    scores = {}
    for name, sel in (("before", sel_before), ("after", sel_after)):
        scores[name] = unit_scores(store, units, sel)
        if not scores[name]:
            raise LearnsightError(
                f"{name} assessment {sel.text!r} matches no score of any unit of {experiment!r} "
                "(expected 'course', a suffix of the course IRI such as exam/midterm, or an object IRI)"
            )
    missing: list[MissingScore] = []
    analysed: list[dict[str, Any]] = []
    for r in units.to_pylist():
        key = (str(r["actor_key"]), str(r["course"]))
        b, a = scores["before"].get(key), scores["after"].get(key)
        if b is None or a is None:
            lack = "both" if b is None and a is None else ("before" if b is None else "after")
            missing.append(MissingScore(key[0], key[1], str(r["arm"]), str(r["stratum"]), lack))
            continue
        group = " · ".join(str(r[f]) for f in by) if by else "all"
        analysed.append({**r, "group": group, "before": b, "after": a})
    groups = [
        _group(
            name, [r for r in analysed if r["group"] == name], confidence=confidence, alpha=alpha, power=power
        )
        for name in sorted({r["group"] for r in analysed})
    ]
    table = pa.table(
        {
            "actor_key": pa.array([r["actor_key"] for r in analysed], pa.string()),
            "course": pa.array([r["course"] for r in analysed], pa.string()),
            "arm": pa.array([r["arm"] for r in analysed], pa.string()),
            "stratum": pa.array([r["stratum"] for r in analysed], pa.string()),
            "group": pa.array([r["group"] for r in analysed], pa.string()),
            "before": pa.array([r["before"] for r in analysed], pa.float64()),
            "after": pa.array([r["after"] for r in analysed], pa.float64()),
        }
    )
    return StudyResult(
        experiment=experiment,
        experiment_id=experiment_id(experiment),
        before=sel_before.text,
        after=sel_after.text,
        by=tuple(by),
        confidence=confidence,
        units=units.num_rows,
        analysed=len(analysed),
        missing=tuple(missing),
        groups=tuple(groups),
        scores=table,
    )


def _group(
    name: str, rows: Sequence[dict[str, Any]], *, confidence: float, alpha: float, power: float
) -> GroupResult:
    arms: list[ArmResult] = []
    data: dict[str, tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]] = {}
    notes: list[str] = []
    found = {str(r["arm"]) for r in rows}
    present = [a for a in ARMS if a in found] + sorted(found - set(ARMS))
    for arm in present:
        b = np.asarray([r["before"] for r in rows if r["arm"] == arm], dtype=np.float64)
        a = np.asarray([r["after"] for r in rows if r["arm"] == arm], dtype=np.float64)
        if b.size < 2:
            notes.append(f"{arm}: {b.size} unit with both scores, too few for a paired test")
            continue
        data[arm] = (b, a)
        paired = paired_analysis(b, a, group=name, confidence=confidence)
        achieved, needed = _power(paired.cohens_dz, paired.n, alpha=alpha, power=power)
        arms.append(ArmResult(name, arm, paired, achieved, needed))
    comparison = None
    if INTERVENTION in data and CONTROL in data:
        comparison = compare_groups(data[INTERVENTION], data[CONTROL], confidence=confidence)
    else:
        notes.append("no comparison: both arms need at least 2 units with both scores")
    return GroupResult(name, tuple(arms), comparison, tuple(notes))


__all__ = [
    "ARMS",
    "ASSIGNED",
    "CONTROL",
    "EXPERIMENT",
    "EXPERIMENT_PREFIX",
    "EXT_ASSIGNMENT_SEED",
    "EXT_STRATUM",
    "EXT_TREATED_SHARE",
    "GROUP_FIELDS",
    "INGEST_KIND",
    "INTERVENTION",
    "ArmResult",
    "AssignedUnit",
    "Assignment",
    "GroupResult",
    "MissingScore",
    "Selector",
    "StudyResult",
    "Unit",
    "analyze",
    "assign",
    "assignment_statement",
    "experiment_id",
    "experiment_iri",
    "load_assignments",
    "predicted_units",
    "unit_scores",
]
