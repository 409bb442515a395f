"""Data graphs, Laplacians and graph-deformed kernels (learnsight.models.semisupervised)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.svm import SVC

from learnsight.models.semisupervised.graph import Graph, adjacency, laplacian
from learnsight.models.semisupervised.kernels import (
    DeformedKernel,
    gaussian,
    laplacian_power,
    median_distance,
    polynomial,
)


def test_knn_graph_is_symmetric_and_laplacian_rows_sum_to_zero() -> None:
    x = np.random.default_rng(0).normal(size=(40, 3))
    w = adjacency(x, Graph(k=4)).toarray()
    assert np.allclose(w, w.T) and np.all(np.diag(w) == 0)
    assert ((w > 0).sum(axis=1) >= 4).all()
    lap = laplacian(x, Graph(k=4, normalised=False)).matrix.toarray()
    assert np.allclose(lap.sum(axis=1), 0.0)
    assert np.linalg.eigvalsh(lap).min() > -1e-10
    norm = laplacian(x, Graph(k=4)).matrix.toarray()
    assert np.allclose(np.diag(norm), 1.0) and np.linalg.eigvalsh(norm).max() <= 2.0 + 1e-9


def test_epsilon_graph_reports_isolated_points_and_hamming_metric() -> None:
    x = np.array([[0.0], [0.1], [0.2], [5.0]])
    lap = laplacian(x, Graph(neighbours="epsilon", epsilon=0.15, weights="connectivity"))
    assert lap.isolated == 1
    assert np.isfinite(lap.matrix.toarray()).all()
    binary = np.array([[1, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 0]], dtype=float)
    w = adjacency(binary, Graph(k=1, metric="hamming", weights="connectivity")).toarray()
    assert w[0, 1] == 1.0 and w[0, 2] == 0.0


@pytest.mark.parametrize(
    "bad",
    [Graph(k=0), Graph(neighbours="epsilon"), Graph(metric="manhattan")],  # type: ignore[arg-type]
)
def test_bad_graph_settings_are_clear_errors(bad: Graph) -> None:
    with pytest.raises(ValueError, match=r"k must|epsilon|metric"):
        laplacian(np.zeros((5, 2)) + np.arange(5)[:, None], bad)


def test_base_kernels() -> None:
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert np.allclose(gaussian(x, x, 1.0), [[1.0, np.exp(-1.0)], [np.exp(-1.0), 1.0]])
    assert np.allclose(polynomial(x, x, 2), [[1.0, 1.0], [1.0, 9.0]])
    assert median_distance(x) == pytest.approx(np.sqrt(2.0))
    with pytest.raises(ValueError):
        gaussian(x, x, 0.0)


def test_deformation_by_zero_is_the_identity_and_cross_agrees_with_train() -> None:
    x = np.random.default_rng(1).normal(size=(30, 2))
    k = gaussian(x, x, 1.0)
    assert np.allclose(DeformedKernel(k, np.zeros_like(k)).train(), k)
    m = laplacian_power(laplacian(x, Graph(k=5)).matrix.toarray(), 2, 1.0)
    deformed = DeformedKernel(k, m)
    train = deformed.train()
    assert np.allclose(train, train.T)
    assert np.linalg.eigvalsh(train).min() > -1e-8
    assert np.allclose(deformed.cross(k, k, k), train, atol=1e-8)
    new = np.random.default_rng(2).normal(size=(5, 2))
    cross = deformed.cross(gaussian(new, x, 1.0), gaussian(new, x, 1.0), gaussian(new, new, 1.0))
    assert np.allclose(cross, cross.T, atol=1e-10)


def test_non_psd_input_is_jittered_with_a_warning() -> None:
    k = np.array([[1.0, 2.0], [2.0, 1.0]])  # not a kernel: eigenvalue −1
    deformed = DeformedKernel(k, np.zeros((2, 2)))
    with pytest.warns(RuntimeWarning, match="not PSD"):
        fixed = deformed.train()
    assert np.linalg.eigvalsh(fixed).min() >= -1e-9 and deformed.jitter_ > 0
    with pytest.raises(ValueError, match="NaN"):
        DeformedKernel(np.full((2, 2), np.nan), np.zeros((2, 2)))


def _deformed_svm_accuracy(
    x: np.ndarray, y: np.ndarray, labelled: np.ndarray, width: float, gamma: float
) -> tuple[float, float]:
    """Accuracy on the unlabelled points of an SVM on the labelled ones: plain Gaussian kernel, and
    the same kernel deformed by ``gamma`` × the (unnormalised) Laplacian of a k-NN graph on all
    points (transductive)."""
    k = gaussian(x, x, width)
    unlabelled = np.setdiff1d(np.arange(len(x)), labelled)
    plain = SVC(kernel="precomputed", C=10).fit(k[np.ix_(labelled, labelled)], y[labelled])
    base = float((plain.predict(k[np.ix_(unlabelled, labelled)]) == y[unlabelled]).mean())
    m = laplacian_power(laplacian(x, Graph(k=8, normalised=False)).matrix.toarray(), 1, gamma)
    kd = DeformedKernel(k, m).train()
    svm = SVC(kernel="precomputed", C=10).fit(kd[np.ix_(labelled, labelled)], y[labelled])
    deformed = float((svm.predict(kd[np.ix_(unlabelled, labelled)]) == y[unlabelled]).mean())
    return base, deformed


def test_the_graph_carries_labels_along_the_two_moons() -> None:
    x, y = make_moons(400, noise=0.08, random_state=0)
    labelled = np.array([int(np.flatnonzero(y == c)[i]) for c in (0, 1) for i in range(2)])
    base, deformed = _deformed_svm_accuracy(x, y, labelled, width=0.3, gamma=100.0)
    assert deformed > 0.95 and deformed > base + 0.05


@pytest.mark.realdata
def test_deformed_kernel_keeps_accuracy_on_breast_cancer_with_ten_labels(data_dir: Path) -> None:
    """With 10 labels the plain Gaussian SVM is already at about 96.5 % here; a mild deformation
    (γ = 1) must not lose more than a point and a half (stronger ones do: 0.93 at γ = 10)."""
    rows = list(csv.reader((data_dir / "ssl" / "breast-cancer-wisconsin.data").open()))[1:]
    rows = [r for r in rows if "?" not in r]
    assert len(rows) == 683
    x = np.array([[float(v) for v in r[1:-1]] for r in rows])
    y = np.array([int(r[-1]) for r in rows])
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    rng = np.random.default_rng(0)
    results = []
    for _ in range(5):
        labelled = np.concatenate([rng.choice(np.flatnonzero(y == c), 5, replace=False) for c in (2, 4)])
        results.append(_deformed_svm_accuracy(x, y, labelled, width=0.5 * median_distance(x), gamma=1.0))
    base, deformed = np.mean(results, axis=0)
    assert deformed > 0.95 and deformed > base - 0.015
