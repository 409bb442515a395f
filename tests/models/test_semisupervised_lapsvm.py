"""LapSVM and MultiKernelLapSVM: the scikit-learn contract, the maths against independent references
(the dense deformed-kernel formula, cvxpy for the MKL saddle point), accuracy, and bad input."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_iris, make_moons
from sklearn.utils.estimator_checks import parametrize_with_checks

from learnsight.models.semisupervised import (
    DEFAULT_KERNELS,
    BaseKernel,
    Graph,
    LapSVM,
    MultiKernelLapSVM,
    default_graphs,
)
from learnsight.models.semisupervised.deformation import deform
from learnsight.models.semisupervised.features import feature_map
from learnsight.models.semisupervised.graph import laplacian
from learnsight.models.semisupervised.kernels import DeformedKernel, median_distance
from learnsight.models.semisupervised.mkl import closed_form_l2, level_method

SMALL_MK = MultiKernelLapSVM(
    kernels=(BaseKernel("gaussian", width=1.0), BaseKernel("polynomial", degree=1)), graphs=(Graph(k=5),)
)
# "-1" marks an unlabelled sample (the sklearn.semi_supervised convention), so a class literally
# named -1 cannot be learned: the one check that uses it as a class label is exempt.
EXPECTED_FAILURES = {
    "check_classifiers_classes": "-1 means unlabelled (sklearn.semi_supervised convention), not a class"
}


@parametrize_with_checks([LapSVM(), SMALL_MK], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_estimator_contract(estimator: Any, check: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


def moons(
    n: int = 400, labels_per_class: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = make_moons(n, noise=0.08, random_state=seed)
    partial = np.full(n, -1)
    for c in (0, 1):
        chosen = np.flatnonzero(y == c)[:labels_per_class]
        partial[chosen] = c
    return x, y, partial


def test_lapsvm_learns_two_moons_from_four_labels_dual_and_primal_agree() -> None:
    x, y, partial = moons()
    settings: dict[str, Any] = {"width": 0.3, "gamma_I": 100.0, "normalised": False, "n_neighbors": 10}
    dual = LapSVM(**settings).fit(x, partial)
    primal = LapSVM(solver="primal", **settings).fit(x, partial)
    plain = LapSVM(gamma_I=0.0, width=0.3).fit(x, partial)
    assert (dual.transduction_ == y).mean() > 0.95
    assert (primal.transduction_ == y).mean() > 0.95
    assert (dual.transduction_ == y).mean() > (plain.transduction_ == y).mean() + 0.05
    assert (dual.transduction_ == primal.transduction_).mean() > 0.97
    # inductive: new points from the same distribution
    x_new, y_new = make_moons(200, noise=0.08, random_state=1)
    assert (dual.predict(x_new) == y_new).mean() > 0.93
    assert np.array_equal(dual.predict(x), dual.transduction_)


def test_deformed_columns_equal_the_dense_formula() -> None:
    """The feature-space deformation (Woodbury) equals K − K(I + MK)⁻¹MK of :class:`DeformedKernel`."""
    x = np.random.default_rng(3).normal(size=(60, 3))
    x_new = np.random.default_rng(4).normal(size=(7, 3))
    kernel = BaseKernel("gaussian", width=1.0)
    median = median_distance(x)
    lap = laplacian(x, Graph(k=6)).matrix
    labelled = np.array([0, 5, 9, 30, 44])
    fmap = feature_map(kernel, x, median)
    d = deform(fmap.train, lap, labelled, gamma=5.0)
    k = kernel.gram(x, x, median)
    reference = DeformedKernel(k, 5.0 * lap.toarray())
    expected_train = reference.train()[:, labelled]
    expected_new = reference.cross(
        kernel.gram(x_new, x, median), k[labelled], kernel.gram(x_new, x[labelled], median)
    )
    assert np.allclose(fmap.train @ d.columns / d.scale, expected_train, atol=1e-7)
    assert np.allclose(fmap(x_new) @ d.columns / d.scale, expected_new, atol=1e-7)
    # deformed features reproduce the same kernel
    psi = d.features(fmap.train)
    assert np.allclose(psi @ psi[labelled].T, fmap.train @ d.columns, atol=1e-7)


def test_low_rank_path_is_close_to_the_exact_one() -> None:
    x, y, partial = moons(n=1200, labels_per_class=3)
    settings: dict[str, Any] = {"width": 0.3, "gamma_I": 100.0, "normalised": False, "n_neighbors": 10}
    exact = LapSVM(rank=None, **settings).fit(x, partial)
    low = LapSVM(rank=150, random_state=0, **settings).fit(x, partial)
    assert (low.transduction_ == y).mean() > 0.95
    assert (low.transduction_ == exact.transduction_).mean() > 0.97


def test_multikernel_weights_are_named_and_on_the_simplex_or_ball() -> None:
    x, y, partial = moons(labels_per_class=3)
    for norm in ("l1", "l2"):
        model = MultiKernelLapSVM(norm=norm, gamma_I=10.0, random_state=0).fit(x, partial)
        weights = np.array(list(model.kernel_weights_.values()))
        assert len(weights) == len(DEFAULT_KERNELS) * 6
        assert all("|knn(" in name for name in model.kernel_weights_)
        assert (weights >= 0).all()
        if norm == "l1":
            assert weights.sum() == pytest.approx(1.0, abs=1e-6)
        else:
            assert np.linalg.norm(weights) <= 1.0 + 1e-6
        assert model.mkl_trace_.converged
        assert (model.transduction_ == y).mean() > 0.9


def _cvxpy_mkl_value(grams: list[np.ndarray], y: np.ndarray, c: float) -> float:
    """The L1-MKL optimum as the QCQP of Lanckriet et al. (2004): max Σα − t s.t. ½βᵀK_mβ ≤ t."""
    cp = pytest.importorskip("cvxpy")
    alpha = cp.Variable(len(y))
    t = cp.Variable()
    beta = cp.multiply(y, alpha)
    constraints = [alpha >= 0, alpha <= c, y @ alpha == 0]
    for g in grams:
        factor = np.linalg.cholesky(g + 1e-9 * np.eye(len(g)))
        constraints.append(0.5 * cp.sum_squares(factor.T @ beta) <= t)
    problem = cp.Problem(cp.Maximize(cp.sum(alpha) - t), constraints)
    problem.solve(solver="CLARABEL")
    return float(problem.value)


def test_level_method_reaches_the_mkl_optimum_certified_by_cvxpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    y = np.where(x[:, 0] + 0.5 * x[:, 1] ** 2 + 0.3 * rng.normal(size=40) > 0.5, 1, -1)
    grams = [BaseKernel("gaussian", width=w).gram(x, x, median_distance(x)) for w in (0.25, 1.0, 4.0)]
    grams.append(BaseKernel("polynomial", degree=1).gram(x, x, 1.0))
    from learnsight.models.semisupervised.solvers import solve_dual

    def oracle(mu: np.ndarray) -> tuple[float, np.ndarray]:
        s = solve_dual(sum(w * g for w, g in zip(mu, grams, strict=True)), y, 1.0)
        return float(s.alpha.sum()), np.array([s.beta @ g @ s.beta for g in grams])

    trace = level_method(oracle, len(grams), norm="l1", tol=1e-4, max_iter=100)
    expected = _cvxpy_mkl_value(grams, y, 1.0)
    assert trace.converged
    assert min(trace.upper) == pytest.approx(expected, rel=1e-3)
    assert trace.lower[-1] <= expected + 1e-6
    # the analytic L2 update converges to a point on the sphere with an objective no better than L1's
    l2 = closed_form_l2(oracle, len(grams), tol=1e-6, max_iter=200)
    assert l2.converged and np.linalg.norm(l2.weights) == pytest.approx(1.0)


def test_multiclass_one_vs_rest_and_probabilities() -> None:
    x, y = load_iris(return_X_y=True)
    partial = np.full(len(y), -1)
    rng = np.random.default_rng(0)
    for c in range(3):
        partial[rng.choice(np.flatnonzero(y == c), 5, replace=False)] = c
    model = LapSVM(n_neighbors=8, gamma_I=1.0).fit(x, partial)
    assert model.decision_function(x).shape == (150, 3)
    proba = model.predict_proba(x)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(model.classes_[np.argmax(proba, axis=1)], model.predict(x))
    assert (model.transduction_ == y).mean() > 0.9


def test_default_graphs_use_hamming_for_binary_data() -> None:
    binary = np.random.default_rng(0).integers(0, 2, size=(30, 8)).astype(float)
    assert {g.metric for g in default_graphs(binary)} == {"euclidean", "hamming"}
    assert {g.metric for g in default_graphs(binary + 0.5)} == {"euclidean", "cosine"}


# ---- bad input ------------------------------------------------------------------------------------


def test_no_labelled_sample_of_an_expected_class_is_an_error() -> None:
    x, _, partial = moons()
    with pytest.raises(ValueError, match=r"no labelled sample of class 2"):
        LapSVM(classes=[0, 1, 2]).fit(x, partial)


def test_all_unlabelled_or_a_single_labelled_class_are_errors() -> None:
    x, _, partial = moons()
    with pytest.raises(ValueError, match="no labelled sample"):
        LapSVM().fit(x, np.full(len(x), -1))
    one = np.where(partial == 1, -1, partial)
    with pytest.raises(ValueError, match="only one class"):
        MultiKernelLapSVM().fit(x, one)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_features_are_errors(bad: float) -> None:
    x, _, partial = moons()
    x = x.copy()
    x[7, 1] = bad
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        LapSVM().fit(x, partial)


def test_all_labels_given_is_a_supervised_fit_with_the_graph_still_used() -> None:
    """Documented handling: with every sample labelled the graph term still smooths f."""
    x, y, _ = moons(n=200)
    model = LapSVM(width=0.3, gamma_I=10.0).fit(x, y)
    assert (model.transduction_ == y).mean() > 0.97


def test_isolated_points_are_counted_and_still_classified() -> None:
    x, y, partial = moons()
    x = np.vstack([x, [[8.0, 8.0]]])
    partial = np.r_[partial, -1]
    model = LapSVM(neighbours="epsilon", epsilon=0.2, width=0.3, gamma_I=10.0, normalised=False).fit(
        x, partial
    )
    assert model.isolated_points_[model.graph().name] >= 1
    assert np.isfinite(model.decision_function(x)).all()
    assert (model.transduction_[:-1] == y).mean() > 0.9


def test_a_deformation_that_is_not_positive_definite_gets_jitter_and_a_warning() -> None:
    x = np.random.default_rng(1).normal(size=(30, 2))
    fmap = feature_map(BaseKernel("gaussian"), x, median_distance(x))
    indefinite = -10.0 * sparse.identity(30, format="csr")  # not a Laplacian: I + A is indefinite
    with pytest.warns(RuntimeWarning, match="not positive definite"):
        d = deform(fmap.train, indefinite, np.array([0, 1, 2]), gamma=1.0)
    assert d.jitter > 0 and np.isfinite(d.columns).all()


def test_bad_settings_are_clear_errors() -> None:
    x, _, partial = moons(n=60)
    with pytest.raises(ValueError, match="solver"):
        LapSVM(solver="newton").fit(x, partial)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gamma_I"):
        LapSVM(gamma_I=-1.0).fit(x, partial)
    with pytest.raises(ValueError, match="rank"):
        LapSVM(rank=0).fit(x, partial)
    with pytest.raises(ValueError, match="mkl"):
        MultiKernelLapSVM(mkl="simplex").fit(x, partial)  # type: ignore[arg-type]
