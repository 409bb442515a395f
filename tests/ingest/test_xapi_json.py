"""Importing xAPI JSON / JSON Lines files: validation, atomicity, idempotence, conflicts, voiding."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from learnsight.errors import IngestError
from learnsight.ingest import xapi_json
from learnsight.ingest.xapi_json import ingest_xapi
from learnsight.store import DuckDBStore
from learnsight.xapi import parse_statement, statement_columns
from learnsight.xapi.vocab import VOIDED

IDS = [f"3f2504e0-4f89-41d3-9a0c-0305e82c33{i:02d}" for i in range(100)]


def _statement(i: int, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": IDS[i],
        "actor": {
            "name": f"Student {i}",
            "account": {"homePage": "https://lms.example.edu", "name": f"s{i}"},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
        "object": {
            "id": f"http://example.org/unit/{i}",
            "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"},
        },
        "result": {"score": {"scaled": 0.75}, "duration": "PT10M"},
        "timestamp": f"2024-03-01T09:{i % 60:02d}:00Z",
    }
    statement.update(extra)
    return statement


def _jsonl(path: Path, statements: list[Any]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in statements), encoding="utf-8")
    return path


def _retrieved(store: DuckDBStore, statement_id: str) -> dict[str, Any] | None:
    """The stored statement without the ``stored`` property the store adds."""
    statement = store.get_statement(statement_id)
    if statement is not None:
        assert "stored" in statement
        statement.pop("stored")
    return statement


def _batches(store: DuckDBStore) -> int:
    return int(store.scalar("SELECT count(*) FROM ingest_batches"))


def test_jsonl_import(store: DuckDBStore, tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "s.jsonl", [_statement(i) for i in range(5)])
    report = ingest_xapi(store, source)
    assert (report.rows_read, report.statements_written, report.rows_rejected) == (5, 5, 0)
    assert report.kind == "xapi"
    assert store.count_statements() == 5
    assert _retrieved(store, IDS[3]) == _statement(3)


def test_json_array_and_gzip_import(store: DuckDBStore, tmp_path: Path) -> None:
    array = tmp_path / "a.json"
    array.write_text(json.dumps([_statement(i) for i in range(3)], indent=2), encoding="utf-8")
    assert ingest_xapi(store, array).statements_written == 3
    gz = tmp_path / "b.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(_statement(i)) + "\n" for i in range(3, 7))
    report = ingest_xapi(store, gz)
    assert (report.rows_read, report.statements_written) == (4, 4)
    assert report.details["format"] == "jsonl"
    assert store.count_statements() == 7


def test_reimport_writes_nothing(store: DuckDBStore, tmp_path: Path) -> None:
    statements = [_statement(i) for i in range(4)]
    statements.append({k: v for k, v in _statement(4).items() if k != "id"})
    source = _jsonl(tmp_path / "s.jsonl", statements)
    first = ingest_xapi(store, source)
    second = ingest_xapi(store, source)
    assert first.statements_written == 5
    assert (second.statements_written, second.statements_skipped) == (0, 5)
    assert store.count_statements() == 5


def test_bad_statement_rejects_the_file_and_leaves_the_store_unchanged(
    store: DuckDBStore, tmp_path: Path
) -> None:
    ingest_xapi(store, _jsonl(tmp_path / "ok.jsonl", [_statement(0)]))
    before = (store.count_statements(), _batches(store))
    bad = _statement(2, result={"score": {"scaled": 1.5}})
    source = _jsonl(tmp_path / "bad.jsonl", [_statement(1), bad, _statement(3)])
    with pytest.raises(IngestError) as info:
        ingest_xapi(store, source)
    assert [(r.line, r.reason.split(":")[0]) for r in info.value.rejections] == [(2, "result.score.scaled")]
    assert str(source) in str(info.value)
    assert (store.count_statements(), _batches(store)) == before


def test_truncated_gzip_names_the_file(store: DuckDBStore, tmp_path: Path) -> None:
    gz = tmp_path / "cut.jsonl.gz"
    payload = gzip.compress("".join(json.dumps(_statement(i)) + "\n" for i in range(50)).encode())
    gz.write_bytes(payload[: len(payload) // 2])
    before = (store.count_statements(), _batches(store))
    with pytest.raises(IngestError) as info:
        ingest_xapi(store, gz)
    assert info.value.file == str(gz)
    assert (store.count_statements(), _batches(store)) == before


def test_max_rejects_records_the_rejection(store: DuckDBStore, tmp_path: Path) -> None:
    lines = [json.dumps(_statement(0)), "", "{not json", json.dumps(_statement(1))]
    source = tmp_path / "s.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest_xapi(store, source, max_rejects=1)
    assert (report.rows_read, report.statements_written, report.rows_rejected) == (3, 2, 1)
    assert report.rejections[0].line == 3
    assert "invalid JSON" in report.rejections[0].reason
    assert store.con.execute("SELECT line FROM rejected_rows").fetchall() == [(3,)]


def test_json_array_rejection_names_the_statement(store: DuckDBStore, tmp_path: Path) -> None:
    source = tmp_path / "a.json"
    source.write_text(json.dumps([_statement(0), {"actor": {}}, 5]), encoding="utf-8")
    report = ingest_xapi(store, source, max_rejects=2)
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejections] == [
        (None, "statement 2"),
        (None, "statement 3"),
    ]
    assert report.rejections[0].reason.startswith("statement 2: actor: ")


def test_invalid_json_array_is_a_file_error(store: DuckDBStore, tmp_path: Path) -> None:
    source = tmp_path / "a.json"
    source.write_text('[{"actor": }]', encoding="utf-8")
    with pytest.raises(IngestError, match="invalid JSON at line 1"):
        ingest_xapi(store, source)


def test_duplicates_in_file(store: DuckDBStore, tmp_path: Path) -> None:
    same = _jsonl(tmp_path / "same.jsonl", [_statement(0), _statement(0), _statement(1)])
    report = ingest_xapi(store, same)
    assert (report.rows_read, report.statements_written) == (3, 2)
    assert report.details["duplicates_in_file"] == 1
    changed = _statement(2, verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    differ = _jsonl(tmp_path / "differ.jsonl", [_statement(2), changed])
    with pytest.raises(IngestError) as info:
        ingest_xapi(store, differ)
    assert info.value.rejections[0].line == 2
    assert "already appears at line 1" in info.value.rejections[0].reason


def test_conflict_with_the_store_is_a_rejection(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_xapi(store, _jsonl(tmp_path / "a.jsonl", [_statement(0)]))
    changed = _statement(0, result={"score": {"scaled": 0.1}})
    source = _jsonl(tmp_path / "b.jsonl", [changed, _statement(1)])
    with pytest.raises(IngestError, match="xAPI conflict"):
        ingest_xapi(store, source)
    report = ingest_xapi(store, source, max_rejects=1)
    assert report.statements_written == 1
    assert report.details["conflicts_with_store"] == 1
    assert _retrieved(store, IDS[0]) == _statement(0)


def test_same_content_with_other_key_order_is_not_a_conflict(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_xapi(store, _jsonl(tmp_path / "a.jsonl", [_statement(0)]))
    reordered = dict(reversed(list(_statement(0).items())))
    reordered["result"] = {"duration": "PT10M", "score": {"scaled": 0.75}}
    report = ingest_xapi(store, _jsonl(tmp_path / "b.jsonl", [reordered]))
    assert (report.statements_written, report.statements_skipped) == (0, 1)


def test_voiding_statement_marks_its_target(store: DuckDBStore, tmp_path: Path) -> None:
    voiding = _statement(
        9,
        verb={"id": VOIDED, "display": {"en-US": "voided"}},
        object={"objectType": "StatementRef", "id": IDS[0]},
    )
    del voiding["result"]
    ingest_xapi(store, _jsonl(tmp_path / "a.jsonl", [_statement(0), _statement(1), voiding]))
    voided = store.con.execute(
        "SELECT CAST(id AS VARCHAR) FROM statements WHERE voided ORDER BY 1"
    ).fetchall()
    assert voided == [(IDS[0],)]
    assert _retrieved(store, IDS[9]) == voiding


def test_version_rules_can_be_imposed(store: DuckDBStore, tmp_path: Path) -> None:
    statement = _statement(0, timestamp="2024-03-01T09:00:00")
    source = _jsonl(tmp_path / "s.jsonl", [statement])
    with pytest.raises(IngestError, match="RFC 3339"):
        ingest_xapi(store, source, version="2.0.0")
    assert ingest_xapi(store, source).statements_written == 1


def test_missing_file(store: DuckDBStore, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="file not found"):
        ingest_xapi(store, tmp_path / "nope.jsonl")


def test_jsonl_statement_is_stored_as_received(store: DuckDBStore, tmp_path: Path) -> None:
    text = json.dumps(_statement(0), indent=None, separators=(", ", " : "))
    source = tmp_path / "s.jsonl"
    source.write_text(text + "\n", encoding="utf-8")
    ingest_xapi(store, source)
    assert store.scalar("SELECT CAST(raw AS VARCHAR) FROM statements") == text
    assert _retrieved(store, IDS[0]) == _statement(0)


def test_same_json_in_another_text_is_a_duplicate(store: DuckDBStore, tmp_path: Path) -> None:
    first = _statement(0)
    reordered = dict(reversed(list(first.items())))
    reordered["result"] = {"duration": "PT10M", "score": {"scaled": 0.75}}
    report = ingest_xapi(store, _jsonl(tmp_path / "s.jsonl", [first, reordered]))
    assert (report.rows_read, report.statements_written, report.details["duplicates_in_file"]) == (2, 1, 1)


def test_true_is_not_one(store: DuckDBStore, tmp_path: Path) -> None:
    ext = "http://example.org/ext/flag"
    one = _statement(0, result={"extensions": {ext: 1}})
    true = _statement(0, result={"extensions": {ext: True}})
    with pytest.raises(IngestError, match="already appears at line 1"):
        ingest_xapi(store, _jsonl(tmp_path / "a.jsonl", [one, true]))
    ingest_xapi(store, _jsonl(tmp_path / "b.jsonl", [one]))
    with pytest.raises(IngestError, match="xAPI conflict"):
        ingest_xapi(store, _jsonl(tmp_path / "c.jsonl", [true]))


def test_duplicates_across_chunks_and_rejections_in_line_order(
    store: DuckDBStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xapi_json, "CHUNK_LINES", 3)
    ingest_xapi(store, _jsonl(tmp_path / "old.jsonl", [_statement(9)]))
    statements: list[Any] = [_statement(i) for i in range(8)]
    statements.insert(1, _statement(9, verb={"id": "http://adlnet.gov/expapi/verbs/failed"}))  # line 2
    statements.append(_statement(1))  # line 10: same as line 3, three chunks later
    statements.append(_statement(2, result={"score": {"scaled": 0.1}}))  # line 11
    statements.append({"actor": {}})  # line 12
    source = _jsonl(tmp_path / "s.jsonl", statements)
    report = ingest_xapi(store, source, max_rejects=3)
    assert [r.line for r in report.rejections] == [2, 11, 12]
    assert "xAPI conflict" in report.rejections[0].reason
    assert "already appears at line 4" in report.rejections[1].reason
    assert (report.statements_written, report.details["duplicates_in_file"]) == (8, 1)
    assert _retrieved(store, IDS[1]) == _statement(1)


def test_statements_without_id_get_the_python_path_id(store: DuckDBStore, tmp_path: Path) -> None:
    statement = {k: v for k, v in _statement(0).items() if k != "id"}
    ingest_xapi(store, _jsonl(tmp_path / "s.jsonl", [statement, statement]))
    row = statement_columns(parse_statement(statement), stored=datetime(2024, 1, 1), source=statement)
    assert store.scalar("SELECT CAST(id AS VARCHAR) FROM statements") == row["id"]
    assert store.scalar("SELECT CAST(raw AS VARCHAR) FROM statements") == row["raw"]


def test_columns_of_a_repeated_key_follow_validation(store: DuckDBStore, tmp_path: Path) -> None:
    text = json.dumps(_statement(0))[:-1] + ', "timestamp": "2024-05-01T00:00:00+02:00"}'
    source = tmp_path / "s.jsonl"
    source.write_text(text + "\n", encoding="utf-8")
    ingest_xapi(store, source)
    assert store.scalar("SELECT ts FROM statements") == datetime(2024, 4, 30, 22, 0)


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_processes_change_nothing(
    store: DuckDBStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(xapi_json, "CHUNK_LINES", 4)
    statements: list[Any] = [_statement(i) for i in range(30)]
    statements[7] = {"actor": {}}
    statements[20] = _statement(3)
    statements[25] = {k: v for k, v in _statement(25).items() if k != "id"}
    report = ingest_xapi(store, _jsonl(tmp_path / "s.jsonl", statements), max_rejects=1, workers=workers)
    assert (report.rows_read, report.statements_written, report.rows_rejected) == (30, 28, 1)
    assert report.rejections[0].line == 8
    assert report.details["duplicates_in_file"] == 1
    rows = store.con.execute(
        "SELECT CAST(id AS VARCHAR), actor_key, ts, duration_s FROM statements ORDER BY raw::VARCHAR"
    ).fetchall()
    assert len(rows) == 28
    assert _retrieved(store, IDS[29]) == _statement(29)
