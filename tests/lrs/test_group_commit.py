"""Group commit of statement writes (:mod:`learnsight.lrs.writer`, ``store_groups``) and the
single validation of :func:`~learnsight.lrs.statements.prepare`: each request is judged as if the
requests had been written one after another, a revoked credential writes nothing, and
``X-Experience-API-Consistent-Through`` never passes a statement that is not yet visible."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.lrs.conftest import CREDENTIALS, HEADERS, WRITER, statement

from learnsight.errors import IngestError
from learnsight.lrs import create_app
from learnsight.lrs.auth import add_credential, verify
from learnsight.lrs.backend import LRSBackend
from learnsight.lrs.duckdb_backend import DuckDBBackend
from learnsight.lrs.statements import (
    LRSError,
    Prepared,
    WriteRequest,
    now_stored,
    prepare,
    store_groups,
)
from learnsight.lrs.writer import StatementWriter
from learnsight.store.base import IngestBatch
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.parse import parse_statement


def prepared(backend: LRSBackend, *statements: dict[str, Any]) -> tuple[Prepared, ...]:
    if backend.get_credential("app") is None:
        add_credential(backend, "app", "s3cret", ["all"])
    credential = verify(backend, "app", "s3cret")
    assert credential is not None
    stored = now_stored()
    return tuple(prepare(s, version="1.0.3", credential=credential, stored=stored) for s in statements)


def stored_ids(backend: LRSBackend, ids: Sequence[str]) -> set[str]:
    return set(backend.stored_raw(list(ids)))


def test_requests_of_a_group_are_judged_one_by_one(backend: LRSBackend) -> None:
    a_id, b_id, c_id = (str(uuid.uuid4()) for _ in range(3))
    first = prepared(backend, statement(1, id=a_id), statement(2, id=b_id))
    again_same = prepared(backend, statement(1, id=a_id))  # same content as the first request's
    conflicting = prepared(backend, statement(3, id=b_id), statement(4, id=c_id))  # b_id, other content
    later = prepared(backend, statement(5, id=c_id))
    outcomes = store_groups(
        backend,
        [
            WriteRequest(first, "lrs:app"),
            WriteRequest(again_same, "lrs:app"),
            WriteRequest(conflicting, "lrs:app"),
            WriteRequest(later, "lrs:app"),
        ],
    )
    assert outcomes[0] is None and outcomes[1] is None and outcomes[3] is None
    assert isinstance(outcomes[2], LRSError) and outcomes[2].status == 409
    assert stored_ids(backend, [a_id, b_id, c_id]) == {a_id, b_id, c_id}
    # the refused request wrote nothing: c_id holds the later request's statement (learner 5)
    assert "learner5@" in str(backend.stored_raw([c_id])[c_id])


def test_a_group_conflicting_with_the_store_is_refused_alone(backend: LRSBackend) -> None:
    sid = str(uuid.uuid4())
    assert store_groups(backend, [WriteRequest(prepared(backend, statement(1, id=sid)), "lrs:app")]) == [None]
    other = str(uuid.uuid4())
    outcomes = store_groups(
        backend,
        [
            WriteRequest(prepared(backend, statement(2, id=sid)), "lrs:app"),
            WriteRequest(prepared(backend, statement(3, id=other)), "lrs:other"),
        ],
    )
    assert isinstance(outcomes[0], LRSError) and outcomes[0].status == 409
    assert outcomes[1] is None
    assert stored_ids(backend, [other]) == {other}


def test_prepare_validates_once_and_gives_the_columns_of_the_completed_statement(tmp_path: Path) -> None:
    backend = DuckDBBackend(tmp_path / "lrs.duckdb")
    shapes = [
        statement(1),  # no id, no timestamp
        statement(2, id=str(uuid.uuid4()).upper(), timestamp="2026-03-02T10:15:00+02:00"),
        statement(3, context={"contextActivities": {"grouping": {"id": "http://example.org/course/7"}}}),
        statement(
            4,
            object={
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:x@example.org"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
                "object": {"id": "http://example.org/q"},
            },
        ),
        statement(5, result={"score": {"scaled": 0.5}, "duration": "PT1M", "success": True}),
    ]
    for item in prepared(backend, *shapes):
        full = parse_statement(item.statement, version="1.0.3")
        assert item.row == statement_columns(full, stored=item.row["stored"], source=item.statement)
    backend.close()


def test_a_batch_of_new_ids_that_repeats_one_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    backend = DuckDBBackend(tmp_path / "lrs.duckdb")
    items = prepared(backend, statement(1), statement(2))
    rows = [items[0].row, {**items[1].row, "id": items[0].id}]
    before = backend.store.scalar("SELECT count(*) FROM statements")
    with pytest.raises(IngestError, match="more than once"):
        backend.store.ingest(
            IngestBatch(kind="lrs", source="t", rows_read=2, statements=statements_table(rows), new_ids=True)
        )
    assert backend.store.scalar("SELECT count(*) FROM statements") == before
    backend.close()


def test_concurrent_posts_are_committed_in_groups_and_all_stored(tmp_path: Path) -> None:
    app = create_app(tmp_path / "lrs.duckdb", credentials=CREDENTIALS)
    backend = app.state.lrs.backend
    sizes: list[int] = []
    insert = backend.insert_statements

    def counting(rows: Sequence[Prepared], *, source: str) -> None:
        sizes.append(len(rows))
        insert(rows, source=source)

    backend.insert_statements = counting

    async def run() -> list[list[str]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lrs") as http:

            async def post(n: int) -> list[str]:
                body = [statement(n * 10 + i) for i in range(10)]
                r = await http.post("/xAPI/statements", json=body, headers=HEADERS)
                assert r.status_code == 200, r.text
                ids: list[str] = r.json()
                return ids

            return list(await asyncio.gather(*(post(n) for n in range(24))))

    answered = asyncio.run(run())
    ids = [sid for batch in answered for sid in batch]
    assert len(set(ids)) == 240
    assert stored_ids(backend, ids) == set(ids)
    assert sum(sizes) == 240
    assert max(sizes) > 10, "requests that arrive together are written together"
    backend.close()


def test_a_credential_revoked_after_it_was_verified_writes_nothing(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "lrs.duckdb", credentials=CREDENTIALS)) as client:
        assert client.post("/xAPI/statements", json=statement(1), headers=WRITER).status_code == 200
        backend = client.app.state.lrs.backend  # type: ignore[attr-defined]
        assert backend.delete_credential("writer")
        sid = str(uuid.uuid4())
        r = client.post("/xAPI/statements", json=statement(2, id=sid), headers=WRITER)
        assert r.status_code == 401
        assert backend.stored_raw([sid]) == {}
        # replaced with fewer scopes: the new record is checked, and refuses with 403
        add_credential(backend, "writer", "wr1te", ["statements/read"])
        assert client.post("/xAPI/statements", json=statement(2, id=sid), headers=WRITER).status_code == 403
        assert backend.stored_raw([sid]) == {}


def test_consistent_through_stays_before_a_statement_still_being_written(tmp_path: Path) -> None:
    backend = DuckDBBackend(tmp_path / "lrs.duckdb")
    add_credential(backend, "app", "s3cret", ["all"])
    secret_hash = backend.credential_hash("app")
    assert secret_hash is not None
    writer = StatementWriter(backend, threading.Lock())
    entered, release = threading.Event(), threading.Event()
    insert = backend.insert_statements

    def slow(rows: Sequence[Prepared], *, source: str) -> None:
        entered.set()
        release.wait(10)
        insert(rows, source=source)

    backend.insert_statements = slow  # type: ignore[method-assign]
    items = prepared(backend, statement(1))
    stored = now_stored()

    async def run() -> tuple[str, str]:
        task = asyncio.create_task(
            writer.write(items, source="lrs:app", stored=stored, credential=("app", secret_hash))
        )
        while not entered.is_set():
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)
        during = writer.consistent_through()
        release.set()
        await task
        return during, writer.consistent_through()

    during, after = asyncio.run(run())
    assert during < stored[1] <= after
    backend.close()
