"""xAPI statements: strict pydantic models for xAPI 1.0.3 and 2.0.0 (IEEE 9274.1.1).

The public surface::

    from learnsight.xapi import Statement, parse_statement, validate_statement, statement_columns

* :func:`parse_statement` validates one statement (JSON text or parsed object) and returns a
  :class:`Statement`, or raises :class:`~learnsight.errors.StatementValidationError` whose ``path``
  is the JSON path of the first violation (``actor.mbox``, ``result.score.scaled``).
* :func:`validate_statement` lists every violation instead of raising.
* :func:`statement_columns` turns a statement into a row of the store's ``statements`` table.

Validation is strict: unknown properties, JSON ``null`` outside extensions, wrong JSON types and
malformed IRIs, UUIDs, language tags, timestamps and durations are all refused, following the ADL
LRS conformance suite (``adlnet/lrs-conformance-test-suite``, ``test/v1_0_3`` and ``test/v2_0``).
The rules, module by module: :mod:`~learnsight.xapi.datatypes` (formats),
:mod:`~learnsight.xapi.agent`, :mod:`~learnsight.xapi.activity`, :mod:`~learnsight.xapi.result`,
:mod:`~learnsight.xapi.context`, :mod:`~learnsight.xapi.attachment` and
:mod:`~learnsight.xapi.statement` (rules on the whole statement, version differences).

Importing this package is cheap: the models are built on first use of one of these names, so modules
that only need :mod:`~learnsight.xapi.vocab` or :mod:`~learnsight.xapi.keys` (the store, the CLI)
do not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from learnsight.xapi.activity import Activity, ActivityDefinition, InteractionComponent
    from learnsight.xapi.agent import Account, Agent, Group
    from learnsight.xapi.attachment import Attachment
    from learnsight.xapi.columns import canonical_json, statement_columns, statements_table
    from learnsight.xapi.context import Context, ContextActivities, ContextAgent, ContextGroup
    from learnsight.xapi.parse import parse_statement, validate_statement
    from learnsight.xapi.result import Result, Score
    from learnsight.xapi.statement import SUPPORTED_VERSIONS, Statement, SubStatement
    from learnsight.xapi.statement_ref import StatementRef
    from learnsight.xapi.verb import Verb

_EXPORTS = {
    "Activity": "learnsight.xapi.activity",
    "ActivityDefinition": "learnsight.xapi.activity",
    "InteractionComponent": "learnsight.xapi.activity",
    "Account": "learnsight.xapi.agent",
    "Agent": "learnsight.xapi.agent",
    "Group": "learnsight.xapi.agent",
    "Attachment": "learnsight.xapi.attachment",
    "canonical_json": "learnsight.xapi.columns",
    "statement_columns": "learnsight.xapi.columns",
    "statements_table": "learnsight.xapi.columns",
    "Context": "learnsight.xapi.context",
    "ContextActivities": "learnsight.xapi.context",
    "ContextAgent": "learnsight.xapi.context",
    "ContextGroup": "learnsight.xapi.context",
    "parse_statement": "learnsight.xapi.parse",
    "validate_statement": "learnsight.xapi.parse",
    "Result": "learnsight.xapi.result",
    "Score": "learnsight.xapi.result",
    "SUPPORTED_VERSIONS": "learnsight.xapi.statement",
    "Statement": "learnsight.xapi.statement",
    "SubStatement": "learnsight.xapi.statement",
    "StatementRef": "learnsight.xapi.statement_ref",
    "Verb": "learnsight.xapi.verb",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "SUPPORTED_VERSIONS",
    "Account",
    "Activity",
    "ActivityDefinition",
    "Agent",
    "Attachment",
    "Context",
    "ContextActivities",
    "ContextAgent",
    "ContextGroup",
    "Group",
    "InteractionComponent",
    "Result",
    "Score",
    "Statement",
    "StatementRef",
    "SubStatement",
    "Verb",
    "canonical_json",
    "parse_statement",
    "statement_columns",
    "statements_table",
    "validate_statement",
]
