"""The ``learnsight`` command line (typer).

Every command takes ``--db`` (default: the ``LEARNSIGHT_DB`` setting, else the user data directory).
Errors are one clear line on stderr and exit code 1; ``learnsight --debug ...`` shows the traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from learnsight import progress
from learnsight.commands.common import DbOption, JsonFlag, cli_store, console, err_console
from learnsight.commands.experiment import experiment_app
from learnsight.commands.intervene import intervene_app
from learnsight.commands.lrs import lrs_app, serve
from learnsight.commands.recommend import recommend
from learnsight.commands.ssl import ssl_app
from learnsight.commands.teaching import teaching_app
from learnsight.commands.video import video_app
from learnsight.errors import LearnsightError
from learnsight.ingest import timed
from learnsight.store import IngestReport

app = typer.Typer(
    name="learnsight",
    help="Learning-behaviour analytics on one xAPI event stream.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest_app = typer.Typer(help="Import a source into the store.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(intervene_app, name="intervene")
app.add_typer(experiment_app, name="experiment")
app.command("recommend")(recommend)
app.add_typer(lrs_app, name="lrs")
app.add_typer(video_app, name="video")
app.add_typer(teaching_app, name="teaching")
app.add_typer(ssl_app, name="ssl")
app.command("serve")(serve)

_state: dict[str, Any] = {"debug": False}

MaxRejects = Annotated[
    int,
    typer.Option(
        "--max-rejects",
        help="Rejected rows tolerated (recorded in the store); above it nothing is written.",
    ),
]


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


_store = cli_store


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        console.print_json(report.to_json())
        return
    table = Table(title=f"ingest {report.kind}: {report.source}", show_header=False)
    table.add_row("rows read", f"{report.rows_read:,}")
    table.add_row("statements written", f"{report.statements_written:,}")
    table.add_row("already stored (skipped)", f"{report.statements_skipped:,}")
    table.add_row("profiles written", f"{report.profiles_written:,}")
    table.add_row("rows rejected", f"{report.rows_rejected:,}")
    table.add_row("seconds", f"{report.seconds:.1f}")
    for key, value in report.details.items():
        if isinstance(value, int | float | str):
            table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
    for rejection in report.rejections[:20]:
        err_console.print(f"[yellow]rejected[/] {rejection}")
    if report.rows_rejected > 20:
        err_console.print(f"... {report.rows_rejected - 20} more rejected rows (see the store)")


def _run_ingest(db: Path | None, as_json: bool, fn: Any, *args: Any, **kwargs: Any) -> None:
    progress.enable(err_console)
    try:
        with _store(db) as store:
            report = timed(fn, store, *args, **kwargs)
    finally:
        progress.disable()
    _print_report(report, as_json)


@ingest_app.command("xapi")
def ingest_xapi_cmd(
    path: Annotated[Path, typer.Argument(help="JSON array or JSON Lines of statements (.gz ok).")],
    db: DbOption = None,
    max_rejects: MaxRejects = 0,
    as_json: JsonFlag = False,
) -> None:
    """Import xAPI statements, strictly validated."""
    from learnsight.ingest.xapi_json import ingest_xapi

    # One validation process per CPU: the `learnsight` entry point is safe to re-import.
    _run_ingest(db, as_json, ingest_xapi, path, max_rejects=max_rejects, workers=None)


@ingest_app.command("oulad")
def ingest_oulad_cmd(
    path: Annotated[Path, typer.Argument(help="Directory of the 7 OULAD CSVs, or the official zip.")],
    db: DbOption = None,
    max_rejects: MaxRejects = 0,
    as_json: JsonFlag = False,
) -> None:
    """Import the Open University Learning Analytics Dataset."""
    from learnsight.ingest.oulad import ingest_oulad

    _run_ingest(db, as_json, ingest_oulad, path, max_rejects=max_rejects)


@ingest_app.command("uci")
def ingest_uci_cmd(
    path: Annotated[Path, typer.Argument(help="Folder with student-mat.csv / student-por.csv.")],
    db: DbOption = None,
    max_rejects: MaxRejects = 0,
    as_json: JsonFlag = False,
) -> None:
    """Import UCI Student Performance (Math and Portuguese), linking students across courses."""
    from learnsight.ingest.uci import ingest_uci

    _run_ingest(db, as_json, ingest_uci, path, max_rejects=max_rejects)


@ingest_app.command("csv")
def ingest_csv_cmd(
    path: Annotated[Path, typer.Argument(help="Any CSV file (.gz ok).")],
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="Mapping file (TOML or YAML) or a shipped name.")
    ],
    db: DbOption = None,
    max_rejects: MaxRejects = 0,
    as_json: JsonFlag = False,
) -> None:
    """Import any CSV through a mapping file (see `learnsight ingest mappings`)."""
    from learnsight.ingest.csv_mapped import ingest_csv

    _run_ingest(db, as_json, ingest_csv, path, mapping, max_rejects=max_rejects)


@ingest_app.command("mappings")
def ingest_mappings_cmd() -> None:
    """List the example mappings shipped with learnsight."""
    from learnsight.ingest.csv_mapped import shipped_mappings

    for name, path in shipped_mappings().items():
        console.print(f"{name}\t{path}")


@app.command()
def simulate(
    db: DbOption = None,
    students: Annotated[int, typer.Option(help="Number of students.")] = 1000,
    courses: Annotated[int, typer.Option(help="Number of courses.")] = 6,
    weeks: Annotated[int, typer.Option(help="Semester length in weeks.")] = 16,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same campus).")] = 7,
    out: Annotated[
        Path | None, typer.Option(help="Also write each source's raw files (CSV/JSONL) here.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a semester on a synthetic campus and store it."""
    from learnsight.simulate.campus import (
        CampusConfig,
        export_sources,
        simulate_campus,
        write_campus,
    )

    config = CampusConfig(n_students=students, n_courses=courses, n_weeks=weeks, seed=seed)
    progress.enable(err_console)
    try:
        campus = simulate_campus(config)
        with _store(db) as store:
            report = write_campus(store, campus)
        if out is not None:
            export_sources(campus, out)
    finally:
        progress.disable()
    _print_report(report, as_json)


@app.command()
def activities(
    db: DbOption = None,
    gap_minutes: Annotated[
        float, typer.Option(help="Largest gap (minutes) between events of one activity.")
    ] = 30.0,
    as_json: JsonFlag = False,
) -> None:
    """Group events into activities (same learner, same device type, gaps <= threshold)."""
    from learnsight.activities import build_activities

    progress.enable(err_console)
    try:
        with _store(db) as store:
            summary = build_activities(store, gap_minutes=gap_minutes)
    finally:
        progress.disable()
    if as_json:
        console.print_json(json.dumps(summary.to_dict(), default=str))
        return
    table = Table(title=f"activities (gap <= {gap_minutes:g} min)")
    for col in ("source", "activities", "events", "mean events", "mean minutes"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for row in summary.by_source:
        table.add_row(
            row["source"],
            f"{row['activities']:,}",
            f"{row['events']:,}",
            f"{row['mean_events']:.1f}",
            f"{row['mean_minutes']:.1f}",
        )
    console.print(table)
    console.print(
        f"{summary.activities:,} activities from {summary.events:,} events in {summary.seconds:.1f}s"
    )


export_app = typer.Typer(help="Export the store for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("parquet")
def export_parquet_cmd(
    out: Annotated[Path, typer.Argument(help="Folder to write (Hive-partitioned Parquet).")],
    db: DbOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing export.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write the store as partitioned Parquet (for Spark and other engines)."""
    from learnsight.store.export import export_parquet

    progress.enable(err_console)
    try:
        with _store(db) as store:
            report = export_parquet(store, out, overwrite=overwrite)
    finally:
        progress.disable()
    if as_json:
        console.print_json(json.dumps(report.to_dict(), default=str))
    else:
        console.print(report.to_dict())


EngineOption = Annotated[
    str, typer.Option("--engine", help="duckdb (embedded store) or spark (over a Parquet export).")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Cut-off: a date (2024-10-15) or a course week (week:6)."),
]


def _compute(db: Path | None, as_of: str | None, engine: str, parquet: Path | None) -> Any:
    from learnsight.indicators import AsOf, DuckDBEngine, compute_indicators, save_indicators

    cutoff = AsOf.parse(as_of)
    if engine not in ("duckdb", "spark"):
        raise LearnsightError(f"--engine: expected duckdb or spark, got {engine!r}")
    with _store(db) as store:
        if engine == "duckdb":
            tables = compute_indicators(DuckDBEngine(store), cutoff)
        else:
            import tempfile

            from learnsight.indicators.spark_engine import SparkEngine
            from learnsight.store.export import export_parquet

            with tempfile.TemporaryDirectory(prefix="learnsight-parquet-") as tmp:
                folder = parquet
                if folder is None:
                    folder = Path(tmp) / "export"
                    export_parquet(store, folder)
                tables = compute_indicators(SparkEngine(folder), cutoff)
        save_indicators(store, tables)
    return tables


@app.command()
def indicators(
    db: DbOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "duckdb",
    parquet: Annotated[
        Path | None,
        typer.Option(help="With --engine spark: an existing `learnsight export parquet` folder."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write one row per student x course (.parquet or .csv).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compute every behaviour indicator (SPEC §2) at an as-of cut-off and store them."""
    from learnsight.indicators import wide_table

    if out is not None and out.suffix not in (".parquet", ".csv"):
        raise LearnsightError(f"--out: expected a .parquet or .csv file, got {out}")
    progress.enable(err_console)
    try:
        tables = _compute(db, as_of, engine, parquet)
    finally:
        progress.disable()
    if out is not None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        out.parent.mkdir(parents=True, exist_ok=True)
        wide = wide_table(tables)
        if out.suffix == ".parquet":
            pq.write_table(wide, out)
        else:
            pacsv.write_csv(wide, out)
    if as_json:
        console.print_json(json.dumps(tables.summary(), default=str))
        return
    table = Table(title=f"indicators as of {tables.as_of.label()} ({tables.engine}, {tables.seconds:.1f}s)")
    for col in ("indicator", "level", "family", "coverage", "missing because"):
        table.add_column(col)
    for row in tables.coverage.to_pylist():
        reasons = json.loads(row["missing_reasons"])
        table.add_row(
            row["indicator"],
            row["level"],
            row["family"],
            "-" if row["coverage"] is None else f"{row['coverage']:.0%}",
            ", ".join(f"{k} ({v})" for k, v in reasons.items()),
        )
    console.print(table)
    console.print(
        f"{tables.student.num_rows:,} students, {tables.student_course.num_rows:,} student-courses"
        + (f"; written to {out}" if out else "")
    )


@app.command()
def profile(
    student: Annotated[str, typer.Argument(help="Actor key, or the student's account name (S0001).")],
    db: DbOption = None,
    course: Annotated[str | None, typer.Option(help="Only this course (IRI or code, e.g. C01).")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a percentile bar chart (.html, or .png with kaleido).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """A student's indicators against the cohort (percentile, z-score)."""
    from learnsight.indicators.profile import student_profile

    with _store(db) as store:
        prof = student_profile(store, student, course=course)
    if plot is not None:
        prof.write_plot(plot)
    if as_json:
        console.print_json(json.dumps(prof.to_dict(), default=str))
        return
    console.print(prof.table())
    if plot is not None:
        console.print(f"plot: {plot}")


@app.command()
def stats(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Counts by source, verb and course; date range; rejected rows."""
    with _store(db) as store:
        s = store.stats()
    if as_json:
        console.print_json(json.dumps(s.__dict__, default=str))
        return
    head = Table(show_header=False, title="store")
    head.add_row("statements", f"{s.statements:,}")
    head.add_row("voided", f"{s.voided:,}")
    head.add_row("learners (actors)", f"{s.actors:,}")
    head.add_row("learner profiles", f"{s.profiles:,}")
    head.add_row("first event", str(s.first_ts))
    head.add_row("last event", str(s.last_ts))
    head.add_row("rejected rows", f"{s.rejected_rows:,}")
    head.add_row("activities", "not built" if s.activities is None else f"{s.activities:,}")
    console.print(head)
    for title, rows in (
        ("by source", s.by_source),
        ("by verb", s.by_verb),
        ("by course", s.by_course[:30]),
    ):
        t = Table(title=title)
        t.add_column(title.split()[-1])
        t.add_column("statements", justify="right")
        for name, n in rows:
            t.add_row(str(name), f"{n:,}")
        console.print(t)


@app.command()
def demo(
    db: DbOption = None,
    out: Annotated[Path, typer.Option(help="Folder for the HTML report and exported files.")] = Path(
        "out/demo"
    ),
    students: Annotated[int, typer.Option(help="Number of simulated students.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    serve_lrs: Annotated[
        bool, typer.Option("--serve", help="Then serve the demo store as an xAPI LRS (Ctrl-C stops).")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the LRS with --serve.")] = 8000,
) -> None:
    """Simulate a campus, ingest it, build activities and every later stage; write a report.

    The store defaults to OUT/demo.duckdb so the demo never touches your own store.  With
    ``--serve`` the demo store is then served as an xAPI LRS with a one-off credential.
    """
    from learnsight.demo import run_demo

    progress.enable(err_console)
    try:
        result = run_demo(db=db, out=out, students=students, seed=seed)
    finally:
        progress.disable()
    console.print(result.summary_table())
    console.print(f"[bold green]report:[/] {result.report_path}")
    if serve_lrs:
        import secrets

        secret = secrets.token_urlsafe(12)
        console.print(f"LRS credential: demo / {secret}  (scope all)")
        serve(db=str(result.db), port=port, credential=[f"demo:{secret}"])


def _csv_list(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


@app.command()
def evaluate(
    db: DbOption = None,
    out: Annotated[Path, typer.Option(help="Folder for evaluation.json and evaluation.html.")] = Path(
        "out/evaluation"
    ),
    models: Annotated[
        str | None, typer.Option(help="Comma-separated model names (default: the source's set).")
    ] = None,
    targets: Annotated[
        str | None,
        typer.Option(help="Comma-separated: pass_fail, pass_fail_all, three_class, five_level, score."),
    ] = None,
    weeks: Annotated[
        str | None, typer.Option(help="Cut-off weeks for early prediction, e.g. 2,4,6 (course end is added).")
    ] = None,
    folds: Annotated[int, typer.Option(help="k of the repeated k-fold CV (UCI).")] = 10,
    repeats: Annotated[int, typer.Option(help="Repeats of the k-fold CV (UCI).")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of every split and model.")] = 0,
    sequence: Annotated[
        bool, typer.Option(help="Add the GRU sequence model to weekly studies when PyTorch is installed.")
    ] = True,
    cuts: Annotated[
        list[str] | None,
        typer.Option(
            help="Class cut points SCHEME:EXCELLENT_FROM,AT_RISK_BELOW[,PASS_FROM], e.g. uci:15,10 "
            "(repeatable; defaults uci:14,10 and campus:85,60)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compare RMTL with single-task, pooled and sequence models on the store's outcomes (SPEC §3).

    UCI: Math and Portuguese as tasks, with and without G1/G2, beside Cortez & Silva 2008.
    OULAD / campus: early prediction at each cut-off week and at course end, leak-free.
    Writes evaluation.json and an HTML report with plots.
    """
    from learnsight.models.dataset import TARGETS
    from learnsight.models.evaluate import EvaluationConfig, evaluate_store, write_evaluation
    from learnsight.models.outcomes import parse_cuts
    from learnsight.models.zoo import model_spec

    model_list = _csv_list(models)
    for name in model_list or []:
        model_spec(name)
    target_list = _csv_list(targets)
    for t in target_list or []:
        if t not in TARGETS:
            raise LearnsightError(f"--targets: unknown target {t!r}; expected {', '.join(TARGETS)}")
    try:
        week_list = [int(w) for w in _csv_list(weeks) or []] if weeks else None
    except ValueError:
        raise LearnsightError(f"--weeks: expected comma-separated integers, got {weeks!r}") from None
    if week_list is not None and any(w < 1 for w in week_list):
        raise LearnsightError(f"--weeks: weeks must be >= 1, got {weeks!r}")
    config = EvaluationConfig(
        models=model_list,
        targets=target_list,  # type: ignore[arg-type]
        weeks=week_list,
        n_splits=folds,
        n_repeats=repeats,
        seed=seed,
        sequence=sequence,
        scheme=parse_cuts(cuts or []),
    )
    store = _store(db)
    result = evaluate_store(store, config, on_step=lambda line: err_console.print(line, highlight=False))
    json_path, html_path = write_evaluation(result, out)
    if as_json:
        console.print_json(
            json.dumps({"json": str(json_path), "html": str(html_path), "goals": result["goals"]})
        )
        return
    table = Table(title=f"goals ({result['scheme']})")
    for col in ("goal", "RMTL", "best model", "best", "met"):
        table.add_column(col)
    for g in result["goals"]:
        table.add_row(
            g["goal"],
            _pct(g["measured"]),
            str(g["best_model"]),
            _pct(g["best_measured"]),
            "yes" if g["met"] else "no",
        )
    console.print(table)
    console.print(f"[bold green]report:[/] {html_path}\n[bold green]json:[/] {json_path}")


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Folder to save the model in (model.joblib + metadata.json).")],
    db: DbOption = None,
    model: Annotated[str, typer.Option(help="Model name (see `learnsight evaluate --help`).")] = "rmtl",
    target: Annotated[
        str, typer.Option(help="pass_fail, pass_fail_all, three_class, five_level or score.")
    ] = "three_class",
    as_of: AsOfOption = None,
    groups: Annotated[
        str | None,
        typer.Option(help="Feature groups, comma-separated (default: profile,registry,assessments,weekly)."),
    ] = None,
    interim_grades: Annotated[bool, typer.Option(help="Use UCI's G1/G2 as features.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the hold-out split and the model.")] = 0,
    holdout: Annotated[
        bool, typer.Option(help="Score on a grouped 2:1 hold-out before the final fit.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Train a model on the store's outcomes with features as of a cut-off, and save it."""
    from learnsight.indicators.asof import AsOf
    from learnsight.models.dataset import DEFAULT_GROUPS, TARGETS, DatasetBuilder
    from learnsight.models.persist import save_model
    from learnsight.models.predict import train_model

    if target not in TARGETS:
        raise LearnsightError(f"--target: unknown target {target!r}; expected {', '.join(TARGETS)}")
    group_list = _csv_list(groups) or list(DEFAULT_GROUPS)
    builder = DatasetBuilder(
        _store(db),
        groups=group_list,  # type: ignore[arg-type]
        interim_grades=interim_grades,
    )
    dataset = builder.build(AsOf.parse(as_of))
    bundle = train_model(dataset, target, model, seed=seed, evaluate=holdout)
    path = save_model(bundle, out)
    meta = bundle.metadata
    if as_json:
        console.print_json(json.dumps({"path": str(path), "metadata": meta.to_dict()}, default=str))
        return
    overall = meta.metrics.get("overall", {}) if meta.metrics else {}
    summary = ", ".join(
        f"{k} {v:.3f}" for k, v in overall.items() if k in ("accuracy", "macro_f1", "rmse") and v == v
    )
    console.print(
        f"[bold green]saved[/] {meta.model} for {meta.target} ({meta.rows:,} rows, "
        f"{len(meta.tasks)} courses, as of {meta.as_of}) to {path}"
        + (f"\nhold-out: {summary}" if summary else "")
    )


@app.command()
def predict(
    model: Annotated[Path, typer.Option("--model", help="A folder written by `learnsight train`.")],
    db: DbOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Cut-off of the features (default: the model's training cut-off)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the predictions (.csv or .parquet).")] = None,
    statements: Annotated[
        bool, typer.Option("--statements", help="Also store the predictions as xAPI statements.")
    ] = False,
    top_k: Annotated[int, typer.Option(help="Drivers (signed indicator contributions) per prediction.")] = 5,
    student: Annotated[str | None, typer.Option(help="Show only this student (actor key).")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown on screen.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Predict each student's class in every course the model knows, with the indicators that drive it."""
    import pyarrow.compute as pc

    from learnsight.indicators.asof import AsOf
    from learnsight.models.persist import load_model
    from learnsight.models.predict import (
        alignment,
        predict_store,
        prediction_statements,
        skipped_rows,
        write_predictions,
    )

    if out is not None and out.suffix not in (".parquet", ".csv"):
        raise LearnsightError(f"--out: expected a .parquet or .csv file, got {out}")
    bundle = load_model(model)
    meta = bundle.metadata
    store = _store(db)
    cut = AsOf.parse(as_of) if as_of is not None else AsOf.parse("" if meta.as_of == "all" else meta.as_of)
    table = predict_store(store, bundle, cut, top_k=top_k)
    filled, dropped = alignment(table)
    if filled or dropped:
        err_console.print(
            f"[yellow]note:[/] {len(filled)} training feature(s) absent from this store were treated as "
            f"missing ({', '.join(filled[:5])}{'…' if len(filled) > 5 else ''}); "
            f"{len(dropped)} new feature(s) ignored",
            highlight=False,
        )
    if student is not None:
        table = table.filter(pc.equal(table.column("actor_key"), student))
        if table.num_rows == 0:
            raise LearnsightError(f"--student: no prediction for {student!r}")
    if out is not None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".parquet":
            pq.write_table(table, out)
        else:
            pacsv.write_csv(table, out)
    report = None
    if statements:
        report = write_predictions(store, prediction_statements(table, bundle))
    if as_json:
        rows = table.slice(0, limit).to_pylist()
        console.print_json(
            json.dumps(
                {
                    "model": meta.model,
                    "target": meta.target,
                    "as_of": cut.label(),
                    "rows": table.num_rows,
                    "skipped": skipped_rows(table),
                    "statements_written": None if report is None else report.statements_written,
                    "predictions": rows,
                },
                default=str,
            )
        )
        return
    view = Table(title=f"{meta.model} → {meta.target}, as of {cut.label()} ({table.num_rows:,} predictions)")
    for col in ("student", "course", "predicted", "p", "drivers (signed contribution)", "actual"):
        view.add_column(col)
    for row in table.slice(0, limit).to_pylist():
        drivers = json.loads(row["drivers"] or "[]")
        view.add_row(
            str(row["actor_key"]).split("|")[-1],
            str(row["course"]).rstrip("/").split("/")[-1],
            str(row["predicted"]),
            "-" if row["probability"] is None else f"{row['probability']:.2f}",
            "; ".join(f"{d['feature']} {d['contribution']:+.2f}" for d in drivers[:3]),
            "-" if row.get("actual") is None else str(row["actual"]),
        )
    console.print(view)
    if out is not None:
        console.print(f"written to {out}")
    if report is not None:
        console.print(f"{report.statements_written:,} prediction statements stored")


def _pct(value: Any) -> str:
    return "-" if value is None or value != value else f"{100 * float(value):.1f} %"


def main() -> None:
    """Entry point: run the app, turning learnsight errors into one line (exit code 1)."""
    try:
        app()
    except LearnsightError as exc:
        if _state["debug"]:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (OSError, ValueError) as exc:
        if _state["debug"]:
            raise
        err_console.print(
            f"[bold red]error:[/] {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
