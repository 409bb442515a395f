"""The ``statements`` rows of many validated statements, built column by column.

:func:`learnsight.xapi.columns.statement_columns` makes one row at a time: a dict, datetimes parsed
in Python, a canonical JSON text (tens of µs a statement).  An importer of millions of statements
uses a :class:`ColumnBatch` instead: :meth:`ColumnBatch.add` appends the values the validated model
already holds (a few attribute reads; no JSON parsing, no datetime objects) to one list per
column, and :meth:`ColumnBatch.take` turns the lists into Arrow arrays, converting timestamps and
durations for all rows at once in DuckDB SQL (:func:`timestamp_utc_sql`,
:func:`duration_seconds_sql`).

Reading the values from the validated model, not from the JSON text again, means the columns
always describe exactly what was validated (a JSON object with a repeated key, for instance, is
read the same way).  The rows equal :func:`~learnsight.xapi.columns.statement_columns`'s column
for column (a test compares both on the whole valid corpus), except ``raw``: it is the text the
caller gives, typically the statement as received (see :meth:`ColumnBatch.add`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

import duckdb
import pyarrow as pa

from learnsight.store.schema import STATEMENT_COLUMNS, STATEMENT_SCHEMA
from learnsight.xapi.activity import Activity
from learnsight.xapi.agent import Agent, Group
from learnsight.xapi.columns import canonical_json, course_of, extensions_json, quantity_of
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.statement import Statement, SubStatement
from learnsight.xapi.statement_ref import StatementRef
from learnsight.xapi.vocab import SOURCE_LMS

_LISTED: Final[tuple[str, ...]] = (
    "id",
    "actor_key",
    "actor_name",
    "verb_id",
    "object_id",
    "object_type",
    "activity_type",
    "timestamp",
    "stored_text",
    "source",
    "course",
    "registration",
    "score_scaled",
    "score_raw",
    "score_min",
    "score_max",
    "success",
    "completion",
    "response",
    "duration",
    "quantity",
    "extensions",
    "raw",
)
"""The per-row lists, in the order :meth:`ColumnBatch.add` unpacks their ``append`` methods."""

_LISTED_TYPES: Final[dict[str, pa.DataType]] = {
    name: STATEMENT_COLUMNS.get(name, pa.string()) for name in _LISTED
}

# --- timestamps and durations in SQL -----------------------------------------------------------------
# The shapes TIMESTAMP_PATTERN validates (extended or basic format), split into their parts.
_TIMESTAMP_PARTS: Final = (
    r"^([0-9]{4})-?([0-9]{2})-?([0-9]{2})T([0-9]{2}):?([0-9]{2})(?::?([0-9]{2}))?"
    r"(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_TIMESTAMP_NAMES: Final = "['y', 'mo', 'd', 'h', 'mi', 's', 'f', 'z']"
_DURATION_PARTS: Final = (
    r"^P(?:([0-9.,]+)W)?(?:([0-9.,]+)Y)?(?:([0-9.,]+)M)?(?:([0-9.,]+)D)?"
    r"(?:T(?:([0-9.,]+)H)?(?:([0-9.,]+)M)?(?:([0-9.,]+)S)?)?$"
)
_DURATION_UNITS: Final = (
    ("w", 7 * 86400.0),
    ("y", 365 * 86400.0),
    ("mo", 30 * 86400.0),
    ("d", 86400.0),
    ("h", 3600.0),
    ("mi", 60.0),
    ("s", 1.0),
)
"""Duration parts and their seconds, in the order ``duration_seconds`` adds them."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _utc_fast(text: str) -> str:
    """SQL: is ``text`` a UTC timestamp DuckDB's own cast reads right (extended, ``.``, ``Z``)?

    DuckDB's ``CAST(... AS TIMESTAMP)`` drops a numeric offset instead of applying it, so only
    ``Z`` timestamps take this path; it truncates a fraction beyond microseconds, as Python does.
    """
    return f"(suffix({text}, 'Z') AND substr({text}, 5, 1) = '-' AND NOT contains({text}, ','))"


def timestamp_parts_sql(text: str) -> str:
    """SQL splitting a validated xAPI timestamp into a struct of text parts for
    :func:`timestamp_utc_sql` (NULL for NULL and for the timestamps it reads without them)."""
    return (
        f"CASE WHEN {text} IS NOT NULL AND NOT {_utc_fast(text)} "
        f"THEN regexp_extract({text}, {_literal(_TIMESTAMP_PARTS)}, {_TIMESTAMP_NAMES}) END"
    )


def timestamp_utc_sql(text: str, parts: str) -> str:
    """SQL for a validated xAPI timestamp as a naive UTC ``TIMESTAMP`` (NULL when it is NULL).

    ``parts`` is the SQL of :func:`timestamp_parts_sql` of ``text`` (computed once, in an inner
    query).  The offset is applied by arithmetic (no time-zone database); a timestamp without an
    offset is UTC; the fraction is truncated to microseconds, as :meth:`datetime.fromisoformat`
    does.
    """
    p = parts
    local = (
        f"CAST({p}.y || '-' || {p}.mo || '-' || {p}.d || ' ' || {p}.h || ':' || {p}.mi || ':' "
        f"|| CASE WHEN {p}.s = '' THEN '00' ELSE {p}.s END || '.' || rpad(left({p}.f, 6), 6, '0') "
        "AS TIMESTAMP)"
    )
    digits = f"replace(substr({p}.z, 2), ':', '')"
    minutes = (
        f"(CAST(left({digits}, 2) AS INTEGER) * 60 "
        f"+ CASE WHEN length({digits}) = 4 THEN CAST(right({digits}, 2) AS INTEGER) ELSE 0 END)"
    )
    offset = (
        f"CASE WHEN {p}.z IN ('', 'Z') THEN 0 WHEN left({p}.z, 1) = '-' THEN -{minutes} ELSE {minutes} END"
    )
    return (
        f"(CASE WHEN {_utc_fast(text)} THEN CAST({text} AS TIMESTAMP) "
        f"WHEN {p}.y <> '' THEN {local} - to_minutes({offset}) END)"
    )


def duration_parts_sql(text: str) -> str:
    """SQL splitting a validated ISO 8601 duration into a struct of text parts."""
    names = "[" + ", ".join(f"'{name}'" for name, _ in _DURATION_UNITS) + "]"
    return f"regexp_extract({text}, {_literal(_DURATION_PARTS)}, {names})"


def duration_seconds_sql(parts: str) -> str:
    """SQL for ``duration_seconds`` of :func:`duration_parts_sql` parts (NULL stays NULL).

    Years count 365 days and months 30; the parts are added in the order the Python function adds
    them, so the floating-point sums are identical.
    """
    total = "CAST(0.0 AS DOUBLE)"
    for name, seconds in _DURATION_UNITS:
        value = f"CAST(replace({parts}.{name}, ',', '.') AS DOUBLE) * {seconds!r}"
        total = f"({total} + CASE WHEN {parts}.{name} = '' THEN CAST(0.0 AS DOUBLE) ELSE {value} END)"
    return total


def times_sql(relation: str) -> str:
    """The query giving ``ts`` and ``duration_s`` from ``relation``'s text columns ``timestamp``,
    ``stored_text`` and ``duration``; parameter ``$stored``: the fallback ``ts`` (naive UTC)."""
    ts = (
        f"coalesce({timestamp_utc_sql('timestamp', 'tp')}, {timestamp_utc_sql('stored_text', 'sp')}, "
        "CAST($stored AS TIMESTAMP))"
    )
    return (
        f"SELECT {ts} AS ts, {duration_seconds_sql('dp')} AS duration_s FROM ("
        f"SELECT timestamp, stored_text, {timestamp_parts_sql('timestamp')} AS tp, "
        f"{timestamp_parts_sql('stored_text')} AS sp, {duration_parts_sql('duration')} AS dp "
        f"FROM {relation})"
    )


# --- the batch -----------------------------------------------------------------------------------
def substatement_id(substatement: object) -> str:
    """The ``object_id`` of a SubStatement object: the id of its canonical JSON as received."""
    return str(deterministic_id("xapi-substatement", canonical_json(substatement)))


class ColumnBatch:
    """Rows of the ``statements`` table, collected one validated statement at a time.

    >>> from learnsight.xapi import parse_statement
    >>> text = ('{"id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "actor": {"mbox": "mailto:a@b.org"},'
    ...         ' "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},'
    ...         ' "object": {"id": "http://example.org/q"}, "timestamp": "2024-03-01T10:30:00+01:00"}')
    >>> batch = ColumnBatch()
    >>> batch.add(parse_statement(text), raw=text, sid="3f2504e0-4f89-41d3-9a0c-0305e82c3301")
    >>> batch.take(stored=datetime(2024, 3, 2)).column("ts").to_pylist()
    [datetime.datetime(2024, 3, 1, 9, 30)]
    """

    def __init__(self) -> None:
        self._lists: dict[str, list[Any]] = {name: [] for name in _LISTED}
        self._appends = tuple(values.append for values in self._lists.values())
        self._con: duckdb.DuckDBPyConnection | None = None

    def __len__(self) -> int:
        return len(self._lists["id"])

    def raw(self, index: int) -> str:
        """The ``raw`` text of the row at ``index`` among those added since the last :meth:`take`."""
        text: str = self._lists["raw"][index]
        return text

    def add(self, stmt: Statement, *, raw: str, sid: str) -> None:
        """Append the row of a validated statement.

        Parameters
        ----------
        stmt
            The statement as validated.
        raw
            Its JSON text, stored as is in ``raw``; it must hold the statement ``stmt`` was
            validated from (for a SubStatement object, its ``object_id`` is computed from it).
        sid
            The statement id: ``stmt.id`` in lower case, or the deterministic id of a statement
            received without one (see :func:`learnsight.xapi.columns.statement_id`).
        """
        (
            a_id,
            a_actor_key,
            a_actor_name,
            a_verb_id,
            a_object_id,
            a_object_type,
            a_activity_type,
            a_timestamp,
            a_stored_text,
            a_source,
            a_course,
            a_registration,
            a_scaled,
            a_score_raw,
            a_min,
            a_max,
            a_success,
            a_completion,
            a_response,
            a_duration,
            a_quantity,
            a_extensions,
            a_raw,
        ) = self._appends
        a_id(sid)
        actor = stmt.actor
        a_actor_key(actor.key())
        a_actor_name(actor.name)
        a_verb_id(stmt.verb.id)
        obj = stmt.object
        if type(obj) is Activity:
            definition = obj.definition
            a_object_id(obj.id)
            a_object_type("Activity")
            a_activity_type(definition.type if definition is not None else None)
        else:
            if isinstance(obj, Agent | Group):
                a_object_id(obj.key())
                a_object_type(obj.object_type or "Agent")
            elif isinstance(obj, StatementRef):
                a_object_id(obj.id.lower())
                a_object_type("StatementRef")
            else:
                assert isinstance(obj, SubStatement)
                a_object_id(substatement_id(json.loads(raw)["object"]))
                a_object_type("SubStatement")
            a_activity_type(None)
        a_timestamp(stmt.timestamp)
        a_stored_text(stmt.stored)
        context = stmt.context
        result = stmt.result
        context_ext = context.extensions if context is not None else None
        result_ext = result.extensions if result is not None else None
        a_extensions(extensions_json(result_ext, context_ext) if context_ext or result_ext else None)
        if context is None:
            a_source(SOURCE_LMS)
            a_course(None)
            a_registration(None)
        else:
            platform = context.platform
            registration = context.registration
            a_source(platform if platform is not None else SOURCE_LMS)
            a_course(course_of(context))
            a_registration(registration.lower() if registration is not None else None)
        if result is None:
            for append in (a_scaled, a_score_raw, a_min, a_max, a_success, a_completion):
                append(None)
            a_response(None)
            a_duration(None)
            a_quantity(None)
        else:
            score = result.score
            if score is None:
                a_scaled(None)
                a_score_raw(None)
                a_min(None)
                a_max(None)
            else:
                a_scaled(score.scaled)
                a_score_raw(score.raw)
                a_min(score.min)
                a_max(score.max)
            a_success(result.success)
            a_completion(result.completion)
            a_response(result.response)
            a_duration(result.duration)
            a_quantity(quantity_of(result_ext) if result_ext else None)
        a_raw(raw)

    def take(self, *, stored: datetime) -> pa.Table:
        """The rows added so far (in order) as an Arrow table of the store's schema; the batch is
        empty afterwards.

        ``stored`` is when the store accepts the statements (naive UTC): the ``stored`` column,
        and ``ts`` of a statement without ``timestamp`` and ``stored``.
        """
        if self._con is None:
            self._con = duckdb.connect()  # private: DuckDB's default keeps the rows in order
        return finish(self.take_lists(), stored=stored, con=self._con)

    def take_lists(self) -> pa.Table:
        """The rows added so far as Arrow columns, timestamps and durations still text (for
        :func:`finish`, possibly in another process); the batch is empty afterwards."""
        lists = self._lists
        table = pa.table({name: pa.array(values, _LISTED_TYPES[name]) for name, values in lists.items()})
        for values in lists.values():
            values.clear()
        return table

    def close(self) -> None:
        """Close the private DuckDB connection (a later :meth:`take` opens another)."""
        if self._con is not None:
            self._con.close()
            self._con = None


def finish(lists: pa.Table, *, stored: datetime, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The ``statements`` table of :meth:`ColumnBatch.take_lists` tables (concatenated in order).

    ``con`` is a DuckDB connection that preserves insertion order (its default) for the
    vectorised timestamp and duration conversion; ``stored`` as for :meth:`ColumnBatch.take`.
    """
    rows = lists.num_rows
    name = f"_batch_times_{id(lists):x}"
    con.register(name, lists.select(["timestamp", "stored_text", "duration"]))
    try:
        times = con.sql(times_sql(name), params={"stored": stored}).to_arrow_table()
    finally:
        con.unregister(name)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for column, dtype in STATEMENT_COLUMNS.items():
        if column in ("ts", "duration_s"):
            columns[column] = times.column(column).cast(dtype)
        elif column == "stored":
            columns[column] = pa.repeat(pa.scalar(stored, dtype), rows)
        elif column == "voided":
            columns[column] = pa.repeat(pa.scalar(False, dtype), rows)
        else:
            columns[column] = lists.column(column)
    return pa.table(columns, schema=STATEMENT_SCHEMA)
