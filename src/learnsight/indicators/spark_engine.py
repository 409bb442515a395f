"""The indicator engine on Apache Spark, over a ``learnsight export parquet`` folder.

Nothing about an indicator is written twice: :class:`SparkEngine` receives the very DuckDB SQL that
:class:`~learnsight.indicators.engine.DuckDBEngine` runs (``indicators/sql/*.sql`` and the as-of
views) and compiles it to Spark SQL with SQLGlot (:func:`to_spark_sql`); sequence measures run as
a grouped map of the same pure Python function (``groupBy(...).applyInPandas``).

SQLGlot's DuckDB → Spark translation is exact for these definitions except for two semantic gaps,
closed here by small generic rewrites of the syntax tree rather than by editing the SQL:

* **Decimal literals.**  ``1.0`` is a ``DECIMAL`` in both dialects, but DuckDB divides decimals as
  ``DOUBLE`` while Spark keeps a ``DECIMAL`` rounded to 6 digits (``1 * 1.0 / 3`` → ``0.333333``).
  Fractional literals are therefore cast to ``DOUBLE``, which is what DuckDB computes with.
* **Computed intervals.**  DuckDB accepts ``INTERVAL (14) DAY``; Spark only takes a literal
  string, so ``INTERVAL (expr) unit`` becomes ``(expr) * INTERVAL '1' unit``.

JSON paths with quoted IRI keys (``$.context."https://…"`` → ``$.context['https://…']``),
``datediff('day', a, b)`` (→ ``timestampdiff``), ``count(DISTINCT …) FILTER (WHERE …)`` and
``least`` translate correctly as they are; the equality tests against DuckDB keep it so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]  # no stubs; pandas-stubs is not a dependency
import pyarrow as pa
import sqlglot
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema
from sqlglot import exp

from learnsight.errors import LearnsightError
from learnsight.indicators.engine import GroupFunction
from learnsight.store.export import SINGLE_FILE_TABLES, read_manifest

__all__ = ["SparkEngine", "local_spark", "to_spark_sql"]


def local_spark(app_name: str = "learnsight", cores: int = 2, memory: str = "2g") -> SparkSession:
    """A local-mode Spark session for one machine (tests, benchmarks, the CLI).

    UI off, session time zone UTC (so any ``TIMESTAMP`` arithmetic sees the stored UTC values),
    shuffle partitions sized to the cores (Spark's default of 200 makes small jobs crawl), Python
    workers on this interpreter (they must import learnsight), and only errors logged.
    ``memory`` is the driver JVM heap; it takes effect only if no JVM is running yet.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(max(2, 2 * cores)))
        .config("spark.default.parallelism", str(max(2, 2 * cores)))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# -- DuckDB SQL → Spark SQL ---------------------------------------------------------------------


def _double_literals(node: exp.Expression) -> exp.Expression:
    """``1.0`` → ``CAST(1.0 AS DOUBLE)``: DuckDB computes with decimals as doubles, Spark does not."""
    if (
        isinstance(node, exp.Literal)
        and not node.is_string
        and any(c in node.this for c in ".eE")
        and not isinstance(node.parent, exp.Cast)
    ):
        return exp.cast(node.copy(), exp.DataType.build("DOUBLE"))
    return node


def _computed_intervals(node: exp.Expression) -> exp.Expression:
    """``INTERVAL (expr) DAY`` → ``(expr) * INTERVAL '1' DAY`` (Spark takes only literal strings)."""
    if isinstance(node, exp.Interval) and node.this is not None and not node.this.is_string:
        unit = node.args.get("unit")
        one = exp.Interval(this=exp.Literal.string("1"), unit=unit.copy() if unit else None)
        value = node.this if isinstance(node.this, exp.Paren) else exp.paren(node.this.copy())
        return exp.Mul(this=value.copy(), expression=one)
    return node


_REWRITES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (
    _double_literals,
    _computed_intervals,
)


def to_spark_sql(sql: str) -> str:
    """Compile one DuckDB statement to Spark SQL (SQLGlot plus the rewrites in the module docstring)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for rewrite in _REWRITES:
        tree = tree.transform(rewrite)
    return tree.sql(dialect="spark")


# -- the engine ---------------------------------------------------------------------------------


class SparkEngine:
    """Runs the indicator pipeline on Spark over a Parquet export.

    Parameters
    ----------
    parquet_dir
        A folder written by :func:`learnsight.store.export.export_parquet`.
    spark
        The session to run on (default: :func:`local_spark`).  The engine works in its own child
        session (``newSession``: same JVM and executors, separate temporary views and SQL settings),
        so two engines — or the caller's own views — never see each other's ``statements`` or ``ev``.
    """

    name = "spark"

    def __init__(self, parquet_dir: Path, spark: SparkSession | None = None) -> None:
        self.parquet_dir = Path(parquet_dir)
        self.manifest = read_manifest(self.parquet_dir)
        self.spark = (spark or local_spark()).newSession()
        conf = self.spark.conf
        conf.set("spark.sql.session.timeZone", "UTC")
        conf.set("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        # Partition values are text ("source=lms"); a numeric-looking source must stay a string.
        conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        self._register_tables()

    def _register_tables(self) -> None:
        folder = self.parquet_dir
        statements = self.spark.read.option("basePath", str(folder / "statements")).parquet(
            str(folder / "statements")
        )
        columns: list[str] = list(self.manifest["statements"]["columns"])
        _check_timestamps(statements, folder / "statements")
        # The view has the store's columns in the store's order (``source`` comes from folder names).
        statements.select(*columns).createOrReplaceTempView("statements")
        for table in SINGLE_FILE_TABLES:
            df = self.spark.read.parquet(str(folder / f"{table}.parquet"))
            _check_timestamps(df, folder / f"{table}.parquet")
            df.createOrReplaceTempView(table)
        if (folder / "activities").is_dir():
            self.spark.read.option("basePath", str(folder / "activities")).parquet(
                str(folder / "activities")
            ).createOrReplaceTempView("activities")

    def create_views(self, views: Sequence[tuple[str, str]]) -> None:
        for name, sql in views:
            self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {to_spark_sql(sql)}")

    def query(self, sql: str) -> pa.Table:
        return _to_arrow(self.spark.sql(to_spark_sql(sql)))

    def grouped_map(self, sql: str, keys: Sequence[str], fn: GroupFunction, schema: pa.Schema) -> pa.Table:
        """Apply ``fn`` — the same function the DuckDB engine calls — to each group, on the executors.

        Spark hands each group over as pandas; the wrapper turns it into the Arrow table ``fn``
        expects and ``fn``'s Arrow result back into pandas, cast to ``schema`` on the way out.
        """

        def wrapper(group: pd.DataFrame) -> pd.DataFrame:
            table = pa.Table.from_pandas(group, preserve_index=False)
            result: pd.DataFrame = fn(table).select(schema.names).cast(schema).to_pandas()
            return result

        data = self.spark.sql(to_spark_sql(sql))
        out = data.groupBy(*keys).applyInPandas(wrapper, schema=from_arrow_schema(schema))
        table = _to_arrow(out)
        if table.num_rows == 0:
            return schema.empty_table()
        return table.select(schema.names).cast(schema).sort_by([(k, "ascending") for k in keys])


def _to_arrow(df: DataFrame) -> pa.Table:
    table: pa.Table = df.toArrow()
    return table


def _check_timestamps(df: DataFrame, path: Path) -> None:
    """Refuse time-zone-shifting timestamps: the export's are UTC wall-clock, read as NTZ."""
    shifted = [f.name for f in df.schema.fields if f.dataType.typeName() == "timestamp"]
    if shifted:
        raise LearnsightError(
            f"{path}: columns {shifted} were read as TIMESTAMP WITH LOCAL TIME ZONE; "
            "expected TIMESTAMP_NTZ (re-export with `learnsight export parquet`)"
        )
