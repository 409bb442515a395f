"""Target factors (SPEC §4): which of an at-risk student's indicators fall short, and by how much.

For every targeted student-course (by default those predicted ``at-risk``) and every numeric
indicator with a good direction (:attr:`~learnsight.indicators.catalog.Indicator.better`), both the
student-level ones (living habits, basic information) and the course-level ones (learning effort,
online traces, classroom behaviour), a :class:`~learnsight.interventions.types.Factor` sets the
student's value against two reference groups of the **same course**:

* the **cohort** — everyone in the course (student-level indicators too are compared within the
  course, so a student is always measured against the classmates the teacher sees): percentile rank
  (mean rank for ties) and z-score, population SD, from
  :mod:`learnsight.indicators.formulas.cohort` (SPEC §2 cohort statistics);
* the **successful peers** (:func:`successful_peers`) — the course's students whose outcome is
  ``excellent``: the actual outcome where the predictions table knows it (``actual``), else the
  predicted class.  When a course has fewer than ``min_peers`` of them the peers are the students
  *not at risk* (excellent or normal) instead, and the evidence says "peers not at risk"; when even
  those are fewer than ``min_peers`` there is no peer comparison (``peer_median`` and ``z_peers``
  are ``None``).

With ``d(z) = −z`` when higher is better and ``d(z) = z`` when lower is better (so ``d > 0`` means
"worse than the reference"), the **severity** is::

    severity = max(0, d(z_cohort), d((x − mean_peers) / sd_cohort))

in the cohort's standard deviations: how far the value falls short of the cohort or of the
successful peers' mean, whichever is further (SPEC §4: "indicators that fall short of the cohort or
of successful peers"), and 0 when it falls short of neither.  The peer gap is measured in the
*cohort's* SD, not the peers' own (``z_peers``, also reported): a dozen peers who all returned to the
dorm on time have almost no spread, and dividing by it would make any late return look like a
20-SD shortfall.  A missing value is never a factor (no row at all); an undefined z (a reference
group without spread) counts as no shortfall against that group.

``contribution`` is the model's signed contribution of the indicator to the predicted class when the
prediction's ``drivers`` name it: dataset features of the ``indicators`` group are called
``ind.<indicator>`` (:meth:`learnsight.models.dataset.DatasetBuilder.indicator_block`); positive
means "pushes towards the predicted class", i.e. towards ``at-risk`` for an at-risk prediction
(:mod:`learnsight.models.explain`).

Factors are ranked by severity, then by the contribution (larger first; none counts as 0), then by
name, so the ranking is deterministic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.indicators.catalog import INDICATORS, Indicator
from learnsight.indicators.formulas.cohort import percentile_ranks, z_scores
from learnsight.interventions.types import Factor
from learnsight.models.dataset import round_significant
from learnsight.store.duckdb_store import DuckDBStore

PeerBasis = Literal["auto", "actual", "predicted"]
"""Which outcome decides who the successful peers are: ``actual`` where known else ``predicted``
(``auto``), or only one of them."""

FEATURE_PREFIX: Final = "ind."
"""Prefix of the indicator features in a dataset, hence in a prediction's drivers."""
SUCCESS: Final = "excellent"
"""The class whose members are the successful peers."""
AT_RISK: Final = "at-risk"

Key = tuple[str, str]
"""``(actor_key, course)``."""


def directional_indicators() -> tuple[Indicator, ...]:
    """The catalogue's numeric indicators that have a good direction: the candidate factors."""
    return tuple(i for i in INDICATORS if i.better is not None and i.kind != "label")


@dataclass(frozen=True)
class PeerGroup:
    """The successful peers of one course and what made them peers.

    ``basis`` is ``"successful peers"`` (outcome excellent) or ``"peers not at risk"`` (the
    fallback, see the module docstring); ``actors`` is empty when neither reached ``min_peers``.
    """

    course: str
    actors: tuple[str, ...]
    basis: str


def outcome_of(row: Mapping[str, object], peers: PeerBasis) -> str | None:
    """The outcome class that counts for ``row`` of a predictions table under ``peers``."""
    actual, predicted = row.get("actual"), row.get("predicted")
    if peers == "actual":
        return None if actual is None else str(actual)
    if peers == "predicted":
        return None if predicted is None else str(predicted)
    chosen = actual if actual is not None else predicted
    return None if chosen is None else str(chosen)


def successful_peers(
    predictions: pa.Table, *, peers: PeerBasis = "auto", min_peers: int = 10
) -> dict[str, PeerGroup]:
    """Each course's successful peers (module docstring): excellent, else not at-risk, else none.

    >>> t = pa.table({"actor_key": ["a", "b", "c"], "course": ["C"] * 3,
    ...               "predicted": ["excellent", "normal", "at-risk"], "actual": [None, None, None]})
    >>> successful_peers(t, min_peers=1)["C"].actors
    ('a',)
    >>> g = successful_peers(t, min_peers=2)["C"]
    >>> g.actors, g.basis
    (('a', 'b'), 'peers not at risk')
    """
    if min_peers < 1:
        raise LearnsightError(f"min_peers must be >= 1, got {min_peers}")
    _require(predictions, ("actor_key", "course", "predicted"), "predictions")
    by_course: dict[str, dict[str, str | None]] = {}
    for row in predictions.to_pylist():
        if row.get("course") is None:
            continue
        by_course.setdefault(str(row["course"]), {})[str(row["actor_key"])] = outcome_of(row, peers)
    groups: dict[str, PeerGroup] = {}
    for course, outcomes in sorted(by_course.items()):
        excellent = sorted(a for a, o in outcomes.items() if o == SUCCESS)
        safe = sorted(a for a, o in outcomes.items() if o is not None and o != AT_RISK)
        if len(excellent) >= min_peers:
            groups[course] = PeerGroup(course, tuple(excellent), "successful peers")
        elif len(safe) >= min_peers:
            groups[course] = PeerGroup(course, tuple(safe), "peers not at risk")
        else:
            groups[course] = PeerGroup(course, (), "no peers")
    return groups


def severity(better: str, z_cohort: float | None, peer_gap: float | None) -> float:
    """``max(0, d(z_cohort), d(peer_gap))`` with ``d`` the shortfall in the bad direction.

    >>> severity("higher", -1.5, -0.5), severity("lower", -1.5, None), severity("lower", 0.4, 1.2)
    (1.5, 0.0, 1.2)
    """
    sign = -1.0 if better == "higher" else 1.0
    shortfalls = [sign * z for z in (z_cohort, peer_gap) if z is not None and math.isfinite(z)]
    return max([0.0, *shortfalls])


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd`` …

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 100)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '100th']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt(value: float | None) -> str:
    """A value as a teacher reads it: three significant digits, integers without a decimal point.

    >>> fmt(0.5213), fmt(12.0), fmt(2040.6), fmt(0.0000123), fmt(None)
    ('0.521', '12', '2,041', '1.23e-05', 'n/a')
    """
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def evidence_sentence(
    indicator: str,
    better: str,
    value: float,
    cohort_median: float | None,
    peer_median: float | None,
    percentile: float | None,
    peer_label: str = "successful peers",
) -> str:
    """The one-sentence evidence of a factor.

    >>> evidence_sentence("attendance_rate", "higher", 0.52, 0.86, 0.93, 8.0)
    'attendance_rate 0.52 — cohort median 0.86, successful peers 0.93; 8th percentile'
    >>> evidence_sentence("late_returns", "lower", 12, 3, None, 91.2)
    'late_returns 12 (lower is better) — cohort median 3; 91st percentile'
    """
    direction = " (lower is better)" if better == "lower" else ""
    parts = [f"cohort median {fmt(cohort_median)}"] if cohort_median is not None else []
    if peer_median is not None:
        parts.append(f"{peer_label} {fmt(peer_median)}")
    where = ", ".join(parts)
    rank = f"{ordinal(round(percentile))} percentile" if percentile is not None else ""
    tail = "; ".join(p for p in (where, rank) if p)
    return f"{indicator} {fmt(value)}{direction}" + (f" — {tail}" if tail else "")


def target_factors(
    indicators: pa.Table,
    predictions: pa.Table | None,
    *,
    classes: Sequence[str] = (AT_RISK,),
    peers: PeerBasis = "auto",
    min_peers: int = 10,
) -> dict[Key, list[Factor]]:
    """The ranked target factors of every targeted student-course (module docstring).

    Parameters
    ----------
    indicators:
        One row per student and course with the indicator columns
        (:func:`learnsight.indicators.persist.wide_table`); rows without a course are ignored.
    predictions:
        :func:`learnsight.models.predict.predict_table` output (``actor_key``, ``course``,
        ``predicted``, ``actual``, ``drivers``).  The targets are its rows whose predicted class is in
        ``classes``; ``None`` targets every row of ``indicators`` with no peer comparison and no
        contributions.
    classes:
        Predicted classes to find factors for.
    peers, min_peers:
        Who the successful peers are (:func:`successful_peers`).

    Returns
    -------
    ``{(actor_key, course): [Factor, …]}``, most severe first; a targeted pair absent from
    ``indicators`` maps to an empty list.
    """
    _require(indicators, ("actor_key", "course"), "indicators")
    candidates = [i for i in directional_indicators() if i.name in indicators.column_names]
    candidates = [i for i in candidates if _numeric(indicators.schema.field(i.name).type)]
    actors = [str(a) for a in indicators.column("actor_key").to_pylist()]
    courses = indicators.column("course").to_pylist()
    values = {i.name: indicator_values(indicators.column(i.name)) for i in candidates}

    drivers: dict[Key, dict[str, float]] = {}
    groups: dict[str, PeerGroup] = {}
    if predictions is None:
        targets = sorted({(a, str(c)) for a, c in zip(actors, courses, strict=True) if c is not None})
    else:
        _require(predictions, ("actor_key", "course", "predicted"), "predictions")
        wanted = set(classes)
        rows = predictions.to_pylist()
        targets = sorted(
            {(str(r["actor_key"]), str(r["course"])) for r in rows if str(r["predicted"]) in wanted}
        )
        drivers = {
            (str(r["actor_key"]), str(r["course"])): _indicator_drivers(r.get("drivers")) for r in rows
        }
        groups = successful_peers(predictions, peers=peers, min_peers=min_peers)

    row_of = {(a, str(c)): j for j, (a, c) in enumerate(zip(actors, courses, strict=True)) if c is not None}
    course_rows = _course_rows(courses)
    result: dict[Key, list[Factor]] = {t: [] for t in targets}
    by_course: dict[str, list[Key]] = {}
    for t in targets:
        if t in row_of:
            by_course.setdefault(t[1], []).append(t)
    for course, keys in sorted(by_course.items()):
        rows_c = course_rows[course]
        group = groups.get(course)
        peer_rows = np.asarray(
            [row_of[(a, course)] for a in (group.actors if group else ()) if (a, course) in row_of],
            dtype=np.int64,
        )
        for ind in candidates:
            stats = _CohortStats.of(values[ind.name], rows_c, peer_rows)
            for key in keys:
                j = row_of[key]
                x = values[ind.name][j]
                if math.isnan(x):
                    continue
                result[key].append(
                    stats.factor(ind, j, float(x), drivers.get(key, {}), group.basis if group else "")
                )
    for factors in result.values():
        factors.sort(key=lambda f: (-f.severity, -(f.contribution or 0.0), f.indicator))
    return result


def factors_for(
    store: DuckDBStore,
    predictions: pa.Table,
    *,
    as_of: AsOf | None = None,
    classes: Sequence[str] = (AT_RISK,),
    peers: PeerBasis = "auto",
    min_peers: int = 10,
) -> dict[Key, list[Factor]]:
    """:func:`target_factors` with the indicators computed from ``store`` at the predictions' cut-off.

    ``as_of`` defaults to the predictions' own ``as_of`` (all rows must agree); a different one is
    an error, so factors never see data the predictions did not (nor later data).
    """
    from learnsight.indicators.compute import compute_indicators
    from learnsight.indicators.engine import DuckDBEngine
    from learnsight.indicators.persist import wide_table

    cutoff = prediction_cutoff(predictions, as_of)
    return target_factors(
        wide_table(compute_indicators(DuckDBEngine(store), cutoff)),
        predictions,
        classes=classes,
        peers=peers,
        min_peers=min_peers,
    )


def prediction_cutoff(predictions: pa.Table, as_of: AsOf | None = None) -> AsOf:
    """The as-of cut-off of ``predictions`` (column ``as_of``), checked against ``as_of`` if given."""
    labels = (
        sorted({str(v) for v in predictions.column("as_of").to_pylist()})
        if ("as_of" in predictions.column_names)
        else []
    )
    if len(labels) > 1:
        raise LearnsightError(
            f"predictions: rows from several cut-offs ({', '.join(labels)}); plan one at a time"
        )
    if as_of is None:
        if not labels:
            raise LearnsightError("predictions: no as_of column; give the cut-off they were made at")
        return AsOf.parse(None if labels[0] == "all" else labels[0])
    if labels and labels[0] != as_of.label():
        raise LearnsightError(
            f"predictions were made at {labels[0]} but factors were asked at {as_of.label()}: "
            "indicators must use the predictions' cut-off"
        )
    return as_of


# -- internals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CohortStats:
    """One indicator in one course: the cohort's ranks, z-scores and spread, the peers' mean and SD."""

    percentile: dict[int, float]
    z: dict[int, float]
    cohort_median: float | None
    cohort_sd: float | None
    peer_mean: float | None
    peer_sd: float | None
    peer_median: float | None

    @classmethod
    def of(
        cls, values: npt.NDArray[np.float64], rows: npt.NDArray[np.int64], peer_rows: npt.NDArray[np.int64]
    ) -> _CohortStats:
        cohort = values[rows]
        present = cohort[~np.isnan(cohort)]
        peer_values = values[peer_rows] if peer_rows.size else np.zeros(0)
        peers = peer_values[~np.isnan(peer_values)]
        return cls(
            percentile=dict(zip(rows.tolist(), percentile_ranks(cohort).tolist(), strict=True)),
            z=dict(zip(rows.tolist(), z_scores(cohort).tolist(), strict=True)),
            cohort_median=float(np.median(present)) if present.size else None,
            cohort_sd=_spread(present),
            peer_mean=float(peers.mean()) if peers.size else None,
            peer_sd=_spread(peers),
            peer_median=float(np.median(peers)) if peers.size else None,
        )

    def factor(self, ind: Indicator, row: int, x: float, drivers: Mapping[str, float], basis: str) -> Factor:
        assert ind.better is not None
        pct = _finite(self.percentile.get(row))
        z_c = _finite(self.z.get(row))
        # z_peers = cohort.z_score(x, peer values), computed once per indicator instead of per student
        z_p = (x - self.peer_mean) / self.peer_sd if self.peer_mean is not None and self.peer_sd else None
        gap = (x - self.peer_mean) / self.cohort_sd if self.peer_mean is not None and self.cohort_sd else None
        return Factor(
            indicator=ind.name,
            family=ind.family,
            value=x,
            better=ind.better,
            cohort_median=self.cohort_median,
            peer_median=self.peer_median,
            percentile=pct,
            z_cohort=z_c,
            z_peers=z_p,
            contribution=drivers.get(ind.name),
            severity=severity(ind.better, z_c, gap),
            evidence=evidence_sentence(
                ind.name,
                ind.better,
                x,
                self.cohort_median,
                self.peer_median,
                pct,
                basis or "successful peers",
            ),
        )


def _indicator_drivers(text: object) -> dict[str, float]:
    """``{indicator: contribution}`` of a prediction's drivers that are indicator features."""
    if text is None or text == "":
        return {}
    try:
        items = json.loads(str(text))
    except json.JSONDecodeError as exc:
        raise LearnsightError(f"predictions.drivers: not valid JSON: {exc}") from None
    out: dict[str, float] = {}
    for d in items if isinstance(items, list) else []:
        name = str(d.get("feature", "")) if isinstance(d, dict) else ""
        if name.startswith(FEATURE_PREFIX) and d.get("contribution") is not None:
            out[name.removeprefix(FEATURE_PREFIX)] = float(d["contribution"])
    return out


def _course_rows(courses: Iterable[object]) -> dict[str, npt.NDArray[np.int64]]:
    found: dict[str, list[int]] = {}
    for j, c in enumerate(courses):
        if c is not None:
            found.setdefault(str(c), []).append(j)
    return {c: np.asarray(rows, dtype=np.int64) for c, rows in found.items()}


def indicator_values(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.float64]:
    """An indicator column as floats (null → NaN), rounded to 10 significant digits.

    DuckDB's parallel float sums may differ in the last bits from run to run; unrounded, that
    reorders factors tied in severity and flips a printed digit (0.3655 → "0.365" or "0.366"), and
    plans would not be reproducible.
    """
    array = column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    return round_significant(array)


def _spread(values: npt.NDArray[np.float64]) -> float | None:
    """Population SD (as :func:`~learnsight.indicators.formulas.cohort.z_scores`); None when zero."""
    sd = float(np.std(values)) if values.size else 0.0
    return sd if sd > 0 else None


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _numeric(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype))


def _require(table: pa.Table, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise LearnsightError(f"{what}: missing column(s) {', '.join(missing)}")


__all__ = [
    "FEATURE_PREFIX",
    "Key",
    "PeerBasis",
    "PeerGroup",
    "directional_indicators",
    "evidence_sentence",
    "factors_for",
    "fmt",
    "indicator_values",
    "ordinal",
    "outcome_of",
    "prediction_cutoff",
    "severity",
    "successful_peers",
    "target_factors",
]
