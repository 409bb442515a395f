"""Body keypoints of one student per call, read from the region around the student's face (SPEC §5).

**What is read.**  :class:`PoseReader` takes a frame and one student's face box and returns
:class:`Keypoints`: mediapipe's 33 pose landmarks (x, y in frame pixels and a visibility in [0, 1]),
the hands mediapipe finds near this student's wrists (21 points each), and the head's yaw and pitch
in degrees from the face mesh (:func:`head_angles`).  :mod:`learnsight.vision.behaviour` turns
sequences of them into posture behaviours.

**Geometry of the body region** (:func:`body_region`).  Mediapipe's pose model follows *one* person
per image, so the frame is cropped around the student first: with the face box of width ``w`` and
height ``h``, the region spans ``side`` = 3 face-widths to each side of the face, from ``above`` = 1
face-height above its top to ``below`` = 5 face-heights below its bottom (shoulders are ~1.6
face-box widths wide and a seated student's desk is 3–5 face heights below the chin), clipped to
the frame.
Mediapipe's person detector keys on heads, so the faces of the *other* students in the frame
(``others``, which the pipeline has from its face detector) are painted over with the region's
median colour before the pose runs.  The pose found must belong to *this* student
(:func:`head_matches_face`: the centroid of its 11 head landmarks lies within 0.4 face sizes of the
face box's centre).  Otherwise (a neighbour's body was more prominent) the region is narrowed to
``retry_side`` = 1.5 face-widths each side and read once more; failing that the reading is
``None``.  Landmarks are mapped back to frame coordinates.

**Head yaw and pitch** come from the 468-point face mesh (run on the face box grown by half its
size, where it is fast and reliable): the face's outward normal is the cross product of the
cheek-to-cheek axis (points 234 → 454) and the forehead-to-chin axis (10 → 152) with the mesh's depth
coordinate; yaw is the normal's angle left/right about the vertical axis
(``atan2(n_x, −n_z)``), pitch its elevation (``asin n_y``, yaw-then-pitch Euler angles), less a
:data:`PITCH_OFFSET_DEG` that makes frontal photos read 0 (the forehead–chin line leans back a little
in mediapipe's mesh).  Signs: **yaw > 0** when the face turns towards the image's right, **pitch >
0** when the face tilts down (towards a desk).

**Cost** (``benchmarks/bench_posture.py``: the 43 annotated people of ``faces/detection``, after a
warm-up, mediapipe 0.10.21 on 2 CPU cores shared with other jobs): per student, pose + face mesh
58 ms and with hands 100 ms at a load average of ~3; 113 ms and 161 ms at ~6.5.  Hands are
therefore off by default (the rules use the pose model's wrist and fingertip points).  At 30
students a round costs 1.7–3.4 s of CPU, so the pipeline should read posture at a reduced rate:
**one reading per track per second, in 4-reading (4-s) clips slid by 2 s**, giving one behaviour
per student every 2 s.  On synthetic clips the rules lose little at that rate (accuracy 0.92 with 4
readings at 1 Hz against 0.95 with 8 at 2 Hz); with 3 readings at 0.5 Hz they fall to 0.79.

**Limits.**  One person per crop: a neighbour whose body fills the region can still win the pose
model (masking covers faces, not bodies); the head check then rejects the reading rather than
return the neighbour's body.  Desks and the students in front occlude hips, elbows and wrists —
their visibility is then low and the behaviour code ignores points below :data:`MIN_VISIBILITY`.
Faces of 37 px (the smallest in ``faces/detection``) still read well; smaller ones were not tested
(at ~20 px mediapipe's full-range face detector found none in a test clip).  A face turned more
than ~70° away or hidden (head on the desk) gives no mesh: yaw and pitch are then ``None``.
Static-image mode is used because each call may be a different student; no temporal smoothing is
applied here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from learnsight.vision.extra import require
from learnsight.vision.types import Box, Image

FloatArray = NDArray[np.float64]

N_POSE: Final = 33
"""Landmarks in mediapipe's pose model."""
N_HAND: Final = 21
"""Landmarks in mediapipe's hand model."""
MIN_VISIBILITY: Final = 0.3
"""Pose landmarks with a lower visibility are treated as not seen."""
SHOULDERS_PER_FACE: Final = 1.6
"""Shoulder width over face-box width: the median over the 43 annotated people of
``faces/detection`` (10th–90th percentile 1.1–2.0)."""
PITCH_OFFSET_DEG: Final = 7.0
"""Subtracted from the face-mesh pitch: the median raw pitch of the first 150 (mostly frontal,
LFW-style) photos of ``faces/expressions`` was 7.3° (6.8° on their mirror images)."""


class Landmark(IntEnum):
    """Indices of mediapipe's 33 pose landmarks ("left" is the person's left)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


@dataclass(frozen=True)
class Keypoints:
    """One student's body at one instant.

    Attributes
    ----------
    pose
        (33, 3): x and y in frame pixels and mediapipe's visibility in [0, 1], indexed by
        :class:`Landmark`.
    face
        The face box the reading was made for.
    yaw, pitch
        Head angles in degrees from the face mesh (see the module docstring for signs); ``None``
        when no mesh was found.
    hands
        (21, 2) arrays of hand points in frame pixels, for the hands found near this student's wrists.
    region
        The crop of the frame the pose was read in.
    time_s
        Time of the frame in seconds, when the caller knows it.
    """

    pose: FloatArray
    face: Box
    yaw: float | None = None
    pitch: float | None = None
    hands: tuple[FloatArray, ...] = ()
    region: Box | None = None
    time_s: float | None = None

    def __post_init__(self) -> None:
        if self.pose.shape != (N_POSE, 3):
            raise ValueError(f"pose must be ({N_POSE}, 3), got {self.pose.shape}")

    def point(self, landmark: Landmark | int, min_visibility: float = MIN_VISIBILITY) -> FloatArray | None:
        """The (x, y) of ``landmark`` when its visibility is at least ``min_visibility``."""
        row = self.pose[int(landmark)]
        return row[:2] if row[2] >= min_visibility else None


def body_region(
    face: Box, width: int, height: int, *, side: float = 3.0, above: float = 1.0, below: float = 5.0
) -> Box:
    """The part of a ``width`` × ``height`` frame where the body of the student with ``face`` sits.

    ``side`` face-widths left and right of the face, from ``above`` face-heights above its top to
    ``below`` face-heights under its bottom, clipped to the frame.

    >>> body_region(Box(100, 50, 20, 20), 640, 480)
    Box(x=40.0, y=30.0, w=140.0, h=140.0)
    """
    box = Box(
        face.x - side * face.w,
        face.y - above * face.h,
        face.w * (1 + 2 * side),
        face.h * (1 + above + below),
    )
    return box.clipped(width, height)


def head_angles(mesh: FloatArray) -> tuple[float, float]:
    """Yaw and pitch in degrees of a face from its face-mesh points.

    Parameters
    ----------
    mesh
        (n ≥ 455, 3) face-mesh points in one pixel-like unit for x, y (down) and depth z (larger
        = further from the camera), as mediapipe gives them once x and z are scaled by the image
        width and y by its height.

    Returns
    -------
    (yaw, pitch)
        ``yaw > 0``: the face turns towards the image's right; ``pitch > 0``: it tilts down.
        Pitch is corrected by :data:`PITCH_OFFSET_DEG`.
    """
    across = mesh[454] - mesh[234]
    down = mesh[152] - mesh[10]
    across = across / np.linalg.norm(across)
    down = down - across * float(np.dot(down, across))
    down = down / np.linalg.norm(down)
    normal = np.cross(across, down)
    if normal[2] > 0:  # make it point out of the face, towards the camera (smaller depth)
        normal = -normal
    yaw = float(np.degrees(np.arctan2(normal[0], -normal[2])))
    pitch = float(np.degrees(np.arcsin(np.clip(normal[1], -1.0, 1.0)))) - PITCH_OFFSET_DEG
    return yaw, pitch


def head_matches_face(pose: FloatArray, face: Box, tolerance: float = 0.4, drop: float = 0.0) -> bool:
    """Whether the pose's head belongs to ``face``: the centroid of its 11 head landmarks (nose,
    eyes, ears, mouth) lies within ``tolerance`` of the face's width and height from the face
    box's centre — or up to ``drop`` face heights further down (a head lowered onto the desk since
    the box was seen)."""
    cx, cy = pose[: Landmark.MOUTH_RIGHT + 1, :2].mean(axis=0)
    fx, fy = face.center
    dy = cy - fy
    return bool(
        abs(cx - fx) <= tolerance * face.w and -tolerance * face.h <= dy <= (tolerance + drop) * face.h
    )


def body_unit(pose: FloatArray, face: Box) -> float:
    """Pixels per body unit: the shoulder width when both shoulders are seen (and at least 0.8 face
    widths apart: a student turned sideways shows a short shoulder line), else
    :data:`SHOULDERS_PER_FACE` face widths."""
    ls, rs = pose[Landmark.LEFT_SHOULDER], pose[Landmark.RIGHT_SHOULDER]
    if ls[2] >= MIN_VISIBILITY and rs[2] >= MIN_VISIBILITY:
        width = float(np.hypot(ls[0] - rs[0], ls[1] - rs[1]))
        if width >= 0.8 * face.w:
            return width
    return SHOULDERS_PER_FACE * face.w


def _to_array(landmarks: Any, region: Box, with_visibility: bool) -> FloatArray:
    """Mediapipe landmarks (normalised to the crop) as frame-pixel rows."""
    x0, y0 = float(int(region.x)), float(int(region.y))
    rows = [
        (x0 + lm.x * region.w, y0 + lm.y * region.h, *((lm.visibility,) if with_visibility else ()))
        for lm in landmarks.landmark
    ]
    return np.asarray(rows, dtype=np.float64)


def _pixel_box(box: Box) -> Box:
    """``box`` with the integer origin and size that :meth:`Box.crop` actually cuts."""
    x0, y0 = int(box.x), int(box.y)
    return Box(float(x0), float(y0), float(round(box.x + box.w) - x0), float(round(box.y + box.h) - y0))


@dataclass
class PoseReader:
    """Read one student's :class:`Keypoints` from a frame and the student's face box.

    Parameters
    ----------
    hands
        Also run mediapipe's hand model on the body region (+40–50 ms per student) and keep the
        hands whose wrist lies within half a body unit of one of the student's pose wrists.  It only
        runs when a pose wrist is visible.
    face_mesh
        Run the face mesh for yaw and pitch (a few ms per student).
    min_confidence
        Detection confidence for the mediapipe models.
    side, above, below, retry_side
        The body-region geometry (see :func:`body_region` and the module docstring).

    Use as a context manager (or call :meth:`close`) to free the models; not thread-safe — give each
    worker its own reader.
    """

    hands: bool = False
    face_mesh: bool = True
    min_confidence: float = 0.3
    side: float = 3.0
    above: float = 1.0
    below: float = 5.0
    retry_side: float = 1.5
    _models: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def _model(self, name: str) -> Any:
        if name not in self._models:
            solutions = require("mediapipe").solutions
            if name == "pose":
                self._models[name] = solutions.pose.Pose(
                    static_image_mode=True,
                    model_complexity=1,  # the only pose landmark model that ships in the wheel
                    smooth_landmarks=False,
                    enable_segmentation=False,
                    min_detection_confidence=self.min_confidence,
                )
            elif name == "hands":
                self._models[name] = solutions.hands.Hands(
                    static_image_mode=True,
                    max_num_hands=2,
                    model_complexity=0,
                    min_detection_confidence=self.min_confidence,
                )
            else:
                self._models[name] = solutions.face_mesh.FaceMesh(
                    static_image_mode=True,
                    max_num_faces=1,
                    refine_landmarks=False,
                    min_detection_confidence=self.min_confidence,
                )
        return self._models[name]

    def read(
        self,
        image: Image,
        face: Box,
        *,
        others: Sequence[Box] = (),
        face_seen: bool = True,
        time_s: float | None = None,
    ) -> Keypoints | None:
        """The keypoints of the student whose face is ``face`` in ``image`` (RGB), or ``None`` when
        no body belonging to that face is found (see the module docstring).

        ``others`` are the other faces detected in the frame: they are painted over in the crop
        so that the pose model does not lock onto a neighbour.  ``face_seen=False`` says the box is
        the track's last known face, not a detection in this frame (a student who put the head on
        the desk is often lost by the face detector): the head may then lie up to 3 face heights
        below the box (:func:`head_matches_face` ``drop``) and the face mesh is not run.  ``time_s``
        is stored in the result.
        """
        height, width = image.shape[:2]
        pose: FloatArray | None = None
        region = Box(0, 0, 0, 0)
        for side in (self.side, self.retry_side):
            region = _pixel_box(
                body_region(face, width, height, side=side, above=self.above, below=self.below)
            )
            if region.w < 16 or region.h < 16:
                return None
            found = self._pose(image, region, face, others)
            if found is not None and head_matches_face(found, face, drop=0.0 if face_seen else 3.0):
                pose = found
                break
        if pose is None:
            return None
        yaw = pitch = None
        if self.face_mesh and face_seen:
            angles = self.head_pose(image, face)
            if angles is not None:
                yaw, pitch = angles
        hands: tuple[FloatArray, ...] = ()
        wrists = [
            pose[i] for i in (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST) if pose[i, 2] >= MIN_VISIBILITY
        ]
        if self.hands and wrists:
            hands = self._hands(image, region, wrists, 0.5 * body_unit(pose, face))
        return Keypoints(
            pose=pose, face=face, yaw=yaw, pitch=pitch, hands=hands, region=region, time_s=time_s
        )

    def _pose(self, image: Image, region: Box, face: Box, others: Sequence[Box]) -> FloatArray | None:
        crop = np.array(region.crop(image), dtype=np.uint8, copy=True)
        if others:
            fill = np.median(crop.reshape(-1, 3), axis=0).astype(np.uint8)
            for other in others:
                if other.iou(face) > 0.5:
                    continue
                box = other.expanded(0.1)
                shifted = Box(box.x - region.x, box.y - region.y, box.w, box.h)
                b = shifted.clipped(crop.shape[1], crop.shape[0])
                crop[int(b.y) : round(b.y + b.h), int(b.x) : round(b.x + b.w)] = fill
        result = self._model("pose").process(crop)
        if result.pose_landmarks is None:
            return None
        return _to_array(result.pose_landmarks, region, with_visibility=True)

    def head_pose(self, image: Image, face: Box) -> tuple[float, float] | None:
        """Yaw and pitch in degrees (:func:`head_angles`) of the face in ``face`` (grown by half its
        size), or ``None`` when the face mesh finds no face there."""
        box = _pixel_box(face.expanded(0.5).clipped(image.shape[1], image.shape[0]))
        if box.w < 8 or box.h < 8:
            return None
        crop = np.ascontiguousarray(box.crop(image))
        result = self._model("face_mesh").process(crop)
        if not result.multi_face_landmarks:
            return None
        mesh = np.asarray(
            [(lm.x * box.w, lm.y * box.h, lm.z * box.w) for lm in result.multi_face_landmarks[0].landmark],
            dtype=np.float64,
        )
        return head_angles(mesh)

    def _hands(
        self, image: Image, region: Box, wrists: list[FloatArray], reach: float
    ) -> tuple[FloatArray, ...]:
        crop = np.ascontiguousarray(region.crop(image))
        result = self._model("hands").process(crop)
        kept: list[FloatArray] = []
        for hand in result.multi_hand_landmarks or ():
            points = _to_array(hand, region, with_visibility=False)
            if any(float(np.hypot(*(points[0] - w[:2]))) <= reach for w in wrists):
                kept.append(points)
        return tuple(kept)

    def close(self) -> None:
        """Free the mediapipe models."""
        for model in self._models.values():
            model.close()
        self._models.clear()

    def __enter__(self) -> PoseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
