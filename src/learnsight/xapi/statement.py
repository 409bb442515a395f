"""Statements and SubStatements (xAPI 1.0.3 Part Two §2.4, IEEE 9274.1.1 §4.2).

Field-level rules live on the part models; the rules that need the whole statement are checked
here, once per statement, after every property validated:

* **version rules** — a statement is validated under xAPI 1.0.3 or 2.0.0 rules.  The caller may
  name them (``context={"version": "2.0.0"}``, as :func:`learnsight.xapi.parse_statement` does);
  otherwise the statement's own ``version`` decides, and a statement without ``version`` follows
  1.0.3 (the 1.0.3 spec: a statement lacking a version is version 1.0.0).  A statement whose
  ``version`` belongs to the other family than the requested rules is refused.
* **timestamps** — ``timestamp`` and ``stored`` (and a SubStatement's ``timestamp``) must be real
  dates and times and never use the ``-00:00`` offset (ADL suite, 1.0.3 and 2.0).  Under 2.0 rules
  they must be RFC 3339 date-times with an offset: IEEE 9274.1.1 formats timestamps per RFC 3339,
  whose grammar makes the offset mandatory.  (The ADL 2.0 suite itself only tests the ``-00``
  forms and accepts ``+00:00``; it has no case for a missing offset.)  Under 1.0.3 rules, where the
  spec says a timestamp SHOULD include a time zone, a missing offset is read as UTC.
* ``contextAgents`` / ``contextGroups`` exist only in 2.0.
* ``context.revision`` and ``context.platform`` only when the object is an Activity.
* a voiding statement (verb ``http://adlnet.gov/expapi/verbs/voided``) has a StatementRef object.
* a SubStatement has no ``id``, ``stored``, ``version`` or ``authority`` and no SubStatement
  object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal, Self

from pydantic import AfterValidator, Field, Tag, ValidationInfo, model_validator

from learnsight.xapi.activity import Activity
from learnsight.xapi.agent import Actor, AgentObject, Group, check_authority
from learnsight.xapi.attachment import Attachment
from learnsight.xapi.base import XAPIModel
from learnsight.xapi.context import Context
from learnsight.xapi.datatypes import (
    UUID,
    Opt,
    Timestamp,
    TimestampError,
    Version,
    parse_timestamp,
)
from learnsight.xapi.paths import violations
from learnsight.xapi.result import Result
from learnsight.xapi.statement_ref import StatementRef
from learnsight.xapi.unions import (
    OBJECT_ACTIVITY,
    OBJECT_AGENT,
    OBJECT_GROUP,
    OBJECT_STATEMENT_REF,
    OBJECT_SUBSTATEMENT,
)
from learnsight.xapi.verb import Verb
from learnsight.xapi.vocab import VOIDED

SUPPORTED_VERSIONS: Final[tuple[str, ...]] = ("1.0.3", "2.0.0")
"""Rule sets this module implements."""

DEFAULT_VERSION: Final = "1.0.3"
"""Rules for a statement that has no ``version`` and whose caller names none."""

Problems = list[tuple[tuple[str | int, ...], str, str, object]]
"""Rule violations collected on a statement: ``(loc, kind, message, value)``."""


def rules_for(version: str) -> str:
    """The rule set (``1.0.3`` or ``2.0.0``) for a version a caller names (``1.0``, ``2.0.0`` ...).

    >>> rules_for("1.0.1"), rules_for("2.0")
    ('1.0.3', '2.0.0')
    """
    parts = version.split(".")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts) and parts[1] == "0":
        if parts[0] == "1":
            return "1.0.3"
        if parts[0] == "2":
            return "2.0.0"
    raise ValueError(f"unsupported xAPI version {version!r}; use one of {SUPPORTED_VERSIONS}")


SubStatementObject = Annotated[
    Annotated[Activity, Tag(OBJECT_ACTIVITY)]
    | Annotated[AgentObject, Tag(OBJECT_AGENT)]
    | Annotated[Group, Tag(OBJECT_GROUP)]
    | Annotated[StatementRef, Tag(OBJECT_STATEMENT_REF)],
    Field(union_mode="left_to_right"),
]
"""What a SubStatement may have as object: anything but another SubStatement."""

Authority = Annotated[Actor, AfterValidator(check_authority)]


class SubStatement(XAPIModel):
    """A statement inside a statement's object: a plan, a prediction, a deadline."""

    object_type: Literal["SubStatement"] = Field(alias="objectType")
    actor: Actor
    verb: Verb
    object: SubStatementObject
    result: Opt[Result] = None
    context: Opt[Context] = None
    timestamp: Opt[Timestamp] = None
    attachments: Opt[list[Attachment]] = None


StatementObject = Annotated[
    Annotated[Activity, Tag(OBJECT_ACTIVITY)]
    | Annotated[AgentObject, Tag(OBJECT_AGENT)]
    | Annotated[Group, Tag(OBJECT_GROUP)]
    | Annotated[StatementRef, Tag(OBJECT_STATEMENT_REF)]
    | Annotated[SubStatement, Tag(OBJECT_SUBSTATEMENT)],
    Field(union_mode="left_to_right"),
]
"""A statement's object: Activity, Agent, Group, StatementRef or SubStatement."""


def _context_rules(
    context: Context | None,
    obj: object,
    family: str,
    prefix: tuple[str | int, ...],
    problems: Problems,
) -> None:
    if context is None:
        return
    where = (*prefix, "context")
    if family == "1.0":
        if context.context_agents is not None:
            problems.append(
                (
                    (*where, "contextAgents"),
                    "version",
                    "contextAgents is an xAPI 2.0 property; not allowed in a 1.0.x statement",
                    None,
                )
            )
        if context.context_groups is not None:
            problems.append(
                (
                    (*where, "contextGroups"),
                    "version",
                    "contextGroups is an xAPI 2.0 property; not allowed in a 1.0.x statement",
                    None,
                )
            )
    if not isinstance(obj, Activity):
        for prop in ("revision", "platform"):
            if getattr(context, prop) is not None:
                problems.append(
                    (
                        (*where, prop),
                        "context",
                        f"context.{prop} is only allowed when the object is an Activity",
                        None,
                    )
                )


def _timestamp(
    value: str | None, loc: tuple[str | int, ...], family: str, problems: Problems
) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value, require_offset=family == "2.0")
    except TimestampError as exc:
        problems.append((loc, "timestamp", str(exc), value))
        return None


class Statement(XAPIModel):
    """An xAPI statement, validated strictly (see the module docstring for the rules).

    ``timestamp`` and ``stored`` keep the text received (sub-microsecond digits included);
    :attr:`timestamp_utc` and :attr:`stored_utc` give them as aware UTC datetimes.
    """

    id: Opt[UUID] = None
    actor: Actor
    verb: Verb
    object: StatementObject
    result: Opt[Result] = None
    context: Opt[Context] = None
    timestamp: Opt[Timestamp] = None
    stored: Opt[Timestamp] = None
    authority: Opt[Authority] = None
    version: Opt[Version] = None
    attachments: Opt[list[Attachment]] = None

    @model_validator(mode="after")
    def _statement_rules(self, info: ValidationInfo) -> Self:
        requested = info.context.get("version") if isinstance(info.context, dict) else None
        problems: Problems = []
        own = self.version[:3] if self.version is not None else None
        if requested is not None:
            family = str(requested)[:3]
            if own is not None and own != family:
                problems.append(
                    (
                        ("version",),
                        "version",
                        f"version {self.version} does not match the requested xAPI {requested} rules",
                        self.version,
                    )
                )
        else:
            family = own or "1.0"
        _timestamp(self.timestamp, ("timestamp",), family, problems)
        _timestamp(self.stored, ("stored",), family, problems)
        obj = self.object
        _context_rules(self.context, obj, family, (), problems)
        if isinstance(obj, SubStatement):
            _timestamp(obj.timestamp, ("object", "timestamp"), family, problems)
            _context_rules(obj.context, obj.object, family, ("object",), problems)
        if self.verb.id == VOIDED and not isinstance(obj, StatementRef):
            problems.append(
                (("object",), "voiding", "a voiding statement's object must be a StatementRef", None)
            )
        if problems:
            raise violations(problems)
        return self

    @property
    def timestamp_utc(self) -> datetime | None:
        """``timestamp`` as an aware UTC datetime (no offset read as UTC, 1.0.x only)."""
        if self.timestamp is None:
            return None
        return parse_timestamp(self.timestamp, require_offset=False)

    @property
    def stored_utc(self) -> datetime | None:
        """``stored`` as an aware UTC datetime."""
        if self.stored is None:
            return None
        return parse_timestamp(self.stored, require_offset=False)
