"""The statement corpus: every invalid statement fails at its expected JSON path, every valid one parses.

``corpus/invalid.jsonl`` holds ``{"statement", "path", "why"[, "version"]}`` lines, modelled on the
ADL LRS conformance suite (``test/v1_0_3``, ``test/v2_0``); ``corpus/valid.jsonl`` holds
``{"statement", "why"[, "version"]}`` lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from learnsight.errors import StatementValidationError
from learnsight.xapi import Activity, SubStatement, parse_statement, validate_statement

CORPUS = Path(__file__).parent / "corpus"


def _load(name: str) -> list[dict[str, Any]]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


INVALID = _load("invalid.jsonl")
VALID = _load("valid.jsonl")


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 100
    assert len(VALID) >= 30
    assert len({c["why"] for c in INVALID}) == len(INVALID)


@pytest.mark.parametrize("case", INVALID, ids=[c["why"] for c in INVALID])
def test_invalid_statement_fails_at_its_path(case: dict[str, Any]) -> None:
    with pytest.raises(StatementValidationError) as info:
        parse_statement(case["statement"], version=case.get("version"))
    assert info.value.path == case["path"], str(info.value)
    assert info.value.errors[0][0] == case["path"]


@pytest.mark.parametrize("case", INVALID, ids=[c["why"] for c in INVALID])
def test_invalid_json_text_fails_at_the_same_path(case: dict[str, Any]) -> None:
    with pytest.raises(StatementValidationError) as info:
        parse_statement(json.dumps(case["statement"]), version=case.get("version"))
    assert info.value.path == case["path"], str(info.value)


@pytest.mark.parametrize("case", VALID, ids=[c["why"] for c in VALID])
def test_valid_statement_parses_and_round_trips(case: dict[str, Any]) -> None:
    version = case.get("version")
    stmt = parse_statement(case["statement"], version=version)
    assert parse_statement(json.dumps(case["statement"]), version=version) == stmt
    again = parse_statement(stmt.to_dict(), version=version)
    assert again == stmt


def test_valid_corpus_covers_every_interaction_type() -> None:
    kinds = set()
    for case in VALID:
        obj = parse_statement(case["statement"], version=case.get("version")).object
        if isinstance(obj, Activity) and obj.definition and obj.definition.interaction_type:
            kinds.add(obj.definition.interaction_type)
    assert kinds == {
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
    }


def test_valid_corpus_covers_substatements_groups_attachments_and_2_0() -> None:
    stmts = [parse_statement(c["statement"], version=c.get("version")) for c in VALID]
    assert any(isinstance(s.object, SubStatement) for s in stmts)
    assert any(s.actor.object_type == "Group" for s in stmts)
    assert any(s.attachments for s in stmts)
    assert any(s.context and s.context.context_agents for s in stmts)
    assert any(s.context and s.context.context_groups for s in stmts)


def test_errors_list_every_violation() -> None:
    statement = {
        "actor": {"mbox": "ana@example.org"},
        "verb": {"id": "not an iri"},
        "object": {"id": "http://example.org/a"},
    }
    with pytest.raises(StatementValidationError) as info:
        parse_statement(statement)
    assert [p for p, _ in info.value.errors] == ["actor.mbox", "verb.id"]
    assert str(info.value).startswith("actor.mbox: ")


def test_validate_statement_lists_violations_without_raising() -> None:
    assert validate_statement(VALID[0]["statement"]) == []
    case = INVALID[0]
    errors = validate_statement(case["statement"], version=case.get("version"))
    assert errors and errors[0][0] == case["path"]
