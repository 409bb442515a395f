"""Statements resource: POST/PUT/GET round trips, conflicts, validation, voiding."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from tests.lrs.conftest import HEADERS, duckdb_only, statement

URL = "/xAPI/statements"


def test_post_one_and_get_it_back_completed(client: TestClient) -> None:
    sid = str(uuid.uuid4())
    r = client.post(URL, json=statement(id=sid), headers=HEADERS)
    assert r.status_code == 200, r.text
    assert r.json() == [sid]
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    got = client.get(URL, params={"statementId": sid}, headers=HEADERS)
    assert got.status_code == 200
    assert "X-Experience-API-Consistent-Through" in got.headers
    body = got.json()
    assert body["id"] == sid
    assert body["actor"] == statement()["actor"]
    assert body["version"] == "1.0.0"
    assert body["stored"].endswith("Z")
    assert body["authority"]["account"]["name"] == "app"


def test_post_array_generates_ids_and_ingests_atomically(client: TestClient) -> None:
    r = client.post(URL, json=[statement(1), statement(2)], headers=HEADERS)
    assert r.status_code == 200, r.text
    ids = r.json()
    assert len(ids) == 2 and all(uuid.UUID(i) for i in ids)
    store = duckdb_only(client)
    assert store.count_statements() == 2
    kinds = store.con.execute("SELECT kind, statements_written FROM ingest_batches").fetchall()
    assert kinds == [("lrs", 2)]


def test_invalid_statement_in_batch_writes_nothing_and_is_400(client: TestClient) -> None:
    bad = statement(2)
    bad["actor"] = {"mbox": "learner@example.org"}
    r = client.post(URL, json=[statement(1), bad], headers=HEADERS)
    assert r.status_code == 400
    assert "actor.mbox" in r.json()["error"]
    assert client.get(URL, headers=HEADERS).json()["statements"] == []


def test_validation_errors_are_400_not_422(client: TestClient) -> None:
    assert client.post(URL, content=b"{not json", headers=HEADERS).status_code == 400
    assert client.get(URL, params={"limit": "-1"}, headers=HEADERS).status_code == 400
    assert client.get(URL, params={"bogus": "1"}, headers=HEADERS).status_code == 400
    assert client.get(URL, params={"statementId": "nope"}, headers=HEADERS).status_code == 400
    unknown = statement(Actor={"mbox": "mailto:a@b.org"})
    assert client.post(URL, json=unknown, headers=HEADERS).status_code == 400


def test_put_then_conflict(client: TestClient) -> None:
    sid = str(uuid.uuid4())
    r = client.put(URL, params={"statementId": sid}, json=statement(), headers=HEADERS)
    assert r.status_code == 204, r.text
    # Same content again: accepted, nothing new written.
    assert client.put(URL, params={"statementId": sid}, json=statement(), headers=HEADERS).status_code == 204
    assert client.post(URL, json=statement(id=sid), headers=HEADERS).status_code == 200
    # Different content under the same id: 409.
    r = client.put(URL, params={"statementId": sid}, json=statement(2), headers=HEADERS)
    assert r.status_code == 409
    assert client.post(URL, json=statement(2, id=sid), headers=HEADERS).status_code == 409
    assert len(client.get(URL, headers=HEADERS).json()["statements"]) == 1


def test_put_needs_matching_statement_id(client: TestClient) -> None:
    assert client.put(URL, json=statement(), headers=HEADERS).status_code == 400
    other = str(uuid.uuid4())
    r = client.put(URL, params={"statementId": str(uuid.uuid4())}, json=statement(id=other), headers=HEADERS)
    assert r.status_code == 400


def test_get_missing_is_404(client: TestClient) -> None:
    r = client.get(URL, params={"statementId": str(uuid.uuid4())}, headers=HEADERS)
    assert r.status_code == 404


def test_voiding(client: TestClient) -> None:
    target = str(uuid.uuid4())
    client.post(URL, json=statement(id=target), headers=HEADERS)
    voiding = {
        "actor": {"mbox": "mailto:teacher@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
    }
    r = client.post(URL, json=voiding, headers=HEADERS)
    assert r.status_code == 200, r.text
    voiding_id = r.json()[0]
    assert client.get(URL, params={"statementId": target}, headers=HEADERS).status_code == 404
    got = client.get(URL, params={"voidedStatementId": target}, headers=HEADERS)
    assert got.status_code == 200 and got.json()["id"] == target
    # The voiding statement itself is not voided.
    assert client.get(URL, params={"voidedStatementId": voiding_id}, headers=HEADERS).status_code == 404
    # Queries never return the voided statement, but do return the voiding one.
    ids = [s["id"] for s in client.get(URL, headers=HEADERS).json()["statements"]]
    assert ids == [voiding_id]


def test_format_ids(client: TestClient) -> None:
    sid = str(uuid.uuid4())
    client.post(URL, json=statement(id=sid), headers=HEADERS)
    got = client.get(URL, params={"statementId": sid, "format": "ids"}, headers=HEADERS).json()
    assert got["actor"] == {"mbox": "mailto:learner1@example.org"}
    assert got["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attempted"}
