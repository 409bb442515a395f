"""Weekly feature tensors over the full OULAD store: DuckDB SQL against a plain pandas baseline.

Usage::

    .venv/bin/python benchmarks/bench_weekly_features.py [--db STORE.duckdb]

Without ``--db`` it imports OULAD (from ``LEARNSIGHT_DATA``) into a temporary store first.  Targets:
``weekly_features`` (``indicators/sql/weekly.sql``) in at most 30 s on DuckDB, and at least 5 times
faster, with a lower peak memory, than the baseline measured in the same run: the same features
written the way a data scientist typically would, reading the statement columns into pandas and
using merge/groupby/agg.  Each implementation runs in its own subprocess, so each peak RSS
(``ru_maxrss``) is its own; both write their long table, and the parent prints the largest absolute
difference between them (0 when they agree).  Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from _common import figure

from learnsight.indicators.engine import DuckDBEngine
from learnsight.indicators.weekly import FEATURE_NAMES, KEYS, weekly_features
from learnsight.ingest.oulad import ingest_oulad
from learnsight.settings import dataset_path
from learnsight.store import open_store
from learnsight.xapi import vocab as v

FAMILIES = {
    **dict.fromkeys(
        [
            "oucontent",
            "page",
            "subpage",
            "sharedsubpage",
            "homepage",
            "htmlactivity",
            "dualpane",
            "glossary",
            "ouwiki",
            "lesson",
            "module",
            "course",
        ],
        "content",
    ),
    **dict.fromkeys(["resource", "url", "folder", "file", "link", "dataplus"], "resource"),
    **dict.fromkeys(["forumng", "discussion", "forum", "forum-reply"], "forum"),
    **dict.fromkeys(
        ["quiz", "externalquiz", "questionnaire", "assessment", "cmi.interaction", "homework"], "quiz"
    ),
    **dict.fromkeys(["video", "media"], "video"),
}
"""Activity-type suffix → resource family (the same table as ``weekly.sql``'s CASE)."""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_duckdb(db: Path) -> pa.Table:
    """The implementation under test."""
    with open_store(db, read_only=True) as store:
        return weekly_features(DuckDBEngine(store)).table


def run_pandas(db: Path) -> pa.Table:
    """The baseline: statement columns into pandas, then merge/groupby/agg."""
    with open_store(db, read_only=True) as store:
        df = store.con.sql(
            "SELECT actor_key, course, verb_id, source, object_id, activity_type, ts, quantity, "
            "duration_s, score_scaled, CASE WHEN verb_id = ? THEN extensions END AS extensions "
            "FROM statements WHERE NOT voided AND verb_id <> ?",
            params=[v.SUBMITTED, v.VOIDED],
        ).df()
        courses = store.con.sql(
            "SELECT course, start_ts, length_days FROM courses WHERE start_ts IS NOT NULL"
        ).df()
    present = set(df["source"].unique())
    enrolments = df.loc[df["course"].notna(), ["actor_key", "course"]].drop_duplicates()
    enrolments = enrolments.merge(courses, on="course")
    behaviour = df[df["source"] != "registry"]
    own = behaviour[behaviour["course"].notna()].merge(courses, on="course")
    own["own"] = 1
    campus = behaviour[behaviour["course"].isna()].drop(columns="course").merge(enrolments, on="actor_key")
    campus["own"] = 0
    rows = pd.concat([own, campus], ignore_index=True)
    del df, behaviour, own, campus
    rows["day"] = (rows["ts"].dt.normalize() - rows["start_ts"].dt.normalize()).dt.days
    keep = rows["length_days"].isna() | (rows["day"] < rows["length_days"])
    keep &= (rows["own"] == 1) | (rows["day"] >= -7)
    rows = rows[keep]
    rows["week"] = np.maximum(np.floor(rows["day"] / 7), -1).astype("int64")

    verb, lms = rows["verb_id"], rows["source"] == "lms"
    click = lms & verb.isin([v.INTERACTED, v.VIEWED])
    family = rows["activity_type"].str.rsplit("/", n=1).str[-1].map(FAMILIES).fillna("other")
    clicks = rows["quantity"].where(click)
    submitted = verb == v.SUBMITTED
    ext = rows.loc[submitted, "extensions"].map(lambda text: json.loads(text) if text else {})
    flagged = ext.map(lambda e: e.get("result", {}).get(v.EXT_LATE) is True)
    due = pd.to_datetime(ext.map(lambda e: e.get("context", {}).get(v.EXT_DUE)), utc=True)
    due = due.dt.tz_localize(None)
    late = flagged | (rows.loc[submitted, "ts"] > due)
    scored = lms & verb.isin([v.SUBMITTED, v.SCORED])
    features = pd.DataFrame(
        {
            "actor_key": rows["actor_key"],
            "course": rows["course"],
            "week": rows["week"],
            "events": rows["own"],
            "lms_events": rows["own"] * lms,
            "clicks": clicks,
            **{
                f"clicks_{f}": clicks.where(family == f)
                for f in ("content", "resource", "forum", "quiz", "video", "other")
            },
            "submissions": submitted.astype("int64"),
            "scored_items": (scored & rows["score_scaled"].notna()).astype("int64"),
            "mean_score": rows["score_scaled"].where(scored),
            "late_submissions": late.reindex(rows.index, fill_value=False).astype("int64"),
            "attended": (verb == v.ATTENDED).astype("int64"),
            "absent": (verb == v.ABSENT).astype("int64"),
            "video_seconds": rows["duration_s"].where(verb == v.WATCHED),
            "forum_posts": verb.isin([v.POSTED, v.REPLIED]).astype("int64"),
            "canteen_swipes": (verb == v.SWIPED).astype("int64"),
            "dorm_returns": (verb == v.RETURNED).astype("int64"),
            "network_sessions": (verb == v.CONNECTED).astype("int64"),
            "library_loans": (verb == v.BORROWED).astype("int64"),
        }
    )
    keys = list(KEYS)
    grouped = features.groupby(keys, sort=True)
    out = grouped.sum(min_count=0).drop(columns="mean_score")
    out["mean_score"] = grouped["mean_score"].mean()
    own_rows = rows[rows["own"] == 1]
    own_rows = own_rows.assign(date=own_rows["ts"].dt.normalize())
    own_grouped = own_rows.groupby(keys)
    out["active_days"] = own_grouped["date"].nunique()
    out["distinct_objects"] = own_grouped["object_id"].nunique()
    out[["active_days", "distinct_objects"]] = out[["active_days", "distinct_objects"]].fillna(0)
    for name, source in (
        ("attended", "classroom"),
        ("absent", "classroom"),
        ("canteen_swipes", "canteen"),
        ("dorm_returns", "dorm"),
        ("network_sessions", "network"),
        ("library_loans", "library"),
    ):
        if source not in present:
            out[name] = np.nan
    return pa.Table.from_pandas(out.reset_index()[[*keys, *FEATURE_NAMES]], preserve_index=False)


def child(impl: str, db: Path, out: Path) -> None:
    """Run one implementation, write its table and {seconds, peak_rss_mb} next to it."""
    started = time.perf_counter()
    table = run_duckdb(db) if impl == "duckdb" else run_pandas(db)
    seconds = time.perf_counter() - started
    pq.write_table(table, out)
    out.with_suffix(".json").write_text(
        json.dumps({"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "rows": table.num_rows})
    )


def _measure(impl: str, db: Path, folder: Path) -> tuple[dict[str, float], pd.DataFrame]:
    out = folder / f"{impl}.parquet"
    command = [sys.executable, __file__, "--child", impl, "--db", str(db), "--out", str(out)]
    subprocess.run(command, check=True)
    stats = json.loads(out.with_suffix(".json").read_text())
    frame = pq.read_table(out).to_pandas().set_index(list(KEYS)).sort_index()
    return stats, frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--child", choices=["duckdb", "pandas"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "oulad.duckdb"
        with open_store(db) as store:
            if store.count_statements() == 0:
                t = time.perf_counter()
                ingest_oulad(store, dataset_path("oulad"))
                figure("OULAD import (setup)", time.perf_counter() - t, "s")
            figure("statements", store.count_statements(), "")
        fast, fast_rows = _measure("duckdb", db, Path(tmp))
        slow, slow_rows = _measure("pandas", db, Path(tmp))
        figure("weekly rows (duckdb)", fast["rows"], "")
        figure("weekly rows (pandas)", slow["rows"], "")
        figure("duckdb weekly_features", fast["seconds"], "s", "<= 30 s")
        figure("pandas baseline", slow["seconds"], "s")
        figure("time ratio pandas / duckdb", slow["seconds"] / fast["seconds"], "x", ">= 5x")
        figure("peak RSS duckdb process", fast["peak_rss_mb"], "MiB")
        figure("peak RSS pandas process", slow["peak_rss_mb"], "MiB")
        figure("memory ratio pandas / duckdb", slow["peak_rss_mb"] / fast["peak_rss_mb"], "x", "> 1x")
        same_keys = fast_rows.index.equals(slow_rows.index)
        figure("same (student, course, week) keys", float(same_keys), "(1 = yes)")
        if same_keys:
            a = fast_rows[list(FEATURE_NAMES)].to_numpy(np.float64)
            b = slow_rows[list(FEATURE_NAMES)].to_numpy(np.float64)
            nan_mismatch = int((np.isnan(a) != np.isnan(b)).sum())
            diff = np.abs(np.nan_to_num(a) - np.nan_to_num(b))
            figure("NaN-position mismatches", nan_mismatch, "")
            figure("max abs difference", float(diff.max()) if diff.size else 0.0, "")


if __name__ == "__main__":
    main()
