"""The polymorphic properties of a statement, and how their errors are attributed.

xAPI has five places where one property takes several shapes: an actor (Agent or Group), an object
(Activity, Agent, Group, StatementRef, SubStatement), a ``contextActivities`` value (an Activity or
an array), and a language-tag key (see below).  For speed these are plain *left-to-right* unions
validated entirely in pydantic-core: a valid statement never calls back into Python to choose a
branch (a callable discriminator would copy the whole JSON subtree into Python objects first).

The price is paid only for invalid statements: pydantic then reports the errors of every branch,
labelled with the tags defined here.  :func:`intended_tag` names the branch the author meant (by
``objectType``, by JSON type), and :mod:`learnsight.xapi.paths` keeps only that branch's errors, so
the reported path is as precise as a discriminated union's.

Language tags use the same device: the common shapes (``en``, ``zh-Hant-TW``, ``de-CH-1901``) are
matched by a pattern alone; only tags with extensions or private-use subtags go to the branch with
the Python check for repeated singletons.
"""

from __future__ import annotations

import re
from typing import Final

TAG_PREFIX: Final = "\x1e"
"""Prefix of every union tag; no JSON key of a valid statement starts with it."""


def tag(family: str, name: str) -> str:
    """The label of one union branch, e.g. ``tag("object", "Activity")``."""
    return f"{TAG_PREFIX}{family}:{name}"


ACTOR_AGENT: Final = tag("actor", "Agent")
ACTOR_GROUP: Final = tag("actor", "Group")
OBJECT_ACTIVITY: Final = tag("object", "Activity")
OBJECT_AGENT: Final = tag("object", "Agent")
OBJECT_GROUP: Final = tag("object", "Group")
OBJECT_STATEMENT_REF: Final = tag("object", "StatementRef")
OBJECT_SUBSTATEMENT: Final = tag("object", "SubStatement")
ONE_ACTIVITY: Final = tag("activities", "one")
MANY_ACTIVITIES: Final = tag("activities", "many")
LANG_SIMPLE: Final = tag("lang", "simple")
LANG_FULL: Final = tag("lang", "full")

_OBJECT_TYPES: Final = {
    "Agent": OBJECT_AGENT,
    "Group": OBJECT_GROUP,
    "StatementRef": OBJECT_STATEMENT_REF,
    "SubStatement": OBJECT_SUBSTATEMENT,
}

SIMPLE_LANGUAGE_TAG_PATTERN: Final = (
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))?$"
)
"""Language tags without extensions, private use or a second variant: no repetition possible."""

_SIMPLE_LANGUAGE_TAG = re.compile(SIMPLE_LANGUAGE_TAG_PATTERN)


_FAMILIES: Final = frozenset({"actor", "object", "activities", "lang"})


def is_tag(item: object) -> bool:
    """True for a union label in a pydantic error location (not a user key that merely starts
    with the prefix character)."""
    return (
        isinstance(item, str)
        and item.startswith(TAG_PREFIX)
        and ":" in item
        and item[len(TAG_PREFIX) :].partition(":")[0] in _FAMILIES
    )


def family(label: str) -> str:
    """The union family of a label (``"object"`` for ``tag("object", "Agent")``)."""
    return label[len(TAG_PREFIX) :].partition(":")[0]


def intended_tag(label_family: str, value: object) -> str:
    """The branch of a union the author of ``value`` meant (used only to report errors).

    An actor is a Group when ``objectType`` says so, otherwise an Agent; an object is whatever its
    ``objectType`` names, an Activity when that is absent or unknown; a ``contextActivities`` value
    is many when it is an array; a language tag is simple when it matches
    :data:`SIMPLE_LANGUAGE_TAG_PATTERN`.
    """
    if label_family == "actor":
        is_group = isinstance(value, dict) and value.get("objectType") == "Group"
        return ACTOR_GROUP if is_group else ACTOR_AGENT
    if label_family == "object":
        object_type = value.get("objectType") if isinstance(value, dict) else None
        if isinstance(object_type, str):
            return _OBJECT_TYPES.get(object_type, OBJECT_ACTIVITY)
        return OBJECT_ACTIVITY
    if label_family == "activities":
        return MANY_ACTIVITIES if isinstance(value, list) else ONE_ACTIVITY
    if label_family == "lang":
        simple = isinstance(value, str) and _SIMPLE_LANGUAGE_TAG.fullmatch(value)
        return LANG_SIMPLE if simple else LANG_FULL
    raise ValueError(f"unknown union family {label_family!r}")
