"""``learnsight experiment assign|analyze``: intervention experiments in the store (SPEC §4).

* ``assign`` — randomise the students predicted in a class (default *at-risk*) at a cut-off, or the
  units of a CSV file, to intervention and control within their strata, and record every arm as a
  statement (:func:`learnsight.interventions.study.assign`);
* ``analyze`` — per group and arm the mean score before and after, the change, the paired ``T`` and
  its p-value, Cohen's ``d_z``, the CI of the change and the power; per group intervention against
  control (:func:`learnsight.interventions.study.analyze`); ``--html`` adds a report with the paired
  scores and the changes with their confidence intervals.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from learnsight.commands.common import DbOption, JsonFlag, cli_store, console, err_console
from learnsight.errors import LearnsightError

if TYPE_CHECKING:
    from learnsight.interventions.study import Unit

experiment_app = typer.Typer(
    help="Randomised intervention experiments: assign units to arms, analyse before/after (SPEC §4).",
    no_args_is_help=True,
)

NameOption = Annotated[str, typer.Option("--name", help="The experiment's name (its id is derived from it).")]


def read_units(path: Path) -> list[Unit]:
    """Units from a CSV file with columns ``actor_key``, ``course`` and optionally ``stratum``
    (default: the course).  Errors name the file and line."""
    from learnsight.interventions.study import Unit

    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            for name in ("actor_key", "course"):
                if name not in columns:
                    raise LearnsightError(
                        f"{path}: no column {name!r} (columns: {', '.join(columns) or 'none'})"
                    )
            units = []
            for row in reader:
                line = reader.line_num
                actor, course = (row.get("actor_key") or "").strip(), (row.get("course") or "").strip()
                if not actor or not course:
                    raise LearnsightError(f"{path}:{line}: actor_key and course must not be empty")
                stratum = (row.get("stratum") or "").strip() or course
                units.append(Unit(actor, course, stratum))
    except OSError as exc:
        raise LearnsightError(f"{path}: cannot read units: {exc.strerror or exc}") from None
    if not units:
        raise LearnsightError(f"{path}: no units")
    return units


@experiment_app.command("assign")
def assign_cmd(
    name: NameOption,
    db: DbOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Cut-off of the predictions to draw units from (week:8, a date)."),
    ] = None,
    model_target: Annotated[str, typer.Option("--model-target", help="Target of those predictions.")] = (
        "three_class"
    ),
    classes: Annotated[
        str, typer.Option("--class", help="Predicted class(es) to include, comma-separated.")
    ] = "at-risk",
    share: Annotated[
        float, typer.Option("--share", help="Share of each stratum given the intervention.")
    ] = 0.5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the randomisation.")] = 7,
    units: Annotated[
        Path | None,
        typer.Option("--units", help="CSV of units (actor_key, course[, stratum]) instead of predictions."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Randomise units to intervention and control within strata and record the arms."""
    from learnsight.indicators.asof import AsOf
    from learnsight.interventions.study import assign

    wanted = tuple(c.strip() for c in classes.split(",") if c.strip())
    chosen = read_units(units) if units is not None else None
    cut = AsOf.parse(as_of) if as_of else None
    with cli_store(db) as store:
        result = assign(
            store,
            experiment=name,
            units=chosen,
            seed=seed,
            treated_share=share,
            as_of=cut,
            target=model_target,
            classes=wanted,
        )
    if as_json:
        console.print_json(json.dumps(_finite(result.to_dict())))
        return
    table = Table(title=f"experiment {name} ({result.experiment_id}), seed {seed}")
    table.add_column("stratum")
    table.add_column("intervention", justify="right")
    table.add_column("control", justify="right")
    for stratum, arms in sorted(result.counts().items()):
        table.add_row(stratum, str(arms.get("intervention", 0)), str(arms.get("control", 0)))
    console.print(table)
    err_console.print(
        f"{len(result.units)} units; {result.statements_written} statements written, "
        f"{result.statements_skipped} already stored"
    )


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@experiment_app.command("analyze")
def analyze_cmd(
    name: NameOption,
    before: Annotated[
        str, typer.Option("--before", help="Assessment before: 'course', a suffix (exam/midterm) or an IRI.")
    ],
    after: Annotated[
        str, typer.Option("--after", help="Assessment after: 'course' (final result), a suffix or an IRI.")
    ],
    db: DbOption = None,
    by: Annotated[
        str, typer.Option("--by", help="Group by: stratum, course, both comma-separated, or 'all'.")
    ] = "stratum",
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report with figures.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Before/after scores of each arm: paired t, p, Cohen's d, CI and power (SPEC §4)."""
    from learnsight.interventions.study import analyze
    from learnsight.report.experiments import SPEC_COLUMNS, comparison_lines, spec_rows, write_html

    fields = () if by.strip() in ("", "all") else tuple(f.strip() for f in by.split(",") if f.strip())
    with cli_store(db) as store:
        result = analyze(store, name, before=before, after=after, by=fields)
    written = write_html(result, html) if html is not None else None
    if as_json:
        payload = result.to_dict()
        if written is not None:
            payload["html"] = str(written)
        console.print_json(json.dumps(_finite(payload)))
        return
    table = Table(title=f"experiment {name}: {before} → {after}")
    for column in SPEC_COLUMNS:
        table.add_column(column, justify="left" if column in ("group", "arm") else "right")
    for row in spec_rows(result):
        table.add_row(*row)
    console.print(table)
    for line in comparison_lines(result):
        console.print(line, highlight=False)
    if result.missing:
        err_console.print(f"{len(result.missing)} unit(s) left out: a score is missing (see --json)")
    if written is not None:
        err_console.print(f"report written to {written}")


__all__ = ["analyze_cmd", "assign_cmd", "experiment_app", "read_units"]
