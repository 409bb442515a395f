"""Fit the face-shape model and its fusion with an expression CNN (:mod:`learnsight.vision.face_shape`).

Usage::

    python -m learnsight.vision.train_face_shape --data $LEARNSIGHT_DATA/faces/expressions
    python -m learnsight.vision.train_face_shape --data … --cnn OTHER/expression_cnn.pt

The photos are split exactly as the CNN's were (the seed, sizes and grouping recorded in the CNN's
``expression_cnn.json``; the SHA-256 of ``labels.csv`` and of the list of held-out photos are
checked against it), so the held-out photos stay unseen by both models:

1. every photo goes through the run-time path: mediapipe's face (:class:`PhotoFaceDetector`),
   :func:`face_crop`, the face mesh (:class:`FaceMeshReader`);
2. the :class:`ShapeModel` — a logistic regression (scikit-learn, class weights balanced, ``C``)
   on standardised :func:`shape_features` — is fitted on the CNN's **training** photos that have a
   mesh, for the negative state;
3. the :class:`Fusion` weights are a logistic regression of the state on (CNN log-odds, shape
   log-odds) over the **validation** photos with a mesh; its bias is then moved by the rule the CNN's
   own bias was set with (:func:`~learnsight.vision.train_expression.choose_bias`: the mean of state
   accuracy and balanced state accuracy on the validation photos);
4. the held-out metrics of the CNN alone and fused are written to ``expression_shape.json`` beside
   the CNN's weights (or ``--out``).  A photo without a mesh keeps the CNN's prediction.

Deterministic; about a minute on one core.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnsight.files import sha256_file
from learnsight.vision.expression import (
    CLASSES,
    NEGATIVE_MASK,
    SHAPE_WEIGHTS_NAME,
    WEIGHTS,
    ExpressionError,
    ExpressionModel,
    photo_crops,
    read_labels,
    scores,
)
from learnsight.vision.face_shape import (
    MESH_PAD,
    MESH_SIZE,
    FaceMeshReader,
    FaceShape,
    Fusion,
    ShapeModel,
    fuse,
    shape_features,
)
from learnsight.vision.train_expression import Config, choose_bias, log, person, split, unique_rows

DEFAULT_C = 1.0
"""The shape model's inverse regularisation strength (scikit-learn's ``C``)."""


def _state_logit(probs: NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.clip(probs[:, NEGATIVE_MASK].sum(axis=1), 1e-6, 1 - 1e-6)
    out: NDArray[np.float64] = np.log(p / (1 - p))
    return out


def fit_shape_model(features: NDArray[np.float64], negative: NDArray[np.bool_], c: float) -> ShapeModel:
    """Standardise ``features`` and fit the balanced logistic regression of the negative state."""
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    lr.fit((features - mean) / scale, negative)
    return ShapeModel(mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0]))


def fit_fusion(
    cnn_probs: NDArray[np.float64], shape_logit: NDArray[np.float64], y: NDArray[np.int64]
) -> Fusion:
    """The weights of the two log-odds (rows with a mesh) and the bias (all rows, :func:`choose_bias`)."""
    from sklearn.linear_model import LogisticRegression

    has = np.isfinite(shape_logit)
    negative = NEGATIVE_MASK[y]
    if len(np.unique(negative[has])) < 2:
        raise ExpressionError("fusion needs validation photos of both states with a face mesh")
    x = np.column_stack([_state_logit(cnn_probs[has]), shape_logit[has]])
    lr = LogisticRegression(class_weight="balanced", max_iter=1000).fit(x, negative[has])
    fusion = Fusion(float(lr.coef_[0, 0]), float(lr.coef_[0, 1]), float(lr.intercept_[0]))
    bias = choose_bias(fuse(cnn_probs, shape_logit, fusion, NEGATIVE_MASK), y)
    return Fusion(fusion.cnn, fusion.shape, fusion.bias + bias)


def run(data: Path, cnn: Path, out: Path, c: float, command: str) -> dict[str, Any]:
    """Fit and write the face-shape model for the CNN at ``cnn``; returns what was written."""
    started = time.perf_counter()
    model = ExpressionModel.load(cnn, face_shape=False)
    recorded = model.meta
    labels_csv = data / "labels.csv"
    if sha256_file(labels_csv) != recorded["data"]["labels_sha256"]:
        raise ExpressionError(
            f"{labels_csv} is not the labels file {cnn.name} was trained on (SHA-256 differs)"
        )
    trained = recorded["training"]["config"]
    config = Config(
        seed=int(trained["seed"]),
        test_size=float(trained["test_size"]),
        val_size=float(trained["val_size"]),
        group_by_person=bool(trained.get("group_by_person", False)),
    )
    rows, _ = unique_rows(read_labels(labels_csv))
    paths = [p for p, _ in rows]
    y = np.array([CLASSES.index(label) for _, label in rows], dtype=np.int64)
    groups = [person(p) for p in paths] if config.group_by_person else None
    train_idx, val_idx, test_idx = split([label for _, label in rows], groups, config)
    test_images = sorted(paths[i].relative_to(data).as_posix() for i in test_idx)
    if hashlib.sha256("\n".join(test_images).encode()).hexdigest() != recorded["split"]["test_images_sha256"]:
        raise ExpressionError(f"the held-out photos differ from those recorded in {cnn.with_suffix('.json')}")
    log(f"{len(rows)} photos: train {len(train_idx)}, validation {len(val_idx)}, held-out {len(test_idx)}")

    crops, _found = photo_crops(paths)
    meshes: list[NDArray[np.float64] | None] = []
    with FaceMeshReader() as mesh:
        for i, crop in enumerate(crops):
            meshes.append(mesh(crop))
            if (i + 1) % 500 == 0:
                log(f"  face mesh: {i + 1}/{len(crops)} photos")
    has_mesh = np.array([m is not None for m in meshes])
    elapsed = time.perf_counter() - started
    log(f"face mesh found on {int(has_mesh.sum())}/{len(meshes)} photos ({elapsed:.0f} s)")

    fit_rows = train_idx[has_mesh[train_idx]]
    features = np.stack([shape_features(m) for i in fit_rows if (m := meshes[i]) is not None])
    shape_model = fit_shape_model(features, NEGATIVE_MASK[y[fit_rows]], c)
    provisional = FaceShape(shape_model, Fusion(1.0, 0.0, 0.0), {})
    logits = provisional.logits(meshes)
    cnn_probs = model.predict(crops)
    fusion = fit_fusion(cnn_probs[val_idx], logits[val_idx], y[val_idx])
    fused = fuse(cnn_probs, logits, fusion, NEGATIVE_MASK)

    def metrics(idx: NDArray[np.int64]) -> dict[str, Any]:
        true = [CLASSES[i] for i in y[idx]]
        return {
            "n": len(idx),
            "with_mesh": int(has_mesh[idx].sum()),
            "cnn": scores(true, cnn_probs[idx]),
            "fused": scores(true, fused[idx]),
        }

    seconds = time.perf_counter() - started
    meta: dict[str, Any] = {
        "cnn": {"weights": cnn.name, "sha256": sha256_file(cnn)},
        "features": "distances between every pair of KEY_LANDMARKS in the image plane, "
        "divided by the outer eye corners' distance",
        "mesh": {"size": MESH_SIZE, "pad": MESH_PAD, "found": int(has_mesh.sum()), "photos": len(meshes)},
        "data": {"labels_csv": str(labels_csv), "labels_sha256": recorded["data"]["labels_sha256"]},
        "split": {
            "as_cnn": True,
            "group_by_person": config.group_by_person,
            "seed": config.seed,
            "test_images_sha256": recorded["split"]["test_images_sha256"],
            "shape_model_fitted_on": f"{len(fit_rows)} training photos with a mesh",
            "fusion_fitted_on": f"{len(val_idx)} validation photos",
        },
        "training": {
            "command": command,
            "C": c,
            "seconds": round(seconds, 1),
            "python": platform.python_version(),
            "scikit_learn": _sklearn_version(),
        },
        "metrics": {"test": metrics(test_idx), "validation": metrics(val_idx)},
    }
    FaceShape(shape_model, fusion, meta).save(out)
    test = meta["metrics"]["test"]
    for name in ("cnn", "fused"):
        m = test[name]
        log(
            f"held-out ({test['n']} photos, {test['with_mesh']} with a mesh), {name}: state accuracy "
            f"{m['state_accuracy']:.3f}, balanced {m['state_balanced_accuracy']:.3f}, "
            f"6-class {m['accuracy']:.3f}"
        )
    log(f"fusion {fusion}; {seconds:.0f} s; wrote {out}")
    return meta


def _sklearn_version() -> str:
    import sklearn  # type: ignore[import-untyped]

    return str(sklearn.__version__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m learnsight.vision.train_face_shape", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="folder with labels.csv (image,expression)")
    parser.add_argument("--cnn", type=Path, default=WEIGHTS, help="the CNN's .pt (its .json beside it)")
    parser.add_argument(
        "--out", type=Path, help=f"where to write (default: {SHAPE_WEIGHTS_NAME} beside --cnn)"
    )
    parser.add_argument("-C", type=float, default=DEFAULT_C, help="inverse regularisation strength")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "learnsight.vision.train_face_shape", *(argv or sys.argv[1:])])
    try:
        run(args.data, args.cnn, args.out or args.cnn.with_name(SHAPE_WEIGHTS_NAME), args.C, command)
    except ExpressionError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
