"""Benchmark the campus simulator: simulate alone, and simulate + write to a fresh DuckDB store.

Usage::

    python benchmarks/bench_simulate.py                 # 1,000 students x 6 courses x 16 weeks
    python benchmarks/bench_simulate.py --students 300 --export

Prints figures only (wall time, statements per second, the ratio of the two runs and the
statement counts by source); it asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from learnsight.simulate import CampusConfig, export_sources, simulate_campus, write_campus
from learnsight.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--courses", type=int, default=6)
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--export", action="store_true", help="also time export_sources")
    args = parser.parse_args()
    config = CampusConfig(
        n_students=args.students, n_courses=args.courses, n_weeks=args.weeks, seed=args.seed
    )
    label = f"{args.students} students x {args.courses} courses x {args.weeks} weeks"

    started = time.perf_counter()
    campus = simulate_campus(config)
    simulate_s = time.perf_counter() - started
    n = campus.statements.num_rows

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        campus2 = simulate_campus(config)
        with open_store(Path(tmp) / "bench.duckdb") as store:
            report = write_campus(store, campus2)
        total_s = time.perf_counter() - started
        export_s = None
        if args.export:
            started = time.perf_counter()
            export_sources(campus, Path(tmp) / "sources")
            export_s = time.perf_counter() - started

    print(f"campus: {label}, seed {args.seed}: {n:,} statements")
    print(f"simulate alone      : {simulate_s:7.2f} s  {n / simulate_s:12,.0f} statements/s")
    print(
        f"simulate + write    : {total_s:7.2f} s  {n / total_s:12,.0f} statements/s "
        f"({report.statements_written:,} written)"
    )
    print(f"ratio (with write / alone): {total_s / simulate_s:.2f}")
    if export_s is not None:
        print(f"export_sources      : {export_s:7.2f} s")
    print("statements by source:")
    for source, count in sorted(campus.counts_by_source().items(), key=lambda x: -x[1]):
        print(f"  {source:<10} {count:>10,}")


if __name__ == "__main__":
    main()
