"""Delimited text read with **physical line numbers**, for importers that must name the line.

DuckDB's CSV reader gives no line numbers for good rows, so the file is read as raw lines (one
VARCHAR per line) and each line is split into fields with a regular expression inside DuckDB; the
line number is the line's position in the file (header = line 1), exact as long as no quoted field
spans several lines — such a line is reported as malformed quoting, never silently merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb

from learnsight.errors import IngestError
from learnsight.ingest.common import first_line

DELIMITERS: Final = (",", ";", "\t", "|")
"""Field separators a mapping (and :func:`read_delimited`) accepts."""

_REGEX_DELIM: Final = {",": ",", ";": ";", "\t": "\\t", "|": "\\|"}
_CLASS_DELIM: Final = {",": ",", ";": ";", "\t": "\\t", "|": "|"}

MALFORMED_QUOTING: Final = (
    "malformed quoting (a stray or unbalanced '\"'; quoted fields spanning lines are not supported)"
)


@dataclass(frozen=True)
class DelimitedRecords:
    """A delimited file loaded into the transform connection.

    ``table`` has the columns ``line`` (physical, 1-based), ``fields`` (VARCHAR[], unquoted) and
    ``wellformed`` (the line's quoting is valid); header and blank lines are not in it.
    """

    table: str
    file: str
    columns: tuple[str, ...]
    rows_read: int
    blank_lines: int


def read_delimited(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    table: str,
    delimiter: str = ",",
    header: bool = True,
    columns: tuple[str, ...] | None = None,
    display_name: str | None = None,
) -> DelimitedRecords:
    """Load ``path`` (``.gz`` ok) into ``table`` as numbered records; see the module docstring.

    ``table`` must be a plain identifier chosen by the caller (never user input).  With
    ``header=False`` the column names are ``columns``.  Raises :class:`IngestError` naming the file
    when it cannot be read, is empty, or its header is malformed or repeats a name.
    """
    if delimiter not in DELIMITERS:
        raise ValueError(f"unsupported delimiter {delimiter!r}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"bad table name {table!r}")
    shown = display_name or path.name
    field_re = f'"(?:[^"]|"")*"|[^{_CLASS_DELIM[delimiter]}"]*'
    params: dict[str, object] = {
        "path": str(path),
        "delim": delimiter,
        "full": f"(?:{field_re})(?:{_REGEX_DELIM[delimiter]}(?:{field_re}))*",
        "split": f"{_REGEX_DELIM[delimiter]}({field_re})",
    }
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_lines AS SELECT text FROM read_csv($path, "
            "columns = {'text': 'VARCHAR'}, header = false, delim = '', quote = '', escape = '', "
            "auto_detect = false, strict_mode = false)",
            {"path": params["path"]},
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            "WITH numbered AS (SELECT rowid + 1 AS line, "
            "CASE WHEN rowid = 0 THEN ltrim(text, chr(65279)) ELSE text END AS text "
            f"FROM {table}_lines) "
            "SELECT line, regexp_full_match(text, $full) AS wellformed, "
            "list_transform(regexp_extract_all($delim || text, $split, 1), lambda f: "
            "CASE WHEN f[1] = '\"' THEN replace(f[2:-2], '\"\"', '\"') ELSE f END) AS fields "
            "FROM numbered WHERE text IS NOT NULL AND trim(text) <> ''",
            {k: v for k, v in params.items() if k != "path"},
        )
        total_lines = int(scalar(con, f"SELECT count(*) FROM {table}_lines"))
        con.execute(f"DROP TABLE {table}_lines")
    except duckdb.Error as exc:
        raise IngestError(f"cannot read: {first_line(exc)}", file=shown) from exc
    names: tuple[str, ...]
    if header:
        head = con.execute(f"SELECT line, wellformed, fields FROM {table} ORDER BY line LIMIT 1").fetchall()
        if not head:
            raise IngestError("empty file (no header line)", file=shown)
        line, wellformed, fields = head[0]
        if not wellformed:
            raise IngestError(f"line {line}: header: {MALFORMED_QUOTING}", file=shown)
        names = tuple(str(f).strip() for f in fields)
        con.execute(f"DELETE FROM {table} WHERE line = ?", [line])
    else:
        if not columns:
            raise IngestError("no header and no column names given", file=shown)
        names = tuple(columns)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise IngestError(f"repeated column name(s) {', '.join(repeated)}", file=shown)
    rows = int(scalar(con, f"SELECT count(*) FROM {table}"))
    return DelimitedRecords(
        table=table,
        file=shown,
        columns=names,
        rows_read=rows,
        blank_lines=total_lines - rows - (1 if header else 0),
    )


def quote_ident(name: str) -> str:
    """A DuckDB identifier for any column name (embedded ``"`` doubled)."""
    return '"' + name.replace('"', '""') + '"'


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """The first value of a query's first row (``None`` when there is none)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
