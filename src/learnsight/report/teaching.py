"""Teaching-evaluation pages (SPEC §6): the protocol stated, true vs predicted group scores with the
±5 % band, deviations against the supervised baseline, and what moved each score."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from learnsight.report.html import HtmlReport, Section, table_html
from learnsight.teaching.evaluate import INPUTS, SurveyEvaluation
from learnsight.teaching.explain import Contribution
from learnsight.teaching.lesson_evaluation import LessonEvaluation
from learnsight.teaching.protocol import TOLERANCE_PCT, GroupScore


def survey_report(evaluation: SurveyEvaluation) -> HtmlReport:
    """A page for ``learnsight teaching evaluate``."""
    report = HtmlReport(
        "learnsight teaching evaluation",
        f"{evaluation.survey.name}: {evaluation.n:,} evaluations, {evaluation.labelled:.0%} labelled, "
        f"seed {evaluation.seed}",
    )
    add_survey_sections(report, evaluation)
    return report


def lessons_report(evaluation: LessonEvaluation) -> HtmlReport:
    """A page for ``learnsight teaching lessons``."""
    report = HtmlReport(
        "learnsight teaching evaluation — simulated lessons",
        f"{len(evaluation.lessons)} lessons, {evaluation.rated} rated by the expert, seed {evaluation.seed}",
    )
    add_lesson_sections(report, evaluation)
    return report


def add_survey_sections(report: HtmlReport, evaluation: SurveyEvaluation) -> None:
    """The survey protocol's sections."""
    ours, base = evaluation.ours, evaluation.baseline
    report.add(Section("Protocol (re-runnable)", _protocol_html(evaluation)))
    verdict = "within" if evaluation.within_tolerance else "NOT within"
    report.add_table(
        "Result: group scores against the expert labels",
        [
            "model",
            "kind",
            "max deviation % (n ≥ 40)",
            "groups within 5 %",
            "accuracy",
            "within one level",
            "s",
        ],
        [
            [
                a.model,
                a.kind,
                _num(a.max_deviation_pct),
                f"{sum(g.deviation_pct <= TOLERANCE_PCT for g in a.groups if g.n >= evaluation.min_n)}"
                f" / {sum(g.n >= evaluation.min_n for g in a.groups)}",
                round(a.accuracy, 3),
                round(a.within_one, 3),
                round(a.seconds, 1),
            ]
            for a in (ours, base)
        ],
        note=f"Ours ({ours.model}) is {verdict} the {TOLERANCE_PCT:g} % goal on this seed. Accuracy and "
        "'within one level' are over the evaluations whose label was hidden.",
    )
    report.add_figure(
        "True vs predicted score per instructor × course",
        scores_figure({ours.model: ours.groups, f"{base.model} (supervised)": base.groups}),
        note="Each point is a group; the shaded band is ±5 % around the true score (the diagonal).",
    )
    report.add_figure(
        "Deviation per group",
        deviation_figure(
            {ours.model: ours.groups, f"{base.model} (supervised)": base.groups}, evaluation.min_n
        ),
        note=f"Groups with fewer than {evaluation.min_n} evaluations are shown hatched and not judged.",
    )
    rows = []
    for g, b in zip(ours.groups, base.groups, strict=True):
        drivers = evaluation.explanations.get((g.instructor, g.course), [])
        rows.append(
            [
                str(g.instructor),
                str(g.course),
                g.n,
                round(g.score_true, 3),
                round(g.score_predicted, 3),
                round(g.deviation_pct, 2),
                round(b.score_predicted, 3),
                round(b.deviation_pct, 2),
                _drivers(drivers),
            ]
        )
    report.add_table(
        "Group scores and what moved them",
        ["instructor", "course", "n", "true", "ours", "dev %", "baseline", "dev %", "drivers (points)"],
        rows,
        note="Drivers: a ridge surrogate of the model's scores on the inputs "
        f"(R² {evaluation.surrogate_r2:.2f}) splits each group's score into the overall mean plus one "
        "contribution per input (the group's mean vs the overall mean of that item, times its "
        "weight); the largest are shown.",
    )
    weights = sorted(evaluation.surrogate_weights.items(), key=lambda kv: -abs(kv[1]))
    report.add_table(
        "Weight of each input in the model's scores",
        ["input", "score points per standard deviation"],
        [[k, round(v, 3)] for k, v in weights],
        note="Partial effects of the surrogate: the survey items are strongly correlated, so one item "
        "can carry a negative weight while its neighbours carry the positive share of what they "
        "measure together.",
    )
    if ours.kernel_weights:
        top = sorted(((k, v) for k, v in ours.kernel_weights.items() if v > 0), key=lambda kv: -kv[1])
        report.add_table(
            "Learned kernel weights (kernel | graph)", ["pair", "weight"], [[k, round(v, 4)] for k, v in top]
        )


def add_lesson_sections(report: HtmlReport, evaluation: LessonEvaluation) -> None:
    """The simulated-lesson path's sections (also used by ``learnsight demo``)."""
    m, bm = evaluation.max_deviation_pct, evaluation.baseline_max_deviation_pct
    report.add_table(
        "Teaching evaluation from classroom video (simulated lessons with planted quality)",
        ["measure", evaluation.model, f"{evaluation.baseline} (supervised)"],
        [
            [
                "Spearman(lesson score, latent quality)",
                round(evaluation.spearman_quality, 3),
                round(evaluation.baseline_spearman_quality, 3),
            ],
            [
                "accuracy on lessons the expert did not rate",
                round(evaluation.accuracy_unrated, 3),
                round(evaluation.baseline_accuracy_unrated, 3),
            ],
            ["max teacher deviation %", _num(m), _num(bm)],
            [
                "max teacher deviation % of the oracle (knows each lesson's latent quality)",
                _num(evaluation.oracle_max_deviation_pct),
                "-",
            ],
            ["Spearman(teacher score, teacher quality)", round(evaluation.teacher_order_spearman, 3), "-"],
        ],
        note=f"{len(evaluation.lessons)} lessons ({evaluation.statements:,} was-observed and raised-hand "
        f"statements) stored, read back per lesson with one SQL query and the SPEC §2.5 formulas; the expert "
        f"rated {evaluation.rated} ({evaluation.expert_share:.0%} per rating level, at least one each). "
        f"Lesson score = the expert's rating where given, the predicted rating elsewhere; teacher score = "
        f"the mean over the teacher's lessons, against the mean of all their planted ratings. The oracle "
        f"scores each unrated lesson by the mean rating of its latent quality: its deviation is what the "
        f"expert's own noise leaves to a perfect reader of the lessons."
        + (
            f" Not scored: {len(evaluation.missing)} lesson(s) without statistics."
            if evaluation.missing
            else ""
        ),
    )
    report.add_figure("Lesson score vs latent teaching quality", _lesson_figure(evaluation))
    report.add_figure(
        "Teacher score: predicted vs planted expert ratings",
        scores_figure(
            {
                evaluation.model: evaluation.teachers,
                f"{evaluation.baseline} (supervised)": evaluation.baseline_teachers,
            }
        ),
        note="The shaded band is ±5 % around the teachers' mean planted rating.",
    )
    report.add_table(
        "Teacher scores and the behaviours that moved them",
        ["teacher", "lessons", "planted", "predicted", "dev %", "quality τ", "drivers (points)"],
        [
            [
                str(g.instructor),
                g.n,
                round(g.score_true, 2),
                round(g.score_predicted, 2),
                round(g.deviation_pct, 2),
                round(evaluation.teacher_quality[str(g.instructor)], 2),
                _drivers(evaluation.teacher_drivers.get(str(g.instructor), [])),
            ]
            for g in evaluation.teachers
        ],
        note=f"Drivers from a ridge surrogate of the lesson scores (R² {evaluation.surrogate_r2:.2f}).",
    )


def scores_figure(arms: dict[str, Sequence[GroupScore]]) -> Any:
    """True (x) vs predicted (y) group scores per model, the diagonal and the ±5 % band."""
    import plotly.graph_objects as go

    figure = go.Figure()
    values = [v for groups in arms.values() for g in groups for v in (g.score_true, g.score_predicted)]
    low, high = (min(values) - 0.2, max(values) + 0.2) if values else (1.0, 5.0)
    tol = TOLERANCE_PCT / 100.0
    figure.add_scatter(
        x=[low, high, high, low],
        y=[low * (1 - tol), high * (1 - tol), high * (1 + tol), low * (1 + tol)],
        fill="toself",
        fillcolor="rgba(42,157,143,0.15)",
        line={"width": 0},
        name="±5 %",
        hoverinfo="skip",
    )
    figure.add_scatter(
        x=[low, high],
        y=[low, high],
        mode="lines",
        line={"color": "#888", "dash": "dot"},
        name="predicted = true",
    )
    for name, groups in arms.items():
        figure.add_scatter(
            x=[g.score_true for g in groups],
            y=[g.score_predicted for g in groups],
            mode="markers",
            name=name,
            text=[f"{g.instructor} / {g.course} (n={g.n}, {g.deviation_pct:.1f} %)" for g in groups],
            hovertemplate="%{text}<br>true %{x:.3f}, predicted %{y:.3f}<extra></extra>",
        )
    figure.update_layout(xaxis_title="true score", yaxis_title="predicted score", height=480)
    return figure


def deviation_figure(arms: dict[str, Sequence[GroupScore]], min_n: int) -> Any:
    """Deviation % per group and model, with the 5 % line."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for name, groups in arms.items():
        figure.add_bar(
            name=name,
            x=[f"{g.instructor}/{g.course}" for g in groups],
            y=[g.deviation_pct for g in groups],
            marker_pattern_shape=["/" if g.n < min_n else "" for g in groups],
        )
    figure.add_hline(y=TOLERANCE_PCT, line_dash="dash", line_color="#e63946", annotation_text="5 %")
    figure.update_layout(
        barmode="group", xaxis_title="instructor / course", yaxis_title="deviation %", height=420
    )
    return figure


def _lesson_figure(evaluation: LessonEvaluation) -> Any:
    import plotly.graph_objects as go

    figure = go.Figure()
    for teacher in sorted({s.teacher for s in evaluation.lessons}):
        lessons = [s for s in evaluation.lessons if s.teacher == teacher]
        figure.add_scatter(
            x=[s.quality for s in lessons],
            y=[s.score for s in lessons],
            mode="markers",
            name=teacher,
            marker={"symbol": ["star" if s.rated else "circle" for s in lessons], "size": 9},
            text=[
                f"{s.lesson}: expert {s.rating}{' (rated)' if s.rated else ''}; "
                + "; ".join(d.line() for d in s.drivers)
                for s in lessons
            ],
            hovertemplate="%{text}<br>quality %{x:.2f}, score %{y}<extra></extra>",
        )
    figure.update_layout(xaxis_title="latent quality q", yaxis_title="lesson score (1–5)", height=440)
    return figure


def _protocol_html(evaluation: SurveyEvaluation) -> str:
    p = evaluation.protocol()
    steps = [
        f"<b>Expert label</b>: the level of the mean of the instructor statements Q13–Q28 — "
        f"{html.escape(evaluation.design.describe())}.",
        f"<b>Inputs</b> the models see: {html.escape(', '.join(INPUTS))}, standardised over all rows "
        "(never Q13–Q28, never the instructor or course id).",
        f"<b>Labelled split</b>: {evaluation.labelled:.1%} of the labels ({evaluation.n_labelled:,} of "
        f"{evaluation.n:,}), stratified by level, seed {evaluation.seed}; the rest hidden.",
        f"<b>Ours</b>: {html.escape(evaluation.ours.model)} on every row with the revealed labels; "
        f"<b>baseline</b>: {html.escape(evaluation.baseline.model)} on the revealed rows only.",
        "<b>Group score</b> per instructor × course: mean level value, true labels vs predictions "
        "(revealed rows keep their label); deviation % = 100·|predicted − true| / true; "
        f"max over the groups with n ≥ {evaluation.min_n}; goal ≤ {TOLERANCE_PCT:g} %.",
    ]
    counts = ", ".join(
        f"level {k}: {evaluation.labelled_levels.get(k, 0)} / {n}" for k, n in evaluation.levels.items()
    )
    return (
        "<ol>"
        + "".join(f"<li>{s}</li>" for s in steps)
        + "</ol>"
        + f"<p>Labelled per level: {html.escape(counts)}.</p>"
        + f"<p>Re-run: <code>{html.escape(str(p['command']))}</code></p>"
        + table_html(["setting", "value"], [[k, str(v)] for k, v in p.items() if k != "command"])
    )


def _drivers(drivers: Sequence[Contribution]) -> str:
    return "; ".join(d.line() for d in drivers)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
