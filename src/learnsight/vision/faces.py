"""Face detection (SPEC §5): mediapipe (default), dlib's HOG detector or OpenCV's Haar cascade.

Backends
--------
``mediapipe``
    MediaPipe Face Detection (BlazeFace; Bazarevsky et al., "BlazeFace: Sub-millisecond Neural Face
    Detection on Mobile GPUs", 2019).  ``full_range=True`` (the default, a classroom camera) is the
    full-range model for faces up to about 5 m away; ``full_range=False`` is the short-range model for
    faces within about 2 m, i.e. close-ups and portraits (roster photos, where the full-range model
    misses most faces that fill the frame).  Gives six keypoints per face (right eye, left eye, nose
    tip, mouth centre, right ear, left ear).
``hog``
    dlib's HOG + linear SVM frontal detector (Dalal & Triggs 2005; King, "Max-Margin Object
    Detection", 2015).  Slower (about 10× on CPU), frontal faces only, no keypoints; scores are the SVM
    margin mapped through a logistic, so 0.5 is dlib's own threshold.
``haar``
    OpenCV's Viola–Jones cascade ``haarcascade_frontalface_default.xml`` (Viola & Jones 2001); the
    baseline of the source method.  Scores are the last stage's weight through a logistic.

Limits of the default model and what tiling costs
-------------------------------------------------
The full-range model sees the whole frame at 192 × 192 pixels, so a face smaller than about 1/20 of
the frame's width (≈ 25 px in a 500 px frame, ≈ 95 px in a 1920 px classroom frame) is often missed;
upscaling the whole frame does not help (the model resizes it back).  ``tiles=n`` also runs the model
on an n × n grid of overlapping tiles (``tile_overlap`` of a tile shared with its neighbour), each
upscaled by the model to 192 × 192, and merges all detections by non-maximum suppression; it costs
``1 + n²`` model runs per frame.  On the dlib/PASCAL faces of ``detection/testing.xml`` (37–109 px
faces in ~500 px images) one pass already finds 24 of 25 faces; ``tiles=2`` finds all 25 at about
4× the time (measured 8 vs 34 ms per image, 21 vs 82 ms on a busier machine;
``benchmarks/bench_faces.py`` prints both).

``short_range_tiles`` also runs the short-range model on the tiles, for faces that fill a good part
of a tile (near the camera, or a tight head), which the full-range model misses: on the synthetic
30-seat lesson of ``bench_video.py`` (4 × 4 tiles of a 720p frame) the faces found rise from 75 %
to 84 % of the people in view, with no false face, for ~40 ms more per frame.

Box convention
--------------
Each backend draws its box differently (mediapipe's includes the forehead, dlib's is a tight square
from the eyebrows to the chin).  :class:`BoxTransform` maps a backend's box to dlib's convention (the
one of the annotations and of dlib's shape predictors).  The transforms in :data:`BOX_TRANSFORMS`
were fitted once with :func:`fit_box_transform` on ``detection/training.xml`` only (the medians of the
offsets and scales of the matched boxes; never on ``testing.xml``); a test refits them.
"""

from __future__ import annotations

import math
import statistics
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from learnsight.errors import LearnsightError
from learnsight.vision.extra import require
from learnsight.vision.types import Box, Face, Image

Backend = Literal["mediapipe", "hog", "haar"]

SHORT_RANGE_MIN_SCORE = 0.65
"""The lowest score of a short-range detection on a tile (``short_range_tiles``): on the 4 × 4
tiles of ``detection/training.xml`` (never ``testing.xml``) the short-range model's false detections
score 0.56–0.63 and 19 of its 27 true ones 0.82 or more; the model's own threshold (0.5) lets
small tiles of a busy photo produce faces out of clothes and background."""


class FaceDetectionError(LearnsightError):
    """A face detector or an annotation file cannot be used."""


@dataclass(frozen=True)
class BoxTransform:
    """A fixed affine map of a detector's box onto another box convention.

    ``x' = x + dx·w``, ``y' = y + dy·h``, ``w' = sw·w``, ``h' = sh·h``.

    >>> BoxTransform(0.1, 0.2, 0.8, 0.5).apply(Box(10, 10, 100, 100))
    Box(x=20.0, y=30.0, w=80.0, h=50.0)
    """

    dx: float = 0.0
    dy: float = 0.0
    sw: float = 1.0
    sh: float = 1.0

    def apply(self, box: Box) -> Box:
        return Box(box.x + self.dx * box.w, box.y + self.dy * box.h, self.sw * box.w, self.sh * box.h)


IDENTITY = BoxTransform()

BOX_TRANSFORMS: dict[str, BoxTransform] = {
    # fit_box_transform(training.xml, FaceDetector(<backend>)) with the default settings (tiles=1):
    "mediapipe-full": BoxTransform(dx=-0.006, dy=0.011, sw=1.007, sh=0.987),  # 17 matched faces
    "mediapipe-short": BoxTransform(dx=-0.057, dy=-0.062, sw=1.066, sh=1.066),  # only 6: the big ones
    "hog": BoxTransform(dx=0.027, dy=0.0, sw=1.0, sh=1.0),  # 18
    "haar": BoxTransform(dx=0.012, dy=0.099, sw=0.927, sh=0.919),  # 13
}
"""Box maps onto dlib's annotation convention, fitted on ``detection/training.xml`` (see module doc)."""


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def nms(faces: list[Face], iou_threshold: float) -> list[Face]:
    """Greedy non-maximum suppression: keep the highest-scoring face of each overlapping group.

    >>> a, b = Face(Box(0, 0, 10, 10), 0.9), Face(Box(1, 1, 10, 10), 0.8)
    >>> nms([b, a], 0.3) == [a]
    True
    """
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(face.box.iou(k.box) <= iou_threshold for k in kept):
            kept.append(face)
    return kept


def tile_grid(width: int, height: int, tiles: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """The ``tiles × tiles`` overlapping tiles of a ``width × height`` image as (x0, y0, x1, y1).

    >>> tile_grid(100, 100, 2, 0.25)
    [(0, 0, 58, 58), (42, 0, 100, 58), (0, 42, 58, 100), (42, 42, 100, 100)]
    """
    if tiles < 2:
        return []
    tw = width / (tiles - (tiles - 1) * overlap)
    th = height / (tiles - (tiles - 1) * overlap)
    out = []
    for i in range(tiles):
        for j in range(tiles):
            x0, y0 = int(j * tw * (1 - overlap)), int(i * th * (1 - overlap))
            out.append((x0, y0, min(width, math.ceil(x0 + tw)), min(height, math.ceil(y0 + th))))
    return out


class FaceDetector:
    """Find faces in RGB images.

    Parameters
    ----------
    backend
        ``"mediapipe"`` (default), ``"hog"`` or ``"haar"`` (see the module doc).
    min_score
        Faces scoring below are dropped (all backends give scores in [0, 1]); default 0.5, which is
        mediapipe's own default and dlib's / OpenCV's zero margin.
    min_size
        Faces whose box (dlib's convention) is smaller than this many pixels on its shorter side are
        dropped; default 0 (keep all).
    full_range
        mediapipe only: the full-range model (default; far faces) or the short-range one (close-ups).
    tiles
        Also detect on a ``tiles × tiles`` grid of overlapping tiles (small faces; costs
        ``1 + tiles²`` passes).  1 = whole frame only.
    tile_overlap
        Fraction of a tile shared with its neighbour (a face cut by one tile is whole in the next).
    short_range_tiles
        mediapipe's full-range model only: also run the **short-range** model on the tiles.  A face
        that fills much of a tile (a student near the camera, a tight head) is what the short-range
        model is made for and what the full-range one misses; the detections of both are mapped to
        dlib's box convention, each by its own :data:`BOX_TRANSFORMS` entry, before they are merged.
    nms_iou
        IoU above which two detections (from different tiles) are the same face.
    upsample
        hog only: how many times dlib doubles the image first (1 finds faces down to ~40 px).
    box_transform
        Map of the backend's boxes (``None``: the :data:`BOX_TRANSFORMS` entry of the backend, i.e.
        dlib's convention; pass :data:`IDENTITY` for the raw boxes).
    """

    def __init__(
        self,
        backend: Backend = "mediapipe",
        *,
        min_score: float = 0.5,
        min_size: float = 0.0,
        full_range: bool = True,
        tiles: int = 1,
        tile_overlap: float = 0.25,
        short_range_tiles: bool = False,
        nms_iou: float = 0.3,
        upsample: int = 1,
        box_transform: BoxTransform | None = None,
    ) -> None:
        if backend not in ("mediapipe", "hog", "haar"):
            raise FaceDetectionError(f"face detector: unknown backend {backend!r} (mediapipe, hog, haar)")
        if not 0.0 <= min_score <= 1.0:
            raise FaceDetectionError(f"face detector: min_score {min_score} is outside [0, 1]")
        if not min_size >= 0:
            raise FaceDetectionError(f"face detector: min_size {min_size} is negative")
        if tiles < 1 or not 0.0 <= tile_overlap < 1.0:
            raise FaceDetectionError(f"face detector: bad tiling (tiles={tiles}, overlap={tile_overlap})")
        self.backend: Backend = backend
        self.min_score = min_score
        self.min_size = min_size
        self.full_range = full_range
        self.tiles = tiles
        self.tile_overlap = tile_overlap
        self.nms_iou = nms_iou
        self.upsample = upsample
        self.key = f"mediapipe-{'full' if full_range else 'short'}" if backend == "mediapipe" else backend
        self.box_transform = BOX_TRANSFORMS[self.key] if box_transform is None else box_transform
        self._model: Any = None
        self._short: Any = None
        self._closed = False
        if short_range_tiles and not (backend == "mediapipe" and full_range and tiles > 1):
            raise FaceDetectionError(
                "face detector: short_range_tiles needs mediapipe's full-range model and tiles"
            )
        if backend == "mediapipe":
            mp = require("mediapipe")
            # The model's own threshold is set low; min_score is applied after the merge.
            self._model = mp.solutions.face_detection.FaceDetection(
                model_selection=1 if full_range else 0,
                min_detection_confidence=min(min_score, 0.5),
            )
            if short_range_tiles:
                self._short = mp.solutions.face_detection.FaceDetection(
                    model_selection=0, min_detection_confidence=min(min_score, 0.5)
                )
        elif backend == "hog":
            self._model = require("dlib").get_frontal_face_detector()
        else:
            cv2 = require("cv2")
            path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
            self._model = cv2.CascadeClassifier(str(path))
            if self._model.empty():
                raise FaceDetectionError(f"{path}: cannot load the Haar cascade")

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the model (mediapipe holds a graph and its threads)."""
        if not self._closed and self.backend == "mediapipe" and self._model is not None:
            self._model.close()
            if self._short is not None:
                self._short.close()
        self._closed = True
        self._model = self._short = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FaceDetector({self.key!r}, min_score={self.min_score}, tiles={self.tiles})"

    # -- detection ---------------------------------------------------------------------------------
    def detect(self, image: Image) -> list[Face]:
        """The faces in ``image`` (RGB ``uint8``), best first; boxes in pixels (dlib's convention unless
        ``box_transform`` says otherwise), keypoints when the backend gives them."""
        if self._closed:
            raise FaceDetectionError("face detector: detect() after close()")
        image = _check_image(image)
        height, width = image.shape[:2]
        faces = self._detect_raw(image)
        close: list[Face] = []
        for x0, y0, x1, y1 in tile_grid(width, height, self.tiles, self.tile_overlap):
            tile = np.ascontiguousarray(image[y0:y1, x0:x1])
            faces.extend(_shifted(f, x0, y0) for f in self._detect_raw(tile))
            if self._short is not None:
                floor = max(self.min_score, SHORT_RANGE_MIN_SCORE)
                close.extend(
                    _shifted(f, x0, y0) for f in self._mediapipe(tile, self._short) if f.score >= floor
                )
        if self._short is not None:  # two conventions: map each to dlib's, then merge
            short = BOX_TRANSFORMS["mediapipe-short"]
            mapped = [Face(self.box_transform.apply(f.box), f.score, f.keypoints) for f in faces]
            mapped += [Face(short.apply(f.box), f.score, f.keypoints) for f in close]
            out = [f for f in nms(mapped, self.nms_iou) if f.score >= self.min_score]
        else:
            if self.tiles > 1:
                faces = nms(faces, self.nms_iou)
            faces = [f for f in faces if f.score >= self.min_score]
            out = [Face(self.box_transform.apply(f.box), f.score, f.keypoints) for f in faces]
        out = [f for f in out if min(f.box.w, f.box.h) >= self.min_size]
        return sorted(out, key=lambda f: -f.score)

    def _detect_raw(self, image: Image) -> list[Face]:
        if self.backend == "mediapipe":
            return self._mediapipe(image)
        if self.backend == "hog":
            return self._hog(image)
        return self._haar(image)

    def _mediapipe(self, image: Image, model: Any = None) -> list[Face]:
        height, width = image.shape[:2]
        result = (model or self._model).process(image)
        faces = []
        for detection in result.detections or []:
            loc = detection.location_data
            bb = loc.relative_bounding_box
            keypoints = np.array(
                [(k.x * width, k.y * height) for k in loc.relative_keypoints], dtype=np.float64
            )
            box = Box(bb.xmin * width, bb.ymin * height, bb.width * width, bb.height * height)
            faces.append(Face(box, float(detection.score[0]), keypoints if len(keypoints) else None))
        return faces

    def _hog(self, image: Image) -> list[Face]:
        # adjust_threshold -1 returns weak candidates too; min_score (0.5 = margin 0) filters them.
        rects, scores, _ = self._model.run(image, self.upsample, -1.0)
        return [
            Face(Box(r.left(), r.top(), r.width(), r.height()), _sigmoid(float(s)))
            for r, s in zip(rects, scores, strict=True)
        ]

    def _haar(self, image: Image) -> list[Face]:
        cv2 = require("cv2")
        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        boxes, _, weights = self._model.detectMultiScale3(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20), outputRejectLevels=True
        )
        return [
            Face(Box(float(x), float(y), float(w), float(h)), _sigmoid(float(wt)))
            for (x, y, w, h), wt in zip(np.asarray(boxes).reshape(-1, 4), np.ravel(weights), strict=True)
        ]


def _shifted(face: Face, dx: float, dy: float) -> Face:
    b = face.box
    kp = face.keypoints + np.array([dx, dy]) if face.keypoints is not None else None
    return Face(Box(b.x + dx, b.y + dy, b.w, b.h), face.score, kp)


def _check_image(image: Image) -> Image:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise FaceDetectionError(f"image: expected an RGB array (height, width, 3), got shape {shape}")
    if image.dtype != np.uint8:
        raise FaceDetectionError(f"image: expected uint8 pixels, got {image.dtype}")
    return np.ascontiguousarray(image)


def read_image(path: Path | str) -> Image:
    """Read an image file as RGB ``uint8`` (grey and RGBA files are converted).

    Raises :class:`FaceDetectionError` naming the file when it is missing or not a decodable image.
    """
    cv2 = require("cv2")
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise FaceDetectionError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise FaceDetectionError(f"{path}: not a readable image")
    rgb: Image = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return rgb


# -- annotations and evaluation --------------------------------------------------------------------
def load_imglab(xml_path: Path | str) -> list[tuple[str, list[Box]]]:
    """The images and face boxes of a dlib imglab XML file (``<image file=…><box top left width
    height/>``), in file order; boxes marked ``ignore='1'`` are left out."""
    xml_path = Path(xml_path)
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise FaceDetectionError(f"{xml_path}: not a readable imglab XML file: {exc}") from exc
    out: list[tuple[str, list[Box]]] = []
    for i, node in enumerate(root.iter("image")):
        file = node.get("file")
        if not file:
            raise FaceDetectionError(f"{xml_path}: image {i} has no file attribute")
        boxes = []
        for box in node.iter("box"):
            if box.get("ignore", "0") not in ("0", ""):
                continue
            try:
                left, top = float(box.attrib["left"]), float(box.attrib["top"])
                width, height = float(box.attrib["width"]), float(box.attrib["height"])
            except (KeyError, ValueError) as exc:
                raise FaceDetectionError(f"{xml_path}: {file}: a box lacks top/left/width/height") from exc
            boxes.append(Box(left, top, width, height))
        out.append((file, boxes))
    return out


def match_boxes(truth: list[Box], found: list[Face], iou_threshold: float = 0.5) -> int:
    """How many true boxes are matched, greedily in order of score, each detection used at most once
    (PASCAL VOC's rule)."""
    free = list(range(len(truth)))
    matched = 0
    for face in sorted(found, key=lambda f: -f.score):
        if not free:
            break
        best = max(free, key=lambda i: truth[i].iou(face.box))
        if truth[best].iou(face.box) >= iou_threshold:
            free.remove(best)
            matched += 1
    return matched


def evaluate_detection(
    xml_path: Path | str, detector: FaceDetector, *, iou_threshold: float = 0.5
) -> dict[str, Any]:
    """Recall and precision of ``detector`` on an imglab file at IoU ≥ ``iou_threshold``.

    Returns ``recall``, ``precision``, ``n_boxes``, ``n_detections``, ``true_positives``,
    ``seconds_per_image`` (detection only, no decoding) and ``per_image`` (one dict per image with
    ``file``, ``n_boxes``, ``n_detections``, ``true_positives``, ``recall``, ``precision``).
    """
    xml_path = Path(xml_path)
    per_image = []
    tp = n_boxes = n_found = 0
    seconds = 0.0
    for file, boxes in load_imglab(xml_path):
        image = read_image(xml_path.parent / file)
        started = time.perf_counter()
        faces = detector.detect(image)
        seconds += time.perf_counter() - started
        hits = match_boxes(boxes, faces, iou_threshold)
        tp, n_boxes, n_found = tp + hits, n_boxes + len(boxes), n_found + len(faces)
        per_image.append(
            {
                "file": file,
                "n_boxes": len(boxes),
                "n_detections": len(faces),
                "true_positives": hits,
                "recall": hits / len(boxes) if boxes else 1.0,
                "precision": hits / len(faces) if faces else 1.0,
            }
        )
    return {
        "recall": tp / n_boxes if n_boxes else 1.0,
        "precision": tp / n_found if n_found else 1.0,
        "n_boxes": n_boxes,
        "n_detections": n_found,
        "true_positives": tp,
        "iou_threshold": iou_threshold,
        "seconds_per_image": seconds / len(per_image) if per_image else 0.0,
        "per_image": per_image,
    }


def fit_box_transform(xml_path: Path | str, detector: FaceDetector, *, min_iou: float = 0.3) -> BoxTransform:
    """The :class:`BoxTransform` from ``detector``'s raw boxes to the annotated boxes of
    ``xml_path``: the medians over detections matched to an annotation (raw IoU ≥ ``min_iou``) of
    ``(ax − x)/w``, ``(ay − y)/h``, ``aw/w``, ``ah/h``.  Fit it on a training file only."""
    xml_path = Path(xml_path)
    raw = FaceDetector(
        detector.backend,
        min_score=detector.min_score,
        full_range=detector.full_range,
        tiles=detector.tiles,
        tile_overlap=detector.tile_overlap,
        nms_iou=detector.nms_iou,
        upsample=detector.upsample,
        box_transform=IDENTITY,
    )
    rows: list[tuple[float, float, float, float]] = []
    with raw:
        for file, boxes in load_imglab(xml_path):
            faces = raw.detect(read_image(xml_path.parent / file))
            for truth in boxes:
                best = max(faces, key=lambda f: truth.iou(f.box), default=None)
                if best is None or truth.iou(best.box) < min_iou:
                    continue
                b = best.box
                rows.append(((truth.x - b.x) / b.w, (truth.y - b.y) / b.h, truth.w / b.w, truth.h / b.h))
    if not rows:
        raise FaceDetectionError(f"{xml_path}: {detector!r} matched no annotated face; cannot fit")
    dx, dy, sw, sh = (statistics.median(col) for col in zip(*rows, strict=True))
    return BoxTransform(round(dx, 3), round(dy, 3), round(sw, 3), round(sh, 3))
