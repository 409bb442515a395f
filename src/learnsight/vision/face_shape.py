"""The shape of a face as a second opinion on its expression state (SPEC §5).

The expression CNN (:mod:`learnsight.vision.expression`) reads pixels, and on photos of people it
never saw it leans on who is in the picture more than it should.  The geometry of a face — how far
the mouth corners sit from the eyes, how high the brows are, how open the mouth is — carries the
same expression across people, so a small linear model on it is fused with the CNN's
positive/negative state:

1. :class:`FaceMeshReader`: mediapipe's face mesh (468 landmarks, shipped in the ``mediapipe`` wheel)
   on the expression crop, replicated at the edges by :data:`MESH_PAD` and resized to
   :data:`MESH_SIZE` pixels;
2. :func:`shape_features`: the distances between every pair of the :data:`KEY_LANDMARKS` (mouth,
   lips, brows, eyes, nose, chin and face outline), in the image plane, divided by the distance
   between the outer eye corners — so neither the face's size nor its roll changes them;
3. :class:`ShapeModel`: standardised features → logistic regression → the logit of the negative
   state (its coefficients are stored as numbers in ``weights/expression_shape.json``);
4. :func:`fuse`: ``logit p = a · logit p_cnn + b · shape_logit + c`` on the negative state; the
   CNN's class probabilities are rescaled within each state so that they sum to the fused ``p``.
   A face without a mesh keeps the CNN's probabilities unchanged.

:mod:`learnsight.vision.train_face_shape` fits ``ShapeModel`` on the CNN's training photos and
``a, b, c`` on its validation photos, and records the held-out metrics with and without fusion.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnsight.vision.extra import require
from learnsight.vision.types import Image

KEY_LANDMARKS: tuple[int, ...] = (
    61, 291, 0, 17, 13, 14, 78, 308, 40, 270, 91, 321,  # mouth corners, lips
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # brows
    33, 133, 159, 145, 362, 263, 386, 374,  # eyes: corners, upper and lower lids
    1, 4, 98, 327,  # nose tip and wings
    152, 234, 454, 10, 168, 6, 55, 285,  # chin, cheeks, forehead, nose bridge, inner brows
)  # fmt: skip
"""Indices into mediapipe's 468-point face mesh used by :func:`shape_features`."""

EYE_CORNERS: tuple[int, int] = (33, 263)
"""The outer eye corners (the subject's right, then left): their distance is the unit of length."""

PAIRS: NDArray[np.int64] = np.array(list(combinations(range(len(KEY_LANDMARKS)), 2)), dtype=np.int64)
"""The landmark pairs of :func:`shape_features`, in feature order (861 pairs)."""

MESH_SIZE = 256
"""The side, in pixels, of the square the face mesh runs on."""

MESH_PAD = 0.15
"""How much of the crop's side :class:`FaceMeshReader` adds on every side (edge pixels repeated):
the face mesh's own detector wants a little room around the face, more than the expression crop
leaves."""

WEIGHTS = Path(__file__).parent / "weights" / "expression_shape.json"
"""The shipped shape model and fusion, beside the CNN's weights."""


class FaceMeshReader:
    """The 468 face-mesh landmarks of a face crop, or ``None`` when the mesh finds no face.

    Landmarks are (x, y, z) in the padded, resized square's normalised coordinates (x and y in
    [0, 1]; z on x's scale).  Holds mediapipe's graph: use it as a context manager or call
    :meth:`close`."""

    def __init__(self, *, min_detection_confidence: float = 0.3) -> None:
        mp = require("mediapipe")
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=1,
            refine_landmarks=False,
            min_detection_confidence=min_detection_confidence,
        )

    def __call__(self, crop: Image) -> NDArray[np.float64] | None:
        cv2 = require("cv2")
        if crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < 8:
            return None
        border = round(MESH_PAD * max(crop.shape[:2]))
        padded = cv2.copyMakeBorder(crop, border, border, border, border, cv2.BORDER_REPLICATE)
        smaller = padded.shape[0] < MESH_SIZE
        square = cv2.resize(
            padded, (MESH_SIZE, MESH_SIZE), interpolation=cv2.INTER_CUBIC if smaller else cv2.INTER_AREA
        )
        result = self._mesh.process(np.ascontiguousarray(square))
        if not result.multi_face_landmarks:
            return None
        return np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], dtype=np.float64)

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceMeshReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def shape_features(landmarks: NDArray[np.float64]) -> NDArray[np.float64]:
    """The distances between every pair of :data:`KEY_LANDMARKS` in the image plane, divided by the
    distance between the :data:`EYE_CORNERS`: invariant to the face's position, size and roll.

    >>> mesh = np.zeros((468, 3)); mesh[263, 0] = 2.0
    >>> f = shape_features(mesh); f.shape, float(f.max())
    ((861,), 1.0)
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (468, 3):
        raise ValueError(f"a face mesh has 468 (x, y, z) landmarks, got shape {points.shape}")
    unit = float(np.hypot(*(points[EYE_CORNERS[1], :2] - points[EYE_CORNERS[0], :2])))
    if not unit > 0:
        raise ValueError("the outer eye corners coincide: not a face mesh")
    key = points[list(KEY_LANDMARKS), :2]
    diff = key[PAIRS[:, 0]] - key[PAIRS[:, 1]]
    out: NDArray[np.float64] = np.hypot(diff[:, 0], diff[:, 1]) / unit
    return out


@dataclass(frozen=True)
class ShapeModel:
    """Logistic regression on standardised :func:`shape_features`: ``negative_logit(f) =
    coef · (f − mean) / scale + intercept``, the log-odds that the face's state is negative."""

    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: float

    def negative_logit(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """The negative state's log-odds for each row of ``features`` ((n, 861) or (861,))."""
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        out: NDArray[np.float64] = z @ self.coef + self.intercept
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShapeModel:
        mean, scale, coef = (np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef"))
        if any(a.shape != (len(PAIRS),) for a in (mean, scale, coef)):
            raise ValueError(f"a shape model needs {len(PAIRS)} means, scales and coefficients")
        return cls(mean, scale, coef, float(data["intercept"]))


@dataclass(frozen=True)
class Fusion:
    """``logit p_negative = cnn · logit p_cnn + shape · shape_logit + bias`` (see :func:`fuse`)."""

    cnn: float
    shape: float
    bias: float


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    out: NDArray[np.float64] = np.log(q / (1 - q))
    return out


def fuse(
    probs: NDArray[np.float64],
    shape_logit: NDArray[np.float64],
    fusion: Fusion,
    negative: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """The CNN's class probabilities with their negative-state mass replaced by the fused one.

    Parameters
    ----------
    probs
        (n, classes) CNN probabilities.
    shape_logit
        (n,) :meth:`ShapeModel.negative_logit`, NaN where a face has no mesh (its row is kept).
    fusion
        The weights of the two log-odds and the bias.
    negative
        Which columns are negative classes.

    The classes of each state keep their proportions: only the split between the states moves.
    """
    p = np.asarray(probs, dtype=np.float64)
    s = np.asarray(shape_logit, dtype=np.float64)
    out = p.copy()
    has = np.isfinite(s)
    if not has.any():
        return out
    p_neg = p[has][:, negative].sum(axis=1)
    z = fusion.cnn * _logit(p_neg) + fusion.shape * s[has] + fusion.bias
    fused = 1 / (1 + np.exp(-z))
    within = p[has] / np.where(negative, p_neg[:, None], 1 - p_neg[:, None]).clip(1e-12)
    out[has] = within * np.where(negative, fused[:, None], 1 - fused[:, None])
    return out


@dataclass(frozen=True)
class FaceShape:
    """A trained :class:`ShapeModel` with its :class:`Fusion` and the description stored with them."""

    model: ShapeModel
    fusion: Fusion
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> FaceShape:
        """The shape model saved at ``path`` (default: the shipped one)."""
        path = path or WEIGHTS
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["key_landmarks"]) != KEY_LANDMARKS:
            raise ValueError(f"{path}: made for other landmarks than KEY_LANDMARKS")
        fusion = Fusion(**{k: float(v) for k, v in data["fusion"].items()})
        meta = {k: v for k, v in data.items() if k not in ("model", "fusion")}
        return cls(ShapeModel.from_json(data["model"]), fusion, meta)

    def save(self, path: Path) -> None:
        data = {
            **self.meta,
            "key_landmarks": list(KEY_LANDMARKS),
            "fusion": {"cnn": self.fusion.cnn, "shape": self.fusion.shape, "bias": self.fusion.bias},
            "model": self.model.to_json(),
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    def logits(self, meshes: Sequence[NDArray[np.float64] | None]) -> NDArray[np.float64]:
        """The negative state's shape log-odds per face; NaN for a face without a mesh."""
        out = np.full(len(meshes), np.nan)
        rows = [i for i, m in enumerate(meshes) if m is not None]
        if rows:
            feats = np.stack([shape_features(m) for m in meshes if m is not None])
            out[rows] = self.model.negative_logit(feats)
        return out


__all__ = [
    "KEY_LANDMARKS",
    "FaceMeshReader",
    "FaceShape",
    "Fusion",
    "ShapeModel",
    "fuse",
    "shape_features",
]
