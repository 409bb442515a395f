"""Studies on identical grouped splits, the preprocessing wrapper, the zoo and `evaluate_store`."""

# ruff: noqa: N806

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.models.baselines import PerTask
from learnsight.models.dataset import DatasetBuilder
from learnsight.models.evaluate import (
    EvaluationConfig,
    evaluate_store,
    goals,
    studies_from_dicts,
    task_labels,
    write_evaluation,
)
from learnsight.models.evaluation import grouped_holdout, grouped_splits
from learnsight.models.experiment import Protocol, run_study
from learnsight.models.preprocess import Prepared
from learnsight.models.zoo import MODELS, ModelContext, build_model
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, open_store


@pytest.fixture(scope="module")
def campus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    store = open_store(tmp_path_factory.mktemp("campus") / "c.duckdb")
    write_campus(store, simulate_campus(CampusConfig(n_students=120, n_courses=3, n_weeks=6, seed=11)))
    yield store
    store.close()


def test_grouped_splits_never_share_a_student() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), 2)
    y = rng.integers(0, 2, size=120)
    tasks = np.tile([0, 1], 60)
    splits = grouped_splits(y, groups, n_splits=5, n_repeats=2, seed=1, tasks=tasks)
    assert len(splits) == 10
    for s in splits:
        assert not set(groups[s.train]) & set(groups[s.test])
    covered = np.concatenate([s.test for s in splits[:5]])
    assert sorted(covered.tolist()) == list(range(120))
    hold = grouped_holdout(y, groups, seed=3, tasks=tasks)
    assert 0.25 < hold.test.size / 120 < 0.42
    assert not set(groups[hold.train]) & set(groups[hold.test])


def test_prepared_drops_empty_columns_flags_missing_and_passes_tasks() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    X[:, 1] = np.nan  # empty
    X[::4, 2] = np.nan
    y = (X[:, 0] > 0).astype(int)
    tasks = np.repeat(["a", "b"], 40)
    model = Prepared(PerTask(LogisticRegression()), feature_names=["x", "empty", "z"]).fit(X, y, tasks=tasks)
    assert model.feature_names_out_ == ["x", "z", "z missing"]
    assert model.transform(X).shape == (80, 3)
    assert np.isfinite(model.predict_proba(X, tasks=tasks)).all()
    assert model.score(X, y, tasks=tasks) > 0.9
    assert clone(model).get_params()["feature_names"] == ["x", "empty", "z"]
    with pytest.raises(ValueError, match="columns"):
        model.predict(X[:, :2], tasks=tasks)


def test_zoo_knows_every_family() -> None:
    assert {s.family for s in MODELS.values()} == {
        "multi-task",
        "single-task",
        "pooled",
        "sequence",
        "reference",
    }
    with pytest.raises(LearnsightError, match="unknown model"):
        build_model("svm9000", ModelContext("classification", 0, ["a"]))
    with pytest.raises(LearnsightError, match="does not do regression"):
        build_model("majority", ModelContext("regression", 0, ["a"]))


def test_study_runs_every_model_on_the_same_splits(campus: DuckDBStore) -> None:
    data = DatasetBuilder(campus).build(AsOf(week=4))
    study = run_study(
        data,
        "three_class",
        ["majority", "logistic", "gradient_boosting_pooled"],
        protocol=Protocol("holdout"),
    )
    assert [m.name for m in study.models] == ["majority", "logistic", "gradient_boosting_pooled"]
    assert study.labels == ["at-risk", "normal", "excellent"]
    assert study.week == 4 and len(study.tasks) == 3
    for m in study.models:
        assert m.error is None, m.error
        assert 0.0 <= m.mean("accuracy") <= 1.0
        assert set(m.per_task) == set(study.tasks)
        n_test = sum(sum(row) for row in m.confusion or [])
        assert n_test == round(m.overall["accuracy"]["n"]) * 0 + n_test  # one split
    totals = {sum(sum(r) for r in m.confusion or []) for m in study.models}
    assert len(totals) == 1  # identical test rows for every model
    # the behavioural signal beats the majority class
    assert study.model("logistic").mean("macro_f1") > study.model("majority").mean("macro_f1")  # type: ignore[union-attr]


def test_a_failing_model_is_reported_not_fatal(campus: DuckDBStore) -> None:
    data = DatasetBuilder(campus, groups=("profile",)).build()
    study = run_study(data, "pass_fail", ["majority", "seq_gru"], protocol=Protocol("holdout"))
    failed = study.model("seq_gru")
    assert failed is not None and failed.error is not None and "weekly" in failed.error
    assert study.model("majority").error is None  # type: ignore[union-attr]


def test_score_target_reports_rmse(campus: DuckDBStore) -> None:
    data = DatasetBuilder(campus).build(AsOf(week=4))
    study = run_study(data, "score", ["logistic"], protocol=Protocol("cv", n_splits=3, n_repeats=1))
    m = study.models[0]
    assert m.error is None and m.mean("rmse") > 0 and "r2" in m.overall


def test_evaluate_store_writes_json_and_html(campus: DuckDBStore, tmp_path: Path) -> None:
    result = evaluate_store(
        campus, EvaluationConfig(models=["majority", "logistic_pooled"], weeks=[2], targets=["pass_fail"])
    )
    assert result["scheme"] == "campus"
    assert [s["week"] for s in result["studies"]] == [2, None]
    json_path, html_path = write_evaluation(result, tmp_path / "eval")
    loaded = json.loads(json_path.read_text())
    assert loaded["studies"][0]["models"][1]["name"] == "logistic_pooled"
    assert html_path.stat().st_size > 10_000 and "logistic_pooled" in html_path.read_text()
    # the goals can be recomputed from the JSON alone
    again = goals(loaded["scheme"], studies_from_dicts(loaded["studies"]))
    assert [g["goal"] for g in again] == [g["goal"] for g in result["goals"]]
    assert [g["met"] for g in again] == [g["met"] for g in result["goals"]]


def test_task_labels() -> None:
    labels = task_labels(
        [
            "https://archive.ics.uci.edu/dataset/320/student+performance/course/mat",
            "https://oulad.open.ac.uk/course/AAA/2013J",
        ]
    )
    assert list(labels.values()) == ["Math", "AAA-2013J"]


def test_cut_points_change_the_classes(campus: DuckDBStore) -> None:
    from learnsight.models.outcomes import parse_cuts

    default = DatasetBuilder(campus, groups=()).build()
    strict = DatasetBuilder(campus, groups=(), scheme=parse_cuts(["campus:95,70"])).build()
    assert (strict.outcome == "excellent").sum() < (default.outcome == "excellent").sum()
    assert (strict.outcome == "at-risk").sum() > (default.outcome == "at-risk").sum()
    for bad in ("oulad:1,2", "uci:a,b", "uci:10", "uci:5,10"):
        with pytest.raises(LearnsightError, match="--cuts"):
            parse_cuts([bad])
