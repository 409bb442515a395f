"""Document rules of the LRS (xAPI 1.0.3 Part Three §2.2-2.7 and §3.1; IEEE 9274.1.1 §5.3, §5.4.2-5.4.6).

Pure functions the document routes use: the ETag of a document (SHA-1 hex of its bytes, quoted in
headers), the ``If-Match`` / ``If-None-Match`` preconditions (412 when they fail; 409 for a PUT of
an existing profile document with neither header), the JSON merge of a POST (only JSON objects
merge, one level deep: posted top-level properties replace stored ones), the parameters of each
resource, and the Activity and Person objects of the Activities and Agents resources.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from learnsight.lrs.attachments import media_type
from learnsight.lrs.backend import Document, DocumentKind, DocumentScope
from learnsight.lrs.query import parse_agent
from learnsight.lrs.statements import LRSError
from learnsight.xapi.datatypes import TimestampError, parse_timestamp

JSON_TYPE: Final = "application/json"
DEFAULT_TYPE: Final = "application/octet-stream"

ID_PARAMETER: Final[dict[DocumentKind, str]] = {
    "state": "stateId",
    "activity_profile": "profileId",
    "agent_profile": "profileId",
}
SCOPE_PARAMETERS: Final[dict[DocumentKind, tuple[str, ...]]] = {
    "state": ("activityId", "agent", "registration"),
    "activity_profile": ("activityId",),
    "agent_profile": ("agent",),
}
REQUIRED: Final[dict[DocumentKind, tuple[str, ...]]] = {
    "state": ("activityId", "agent"),
    "activity_profile": ("activityId",),
    "agent_profile": ("agent",),
}


def etag(content: bytes) -> str:
    """The ETag of a document: the SHA-1 hex of its bytes (Part Three §3.1).

    >>> etag(b"{}")
    'bf21a9e8fbc5a3846fb05b4fa0859e0917b2202f'
    """
    return hashlib.sha1(content).hexdigest()


def new_document(content: bytes, content_type: str | None) -> Document:
    """A document as stored now: its bytes, media type, ETag and time."""
    return Document(content, content_type or DEFAULT_TYPE, etag(content), datetime.now(UTC))


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def has_precondition(headers: Mapping[str, str]) -> bool:
    """True when the request sends ``If-Match`` or ``If-None-Match``."""
    return headers.get("if-match") is not None or headers.get("if-none-match") is not None


def check_preconditions(
    headers: Mapping[str, str], current: Document | None, *, put_needs_header: bool = False
) -> None:
    """Raise 412 when ``If-Match`` / ``If-None-Match`` fail against ``current`` (RFC 9110 §13.1),
    and 409 when ``put_needs_header`` and a document exists but neither header was sent."""
    if_match = headers.get("if-match")
    if_none = headers.get("if-none-match")
    if if_match is not None:
        tags = _tags(if_match)
        if current is None or ("*" not in tags and current.etag not in tags):
            raise LRSError(412, "If-Match: the document's ETag does not match")
    if if_none is not None:
        tags = _tags(if_none)
        if current is not None and ("*" in tags or current.etag in tags):
            raise LRSError(412, "If-None-Match: the document exists with a matching ETag")
    if put_needs_header and current is not None and not has_precondition(headers):
        raise LRSError(409, "the document exists: send If-Match or If-None-Match to overwrite it")


def _json_object(content: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise LRSError(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise LRSError(400, f"{what} is not a JSON object")
    return value


def merged(current: Document | None, content: bytes, content_type: str | None) -> Document:
    """The document a POST leaves (Part Three §2.2, Document Merging): the posted one when none is
    stored; else, when both are JSON objects, the stored one with the posted top-level properties
    replacing its own.  400 when the posted or stored document is not a JSON object."""
    posted_json = media_type(content_type) == JSON_TYPE
    if posted_json:
        posted = _json_object(content, "the posted document")
    if current is None:
        return new_document(content, content_type)
    if not posted_json or media_type(current.content_type) != JSON_TYPE:
        raise LRSError(400, "a POST merges JSON objects only: both documents must be application/json")
    stored = _json_object(current.content, "the stored document")
    body = json.dumps({**stored, **posted}, separators=(",", ":"), ensure_ascii=False).encode()
    return new_document(body, JSON_TYPE)


def parse_since(text: str) -> datetime:
    """The ``since`` parameter as an aware UTC datetime; 400 when it is not a timestamp."""
    try:
        return parse_timestamp(text, require_offset=False).astimezone(UTC)
    except (TimestampError, ValueError):
        raise LRSError(400, f"since: {text!r} is not an ISO 8601 timestamp") from None


def scope_of(kind: DocumentKind, params: Mapping[str, str], *, allowed: Iterable[str]) -> DocumentScope:
    """The :class:`DocumentScope` of a request's parameters; 400 for a missing, unknown or invalid
    parameter (``allowed`` are the other parameters the method accepts)."""
    known = {*SCOPE_PARAMETERS[kind], *allowed}
    unknown = sorted(set(params) - known)
    if unknown:
        raise LRSError(400, f"unknown parameter(s): {', '.join(unknown)}")
    missing = [p for p in REQUIRED[kind] if p not in params]
    if missing:
        raise LRSError(400, f"the {missing[0]} parameter is required")
    registration = params.get("registration")
    if registration is not None:
        try:
            registration = str(uuid.UUID(registration))
        except ValueError:
            raise LRSError(400, f"registration: {registration!r} is not a UUID") from None
    activity = params.get("activityId")
    if activity is not None and not activity.strip():
        raise LRSError(400, "activityId: empty")
    return DocumentScope(
        kind=kind,
        activity_id=activity,
        agent=parse_agent(params["agent"]) if "agent" in params else None,
        registration=registration,
    )


def activity_object(activity_id: str, definitions: list[dict[str, Any]]) -> dict[str, Any]:
    """The Activity object of the Activities resource (Part Three §2.5): the definitions statements
    gave it merged oldest to newest — later values win, language maps and extensions merge."""
    definition: dict[str, Any] = {}
    for each in definitions:
        for key, value in each.items():
            if isinstance(value, dict) and isinstance(definition.get(key), dict):
                definition[key] = {**definition[key], **value}
            else:
                definition[key] = value
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return activity


def person_object(agent_json: str, names: list[str]) -> dict[str, Any]:
    """The Person object of the Agents resource (Part Three §2.4): the agent's identifier and every
    name statements gave it, each as an array."""
    agent = json.loads(agent_json)
    person: dict[str, Any] = {"objectType": "Person"}
    if names or agent.get("name"):
        person["name"] = sorted({*names, *([agent["name"]] if agent.get("name") else [])})
    for ifi in ("mbox", "mbox_sha1sum", "openid", "account"):
        if ifi in agent:
            person[ifi] = [agent[ifi]]
    return person
