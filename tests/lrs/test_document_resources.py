"""State, Activity Profile, Agent Profile, Activities and Agents resources."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.lrs.conftest import HEADERS, READER, statement

AGENT = json.dumps({"mbox": "mailto:learner1@example.org"})
ACTIVITY = "http://example.org/quiz/1"
STATE = "/xAPI/activities/state"
V2 = {**HEADERS, "X-Experience-API-Version": "2.0.0"}


def state(**extra: str) -> dict[str, str]:
    return {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark", **extra}


def test_state_put_get_merge_list_delete(client: TestClient) -> None:
    assert client.put(STATE, params=state(), json={"page": 3, "x": 1}, headers=HEADERS).status_code == 204
    got = client.get(STATE, params=state(), headers=HEADERS)
    assert got.status_code == 200 and got.json() == {"page": 3, "x": 1}
    assert got.headers["ETag"].startswith('"') and got.headers["Last-Modified"].endswith("GMT")
    head = client.head(STATE, params=state(), headers=HEADERS)
    assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == got.headers["ETag"]
    assert client.post(STATE, params=state(), json={"page": 4, "y": 2}, headers=HEADERS).status_code == 204
    assert client.get(STATE, params=state(), headers=HEADERS).json() == {"page": 4, "x": 1, "y": 2}
    client.put(
        STATE,
        params=state(stateId="other"),
        content=b"\x00bin",
        headers={**HEADERS, "Content-Type": "application/x-bin"},
    )
    listing = {k: v for k, v in state().items() if k != "stateId"}
    assert client.get(STATE, params=listing, headers=HEADERS).json() == ["bookmark", "other"]
    assert (
        client.get(STATE, params={**listing, "since": "2999-01-01T00:00:00Z"}, headers=HEADERS).json() == []
    )
    binary = client.get(STATE, params=state(stateId="other"), headers=HEADERS)
    assert binary.content == b"\x00bin" and binary.headers["Content-Type"] == "application/x-bin"
    # A merge needs JSON on both sides.
    assert (
        client.post(STATE, params=state(stateId="other"), json={"a": 1}, headers=HEADERS).status_code == 400
    )
    assert client.delete(STATE, params=state(), headers=HEADERS).status_code == 204
    assert client.get(STATE, params=state(), headers=HEADERS).status_code == 404
    assert client.delete(STATE, params=listing, headers=HEADERS).status_code == 204
    assert client.get(STATE, params=listing, headers=HEADERS).json() == []


def test_registration_scopes_state(client: TestClient) -> None:
    reg = "5e4c7a2e-1b2c-4d5e-8f90-123456789abc"
    client.put(STATE, params=state(registration=reg), json={"r": 1}, headers=HEADERS)
    assert client.get(STATE, params=state(), headers=HEADERS).status_code == 404
    assert client.get(STATE, params=state(registration=reg), headers=HEADERS).json() == {"r": 1}


@pytest.mark.parametrize(
    "params",
    [
        {"agent": AGENT, "stateId": "s"},  # no activityId
        {"activityId": ACTIVITY, "stateId": "s"},  # no agent
        {"activityId": ACTIVITY, "agent": '{"name": "no ifi"}', "stateId": "s"},
        {"activityId": ACTIVITY, "agent": "not json", "stateId": "s"},
        {**state(), "registration": "not-a-uuid"},
        {**state(), "unknown": "1"},
    ],
)
def test_bad_state_parameters_are_400(client: TestClient, params: dict[str, str]) -> None:
    assert client.put(STATE, params=params, json={"a": 1}, headers=HEADERS).status_code == 400
    assert client.get(STATE, params=params, headers=HEADERS).status_code == 400
    listing = {k: v for k, v in state().items() if k != "stateId"}
    assert client.get(STATE, params={**listing, "since": "yesterday"}, headers=HEADERS).status_code == 400
    assert (
        client.post(
            STATE,
            params=state(),
            content=b"{not json",
            headers={**HEADERS, "Content-Type": "application/json"},
        ).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/xAPI/activities/profile", {"activityId": ACTIVITY}),
        ("/xAPI/agents/profile", {"agent": AGENT}),
    ],
)
def test_profiles_and_concurrency(client: TestClient, path: str, scope: dict[str, str]) -> None:
    params = {**scope, "profileId": "p1"}
    # 1.0.3: a profile PUT needs a precondition header.
    assert client.put(path, params=params, json={"a": 1}, headers=HEADERS).status_code == 400
    assert (
        client.put(path, params=params, json={"a": 1}, headers={**HEADERS, "If-None-Match": "*"}).status_code
        == 204
    )
    tag = client.get(path, params=params, headers=HEADERS).headers["ETag"]
    assert (
        client.put(path, params=params, json={"a": 2}, headers={**HEADERS, "If-None-Match": "*"}).status_code
        == 412
    )
    assert client.put(path, params=params, json={"a": 2}, headers=HEADERS).status_code == 409
    assert (
        client.put(path, params=params, json={"a": 2}, headers={**HEADERS, "If-Match": '"1234"'}).status_code
        == 412
    )
    assert client.get(path, params=params, headers=HEADERS).json() == {"a": 1}  # untouched by refusals
    assert (
        client.put(path, params=params, json={"a": 3}, headers={**HEADERS, "If-Match": tag}).status_code
        == 204
    )
    assert client.delete(path, params=params, headers={**HEADERS, "If-Match": tag}).status_code == 412
    assert client.get(path, params=scope, headers=HEADERS).json() == ["p1"]
    assert client.delete(path, params=params, headers=HEADERS).status_code == 204
    assert client.delete(path, params=scope, headers=HEADERS).status_code == 400  # profileId required
    # The profile scope is needed: a statements reader is refused.
    assert client.get(path, params=scope, headers=READER).status_code == 403


def test_state_put_over_existing_needs_header_in_2_0(client: TestClient) -> None:
    assert client.put(STATE, params=state(), json={"a": 1}, headers=V2).status_code == 204
    assert client.put(STATE, params=state(), json={"a": 2}, headers=V2).status_code == 409
    assert (
        client.put(STATE, params=state(), json={"a": 2}, headers=HEADERS).status_code == 204
    )  # 1.0.3: allowed


def test_activities_and_agents(client: TestClient) -> None:
    first = statement(
        object={"id": ACTIVITY, "definition": {"name": {"en-US": "Quiz"}, "type": "http://t/1"}}
    )
    later = statement(object={"id": ACTIVITY, "definition": {"name": {"fr": "Test"}, "type": "http://t/2"}})
    client.post("/xAPI/statements", json=first, headers=HEADERS)
    client.post("/xAPI/statements", json=later, headers=HEADERS)
    activity = client.get("/xAPI/activities", params={"activityId": ACTIVITY}, headers=HEADERS).json()
    assert activity == {
        "objectType": "Activity",
        "id": ACTIVITY,
        "definition": {"name": {"en-US": "Quiz", "fr": "Test"}, "type": "http://t/2"},
    }
    unseen = client.get("/xAPI/activities", params={"activityId": "http://example.org/none"}, headers=HEADERS)
    assert unseen.json() == {"objectType": "Activity", "id": "http://example.org/none"}
    assert client.get("/xAPI/activities", headers=HEADERS).status_code == 400
    person = client.get("/xAPI/agents", params={"agent": AGENT}, headers=HEADERS).json()
    assert person == {"objectType": "Person", "name": ["Learner 1"], "mbox": ["mailto:learner1@example.org"]}
    assert client.get("/xAPI/agents", params={"agent": "{}"}, headers=HEADERS).status_code == 400
