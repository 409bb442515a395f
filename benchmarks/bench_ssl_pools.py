"""How much the USPS floors depend on which 700 + 700 digits form the pool (issue 9 §5).

Usage::

    python benchmarks/bench_ssl_pools.py                                  # 1v7 and 3v8, every pool
    python benchmarks/bench_ssl_pools.py --pairs 3v8 --pools first --methods mk_lapsvm

The README says "USPS pairs (700+700)" and not which 700.  The protocol
(:mod:`learnsight.models.semisupervised.benchmark`) draws them once with seed 0; this script scores
the same methods with the protocol's splits (:func:`~learnsight.models.semisupervised.benchmark.make_split`:
20 % held out, 5 % of the pool labelled, split seed ``i`` for split ``i``) on three pools
(``--whole-pool``: no held-out part, every unlabelled digit in the graph and scored, as the README's
"accuracy on the unlabelled rest"):

* ``seeded``: the protocol's pool (700 of each digit drawn with seed 0 from USPS train + test);
* ``first``: the first 700 of each digit in file order (train, then test);
* ``fresh``: a new pool for every split (seed 1000 + i), so pool composition is averaged out.

Prints the mean transductive accuracy (%) per pool, pair and method, and the README floor.  Figures
only; nothing is asserted and nothing here is used to choose a setting.
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import figure
from threadpoolctl import threadpool_limits

from learnsight.models.semisupervised import benchmark as b
from learnsight.models.semisupervised import datasets as ds

POOLS = ("seeded", "first", "fresh")


def pool(x: np.ndarray, y: np.ndarray, first: int, second: int, kind: str, split: int) -> b.Problem:
    """The 700 + 700 digits of ``kind`` for ``split`` as a benchmark problem."""
    if kind == "first":
        index = np.concatenate([np.flatnonzero(y == d)[: b.USPS_PER_CLASS] for d in (first, second)])
        xp, yp = x[index], y[index]
    else:
        seed = b.POOL_SEED if kind == "seeded" else 1000 + split
        xp, yp = ds.pair(x, y, first, second, per_class=b.USPS_PER_CLASS, seed=seed)
    return b.Problem(f"usps-{first}v{second}", f"USPS {first} vs {second}", xp, yp)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", default="1v7,3v8")
    parser.add_argument("--pools", default=",".join(POOLS))
    parser.add_argument("--methods", default="svm,self_training,lapsvm,mk_lapsvm")
    parser.add_argument("--splits", type=int, default=b.DEFAULT_SPLITS)
    parser.add_argument("--whole-pool", action="store_true", help="no held-out part")
    args = parser.parse_args()
    x, y = ds.load_usps(ds.ssl_folder() / ds.USPS_FILE)
    methods = args.methods.split(",")
    for kind in args.pools.split(","):
        if kind not in POOLS:
            parser.error(f"--pools: {kind!r} is not one of {', '.join(POOLS)}")
        for text in args.pairs.split(","):
            first, second = (int(d) for d in text.split("v"))
            scores: dict[str, list[float]] = {m: [] for m in methods}
            for split in range(args.splits):
                problem = pool(x, y, first, second, kind, split)
                chosen = b.make_split(problem, split)
                if args.whole_pool:
                    rng = np.random.default_rng(split)
                    everything = np.arange(len(problem.y), dtype=np.int64)
                    labelled = everything[b._stratified(problem.y, problem.n_labelled, rng)]
                    unlabelled = np.setdiff1d(everything, labelled)
                    chosen = b.Split(split, labelled, unlabelled, np.empty(0, np.int64))
                for m in methods:
                    with threadpool_limits(1):
                        run = b.run_one(problem, chosen, m, split)
                    if run.transductive is None:
                        raise SystemExit(f"{m} failed on {kind} {text} split {split}: {run.error}")
                    scores[m].append(run.transductive)
            floor, source = b.floor(f"usps-{text}")
            for m in methods:
                target = f"floor {100 * floor:.1f} % ({source})" if floor is not None else ""
                figure(f"{kind} pool, {text}, {m}", 100 * float(np.mean(scores[m])), "%", target)


if __name__ == "__main__":
    main()
