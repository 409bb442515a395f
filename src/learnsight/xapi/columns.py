"""A validated statement as a row of the store's ``statements`` table.

:func:`statement_columns` maps one :class:`~learnsight.xapi.statement.Statement` to the columns of
:data:`learnsight.store.schema.STATEMENT_COLUMNS`; :func:`statements_table` stacks such rows into
the Arrow table an :class:`~learnsight.store.IngestBatch` carries.  The choices:

``id``
    The statement's id (lower case); a statement without one gets the UUIDv5
    ``deterministic_id("xapi", canonical JSON of the statement)``, so importing the same file twice
    adds nothing (and two identical id-less statements are one statement).
``raw``
    The canonical JSON (:func:`canonical_json`: sorted keys, no insignificant white space) of the
    statement *as received*, with the generated ``id`` added when it had none.
``actor_key`` / ``object_id``
    Canonical keys of :mod:`learnsight.xapi.keys`; an Agent or Group object is identified by its
    key, a StatementRef by the target id, a SubStatement by
    ``deterministic_id("xapi-substatement", canonical JSON of the SubStatement)``.
``ts``
    ``timestamp`` in UTC (naive); without a timestamp the statement's own ``stored``, else the
    ``stored`` argument (the time the store accepts it), as xAPI sets a missing timestamp to stored.
``source``
    ``context.platform`` (the acquisition device, SPEC §1), ``"lms"`` when absent.
``course``
    The id of the first ``contextActivities.grouping`` activity, then the first ``parent``
    activity, whose ``definition.type`` is ``http://adlnet.gov/expapi/activities/course``; else
    ``None``.
``duration_s``
    ``result.duration`` in seconds (years as 365 days, months as 30 days).
``quantity``
    The first numeric result extension among :data:`~learnsight.xapi.vocab.EXT_CLICKS`,
    :data:`~learnsight.xapi.vocab.EXT_AMOUNT` and :data:`~learnsight.xapi.vocab.EXT_BYTES`;
    otherwise ``None``.
``extensions``
    ``{"context": …, "result": …}``: the statement's context and result extensions in the layout
    the tabular importers use (:func:`extensions_json`), so indicators read every source's
    extensions from one column; ``None`` when it has none.  ``raw`` keeps the whole statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import pyarrow as pa

from learnsight.store.schema import STATEMENT_COLUMNS
from learnsight.xapi.activity import Activity
from learnsight.xapi.agent import Agent, Group
from learnsight.xapi.context import Context
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.statement import Statement, SubStatement
from learnsight.xapi.statement_ref import StatementRef
from learnsight.xapi.vocab import COURSE, EXT_AMOUNT, EXT_BYTES, EXT_CLICKS, SOURCE_LMS

QUANTITY_EXTENSIONS: Final = (EXT_CLICKS, EXT_AMOUNT, EXT_BYTES)
"""Result extensions that become the ``quantity`` column, in order of preference."""

_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: object) -> str:
    """Deterministic JSON text: sorted keys, no white space, UTF-8 characters kept.

    >>> canonical_json({"b": 1, "a": [True, None, "é"]})
    '{"a":[true,null,"é"],"b":1}'
    """
    return _encoder.encode(value)


def statement_id(stmt: Statement, source: Mapping[str, Any] | None = None) -> str:
    """The statement's id, or the deterministic id of its content (see module docstring)."""
    if stmt.id is not None:
        return stmt.id.lower()
    content = source if source is not None else stmt.to_dict()
    return str(deterministic_id("xapi", canonical_json(content)))


def with_deterministic_id(received: Mapping[str, Any]) -> tuple[str, str]:
    """The id and ``raw`` text of a statement received without id (see the module docstring).

    Each top-level value is encoded once and both canonical texts (without and with the id) are
    joined from the same parts.

    >>> sid, raw = with_deterministic_id({"actor": {"mbox": "mailto:a@b.org"}, "verb": {"id": "x:v"}})
    >>> sid == str(deterministic_id("xapi", canonical_json({"actor": {"mbox": "mailto:a@b.org"},
    ...                                                         "verb": {"id": "x:v"}})))
    True
    >>> raw == canonical_json({"actor": {"mbox": "mailto:a@b.org"}, "verb": {"id": "x:v"}, "id": sid})
    True
    """
    encode = _encoder.encode
    parts = sorted((key, f"{encode(key)}:{encode(value)}") for key, value in received.items())
    sid = str(deterministic_id("xapi", "{" + ",".join(part for _, part in parts) + "}"))
    parts.append(("id", f'"id":{encode(sid)}'))
    parts.sort()
    return sid, "{" + ",".join(part for _, part in parts) + "}"


def _utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def course_of(context: Context) -> str | None:
    """The ``course`` column of a statement's context (see the module docstring)."""
    activities = context.context_activities
    if activities is None:
        return None
    for value in (activities.grouping, activities.parent):
        if value is None:
            continue
        for activity in (value,) if isinstance(value, Activity) else value:
            definition = activity.definition
            if definition is not None and definition.type == COURSE:
                return activity.id
    return None


def quantity_of(extensions: Mapping[str, Any] | None) -> float | None:
    """The ``quantity`` column of a result's extensions (see the module docstring)."""
    if not extensions:
        return None
    for iri in QUANTITY_EXTENSIONS:
        value = extensions.get(iri)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def statement_columns(
    stmt: Statement, *, stored: datetime, source: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``statements`` row of a validated statement.

    Parameters
    ----------
    stmt
        The validated statement.
    stored
        When the store accepts the statement (UTC; naive values are taken as UTC).
    source
        The statement's JSON object as received; ``raw`` and the deterministic id are computed
        from it so that they reflect the source exactly (``1`` stays ``1``, not ``1.0``).  Without
        it, the model's own JSON is used.

    Returns
    -------
    dict
        One value per column of :data:`~learnsight.store.schema.STATEMENT_COLUMNS`.
    """
    received: Mapping[str, Any] = source if source is not None else stmt.to_dict()
    if stmt.id is not None:
        sid, raw = stmt.id.lower(), canonical_json(received)
    else:
        sid, raw = with_deterministic_id(received)
    obj = stmt.object
    activity_type = None
    if isinstance(obj, Activity):
        object_id, object_type, activity_type = obj.id, "Activity", obj.activity_type
    elif isinstance(obj, Agent | Group):
        object_id, object_type = obj.key(), obj.object_type or "Agent"
    elif isinstance(obj, StatementRef):
        object_id, object_type = obj.id.lower(), "StatementRef"
    else:
        assert isinstance(obj, SubStatement)
        sub = received.get("object") if source is not None else None
        content = sub if sub is not None else obj.to_dict()
        object_id = str(deterministic_id("xapi-substatement", canonical_json(content)))
        object_type = "SubStatement"
    when = stmt.timestamp_utc or stmt.stored_utc or stored
    result = stmt.result
    score = result.score if result is not None else None
    context = stmt.context
    registration = context.registration if context is not None else None
    platform = context.platform if context is not None else None
    return {
        "id": sid,
        "actor_key": stmt.actor.key(),
        "actor_name": stmt.actor.name,
        "verb_id": stmt.verb.id,
        "object_id": object_id,
        "object_type": object_type,
        "activity_type": activity_type,
        "ts": _utc_naive(when),
        "stored": _utc_naive(stored),
        "source": platform if platform is not None else SOURCE_LMS,
        "course": course_of(context) if context is not None else None,
        "registration": registration.lower() if registration is not None else None,
        "score_scaled": score.scaled if score is not None else None,
        "score_raw": score.raw if score is not None else None,
        "score_min": score.min if score is not None else None,
        "score_max": score.max if score is not None else None,
        "success": result.success if result is not None else None,
        "completion": result.completion if result is not None else None,
        "response": result.response if result is not None else None,
        "duration_s": result.duration_s if result is not None else None,
        "quantity": quantity_of(result.extensions) if result is not None else None,
        "extensions": extensions_json(
            result.extensions if result is not None else None,
            context.extensions if context is not None else None,
        ),
        "raw": raw,
        "voided": False,
    }


def extensions_json(result: Mapping[str, Any] | None, context: Mapping[str, Any] | None) -> str | None:
    """The ``extensions`` column of a statement: its non-empty context and result extensions.

    >>> extensions_json({"https://x.org/late": True}, None)
    '{"result":{"https://x.org/late":true}}'
    >>> extensions_json(None, {}) is None
    True
    """
    parts = {name: value for name, value in (("context", context), ("result", result)) if value}
    return _encoder.encode(parts) if parts else None


def statements_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Stack rows of :func:`statement_columns` into an Arrow table of the store's schema."""
    return pa.table(
        {name: pa.array([row[name] for row in rows], type=dtype) for name, dtype in STATEMENT_COLUMNS.items()}
    )
