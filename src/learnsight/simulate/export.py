"""Write a simulated campus as the raw files each source system would hand over.

=================  ========================================================================
``canteen.csv``    ``card_id,timestamp,terminal,canteen,amount``
``dorm.csv``       ``card_id,timestamp,gate,direction``
``library.csv``    ``student_id,loan_time,book_id,title,category,author,return_time``
``network.csv``    ``account,session_start,session_end,bytes,ap``
``lms.jsonl``      xAPI 1.0.3 statements, one JSON object a line: sources ``lms``,
                   ``classroom``, ``camera`` and ``registry``
=================  ========================================================================

CSV timestamps are ``YYYY-MM-DD HH:MM:SS`` (campus time); an unreturned book has an empty
``return_time``; ids are the student ids (``S0001``).  The JSON lines are the statements
:func:`learnsight.store.rebuild.rebuild_statement` would rebuild from the same columns (actor
account on ``https://campus.example.edu``, verb id and display, object with definition type,
result, context with platform, course grouping and extensions, ``…Z`` timestamp, version 1.0.3),
built in DuckDB rather than row by row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import duckdb
import pyarrow as pa

from learnsight import progress
from learnsight.simulate.config import HOME_PAGE
from learnsight.xapi import vocab as v

if TYPE_CHECKING:
    from learnsight.simulate.campus import Campus


def _ext(part: str, key: str) -> str:
    return f"(CAST(extensions AS JSON)->'{part}'->>'{key}')"


_TS: Final = "strftime({col}, '%Y-%m-%d %H:%M:%S')"
_CARD: Final = "split_part(actor_key, '|', 2)"

CSV_QUERIES: Final[dict[str, str]] = {
    "canteen": (
        f"SELECT {_CARD} AS card_id, {_TS.format(col='ts')} AS timestamp, "
        f"{_ext('context', v.EXT_TERMINAL)} AS terminal, {_ext('context', v.EXT_PLACE)} AS canteen, "
        "printf('%.2f', quantity) AS amount "
        f"FROM campus WHERE source = '{v.SOURCE_CANTEEN}' ORDER BY ts, card_id"
    ),
    "dorm": (
        f"SELECT {_CARD} AS card_id, {_TS.format(col='ts')} AS timestamp, "
        f"{_ext('context', v.EXT_GATE)} AS gate, {_ext('context', v.EXT_DIRECTION)} AS direction "
        f"FROM campus WHERE source = '{v.SOURCE_DORM}' ORDER BY ts, card_id"
    ),
    "library": (
        f"SELECT {_CARD} AS student_id, {_TS.format(col='ts')} AS loan_time, "
        "regexp_extract(object_id, '[^/]+$') AS book_id, "
        f"{_ext('context', v.EXT_TITLE)} AS title, {_ext('context', v.EXT_CATEGORY)} AS category, "
        f"{_ext('context', v.EXT_AUTHOR)} AS author, "
        f"{_ext('result', v.EXT_RETURN_TIME)} AS return_time "
        f"FROM campus WHERE source = '{v.SOURCE_LIBRARY}' ORDER BY ts, student_id"
    ),
    "network": (
        f"SELECT {_CARD} AS account, {_TS.format(col='ts')} AS session_start, "
        f"{_TS.format(col='ts + to_seconds(CAST(duration_s AS BIGINT))')} AS session_end, "
        f"CAST(quantity AS BIGINT) AS bytes, {_ext('context', v.EXT_ACCESS_POINT)} AS ap "
        f"FROM campus WHERE source = '{v.SOURCE_NETWORK}' ORDER BY ts, account"
    ),
}
"""One query per CSV file over the campus's statements (registered as ``campus``)."""

JSONL_SOURCES: Final = (v.SOURCE_LMS, v.SOURCE_CLASSROOM, v.SOURCE_CAMERA, v.SOURCE_REGISTRY)


def _member(name: str, value_sql: str) -> str:
    """``"name":<json>`` or NULL when the value is NULL (``concat_ws`` then leaves it out)."""
    return f"('\"{name}\":' || {value_sql})"


_SCORE: Final = (
    "CASE WHEN score_raw IS NOT NULL OR score_scaled IS NOT NULL THEN '{' || concat_ws(',', "
    + ", ".join(
        _member(k, f"CAST(to_json({c}) AS VARCHAR)")
        for k, c in (
            ("scaled", "score_scaled"),
            ("raw", "score_raw"),
            ("min", "score_min"),
            ("max", "score_max"),
        )
    )
    + ") || '}' END"
)
_RESULT_INNER: Final = (
    "concat_ws(',', "
    + ", ".join(
        [
            _member("score", _SCORE),
            _member("success", "CAST(to_json(success) AS VARCHAR)"),
            _member("completion", "CAST(to_json(completion) AS VARCHAR)"),
            _member("response", "CAST(to_json(response) AS VARCHAR)"),
            _member(
                "duration",
                "CAST(to_json(replace(printf('PT%.2fS', duration_s), '.00S', 'S')) AS VARCHAR)",
            ),
            _member("extensions", "CAST(CAST(extensions AS JSON)->'result' AS VARCHAR)"),
        ]
    )
    + ")"
)
STATEMENT_JSON_SQL: Final = (
    "'{' || concat_ws(',', "
    + ", ".join(
        [
            _member("id", "CAST(to_json(id) AS VARCHAR)"),
            _member(
                "actor",
                f'\'{{"objectType":"Agent","account":{{"homePage":"{HOME_PAGE}",'
                "\"name\":' || CAST(to_json(split_part(actor_key, '|', 2)) AS VARCHAR) || '}}'",
            ),
            _member(
                "verb",
                '\'{"id":\' || CAST(to_json(verb_id) AS VARCHAR) || \',"display":{"en-US":\' '
                "|| CAST(to_json(coalesce(display, verb_id)) AS VARCHAR) || '}}'",
            ),
            _member(
                "object",
                "'{\"objectType\":' || CAST(to_json(object_type) AS VARCHAR) || ',\"id\":' "
                '|| CAST(to_json(object_id) AS VARCHAR) || coalesce(\',"definition":{"type":\' '
                "|| CAST(to_json(activity_type) AS VARCHAR) || '}', '') || '}'",
            ),
            _member("timestamp", "'\"' || strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ') || '\"'"),
            '\'"version":"1.0.3"\'',
            _member("result", f"CASE WHEN {_RESULT_INNER} <> '' THEN '{{' || {_RESULT_INNER} || '}}' END"),
            _member(
                "context",
                "'{\"platform\":' || CAST(to_json(source) AS VARCHAR) "
                '|| coalesce(\',"contextActivities":{"grouping":[{"objectType":"Activity",'
                '"id":\' || CAST(to_json(course) AS VARCHAR) || \',"definition":{"type":'
                f"\"{v.COURSE}\"}}}}]}}', '') "
                "|| coalesce(',\"extensions\":' || CAST(CAST(extensions AS JSON)->'context' AS VARCHAR), '') "
                "|| '}'",
            ),
        ]
    )
    + ") || '}'"
)
"""One xAPI statement as JSON text per row of the campus's statements (joined with ``verbs``)."""


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_sources(campus: Campus, out_dir: Path) -> dict[str, Path]:
    """Write every source's raw files into ``out_dir``; returns file stem → path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("campus", campus.statements)
        con.register(
            "verbs",
            pa.table({"verb_id": list(v.VERB_DISPLAY), "display": list(v.VERB_DISPLAY.values())}),
        )
        with progress.task("exporting source files", total=len(CSV_QUERIES) + 1) as advance:
            for name, query in CSV_QUERIES.items():
                path = out_dir / f"{name}.csv"
                con.execute(f"COPY ({query}) TO {_quote(path)} (FORMAT CSV, HEADER true)")
                written[name] = path
                advance(1)
            path = out_dir / "lms.jsonl"
            sources = ", ".join(f"'{s}'" for s in JSONL_SOURCES)
            reader = con.sql(
                f"SELECT {STATEMENT_JSON_SQL} AS statement FROM campus LEFT JOIN verbs USING "
                f"(verb_id) WHERE source IN ({sources}) ORDER BY ts, id"
            ).to_arrow_reader(batch_size=200_000)
            with path.open("w", encoding="utf-8", newline="\n") as fh:
                for batch in reader:
                    lines = batch.column(0).to_pylist()
                    if lines:
                        fh.write("\n".join(lines))
                        fh.write("\n")
            written["lms"] = path
            advance(1)
    finally:
        con.close()
    return written
