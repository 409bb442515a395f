"""Benchmark: full import of the real OULAD release into a fresh DuckDB store.

Run from the project root::

    python benchmarks/bench_oulad_import.py [PATH_TO_OULAD]

``PATH_TO_OULAD`` defaults to ``$LEARNSIGHT_DATA/oulad``.  Prints wall time (target <= 120 s), peak
resident memory of the process (``ru_maxrss``; target <= 4 GB), the store file's size after
``CHECKPOINT`` (target <= 1.5 GB), statements per second, the lossless checks (10,655,280 click
statements, 39,605,099 clicks, 28,785 students, 22 module-presentations) and the ratio to a baseline
measured in the same run: DuckDB counting the rows of ``studentVle`` with a plain ``read_csv``.
Exits 1 when a lossless check fails.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb
from _common import figure, peak_rss_mb

from learnsight.ingest.oulad import ingest_oulad
from learnsight.settings import dataset_path
from learnsight.store import open_store
from learnsight.xapi import vocab

EXPECTED = {
    "click statements": 10_655_280,
    "clicks": 39_605_099,
    "students": 28_785,
    "module-presentations": 22,
}


def baseline_seconds(oulad: Path) -> float:
    """Seconds for plain DuckDB to count the rows of studentVle (the floor of any import)."""
    vle = next(p for p in (oulad / "studentVle.csv", oulad / "studentVle.csv.gz") if p.exists())
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute("SELECT count(*) FROM read_csv(?)", [str(vle)]).fetchall()
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def main() -> int:
    oulad = Path(sys.argv[1]) if len(sys.argv) > 1 else dataset_path("oulad")
    base = baseline_seconds(oulad)
    with tempfile.TemporaryDirectory(prefix="bench-oulad-") as tmp:
        db = Path(tmp) / "store.duckdb"
        store = open_store(db)
        started = time.perf_counter()
        report = ingest_oulad(store, oulad)
        wall = time.perf_counter() - started
        peak = peak_rss_mb()
        store.con.execute("CHECKPOINT")
        size = db.stat().st_size
        clicks_rows, clicks = store.con.execute(
            "SELECT count(*), sum(quantity) FROM statements WHERE verb_id = ?", [vocab.INTERACTED]
        ).fetchall()[0]
        found = {
            "click statements": int(clicks_rows),
            "clicks": int(clicks),
            "students": int(store.scalar("SELECT count(DISTINCT actor_key) FROM statements")),
            "module-presentations": int(store.scalar("SELECT count(DISTINCT course) FROM statements")),
        }
        store.close()
    print(f"source: {oulad}")
    figure("wall time", wall, "s", "<= 120")
    figure("peak RSS", peak / 1024, "GiB", "<= 4")
    figure("store file size after CHECKPOINT", size / 2**30, "GiB", "<= 1.5")
    figure("statements written", report.statements_written, "")
    figure("statements per second", report.statements_written / wall, "/s")
    figure("baseline: read_csv count of studentVle", base, "s")
    figure("import / baseline", wall / base, "x")
    ok = True
    for name, want in EXPECTED.items():
        mark = "ok" if found[name] == want else "MISMATCH"
        ok &= found[name] == want
        print(f"lossless {name:<22} {found[name]:>11,} (expected {want:,}) {mark}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
