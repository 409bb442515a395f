"""Plan interventions (SPEC §4): target factors + strategy rules + predictions → what to do, when, how.

:func:`plan_interventions` takes the predictions of one cut-off (``predict_table``), computes the
indicators at **that** cut-off (never later data,
:func:`~learnsight.interventions.factors.prediction_cutoff`), finds each targeted student-course's
factors (:func:`~learnsight.interventions.factors.target_factors`),
matches the rules (:func:`~learnsight.interventions.strategies.match`) and renders the messages.
Each student-course gets up to ``max_per_student`` plans, one per strategy, best match first; a rule
whose placeholders cannot be filled for the student (no unseen resource, no successful peer, no peer
median) is skipped for that student, so no message is ever sent with a gap in it.

The planning context (:class:`PlanningData`) fills the placeholders:

``resources`` — resource recommendation, easier first
    The course's resources are the objects of ``viewed``/``interacted`` statements in the course
    (the course itself aside) visible at the cut-off; the student's unseen ones are those they have
    no statement about.  Up to :data:`MAX_RESOURCES` are listed, ordered by the difficulty level of
    the ``EXT_LEVEL`` context extension where the data has one (``easy`` < ``medium`` < ``hard``,
    numbers by value, other labels after those), then by how many successful peers used the
    resource (more first), then by id.
``partner`` — cooperative learning
    The successful peer of the same course (:func:`~learnsight.interventions.factors.successful_peers`)
    with the best value of the student's top factor (ties: actor key).
``rank``, ``cohort_size``, ``value``, ``percentile``, ``cohort_median``, ``peer_median``
    For progress comparison and competition: the student's standing on the top targeted factor in
    the course: rank best first (competition ranking, ties share the better rank), among the
    students with a value.

Plans are deterministic: the same store, predictions, rules and cut-off give the same plans, in
the same order (by student, course, then match order), with the same ids
(:func:`~learnsight.interventions.strategies.plan_id`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf, base_views
from learnsight.indicators.catalog import BY_NAME
from learnsight.interventions.factors import (
    AT_RISK,
    Key,
    PeerBasis,
    PeerGroup,
    fmt,
    indicator_values,
    ordinal,
    prediction_cutoff,
    successful_peers,
    target_factors,
)
from learnsight.interventions.strategies import (
    StrategyRules,
    escalate,
    load_rules,
    match,
    plan_context,
    plan_id,
    render,
    short_actor,
    short_course,
)
from learnsight.interventions.types import Factor, PlannedIntervention, Strategy
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi import vocab

MAX_RESOURCES: Final = 3
"""Resources a recommendation lists."""
LEVELS: Final[dict[str, int]] = {"easy": 0, "medium": 1, "hard": 2}
"""Difficulty labels in ``EXT_LEVEL`` (the synthetic campus's), easiest first."""

_RESOURCES_SQL: Final = """
SELECT course, object_id, min(json_extract_string(extensions, $level_path)) AS level
FROM ev
WHERE verb_id IN ($viewed, $interacted) AND course IS NOT NULL AND object_id <> course
GROUP BY course, object_id
ORDER BY course, object_id
"""
_USED_SQL: Final = """
SELECT DISTINCT actor_key, course, object_id FROM ev WHERE course IS NOT NULL
"""
_COURSES_SQL: Final = "SELECT course, code, title, start_ts FROM courses"


@dataclass(frozen=True)
class Resource:
    """A course resource and why it is where it is in the list."""

    object_id: str
    level: str | None
    peer_users: int

    def sort_key(self) -> tuple[int, float, str, int, str]:
        """Known levels first (easiest first), then peers' use (more first), then id."""
        if self.level is None:
            rank, number, text = 2, 0.0, ""
        elif self.level.strip().lower() in LEVELS:
            rank, number, text = 0, float(LEVELS[self.level.strip().lower()]), ""
        else:
            try:
                rank, number, text = 0, float(self.level), ""
            except ValueError:
                rank, number, text = 1, 0.0, self.level
        return (rank, number, text, -self.peer_users, self.object_id)

    def label(self) -> str:
        """``R03 (easy)``, or ``R03 (used by 7 peers)`` without a level."""
        name = short_course(self.object_id)
        return (
            f"{name} ({self.level})"
            if self.level is not None
            else f"{name} (used by {self.peer_users} peers)"
        )


@dataclass
class PlanningData:
    """Everything plans are rendered from, at one cut-off (build it with :meth:`build`)."""

    as_of: AsOf
    wide: pa.Table
    factors: dict[Key, list[Factor]]
    predicted: dict[Key, str]
    peers: dict[str, PeerGroup]
    courses: dict[str, tuple[str, datetime | None]]
    """course → (display name, start)."""
    resources: dict[str, list[tuple[str, str | None]]]
    """course → [(object id, level)]."""
    used: dict[Key, frozenset[str]]
    _rows: dict[Key, int] = field(default_factory=dict, repr=False)
    _course_rows: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _values: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        store: DuckDBStore,
        predictions: pa.Table,
        *,
        as_of: AsOf | None = None,
        classes: Sequence[str] = (AT_RISK,),
        peers: PeerBasis = "auto",
        min_peers: int = 10,
    ) -> PlanningData:
        """Indicators, factors, peers, resources and courses at the predictions' cut-off."""
        from learnsight.indicators.compute import compute_indicators
        from learnsight.indicators.engine import DuckDBEngine
        from learnsight.indicators.persist import wide_table

        cutoff = prediction_cutoff(predictions, as_of)
        wide = wide_table(compute_indicators(DuckDBEngine(store), cutoff))
        factors = target_factors(wide, predictions, classes=classes, peers=peers, min_peers=min_peers)
        predicted = {
            (str(r["actor_key"]), str(r["course"])): str(r["predicted"])
            for r in predictions.select(["actor_key", "course", "predicted"]).to_pylist()
        }
        con = store.con
        for name, view in base_views(cutoff, vocab.VOIDED):
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {view}")
        found = con.execute(
            _RESOURCES_SQL,
            {
                "level_path": f'$.context."{vocab.EXT_LEVEL}"',
                "viewed": vocab.VIEWED,
                "interacted": vocab.INTERACTED,
            },
        ).fetchall()
        resources: dict[str, list[tuple[str, str | None]]] = {}
        for course, object_id, level in found:
            resources.setdefault(str(course), []).append(
                (str(object_id), None if level is None else str(level))
            )
        used_sets: dict[Key, set[str]] = {}
        for actor, course, object_id in con.execute(_USED_SQL).fetchall():
            used_sets.setdefault((str(actor), str(course)), set()).add(str(object_id))
        courses = {
            str(c): (str(title or code or short_course(str(c))), start)
            for c, code, title, start in con.execute(_COURSES_SQL).fetchall()
        }
        data = cls(
            as_of=cutoff,
            wide=wide,
            factors=factors,
            predicted=predicted,
            peers=successful_peers(predictions, peers=peers, min_peers=min_peers),
            courses=courses,
            resources=resources,
            used={k: frozenset(v) for k, v in used_sets.items()},
        )
        data._index()
        return data

    def _index(self) -> None:
        actors = self.wide.column("actor_key").to_pylist()
        courses = self.wide.column("course").to_pylist()
        self._rows = {(str(a), str(c)): j for j, (a, c) in enumerate(zip(actors, courses, strict=True)) if c}
        for (_, course), j in sorted(self._rows.items(), key=lambda kv: kv[1]):
            self._course_rows.setdefault(course, []).append(j)

    def _column(self, indicator: str) -> npt.NDArray[np.float64]:
        if indicator not in self._values:
            self._values[indicator] = indicator_values(self.wide.column(indicator))
        return self._values[indicator]

    def week(self, course: str) -> int | None:
        """The cut-off as a course week (``None`` for "all data" or a course without a start)."""
        if self.as_of.week is not None:
            return self.as_of.week
        start = self.courses.get(course, ("", None))[1]
        if self.as_of.date is None or start is None:
            return None
        return max(0, (self.as_of.date - start).days // 7)

    # -- placeholder values ------------------------------------------------------------------------

    def unseen_resources(self, actor_key: str, course: str) -> list[Resource]:
        """The course's resources the student has not used, easier first (module docstring)."""
        used = self.used.get((actor_key, course), frozenset())
        group = self.peers.get(course)
        peer_sets = [self.used.get((p, course), frozenset()) for p in (group.actors if group else ())]
        found = [
            Resource(object_id, level, sum(object_id in s for s in peer_sets))
            for object_id, level in self.resources.get(course, [])
            if object_id not in used
        ]
        return sorted(found, key=Resource.sort_key)

    def standing(self, actor_key: str, course: str, indicator: str) -> tuple[int, int] | None:
        """(rank best first, students with a value) of the student on ``indicator`` in ``course``."""
        j = self._rows.get((actor_key, course))
        ind = BY_NAME.get(indicator)
        if j is None or ind is None or ind.better is None or indicator not in self.wide.column_names:
            return None
        values = self._column(indicator)[self._course_rows[course]]
        values = values[~np.isnan(values)]
        x = float(self._column(indicator)[j])
        if math.isnan(x):
            return None
        better = values > x if ind.better == "higher" else values < x
        return int(better.sum()) + 1, int(values.size)

    def partner(self, actor_key: str, course: str, indicator: str | None) -> str | None:
        """The successful peer with the best value of ``indicator`` (module docstring)."""
        group = self.peers.get(course)
        candidates = sorted(a for a in (group.actors if group else ()) if a != actor_key)
        if not candidates:
            return None
        ind = BY_NAME.get(indicator) if indicator else None
        if ind is None or ind.better is None or ind.name not in self.wide.column_names:
            return candidates[0]
        sign = 1.0 if ind.better == "higher" else -1.0
        column = self._column(ind.name)

        def score(actor: str) -> float:
            j = self._rows.get((actor, course))
            v = float(column[j]) if j is not None else math.nan
            return -math.inf if math.isnan(v) else sign * v

        return min(candidates, key=lambda a: (-score(a), a))

    def context(self, actor_key: str, course: str, factors: Sequence[Factor]) -> dict[str, str]:
        """Every placeholder value available for this student, course and targeted factors."""
        ctx = {
            "student": short_actor(actor_key),
            "course": self.courses.get(course, (short_course(course), None))[0],
            "factors": ", ".join(f.indicator for f in factors),
            "evidence": "; ".join(f.evidence for f in factors),
        }
        top = factors[0] if factors else None
        if top is not None:
            ctx["top_factor"] = top.indicator
            ctx["value"] = fmt(top.value)
            if top.cohort_median is not None:
                ctx["cohort_median"] = fmt(top.cohort_median)
            if top.peer_median is not None:
                ctx["peer_median"] = fmt(top.peer_median)
            if top.percentile is not None:
                ctx["percentile"] = ordinal(round(top.percentile))
            standing = self.standing(actor_key, course, top.indicator)
            if standing is not None:
                ctx["rank"], ctx["cohort_size"] = ordinal(standing[0]), str(standing[1])
        unseen = self.unseen_resources(actor_key, course)[:MAX_RESOURCES]
        if unseen:
            ctx["resources"] = ", ".join(r.label() for r in unseen)
        partner = self.partner(actor_key, course, top.indicator if top else None)
        if partner is not None:
            ctx["partner"] = short_actor(partner)
        return ctx

    # -- plans -------------------------------------------------------------------------------------

    def plans(self, rules: StrategyRules, *, max_per_student: int = 2) -> list[PlannedIntervention]:
        """Up to ``max_per_student`` plans for every targeted student-course (module docstring)."""
        if max_per_student < 1:
            raise LearnsightError(f"max_per_student must be >= 1, got {max_per_student}")
        label = self.as_of.label()
        out: list[PlannedIntervention] = []
        for key in sorted(self.factors):
            actor, course = key
            week = self.week(course)
            chosen: set[str] = set()
            for rule, targeted in match(self.factors[key], rules, self.predicted.get(key, ""), week):
                if rule.strategy in chosen:
                    continue
                ctx = self.context(actor, course, targeted)
                timing = rules.timing_for(rule, week)
                if timing is None or not rule.placeholders <= set(ctx):
                    continue
                out.append(
                    PlannedIntervention(
                        id=plan_id(actor, course, rule.strategy, label),
                        actor_key=actor,
                        course=course,
                        strategy=rule.strategy,
                        rule=rule.name,
                        timing=timing,
                        method=rule.method.method(),
                        message=render(rule.message, ctx),
                        factors=tuple(f.indicator for f in targeted),
                        as_of=label,
                        evidence=tuple(f.evidence for f in targeted),
                    )
                )
                chosen.add(rule.strategy)
                if len(chosen) >= max_per_student:
                    break
        return out

    def escalation_context(self, plan: PlannedIntervention) -> dict[str, str]:
        """Placeholder values for escalating ``plan`` (:func:`~learnsight.interventions.strategies.escalate`),
        from this data (its cut-off may be later than the plan's)."""
        by_name = {f.indicator: f for f in self.factors.get((plan.actor_key, plan.course), [])}
        factors = [by_name[name] for name in plan.factors if name in by_name]
        if not factors or factors[0].indicator != plan.factors[0]:
            factors = []  # the plan's top factor is no longer a factor here: no values to quote for it
        ctx = self.context(plan.actor_key, plan.course, factors)
        keep = {k: v for k, v in ctx.items() if k not in ("factors", "evidence")}
        return {**plan_context(plan), **keep}

    def escalate(
        self,
        plan: PlannedIntervention,
        rules: StrategyRules,
        reason: str,
        *,
        tried: Collection[Strategy | str] = (),
    ) -> PlannedIntervention | None:
        """:func:`~learnsight.interventions.strategies.escalate` with this data's placeholder values
        and cut-off (the new plan's ``as_of``)."""
        return escalate(
            plan,
            rules,
            reason,
            context=self.escalation_context(plan),
            tried=tried,
            as_of=self.as_of.label(),
        )


def plan_interventions(
    store: DuckDBStore,
    predictions: pa.Table,
    rules: StrategyRules | None = None,
    *,
    as_of: AsOf,
    classes: Sequence[str] = (AT_RISK,),
    max_per_student: int = 2,
    peers: PeerBasis = "auto",
    min_peers: int = 10,
) -> list[PlannedIntervention]:
    """Plans for every student-course predicted in ``classes`` (module docstring).

    Parameters
    ----------
    store:
        The store the predictions were made from.
    predictions:
        :func:`learnsight.models.predict.predict_table` output for one cut-off.
    rules:
        The strategy rules (default: :func:`~learnsight.interventions.strategies.load_rules`).
    as_of:
        The predictions' cut-off; the indicators are computed there (a different one is an error).
    classes, max_per_student, peers, min_peers:
        Who is planned for, how many plans each, who the successful peers are.
    """
    data = PlanningData.build(
        store, predictions, as_of=as_of, classes=classes, peers=peers, min_peers=min_peers
    )
    return data.plans(rules if rules is not None else load_rules(), max_per_student=max_per_student)


def plans_table(plans: Sequence[PlannedIntervention]) -> pa.Table:
    """The plans as an Arrow table (one row each; method, factors and evidence as JSON)."""
    rows = []
    for p in plans:
        d = p.to_dict()
        d["method"] = json.dumps(d["method"], sort_keys=True)
        d["factors"] = json.dumps(d["factors"])
        d["evidence"] = json.dumps(d["evidence"], ensure_ascii=False)
        rows.append(d)
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("actor_key", pa.string()),
            ("course", pa.string()),
            ("strategy", pa.string()),
            ("rule", pa.string()),
            ("timing", pa.string()),
            ("method", pa.string()),
            ("message", pa.string()),
            ("factors", pa.string()),
            ("as_of", pa.string()),
            ("attempt", pa.int64()),
            ("previous", pa.string()),
            ("reason", pa.string()),
            ("evidence", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


__all__ = [
    "LEVELS",
    "MAX_RESOURCES",
    "PlanningData",
    "Resource",
    "plan_interventions",
    "plans_table",
]
