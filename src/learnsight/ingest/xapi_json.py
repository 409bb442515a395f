"""Import xAPI statements from a JSON array or a JSON Lines file (optionally gzip-compressed).

Every statement is validated strictly (:func:`learnsight.xapi.parse_statement`'s rules).  What does
not validate becomes a :class:`~learnsight.errors.Rejection`, and the store's ``ingest`` then
refuses the whole file unless ``max_rejects`` allows that many (nothing is written either way
when it refuses).

* **Format**: a file whose first non-blank character is ``[`` is one JSON array of statements;
  anything else is JSON Lines, one statement per line, blank lines ignored.  A UTF-8 byte-order
  mark is ignored.
* **Where**: a rejection of a JSON Lines statement names its physical line (1-based); one of a
  JSON array has ``line=None`` and its reason starts ``statement N:`` (N counts from 1).  The reason
  is the JSON path of the first violation and its message.
* **Duplicates** in the file (same id; a statement without id gets the deterministic id of its
  content, see :mod:`learnsight.xapi.columns`): identical content is kept once; different content
  is a rejection of the later one.
* **Conflicts** with the store: a statement whose id is already stored with different content is a
  rejection (xAPI: statements are immutable); with identical content it is skipped by the store
  (``statements_skipped``), so importing a file twice writes nothing the second time.  Contents
  are compared as JSON values (``1`` equals ``1.0``).  Statements stored by a tabular importer
  (no ``raw`` text) are not compared.
* **Voiding** statements are stored like any other; the store marks their targets voided.
* ``rows_read`` counts the statements read (JSON values, blank lines excluded).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import pyarrow as pa

from learnsight.errors import IngestError, Rejection, StatementValidationError
from learnsight.ingest.common import check_source_file
from learnsight.progress import task
from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.store.schema import STATEMENT_SCHEMA
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.parse import parse_statement
from learnsight.xapi.statement import rules_for

KIND: Final = "xapi"
"""The ``kind`` recorded in ``ingest_batches``."""

CHUNK_ROWS: Final = 20_000
"""Statements checked against the store and turned into Arrow at a time."""

_CONFLICT_SQL: Final = """
SELECT CAST(s.id AS VARCHAR), CAST(s.raw AS VARCHAR), i.raw
FROM statements s JOIN _xapi_incoming i ON s.id = CAST(i.id AS UUID)
WHERE s.raw IS NOT NULL AND CAST(s.raw AS VARCHAR) <> i.raw
"""
"""Stored statements whose id comes again with a different text (then compared as JSON)."""


@dataclass
class _Seen:
    line: int | None
    index: int | None
    digest: bytes


@dataclass
class _Collector:
    """State of one import: accepted rows (in Arrow chunks), rejections, duplicates."""

    store: Store
    source: str
    stored: datetime
    version: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_where: list[tuple[int | None, int | None]] = field(default_factory=list)
    tables: list[pa.Table] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    seen: dict[str, _Seen] = field(default_factory=dict)
    read: int = 0
    duplicates: int = 0
    conflicts: int = 0

    def reject(self, line: int | None, index: int | None, reason: str) -> None:
        prefix = f"statement {index}: " if index is not None and line is None else ""
        self.rejections.append(Rejection(self.source, line, prefix + reason))

    def add(self, line: int | None, index: int | None, data: object, *, text: bool) -> None:
        """Validate one statement (JSON text or parsed JSON) and keep its row, or say why not.

        JSON text is validated by pydantic-core straight from the text (the fast path) and parsed
        again only when valid, for the ``raw`` column.
        """
        self.read += 1
        if not text and not isinstance(data, dict):
            self.reject(line, index, "<statement>: must be a JSON object")
            return
        try:
            stmt = parse_statement(data, version=self.version)
        except StatementValidationError as exc:
            self.reject(line, index, str(exc))
            return
        if text:
            data = json.loads(str(data))
        assert isinstance(data, dict)
        row = statement_columns(stmt, stored=self.stored, source=data)
        sid: str = row["id"]
        digest = hashlib.blake2b(row["raw"].encode(), digest_size=16).digest()
        first = self.seen.get(sid)
        if first is not None:
            if first.digest == digest:
                self.duplicates += 1
                return
            where = f"line {first.line}" if first.line is not None else f"statement {first.index}"
            self.reject(
                line, index, f"id: statement id {sid} already appears at {where} with different content"
            )
            return
        self.seen[sid] = _Seen(line, index, digest)
        self.rows.append(row)
        self.row_where.append((line, index))
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        """Check the pending rows against the store and move them into an Arrow table."""
        if not self.rows:
            return
        conflicting = self._conflicts()
        if conflicting:
            keep = []
            for row, (line, index) in zip(self.rows, self.row_where, strict=True):
                if row["id"] in conflicting:
                    self.conflicts += 1
                    self.reject(
                        line,
                        index,
                        f"id: statement id {row['id']} is already stored "
                        "with different content (xAPI conflict)",
                    )
                else:
                    keep.append(row)
            self.rows = keep
        self.tables.append(statements_table(self.rows))
        self.rows = []
        self.row_where = []

    def _conflicts(self) -> set[str]:
        if not isinstance(self.store, DuckDBStore):
            return set()
        incoming = pa.table({"id": [r["id"] for r in self.rows], "raw": [r["raw"] for r in self.rows]})
        con = self.store.con
        con.register("_xapi_incoming", incoming)
        try:
            differing = con.execute(_CONFLICT_SQL).fetchall()
        finally:
            con.unregister("_xapi_incoming")
        return {sid for sid, old, new in differing if json.loads(old) != json.loads(new)}

    def table(self) -> pa.Table:
        self.flush()
        if not self.tables:
            return STATEMENT_SCHEMA.empty_table()
        return pa.concat_tables(self.tables)


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return path.open(encoding="utf-8-sig")


def _is_array(path: Path) -> bool:
    with _open(path) as fh:
        while chunk := fh.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped.startswith("[")
    return False


def _array_items(path: Path) -> list[Any]:
    with _open(path) as fh:
        text = fh.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", file=path
        ) from exc
    if not isinstance(data, list):
        raise IngestError("a JSON file must hold an array of statements", file=path)
    return data


def _jsonl_records(fh: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(fh, 1):
        text = line.strip()
        if text:
            yield number, text


def ingest_xapi(
    store: Store, path: Path, *, max_rejects: int = 0, version: str | None = None
) -> IngestReport:
    """Validate and store the xAPI statements of a JSON array or JSON Lines file.

    Parameters
    ----------
    store
        Where the statements go; written atomically by ``store.ingest``.
    path
        A ``.json``/``.jsonl`` file, optionally ``.gz``.
    max_rejects
        How many invalid, duplicate-conflicting or store-conflicting statements to tolerate (they
        are recorded in ``rejected_rows``); one more and nothing is written.
    version
        Validate every statement under these xAPI rules (``"1.0.3"``, ``"2.0.0"``); by default
        each statement's own ``version`` decides (1.0.3 without one).

    Returns
    -------
    IngestReport
        ``rows_read`` statements read; ``statements_written``/``statements_skipped`` as the store
        counted them; ``details`` with the format, in-file duplicates and store conflicts.

    Raises
    ------
    IngestError
        The file is missing, not UTF-8, a truncated gzip or not JSON (for a JSON array), or more
        statements were rejected than ``max_rejects`` allows.  The store is unchanged.
    """
    path = Path(path)
    check_source_file(path)
    collector = _Collector(
        store=store,
        source=str(path),
        stored=datetime.now(UTC).replace(tzinfo=None),
        version=rules_for(version) if version is not None else None,
    )
    is_array = _is_array(path)
    with task(f"Validating xAPI statements in {path.name}") as advance:
        if is_array:
            for index, item in enumerate(_array_items(path), 1):
                collector.add(None, index, item, text=False)
                if index % 1000 == 0:
                    advance(1000)
        else:
            with _open(path) as fh:
                for number, line in _jsonl_records(fh):
                    collector.add(number, None, line, text=True)
                    if collector.read % 1000 == 0:
                        advance(1000)
        table = collector.table()
    batch = IngestBatch(
        kind=KIND,
        source=str(path),
        rows_read=collector.read,
        statements=table,
        rejections=tuple(collector.rejections),
        details={
            "format": "json-array" if is_array else "jsonl",
            "duplicates_in_file": collector.duplicates,
            "conflicts_with_store": collector.conflicts,
            "xapi_rules": version or "per statement (1.0.3 when no version)",
        },
    )
    return store.ingest(batch, max_rejects=max_rejects)
