"""Reports of the semi-supervised stage (SPEC §6) as self-contained HTML pages.

* :func:`benchmark_report` — ``learnsight ssl benchmark``: the targets (README floors met or not),
  one panel of per-split accuracies per dataset (box per method, the floor as a dashed line), for
  the unlabelled (transductive) and the held-out (inductive) rows, the dataset × method table
  (mean ± sd, fit seconds), the mean kernel weights of the multi-kernel LapSVM, and the protocol with
  its hyper-parameter rule;
* :func:`fit_report` — ``learnsight ssl fit``: labelled and predicted class counts, the confidence of
  the transductive labels and the kernel weights.

Both take the JSON-ready dictionaries the commands write, so a report can be rebuilt from the JSON.
Missing values show as "—"; nothing here raises on an incomplete result.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from learnsight.models.evaluation import pool_reliability
from learnsight.report.evaluation import MISSING, Cell, fmt_stat, number, reliability_figure, table
from learnsight.report.html import HtmlReport, Section, figure_html

_COLOURS = ("#486581", "#9fb3c8", "#f0b429", "#de911d", "#2f8132", "#c0392b", "#7b4fa0", "#0b6e99")
_PANELS_PER_ROW = 5
_TOP_KERNELS = 20


def _percent(value: Any) -> str:
    x = number(value)
    return MISSING if x is None else f"{100 * x:.1f} %"


def _stat_cell(entry: Any) -> Cell:
    if not isinstance(entry, Mapping):
        return Cell(MISSING, numeric=True)
    n = number(entry.get("n"))
    text = fmt_stat(
        number(entry.get("mean")), number(entry.get("sd")), None if n is None else int(n), "accuracy"
    )
    return Cell(text, numeric=True)


def _met(value: Any) -> Cell:
    if value is True:
        return Cell("met ✓", style="met")
    if value is False:
        return Cell("not met ✗", style="unmet")
    return Cell(MISSING)


def _datasets(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    data = result.get("datasets")
    return {str(k): v for k, v in data.items() if isinstance(v, Mapping)} if isinstance(data, Mapping) else {}


def _method_names(result: Mapping[str, Any]) -> list[str]:
    methods = result.get("methods")
    return [str(m) for m in methods] if isinstance(methods, Mapping) else []


def _label(result: Mapping[str, Any], method: str) -> str:
    methods = result.get("methods")
    if isinstance(methods, Mapping) and isinstance(methods.get(method), Mapping):
        return str(methods[method].get("label", method))
    return method


# --------------------------------------------------------------------------------------------------
# benchmark


def accuracy_figure(result: Mapping[str, Any], metric: str = "transductive") -> go.Figure:
    """One panel per dataset: a box of the per-split accuracies (%) of every method, the README floor
    as a dashed line."""
    datasets = _datasets(result)
    methods = _method_names(result)
    names = list(datasets)
    cols = max(1, min(_PANELS_PER_ROW, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[str(datasets[n].get("title", n)) for n in names] or [""],
        horizontal_spacing=0.04,
        vertical_spacing=0.16,
    )
    for d, name in enumerate(names):
        row, col = d // cols + 1, d % cols + 1
        entry = datasets[name]
        per_method = entry.get("methods") if isinstance(entry.get("methods"), Mapping) else {}
        for m, method in enumerate(methods):
            stats = per_method.get(method, {}).get(metric, {}) if isinstance(per_method, Mapping) else {}
            values = [100 * v for v in (stats.get("values") or []) if number(v) is not None]
            fig.add_trace(
                go.Box(
                    y=values,
                    x=[method] * len(values),
                    name=_label(result, method),
                    legendgroup=method,
                    showlegend=d == 0,
                    marker_color=_COLOURS[m % len(_COLOURS)],
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    marker_size=3,
                    line_width=1,
                ),
                row=row,
                col=col,
            )
        value = number(entry.get("floor"))
        if value is not None and metric == "transductive":
            fig.add_hline(
                y=100 * value,
                line_dash="dash",
                line_color="#b42318",
                annotation_text=f"floor {100 * value:.1f}",
                annotation_font_size=10,
                row=row,
                col=col,
            )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(ticksuffix=" %")
    fig.update_layout(
        height=330 * rows + 80,
        margin={"l": 50, "r": 20, "t": 60, "b": 30},
        legend={"orientation": "h", "y": -0.05},
        template="plotly_white",
    )
    return fig


def kernel_weight_figure(result: Mapping[str, Any]) -> go.Figure | None:
    """Mean kernel weights of the multi-kernel LapSVM: (kernel | graph) × dataset heat map of the
    :data:`_TOP_KERNELS` largest; ``None`` when no run has weights."""
    weights: dict[str, Mapping[str, Any]] = {}
    for name, entry in _datasets(result).items():
        methods = entry.get("methods")
        if not isinstance(methods, Mapping):
            continue
        for stats in methods.values():
            if isinstance(stats, Mapping) and isinstance(stats.get("kernel_weights"), Mapping):
                weights[name] = stats["kernel_weights"]
    if not weights:
        return None
    best: dict[str, float] = {}
    for w in weights.values():
        for k, v in w.items():
            x = number(v) or 0.0
            best[str(k)] = max(best.get(str(k), 0.0), x)
    kernels = sorted(best, key=lambda k: -best[k])[:_TOP_KERNELS]
    columns = list(weights)
    z = [[number(weights[c].get(k)) or 0.0 for c in columns] for k in kernels]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=kernels,
            colorscale="Blues",
            zmin=0.0,
            text=[[f"{v:.2f}" for v in row] for row in z],
            texttemplate="%{text}",
            colorbar={"title": "weight"},
        )
    )
    fig.update_layout(
        height=120 + 26 * len(kernels),
        margin={"l": 20, "r": 20, "t": 20, "b": 40},
        yaxis={"autorange": "reversed"},
        template="plotly_white",
    )
    return fig


def _targets_table(result: Mapping[str, Any]) -> str:
    rows: list[list[Cell | str]] = []
    for name, entry in _datasets(result).items():
        target = entry.get("target") if isinstance(entry.get("target"), Mapping) else {}
        assert isinstance(target, Mapping)
        floor_method = target.get("floor_method")
        method = target.get("method")
        stats = (entry.get("methods") or {}).get(method, {}) if method else {}
        best = entry.get("best_method")
        rows.append(
            [
                str(entry.get("title", name)),
                Cell(_percent(target.get("floor")), numeric=True),
                _label(result, str(floor_method)) if floor_method else MISSING,
                _label(result, str(method)) if method else MISSING,
                _stat_cell(stats.get("transductive") if isinstance(stats, Mapping) else None),
                _met(target.get("met")),
                _label(result, str(best)) if best else MISSING,
            ]
        )
    return table(
        ["dataset", "floor", "floor from", "judged method", "transductive", "target", "best method"], rows
    )


def _why_html(result: Mapping[str, Any]) -> str:
    """One paragraph per missed floor: the measured explanation of ``target.why``."""
    items = []
    for name, entry in _datasets(result).items():
        target = entry.get("target")
        why = target.get("why") if isinstance(target, Mapping) else None
        if isinstance(why, Mapping) and why.get("text"):
            title = html.escape(str(entry.get("title", name)))
            items.append(f"<li><b>{title}</b>: {html.escape(str(why['text']))}</li>")
    if not items:
        return ""
    return "<p>Why a floor is not met, from this run's own figures:</p><ul>" + "".join(items) + "</ul>"


def _calibration_table(result: Mapping[str, Any]) -> str:
    rows: list[list[Cell | str]] = []
    for name, entry in _datasets(result).items():
        methods = entry.get("methods") if isinstance(entry.get("methods"), Mapping) else {}
        assert isinstance(methods, Mapping)
        for method, stats in methods.items():
            if not isinstance(stats, Mapping) or not isinstance(stats.get("brier"), Mapping):
                continue
            cells = []
            for metric in ("brier", "ece"):
                entry_m = stats[metric]
                n = number(entry_m.get("n"))
                text = fmt_stat(
                    number(entry_m.get("mean")),
                    number(entry_m.get("sd")),
                    None if n is None else int(n),
                    metric,
                )
                cells.append(Cell(text, numeric=True))
            rows.append([str(entry.get("title", name)), _label(result, str(method)), *cells])
    if not rows:
        return ""
    return table(["dataset", "method", "Brier", "ECE"], rows)


def calibration_figure(result: Mapping[str, Any]) -> go.Figure | None:
    """Reliability curves of every method with probabilities, bins pooled over datasets and splits
    (row-weighted), with the pooled ECE in the legend; ``None`` when no method has probabilities."""
    curves: dict[str, list[list[Mapping[str, float]]]] = {}
    for entry in _datasets(result).values():
        methods = entry.get("methods") if isinstance(entry.get("methods"), Mapping) else {}
        assert isinstance(methods, Mapping)
        for method, stats in methods.items():
            bins = stats.get("reliability") if isinstance(stats, Mapping) else None
            if isinstance(bins, list) and bins:
                curves.setdefault(str(method), []).append(bins)
    models = []
    for method, method_curves in curves.items():
        ece, pooled = pool_reliability(method_curves)
        models.append({"name": _label(result, method), "reliability": pooled, "overall": {"ece": ece}})
    fig: go.Figure | None = reliability_figure(models)
    return fig


def _results_table(result: Mapping[str, Any]) -> str:
    rows: list[list[Cell | str]] = []
    for name, entry in _datasets(result).items():
        methods = entry.get("methods") if isinstance(entry.get("methods"), Mapping) else {}
        assert isinstance(methods, Mapping)
        best = entry.get("best_method")
        for method, stats in methods.items():
            if not isinstance(stats, Mapping):
                continue
            seconds = stats.get("fit_seconds") if isinstance(stats.get("fit_seconds"), Mapping) else {}
            assert isinstance(seconds, Mapping)
            mean_s = number(seconds.get("mean"))
            trans = _stat_cell(stats.get("transductive"))
            if method == best:
                trans = Cell(trans.text, numeric=True, style="best")
            errors = stats.get("errors") or []
            rows.append(
                [
                    str(entry.get("title", name)),
                    _label(result, str(method)),
                    trans,
                    _stat_cell(stats.get("inductive")),
                    Cell(MISSING if mean_s is None else f"{mean_s:.2f}", numeric=True),
                    _met(stats.get("beats_floor")),
                    Cell(f"{len(errors)} failed", style="error") if errors else "",
                ]
            )
    return table(["dataset", "method", "transductive", "inductive", "fit s (mean)", "beats floor", ""], rows)


def _protocol_html(result: Mapping[str, Any]) -> str:
    protocol = result.get("protocol") if isinstance(result.get("protocol"), Mapping) else {}
    assert isinstance(protocol, Mapping)
    rows: list[list[Cell | str]] = []
    for name, e in _datasets(result).items():
        rows.append(
            [
                str(e.get("title", name)),
                str(e.get("source", "")),
                Cell(f"{int(number(e.get('n_pool')) or 0):,}", numeric=True),
                Cell(f"{int(number(e.get('n_features')) or 0):,}", numeric=True),
                ", ".join(str(c) for c in e.get("classes") or []),
                Cell(f"{int(number(e.get('n_labelled')) or 0):,}", numeric=True),
                Cell(f"{int(number(e.get('n_unlabelled')) or 0):,}", numeric=True),
                Cell(f"{int(number(e.get('n_test')) or 0):,}", numeric=True),
                str(e.get("test", "")),
            ]
        )
    sizes = table(
        ["dataset", "source", "pool", "features", "classes", "labelled", "unlabelled", "test", "test set"],
        rows,
    )
    share = number(protocol.get("labelled_share"))
    test_share = number(protocol.get("test_share"))
    splits = protocol.get("splits", MISSING)
    text = (
        f"<p>{html.escape(str(splits))} splits per dataset, seeds 0 … {html.escape(str(splits))} − 1, "
        "identical for every method. Split <i>i</i> holds out a stratified "
        f"{_percent(test_share)} of the pool as the inductive test set (DNA: the separate file "
        "<code>dna.scale.t</code>), then labels "
        f"{_percent(share)} of the pool's size, drawn stratified (at least one per class) from the rest; "
        "the other rows are unlabelled. Methods are fitted on labelled + unlabelled rows; "
        "<b>transductive</b> accuracy is on the unlabelled rows, <b>inductive</b> on the held-out rows. "
        "Mean ± sample sd over the splits. A floor is the best baseline of the dataset's README line "
        "(same 5 % labels, 20 splits); it is beaten when the mean transductive accuracy is above it.</p>"
    )
    rule = html.escape(str(protocol.get("hyperparameters", MISSING)))
    method_rows = [
        [_label(result, m), str(v.get("rule", "")) if isinstance(v, Mapping) else ""]
        for m, v in (result.get("methods") or {}).items()
    ]
    skipped = result.get("skipped_methods") or {}
    skipped_html = ""
    if isinstance(skipped, Mapping) and skipped:
        items = "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in skipped.items())
        skipped_html = f"<p>Skipped (not importable):</p><ul>{items}</ul>"
    return (
        text
        + f"<p><b>Hyper-parameter rule.</b> {rule}</p>"
        + table(["method", "settings"], method_rows)
        + skipped_html
        + "<h3>Datasets</h3>"
        + sizes
    )


def _problems_html(result: Mapping[str, Any]) -> str:
    items: list[str] = []
    for name, entry in _datasets(result).items():
        methods = entry.get("methods") if isinstance(entry.get("methods"), Mapping) else {}
        assert isinstance(methods, Mapping)
        for method, stats in methods.items():
            if not isinstance(stats, Mapping):
                continue
            for e in (stats.get("errors") or [])[:3]:
                items.append(
                    f"<li><b>{html.escape(name)} / {html.escape(str(method))}</b>: {html.escape(str(e))}</li>"
                )
            for w in (stats.get("warnings") or [])[:3]:
                where = f"{html.escape(name)} / {html.escape(str(method))}"
                items.append(f"<li>{where} (warning): {html.escape(str(w))}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def benchmark_report(result: Mapping[str, Any]) -> HtmlReport:
    """The HTML report of a benchmark result (:meth:`BenchmarkResult.to_dict
    <learnsight.models.semisupervised.benchmark.BenchmarkResult.to_dict>`)."""
    protocol = result.get("protocol") if isinstance(result.get("protocol"), Mapping) else {}
    assert isinstance(protocol, Mapping)
    seconds = number(result.get("seconds"))
    subtitle = (
        f"{len(_datasets(result))} datasets × {len(_method_names(result))} methods × "
        f"{protocol.get('splits', MISSING)} splits"
        + ("" if seconds is None else f", {seconds / 60:.1f} min")
        + (f" — {result.get('created')}" if result.get("created") else "")
    )
    report = HtmlReport("Semi-supervised benchmark", subtitle)
    report.add(
        Section(
            "Targets",
            _targets_table(result),
            "Each dataset's README floor against the multi-kernel LapSVM (else the LapSVM).",
        )
    )
    why = _why_html(result)
    if why:
        report.add(Section("Floors not met", why))
    report.add(
        Section(
            "Accuracy on the unlabelled rows (transductive)",
            figure_html(accuracy_figure(result, "transductive")),
            "One point per split; dashed: the README floor.",
        )
    )
    report.add(
        Section(
            "Accuracy on held-out rows (inductive)",
            figure_html(accuracy_figure(result, "inductive")),
            "Rows never seen in fitting (DNA: dna.scale.t).",
        )
    )
    report.add(
        Section("All results", _results_table(result), "Mean ± sd over the splits; bold: best per dataset.")
    )
    calibration = _calibration_table(result)
    if calibration:
        report.add(
            Section(
                "Calibration of predict_proba on held-out rows",
                calibration,
                "Brier score (mean squared error of the class probabilities, halved) and expected "
                "calibration error (10 equal-width bins of the top-class probability); lower is better. "
                "Mean ± sd over the splits.",
            )
        )
        curves = calibration_figure(result)
        if curves is not None:
            report.add(
                Section(
                    "Reliability",
                    figure_html(curves),
                    "Held-out rows of every dataset and split pooled per bin; marker size: rows in the bin.",
                )
            )
    weights = kernel_weight_figure(result)
    if weights is not None:
        report.add(
            Section(
                "Kernel weights of the multi-kernel LapSVM",
                figure_html(weights),
                f"Mean weight over the splits of the {_TOP_KERNELS} largest (base kernel | graph) pairs.",
            )
        )
    report.add(Section("Protocol", _protocol_html(result)))
    problems = _problems_html(result)
    if problems:
        report.add(Section("Failures and warnings", problems))
    return report


def write_benchmark_report(result: Mapping[str, Any], path: Path) -> Path:
    """Write :func:`benchmark_report` of ``result`` to ``path``."""
    return benchmark_report(result).write(path)


# --------------------------------------------------------------------------------------------------
# ssl fit


def fit_report(summary: Mapping[str, Any]) -> HtmlReport:
    """The report of ``learnsight ssl fit``: ``summary`` holds ``csv``, ``method``, ``rows``,
    ``labelled`` and ``predicted`` (class → count), ``confidence`` (probability of each unlabelled
    row's label, or None), ``kernel_weights`` (or None), ``params`` and ``seconds``."""
    report = HtmlReport(
        f"Semi-supervised labels: {summary.get('csv', '')}", f"method {summary.get('method', '')}"
    )
    labelled = summary.get("labelled") if isinstance(summary.get("labelled"), Mapping) else {}
    predicted = summary.get("predicted") if isinstance(summary.get("predicted"), Mapping) else {}
    assert isinstance(labelled, Mapping) and isinstance(predicted, Mapping)
    classes = list(dict.fromkeys([*labelled, *predicted]))
    head: list[Sequence[Cell | str]] = [
        ["rows", Cell(f"{int(number(summary.get('rows')) or 0):,}", numeric=True)],
        ["labelled", Cell(f"{sum(int(number(v) or 0) for v in labelled.values()):,}", numeric=True)],
        [
            "unlabelled (labelled here)",
            Cell(f"{sum(int(number(v) or 0) for v in predicted.values()):,}", numeric=True),
        ],
        ["features", Cell(f"{len(summary.get('features') or []):,}", numeric=True)],
        ["fit seconds", Cell(f"{number(summary.get('seconds')) or 0.0:.2f}", numeric=True)],
    ]
    report.add(Section("Summary", table(["", ""], head)))
    fig = go.Figure(
        [
            go.Bar(name="labelled", x=classes, y=[number(labelled.get(c)) or 0 for c in classes]),
            go.Bar(
                name="predicted (unlabelled rows)",
                x=classes,
                y=[number(predicted.get(c)) or 0 for c in classes],
            ),
        ]
    )
    fig.update_layout(barmode="group", height=360, template="plotly_white", xaxis={"type": "category"})
    report.add(Section("Classes", figure_html(fig)))
    confidence = [v for v in (summary.get("confidence") or []) if number(v) is not None]
    if confidence:
        hist = go.Figure(go.Histogram(x=confidence, nbinsx=20, marker_color=_COLOURS[0]))
        hist.update_layout(
            height=320,
            template="plotly_white",
            xaxis_title="probability of the given label",
            yaxis_title="rows",
        )
        low = sum(1 for v in confidence if v < 0.6)
        report.add(
            Section(
                "Confidence of the new labels",
                figure_html(hist),
                f"{low:,} of {len(confidence):,} unlabelled rows got their label with probability below 0.6.",
            )
        )
    weights = summary.get("kernel_weights")
    if isinstance(weights, Mapping) and weights:
        ordered = sorted(weights.items(), key=lambda kv: -(number(kv[1]) or 0.0))[:_TOP_KERNELS]
        bar = go.Figure(
            go.Bar(x=[number(v) or 0.0 for _, v in ordered], y=[str(k) for k, _ in ordered], orientation="h")
        )
        bar.update_layout(
            height=120 + 26 * len(ordered), template="plotly_white", yaxis={"autorange": "reversed"}
        )
        report.add(Section("Kernel weights", figure_html(bar), "(base kernel | graph) pairs, largest first."))
    params = summary.get("params") if isinstance(summary.get("params"), Mapping) else {}
    assert isinstance(params, Mapping)
    if params:
        report.add(
            Section("Settings", table(["parameter", "value"], [[str(k), str(v)] for k, v in params.items()]))
        )
    return report


__all__ = [
    "accuracy_figure",
    "benchmark_report",
    "fit_report",
    "kernel_weight_figure",
    "write_benchmark_report",
]
