"""The experiment report (SPEC §4): the before/after table per group and arm, the comparison of the
arms, and a figure per group (paired lines per student, the arms' mean changes with their CIs).

Used by ``learnsight experiment analyze --html`` and by the demo.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from learnsight.interventions.study import StudyResult
from learnsight.report.html import HtmlReport


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
    report = HtmlReport(
        f"Experiment {result.experiment}",
        f"before: {result.before} · after: {result.after} · "
        f"{result.analysed} of {result.units} units analysed",
    )
    add_experiment_sections(report, result)
    return report.write(path)


def add_experiment_sections(report: HtmlReport, result: StudyResult, *, title: str = "") -> None:
    """The experiment's sections: the SPEC §4 table, a figure per group, the units left out."""
    report.add_table(
        title or "Before and after, per group and arm (SPEC §4)",
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


__all__ = ["SPEC_COLUMNS", "add_experiment_sections", "comparison_lines", "spec_rows", "write_html"]
