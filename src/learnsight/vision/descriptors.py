"""What identifies a face (SPEC §5): computed once per detected face, compared by distance.

A :class:`FaceDescription` holds four feature vectors, each compared by Euclidean distance:

``face``
    dlib's ResNet face descriptor (128-D; King, dlib 19.6, 2017 — a ResNet-34-like network trained
    with a metric loss so that two photos of one person are closer than 0.6 with 99.38 % accuracy on
    LFW).  The face is aligned first: dlib's 5-point shape predictor (eye corners, nose base) and
    ``dlib.get_face_chip`` (150 × 150, padding 0.25), exactly as the model was trained.
``eyes``, ``nose``, ``mouth``
    Local texture of the three regions the source method fuses: the face is rotated and scaled so
    that the eye centres (from dlib's 68-point landmarks, iBUG 300-W layout) lie level, 48 px apart,
    at fixed places of a 128 × 128 grey image; a fixed-size window centred on each region's landmarks
    is described by uniform LBP(8, 1) histograms over a small grid of cells (Ahonen, Hadid &
    Pietikäinen, "Face description with local binary patterns", IEEE TPAMI 28(12), 2006), square
    rooted (Hellinger) and L2-normalised, so that the Euclidean distance of two vectors is a
    Hellinger distance of their histograms.  Cheaper and weaker than the ResNet; they help only as
    extra, discounted evidence (:mod:`learnsight.vision.identify`).

Cost: almost all of it is the ResNet, which the ``dlib-bin`` wheel runs without BLAS on one core:
about 80–150 ms per face measured on the project's shared 2-core machine (the landmarks, alignment
and LBP features take about 3 ms; ``benchmarks/bench_faces.py`` prints the figure).  30 faces per
frame therefore cost seconds, which is why a face is described once per track and identification is
re-checked periodically rather than on every frame.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnsight.errors import LearnsightError
from learnsight.vision.extra import require
from learnsight.vision.types import Face, Image

FEATURES = ("face", "eyes", "nose", "mouth")
"""The feature vectors of a description, in the order they are stored."""

ALIGNED_SIZE = 64
"""Side of the aligned grey face the region features are taken from (pixels).  Small on purpose: a
classroom face is often only 30–60 px wide, and a face described at a resolution it has is compared
with enrolled portraits brought down to the same resolution (on the roster, 64 px was more accurate
than 128 px at full resolution and much more robust on faces shrunk to 30 % or 20 %)."""
EYE_Y = 24.0
"""Height of the eye centres in the aligned face."""
EYE_DISTANCE = 24.0
"""Distance between the eye centres in the aligned face."""

REGIONS: dict[str, tuple[tuple[int, ...], tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    # name: (68-point landmark indices, window (w, h), shift of the window centre (dx, dy),
    #        LBP grid (columns, rows))
    "eyes": ((*range(17, 27), *range(36, 48)), (52, 22), (0, -1), (4, 2)),
    "nose": (tuple(range(27, 36)), (22, 26), (0, 0), (2, 3)),
    "mouth": (tuple(range(48, 68)), (36, 20), (0, 0), (3, 2)),
}
"""Where each region feature is taken and how it is cut into LBP cells."""

MIN_FACE_SIZE = 20.0
"""Boxes smaller than this (pixels, shorter side) are not described: the landmarks are unreliable."""

CHIP_SIZE = 150
CHIP_PADDING = 0.25

_MAGIC = b"LSFD1\n"


class DescriptorError(LearnsightError):
    """A face description cannot be computed or decoded."""


@dataclass(frozen=True, eq=False)
class FaceDescription:
    """The features of one face in one image (see the module doc).

    ``landmarks`` are the 68 dlib landmarks in the image's pixels (``None`` when decoded from the
    roster, which keeps only the feature vectors).
    """

    face: NDArray[np.float32]
    eyes: NDArray[np.float32]
    nose: NDArray[np.float32]
    mouth: NDArray[np.float32]
    landmarks: NDArray[np.float64] | None = field(default=None, repr=False)

    def feature(self, name: str) -> NDArray[np.float32]:
        """The vector of feature ``name`` (one of :data:`FEATURES`)."""
        if name not in FEATURES:
            raise DescriptorError(f"unknown face feature {name!r} (one of {', '.join(FEATURES)})")
        vector: NDArray[np.float32] = getattr(self, name)
        return vector

    def to_bytes(self) -> bytes:
        """A compact binary form (a JSON header of the vector lengths, then float32 values)."""
        vectors = [np.asarray(self.feature(n), dtype="<f4") for n in FEATURES]
        header = json.dumps({n: int(v.size) for n, v in zip(FEATURES, vectors, strict=True)}).encode()
        return _MAGIC + len(header).to_bytes(4, "little") + header + b"".join(v.tobytes() for v in vectors)

    @classmethod
    def from_bytes(cls, data: bytes) -> FaceDescription:
        """The inverse of :meth:`to_bytes`."""
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
            raise DescriptorError("face description: not a learnsight face description")
        start = len(_MAGIC) + 4
        size = int.from_bytes(data[len(_MAGIC) : start], "little")
        try:
            lengths = json.loads(data[start : start + size])
            values = np.frombuffer(data[start + size :], dtype="<f4")
            if sum(lengths[n] for n in FEATURES) != values.size:
                raise ValueError("length mismatch")
        except (ValueError, KeyError, TypeError) as exc:
            raise DescriptorError(f"face description: corrupt ({exc})") from exc
        out: dict[str, NDArray[np.float32]] = {}
        offset = 0
        for name in FEATURES:
            out[name] = values[offset : offset + lengths[name]].astype(np.float32)
            offset += lengths[name]
        return cls(out["face"], out["eyes"], out["nose"], out["mouth"])


# -- models ----------------------------------------------------------------------------------------
def models_dir() -> Path:
    """The folder of dlib's model files shipped by ``face_recognition_models`` (not imported: its
    ``__init__`` needs ``pkg_resources``)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        require("face_recognition_models")  # raises the video-extra error
        raise DescriptorError("face_recognition_models: package has no folder")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@cache
def _models() -> tuple[Any, Any, Any]:
    dlib = require("dlib")
    folder = models_dir()
    paths = [
        folder / "shape_predictor_5_face_landmarks.dat",
        folder / "shape_predictor_68_face_landmarks.dat",
        folder / "dlib_face_recognition_resnet_model_v1.dat",
    ]
    for path in paths:
        if not path.is_file():
            raise DescriptorError(f"{path}: dlib model file missing (reinstall face_recognition_models)")
    return (
        dlib.shape_predictor(str(paths[0])),
        dlib.shape_predictor(str(paths[1])),
        dlib.face_recognition_model_v1(str(paths[2])),
    )


# -- LBP -------------------------------------------------------------------------------------------
def _uniform_table() -> NDArray[np.int64]:
    """Map of the 256 LBP(8, 1) codes onto 59 bins: the 58 uniform patterns (at most two 0/1
    transitions around the circle), then one bin for all the others."""
    table = np.full(256, 58, dtype=np.int64)
    nxt = 0
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        if sum(bits[i] != bits[(i + 1) % 8] for i in range(8)) <= 2:
            table[code] = nxt
            nxt += 1
    return table


_UNIFORM = _uniform_table()
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def lbp_codes(gray: NDArray[Any]) -> NDArray[np.int64]:
    """Uniform LBP(8, 1) bin (0–58) of every interior pixel of a grey image.

    >>> lbp_codes(np.full((3, 3), 7, dtype=np.uint8)).tolist()  # flat: all neighbours >= centre
    [[57]]
    """
    g = np.asarray(gray, dtype=np.int16)
    h, w = g.shape
    centre = g[1 : h - 1, 1 : w - 1]
    code = np.zeros(centre.shape, dtype=np.int64)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        code |= (g[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] >= centre).astype(np.int64) << bit
    return _UNIFORM[code]


def lbp_histograms(gray: NDArray[Any], grid: tuple[int, int]) -> NDArray[np.float32]:
    """Concatenated, per-cell normalised uniform-LBP histograms over a ``(columns, rows)`` grid,
    square-rooted and L2-normalised (so Euclidean distance is a Hellinger distance)."""
    codes = lbp_codes(gray)
    cols, rows = grid
    h, w = codes.shape
    parts = []
    for r in range(rows):
        for c in range(cols):
            cell = codes[r * h // rows : (r + 1) * h // rows, c * w // cols : (c + 1) * w // cols]
            hist = np.bincount(cell.ravel(), minlength=59).astype(np.float64)
            parts.append(hist / max(hist.sum(), 1.0))
    vector = np.sqrt(np.concatenate(parts))
    norm = float(np.linalg.norm(vector))
    out: NDArray[np.float32] = (vector / norm if norm > 0 else vector).astype(np.float32)
    return out


# -- alignment -------------------------------------------------------------------------------------
def eye_alignment(landmarks: NDArray[np.float64]) -> NDArray[np.float64]:
    """The 2 × 3 similarity transform that puts the eye centres of 68 landmarks level,
    :data:`EYE_DISTANCE` apart, at height :data:`EYE_Y` and centred in the aligned face.

    >>> pts = np.zeros((68, 2)); pts[36:42] = (10, 20); pts[42:48] = (34, 20)
    >>> (eye_alignment(pts) @ np.array([10, 20, 1.0])).round(6).tolist()
    [20.0, 24.0]
    """
    right = landmarks[36:42].mean(axis=0)  # the subject's right eye: the image's left
    left = landmarks[42:48].mean(axis=0)
    dx, dy = left - right
    distance = math.hypot(dx, dy)
    if distance < 1e-6:
        raise DescriptorError("face landmarks: the two eye centres coincide")
    scale = EYE_DISTANCE / distance
    cos, sin = scale * dx / distance, scale * dy / distance
    rotation = np.array([[cos, sin], [-sin, cos]])
    target = np.array([ALIGNED_SIZE / 2, EYE_Y])
    offset = target - rotation @ ((right + left) / 2)
    return np.hstack([rotation, offset[:, None]])


def region_features(image: Image, landmarks: NDArray[np.float64]) -> dict[str, NDArray[np.float32]]:
    """The ``eyes``, ``nose`` and ``mouth`` LBP vectors of a face from its 68 landmarks."""
    cv2 = require("cv2")
    matrix = eye_alignment(landmarks)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    shrink = float(np.hypot(*matrix[:, 0]))  # < 1 when the face is bigger than the aligned one
    if shrink < 1.0:  # low-pass first so that a big face is not aliased (like INTER_AREA)
        gray = cv2.GaussianBlur(gray, (0, 0), sigmaX=0.5 / shrink)
    aligned = cv2.warpAffine(
        gray, matrix, (ALIGNED_SIZE, ALIGNED_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    points = landmarks @ matrix[:, :2].T + matrix[:, 2]
    out: dict[str, NDArray[np.float32]] = {}
    for name, (indices, (w, h), (sx, sy), grid) in REGIONS.items():
        cx, cy = points[list(indices)].mean(axis=0) + np.array([sx, sy])
        x0, y0 = round(cx - w / 2), round(cy - h / 2)
        window = _window(aligned, x0, y0, w, h)
        out[name] = lbp_histograms(window, grid)
    return out


def _window(image: NDArray[Any], x0: int, y0: int, w: int, h: int) -> NDArray[Any]:
    """A ``w × h`` window at (x0, y0), edge pixels repeated where it leaves the image."""
    ys = np.clip(np.arange(y0, y0 + h), 0, image.shape[0] - 1)
    xs = np.clip(np.arange(x0, x0 + w), 0, image.shape[1] - 1)
    window: NDArray[Any] = image[np.ix_(ys, xs)]
    return window


# -- description -----------------------------------------------------------------------------------
def describe(image: Image, face: Face, *, min_size: float = MIN_FACE_SIZE) -> FaceDescription | None:
    """The :class:`FaceDescription` of ``face`` in ``image`` (RGB ``uint8``), or ``None`` when the crop
    is unusable: the box is smaller than ``min_size`` pixels, less than half of it lies inside the
    image, or the landmarks are degenerate.

    ``face.box`` should follow dlib's box convention (what :class:`~learnsight.vision.faces.FaceDetector`
    gives by default); the 5-point alignment tolerates other conventions well.
    """
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DescriptorError(f"describe: expected an RGB uint8 image, got {getattr(image, 'shape', None)}")
    box = face.box
    if min(box.w, box.h) < min_size:
        return None
    if box.clipped(image.shape[1], image.shape[0]).area < 0.5 * box.area:
        return None
    dlib = require("dlib")
    sp5, sp68, resnet = _models()
    image = np.ascontiguousarray(image)
    rect = dlib.rectangle(round(box.x), round(box.y), round(box.x + box.w), round(box.y + box.h))
    shape68 = sp68(image, rect)
    landmarks = np.array([(p.x, p.y) for p in shape68.parts()], dtype=np.float64)
    eye_gap = float(np.linalg.norm(landmarks[36:42].mean(0) - landmarks[42:48].mean(0)))
    if eye_gap < 0.15 * max(box.w, box.h):
        return None
    chip = dlib.get_face_chip(image, sp5(image, rect), size=CHIP_SIZE, padding=CHIP_PADDING)
    vector = np.asarray(resnet.compute_face_descriptor(chip), dtype=np.float32)
    if vector.shape != (128,) or not np.all(np.isfinite(vector)):
        return None
    regions = region_features(image, landmarks)
    return FaceDescription(vector, regions["eyes"], regions["nose"], regions["mouth"], landmarks)
