"""Parse and validate statements: the entry points importers and the LRS call.

Validation runs in pydantic-core: JSON text goes through ``model_validate_json`` (parsed and
validated in one pass, no intermediate Python objects), Python objects through ``model_validate``
in strict mode.  Either way every violation becomes a
:class:`~learnsight.errors.StatementValidationError` whose ``path`` names the first offending
property.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import ValidationError

from learnsight.errors import StatementValidationError
from learnsight.xapi.paths import to_statement_error
from learnsight.xapi.statement import SUPPORTED_VERSIONS, Statement, rules_for

_CONTEXTS: Final[dict[str, dict[str, Any]]] = {v: {"version": v} for v in SUPPORTED_VERSIONS}


def validation_context(version: str | None) -> dict[str, Any] | None:
    """The pydantic validation context selecting the rules of ``version`` (``None``: per statement).

    Raises ``ValueError`` for a version that names no supported rule set.
    """
    return None if version is None else _CONTEXTS[rules_for(version)]


def parse_statement(data: object, *, version: str | None = None, index: int | None = None) -> Statement:
    """Validate one statement strictly and return it.

    Parameters
    ----------
    data
        The statement as JSON text (``str``/``bytes``) or as the parsed JSON object (``dict``).
    version
        Validate under these xAPI rules (``"1.0.3"`` or ``"2.0.0"``; ``"1.0"``, ``"2.0.1"``...
        name the same rule sets).  ``None``: the statement's own ``version`` decides, 1.0.3 when it
        has none.  A statement whose ``version`` is of the other family is refused.
    index
        Position of the statement in its source, carried into the error message.

    Raises
    ------
    StatementValidationError
        With the JSON path of the first violation (``.path``) and all violations (``.errors``).
    ValueError
        When ``version`` names no supported xAPI version.

    Examples
    --------
    >>> s = parse_statement({"actor": {"mbox": "mailto:ana@example.org"},
    ...                      "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
    ...                      "object": {"id": "http://example.org/quiz/1"}})
    >>> s.actor.key()
    'mailto:ana@example.org'
    >>> parse_statement({"actor": {"mbox": "ana@example.org"}})
    Traceback (most recent call last):
    ...
    learnsight.errors.StatementValidationError: actor.mbox: value "ana@example.org" is not a mailto IRI (mailto:name@domain) (+2 more)
    """  # noqa: E501
    context = validation_context(version)
    try:
        if isinstance(data, str | bytes | bytearray):
            return Statement.model_validate_json(data, strict=True, context=context)
        return Statement.model_validate(data, strict=True, context=context)
    except ValidationError as exc:
        raise to_statement_error(exc, data, index=index) from None


def validate_statement(data: object, *, version: str | None = None) -> list[tuple[str, str]]:
    """Every violation in a statement as ``(path, message)`` pairs; empty when it is valid.

    Arguments as for :func:`parse_statement`.  Rules that need the whole statement (version,
    timestamps, voiding, context against object) are checked only once every property is valid.
    """
    try:
        parse_statement(data, version=version)
    except StatementValidationError as exc:
        return list(exc.errors)
    return []
