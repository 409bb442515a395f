"""The LRS on a PostgreSQL server (the ``postgres`` extra: psycopg 3).

Tables ``lrs_statements``, ``lrs_documents`` and ``lrs_credentials`` (``postgres_schema.sql``,
created on first connection).  Statement queries reuse the portable conditions of
:func:`learnsight.lrs.query.where_clause`, so both backends answer a query the same way.  Every write
is one transaction.  The app serialises calls, so one connection suffices.

Statements stored here are not in the DuckDB store indicators read; export them with the LRS's own
GET (or ``learnsight ingest xapi`` on a dump) to analyse them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Any

import psycopg

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
from learnsight.lrs.statements import Prepared, definitions_of
from learnsight.xapi.vocab import VOIDED

TABLE = "lrs_statements"
_SCOPE_WHERE = "kind = %s AND activity_id = %s AND agent = %s AND registration = %s"


def _pg(sql: str) -> str:
    """``?`` placeholders (DuckDB style) as psycopg's ``%s``."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresBackend(LRSBackend):
    """The LRS on the PostgreSQL database at ``url`` (``postgresql://user@host:port/db``)."""

    name = "postgres"

    def __init__(self, url: str) -> None:
        try:
            self.con = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise ValueError(f"{url}: cannot connect to PostgreSQL: {str(exc).strip()}") from None
        schema = resources.files("learnsight.lrs").joinpath("postgres_schema.sql").read_text()
        with self.con.transaction():
            self.con.execute(schema)

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    # -- credentials ---------------------------------------------------------------------------
    def put_credential(self, record: CredentialRecord) -> None:
        self._all(
            "INSERT INTO lrs_credentials VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
            "salt = EXCLUDED.salt, secret_hash = EXCLUDED.secret_hash, scopes = EXCLUDED.scopes, "
            "authority = EXCLUDED.authority, created_at = EXCLUDED.created_at RETURNING key",
            [
                record.key,
                record.salt,
                record.secret_hash,
                " ".join(record.scopes),
                json.dumps(record.authority),
                naive_utc(record.created_at),
            ],
        )

    def _records(self, where: str = "", params: Sequence[Any] = ()) -> list[CredentialRecord]:
        rows = self._all(
            f"SELECT key, salt, secret_hash, scopes, authority, created_at FROM lrs_credentials {where} "
            "ORDER BY key",
            params,
        )
        return [
            CredentialRecord(str(k), bytes(s), bytes(h), tuple(str(sc).split()), json.loads(a), aware_utc(c))
            for k, s, h, sc, a, c in rows
        ]

    def get_credential(self, key: str) -> CredentialRecord | None:
        found = self._records("WHERE key = %s", [key])
        return found[0] if found else None

    def list_credentials(self) -> list[CredentialRecord]:
        return self._records()

    def delete_credential(self, key: str) -> bool:
        return bool(self._all("DELETE FROM lrs_credentials WHERE key = %s RETURNING key", [key]))

    # -- statements ----------------------------------------------------------------------------
    def stored_raw(self, ids: Sequence[str]) -> dict[str, str | None]:
        if not ids:
            return {}
        rows = self._all(
            "SELECT CAST(id AS TEXT), raw FROM lrs_statements WHERE id = ANY(%s::uuid[])", [list(ids)]
        )
        return {str(sid): raw for sid, raw in rows}

    def insert_statements(self, prepared: Sequence[Prepared], *, source: str) -> None:
        if not prepared:
            return
        columns = (
            "id",
            "stored",
            "actor_key",
            "actor_name",
            "verb_id",
            "object_type",
            "object_id",
            "registration",
            "raw",
        )
        with self.con.transaction(), self.con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO lrs_statements ({', '.join(columns)}, source) "
                f"VALUES ({', '.join(['%s'] * len(columns))}, %s) ON CONFLICT (id) DO NOTHING",
                [[p.row[c] for c in columns] + [source] for p in prepared],
            )
            targets = [
                str(p.row["object_id"]).lower()
                for p in prepared
                if p.row["verb_id"] == VOIDED and p.row["object_type"] == "StatementRef"
            ]
            if targets:
                # A voiding statement cannot void another voiding statement (Part Two §2.3.2).
                cur.execute(
                    "UPDATE lrs_statements SET voided = TRUE "
                    "WHERE verb_id <> %s AND CAST(id AS TEXT) = ANY(%s)",
                    [VOIDED, targets],
                )

    def fetch_statement(self, statement_id: str) -> tuple[str, bool] | None:
        rows = self._all("SELECT raw, voided FROM lrs_statements WHERE id = %s::uuid", [statement_id])
        return (str(rows[0][0]), bool(rows[0][1])) if rows else None

    def query_statements(self, query: Query, limit: int) -> list[StatementRow]:
        where, params = q.where_clause(query, table=TABLE)
        rows = self._all(
            f"SELECT raw, CAST(stored AS TEXT), CAST(id AS TEXT) FROM {TABLE} "
            f"WHERE {_pg(where)} {q.order_clause(query)} LIMIT {int(limit)}",
            params,
        )
        return [(str(raw), str(stored), str(sid)) for raw, stored, sid in rows]

    def activity_definitions(self, activity_id: str) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT raw FROM lrs_statements WHERE strpos(raw, %s) > 0 ORDER BY stored, CAST(id AS TEXT)",
            [q.activity_fragment(activity_id)],
        )
        return [d for (raw,) in rows for d in definitions_of(json.loads(raw), activity_id)]

    def agent_names(self, agent: str) -> list[str]:
        rows = self._all(
            "SELECT DISTINCT actor_name FROM lrs_statements WHERE actor_key = %s AND actor_name IS NOT NULL "
            "ORDER BY actor_name",
            [agent],
        )
        return [str(name) for (name,) in rows]

    # -- documents -----------------------------------------------------------------------------
    def get_document(self, key: DocumentKey) -> Document | None:
        rows = self._all(
            f"SELECT content, content_type, etag, updated FROM lrs_documents WHERE {_SCOPE_WHERE} "
            "AND document_id = %s",
            [*scope_values(key.scope), key.document_id],
        )
        if not rows:
            return None
        content, content_type, etag, updated = rows[0]
        return Document(bytes(content), str(content_type), str(etag), aware_utc(updated))

    def put_document(self, key: DocumentKey, document: Document) -> None:
        self._all(
            "INSERT INTO lrs_documents VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (kind, activity_id, agent, registration, document_id) DO UPDATE SET "
            "content = EXCLUDED.content, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag, "
            "updated = EXCLUDED.updated RETURNING document_id",
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
        self._all(
            f"DELETE FROM lrs_documents WHERE {_SCOPE_WHERE} AND document_id = %s RETURNING 1",
            [*scope_values(key.scope), key.document_id],
        )

    def document_ids(self, scope: DocumentScope, since: datetime | None = None) -> list[str]:
        extra, params = "", list[Any](scope_values(scope))
        if since is not None:
            extra, params = " AND updated > %s", [*params, naive_utc(since)]
        rows = self._all(
            f"SELECT document_id FROM lrs_documents WHERE {_SCOPE_WHERE}{extra} ORDER BY document_id", params
        )
        return [str(d) for (d,) in rows]

    def delete_documents(self, scope: DocumentScope) -> int:
        return len(
            self._all(f"DELETE FROM lrs_documents WHERE {_SCOPE_WHERE} RETURNING 1", scope_values(scope))
        )

    # -- privacy and lifetime ------------------------------------------------------------------
    def erase_actor(self, agent: str) -> ErasureReport:
        with self.con.transaction():
            statements = self._all(
                "DELETE FROM lrs_statements WHERE actor_key = %s "
                "OR (object_type IN ('Agent', 'Group') AND object_id = %s) "
                "OR ((actor_key LIKE 'group:%%' OR object_type = 'Group') AND strpos(raw, %s) > 0) "
                "RETURNING 1",
                [agent, agent, q.ifi_fragment(agent)],
            )
            documents = self._all("DELETE FROM lrs_documents WHERE agent = %s RETURNING 1", [agent])
        return ErasureReport(actor=agent, statements=len(statements), documents=len(documents))

    def close(self) -> None:
        self.con.close()
