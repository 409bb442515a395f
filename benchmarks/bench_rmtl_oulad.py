"""RMTL on the real OULAD features: fit times at the scale the issue names, against single-task.

Usage::

    .venv/bin/python benchmarks/bench_rmtl_oulad.py [--db STORE.duckdb] [--week N]

Without ``--db`` it imports OULAD (from ``LEARNSIGHT_DATA``) into a temporary store first.  It builds
the model dataset at course end (or at ``--week``: the data dated before that week), standardises it
as every model sees it, and times on all rows (22 module-presentations as tasks):

* ``RMTLClassifierCV`` (a 4 × 4 grid and 3 folds, as ``learnsight evaluate`` uses it);
* ``RMTLClassifier`` pass vs fail and three classes at the (ρ1, ρ2) it chose — target ≤ 10 s;
* per-course logistic regression (scikit-learn, lbfgs) as the single-task baseline in the same run.

Prints figures only.
"""

# Upper-case names (X) follow scikit-learn's notation.
# ruff: noqa: N806

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import figure, peak_rss_mb
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from learnsight.indicators.asof import AsOf
from learnsight.ingest.oulad import ingest_oulad
from learnsight.models.baselines import PerTask
from learnsight.models.dataset import DatasetBuilder
from learnsight.models.preprocess import Prepared
from learnsight.models.rmtl import RMTLClassifier, RMTLClassifierCV
from learnsight.settings import dataset_path
from learnsight.store import open_store


def run(db: Path, week: int | None) -> None:
    with open_store(db) as store:
        if store.count_statements() == 0:
            t = time.perf_counter()
            ingest_oulad(store, dataset_path("oulad"))
            figure("OULAD import (setup)", time.perf_counter() - t, "s")
        t = time.perf_counter()
        data = DatasetBuilder(store).build(AsOf(week=week) if week is not None else AsOf())
        figure("dataset build", time.perf_counter() - t, "s")
    for target in ("pass_fail", "three_class"):
        rows, y = data.for_target(target)
        prep = Prepared(DummyClassifier(), feature_names=rows.feature_names)
        Xt = prep.fit(rows.X, y).transform(rows.X)
        tasks = rows.courses.astype(str)
        print(f"-- {target}: {Xt.shape[0]:,} rows x {Xt.shape[1]} features, {len(set(tasks))} tasks")
        t = time.perf_counter()
        cv = RMTLClassifierCV(n_rhos=4, random_state=0).fit(Xt, y, tasks=tasks)
        figure(f"RMTLClassifierCV fit ({target}, 4x4 grid, 3 folds)", time.perf_counter() - t, "s")
        model = RMTLClassifier(rho1=cv.rho1_, rho2=cv.rho2_, tol=cv.tol, max_iter=cv.max_iter)
        t = time.perf_counter()
        model.fit(Xt, y, tasks=tasks)
        figure(
            f"RMTLClassifier fit ({target}, the chosen rho1, rho2)", time.perf_counter() - t, "s", "<= 10 s"
        )
        figure("  FISTA iterations", float(np.sum(model.n_iter_)), "")
        t = time.perf_counter()
        PerTask(clone(LogisticRegression(max_iter=1000))).fit(Xt, y, tasks=tasks)
        figure(f"per-course logistic regression ({target})", time.perf_counter() - t, "s")
        figure("  training accuracy RMTL-CV", float(np.mean(cv.predict(Xt, tasks=tasks) == y)), "")
    figure("peak RSS", peak_rss_mb(), "MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None, help="a store with OULAD imported")
    parser.add_argument("--week", type=int, default=None, help="cut-off week (default: course end)")
    args = parser.parse_args()
    if args.db is not None:
        run(args.db, args.week)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp) / "oulad.duckdb", args.week)


if __name__ == "__main__":
    main()
