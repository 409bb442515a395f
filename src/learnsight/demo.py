"""``learnsight demo``: the whole pipeline on a synthetic campus, with no server and no download.

simulate (seeded semester) → export every source's raw files → ingest each file with its importer
(xAPI JSON Lines for the LMS, CSV + shipped mapping for canteen, dorm, library and network) → learner
profiles → activities → behaviour indicators → an HTML report.  Later stages (prediction,
interventions) add their steps here as they land.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from rich.table import Table

from learnsight.activities import ActivitySummary, build_activities
from learnsight.indicators import DuckDBEngine, compute_indicators, save_indicators
from learnsight.ingest import timed
from learnsight.ingest.csv_mapped import ingest_csv
from learnsight.ingest.xapi_json import ingest_xapi
from learnsight.report import HtmlReport
from learnsight.report.indicator_overview import add_indicator_overview
from learnsight.report.store_overview import add_store_overview
from learnsight.simulate.campus import (
    CampusConfig,
    course_calendar,
    export_sources,
    simulate_campus,
)
from learnsight.store import IngestBatch, IngestReport, StoreStats, open_store

CSV_MAPPINGS: dict[str, str] = {
    "canteen": "campus-card-canteen",
    "dorm": "dorm-gate",
    "library": "library-loans",
    "network": "network-sessions",
}
"""Which shipped mapping imports each exported campus file."""


@dataclass
class DemoResult:
    """What the demo did, for the summary the CLI prints."""

    db: Path
    report_path: Path
    ingests: list[IngestReport]
    activities: ActivitySummary
    stats: StoreStats
    timings: dict[str, float] = field(default_factory=dict)

    def summary_table(self) -> Table:
        table = Table(title=f"learnsight demo — store {self.db}")
        table.add_column("step")
        table.add_column("result", justify="right")
        table.add_column("seconds", justify="right")
        for report in self.ingests:
            table.add_row(
                f"ingest {report.kind} {Path(report.source).name}",
                f"{report.statements_written:,} statements"
                + (f", {report.profiles_written:,} profiles" if report.profiles_written else ""),
                f"{report.seconds:.1f}",
            )
        table.add_row(
            "activities",
            f"{self.activities.activities:,} from {self.activities.events:,} events",
            f"{self.activities.seconds:.1f}",
        )
        for step, seconds in self.timings.items():
            table.add_row(step, "", f"{seconds:.1f}")
        table.add_row("learners", f"{self.stats.actors:,}", "")
        table.add_row("statements", f"{self.stats.statements:,}", "")
        return table


def run_demo(
    *, db: Path | None, out: Path, students: int = 300, courses: int = 6, weeks: int = 16, seed: int = 7
) -> DemoResult:
    """Run the pipeline; the store defaults to ``<out>/demo.duckdb`` (never the user's own store)."""
    out.mkdir(parents=True, exist_ok=True)
    db = db or out / "demo.duckdb"
    timings: dict[str, float] = {}
    t = time.perf_counter()
    campus = simulate_campus(CampusConfig(n_students=students, n_courses=courses, n_weeks=weeks, seed=seed))
    timings["simulate"] = time.perf_counter() - t
    t = time.perf_counter()
    files = export_sources(campus, out / "sources")
    timings["export source files"] = time.perf_counter() - t
    ingests: list[IngestReport] = []
    with open_store(db) as store:
        ingests.append(timed(ingest_xapi, store, files["lms"]))
        for name, mapping in CSV_MAPPINGS.items():
            ingests.append(timed(ingest_csv, store, files[name], mapping))
        profiles: pa.Table = campus.profiles
        ingests.append(
            store.ingest(
                IngestBatch(
                    kind="profiles",
                    source=f"simulated campus (seed {seed})",
                    rows_read=profiles.num_rows,
                    profiles=profiles,
                    courses=course_calendar(campus),
                )
            )
        )
        activity_summary = build_activities(store)
        t = time.perf_counter()
        indicator_tables = compute_indicators(DuckDBEngine(store))
        save_indicators(store, indicator_tables)
        timings["indicators"] = time.perf_counter() - t
        report = HtmlReport(
            "learnsight demo",
            f"synthetic campus: {students} students × {courses} courses × {weeks} weeks, seed {seed}",
        )
        add_store_overview(report, store)
        add_indicator_overview(report, store, indicator_tables)
        report_path = report.write(out / "report.html")
        stats = store.stats()
    return DemoResult(
        db=db,
        report_path=report_path,
        ingests=ingests,
        activities=activity_summary,
        stats=stats,
        timings=timings,
    )
