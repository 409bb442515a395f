"""``learnsight demo``: the whole pipeline on a synthetic campus, with no server and no download.

simulate (seeded semester) → export every source's raw files → ingest each file with its importer
(xAPI JSON Lines for the LMS, CSV + shipped mapping for canteen, dorm, library and network) → learner
profiles → activities → behaviour indicators → early warning (robust multi-task model trained on the
indicators visible at mid-semester, saved, every student predicted with the indicators that drive it,
predictions stored as statements) → interventions (target factors and strategies for every student
predicted at risk, planned and delivered at mid-semester and logged as statements, reviewed after the
next assessment with escalation where a student did not improve) → a randomised experiment in the
simulator's closed loop (a second campus where the intervention has a planted true effect: predict,
assign at-risk students to intervention or control, measure before and after) → teaching evaluation
(simulated filmed lessons with a planted quality stored as statements, lesson and teacher scores from
them with a few expert ratings, SPEC §6) → an HTML report with the class page of the interventions,
the experiment's SPEC §4 table, the teaching scores, and one student's page.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.table import Table

from learnsight.activities import ActivitySummary, build_activities
from learnsight.indicators import DuckDBEngine, compute_indicators, save_indicators
from learnsight.ingest import timed
from learnsight.ingest.csv_mapped import ingest_csv
from learnsight.ingest.xapi_json import ingest_xapi
from learnsight.interventions.loop import LoopResult
from learnsight.interventions.review import ReviewResult
from learnsight.report import HtmlReport
from learnsight.report.indicator_overview import add_indicator_overview
from learnsight.report.interventions import student_report
from learnsight.report.store_overview import add_store_overview
from learnsight.simulate.campus import (
    CampusConfig,
    course_calendar,
    export_sources,
    simulate_campus,
)
from learnsight.store import DuckDBStore, IngestBatch, IngestReport, StoreStats, open_store
from learnsight.teaching.lesson_evaluation import LessonEvaluation
from learnsight.vision.demo_lesson import classroom_video

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
    *,
    db: Path | None,
    out: Path,
    students: int = 300,
    courses: int = 6,
    weeks: int = 16,
    seed: int = 7,
    experiment_students: int = 500,
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
        t = time.perf_counter()
        warning_week = max(1, weeks // 2)
        warning = early_warning(store, out / "models" / f"rmtl-week{warning_week}", warning_week, seed)
        timings[f"early warning at week {warning_week} (train, predict)"] = time.perf_counter() - t
        t = time.perf_counter()
        loop = intervention_loop(store, warning, seed)
        timings["interventions (plan, deliver, review)"] = time.perf_counter() - t
        t = time.perf_counter()
        experiment = closed_loop_experiment(out / "experiment", experiment_students, seed)
        timings["experiment (closed loop, planted gain of 8 points)"] = time.perf_counter() - t
        t = time.perf_counter()
        video = classroom_video(store, out / "video", seed=seed)
        timings[f"classroom video ({video.line()})"] = time.perf_counter() - t
        t = time.perf_counter()
        teaching = teaching_lessons(store, seed)
        timings[f"teaching evaluation ({teaching.line()})"] = time.perf_counter() - t
        report = HtmlReport(
            "learnsight demo",
            f"synthetic campus: {students} students × {courses} courses × {weeks} weeks, seed {seed}",
        )
        add_store_overview(report, store)
        add_indicator_overview(report, store, indicator_tables)
        add_early_warning(report, warning)
        add_interventions(report, store, loop)
        add_experiment(report, experiment)
        add_teaching(report, teaching)
        report_path = report.write(out / "report.html")
        if loop.example_student is not None:
            student_report(store, loop.example_student).write(out / "student.html")
        stats = store.stats()
    return DemoResult(
        db=db,
        report_path=report_path,
        ingests=ingests,
        activities=activity_summary,
        stats=stats,
        timings=timings,
    )


@dataclass
class EarlyWarning:
    """The demo's prediction step: the saved model, its hold-out metrics and the predictions."""

    week: int
    model_path: Path
    metrics: dict[str, Any]
    predictions: pa.Table
    statements_written: int


def early_warning(store: DuckDBStore, model_path: Path, week: int, seed: int) -> EarlyWarning:
    """Train RMTL on the three classes with the data before ``week``, save it, predict every
    student and store the predictions as statements (SPEC §3 early prediction)."""
    from learnsight.indicators.asof import AsOf
    from learnsight.models.dataset import DatasetBuilder
    from learnsight.models.persist import save_model
    from learnsight.models.predict import predict_table, prediction_statements, train_model, write_predictions

    data = DatasetBuilder(store).build(AsOf(week=week))
    bundle = train_model(data, "three_class", "rmtl", seed=seed)
    save_model(bundle, model_path)
    table = predict_table(bundle, data, top_k=3)
    written = write_predictions(store, prediction_statements(table, bundle)).statements_written
    return EarlyWarning(week, model_path, bundle.metadata.metrics, table, written)


def add_early_warning(report: HtmlReport, warning: EarlyWarning) -> None:
    """A section: hold-out quality and the students predicted at risk with their drivers."""
    overall = warning.metrics.get("overall", {})
    at_risk = [r for r in warning.predictions.to_pylist() if r["predicted"] == "at-risk"]
    at_risk.sort(key=lambda r: -float(r["probability"] or 0))
    rows = [
        [
            str(r["actor_key"]).split("|")[-1],
            str(r["course"]).rstrip("/").split("/")[-1],
            f"{float(r['probability']):.2f}",
            "; ".join(_driver(d) for d in json.loads(r["drivers"] or "[]")),
            r.get("actual") or "",
        ]
        for r in at_risk[:25]
    ]
    report.add_table(
        f"Early warning at week {warning.week}: students predicted at risk",
        ["student", "course", "p(at-risk)", "drivers (signed contribution to the log-odds)", "actual"],
        rows,
        note=(
            f"Robust multi-task model (one task per course), trained on the data dated before week "
            f"{warning.week}; grouped 2:1 hold-out accuracy {_fmt(overall.get('accuracy'))}, macro-F1 "
            f"{_fmt(overall.get('macro_f1'))}. {len(at_risk)} of {warning.predictions.num_rows} "
            f"student-courses flagged; {warning.statements_written} prediction statements stored. "
            f"Model saved in {warning.model_path} (reload with `learnsight predict --model`)."
        ),
    )


@dataclass
class InterventionLoop:
    """The demo's intervention step: plans made, deliveries logged, the review's verdicts."""

    plans: int
    students: int
    delivered_at: datetime
    review: ReviewResult
    example_student: str | None


def intervention_loop(store: DuckDBStore, warning: EarlyWarning, seed: int) -> InterventionLoop:
    """Plan for every student predicted at risk at the warning's week (the shipped strategy rules),
    log the plans and their delivery at that week's start, then review them after the next
    assessment (SPEC §4): students who did not improve get an escalated plan."""
    from learnsight.indicators.asof import AsOf
    from learnsight.interventions.log import record_delivery, record_plans
    from learnsight.interventions.plan import plan_interventions
    from learnsight.interventions.review import review_interventions

    plans = plan_interventions(store, warning.predictions, as_of=AsOf(week=warning.week))
    start = store.scalar("SELECT min(start_ts) FROM courses")
    delivered_at = start + timedelta(days=7 * warning.week, hours=9)
    record_plans(store, plans, timestamp=delivered_at - timedelta(hours=1))
    record_delivery(store, plans, delivered_at=delivered_at)
    review = review_interventions(store, timestamp=delivered_at + timedelta(weeks=2))
    escalated = [r.plan.actor_key for r in review.reviewed if r.escalation is not None]
    example = escalated[0] if escalated else (plans[0].actor_key if plans else None)
    return InterventionLoop(
        plans=len(plans),
        students=len({p.actor_key for p in plans}),
        delivered_at=delivered_at,
        review=review,
        example_student=example,
    )


def closed_loop_experiment(workdir: Path, students: int, seed: int) -> LoopResult:
    """Does an intervention help?  The simulator's closed loop with a planted true effect: last
    year's cohort trains the model, this year's at-risk students (predicted at week 4) are randomised
    within courses, the intervention arm's effort rises from week 4 so that its expected final-score
    gain is 8 points, and the mid-term (before) is compared with the final (after) in both arms."""
    from learnsight.interventions.loop import run_closed_loop

    if workdir.exists():
        shutil.rmtree(workdir)
    config = CampusConfig(n_students=students, n_courses=2, n_weeks=8, seed=seed, midterm_week=4)
    return run_closed_loop(config, week=4, gain=8.0, workdir=workdir, seed=seed)


def teaching_lessons(store: DuckDBStore, seed: int) -> LessonEvaluation:
    """Teaching evaluation from classroom video (SPEC §6): a term of simulated filmed lessons whose
    teachers have a planted quality, stored as was-observed statements, read back per lesson and
    scored by the multi-kernel LapSVM from a quarter of the lessons rated by an expert."""
    from learnsight.teaching.lesson_evaluation import run_lessons
    from learnsight.teaching.lessons import LessonConfig

    return run_lessons(store, LessonConfig(seed=seed))


def add_teaching(report: HtmlReport, evaluation: LessonEvaluation) -> None:
    """The teaching-evaluation sections (lesson and teacher scores against the planted truth)."""
    from learnsight.report.teaching import add_lesson_sections

    add_lesson_sections(report, evaluation)


def add_experiment(report: HtmlReport, result: LoopResult) -> None:
    """The experiment's SPEC §4 table and figure, with the planted truth beside the estimate."""
    from learnsight.report.experiments import add_experiment_sections

    ci = result.difference_ci
    found = (
        "no comparison (too few units)"
        if result.difference is None or ci is None
        else f"estimated {result.difference:+.2f} points "
        f"(95 % CI {ci[0]:+.2f} to {ci[1]:+.2f}, p = {result.p:.4f})"
    )
    add_experiment_sections(
        report,
        result.study,
        title=(f"Experiment in the simulator: planted gain {result.expected_gain:.1f} points, {found}"),
    )


def add_interventions(report: HtmlReport, store: DuckDBStore, loop: InterventionLoop) -> None:
    """The class page of the interventions as sections of the demo report."""
    from learnsight.interventions.log import load_log
    from learnsight.report.interventions import add_class_sections

    counts = loop.review.to_dict()["counts"]
    report.add_table(
        "Interventions: planned, delivered, reviewed",
        ["step", "count"],
        [
            ["plans (strategies for at-risk student-courses)", loop.plans],
            ["students", loop.students],
            ["delivered on", f"{loop.delivered_at:%Y-%m-%d %H:%M}"],
            ["reviewed after the next assessment", counts["reviewed"]],
            ["improved", counts["improved"]],
            ["not improved", counts["not_improved"]],
            ["escalated (changed strategy, timing or method)", counts["escalated"]],
            ["pending (no assessment since)", counts["pending"]],
        ],
        note="Every plan, delivery, review and escalation is an xAPI statement of the intervention log "
        "(`learnsight intervene report --student KEY` writes one student's page; the demo wrote "
        "student.html for one of them). A single student's verdict only steers the next attempt: "
        "whether a strategy works is measured with a control group (`learnsight experiment`).",
    )
    log = load_log(store)
    if log.num_rows:
        add_class_sections(report, log)


def _driver(d: dict[str, Any]) -> str:
    value = "missing" if d.get("value") is None else f"{float(d['value']):.3g}"
    return f"{d['feature']} = {value} ({float(d['contribution']):+.2f})"


def _fmt(value: Any) -> str:
    return "-" if value is None or value != value else f"{float(value):.3f}"
