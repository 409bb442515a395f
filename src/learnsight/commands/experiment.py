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
    from learnsight.interventions.study import StudyResult, Unit

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


def _num(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def _p(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


def spec_rows(result: StudyResult) -> list[list[str]]:
    """The SPEC §4 table as text cells: group, arm, n, before → after, change, T, p, d, CI, power."""
    rows = []
    for arm in result.rows():
        r = arm.paired
        rows.append(
            [
                arm.group,
                arm.arm,
                str(r.n),
                f"{r.mean_before:.1f} → {r.mean_after:.1f}",
                f"{r.change:+.1f}",
                f"{r.t:.3f}",
                _p(r.p),
                _num(r.cohens_dz),
                f"[{r.ci_low:+.1f}, {r.ci_high:+.1f}]",
                _num(arm.power) + ("" if arm.needed_n is None else f" (n={arm.needed_n})"),
            ]
        )
    return rows


SPEC_COLUMNS = ("group", "arm", "n", "before → after", "change", "T", "p", "d_z", "CI", "power (n for 80 %)")


def comparison_lines(result: StudyResult) -> list[str]:
    """One sentence per group: the difference of changes with its CI, Welch's t, p and Cohen's d."""
    lines = []
    for g in result.groups:
        c = g.comparison
        if c is None:
            lines.append(f"{g.group}: " + "; ".join(g.notes))
            continue
        ci = "" if g.difference_ci is None else f" ({result.confidence:.0%} CI {g.difference_ci[0]:+.2f} to "
        ci += "" if g.difference_ci is None else f"{g.difference_ci[1]:+.2f})"
        lines.append(
            f"{g.group}: intervention − control change {c.difference:+.2f} points{ci}, "
            f"Welch t = {c.t:.3f}, p = {_p(c.p)}, Cohen's d = {_num(c.cohens_d)}"
        )
    return lines


def _figure(result: StudyResult, group: str) -> Any:
    """Paired before/after lines per unit and the arms' means (left); the arms' mean changes with
    their confidence intervals (right)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    colours = {"intervention": "#d62728", "control": "#1f77b4"}
    fig = make_subplots(rows=1, cols=2, subplot_titles=("scores before → after", "mean change with CI"))
    rows = [r for r in result.scores.to_pylist() if r["group"] == group]
    for arm in [a.arm for a in result.rows() if a.group == group]:
        colour = colours.get(arm, "#555555")
        xs: list[str | None] = []
        ys: list[float | None] = []
        for r in rows:
            if r["arm"] == arm:
                xs += ["before", "after", None]
                ys += [r["before"], r["after"], None]
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", line={"color": colour, "width": 1}, opacity=0.25, showlegend=False
            ),
            row=1,
            col=1,
        )
        paired = next(a.paired for a in result.rows() if a.group == group and a.arm == arm)
        fig.add_trace(
            go.Scatter(
                x=["before", "after"],
                y=[paired.mean_before, paired.mean_after],
                mode="lines+markers",
                line={"color": colour, "width": 4},
                name=f"{arm} (n={paired.n})",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[arm],
                y=[paired.change],
                mode="markers",
                marker={"color": colour, "size": 12},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [paired.ci_high - paired.change],
                    "arrayminus": [paired.change - paired.ci_low],
                },
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(title_text="score (0–100)", row=1, col=1)
    fig.update_yaxes(title_text="after − before (points)", row=1, col=2)
    fig.update_layout(height=420, margin={"t": 60, "b": 40})
    return fig


def write_html(result: StudyResult, path: Path) -> Path:
    """An HTML report: the SPEC §4 table, the comparisons and one figure per group (at most 12)."""
    from learnsight.report.html import HtmlReport

    report = HtmlReport(
        f"Experiment {result.experiment}",
        f"before: {result.before} · after: {result.after} · "
        f"{result.analysed} of {result.units} units analysed",
    )
    report.add_table(
        "Before and after, per group and arm (SPEC §4)",
        SPEC_COLUMNS,
        spec_rows(result),
        note="T is the paired t statistic on before − after (negative when scores rose); "
        "CI is the confidence interval of the mean change. " + " ".join(comparison_lines(result)),
    )
    for g in result.groups[:12]:
        if g.arms:
            report.add_figure(f"{g.group}", _figure(result, g.group))
    if result.missing:
        report.add_table(
            "Units left out (a score is missing)",
            ["actor_key", "course", "arm", "missing"],
            [[m.actor_key, m.course, m.arm, m.missing] for m in result.missing],
        )
    return report.write(path)


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
