"""The learners' indicators as a regression design: the side information of the MLR fill (SPEC §4).

One row per learner of an :class:`~.interactions.Interactions` matrix, one column per numeric
indicator (SPEC §2: the student-level indicators, plus the course-level ones of the matrix's course
when it has one) and per basic-information attribute of the learner's profile (numbers and booleans
as they are; text such as ``gender`` or ``age_band`` one-hot, one column per value held by at least
two learners).  Label indicators (``top_book_category``…) are left out.

Each column is median-imputed (a missing indicator is not zero, SPEC §2), then standardised
``z = (x − mean) / sd``; columns with no value or no spread are dropped, so the design never holds a
constant or a NaN.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from learnsight.indicators.compute import IndicatorTables
from learnsight.store.duckdb_store import DuckDBStore

FloatArray = npt.NDArray[np.float64]

_PROFILES = """
SELECT actor_key, prior_gpa, retakes, CAST(attributes AS VARCHAR) AS attributes
FROM profiles
QUALIFY row_number() OVER (
    PARTITION BY actor_key
    ORDER BY CASE WHEN course = $course THEN 0 WHEN course = '' THEN 1 ELSE 2 END, batch_id DESC, course
) = 1
"""
"""A learner's profile: the course's own when there is a course, else the general one (course ''),
else the latest of any course (OULAD keeps profiles per module-presentation)."""


@dataclass(frozen=True)
class Features:
    """A standardised design matrix (users × features) and its column names."""

    users: tuple[str, ...]
    names: tuple[str, ...]
    matrix: FloatArray

    @property
    def n_features(self) -> int:
        return len(self.names)


def standardise(columns: dict[str, FloatArray]) -> tuple[tuple[str, ...], FloatArray]:
    """Median-impute and z-score each column; drop the empty and the constant ones.

    >>> names, z = standardise({"a": np.array([1.0, np.nan, 3.0]), "b": np.array([2.0, 2.0, 2.0])})
    >>> names, z.round(3).tolist()
    (('a',), [[-1.225], [0.0], [1.225]])
    """
    kept: list[str] = []
    out: list[FloatArray] = []
    for name, raw in columns.items():
        x = np.asarray(raw, dtype=np.float64)
        finite = np.isfinite(x)
        if not finite.any():
            continue
        x = np.where(finite, x, np.median(x[finite]))
        sd = float(x.std())
        if sd <= 1e-12:
            continue
        kept.append(name)
        out.append((x - x.mean()) / sd)
    n = len(next(iter(columns.values()))) if columns else 0
    matrix = np.column_stack(out) if out else np.zeros((n, 0))
    return tuple(kept), matrix


def indicator_features(
    store: DuckDBStore,
    tables: IndicatorTables,
    users: Sequence[str],
    *,
    course: str | None = None,
    profiles: bool = True,
) -> Features:
    """The design matrix of ``users`` from computed indicators (and their profiles).

    ``tables`` comes from :func:`learnsight.indicators.compute_indicators` at the cut-off the
    recommendation is made at; a learner absent from them gets the medians.
    """
    index = {u: i for i, u in enumerate(users)}
    columns: dict[str, FloatArray] = {}
    _add_numeric(columns, tables.student, index, "")
    if course is not None:
        mask = np.asarray(tables.student_course.column("course").to_pylist(), dtype=object) == course
        _add_numeric(columns, tables.student_course.filter(pa.array(mask)), index, "")
    if profiles:
        table = store.con.sql(_PROFILES, params={"course": course}).to_arrow_table()
        _add_profiles(columns, table, index)
    names, matrix = standardise(columns) if columns else ((), np.zeros((len(users), 0)))
    return Features(users=tuple(users), names=names, matrix=matrix)


def _add_numeric(columns: dict[str, FloatArray], table: pa.Table, index: dict[str, int], prefix: str) -> None:
    rows = _rows(table.column("actor_key").to_pylist(), index)
    for name in table.column_names:
        if name in ("actor_key", "course"):
            continue
        col = table.column(name)
        if not (
            pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type)
        ):
            continue
        values = np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        columns[prefix + name] = _scatter(values, rows, len(index))


def _add_profiles(columns: dict[str, FloatArray], table: pa.Table, index: dict[str, int]) -> None:
    rows = _rows(table.column("actor_key").to_pylist(), index)
    n = len(index)
    for name in ("prior_gpa", "retakes"):  # the indicators' own copy, unless it is empty
        if name in columns and np.isfinite(columns[name]).any():
            continue
        numbers = np.asarray(table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False))
        columns[name] = _scatter(numbers, rows, n)
    parsed = [json.loads(a) if a else {} for a in table.column("attributes").to_pylist()]
    keys = sorted({k for p in parsed for k in p if isinstance(k, str)})
    for key in keys:
        values = [p.get(key) for p in parsed]
        if all(v is None or isinstance(v, bool | int | float) for v in values):
            numeric = np.array([np.nan if v is None else float(v) for v in values])
            columns[f"profile.{key}"] = _scatter(numeric, rows, n)
            continue
        text = np.array(["" if v is None else str(v) for v in values], dtype=object)
        levels, counts = np.unique(text[rows >= 0], return_counts=True)
        frequent = [str(lv) for lv, c in zip(levels, counts, strict=True) if lv and c >= 2]
        if len(frequent) > 40:  # an identifier (student_id), not a category
            continue
        for level in frequent:
            columns[f"profile.{key}={level}"] = _scatter((text == level).astype(np.float64), rows, n)


def _rows(keys: list[object], index: dict[str, int]) -> npt.NDArray[np.int64]:
    return np.array([index.get(str(k), -1) for k in keys], dtype=np.int64)


def _scatter(values: FloatArray, rows: npt.NDArray[np.int64], n: int) -> FloatArray:
    out = np.full(n, np.nan)
    keep = rows >= 0
    out[rows[keep]] = values[keep]
    return out


__all__ = ["Features", "indicator_features", "standardise"]
