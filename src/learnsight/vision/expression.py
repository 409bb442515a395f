"""Facial expressions (SPEC §5) with the project's own small CNN.

A face becomes the crop the model sees (:func:`face_crop`: the detector's box grown by
:data:`MARGIN` of its size on every side and squared), the crop becomes a grey, per-image
standardised :data:`INPUT_SIZE`-pixel square (:func:`to_input`), and :class:`ExpressionModel` turns
a batch of those into probabilities over :data:`CLASSES`.  :func:`read` names each face's
expression and its positive/negative state, or ``"uncertain"`` when the model is not confident
enough; :func:`smooth` averages a track's probabilities over time before reading them.

The weights ship inside the package (``weights/expression_cnn.pt``: an ensemble of three networks
whose probabilities are averaged, with ``expression_cnn.json`` recording the networks' shape, the
data they were trained on and their held-out metrics);
:mod:`learnsight.vision.train_expression` rebuilds them.  :func:`evaluate` scores a model on any
folder laid out like the shared ``faces/expressions`` set.

torch (and OpenCV, mediapipe) come from the ``video`` extra and are imported only when a function
needs them, so importing this module costs nothing.
"""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from learnsight.errors import LearnsightError
from learnsight.vision.extra import require
from learnsight.vision.face_shape import FaceMeshReader, FaceShape, fuse
from learnsight.vision.types import Box, Face, Image

if TYPE_CHECKING:
    from torch import nn

CLASSES: tuple[str, ...] = ("calm", "joy", "surprise", "disgust", "fear", "anger", "sadness", "contempt")
"""The model's output classes, in column order of :meth:`ExpressionModel.predict`."""

SEED_CLASSES: tuple[str, ...] = CLASSES[:6]
"""The six expressions the SPEC names; ``sadness`` and ``contempt`` are extra classes of the data."""

POSITIVE, NEGATIVE, UNCERTAIN = "positive", "negative", "uncertain"
STATES: tuple[str, str] = (POSITIVE, NEGATIVE)

STATE: dict[str, str] = {
    "calm": POSITIVE,
    "joy": POSITIVE,
    "surprise": POSITIVE,
    "disgust": NEGATIVE,
    "fear": NEGATIVE,
    "anger": NEGATIVE,
    "sadness": NEGATIVE,
    "contempt": NEGATIVE,
}
"""The learning-relevant state of each class (SPEC §5's seed mapping)."""

NEGATIVE_MASK: NDArray[np.bool_] = np.array([STATE[c] == NEGATIVE for c in CLASSES])
"""Which columns of :data:`CLASSES` are negative-state classes."""

DATA_LABELS: dict[str, str] = {
    "neutral": "calm",
    "happiness": "joy",
    "surprise": "surprise",
    "disgust": "disgust",
    "fear": "fear",
    "anger": "anger",
    "sadness": "sadness",
    "contempt": "contempt",
}
"""The ``expression`` labels of the data's ``labels.csv`` → :data:`CLASSES`."""

MARGIN = 0.15
"""How much of the face box's size :func:`face_crop` adds on every side: the detector's box stops
at the brow and the chin, and the forehead and jaw line carry part of an expression."""

PHOTO_PAD = 1.0
"""How much of a photo's longer side :class:`PhotoFaceDetector` pads (in black) on every side.
mediapipe's full-range model looks for faces that are small in a wide view (a classroom); on a
tight portrait crop, where the face fills the frame, it misses about seven faces in eight, and
once the photo sits in the middle of a black canvas three times as wide it misses about one in
sixty (measured on the shared ``faces/expressions`` photos)."""

DEFAULT_MIN_CONFIDENCE = 0.6
"""Below this probability :func:`read` records a face's expression (or state) as uncertain.  On the
332 validation photos of the shipped ensemble it names 53 % of the labels (92 % of those right; at
0.5 it names 71 %, 86 % right) and 89 % of the states (91 % right, 86 % when every state is
named)."""

WEIGHTS = Path(__file__).parent / "weights" / "expression_cnn.pt"
"""The shipped weights; their description is the ``.json`` file beside them."""

SHAPE_WEIGHTS_NAME = "expression_shape.json"
"""The file name, beside a CNN's weights, of the face-shape model fused with it."""


class ExpressionError(LearnsightError, ValueError):
    """Input the expression model cannot use: not an RGB image, an unreadable file, a bad label."""


# --------------------------------------------------------------------------------------------- crops


def _check_image(image: Image, what: str = "image") -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise ExpressionError(f"{what} must be an RGB array of shape (height, width, 3), got {shape}")
    if image.dtype != np.uint8:
        raise ExpressionError(f"{what} must be uint8, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ExpressionError(f"{what} is empty: {image.shape}")


def crop_box(face: Face | None, width: int, height: int, *, margin: float = MARGIN) -> Box:
    """The square (in pixels) that :func:`face_crop` cuts from a ``width`` × ``height`` image.

    The face box grown by ``margin`` of its size on every side, then squared to its longer side
    around the same centre.  Without a face: the largest square in the middle of the image (a
    portrait photo is centred on the face).  The square may reach outside the image.
    """
    if face is None:
        side = float(min(width, height))
        return Box((width - side) / 2, (height - side) / 2, side, side)
    grown = face.box.expanded(margin)
    side = max(grown.w, grown.h, 1.0)
    cx, cy = grown.center
    return Box(cx - side / 2, cy - side / 2, side, side)


def face_crop(image: Image, face: Face | None, *, margin: float = MARGIN) -> Image:
    """The square crop of ``image`` that the expression model sees for ``face``.

    Parameters
    ----------
    image
        The RGB frame or photo the face was found in.
    face
        The detected face, or None for the largest centred square (a photo without a detection).
    margin
        Share of the box's size added on every side (:data:`MARGIN`; training uses the same).

    Returns
    -------
    Image
        An RGB square at the image's own resolution; parts of the square outside the image repeat
        the image's edge pixels, so a face at the border keeps its proportions.
    """
    _check_image(image)
    height, width = image.shape[:2]
    box = crop_box(face, width, height, margin=margin)
    x0, y0 = round(box.x), round(box.y)
    side = max(1, round(box.w))
    x1, y1 = x0 + side, y0 + side
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        where = face.box if face else None
        raise ExpressionError(f"face box {where} lies outside the {width}×{height} image")
    inside = image[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
    pads = ((max(0, -y0), max(0, y1 - height)), (max(0, -x0), max(0, x1 - width)), (0, 0))
    return np.pad(inside, pads, mode="edge") if any(p for pair in pads[:2] for p in pair) else inside


def to_input(crops: Sequence[Image], size: int) -> NDArray[np.float32]:
    """Crops → the network's input: (n, 1, size, size) grey squares, each standardised to mean 0
    and standard deviation 1 so that lighting and contrast matter less than shape.

    Grey uses ITU-R 601 luma (OpenCV's weights); shrinking uses area averaging, enlarging a small
    face bilinear interpolation.
    """
    cv2 = require("cv2")
    out = np.empty((len(crops), 1, size, size), dtype=np.float32)
    for i, crop in enumerate(crops):
        _check_image(crop, f"crop {i}")
        grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
        if grey.shape != (size, size):
            method = cv2.INTER_AREA if min(grey.shape) >= size else cv2.INTER_LINEAR
            grey = cv2.resize(grey, (size, size), interpolation=method)
        out[i, 0] = grey
    return standardise(out)


def standardise(batch: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each image of an (n, 1, h, w) batch shifted and scaled to mean 0, standard deviation 1 (a flat
    image stays 0)."""
    mean = batch.mean(axis=(1, 2, 3), keepdims=True)
    std = batch.std(axis=(1, 2, 3), keepdims=True)
    out: NDArray[np.float32] = ((batch - mean) / np.maximum(std, 1.0)).astype(np.float32)
    return out


# --------------------------------------------------------------------------------------------- network


@dataclass(frozen=True)
class NetworkShape:
    """What the network looks like: the input side in pixels, the channels of its stride-2 stem
    convolution (0: none), of each later stage, and the dropout before the last layer."""

    input_size: int = 64
    stem: int = 16
    widths: tuple[int, ...] = (24, 48, 96, 160)
    dropout: float = 0.3

    def to_json(self) -> dict[str, Any]:
        return {
            "input_size": self.input_size,
            "stem": self.stem,
            "widths": list(self.widths),
            "dropout": self.dropout,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetworkShape:
        return cls(
            int(data["input_size"]),
            int(data["stem"]),
            tuple(int(w) for w in data["widths"]),
            float(data["dropout"]),
        )


@cache
def _network_class() -> type[nn.Module]:
    require("torch")
    import torch
    from torch import nn

    def conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, stride, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

    class ExpressionCNN(nn.Module):
        """A plain VGG-like CNN sized for a CPU: a stride-2 3×3 stem, then stages of 3×3 convolutions
        (batch norm, ReLU; one in the first stage, two in the others) with a 2×2 max-pool between
        stages, global average pooling, dropout and a linear layer to one logit per class.

        ``logit_bias`` (a buffer, not trained by gradient) is added to the logits: training sets
        the negative classes' entry on the validation part so that the positive/negative boundary
        of the summed probabilities sits where the two states' recalls balance."""

        def __init__(self, shape: NetworkShape, n_classes: int) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            channels = 1
            if shape.stem:
                layers += conv(1, shape.stem, stride=2)
                channels = shape.stem
            for stage, width in enumerate(shape.widths):
                if stage:
                    layers.append(nn.MaxPool2d(2))
                for _ in range(1 if stage == 0 else 2):
                    layers += conv(channels, width)
                    channels = width
            self.features = nn.Sequential(*layers)
            self.dropout = nn.Dropout(shape.dropout)
            self.head = nn.Linear(channels, n_classes)
            self.register_buffer("logit_bias", torch.zeros(n_classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pooled = self.features(x).mean(dim=(2, 3))
            logits: torch.Tensor = self.head(self.dropout(pooled))
            return logits + self.get_buffer("logit_bias")

    return ExpressionCNN


def build_network(shape: NetworkShape | None = None, n_classes: int = len(CLASSES)) -> nn.Module:
    """A fresh (untrained) expression CNN of the given shape: (n, 1, s, s) grey crops → (n, classes)
    logits."""
    return _network_class()(shape or NetworkShape(), n_classes)


# --------------------------------------------------------------------------------------------- model


def fold_batch_norm(network: nn.Module) -> nn.Module:
    """A copy of an :func:`build_network` network for inference: each convolution merged with the
    batch norm after it (the same function in one pass over memory) and the weights in channels-last
    layout, which oneDNN's CPU convolutions run fastest; together about 1.5× faster on a CPU."""
    import torch
    from torch import nn

    folded = copy.deepcopy(network).eval()
    layers = list(folded.get_submodule("features").children())
    merged: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, nn.BatchNorm2d) and merged and isinstance(merged[-1], nn.Conv2d):
            merged[-1] = torch.nn.utils.fusion.fuse_conv_bn_eval(merged[-1], layer)
        else:
            merged.append(layer)
    folded.features = nn.Sequential(*merged)
    for layer in merged:
        if isinstance(layer, nn.Conv2d):
            layer.weight.data = layer.weight.data.contiguous(memory_format=torch.channels_last)
    return folded


class ExpressionModel:
    """The trained CNN with its input format; :meth:`predict` gives class probabilities per crop.

    Parameters
    ----------
    network
        An :func:`build_network` network with its weights (put in evaluation mode here).
    members
        More networks of the same shape (an ensemble): the probabilities of all of them are
        averaged.  Networks trained from other initialisations on the same photos disagree on the
        faces they find hard, so their mean ranks the states better than any one of them.
    shape
        The shape it was built with (its input size is the crops' size).
    flip_average
        Average each crop's probabilities with its mirror image's (a face's expression is
        symmetric enough; this steadies the prediction at twice the compute).
    fold
        Predict with :func:`fold_batch_norm`'s copy of the network, made on the first call (so a
        network still being trained must be given with ``fold=False``).
    meta
        The description stored beside the weights (``expression_cnn.json``), if any.
    face_shape
        The face-shape model fused with the CNN's state (:mod:`learnsight.vision.face_shape`), or
        None for the CNN alone.  With it, :meth:`predict` runs the face mesh on every crop; call
        :meth:`close` (or use the model as a context manager) to free the mesh's graph.
    """

    def __init__(
        self,
        network: nn.Module,
        shape: NetworkShape,
        *,
        members: Sequence[nn.Module] = (),
        flip_average: bool = True,
        fold: bool = True,
        meta: dict[str, Any] | None = None,
        face_shape: FaceShape | None = None,
    ) -> None:
        self.network = network.eval()
        self.members = [m.eval() for m in members]
        self.shape = shape
        self.flip_average = flip_average
        self.fold = fold
        self.meta = meta or {}
        self.face_shape = face_shape
        self._folded: list[nn.Module] | None = None
        self._mesh: FaceMeshReader | None = None

    @classmethod
    def load(cls, path: Path | None = None, *, face_shape: bool = True) -> ExpressionModel:
        """The model saved at ``path`` (a state_dict ``.pt`` with its ``.json`` beside it); the
        shipped weights by default.  With ``face_shape`` (the default), the face-shape model saved
        beside it as ``expression_shape.json`` is fused in when that file exists."""
        torch = require("torch")
        path = path or WEIGHTS
        meta_path = path.with_suffix(".json")
        if not path.is_file() or not meta_path.is_file():
            raise ExpressionError(f"expression model not found: {path} and {meta_path} are both needed")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if tuple(meta["classes"]) != CLASSES:
            raise ExpressionError(f"{meta_path}: classes {meta['classes']} are not {list(CLASSES)}")
        shape = NetworkShape.from_json(meta["network"])
        saved = torch.load(path, map_location="cpu", weights_only=True)
        networks = []
        for state in saved.get("members", [saved]):
            networks.append(build_network(shape))
            networks[-1].load_state_dict(state)
        shape_path = path.with_name(SHAPE_WEIGHTS_NAME)
        fused = FaceShape.load(shape_path) if face_shape and shape_path.is_file() else None
        flip = bool(meta.get("flip_average", True))
        return cls(networks[0], shape, members=networks[1:], flip_average=flip, meta=meta, face_shape=fused)

    @property
    def networks(self) -> list[nn.Module]:
        """Every network whose probabilities :meth:`predict` averages."""
        return [self.network, *self.members]

    def save(self, path: Path) -> None:
        """Write the weights to ``path``: one network's ``state_dict``, or ``{"members": [...]}``."""
        torch = require("torch")
        states = [n.state_dict() for n in self.networks]
        torch.save(states[0] if len(states) == 1 else {"members": states}, path)

    def close(self) -> None:
        """Free the face mesh's graph (opened by the first :meth:`predict` with a face-shape model)."""
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None

    def __enter__(self) -> ExpressionModel:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def predict(self, crops: Sequence[Image], *, batch_size: int = 256) -> NDArray[np.float64]:
        """Probabilities over :data:`CLASSES` for each crop (from :func:`face_crop`), shape
        (len(crops), len(CLASSES)); rows sum to 1.  Runs on the CPU in batches of ``batch_size``.
        With a face-shape model, each crop's state is fused with its face mesh's
        (:func:`~learnsight.vision.face_shape.fuse`; a crop without a mesh keeps the CNN's row)."""
        probs = self.predict_inputs(to_input(crops, self.shape.input_size), batch_size=batch_size)
        if self.face_shape is None or not len(crops):
            return probs
        return fuse(probs, self.shape_logits(crops), self.face_shape.fusion, NEGATIVE_MASK)

    def shape_logits(self, crops: Sequence[Image]) -> NDArray[np.float64]:
        """The face-shape model's negative-state log-odds per crop (NaN without a mesh)."""
        if self.face_shape is None:
            raise ExpressionError("this expression model has no face-shape model")
        if self._mesh is None:
            self._mesh = FaceMeshReader()
        return self.face_shape.logits([self._mesh(crop) for crop in crops])

    def predict_inputs(self, batch: NDArray[np.float32], *, batch_size: int = 256) -> NDArray[np.float64]:
        """:meth:`predict` for crops already through :func:`to_input` (training reuses this)."""
        torch = require("torch")
        networks = self.networks
        if self.fold:
            if self._folded is None:
                self._folded = [fold_batch_norm(n) for n in networks]
            networks = self._folded
        probs = np.empty((len(batch), len(CLASSES)), dtype=np.float64)
        with torch.inference_mode():
            for start in range(0, len(batch), batch_size):
                x = torch.from_numpy(np.ascontiguousarray(batch[start : start + batch_size]))
                n = len(x)
                if self.flip_average:
                    x = torch.cat([x, torch.flip(x, dims=[3])])
                x = x.contiguous(memory_format=torch.channels_last)
                p = sum(torch.softmax(network(x), dim=1) for network in networks) / len(networks)
                if self.flip_average:
                    p = (p[:n] + p[n:]) / 2
                probs[start : start + n] = p.double().numpy()
        return probs


# --------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ExpressionReading:
    """One face's expression as recorded.

    ``label`` is a class of :data:`CLASSES` or ``"uncertain"``; ``state`` is ``"positive"``,
    ``"negative"`` or ``"uncertain"``; ``confidence`` is the state's probability (the summed
    probability of its classes) and ``label_confidence`` the label's (the top class's)."""

    label: str
    state: str
    confidence: float
    label_confidence: float = float("nan")


def state_probabilities(probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """(n, classes) probabilities → (n, 2): the summed probability of the positive and the negative
    classes."""
    probs = np.asarray(probs, dtype=np.float64)
    positive = np.array([STATE[c] == POSITIVE for c in CLASSES])
    return np.stack([probs[:, positive].sum(axis=1), probs[:, ~positive].sum(axis=1)], axis=1)


def read(
    probs: NDArray[np.float64], *, min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> list[ExpressionReading]:
    """Name each face's expression and state from its probabilities, never forcing a guess.

    Parameters
    ----------
    probs
        (n, len(CLASSES)) probabilities (from :meth:`ExpressionModel.predict`, or :func:`smooth`).
    min_confidence
        The label is the top class when its probability reaches this, else ``"uncertain"``; the
        state is the likelier of positive/negative when its summed probability reaches this, else
        ``"uncertain"``.  So a face torn between calm and joy is uncertain in label but positive.

    Returns
    -------
    list[ExpressionReading]
        One reading per row.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(CLASSES):
        raise ExpressionError(f"probabilities must have shape (n, {len(CLASSES)}), got {probs.shape}")
    if not 0 <= min_confidence <= 1:
        raise ExpressionError(f"min_confidence must be in [0, 1], got {min_confidence}")
    states = state_probabilities(probs)
    readings = []
    for row, state_row in zip(probs, states, strict=True):
        top = int(np.argmax(row))
        s = int(np.argmax(state_row))
        readings.append(
            ExpressionReading(
                label=CLASSES[top] if row[top] >= min_confidence else UNCERTAIN,
                state=STATES[s] if state_row[s] >= min_confidence else UNCERTAIN,
                confidence=float(state_row[s]),
                label_confidence=float(row[top]),
            )
        )
    return readings


def smooth(times: Sequence[float], probs: NDArray[np.float64], *, half_life_s: float) -> NDArray[np.float64]:
    """Exponential smoothing of one track's probabilities over time.

    Each smoothed row is ``w * previous + (1 - w) * current`` with ``w = 0.5 ** (dt / half_life_s)``
    for the ``dt`` seconds since the previous observation, so an observation's weight halves every
    ``half_life_s`` seconds whatever the (possibly irregular) frame spacing; the first row is kept.
    Rows stay probability distributions.

    Parameters
    ----------
    times
        Observation times in seconds, non-decreasing.
    probs
        (len(times), classes) probabilities.
    half_life_s
        Positive half-life in seconds.
    """
    t = np.asarray(times, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or t.shape != (p.shape[0],):
        raise ExpressionError(f"need one time per row of probabilities: {t.shape} times, {p.shape} probs")
    if not half_life_s > 0:
        raise ExpressionError(f"half_life_s must be positive, got {half_life_s}")
    if np.any(np.diff(t) < 0):
        raise ExpressionError("times must be non-decreasing")
    out = p.copy()
    weights = 0.5 ** (np.diff(t) / half_life_s)
    for i, w in enumerate(weights, start=1):
        out[i] = w * out[i - 1] + (1 - w) * p[i]
    return out


# --------------------------------------------------------------------------------------------- evaluation


class PhotoFaceDetector:
    """The face in a photo, by mediapipe's full-range detector (the one the video pipeline uses):
    ``FaceDetection(model_selection=1, min_detection_confidence=0.5)`` on the RGB photo padded by
    :data:`PHOTO_PAD` in black, so that a tight portrait's face looks like a face in a wide view.
    Returns the most confident face, in the photo's coordinates, or None.  Use it as a context
    manager (it holds mediapipe's graph)."""

    def __init__(self, *, pad: float = PHOTO_PAD, min_detection_confidence: float = 0.5) -> None:
        mp = require("mediapipe")
        self.pad = pad
        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_detection_confidence
        )

    def __call__(self, image: Image) -> Face | None:
        _check_image(image)
        height, width = image.shape[:2]
        border = round(self.pad * max(height, width))
        canvas = np.pad(image, ((border, border), (border, border), (0, 0)))
        result = self._detector.process(canvas)
        if not result.detections:
            return None
        best = max(result.detections, key=lambda d: d.score[0])
        rel = best.location_data.relative_bounding_box
        cw, ch = canvas.shape[1], canvas.shape[0]
        box = Box(rel.xmin * cw - border, rel.ymin * ch - border, rel.width * cw, rel.height * ch)
        keypoints = np.array(
            [[k.x * cw - border, k.y * ch - border] for k in best.location_data.relative_keypoints],
            dtype=np.float64,
        )
        return Face(box, float(best.score[0]), keypoints if len(keypoints) else None)

    def close(self) -> None:
        self._detector.close()

    def __enter__(self) -> PhotoFaceDetector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_labels(labels_csv: Path) -> list[tuple[Path, str]]:
    """``labels.csv`` (columns ``image,expression``, paths relative to its folder) → (image path,
    class) pairs, the labels mapped by :data:`DATA_LABELS`."""
    if not labels_csv.is_file():
        raise ExpressionError(f"labels file not found: {labels_csv}")
    rows = []
    with labels_csv.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"image", "expression"} <= set(reader.fieldnames):
            found = reader.fieldnames
            raise ExpressionError(f"{labels_csv}: needs the columns image,expression, has {found}")
        for line, row in enumerate(reader, start=2):
            label = row["expression"].strip().lower()
            if label not in DATA_LABELS:
                raise ExpressionError(f"{labels_csv}:{line}: unknown expression {label!r}")
            rows.append((labels_csv.parent / row["image"], DATA_LABELS[label]))
    return rows


def load_image(path: Path) -> Image:
    """An image file as RGB ``uint8``; :class:`ExpressionError` when it is missing or unreadable."""
    cv2 = require("cv2")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    if bgr is None:
        raise ExpressionError(f"cannot read image {path}")
    rgb: Image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return rgb


def photo_crops(
    images: Sequence[Path], detector: Callable[[Image], Face | None] | None = None
) -> tuple[list[Image], NDArray[np.bool_]]:
    """Each photo's :func:`face_crop` around its detected face (the centred square where none is
    found), and which photos had a face found."""
    if detector is None:
        with PhotoFaceDetector() as own:
            return photo_crops(images, own)
    crops, found = [], []
    for path in images:
        image = load_image(path)
        face = detector(image)
        crops.append(face_crop(image, face))
        found.append(face is not None)
    return crops, np.array(found, dtype=bool)


def scores(
    true: Sequence[str], probs: NDArray[np.float64], *, min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> dict[str, Any]:
    """The metrics of :func:`evaluate` for true classes and predicted probabilities.

    ``accuracy``: over rows whose true class is a seed class, the argmax among the six seed
    classes.  ``state_accuracy`` and ``state_balanced_accuracy`` (mean recall of the states present):
    positive/negative by the larger summed probability, over all rows.  ``confusion``: true class ×
    argmax class over all rows and classes; ``state_confusion`` likewise for states.  ``uncertain``:
    how many labels and states :func:`read` records as uncertain at ``min_confidence``.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if len(true) != len(probs):
        raise ExpressionError(f"{len(true)} labels for {len(probs)} predictions")
    index = {c: i for i, c in enumerate(CLASSES)}
    y = np.array([index[c] for c in true], dtype=np.int64)
    pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
    seed = y < len(SEED_CLASSES)
    pred6 = probs[:, : len(SEED_CLASSES)].argmax(axis=1) if len(probs) else pred
    true_state = np.array([STATE[CLASSES[i]] == NEGATIVE for i in y], dtype=np.int64)
    pred_state = state_probabilities(probs).argmax(axis=1) if len(probs) else true_state
    confusion = np.zeros((len(CLASSES), len(CLASSES)), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    state_confusion = np.zeros((2, 2), dtype=np.int64)
    np.add.at(state_confusion, (true_state, pred_state), 1)
    recalls = [state_confusion[s, s] / state_confusion[s].sum() for s in range(2) if state_confusion[s].sum()]
    readings = read(probs, min_confidence=min_confidence) if len(probs) else []
    return {
        "n": len(y),
        "n_seed": int(seed.sum()),
        "accuracy": float(np.mean(pred6[seed] == y[seed])) if seed.any() else float("nan"),
        "state_accuracy": float(np.mean(pred_state == true_state)) if len(y) else float("nan"),
        "state_balanced_accuracy": float(np.mean(recalls)) if recalls else float("nan"),
        "confusion": {"labels": list(CLASSES), "matrix": confusion.tolist()},
        "state_confusion": {"labels": list(STATES), "matrix": state_confusion.tolist()},
        "uncertain": {
            "label": sum(r.label == UNCERTAIN for r in readings),
            "state": sum(r.state == UNCERTAIN for r in readings),
            "min_confidence": min_confidence,
        },
    }


def evaluate(
    labels_csv: Path,
    model: ExpressionModel | None = None,
    *,
    detector: Callable[[Image], Face | None] | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> dict[str, Any]:
    """Score an expression model on a folder laid out like ``faces/expressions``.

    Each photo's face is found by ``detector`` (default :class:`PhotoFaceDetector`, mediapipe's
    full-range model), cropped by :func:`face_crop` (the centred square when no face is found) and
    classified; the metrics are those of :func:`scores`, plus ``no_face`` (photos cropped without a
    detection).

    Parameters
    ----------
    labels_csv
        The folder's ``labels.csv`` (columns ``image,expression``, paths relative to its folder).
    model
        The model to score (default: the shipped weights).
    detector
        Finds a photo's face: RGB image → :class:`Face` or None.
    min_confidence
        The threshold of :func:`read` for the ``uncertain`` counts.

    Raises
    ------
    ExpressionError
        For a missing labels file or column, an unknown label or an unreadable image.
    """
    rows = read_labels(labels_csv)
    model = model or ExpressionModel.load()
    crops, found = photo_crops([path for path, _ in rows], detector)
    probs = model.predict(crops) if crops else np.zeros((0, len(CLASSES)))
    result = scores([label for _, label in rows], probs, min_confidence=min_confidence)
    result["no_face"] = int((~found).sum())
    return result
