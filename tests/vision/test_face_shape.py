"""The face-shape model: landmark features, fusion with the CNN, fitting on real photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from learnsight.vision.expression import (
    CLASSES,
    NEGATIVE_MASK,
    SHAPE_WEIGHTS_NAME,
    WEIGHTS,
    ExpressionError,
    ExpressionModel,
    photo_crops,
    read_labels,
)
from learnsight.vision.face_shape import (
    KEY_LANDMARKS,
    PAIRS,
    FaceMeshReader,
    FaceShape,
    Fusion,
    ShapeModel,
    fuse,
    shape_features,
)
from learnsight.vision.train_face_shape import fit_fusion, fit_shape_model, run


def random_mesh(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mesh = rng.uniform(0, 1, (468, 3))
    mesh[263, :2] = mesh[33, :2] + [0.4, 0.05]
    return mesh


def test_shape_features_ignore_position_size_and_roll() -> None:
    mesh = random_mesh()
    angle = 0.4
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = mesh.copy()
    moved[:, :2] = 3.0 * mesh[:, :2] @ rot.T + [5.0, -2.0]
    n_key = len(KEY_LANDMARKS)
    assert shape_features(mesh).shape == (len(PAIRS),) == (n_key * (n_key - 1) // 2,)
    np.testing.assert_allclose(shape_features(moved), shape_features(mesh), rtol=1e-10)
    opened = mesh.copy()
    opened[14, 1] += 0.2  # the lower lip drops: the mouth opens
    assert not np.allclose(shape_features(opened), shape_features(mesh))


def test_shape_features_reject_what_is_not_a_mesh() -> None:
    with pytest.raises(ValueError, match="468"):
        shape_features(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="eye corners"):
        shape_features(np.zeros((468, 3)))


def test_fuse_moves_only_the_split_between_states() -> None:
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(len(CLASSES)), size=5)
    logits = np.array([2.0, -2.0, np.nan, 0.0, 5.0])
    out = fuse(probs, logits, Fusion(cnn=1.0, shape=1.0, bias=0.0), NEGATIVE_MASK)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    np.testing.assert_array_equal(out[2], probs[2])  # no mesh: the CNN's row
    for row, before in zip(out, probs, strict=True):  # within a state, the proportions stay
        for mask in (NEGATIVE_MASK, ~NEGATIVE_MASK):
            np.testing.assert_allclose(row[mask] / row[mask].sum(), before[mask] / before[mask].sum())
    neg = out[:, NEGATIVE_MASK].sum(axis=1)
    before_neg = probs[:, NEGATIVE_MASK].sum(axis=1)
    assert neg[0] > before_neg[0] and neg[1] < before_neg[1]
    identity = fuse(probs, logits, Fusion(cnn=1.0, shape=0.0, bias=0.0), NEGATIVE_MASK)
    np.testing.assert_allclose(identity, probs, atol=1e-9)


def test_face_shape_round_trip_and_bad_files(tmp_path: Path) -> None:
    n = len(PAIRS)
    model = ShapeModel(np.arange(n, dtype=float), np.ones(n), np.linspace(-1, 1, n), 0.5)
    shape = FaceShape(model, Fusion(0.9, 0.4, -0.1), {"note": "test"})
    path = tmp_path / SHAPE_WEIGHTS_NAME
    shape.save(path)
    back = FaceShape.load(path)
    assert back.fusion == shape.fusion and back.meta["note"] == "test"
    feats = shape_features(random_mesh())
    assert back.model.negative_logit(feats) == pytest.approx(model.negative_logit(feats))
    logits = back.logits([random_mesh(), None])
    assert np.isfinite(logits[0]) and np.isnan(logits[1])
    data = json.loads(path.read_text())
    data["key_landmarks"] = data["key_landmarks"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="other landmarks"):
        FaceShape.load(path)
    data["key_landmarks"] = list(KEY_LANDMARKS)
    data["model"]["coef"] = [0.0]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="coefficients"):
        FaceShape.load(path)


def test_face_mesh_on_real_photos_and_on_a_blank(faces_dir: Path) -> None:
    rows = read_labels(faces_dir / "expressions" / "labels.csv")[:12]
    crops, _ = photo_crops([p for p, _ in rows])
    with FaceMeshReader() as mesh:
        found = [mesh(c) for c in crops]
        assert mesh(np.full((120, 120, 3), 128, dtype=np.uint8)) is None
        assert mesh(np.zeros((4, 4, 3), dtype=np.uint8)) is None
    assert sum(m is not None for m in found) >= 10
    for m in found:
        if m is not None:
            assert m.shape == (468, 3)
            assert 0 < np.hypot(*(m[263, :2] - m[33, :2])) < 1


@pytest.fixture(scope="module")
def real_meshes(faces_dir: Path) -> tuple[list[np.ndarray | None], np.ndarray, list[np.ndarray]]:
    """Face meshes of 240 real photos, half of a negative state, and their crops."""
    rows = read_labels(faces_dir / "expressions" / "labels.csv")
    negative = [r for r in rows if NEGATIVE_MASK[CLASSES.index(r[1])]][:120]
    positive = [r for r in rows if not NEGATIVE_MASK[CLASSES.index(r[1])]][:120]
    chosen = [r for pair in zip(negative, positive, strict=True) for r in pair]
    crops, _ = photo_crops([p for p, _ in chosen])
    with FaceMeshReader() as mesh:
        meshes = [mesh(c) for c in crops]
    y = np.array([CLASSES.index(label) for _, label in chosen], dtype=np.int64)
    return meshes, y, crops


def test_shape_model_learns_the_state_from_real_faces(
    real_meshes: tuple[list[np.ndarray | None], np.ndarray, list[np.ndarray]],
) -> None:
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    meshes, y, _ = real_meshes
    has = np.array([m is not None for m in meshes])
    idx = np.flatnonzero(has)
    fit, held = idx[: len(idx) * 2 // 3], idx[len(idx) * 2 // 3 :]
    feats = np.stack([shape_features(meshes[i]) for i in idx])  # type: ignore[arg-type]
    model = fit_shape_model(feats[: len(fit)], NEGATIVE_MASK[y[fit]], c=1.0)
    auc = roc_auc_score(NEGATIVE_MASK[y[held]], model.negative_logit(feats[len(fit) :]))
    assert auc > 0.65  # the geometry alone carries the state on faces it never saw


def test_fusion_fitted_on_real_faces_and_used_by_the_expression_model(
    real_meshes: tuple[list[np.ndarray | None], np.ndarray, list[np.ndarray]], tmp_path: Path
) -> None:
    meshes, y, crops = real_meshes
    has = np.array([m is not None for m in meshes])
    feats = np.stack([shape_features(m) for m in meshes if m is not None])
    shape_model = fit_shape_model(feats, NEGATIVE_MASK[y[has]], c=1.0)
    cnn = ExpressionModel.load(face_shape=False)
    probs = cnn.predict(crops)
    logits = FaceShape(shape_model, Fusion(1, 0, 0), {}).logits(meshes)
    fusion = fit_fusion(probs, logits, y)
    assert fusion.cnn > 0 and fusion.shape > 0  # both opinions count

    with pytest.raises(ExpressionError, match="both states"):
        fit_fusion(probs[y == 0], logits[y == 0], y[y == 0])

    # an expression model loads the shape model saved beside its weights
    for suffix in (".pt", ".json"):
        (tmp_path / f"expression_cnn{suffix}").write_bytes(WEIGHTS.with_suffix(suffix).read_bytes())
    FaceShape(shape_model, fusion, {}).save(tmp_path / SHAPE_WEIGHTS_NAME)
    with ExpressionModel.load(tmp_path / "expression_cnn.pt") as fused_model:
        assert fused_model.face_shape is not None
        fused = fused_model.predict([*crops[:20], np.full((80, 80, 3), 90, dtype=np.uint8)])
    np.testing.assert_allclose(fused.sum(axis=1), 1.0, atol=1e-6)
    assert not np.allclose(fused[:20], probs[:20])
    blank = cnn.predict([np.full((80, 80, 3), 90, dtype=np.uint8)])
    np.testing.assert_allclose(fused[20], blank[0])  # no mesh: the CNN's reading
    assert ExpressionModel.load(tmp_path / "expression_cnn.pt", face_shape=False).face_shape is None
    with pytest.raises(ExpressionError, match="no face-shape model"):
        cnn.shape_logits(crops[:1])


def test_training_refuses_another_labels_file(tmp_path: Path, faces_dir: Path) -> None:
    data = tmp_path / "expressions"
    data.mkdir()
    (data / "labels.csv").write_text("image,expression\nimages/x.jpg,neutral\n")
    out = tmp_path / SHAPE_WEIGHTS_NAME
    with pytest.raises(ExpressionError, match="SHA-256 differs"):
        run(data, WEIGHTS, out, 1.0, "test")
    assert not out.exists()
