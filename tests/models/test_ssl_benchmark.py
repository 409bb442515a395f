"""The semi-supervised benchmark protocol on real data, kept small: two splits of a few datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.errors import LearnsightError
from learnsight.models.semisupervised import benchmark as bm
from learnsight.report.ssl import benchmark_report, write_benchmark_report

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def usps_result() -> dict[str, Any]:
    from learnsight.settings import get_settings, running_in_ci

    folder = get_settings().data / "ssl"
    if not folder.exists():  # as the ssl_dir fixture, which a module-scoped fixture cannot use
        message = f"real dataset missing: {folder} (set LEARNSIGHT_DATA)"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    result = bm.run_benchmark("usps-3v8", "svm,label_spreading,deformed_svm", 2, folder=folder)
    return result.to_dict()


@given(st.lists(st.integers(0, 3), min_size=4, max_size=60), st.integers(0, 60))
def test_stratified_quota_sums_to_size_with_every_class(labels: list[int], size: int) -> None:
    y = np.asarray(labels, dtype=np.int64)
    k = len(np.unique(y))
    if not k <= size <= len(y):
        with pytest.raises(ValueError):
            bm.stratified_quota(y, size)
        return
    quota = bm.stratified_quota(y, size)
    counts = dict(zip(*np.unique(y, return_counts=True), strict=True))
    assert sum(quota.values()) == size and set(quota) == set(counts)
    assert all(1 <= q <= counts[c] for c, q in quota.items())


def test_splits_partition_the_pool_and_are_fixed_by_seed(ssl_dir: Path) -> None:
    (usps,) = bm.load_problems(["usps-3v8"], ssl_dir)
    assert usps.x.shape == (1400, 256) and usps.n_labelled == 70 and usps.n_test == 280
    split = bm.make_split(usps, 0)
    parts = [split.labelled, split.unlabelled, split.test]
    assert [len(p) for p in parts] == [70, 1050, 280]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(1400))
    assert np.bincount(usps.y[split.labelled])[[3, 8]].tolist() == [35, 35]
    again = bm.make_split(usps, 0)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(parts, [again.labelled, again.unlabelled, again.test], strict=True)
    )
    assert not np.array_equal(bm.make_split(usps, 1).labelled, split.labelled)
    (dna,) = bm.load_problems(["dna"], ssl_dir)
    split = bm.make_split(dna, 3)
    assert len(split.test) == 0 and dna.n_test == 1186
    assert len(split.labelled) == 100 and len(split.unlabelled) == 1900
    assert np.bincount(dna.y[split.labelled]).min() >= 1


def test_benchmark_result_holds_every_split_and_summary(ssl_dir: Path, usps_result: dict[str, Any]) -> None:
    data = usps_result
    assert data["kind"] == "learnsight-ssl-benchmark" and data["protocol"]["seeds"] == [0, 1]
    json.dumps(data, allow_nan=False)
    entry = data["datasets"]["usps-3v8"]
    assert (entry["n_pool"], entry["n_labelled"], entry["n_unlabelled"], entry["n_test"]) == (
        1400,
        70,
        1050,
        280,
    )
    assert entry["floor"] == 0.97 and entry["floor_method"] == "self_training" and entry["classes"] == [3, 8]
    for method in ("svm", "label_spreading", "deformed_svm"):
        stats = entry["methods"][method]
        assert stats["errors"] == []
        for metric in ("transductive", "inductive"):
            values = stats[metric]["values"]
            assert len(values) == 2 and all(0.85 < v <= 1.0 for v in values)
            assert stats[metric]["mean"] == pytest.approx(np.mean(values), abs=1e-6)
            assert stats[metric]["sd"] == pytest.approx(np.std(values, ddof=1), abs=1e-6)
        assert stats["beats_floor"] is (stats["transductive"]["mean"] > 0.97)
    assert entry["target"]["method"] is None and entry["target"]["met"] is None
    assert len(data["runs"]) == 2 * 3 and {r["seed"] for r in data["runs"]} == {0, 1}
    assert "no label of an unlabelled or held-out row" in data["protocol"]["hyperparameters"]


def test_report_draws_floors_and_states_the_rule(
    ssl_dir: Path, usps_result: dict[str, Any], tmp_path: Path
) -> None:
    path = write_benchmark_report(usps_result, tmp_path / "ssl.html")
    text = path.read_text()
    for needle in ("USPS 3 vs 8", "floor 97.0", "Hyper-parameter rule", "deformed-kernel SVM", "Targets"):
        assert needle in text
    assert "Kernel weights" not in text
    report = benchmark_report({"datasets": {}, "methods": {}})  # an empty result still renders
    assert "Semi-supervised benchmark" in report.render()


def test_lapsvms_run_in_the_protocol_with_kernel_weights(ssl_dir: Path, tmp_path: Path) -> None:
    result = bm.run_benchmark("breast", "svm,lapsvm,mk_lapsvm", 2, folder=ssl_dir).to_dict()
    entry = result["datasets"]["breast"]
    assert (entry["n_labelled"], entry["n_unlabelled"], entry["n_test"]) == (34, 512, 137)
    for method in ("lapsvm", "mk_lapsvm"):
        assert entry["methods"][method]["errors"] == []
        assert entry["methods"][method]["transductive"]["mean"] > 0.9
    weights = entry["methods"]["mk_lapsvm"]["kernel_weights"]
    assert weights and min(weights.values()) >= 0.0 and max(weights.values()) > 0.0
    assert entry["target"]["method"] == "mk_lapsvm" and isinstance(entry["target"]["met"], bool)
    for method in ("lapsvm", "mk_lapsvm"):  # calibration of predict_proba on the 137 held-out rows
        stats = entry["methods"][method]
        assert stats["brier"]["n"] == 2 and 0.0 < stats["brier"]["mean"] < 0.25
        assert 0.0 <= stats["ece"]["mean"] < 0.5 and 0.0 <= stats["ece_pooled"] < 0.5
        assert sum(b["count"] for b in stats["reliability"]) == 2 * 137
        assert all(0.5 <= b["confidence"] <= 1.0 and b["lower"] >= 0.5 for b in stats["reliability"])
    assert "brier" not in entry["methods"]["svm"]  # no predict_proba: no calibration claimed
    text = write_benchmark_report(result, tmp_path / "b.html").read_text()
    assert "Kernel weights of the multi-kernel LapSVM" in text and "|" in text
    assert "Calibration of predict_proba on held-out rows" in text and "Reliability" in text


def test_label_spreading_without_finite_probabilities_keeps_its_accuracy(ssl_dir: Path) -> None:
    result = bm.run_benchmark("breast", "label_spreading", 1, folder=ssl_dir).to_dict()
    stats = result["datasets"]["breast"]["methods"]["label_spreading"]
    assert stats["errors"] == [] and stats["transductive"]["n"] == 1
    assert "brier" not in stats
    assert any("calibration not measured: predict_proba is not finite" in w for w in stats["warnings"])


def _result_with(means: dict[str, list[float]], dataset: str = "usps-1v7") -> bm.BenchmarkResult:
    info = bm.DatasetInfo(
        dataset, "USPS 1 vs 7", "", 1400, 256, [1, 7], 70, 1050, 280, "held-out", *bm.floor(dataset)
    )
    runs = [
        bm.Run(dataset, method, i, i, value, value, 1.0, 0.1, 70, 1050, 280)
        for method, values in means.items()
        for i, value in enumerate(values)
    ]
    return bm.BenchmarkResult({dataset: info}, list(means), 2, runs)


def test_a_missed_floor_says_why_from_the_run_itself() -> None:
    result = _result_with(
        {"self_training": [0.996, 0.995], "lapsvm": [0.994, 0.996], "mk_lapsvm": [0.995, 0.995]}
    )
    target = result.to_dict()["datasets"]["usps-1v7"]["target"]
    assert target["method"] == "mk_lapsvm" and target["met"] is False
    why = target["why"]
    assert why["gap_points"] == pytest.approx(0.2) and why["extra_errors_per_split"] == pytest.approx(2.1)
    assert why["gap_in_standard_errors"] is None  # both splits equal: no spread to measure the gap in
    assert why["floor_method_mean_here"] == pytest.approx(0.9955)
    assert why["setup_gap_points"] == pytest.approx(-0.15)
    assert why["best_method"] == "self_training"
    text = why["text"]
    assert "0.20 points below the floor (99.70): 2.1 more wrong rows of 1050 per split" in text
    assert "self-training SVC, scores 99.55 in this run against 99.70 in the README (-0.15 points)" in text
    assert "best method in this run is self-training SVC (99.55)" in text
    html_text = benchmark_report(result.to_dict()).render()
    assert "Floors not met" in html_text and "2.1 more wrong rows" in html_text
    met = _result_with({"mk_lapsvm": [0.999, 0.998]}).to_dict()["datasets"]["usps-1v7"]["target"]
    assert met["met"] is True and "why" not in met
    spread = _result_with({"mk_lapsvm": [0.994, 0.996]}).to_dict()["datasets"]["usps-1v7"]["target"]["why"]
    assert spread["gap_in_standard_errors"] == pytest.approx(0.002 / 0.001)
    assert "it is still the best" in spread["text"].lower()


def test_a_failing_method_is_recorded_not_fatal(ssl_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def fit(self, x: Any, y: Any) -> None:
            raise RuntimeError("solver exploded")

    monkeypatch.setitem(bm.METHODS, "svm", bm.Method("broken", Broken, "none"))
    result = bm.run_benchmark("breast", "svm,deformed_svm", 1, folder=ssl_dir).to_dict()
    stats = result["datasets"]["breast"]["methods"]
    assert stats["svm"]["errors"] == ["split 0: RuntimeError: solver exploded"]
    assert stats["svm"]["transductive"]["mean"] is None and stats["deformed_svm"]["transductive"]["n"] == 1


def test_bad_names_and_counts_are_clear_errors(ssl_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LearnsightError, match=r"--datasets: unknown dataset 'usps-1v9' \(known: usps-1v7"):
        bm.run_benchmark("usps-1v9", "svm", 1, folder=ssl_dir)
    with pytest.raises(LearnsightError, match=r"--methods: unknown method 'tsvm'"):
        bm.run_benchmark("breast", "tsvm", 1, folder=ssl_dir)
    with pytest.raises(LearnsightError, match="--splits: need at least one split"):
        bm.run_benchmark("breast", "svm", 0, folder=ssl_dir)

    def missing() -> Any:
        raise ImportError("no module named lapsvm")

    monkeypatch.setitem(bm.METHODS, "lapsvm", bm.Method("LapSVM", missing, ""))
    with pytest.raises(LearnsightError, match=r"--methods: lapsvm is not available \(ImportError"):
        bm.run_benchmark("breast", "lapsvm", 1, folder=ssl_dir)
    monkeypatch.setattr(bm, "METHODS", {k: v for k, v in bm.METHODS.items() if k in ("svm", "lapsvm")})
    result = bm.run_benchmark("breast", None, 1, folder=ssl_dir)
    assert result.methods == ["svm"] and "lapsvm" in result.skipped


def test_groups_and_dash_names_resolve() -> None:
    assert bm.resolve("usps", list(bm.DATASETS), "datasets", bm.GROUPS) == [
        "usps-1v7",
        "usps-3v8",
        "usps-4v7",
        "usps-2v3",
    ]
    assert bm.resolve("mk-lapsvm, svm", list(bm.METHODS), "methods") == ["mk_lapsvm", "svm"]
    assert len(bm.resolve(None, list(bm.DATASETS), "datasets")) == 10
