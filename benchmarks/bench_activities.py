"""Activities over the full OULAD store (target: <= 30 s on the 2-core machine).

Usage::

    .venv/bin/python benchmarks/bench_activities.py [--db STORE.duckdb]

Without ``--db`` it imports OULAD (from ``LEARNSIGHT_DATA``) into a temporary store first.  The
baseline, measured in the same run, is one plain aggregate scan of the same statements
(``GROUP BY actor_key, source``): the ratio says what sessionisation costs over reading the data.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import figure, peak_rss_mb

from learnsight.activities import build_activities
from learnsight.ingest.oulad import ingest_oulad
from learnsight.settings import dataset_path
from learnsight.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "oulad.duckdb"
        with open_store(db) as store:
            if store.count_statements() == 0:
                t = time.perf_counter()
                ingest_oulad(store, dataset_path("oulad"))
                figure("OULAD import (setup)", time.perf_counter() - t, "s")
            n = store.count_statements()
            figure("statements", n, "")
            t = time.perf_counter()
            store.con.execute(
                "SELECT actor_key, source, count(*), min(ts), max(ts) FROM statements "
                "WHERE NOT voided GROUP BY ALL"
            ).fetchall()
            baseline = time.perf_counter() - t
            figure("baseline: one aggregate scan", baseline, "s")
            summary = build_activities(store, gap_minutes=30)
            figure("activities built", summary.activities, "")
            figure("activities wall time", summary.seconds, "s", "<= 30 s")
            figure("events/s", n / summary.seconds, "ev/s")
            figure("ratio activities / baseline scan", summary.seconds / baseline, "x")
            figure("peak RSS", peak_rss_mb(), "MiB")


if __name__ == "__main__":
    main()
