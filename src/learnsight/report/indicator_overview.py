"""Report sections for the behaviour indicators: coverage, and how habits relate to grades."""

from __future__ import annotations

import json

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from learnsight.indicators.compute import IndicatorTables
from learnsight.report.html import HtmlReport
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi.vocab import SCORED, SOURCE_REGISTRY

HABITS = (
    ("rest_regularity_z", "rest regularity Z (lower = more regular)"),
    ("meal_regularity_e", "meal real entropy E (lower = more regular)"),
    ("internet_minutes_per_day", "internet minutes per day"),
)


def add_indicator_overview(report: HtmlReport, store: DuckDBStore, tables: IndicatorTables) -> None:
    """Coverage per indicator and living habits against each student's mean final score."""
    rows = []
    for r in tables.coverage.to_pylist():
        reasons = json.loads(r["missing_reasons"])
        rows.append(
            (
                r["indicator"],
                r["level"],
                r["family"],
                r["present"],
                r["rows"],
                "-" if r["coverage"] is None else f"{r['coverage']:.0%}",
                ", ".join(f"{k} ({v})" for k, v in reasons.items()),
            )
        )
    report.add_table(
        f"Indicators (as of {tables.as_of.label()})",
        ["indicator", "level", "family", "present", "rows", "coverage", "missing because"],
        rows,
        note="Missing values are missing, not zero: each has a reason code.",
    )
    con = store.con
    con.register("_ind_student", tables.student)
    try:
        data = con.sql(
            "SELECT s.*, g.final FROM _ind_student s JOIN ("
            "  SELECT actor_key, avg(score_raw / nullif(score_max, 0)) * 100 AS final FROM statements "
            "  WHERE verb_id = ? AND source = ? AND object_id = course GROUP BY actor_key"
            ") g USING (actor_key)",
            params=[SCORED, SOURCE_REGISTRY],
        ).to_arrow_table()
    finally:
        con.unregister("_ind_student")
    if data.num_rows == 0:
        return
    present = [(c, label) for c, label in HABITS if data.column(c).null_count < data.num_rows]
    if not present:
        return
    fig = make_subplots(rows=1, cols=len(present), subplot_titles=[p[1] for p in present])
    final = data.column("final").to_pylist()
    for i, (col, _label) in enumerate(present, start=1):
        fig.add_trace(
            go.Scatter(
                x=data.column(col).to_pylist(),
                y=final,
                mode="markers",
                marker={"size": 5, "opacity": 0.6},
                showlegend=False,
            ),
            row=1,
            col=i,
        )
        fig.update_yaxes(title_text="mean final score" if i == 1 else None, row=1, col=i)
    fig.update_layout(height=380, margin={"t": 50})
    report.add_figure(
        "Living habits and grades",
        fig,
        "One dot per student: habit indicator (x) against mean final course score (y).",
    )
