"""Statement references (xAPI 1.0.3 Part Two §2.4.4.3): a statement's object or context."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from learnsight.xapi.base import XAPIModel
from learnsight.xapi.datatypes import UUID


class StatementRef(XAPIModel):
    """A pointer to another statement by id; ``objectType`` ``"StatementRef"`` is required."""

    object_type: Literal["StatementRef"] = Field(alias="objectType")
    id: UUID
