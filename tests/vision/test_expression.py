"""The expression CNN: the shipped weights on real held-out photos, reading, smoothing, evaluation."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from learnsight.vision.expression import (
    CLASSES,
    DATA_LABELS,
    SEED_CLASSES,
    STATE,
    UNCERTAIN,
    WEIGHTS,
    ExpressionError,
    ExpressionModel,
    evaluate,
    face_crop,
    read,
    read_labels,
    smooth,
)
from learnsight.vision.train_expression import Config, split
from learnsight.vision.types import Box, Face

META = json.loads(WEIGHTS.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> ExpressionModel:
    return ExpressionModel.load()


def write_labels(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "expression"])
        writer.writerows(rows)
    return path


def probs_row(**values: float) -> list[float]:
    return [values.get(c, 0.0) for c in CLASSES]


# --------------------------------------------------------------------------------------------- constants


def test_classes_states_and_data_labels() -> None:
    assert SEED_CLASSES == ("calm", "joy", "surprise", "disgust", "fear", "anger")
    assert [c for c in CLASSES if STATE[c] == "positive"] == ["calm", "joy", "surprise"]
    assert set(DATA_LABELS.values()) == set(CLASSES)
    assert DATA_LABELS["neutral"] == "calm" and DATA_LABELS["happiness"] == "joy"


def test_shipped_weights_are_small_and_describe_themselves() -> None:
    assert WEIGHTS.stat().st_size < 3 * META["networks"] * 2**20  # under 3 MiB per network
    assert META["networks"] == len(META["training"]["members"]) == len(ExpressionModel.load().networks)
    assert tuple(META["classes"]) == CLASSES
    assert META["split"]["n_test"] == len(META["split"]["test_images"])
    listed = "\n".join(META["split"]["test_images"]).encode()
    assert hashlib.sha256(listed).hexdigest() == META["split"]["test_images_sha256"]


# --------------------------------------------------------------------------------------------- real photos


@pytest.mark.realdata
def test_shipped_weights_reproduce_the_recorded_held_out_metrics(faces_dir: Path, tmp_path: Path) -> None:
    """A fixed quarter of the held-out photos (every 4th), through the whole run-time path."""
    data = faces_dir / "expressions"
    assert hashlib.sha256((data / "labels.csv").read_bytes()).hexdigest() == META["data"]["labels_sha256"]
    subset = set(META["split"]["test_images"][::4])
    rows = {p.relative_to(data).as_posix(): c for p, c in read_labels(data / "labels.csv")}
    inverse = {v: k for k, v in DATA_LABELS.items()}
    labels = write_labels(
        tmp_path / "labels.csv", [(str(data / p), inverse[rows[p]]) for p in sorted(subset)]
    )
    result = evaluate(labels)
    recorded = META["metrics"]["test_subset"]
    assert result["n"] == recorded["n"] == len(subset)
    assert result["state_accuracy"] == pytest.approx(recorded["state_accuracy"], abs=0.01)
    assert result["state_balanced_accuracy"] == pytest.approx(recorded["state_balanced_accuracy"], abs=0.015)
    assert result["accuracy"] == pytest.approx(recorded["accuracy"], abs=0.015)
    assert result["no_face"] == recorded["no_face"]


@pytest.mark.realdata
def test_evaluate_on_a_small_folder_counts_everything(faces_dir: Path, tmp_path: Path) -> None:
    data = faces_dir / "expressions"
    by_label: dict[str, list[Path]] = {}
    for path, cls in read_labels(data / "labels.csv"):
        by_label.setdefault(cls, []).append(path)
    inverse = {v: k for k, v in DATA_LABELS.items()}
    rows: list[tuple[str, str]] = []
    (tmp_path / "images").mkdir()
    for cls, n in (("calm", 4), ("joy", 4), ("surprise", 3), ("disgust", 2), ("anger", 3), ("sadness", 3)):
        for path in by_label[cls][:n]:
            shutil.copy(path, tmp_path / "images" / path.name)
            rows.append((f"images/{path.name}", inverse[cls]))
    # A photo with no face in it: a flat grey picture, labelled calm; it must be cropped, not crash.
    cv2 = pytest.importorskip("cv2")
    cv2.imwrite(str(tmp_path / "images" / "wall.png"), np.full((120, 160, 3), 128, dtype=np.uint8))
    rows.append(("images/wall.png", "neutral"))
    result = evaluate(write_labels(tmp_path / "labels.csv", rows))

    assert set(result) >= {"n", "accuracy", "state_accuracy", "state_balanced_accuracy", "confusion"}
    assert set(result) >= {"uncertain", "no_face", "state_confusion", "n_seed"}
    assert result["n"] == 20
    assert result["n_seed"] == 17  # all but the 3 sadness photos
    assert result["no_face"] >= 1
    matrix = np.array(result["confusion"]["matrix"])
    assert result["confusion"]["labels"] == list(CLASSES)
    truth = Counter(DATA_LABELS[label] for _, label in rows)
    assert matrix.sum(axis=1).tolist() == [truth[c] for c in CLASSES]
    states = np.array(result["state_confusion"]["matrix"])
    assert states.sum(axis=1).tolist() == [12, 8]
    assert result["state_accuracy"] == pytest.approx(np.trace(states) / 20)
    assert 0 <= result["uncertain"]["label"] <= 20 and 0 <= result["uncertain"]["state"] <= 20
    assert 0 <= result["accuracy"] <= 1 and 0 <= result["state_balanced_accuracy"] <= 1


def test_evaluate_names_an_unreadable_image(tmp_path: Path, model: ExpressionModel) -> None:
    (tmp_path / "broken.jpg").write_text("not a JPEG")
    labels = write_labels(tmp_path / "labels.csv", [("broken.jpg", "neutral")])
    with pytest.raises(ExpressionError, match=r"broken\.jpg"):
        evaluate(labels, model)
    labels = write_labels(tmp_path / "labels.csv", [("missing.jpg", "neutral")])
    with pytest.raises(ExpressionError, match=r"missing\.jpg"):
        evaluate(labels, model)


def test_evaluate_rejects_unknown_labels_and_columns(tmp_path: Path, model: ExpressionModel) -> None:
    with pytest.raises(ExpressionError, match="unknown expression 'boredom'"):
        evaluate(write_labels(tmp_path / "labels.csv", [("a.jpg", "boredom")]), model)
    (tmp_path / "bad.csv").write_text("file,label\na.jpg,neutral\n")
    with pytest.raises(ExpressionError, match="image,expression"):
        evaluate(tmp_path / "bad.csv", model)


def test_predict_on_non_faces_gives_probabilities(model: ExpressionModel) -> None:
    rng = np.random.default_rng(0)
    crops = [
        np.zeros((40, 40, 3), dtype=np.uint8),  # black
        rng.integers(0, 256, (90, 90, 3), dtype=np.uint8),  # noise
        np.full((7, 7, 3), 200, dtype=np.uint8),  # tiny
    ]
    probs = model.predict(crops)
    assert probs.shape == (3, len(CLASSES))
    assert np.all(np.isfinite(probs)) and np.allclose(probs.sum(axis=1), 1)
    assert len(read(probs)) == 3
    with pytest.raises(ExpressionError, match="RGB"):
        model.predict([np.zeros((40, 40), dtype=np.uint8)])  # type: ignore[list-item]
    assert model.predict([]).shape == (0, len(CLASSES))


# --------------------------------------------------------------------------------------------- crops


def test_face_crop_grows_and_squares_the_box() -> None:
    image = np.arange(200 * 300 * 3, dtype=np.uint32).reshape(200, 300, 3).astype(np.uint8)
    crop = face_crop(image, Face(Box(100, 50, 60, 80), 0.9), margin=0.25)
    assert crop.shape == (120, 120, 3)  # 80 tall grown by 25 % on both sides, squared
    assert np.array_equal(crop[0, 0], image[30, 70])  # centre (130, 90) minus 60


def test_face_crop_at_the_border_repeats_edge_pixels() -> None:
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    image[:, :50] = 255
    crop = face_crop(image, Face(Box(-10, 10, 40, 40), 0.9), margin=0.0)
    assert crop.shape == (40, 40, 3)
    assert np.all(crop[:, :10] == 255)  # the 10 columns left of the image repeat its first column


def test_face_crop_without_a_face_is_the_centred_square() -> None:
    image = np.zeros((100, 160, 3), dtype=np.uint8)
    image[:, 30:130] = 7
    crop = face_crop(image, None)
    assert crop.shape == (100, 100, 3) and np.all(crop == 7)


def test_face_crop_rejects_bad_images() -> None:
    with pytest.raises(ExpressionError, match="uint8"):
        face_crop(np.zeros((10, 10, 3), dtype=np.float32), None)  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="empty"):
        face_crop(np.zeros((0, 10, 3), dtype=np.uint8), None)
    with pytest.raises(ExpressionError, match="outside"):
        face_crop(np.zeros((10, 10, 3), dtype=np.uint8), Face(Box(50, 50, 5, 5), 0.9))


# --------------------------------------------------------------------------------------------- reading


def test_read_is_uncertain_below_the_threshold() -> None:
    probs = np.array(
        [
            probs_row(calm=0.9, joy=0.1),
            probs_row(calm=0.45, joy=0.35, anger=0.2),  # label unsure, but clearly positive
            [1 / len(CLASSES)] * len(CLASSES),  # 3/8 positive, 5/8 negative
            probs_row(disgust=0.7, sadness=0.25, joy=0.05),
        ]
    )
    readings = read(probs, min_confidence=0.6)
    assert [(r.label, r.state) for r in readings] == [
        ("calm", "positive"),
        (UNCERTAIN, "positive"),
        (UNCERTAIN, "negative"),
        ("disgust", "negative"),
    ]
    assert readings[1].confidence == pytest.approx(0.8)
    assert readings[1].label_confidence == pytest.approx(0.45)
    assert readings[3].confidence == pytest.approx(0.95)
    assert read(probs, min_confidence=0.7)[2].state == UNCERTAIN
    assert read(probs, min_confidence=0.9)[0].label == "calm"
    assert read(probs, min_confidence=0.91)[0].label == UNCERTAIN


def test_read_rejects_wrong_shapes() -> None:
    with pytest.raises(ExpressionError, match="shape"):
        read(np.ones((2, 3)))
    with pytest.raises(ExpressionError, match="min_confidence"):
        read(np.ones((1, len(CLASSES))) / len(CLASSES), min_confidence=1.5)


def test_smooth_keeps_a_constant_track() -> None:
    row = np.array(probs_row(calm=0.2, joy=0.5, anger=0.3))
    probs = np.tile(row, (6, 1))
    out = smooth([0, 0.1, 0.5, 0.5, 2, 7], probs, half_life_s=1.5)
    assert np.allclose(out, probs)


def test_smooth_follows_a_step_with_the_half_life() -> None:
    times = np.arange(7.0)  # one observation a second
    probs = np.array([probs_row(calm=1.0)] + [probs_row(joy=1.0)] * 6)
    out = smooth(times, probs, half_life_s=2.0)
    assert out[2, 0] == pytest.approx(0.5)  # two seconds after the step: half of the old state left
    assert out[4, 0] == pytest.approx(0.25)
    assert np.allclose(out.sum(axis=1), 1)
    assert np.all(np.diff(out[:, 1]) > 0)
    irregular = smooth([0.0, 2.0], probs[:2], half_life_s=2.0)  # a single gap of one half-life
    assert irregular[1, 0] == pytest.approx(0.5)
    assert np.array_equal(probs, np.array([probs_row(calm=1.0)] + [probs_row(joy=1.0)] * 6))  # input kept


def test_smooth_rejects_bad_input() -> None:
    probs = np.ones((3, len(CLASSES))) / len(CLASSES)
    with pytest.raises(ExpressionError, match="non-decreasing"):
        smooth([0, 2, 1], probs, half_life_s=1)
    with pytest.raises(ExpressionError, match="half_life_s"):
        smooth([0, 1, 2], probs, half_life_s=0)
    with pytest.raises(ExpressionError, match="one time per row"):
        smooth([0, 1], probs, half_life_s=1)


# --------------------------------------------------------------------------------------------- training


def test_split_is_stratified_disjoint_and_keeps_groups_together() -> None:
    rng = np.random.default_rng(1)
    labels = [str(v) for v in rng.choice(["calm", "joy", "anger"], p=[0.5, 0.3, 0.2], size=600)]
    groups = [f"p{v}" for v in rng.integers(0, 150, size=600)]
    for grouped in (None, groups):
        train, val, test = split(labels, grouped, Config())
        assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(600))
        assert abs(len(test) - 120) <= 20
        share = np.mean([labels[i] == "anger" for i in test])
        assert abs(share - np.mean([v == "anger" for v in labels])) < 0.06
        if grouped is not None:
            parts = [{groups[i] for i in part} for part in (train, val, test)]
            assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    again = split(labels, None, Config())
    assert all(np.array_equal(a, b) for a, b in zip(again, split(labels, None, Config()), strict=True))


def test_training_an_ensemble_writes_one_file_that_averages_its_networks(
    faces_dir: Path, tmp_path: Path
) -> None:
    from learnsight.vision.train_expression import main

    rows = read_labels(faces_dir / "expressions" / "labels.csv")
    picked = [r for c in ("calm", "joy", "anger") for r in [r for r in rows if r[1] == c][:20]]
    data = tmp_path / "small"
    (data / "images").mkdir(parents=True)
    inverse = {v: k for k, v in DATA_LABELS.items()}
    for path, _ in picked:
        shutil.copy(path, data / "images" / path.name)
    write_labels(data / "labels.csv", [(f"images/{p.name}", inverse[c]) for p, c in picked])
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out), "--epochs", "1", "--init-seed", "3,4"]) == 0
    meta = json.loads((out / "expression_cnn.json").read_text())
    assert meta["networks"] == 2 and [m["init_seed"] for m in meta["training"]["members"]] == [3, 4]
    model = ExpressionModel.load(out / "expression_cnn.pt")
    assert len(model.networks) == 2
    crops = [np.full((64, 64, 3), v, dtype=np.uint8) for v in (40, 200)]
    both = model.predict(crops)
    alone = [
        ExpressionModel(n, model.shape, flip_average=model.flip_average).predict(crops)
        for n in model.networks
    ]
    np.testing.assert_allclose(both, (alone[0] + alone[1]) / 2, atol=1e-6)
    assert not np.allclose(alone[0], alone[1])  # two initialisations, two networks
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--out", str(out), "--init-seed", "1,1"])
