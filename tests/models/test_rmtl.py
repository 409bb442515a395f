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
    RMTLClassifierCV,
    RMTLRegressor,
    RMTLRegressorCV,
    group_shrink,
    rmtl_path,
    svt,
)
from learnsight.models.rmtl._data import split_centred
from learnsight.models.rmtl.classifier import class_signs, logistic_lipschitz
from learnsight.models.rmtl.path import _validation_scores, logistic_rho_max, task_kfold
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
    assert clone(RMTLClassifierCV(scoring="accuracy")).scoring == "accuracy"


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


def planted_outlier_classes(
    seed: int = 0, T: int = 6, d: int = 20, n_t: int = 150, outlier: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three classes; per class a rank-1 weight matrix shared by the tasks, except one outlier task."""
    rng = np.random.default_rng(seed)
    K = 3
    W = rng.normal(size=(K, d, 1)) @ rng.normal(1.0, 0.2, size=(K, 1, T))
    W[:, :, outlier] = rng.normal(size=(K, d))
    W *= 2.0 / np.sqrt(d)
    tasks = np.repeat(np.arange(T), n_t)
    X = rng.normal(size=(T * n_t, d))
    y = np.argmax(np.einsum("ij,kji->ik", X, W[:, :, tasks]) + rng.gumbel(size=(T * n_t, K)), axis=1)
    return X, np.array(["at-risk", "normal", "excellent"])[y], tasks


def test_classifier_cv_beats_or_matches_tiny_rho_on_held_out_rows() -> None:
    X, y, tasks = planted_outlier_classes(0)
    train = np.arange(y.shape[0]) % 3 == 0  # 50 training rows per task, 20 features: sharing pays
    model = RMTLClassifierCV(n_rhos=4, random_state=0).fit(X[train], y[train], tasks[train])
    tiny = RMTLClassifier(rho1=1e-4, rho2=1e-4, tol=1e-5).fit(X[train], y[train], tasks[train])
    cv_accuracy = model.score(X[~train], y[~train], tasks[~train])
    tiny_accuracy = tiny.score(X[~train], y[~train], tasks[~train])
    assert cv_accuracy >= tiny_accuracy - 0.02
    # the corner that zeroes every weight predicts from the intercepts only: never the choice here
    mean = np.nanmean(model.cv_scores_, axis=0)
    assert mean[0, 0] > mean.min()
    assert (model.rho1_, model.rho2_) != (model.rho1s_[0], model.rho2s_[0])


def test_classifier_cv_grid_attributes_and_refit() -> None:
    X, y, tasks = planted_classes(3)
    X, y, tasks = X[::4], y[::4], tasks[::4]
    model = RMTLClassifierCV(n_rhos=3, cv=2, scoring="accuracy", random_state=1).fit(X, y, tasks)
    assert model.cv_scores_.shape == (2, 3, 3)
    assert model.rho1s_.shape == (3,) and model.rho2s_.shape == (3,)
    assert np.all(np.diff(model.rho1s_) < 0) and np.all(np.diff(model.rho2s_) < 0)
    assert model.rho1_ in model.rho1s_ and model.rho2_ in model.rho2s_
    assert np.all((model.cv_scores_ >= 0.0) & (model.cv_scores_ <= 1.0))
    # the default grid starts where the weights just vanish (for the logistic loss at W = 0)
    Xs, _, _, _ = split_centred(X, np.zeros(X.shape[0]), tasks, 6, centre_y=False)
    r1, r2 = logistic_rho_max(Xs, class_signs(y, tasks, 6, np.unique(y)))
    assert (model.rho1s_[0], model.rho1s_[-1]) == pytest.approx((r1, r1 * 1e-2))
    assert (model.rho2s_[0], model.rho2s_[-1]) == pytest.approx((r2, r2 * 1e-2))
    # the refit is exactly the plain classifier at the chosen pair
    plain = RMTLClassifier(rho1=model.rho1_, rho2=model.rho2_, tol=model.tol, max_iter=model.max_iter)
    plain.fit(X, y, tasks)
    np.testing.assert_array_equal(model.W_, plain.W_)
    np.testing.assert_array_equal(model.predict_proba(X, tasks), plain.predict_proba(X, tasks))
    assert model.decision_function(X[:3], tasks[:3]).shape == (3, 3)
    # user grids are used as given, largest first
    fixed = RMTLClassifierCV(rho1s=[0.001, 0.1], rho2s=[0.05], cv=2, random_state=1).fit(X, y, tasks)
    assert fixed.rho1s_.tolist() == [0.1, 0.001] and fixed.cv_scores_.shape == (2, 2, 1)


def test_logistic_rho_max_is_where_the_weights_vanish() -> None:
    X, y, tasks = planted_classes(4)
    Xs, _, _, _ = split_centred(X, np.zeros(X.shape[0]), tasks, 6, centre_y=False)
    r1, r2 = logistic_rho_max(Xs, class_signs(y, tasks, 6, np.unique(y)))
    above = RMTLClassifier(rho1=1.001 * r1, rho2=1.001 * r2, tol=1e-9).fit(X, y, tasks)
    assert np.all(above.W_ == 0.0)
    below = RMTLClassifier(rho1=0.7 * r1, rho2=10.0 * r2, tol=1e-9).fit(X, y, tasks)
    assert np.any(below.P_ != 0.0) and np.all(below.Q_ == 0.0)


def test_logistic_lipschitz_bounds_the_curvature() -> None:
    rng = np.random.default_rng(8)
    Xs = [rng.normal(size=(n, 4)) for n in (30, 50)]
    Xs = [X - X.mean(axis=0) for X in Xs]
    signs = [np.sign(rng.normal(size=X.shape[0])) for X in Xs]
    loss, L = LogisticLoss(Xs, signs), logistic_lipschitz(Xs)
    for _ in range(50):
        W, b = rng.normal(size=(4, 2)), rng.normal(size=2)
        dP, dQ, db = 1e-3 * rng.normal(size=(4, 2)), 1e-3 * rng.normal(size=(4, 2)), 1e-3 * rng.normal(size=2)
        f, gW, gb = loss.value_grad(W, b)
        step = np.sum(dP**2) + np.sum(dQ**2) + db @ db
        model = f + np.sum(gW * (dP + dQ)) + gb @ db + 0.5 * L * step
        assert loss.value(W + dP + dQ, b + db) <= model + 1e-12


def test_classifier_cv_tolerates_small_and_single_class_tasks() -> None:
    X, y, tasks = planted_classes(5)
    X, y, tasks = X[::5], y[::5].copy(), tasks[::5]  # 40 rows per task
    y[tasks == 2] = "normal"  # one task of a single class: every training split of it lacks two classes
    keep = (tasks != 3) | (np.cumsum(tasks == 3) <= 2)  # a task with 2 rows (fewer than the folds)
    keep &= (tasks != 4) | (np.cumsum(tasks == 4) <= 1)  # and one with a single row
    X, y, tasks = X[keep], y[keep], tasks[keep]
    model = RMTLClassifierCV(n_rhos=2, cv=3, random_state=0).fit(X, y, tasks)
    assert np.all(np.isfinite(model.cv_scores_))
    proba = model.predict_proba(X, tasks)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(model.predict(X[tasks == 2], tasks[tasks == 2]) == "normal")
    # two classes: the binary convention, and a task whose training rows are all of one class
    binary = np.where(y == "excellent", "excellent", "other")
    RMTLClassifierCV(n_rhos=2, cv=4, scoring="macro_f1", random_state=0).fit(X, binary, tasks)


def test_task_kfold_stratifies_within_tasks_and_keeps_small_tasks_in_training() -> None:
    codes = np.repeat(np.arange(3), [30, 2, 1])
    strata = np.concatenate([np.repeat([0, 1, 2], [15, 9, 6]), [0, 1], [2]])
    fold = task_kfold(codes, 3, 3, seed=0, strata=strata)
    for c in range(3):
        counts = np.bincount(fold[(codes == 0) & (strata == c)], minlength=3)
        assert counts.max() - counts.min() <= 1
    assert len(set(fold[codes == 1].tolist())) == 2  # held out in two different folds, one row each
    assert fold[codes == 2].tolist() == [-1]
    with pytest.raises(ValueError, match="fewer than cv"):
        task_kfold(codes, 3, 3, seed=0)


def test_classifier_cv_is_deterministic_given_random_state() -> None:
    X, y, tasks = planted_classes(6)
    X, y, tasks = X[::6], y[::6], tasks[::6]
    a = RMTLClassifierCV(n_rhos=2, cv=2, random_state=3).fit(X, y, tasks)
    b = RMTLClassifierCV(n_rhos=2, cv=2, random_state=3).fit(X, y, tasks)
    np.testing.assert_array_equal(a.cv_scores_, b.cv_scores_)
    assert (a.rho1_, a.rho2_) == (b.rho1_, b.rho2_)
    np.testing.assert_array_equal(a.W_, b.W_)
    codes = np.repeat(np.arange(6), 20)
    assert not np.array_equal(task_kfold(codes, 6, 3, 3), task_kfold(codes, 6, 3, 4))


def test_classifier_cv_clone_and_parameter_checks() -> None:
    model = RMTLClassifierCV(
        rho1s=[0.1, 0.01],
        rho2s=None,
        n_rhos=3,
        eps=0.1,
        cv=4,
        scoring="macro_f1",
        tol=1e-4,
        max_iter=50,
        random_state=7,
    )
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert RMTLClassifierCV().set_params(**model.get_params()).get_params() == model.get_params()
    assert set(RMTLClassifierCV().get_params()) == {
        "rho1s", "rho2s", "n_rhos", "eps", "cv", "scoring", "tol", "max_iter", "random_state"
    }  # fmt: skip
    X, y, tasks = planted_classes(7)
    with pytest.raises(ValueError, match="scoring"):
        RMTLClassifierCV(scoring="auc").fit(X, y, tasks)
    with pytest.raises(ValueError, match="cv"):
        RMTLClassifierCV(cv=1).fit(X, y, tasks)


@pytest.mark.parametrize("scoring", ["log_loss", "accuracy", "macro_f1"])
def test_validation_scores_match_scikit_learn_metrics(scoring: str) -> None:
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    rng = np.random.default_rng(9)
    for n_classes in (2, 3):
        K = 1 if n_classes == 2 else n_classes
        z = rng.normal(size=(2, 40, K))
        y = rng.integers(0, n_classes, size=40)
        w = rng.uniform(0.5, 2.0, size=40)
        w /= w.sum()
        ours = _validation_scores(z, y, w, n_classes, scoring)
        for g in range(2):
            logits = np.column_stack([-z[g, :, 0], z[g, :, 0]]) if K == 1 else z[g]
            p = 1.0 / (1.0 + np.exp(-logits))
            p /= p.sum(axis=1, keepdims=True)
            pred = np.argmax(logits, axis=1)
            if scoring == "log_loss":
                expected = log_loss(y, p, sample_weight=w, labels=np.arange(n_classes))
            elif scoring == "accuracy":
                expected = accuracy_score(y, pred, sample_weight=w)
            else:
                expected = f1_score(y, pred, average="macro", sample_weight=w)
            assert ours[g] == pytest.approx(expected, rel=1e-10)


@parametrize_with_checks(
    [RMTLRegressor(), RMTLClassifier(), RMTLRegressorCV(cv=2, n_rhos=3), RMTLClassifierCV(cv=2, n_rhos=2)]
)
def test_scikit_learn_estimator_contract(estimator, check) -> None:  # type: ignore[no-untyped-def]
    """scikit-learn's own contract checks, on the single-task path (``tasks=None``)."""
    check(estimator)
