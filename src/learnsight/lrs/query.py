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
from datetime import UTC
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
    languages: tuple[str, ...] = ()
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
        fields["languages"] = tuple(fields.get("languages", ()))
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


def where_clause(query: Query, table: str = "statements") -> tuple[str, list[Any]]:
    """The SQL condition (``?`` placeholders, portable to DuckDB and PostgreSQL) and parameters
    selecting the statements ``query`` matches after its ``after`` position; never voided ones.

    The agent, verb, activity and registration filters also match a statement whose object is a
    StatementRef to a statement they match, voided or not (Part Three §2.1.3, "Filter Conditions
    for StatementRefs"; one level of reference); ``since``, ``until`` and the order apply to the
    returned statement itself.  ``table`` is the statements table the references are looked up in.
    """
    filters: list[str] = []
    fparams: list[Any] = []
    if query.agent is not None:
        if query.related_agents:
            filters.append(
                "(actor_key = ? OR (object_type IN ('Agent', 'Group') AND object_id = ?) "
                "OR strpos(raw, ?) > 0)"
            )
            fparams += [query.agent, query.agent, ifi_fragment(query.agent)]
        else:
            filters.append("(actor_key = ? OR (object_type IN ('Agent', 'Group') AND object_id = ?))")
            fparams += [query.agent, query.agent]
    if query.verb is not None:
        filters.append("verb_id = ?")
        fparams.append(query.verb)
    if query.activity is not None:
        if query.related_activities:
            filters.append("((object_type = 'Activity' AND object_id = ?) OR strpos(raw, ?) > 0)")
            fparams += [query.activity, activity_fragment(query.activity)]
        else:
            filters.append("(object_type = 'Activity' AND object_id = ?)")
            fparams.append(query.activity)
    if query.registration is not None:
        filters.append("CAST(registration AS VARCHAR) = ?")
        fparams.append(query.registration)
    where = ["NOT voided"]
    params: list[Any] = []
    if filters:
        match = " AND ".join(filters)
        where.append(
            f"(({match}) OR (object_type = 'StatementRef' AND object_id IN "
            f"(SELECT CAST(id AS VARCHAR) FROM {table} WHERE {match})))"
        )
        params += fparams + fparams
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
    statements = [formatted(s, query.format, query.languages) for s in statements]
    following = replace(query, after=(page[-1][1], page[-1][2])) if len(rows) > limit else None
    return statements, following


def formatted(statement: dict[str, Any], fmt: str, languages: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``statement`` in the ``format`` of a GET: ``exact`` (as stored), ``ids`` or ``canonical``."""
    if fmt == "ids":
        return ids_format(statement)
    if fmt == "canonical":
        return canonical_format(statement, list(languages))
    return statement


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
    """A statement in the ``ids`` format (Part Three §2.1.3): Agents and identified Groups reduced
    to their IFI (and ``objectType``), anonymous Groups to their members so reduced, Activities and
    Verbs to their ``id``."""
    return {key: _ids(key, value) for key, value in statement.items()}


_IFIS: Final = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS: Final = frozenset({"actor", "authority", "instructor", "team", "member"})
_ACTIVITY_LISTS: Final = frozenset({"parent", "grouping", "category", "other"})


def _agent_ids(value: dict[str, Any]) -> dict[str, Any]:
    if any(ifi in value for ifi in _IFIS):
        return {k: v for k, v in value.items() if k in (*_IFIS, "objectType")}
    return {"objectType": "Group", "member": [_agent_ids(m) for m in value.get("member", [])]}


def _ids(key: str, value: Any) -> Any:
    if isinstance(value, list):
        return [_ids(key, v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("objectType")
    if key in _AGENT_KEYS or (key == "object" and kind in ("Agent", "Group")):
        return _agent_ids(value)
    if key == "verb" or (key == "object" and kind in (None, "Activity")) or key in _ACTIVITY_LISTS:
        return {"id": value["id"]} if "id" in value else value
    return {k: _ids(k, v) for k, v in value.items()}


_LANGUAGE_MAP_KEYS: Final = frozenset({"display", "name", "description"})


def accepted_languages(header: str | None) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most preferred first (RFC 9110 §12.5.4).

    >>> accepted_languages("fr;q=0.5, en-GB, en;q=0.8")
    ['en-gb', 'en', 'fr']
    """
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        name, sep, value = params.strip().partition("=")
        if sep and name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def _pick_language(options: dict[str, str], wanted: list[str]) -> str:
    lowered = {k.lower(): k for k in options}
    for tag in wanted:
        if tag == "*":
            break
        if tag in lowered:
            return lowered[tag]
        for option in options:
            if option.lower().split("-")[0] == tag.split("-")[0]:
                return option
    for fallback in ("en-us", "en", "und"):
        if fallback in lowered:
            return lowered[fallback]
    return next(iter(options))


def canonical_format(statement: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    """A statement in the ``canonical`` format: every language map reduced to the one language the
    ``Accept-Language`` preferences pick (Part Three §2.1.3, ``format``)."""

    def walk(key: str, value: Any) -> Any:
        if isinstance(value, list):
            return [walk(key, v) for v in value]
        if not isinstance(value, dict):
            return value
        if key in _LANGUAGE_MAP_KEYS and value and all(isinstance(v, str) for v in value.values()):
            chosen = _pick_language(value, languages)
            return {chosen: value[chosen]}
        return {k: walk(k, v) for k, v in value.items()}

    return {k: walk(k, v) for k, v in statement.items()}
