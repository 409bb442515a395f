"""Parquet export: manifest, Hive partitions, atomic replace, exact round trip of statement columns."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from learnsight.activities.build import build_activities
from learnsight.errors import StoreError
from learnsight.simulate import CampusConfig, simulate_campus
from learnsight.simulate.campus import write_campus
from learnsight.store import DuckDBStore, IngestBatch
from learnsight.store import export as export_module
from learnsight.store.export import MANIFEST, export_parquet, read_manifest

FULL_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
FULL_STATEMENT = {
    "id": FULL_ID,
    "actor_key": "mbox:mailto:ada@example.org",
    "actor_name": "Ada",
    "verb_id": "http://adlnet.gov/expapi/verbs/answered",
    "object_id": "https://x.org/quiz/1",
    "object_type": "Activity",
    "activity_type": "http://adlnet.gov/expapi/activities/assessment",
    "ts": dt.datetime(2023, 12, 31, 23, 59, 59, 123456),
    "stored": dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    "source": "lms",
    "course": "https://x.org/course/1",
    "registration": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "score_scaled": 0.875,
    "score_raw": 7.0,
    "score_min": 0.0,
    "score_max": 8.0,
    "success": True,
    "completion": False,
    "response": "b[,]c",
    "duration_s": 12.5,
    "quantity": 3.0,
    "extensions": '{"context":{"https://x.org/ext/a.b":"é \\"q\\""}}',
    "raw": '{"id":"6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"}',
    "voided": False,
}
"""One statement with every column set (a year-boundary timestamp with microseconds, quotes, UTF-8)."""


@pytest.fixture
def campus_store(store: DuckDBStore) -> DuckDBStore:
    write_campus(store, simulate_campus(CampusConfig(n_students=12, n_courses=2, n_weeks=2, seed=1)))
    types = {k: pa.timestamp("us") if k in ("ts", "stored") else None for k in FULL_STATEMENT}
    row = pa.table({k: pa.array([v], types[k]) for k, v in FULL_STATEMENT.items()})
    store.ingest(IngestBatch(kind="test", source="test", rows_read=1, statements=row))
    return store


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _temporaries(folder: Path) -> list[Path]:
    """Hidden work folders an export may create next to its target (none must survive)."""
    return [p for p in folder.iterdir() if p.name.startswith(".") and p.suffix in (".partial", ".old")]


def test_manifest_counts_equal_the_store(campus_store: DuckDBStore, tmp_path: Path) -> None:
    out = tmp_path / "export"
    report = export_parquet(campus_store, out)
    manifest = read_manifest(out)
    for table in ("statements", "profiles", "courses", "verbs"):
        expected = campus_store.scalar(f"SELECT count(*) FROM {table}")
        assert manifest["rows"][table] == expected == report.rows[table], table
    assert manifest["schema_version"] == campus_store.schema_version()
    assert manifest["store"] == str(campus_store.path.resolve()) if campus_store.path else ":memory:"
    assert "activities" not in manifest["rows"]
    assert not (out / "activities").exists()
    dt.datetime.fromisoformat(manifest["exported_at"])
    # Every row of the Parquet files is counted, once.
    n = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{out}/statements/**/*.parquet', hive_partitioning = true)"
    ).fetchall()[0][0]
    assert n == manifest["rows"]["statements"]


def test_partition_folders_by_source(campus_store: DuckDBStore, tmp_path: Path) -> None:
    out = tmp_path / "export"
    report = export_parquet(campus_store, out)
    expected = {
        f"source={s}": n
        for s, n in campus_store.con.execute(
            "SELECT source, count(*) FROM statements GROUP BY ALL"
        ).fetchall()
    }
    assert report.partitions == expected
    assert set(expected) >= {"source=lms", "source=canteen", "source=camera"}
    for folder, n in expected.items():
        files = list((out / "statements" / folder).glob("*.parquet"))
        assert files, folder
        assert sum(pq.read_metadata(f).num_rows for f in files) == n
    for name in ("profiles", "courses", "verbs"):
        assert (out / f"{name}.parquet").is_file()


def test_reexport_without_overwrite_fails_and_keeps_the_old_export(
    campus_store: DuckDBStore, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    export_parquet(campus_store, out)
    before = _files(out)
    with pytest.raises(StoreError, match=str(out)):
        export_parquet(campus_store, out)
    assert _files(out) == before
    assert not _temporaries(tmp_path)


def test_overwrite_replaces_and_leaves_no_temporary_folders(
    campus_store: DuckDBStore, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    export_parquet(campus_store, out)
    (out / "stale.txt").write_text("from an older export")
    report = export_parquet(campus_store, out, overwrite=True)
    assert not (out / "stale.txt").exists()
    assert report.rows["statements"] == campus_store.count_statements()
    assert not _temporaries(tmp_path)


def test_empty_folder_is_a_valid_target_and_a_file_is_not(campus_store: DuckDBStore, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    export_parquet(campus_store, tmp_path / "empty")
    assert (tmp_path / "empty" / MANIFEST).is_file()
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        export_parquet(campus_store, tmp_path / "file", overwrite=True)


def test_failed_export_leaves_nothing_half_written(
    campus_store: DuckDBStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "export"
    export_parquet(campus_store, out)
    before = _files(out)
    real_copy = export_module._copy

    def failing_copy(
        store: DuckDBStore, select: str, target: Path, partition_by: tuple[str, ...] = ()
    ) -> None:
        if target.name == "verbs.parquet":
            raise StoreError(f"{target}: disk full (simulated)")
        real_copy(store, select, target, partition_by)

    monkeypatch.setattr(export_module, "_copy", failing_copy)
    with pytest.raises(StoreError, match="disk full"):
        export_parquet(campus_store, out, overwrite=True)
    with pytest.raises(StoreError, match="disk full"):
        export_parquet(campus_store, tmp_path / "fresh")
    assert _files(out) == before
    assert not (tmp_path / "fresh").exists()
    assert not _temporaries(tmp_path)


def test_statement_columns_round_trip_exactly(campus_store: DuckDBStore, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_parquet(campus_store, out)
    exported = duckdb.sql(
        f"SELECT * FROM read_parquet('{out}/statements/**/*.parquet', "
        f"hive_partitioning = true) WHERE id = '{FULL_ID}'"
    ).to_arrow_table()
    assert exported.num_rows == 1
    row = exported.to_pylist()[0]
    for column, value in FULL_STATEMENT.items():
        assert row[column] == value, column
    stored = campus_store.con.sql(
        "SELECT * REPLACE (CAST(id AS VARCHAR) AS id, CAST(registration AS VARCHAR) AS registration, "
        "CAST(extensions AS VARCHAR) AS extensions, CAST(raw AS VARCHAR) AS raw) "
        "FROM statements WHERE id = ?",
        params=[FULL_ID],
    ).to_arrow_table()
    assert row == stored.to_pylist()[0]
    # Portable physical types: text ids and JSON, timestamps in microseconds without a time zone.
    schema = pq.read_schema(next((out / "statements" / "source=lms").glob("*.parquet")))
    assert schema.field("id").type == pa.string()
    assert schema.field("extensions").type == pa.string()
    assert schema.field("ts").type == pa.timestamp("us")
    assert schema.field("stored").type == pa.timestamp("us")
    assert "source" not in schema.names  # only a folder name


def test_activities_are_exported_when_built(campus_store: DuckDBStore, tmp_path: Path) -> None:
    summary = build_activities(campus_store)
    out = tmp_path / "export"
    report = export_parquet(campus_store, out)
    n = campus_store.scalar("SELECT count(*) FROM activities")
    assert n > 0 and report.rows["activities"] == n
    assert any((out / "activities").glob("source=*/*.parquet"))
    assert json.loads((out / MANIFEST).read_text())["rows"]["activities"] == n
    assert summary is not None


def test_read_manifest_rejects_a_folder_that_is_not_an_export(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a learnsight Parquet export"):
        read_manifest(tmp_path)
