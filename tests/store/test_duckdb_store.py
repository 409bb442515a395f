"""The DuckDB store: migrations, atomic and idempotent ingest, profiles, rebuild."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnsight.errors import IngestError, Rejection
from learnsight.store import DuckDBStore, IngestBatch, open_store
from learnsight.store.duckdb_store import migrations
from learnsight.xapi.ids import deterministic_id, uuid5_sql


def _statements(n: int, *, start: int = 0) -> pa.Table:
    return pa.table(
        {
            "id": [str(deterministic_id("t", i)) for i in range(start, start + n)],
            "actor_key": [f"account:https://x.org|{i % 3}" for i in range(start, start + n)],
            "verb_id": ["http://adlnet.gov/expapi/verbs/experienced"] * n,
            "object_id": [f"https://x.org/item/{i}" for i in range(start, start + n)],
            "object_type": ["Activity"] * n,
            "ts": pa.array(
                [dt.datetime(2024, 1, 1) + dt.timedelta(hours=i) for i in range(n)],
                pa.timestamp("us"),
            ),
            "source": ["lms"] * n,
            "course": ["https://x.org/course/1"] * n,
            "quantity": [float(i) for i in range(n)],
            "score_raw": [50.0] * n,
            "score_min": [0.0] * n,
            "score_max": [100.0] * n,
        }
    )


def _snapshot(store: DuckDBStore) -> tuple[int, int, int, int]:
    return (
        store.count_statements(),
        int(store.scalar("SELECT count(*) FROM ingest_batches")),
        int(store.scalar("SELECT count(*) FROM profiles")),
        int(store.scalar("SELECT count(*) FROM rejected_rows")),
    )


def test_migrations_are_ordered_and_recorded(store: DuckDBStore) -> None:
    versions = [v for v, _ in migrations()]
    assert versions == sorted(versions) and versions[0] == 1
    assert store.schema_version() == versions[-1]
    assert store.migrate() == versions[-1]  # idempotent


def test_ingest_is_idempotent_and_persistent(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with open_store(path) as store:
        first = store.ingest(IngestBatch("t", "src", 10, statements=_statements(10)))
        assert (first.statements_written, first.statements_skipped) == (10, 0)
        again = store.ingest(IngestBatch("t", "src", 10, statements=_statements(10)))
        assert (again.statements_written, again.statements_skipped) == (0, 10)
        more = store.ingest(IngestBatch("t", "src", 10, statements=_statements(10, start=5)))
        assert (more.statements_written, more.statements_skipped) == (5, 5)
    with open_store(path) as store:
        assert store.count_statements() == 15
        assert store.stats().batches[-1]["statements_written"] == 5


def test_streamed_reader_is_counted(store: DuckDBStore) -> None:
    reader = _statements(7).to_reader(max_chunksize=2)
    report = store.ingest(IngestBatch("t", "src", 7, statements=reader))
    assert report.statements_written == 7


def test_failure_mid_stream_leaves_store_unchanged(store: DuckDBStore) -> None:
    store.ingest(IngestBatch("t", "src", 3, statements=_statements(3)))
    before = _snapshot(store)
    good = _statements(5, start=100)

    def batches() -> Iterator[pa.RecordBatch]:
        yield from good.to_batches(max_chunksize=2)[:2]
        raise OSError("disk went away")

    reader = pa.RecordBatchReader.from_batches(good.schema, batches())
    with pytest.raises(IngestError, match="nothing was written"):
        store.ingest(
            IngestBatch(
                "t",
                "broken.csv",
                5,
                statements=reader,
                profiles=pa.table({"actor_key": ["a"], "source": ["x"]}),
            )
        )
    assert _snapshot(store) == before


def test_rejections_over_allowance_write_nothing(store: DuckDBStore) -> None:
    rejects = [Rejection("f.csv", 7, "bad date"), Rejection("f.csv", 9, "bad number")]
    batch = IngestBatch("t", "f.csv", 12, statements=_statements(10), rejections=rejects)
    with pytest.raises(IngestError) as info:
        store.ingest(batch, max_rejects=1)
    assert "f.csv:7: bad date" in str(info.value)
    assert info.value.rejections[0].line == 7
    assert _snapshot(store) == (0, 0, 0, 0)
    report = store.ingest(batch, max_rejects=2)
    assert report.rows_rejected == 2
    assert store.con.execute("SELECT file, line, reason FROM rejected_rows ORDER BY line").fetchall() == [
        ("f.csv", 7, "bad date"),
        ("f.csv", 9, "bad number"),
    ]
    assert store.stats().rejected_rows == 2


def test_duplicate_ids_in_one_batch_are_refused(store: DuckDBStore) -> None:
    table = pa.concat_tables([_statements(3), _statements(1)])
    with pytest.raises(IngestError, match="more than once"):
        store.ingest(IngestBatch("t", "dup", 4, statements=table))
    assert store.count_statements() == 0


def test_bad_importer_columns_are_refused(store: DuckDBStore) -> None:
    with pytest.raises(IngestError, match="unknown"):
        store.ingest(
            IngestBatch("t", "x", 1, statements=_statements(1).append_column("bogus", pa.array([1])))
        )
    with pytest.raises(IngestError, match="missing"):
        store.ingest(IngestBatch("t", "x", 1, statements=_statements(1).drop_columns(["ts"])))


def test_profiles_upsert(store: DuckDBStore) -> None:
    profiles = pa.table(
        {
            "actor_key": ["a", "b"],
            "source": ["uci", "uci"],
            "prior_gpa": [3.0, 2.5],
            "attributes": ['{"sex": "F"}', '{"sex": "M"}'],
        }
    )
    assert store.ingest(IngestBatch("t", "p", 2, profiles=profiles)).profiles_written == 2
    changed = pa.table({"actor_key": ["a"], "source": ["uci"], "prior_gpa": [3.5]})
    store.ingest(IngestBatch("t", "p", 1, profiles=changed))
    rows = store.con.execute(
        "SELECT actor_key, course, prior_gpa FROM profiles ORDER BY actor_key"
    ).fetchall()
    assert rows == [("a", "", 3.5), ("b", "", 2.5)]


def test_get_statement_rebuilds_tabular_rows(store: DuckDBStore) -> None:
    store.ingest(IngestBatch("t", "src", 1, statements=_statements(1)))
    sid = str(deterministic_id("t", 0))
    statement = store.get_statement(sid)
    assert statement is not None
    assert statement["id"] == sid
    assert statement["actor"]["account"] == {"homePage": "https://x.org", "name": "0"}
    assert statement["verb"]["display"] == {"en-US": "experienced"}
    assert statement["result"]["score"] == {"raw": 50.0, "min": 0.0, "max": 100.0}
    assert statement["context"]["contextActivities"]["grouping"][0]["id"] == "https://x.org/course/1"
    assert statement["timestamp"] == "2024-01-01T00:00:00.000Z"
    assert store.get_statement(str(uuid.uuid4())) is None
    assert store.get_statement("not-a-uuid") is None


def test_read_only_store_cannot_be_created(tmp_path: Path) -> None:
    from learnsight.errors import StoreError

    with pytest.raises(StoreError, match="cannot open"):
        open_store(tmp_path / "missing" / "x.duckdb", read_only=True)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20), st.integers()), min_size=1, max_size=6))
def test_uuid5_sql_matches_python(parts: list[object]) -> None:
    con = duckdb.connect()
    literals = ["NULL" if p is None else ("'" + str(p).replace("'", "''") + "'") for p in parts]
    [(sql_id,)] = con.execute("SELECT " + uuid5_sql(literals)).fetchall()
    assert sql_id == deterministic_id(*parts)


def test_old_store_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with open_store(path) as store:
        store.ingest(IngestBatch("t", "src", 3, statements=_statements(3)))
        # Turn it back into a version-1 store.
        store.con.execute("DROP TABLE activities")
        store.con.execute("DROP TABLE activity_objects")
        store.con.execute("DROP TABLE derived_builds")
        store.con.execute("DROP TABLE courses")
        store.con.execute("DROP TABLE lrs_credentials")
        store.con.execute("DROP TABLE lrs_documents")
        store.con.execute("DELETE FROM schema_version WHERE version > 1")
        store.con.execute("DELETE FROM verbs")
    with open_store(path) as store:
        assert store.schema_version() == migrations()[-1][0]
        assert store.has_table("activities")
        assert store.count_statements() == 3
        assert store.scalar("SELECT count(*) FROM verbs") > 10


def test_courses_upsert(store: DuckDBStore) -> None:
    courses = pa.table(
        {
            "course": ["https://x.org/course/1"],
            "code": ["C1"],
            "start_ts": pa.array([dt.datetime(2024, 9, 2)], pa.timestamp("us")),
            "length_days": pa.array([112], pa.int32()),
            "source": ["test"],
        }
    )
    store.ingest(IngestBatch("t", "c", 1, courses=courses))
    store.ingest(IngestBatch("t", "c", 1, courses=courses.set_column(1, "code", pa.array(["C1b"]))))
    assert store.con.execute("SELECT code, start_ts, length_days FROM courses").fetchall() == [
        ("C1b", dt.datetime(2024, 9, 2), 112)
    ]
