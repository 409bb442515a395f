"""Statement queries: filters, ordering and ``more`` paging."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from tests.lrs.conftest import HEADERS, statement

URL = "/xAPI/statements"


def _all_pages(client: TestClient, params: dict[str, str]) -> list[str]:
    ids: list[str] = []
    r = client.get(URL, params=params, headers=HEADERS)
    pages = 0
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [s["id"] for s in body["statements"]]
        pages += 1
        if not body["more"]:
            break
        assert body["more"].startswith("/xAPI/statements/more/")
        r = client.get(body["more"], headers=HEADERS)
    assert pages >= 2 or len(ids) <= int(params.get("limit", "100"))
    return ids


def test_more_paging_returns_every_statement_once(client: TestClient) -> None:
    sent: list[str] = []
    for batch in range(3):
        r = client.post(URL, json=[statement(n) for n in range(batch * 10, batch * 10 + 10)], headers=HEADERS)
        sent += r.json()
    ids = _all_pages(client, {"limit": "7"})
    assert sorted(ids) == sorted(sent) and len(ids) == len(set(ids)) == 30
    ascending = _all_pages(client, {"limit": "4", "ascending": "true"})
    assert ascending == list(reversed(ids))
    # Statements arriving during paging do not repeat or hide earlier ones.
    r = client.get(URL, params={"limit": "5"}, headers=HEADERS)
    client.post(URL, json=statement(99), headers=HEADERS)
    seen = [s["id"] for s in r.json()["statements"]]
    more = r.json()["more"]
    while more:
        page = client.get(more, headers=HEADERS).json()
        seen += [s["id"] for s in page["statements"]]
        more = page["more"]
    assert sorted(seen) == sorted(sent)


def test_filters(client: TestClient) -> None:
    registration = str(uuid.uuid4())
    client.post(
        URL,
        json=[
            statement(1, context={"registration": registration}),
            statement(2),
            {**statement(3), "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"}},
        ],
        headers=HEADERS,
    )

    def count(**params: str) -> int:
        r = client.get(URL, params=params, headers=HEADERS)
        assert r.status_code == 200, r.text
        return len(r.json()["statements"])

    assert count() == 3
    assert count(agent=json.dumps({"mbox": "mailto:learner2@example.org"})) == 1
    assert count(verb="http://adlnet.gov/expapi/verbs/passed") == 1
    assert count(activity="http://example.org/quiz/1") == 1
    assert count(registration=registration) == 1
    assert count(since="2000-01-01T00:00:00Z") == 3
    assert count(until="2000-01-01T00:00:00Z") == 0
    assert count(limit="2") == 2
    bad_agent = client.get(URL, params={"agent": '{"mbox": "x"}'}, headers=HEADERS)
    assert bad_agent.status_code == 400


def test_related_activities(client: TestClient) -> None:
    parent = "http://example.org/course/1"
    client.post(
        URL,
        json=[statement(1, context={"contextActivities": {"parent": [{"id": parent}]}}), statement(2)],
        headers=HEADERS,
    )
    plain = client.get(URL, params={"activity": parent}, headers=HEADERS).json()["statements"]
    related = client.get(
        URL, params={"activity": parent, "related_activities": "true"}, headers=HEADERS
    ).json()["statements"]
    assert plain == [] and len(related) == 1
