"""The base of every xAPI model: strict, closed, immutable.

* ``strict=True``: no coercion; ``"1"`` is not a number, ``"true"`` not a boolean (ADL suite
  XAPI-00006).
* ``extra="forbid"``: unknown properties, including wrongly-cased ones such as ``Actor`` or
  ``objecttype``, are rejected (XAPI-00008, XAPI-00010).
* ``allow_inf_nan=False``: ``NaN`` and ``Infinity`` (which Python's JSON parser accepts) are not
  JSON numbers.
* Properties are read by their xAPI names only (``objectType``, ``homePage``); Python code uses the
  snake-case attribute names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class XAPIModel(BaseModel):
    """Base class of the statement models (see module docstring for the validation policy)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        hide_input_in_errors=False,
    )

    def to_dict(self) -> dict[str, object]:
        """The JSON object of this part, absent properties omitted."""
        return self.model_dump(mode="json", exclude_unset=True)
