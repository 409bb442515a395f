"""``learnsight evaluate``: the real-data model comparison of SPEC §3, as JSON and an HTML report.

What runs depends on the outcomes the store holds:

UCI (Cortez & Silva 2008)
    Math and Portuguese are two tasks; rows are the students of each course (linked students in
    both).  Two settings — *without G1/G2* (background and behaviour only) and *with G1/G2* (the
    period grades) — times four targets: pass/fail (G3 ≥ 10), the five levels, the three classes
    and the G3 score (RMSE).  Protocol: repeated stratified 10-fold CV grouped by student
    (default 5 repeats; the paper used 20).  Published figures are set beside.
OULAD and the synthetic campus (any source with a course calendar)
    Module-presentations (courses) are tasks.  Early prediction at course weeks ``2, 4, …`` and at
    course end, each with only the data dated before the cut-off; targets pass vs fail
    (withdrawals left out), pass vs fail with withdrawals as fail, and the three classes; grouped
    2:1 hold-out at every cut-off.

Every study runs all its models on identical splits (:mod:`learnsight.models.experiment`).  The
quality goals of the issue are checked and reported (``goals``), and the result is written as
``evaluation.json`` and ``evaluation.html`` (:func:`learnsight.report.evaluation.render_evaluation`).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.models.dataset import DatasetBuilder, Target
from learnsight.models.experiment import ModelResult, Protocol, StudyResult, run_study
from learnsight.models.outcomes import DEFAULT_SCHEME, ClassScheme
from learnsight.store.duckdb_store import DuckDBStore

UCI_MATH: Final = "https://archive.ics.uci.edu/dataset/320/student+performance/course/mat"
UCI_POR: Final = "https://archive.ics.uci.edu/dataset/320/student+performance/course/por"

PUBLISHED: Final[tuple[dict[str, Any], ...]] = (
    *(
        {
            "reference": "Cortez & Silva 2008",
            "target": target,
            "setting": setting,
            "task": task,
            "metric": metric,
            "value": value,
            "week": None,
            "note": "best model, 20 x 10-fold CV, one model per course",
        }
        for target, setting, task, metric, value in (
            ("pass_fail", "without G1/G2", UCI_MATH, "accuracy", 0.706),
            ("pass_fail", "without G1/G2", UCI_POR, "accuracy", 0.850),
            ("five_level", "without G1/G2", UCI_MATH, "accuracy", 0.335),
            ("five_level", "without G1/G2", UCI_POR, "accuracy", 0.367),
            ("score", "without G1/G2", UCI_MATH, "rmse", 3.90),
            ("score", "without G1/G2", UCI_POR, "rmse", 2.67),
            ("pass_fail", "with G1/G2", UCI_MATH, "accuracy", 0.919),
            ("pass_fail", "with G1/G2", UCI_POR, "accuracy", 0.930),
        )
    ),
    {
        "reference": "Aljohani, Fayoumi & Hassan 2019",
        "target": "pass_fail",
        "setting": "by week",
        "task": None,
        "metric": "accuracy",
        "value": 0.952,
        "week": None,
        "note": "LSTM on weekly clickstream, pass vs fail, course end",
    },
    {
        "reference": "Aljohani, Fayoumi & Hassan 2019",
        "target": "pass_fail",
        "setting": "by week",
        "task": None,
        "metric": "accuracy",
        "value": 0.90,
        "week": 10,
        "note": "about 90 % within the first 10 weeks",
    },
)
"""Published results the report sets beside ours (``../shared/datasets/README.md``)."""

UCI_MODELS: Final = (
    "rmtl",
    "logistic",
    "logistic_pooled",
    "random_forest",
    "random_forest_pooled",
    "gradient_boosting",
    "gradient_boosting_pooled",
    "majority",
)
WEEKLY_MODELS: Final = (
    "rmtl",
    "logistic",
    "logistic_pooled",
    "gradient_boosting",
    "gradient_boosting_pooled",
    "majority",
)
SEQUENCE_MODELS: Final = ("seq_gru",)
UCI_TARGETS: Final[tuple[Target, ...]] = ("pass_fail", "five_level", "three_class", "score")
WEEKLY_TARGETS: Final[tuple[Target, ...]] = ("pass_fail", "pass_fail_all", "three_class")


@dataclass
class EvaluationConfig:
    """What ``learnsight evaluate`` runs; ``None`` fields take the per-source defaults."""

    models: Sequence[str] | None = None
    targets: Sequence[Target] | None = None
    weeks: Sequence[int] | None = None
    """Cut-off weeks (course end is always added)."""
    n_splits: int = 10
    n_repeats: int = 5
    seed: int = 0
    sequence: bool = True
    """Add the GRU sequence model to the weekly studies when PyTorch is installed."""
    scheme: ClassScheme = DEFAULT_SCHEME
    """Class cut points."""
    extra: dict[str, Any] = field(default_factory=dict)


def default_weeks(builder: DatasetBuilder) -> list[int]:
    """Every second week up to the longest course: 2, 4, …"""
    longest = builder.store.scalar(
        "SELECT max(ceil(length_days / 7.0)) FROM courses WHERE start_ts IS NOT NULL"
    )
    last = int(longest) if longest is not None else 12
    return list(range(2, last, 2))


def evaluate_store(
    store: DuckDBStore,
    config: EvaluationConfig | None = None,
    *,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the comparison for the outcomes in ``store``; returns the JSON-ready result."""
    config = config or EvaluationConfig()
    started = time.perf_counter()
    probe = DatasetBuilder(store, groups=(), scheme=config.scheme)
    schemes = sorted(set(probe.labels.column("scheme").to_pylist()))
    if len(schemes) != 1:
        raise LearnsightError(
            f"the store mixes outcome schemes {schemes}; "
            "evaluate one source per store (import UCI or OULAD alone)"
        )
    scheme = schemes[0]
    studies: list[StudyResult] = []
    summary: dict[str, Any]
    if scheme == "uci":
        summary = _uci(store, config, studies, on_step)
    else:
        summary = _weekly(store, config, studies, on_step)
    result: dict[str, Any] = {
        "kind": "learnsight-evaluation",
        "version": 1,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "learnsight": _version(),
        "store": str(store.path),
        "scheme": scheme,
        "dataset": summary,
        "task_labels": task_labels(sorted({t for s in studies for t in s.tasks})),
        "studies": [s.to_dict() for s in studies],
        "published": [p for p in PUBLISHED if _published_applies(p, scheme)],
        "goals": goals(scheme, studies),
        "timings": {"total_seconds": round(time.perf_counter() - started, 1)},
    }
    return result


def _uci(
    store: DuckDBStore,
    config: EvaluationConfig,
    studies: list[StudyResult],
    on_step: Callable[[str], None] | None,
) -> dict[str, Any]:
    protocol = Protocol("cv", config.n_splits, config.n_repeats, config.seed)
    summary: dict[str, Any] = {}
    for interim, label in ((False, "without G1/G2"), (True, "with G1/G2")):
        data = DatasetBuilder(
            store, groups=("profile", "cross_course"), interim_grades=interim, scheme=config.scheme
        ).build()
        summary = summary or data.summary()
        for target in config.targets or UCI_TARGETS:
            models = [m for m in (config.models or UCI_MODELS) if not (target == "score" and m == "majority")]
            studies.append(
                run_study(
                    data,
                    target,
                    models,
                    protocol=protocol,
                    name=f"{target}, {label}",
                    setting={"label": label, "interim_grades": interim},
                    on_step=on_step,
                )
            )
    return summary


def _weekly(
    store: DuckDBStore,
    config: EvaluationConfig,
    studies: list[StudyResult],
    on_step: Callable[[str], None] | None,
) -> dict[str, Any]:
    builder = DatasetBuilder(store, scheme=config.scheme)
    protocol = Protocol("holdout", seed=config.seed)
    models = list(config.models or WEEKLY_MODELS)
    if config.models is None and config.sequence and importlib.util.find_spec("torch") is not None:
        models += list(SEQUENCE_MODELS)
    weeks: list[int | None] = [*(config.weeks if config.weeks is not None else default_weeks(builder)), None]
    summary: dict[str, Any] = {}
    for week in weeks:
        data = builder.build(AsOf(week=week) if week is not None else AsOf())
        if week is None:
            summary = data.summary()
        for target in config.targets or WEEKLY_TARGETS:
            studies.append(
                run_study(
                    data,
                    target,
                    models,
                    protocol=protocol,
                    name=f"{target}, {'course end' if week is None else f'week {week}'}",
                    setting={"label": "by week", "cutoff": "course end" if week is None else f"week {week}"},
                    on_step=on_step,
                )
            )
    return summary


def task_labels(tasks: Sequence[str]) -> dict[str, str]:
    """Short display names: UCI ``Math`` / ``Portuguese``; otherwise the last two IRI segments."""
    out: dict[str, str] = {}
    for t in tasks:
        if t == UCI_MATH:
            out[t] = "Math"
        elif t == UCI_POR:
            out[t] = "Portuguese"
        else:
            parts = [p for p in t.rstrip("/").split("/") if p]
            out[t] = "-".join(parts[-2:]) if len(parts) >= 2 else t
    return out


def _published_applies(entry: dict[str, Any], scheme: str) -> bool:
    return (entry["reference"].startswith("Cortez")) == (scheme == "uci") and (scheme in ("uci", "oulad"))


def goals(scheme: str, studies: Sequence[StudyResult]) -> list[dict[str, Any]]:
    """The issue's quality goals, measured: RMTL's value and the best model's."""
    out: list[dict[str, Any]] = []

    def add(
        goal: str, study: StudyResult | None, threshold: float, task: str | None, metric: str = "accuracy"
    ) -> None:
        if study is None:
            return
        rmtl = study.model("rmtl")
        measured = rmtl.mean(metric, task) if rmtl else math.nan
        best = max(
            (m for m in study.models if m.error is None and m.family != "reference"),
            key=lambda m: _nan_low(m.mean(metric, task)),
            default=None,
        )
        best_value = best.mean(metric, task) if best else math.nan
        out.append(
            {
                "goal": goal,
                "metric": metric,
                "threshold": threshold,
                "model": "rmtl",
                "measured": measured,
                "best_model": best.name if best else None,
                "best_measured": best_value,
                "met": bool(best_value >= threshold) if not math.isnan(best_value) else False,
                "rmtl_met": bool(measured >= threshold) if not math.isnan(measured) else False,
            }
        )

    def find(target: str, label: str | None = None, week: int | str | None = "any") -> StudyResult | None:
        for s in studies:
            if (
                s.target == target
                and (label is None or s.setting.get("label") == label)
                and (week == "any" or s.week == week)
            ):
                return s
        return None

    if scheme == "uci":
        study = find("pass_fail", "without G1/G2")
        add("UCI pass/fail without G1/G2, Math >= 72 %", study, 0.72, UCI_MATH)
        add("UCI pass/fail without G1/G2, Portuguese >= 86 %", study, 0.86, UCI_POR)
    else:
        for target, what in (("pass_fail", "withdrawn left out"), ("pass_fail_all", "withdrawn = fail")):
            add(f"pass vs fail ({what}) at course end >= 95 %", find(target, week=None), 0.95, None)
            ten = [s for s in studies if s.target == target and s.week is not None and s.week <= 10]
            add(f"pass vs fail ({what}) by week 10 >= 90 %", ten[-1] if ten else None, 0.90, None)
    # RMTL at least matches single-task macro-F1 (each study): against the best single-task model
    # of any family, and against the single-task model of its own (linear) family
    for s in studies:
        rmtl = s.model("rmtl")
        singles = [m for m in s.models if m.family == "single-task" and m.error is None]
        if rmtl is None or not singles or s.target == "score":
            continue
        best_single = max(singles, key=lambda m: _nan_low(m.mean("macro_f1")))
        linear = next((m for m in singles if m.name == "logistic"), None)
        for label, other in (("best single-task", best_single), ("single-task logistic", linear)):
            if other is None or (label == "single-task logistic" and other is best_single):
                continue
            met = bool(rmtl.mean("macro_f1") >= other.mean("macro_f1") - 1e-12)
            out.append(
                {
                    "goal": f"RMTL macro-F1 >= {label} ({s.name})",
                    "metric": "macro_f1",
                    "threshold": other.mean("macro_f1"),
                    "model": "rmtl",
                    "measured": rmtl.mean("macro_f1"),
                    "best_model": other.name,
                    "best_measured": other.mean("macro_f1"),
                    "met": met,
                    "rmtl_met": met,
                }
            )
    return out


def studies_from_dicts(studies: Sequence[dict[str, Any]]) -> list[StudyResult]:
    """:class:`StudyResult` objects back from ``evaluation.json`` (to recompute goals or re-render)."""
    out: list[StudyResult] = []
    for s in studies:
        study = StudyResult(
            name=s["name"],
            target=s["target"],
            as_of=s["as_of"],
            week=s["week"],
            labels=list(s["labels"]),
            rows=s["rows"],
            tasks=list(s["tasks"]),
            protocol=dict(s["protocol"]),
            setting=dict(s.get("setting") or {}),
        )
        for m in s["models"]:
            study.models.append(
                ModelResult(
                    name=m["name"],
                    family=m["family"],
                    overall={
                        k: {kk: (math.nan if vv is None else vv) for kk, vv in v.items()}
                        for k, v in m["overall"].items()
                    },
                    per_task={
                        t: {
                            k: {kk: (math.nan if vv is None else vv) for kk, vv in v.items()}
                            for k, v in row.items()
                        }
                        for t, row in m["per_task"].items()
                    },
                    confusion=m.get("confusion"),
                    reliability=m.get("reliability"),
                    fit_seconds=float(m.get("fit_seconds") or 0.0),
                    error=m.get("error"),
                )
            )
        out.append(study)
    return out


def _nan_low(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("learnsight")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def write_evaluation(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``evaluation.json`` and ``evaluation.html`` into ``out_dir``."""
    from learnsight.report.evaluation import render_evaluation

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "evaluation.json"
    json_path.write_text(json.dumps(_json_safe(result), indent=1, allow_nan=False), encoding="utf-8")
    html_path = render_evaluation(result, out_dir / "evaluation.html")
    return json_path, html_path


def _json_safe(value: Any) -> Any:
    """NaN/inf → null (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


__all__ = [
    "PUBLISHED",
    "EvaluationConfig",
    "default_weeks",
    "evaluate_store",
    "goals",
    "studies_from_dicts",
    "task_labels",
    "write_evaluation",
]
