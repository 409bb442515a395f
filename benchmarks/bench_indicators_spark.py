"""Benchmark: the indicator computation on DuckDB and on Spark (local mode) over the same data.

Run from the project root::

    python benchmarks/bench_indicators_spark.py [--db STORE] [--oulad PATH] [--cores 2] [--memory 4g]
                                                [--as-of week:10]

Without ``--db`` it imports the full OULAD release (``--oulad``, default ``$LEARNSIGHT_DATA/oulad``)
into a temporary store first.  Then it times ``export_parquet`` (the Parquet layout Spark reads),
``compute_indicators`` on DuckDB, the start of a local Spark session, and ``compute_indicators``
on Spark (``local[cores]``) — the same SQL definitions, transpiled — and prints both times, their
ratio, each engine's step timings, whether the two results agree (rows, nulls and values to 1e-9
relative), the peak RSS of this Python process and, clearly separated, the Spark JVM's heap
(``Runtime.totalMemory`` / ``maxMemory``, which RSS of the Python process does not include).
Exits 1 when the engines disagree.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from _common import dir_size_mb, figure, peak_rss_mb

from learnsight.indicators.asof import AsOf
from learnsight.indicators.compute import IndicatorTables, compute_indicators
from learnsight.indicators.engine import DuckDBEngine
from learnsight.indicators.spark_engine import SparkEngine, local_spark
from learnsight.ingest.oulad import ingest_oulad
from learnsight.settings import dataset_path
from learnsight.store import DuckDBStore, open_store
from learnsight.store.export import export_parquet


def differences(a: pa.Table, b: pa.Table, keys: list[str]) -> list[str]:
    """Columns on which two indicator tables differ (rows sorted by ``keys``)."""
    if a.num_rows != b.num_rows or a.column_names != b.column_names:
        return [f"shape {a.num_rows}x{a.column_names} vs {b.num_rows}x{b.column_names}"]
    a = a.sort_by([(k, "ascending") for k in keys])
    b = b.sort_by([(k, "ascending") for k in keys])
    bad = []
    for name in a.column_names:
        for x, y in zip(a.column(name).to_pylist(), b.column(name).to_pylist(), strict=True):
            if x is None or y is None:
                same = x is None and y is None
            elif isinstance(x, float) or isinstance(y, float):
                same = math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)
            else:
                same = x == y
            if not same:
                bad.append(name)
                break
    return bad


def timings(label: str, tables: IndicatorTables) -> None:
    for step, seconds in tables.timings.items():
        figure(f"  {label}: {step}", seconds, "s")


def run(store: DuckDBStore, work: Path, args: argparse.Namespace) -> int:
    as_of = AsOf.parse(args.as_of)
    n = store.count_statements()
    figure("statements in store", n, "")

    started = time.perf_counter()
    report = export_parquet(store, work / "export")
    figure("export_parquet", time.perf_counter() - started, "s")
    figure("export size", dir_size_mb(work / "export"), "MiB")
    figure("statement partitions", len(report.partitions), "")

    started = time.perf_counter()
    duck = compute_indicators(DuckDBEngine(store), as_of)
    duck_s = time.perf_counter() - started
    figure(f"indicators on DuckDB (as of {as_of.label()})", duck_s, "s")
    timings("duckdb", duck)
    rss_after_duckdb = peak_rss_mb()

    started = time.perf_counter()
    spark = local_spark("learnsight-bench", cores=args.cores, memory=args.memory)
    figure(f"Spark session start (local[{args.cores}])", time.perf_counter() - started, "s")
    engine = SparkEngine(work / "export", spark)
    started = time.perf_counter()
    sparked = compute_indicators(engine, as_of)
    spark_s = time.perf_counter() - started
    figure(f"indicators on Spark local[{args.cores}]", spark_s, "s")
    timings("spark", sparked)
    figure("Spark / DuckDB", spark_s / duck_s, "x")

    figure("rows: student", duck.student.num_rows, "")
    figure("rows: student x course", duck.student_course.num_rows, "")
    bad = differences(duck.student, sparked.student, ["actor_key"]) + differences(
        duck.student_course, sparked.student_course, ["actor_key", "course"]
    )
    print(f"{'engines agree':<44} {'yes' if not bad else 'NO: ' + ', '.join(bad)}")

    figure("Python peak RSS after DuckDB step", rss_after_duckdb / 1024, "GiB")
    figure("Python peak RSS at end (driver side)", peak_rss_mb() / 1024, "GiB")
    jvm = spark.sparkContext._jvm
    if jvm is not None:
        runtime = jvm.java.lang.Runtime.getRuntime()
        figure("Spark JVM heap: Runtime.totalMemory", runtime.totalMemory() / 2**30, "GiB")
        figure("Spark JVM heap: Runtime.maxMemory", runtime.maxMemory() / 2**30, "GiB")
    spark.stop()
    return 0 if not bad else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing store (default: import OULAD)")
    parser.add_argument("--oulad", type=Path, help="OULAD folder (default $LEARNSIGHT_DATA/oulad)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--memory", default="4g", help="Spark driver heap (local mode)")
    parser.add_argument("--as-of", default=None, help="cut-off: a date or week:N (default all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        work = Path(tmp)
        if args.db is not None:
            store = open_store(args.db, read_only=True)
        else:
            oulad = args.oulad or dataset_path("oulad")
            store = open_store(work / "store.duckdb")
            started = time.perf_counter()
            ingest_oulad(store, oulad)
            figure("OULAD import (not part of the comparison)", time.perf_counter() - started, "s")
        try:
            return run(store, work, args)
        finally:
            store.close()


if __name__ == "__main__":
    sys.exit(main())
