"""Speed and memory of MultiKernelLapSVM (issue 9, "Speed"): dense against low-rank, in one run.

Usage::

    .venv/bin/python benchmarks/bench_ssl_speed.py [--large 20000] [--rank 500] [--skip-large]

Each case runs in its own process, so that its peak resident memory is its own:

1. **USPS 3 vs 8**, 1,400 samples (700 per class), 5 % labelled, the default 8 base kernels × 6
   graphs = 48 deformed kernels, level-method L1 weights: exact kernels (``rank=None``) and the
   Nyström path (``rank=--rank``) — time, peak memory, transductive accuracy.
2. **20,000 samples, low rank**: all 9,298 USPS digits and, to reach ``--large`` samples, copies
   shifted by one pixel (right, down, left…), odd against even digits, 5 % labelled, the same 48
   kernels at ``rank=--rank``.  The dense solve of the same size cannot run here (one 20,000²
   kernel is 3.2 GB, and there are 8 plus 48 deformations): the dense figure printed beside it is
   measured on 3,000 samples and scaled by the ``n³`` of its solves — a lower bound, stated as such.

Targets: case 1 ≤ 60 s; case 2 ≤ 5 min and ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
from _common import figure, peak_rss_mb

from learnsight.models.semisupervised import MultiKernelLapSVM
from learnsight.models.semisupervised.datasets import load_usps, pair


def _labelled(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    partial = np.full(len(y), -1)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        chosen = rng.choice(rows, max(1, round(share * len(rows))), replace=False)
        partial[chosen] = y[chosen]
    return partial


def _shifted(images: np.ndarray, step: int) -> np.ndarray:
    square = images.reshape(-1, 16, 16)
    dy, dx = [(0, 1), (1, 0), (0, -1), (-1, 0)][step % 4]
    return np.roll(np.roll(square, dy, axis=1), dx, axis=2).reshape(len(images), -1)


def data(case: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = load_usps()
    if case == "pair":
        xp, yp = pair(x, y, 3, 8, per_class=700, seed=0)
        return xp, (yp == 8).astype(np.int64)
    parts, labels, step = [x], [y], 0
    while sum(len(p) for p in parts) < n:
        parts.append(_shifted(x, step))
        labels.append(y)
        step += 1
    xs, ys = np.vstack(parts)[:n], np.concatenate(labels)[:n]
    return xs, (ys % 2).astype(np.int64)


def child(case: str, n: int, rank: int | None) -> None:
    """One timed fit; prints one JSON line."""
    x, y = data(case, n)
    partial = _labelled(y, 0.05, 0)
    start = time.perf_counter()
    model = MultiKernelLapSVM(rank=rank, random_state=0).fit(x, partial)
    seconds = time.perf_counter() - start
    unlabelled = partial == -1
    accuracy = float((model.transduction_[unlabelled] == y[unlabelled]).mean())
    pairs = len(model.kernel_weights_)
    print(
        json.dumps(
            {
                "n": len(x),
                "rank": rank,
                "seconds": seconds,
                "peak_mb": peak_rss_mb(),
                "accuracy": accuracy,
                "pairs": pairs,
                "iterations": model.n_iter_,
            }
        )
    )


def run(case: str, n: int, rank: int | None) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", case, "--n", str(n), "--rank", str(rank or 0)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    result: dict[str, float] = json.loads(out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--rank", type=int, default=500)
    parser.add_argument(
        "--dense-probe", type=int, default=3000, help="size of the dense solve scaled up to --large"
    )
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n, args.rank or None)
        return

    dense = run("pair", 1400, None)
    low = run("pair", 1400, args.rank)
    for label, r in (("exact", dense), (f"rank {args.rank}", low)):
        figure(f"USPS 3v8 n=1,400, 48 kernels, {label}: fit seconds", r["seconds"], "s")
        figure(f"USPS 3v8 n=1,400, 48 kernels, {label}: peak memory", r["peak_mb"], "MB")
        figure(f"USPS 3v8 n=1,400, 48 kernels, {label}: transductive accuracy", 100 * r["accuracy"], "%")
    figure("USPS 3v8: exact / low-rank time ratio", dense["seconds"] / low["seconds"], "x")
    if args.skip_large:
        return
    large = run("large", args.large, args.rank)
    probe = run("large", args.dense_probe, None)
    scaled = probe["seconds"] * (args.large / args.dense_probe) ** 3
    figure(f"n={args.large:,} odd/even, rank {args.rank}: fit seconds", large["seconds"], "s")
    figure(f"n={args.large:,} odd/even, rank {args.rank}: peak memory", large["peak_mb"], "MB")
    figure(
        f"n={args.large:,} odd/even, rank {args.rank}: transductive accuracy", 100 * large["accuracy"], "%"
    )
    figure(f"n={args.dense_probe:,} odd/even, exact: fit seconds", probe["seconds"], "s")
    figure(f"n={args.large:,} exact, scaled by n^3 from n={args.dense_probe:,} (lower bound)", scaled, "s")
    figure(f"n={args.large:,}: exact (scaled) / low-rank time ratio", scaled / large["seconds"], "x")


if __name__ == "__main__":
    main()
