"""The Context of a statement (xAPI 1.0.3 Part Two §2.4.6, IEEE 9274.1.1 §4.2.2.5).

``contextActivities`` values are an Activity or an array of Activities (both forms are kept as
received; :meth:`ContextActivities.activities` always gives a list).  ``contextAgents`` and
``contextGroups`` are xAPI 2.0 properties: the statement-level rules refuse them in a 1.0.x
statement.  Whether ``revision`` and ``platform`` are allowed depends on the statement's object;
that rule is checked on the statement too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Tag

from learnsight.xapi.activity import Activity
from learnsight.xapi.agent import Actor, Agent, Group
from learnsight.xapi.base import XAPIModel
from learnsight.xapi.datatypes import UUID, Extensions, LanguageTag, NonEmptyIRIList, Opt
from learnsight.xapi.statement_ref import StatementRef
from learnsight.xapi.unions import MANY_ACTIVITIES, ONE_ACTIVITY

ActivityOrList = Annotated[
    Annotated[Activity, Tag(ONE_ACTIVITY)] | Annotated[list[Activity], Tag(MANY_ACTIVITIES)],
    Field(union_mode="left_to_right"),
]
"""An Activity or an array of Activities, as ``contextActivities`` properties allow."""


class ContextActivities(XAPIModel):
    """Activities the statement relates to: ``parent``, ``grouping``, ``category``, ``other``."""

    parent: Opt[ActivityOrList] = None
    grouping: Opt[ActivityOrList] = None
    category: Opt[ActivityOrList] = None
    other: Opt[ActivityOrList] = None

    def activities(self, kind: Literal["parent", "grouping", "category", "other"]) -> list[Activity]:
        """The activities of one kind as a list (empty when absent)."""
        value: Activity | list[Activity] | None = getattr(self, kind)
        if value is None:
            return []
        return [value] if isinstance(value, Activity) else value


class ContextAgent(XAPIModel):
    """xAPI 2.0: an Agent relevant to the statement, with the IRIs of its roles."""

    object_type: Literal["contextAgent"] = Field(alias="objectType")
    agent: Agent
    relevant_types: Opt[NonEmptyIRIList] = Field(None, alias="relevantTypes")


class ContextGroup(XAPIModel):
    """xAPI 2.0: a Group relevant to the statement, with the IRIs of its roles."""

    object_type: Literal["contextGroup"] = Field(alias="objectType")
    group: Group
    relevant_types: Opt[NonEmptyIRIList] = Field(None, alias="relevantTypes")


class Context(XAPIModel):
    """Where and with whom the experience happened."""

    registration: Opt[UUID] = None
    instructor: Opt[Actor] = None
    team: Opt[Group] = None
    context_activities: Opt[ContextActivities] = Field(None, alias="contextActivities")
    context_agents: Opt[list[ContextAgent]] = Field(None, alias="contextAgents")
    context_groups: Opt[list[ContextGroup]] = Field(None, alias="contextGroups")
    revision: Opt[str] = None
    platform: Opt[str] = None
    language: Opt[LanguageTag] = None
    statement: Opt[StatementRef] = None
    extensions: Opt[Extensions] = None
