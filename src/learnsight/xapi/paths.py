"""From pydantic errors to :class:`~learnsight.errors.StatementValidationError` with JSON paths.

Validators inside the models raise :func:`violations` (a pydantic ``ValidationError`` whose
locations are relative to the model raising it); pydantic-core prefixes them with the location of
that model, so every rule, wherever it is checked, reports the full path of the offending property.

For the unions of :mod:`learnsight.xapi.unions`, pydantic reports the errors of every branch;
:func:`to_statement_error` keeps those of the branch the author meant and drops the labels.

Paths are dotted (``context.contextActivities.parent[0].id``); array indices are written ``[n]``
and object keys that are not identifiers (language tags, extension IRIs) as ``["key"]``, e.g.
``verb.display["en US"]`` or ``result.extensions["not an iri"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from learnsight.errors import StatementValidationError
from learnsight.xapi.datatypes import PATTERN_NAMES
from learnsight.xapi.unions import OBJECT_SUBSTATEMENT, family, intended_tag, is_tag

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FIRST_LINE_POSITION = re.compile(r" at line 1 column ([0-9]+)$")
_SUBSTATEMENT_FORBIDDEN = frozenset({"id", "stored", "version", "authority"})
_MAP_PROPERTIES = frozenset({"display", "name", "description", "extensions"})
"""Properties whose value is a map: what follows them in a location is a key, not a property."""
_MISSING = object()

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
}
_BOUNDS = {
    "greater_than": "greater than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}
_OBJECT_TYPE_CHOICES = {
    "actor": "'Agent' or 'Group'",
    "object": "one of 'Activity', 'Agent', 'Group', 'StatementRef', 'SubStatement'",
}

Loc = tuple[str | int, ...]


def violations(errors: Sequence[tuple[Loc, str, str, object]]) -> ValidationError:
    """A pydantic ``ValidationError`` from ``(loc, kind, message, value)`` tuples, to be raised.

    ``message`` is used verbatim (braces are escaped); ``kind`` becomes the error type.
    """
    details = [
        InitErrorDetails(
            type=PydanticCustomError(kind, message.replace("{", "{{").replace("}", "}}")),
            loc=loc,
            input=value,
        )
        for loc, kind, message, value in errors
    ]
    return ValidationError.from_exception_data("Statement", details)


def json_path(loc: Sequence[str | int]) -> str:
    """The dotted JSON path of a pydantic location, union labels and ``[key]`` removed.

    >>> json_path(("context", "contextActivities", "parent", 0, "id"))
    'context.contextActivities.parent[0].id'
    >>> json_path(("verb", "display", "en US", "[key]"))
    'verb.display["en US"]'
    """
    out: list[str] = []
    previous: str | int | None = None
    for item in loc:
        if isinstance(item, int):
            out.append(f"[{item}]")
        elif is_tag(item) or item == "[key]":
            continue
        elif _IDENTIFIER.fullmatch(item) and previous not in _MAP_PROPERTIES:
            out.append(f".{item}" if out else item)
        else:
            out.append(f"[{json.dumps(item, ensure_ascii=False)}]")
        previous = item
    return "".join(out)


def _intended(loc: Loc, data: object) -> tuple[list[Loc], Loc | None, str | None]:
    """Follow an error's location through ``data`` and the unions it crosses.

    Returns the locations of the unions crossed on their intended branch, and, when the error lies
    on a branch that was not meant, the location of that union and the label of the meant branch
    (``(crossed, None, None)`` for an error to keep).
    """
    node: object = data
    last_key: object = _MISSING
    crossed: list[Loc] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            node = node[item] if isinstance(node, list) and -len(node) <= item < len(node) else None
        elif is_tag(item):
            wanted = intended_tag(family(item), node)
            if item != wanted:
                return crossed, loc[:i], wanted
            crossed.append(loc[:i])
        elif item == "[key]":
            node = last_key
        else:
            last_key = item
            node = node.get(item) if isinstance(node, dict) else None
    return crossed, None, None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def message(error: ErrorDetails) -> str:
    """A one-line message for one pydantic error, in xAPI terms."""
    kind = error["type"]
    loc = error["loc"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required property is missing"
    if kind == "json_invalid":
        detail = _FIRST_LINE_POSITION.sub(r" (column \1)", str(ctx.get("error", error["msg"])))
        return f"invalid JSON: {detail}"
    if kind == "extra_forbidden":
        key = loc[-1] if loc else ""
        if key in _SUBSTATEMENT_FORBIDDEN and OBJECT_SUBSTATEMENT in loc:
            return f"a SubStatement must not have the '{key}' property"
        return "unknown property (xAPI property names are case-sensitive)"
    if kind == "string_pattern_mismatch":
        name = PATTERN_NAMES.get(str(ctx.get("pattern", "")), "the required format")
        where = "key" if "[key]" in loc[-2:] else "value"
        return f"{where} {json.dumps(value, ensure_ascii=False)[:80]} is not {name}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        if len(loc) >= 2 and loc[-1] == "objectType" and is_tag(loc[-2]):
            expected = _OBJECT_TYPE_CHOICES.get(family(str(loc[-2])), expected)
        return f"must be {expected} (case-sensitive), got {json.dumps(value)[:80]}"
    if kind in _TYPE_NAMES:
        if value is None:
            return "null is not allowed; omit the property instead"
        if _describe(value) == _TYPE_NAMES[kind]:
            return str(error["msg"])
        return f"must be {_TYPE_NAMES[kind]}, got {_describe(value)}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "")
        return f"must be {_BOUNDS[kind]} {bound}, got {value}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "too_short" and isinstance(value, list):
        return "must not be an empty array"
    if kind == "string_too_short":
        return "must not be an empty string"
    return str(error["msg"])


def statement_errors(exc: ValidationError, data: object) -> list[tuple[str, str]]:
    """``(path, message)`` for every error of ``exc`` on the branches ``data`` meant.

    ``data`` is the statement as parsed JSON.  A union none of whose branches is meant (a
    SubStatement inside a SubStatement) gets one error of its own.
    """
    found: list[tuple[str, str]] = []
    orphans: dict[Loc, str] = {}
    reached: set[Loc] = set()
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        crossed, union_loc, wanted = _intended(loc, data)
        reached.update(crossed)
        if union_loc is None:
            found.append((json_path(loc), message(error)))
        elif wanted is not None:
            orphans.setdefault(union_loc, wanted)
    for union_loc, wanted in orphans.items():
        if union_loc in reached:
            continue
        if wanted == OBJECT_SUBSTATEMENT:
            text = "a SubStatement must not contain another SubStatement"
            found.append((json_path((*union_loc, "objectType")), text))
        else:
            found.append((json_path(union_loc), "invalid value"))
    return found


def to_statement_error(
    exc: ValidationError, data: object, *, index: int | None = None
) -> StatementValidationError:
    """Convert pydantic's error into the project's, every violation with its JSON path.

    ``data`` is the statement as received (JSON text or parsed object), used to tell which union
    branch was meant.
    """
    if isinstance(data, str | bytes | bytearray):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    return StatementValidationError(statement_errors(exc, data), index=index)
