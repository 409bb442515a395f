"""About resource, version header, authentication and scopes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.lrs.conftest import HEADERS, READER, WRITER, basic, statement

URL = "/xAPI/statements"


def test_about_needs_no_version_or_credentials(client: TestClient) -> None:
    r = client.get("/xAPI/about")
    assert r.status_code == 200
    assert r.json()["version"] == ["1.0.3", "2.0.0"]
    assert "X-Experience-API-Version" in r.headers


def test_version_header_required_and_checked(client: TestClient) -> None:
    no_version = {"Authorization": HEADERS["Authorization"]}
    assert client.get(URL, headers=no_version).status_code == 400
    assert client.get(URL, headers={**no_version, "X-Experience-API-Version": "0.95"}).status_code == 400
    assert client.get(URL, headers={**no_version, "X-Experience-API-Version": "1.1.0"}).status_code == 400
    r = client.get(URL, headers={**no_version, "X-Experience-API-Version": "1.0.1"})
    assert r.status_code == 200 and r.headers["X-Experience-API-Version"] == "1.0.3"
    r = client.get(URL, headers={**no_version, "X-Experience-API-Version": "2.0.0"})
    assert r.status_code == 200 and r.headers["X-Experience-API-Version"] == "2.0.0"


def test_version_2_rules_apply(client: TestClient) -> None:
    v2 = {**HEADERS, "X-Experience-API-Version": "2.0.0"}
    r = client.post(URL, json=statement(), headers=v2)
    assert r.status_code == 200
    sid = r.json()[0]
    assert client.get(URL, params={"statementId": sid}, headers=v2).json()["version"] == "2.0.0"
    # A 2.0 LRS accepts a 1.0.x statement under its own rules and keeps its version ...
    r = client.post(URL, json=statement(version="1.0.9"), headers=v2)
    assert r.status_code == 200
    assert client.get(URL, params={"statementId": r.json()[0]}, headers=v2).json()["version"] == "1.0.9"
    # ... but a 1.0.3 LRS refuses a 2.0 statement, and versions of neither family are refused.
    assert client.post(URL, json=statement(version="2.0.0"), headers=HEADERS).status_code == 400
    for bad in ("1.1.0", "0.9.9", "should fail"):
        assert client.post(URL, json=statement(version=bad), headers=v2).status_code == 400
    # A batch repeating an id is refused under 2.0 even when the statements are equal.
    twice = {**statement(), "id": "2b7a5a3e-44e1-4b4a-9d1a-6a3c2f8e9b10"}
    assert client.post(URL, json=[twice, twice], headers=v2).status_code == 400
    assert client.post(URL, json=[twice, twice], headers=HEADERS).status_code == 200


def test_auth_401(client: TestClient) -> None:
    version = {"X-Experience-API-Version": "1.0.3"}
    r = client.get(URL, headers=version)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get(URL, headers={**version, "Authorization": basic("app", "wrong")}).status_code == 401
    assert client.get(URL, headers={**version, "Authorization": basic("nobody", "x")}).status_code == 401
    assert client.get(URL, headers={**version, "Authorization": "Basic !!!"}).status_code == 401


def test_scopes_403(client: TestClient) -> None:
    assert client.post(URL, json=statement(), headers=READER).status_code == 403
    assert client.post(URL, json=statement(), headers=WRITER).status_code == 200
    assert client.get(URL, headers=WRITER).status_code == 403
    assert client.get(URL, headers=READER).status_code == 200


def test_secrets_are_salted_hashes(client: TestClient) -> None:
    records = client.app.state.lrs.backend.list_credentials()  # type: ignore[attr-defined]
    assert [r.key for r in records] == ["app", "reader", "writer"]
    assert all(b"s3cret" not in r.secret_hash and r.secret_hash for r in records)
    assert len({r.salt for r in records}) == 3
