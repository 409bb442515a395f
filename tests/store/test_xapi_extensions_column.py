"""xAPI statements fill the ``extensions`` column like tabular importers do, and stores written
before that (schema 6) get it filled from ``raw`` when they are opened."""

from __future__ import annotations

import json
from pathlib import Path

from learnsight.ingest.xapi_json import ingest_xapi
from learnsight.store import open_store
from learnsight.xapi import vocab


def _statement(i: int, context_ext: dict[str, object] | None, result_ext: dict[str, object] | None) -> dict:
    s: dict[str, object] = {
        "id": f"00000000-0000-4000-8000-{i:012d}",
        "actor": {"account": {"homePage": "https://campus.example.edu", "name": f"S{i:04d}"}},
        "verb": {"id": vocab.REPLIED},
        "object": {"id": f"https://campus.example.edu/thread/{i}"},
        "timestamp": "2024-09-03T10:00:00Z",
        "context": {"platform": "lms"},
    }
    if context_ext is not None:
        s["context"] = {"platform": "lms", "extensions": context_ext}
    if result_ext is not None:
        s["result"] = {"extensions": result_ext}
    return s


def _write(path: Path) -> Path:
    rows = [
        _statement(1, {vocab.EXT_THREAD_AUTHOR: "account:https://campus.example.edu|S0002"}, None),
        _statement(2, None, {vocab.EXT_LATE: True, vocab.EXT_CLICKS: 3}),
        _statement(3, None, None),
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _columns(store_path: Path) -> dict[str, object]:
    with open_store(store_path) as store:
        rows = store.con.execute("SELECT actor_key, extensions FROM statements ORDER BY id").fetchall()
    return {key.rsplit("|", 1)[-1]: None if ext is None else json.loads(ext) for key, ext in rows}


def test_xapi_extensions_land_in_the_column(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        ingest_xapi(store, _write(tmp_path / "s.jsonl"))
    got = _columns(db)
    assert got["S0001"] == {"context": {vocab.EXT_THREAD_AUTHOR: "account:https://campus.example.edu|S0002"}}
    assert got["S0002"] == {"result": {vocab.EXT_LATE: True, vocab.EXT_CLICKS: 3}}
    assert got["S0003"] is None


def test_old_store_gets_the_column_from_raw(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        ingest_xapi(store, _write(tmp_path / "s.jsonl"))
        expected = store.con.execute("SELECT id, extensions FROM statements ORDER BY id").fetchall()
        # what a schema-6 store holds: the extensions only in raw
        store.con.execute("UPDATE statements SET extensions = NULL")
        store.con.execute("DELETE FROM schema_version WHERE version >= 7")
    with open_store(db) as store:
        migrated = store.con.execute("SELECT id, extensions FROM statements ORDER BY id").fetchall()
    assert [(i, None if e is None else json.loads(e)) for i, e in migrated] == [
        (i, None if e is None else json.loads(e)) for i, e in expected
    ]
