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
  content, see :mod:`learnsight.xapi.columns`): identical content (the same JSON value) is kept
  once; different content is a rejection of the later one.
* **Conflicts** with the store: a statement whose id is already stored with different content is a
  rejection (xAPI: statements are immutable); with identical content it is skipped by the store
  (``statements_skipped``), so importing a file twice writes nothing the second time.  Contents
  are compared as JSON values (``1`` equals ``1.0``, ``true`` does not equal ``1``).  Statements
  stored by a tabular importer (no ``raw`` text) are not compared.
* **Voiding** statements are stored like any other; the store marks their targets voided.
* ``rows_read`` counts the statements read (JSON values, blank lines excluded).
* **Stored text** (``raw``): a JSON Lines statement is kept as received (the line, trimmed); a
  statement without id, and every statement of a JSON array, as canonical JSON (id added).

Speed: the hot path is one strict validation per line (pydantic-core, straight from the text);
the row is then read from the validated model into column lists
(:class:`~learnsight.xapi.columns_batch.ColumnBatch`), and timestamps and durations are converted
for all rows at once in DuckDB.  On Linux a file of more than one chunk (:data:`CHUNK_LINES`) is
validated by worker processes (from a fork server), one per available CPU; chunks are merged in file order, so
the result never depends on them.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing as mp
import os
import sys
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any, Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from learnsight.errors import IngestError, Rejection, StatementValidationError
from learnsight.ingest.common import check_source_file
from learnsight.progress import task
from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.store.schema import STATEMENT_SCHEMA
from learnsight.xapi.columns import canonical_json, with_deterministic_id
from learnsight.xapi.columns_batch import ColumnBatch, finish
from learnsight.xapi.parse import parse_statement
from learnsight.xapi.statement import rules_for

KIND: Final = "xapi"
"""The ``kind`` recorded in ``ingest_batches``."""

CHUNK_LINES: Final = 5_000
"""Statements validated at a time (by one worker process when there are several)."""

MAX_WORKERS: Final = 8
"""Worker processes at most (one per available CPU, on Linux; in-process elsewhere)."""

_CONFLICT_SQL: Final = """
SELECT CAST(s.id AS VARCHAR), CAST(s.raw AS VARCHAR), i.raw
FROM statements s JOIN _xapi_incoming i ON s.id = CAST(i.id AS UUID)
WHERE s.raw IS NOT NULL AND CAST(s.raw AS VARCHAR) <> i.raw
"""
"""Stored statements whose id comes again with a different text (then compared as JSON)."""


def same_json(a: object, b: object) -> bool:
    """Are two parsed JSON values the same JSON value?  Numbers compare by value (``1`` equals
    ``1.0``) but never equal a boolean (Python's ``True == 1``); object key order is irrelevant."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same_json(value, b[key]) for key, value in a.items())
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(same_json(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, int | float):
        return isinstance(b, int | float) and a == b
    return type(a) is type(b) and a == b


@dataclass
class _Chunk:
    """What validating one chunk of statements gave: accepted rows and rejections."""

    read: int
    positions: list[int]
    """Line (JSON Lines) or index (JSON array) of each accepted row."""
    ids: list[str]
    rows: pa.Table
    """:meth:`ColumnBatch.take_lists` of the accepted rows."""
    rejected: list[tuple[int, str]]


def _validate_lines(lines: list[tuple[int, str]], version: str | None) -> _Chunk:
    """Validate JSON Lines statements straight from their text (the hot path; may run in a worker
    process).  The text is kept as received; it is parsed again only for a statement without id."""
    batch = ColumnBatch()
    positions: list[int] = []
    ids: list[str] = []
    rejected: list[tuple[int, str]] = []
    for line, text in lines:
        try:
            stmt = parse_statement(text, version=version)
        except StatementValidationError as exc:
            rejected.append((line, str(exc)))
            continue
        sid = stmt.id
        if sid is None:
            sid, text = with_deterministic_id(json.loads(text))
        else:
            sid = sid.lower()
        positions.append(line)
        ids.append(sid)
        batch.add(stmt, raw=text, sid=sid)
    return _Chunk(len(lines), positions, ids, batch.take_lists(), rejected)


def _validate_items(items: list[tuple[int, object]], version: str | None) -> _Chunk:
    """Validate statements of a JSON array (kept as canonical JSON)."""
    batch = ColumnBatch()
    positions: list[int] = []
    ids: list[str] = []
    rejected: list[tuple[int, str]] = []
    for index, item in items:
        if not isinstance(item, dict):
            rejected.append((index, "<statement>: must be a JSON object"))
            continue
        try:
            stmt = parse_statement(item, version=version)
        except StatementValidationError as exc:
            rejected.append((index, str(exc)))
            continue
        try:
            if stmt.id is None:
                sid, text = with_deterministic_id(item)
            else:
                sid, text = stmt.id.lower(), canonical_json(item)
        except ValueError:
            rejected.append((index, "<statement>: NaN and Infinity are not JSON numbers"))
            continue
        positions.append(index)
        ids.append(sid)
        batch.add(stmt, raw=text, sid=sid)
    return _Chunk(len(items), positions, ids, batch.take_lists(), rejected)


@dataclass
class _Collector:
    """State of one import: accepted rows (in Arrow chunks), rejections, duplicates.

    Accepted rows are numbered in order; ``positions[n]`` is where row ``n`` came from (its line,
    or its index in a JSON array) and ``seen`` maps each accepted id to its row.
    """

    store: Store
    source: str
    stored: datetime
    in_array: bool
    tables: list[pa.Table] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    read: int = 0
    duplicates: int = 0
    conflicts: int = 0

    def reject(self, position: int, reason: str) -> None:
        if self.in_array:
            rejection = Rejection(self.source, None, f"statement {position}: {reason}")
        else:
            rejection = Rejection(self.source, position, reason)
        self.rejected.append((position, rejection))

    def merge(self, chunk: _Chunk) -> None:
        """Take a validated chunk (chunks in source order): its rejections, and its rows less the
        ids seen before (identical content: a duplicate; different: a rejection)."""
        self.read += chunk.read
        for position, reason in chunk.rejected:
            self.reject(position, reason)
        seen, positions = self.seen, self.positions
        start = len(positions)
        accepted: list[int] = []
        repeated: list[int] = []
        for i, sid in enumerate(chunk.ids):
            if sid in seen:
                repeated.append(i)
            else:
                seen[sid] = len(positions)
                positions.append(chunk.positions[i])
                accepted.append(i)
        rows = chunk.rows
        if repeated:
            raw = rows.column("raw")
            for i in repeated:
                sid = chunk.ids[i]
                first = seen[sid]
                earlier = raw[accepted[first - start]].as_py() if first >= start else self._raw(first)
                self._repeat(chunk.positions[i], sid, first, earlier, raw[i].as_py())
            rows = rows.take(pa.array(accepted, pa.int64()))
        if rows.num_rows:
            self.starts.append(start)
            self.tables.append(rows)

    def _repeat(self, position: int, sid: str, first: int, earlier: str, text: str) -> None:
        if same_json(json.loads(earlier), json.loads(text)):
            self.duplicates += 1
            return
        where = f"statement {self.positions[first]}" if self.in_array else f"line {self.positions[first]}"
        self.reject(position, f"id: statement id {sid} already appears at {where} with different content")

    def _raw(self, row: int) -> str:
        """The stored text of accepted row ``row`` (in a merged chunk)."""
        k = bisect_right(self.starts, row) - 1
        text: str = self.tables[k].column("raw")[row - self.starts[k]].as_py()
        return text

    def table(self) -> pa.Table:
        """Every accepted row, less those conflicting with the store (which become rejections)."""
        if not self.tables:
            return STATEMENT_SCHEMA.empty_table()
        con = duckdb.connect()
        try:
            table = finish(pa.concat_tables(self.tables), stored=self.stored, con=con)
        finally:
            con.close()
        conflicting = self._conflicts(table)
        if conflicting:
            for sid in sorted(conflicting, key=self.seen.__getitem__):
                self.conflicts += 1
                self.reject(
                    self.positions[self.seen[sid]],
                    f"id: statement id {sid} is already stored with different content (xAPI conflict)",
                )
            keep = pc.invert(pc.is_in(table.column("id"), value_set=pa.array(sorted(conflicting))))
            table = table.filter(keep)
        return table

    def rejections(self) -> tuple[Rejection, ...]:
        """The rejections in source order."""
        return tuple(rejection for _, rejection in sorted(self.rejected, key=lambda item: item[0]))

    def _conflicts(self, table: pa.Table) -> set[str]:
        if not isinstance(self.store, DuckDBStore):
            return set()
        con = self.store.con
        con.register("_xapi_incoming", table.select(["id", "raw"]))
        try:
            differing = con.execute(_CONFLICT_SQL).fetchall()
        finally:
            con.unregister("_xapi_incoming")
        return {sid for sid, old, new in differing if not same_json(json.loads(old), json.loads(new))}


def _workers() -> int:
    """Worker processes for validation: one per available CPU (where a fork server exists)."""
    if sys.platform != "linux" or "forkserver" not in mp.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def _pool_context() -> Any:
    """A fork-server context: workers fork from a fresh interpreter that has imported this module,
    never from the caller, whose DuckDB connection has threads running (forking those is unsafe)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def _validate_jsonl(
    fh: IO[str], collector: _Collector, version: str | None, advance: Any, workers: int | None
) -> None:
    """Validate a JSON Lines file chunk by chunk, in worker processes when it has several chunks.

    Workers come from a fork server that has imported the validators once; they only validate and
    build Arrow columns; the chunks are merged here in file order, so results do not depend on the workers.
    """
    records = _jsonl_records(fh)
    chunks = iter(lambda: list(islice(records, CHUNK_LINES)), [])
    first = next(chunks, [])
    second = next(chunks, [])
    workers = _workers() if workers is None else max(1, workers)
    if not second or workers < 2:
        for chunk in (first, second, *chunks) if second else (first,):
            collector.merge(_validate_lines(chunk, version))
            advance(len(chunk))
        return
    pool = ProcessPoolExecutor(workers, mp_context=_pool_context())
    try:
        pending: deque[Future[_Chunk]] = deque()
        for chunk in (first, second, *chunks):
            pending.append(pool.submit(_validate_lines, chunk, version))
            while len(pending) > 2 * workers:
                done = pending.popleft().result()
                collector.merge(done)
                advance(done.read)
        while pending:
            done = pending.popleft().result()
            collector.merge(done)
            advance(done.read)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
    store: Store,
    path: Path,
    *,
    max_rejects: int = 0,
    version: str | None = None,
    workers: int | None = 1,
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
    workers
        Processes that validate JSON Lines chunks in parallel; ``None`` means one per CPU.  The
        default (1) validates in this process.  Workers start from a fork server, which imports
        the calling program's ``__main__`` module again, as :mod:`multiprocessing` does, so call
        with several workers only from a program whose main code is guarded by
        ``if __name__ == "__main__"`` (the ``learnsight`` command is).

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
    is_array = _is_array(path)
    collector = _Collector(
        store=store,
        source=str(path),
        stored=datetime.now(UTC).replace(tzinfo=None),
        in_array=is_array,
    )
    rules = rules_for(version) if version is not None else None
    with task(f"Validating xAPI statements in {path.name}") as advance:
        if is_array:
            items = list(enumerate(_array_items(path), 1))
            for start in range(0, len(items), CHUNK_LINES):
                chunk = items[start : start + CHUNK_LINES]
                collector.merge(_validate_items(chunk, rules))
                advance(len(chunk))
        else:
            with _open(path) as fh:
                _validate_jsonl(fh, collector, rules, advance, workers)
        table = collector.table()
    batch = IngestBatch(
        kind=KIND,
        source=str(path),
        rows_read=collector.read,
        statements=table,
        rejections=collector.rejections(),
        details={
            "format": "json-array" if is_array else "jsonl",
            "duplicates_in_file": collector.duplicates,
            "conflicts_with_store": collector.conflicts,
            "xapi_rules": version or "per statement (1.0.3 when no version)",
        },
    )
    return store.ingest(batch, max_rejects=max_rejects)
