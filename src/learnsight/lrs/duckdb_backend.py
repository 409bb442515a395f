"""The embedded LRS backend: learnsight's own DuckDB store (:class:`~learnsight.store.DuckDBStore`).

Statements go through ``store.ingest`` (one atomic :class:`~learnsight.store.base.IngestBatch` of
kind ``lrs`` per request), so they are in the very ``statements`` table indicators, activities and
models read, at once.  Credentials and documents live in ``lrs_credentials`` and ``lrs_documents``
(migrations 0008, 0009).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from learnsight.errors import IngestError
from learnsight.lrs import query as q
from learnsight.lrs.backend import (
    CredentialRecord,
    Document,
    DocumentKey,
    DocumentScope,
    ErasureReport,
    LRSBackend,
    StatementRow,
    aware_utc,
    naive_utc,
    scope_values,
)
from learnsight.lrs.query import Query
from learnsight.lrs.statements import KIND, LRSError, Prepared, definitions_of
from learnsight.store.base import IngestBatch
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi.columns import statements_table

_SCOPE_WHERE = "kind = ? AND activity_id = ? AND agent = ? AND registration = ?"


class DuckDBBackend(LRSBackend):
    """The LRS on the DuckDB store at ``path`` (created and migrated when new)."""

    name = "duckdb"

    def __init__(self, path: Path | str | DuckDBStore, *, threads: int | None = 1) -> None:
        """``threads``: DuckDB threads of a store opened here (a store passed in is left as it is).
        One by default: the LRS runs many small transactions, for which DuckDB's parallel plans
        cost more than they give (13.5 instead of 19 ms per batch of 100, ``benchmarks/bench_lrs.py``),
        and the other core serves HTTP and validation meanwhile."""
        if isinstance(path, DuckDBStore):
            self.store = path
        else:
            self.store = DuckDBStore(path)
            if threads is not None:
                self.store.con.execute(f"SET threads = {int(threads)}")
        self.con = self.store.con

    # -- credentials ---------------------------------------------------------------------------
    def put_credential(self, record: CredentialRecord) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO lrs_credentials VALUES (?, ?, ?, ?, ?, ?)",
            [
                record.key,
                record.salt,
                record.secret_hash,
                " ".join(record.scopes),
                json.dumps(record.authority),
                naive_utc(record.created_at),
            ],
        )

    def _records(self, where: str = "", params: list[Any] | None = None) -> list[CredentialRecord]:
        rows = self.con.execute(
            "SELECT key, salt, secret_hash, scopes, authority, created_at FROM lrs_credentials "
            f"{where} ORDER BY key",
            params or [],
        ).fetchall()
        return [
            CredentialRecord(
                key=key,
                salt=bytes(salt),
                secret_hash=bytes(digest),
                scopes=tuple(str(scopes).split()),
                authority=json.loads(authority),
                created_at=aware_utc(created),
            )
            for key, salt, digest, scopes, authority, created in rows
        ]

    def get_credential(self, key: str) -> CredentialRecord | None:
        found = self._records("WHERE key = ?", [key])
        return found[0] if found else None

    def credential_hash(self, key: str) -> bytes | None:
        rows = self.con.execute("SELECT secret_hash FROM lrs_credentials WHERE key = ?", [key]).fetchall()
        return bytes(rows[0][0]) if rows else None

    def list_credentials(self) -> list[CredentialRecord]:
        return self._records()

    def delete_credential(self, key: str) -> bool:
        rows = self.con.execute("DELETE FROM lrs_credentials WHERE key = ? RETURNING key", [key]).fetchall()
        return bool(rows)

    # -- statements ----------------------------------------------------------------------------
    def stored_raw(self, ids: Sequence[str]) -> dict[str, str | None]:
        if not ids:
            return {}
        rows = self.con.execute(
            "SELECT CAST(id AS VARCHAR), raw FROM statements WHERE id IN (SELECT CAST(unnest(?) AS UUID))",
            [list(ids)],
        ).fetchall()
        return {str(sid): raw for sid, raw in rows}

    def insert_statements(self, prepared: Sequence[Prepared], *, source: str) -> None:
        if not prepared:
            return
        try:
            self.store.ingest(
                IngestBatch(
                    kind=KIND,
                    source=source,
                    rows_read=len(prepared),
                    statements=statements_table([p.row for p in prepared]),
                    new_ids=True,  # store_groups checked them under the lock
                )
            )
        except IngestError as exc:
            raise LRSError(400, str(exc)) from None

    def fetch_statement(self, statement_id: str) -> tuple[str, bool] | None:
        rows = self.con.execute(
            "SELECT raw, voided FROM statements WHERE id = CAST(? AS UUID)", [statement_id]
        ).fetchall()
        if not rows:
            return None
        raw, voided = rows[0]
        if raw is None:  # a statement imported from a tabular source: rebuilt from its columns
            rebuilt = self.store.get_statement(statement_id)
            raw = json.dumps(rebuilt) if rebuilt is not None else None
        return (raw, bool(voided)) if raw is not None else None

    def query_statements(self, query: Query, limit: int) -> list[StatementRow]:
        where, params = q.where_clause(query)
        rows = self.con.execute(
            f"SELECT raw, CAST(stored AS VARCHAR), CAST(id AS VARCHAR) FROM statements "
            f"WHERE raw IS NOT NULL AND {where} {q.order_clause(query)} LIMIT {int(limit)}",
            params,
        ).fetchall()
        return [(str(raw), str(stored), str(sid)) for raw, stored, sid in rows]

    def activity_definitions(self, activity_id: str) -> list[dict[str, Any]]:
        rows = self.con.execute(
            "SELECT raw FROM statements WHERE raw IS NOT NULL AND strpos(raw, ?) > 0 "
            "ORDER BY stored, CAST(id AS VARCHAR)",
            [q.activity_fragment(activity_id)],
        ).fetchall()
        return [d for (raw,) in rows for d in definitions_of(json.loads(raw), activity_id)]

    def agent_names(self, agent: str) -> list[str]:
        rows = self.con.execute(
            "SELECT DISTINCT actor_name FROM statements WHERE actor_key = ? AND actor_name IS NOT NULL "
            "ORDER BY actor_name",
            [agent],
        ).fetchall()
        return [str(name) for (name,) in rows]

    # -- documents -----------------------------------------------------------------------------
    def get_document(self, key: DocumentKey) -> Document | None:
        rows = self.con.execute(
            f"SELECT content, content_type, etag, updated FROM lrs_documents WHERE {_SCOPE_WHERE} "
            "AND document_id = ?",
            [*scope_values(key.scope), key.document_id],
        ).fetchall()
        if not rows:
            return None
        content, content_type, etag, updated = rows[0]
        return Document(bytes(content), str(content_type), str(etag), aware_utc(updated))

    def put_document(self, key: DocumentKey, document: Document) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO lrs_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                *scope_values(key.scope),
                key.document_id,
                document.content,
                document.content_type,
                document.etag,
                naive_utc(document.updated),
            ],
        )

    def delete_document(self, key: DocumentKey) -> None:
        self.con.execute(
            f"DELETE FROM lrs_documents WHERE {_SCOPE_WHERE} AND document_id = ?",
            [*scope_values(key.scope), key.document_id],
        )

    def document_ids(self, scope: DocumentScope, since: datetime | None = None) -> list[str]:
        extra, params = "", list[Any](scope_values(scope))
        if since is not None:
            extra, params = " AND updated > ?", [*params, naive_utc(since)]
        rows = self.con.execute(
            f"SELECT document_id FROM lrs_documents WHERE {_SCOPE_WHERE}{extra} ORDER BY document_id",
            params,
        ).fetchall()
        return [str(d) for (d,) in rows]

    def delete_documents(self, scope: DocumentScope) -> int:
        rows = self.con.execute(
            f"DELETE FROM lrs_documents WHERE {_SCOPE_WHERE} RETURNING document_id", scope_values(scope)
        ).fetchall()
        return len(rows)

    # -- privacy and lifetime ------------------------------------------------------------------
    def erase_actor(self, agent: str) -> ErasureReport:
        con = self.con
        fragment = q.ifi_fragment(agent)
        tables = [
            str(name)
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'actor_key' "
                "AND table_name NOT IN ('statements', 'profiles') "
                "AND table_name IN (SELECT table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE') ORDER BY table_name"
            ).fetchall()
        ]
        con.execute("BEGIN TRANSACTION")
        try:
            statements = con.execute(
                "DELETE FROM statements WHERE actor_key = ? "
                "OR (object_type IN ('Agent', 'Group') AND object_id = ?) "
                "OR ((actor_key LIKE 'group:%' OR object_type = 'Group') AND strpos(raw, ?) > 0) "
                "RETURNING id",
                [agent, agent, fragment],
            ).fetchall()
            documents = con.execute(
                "DELETE FROM lrs_documents WHERE agent = ? RETURNING document_id", [agent]
            ).fetchall()
            profiles = con.execute(
                "DELETE FROM profiles WHERE actor_key = ? RETURNING actor_key", [agent]
            ).fetchall()
            details = {
                table: len(
                    con.execute(f'DELETE FROM "{table}" WHERE actor_key = ? RETURNING 1', [agent]).fetchall()
                )
                for table in tables
            }
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return ErasureReport(
            actor=agent,
            statements=len(statements),
            documents=len(documents),
            profiles=len(profiles),
            details={k: v for k, v in details.items() if v},
        )

    def close(self) -> None:
        self.store.close()
