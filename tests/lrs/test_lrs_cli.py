"""``learnsight lrs credentials add|list|revoke`` and ``learnsight lrs erase-actor`` end to end."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from fastapi.testclient import TestClient
from tests.lrs.conftest import statement
from typer.testing import CliRunner

from learnsight.cli import app
from learnsight.lrs import create_app

runner = CliRunner()


def auth(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}


def test_credentials_and_erasure(tmp_path: Path) -> None:
    db = str(tmp_path / "lrs.duckdb")
    added = runner.invoke(app, ["lrs", "credentials", "add", "lms", "--scope", "all", "--db", db, "--json"])
    assert added.exit_code == 0, added.output
    secret = json.loads(added.output)["secret"]
    bad = runner.invoke(app, ["lrs", "credentials", "add", "x", "--scope", "nope", "--db", db])
    assert bad.exit_code != 0
    listed = json.loads(runner.invoke(app, ["lrs", "credentials", "list", "--db", db, "--json"]).output)
    assert [c["key"] for c in listed] == ["lms"] and listed[0]["scopes"] == ["all"]

    with TestClient(create_app(db)) as client:
        headers = auth("lms", secret)
        assert (
            client.post("/xAPI/statements", json=[statement(1), statement(2)], headers=headers).status_code
            == 200
        )
        agent = json.dumps({"mbox": "mailto:learner1@example.org"})
        profile = {"agent": agent, "profileId": "prefs"}
        r = client.put(
            "/xAPI/agents/profile", params=profile, json={"a": 1}, headers={**headers, "If-None-Match": "*"}
        )
        assert r.status_code == 204
        assert client.get("/xAPI/statements", headers=auth("lms", "wrong")).status_code == 401

    erased = runner.invoke(app, ["lrs", "erase-actor", "--agent", agent, "--db", db, "--yes", "--json"])
    assert erased.exit_code == 0, erased.output
    report = json.loads(erased.output)
    assert report["statements"] == 1 and report["documents"] == 1

    revoked = runner.invoke(app, ["lrs", "credentials", "revoke", "lms", "--db", db])
    assert revoked.exit_code == 0
    with TestClient(create_app(db)) as client:
        assert client.get("/xAPI/statements", headers=auth("lms", secret)).status_code == 401
    with TestClient(create_app(db, credentials={"admin": ("pw", ["all"])})) as client:
        left = client.get("/xAPI/statements", headers=auth("admin", "pw")).json()["statements"]
        assert [s["actor"]["mbox"] for s in left] == ["mailto:learner2@example.org"]
    assert runner.invoke(app, ["lrs", "credentials", "revoke", "lms", "--db", db]).exit_code != 0


def test_revoking_while_serving_takes_effect_at_once(tmp_path: Path) -> None:
    db = str(tmp_path / "lrs.duckdb")
    with TestClient(create_app(db, credentials={"lms": ("pw", ["all"])})) as client:
        assert client.get("/xAPI/statements", headers=auth("lms", "pw")).status_code == 200
        backend = client.app.state.lrs.backend  # type: ignore[attr-defined]
        assert backend.delete_credential("lms")
        assert client.get("/xAPI/statements", headers=auth("lms", "pw")).status_code == 401
