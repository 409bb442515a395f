"""The lesson path of teaching evaluation over many simulated terms (issue 9 §6): how far teacher
scores land from the planted expert ratings, for each model, against the oracle.

Usage::

    python benchmarks/bench_teaching_lessons.py                       # 10 and 40 lessons, seeds 0-9
    python benchmarks/bench_teaching_lessons.py --lessons 40 --seeds 3 --models laprls

For every seed and lessons-per-teacher, one term is simulated (:class:`LessonConfig`, 6 teachers, 20
students, a quarter of the lessons rated by the expert), stored in a fresh DuckDB file and scored
from its statements (:func:`~learnsight.teaching.lesson_evaluation.run_lessons`) by each model of
``--models``; the supervised SVM on the rated lessons and the oracle (unrated lessons scored by the
mean rating of their latent quality) come with every run.  Prints, per setting and model, the mean
and worst ``max_deviation_pct`` over the seeds, how many seeds are within 5 %, and the mean
Spearman correlation of lesson scores with the latent quality.  Figures only; nothing is asserted
and nothing here chooses a setting.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import figure

from learnsight.store import open_store
from learnsight.teaching.lesson_evaluation import run_lessons
from learnsight.teaching.lessons import LessonConfig
from learnsight.teaching.protocol import TOLERANCE_PCT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", default="10,40", help="lessons per teacher, comma-separated")
    parser.add_argument("--seeds", type=int, default=10, help="terms per setting (seeds 0..n-1)")
    parser.add_argument("--models", default="laprls,mklapsvm", help="semi-supervised models to compare")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for lessons in (int(v) for v in args.lessons.split(",")):
        rows: dict[str, list[tuple[float, float]]] = {m: [] for m in [*models, "svm (supervised)", "oracle"]}
        started = time.perf_counter()
        for seed in range(args.seeds):
            config = LessonConfig(lessons_per_teacher=lessons, seed=seed)
            for model in models:
                with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "s.duckdb") as store:
                    result = run_lessons(store, config, model=model)
                rows[model].append((result.max_deviation_pct or 0.0, result.spearman_quality))
                if model == models[0]:
                    rows["svm (supervised)"].append(
                        (result.baseline_max_deviation_pct or 0.0, result.baseline_spearman_quality)
                    )
                    rows["oracle"].append((result.oracle_max_deviation_pct or 0.0, float("nan")))
        print(f"-- {lessons} lessons per teacher, 6 teachers, seeds 0-{args.seeds - 1}")
        for name, values in rows.items():
            deviations = np.array([v[0] for v in values])
            figure(f"{name}: max teacher deviation, mean", float(deviations.mean()), "%")
            figure(f"{name}: max teacher deviation, worst", float(deviations.max()), "%")
            within = int((deviations <= TOLERANCE_PCT).sum())
            figure(f"{name}: seeds within {TOLERANCE_PCT:g} %", within, f"of {len(values)}")
            rho = np.array([v[1] for v in values])
            if np.isfinite(rho).all():
                figure(f"{name}: Spearman(lesson score, quality)", float(rho.mean()), "")
        figure("seconds for this setting", time.perf_counter() - started, "s")


if __name__ == "__main__":
    main()
