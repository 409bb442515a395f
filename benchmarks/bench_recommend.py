"""Offline evaluation of the recommenders (SPEC §4) on OULAD and on the synthetic campus.

Usage::

    .venv/bin/python benchmarks/bench_recommend.py [--db OULAD_STORE.duckdb] [--skip-oulad]
        [--skip-campus] [--students 1000] [--courses 6] [--weeks 16] [--seed 3]

Without ``--db`` it imports OULAD (from ``LEARNSIGHT_DATA``) into a temporary store first; a given
store is opened read-only.  For each dataset it prints, per hold-out (``time``: each learner's last
20 % of items by first use; ``random``: a seeded random 20 %), the micro-averaged precision / recall
/ NDCG at 5, 10 and 20 of random, popularity, item-kNN and implicit ALS, each without and with the
MLR fill (indicators as of course week 0: see ``evaluate.FEATURES_AS_OF``), then the same with the
fill fitted on the observed cells only (the source model's literal reading), with fit times and the
peak memory.

* OULAD: one students × VLE-items matrix per module-presentation (22), clicks as counts.
* Campus: ``resources`` (one matrix per course: files, links, media, videos, slides) and ``books``
  (library loans, one matrix).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import figure, peak_rss_mb

from learnsight.interventions.recommend import evaluate, store_matrices
from learnsight.interventions.recommend.interactions import Interactions
from learnsight.settings import dataset_path
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, open_store


def describe(name: str, matrices: list[tuple[Interactions, Any]]) -> None:
    users = sum(m.shape[0] for m, _ in matrices)
    items = sum(m.shape[1] for m, _ in matrices)
    nnz = sum(m.nnz for m, _ in matrices)
    features = [f.shape[1] for _, f in matrices if f is not None]
    evaluable = sum(int((np.diff(m.counts.indptr) >= 5).sum()) for m, _ in matrices)
    print(
        f"-- {name}: {len(matrices)} matrices, {users:,} user rows ({evaluable:,} with >= 5 items), "
        f"{items:,} items, {nnz:,} interactions, mean density "
        f"{np.mean([m.density() for m, _ in matrices]):.3f}, "
        f"{(min(features) if features else 0)}-{(max(features) if features else 0)} indicator features"
    )


def run_tables(name: str, matrices: list[tuple[Interactions, Any]]) -> None:
    describe(name, matrices)
    for strategy in ("time", "random"):
        t = time.perf_counter()
        result = evaluate(matrices, strategy=strategy, random_state=0)
        elapsed = time.perf_counter() - t
        print(
            f"\n{name} — {strategy} hold-out: {result.users:,} learners evaluated, "
            f"{result.held_out:,} held-out items, MLR fill fitted in {result.fill_seconds:.2f} s"
        )
        print(result.markdown())
        best = result.best(10)
        print(f"best NDCG@10: {best['model']} (fill {best['fill']}) {best['ndcg']:.4f}")
        figure(f"{name} {strategy}: evaluation wall time", elapsed, "s")
        observed = evaluate(
            matrices,
            models=("popularity", "item-knn", "als"),
            fill="mlr",
            strategy=strategy,
            random_state=0,
            fill_params={"target": "observed"},
        )
        print(f"\n{name} — {strategy} hold-out, MLR fill fitted on observed cells only (target='observed'):")
        print(observed.markdown())
    figure(f"{name}: peak RSS so far", peak_rss_mb(), "MiB")


def oulad(db: Path | None) -> None:
    if db is None:
        from learnsight.ingest.oulad import ingest_oulad

        folder = Path(tempfile.mkdtemp(prefix="bench-recommend-"))
        db = folder / "oulad.duckdb"
        with open_store(db) as store:
            t = time.perf_counter()
            ingest_oulad(store, dataset_path("oulad"))
            figure("OULAD import (setup)", time.perf_counter() - t, "s")
    store = DuckDBStore(db, read_only=True)
    try:
        t = time.perf_counter()
        matrices = list(store_matrices(store, "resources"))
        figure("OULAD: matrices + week-0 indicators", time.perf_counter() - t, "s")
    finally:
        store.close()
    run_tables("OULAD VLE resources", matrices)


def campus(students: int, courses: int, weeks: int, seed: int) -> None:
    config = CampusConfig(n_students=students, n_courses=courses, n_weeks=weeks, seed=seed)
    with tempfile.TemporaryDirectory(prefix="bench-recommend-") as tmp:
        t = time.perf_counter()
        store = open_store(Path(tmp) / "campus.duckdb")
        try:
            write_campus(store, simulate_campus(config))
            figure("campus: simulate + store (setup)", time.perf_counter() - t, "s")
            figure("campus: peak RSS after setup", peak_rss_mb(), "MiB")
            t = time.perf_counter()
            resources = list(store_matrices(store, "resources"))
            books = list(store_matrices(store, "books"))
            figure("campus: matrices + week-0 indicators", time.perf_counter() - t, "s")
        finally:
            store.close()
    label = f"campus {students}x{courses}x{weeks} seed {seed}"
    run_tables(f"{label} resources", resources)
    run_tables(f"{label} books", books)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, help="an existing OULAD store (opened read-only)")
    parser.add_argument("--skip-oulad", action="store_true")
    parser.add_argument("--skip-campus", action="store_true")
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--courses", type=int, default=6)
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if not args.skip_campus:
        campus(args.students, args.courses, args.weeks, args.seed)
    if not args.skip_oulad:
        oulad(args.db)
    figure("peak RSS", peak_rss_mb(), "MiB")


if __name__ == "__main__":
    main()
