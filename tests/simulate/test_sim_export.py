"""``export_sources`` writes each source's raw files in the layouts the CSV importer maps."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from learnsight.simulate import Campus, export_sources
from learnsight.simulate.export import JSONL_SOURCES
from learnsight.store import DuckDBStore
from learnsight.store.rebuild import rebuild_statement
from learnsight.xapi.vocab import COURSE, VERB_DISPLAY

HEADERS = {
    "canteen": ["card_id", "timestamp", "terminal", "canteen", "amount"],
    "dorm": ["card_id", "timestamp", "gate", "direction"],
    "library": ["student_id", "loan_time", "book_id", "title", "category", "author", "return_time"],
    "network": ["account", "session_start", "session_end", "bytes", "ap"],
}
TIME_COLUMNS = {
    "canteen": ["timestamp"],
    "dorm": ["timestamp"],
    "library": ["loan_time", "return_time"],
    "network": ["session_start", "session_end"],
}


@pytest.fixture(scope="module")
def exported(small_campus: Campus, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return export_sources(small_campus, tmp_path_factory.mktemp("sources"))


def test_csv_layouts(exported: dict[str, Path], small_campus: Campus) -> None:
    counts = small_campus.counts_by_source()
    assert set(exported) == {*HEADERS, "lms"}
    for name, header in HEADERS.items():
        assert exported[name].name == f"{name}.csv"
        with exported[name].open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == header
        assert len(rows) - 1 == counts[name]
        for row in rows[1:]:
            record = dict(zip(header, row, strict=True))
            assert record[header[0]].startswith("S")
            for col in TIME_COLUMNS[name]:
                if record[col]:
                    datetime.strptime(record[col], "%Y-%m-%d %H:%M:%S")
    with exported["canteen"].open(encoding="utf-8") as fh:
        first = next(csv.DictReader(fh))
    assert first["canteen"].endswith("canteen") and first["terminal"].startswith("T")
    assert float(first["amount"]) > 0 and len(first["amount"].split(".")[1]) == 2
    with exported["dorm"].open(encoding="utf-8") as fh:
        assert {row["direction"] for row in csv.DictReader(fh)} == {"in", "out"}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_jsonl_statements(exported: dict[str, Path], small_campus: Campus) -> None:
    statements = _jsonl(exported["lms"])
    counts = small_campus.counts_by_source()
    assert len(statements) == sum(counts[s] for s in JSONL_SOURCES)
    for st in statements:
        assert isinstance(st, dict)
        assert st["version"] == "1.0.3"
        assert st["actor"]["account"]["homePage"] == "https://campus.example.edu"
        assert st["verb"]["display"]["en-US"]
        assert st["object"]["definition"]["type"]
        assert st["timestamp"].endswith("Z")
        assert st["context"]["platform"] in JSONL_SOURCES
        grouping = st["context"]["contextActivities"]["grouping"][0]
        assert grouping["definition"]["type"] == COURSE
        assert grouping["id"].startswith("https://campus.example.edu/course/C")


def test_jsonl_equals_rebuilt_statements(exported: dict[str, Path], small_campus: Campus) -> None:
    by_id = {st["id"]: st for st in _jsonl(exported["lms"])}
    for row in small_campus.statements.to_pylist():
        if row["source"] not in JSONL_SOURCES:
            continue
        expected = rebuild_statement({**row, "verb_display": VERB_DISPLAY[row["verb_id"]]})
        assert by_id[row["id"]] == expected


MAPPINGS = {
    "canteen": "campus-card-canteen",
    "dorm": "dorm-gate",
    "library": "library-loans",
    "network": "network-sessions",
}


def test_csv_files_round_trip_through_shipped_mappings(
    exported: dict[str, Path], small_campus: Campus, store: DuckDBStore
) -> None:
    """Importing the CSV files gives back the simulated statements (bar ids and extensions)."""
    csv_mapped = pytest.importorskip("learnsight.ingest.csv_mapped")
    for name, mapping in MAPPINGS.items():
        report = csv_mapped.ingest_csv(store, exported[name], mapping)
        assert report.statements_written == small_campus.counts_by_source()[name]
    store.con.register("sim", small_campus.statements)
    cols = "source, actor_key, verb_id, object_id, ts, quantity, duration_s"
    sources = ", ".join(f"'{s}'" for s in MAPPINGS)
    for a, b in (("statements", "sim"), ("sim", "statements")):
        differ = store.con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM {a} WHERE source IN ({sources}) "
            f"EXCEPT ALL SELECT {cols} FROM {b})"
        ).fetchall()
        assert differ == [(0,)]


def test_jsonl_round_trips_through_the_xapi_importer(
    exported: dict[str, Path], small_campus: Campus, store: DuckDBStore
) -> None:
    """lms.jsonl is valid xAPI: the importer takes every line and stores the simulated columns."""
    xapi_json = pytest.importorskip("learnsight.ingest.xapi_json")
    report = xapi_json.ingest_xapi(store, exported["lms"])
    counts = small_campus.counts_by_source()
    assert report.statements_written == sum(counts[s] for s in JSONL_SOURCES)
    store.con.register("sim", small_campus.statements)
    cols = (
        "id, source, actor_key, verb_id, object_id, activity_type, ts, course, score_raw, "
        "score_min, score_max, score_scaled, success, completion, response, duration_s"
    )
    differ = store.con.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM statements EXCEPT ALL SELECT {cols} FROM sim)"
    ).fetchall()
    assert differ == [(0,)]
