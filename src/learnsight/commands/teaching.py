"""``learnsight teaching …``: teaching evaluation (SPEC §6, :mod:`learnsight.teaching`).

* ``teaching evaluate --survey PATH --labelled 0.05 [--seed N] [--json] [--out DIR]`` — the survey
  protocol: instructor × course scores from a semi-supervised model with a few expert labels, against
  the true labels and a supervised baseline; ``report.html`` and ``evaluation.json`` in DIR;
* ``teaching lessons [--teachers --lessons --expert-share --seed] [--db] [--json] [--out DIR]`` —
  simulated filmed lessons with a planted quality → statements in the store → lesson and teacher
  scores.

With ``--json`` the one JSON object is the only thing on stdout; progress goes to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from learnsight import progress
from learnsight.commands.common import DbOption, JsonFlag, cli_store, console, err_console
from learnsight.teaching.models import (
    BASELINES,
    DEFAULT_BASELINE,
    DEFAULT_LESSON_MODEL,
    DEFAULT_MODEL,
    SEMI_SUPERVISED,
)

teaching_app = typer.Typer(
    help="Teaching evaluation: score lessons and teachers from surveys and classroom video.",
    no_args_is_help=True,
)

ModelOption = Annotated[
    str, typer.Option("--model", help=f"Semi-supervised model: {', '.join(SEMI_SUPERVISED)}.")
]
BaselineOption = Annotated[
    str, typer.Option("--baseline", help=f"Supervised baseline on the labelled rows: {', '.join(BASELINES)}.")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the labelled split and the models.")]


@teaching_app.command("evaluate")
def evaluate(
    survey: Annotated[Path, typer.Option("--survey", help="Student evaluation CSV (Turkiye layout).")],
    labelled: Annotated[
        float, typer.Option("--labelled", help="Fraction of evaluations whose expert label is revealed.")
    ] = 0.05,
    seed: SeedOption = 0,
    levels: Annotated[
        str, typer.Option("--levels", help="Label design: 3 (poor/fair/good, default) or 5 (the 1–5 scale).")
    ] = "3",
    model: ModelOption = DEFAULT_MODEL,
    baseline: BaselineOption = DEFAULT_BASELINE,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and evaluation.json.")] = Path(
        "out/teaching"
    ),
    as_json: JsonFlag = False,
) -> None:
    """Score every instructor × course from a survey with few expert labels; compare with the truth."""
    from learnsight.report.teaching import survey_report
    from learnsight.teaching.evaluate import evaluate_survey
    from learnsight.teaching.survey import load_survey

    progress.enable(err_console)
    try:
        with progress.task(f"reading {survey.name}", total=1) as step:
            data = load_survey(survey)
            step(1)
        result = evaluate_survey(
            data, labelled=labelled, seed=seed, design=levels, model=model, baseline=baseline
        )
        with progress.task("writing the report", total=1) as step:
            document = result.to_dict()
            out.mkdir(parents=True, exist_ok=True)
            (out / "evaluation.json").write_text(json.dumps(document, indent=1))
            html_path = survey_report(result).write(out / "report.html")
            step(1)
    finally:
        progress.disable()
    if as_json:
        typer.echo(json.dumps(document))
        return
    _print_groups(document, f"{result.ours.model} vs {result.baseline.model}, {labelled:.0%} labelled")
    console.print(
        f"max deviation (groups with n ≥ {result.min_n}): ours {_pct(result.ours.max_deviation_pct)}, "
        f"baseline {_pct(result.baseline.max_deviation_pct)} — goal ≤ 5 %"
    )
    console.print(f"[bold green]report:[/] {html_path}")


@teaching_app.command("lessons")
def lessons(
    teachers: Annotated[int, typer.Option("--teachers", help="Simulated teachers (one course each).")] = 6,
    lessons_per_teacher: Annotated[int, typer.Option("--lessons", help="Lessons per teacher.")] = 10,
    students: Annotated[int, typer.Option("--students", help="Students filmed per lesson.")] = 20,
    expert_share: Annotated[
        float, typer.Option("--expert-share", help="Share of lessons the expert rates (per rating level).")
    ] = 0.25,
    seed: SeedOption = 0,
    model: ModelOption = DEFAULT_LESSON_MODEL,
    baseline: BaselineOption = DEFAULT_BASELINE,
    db: DbOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.html, lessons.json (and the store).")
    ] = Path("out/teaching-lessons"),
    as_json: JsonFlag = False,
) -> None:
    """Simulate filmed lessons with a planted quality, store their statements, score lessons and
    teachers from the statements, and compare with the planted expert ratings.

    The store defaults to OUT/lessons.duckdb so the simulation never touches your own store."""
    from learnsight.report.teaching import lessons_report
    from learnsight.teaching.lesson_evaluation import run_lessons
    from learnsight.teaching.lessons import LessonConfig

    try:
        config = LessonConfig(
            teachers=teachers, lessons_per_teacher=lessons_per_teacher, students=students, seed=seed
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    progress.enable(err_console)
    try:
        with cli_store(db or out / "lessons.duckdb") as store:
            result = run_lessons(store, config, expert_share=expert_share, model=model, baseline=baseline)
        document = result.to_dict()
        (out / "lessons.json").write_text(json.dumps(document, indent=1))
        html_path = lessons_report(result).write(out / "report.html")
    finally:
        progress.disable()
    if as_json:
        typer.echo(json.dumps(document))
        return
    _print_groups(document, f"teachers: {result.model} with {result.rated} expert-rated lessons")
    console.print(
        f"Spearman(lesson score, latent quality) {result.spearman_quality:.3f} "
        f"(baseline {result.baseline_spearman_quality:.3f}); "
        f"teacher order {result.teacher_order_spearman:.3f}; "
        f"max teacher deviation {_pct(result.max_deviation_pct)} "
        f"(baseline {_pct(result.baseline_max_deviation_pct)})"
    )
    console.print(f"[bold green]report:[/] {html_path}")


def _print_groups(document: dict[str, Any], title: str) -> None:
    table = Table(title=title)
    for column in ("instructor", "course", "n", "true", "predicted", "deviation %"):
        table.add_column(column, justify="right")
    for g in document["groups"]:
        table.add_row(
            str(g["instructor"]),
            str(g["course"]),
            str(g["n"]),
            f"{g['score_true']:.3f}",
            f"{g['score_predicted']:.3f}",
            f"{g['deviation_pct']:.2f}",
        )
    console.print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"
