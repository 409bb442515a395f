"""Robust multi-task learning: solver against cvxpy, proximal operators, recovery, estimator contract."""

# Upper-case names (X, W, P, Q) follow the paper's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from learnsight.models.rmtl import (
    RMTLClassifier,
    RMTLRegressor,
    RMTLRegressorCV,
    group_shrink,
    rmtl_path,
    svt,
)
from learnsight.models.rmtl.solver import LogisticLoss, fista


def make_problem(
    seed: int, T: int = 4, d: int = 8, n_t: int = 30
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, 2)) @ rng.normal(size=(2, T))
    tasks = np.repeat(np.arange(T), n_t)
    X = rng.normal(size=(T * n_t, d))
    y = (
        np.einsum("ij,ji->i", X, W[:, tasks])
        + rng.normal(size=T)[tasks]
        + rng.normal(scale=0.5, size=T * n_t)
    )
    return X, y, tasks


def objective(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, P, Q, b, rho1: float, rho2: float) -> float:
    """The RMTL objective written out directly (with a free intercept per task)."""
    labels = np.unique(tasks)
    T = labels.shape[0]
    total = 0.0
    for t, label in enumerate(labels):
        rows = tasks == label
        r = X[rows] @ (P[:, t] + Q[:, t]) + b[t] - y[rows]
        total += r @ r / (T * rows.sum())
    nuclear = np.linalg.svd(P, compute_uv=False).sum()
    return float(total + rho1 * nuclear + rho2 * np.linalg.norm(Q, axis=0).sum())


def cvxpy_solution(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, rho1: float, rho2: float) -> float:
    """Independent solution: the same problem stated in cvxpy, intercepts as free variables."""
    labels = np.unique(tasks)
    T, d = labels.shape[0], X.shape[1]
    P, Q, b = cp.Variable((d, T)), cp.Variable((d, T)), cp.Variable(T)
    loss = 0
    for t, label in enumerate(labels):
        rows = tasks == label
        loss += cp.sum_squares(X[rows] @ (P[:, t] + Q[:, t]) + b[t] - y[rows]) / (T * rows.sum())
    problem = cp.Problem(cp.Minimize(loss + rho1 * cp.normNuc(P) + rho2 * cp.sum(cp.norm(Q, 2, axis=0))))
    problem.solve()
    return objective(X, y, tasks, P.value, Q.value, b.value, rho1, rho2)


@pytest.mark.parametrize(("seed", "rho1", "rho2"), [(0, 0.1, 0.1), (1, 0.5, 0.05), (2, 0.02, 0.3)])
def test_objective_matches_cvxpy(seed: int, rho1: float, rho2: float) -> None:
    X, y, tasks = make_problem(seed)
    model = RMTLRegressor(rho1=rho1, rho2=rho2, tol=1e-12, max_iter=20000).fit(X, y, tasks)
    ours = objective(X, y, tasks, model.P_, model.Q_, model.intercept_, rho1, rho2)
    reference = cvxpy_solution(X, y, tasks, rho1, rho2)
    assert abs(ours - reference) <= 1e-5 * abs(reference)
    # the solver's own bookkeeping agrees with the objective written out from scratch
    assert model.objective_[-1] == pytest.approx(ours, rel=1e-9)


def test_svt_on_diagonal_matrix_shrinks_each_singular_value() -> None:
    P, nuclear = svt(np.diag([5.0, 2.0, 0.5]), 1.0)
    np.testing.assert_allclose(P, np.diag([4.0, 1.0, 0.0]), atol=1e-12)
    assert nuclear == pytest.approx(5.0)


def test_svt_is_the_minimiser_of_its_problem() -> None:
    rng = np.random.default_rng(3)
    M, tau = rng.normal(size=(6, 4)), 0.8
    P, _ = svt(M, tau)

    def value(Z: np.ndarray) -> float:
        return 0.5 * np.sum((Z - M) ** 2) + tau * np.linalg.svd(Z, compute_uv=False).sum()

    best = value(P)
    for _ in range(200):
        assert value(P + 1e-3 * rng.normal(size=P.shape)) >= best - 1e-12


def test_group_shrink_below_and_above_threshold() -> None:
    M = np.array([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
    Q, norms = group_shrink(M, 1.0)
    np.testing.assert_allclose(Q[:, 0], M[:, 0] * (1 - 1.0 / 5.0))
    np.testing.assert_array_equal(Q[:, 1], 0.0)
    np.testing.assert_allclose(norms, [4.0, 0.0])


def planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    T, d, n_t, outlier = 8, 20, 150, 5
    W = rng.normal(size=(d, 2)) @ rng.normal(size=(2, T))
    W[:, outlier] = 3.0 * rng.normal(size=d)
    tasks = np.repeat(np.arange(T), n_t)
    X = rng.normal(size=(T * n_t, d))
    y = np.einsum("ij,ji->i", X, W[:, tasks]) + rng.normal(scale=0.1, size=T * n_t)
    return X, y, tasks, outlier


def test_recovers_planted_low_rank_and_outlier_task() -> None:
    X, y, tasks, outlier = planted()
    # rho2 a little below rho1: moving a whole column into Q must be cheaper than a new direction in P
    model = RMTLRegressor(rho1=0.3, rho2=0.25).fit(X, y, tasks)
    s = np.linalg.svd(model.P_, compute_uv=False)
    assert np.sum(s > 1e-6 * s[0]) == 2
    q_norms = np.linalg.norm(model.Q_, axis=0)
    assert int(np.argmax(q_norms)) == outlier
    assert model.outlier_tasks_.tolist() == [outlier]
    assert model.score(X, y, tasks) > 0.95


def test_clone_and_get_params_round_trip() -> None:
    model = RMTLRegressor(rho1=0.2, rho2=0.3, tol=1e-6, max_iter=10, warm_start=True)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert RMTLRegressor().set_params(**model.get_params()).get_params() == model.get_params()
    assert clone(RMTLClassifier(rho1=0.5)).rho1 == 0.5
    assert clone(RMTLRegressorCV(cv=3)).cv == 3


def test_string_tasks_and_prediction_by_task() -> None:
    X, y, tasks = make_problem(4)
    names = np.array(["c1", "c2", "c3", "c4"])[tasks]
    model = RMTLRegressor(rho1=0.05, rho2=0.05).fit(X, y, names)
    np.testing.assert_allclose(model.predict(X[:5], names[:5]), model.predict(X[:5], np.full(5, "c1")))
    with pytest.raises(ValueError, match="not seen"):
        model.predict(X[:2], ["c1", "zz"])
    with pytest.raises(ValueError, match="tasks="):
        model.predict(X[:2])


def test_objective_is_monotone_and_converges() -> None:
    X, y, tasks = make_problem(5)
    model = RMTLRegressor(rho1=0.05, rho2=0.05, tol=1e-10).fit(X, y, tasks)
    history = model.objective_
    assert np.all(np.diff(history) <= 1e-12 * np.abs(history[:-1]))
    assert model.n_iter_ < model.max_iter


def test_warm_start_reduces_iterations() -> None:
    X, y, tasks = make_problem(6)
    grid1, grid2 = np.geomspace(1.0, 0.01, 4), np.geomspace(1.0, 0.01, 4)
    warm = rmtl_path(X, y, tasks, grid1, grid2, tol=1e-9)
    cold = rmtl_path(X, y, tasks, grid1, grid2, tol=1e-9, warm_start=False)
    assert warm.n_iter.sum() < cold.n_iter.sum()
    np.testing.assert_allclose(warm.objective, cold.objective, rtol=1e-5)

    model = RMTLRegressor(rho1=0.1, rho2=0.1, tol=1e-9).fit(X, y, tasks)
    cold_iter = RMTLRegressor(rho1=0.09, rho2=0.1, tol=1e-9).fit(X, y, tasks).n_iter_
    model.set_params(rho1=0.09, warm_start=True).fit(X, y, tasks)
    assert model.n_iter_ < cold_iter


def test_cv_selects_a_grid_point_and_refits() -> None:
    X, y, tasks, _ = planted(1)
    model = RMTLRegressorCV(n_rhos=4, cv=3, random_state=0).fit(X, y, tasks)
    assert model.mse_path_.shape == (3, 4, 4)
    assert model.rho1_ in model.rho1s_ and model.rho2_ in model.rho2s_
    # the largest weights zero the model: they cannot be the best choice on this signal
    assert model.mse_path_.mean(axis=0)[0, 0] > model.mse_path_.mean(axis=0).min()
    assert model.score(X, y, tasks) > 0.9


def planted_classes(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    T, d, n_t = 6, 10, 200
    W = rng.normal(size=(d, 1)) @ rng.normal(1.0, 0.3, size=(1, T))
    tasks = np.repeat(np.arange(T), n_t)
    X = rng.normal(size=(T * n_t, d))
    score = np.einsum("ij,ji->i", X, W[:, tasks]) + rng.normal(scale=0.5, size=T * n_t)
    cuts = np.quantile(score, [0.25, 0.75])
    labels = np.array(["at-risk", "normal", "excellent"])[np.searchsorted(cuts, score)]
    return X, labels, tasks


def test_classifier_probabilities_and_accuracy() -> None:
    X, y, tasks = planted_classes()
    train = np.arange(y.shape[0]) % 3 != 0
    model = RMTLClassifier(rho1=0.01, rho2=0.01).fit(X[train], y[train], tasks[train])
    proba = model.predict_proba(X[~train], tasks[~train])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.shape == (int((~train).sum()), 3)
    majority = np.max(np.unique(y[~train], return_counts=True)[1]) / (~train).sum()
    accuracy = model.score(X[~train], y[~train], tasks[~train])
    assert accuracy > majority + 0.2
    assert set(model.classes_) == {"at-risk", "normal", "excellent"}
    assert all(np.all(np.diff(h) <= 1e-12 * np.abs(h[:-1])) for h in model.objective_)


def test_classifier_warm_start_reduces_iterations() -> None:
    X, y, tasks = planted_classes(2)
    cold = RMTLClassifier(rho1=0.009, rho2=0.01).fit(X, y, tasks).n_iter_.sum()
    model = RMTLClassifier(rho1=0.01, rho2=0.01, warm_start=True).fit(X, y, tasks)
    assert model.set_params(rho1=0.009).fit(X, y, tasks).n_iter_.sum() < cold


def test_logistic_objective_matches_cvxpy() -> None:
    """The classifier's smooth loss through the same FISTA, against cvxpy (binary, free intercepts)."""
    rng = np.random.default_rng(7)
    T, d, n_t, rho1, rho2 = 3, 5, 40, 0.02, 0.03
    Xs = [rng.normal(size=(n_t, d)) for _ in range(T)]
    w = rng.normal(size=d)
    signs = [np.where(X @ w + rng.normal(size=n_t) > 0, 1.0, -1.0) for X in Xs]
    zeros = np.zeros((d, T))
    ours = fista(LogisticLoss(Xs, signs), rho1, rho2, zeros, zeros, np.zeros(T), tol=1e-12, max_iter=20000)

    P, Q, b = cp.Variable((d, T)), cp.Variable((d, T)), cp.Variable(T)
    loss = sum(
        cp.sum(cp.logistic(-cp.multiply(s, X @ (P[:, t] + Q[:, t]) + b[t]))) / (T * n_t)
        for t, (X, s) in enumerate(zip(Xs, signs, strict=True))
    )
    problem = cp.Problem(cp.Minimize(loss + rho1 * cp.normNuc(P) + rho2 * cp.sum(cp.norm(Q, 2, axis=0))))
    problem.solve()
    assert abs(ours.objective[-1] - problem.value) <= 1e-5 * abs(problem.value)


def test_classifier_two_classes_follows_binary_convention() -> None:
    X, y, tasks = planted_classes(1)
    binary = np.where(y == "excellent", "excellent", "other")
    model = RMTLClassifier().fit(X, binary, tasks)
    assert model.decision_function(X[:4], tasks[:4]).shape == (4,)
    proba = model.predict_proba(X, tasks)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(model.predict(X, tasks) == binary) > 0.85


@parametrize_with_checks([RMTLRegressor(), RMTLClassifier(), RMTLRegressorCV(cv=2, n_rhos=3)])
def test_scikit_learn_estimator_contract(estimator, check) -> None:  # type: ignore[no-untyped-def]
    """scikit-learn's own contract checks, on the single-task path (``tasks=None``)."""
    check(estimator)
