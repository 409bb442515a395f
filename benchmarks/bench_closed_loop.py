"""The closed loop of issue 5 in the simulator: does the experiment analysis recover a planted effect?

1. ``run_closed_loop`` through a real DuckDB store: last year's cohort trains RMTL, this year's
   cohort is predicted at week 4, the predicted at-risk students are randomised (stratified by
   course) and the intervention arm's weekly effort is raised from week 4 with a true effect chosen
   so that the expected final-score gain is 8 points; the analysis compares the mid-term (before)
   with the final (after) in both arms.  Then the same with no effect.
2. ``simulation_study``: the assignment and the scores only (no store), replicated over many
   campuses, to measure the false-positive rate with no effect and the power with an 8-point gain.

Usage: ``python benchmarks/bench_closed_loop.py [--replications 200]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from learnsight.interventions.loop import replicate_experiment, run_closed_loop, simulation_study
from learnsight.simulate.campus import CampusConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--gain", type=float, default=8.0, help="planted expected gain (score points)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        planted = run_closed_loop(week=4, gain=args.gain, workdir=d / "planted", seed=0)
        print(
            f"planted  : predictions {planted.predicted}, true effect {planted.effect:.2f}, "
            f"expected gain {planted.expected_gain:.2f}; intervention − control change "
            f"{planted.difference:+.2f}, 95 % CI {planted.difference_ci}, p = {planted.p:.4f} "
            f"({time.perf_counter() - t:.1f} s)"
        )
        t = time.perf_counter()
        null = run_closed_loop(week=4, effect=0.0, workdir=d / "null", seed=0, model=planted.bundle)
        print(
            f"no effect: intervention − control change {null.difference:+.2f}, 95 % CI {null.difference_ci}, "
            f"p = {null.p:.4f} ({time.perf_counter() - t:.1f} s)"
        )
    small = CampusConfig(n_students=200, n_courses=2, n_weeks=8, seed=100, midterm_week=4)
    t = time.perf_counter()
    study = simulation_study(small, week=4, effect=0.0, replications=args.replications).to_dict()
    print(f"no effect × {args.replications}: {study} ({time.perf_counter() - t:.1f} s)")
    unit = replicate_experiment(small, week=4, effect=1.0, seed=0).expected_gain
    t = time.perf_counter()
    study = simulation_study(small, week=4, effect=args.gain / unit, replications=args.replications).to_dict()
    print(f"gain {args.gain:g} × {args.replications}: {study} ({time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()
