"""Rebuild the full xAPI statement of a stored row.

Statements that arrived as xAPI JSON keep their original text in ``raw`` (plus ``stored`` and
``authority`` as the store set them).  Statements produced by tabular importers are stored only as
typed columns; this module turns such a row back into the statement the importer meant, so every
stored statement can be retrieved in full.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from learnsight.xapi.vocab import COURSE

_VERSION = "1.0.3"


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds") + "Z"


def _actor(key: str, name: str | None) -> dict[str, Any]:
    actor: dict[str, Any] = {"objectType": "Agent"}
    if name:
        actor["name"] = name
    if key.startswith("account:"):
        home, _, acct = key[len("account:") :].rpartition("|")
        actor["account"] = {"homePage": home, "name": acct}
    elif key.startswith("mailto:"):
        actor["mbox"] = key
    elif key.startswith("sha1:"):
        actor["mbox_sha1sum"] = key[5:]
    elif key.startswith("openid:"):
        actor["openid"] = key[7:]
    else:
        actor["account"] = {"homePage": "urn:learnsight:unknown", "name": key}
    return actor


def _duration(seconds: float) -> str:
    return f"PT{seconds:.2f}S".replace(".00S", "S")


def rebuild_statement(row: dict[str, Any]) -> dict[str, Any]:
    """The statement of a stored row (a mapping of the ``statements`` columns)."""
    stored = _iso(row["stored"]) if row.get("stored") else None
    if row.get("raw"):
        statement: dict[str, Any] = json.loads(row["raw"])
        statement.setdefault("id", str(row["id"]))
        if stored:
            statement.setdefault("stored", stored)
        return statement
    ext = json.loads(row["extensions"]) if row.get("extensions") else {}
    obj: dict[str, Any] = {"objectType": row["object_type"], "id": row["object_id"]}
    if row["object_type"] == "Activity" and row.get("activity_type"):
        obj["definition"] = {"type": row["activity_type"]}
    statement = {
        "id": str(row["id"]),
        "actor": _actor(row["actor_key"], row.get("actor_name")),
        "verb": {
            "id": row["verb_id"],
            "display": {"en-US": row.get("verb_display") or row["verb_id"].rsplit("/", 1)[-1]},
        },
        "object": obj,
        "timestamp": _iso(row["ts"]),
        "version": _VERSION,
    }
    if stored:
        statement["stored"] = stored
    result: dict[str, Any] = {}
    score = {
        k: row[c]
        for k, c in (
            ("scaled", "score_scaled"),
            ("raw", "score_raw"),
            ("min", "score_min"),
            ("max", "score_max"),
        )
        if row.get(c) is not None
    }
    if score:
        result["score"] = score
    for key in ("success", "completion", "response"):
        if row.get(key) is not None:
            result[key] = row[key]
    if row.get("duration_s") is not None:
        result["duration"] = _duration(float(row["duration_s"]))
    if ext.get("result"):
        result["extensions"] = ext["result"]
    if result:
        statement["result"] = result
    context: dict[str, Any] = {"platform": row["source"]}
    if row.get("registration"):
        context["registration"] = str(row["registration"])
    if row.get("course"):
        context["contextActivities"] = {
            "grouping": [{"objectType": "Activity", "id": row["course"], "definition": {"type": COURSE}}]
        }
    if ext.get("context"):
        context["extensions"] = ext["context"]
    statement["context"] = context
    return statement
