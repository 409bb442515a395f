"""A statement as a row of the store's ``statements`` table."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from learnsight.store.schema import STATEMENT_COLUMNS, STATEMENT_SCHEMA
from learnsight.xapi import canonical_json, parse_statement, statement_columns, statements_table
from learnsight.xapi.columns import with_deterministic_id
from learnsight.xapi.columns_batch import ColumnBatch, timestamp_parts_sql, timestamp_utc_sql
from learnsight.xapi.datatypes import parse_timestamp
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


# --- the batch path (learnsight.xapi.columns_batch) agrees with statement_columns ------------------
CORPUS = Path(__file__).parent / "corpus" / "valid.jsonl"


def _batch_rows(cases: list[tuple[str, str | None]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of ``statement_columns`` and of a ``ColumnBatch`` for (JSON text, rules) cases."""
    expected, batch = [], ColumnBatch()
    for text, version in cases:
        stmt = parse_statement(text, version=version)
        source = json.loads(text)
        expected.append(statement_columns(stmt, stored=STORED, source=source))
        if stmt.id is None:
            sid, raw = with_deterministic_id(source)
        else:
            sid, raw = stmt.id.lower(), text
        batch.add(stmt, raw=raw, sid=sid)
    table = batch.take(stored=STORED)
    assert table.schema == STATEMENT_SCHEMA
    assert len(batch) == 0
    batch.close()
    return expected, table.to_pylist()


def _assert_same_rows(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> None:
    assert len(got) == len(expected)
    for i, (want, row) in enumerate(zip(expected, got, strict=True)):
        assert set(row) == set(want)
        for name, value in want.items():
            if name == "raw":  # the batch keeps the text as received; the same JSON value
                assert json.loads(row[name]) == json.loads(value), (i, name)
            else:
                assert row[name] == value and type(row[name]) is type(value), (i, name, value, row[name])


def test_batch_agrees_with_statement_columns_on_the_valid_corpus() -> None:
    cases = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        cases.append((json.dumps(case["statement"]), case.get("version")))
    expected, got = _batch_rows(cases)
    _assert_same_rows(expected, got)
    assert {row["object_type"] for row in got} >= {
        "Activity",
        "Agent",
        "Group",
        "StatementRef",
        "SubStatement",
    }


TIMESTAMPS = [
    "2024-03-01T10:30:00Z",
    "2024-03-01T10:30:00.123Z",
    "2024-03-01T10:30:00.1234567Z",
    "2024-03-01T10:30:00.9999999+01:00",
    "2024-03-01T10:30Z",
    "2024-03-01T00:10:00+01:00",
    "2024-03-01T23:50:00-00:30",
    "2024-03-01T10:30:00+0130",
    "2024-03-01T10:30:00-05",
    "2024-12-31T23:30:00-01:00",
    "2024-03-01T10:30:00,5Z",
    "2024-03-01T10:30:00",
    "2024-02-29T10:30+14:00",
    "20240301T103000Z",
    "20240301T103000,25+0100",
    "20240301T103000.5-0330",
]
DURATIONS = ["PT1H30M", "P1DT0.5S", "PT0,25S", "P2W", "P1Y2M3DT4H5M6.7S", "PT90.5S", "P0D", "PT1.1M", "P1M"]


def test_batch_timestamps_durations_and_quantities_agree() -> None:
    cases = []
    for i, ts in enumerate(TIMESTAMPS):
        cases.append(
            (json.dumps(_statement(timestamp=ts, id=f"3f2504e0-4f89-41d3-9a0c-0305e82c33{i:02d}")), None)
        )
    cases.append(
        (
            json.dumps(
                {k: v for k, v in _statement(stored="2024-01-01T05:00:00+02:00").items() if k != "timestamp"}
            ),
            None,
        )
    )
    for duration in DURATIONS:
        cases.append((json.dumps(_statement(result={"duration": duration})), None))
    for extensions in (
        {EXT_CLICKS: True, EXT_BYTES: 5},
        {EXT_CLICKS: "7", EXT_BYTES: 2.5},
        {EXT_CLICKS: None},
        {EXT_CLICKS: 10**20},
        {EXT_BYTES: -0.001},
        {"http://example.org/other": 1},
    ):
        cases.append((json.dumps(_statement(result={"extensions": extensions})), None))
    expected, got = _batch_rows(cases)
    _assert_same_rows(expected, got)


def test_batch_reads_repeated_keys_as_validated() -> None:
    """pydantic keeps the last of repeated keys; so do the columns (the JSON text is not re-read)."""
    text = json.dumps(_statement())[:-1] + ', "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}'
    assert text.count('"verb"') == 2
    expected, got = _batch_rows([(text, None)])
    _assert_same_rows(expected, got)
    assert got[0]["verb_id"] == "http://adlnet.gov/expapi/verbs/failed"


def test_batch_actor_keys_match_the_models() -> None:
    group = {
        "objectType": "Group",
        "member": [
            {"mbox": "mailto:zed@example.org"},
            {"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
            {"openid": "http://openid.example.org/1"},
            {"account": {"homePage": "https://lms.example.edu", "name": "é 1"}},
        ],
    }
    actors = [
        {"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
        {"openid": "http://openid.example.org/1"},
        group,
        {"objectType": "Group", "account": {"homePage": "https://lms.example.edu", "name": "g"}},
    ]
    cases = [(json.dumps(_statement(actor=actor)), None) for actor in actors]
    cases.append((json.dumps(_statement(object=group)), None))
    expected, got = _batch_rows(cases)
    _assert_same_rows(expected, got)
    assert got[2]["actor_key"].startswith("group:anonymous:")


def test_batch_sql_fallbacks_need_no_time_zone_database() -> None:
    """The SQL timestamp conversion gives what parse_timestamp gives, offsets applied by arithmetic."""
    con = duckdb.connect()
    sql = (
        f"SELECT {timestamp_utc_sql('t', 'p')} FROM "
        f"(SELECT t, {timestamp_parts_sql('t')} AS p FROM (SELECT unnest(?) AS t))"
    )
    got = [row[0] for row in con.execute(sql, [TIMESTAMPS]).fetchall()]
    want = [parse_timestamp(ts, require_offset=False).replace(tzinfo=None) for ts in TIMESTAMPS]
    assert got == want
