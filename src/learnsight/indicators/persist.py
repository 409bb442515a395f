"""Store the indicator tables (derived, replaced atomically) and read them back."""

from __future__ import annotations

import json

import pyarrow as pa

from learnsight.indicators.compute import IndicatorTables
from learnsight.store.duckdb_store import DuckDBStore

TABLES: dict[str, str] = {
    "indicators_student": "student",
    "indicators_course": "student_course",
    "indicator_missing": "missing",
    "indicator_coverage": "coverage",
    "indicator_cohort": "cohort",
}
"""Store table → attribute of :class:`IndicatorTables`."""


def save_indicators(store: DuckDBStore, tables: IndicatorTables) -> None:
    """Replace the indicator tables in one transaction and record the build (as-of, engine)."""
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        for name, attr in TABLES.items():
            data: pa.Table = getattr(tables, attr)
            con.register("_indicator_src", data)
            try:
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _indicator_src")
            finally:
                con.unregister("_indicator_src")
        con.execute(
            "INSERT OR REPLACE INTO derived_builds VALUES ('indicators', now()::TIMESTAMP, ?, ?)",
            [json.dumps({"as_of": tables.as_of.label(), "engine": tables.engine}), tables.seconds],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def wide_table(tables: IndicatorTables) -> pa.Table:
    """One row per student and course with the student-level columns beside the course-level ones.

    Students without any course appear once with ``course`` null.
    """
    import duckdb

    con = duckdb.connect()
    con.register("s", tables.student)
    con.register("c", tables.student_course)
    result: pa.Table = con.sql(
        "SELECT c.actor_key, c.course, s.* EXCLUDE (actor_key), c.* EXCLUDE (actor_key, course) "
        "FROM c JOIN s USING (actor_key) "
        "UNION ALL BY NAME "
        "SELECT s.actor_key, CAST(NULL AS VARCHAR) AS course, s.* EXCLUDE (actor_key) FROM s "
        "WHERE s.actor_key NOT IN (SELECT actor_key FROM c) "
        "ORDER BY actor_key, course NULLS FIRST"
    ).to_arrow_table()
    con.close()
    return result
