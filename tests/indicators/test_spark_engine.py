"""Spark and DuckDB compute the same indicators from the same definitions.

``compute_indicators`` runs once on the store (DuckDB) and once on Spark over the store's Parquet
export; the ``student`` and ``student_course`` tables must agree row by row: same rows, nulls in
the same places, floats equal to 1e-9 relative.  Data: a simulated campus (every source, including
canteen swipes for the real-entropy grouped map) at three cut-offs, and one real OULAD
module-presentation.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from pyspark.sql import SparkSession

from learnsight.indicators.asof import AsOf
from learnsight.indicators.compute import compute_indicators
from learnsight.indicators.engine import DuckDBEngine
from learnsight.indicators.spark_engine import SparkEngine, to_spark_sql
from learnsight.ingest.oulad import TABLES, ingest_oulad
from learnsight.simulate import CampusConfig, simulate_campus
from learnsight.simulate.campus import write_campus
from learnsight.store import DuckDBStore, open_store
from learnsight.store.export import export_parquet

pytestmark = pytest.mark.slow

CAMPUS = CampusConfig(n_students=40, n_courses=3, n_weeks=4, seed=3)
OULAD_MODULE, OULAD_PRESENTATION = "GGG", "2014J"
"""The smallest OULAD module-presentation (~124k statements, 749 students)."""


def _integral(t: pa.DataType) -> bool:
    # DuckDB sums BIGINTs into HUGEINT (decimal128(38, 0) in Arrow); Spark into BIGINT.
    return pa.types.is_integer(t) or (pa.types.is_decimal(t) and t.scale == 0)


def assert_same_table(expected: pa.Table, actual: pa.Table, keys: list[str]) -> None:
    """Same columns, same rows after sorting by ``keys``, same nulls, floats to 1e-9 relative."""
    assert actual.column_names == expected.column_names
    assert actual.num_rows == expected.num_rows
    order = [(k, "ascending") for k in keys]
    expected, actual = expected.sort_by(order), actual.sort_by(order)
    for name in expected.column_names:
        e_type, a_type = expected.schema.field(name).type, actual.schema.field(name).type
        assert e_type == a_type or (_integral(e_type) and _integral(a_type)), (name, e_type, a_type)
        e_col, a_col = expected.column(name), actual.column(name)
        assert e_col.is_null().to_pylist() == a_col.is_null().to_pylist(), f"{name}: nulls differ"
        for i, (e, a) in enumerate(zip(e_col.to_pylist(), a_col.to_pylist(), strict=True)):
            if e is None:
                continue
            if isinstance(e, float):
                assert math.isclose(e, a, rel_tol=1e-9, abs_tol=1e-12), (name, i, e, a)
            else:
                assert e == a, (name, i, e, a)


def _compare(store: DuckDBStore, engine: SparkEngine, as_of: AsOf) -> tuple[pa.Table, pa.Table]:
    duck = compute_indicators(DuckDBEngine(store), as_of)
    spark = compute_indicators(engine, as_of)
    assert spark.engine == "spark" and spark.sources == duck.sources
    assert_same_table(duck.student, spark.student, ["actor_key"])
    assert_same_table(duck.student_course, spark.student_course, ["actor_key", "course"])
    return duck.student, duck.student_course


# -- the DuckDB → Spark SQL compiler --------------------------------------------------------------


def test_decimal_literals_become_doubles() -> None:
    sql = to_spark_sql("SELECT n * 1.0 / m AS share, CAST(2.5 AS DOUBLE) AS x, 3 AS k FROM t")
    assert "CAST(1.0 AS DOUBLE)" in sql
    assert "CAST(2.5 AS DOUBLE)" in sql and "CAST(CAST" not in sql
    assert " 3 AS k" in sql


def test_computed_intervals_become_products() -> None:
    sql = to_spark_sql("SELECT start_ts + INTERVAL (14) DAY AS cutoff FROM courses")
    assert "(14) * INTERVAL '1' DAY" in sql


def test_decimal_division_matches_duckdb(spark: SparkSession) -> None:
    sql = "SELECT 1 * 1.0 / 3 AS third, datediff('day', DATE '2024-01-01', DATE '2024-03-01') AS days"
    duck = duckdb.sql(sql).fetchall()[0]
    sparked = spark.sql(to_spark_sql(sql)).collect()[0]
    assert sparked["third"] == duck[0] == 1 / 3
    assert sparked["days"] == duck[1] == 60


# -- simulated campus ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def campus(tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> tuple[DuckDBStore, SparkEngine]:
    folder = tmp_path_factory.mktemp("spark-campus")
    store = open_store(folder / "store.duckdb")
    write_campus(store, simulate_campus(CAMPUS))
    export_parquet(store, folder / "export")
    return store, SparkEngine(folder / "export", spark)


@pytest.mark.parametrize(
    "as_of",
    [AsOf(), AsOf(date=dt.datetime(2024, 9, 16, 8, 30)), AsOf(week=2)],
    ids=["all", "date", "week2"],
)
def test_campus_indicators_equal_duckdb(campus: tuple[DuckDBStore, SparkEngine], as_of: AsOf) -> None:
    store, engine = campus
    student, course = _compare(store, engine, as_of)
    # The comparison is only meaningful if the grouped map and the SQL produced real values.
    assert student.column("meal_regularity_e").null_count < student.num_rows
    assert student.column("rest_regularity_z").null_count < student.num_rows
    assert course.column("online_completion_w").null_count < course.num_rows


def test_spark_views_see_utc_wall_clock_timestamps(campus: tuple[DuckDBStore, SparkEngine]) -> None:
    store, engine = campus
    sql = "SELECT min(ts) AS lo, max(ts) AS hi, sum(hour(ts)) AS hours FROM statements"
    assert engine.query(sql).to_pylist() == store.con.sql(sql).to_arrow_table().to_pylist()
    types = engine.spark.sql("SELECT ts, stored FROM statements").schema
    assert [f.dataType.typeName() for f in types.fields] == ["timestamp_ntz", "timestamp_ntz"]


# -- real data: one OULAD module-presentation -----------------------------------------------------


def _oulad_subset(oulad: Path, out: Path) -> Path:
    """The seven OULAD files restricted to one module-presentation, written with DuckDB."""
    out.mkdir()
    con = duckdb.connect()
    module, presentation = OULAD_MODULE, OULAD_PRESENTATION

    def source(table: str) -> str:
        path = next(p for p in (oulad / f"{table}.csv", oulad / f"{table}.csv.gz") if p.exists())
        return f"read_csv('{path}', all_varchar = true, header = true)"

    in_module = f"code_module = '{module}' AND code_presentation = '{presentation}'"
    for table in TABLES:
        if table == "studentAssessment":
            where = f"id_assessment IN (SELECT id_assessment FROM {source('assessments')} WHERE {in_module})"
        else:
            where = in_module
        con.execute(
            f"COPY (SELECT * FROM {source(table)} WHERE {where}) TO '{out / (table + '.csv')}' (HEADER)"
        )
    con.close()
    return out


@pytest.mark.realdata
def test_oulad_module_indicators_equal_duckdb(oulad_dir: Path, tmp_path: Path, spark: SparkSession) -> None:
    store = open_store(tmp_path / "store.duckdb")
    try:
        ingest_oulad(store, _oulad_subset(oulad_dir, tmp_path / "oulad"))
        courses = store.con.execute("SELECT DISTINCT course FROM statements").fetchall()
        assert courses == [(f"https://oulad.open.ac.uk/course/{OULAD_MODULE}/{OULAD_PRESENTATION}",)]
        export_parquet(store, tmp_path / "export")
        engine = SparkEngine(tmp_path / "export", spark)
        for as_of in (AsOf(), AsOf(week=10)):
            student, course = _compare(store, engine, as_of)
            assert student.num_rows > 500
            assert course.column("clicks").null_count < course.num_rows
    finally:
        store.close()
