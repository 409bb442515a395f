"""The evaluation report: a fake ``learnsight evaluate`` result becomes one HTML page."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs

from learnsight.report.evaluation import (
    evaluation_figures,
    fmt,
    fmt_stat,
    number,
    render_evaluation,
    split_series,
    stat,
)

MATH = "https://example.org/uci/course/math"
PORT = "https://example.org/uci/course/portuguese"
AAA = "https://example.org/oulad/module/AAA-2013J"
BBB = "https://example.org/oulad/module/BBB-2014B"
NAN = math.nan


def ms(mean: float, sd: float = 0.02, n: int = 50) -> dict[str, float]:
    return {"mean": mean, "sd": sd, "n": n}


def model(
    name: str, family: str, acc: float, tasks: list[str], labels: list[str], *, error: str | None = None
) -> dict[str, Any]:
    if error:
        return {
            "name": name,
            "family": family,
            "overall": {},
            "per_task": {},
            "confusion": None,
            "reliability": None,
            "fit_seconds": 0.1,
            "error": error,
        }
    k = len(labels)
    return {
        "name": name,
        "family": family,
        "overall": {
            "accuracy": ms(acc),
            "macro_f1": ms(acc - 0.05),
            "brier": ms(0.2, 0.01),
            "ece": ms(NAN, NAN, 0),  # a missing metric
            f"recall[{labels[-1]}]": ms(acc),
        },
        "per_task": {
            t: {"accuracy": ms(acc + 0.01 * i), "macro_f1": ms(acc - 0.04), "n": ms(100.0)}
            for i, t in enumerate(tasks)
        },
        "confusion": [[10 + 5 * (i == j) for j in range(k)] for i in range(k)],
        "reliability": [
            {"lower": 0.5, "upper": 0.6, "count": 40, "confidence": 0.55, "accuracy": 0.5},
            {"lower": 0.8, "upper": 0.9, "count": 80, "confidence": 0.85, "accuracy": acc},
        ],
        "fit_seconds": 1.25,
        "error": None,
    }


def uci_study(setting: str, shift: float) -> dict[str, Any]:
    labels, tasks = ["fail", "pass"], [MATH, PORT]
    return {
        "name": f"UCI pass/fail {setting}",
        "target": "pass_fail",
        "as_of": "all",
        "week": None,
        "labels": labels,
        "rows": 1044,
        "tasks": tasks,
        "protocol": {"name": "cv", "n_splits": 10, "n_repeats": 5, "seed": 0, "grouped_by": "student"},
        "setting": {"label": setting, "features": "demographic"},
        "models": [
            model("rmtl", "multi-task", 0.80 + shift, tasks, labels),
            model("random_forest", "single-task", 0.82 + shift, tasks, labels),
            model("logistic_pooled", "pooled", 0.78 + shift, tasks, labels),
            model("seq_gru", "sequence", 0.0, tasks, labels, error="ImportError: torch is not installed"),
        ],
    }


def oulad_study(week: int | None) -> dict[str, Any]:
    labels, tasks = ["at-risk", "pass"], [AAA, BBB]
    gain = 0.0 if week is None else (20 - week) * 0.01
    return {
        "name": f"OULAD pass/fail @ {'end' if week is None else f'week {week}'}",
        "target": "pass_fail",
        "as_of": "all" if week is None else f"week:{week}",
        "week": week,
        "labels": labels,
        "rows": 5000,
        "tasks": tasks,
        "protocol": {"name": "holdout", "test_size": "1/3", "seed": 0, "grouped_by": "student"},
        "setting": {"label": "OULAD"},
        "models": [
            model("rmtl", "multi-task", 0.85 - gain, tasks, labels),
            model("gradient_boosting", "single-task", 0.84 - gain, tasks, labels),
            model("majority", "reference", 0.6, tasks, labels),
        ],
    }


@pytest.fixture
def uci() -> dict[str, Any]:
    return {
        "kind": "learnsight-evaluation",
        "version": 1,
        "created": "2026-11-23T10:00:00",
        "learnsight": "0.1.0",
        "store": "data/uci.duckdb",
        "scheme": "uci",
        "dataset": {"rows": 1044, "students": 649, "courses": 2, "features": 30, "classes": {"fail": 300}},
        "task_labels": {MATH: "Math", PORT: "Portuguese"},
        "studies": [uci_study("with G1/G2", 0.1), uci_study("without G1/G2", 0.0)],
        "published": [
            {
                "reference": "Cortez & Silva 2008",
                "target": "pass_fail",
                "setting": "without G1/G2",
                "task": MATH,
                "metric": "accuracy",
                "value": 0.706,
                "week": None,
                "note": "best of NB/NN/SVM/DT/RF, setting C",
            },
            {
                "reference": "Cortez & Silva 2008",
                "target": "pass_fail",
                "setting": "with G1/G2",
                "task": PORT,
                "metric": "accuracy",
                "value": 0.931,
                "week": None,
                "note": "setting A",
            },
            {
                "reference": "Broken 2020",
                "target": "pass_fail",
                "setting": "without G1/G2",
                "task": None,
                "metric": "accuracy",
                "value": NAN,
                "week": None,
                "note": "",
            },
        ],
        "goals": [
            {
                "goal": "UCI pass/fail without G1/G2, Math >= 72 %",
                "metric": "accuracy",
                "threshold": 0.72,
                "model": "rmtl",
                "measured": 0.731,
                "best_model": "random_forest",
                "best_measured": 0.74,
                "met": True,
            },
            {
                "goal": "UCI macro-F1 >= 90 %",
                "metric": "macro_f1",
                "threshold": 0.9,
                "model": "rmtl",
                "measured": None,
                "best_model": None,
                "best_measured": NAN,
                "met": False,
            },
        ],
        "timings": {"total_seconds": 12.5},
    }


@pytest.fixture
def oulad() -> dict[str, Any]:
    return {
        "kind": "learnsight-evaluation",
        "version": 1,
        "created": "2026-11-23T11:00:00",
        "learnsight": "0.1.0",
        "store": "data/oulad.duckdb",
        "scheme": "oulad",
        "dataset": {"rows": 5000, "students": 4000, "courses": 2, "features": 40, "classes": {}},
        "task_labels": {AAA: "AAA 2013J"},  # BBB falls back to the IRI's last segment
        "studies": [oulad_study(2), oulad_study(4), oulad_study(None)],
        "published": [
            {
                "reference": "Aljohani et al. 2019",
                "target": "pass_fail",
                "setting": None,
                "task": None,
                "metric": "accuracy",
                "value": 0.952,
                "week": None,
                "note": "LSTM, weekly clickstream",
            },
            {
                "reference": "He et al. 2015",
                "target": "pass_fail",
                "setting": None,
                "task": None,
                "metric": "accuracy",
                "value": 0.80,
                "week": 4,
                "note": "",
            },
        ],
        "goals": [],
        "timings": {"total_seconds": NAN},
    }


def tables(text: str) -> str:
    return "".join(re.findall(r"<table>.*?</table>", text, flags=re.S))


def test_values_missing_become_dash() -> None:
    assert number(NAN) is None and number(None) is None and number(True) is None and number("x") is None
    assert number("0.5") == 0.5
    assert stat({"accuracy": {"mean": NAN, "sd": NAN, "n": 0}}, "accuracy") == (None, None, 0)
    assert stat({}, "accuracy") == (None, None, None)
    assert stat(None, "accuracy") == (None, None, None)
    assert fmt(None, "accuracy") == "—"
    assert fmt(0.7312, "accuracy") == "73.1 %"
    assert fmt(0.1834, "brier") == "0.183"
    assert fmt_stat(0.8, 0.012, 50, "accuracy") == "80.0 ± 1.2 %"
    assert fmt_stat(0.8, 0.0, 1, "accuracy") == "80.0 %"
    assert fmt_stat(None, 0.1, 5, "macro_f1") == "—"


def test_uci_report(uci: dict[str, Any], tmp_path: Path) -> None:
    path = render_evaluation(uci, tmp_path / "out" / "evaluation.html")
    assert path.exists()
    text = path.read_text(encoding="utf-8")
    assert text.count(get_plotlyjs()[:200]) == 1  # plotly.js embedded once
    assert "UCI pass/fail without G1/G2, Math &gt;= 72 %" in text
    assert "✓ met" in text and "✗ not met" in text
    for name in ("rmtl", "random_forest", "logistic_pooled", "seq_gru"):
        assert name in text
    assert "accuracy Math" in text and "accuracy Portuguese" in text
    assert "Cortez &amp; Silva 2008 (published)" in text
    assert "70.6 %" in text and "93.1 %" in text
    assert "ImportError: torch is not installed" in text
    assert "grouped by student" in text and "never in both the training and the test set" in text
    assert "data dated before the cut-off" in text
    cells = tables(text)
    assert not re.search(r">\s*(nan|none|inf)\s*<", cells, flags=re.I)
    assert "—" in cells


def test_uci_figures(uci: dict[str, Any]) -> None:
    titles = [t for t, _ in evaluation_figures(uci)]
    assert titles == [
        "Accuracy by course: UCI pass/fail with G1/G2",
        "Accuracy by course: UCI pass/fail without G1/G2",
        "Confusion matrix: UCI pass/fail with G1/G2",
        "Reliability: UCI pass/fail with G1/G2",
        "Confusion matrix: UCI pass/fail without G1/G2",
        "Reliability: UCI pass/fail without G1/G2",
    ]
    figures = dict(evaluation_figures(uci))
    bars = figures["Accuracy by course: UCI pass/fail without G1/G2"]
    names = [trace.name for trace in bars.data]
    assert names == ["rmtl", "random_forest", "logistic_pooled", "Cortez & Silva 2008 (published)"]
    assert list(bars.data[0].x) == ["all courses", "Math", "Portuguese"]
    star = bars.data[-1]
    assert list(star.x) == ["Math"] and list(star.y) == [0.706]
    confusion = figures["Confusion matrix: UCI pass/fail without G1/G2"]
    assert list(confusion.data[0].x) == ["fail", "pass"]
    reliability = figures["Reliability: UCI pass/fail without G1/G2"]
    assert [t.name for t in reliability.data][1:] == ["rmtl", "random_forest"]


def test_oulad_week_series(oulad: dict[str, Any], tmp_path: Path) -> None:
    series, singles = split_series(oulad["studies"])
    assert singles == [] and len(series) == 1 and series[0].weeks == [2, 4, None]
    figures = evaluation_figures(oulad)
    titles = [t for t, _ in figures]
    assert titles == [
        "Accuracy by week: pass/fail (withdrawn left out), OULAD",
        "Macro-F1 by week: pass/fail (withdrawn left out), OULAD",
        "Confusion matrix: OULAD pass/fail @ week 4",
        "Reliability: OULAD pass/fail @ week 4",
        "Confusion matrix: OULAD pass/fail @ end",
        "Reliability: OULAD pass/fail @ end",
    ]
    accuracy = figures[0][1]
    lines = {t.name: t for t in accuracy.data}
    assert list(lines["rmtl"].x)[:2] == [2.0, 4.0] and lines["rmtl"].x[-1] > 4
    assert list(accuracy.layout.xaxis.ticktext) == ["2", "4", "end"]
    assert "Aljohani et al. 2019: 95.2 % at course end" in lines
    assert "He et al. 2015: 80.0 % at week 4" in lines
    assert lines["Aljohani et al. 2019: 95.2 % at course end"].x[0] == lines["rmtl"].x[-1]

    text = render_evaluation(oulad, tmp_path / "oulad.html").read_text(encoding="utf-8")
    assert "Accuracy and macro-F1 by week: pass/fail (withdrawn left out), OULAD" in text
    assert "<th>week 2</th><th>week 4</th><th>end</th>" in text
    assert "Aljohani et al. 2019 (published)" in text
    assert "hold-out 2:1" in text
    assert not re.search(r">\s*(nan|none)\s*<", tables(text), flags=re.I)


def test_score_and_empty_result(tmp_path: Path) -> None:
    study = {
        "name": "score",
        "target": "score",
        "week": None,
        "labels": [],
        "tasks": [MATH],
        "protocol": {"name": "cv", "n_splits": 5, "n_repeats": 1},
        "models": [
            {
                "name": "rmtl",
                "family": "multi-task",
                "overall": {"rmse": ms(3.21), "mae": ms(2.4), "r2": ms(NAN)},
                "per_task": {MATH: {"rmse": ms(3.3)}},
                "confusion": None,
                "reliability": None,
                "fit_seconds": None,
                "error": None,
            }
        ],
    }
    result = {"scheme": "uci", "studies": [study]}
    assert [t for t, _ in evaluation_figures(result)] == ["RMSE by course: score"]
    text = render_evaluation(result, tmp_path / "score.html").read_text(encoding="utf-8")
    assert "RMSE" in text and "R²" in text and "3.21 ± 0.02" in text
    assert not re.search(r">\s*(nan|none)\s*<", tables(text), flags=re.I)
    empty = render_evaluation({}, tmp_path / "empty.html")
    assert "Methods" in empty.read_text(encoding="utf-8")
