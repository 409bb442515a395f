"""Vectorised building blocks of the simulator: event groups, random helpers, statement ids.

Every generator returns :class:`Events`: one verb from one source, as NumPy columns (student index,
course index, Unix seconds, result values) plus *small* string tables (objects, responses,
extensions) addressed by index.  :func:`to_table` turns a group into Arrow columns of
:data:`~learnsight.store.schema.STATEMENT_COLUMNS` with ``take`` — no per-event Python work — and
:func:`with_ids` gives every statement its deterministic id.

Statement ids
-------------
The id of a simulated statement is the UUIDv5 (under :data:`learnsight.xapi.ids.NAMESPACE`) of the
identity ``simulate␟seed␟source␟verb_id␟actor_key␟object_id␟ts␟k``, where ``ts`` is written
``YYYY-MM-DD HH:MM:SS`` and ``k`` is the statement's position within its :class:`Events` group (one
source, verb and kind of object; no two groups share all three), which makes ids unique by
construction; it equals
``deterministic_id("simulate", seed, source, verb_id, actor_key, object_id, ts, k)`` while being
computed for millions of rows at once: DuckDB hashes (SHA-1) and NumPy lays the digests out as UUID
text.  Same seed and config, same ids: writing a campus twice adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from learnsight.store.schema import STATEMENT_COLUMNS
from learnsight.xapi.ids import NAMESPACE

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DAY: Final = 86_400
HOUR: Final = 3_600
MINUTE: Final = 60

SIM_COLUMNS: Final[tuple[str, ...]] = (
    "actor_key",
    "verb_id",
    "object_id",
    "object_type",
    "activity_type",
    "ts",
    "source",
    "course",
    "score_scaled",
    "score_raw",
    "score_min",
    "score_max",
    "success",
    "completion",
    "response",
    "duration_s",
    "quantity",
    "extensions",
)
"""The statement columns the simulator fills (``id`` is added by :func:`with_ids`)."""

SIM_SCHEMA: Final[pa.Schema] = pa.schema([(name, STATEMENT_COLUMNS[name]) for name in ("id", *SIM_COLUMNS)])


def sigmoid(x: FloatArray | float) -> FloatArray:
    """The logistic function, elementwise."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64))), dtype=np.float64)


def expand(counts: npt.NDArray[np.integer[Any]]) -> tuple[IntArray, IntArray]:
    """Rows of a count vector: ``(parent, k)`` with ``parent`` repeated ``counts`` times and ``k``
    numbering each parent's events 0, 1, ...

    >>> expand(np.array([2, 0, 1]))
    (array([0, 0, 2]), array([0, 1, 0]))
    """
    counts = np.asarray(counts, dtype=np.int64)
    parent = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(parent.size, dtype=np.int64) - starts[parent]
    return parent, k


def ext_json(
    result: Mapping[str, object] | None = None, context: Mapping[str, object] | None = None
) -> str | None:
    """The ``extensions`` column value: ``{"result": {...}, "context": {...}}`` (empty parts left out)."""
    doc: dict[str, Mapping[str, object]] = {}
    if result:
        doc["result"] = result
    if context:
        doc["context"] = context
    return json.dumps(doc, separators=(",", ":")) if doc else None


def join_text(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays and literals elementwise (vectorised f-string)."""
    return pc.binary_join_element_wise(*parts, "")


@dataclass
class Events:
    """One group of simulated statements: one verb from one source.

    ``objects`` (with the parallel ``activity_types``) is a table of object IRIs and ``object_idx``
    points into it; ``responses``/``response_idx`` and ``extensions``/``extension_idx`` work the
    same way.  ``course`` is a course index, ``-1`` where the statement is not course-bound.
    """

    source: str
    verb: str
    student: IntArray
    ts: IntArray
    objects: pa.Array | Sequence[str]
    object_idx: IntArray
    activity_types: pa.Array | Sequence[str] | str
    course: IntArray | None = None
    score_raw: FloatArray | None = None
    score_min: float | None = None
    score_max: float | None = None
    success: BoolArray | None = None
    completion: bool | None = None
    responses: Sequence[str] | None = None
    response_idx: IntArray | None = None
    duration_s: FloatArray | None = None
    quantity: FloatArray | None = None
    extensions: pa.Array | Sequence[str | None] | None = None
    extension_idx: IntArray | None = None

    def __len__(self) -> int:
        return int(self.student.size)


def _strings(values: pa.Array | Sequence[str | None]) -> pa.Array:
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(list(values), type=pa.string())


def _const(value: object, n: int, typ: pa.DataType) -> pa.Array:
    if value is None:
        return pa.nulls(n, typ)
    return pa.array(np.full(n, value)).cast(typ) if typ != pa.string() else pa.repeat(value, n)


def to_table(events: Events, actors: pa.Array, courses: pa.Array) -> pa.Table:
    """Arrow statement columns (:data:`SIM_COLUMNS` plus ``k``) of one event group."""
    n = len(events)
    cols: dict[str, pa.Array] = {}
    cols["actor_key"] = actors.take(pa.array(events.student))
    cols["verb_id"] = pa.repeat(events.verb, n)
    cols["object_id"] = _strings(events.objects).take(pa.array(events.object_idx))
    cols["object_type"] = pa.repeat("Activity", n)
    if isinstance(events.activity_types, str):
        cols["activity_type"] = pa.repeat(events.activity_types, n)
    else:
        cols["activity_type"] = _strings(events.activity_types).take(pa.array(events.object_idx))
    cols["ts"] = pa.array(events.ts * 1_000_000, type=pa.int64()).cast(pa.timestamp("us"))
    cols["source"] = pa.repeat(events.source, n)
    if events.course is None:
        cols["course"] = pa.nulls(n, pa.string())
    else:
        idx = pa.array(events.course, mask=events.course < 0)
        cols["course"] = courses.take(idx)
    if events.score_raw is not None:
        lo = events.score_min if events.score_min is not None else 0.0
        hi = events.score_max if events.score_max is not None else 1.0
        raw = np.asarray(events.score_raw, dtype=np.float64)
        cols["score_scaled"] = pa.array(np.round((raw - lo) / (hi - lo), 4))
        cols["score_raw"] = pa.array(raw)
        cols["score_min"] = _const(lo, n, pa.float64())
        cols["score_max"] = _const(hi, n, pa.float64())
    else:
        for name in ("score_scaled", "score_raw", "score_min", "score_max"):
            cols[name] = pa.nulls(n, pa.float64())
    cols["success"] = pa.array(events.success) if events.success is not None else pa.nulls(n, pa.bool_())
    cols["completion"] = _const(events.completion, n, pa.bool_())
    if events.responses is not None and events.response_idx is not None:
        cols["response"] = _strings(events.responses).take(pa.array(events.response_idx))
    else:
        cols["response"] = pa.nulls(n, pa.string())
    for name in ("duration_s", "quantity"):
        value = getattr(events, name)
        cols[name] = (
            # NaN marks a missing value (e.g. the length of a loan not yet returned).
            pa.array(np.asarray(value, dtype=np.float64), from_pandas=True)
            if value is not None
            else pa.nulls(n, pa.float64())
        )
    if events.extensions is None:
        cols["extensions"] = pa.nulls(n, pa.string())
    else:
        ext = _strings(events.extensions)
        idx = events.extension_idx if events.extension_idx is not None else events.object_idx
        cols["extensions"] = ext.take(pa.array(idx))
    cols["k"] = pa.array(np.arange(n, dtype=np.int64))
    return pa.table(cols)


_IDENTITY_SQL: Final = (
    "sha1(from_hex($ns) || encode(concat($prefix, source, chr(31), verb_id, chr(31), actor_key, "
    "chr(31), object_id, chr(31), strftime(ts, '%Y-%m-%d %H:%M:%S'), chr(31), k)))"
)


def _uuid_text(hex_digests: pa.Array) -> pa.Array:
    """Lay out 40-character SHA-1 hex digests as UUIDv5 text (version 5, RFC 4122 variant)."""
    n = len(hex_digests)
    if n == 0:
        return pa.array([], type=pa.string())
    arr = hex_digests.cast(pa.string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=n + 1, offset=arr.offset * 4)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    raw = data[offsets[0] : offsets[0] + 40 * n].reshape(n, 40)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, 0:8] = raw[:, 0:8]
    out[:, 9:13] = raw[:, 8:12]
    out[:, 14] = ord("5")
    out[:, 15:18] = raw[:, 13:16]
    variant = np.frombuffer(b"89ab", dtype=np.uint8)
    nibble = raw[:, 16].astype(np.int64)
    value = np.where(nibble >= ord("a"), nibble - ord("a") + 10, nibble - ord("0"))
    out[:, 19] = variant[value % 4]
    out[:, 20:23] = raw[:, 17:20]
    out[:, 24:36] = raw[:, 20:32]
    return pa.array(out.reshape(-1).view("S36"), type=pa.binary(36)).cast(pa.string())


def with_ids(table: pa.Table, seed: int) -> pa.Table:
    """Add the deterministic ``id`` column (see module docstring), drop ``k``, order as SIM_SCHEMA."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = true")
        con.register("_events", table)
        digests = con.sql(
            f"SELECT {_IDENTITY_SQL} AS h FROM _events",
            params={"ns": NAMESPACE.hex, "prefix": f"simulate\x1f{seed}\x1f"},
        ).to_arrow_table()
    finally:
        con.close()
    ids = _uuid_text(digests.column("h").combine_chunks())
    columns = [ids, *(table.column(name) for name in SIM_COLUMNS)]
    return pa.Table.from_arrays(columns, schema=SIM_SCHEMA)
