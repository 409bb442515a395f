"""Sequence models over weekly features: learning a planted pattern, missing weeks, tasks, contract."""

# Upper-case names (X) follow scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import joblib  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from learnsight.models.sequence import (  # noqa: E402
    SequenceClassifier,
    SequenceNet,
    SequenceScaler,
    flatten_sequences,
    split_columns,
)

ARCHS = ("conv", "attention", "gru", "lstm")
N_WEEKS, N_FEATURES = 8, 3
FAST: dict[str, Any] = {"hidden_size": 16, "max_epochs": 25, "batch_size": 64, "lr": 1e-2, "patience": 6}


def planted(
    n: int, seed: int, *, n_classes: int = 2, flip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weekly Poisson counts; class 0's clicks decline over the weeks, class 1's stay level.

    With three classes, class 2's clicks rise.  Each row has its own activity level (so the total
    count alone does not give the class away); ``flip`` swaps classes 0 and 1 for the rows where it
    is True (a second course where the pattern means the opposite).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    t = np.linspace(0.0, 1.0, N_WEEKS)[None, :, None]
    level = rng.gamma(3.0, 2.0, size=(n, 1, N_FEATURES))
    shape = np.where(y[:, None, None] == 0, 1.4 - 1.2 * t, 1.0)
    shape = np.where(y[:, None, None] == 2, 0.4 + 1.2 * t, shape)
    weeks = rng.poisson(level * shape).astype(np.float64)
    if flip is not None:
        y = np.where(flip & (y < 2), 1 - y, y)
    return flatten_sequences(weeks), y


def fit(arch: str = "conv", seed: int = 0, **params: Any) -> SequenceClassifier:
    return SequenceClassifier(n_weeks=N_WEEKS, arch=arch, random_state=seed, **{**FAST, **params})


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = planted(700, seed=1)
    X_test, y_test = planted(400, seed=2)
    return X, y, X_test, y_test


@pytest.fixture(scope="module")
def full_fit(data: tuple[np.ndarray, ...]) -> Callable[[str], SequenceClassifier]:
    """The model of each arch fitted on the full (uncut) training set, fitted once per module."""
    X, y, _, _ = data
    cache: dict[str, SequenceClassifier] = {}

    def get(arch: str) -> SequenceClassifier:
        if arch not in cache:
            cache[arch] = fit(arch).fit(X, y)
        return cache[arch]

    return get


@pytest.fixture(scope="module")
def fitted(full_fit: Callable[[str], SequenceClassifier]) -> SequenceClassifier:
    return full_fit("gru")


# -- learning --------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
def test_each_arch_learns_the_planted_pattern(
    arch: str, data: tuple[np.ndarray, ...], full_fit: Callable[[str], SequenceClassifier]
) -> None:
    X_test, y_test = data[2:]
    model = full_fit(arch)
    assert model.score(X_test, y_test) >= 0.85
    proba = model.predict_proba(X_test)
    assert proba.shape == (X_test.shape[0], 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert np.all((proba >= 0) & (proba <= 1))
    assert 1 <= model.best_epoch_ <= model.n_epochs_ <= FAST["max_epochs"]
    assert len(model.history_["train_loss"]) == len(model.history_["val_loss"]) == model.n_epochs_


def test_three_string_classes() -> None:
    X, y = planted(900, seed=3, n_classes=3)
    X_test, y_test = planted(300, seed=4, n_classes=3)
    names = np.array(["declining", "steady", "rising"])
    model = fit("conv").fit(X, names[y])
    assert model.classes_.tolist() == sorted(names.tolist())
    assert set(model.predict(X_test)) <= set(names)
    assert model.score(X_test, names[y_test]) >= 0.8
    proba = model.predict_proba(X_test)
    assert proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_static_features_with_missing_values_are_used() -> None:
    """The class is in a static column only (with NaNs); weekly features are noise."""
    rng = np.random.default_rng(5)
    n = 800
    y = rng.integers(0, 2, n)
    static = np.column_stack([y + rng.normal(scale=0.3, size=n), rng.normal(size=n)])
    static[rng.random(n) < 0.1, 1] = np.nan
    weeks = rng.poisson(3.0, size=(n, N_WEEKS, N_FEATURES)).astype(float)
    X = flatten_sequences(weeks, static)
    model = SequenceClassifier(n_weeks=N_WEEKS, n_static=2, arch="conv", random_state=0, **FAST)
    model.fit(X[:600], y[:600])
    assert model.score(X[600:], y[600:]) >= 0.85
    assert model.n_week_features_ == N_FEATURES


def test_balanced_class_weight_raises_minority_recall(data: tuple[np.ndarray, ...]) -> None:
    X, y, X_test, y_test = data
    keep = (y == 1) | (np.arange(y.shape[0]) % 8 == 0)  # class 0 becomes rare
    model = fit("conv", class_weight="balanced").fit(X[keep], y[keep])
    assert np.mean(model.predict(X_test[y_test == 0]) == 0) >= 0.7


# -- missing weeks ---------------------------------------------------------------------------------


def cut(X: np.ndarray, week: int) -> np.ndarray:
    """Weeks ``>= week`` unobserved (NaN), as at an early-prediction cut-off."""
    weeks = split_columns(X, 0, N_WEEKS)[1].copy()
    weeks[:, week:] = np.nan
    return flatten_sequences(weeks)


@pytest.mark.parametrize("arch", ARCHS)
def test_cutoff_weeks_are_handled(
    arch: str, data: tuple[np.ndarray, ...], full_fit: Callable[[str], SequenceClassifier]
) -> None:
    X, y, X_test, y_test = data
    model = fit(arch).fit(cut(X, 5), y)
    proba = model.predict_proba(cut(X_test, 5))
    assert np.all(np.isfinite(proba))
    assert model.score(cut(X_test, 5), y_test) >= 0.7
    # a model trained on full sequences still predicts (finitely) at an earlier cut-off,
    # and on rows with no observed week at all
    assert np.all(np.isfinite(full_fit(arch).predict_proba(cut(X_test, 2))))
    assert np.all(np.isfinite(model.predict_proba(cut(X_test[:5], 0))))


@pytest.mark.parametrize("arch", ARCHS)
def test_networks_ignore_trailing_unobserved_weeks(arch: str) -> None:
    """Whatever a week after the last observed one holds, the logits do not change."""
    torch.manual_seed(0)
    net = SequenceNet(
        arch=arch,
        n_inputs=4,
        n_weeks=6,
        n_static_inputs=0,
        n_tasks=0,
        n_outputs=2,
        hidden_size=8,
        n_layers=2,
        kernel_size=3,
        n_heads=2,
        dropout=0.0,
        task_embedding_dim=0,
        static_hidden=4,
    ).eval()
    seq = torch.randn(5, 6, 4)
    seq[..., -1] = 1.0
    seq[:, 3:, -1] = 0.0  # weeks 3.. unobserved
    seq[4, :, -1] = 0.0  # a row with no observed week
    other = seq.clone()
    other[:, 3:, :-1] = torch.randn(5, 3, 3) * 10
    other[4, :, :-1] = torch.randn(6, 3)
    with torch.no_grad():
        a, b = net(seq), net(other)
    assert torch.isfinite(a).all()
    torch.testing.assert_close(a, b)


def test_scaler_log_standardise_and_observed_fraction() -> None:
    weeks = np.array([[[0.0, np.nan], [3.0, 1.0]], [[np.nan, np.nan], [-2.0, 7.0]]])  # (2 rows, 2 weeks, 2)
    static = np.array([[1.0], [np.nan]])
    scaler = SequenceScaler.fit(static, weeks)
    logged = np.log1p(np.array([0.0, 3.0, 0.0]))  # feature 0's observed cells; -2 clipped to 0
    assert scaler.week_mean[0] == pytest.approx(logged.mean())
    assert scaler.week_scale[0] == pytest.approx(logged.std())
    out = scaler.transform(static, weeks)
    assert out.seq.shape == (2, 2, 3)
    np.testing.assert_allclose(out.seq[..., -1], [[0.5, 1.0], [0.0, 1.0]])
    assert out.seq[1, 0, 0] == 0 and out.seq[1, 0, 1] == 0  # missing cells -> 0
    np.testing.assert_allclose(out.static, [[0.0, 0.0], [0.0, 1.0]])  # median-imputed, indicator
    # a feature never observed in training is left out of the observed fraction
    weeks2 = weeks.copy()
    weeks2[..., 1] = np.nan
    out2 = SequenceScaler.fit(static, weeks2).transform(static, weeks2)
    np.testing.assert_allclose(out2.seq[..., -1], [[1.0, 1.0], [0.0, 1.0]])


# -- tasks -----------------------------------------------------------------------------------------


def test_task_embedding_learns_task_specific_meaning() -> None:
    """In course "B" the pattern means the opposite class: only the task embedding can tell."""
    rng = np.random.default_rng(6)
    tasks = rng.choice(np.array(["A", "B"]), 900)
    X, y = planted(900, seed=7, flip=tasks == "B")
    model = fit("gru").fit(X[:700], y[:700], tasks=tasks[:700])
    assert model.tasks_ is not None and model.tasks_.tolist() == ["A", "B"]
    assert model.score(X[700:], y[700:], tasks=tasks[700:]) >= 0.85
    np.testing.assert_allclose(model.predict_proba(X[700:], tasks[700:]).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="'C'"):
        model.predict(X[:3], tasks=["A", "C", "B"])
    with pytest.raises(ValueError, match="tasks"):
        model.predict(X[:3])  # two tasks seen: which one?
    with pytest.raises(ValueError, match="tasks"):
        model.predict(X[:3], tasks=["A", "B"])  # wrong length


def test_tasks_at_predict_without_tasks_at_fit_raise(fitted: SequenceClassifier) -> None:
    with pytest.raises(ValueError, match="without tasks"):
        fitted.predict(np.zeros((2, N_WEEKS * N_FEATURES)), tasks=["A", "A"])


# -- determinism, pickling, contract ---------------------------------------------------------------


def test_same_seed_same_probabilities_and_global_state_untouched(data: tuple[np.ndarray, ...]) -> None:
    X, y, X_test, _ = data
    rng_before = torch.random.get_rng_state()
    threads_before = torch.get_num_threads()
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    for arch in ("attention", "lstm"):
        a = fit(arch, seed=3, max_epochs=4).fit(X, y).predict_proba(X_test)
        b = fit(arch, seed=3, max_epochs=4).fit(X, y).predict_proba(X_test)
        np.testing.assert_array_equal(a, b)
        c = fit(arch, seed=4, max_epochs=4).fit(X, y).predict_proba(X_test)
        assert not np.array_equal(a, c)
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    assert torch.get_num_threads() == threads_before
    assert torch.are_deterministic_algorithms_enabled() == deterministic_before


def test_pickle_and_joblib_round_trip(
    fitted: SequenceClassifier, data: tuple[np.ndarray, ...], tmp_path: Path
) -> None:
    X_test = data[2]
    expected = fitted.predict_proba(X_test)
    state = fitted.__getstate__()
    assert "module_" not in state and isinstance(next(iter(state["_module_weights"].values())), np.ndarray)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X_test), expected)
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    np.testing.assert_array_equal(joblib.load(path).predict_proba(X_test), expected)
    np.testing.assert_array_equal(fitted.predict_proba(X_test), expected)  # the original is unchanged


def test_clone_and_get_params(fitted: SequenceClassifier) -> None:
    params = fitted.get_params()
    assert params["n_weeks"] == N_WEEKS and params["arch"] == "gru" and params["n_layers"] is None
    twin = clone(fitted)
    assert twin.get_params() == params
    assert not hasattr(twin, "module_") and not hasattr(twin, "classes_")
    twin.set_params(arch="conv", hidden_size=8)
    assert twin.get_params()["hidden_size"] == 8 and fitted.hidden_size == 16


def test_history_without_validation(data: tuple[np.ndarray, ...]) -> None:
    X, y, _, _ = data
    model = fit("conv", validation_fraction=0.0, max_epochs=3).fit(X, y)
    assert model.n_epochs_ == model.best_epoch_ == 3
    assert model.history_["val_loss"] == [] and len(model.history_["train_loss"]) == 3
    assert model.history_["lr"][1] == pytest.approx(model.history_["lr"][0] * model.lr_decay)
    assert model.n_features_in_ == N_WEEKS * N_FEATURES


def test_verbose_prints_only_when_asked(
    data: tuple[np.ndarray, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    X, y, _, _ = data
    fit("conv", max_epochs=2).fit(X, y)
    assert capsys.readouterr().out == ""
    fit("conv", max_epochs=2, verbose=True).fit(X, y)
    assert capsys.readouterr().out.count("epoch") == 2


def test_shape_errors(fitted: SequenceClassifier) -> None:
    X, y = planted(40, seed=8)
    with pytest.raises(ValueError, match="multiple of n_weeks"):
        SequenceClassifier(n_weeks=5).fit(X, y)  # 24 columns, 5 weeks
    with pytest.raises(ValueError, match="multiple of n_weeks"):
        SequenceClassifier(n_weeks=N_WEEKS, n_static=2).fit(X, y)  # 22 weekly columns
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :-N_FEATURES])
    with pytest.raises(ValueError, match="two classes"):
        SequenceClassifier(n_weeks=N_WEEKS).fit(X, np.zeros(40))


@pytest.mark.parametrize(
    "params",
    [
        {"arch": "rnn"},
        {"arch": "attention", "hidden_size": 10, "n_heads": 4},
        {"dropout": 1.0},
        {"class_weight": "auto"},
        {"lr_decay": 0.0},
        {"max_epochs": 0},
        {"n_threads": 0},
    ],
)
def test_invalid_params_raise(params: dict[str, Any]) -> None:
    X, y = planted(40, seed=8)
    with pytest.raises(ValueError):
        SequenceClassifier(n_weeks=N_WEEKS, **params).fit(X, y)


def test_flatten_and_split_columns_round_trip() -> None:
    rng = np.random.default_rng(0)
    weeks, static = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 5))
    X = flatten_sequences(weeks, static)
    assert X.shape == (4, 5 + 6)
    np.testing.assert_array_equal(X[:, 5:7], weeks[:, 0])  # week-major: week 0's features first
    s, w = split_columns(X, 5, 3)
    np.testing.assert_array_equal(s, static)
    np.testing.assert_array_equal(w, weeks)


# One week of all features: the scikit-learn estimator checks' plain tabular data fits the layout.
CHECKED = SequenceClassifier(
    n_weeks=1,
    arch="conv",
    log_transform=False,  # the checks' features are signed
    hidden_size=16,
    max_epochs=20,
    batch_size=32,
    lr=1e-2,
    noise_std=0.0,
    week_mask_p=0.0,
    random_state=0,
)


@parametrize_with_checks(
    [CHECKED],
    expected_failed_checks=lambda _: {
        "check_methods_subset_invariance": "float32 network: a batch's matrix products may differ from "
        "a sub-batch's in the last bits (~1e-7), above the check's float64 tolerance",
    },
)
def test_sklearn_estimator_checks(estimator: SequenceClassifier, check: Callable[[Any], None]) -> None:
    check(estimator)
