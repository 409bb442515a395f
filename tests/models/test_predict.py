"""Training, the prediction table, prediction statements and their (non-)effect on features."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.indicators.compute import compute_indicators
from learnsight.indicators.engine import DuckDBEngine
from learnsight.indicators.weekly import weekly_features
from learnsight.models.dataset import Dataset, DatasetBuilder
from learnsight.models.persist import ModelBundle, load_model, save_model
from learnsight.models.predict import (
    SEQUENCE_PREFIX,
    agent_from_key,
    align_features,
    alignment,
    predict_table,
    prediction_statements,
    skipped_rows,
    train_model,
    write_predictions,
)
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, open_store
from learnsight.xapi import vocab
from learnsight.xapi.columns import statement_columns
from learnsight.xapi.parse import parse_statement

CAMPUS = CampusConfig(n_students=60, n_courses=2, n_weeks=4, seed=5)
WEEK2 = AsOf(week=2)
COLUMNS = ["actor_key", "course", "as_of", "model", "predicted", "probability", "proba", "drivers", "actual"]
WHEN = datetime(2024, 10, 1, 9, 30, tzinfo=UTC)


def _campus_store(path: Path) -> DuckDBStore:
    store = open_store(path)
    write_campus(store, simulate_campus(CAMPUS))
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    s = _campus_store(tmp_path_factory.mktemp("predict") / "store.duckdb")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def dataset(store: DuckDBStore) -> Dataset:
    return DatasetBuilder(store).build(WEEK2)


@pytest.fixture(scope="module")
def bundle(dataset: Dataset) -> ModelBundle:
    return train_model(dataset, "three_class", "logistic", evaluate=False)


def test_predict_table(bundle: ModelBundle, dataset: Dataset) -> None:
    table = predict_table(bundle, dataset, top_k=3)
    assert table.column_names == COLUMNS
    assert table.num_rows == len(dataset) and skipped_rows(table) == 0
    assert table.schema.field("probability").type == pa.float64()
    rows = table.to_pylist()
    assert [r["actor_key"] for r in rows] == dataset.actor_keys.tolist()
    assert [r["actual"] for r in rows] == dataset.outcome.tolist()
    assert {r["as_of"] for r in rows} == {"week:2"} and {r["model"] for r in rows} == {"logistic"}
    tasks = dataset.courses.astype(str)
    proba = bundle.model.predict_proba(dataset.X, tasks=tasks)
    classes = list(bundle.model.classes_)
    for i, r in enumerate(rows):
        shares = json.loads(r["proba"])
        assert list(shares) == ["at-risk", "normal", "excellent"]  # worst first
        assert r["predicted"] == classes[int(np.argmax(proba[i]))]
        assert r["probability"] == pytest.approx(proba[i].max())
        assert shares[r["predicted"]] == pytest.approx(r["probability"], abs=1e-6)
        drivers = json.loads(r["drivers"])
        assert 1 <= len(drivers) <= 3
        assert all(set(d) == {"feature", "value", "contribution"} for d in drivers)
        assert all(d["feature"] in dataset.feature_names for d in drivers)
        mags = [abs(d["contribution"]) for d in drivers]
        assert mags == sorted(mags, reverse=True)
    # accuracy on the training rows is far above chance: the table holds real predictions
    assert np.mean([r["predicted"] == r["actual"] for r in rows]) > 0.5


def test_rows_of_courses_the_model_does_not_know_are_skipped(dataset: Dataset) -> None:
    first = sorted(set(dataset.courses.tolist()))[0]
    one_course = dataset.rows(dataset.courses == first)
    bundle = train_model(one_course, "three_class", "logistic", evaluate=False)
    assert bundle.metadata.tasks == [first]
    table = predict_table(bundle, dataset)
    assert table.num_rows == len(one_course)
    assert skipped_rows(table) == len(dataset) - len(one_course) > 0
    assert set(table.column("course").to_pylist()) == {first}


def test_feature_mismatch_is_an_error(bundle: ModelBundle, store: DuckDBStore, dataset: Dataset) -> None:
    fewer = DatasetBuilder(store, groups=("profile", "registry")).build(WEEK2)
    with pytest.raises(LearnsightError, match=r"missing from the data: \S+ .*more") as err:
        predict_table(bundle, fewer)
    assert "features differ" in str(err.value)
    order = list(reversed(range(len(dataset.feature_names))))
    shuffled = dataclasses.replace(
        dataset, X=dataset.X[:, order], feature_names=tuple(dataset.feature_names[j] for j in order)
    )
    with pytest.raises(LearnsightError, match="order differs from position 0"):
        predict_table(bundle, shuffled)


def test_align_fills_missing_features_and_drops_unknown_ones(bundle: ModelBundle, dataset: Dataset) -> None:
    names = list(dataset.feature_names)
    gone, extra = names[:2], ["profile.shoe_size"]
    keep = [j for j, n in enumerate(names) if n not in gone]
    other = dataclasses.replace(
        dataset,
        X=np.hstack([dataset.X[:, keep], np.ones((len(dataset), 1))]),
        feature_names=tuple([names[j] for j in keep] + extra),
    )
    with pytest.raises(LearnsightError, match="features differ"):
        predict_table(bundle, other)
    table = predict_table(bundle, other, align=True)
    assert table.num_rows == len(dataset)
    assert alignment(table) == (gone, extra)
    assert alignment(predict_table(bundle, dataset, align=True)) == ([], [])
    aligned, missing, dropped = align_features(other, names)
    assert aligned.feature_names == dataset.feature_names and (missing, dropped) == (gone, extra)
    assert np.all(np.isnan(aligned.X[:, :2]))
    np.testing.assert_array_equal(aligned.X[:, 2:], dataset.X[:, 2:])


def test_statements_validate_and_have_deterministic_ids(bundle: ModelBundle, dataset: Dataset) -> None:
    table = predict_table(bundle, dataset)
    statements = prediction_statements(table, bundle, timestamp=WHEN)
    assert len(statements) == table.num_rows
    rows = table.to_pylist()
    for st, row in zip(statements, rows, strict=True):
        parsed = parse_statement(st, version="1.0.3")
        cols = statement_columns(parsed, stored=datetime(2024, 10, 1), source=st)
        assert cols["actor_key"] == row["actor_key"]  # the agent rebuilt from the key has that key
        assert cols["course"] == row["course"] and cols["object_id"] == row["course"]
        assert cols["source"] == vocab.SOURCE_MODEL and cols["verb_id"] == vocab.PREDICTED
        assert cols["response"] == row["predicted"] and cols["score_scaled"] == row["probability"]
        assert cols["ts"] == datetime(2024, 10, 1, 9, 30)
        ext = st["context"]["extensions"]
        assert ext[vocab.EXT_MODEL] == "logistic" and ext[vocab.EXT_TARGET] == "three_class"
        assert ext[vocab.EXT_DATA_FINGERPRINT] == dataset.fingerprint()
        assert ext[vocab.EXT_TRAINING_CUTOFF] == "week:2" and ext[vocab.EXT_AS_OF] == "week:2"
        assert ext[vocab.EXT_MODEL_FINGERPRINT] == bundle.fingerprint()
        result_ext = st["result"]["extensions"]
        assert result_ext[vocab.EXT_PROBABILITIES] == json.loads(row["proba"])
        assert result_ext[vocab.EXT_DRIVERS] == json.loads(row["drivers"])
    assert len({s["id"] for s in statements}) == len(statements)
    later = prediction_statements(table, bundle, timestamp=datetime(2025, 1, 1, tzinfo=UTC))
    assert [s["id"] for s in later] == [s["id"] for s in statements]
    other_cutoff = table.set_column(2, "as_of", pa.array(["week:3"] * table.num_rows))
    assert prediction_statements(other_cutoff, bundle)[0]["id"] != statements[0]["id"]


def test_write_predictions_is_idempotent(
    bundle: ModelBundle, dataset: Dataset, store: DuckDBStore, tmp_path: Path
) -> None:
    loaded = load_model(save_model(bundle, tmp_path / "model"))
    table = predict_table(loaded, dataset)
    before = store.count_statements()
    report = write_predictions(store, prediction_statements(table, loaded, timestamp=WHEN))
    assert report.kind == "predictions"
    assert report.statements_written == table.num_rows and report.statements_skipped == 0
    again = write_predictions(store, prediction_statements(table, loaded))  # a later run, same model
    assert again.statements_written == 0 and again.statements_skipped == table.num_rows
    assert store.count_statements() == before + table.num_rows
    kinds = store.con.execute(
        "SELECT kind, statements_written FROM ingest_batches ORDER BY batch_id"
    ).fetchall()
    assert kinds[-2:] == [("predictions", table.num_rows), ("predictions", 0)]
    first = prediction_statements(table, loaded, timestamp=WHEN)[0]
    stored = store.get_statement(first["id"])
    assert stored is not None and stored["result"]["response"] == first["result"]["response"]
    assert write_predictions(store, []).statements_written == 0


def test_predictions_never_become_features(tmp_path: Path) -> None:
    store = _campus_store(tmp_path / "store.duckdb")
    try:
        builder = DatasetBuilder(store)
        data = builder.build(WEEK2)
        before = _features(store)
        bundle = train_model(data, "three_class", "logistic", evaluate=False)
        # dated inside the semester (week 1), as a prediction made during the course would be
        during = datetime(2024, 9, 10, 8, tzinfo=UTC)
        report = write_predictions(
            store, prediction_statements(predict_table(bundle, data), bundle, timestamp=during)
        )
        assert report.statements_written == len(data)
        for as_of in (WEEK2, AsOf()):  # predictions at course end too: they must not leak either
            other = train_model(builder.build(as_of), "three_class", "logistic", evaluate=False)
            table = predict_table(other, builder.build(as_of))
            write_predictions(store, prediction_statements(table, other, timestamp=during))
        assert store.scalar("SELECT count(*) FROM statements WHERE source = 'model'") == 2 * len(data)
        after = _features(store)
        assert after.keys() == before.keys()
        for key, value in before.items():
            assert _same(after[key], value), key
    finally:
        store.close()


def _features(store: DuckDBStore) -> dict[str, object]:
    """Everything a model could read, as comparable values (see :func:`_same`)."""
    out: dict[str, object] = {}
    for as_of in (WEEK2, AsOf()):
        label = as_of.label()
        ind = compute_indicators(DuckDBEngine(store), as_of)
        out[f"{label} sources"] = ind.sources
        out[f"{label} student"] = _columns(ind.student, ["actor_key"])
        out[f"{label} student_course"] = _columns(ind.student_course, ["actor_key", "course"])
        weekly = weekly_features(DuckDBEngine(store), as_of)
        out[f"{label} weekly"] = _columns(weekly.table, ["actor_key", "course", "week"])
        out[f"{label} weekly sources"] = weekly.sources
        data = DatasetBuilder(store).build(as_of)
        out[f"{label} dataset keys"] = [
            data.actor_keys.tolist(),
            data.courses.tolist(),
            data.outcome.tolist(),
        ]
        out[f"{label} dataset names"] = list(data.feature_names)
        out[f"{label} dataset X"] = data.X
        out[f"{label} dataset sequences"] = data.sequences
    return out


def _columns(table: pa.Table, keys: list[str]) -> dict[str, object]:
    table = table.sort_by([(k, "ascending") for k in keys])
    out: dict[str, object] = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_floating(column.type):
            out[name] = column.to_numpy(zero_copy_only=False).astype(np.float64)
        else:
            out[name] = column.to_pylist()
    return out


def _same(a: object, b: object) -> bool:
    """Equal, floats up to the last bits (DuckDB's parallel sums are not bit-reproducible)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=0.0, equal_nan=True))
    return a == b


def test_score_target_predicts_a_number(dataset: Dataset) -> None:
    bundle = train_model(dataset, "score", "logistic", evaluate=True)  # ridge for regression
    assert bundle.metadata.kind == "regression" and bundle.metadata.classes == []
    assert "rmse" in bundle.metadata.metrics["overall"]
    table = predict_table(bundle, dataset)
    assert table.schema.field("predicted").type == pa.float64()
    assert table.column("probability").null_count == table.num_rows
    assert table.column("actual").to_pylist() == pytest.approx(dataset.score.tolist())
    statements = prediction_statements(table, bundle, timestamp=WHEN)
    parsed = parse_statement(statements[0])
    assert parsed.result is not None and parsed.result.score is not None
    assert parsed.result.score.raw == pytest.approx(table.column("predicted")[0].as_py())


def test_training_errors(dataset: Dataset) -> None:
    with pytest.raises(LearnsightError, match="does not do regression"):
        train_model(dataset, "score", "majority", evaluate=False)
    with pytest.raises(LearnsightError, match="unknown model"):
        train_model(dataset, "three_class", "no_such_model", evaluate=False)


def test_sequence_models_are_explained_per_weekly_feature(bundle: ModelBundle, store: DuckDBStore) -> None:
    from learnsight.models.sequence import SequenceClassifier

    data = DatasetBuilder(store).build(WEEK2)
    flat = data.flat_sequences()
    model = SequenceClassifier(
        n_weeks=len(data.weeks), n_static=data.X.shape[1], arch="conv", max_epochs=2, random_state=0
    )
    model.fit(flat, data.outcome, tasks=data.courses.astype(str))
    medians = np.nanmedian(np.where(np.isnan(flat), 0.0, flat), axis=0)
    meta = dataclasses.replace(
        bundle.metadata,
        model="seq_conv",
        sequences=True,
        weeks=list(data.weeks),
        sequence_features=list(data.sequence_features),
        feature_medians=medians.tolist(),
        model_sha256="",
    )
    seq_bundle = ModelBundle(model=model, metadata=meta)
    table = predict_table(seq_bundle, data, top_k=50)
    assert table.num_rows == len(data)
    names = {d["feature"] for r in table.column("drivers").to_pylist() for d in json.loads(r)}
    allowed = set(data.feature_names) | {f"{SEQUENCE_PREFIX}{f}" for f in data.sequence_features}
    assert names <= allowed and any(n.startswith(SEQUENCE_PREFIX) for n in names)
    for st in prediction_statements(table, seq_bundle):
        parse_statement(st)
    with pytest.raises(LearnsightError, match="predict at the training cut-off"):
        predict_table(seq_bundle, DatasetBuilder(store).build(AsOf(week=3)))


def test_agent_from_key() -> None:
    assert agent_from_key("account:https://campus.example.edu|S0001") == {
        "objectType": "Agent",
        "account": {"homePage": "https://campus.example.edu", "name": "S0001"},
    }
    assert agent_from_key("mailto:ana@example.org") == {
        "objectType": "Agent",
        "mbox": "mailto:ana@example.org",
    }
    assert agent_from_key("sha1:" + "a" * 40) == {"objectType": "Agent", "mbox_sha1sum": "a" * 40}
    assert agent_from_key("openid:https://id.example.org/ana") == {
        "objectType": "Agent",
        "openid": "https://id.example.org/ana",
    }
    for key in ("account:https://campus.example.edu|a|b", "mailto:x@y.org", "sha1:" + "0" * 40):
        parsed = parse_statement(
            {
                "actor": agent_from_key(key),
                "verb": {"id": vocab.PREDICTED},
                "object": {"id": "https://x.org/c"},
            }
        )
        assert parsed.actor.key() == key
    for bad in ("S0001", "group:mailto:x@y.org", "account:no-separator"):
        with pytest.raises(LearnsightError, match="names no xAPI agent"):
            agent_from_key(bad)
