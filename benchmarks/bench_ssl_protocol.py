"""Benchmark the semi-supervised methods by the full protocol of issue 9 §5 (SPEC §6).

Usage::

    python benchmarks/bench_ssl_protocol.py OUT_DIR                    # 10 datasets x 20 splits x 6 methods
    python benchmarks/bench_ssl_protocol.py OUT_DIR --splits 5 --datasets usps-3v8,breast
    python benchmarks/bench_ssl_protocol.py OUT_DIR --methods svm,mk_lapsvm --n-jobs 2

Writes ``OUT_DIR/ssl-benchmark.json`` and ``OUT_DIR/ssl-benchmark.html`` (the same files as
``learnsight ssl benchmark``) and prints, per dataset, the mean transductive accuracy of every method
against the README floor. The protocol, the splits and the hyper-parameter rule are those of
:mod:`learnsight.models.semisupervised.benchmark`. BLAS runs on ``--blas-threads`` threads (default
1): on a shared two-core machine more threads only fight the other processes.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from _common import figure
from threadpoolctl import threadpool_limits

from learnsight import progress
from learnsight.models.semisupervised.benchmark import DEFAULT_SPLITS, run_benchmark
from learnsight.report.ssl import write_benchmark_report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="folder for ssl-benchmark.json and .html")
    parser.add_argument("--datasets", default="all")
    parser.add_argument("--methods", default=None, help="default: every method that imports")
    parser.add_argument("--splits", type=int, default=DEFAULT_SPLITS)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--blas-threads", type=int, default=1, help="0 leaves BLAS as it is")
    parser.add_argument(
        "--data", type=Path, default=None, help="the ssl folder (default $LEARNSIGHT_DATA/ssl)"
    )
    args = parser.parse_args()

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    progress.enable()
    try:
        if args.blas_threads:
            with threadpool_limits(args.blas_threads):
                result = run_benchmark(
                    args.datasets, args.methods, args.splits, folder=args.data, n_jobs=args.n_jobs
                )
        else:
            result = run_benchmark(
                args.datasets, args.methods, args.splits, folder=args.data, n_jobs=args.n_jobs
            )
    finally:
        progress.disable()
    data = result.to_dict()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ssl-benchmark.json").write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
    write_benchmark_report(data, args.out / "ssl-benchmark.html")

    for name, entry in data["datasets"].items():
        floor = entry["floor"]
        for method, stats in entry["methods"].items():
            mean = stats["transductive"]["mean"]
            if mean is None:
                print(f"{name + ' ' + method:<44} failed: {stats['errors'][:1]}")
                continue
            target = "" if floor is None else f"> {100 * floor:.1f}"
            figure(f"{name} {method} transductive", 100 * mean, "%", target)
        target = entry["target"]
        if target["met"] is not None:
            print(f"{name}: target {'met' if target['met'] else 'NOT met'} by {target['method']}")
    for method, reason in data["skipped_methods"].items():
        print(f"skipped {method}: {reason}")
    print(f"{data['seconds'] / 60:.1f} min; written to {args.out}")


if __name__ == "__main__":
    main()
