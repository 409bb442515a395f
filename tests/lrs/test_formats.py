"""Query semantics beyond filters: StatementRef matching, the ids and canonical formats, the
Alternate Request Syntax (1.0.3) and the headers of answers."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from tests.lrs.conftest import HEADERS, statement

URL = "/xAPI/statements"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def ids_of(client: TestClient, **params: str) -> list[str]:
    r = client.get(URL, params=params, headers=HEADERS)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()["statements"]]


def test_statement_refs_match_the_filters_of_their_target(client: TestClient) -> None:
    verb = f"http://example.org/verbs/{uuid.uuid4()}"
    target, voiding, ref = (str(uuid.uuid4()) for _ in range(3))
    client.post(URL, json=statement(id=target, verb={"id": verb}), headers=HEADERS)
    client.post(
        URL,
        json={
            **statement(),
            "id": voiding,
            "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": target},
        },
        headers=HEADERS,
    )
    client.post(
        URL,
        json={
            **statement(),
            "id": ref,
            "verb": {"id": verb},
            "object": {"objectType": "StatementRef", "id": target},
        },
        headers=HEADERS,
    )
    found = ids_of(client, verb=verb)
    assert set(found) == {voiding, ref}  # the voided target itself never
    assert ids_of(client, verb="http://example.org/verbs/none") == []


def test_a_voiding_statement_cannot_be_voided(client: TestClient) -> None:
    target, voiding = str(uuid.uuid4()), str(uuid.uuid4())
    client.post(URL, json=statement(id=target), headers=HEADERS)
    void = {"verb": {"id": VOIDED}, "actor": statement()["actor"]}
    client.post(
        URL,
        json={**void, "id": voiding, "object": {"objectType": "StatementRef", "id": target}},
        headers=HEADERS,
    )
    r = client.post(
        URL, json={**void, "object": {"objectType": "StatementRef", "id": voiding}}, headers=HEADERS
    )
    assert r.status_code == 200
    assert client.get(URL, params={"statementId": voiding}, headers=HEADERS).status_code == 200
    assert client.get(URL, params={"voidedStatementId": target}, headers=HEADERS).status_code == 200


def test_ids_and_canonical_formats(client: TestClient) -> None:
    sid = str(uuid.uuid4())
    doc = statement(
        id=sid,
        verb={"id": "http://example.org/v", "display": {"en-US": "did", "en-GB": "did (GB)", "fr": "a fait"}},
        object={
            "objectType": "Activity",
            "id": "http://example.org/a",
            "definition": {"name": {"en-US": "Quiz", "fr": "Test"}, "type": "http://example.org/t"},
        },
    )
    client.post(URL, json=doc, headers=HEADERS)
    ids = client.get(URL, params={"statementId": sid, "format": "ids"}, headers=HEADERS).json()
    assert ids["actor"] == {"mbox": doc["actor"]["mbox"]}
    assert ids["verb"] == {"id": "http://example.org/v"}
    assert ids["object"] == {"id": "http://example.org/a"}
    canonical = client.get(
        URL,
        params={"statementId": sid, "format": "canonical"},
        headers={**HEADERS, "Accept-Language": "en-GB"},
    ).json()
    assert canonical["verb"]["display"] == {"en-GB": "did (GB)"}
    assert canonical["object"]["definition"]["name"] == {"en-US": "Quiz"}  # en-GB absent: same language
    french = client.get(
        URL, params={"format": "canonical"}, headers={**HEADERS, "Accept-Language": "fr;q=0.9, de"}
    )
    assert french.json()["statements"][0]["verb"]["display"] == {"fr": "a fait"}
    exact = client.get(
        URL, params={"statementId": sid}, headers={**HEADERS, "Accept-Language": "en-GB"}
    ).json()
    assert len(exact["verb"]["display"]) == 3
    assert client.get(URL, params={"format": "full"}, headers=HEADERS).status_code == 400


def test_last_modified_and_missing_version_header(client: TestClient) -> None:
    r = client.post(URL, json=statement(), headers=HEADERS)
    got = client.get(URL, params={"statementId": r.json()[0]}, headers=HEADERS)
    assert got.headers["Last-Modified"].endswith("GMT")
    no_version = {"Authorization": HEADERS["Authorization"]}
    refused = client.get(URL, headers=no_version)
    assert refused.status_code == 400 and refused.headers["X-Experience-API-Version"] == "2.0.0"


def form(**fields: str) -> dict[str, object]:
    return {
        "content": urlencode(fields),
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


def test_alternate_request_syntax(client: TestClient) -> None:
    auth = {"Authorization": HEADERS["Authorization"], "X-Experience-API-Version": "1.0.3"}
    sid = str(uuid.uuid4())
    put = client.post(URL + "?method=PUT", **form(statementId=sid, content=json.dumps(statement()), **auth))  # type: ignore[arg-type]
    assert put.status_code == 204, put.text
    assert client.get(URL, params={"statementId": sid}, headers=HEADERS).status_code == 200
    get = client.post(URL + "?method=GET", **form(limit="1", **auth))  # type: ignore[arg-type]
    assert get.status_code == 200 and set(get.json()) == {"statements", "more"}
    # Headers may also be real headers; form fields win.
    old = client.post(
        URL + "?method=PUT",
        content=urlencode(
            {
                "statementId": str(uuid.uuid4()),
                "content": json.dumps(statement()),
                "X-Experience-API-Version": "0.8",
            }
        ),
        headers={**HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert old.status_code == 400
    extra = client.post(
        URL + f"?method=PUT&statementId={sid}", **form(content=json.dumps(statement()), **auth)
    )  # type: ignore[arg-type]
    assert extra.status_code == 400
    not_post = client.put(URL + "?method=POST", json=statement(), headers=HEADERS)
    assert not_post.status_code == 400
    not_form = client.post(
        URL + "?method=PUT", content=b"{}", headers={**HEADERS, "Content-Type": "application/json"}
    )
    assert not_form.status_code == 400
    v2 = {**auth, "X-Experience-API-Version": "2.0.0"}
    assert client.post(URL + "?method=GET", **form(**v2)).status_code == 400  # type: ignore[arg-type]
