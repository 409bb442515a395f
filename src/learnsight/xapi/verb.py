"""The Verb (xAPI 1.0.3 Part Two §2.4.3): an IRI and an optional display language map."""

from __future__ import annotations

from learnsight.xapi.base import XAPIModel
from learnsight.xapi.datatypes import IRI, LanguageMap, Opt


class Verb(XAPIModel):
    """What the actor did: ``id`` (IRI, required) and ``display`` (language map)."""

    id: IRI
    display: Opt[LanguageMap] = None
