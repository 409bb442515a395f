"""Saved models: round trip, metadata, hash check, format and version checks, atomic writes."""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import joblib
import numpy as np
import pytest

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.models import persist
from learnsight.models.dataset import Dataset, DatasetBuilder
from learnsight.models.persist import (
    METADATA_FILE,
    MODEL_FILE,
    ModelBundle,
    ModelVersionWarning,
    json_safe,
    load_model,
    read_metadata,
    save_model,
)
from learnsight.models.predict import train_model
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, open_store

CAMPUS = CampusConfig(n_students=60, n_courses=2, n_weeks=4, seed=5)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataset]:
    store: DuckDBStore = open_store(tmp_path_factory.mktemp("persist") / "store.duckdb")
    try:
        write_campus(store, simulate_campus(CAMPUS))
        yield DatasetBuilder(store).build(AsOf(week=2))
    finally:
        store.close()


@pytest.fixture(scope="module")
def bundles(dataset: Dataset) -> dict[str, ModelBundle]:
    return {
        "logistic": train_model(dataset, "three_class", "logistic", seed=1, evaluate=True),
        "rmtl": train_model(dataset, "three_class", "rmtl", seed=1, evaluate=False),
    }


@pytest.mark.parametrize("name", ["logistic", "rmtl"])
def test_round_trip_gives_identical_probabilities(
    name: str, bundles: dict[str, ModelBundle], dataset: Dataset, tmp_path: Path
) -> None:
    bundle = bundles[name]
    path = save_model(bundle, tmp_path / name)
    assert path == tmp_path / name
    assert sorted(p.name for p in path.iterdir()) == [METADATA_FILE, MODEL_FILE]
    loaded = load_model(path)
    tasks = dataset.courses.astype(str)
    np.testing.assert_array_equal(
        loaded.model.predict_proba(dataset.X, tasks=tasks), bundle.model.predict_proba(dataset.X, tasks=tasks)
    )
    assert loaded.metadata == bundle.metadata
    assert not list(tmp_path.glob(".*"))  # no temporary directories left


def test_metadata_content(bundles: dict[str, ModelBundle], dataset: Dataset, tmp_path: Path) -> None:
    bundle = bundles["logistic"]
    path = save_model(bundle, tmp_path / "m")
    raw = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"), parse_constant=_no_constants)
    meta = read_metadata(path)
    assert raw == meta.to_dict()
    assert meta.format == persist.FORMAT
    assert meta.model == "logistic" and meta.target == "three_class" and meta.kind == "classification"
    assert meta.classes == ["at-risk", "normal", "excellent"]
    assert meta.feature_names == list(dataset.feature_names)
    assert meta.groups == list(dataset.info["groups"]) and meta.interim_grades is False
    assert meta.as_of == "week:2" and meta.scheme == "campus"
    assert meta.data_fingerprint == dataset.fingerprint()
    assert meta.rows == len(dataset)
    assert meta.tasks == sorted(set(dataset.courses.tolist())) and len(meta.tasks) == 2
    assert meta.seed == 1 and meta.sequences is False
    assert len(meta.feature_medians) == len(dataset.feature_names)
    assert meta.params["impute"] is True and isinstance(meta.params["estimator"], str)
    assert meta.metrics["protocol"]["name"] == "holdout"
    assert 0.0 <= meta.metrics["overall"]["accuracy"] <= 1.0
    assert meta.metrics["labels"] == ["at-risk", "normal", "excellent"]
    for lib in ("learnsight", "python", "numpy", "scipy", "scikit-learn", "duckdb"):
        assert meta.versions[lib] and meta.versions[lib] != "unknown"
    assert meta.versions["scikit-learn"] == __import__("sklearn").__version__
    assert datetime.fromisoformat(meta.created).utcoffset() is not None
    assert meta.model_sha256 == hashlib.sha256((path / MODEL_FILE).read_bytes()).hexdigest()
    assert bundles["rmtl"].metadata.metrics == {}  # trained without evaluation


def _no_constants(name: str) -> None:
    raise AssertionError(f"metadata.json holds {name}: not strict JSON")


def test_fingerprint_before_saving_is_the_saved_file_hash(
    bundles: dict[str, ModelBundle], tmp_path: Path
) -> None:
    bundle = copy.deepcopy(bundles["rmtl"])
    bundle.metadata.model_sha256 = ""
    before = bundle.fingerprint()
    save_model(bundle, tmp_path / "m")
    assert bundle.metadata.model_sha256 == before


def test_corrupted_or_missing_model_file_is_a_clear_error(
    bundles: dict[str, ModelBundle], tmp_path: Path
) -> None:
    path = save_model(bundles["logistic"], tmp_path / "m")
    model_file = path / MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(LearnsightError, match=r"model\.joblib: corrupted") as err:
        load_model(path)
    assert str(model_file) in str(err.value)
    model_file.write_bytes(bytes(data[:100]))  # truncated
    with pytest.raises(LearnsightError, match="corrupted"):
        load_model(path)
    model_file.unlink()
    with pytest.raises(LearnsightError, match="missing") as err:
        load_model(path)
    assert str(model_file) in str(err.value)
    (path / METADATA_FILE).unlink()
    with pytest.raises(LearnsightError, match="not a saved model"):
        load_model(path)
    with pytest.raises(LearnsightError, match="not a directory"):
        load_model(tmp_path / "nowhere")


def test_unloadable_pickle_with_a_matching_hash_is_a_clear_error(
    bundles: dict[str, ModelBundle], tmp_path: Path
) -> None:
    path = save_model(bundles["logistic"], tmp_path / "m")
    (path / MODEL_FILE).write_bytes(b"not a pickle")
    _edit_metadata(path, model_sha256=hashlib.sha256(b"not a pickle").hexdigest())
    with pytest.raises(LearnsightError, match="cannot load the model"):
        load_model(path)


def _edit_metadata(path: Path, **changes: object) -> None:
    meta_file = path / METADATA_FILE
    data = json.loads(meta_file.read_text(encoding="utf-8"))
    data.update(changes)
    meta_file.write_text(json.dumps(data), encoding="utf-8")


def test_unknown_format_is_refused(bundles: dict[str, ModelBundle], tmp_path: Path) -> None:
    path = save_model(bundles["logistic"], tmp_path / "m")
    _edit_metadata(path, format=99)
    with pytest.raises(LearnsightError, match="format 99"):
        load_model(path)
    _edit_metadata(path, format=1, target=None)
    (path / METADATA_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(LearnsightError, match="unreadable"):
        load_model(path)


def test_other_library_versions_warn(bundles: dict[str, ModelBundle], tmp_path: Path) -> None:
    path = save_model(bundles["logistic"], tmp_path / "m")
    meta = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
    _edit_metadata(path, versions={**meta["versions"], "scikit-learn": "0.1.0", "numpy": "0.2.0"})
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn 0\.1\.0 → .*numpy 0\.2\.0"):
        loaded = load_model(path)
    assert loaded.metadata.versions["scikit-learn"] == "0.1.0"
    _edit_metadata(path, versions=meta["versions"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelVersionWarning)
        load_model(path)


def test_save_replaces_a_model_atomically(
    bundles: dict[str, ModelBundle], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "m"
    save_model(bundles["logistic"], target)
    save_model(bundles["rmtl"], target)  # replaces the previous model
    assert read_metadata(target).model == "rmtl"

    def broken_dump(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(joblib, "dump", broken_dump)
        with pytest.raises(OSError, match="disk full"):
            save_model(bundles["logistic"], target)  # over an existing model
        with pytest.raises(OSError, match="disk full"):
            save_model(bundles["logistic"], tmp_path / "new")  # to a new path
    assert read_metadata(target).model == "rmtl"  # the previous model is intact
    load_model(target)
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # nothing half-written beside it


def test_save_refuses_to_replace_something_else(bundles: dict[str, ModelBundle], tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(LearnsightError, match="not a saved model"):
        save_model(bundles["logistic"], folder)
    assert (folder / "keep.txt").read_text(encoding="utf-8") == "precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    save_model(bundles["logistic"], empty)
    assert (empty / MODEL_FILE).is_file()


def test_json_safe() -> None:
    assert json_safe({"a": (1, 2.5), "b": float("nan"), "c": np.float64(0.5), "d": np.int64(3)}) == {
        "a": [1, 2.5],
        "b": None,
        "c": 0.5,
        "d": 3,
    }
    assert json_safe(object).startswith("<class")
    assert json_safe(np.array([1.0, np.inf])) == [1.0, None]
