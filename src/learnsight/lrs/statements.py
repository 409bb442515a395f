"""Storing and fetching statements (xAPI 1.0.3 Part Three §2.1, IEEE 9274.1.1 §5.4.1).

* The LRS completes every statement it accepts (Part Two §2.4): an ``id`` (a random UUID when
  the client sent none), ``stored`` (now), ``authority`` (the credential's Agent, Part Two §2.4.9:
  the LRS overwrites any authority sent) and ``version`` (``1.0.0`` or ``2.0.0`` when absent).
  The completed statement is what the store keeps in ``raw`` and what GET returns.
  A statement without ``timestamp`` gets its ``stored`` (Part Two §2.4.7), and single
  ``contextActivities`` values become arrays.
* Statements are immutable (Part Three §2.1.1, §2.1.2): an id already stored with different
  content is a 409 conflict; with the same content (``id``, ``stored``, ``authority`` and
  ``version`` aside) the statement is accepted again and nothing is written.
* A batch is written with one atomic :meth:`~learnsight.lrs.backend.LRSBackend.insert_statements`:
  all or nothing.  The backend marks the targets of voiding statements voided (Part Two §2.3.2).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from learnsight.errors import StatementValidationError
from learnsight.lrs.auth import Credential
from learnsight.lrs.backend import LRSBackend
from learnsight.xapi.columns import canonical_json, statement_columns
from learnsight.xapi.parse import parse_statement

KIND: Final = "lrs"
"""The ``kind`` of the LRS's batches in ``ingest_batches``."""

LRS_PROPERTIES: Final = ("id", "stored", "authority", "version")
"""Properties the LRS sets; ignored when comparing a re-sent statement with the stored one."""


class LRSError(Exception):
    """A request the LRS refuses; ``status`` is the HTTP status (400, 404, 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Prepared:
    """A validated, completed statement ready for the store."""

    id: str
    statement: dict[str, Any]
    row: dict[str, Any]
    timestamp_set: bool = False
    """True when the LRS set ``timestamp`` (the client sent none)."""


def now_stored() -> tuple[datetime, str]:
    """The current time as an aware UTC datetime and as the ``stored`` text (millisecond ``Z``)."""
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    return now, stored_text(now)


def stored_text(when: datetime) -> str:
    """``when`` (aware, UTC) in the LRS's ``stored`` format: milliseconds and ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _content(statement: dict[str, Any], *, timestamp_set: bool = False) -> str:
    ignored = (*LRS_PROPERTIES, "timestamp") if timestamp_set else LRS_PROPERTIES
    return canonical_json({k: v for k, v in statement.items() if k not in ignored})


def prepare(
    received: object,
    *,
    version: str,
    credential: Credential,
    stored: tuple[datetime, str],
    index: int | None = None,
    statement_id: str | None = None,
) -> Prepared:
    """Validate one received statement under ``version`` rules and complete it.

    ``statement_id`` is the ``statementId`` of a PUT: it becomes the id, and a different ``id`` in
    the body is refused.  Raises :class:`LRSError` (400) for an invalid statement.
    """
    if not isinstance(received, dict):
        raise LRSError(400, f"{_where(index)}a statement must be a JSON object")
    own = received.get("version")
    if version.startswith("2") and isinstance(own, str) and own.startswith("1.0"):
        version = "1.0.3"  # a 2.0 LRS accepts 1.0.x statements under their own rules (9274.1.1 §4.2.3)
    try:
        stmt = parse_statement(received, version=version, index=index)
    except StatementValidationError as exc:
        raise LRSError(400, str(exc)) from None
    completed = dict(received)
    own = completed.get("id")
    if statement_id is not None:
        if own is not None and str(own).lower() != statement_id:
            raise LRSError(400, f"statementId {statement_id} differs from the statement's id {own}")
        completed["id"] = statement_id
    elif own is None:
        completed["id"] = str(uuid.uuid4())
    completed["id"] = str(completed["id"]).lower()
    completed["stored"] = stored[1]
    completed.setdefault("timestamp", stored[1])
    _context_arrays(completed)
    if isinstance(completed.get("object"), dict):
        completed["object"] = dict(completed["object"])
        _context_arrays(completed["object"])
    completed["authority"] = credential.authority
    completed.setdefault("version", "2.0.0" if version.startswith("2") else "1.0.0")
    # Validated once, as received: what the LRS adds (id, stored, a timestamp equal to stored,
    # the credential's authority, version, arrays for contextActivities) is valid by construction
    # and gives the same columns, so the completed statement is not parsed again.
    if stmt.id is None:
        stmt = stmt.model_copy(update={"id": completed["id"]})
    row = statement_columns(stmt, stored=stored[0], source=completed)
    return Prepared(id=row["id"], statement=completed, row=row, timestamp_set="timestamp" not in received)


def _context_arrays(statement: dict[str, Any]) -> None:
    """Write every ``contextActivities`` value as an array (Part Two §2.4.6.2: the LRS returns
    arrays even when a single Activity was sent)."""
    context = statement.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("contextActivities"), dict):
        return
    activities = {
        key: value if isinstance(value, list) else [value]
        for key, value in context["contextActivities"].items()
    }
    statement["context"] = {**context, "contextActivities": activities}


def _where(index: int | None) -> str:
    return f"statement {index}: " if index is not None else ""


@dataclass(frozen=True)
class WriteRequest:
    """The statements of one PUT or POST, their ids unique (:func:`unique_statements`), and the
    ``source`` of their ingest batch (``lrs:<credential key>``)."""

    prepared: tuple[Prepared, ...]
    source: str


def unique_statements(prepared: Sequence[Prepared], *, version: str) -> list[Prepared]:
    """The statements of one request with each id once, in request order.

    Raises :class:`LRSError` 400 for two statements with one id (under 1.0.3 only when their
    content differs; IEEE 9274.1.1 §5.4.1.2 refuses any repeated id).
    """
    unique: dict[str, Prepared] = {}
    for item in prepared:
        seen = unique.get(item.id)
        if seen is None:
            unique[item.id] = item
        elif version.startswith("2"):
            raise LRSError(400, f"statement id {item.id} occurs twice in the request")
        elif _content(seen.statement, timestamp_set=seen.timestamp_set) != _content(
            item.statement, timestamp_set=seen.timestamp_set
        ):
            raise LRSError(400, f"statement id {item.id} occurs twice in the request with different content")
    return list(unique.values())


def store_groups(backend: LRSBackend, requests: Sequence[WriteRequest]) -> list[LRSError | None]:
    """Store several requests as if one after another, with one conflict lookup and, per source,
    one atomic insert; the outcome of each request (``None``: stored).

    A request whose statement is stored with different content, or was sent with different content
    by an earlier request of the group, gets a 409 and writes nothing.  Should a group's insert fail,
    its requests are written one by one, so that only the faulty one is refused.
    """
    stored = backend.stored_raw(list(dict.fromkeys(p.id for r in requests for p in r.prepared)))
    earlier: dict[str, Prepared] = {}
    outcomes: list[LRSError | None] = []
    accepted: list[tuple[WriteRequest, list[Prepared]]] = []
    for request in requests:
        try:
            new = _new_items(stored, earlier, request.prepared)
        except LRSError as exc:
            outcomes.append(exc)
            continue
        outcomes.append(None)
        accepted.append((request, new))
        earlier.update((p.id, p) for p in new)
    by_source: dict[str, list[tuple[int, list[Prepared]]]] = {}
    for position, (request, new) in enumerate(accepted):
        by_source.setdefault(request.source, []).append((position, new))
    indices = [i for i, outcome in enumerate(outcomes) if outcome is None]
    for source, members in by_source.items():
        rows = [p for _, new in members for p in new]
        try:
            backend.insert_statements(rows, source=source)
        except LRSError:
            if len(members) == 1:
                outcomes[indices[members[0][0]]] = _insert_alone(backend, members[0][1], source)
                continue
            for position, new in members:
                outcomes[indices[position]] = _insert_alone(backend, new, source)
    return outcomes


def _insert_alone(backend: LRSBackend, new: list[Prepared], source: str) -> LRSError | None:
    try:
        backend.insert_statements(new, source=source)
    except LRSError as exc:
        return exc
    return None


def store_statements(
    backend: LRSBackend, prepared: Sequence[Prepared], *, source: str, version: str = "1.0.3"
) -> list[str]:
    """Write one request's statements atomically after the conflict checks; returns the ids in
    request order.  Raises :class:`LRSError`: 400 for a repeated id (:func:`unique_statements`),
    409 for an id stored with different content.
    """
    request = WriteRequest(tuple(unique_statements(prepared, version=version)), source)
    outcome = store_groups(backend, [request])[0]
    if outcome is not None:
        raise outcome
    return [p.id for p in prepared]


def _new_items(
    stored: dict[str, str | None], earlier: dict[str, Prepared], items: Sequence[Prepared]
) -> list[Prepared]:
    """The items neither stored nor sent by an earlier request; raises 409 for one stored or sent
    earlier with different content."""
    new = []
    for item in items:
        ts = item.timestamp_set
        if item.id in earlier:
            same = _content(earlier[item.id].statement, timestamp_set=ts) == _content(
                item.statement, timestamp_set=ts
            )
        elif item.id in stored:
            raw = stored[item.id]
            same = raw is not None and _content(json.loads(raw), timestamp_set=ts) == _content(
                item.statement, timestamp_set=ts
            )
        else:
            new.append(item)
            continue
        if not same:
            raise LRSError(409, f"statement {item.id} is already stored with different content")
    return new


def fetch_one(backend: LRSBackend, statement_id: str, *, voided: bool) -> dict[str, Any] | None:
    """The stored statement ``statement_id`` (Part Three §2.1.3).

    With ``voided`` False (``statementId``) a voided statement is not found; with ``voided`` True
    (``voidedStatementId``) only a voided statement is found.
    """
    try:
        uuid.UUID(statement_id)
    except ValueError:
        raise LRSError(400, f"{statement_id!r} is not a UUID") from None
    found = backend.fetch_statement(statement_id)
    if found is None or found[1] != voided:
        return None
    result: dict[str, Any] = json.loads(found[0])
    return result


def definitions_of(statement: dict[str, Any], activity_id: str) -> list[dict[str, Any]]:
    """The ``definition`` objects ``statement`` gives Activity ``activity_id`` anywhere: as object,
    context activity, or inside a SubStatement (Part Three §2.5: the Activities resource)."""
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            if (
                value.get("id") == activity_id
                and value.get("objectType", "Activity") == "Activity"
                and isinstance(value.get("definition"), dict)
            ):
                found.append(value["definition"])
            for key, item in value.items():
                if key not in ("definition", "actor", "authority", "verb", "result"):
                    walk(item)

    walk({k: v for k, v in statement.items() if k in ("object", "context")})
    return found
