"""``learnsight intervene plan|record|review|report``: the intervention loop of SPEC §4 on a store.

* ``plan`` — predict with a saved model (``learnsight train``) at a cut-off, find each at-risk
  student's target factors and match the strategy rules (the shipped default or ``--rules FILE``);
  ``--record`` writes the plans to the intervention log;
* ``record`` — a teacher or counsellor delivered planned interventions: log the delivery;
* ``review`` — after the next assessment, compare each delivered intervention's outcome and
  escalate (change strategy, timing or method) when the student did not improve;
* ``report`` — the class page or one student's page, as HTML with plots.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from learnsight.commands.common import DbOption, JsonFlag, cli_store, console, err_console
from learnsight.errors import LearnsightError

intervene_app = typer.Typer(
    help="Plan, record, review and report interventions for at-risk students (SPEC §4).",
    no_args_is_help=True,
)

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Strategy rule file (.toml/.yaml). Default: the shipped rules."),
]


def _parse_time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LearnsightError(
            f"{option}: expected a date or timestamp (2024-10-21T09:00), got {text!r}"
        ) from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _write_table(table: Any, out: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        pq.write_table(table, out)
    elif out.suffix == ".csv":
        flat = table
        for name in ("factors", "evidence"):
            if name in flat.column_names:
                import pyarrow as pa

                values = [" | ".join(v or []) for v in flat.column(name).to_pylist()]
                flat = flat.set_column(flat.column_names.index(name), name, pa.array(values, pa.string()))
        pacsv.write_csv(flat, out)
    else:
        raise LearnsightError(f"--out: expected a .csv or .parquet file, got {out}")


@intervene_app.command("plan")
def plan_cmd(
    model: Annotated[Path, typer.Option("--model", help="A folder written by `learnsight train`.")],
    db: DbOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Cut-off (default: the model's training cut-off).")
    ] = None,
    rules: RulesOption = None,
    classes: Annotated[
        str, typer.Option("--classes", help="Predicted classes to plan for (comma-separated).")
    ] = ("at-risk"),
    max_per_student: Annotated[int, typer.Option(help="Strategies per student and course.")] = 2,
    record: Annotated[
        bool, typer.Option("--record", help="Write the plans to the intervention log.")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Actor key of who plans (context.instructor).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the plans (.csv or .parquet).")] = None,
    student: Annotated[str | None, typer.Option(help="Show only this student (actor key).")] = None,
    limit: Annotated[int, typer.Option(help="Plans shown on screen.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Plan what to do, when and how for every student predicted at risk."""
    from learnsight.indicators.asof import AsOf
    from learnsight.interventions.log import record_plans
    from learnsight.interventions.plan import plan_interventions, plans_table
    from learnsight.interventions.strategies import load_rules
    from learnsight.models.persist import load_model
    from learnsight.models.predict import predict_store

    strategy_rules = load_rules(rules)
    bundle = load_model(model)
    meta = bundle.metadata
    cut = AsOf.parse(as_of) if as_of is not None else AsOf.parse("" if meta.as_of == "all" else meta.as_of)
    wanted = tuple(c.strip() for c in classes.split(",") if c.strip())
    if not wanted:
        raise LearnsightError("--classes: give at least one class")
    with cli_store(db) as store:
        predictions = predict_store(store, bundle, cut, top_k=20)
        known = (
            {str(c) for c in predictions.column("predicted").to_pylist()} if predictions.num_rows else set()
        )
        plans = plan_interventions(
            store, predictions, strategy_rules, as_of=cut, classes=wanted, max_per_student=max_per_student
        )
        written = record_plans(store, plans, instructor=by).statements_written if record else None
    if student is not None:
        plans = [p for p in plans if p.actor_key == student]
        if not plans:
            raise LearnsightError(f"--student: no plan for {student!r}")
    table = plans_table(plans)
    if out is not None:
        _write_table(table, out)
    flagged = len({(p.actor_key, p.course) for p in plans})
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "as_of": cut.label(),
                    "model": meta.model,
                    "predictions": predictions.num_rows,
                    "classes": list(wanted),
                    "students_planned": flagged,
                    "plans": [p.to_dict() for p in plans],
                    "statements_written": written,
                },
                default=str,
            )
        )
        return
    if not set(wanted) & known:
        err_console.print(f"[yellow]note:[/] no prediction in {', '.join(wanted)} at {cut.label()}")
    view = Table(title=f"{len(plans):,} plans for {flagged:,} student-courses, as of {cut.label()}")
    for col in ("student", "course", "strategy", "timing", "method", "targets", "message"):
        view.add_column(col, overflow="fold")
    for p in plans[:limit]:
        view.add_row(
            p.actor_key.split("|")[-1],
            p.course.rstrip("/").split("/")[-1],
            p.strategy.replace("_", " "),
            p.timing.replace("_", " "),
            p.method.label(),
            ", ".join(p.factors),
            p.message,
        )
    console.print(view)
    if out is not None:
        console.print(f"written to {out}")
    if written is not None:
        console.print(f"{written:,} plan statements stored in the intervention log")


@intervene_app.command("record")
def record_cmd(
    plan: Annotated[list[str] | None, typer.Option("--plan", help="Plan id (repeatable).")] = None,
    student: Annotated[str | None, typer.Option(help="Every planned intervention of this student.")] = None,
    course: Annotated[str | None, typer.Option(help="… in this course (IRI) only.")] = None,
    all_planned: Annotated[
        bool, typer.Option("--all", help="Every planned, undelivered intervention.")
    ] = False,
    at: Annotated[str | None, typer.Option("--at", help="When it was delivered (default now).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Actor key of who delivered it.")] = None,
    note: Annotated[str | None, typer.Option(help="A note for the log.")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Log that planned interventions were delivered."""
    from learnsight.interventions.log import load_log, record_delivery

    if not (plan or student or all_planned):
        raise LearnsightError("record: name the interventions with --plan ID, --student KEY or --all")
    delivered_at = _parse_time(at, "--at") or datetime.now(UTC).replace(tzinfo=None)
    with cli_store(db) as store:
        ids = list(plan or [])
        if student is not None or all_planned:
            rows = load_log(store, actor_key=student, course=course).to_pylist()
            ids += [r["id"] for r in rows if r["status"] == "planned"]
            if not ids:
                who = f" for {student!r}" if student else ""
                raise LearnsightError(f"record: no planned, undelivered intervention{who}")
        report = record_delivery(store, ids, delivered_at=delivered_at, by=by, note=note)
    if as_json:
        console.print_json(json.dumps({"delivered": ids, "statements_written": report.statements_written}))
        return
    console.print(
        f"{len(ids):,} intervention(s) delivered on {delivered_at:%Y-%m-%d %H:%M}; "
        f"{report.statements_written:,} statements stored"
    )


@intervene_app.command("review")
def review_cmd(
    db: DbOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Only results before this date or course week count.")
    ] = None,
    min_gain: Annotated[float, typer.Option(help="Gain in z-score that counts as improved.")] = 0.1,
    rules: RulesOption = None,
    limit: Annotated[int, typer.Option(help="Reviews shown on screen.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Compare delivered interventions' outcomes after the next assessment; escalate where they failed."""
    from learnsight.indicators.asof import AsOf
    from learnsight.interventions.review import review_interventions
    from learnsight.interventions.strategies import load_rules

    strategy_rules = load_rules(rules)
    cut = AsOf.parse(as_of)
    with cli_store(db) as store:
        result = review_interventions(store, as_of=cut, min_gain=min_gain, rules=strategy_rules)
    if as_json:
        console.print_json(json.dumps(result.to_dict(), default=str))
        return
    counts = result.to_dict()["counts"]
    view = Table(
        title=(
            f"{counts['reviewed']} reviewed: {counts['improved']} improved, {counts['not_improved']} not "
            f"({counts['escalated']} escalated); {counts['pending']} pending, {counts['unmeasured']} without "
            "a baseline"
        )
    )
    for col in ("student", "course", "attempt", "strategy", "gain", "outcome", "next"):
        view.add_column(col, overflow="fold")
    for r in result.reviewed[:limit]:
        nxt = r.escalation
        view.add_row(
            r.plan.actor_key.split("|")[-1],
            r.plan.course.rstrip("/").split("/")[-1],
            str(r.plan.attempt),
            r.plan.strategy.replace("_", " "),
            f"{r.gain:+.2f}",
            "improved" if r.improved else "not improved",
            "" if nxt is None else f"{nxt.strategy.replace('_', ' ')} ({nxt.method.label()}, {nxt.timing})",
        )
    console.print(view)


@intervene_app.command("report")
def report_cmd(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    db: DbOption = None,
    course: Annotated[str | None, typer.Option(help="One course (IRI); default every course.")] = None,
    student: Annotated[str | None, typer.Option(help="One student's page (actor key).")] = None,
) -> None:
    """Write the class report (or one student's report) as HTML with plots."""
    from learnsight.report.interventions import class_report, student_report

    with cli_store(db) as store:
        report = (
            student_report(store, student, course=course)
            if student is not None
            else class_report(store, course=course)
        )
        path = report.write(out)
    console.print(f"report written to {path}")


__all__ = ["intervene_app"]
