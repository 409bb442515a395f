"""Activities and their definitions (xAPI 1.0.3 Part Two §2.4.4.1, IEEE 9274.1.1 §4.2.2.3).

Interaction activities (``interactionType``) follow the rules of the spec's interaction table:

* ``interactionType`` is one of the ten cmi.interaction types, case-sensitive;
* the component lists are allowed only with their types: ``choices`` with ``choice`` and
  ``sequencing``, ``scale`` with ``likert``, ``source`` and ``target`` with ``matching``,
  ``steps`` with ``performance``;
* component lists and ``correctResponsesPattern`` require an ``interactionType``;
* component ids are non-empty and distinct within a list;
* ``correctResponsesPattern`` is an array of strings; for ``true-false`` each is ``true`` or
  ``false``, for ``numeric`` each is a number or a ``min[:]max`` range (either end may be absent).
  The other types' response syntaxes are not parsed.
"""

from __future__ import annotations

import re
from typing import Final, Literal, Self

from pydantic import Field, model_validator

from learnsight.xapi.base import XAPIModel
from learnsight.xapi.datatypes import IRI, IRL, Extensions, LanguageMap, NonEmptyStr, Opt
from learnsight.xapi.paths import violations

InteractionType = Literal[
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
]

COMPONENT_LISTS: Final[dict[str, frozenset[str]]] = {
    "choices": frozenset({"choice", "sequencing"}),
    "scale": frozenset({"likert"}),
    "source": frozenset({"matching"}),
    "target": frozenset({"matching"}),
    "steps": frozenset({"performance"}),
}
"""Which interaction types each component list may be used with."""

_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_NUMERIC_RESPONSE = re.compile(rf"{_NUMBER}|(?:{_NUMBER})?\[:\](?:{_NUMBER})?")


class InteractionComponent(XAPIModel):
    """One choice, scale point, source, target or step of an interaction."""

    id: NonEmptyStr
    description: Opt[LanguageMap] = None


class ActivityDefinition(XAPIModel):
    """Metadata of an Activity: names, type, interaction details, extensions."""

    name: Opt[LanguageMap] = None
    description: Opt[LanguageMap] = None
    type: Opt[IRI] = None
    more_info: Opt[IRL] = Field(None, alias="moreInfo")
    interaction_type: Opt[InteractionType] = Field(None, alias="interactionType")
    correct_responses_pattern: Opt[list[str]] = Field(None, alias="correctResponsesPattern")
    choices: Opt[list[InteractionComponent]] = None
    scale: Opt[list[InteractionComponent]] = None
    source: Opt[list[InteractionComponent]] = None
    target: Opt[list[InteractionComponent]] = None
    steps: Opt[list[InteractionComponent]] = None
    extensions: Opt[Extensions] = None

    @model_validator(mode="after")
    def _interaction_rules(self) -> Self:
        kind = self.interaction_type
        if (
            kind is None
            and self.correct_responses_pattern is None
            and self.choices is None
            and self.scale is None
            and self.source is None
            and self.target is None
            and self.steps is None
        ):
            return self
        problems: list[tuple[tuple[str | int, ...], str, str, object]] = []
        for prop, allowed in COMPONENT_LISTS.items():
            components: list[InteractionComponent] | None = getattr(self, prop)
            if components is None:
                continue
            if kind is None:
                problems.append(((prop,), "interaction", f"'{prop}' requires an interactionType", None))
            elif kind not in allowed:
                problems.append(
                    (
                        (prop,),
                        "interaction",
                        f"'{prop}' is not allowed with interactionType '{kind}' "
                        f"(only with {', '.join(sorted(allowed))})",
                        None,
                    )
                )
            seen: set[str] = set()
            for i, component in enumerate(components):
                if component.id in seen:
                    problems.append(
                        (
                            (prop, i, "id"),
                            "interaction",
                            f"duplicate interaction component id '{component.id}'",
                            component.id,
                        )
                    )
                seen.add(component.id)
        pattern = self.correct_responses_pattern
        if pattern is not None:
            if kind is None:
                problems.append(
                    (
                        ("correctResponsesPattern",),
                        "interaction",
                        "'correctResponsesPattern' requires an interactionType",
                        None,
                    )
                )
            elif kind == "true-false":
                for i, response in enumerate(pattern):
                    if response not in ("true", "false"):
                        problems.append(
                            (
                                ("correctResponsesPattern", i),
                                "interaction",
                                "a true-false response is 'true' or 'false'",
                                response,
                            )
                        )
            elif kind == "numeric":
                for i, response in enumerate(pattern):
                    if not _NUMERIC_RESPONSE.fullmatch(response):
                        problems.append(
                            (
                                ("correctResponsesPattern", i),
                                "interaction",
                                "a numeric response is a number or a range min[:]max",
                                response,
                            )
                        )
        if problems:
            raise violations(problems)
        return self


class Activity(XAPIModel):
    """An Activity: an IRI ``id`` and an optional definition (``objectType`` optional)."""

    object_type: Opt[Literal["Activity"]] = Field(None, alias="objectType")
    id: IRI
    definition: Opt[ActivityDefinition] = None

    @property
    def activity_type(self) -> str | None:
        """``definition.type``, or ``None``."""
        return self.definition.type if self.definition is not None else None
