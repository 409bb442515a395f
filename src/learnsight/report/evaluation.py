"""The evaluation report: the model comparison of ``learnsight evaluate`` as one HTML page.

The input is the JSON-ready result dictionary (``"kind": "learnsight-evaluation"``): studies of
models on identical splits, published reference values and the project's goals.  The page has

* a header: data set, protocols and the goals table (met ✓ / not met ✗);
* for studies that form a series over cut-off weeks (same target and setting, several weeks;
  ``week: null`` is the course end, drawn at the right as "end"): accuracy and macro-F1 against the
  week, one line per model, published values as stars, and a models × weeks table;
* for the other studies: a models × metrics table (overall and per course) with the published
  values in extra rows, and a grouped bar chart per course;
* the confusion matrix of the best model (by macro-F1) and a reliability diagram of RMTL and the best
  model — per study, or for the latest week and the course end of a series;
* a methods section written from the protocols.

Missing values (``None``, NaN, absent keys, failed models) are shown as "—"; nothing here raises on
an incomplete result.  :func:`evaluation_figures` gives the Plotly figures without any HTML.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from learnsight.report.html import HtmlReport, Section, figure_html

MISSING = "—"
"""What a missing value looks like on the page."""

METRIC_NAMES = {
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "balanced_accuracy": "balanced accuracy",
    "brier": "Brier",
    "ece": "ECE",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}
TARGET_NAMES = {
    "pass_fail": "pass/fail (withdrawn left out)",
    "pass_fail_all": "pass/fail (withdrawn = fail)",
    "three_class": "three classes",
    "five_level": "five levels",
    "score": "final score",
}
LOWER_IS_BETTER = frozenset({"brier", "ece", "rmse", "mae"})
_PERCENT = frozenset({"accuracy", "macro_f1", "balanced_accuracy"})
_CELL_STYLES = {
    "best": "font-weight:600",
    "met": "color:#1e7b34;font-weight:600",
    "unmet": "color:#b42318;font-weight:600",
    "published": "font-style:italic;color:#52606d",
    "error": "color:#b42318",
}
_ALL_COURSES = "all courses"


# --------------------------------------------------------------------------------------------------
# values


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None for None, NaN, ±inf, booleans and non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value)
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def stat(table: Any, metric: str) -> tuple[float | None, float | None, int | None]:
    """(mean, sd, n) of ``table[metric]``; a bare number is a mean without spread."""
    if not isinstance(table, Mapping):
        return None, None, None
    entry = table.get(metric)
    if isinstance(entry, Mapping):
        n = number(entry.get("n"))
        return number(entry.get("mean")), number(entry.get("sd")), None if n is None else int(n)
    return number(entry), None, None


def _spread(sd: float | None, n: int | None) -> float | None:
    """The sd worth showing: none for a single fold."""
    return sd if sd is not None and (n is None or n > 1) else None


def is_percent(metric: str) -> bool:
    """Whether ``metric`` is a share shown in per cent (accuracy, F1, recall)."""
    return metric in _PERCENT or metric.startswith(("recall[", "f1[", "precision["))


def metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric)


def _title_case(text: str) -> str:
    """The first letter upper-case, the rest as is ("RMSE" stays "RMSE")."""
    return text[:1].upper() + text[1:]


def fmt(value: Any, metric: str) -> str:
    """One value of ``metric`` for a table: per cent for shares, 3 decimals or digits otherwise."""
    x = number(value)
    if x is None:
        return MISSING
    if is_percent(metric):
        return f"{100 * x:.1f} %"
    if metric in {"rmse", "mae"}:
        return f"{x:.3g}"
    return f"{x:.3f}"


def fmt_stat(mean: float | None, sd: float | None, n: int | None, metric: str) -> str:
    """``mean ± sd`` (sd left out for a single fold or when missing)."""
    if mean is None:
        return MISSING
    spread = _spread(sd, n)
    if spread is None:
        return fmt(mean, metric)
    if is_percent(metric):
        return f"{100 * mean:.1f} ± {100 * spread:.1f} %"
    return f"{fmt(mean, metric)} ± {fmt(spread, metric)}"


def _text(value: Any) -> str:
    """Any scalar for a table cell; None / NaN become "—"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3g}"
    if isinstance(value, Mapping):
        return " · ".join(f"{k} {_text(v)}" for k, v in value.items()) or MISSING
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or MISSING
    return str(value) or MISSING


def _percent_text(x: float) -> str:
    return f"{100 * x:.1f} %"


# --------------------------------------------------------------------------------------------------
# tables


@dataclass(frozen=True)
class Cell:
    """A table cell: plain text (escaped when written), right-aligned when numeric, optional style."""

    text: str
    numeric: bool = False
    style: str = ""


def _num(text: str, style: str = "") -> Cell:
    return Cell(text, numeric=True, style=style)


def table(columns: Sequence[str], rows: Iterable[Sequence[Cell | str]]) -> str:
    """An HTML table; ``str`` cells are left-aligned text, :class:`Cell` carries alignment and style."""

    def td(cell: Cell | str) -> str:
        c = cell if isinstance(cell, Cell) else Cell(cell)
        cls = ' class="num"' if c.numeric else ""
        css = ";".join(
            x for x in ("white-space:nowrap" if c.numeric else "", _CELL_STYLES.get(c.style, "")) if x
        )
        style = f' style="{css}"' if css else ""
        return f"<td{cls}{style}>{html.escape(c.text)}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(td(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _mark_best(rows: list[list[Cell | str]], values: list[list[float | None]], lower: list[bool]) -> None:
    """Bold the best value of each column (``values[i][j]`` belongs to ``rows[i][offset + j]``)."""
    if not rows or not values:
        return
    offset = len(rows[0]) - len(values[0])
    for j, low in enumerate(lower):
        col = [(v[j], i) for i, v in enumerate(values) if v[j] is not None]
        if len({value for value, _ in col}) < 2:
            continue  # nothing to tell apart
        best = min(col)[0] if low else max(col)[0]
        for value, i in col:
            cell = rows[i][offset + j]
            if value == best and isinstance(cell, Cell):
                rows[i][offset + j] = Cell(cell.text, cell.numeric, "best")


# --------------------------------------------------------------------------------------------------
# the result dictionary


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _week(item: Mapping[str, Any]) -> int | None:
    w = number(item.get("week"))
    return None if w is None else int(w)


def _setting(item: Mapping[str, Any]) -> str:
    setting = item.get("setting")
    if isinstance(setting, Mapping):
        setting = setting.get("label")
    return str(setting).strip() if setting else ""


def _is_score(study: Mapping[str, Any]) -> bool:
    return study.get("target") == "score"


def _labels(study: Mapping[str, Any]) -> list[str]:
    return [str(x) for x in study.get("labels") or []]


def _tasks(study: Mapping[str, Any]) -> list[str]:
    return [str(x) for x in study.get("tasks") or []]


def _failed(model: Mapping[str, Any]) -> bool:
    return bool(model.get("error"))


def task_label(task: str | None, labels: Mapping[str, Any]) -> str:
    """The display name of a course (task): ``task_labels`` or the IRI's last segment."""
    if task is None:
        return _ALL_COURSES
    label = labels.get(task)
    if label:
        return str(label)
    tail = task.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return tail or task


def study_title(study: Mapping[str, Any]) -> str:
    name = study.get("name")
    if name:
        return str(name)
    return f"{study.get('target') or '?'} @ {study.get('as_of') or week_name(_week(study))}"


def target_title(target: str, setting: str) -> str:
    name = TARGET_NAMES.get(target, target or "?")
    return f"{name}, {setting}" if setting else name


def week_name(week: int | None) -> str:
    return "end" if week is None else f"week {week}"


def primary_metrics(score: bool) -> tuple[str, str]:
    """The two headline metrics: accuracy and macro-F1, or RMSE and R² for the score."""
    return ("rmse", "r2") if score else ("accuracy", "macro_f1")


def best_model(study: Mapping[str, Any], metric: str | None = None) -> Mapping[str, Any] | None:
    """The model with the best overall ``metric`` (default macro-F1, RMSE for the score); failed skipped."""
    metric = metric or ("rmse" if _is_score(study) else "macro_f1")
    scored = [
        (mean, i, m)
        for i, m in enumerate(_dicts(study.get("models")))
        if not _failed(m) and (mean := stat(m.get("overall"), metric)[0]) is not None
    ]
    if not scored:
        return None
    low = metric in LOWER_IS_BETTER
    return min(scored, key=lambda t: (t[0] if low else -t[0], t[1]))[2]


def rmtl_model(study: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``rmtl`` model, or else the first multi-task one."""
    models = _dicts(study.get("models"))
    return next((m for m in models if m.get("name") == "rmtl"), None) or next(
        (m for m in models if m.get("family") == "multi-task"), None
    )


def describe_protocol(protocol: Mapping[str, Any]) -> str:
    """A one-line description, e.g. "5 × 10-fold cross-validation (seed 0), grouped by student"."""
    name = protocol.get("name")
    details = []
    if name == "cv":
        text = f"{_text(protocol.get('n_repeats'))} × {_text(protocol.get('n_splits'))}-fold cross-validation"
    elif name == "holdout":
        text = "hold-out 2:1"
        details.append(f"test {_text(protocol.get('test_size', '1/3'))}")
    else:
        text = str(name or "unknown protocol")
    if protocol.get("seed") is not None:
        details.append(f"seed {_text(protocol['seed'])}")
    if details:
        text += f" ({', '.join(details)})"
    if protocol.get("grouped_by"):
        text += f", grouped by {protocol['grouped_by']}"
    return text


def _published_matches(
    row: Mapping[str, Any], target: Any, setting: str, weeks: Sequence[int | None] | None
) -> bool:
    if row.get("target") and target and row.get("target") != target:
        return False
    if _setting(row) and setting and _setting(row).casefold() != setting.casefold():
        return False
    return weeks is None or _week(row) in weeks


def published_for(
    result: Mapping[str, Any], target: Any, setting: str, weeks: Sequence[int | None] | None = None
) -> list[Mapping[str, Any]]:
    """Published values for ``target`` in ``setting`` (rows without a setting match any), at ``weeks``."""
    return [
        p
        for p in _dicts(result.get("published"))
        if number(p.get("value")) is not None and _published_matches(p, target, setting, weeks)
    ]


def _references(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for p in rows:
        out.setdefault(str(p.get("reference") or "published"), []).append(p)
    return out


@dataclass
class Series:
    """Studies of one target and setting at several cut-off weeks (``None`` = course end, last)."""

    target: str
    setting: str
    studies: dict[int | None, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def weeks(self) -> list[int | None]:
        numeric = sorted(w for w in self.studies if w is not None)
        return [*numeric, *([None] if None in self.studies else [])]

    @property
    def score(self) -> bool:
        return self.target == "score"

    def model_names(self) -> list[str]:
        names: list[str] = []
        for w in self.weeks:
            for m in _dicts(self.studies[w].get("models")):
                name = str(m.get("name") or "?")
                if name not in names:
                    names.append(name)
        return names

    def detail_weeks(self) -> list[int | None]:
        """The studies worth a confusion matrix: the latest cut-off week and the course end."""
        numeric = [w for w in self.weeks if w is not None]
        return [*numeric[-1:], *([None] if None in self.studies else [])]


def split_series(studies: Sequence[Mapping[str, Any]]) -> tuple[list[Series], list[Mapping[str, Any]]]:
    """(week series, other studies in their original order).

    A series is a target + setting label seen at two or more different weeks; a second study at
    the same week of a series is shown on its own.
    """
    groups: dict[tuple[str, str], list[tuple[int, Mapping[str, Any]]]] = {}
    for i, s in enumerate(studies):
        groups.setdefault((str(s.get("target") or ""), _setting(s)), []).append((i, s))
    series: list[Series] = []
    single: list[tuple[int, Mapping[str, Any]]] = []
    for (target, setting), members in groups.items():
        if len({_week(s) for _, s in members}) < 2:
            single.extend(members)
            continue
        one = Series(target, setting)
        for i, s in members:
            if _week(s) in one.studies:
                single.append((i, s))
            else:
                one.studies[_week(s)] = s
        series.append(one)
    return series, [s for _, s in sorted(single, key=lambda t: t[0])]


# --------------------------------------------------------------------------------------------------
# figures


def _axis_format(metric: str) -> dict[str, Any]:
    return {"tickformat": ".0%", "hoverformat": ".1%"} if is_percent(metric) else {"hoverformat": ".3f"}


def _line_style(model: str, family: Any) -> dict[str, Any]:
    if model == "rmtl" or family == "multi-task":
        return {"width": 3.5}
    if family == "reference":
        return {"width": 1.5, "dash": "dot"}
    if family == "pooled":
        return {"width": 2, "dash": "dash"}
    return {"width": 2}


def _week_positions(weeks: Sequence[int | None]) -> tuple[dict[int | None, float], list[float], list[str]]:
    """x of each week, the course end (None) a little right of the last week."""
    numeric = sorted({w for w in weeks if w is not None})
    pos: dict[int | None, float] = {w: float(w) for w in numeric}
    if numeric:
        pos[None] = numeric[-1] + max(1.0, round(0.15 * (numeric[-1] - numeric[0])))
    else:
        pos[None] = 0.0
    ticks: list[int | None] = [*numeric, *([None] if None in set(weeks) else [])]
    return pos, [pos[w] for w in ticks], [str(w) if w is not None else "end" for w in ticks]


def published_name(p: Mapping[str, Any], labels: Mapping[str, Any], metric: str) -> str:
    """E.g. "Aljohani et al. 2019: 95.2 % at course end"."""
    value = fmt(p.get("value"), metric)
    week = _week(p)
    when = "course end" if week is None else f"week {week}"
    task = f" ({task_label(str(p['task']), labels)})" if p.get("task") else ""
    return f"{p.get('reference') or 'published'}{task}: {value} at {when}"


def series_figure(
    series: Series, metric: str, published: Sequence[Mapping[str, Any]], labels: Mapping[str, Any]
) -> Any:
    """One line per model of ``metric`` against the cut-off week, sd error bars, published stars."""
    mine = [p for p in published if p.get("metric") == metric]
    pos, tickvals, ticktext = _week_positions([*series.weeks, *(_week(p) for p in mine)])
    fig = go.Figure()
    for name in series.model_names():
        xs: list[float] = []
        ys: list[float] = []
        sds: list[float] = []
        family: Any = None
        for w in series.weeks:
            model = next((m for m in _dicts(series.studies[w].get("models")) if m.get("name") == name), None)
            if model is None or _failed(model):
                continue
            family = model.get("family")
            mean, sd, n = stat(model.get("overall"), metric)
            if mean is None:
                continue
            xs.append(pos[w])
            ys.append(mean)
            sds.append(_spread(sd, n) or 0.0)
        if not xs:
            continue
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=name,
                line=_line_style(name, family),
                error_y={"type": "data", "array": sds, "visible": any(sds), "thickness": 1},
            )
        )
    for p in mine:
        fig.add_trace(
            go.Scatter(
                x=[pos[_week(p)]],
                y=[number(p.get("value"))],
                mode="markers",
                name=published_name(p, labels, metric),
                marker={"symbol": "star", "size": 14, "line": {"width": 1, "color": "black"}},
                hovertext=str(p.get("note") or ""),
            )
        )
    fig.update_layout(
        height=420,
        margin={"t": 20},
        xaxis={"title": "cut-off week", "tickvals": tickvals, "ticktext": ticktext},
        yaxis={"title": metric_name(metric), **_axis_format(metric)},
        legend={"font": {"size": 11}},
    )
    return fig


def study_bar_figure(
    study: Mapping[str, Any], published: Sequence[Mapping[str, Any]], labels: Mapping[str, Any]
) -> Any:
    """Grouped bars: x = all courses and each course, one bar per model, published values as stars."""
    metric = "rmse" if _is_score(study) else "accuracy"
    tasks = _tasks(study)
    x = [_ALL_COURSES, *(task_label(t, labels) for t in tasks)]
    fig = go.Figure()
    for model in _dicts(study.get("models")):
        if _failed(model):
            continue
        stats = [stat(model.get("overall"), metric)] + [
            stat(_mapping(model.get("per_task")).get(t), metric) for t in tasks
        ]
        if all(mean is None for mean, _, _ in stats):
            continue
        fig.add_trace(
            go.Bar(
                x=x,
                y=[mean for mean, _, _ in stats],
                name=str(model.get("name") or "?"),
                error_y={
                    "type": "data",
                    "array": [_spread(sd, n) or 0.0 for _, sd, n in stats],
                    "thickness": 1,
                },
            )
        )
    for reference, rows in _references(p for p in published if p.get("metric") == metric).items():
        points = [
            (task_label(str(p["task"]) if p.get("task") else None, labels), number(p.get("value")))
            for p in rows
        ]
        points = [pt for pt in points if pt[0] in x]
        if points:
            fig.add_trace(
                go.Scatter(
                    x=[pt[0] for pt in points],
                    y=[pt[1] for pt in points],
                    mode="markers",
                    name=f"{reference} (published)",
                    marker={"symbol": "star", "size": 14, "line": {"width": 1, "color": "black"}},
                )
            )
    fig.update_layout(
        barmode="group",
        height=400,
        margin={"t": 20},
        xaxis={"title": "course"},
        yaxis={"title": metric_name(metric), **_axis_format(metric)},
    )
    return fig


def confusion_figure(study: Mapping[str, Any], model: Mapping[str, Any]) -> Any | None:
    """Heatmap of ``model``'s confusion matrix (rows true, columns predicted); None without one."""
    raw = model.get("confusion")
    if not isinstance(raw, list | tuple) or not raw or not all(isinstance(r, list | tuple) for r in raw):
        return None
    k = len(raw)
    z = [[int(number(v) or 0) for v in row] for row in raw]
    if any(len(row) != k for row in z):
        return None
    labels = _labels(study)
    if len(labels) != k:
        labels = [f"class {i + 1}" for i in range(k)]
    share = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            colorscale="Blues",
            texttemplate="%{z}",
            customdata=share,
            hovertemplate="true %{y}, predicted %{x}: %{z} (%{customdata:.1%} of the row)<extra></extra>",
            showscale=False,
        )
    )
    side = 160 + 70 * k
    fig.update_layout(
        height=min(max(side, 320), 560),
        width=min(max(side + 80, 400), 700),
        margin={"t": 20},
        xaxis={"title": "predicted", "side": "bottom", "type": "category"},
        yaxis={"title": "true", "autorange": "reversed", "type": "category"},
    )
    return fig


def _reliability_points(model: Mapping[str, Any]) -> list[tuple[float, float, int]]:
    points = []
    for b in _dicts(model.get("reliability")):
        conf, acc = number(b.get("confidence")), number(b.get("accuracy"))
        if conf is not None and acc is not None:
            points.append((conf, acc, int(number(b.get("count")) or 0)))
    return points


def reliability_figure(models: Sequence[Mapping[str, Any]]) -> Any | None:
    """Confidence against accuracy per bin for ``models`` with a diagonal; None when none has a curve."""
    fig = go.Figure(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfectly calibrated",
            line={"color": "grey", "dash": "dash", "width": 1},
        )
    )
    drawn = False
    for model in models:
        points = _reliability_points(model)
        if not points:
            continue
        drawn = True
        top = max(c for _, _, c in points) or 1
        ece = stat(model.get("overall"), "ece")[0]
        name = str(model.get("name") or "?") + ("" if ece is None else f" (ECE {ece:.3f})")
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in points],
                y=[p[1] for p in points],
                mode="lines+markers",
                name=name,
                marker={"size": [6 + 14 * (c / top) ** 0.5 for _, _, c in points]},
                customdata=[p[2] for p in points],
                hovertemplate="confidence %{x:.2f}, accuracy %{y:.2f}, %{customdata} rows",
            )
        )
    if not drawn:
        return None
    fig.update_layout(
        height=500,
        width=460,
        margin={"t": 20, "r": 20, "l": 60},
        legend={"orientation": "h", "y": -0.2},
        xaxis={"title": "confidence (top-class probability)", "range": [0, 1.02]},
        yaxis={"title": "accuracy", "range": [0, 1.02]},
    )
    return fig


# --------------------------------------------------------------------------------------------------
# blocks: one titled piece of the page, a table/HTML or a figure


@dataclass(frozen=True)
class Block:
    """One section of the evaluation page: trusted HTML or a Plotly figure."""

    title: str
    html: str = ""
    figure: Any = None
    note: str = ""

    def section(self) -> Section:
        return Section(
            self.title, figure_html(self.figure) if self.figure is not None else self.html, self.note
        )


def overview_block(result: Mapping[str, Any]) -> Block:
    dataset = _mapping(result.get("dataset"))
    studies = _dicts(result.get("studies"))
    rows: list[tuple[str, str]] = [
        ("scheme", _text(result.get("scheme"))),
        ("store", _text(result.get("store"))),
        ("created", _text(result.get("created"))),
        ("learnsight", _text(result.get("learnsight"))),
    ]
    for key in ("rows", "students", "courses", "features", "classes"):
        rows.append((key, _text(dataset.get(key))))
    for key, value in dataset.items():
        if key not in {"rows", "students", "courses", "features", "classes"}:
            rows.append((str(key), _text(value)))
    protocols = list(dict.fromkeys(describe_protocol(_mapping(s.get("protocol"))) for s in studies))
    rows.append(("protocol" if len(protocols) == 1 else "protocols", "; ".join(protocols) or MISSING))
    rows.append(("studies", f"{len(studies)}"))
    total = number(_mapping(result.get("timings")).get("total_seconds"))
    rows.append(("total time", MISSING if total is None else f"{total:,.1f} s"))
    return Block(
        "Evaluation", table(["", "value"], [(k, _num(v) if k in _NUMERIC_KEYS else v) for k, v in rows])
    )


_NUMERIC_KEYS = frozenset({"rows", "students", "courses", "features", "studies", "total time"})


def goals_block(result: Mapping[str, Any]) -> Block | None:
    goals = _dicts(result.get("goals"))
    if not goals:
        return None
    rows = []
    for g in goals:
        metric = str(g.get("metric") or "accuracy")
        met = g.get("met")
        verdict = (
            Cell("✓ met", style="met")
            if met is True
            else Cell("✗ not met", style="unmet")
            if met is False
            else Cell(MISSING)
        )
        rows.append(
            (
                _text(g.get("goal")),
                metric_name(metric),
                _num(fmt(g.get("threshold"), metric)),
                _text(g.get("model") or "rmtl"),
                _num(fmt(g.get("measured"), metric)),
                _text(g.get("best_model")),
                _num(fmt(g.get("best_measured"), metric)),
                verdict,
            )
        )
    return Block(
        "Goals",
        table(["goal", "metric", "threshold", "model", "measured", "best model", "best value", "met"], rows),
        note="A goal is met when the named model (RMTL) reaches the threshold; the best model of the same "
        "study is shown beside it.",
    )


def _errors_html(errors: Sequence[str]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{html.escape(e)}</li>" for e in errors)
    return f'<p class="note">Models that failed:</p><ul class="note">{items}</ul>'


def series_table_block(
    series: Series, published: Sequence[Mapping[str, Any]], labels: Mapping[str, Any]
) -> Block:
    """Models × weeks tables of the two headline metrics, published values in extra rows."""
    weeks = series.weeks
    parts: list[str] = []
    errors: list[str] = []
    for metric in primary_metrics(series.score):
        rows: list[list[Cell | str]] = []
        values: list[list[float | None]] = []
        for name in series.model_names():
            row: list[Cell | str] = [name, MISSING]
            vals: list[float | None] = []
            for w in weeks:
                model = next(
                    (m for m in _dicts(series.studies[w].get("models")) if m.get("name") == name), None
                )
                if model is None:
                    row.append(_num(MISSING))
                    vals.append(None)
                    continue
                row[1] = _text(model.get("family"))
                if _failed(model):
                    row.append(Cell("failed", numeric=True, style="error"))
                    vals.append(None)
                    if metric == primary_metrics(series.score)[0]:
                        errors.append(f"{name} at {week_name(w)}: {model.get('error')}")
                    continue
                mean, sd, n = stat(model.get("overall"), metric)
                row.append(_num(fmt_stat(mean, sd, n, metric)))
                vals.append(mean)
            rows.append(row)
            values.append(vals)
        _mark_best(rows, values, [metric in LOWER_IS_BETTER] * len(weeks))
        for reference, refs in _references(p for p in published if p.get("metric") == metric).items():
            row = [f"{reference} (published)", "published"]
            for w in weeks:
                hit = [p for p in refs if _week(p) == w]
                text = "; ".join(
                    fmt(p.get("value"), metric)
                    + (f" ({task_label(str(p['task']), labels)})" if p.get("task") else "")
                    for p in hit
                )
                row.append(Cell(text or MISSING, numeric=True, style="published"))
            rows.append(row)
        parts.append(f"<h3>{html.escape(metric_name(metric))}</h3>")
        parts.append(table(["model", "family", *(week_name(w) for w in weeks)], rows))
    parts.append(_errors_html(errors))
    first, second = (metric_name(m) for m in primary_metrics(series.score))
    return Block(
        f"{_title_case(first)} and {second} by week: {target_title(series.target, series.setting)}",
        "".join(parts),
        note="Mean ± sd over test folds; the best model of each week in bold. "
        "'end' = course end (no cut-off).",
    )


def study_table_block(
    study: Mapping[str, Any], published: Sequence[Mapping[str, Any]], labels: Mapping[str, Any]
) -> Block:
    """Models × metrics (overall, per course, calibration, time) with published values in extra rows."""
    score = _is_score(study)
    tasks = _tasks(study)
    task_metric = "rmse" if score else "accuracy"
    overall = ["rmse", "mae", "r2"] if score else ["accuracy", "macro_f1"]
    tail = [] if score else ["brier", "ece"]
    metrics: list[tuple[str, str | None]] = [
        *((m, None) for m in overall),
        *((task_metric, t) for t in tasks),
        *((m, None) for m in tail),
    ]
    models = _dicts(study.get("models"))
    refs = _references(published)
    notes = [p for p in published if p.get("note")]
    with_note = any(_failed(m) for m in models) or bool(notes)
    columns = [
        "model",
        "family",
        *(metric_name(m) for m in overall),
        *(f"{metric_name(task_metric)} {task_label(t, labels)}" for t in tasks),
        *(metric_name(m) for m in tail),
        "fit s",
        *(["note"] if with_note else []),
    ]
    rows: list[list[Cell | str]] = []
    values: list[list[float | None]] = []
    for model in models:
        row: list[Cell | str] = [_text(model.get("name")), _text(model.get("family"))]
        vals: list[float | None] = []
        for metric, task in metrics:
            table_of = model.get("overall") if task is None else _mapping(model.get("per_task")).get(task)
            mean, sd, n = stat(table_of, metric)
            if _failed(model):
                mean = None
            row.append(_num(fmt_stat(mean, sd, n, metric)))
            vals.append(mean)
        seconds = number(model.get("fit_seconds"))
        row.append(_num(MISSING if seconds is None else f"{seconds:,.1f}"))
        vals.append(None)
        if with_note:
            row.append(Cell(f"failed: {model['error']}", style="error") if _failed(model) else "")
        rows.append(row)
        values.append(vals)
    lower = [metric in LOWER_IS_BETTER for metric, _ in metrics] + [True]
    if with_note:
        values = [[*v, None] for v in values]
        lower.append(True)
    _mark_best(rows, values, lower)
    for reference, ref_rows in refs.items():
        row = [f"{reference} (published)", "published"]
        for metric, task in metrics:
            hit = [p for p in ref_rows if p.get("metric") == metric and (p.get("task") or None) == task]
            row.append(
                Cell(fmt(hit[0].get("value"), metric) if hit else MISSING, numeric=True, style="published")
            )
        row.append(Cell(MISSING, numeric=True, style="published"))
        if with_note:
            row.append(Cell("; ".join(dict.fromkeys(str(p["note"]) for p in ref_rows if p.get("note")))))
        rows.append(row)
    protocol = describe_protocol(_mapping(study.get("protocol")))
    setting = _setting(study)
    note = (
        f"Target {TARGET_NAMES.get(str(study.get('target')), study.get('target'))}"
        + (f", {setting}" if setting else "")
        + f", data as of {_text(study.get('as_of'))}, {_text(study.get('rows'))} rows; {protocol}. "
        + "Mean ± sd over test folds, best in bold"
        + ("; RMSE and MAE lower is better." if score else "; Brier and ECE lower is better.")
    )
    return Block(f"Study: {study_title(study)}", table(columns, rows), note=note)


def detail_blocks(study: Mapping[str, Any], title: str) -> list[Block]:
    """Confusion matrix of the best model (macro-F1) and reliability of RMTL and the best model."""
    if _is_score(study):
        return []
    blocks: list[Block] = []
    best = best_model(study, "macro_f1") or best_model(study, "accuracy")
    with_matrix = [
        m for m in _dicts(study.get("models")) if not _failed(m) and confusion_figure(study, m) is not None
    ]
    if best is not None and best not in with_matrix and with_matrix:
        best = max(
            with_matrix,
            key=lambda m: (
                stat(m.get("overall"), "macro_f1")[0] or stat(m.get("overall"), "accuracy")[0] or -1.0
            ),
        )
    if best is not None:
        fig = confusion_figure(study, best)
        if fig is not None:
            f1 = stat(best.get("overall"), "macro_f1")[0]
            blocks.append(
                Block(
                    f"Confusion matrix: {title}",
                    figure=fig,
                    note=f"Best model by macro-F1: {best.get('name')}"
                    + ("" if f1 is None else f" ({_percent_text(f1)})")
                    + ". Rows = true class, columns = predicted, counts summed over all test folds.",
                )
            )
    rmtl = rmtl_model(study)
    chosen = [m for m in (rmtl, best) if m is not None]
    chosen = [m for i, m in enumerate(chosen) if m not in chosen[:i]]
    fig = reliability_figure(chosen)
    if fig is not None:
        blocks.append(
            Block(
                f"Reliability: {title}",
                figure=fig,
                note="Out-of-fold top-class probability (confidence) against the share correct, per bin; "
                "points on the diagonal are well calibrated, below it over-confident. Marker size = rows.",
            )
        )
    return blocks


def methods_block(result: Mapping[str, Any]) -> Block:
    studies = _dicts(result.get("studies"))
    paragraphs: list[str] = []
    protocols = {describe_protocol(_mapping(s.get("protocol"))): _mapping(s.get("protocol")) for s in studies}
    for text, p in protocols.items():
        if p.get("name") == "cv":
            k, r = _text(p.get("n_splits")), _text(p.get("n_repeats"))
            paragraphs.append(
                f"<b>{html.escape(text)}.</b> The rows are split into {k} folds stratified by class "
                f"and course; each fold is the test set once while the models are fit on the other "
                f"{k} − 1 folds, and this is repeated {r} times with different shuffles. Metrics are "
                "computed on every test fold and reported as mean ± sd over folds."
            )
        elif p.get("name") == "holdout":
            paragraphs.append(
                f"<b>{html.escape(text)}.</b> Two thirds of the data train the models and one third "
                "(stratified by class and course) tests them, once."
            )
        else:
            paragraphs.append(f"<b>{html.escape(text)}.</b>")
    if any(p.get("grouped_by") for p in protocols.values()):
        paragraphs.append(
            "Splits are grouped by student: all rows of a student (one per course) fall on the same side, "
            "so a student is never in both the training and the test set. Every model sees the same splits."
        )
    paragraphs.append(
        "Accuracy is the share of test rows classified correctly; macro-F1 is the unweighted mean of "
        "the per-class F1 scores, so a small class such as at-risk counts as much as a large one. The "
        "Brier score is the mean squared error of the predicted class probabilities and ECE (expected "
        "calibration error) the row-weighted gap between confidence and accuracy over equal-width "
        "confidence bins; for both, lower is better. Per-course values use each fold's test rows of that "
        "course. Confusion matrices are summed over the test folds and reliability diagrams pool all "
        "out-of-fold probabilities. The final score is evaluated by RMSE, MAE and R²."
    )
    paragraphs.append(
        "Early-prediction studies (cut-off week N) use only data dated before the cut-off: the features see "
        "no event, assessment or score after week N, while the target is still the final outcome. 'end' "
        "means the whole course, with no cut-off."
    )
    families: dict[str, list[str]] = {}
    for s in studies:
        for m in _dicts(s.get("models")):
            names = families.setdefault(str(m.get("family") or "other"), [])
            if str(m.get("name")) not in names:
                names.append(str(m.get("name")))
    if families:
        listing = "; ".join(f"{html.escape(f)}: {html.escape(', '.join(n))}" for f, n in families.items())
        paragraphs.append(
            "RMTL (robust multi-task learning) fits one model per course whose weights share a low-rank "
            "structure, while outlier courses may deviate (a group-sparse part). Single-task baselines fit "
            "each course on its own, pooled ones one model for all courses with course indicators; sequence "
            f"models read the weekly activity tensor. Models: {listing}."
        )
    if _dicts(result.get("published")):
        paragraphs.append(
            "Published values are quoted from the cited papers; they were obtained with their own splits and "
            "pre-processing and are shown for orientation, not as a paired comparison."
        )
    return Block("Methods", "".join(f"<p>{p}</p>" for p in paragraphs))


def evaluation_blocks(result: Mapping[str, Any]) -> list[Block]:
    """Every section of the evaluation page, in order."""
    labels = _mapping(result.get("task_labels"))
    studies = _dicts(result.get("studies"))
    series, singles = split_series(studies)
    blocks = [overview_block(result)]
    goals = goals_block(result)
    if goals is not None:
        blocks.append(goals)
    for one in series:
        published = published_for(result, one.target, one.setting)
        title = target_title(one.target, one.setting)
        for metric in primary_metrics(one.score):
            blocks.append(
                Block(
                    f"{_title_case(metric_name(metric))} by week: {title}",
                    figure=series_figure(one, metric, published, labels),
                    note="Mean over test folds with ± sd bars, one line per model; "
                    "stars are published values.",
                )
            )
        blocks.append(series_table_block(one, published, labels))
    for study in singles:
        published = published_for(result, study.get("target"), _setting(study), [_week(study)])
        blocks.append(study_table_block(study, published, labels))
        metric = "rmse" if _is_score(study) else "accuracy"
        blocks.append(
            Block(
                f"{_title_case(metric_name(metric))} by course: {study_title(study)}",
                figure=study_bar_figure(study, published, labels),
                note="Mean over test folds with ± sd bars; stars are published values.",
            )
        )
    for one in series:
        for w in one.detail_weeks():
            blocks.extend(detail_blocks(one.studies[w], study_title(one.studies[w])))
    for study in singles:
        blocks.extend(detail_blocks(study, study_title(study)))
    blocks.append(methods_block(result))
    return blocks


# --------------------------------------------------------------------------------------------------
# entry points


def evaluation_figures(result: Mapping[str, Any]) -> list[tuple[str, go.Figure]]:
    """(title, Plotly figure) of every chart of the evaluation page, in page order."""
    return [(b.title, b.figure) for b in evaluation_blocks(result) if b.figure is not None]


def add_evaluation(report: HtmlReport, result: Mapping[str, Any]) -> None:
    """Add the evaluation sections to ``report``."""
    for block in evaluation_blocks(result):
        report.add(block.section())


def render_evaluation(result: dict[str, Any], path: Path) -> Path:
    """Write the evaluation report of ``result`` (``learnsight evaluate``) to ``path`` and return it."""
    scheme = result.get("scheme")
    title = "Model evaluation" + (f": {scheme}" if scheme else "")
    subtitle = " · ".join(
        x
        for x in (
            f"created {result['created']}" if result.get("created") else "",
            f"learnsight {result['learnsight']}" if result.get("learnsight") else "",
            f"store {result['store']}" if result.get("store") else "",
        )
        if x
    )
    report = HtmlReport(title, subtitle)
    add_evaluation(report, result)
    return report.write(Path(path))


__all__ = [
    "Block",
    "Cell",
    "Series",
    "add_evaluation",
    "best_model",
    "describe_protocol",
    "evaluation_blocks",
    "evaluation_figures",
    "fmt",
    "fmt_stat",
    "number",
    "published_for",
    "render_evaluation",
    "rmtl_model",
    "split_series",
    "stat",
    "task_label",
]
