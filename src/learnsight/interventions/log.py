"""The intervention log (SPEC §4 "record every intervention as a statement"): plans ⇄ xAPI statements.

Every event of an intervention's life is one xAPI 1.0.3 statement, so the log lives in the same
store, with the same validation, idempotence and export as the traces:

* **planned** (:data:`PLANNED`): the whole
  :class:`~learnsight.interventions.types.PlannedIntervention` as context extensions (strategy,
  rule, timing, method, message, factors, evidence, as-of, attempt, previous, reason);
  ``context.instructor`` = the teacher or counsellor who planned it;
* **delivered** (:data:`DELIVERED`): ``timestamp`` = when it was delivered, ``context.instructor``
  = who delivered it, an optional note (context extension);
* **reviewed** (:data:`REVIEWED`): the verdict after the next assessment (``result.success``,
  ``result.response`` ``improved`` / ``not improved``, the measures as a result extension, the
  reason sentence), written by :mod:`~learnsight.interventions.review` — never for "no assessment
  yet";
* **escalated** (:data:`ESCALATED`): the plan that replaces it (result extension :data:`EXT_NEXT`)
  and why; the new plan is itself written as a *planned* statement with ``attempt + 1`` and
  ``previous``.

Shape of every statement (design choices, see the module's tests):

* actor = the **learner** (the store is learner-centred, so "everything about S0001" includes what
  was done for them); an actor key must be canonical (:mod:`learnsight.xapi.keys`), so it reads back
  unchanged;
* object = the intervention activity ``BASE/interventions/<plan id>`` (type :data:`INTERVENTION`,
  name = the strategy);
* ``context.contextActivities.grouping`` = the course, so the ``course`` column is filled;
* ``context.platform`` = :data:`~learnsight.xapi.vocab.SOURCE_INTERVENTION`: the log is never an
  event of an indicator, an activity or a model feature (``DERIVED_SOURCES``);
* ``context.registration`` = the id of the first plan of the chain (a plan and all its escalations
  share it), so plan ids must be UUIDs (as :func:`learnsight.interventions.strategies.plan_id` makes);
* statement ids are deterministic — (event, plan id) — so recording the same event twice adds
  nothing, and a plan is delivered, reviewed and escalated at most once.

Writing is strict and atomic: every statement is validated (:func:`~learnsight.xapi.parse.parse_statement`)
and one call writes one :class:`~learnsight.store.IngestBatch` (kind :data:`INGEST_KIND`), or nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast

import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.interventions.types import (
    CHANNELS,
    DEPTHS,
    MODES,
    STRATEGIES,
    TIMINGS,
    Channel,
    Depth,
    Method,
    Mode,
    PlannedIntervention,
    Strategy,
    Timing,
)
from learnsight.models.predict import agent_from_key
from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.xapi import vocab
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.vocab import (  # the log's vocabulary, re-exported
    DELIVERED,
    ESCALATED,
    EXT_ATTEMPT,
    EXT_EVIDENCE,
    EXT_FACTORS,
    EXT_MESSAGE,
    EXT_METHOD,
    EXT_NEXT,
    EXT_NOTE,
    EXT_OUTCOME_MEASURES,
    EXT_PREVIOUS,
    EXT_REASON,
    EXT_RULE,
    EXT_STRATEGY,
    EXT_TIMING,
    INTERVENTION,
    INTERVENTION_PREFIX,
    PLANNED,
    REVIEWED,
)

INGEST_KIND: Final = "interventions"
"""``ingest_batches.kind`` of the intervention log."""
XAPI_VERSION: Final = "1.0.3"
LANG: Final = "en-US"

Status = Literal["planned", "delivered", "reviewed", "escalated"]
STATUSES: Final[tuple[Status, ...]] = ("planned", "delivered", "reviewed", "escalated")
EVENTS: Final[dict[str, str]] = {
    PLANNED: "planned",
    DELIVERED: "delivered",
    REVIEWED: "reviewed",
    ESCALATED: "escalated",
}
"""Verb → the event it records."""

LOG_SCHEMA: Final = pa.schema(
    [
        ("id", pa.string()),
        ("registration", pa.string()),
        ("actor_key", pa.string()),
        ("course", pa.string()),
        ("strategy", pa.string()),
        ("rule", pa.string()),
        ("timing", pa.string()),
        ("mode", pa.string()),
        ("channel", pa.string()),
        ("depth", pa.string()),
        ("message", pa.string()),
        ("factors", pa.list_(pa.string())),
        ("evidence", pa.list_(pa.string())),
        ("as_of", pa.string()),
        ("attempt", pa.int32()),
        ("previous", pa.string()),
        ("reason", pa.string()),
        ("status", pa.string()),
        ("planned_at", pa.timestamp("us")),
        ("planned_by", pa.string()),
        ("delivered_at", pa.timestamp("us")),
        ("delivered_by", pa.string()),
        ("note", pa.string()),
        ("reviewed_at", pa.timestamp("us")),
        ("outcome", pa.string()),
        ("gain", pa.float64()),
        ("review_reason", pa.string()),
        ("measures", pa.string()),
        ("escalated_at", pa.timestamp("us")),
        ("next_id", pa.string()),
    ]
)
"""Columns of :func:`load_log`: the plan, its status and the time (UTC) of each event.

``outcome`` is ``improved`` / ``not improved`` once reviewed, ``gain`` the change of the student's
z-score, ``review_reason`` the review's sentence and ``measures`` its measurements (JSON);
``next_id`` the plan that replaced an escalated one."""


# -- small helpers ----------------------------------------------------------------------------------


def utc_naive(value: datetime) -> datetime:
    """``value`` in UTC without tzinfo (the store's convention); a naive value is taken as UTC."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def xapi_timestamp(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds, the form every learnsight statement uses.

    >>> xapi_timestamp(datetime(2024, 10, 4, 12, 30))
    '2024-10-04T12:30:00.000Z'
    """
    return utc_naive(value).isoformat(timespec="milliseconds") + "Z"


def intervention_iri(plan_id: str) -> str:
    """The object IRI of an intervention.

    >>> intervention_iri("0b0c4f6e-5f5d-5a8e-9d55-1c1f0e7b2a11")
    'https://learnsight.dev/xapi/interventions/0b0c4f6e-5f5d-5a8e-9d55-1c1f0e7b2a11'
    """
    return INTERVENTION_PREFIX + plan_id


def event_id(event: str, plan_id: str) -> str:
    """The deterministic statement id of one event (``planned``, ``delivered`` …) of a plan."""
    return str(deterministic_id(vocab.SOURCE_INTERVENTION, event, plan_id))


def _verb(iri: str) -> dict[str, Any]:
    return {"id": iri, "display": {LANG: vocab.VERB_DISPLAY[iri]}}


def _course_activity(course: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": course, "definition": {"type": vocab.COURSE}}


def _object(plan_id: str, strategy: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": intervention_iri(plan_id),
        "definition": {"type": INTERVENTION, "name": {LANG: strategy}},
    }


def _check_uuid(plan_id: str) -> str:
    try:
        return str(uuid.UUID(plan_id))
    except (ValueError, TypeError, AttributeError):
        raise LearnsightError(
            f"intervention {plan_id!r}: a plan id must be a UUID (see strategies.plan_id)"
        ) from None


def _check_actor(plan_id: str, actor_key: str) -> dict[str, Any]:
    from learnsight.xapi.parse import parse_statement

    agent = agent_from_key(actor_key)
    probe = {"actor": agent, "verb": {"id": PLANNED}, "object": {"id": intervention_iri(plan_id)}}
    key = parse_statement(probe).actor.key()
    if key != actor_key:
        raise LearnsightError(
            f"intervention {plan_id}: actor key {actor_key!r} is not canonical (the store keys it as {key!r})"
        )
    return agent


def check_plan(plan: PlannedIntervention) -> None:
    """Raise :class:`~learnsight.errors.LearnsightError` naming the plan and field of a bad plan."""
    where = f"intervention {plan.id}"
    _check_uuid(plan.id)
    for name, value, allowed in (
        ("strategy", plan.strategy, STRATEGIES),
        ("timing", plan.timing, TIMINGS),
        ("method.mode", plan.method.mode, MODES),
        ("method.channel", plan.method.channel, CHANNELS),
        ("method.depth", plan.method.depth, DEPTHS),
    ):
        if value not in allowed:
            raise LearnsightError(f"{where}: {name} {value!r} is not one of {', '.join(allowed)}")
    for name, text in (("actor_key", plan.actor_key), ("course", plan.course), ("rule", plan.rule)):
        if not text:
            raise LearnsightError(f"{where}: {name} is empty")
    if isinstance(plan.attempt, bool) or not isinstance(plan.attempt, int) or plan.attempt < 1:
        raise LearnsightError(f"{where}: attempt must be an integer >= 1, got {plan.attempt!r}")
    if (plan.attempt > 1) != (plan.previous is not None):
        raise LearnsightError(
            f"{where}: attempt {plan.attempt} with previous {plan.previous!r} "
            "(an escalation, attempt > 1, names the plan it replaces; a first plan names none)"
        )
    if plan.previous is not None:
        _check_uuid(plan.previous)


# -- statements -------------------------------------------------------------------------------------


def plan_statement(
    plan: PlannedIntervention,
    *,
    registration: str,
    timestamp: datetime,
    instructor: str | None = None,
) -> dict[str, Any]:
    """The *planned* statement of one plan (see the module docstring); ``registration`` = chain root."""
    check_plan(plan)
    extensions: dict[str, Any] = {
        EXT_STRATEGY: plan.strategy,
        EXT_RULE: plan.rule,
        EXT_TIMING: plan.timing,
        EXT_METHOD: {"mode": plan.method.mode, "channel": plan.method.channel, "depth": plan.method.depth},
        EXT_MESSAGE: plan.message,
        EXT_FACTORS: list(plan.factors),
        EXT_EVIDENCE: list(plan.evidence),
        vocab.EXT_AS_OF: plan.as_of,
        EXT_ATTEMPT: plan.attempt,
    }
    if plan.previous is not None:
        extensions[EXT_PREVIOUS] = plan.previous
    if plan.reason is not None:
        extensions[EXT_REASON] = plan.reason
    context: dict[str, Any] = {
        "registration": _check_uuid(registration),
        "platform": vocab.SOURCE_INTERVENTION,
        "contextActivities": {"grouping": [_course_activity(plan.course)]},
        "extensions": extensions,
    }
    if instructor is not None:
        context["instructor"] = agent_from_key(instructor)
    return {
        "id": event_id("planned", plan.id),
        "actor": _check_actor(plan.id, plan.actor_key),
        "verb": _verb(PLANNED),
        "object": _object(plan.id, plan.strategy),
        "context": context,
        "timestamp": xapi_timestamp(timestamp),
        "version": XAPI_VERSION,
    }


def plan_statements(
    plans: Iterable[PlannedIntervention],
    *,
    timestamp: datetime | None = None,
    instructor: str | None = None,
    registrations: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One *planned* statement per plan, at ``timestamp`` (default now), planned by ``instructor``.

    The registration of a first plan is its own id; an escalation (``previous`` set) takes the one
    of its previous plan, found among ``plans`` or in ``registrations`` (plan id → registration,
    e.g. from :func:`load_log`; :func:`record_plans` looks it up in the store).  Raises
    :class:`~learnsight.errors.LearnsightError` naming the plan for a bad plan or an unknown previous.
    """
    when = timestamp or datetime.now(UTC)
    chains: dict[str, str] = dict(registrations or {})
    pending = list(plans)
    out: list[dict[str, Any]] = []
    while pending:  # a batch may hold a plan and its escalation in any order
        rest = []
        for plan in pending:
            check_plan(plan)
            if plan.previous is None:
                chains[plan.id] = plan.id
            elif plan.previous in chains:
                chains[plan.id] = chains[plan.previous]
            else:
                rest.append(plan)
                continue
            out.append(
                plan_statement(plan, registration=chains[plan.id], timestamp=when, instructor=instructor)
            )
        if len(rest) == len(pending):
            p = rest[0]
            raise LearnsightError(
                f"intervention {p.id}: its previous plan {p.previous} is not in the log (record that first)"
            )
        pending = rest
    return out


def delivery_statements(
    store: Store,
    plans: Iterable[PlannedIntervention | str],
    *,
    delivered_at: datetime,
    by: str | None = None,
    note: str | None = None,
) -> list[dict[str, Any]]:
    """One *delivered* statement per plan (or plan id): delivered at ``delivered_at`` by ``by``.

    Every plan must be in the store's log.  Delivering a plan again at the same time gives the same
    statement (writing it adds nothing); at another time raises
    :class:`~learnsight.errors.LearnsightError` naming the plan — a plan is delivered once.
    """
    ids = list(dict.fromkeys(p if isinstance(p, str) else p.id for p in plans))
    log = {row["id"]: row for row in _log_rows(store, ids=ids)}
    when = utc_naive(delivered_at)
    out = []
    for plan_id in ids:
        row = log.get(plan_id)
        if row is None:
            raise LearnsightError(f"intervention {plan_id}: no such plan in the intervention log")
        before = row["delivered_at"]
        if before is not None and _ms(before) != _ms(when):
            raise LearnsightError(
                f"intervention {plan_id}: already delivered at {before.isoformat(sep=' ')}, "
                f"not again at {when.isoformat(sep=' ')}"
            )
        context: dict[str, Any] = {
            "registration": row["registration"],
            "platform": vocab.SOURCE_INTERVENTION,
            "contextActivities": {"grouping": [_course_activity(row["course"])]},
        }
        if by is not None:
            context["instructor"] = agent_from_key(by)
        if note is not None:
            context["extensions"] = {EXT_NOTE: note}
        out.append(
            {
                "id": event_id("delivered", plan_id),
                "actor": agent_from_key(row["actor_key"]),
                "verb": _verb(DELIVERED),
                "object": _object(plan_id, row["strategy"]),
                "context": context,
                "timestamp": xapi_timestamp(when),
                "version": XAPI_VERSION,
            }
        )
    return out


def _ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def review_statement(
    plan: PlannedIntervention,
    *,
    registration: str,
    improved: bool,
    reason: str,
    measures: Mapping[str, Any],
    timestamp: datetime,
) -> dict[str, Any]:
    """The *reviewed* statement: the verdict (``result.success``/``response``), measures and reason."""
    return {
        "id": event_id("reviewed", plan.id),
        "actor": agent_from_key(plan.actor_key),
        "verb": _verb(REVIEWED),
        "object": _object(plan.id, plan.strategy),
        "result": {
            "success": improved,
            "response": "improved" if improved else "not improved",
            "extensions": {EXT_OUTCOME_MEASURES: dict(measures)},
        },
        "context": {
            "registration": registration,
            "platform": vocab.SOURCE_INTERVENTION,
            "contextActivities": {"grouping": [_course_activity(plan.course)]},
            "extensions": {EXT_REASON: reason, EXT_ATTEMPT: plan.attempt},
        },
        "timestamp": xapi_timestamp(timestamp),
        "version": XAPI_VERSION,
    }


def escalation_statement(
    plan: PlannedIntervention, new: PlannedIntervention, *, registration: str, timestamp: datetime
) -> dict[str, Any]:
    """The *escalated* statement of ``plan``: replaced by ``new``, for ``new.reason``."""
    if new.previous != plan.id:
        raise LearnsightError(f"intervention {new.id}: previous is {new.previous!r}, not {plan.id}")
    return {
        "id": event_id("escalated", plan.id),
        "actor": agent_from_key(plan.actor_key),
        "verb": _verb(ESCALATED),
        "object": _object(plan.id, plan.strategy),
        "result": {"extensions": {EXT_NEXT: new.id}},
        "context": {
            "registration": registration,
            "platform": vocab.SOURCE_INTERVENTION,
            "contextActivities": {"grouping": [_course_activity(plan.course)]},
            "extensions": {EXT_REASON: new.reason or "", EXT_ATTEMPT: plan.attempt},
        },
        "timestamp": xapi_timestamp(timestamp),
        "version": XAPI_VERSION,
    }


# -- writing ----------------------------------------------------------------------------------------


def write_log(
    store: Store, statements: Sequence[Mapping[str, Any]], *, source: str | None = None
) -> IngestReport:
    """Validate ``statements`` strictly and store them in ONE atomic batch (kind ``interventions``).

    Statements already stored (same id: same event of the same plan) are skipped; the same statement
    twice in ``statements`` is written once; two different statements with one id, an invalid
    statement or one that is not an intervention statement raise (nothing is written).
    """
    from learnsight.xapi.columns import canonical_json, statement_columns, statements_table
    from learnsight.xapi.parse import parse_statement

    unique: dict[str, Mapping[str, Any]] = {}
    for i, s in enumerate(statements):
        sid = str(s.get("id", ""))
        platform = (s.get("context") or {}).get("platform")
        if platform != vocab.SOURCE_INTERVENTION:
            raise LearnsightError(
                f"statement {i} ({sid}): context.platform is {platform!r}, not {vocab.SOURCE_INTERVENTION!r}"
            )
        seen = unique.get(sid)
        if seen is not None and canonical_json(seen) != canonical_json(s):
            raise LearnsightError(f"statement {i}: two different statements with id {sid}")
        unique[sid] = s
    stored = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        statement_columns(parse_statement(dict(s), index=i), stored=stored, source=s)
        for i, s in enumerate(unique.values())
    ]
    counts: dict[str, int] = {}
    for s in unique.values():
        event = EVENTS.get(s["verb"]["id"], "other")
        counts[event] = counts.get(event, 0) + 1
    label = source or "interventions(" + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) + ")"
    batch = IngestBatch(
        kind=INGEST_KIND,
        source=label,
        rows_read=len(rows),
        statements=statements_table(rows),
        details={"events": counts},
    )
    return store.ingest(batch)


def record_plans(
    store: Store,
    plans: Iterable[PlannedIntervention],
    *,
    timestamp: datetime | None = None,
    instructor: str | None = None,
) -> IngestReport:
    """Write the *planned* statements of ``plans`` (escalations chained to the log) in one batch.

    A plan already in the log with the same content adds nothing; one with the same id but other
    content raises :class:`~learnsight.errors.LearnsightError` naming the id and the field.
    """
    plans = list(plans)
    known = {p.id: p for p in load_plans(store, ids=[p.id for p in plans])}
    for plan in plans:
        old = known.get(plan.id)
        if old is not None and old != plan:
            field = next(k for k, v in plan.to_dict().items() if old.to_dict()[k] != v)
            raise LearnsightError(f"intervention {plan.id}: already planned with another {field}")
    previous = [p.previous for p in plans if p.previous is not None]
    registrations = {r["id"]: r["registration"] for r in _log_rows(store, ids=previous)}
    return write_log(
        store,
        plan_statements(plans, timestamp=timestamp, instructor=instructor, registrations=registrations),
    )


def record_delivery(
    store: Store,
    plans: Iterable[PlannedIntervention | str],
    *,
    delivered_at: datetime,
    by: str | None = None,
    note: str | None = None,
) -> IngestReport:
    """Write the *delivered* statements of ``plans`` in one batch (:func:`delivery_statements`)."""
    return write_log(store, delivery_statements(store, plans, delivered_at=delivered_at, by=by, note=note))


# -- reading ----------------------------------------------------------------------------------------


@dataclass
class _Entry:
    row: dict[str, Any]
    plan: PlannedIntervention | None


_LOG_SQL: Final = """
SELECT verb_id, object_id, actor_key, course, CAST(registration AS VARCHAR) AS registration, ts, raw
FROM statements
WHERE source = $source AND NOT voided AND object_id LIKE $prefix || '%' {where}
ORDER BY ts, verb_id, object_id
"""


def _log_rows(
    store: Store,
    *,
    actor_key: str | None = None,
    course: str | None = None,
    ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One dict per planned intervention (in :data:`LOG_SCHEMA` columns) plus its ``plan``."""
    return [e.row | {"plan": e.plan} for e in _entries(store, actor_key=actor_key, course=course, ids=ids)]


def _entries(
    store: Store,
    *,
    actor_key: str | None = None,
    course: str | None = None,
    ids: Sequence[str] | None = None,
) -> list[_Entry]:
    con = getattr(store, "con", None)
    if con is None:
        raise LearnsightError(f"{type(store).__name__}: the intervention log needs a SQL store (DuckDB)")
    params: dict[str, Any] = {"source": vocab.SOURCE_INTERVENTION, "prefix": INTERVENTION_PREFIX}
    where = ""
    if actor_key is not None:
        where += " AND actor_key = $actor"
        params["actor"] = actor_key
    if course is not None:
        where += " AND course = $course"
        params["course"] = course
    if ids is not None:
        if not ids:
            return []
        where += " AND object_id IN (SELECT unnest($objects))"
        params["objects"] = [intervention_iri(i) for i in ids]
    rows = con.execute(_LOG_SQL.format(where=where), params).fetchall()
    entries: dict[str, _Entry] = {}
    events: list[tuple[str, str, datetime, dict[str, Any]]] = []
    for verb_id, object_id, actor, crs, registration, ts, raw in rows:
        plan_id = object_id[len(INTERVENTION_PREFIX) :]
        statement = json.loads(raw)
        if verb_id == PLANNED:
            plan = _plan_from_statement(statement, actor, crs)
            entries[plan_id] = _Entry(
                row={
                    **_plan_columns(plan),
                    "registration": registration,
                    "status": "planned",
                    "planned_at": ts,
                    "planned_by": _agent_key(statement.get("context", {}).get("instructor")),
                },
                plan=plan,
            )
        else:
            events.append((verb_id, plan_id, ts, statement))
    for verb_id, plan_id, ts, statement in events:
        entry = entries.get(plan_id)
        if entry is None:  # an event of a plan that is not (or no longer) in the log
            continue
        row = entry.row
        context = statement.get("context", {})
        ext = context.get("extensions") or {}
        result = statement.get("result") or {}
        if verb_id == DELIVERED:
            row.update(
                delivered_at=ts,
                delivered_by=_agent_key(context.get("instructor")),
                note=ext.get(EXT_NOTE),
            )
        elif verb_id == REVIEWED:
            measures = (result.get("extensions") or {}).get(EXT_OUTCOME_MEASURES) or {}
            row.update(
                reviewed_at=ts,
                outcome=result.get("response"),
                gain=measures.get("gain"),
                review_reason=ext.get(EXT_REASON),
                measures=json.dumps(measures, sort_keys=True),
            )
        elif verb_id == ESCALATED:
            row.update(escalated_at=ts, next_id=(result.get("extensions") or {}).get(EXT_NEXT))
    for entry in entries.values():
        row = entry.row
        for column in LOG_SCHEMA.names:
            row.setdefault(column, None)
        row["status"] = (
            "escalated"
            if row["escalated_at"] is not None
            else "reviewed"
            if row["reviewed_at"] is not None
            else "delivered"
            if row["delivered_at"] is not None
            else "planned"
        )
    return list(entries.values())


def _agent_key(agent: Mapping[str, Any] | None) -> str | None:
    if not agent:
        return None
    from learnsight.xapi.parse import parse_statement

    probe = {"actor": dict(agent), "verb": {"id": PLANNED}, "object": {"id": INTERVENTION_PREFIX}}
    return parse_statement(probe).actor.key()


def _plan_columns(plan: PlannedIntervention) -> dict[str, Any]:
    return {
        "id": plan.id,
        "actor_key": plan.actor_key,
        "course": plan.course,
        "strategy": plan.strategy,
        "rule": plan.rule,
        "timing": plan.timing,
        "mode": plan.method.mode,
        "channel": plan.method.channel,
        "depth": plan.method.depth,
        "message": plan.message,
        "factors": list(plan.factors),
        "evidence": list(plan.evidence),
        "as_of": plan.as_of,
        "attempt": plan.attempt,
        "previous": plan.previous,
        "reason": plan.reason,
    }


def _plan_from_statement(
    statement: Mapping[str, Any], actor_key: str, course: str | None
) -> PlannedIntervention:
    plan_id = str(statement["object"]["id"])[len(INTERVENTION_PREFIX) :]
    ext: Mapping[str, Any] = statement.get("context", {}).get("extensions") or {}

    def get(iri: str, kind: type, name: str, allowed: Sequence[str] | None = None) -> Any:
        value = ext.get(iri)
        if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
            raise LearnsightError(f"intervention {plan_id}: planned statement lacks a valid {name} ({iri})")
        if allowed is not None and value not in allowed:
            raise LearnsightError(
                f"intervention {plan_id}: {name} {value!r} is not one of {', '.join(allowed)}"
            )
        return value

    method = get(EXT_METHOD, dict, "method")
    if course is None:
        raise LearnsightError(f"intervention {plan_id}: planned statement has no course")
    previous = ext.get(EXT_PREVIOUS)
    reason = ext.get(EXT_REASON)
    return PlannedIntervention(
        id=plan_id,
        actor_key=actor_key,
        course=course,
        strategy=cast(Strategy, get(EXT_STRATEGY, str, "strategy", STRATEGIES)),
        rule=get(EXT_RULE, str, "rule"),
        timing=cast(Timing, get(EXT_TIMING, str, "timing", TIMINGS)),
        method=Method(
            mode=cast(Mode, _member(plan_id, "method.mode", method.get("mode"), MODES)),
            channel=cast(Channel, _member(plan_id, "method.channel", method.get("channel"), CHANNELS)),
            depth=cast(Depth, _member(plan_id, "method.depth", method.get("depth"), DEPTHS)),
        ),
        message=get(EXT_MESSAGE, str, "message"),
        factors=tuple(str(f) for f in get(EXT_FACTORS, list, "factors")),
        as_of=get(vocab.EXT_AS_OF, str, "as-of"),
        attempt=get(EXT_ATTEMPT, int, "attempt"),
        previous=str(previous) if previous is not None else None,
        reason=str(reason) if reason is not None else None,
        evidence=tuple(str(e) for e in get(EXT_EVIDENCE, list, "evidence")),
    )


def _member(plan_id: str, name: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise LearnsightError(f"intervention {plan_id}: {name} {value!r} is not one of {', '.join(allowed)}")
    return value


def load_log(store: Store, *, actor_key: str | None = None, course: str | None = None) -> pa.Table:
    """The intervention log: one row per planned intervention (:data:`LOG_SCHEMA`), in planning order.

    ``status`` is the furthest event recorded: ``planned`` → ``delivered`` → ``reviewed`` →
    ``escalated`` (reviewed, not improved, and replaced by ``next_id``).  Voided statements are left
    out; events of a plan that is not in the log are ignored.
    """
    rows = [e.row for e in _entries(store, actor_key=actor_key, course=course)]
    return pa.Table.from_pylist(rows, schema=LOG_SCHEMA)


def load_plans(store: Store, *, ids: Sequence[str] | None = None) -> list[PlannedIntervention]:
    """Every plan in the log (or those of ``ids``), in planning order: exactly what was planned."""
    return [e.plan for e in _entries(store, ids=ids) if e.plan is not None]


__all__ = [
    "DELIVERED",
    "ESCALATED",
    "EVENTS",
    "EXT_ATTEMPT",
    "EXT_EVIDENCE",
    "EXT_FACTORS",
    "EXT_MESSAGE",
    "EXT_METHOD",
    "EXT_NEXT",
    "EXT_NOTE",
    "EXT_OUTCOME_MEASURES",
    "EXT_PREVIOUS",
    "EXT_REASON",
    "EXT_RULE",
    "EXT_STRATEGY",
    "EXT_TIMING",
    "INGEST_KIND",
    "INTERVENTION",
    "INTERVENTION_PREFIX",
    "LOG_SCHEMA",
    "PLANNED",
    "REVIEWED",
    "STATUSES",
    "Status",
    "check_plan",
    "delivery_statements",
    "escalation_statement",
    "event_id",
    "intervention_iri",
    "load_log",
    "load_plans",
    "plan_statement",
    "plan_statements",
    "record_delivery",
    "record_plans",
    "review_statement",
    "utc_naive",
    "write_log",
    "xapi_timestamp",
]
