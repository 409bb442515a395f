"""Course outcomes as labels: one row per (learner, course) from the final-result statements.

SPEC §3 predicts each course's outcome in three classes — **excellent**, **normal**, **at-risk** —
and the underlying score where one exists.  The labels are read from the store, not from the
importers' files, so every source that writes final results the documented way gets labels.

Which statement is a course's final result
------------------------------------------
Only statements that are not voided, of source ``registry``, with a ``course``:

* **UCI** (:mod:`~learnsight.ingest.uci`): ``SCORED`` of ``<course>/period/3`` in a UCI course
  (course IRI under :data:`~learnsight.ingest.uci.HOME_PAGE`): the final grade G3, raw 0–20.
  Scheme ``uci``.
* **Campus** (:mod:`~learnsight.simulate.grades`, and any registry that scores a course the same
  way): ``SCORED`` whose object is the course itself: the final score, raw 0–100.
  Scheme ``campus``.
* **OULAD** (:mod:`~learnsight.ingest.oulad`): ``passed`` / ``failed`` / ``withdrew`` of the course
  itself, ``response`` = the raw ``final_result`` (Pass, Distinction, Fail, Withdrawn); no score.
  Scheme ``oulad``.

When a learner has several final results for one course the latest (by ``ts``; a scored one first
on a tie, then the greatest statement id) wins, so a corrected grade replaces the old one.

Classes (:class:`ClassScheme`, defaults)
----------------------------------------
========  ==========================  ======================  ====================
scheme    excellent                   normal                  at-risk
========  ==========================  ======================  ====================
uci       G3 ≥ 14                     10 ≤ G3 < 14            G3 < 10
campus    final ≥ 85                  60 ≤ final < 85         final < 60
oulad     Distinction                 Pass                    Fail, Withdrawn
========  ==========================  ======================  ====================

``passed`` is the binary label: score ≥ the scheme's pass mark (UCI 10, the Portuguese pass mark;
campus 60), or Pass/Distinction for OULAD.  Withdrawn counts as not passed; filter on ``response``
for the common OULAD "pass vs fail" task that leaves withdrawals out.  An OULAD response the scheme
does not map gives no row.

Output (:data:`OUTCOME_SCHEMA`), ordered by course then actor: ``actor_key``, ``course``,
``scheme`` (uci | campus | oulad), ``ts`` (of the final result: features for a prediction must be
dated before it), ``score`` and ``score_max`` (NULL for OULAD), ``response`` (OULAD only),
``outcome`` (the class name), ``outcome_code`` (index in :data:`OUTCOME_LABELS`: 0 at-risk,
1 normal, 2 excellent, as :data:`learnsight.simulate.grades.OUTCOMES`) and ``passed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import pyarrow as pa

from learnsight.ingest import uci
from learnsight.simulate.config import CampusConfig
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi import vocab

OUTCOME_LABELS: Final = ("at-risk", "normal", "excellent")
"""The three classes, in the order of ``outcome_code`` (worst first)."""

OUTCOME_SCHEMA: Final = pa.schema(
    [
        ("actor_key", pa.string()),
        ("course", pa.string()),
        ("scheme", pa.string()),
        ("ts", pa.timestamp("us")),
        ("score", pa.float64()),
        ("score_max", pa.float64()),
        ("response", pa.string()),
        ("outcome", pa.string()),
        ("outcome_code", pa.int8()),
        ("passed", pa.bool_()),
    ]
)
"""Columns of :func:`outcomes`."""


@dataclass(frozen=True)
class ScoreCuts:
    """Cut points on a raw score scale: excellent from, at-risk below, pass from."""

    excellent_from: float
    at_risk_below: float
    pass_from: float

    def __post_init__(self) -> None:
        if not self.at_risk_below <= self.excellent_from:
            raise ValueError(
                f"at_risk_below ({self.at_risk_below}) must not exceed excellent_from ({self.excellent_from})"
            )


@dataclass(frozen=True)
class ResponseClass:
    """The class and pass/fail label of one raw final-result response (OULAD ``final_result``)."""

    response: str
    outcome: str
    passed: bool

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOME_LABELS:
            raise ValueError(f"unknown outcome {self.outcome!r} (one of {', '.join(OUTCOME_LABELS)})")


def _oulad_default() -> tuple[ResponseClass, ...]:
    return (
        ResponseClass("Distinction", "excellent", True),
        ResponseClass("Pass", "normal", True),
        ResponseClass("Fail", "at-risk", False),
        ResponseClass("Withdrawn", "at-risk", False),
    )


@dataclass(frozen=True)
class ClassScheme:
    """How final results become classes, per source scheme (see the module docstring)."""

    uci: ScoreCuts = ScoreCuts(excellent_from=14.0, at_risk_below=uci.PASS_MARK, pass_from=uci.PASS_MARK)
    campus: ScoreCuts = ScoreCuts(
        excellent_from=CampusConfig.excellent_from,
        at_risk_below=CampusConfig.at_risk_below,
        pass_from=CampusConfig.at_risk_below,
    )
    oulad: tuple[ResponseClass, ...] = field(default_factory=_oulad_default)

    def __post_init__(self) -> None:
        responses = [r.response for r in self.oulad]
        if len(set(responses)) != len(responses):
            raise ValueError(f"a response is mapped twice: {responses}")


def parse_cuts(specs: list[str], base: ClassScheme | None = None) -> ClassScheme:
    """A scheme from ``SCHEME:EXCELLENT_FROM,AT_RISK_BELOW[,PASS_FROM]`` texts (``uci:15,10``).

    ``PASS_FROM`` defaults to ``AT_RISK_BELOW``.  OULAD classes come from responses, not scores,
    and are not set this way.

    >>> parse_cuts(["uci:15,10"]).uci
    ScoreCuts(excellent_from=15.0, at_risk_below=10.0, pass_from=10.0)
    """
    from dataclasses import replace

    from learnsight.errors import LearnsightError

    scheme = base or ClassScheme()
    for spec in specs:
        name, _, numbers = spec.partition(":")
        name = name.strip().lower()
        if name not in ("uci", "campus"):
            raise LearnsightError(
                f"--cuts {spec!r}: scheme must be uci or campus (OULAD classes are responses)"
            )
        try:
            values = [float(v) for v in numbers.split(",")]
        except ValueError:
            raise LearnsightError(f"--cuts {spec!r}: expected numbers, e.g. uci:14,10") from None
        if len(values) not in (2, 3):
            raise LearnsightError(f"--cuts {spec!r}: expected EXCELLENT_FROM,AT_RISK_BELOW[,PASS_FROM]")
        try:
            cuts = ScoreCuts(values[0], values[1], values[2] if len(values) == 3 else values[1])
        except ValueError as exc:
            raise LearnsightError(f"--cuts {spec!r}: {exc}") from None
        scheme = replace(scheme, uci=cuts) if name == "uci" else replace(scheme, campus=cuts)
    return scheme


DEFAULT_SCHEME: Final = ClassScheme()

_OUTCOMES_SQL: Final = """
WITH final AS (
    SELECT actor_key, course, 'uci' AS scheme, ts, id, score_raw AS score, score_max,
           CAST(NULL AS VARCHAR) AS response
    FROM statements
    WHERE NOT voided AND source = $registry AND verb_id = $scored
      AND starts_with(course, $uci_root) AND object_id = course || '/period/3'
    UNION ALL
    SELECT actor_key, course, 'campus', ts, id, score_raw, score_max, NULL
    FROM statements
    WHERE NOT voided AND source = $registry AND verb_id = $scored
      AND NOT starts_with(course, $uci_root) AND object_id = course
    UNION ALL
    SELECT actor_key, course, 'oulad', ts, id, NULL, NULL, response
    FROM statements
    WHERE NOT voided AND source = $registry AND verb_id IN ($passed, $failed, $withdrew)
      AND object_id = course
),
latest AS (
    SELECT * FROM final
    WHERE course IS NOT NULL AND (scheme = 'oulad' OR score IS NOT NULL)
    QUALIFY row_number() OVER (
        PARTITION BY actor_key, course ORDER BY ts DESC, score IS NULL, id DESC) = 1
),
response_map AS (
    SELECT unnest($responses) AS response, unnest($response_outcomes) AS outcome,
           unnest($response_passed) AS passed
),
classified AS (
    SELECT l.*,
        CASE l.scheme
            WHEN 'uci' THEN CASE WHEN l.score >= $uci_excellent THEN 'excellent'
                                 WHEN l.score < $uci_at_risk THEN 'at-risk' ELSE 'normal' END
            WHEN 'campus' THEN CASE WHEN l.score >= $campus_excellent THEN 'excellent'
                                    WHEN l.score < $campus_at_risk THEN 'at-risk' ELSE 'normal' END
            ELSE r.outcome END AS outcome,
        CASE l.scheme
            WHEN 'uci' THEN l.score >= $uci_pass
            WHEN 'campus' THEN l.score >= $campus_pass
            ELSE r.passed END AS passed
    FROM latest l LEFT JOIN response_map r ON l.scheme = 'oulad' AND r.response = l.response
)
SELECT actor_key, course, scheme, CAST(ts AS TIMESTAMP) AS ts, CAST(score AS DOUBLE) AS score,
       CAST(score_max AS DOUBLE) AS score_max, response, outcome,
       CAST(list_position($labels, outcome) - 1 AS TINYINT) AS outcome_code, passed
FROM classified
WHERE outcome IS NOT NULL
ORDER BY course, actor_key
"""
"""The final result of every (actor, course) and its class (see the module docstring)."""


def outcomes(store: DuckDBStore, *, scheme: ClassScheme = DEFAULT_SCHEME) -> pa.Table:
    """One row per (actor_key, course) with a final result: score, class and pass/fail.

    Parameters
    ----------
    store:
        The store whose ``statements`` are read (nothing is written).
    scheme:
        Cut points and response mapping (:class:`ClassScheme`; defaults in the module docstring).

    Returns
    -------
    pyarrow.Table
        In :data:`OUTCOME_SCHEMA`, ordered by course then actor.
    """
    params: dict[str, object] = {
        "registry": vocab.SOURCE_REGISTRY,
        "scored": vocab.SCORED,
        "passed": vocab.PASSED,
        "failed": vocab.FAILED,
        "withdrew": vocab.WITHDREW,
        "uci_root": uci.HOME_PAGE + "/course/",
        "uci_excellent": scheme.uci.excellent_from,
        "uci_at_risk": scheme.uci.at_risk_below,
        "uci_pass": scheme.uci.pass_from,
        "campus_excellent": scheme.campus.excellent_from,
        "campus_at_risk": scheme.campus.at_risk_below,
        "campus_pass": scheme.campus.pass_from,
        "responses": [r.response for r in scheme.oulad],
        "response_outcomes": [r.outcome for r in scheme.oulad],
        "response_passed": [r.passed for r in scheme.oulad],
        "labels": list(OUTCOME_LABELS),
    }
    table: pa.Table = store.con.sql(_OUTCOMES_SQL, params=params).to_arrow_table()
    return table.cast(OUTCOME_SCHEMA)


__all__ = [
    "DEFAULT_SCHEME",
    "OUTCOME_LABELS",
    "OUTCOME_SCHEMA",
    "ClassScheme",
    "ResponseClass",
    "ScoreCuts",
    "outcomes",
    "parse_cuts",
]
