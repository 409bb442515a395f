"""The Result of a statement (xAPI 1.0.3 Part Two §2.4.5, IEEE 9274.1.1 §4.2.2.4).

Score rules: ``scaled`` lies in [-1, 1]; when both are given ``min < max``; ``raw`` lies within
``min``..``max`` (each bound checked when present).  Numbers are JSON numbers only (``"0.5"`` and
``true`` are refused).
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from learnsight.xapi.base import XAPIModel
from learnsight.xapi.datatypes import Duration, Extensions, Opt, duration_seconds
from learnsight.xapi.paths import violations


class Score(XAPIModel):
    """A score: ``scaled`` in [-1, 1] and/or ``raw`` within ``min``..``max``."""

    scaled: Opt[Annotated[float, Field(ge=-1.0, le=1.0)]] = None
    raw: Opt[float] = None
    min: Opt[float] = None
    max: Opt[float] = None

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        low, high, raw = self.min, self.max, self.raw
        if low is not None and high is not None and not low < high:
            raise violations([(("min",), "score", f"min ({low}) must be less than max ({high})", low)])
        if raw is not None:
            if low is not None and raw < low:
                raise violations([(("raw",), "score", f"raw ({raw}) is less than min ({low})", raw)])
            if high is not None and raw > high:
                raise violations([(("raw",), "score", f"raw ({raw}) is greater than max ({high})", raw)])
        return self


class Result(XAPIModel):
    """The outcome: score, success, completion, response, duration, extensions."""

    score: Opt[Score] = None
    success: Opt[bool] = None
    completion: Opt[bool] = None
    response: Opt[str] = None
    duration: Opt[Duration] = None
    extensions: Opt[Extensions] = None

    @property
    def duration_s(self) -> float | None:
        """``duration`` in seconds (see :func:`~learnsight.xapi.datatypes.duration_seconds`)."""
        return duration_seconds(self.duration) if self.duration is not None else None
