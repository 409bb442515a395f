"""A statement as a row of the store's ``statements`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from learnsight.store.schema import STATEMENT_COLUMNS
from learnsight.xapi import canonical_json, parse_statement, statement_columns, statements_table
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.keys import account_key, group_key
from learnsight.xapi.vocab import COURSE, EXT_BYTES, EXT_CLICKS

STORED = datetime(2024, 3, 2, 8, 0, 0)


def _statement(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "actor": {"name": "Ana", "account": {"homePage": "https://lms.example.edu", "name": "28400"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {
            "id": "http://example.org/quiz/1",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
        },
        "timestamp": "2024-03-01T10:30:00+01:00",
    }
    base.update(extra)
    return base


def test_typical_statement_columns() -> None:
    data = _statement(
        id="3F2504E0-4F89-41D3-9A0C-0305E82C3301",
        result={
            "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
            "success": True,
            "completion": True,
            "response": "b",
            "duration": "PT1M30S",
            "extensions": {EXT_CLICKS: 7},
        },
        context={
            "registration": "8F87CCDE-BB56-4C2E-AB83-44982EF22DF0",
            "platform": "canteen",
            "contextActivities": {
                "parent": [{"id": "http://example.org/course/parent", "definition": {"type": COURSE}}],
                "grouping": [
                    {"id": "http://example.org/programme"},
                    {"id": "http://example.org/course/42", "definition": {"type": COURSE}},
                ],
            },
        },
    )
    row = statement_columns(parse_statement(data), stored=STORED, source=data)
    assert set(row) == set(STATEMENT_COLUMNS)
    assert row["id"] == "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    assert row["actor_key"] == account_key("https://lms.example.edu", "28400")
    assert row["actor_name"] == "Ana"
    assert row["object_type"] == "Activity"
    assert row["activity_type"] == "http://adlnet.gov/expapi/activities/assessment"
    assert row["ts"] == datetime(2024, 3, 1, 9, 30)
    assert row["stored"] == STORED
    assert row["source"] == "canteen"
    assert row["course"] == "http://example.org/course/42"
    assert row["registration"] == "8f87ccde-bb56-4c2e-ab83-44982ef22df0"
    assert (row["score_scaled"], row["score_raw"], row["score_min"], row["score_max"]) == (
        0.5,
        5.0,
        0.0,
        10.0,
    )
    assert (row["success"], row["completion"], row["response"]) == (True, True, "b")
    assert row["duration_s"] == 90.0
    assert row["quantity"] == 7.0
    assert row["raw"] == canonical_json(data)
    assert row["voided"] is False


def test_defaults_when_properties_are_absent() -> None:
    data = _statement()
    del data["timestamp"]
    row = statement_columns(parse_statement(data), stored=STORED, source=data)
    assert row["ts"] == STORED
    assert row["source"] == "lms"
    assert row["course"] is None
    assert row["quantity"] is None
    assert row["duration_s"] is None


def test_statement_stored_property_is_the_timestamp_fallback() -> None:
    data = _statement(stored="2024-01-01T00:00:00Z")
    del data["timestamp"]
    row = statement_columns(parse_statement(data), stored=STORED, source=data)
    assert row["ts"] == datetime(2024, 1, 1)


def test_missing_id_is_deterministic_and_added_to_raw() -> None:
    data = _statement(result={"extensions": {EXT_BYTES: 1024}})
    first = statement_columns(parse_statement(data), stored=STORED, source=data)
    reordered = dict(reversed(list(data.items())))
    second = statement_columns(parse_statement(reordered), stored=STORED, source=reordered)
    assert first["id"] == second["id"] == str(deterministic_id("xapi", canonical_json(data)))
    assert first["raw"] == second["raw"] == canonical_json({**data, "id": first["id"]})
    assert first["quantity"] == 1024.0


def test_agent_group_statementref_and_substatement_objects() -> None:
    agent = _statement(object={"objectType": "Agent", "mbox": "mailto:bob@example.org"})
    assert statement_columns(parse_statement(agent), stored=STORED)["object_id"] == ("mailto:bob@example.org")
    group = _statement(object={"objectType": "Group", "openid": "http://openid.example.org/g"})
    row = statement_columns(parse_statement(group), stored=STORED)
    assert (row["object_type"], row["object_id"]) == (
        "Group",
        group_key("openid:http://openid.example.org/g"),
    )
    ref = _statement(object={"objectType": "StatementRef", "id": "8F87CCDE-BB56-4C2E-AB83-44982EF22DF0"})
    row = statement_columns(parse_statement(ref), stored=STORED)
    assert (row["object_type"], row["object_id"]) == ("StatementRef", "8f87ccde-bb56-4c2e-ab83-44982ef22df0")
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://example.org/course/1"},
    }
    data = _statement(object=sub)
    row = statement_columns(parse_statement(data), stored=STORED, source=data)
    assert row["object_type"] == "SubStatement"
    assert row["object_id"] == str(deterministic_id("xapi-substatement", canonical_json(sub)))


def test_statements_table_has_the_store_schema() -> None:
    data = _statement()
    rows = [statement_columns(parse_statement(data), stored=STORED, source=data)]
    table = statements_table(rows)
    assert table.schema == pa.schema(list(STATEMENT_COLUMNS.items()))
    assert table.num_rows == 1
