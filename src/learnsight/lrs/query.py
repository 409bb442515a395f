"""Statement queries and ``more`` paging (xAPI 1.0.3 Part Three §2.1.3, IEEE 9274.1.1 §5.4.1.3).

Filters: ``agent`` (actor, or Agent/Group object; with ``related_agents`` also the authority,
context instructor and team and any agent of a SubStatement), ``verb``, ``activity`` (the object;
with ``related_activities`` also context activities and SubStatement objects), ``registration``,
``since`` (stored after), ``until`` (stored at or before).  Voided statements are never returned
(Part Two §2.3.2).  Results are ordered by ``stored`` (newest first unless ``ascending``), ties by
id; a page holds at most ``limit`` statements (0 or above :data:`MAX_LIMIT`: :data:`MAX_LIMIT`).

When more statements match, the result's ``more`` is a relative IRL holding an opaque token: the
query itself and the (stored, id) of the page's last statement, so following it returns every
matching statement exactly once even while new statements arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from learnsight.lrs.backend import LRSBackend
from learnsight.lrs.statements import LRSError
from learnsight.xapi.agent import Agent, Group
from learnsight.xapi.columns import canonical_json
from learnsight.xapi.datatypes import TimestampError, parse_timestamp

MAX_LIMIT: Final = 100
"""Statements per page at most."""

FORMATS: Final = ("exact", "ids", "canonical")

MORE_PATH: Final = "/xAPI/statements/more/"


@dataclass(frozen=True)
class Query:
    """A statement query: its filters, order, page size and position (``after``)."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 0
    ascending: bool = False
    format: str = "exact"
    related_activities: bool = False
    related_agents: bool = False
    mine: str | None = None
    after: tuple[str, str] | None = None

    def token(self) -> str:
        """The opaque ``more`` token of this query (urlsafe base64 JSON)."""
        text = json.dumps(asdict(self), separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def from_token(token: str) -> Query:
    """The query a ``more`` token holds; 400 for a token this LRS did not make."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        fields = json.loads(text)
        if fields.get("after") is not None:
            fields["after"] = tuple(fields["after"])
        return Query(**fields)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise LRSError(400, "invalid more token") from None


def parse_agent(text: str) -> str:
    """The actor key of an ``agent`` query parameter (an Agent or Group JSON object)."""
    try:
        value = json.loads(text)
    except ValueError:
        raise LRSError(400, "agent: not JSON") from None
    if not isinstance(value, dict):
        raise LRSError(400, "agent: must be a JSON object")
    try:
        if value.get("objectType") == "Group":
            return Group.model_validate(value, strict=True).key()
        return Agent.model_validate(value, strict=True).key()
    except ValueError as exc:
        raise LRSError(400, f"agent: {str(exc).splitlines()[0]}") from None


def parse_stored_bound(name: str, text: str) -> str:
    """A ``since``/``until`` timestamp as naive UTC text for SQL; 400 when malformed."""
    try:
        when = parse_timestamp(text, require_offset=False)
    except (TimestampError, ValueError):
        raise LRSError(400, f"{name}: {text!r} is not an ISO 8601 timestamp") from None
    return when.astimezone(UTC).replace(tzinfo=None).isoformat()


def where_clause(query: Query) -> tuple[str, list[Any]]:
    """The SQL condition (``?`` placeholders, portable to DuckDB and PostgreSQL) and parameters
    selecting the statements ``query`` matches after its ``after`` position; never voided ones."""
    where = ["NOT voided"]
    params: list[Any] = []
    if query.agent is not None:
        if query.related_agents:
            where.append(
                "(actor_key = ? OR (object_type IN ('Agent', 'Group') AND object_id = ?) "
                "OR strpos(raw, ?) > 0)"
            )
            params += [query.agent, query.agent, ifi_fragment(query.agent)]
        else:
            where.append("(actor_key = ? OR (object_type IN ('Agent', 'Group') AND object_id = ?))")
            params += [query.agent, query.agent]
    if query.verb is not None:
        where.append("verb_id = ?")
        params.append(query.verb)
    if query.activity is not None:
        if query.related_activities:
            where.append("((object_type = 'Activity' AND object_id = ?) OR strpos(raw, ?) > 0)")
            params += [query.activity, activity_fragment(query.activity)]
        else:
            where.append("object_type = 'Activity' AND object_id = ?")
            params.append(query.activity)
    if query.registration is not None:
        where.append("CAST(registration AS VARCHAR) = ?")
        params.append(query.registration)
    if query.since is not None:
        where.append("stored > CAST(? AS TIMESTAMP)")
        params.append(query.since)
    if query.until is not None:
        where.append("stored <= CAST(? AS TIMESTAMP)")
        params.append(query.until)
    if query.mine is not None:
        where.append("strpos(raw, ?) > 0")
        params.append(query.mine)
    op = ">" if query.ascending else "<"
    if query.after is not None:
        where.append(
            f"(stored {op} CAST(? AS TIMESTAMP) OR (stored = CAST(? AS TIMESTAMP) "
            f"AND CAST(id AS VARCHAR) {op} ?))"
        )
        params += [query.after[0], query.after[0], query.after[1]]
    return " AND ".join(where), params


def order_clause(query: Query) -> str:
    """``ORDER BY`` of a query: by (stored, id), newest first unless ``ascending``."""
    order = "ASC" if query.ascending else "DESC"
    return f"ORDER BY stored {order}, CAST(id AS VARCHAR) {order}"


def run(backend: LRSBackend, query: Query) -> tuple[list[dict[str, Any]], Query | None]:
    """One page of statements and the query of the next page (``None`` when none is left)."""
    limit = query.limit if 0 < query.limit <= MAX_LIMIT else MAX_LIMIT
    rows = backend.query_statements(query, limit + 1)
    page = rows[:limit]
    statements = [json.loads(raw) for raw, _, _ in page if raw is not None]
    if query.format == "ids":
        statements = [ids_format(s) for s in statements]
    following = replace(query, after=(page[-1][1], page[-1][2])) if len(rows) > limit else None
    return statements, following


def activity_fragment(activity_id: str) -> str:
    """A JSON text fragment that occurs in a statement's raw text wherever Activity ``activity_id``
    does (as object, context activity or SubStatement object)."""
    return canonical_json({"id": activity_id})[1:-1]


def ifi_fragment(key: str) -> str:
    """A JSON text fragment that occurs in a statement's raw text wherever the agent ``key`` does."""
    if key.startswith("mailto:"):
        return canonical_json({"mbox": key})[1:-1]
    if key.startswith("sha1:"):
        return canonical_json({"mbox_sha1sum": key[5:]})[1:-1]
    if key.startswith("openid:"):
        return canonical_json({"openid": key[7:]})[1:-1]
    if key.startswith("account:"):
        home, _, name = key[8:].rpartition("|")
        return canonical_json({"homePage": home, "name": name})[1:-1]
    return key


def ids_format(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement in the ``ids`` format: Agents and Groups reduced to their IFI (anonymous Groups
    keep their members so reduced), Activities and Verbs to their ``id`` (Part Three §2.1.3)."""
    return {key: _ids(key, value) for key, value in statement.items()}


_IFIS: Final = ("mbox", "mbox_sha1sum", "openid", "account")


def _ids(key: str, value: Any) -> Any:
    if isinstance(value, list):
        return [_ids(key, v) for v in value]
    if not isinstance(value, dict):
        return value
    if key in ("actor", "authority", "instructor", "team", "member", "object") or any(
        ifi in value for ifi in _IFIS
    ):
        if any(ifi in value for ifi in _IFIS):
            return {k: v for k, v in value.items() if k in (*_IFIS, "objectType")}
        if value.get("objectType") == "Group":
            return {"objectType": "Group", "member": [_ids("member", m) for m in value.get("member", [])]}
    if key == "verb":
        return {"id": value["id"]}
    if "id" in value and value.get("objectType", "Activity") == "Activity" and "definition" in value:
        return {k: v for k, v in value.items() if k in ("id", "objectType")}
    return {k: _ids(k, v) for k, v in value.items()}


def stored_now() -> str:
    """Consistent-through value: every statement stored up to now is returned by queries."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
