"""The embedded default backend: one DuckDB file, no server.

Writes go through :meth:`DuckDBStore.ingest` only, inside one transaction per batch; Arrow data is
scanned by DuckDB directly (streamed for record-batch readers), so importers never build per-row
Python objects on the hot path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from learnsight.errors import IngestError, Rejection, StoreError
from learnsight.store.base import IngestBatch, IngestReport, Store, StoreStats
from learnsight.store.rebuild import rebuild_statement
from learnsight.store.schema import (
    COURSE_COLUMNS,
    PROFILE_COLUMNS,
    REQUIRED_COURSE_COLUMNS,
    REQUIRED_PROFILE_COLUMNS,
    REQUIRED_STATEMENT_COLUMNS,
    STATEMENT_COLUMNS,
)
from learnsight.xapi.vocab import VERB_DISPLAY, VOIDED

MAX_REJECTIONS_KEPT = 10_000
"""Rejected rows recorded per batch (the count is always exact)."""

_SQL_TYPES = {
    "id": "UUID",
    "registration": "UUID",
    "attributes": "JSON",
}


def migrations() -> list[tuple[int, str]]:
    """The schema migrations shipped with the package, as (version, SQL) in order."""
    folder = resources.files("learnsight.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class DuckDBStore(Store):
    """A store in one DuckDB file (``:memory:`` for a throw-away store)."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None and not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(
                str(self.path) if self.path is not None else ":memory:",
                read_only=read_only,
            )
        except duckdb.Error as exc:
            raise StoreError(f"{path}: cannot open store: {_first_line(exc)}") from exc
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute("SET preserve_insertion_order = false")
        from learnsight.settings import get_settings

        self.con.execute(f"SET memory_limit = '{_memory_limit(get_settings().memory_limit)}'")
        if not read_only:
            self.migrate()

    @contextmanager
    def analytics(self) -> Iterator[None]:
        """Raise the memory limit to the analytics setting for heavy derived-table builds."""
        from learnsight.settings import get_settings

        settings = get_settings()
        self.con.execute(f"SET memory_limit = '{_memory_limit(settings.analytics_memory_limit)}'")
        try:
            yield
        finally:
            self.con.execute(f"SET memory_limit = '{_memory_limit(settings.memory_limit)}'")

    # -- schema -------------------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.has_table("schema_version"):
            return 0
        version = self.scalar("SELECT max(version) FROM schema_version")
        return int(version) if version is not None else 0

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        """The first column of the first row of a query (``None`` when there is no row)."""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def has_table(self, name: str) -> bool:
        return bool(
            self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
        )

    def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; returns the schema version."""
        current = self.schema_version()
        for version, sql in migrations():
            if version <= current:
                continue
            self.con.execute("BEGIN TRANSACTION")
            try:
                if version == 1:
                    self.con.execute(
                        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                        "applied_at TIMESTAMP NOT NULL)"
                    )
                self.con.execute(sql)
                self.con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [version])
                self.con.execute("COMMIT")
            except duckdb.Error as exc:
                self.con.execute("ROLLBACK")
                raise StoreError(f"migration {version:04d} failed: {_first_line(exc)}") from exc
            current = version
        self._sync_verbs()
        return current

    def _sync_verbs(self) -> None:
        """Add display names of verbs the vocabulary gained since the store was created."""
        known = {row[0] for row in self.con.execute("SELECT verb_id FROM verbs").fetchall()}
        missing = [(v, d) for v, d in VERB_DISPLAY.items() if v not in known]
        if missing:
            self.con.executemany("INSERT INTO verbs VALUES (?, ?)", missing)

    # -- writes -------------------------------------------------------------------------------------
    def ingest(self, batch: IngestBatch, *, max_rejects: int = 0) -> IngestReport:
        started = time.perf_counter()
        started_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        rejections = tuple(batch.rejections)
        if len(rejections) > max_rejects:
            shown = "; ".join(str(r) for r in rejections[:3])
            more = f" (+{len(rejections) - 3} more)" if len(rejections) > 3 else ""
            raise IngestError(
                f"{len(rejections)} row(s) rejected, {max_rejects} allowed; nothing was written: "
                f"{shown}{more}",
                file=batch.source,
                rejections=rejections[:1000],
            )
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            batch_id = int(self.scalar("SELECT coalesce(max(batch_id), 0) + 1 FROM ingest_batches"))
            written = skipped = profiles_written = 0
            if batch.statements is not None:
                written, skipped = self._insert_statements(batch.statements, batch_id, new_ids=batch.new_ids)
            if batch.profiles is not None:
                profiles_written = self._upsert_profiles(batch.profiles, batch_id)
            if batch.courses is not None:
                self._upsert_courses(batch.courses, batch_id)
            if rejections:
                kept = rejections[:MAX_REJECTIONS_KEPT]
                rejected = pa.table(
                    {
                        "file": pa.array([r.file for r in kept], pa.string()),
                        "line": pa.array([r.line for r in kept], pa.int64()),
                        "reason": pa.array([r.reason for r in kept], pa.string()),
                    }
                )
                con.register("_rejected_src", rejected)
                try:
                    con.execute(
                        f"INSERT INTO rejected_rows SELECT {int(batch_id)}, file, line, reason "
                        "FROM _rejected_src"
                    )
                finally:
                    con.unregister("_rejected_src")
            con.execute(
                "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
                [
                    batch_id,
                    batch.kind,
                    batch.source,
                    started_at,
                    batch.rows_read,
                    written,
                    skipped,
                    profiles_written,
                    len(rejections),
                    json.dumps(batch.details, default=str),
                ],
            )
            con.execute("COMMIT")
        except IngestError:
            con.execute("ROLLBACK")
            raise
        except (duckdb.Error, pa.ArrowException, OSError, EOFError, ValueError) as exc:
            con.execute("ROLLBACK")
            raise IngestError(
                f"reading failed, nothing was written: {_first_line(exc)}", file=batch.source
            ) from exc
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return IngestReport(
            batch_id=batch_id,
            kind=batch.kind,
            source=batch.source,
            rows_read=batch.rows_read,
            statements_written=written,
            statements_skipped=skipped,
            profiles_written=profiles_written,
            rejections=rejections,
            seconds=time.perf_counter() - started,
            details=batch.details,
        )

    def _insert_statements(
        self, data: pa.Table | pa.RecordBatchReader, batch_id: int, *, new_ids: bool = False
    ) -> tuple[int, int]:
        names = list(data.schema.names)
        unknown = [n for n in names if n not in STATEMENT_COLUMNS]
        missing = [n for n in REQUIRED_STATEMENT_COLUMNS if n not in names]
        if unknown or missing:
            raise IngestError(
                f"importer produced bad statement columns (unknown {unknown}, missing {missing})"
            )
        con = self.con
        if new_ids:
            return self._insert_new_statements(data, names, batch_id)
        offered = [0]
        con.register("_ingest_src", _counting_reader(data, offered))
        try:
            select = ", ".join(_cast(n) for n in names)
            stored = "" if "stored" in names else ", stored"
            stored_val = "" if "stored" in names else ", now()::TIMESTAMP"
            con.execute(
                f"INSERT INTO statements ({', '.join(names)}{stored}, batch_id) "
                f"SELECT {select}{stored_val}, {int(batch_id)} FROM _ingest_src s "
                "WHERE NOT EXISTS (SELECT 1 FROM statements t WHERE t.id = CAST(s.id AS UUID))"
            )
        finally:
            con.unregister("_ingest_src")
        rows = con.execute(
            "SELECT count(*), count(*) - count(DISTINCT id), count(*) FILTER (WHERE verb_id = ?) "
            "FROM statements WHERE batch_id = ?",
            [VOIDED, batch_id],
        ).fetchall()
        written, dupes, voiding = int(rows[0][0]), int(rows[0][1]), int(rows[0][2])
        if dupes:
            raise IngestError(f"{dupes} statement id(s) occur more than once in the source")
        if voiding:
            self._void(batch_id)
        return written, offered[0] - written

    def _insert_new_statements(
        self, data: pa.Table | pa.RecordBatchReader, names: list[str], batch_id: int
    ) -> tuple[int, int]:
        """:meth:`_insert_statements` for ids known to be new (:attr:`IngestBatch.new_ids`)."""
        if not isinstance(data, pa.Table):
            raise IngestError("a batch of new ids must come as a table")
        if pc.count_distinct(data["id"]).as_py() != data.num_rows:
            raise IngestError("statement id(s) occur more than once in the source")
        # Read by name below (a replacement scan): a third of what register() costs for small tables.
        new_rows = data  # noqa: F841
        stored = ("", "") if "stored" in names else (", stored", ", now()::TIMESTAMP")
        self.con.execute(
            f"INSERT INTO statements ({', '.join(names)}{stored[0]}, batch_id) "
            f"SELECT {', '.join(_cast(n) for n in names)}{stored[1]}, {int(batch_id)} FROM new_rows"
        )
        if pc.any(pc.equal(data["verb_id"], VOIDED)).as_py():
            self._void(batch_id)
        return data.num_rows, 0

    def _void(self, batch_id: int) -> None:
        """Mark voided the targets of the voiding statements of batch ``batch_id``."""
        self.con.execute(
            # A voiding statement cannot void another voiding statement (xAPI Part Two §2.3.2).
            "UPDATE statements SET voided = TRUE WHERE verb_id <> ? AND id IN ("
            "SELECT TRY_CAST(object_id AS UUID) FROM statements "
            "WHERE batch_id = ? AND verb_id = ? AND object_type = 'StatementRef')",
            [VOIDED, batch_id, VOIDED],
        )

    def _upsert_profiles(self, data: pa.Table, batch_id: int) -> int:
        names = list(data.schema.names)
        unknown = [n for n in names if n not in PROFILE_COLUMNS]
        missing = [n for n in REQUIRED_PROFILE_COLUMNS if n not in names]
        if unknown or missing:
            raise IngestError(f"importer produced bad profile columns (unknown {unknown}, missing {missing})")
        con = self.con
        con.register("_profile_src", data)
        try:
            cols = [*names, *(["course"] if "course" not in names else [])]
            select = ", ".join(_cast(n) if n != "course" or "course" in names else "''" for n in cols)
            updates = ", ".join(
                f"{n} = excluded.{n}" for n in cols if n not in ("actor_key", "course", "source")
            )
            con.execute(
                f"INSERT INTO profiles ({', '.join(cols)}, batch_id) "
                f"SELECT {select}, {int(batch_id)} FROM _profile_src "
                f"ON CONFLICT (actor_key, course, source) DO UPDATE SET {updates}"
                + (", " if updates else "")
                + "batch_id = excluded.batch_id"
            )
        finally:
            con.unregister("_profile_src")
        return int(data.num_rows)

    def _upsert_courses(self, data: pa.Table, batch_id: int) -> None:
        names = list(data.schema.names)
        unknown = [n for n in names if n not in COURSE_COLUMNS]
        missing = [n for n in REQUIRED_COURSE_COLUMNS if n not in names]
        if unknown or missing:
            raise IngestError(f"importer produced bad course columns (unknown {unknown}, missing {missing})")
        con = self.con
        con.register("_course_src", data)
        try:
            updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != "course")
            con.execute(
                f"INSERT INTO courses ({', '.join(names)}, batch_id) "
                f"SELECT {', '.join(names)}, {int(batch_id)} FROM _course_src "
                f"ON CONFLICT (course) DO UPDATE SET {updates}, batch_id = excluded.batch_id"
            )
        finally:
            con.unregister("_course_src")

    # -- reads --------------------------------------------------------------------------------------
    def count_statements(self) -> int:
        return int(self.scalar("SELECT count(*) FROM statements"))

    def get_statement(self, statement_id: str) -> dict[str, Any] | None:
        cur = self.con.execute(
            "SELECT s.*, v.display AS verb_display FROM statements s "
            "LEFT JOIN verbs v USING (verb_id) WHERE s.id = TRY_CAST(? AS UUID)",
            [statement_id],
        )
        rows = cur.fetchall()
        if not rows:
            return None
        cols = [d[0] for d in cur.description]
        return rebuild_statement(dict(zip(cols, rows[0], strict=True)))

    def stats(self) -> StoreStats:
        con = self.con

        one = self.scalar
        has_activities = self.has_table("activities")
        batches_cur = con.execute(
            "SELECT batch_id, kind, source, finished_at, rows_read, statements_written, "
            "statements_skipped, profiles_written, rows_rejected FROM ingest_batches ORDER BY batch_id"
        )
        bcols = [d[0] for d in batches_cur.description]
        batches = [dict(zip(bcols, r, strict=True)) for r in batches_cur.fetchall()]
        return StoreStats(
            statements=int(one("SELECT count(*) FROM statements")),
            voided=int(one("SELECT count(*) FROM statements WHERE voided")),
            actors=int(one("SELECT count(DISTINCT actor_key) FROM statements")),
            profiles=int(one("SELECT count(DISTINCT actor_key) FROM profiles")),
            first_ts=one("SELECT min(ts) FROM statements"),
            last_ts=one("SELECT max(ts) FROM statements"),
            by_source=[
                (str(a), int(b))
                for a, b in con.execute(
                    "SELECT source, count(*) n FROM statements GROUP BY 1 ORDER BY n DESC"
                ).fetchall()
            ],
            by_verb=[
                (str(a), int(b))
                for a, b in con.execute(
                    "SELECT coalesce(v.display, s.verb_id), count(*) n FROM statements s "
                    "LEFT JOIN verbs v USING (verb_id) GROUP BY 1 ORDER BY n DESC"
                ).fetchall()
            ],
            by_course=[
                (a, int(b))
                for a, b in con.execute(
                    "SELECT course, count(*) n FROM statements GROUP BY 1 ORDER BY n DESC"
                ).fetchall()
            ],
            batches=batches,
            rejected_rows=int(one("SELECT coalesce(sum(rows_rejected), 0) FROM ingest_batches")),
            activities=int(one("SELECT count(*) FROM activities")) if has_activities else None,
        )

    def close(self) -> None:
        self.con.close()


def _memory_limit(text: str) -> str:
    """Validate a DuckDB memory limit such as ``2GB`` or ``512MiB`` (it is spliced into SQL)."""
    import re

    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text.strip()):
        raise StoreError(f"LEARNSIGHT_MEMORY_LIMIT: expected a size such as 2GB, got {text!r}")
    return text.strip()


def _cast(name: str) -> str:
    sql_type = _SQL_TYPES.get(name)
    return f"CAST({name} AS {sql_type}) AS {name}" if sql_type else name


def _counting_reader(data: pa.Table | pa.RecordBatchReader, counter: list[int]) -> pa.RecordBatchReader:
    """Stream ``data`` unchanged while counting its rows into ``counter[0]`` (per batch, not row)."""
    reader = data.to_reader() if isinstance(data, pa.Table) else data

    def batches() -> Any:
        for b in reader:
            counter[0] += b.num_rows
            yield b

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["DuckDBStore", "Rejection", "migrations"]
