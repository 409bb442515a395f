"""Report sections that describe what is in the store: sources, time, courses, activities."""

from __future__ import annotations

import plotly.graph_objects as go

from learnsight.report.html import HtmlReport
from learnsight.store.duckdb_store import DuckDBStore


def add_store_overview(report: HtmlReport, store: DuckDBStore) -> None:
    """Add the event-stream overview: counts, weekly events per source, courses, activities."""
    s = store.stats()
    report.add_table(
        "Event store",
        ["measure", "value"],
        [
            ("statements", s.statements),
            ("learners", s.actors),
            ("learner profiles", s.profiles),
            ("first event", str(s.first_ts)),
            ("last event", str(s.last_ts)),
            ("rejected source rows", s.rejected_rows),
            ("activities", s.activities if s.activities is not None else "not built"),
        ],
    )
    report.add_table(
        "Imports",
        ["batch", "kind", "source", "rows read", "written", "skipped", "profiles", "rejected"],
        [
            (
                b["batch_id"],
                b["kind"],
                b["source"],
                b["rows_read"],
                b["statements_written"],
                b["statements_skipped"],
                b["profiles_written"],
                b["rows_rejected"],
            )
            for b in s.batches
        ],
    )
    weekly = store.con.execute(
        "SELECT date_trunc('week', ts) AS week, source, count(*) FROM statements "
        "GROUP BY ALL ORDER BY week, source"
    ).fetchall()
    fig = go.Figure()
    for source in sorted({r[1] for r in weekly}):
        pts = [(r[0], r[2]) for r in weekly if r[1] == source]
        fig.add_trace(go.Bar(x=[p[0] for p in pts], y=[p[1] for p in pts], name=source))
    fig.update_layout(barmode="stack", height=380, margin={"t": 20}, xaxis_title="week", yaxis_title="events")
    report.add_figure(
        "Events per week by source",
        fig,
        "Every trace is an xAPI statement; colours are acquisition devices.",
    )
    courses = store.con.execute(
        "SELECT course, count(*) n, count(DISTINCT actor_key) learners FROM statements "
        "WHERE course IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 60"
    ).fetchall()
    if courses:
        report.add_table("Courses", ["course", "statements", "learners"], courses)
    if s.activities:
        rows = store.con.execute(
            "SELECT source, count(*), avg(n_events), "
            "quantile_cont(epoch(end_ts - start_ts) / 60, 0.5), "
            "quantile_cont(epoch(end_ts - start_ts) / 60, 0.9) FROM activities "
            "GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        fig2 = go.Figure(
            go.Bar(
                x=[r[0] for r in rows],
                y=[r[3] for r in rows],
                name="median minutes",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r[4] - r[3] for r in rows],
                    "arrayminus": [0] * len(rows),
                },
            )
        )
        fig2.update_layout(height=340, margin={"t": 20}, yaxis_title="minutes (median, bar to p90)")
        report.add_figure(
            "Activity length by device",
            fig2,
            "An activity is a run of one learner's events on one device type.",
        )
        report.add_table(
            "Activities by device",
            ["source", "activities", "mean events", "median minutes", "p90 minutes"],
            rows,
        )
