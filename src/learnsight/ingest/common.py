"""What every importer shares: the DuckDB transform engine and checks on source files.

DuckDB (in memory) is the transform engine for every tabular source, whatever store backend the
result goes to; the store receives Arrow data.  The checks here turn low-level failures (truncated
gzip, unknown encoding, missing column) into one-line :class:`~learnsight.errors.IngestError`\\ s that
name the file, before anything is written.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from learnsight.errors import IngestError

ARROW_BATCH_ROWS = 1_000_000
"""Rows per Arrow record batch streamed from the transform engine to the store."""


def transform_connection() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection configured for importing."""
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    return con


def check_gzip(path: Path) -> None:
    """Read a ``.gz`` file to its end, raising :class:`IngestError` if it is truncated or corrupt."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 24):
                pass
    except (EOFError, OSError, zlib.error) as exc:
        raise IngestError(f"corrupt or truncated gzip file: {exc}", file=path) from exc


def check_text(path: Path, *, sample_bytes: int = 1 << 20) -> None:
    """Refuse files that are not UTF-8 text (checked on the first MiB and the whole file's gzip).

    A byte-order mark for UTF-16/32 or undecodable bytes gives an error naming the file and the line.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(sample_bytes)
    except (EOFError, OSError, zlib.error) as exc:
        raise IngestError(f"cannot read: {exc}", file=path) from exc
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        raise IngestError("unsupported encoding (UTF-16/32); convert the file to UTF-8", file=path)
    try:
        # A multi-byte character cut at the end of the sample is fine.
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            line = head[: exc.start].count(b"\n") + 1
            raise IngestError(
                f"line {line}: not UTF-8 text (byte 0x{head[exc.start]:02x}); convert the file to UTF-8",
                file=path,
            ) from exc


def check_source_file(path: Path) -> None:
    """Existence, gzip integrity and encoding of a source file."""
    if not path.exists():
        raise IngestError("file not found", file=path)
    if not path.is_file():
        raise IngestError("not a file", file=path)
    if path.suffix == ".gz":
        check_gzip(path)
    check_text(path)


def csv_columns(con: duckdb.DuckDBPyConnection, path: Path, *, delim: str | None = None) -> list[str]:
    """Header names of a CSV file as DuckDB reads it."""
    options = f", delim = '{delim}'" if delim else ""
    try:
        rel = con.sql(
            f"SELECT * FROM read_csv(?, all_varchar = true, header = true{options}) LIMIT 0",
            params=[str(path)],
        )
        return list(rel.columns)
    except duckdb.Error as exc:
        raise IngestError(f"cannot parse CSV: {first_line(exc)}", file=path) from exc


def require_columns(found: Iterable[str], required: Sequence[str], path: Path) -> None:
    """Raise naming the file and every missing column."""
    have = set(found)
    missing = [c for c in required if c not in have]
    if missing:
        raise IngestError(
            f"missing column(s) {', '.join(missing)} (found: {', '.join(sorted(have))})", file=path
        )


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB errors run to many lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
