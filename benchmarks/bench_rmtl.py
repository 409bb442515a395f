"""Benchmark robust multi-task learning: FISTA against cvxpy, and fits at OULAD-like scale.

Usage::

    python benchmarks/bench_rmtl.py                      # 10 tasks x 500 rows x 50 features vs cvxpy,
                                                         # then 22 tasks x 30,000 rows x 100 features:
                                                         # RMTLRegressor, RMTLClassifier, RMTLClassifierCV
    python benchmarks/bench_rmtl.py --large-rows-per-task  # the large fits with 30,000 rows per task
    python benchmarks/bench_rmtl.py --skip-cv            # without the (slow) cross-validated classifier

Prints figures only (wall times, both objectives, their relative gap and the speed ratio); it
asserts nothing. cvxpy (a test-only dependency) runs with its default solver. The classifier's
labels are three classes cut from the regression target of the planted weights (terciles); its
weights are a fraction (``--clf-rho-frac``) of the smallest that zero the model, the top of the
cross-validation grid. The machine's load average is printed first: timings on a shared machine
move with it. BLAS runs on ``--blas-threads`` threads (default 1, like cvxpy's default solver):
on a loaded two-core machine OpenBLAS's worker threads spin against the other processes and a
multi-threaded run can be ten times slower; pass ``--blas-threads 0`` to leave BLAS as it is.
"""

# Upper-case names (X, P, Q) follow the paper's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _common import figure
from threadpoolctl import threadpool_limits

from learnsight.models.rmtl import RMTLClassifier, RMTLClassifierCV, RMTLRegressor
from learnsight.models.rmtl._data import split_centred
from learnsight.models.rmtl.classifier import class_signs
from learnsight.models.rmtl.path import logistic_rho_max


def synthetic(
    n_tasks: int, n_rows: int, n_features: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank-3 shared weights, two outlier tasks, a per-task intercept and noise; ``n_rows`` per task."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_features, 3)) @ rng.normal(size=(3, n_tasks))
    W[:, :2] = 2.0 * rng.normal(size=(n_features, 2))
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.normal(size=(n_tasks * n_rows, n_features))
    y = np.einsum("ij,ji->i", X, W[:, tasks]) + rng.normal(size=n_tasks)[tasks]
    y += rng.normal(size=y.shape[0])
    return X, y, tasks


def objective(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, P, Q, b, rho1: float, rho2: float) -> float:
    """The RMTL objective written out directly, so both solutions are scored by the same code."""
    T = int(tasks.max()) + 1
    total = 0.0
    for t in range(T):
        rows = tasks == t
        r = X[rows] @ (P[:, t] + Q[:, t]) + b[t] - y[rows]
        total += r @ r / (T * rows.sum())
    nuclear = np.linalg.svd(P, compute_uv=False).sum()
    return float(total + rho1 * nuclear + rho2 * np.linalg.norm(Q, axis=0).sum())


def solve_cvxpy(
    X: np.ndarray, y: np.ndarray, tasks: np.ndarray, rho1: float, rho2: float
) -> tuple[float, str]:
    import cvxpy as cp

    T, d = int(tasks.max()) + 1, X.shape[1]
    P, Q, b = cp.Variable((d, T)), cp.Variable((d, T)), cp.Variable(T)
    loss = 0
    for t in range(T):
        rows = tasks == t
        loss += cp.sum_squares(X[rows] @ (P[:, t] + Q[:, t]) + b[t] - y[rows]) / (T * rows.sum())
    problem = cp.Problem(cp.Minimize(loss + rho1 * cp.normNuc(P) + rho2 * cp.sum(cp.norm(Q, 2, axis=0))))
    problem.solve()
    solver = problem.solver_stats.solver_name
    return objective(X, y, tasks, P.value, Q.value, b.value, rho1, rho2), solver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rho1", type=float, default=0.1)
    parser.add_argument("--rho2", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--large-rows-per-task", action="store_true")
    parser.add_argument("--skip-cvxpy", action="store_true")
    parser.add_argument("--skip-cv", action="store_true", help="skip RMTLClassifierCV at the large scale")
    parser.add_argument("--clf-rho-frac", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5, help="FISTA timings; the best is printed")
    parser.add_argument("--blas-threads", type=int, default=1, help="0: leave BLAS's own setting")
    args = parser.parse_args()
    figure("load average (1 min) on this machine", os.getloadavg()[0], f"on {os.cpu_count()} CPUs")
    if args.blas_threads > 0:
        threadpool_limits(args.blas_threads, user_api="blas")
    print(f"{'BLAS threads':<44} {args.blas_threads or 'library default'}")

    X, y, tasks = synthetic(10, 500, 50, args.seed)
    print("10 tasks x 500 rows x 50 features")
    model = RMTLRegressor(rho1=args.rho1, rho2=args.rho2, tol=1e-10, max_iter=20000)
    model.fit(X, y, tasks)  # first call pays imports and BLAS warm-up
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        model.fit(X, y, tasks)
        times.append(time.perf_counter() - started)
    fista_s = min(times)  # best of N: the machine is shared, the minimum is the least disturbed run
    ours = objective(X, y, tasks, model.P_, model.Q_, model.intercept_, args.rho1, args.rho2)
    figure(f"RMTL FISTA wall time (best of {args.repeats})", fista_s * 1000, "ms")
    figure("RMTL FISTA iterations", model.n_iter_, "")
    print(f"{'RMTL FISTA objective':<44} {ours:.10f}")
    if not args.skip_cvxpy:
        started = time.perf_counter()
        reference, solver = solve_cvxpy(X, y, tasks, args.rho1, args.rho2)
        cvxpy_s = time.perf_counter() - started
        figure(f"cvxpy ({solver}) wall time", cvxpy_s * 1000, "ms")
        print(f"{'cvxpy objective':<44} {reference:.10f}")
        print(f"{'relative objective gap (ours - cvxpy)':<44} {(ours - reference) / abs(reference):.2e}")
        figure("speed ratio cvxpy / FISTA", cvxpy_s / fista_s, "x", ">= 20x")

    X, y, tasks = synthetic(2, 400, 40, args.seed + 2)
    labels = np.searchsorted(np.quantile(y, [1 / 3, 2 / 3]), y)
    started = time.perf_counter()
    small = RMTLClassifierCV(random_state=args.seed).fit(X, labels, tasks)
    print("2 tasks x 400 rows x 40 features, 3 classes")
    figure("RMTLClassifierCV wall time (default grid)", time.perf_counter() - started, "s", "well under 10 s")
    print(f"{'RMTLClassifierCV choice':<44} rho1 = {small.rho1_:.3g}, rho2 = {small.rho2_:.3g}")

    n_rows = 30_000 if args.large_rows_per_task else 30_000 // 22 + 1
    X, y, tasks = synthetic(22, n_rows, 100, args.seed + 1)
    print(f"22 tasks x {n_rows:,} rows per task ({X.shape[0]:,} rows) x 100 features")
    started = time.perf_counter()
    model = RMTLRegressor(rho1=args.rho1, rho2=args.rho2, tol=1e-8).fit(X, y, tasks)
    figure("RMTLRegressor wall time", time.perf_counter() - started, "s", "<= 10 s")
    figure("RMTLRegressor FISTA iterations", model.n_iter_, "")
    figure("rank of P_", int(np.linalg.matrix_rank(model.P_)), "")
    figure("outlier tasks", len(model.outlier_tasks_), "")

    labels = np.searchsorted(np.quantile(y, [1 / 3, 2 / 3]), y)  # 3 classes from the planted target
    Xs, _, _, _ = split_centred(X, np.zeros(X.shape[0]), tasks, 22, centre_y=False)
    r1, r2 = logistic_rho_max(Xs, class_signs(labels, tasks, 22, np.arange(3)))
    rho1, rho2 = args.clf_rho_frac * r1, args.clf_rho_frac * r2
    print(f"RMTLClassifier, 3 classes, rho1 = {rho1:.3g}, rho2 = {rho2:.3g} ({args.clf_rho_frac} x rho_max)")
    started = time.perf_counter()
    clf = RMTLClassifier(rho1=rho1, rho2=rho2).fit(X, labels, tasks)
    figure("RMTLClassifier wall time", time.perf_counter() - started, "s", "<= 10 s")
    figure("RMTLClassifier FISTA iterations (all classes)", int(clf.n_iter_.sum()), "")
    figure("RMTLClassifier training accuracy", 100 * clf.score(X, labels, tasks), "%")
    if not args.skip_cv:
        cv = RMTLClassifierCV(random_state=args.seed)
        n1, n2 = cv.n_rhos, cv.n_rhos
        print(f"RMTLClassifierCV, default grid: {n1} x {n2} (rho1, rho2), cv={cv.cv}, scoring={cv.scoring}")
        started = time.perf_counter()
        cv.fit(X, labels, tasks)
        figure("RMTLClassifierCV wall time (path + refit)", time.perf_counter() - started, "s")
        print(f"{'RMTLClassifierCV choice':<44} rho1 = {cv.rho1_:.3g}, rho2 = {cv.rho2_:.3g}")
        figure(
            "RMTLClassifierCV best mean CV log-loss", float(np.nanmin(np.nanmean(cv.cv_scores_, axis=0))), ""
        )
        figure("RMTLClassifierCV training accuracy", 100 * cv.score(X, labels, tasks), "%")


if __name__ == "__main__":
    main()
