"""Intervention reports for teachers and counsellors: one page per class, one per student (SPEC §4).

* :func:`class_report` — what was planned, delivered and reviewed in a course (or all courses): the
  status of every strategy, the factors most often targeted, whether the reviewed students improved
  (the gain of their z-score within the cohort, :mod:`learnsight.interventions.review`), and the list
  of students with their current step;
* :func:`student_report` — one student's chain of interventions (plan → delivery → review →
  escalation, with the reasons), the messages they received, and their assessment results over time
  against the cohort with the delivery dates marked, so a reader sees whether the curve turned.

Both read only the store (the intervention log, :func:`learnsight.interventions.log.load_log`, and
the assessment results) and write one self-contained HTML file (:class:`~learnsight.report.html.HtmlReport`).
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.interventions.log import STATUSES, load_log
from learnsight.interventions.review import DEFAULT_MIN_GAIN, AssessmentResult, assessment_results
from learnsight.interventions.strategies import short_actor, short_course
from learnsight.interventions.types import STRATEGIES
from learnsight.report.html import HtmlReport, Section
from learnsight.store.duckdb_store import DuckDBStore

STATUS_COLOURS: dict[str, str] = {
    "planned": "#9ecae1",
    "delivered": "#3182bd",
    "reviewed": "#31a354",
    "escalated": "#e6550d",
}


def _label(strategy: str) -> str:
    return strategy.replace("_", " ")


def _fmt_ts(value: Any) -> str:
    return "" if value is None else f"{value:%Y-%m-%d}"


def _current(row: dict[str, Any]) -> str:
    """The step a teacher acts on: ``planned``, ``delivered``, ``improved``, ``escalated`` ..."""
    if row["status"] == "reviewed":
        return str(row["outcome"])
    return str(row["status"])


def status_figure(log: pa.Table) -> Any:
    """Stacked bars: interventions per strategy, by status."""
    import plotly.graph_objects as go

    rows = log.to_pylist()
    counts = Counter((r["strategy"], r["status"]) for r in rows)
    strategies = [s for s in STRATEGIES if any(k[0] == s for k in counts)]
    fig = go.Figure(
        [
            go.Bar(
                name=status,
                x=[_label(s) for s in strategies],
                y=[counts.get((s, status), 0) for s in strategies],
                marker_color=STATUS_COLOURS[status],
            )
            for status in STATUSES
        ]
    )
    fig.update_layout(barmode="stack", height=360, margin={"t": 20}, yaxis_title="interventions")
    return fig


def factor_figure(log: pa.Table, top: int = 15) -> Any:
    """Horizontal bars: how many first plans target each indicator (the class's weak points)."""
    import plotly.graph_objects as go

    counts = Counter(f for r in log.to_pylist() if r["attempt"] == 1 for f in r["factors"] or [])
    common = counts.most_common(top)[::-1]
    fig = go.Figure(go.Bar(x=[c for _, c in common], y=[f for f, _ in common], orientation="h"))
    fig.update_layout(height=max(240, 26 * len(common) + 60), margin={"t": 20}, xaxis_title="students")
    return fig


def gain_figure(log: pa.Table, min_gain: float = DEFAULT_MIN_GAIN) -> Any:
    """Each reviewed intervention's gain (change of the student's z-score) by strategy."""
    import plotly.graph_objects as go

    rows = [r for r in log.to_pylist() if r["gain"] is not None]
    fig = go.Figure()
    for strategy in STRATEGIES:
        gains = [r["gain"] for r in rows if r["strategy"] == strategy]
        if gains:
            fig.add_trace(go.Box(y=gains, name=_label(strategy), boxpoints="all", jitter=0.4))
    fig.add_hline(y=min_gain, line_dash="dash", annotation_text=f"improved from {min_gain:+.2f}")
    fig.update_layout(
        height=380, margin={"t": 20}, yaxis_title="gain in z (after − before)", showlegend=False
    )
    return fig


def class_report(
    store: DuckDBStore, *, course: str | None = None, min_gain: float = DEFAULT_MIN_GAIN
) -> HtmlReport:
    """The intervention report of one course (``course`` IRI) or of every course."""
    log = load_log(store, course=course)
    if log.num_rows == 0:
        where = f" for course {course}" if course else ""
        raise LearnsightError(f"the intervention log is empty{where}: plan interventions first")
    rows = log.to_pylist()
    title = short_course(course) if course else "all courses"
    report = HtmlReport(
        f"Interventions — {title}",
        f"{len({r['actor_key'] for r in rows})} students, {len(rows)} interventions",
    )
    add_class_sections(report, log, min_gain=min_gain)
    return report


def add_class_sections(report: HtmlReport, log: pa.Table, *, min_gain: float = DEFAULT_MIN_GAIN) -> None:
    """The class page's sections (also part of the demo report): status, factors, gains, students."""
    rows = log.to_pylist()
    by_strategy: dict[str, Counter[str]] = {}
    for r in rows:
        by_strategy.setdefault(r["strategy"], Counter())[_current(r)] += 1
    steps = ["planned", "delivered", "improved", "not improved", "escalated"]
    report.add_table(
        "Where every strategy stands",
        ["strategy", *steps, "all"],
        [
            [_label(s), *(by_strategy[s].get(k, 0) for k in steps), sum(by_strategy[s].values())]
            for s in STRATEGIES
            if s in by_strategy
        ],
        note="One row per strategy; a reviewed intervention counts as improved or not improved, an "
        "escalated one was reviewed, did not improve and was replaced by the next attempt.",
    )
    report.add_figure("Interventions by strategy and status", status_figure(log))
    report.add_figure(
        "Most targeted factors",
        factor_figure(log),
        note="Indicators the first plans target: where the at-risk students fall furthest short of the "
        "cohort and of the successful peers.",
    )
    if any(r["gain"] is not None for r in rows):
        report.add_figure(
            "Did the students improve?",
            gain_figure(log, min_gain),
            note="Change of each reviewed student's z-score within the cohort from the last assessment "
            "before the delivery to the first one after it; above the dashed line counts as improved.",
        )
    report.add_table(
        "Students",
        ["student", "course", "attempt", "strategy", "method", "timing", "step", "gain", "first factor"],
        [
            [
                short_actor(r["actor_key"]),
                short_course(r["course"]),
                r["attempt"],
                _label(r["strategy"]),
                f"{r['mode']} · {r['channel']} · {r['depth']}",
                r["timing"].replace("_", " "),
                _current(r),
                r["gain"],
                (r["evidence"] or [""])[0],
            ]
            for r in sorted(rows, key=lambda r: (r["course"], r["actor_key"], r["attempt"]))
        ],
    )


def trajectory_figure(results: dict[str, list[AssessmentResult]], events: list[dict[str, Any]]) -> Any:
    """The student's z-score on each assessment over time, one line per course, deliveries marked."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for course, series in results.items():
        fig.add_trace(
            go.Scatter(
                x=[r.ts for r in series],
                y=[r.z for r in series],
                mode="lines+markers",
                name=short_course(course),
                text=[f"{r.object_id.rsplit('/', 1)[-1]}: {100 * r.score:.0f} %" for r in series],
            )
        )
    for e in events:
        if e["delivered_at"] is not None:
            fig.add_vline(x=e["delivered_at"], line_dash="dot", line_color="#e6550d")
            fig.add_annotation(
                x=e["delivered_at"],
                y=1,
                yref="paper",
                text=_label(e["strategy"]),
                showarrow=False,
                yanchor="bottom",
            )
    fig.add_hline(y=0, line_color="#999", annotation_text="cohort mean")
    fig.update_layout(height=380, margin={"t": 40}, yaxis_title="z-score within the cohort")
    return fig


def student_report(store: DuckDBStore, actor_key: str, *, course: str | None = None) -> HtmlReport:
    """One student's interventions, messages and assessment trajectory."""
    log = load_log(store, actor_key=actor_key, course=course)
    if log.num_rows == 0:
        raise LearnsightError(f"no intervention in the log for student {actor_key!r}")
    rows = sorted(log.to_pylist(), key=lambda r: (r["course"], r["attempt"], r["planned_at"]))
    courses = sorted({r["course"] for r in rows})
    report = HtmlReport(f"Interventions — {short_actor(actor_key)}", f"{len(rows)} interventions")
    report.add_table(
        "The chain of interventions",
        ["course", "attempt", "strategy", "method", "timing", "planned", "delivered", "step", "why"],
        [
            [
                short_course(r["course"]),
                r["attempt"],
                _label(r["strategy"]),
                f"{r['mode']} · {r['channel']} · {r['depth']}",
                r["timing"].replace("_", " "),
                _fmt_ts(r["planned_at"]),
                _fmt_ts(r["delivered_at"]),
                _current(r),
                r["review_reason"] or r["reason"] or "",
            ]
            for r in rows
        ],
        note="Each escalation changes the strategy, timing or method of the attempt before it "
        "(the strategy file's ladder) after the student did not improve.",
    )
    results = assessment_results(store, courses)
    mine = {c: results.get((actor_key, c), []) for c in courses}
    if any(mine.values()):
        report.add_figure(
            "Assessment results against the cohort",
            trajectory_figure({c: s for c, s in mine.items() if s}, rows),
            note="z-score of each result within everyone scored on the same assessment; dotted lines "
            "mark the deliveries.",
        )
    items = "".join(
        f"<li><b>{html.escape(short_course(r['course']))}, attempt {r['attempt']} "
        f"({html.escape(_label(r['strategy']))}):</b> {html.escape(r['message'])}"
        + (
            "<ul>" + "".join(f"<li>{html.escape(e)}</li>" for e in r["evidence"]) + "</ul>"
            if r["evidence"]
            else ""
        )
        + "</li>"
        for r in rows
    )
    report.add(Section("Messages and the evidence behind them", f"<ul>{items}</ul>"))
    return report


__all__ = [
    "add_class_sections",
    "class_report",
    "factor_figure",
    "gain_figure",
    "status_figure",
    "student_report",
    "trajectory_figure",
]
