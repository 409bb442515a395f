"""Posture behaviours from short clips of one student's keypoints (SPEC §5).

Six behaviours, named as the classroom indicators count them (:data:`BEHAVIOURS`): *upright*,
*writing*, *hand-raised* (positive) and *lying-on-desk*, *looking-around*, *phone* (negative).  A
**clip** is the sequence of :class:`~learnsight.vision.posture.Keypoints` read for one student over a
few seconds — by default 8 readings at 2 per second (4 s); ``None`` marks a reading that failed.
Three readers map a clip to a :class:`BehaviourReading`; each answers :data:`UNCERTAIN` rather than
forcing a label when the evidence is weak (SPEC §5 sends those cases to an expert):

* :class:`GeometricRules` (the default) — documented thresholds on normalised body geometry;
* :class:`BehaviourSVM` — the seed's SVM on clip statistics (:func:`clip_features`);
* :class:`Behaviour3DCNN` — an optional small 3-D CNN on rendered keypoint heat-maps
  (:func:`render_clip`), trained on labelled clips.

**Normalised geometry** (:func:`reading_measures`).  All lengths are divided by the student's body
unit ``u`` — the shoulder width in pixels, or 1.6 face widths when the shoulders are not both seen
(:func:`~learnsight.vision.posture.body_unit`) — and measured from the shoulder midpoint ``S``, with
image ``y`` pointing down, so camera distance and position do not matter.  Per reading:

===================  =========================================================================
``head_height``      ``(S.y − nose.y) / u``: median 0.57 (10th–90th percentile 0.48–0.69) for the
                     43 people of the ``faces/detection`` photos, taken at eye level; a camera
                     looking down lowers it (≈ 0.5 at 20°); about 0 with the head bowed over the
                     desk, below 0 with the head on it
``head_offset``      ``(nose.x − S.x) / u``
``yaw``, ``pitch``   head angles in degrees from the face mesh (pitch > 0: looking down)
``nose_turn``        ``(nose.x − ears' midpoint.x) / u``: a yaw proxy that needs no face mesh
``wrist_over_nose``  highest visible wrist above the nose, ``(nose.y − wrist.y) / u``
``wrist_rise``       highest visible wrist above the shoulder line, ``(S.y − wrist.y) / u``
``low_wrist_drop``   lowest visible wrist below the shoulder line, ``(wrist.y − S.y) / u``
``low_wrist_side``   ``|wrist.x − S.x| / u`` of that wrist
``wrist_gap``        distance between the two wrists / ``u`` (both visible)
``hands_drop``       the wrists' midpoint below the shoulder line / ``u`` (both visible)
``hands_side``       ``|midpoint.x − S.x| / u`` (both visible)
``hand_face``        nearest visible wrist or index fingertip to the nose / ``u``
``shoulder_tilt``    angle of the shoulder line, degrees
``wrists_seen``      number of wrists with visibility ≥ 0.3
===================  =========================================================================

and per clip: ``wrist_motion`` (the larger of the two wrists' RMS deviation from their mean
position relative to ``S``, in ``u``), ``head_motion`` (the same for the nose) and ``yaw_range``
(max − min yaw, degrees).  A reading without both shoulders and the nose is not *usable*.

**Geometric rules** (:class:`RuleThresholds` holds every number; lengths in ``u``).  The face mesh
measures pitch against the camera's line of sight, and a camera mounted above the board sees a
level face tilted down by its own angle, so the rules first subtract
:attr:`GeometricRules.camera_pitch` (default 20°; set it per camera).  Each behaviour has a
per-reading predicate; its *support* is the share of usable readings where it holds ("pitch ≥ x"
holds when the pitch is unknown, so a lost face mesh does not veto a rule by itself):

* **hand-raised**: a wrist ``raise_above_nose`` = 0.15 above the nose and ``raise_above_shoulders``
  = 0.5 above the shoulder line (the second keeps hands beside a head lying on the desk out);
* **lying-on-desk**: ``head_height ≤ lying_head_height`` = −0.1 (nose below the shoulder line) and
  pitch ≥ ``lying_min_pitch`` = 50°; over the clip ``head_motion ≤ still_head`` = 0.2;
* the head is **low** when ``−0.1 < head_height ≤ head_down_height`` = 0.3;
* **phone**: head low, pitch ≥ ``phone_min_pitch`` = 15°, and the *phone grip*: both wrists seen,
  ``wrist_gap ≤ phone_wrist_gap`` = 0.4, ``hands_side ≤ phone_hands_side`` = 0.5 and
  ``hands_drop`` within ``phone_hands_drop`` = 0.2–0.9 (held up in front of the chest);
* **looking-around**: ``|yaw| ≥ look_yaw`` = 35° (mesh lost: ``|nose_turn| ≥ look_nose_turn`` =
  0.25); in a *sweeping* clip (``yaw_range ≥ sweep_range`` = 50° over ≥ 3 readings) ``|yaw| ≥
  sweep_yaw`` = 15° is enough;
* **writing**: head low, pitch within ``writing_pitch`` = 10°–60°, the lowest wrist at desk level
  (``desk_drop`` = 0.5–2.0 below the shoulders, within ``desk_side`` = 1.0 of the midline), no
  phone grip, ``|yaw| < 35°``.  ``writing_motion`` (default 0, off) can also require the clip's
  ``wrist_motion`` to reach a level: the brief's "small periodic wrist motion" cannot be told from
  keypoint jitter at classroom resolution — mediapipe's wrists on *still* people in the
  ``faces/detection`` photos, re-read after 1–2 px shifts and JPEG re-encoding, move by a median
  0.09 u (90th percentile 0.30 u), as much as a writing hand; and at 2 readings per second a 1–3 Hz
  pen motion is aliased anyway;
* **upright**: ``head_height ≥ upright_head_height`` = 0.30, pitch within ``upright_pitch`` =
  −25°…20°, ``|yaw| < upright_yaw`` = 25° (mesh lost: ``|nose_turn| < 0.15``), no wrist above the
  nose.

Decision: fewer than ``min_readings`` = 3 usable readings, or under half of the clip usable →
uncertain.  Hand-raised wins when its support reaches ``min_share`` = 0.6 (an explicit gesture
overrides the rest); otherwise the behaviour with the highest support wins if it reaches 0.6 and no
other behaviour does — else uncertain (a clip in which the student changes behaviour half-way
splits its support and stays uncertain).  Confidence = support × the usable share of the clip.

Where the numbers come from: body proportions (``head_height`` of upright people measured on real
photos; a raised wrist is above the head; a desk is 0.5–2 shoulder widths below the shoulder line in
the image) and the parametric body model of :func:`synthesize_clip`, whose camera looks down at
10°–30°.  They are **not** tuned on labelled classroom video — none was available; calibrate them
(and ``camera_pitch``) on annotated lessons (:func:`train_from_annotations`) when there are some.

**Known limits of the rules**: reading with the hands on the desk looks like writing; one-handed
phone use below the desk looks like writing; a hand resting on the head reads as hand-raised; the
student in front often hides the wrists (writing and phone then cannot be decided); the pitch
thresholds assume ``camera_pitch`` is right within ~10°.

**Annotations** (:func:`load_annotations`) are a CSV with the header
``video,start_s,end_s,track,behaviour``: ``video`` a path relative to the CSV file; ``start_s`` <
``end_s`` seconds into it; ``track`` who (``*``, ``face:K``, ``box:x,y,w,h`` or a tracker id — see
:class:`TrackSpec` and :func:`read_annotated`); ``behaviour`` one of :data:`BEHAVIOURS`.  Every span
is sampled at ``rate_hz`` and cut into clips of ``clip_s`` seconds for training.
"""

from __future__ import annotations

import csv
import math
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import joblib  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.model_selection import (  # type: ignore[import-untyped]
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.neighbors import NearestNeighbors  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]
from sklearn.svm import SVC  # type: ignore[import-untyped]

from learnsight.errors import LearnsightError
from learnsight.vision.extra import require
from learnsight.vision.posture import (
    MIN_VISIBILITY,
    N_POSE,
    SHOULDERS_PER_FACE,
    Keypoints,
    Landmark,
    PoseReader,
    body_unit,
)
from learnsight.vision.types import Box, Image

FloatArray = NDArray[np.float64]
Clip = Sequence[Keypoints | None]
"""One student's keypoint readings over a few seconds, in time order; ``None``: a failed reading."""

BEHAVIOURS: Final = ("upright", "writing", "hand-raised", "lying-on-desk", "looking-around", "phone")
"""The posture classes, exactly as the classroom statements' ``response`` values."""
POSITIVE_BEHAVIOURS: Final = frozenset(BEHAVIOURS[:3])
UNCERTAIN: Final = "uncertain"
"""The label of a clip the reader cannot decide."""

MEASURES: Final = (
    "head_height",
    "head_offset",
    "yaw",
    "pitch",
    "nose_turn",
    "wrist_over_nose",
    "wrist_rise",
    "low_wrist_drop",
    "low_wrist_side",
    "wrist_gap",
    "hands_drop",
    "hands_side",
    "hand_face",
    "shoulder_tilt",
    "wrists_seen",
)
"""The per-reading quantities of :func:`reading_measures`, in order."""
_M: Final = {name: i for i, name in enumerate(MEASURES)}
CLIP_MEASURES: Final = ("wrist_motion", "head_motion", "yaw_range", "usable_share")
"""The per-clip quantities appended by :func:`clip_features`."""
STATISTICS: Final = ("mean", "std", "min", "max", "seen")
"""Per measure, :func:`clip_features` gives these statistics over the clip (``seen``: the share of
readings where the measure was available)."""


@dataclass(frozen=True)
class BehaviourReading:
    """A reader's answer for one clip: a label of :data:`BEHAVIOURS` or :data:`UNCERTAIN`, and a
    confidence in [0, 1] (0 for uncertain)."""

    label: str
    confidence: float

    @property
    def positive(self) -> bool | None:
        """Whether the behaviour counts as positive; ``None`` when uncertain."""
        return None if self.label == UNCERTAIN else self.label in POSITIVE_BEHAVIOURS


class BehaviourReader(Protocol):
    """Anything that maps a clip to a :class:`BehaviourReading`."""

    def read(self, clip: Clip) -> BehaviourReading: ...


class AnnotationError(LearnsightError):
    """An annotation CSV that cannot be used; the message names the file, line and field."""


# --------------------------------------------------------------------------------------------------
# Normalised geometry


def reading_measures(kp: Keypoints) -> FloatArray | None:
    """The :data:`MEASURES` of one reading (NaN where a part is not seen), or ``None`` when the
    reading is not usable (no shoulder line or nose).  See the module docstring for definitions."""
    pose = kp.pose
    ls, rs, nose = pose[Landmark.LEFT_SHOULDER], pose[Landmark.RIGHT_SHOULDER], pose[Landmark.NOSE]
    if min(ls[2], rs[2], nose[2]) < MIN_VISIBILITY:
        return None
    u = body_unit(pose, kp.face)
    sx, sy = (ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2
    out = np.full(len(MEASURES), np.nan)
    out[_M["head_height"]] = (sy - nose[1]) / u
    out[_M["head_offset"]] = (nose[0] - sx) / u
    if kp.yaw is not None:
        out[_M["yaw"]] = kp.yaw
    if kp.pitch is not None:
        out[_M["pitch"]] = kp.pitch
    ears_x = (pose[Landmark.LEFT_EAR, 0] + pose[Landmark.RIGHT_EAR, 0]) / 2
    out[_M["nose_turn"]] = (nose[0] - ears_x) / u
    wrists = [
        pose[i, :2] for i in (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST) if pose[i, 2] >= MIN_VISIBILITY
    ]
    out[_M["wrists_seen"]] = len(wrists)
    if wrists:
        high = min(wrists, key=lambda w: float(w[1]))
        low = max(wrists, key=lambda w: float(w[1]))
        out[_M["wrist_over_nose"]] = (nose[1] - high[1]) / u
        out[_M["wrist_rise"]] = (sy - high[1]) / u
        out[_M["low_wrist_drop"]] = (low[1] - sy) / u
        out[_M["low_wrist_side"]] = abs(low[0] - sx) / u
        tips = [*wrists]
        tips += [
            pose[i, :2] for i in (Landmark.LEFT_INDEX, Landmark.RIGHT_INDEX) if pose[i, 2] >= MIN_VISIBILITY
        ]
        out[_M["hand_face"]] = min(float(np.hypot(*(t - nose[:2]))) for t in tips) / u
    if len(wrists) == 2:
        mid = (wrists[0] + wrists[1]) / 2
        out[_M["wrist_gap"]] = float(np.hypot(*(wrists[0] - wrists[1]))) / u
        out[_M["hands_drop"]] = (mid[1] - sy) / u
        out[_M["hands_side"]] = abs(mid[0] - sx) / u
    out[_M["shoulder_tilt"]] = abs(math.degrees(math.atan2(ls[1] - rs[1], abs(ls[0] - rs[0]) + 1e-9)))
    return out


def _relative_motion(clip: Clip, landmark: Landmark) -> float:
    """RMS deviation (in body units) of a landmark from its mean position relative to the shoulder
    midpoint, over the readings where it is seen; NaN with fewer than 3."""
    rel = []
    for kp in clip:
        if kp is None:
            continue
        p = kp.pose
        ls, rs, q = p[Landmark.LEFT_SHOULDER], p[Landmark.RIGHT_SHOULDER], p[int(landmark)]
        if min(ls[2], rs[2], q[2]) < MIN_VISIBILITY:
            continue
        u = body_unit(p, kp.face)
        rel.append(((q[0] - (ls[0] + rs[0]) / 2) / u, (q[1] - (ls[1] + rs[1]) / 2) / u))
    if len(rel) < 3:
        return math.nan
    arr = np.asarray(rel)
    return float(np.sqrt(((arr - arr.mean(axis=0)) ** 2).sum(axis=1).mean()))


@dataclass(frozen=True)
class ClipMeasures:
    """A clip's per-reading measures (rows: usable readings) and per-clip quantities."""

    readings: FloatArray
    n: int
    wrist_motion: float
    head_motion: float
    yaw_range: float

    @property
    def usable(self) -> int:
        return int(self.readings.shape[0])

    def column(self, name: str) -> FloatArray:
        return self.readings[:, _M[name]]


def clip_measures(clip: Clip) -> ClipMeasures:
    """The measures of every usable reading of ``clip`` and the clip's motion quantities."""
    rows = [m for m in (reading_measures(kp) for kp in clip if kp is not None) if m is not None]
    readings = np.vstack(rows) if rows else np.empty((0, len(MEASURES)))
    yaw = readings[:, _M["yaw"]]
    yaw = yaw[~np.isnan(yaw)]
    motion = [_relative_motion(clip, w) for w in (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST)]
    seen = [m for m in motion if not math.isnan(m)]
    return ClipMeasures(
        readings=readings,
        n=len(clip),
        wrist_motion=max(seen) if seen else math.nan,
        head_motion=_relative_motion(clip, Landmark.NOSE),
        yaw_range=float(yaw.max() - yaw.min()) if yaw.size >= 3 else math.nan,
    )


def clip_features(clip: Clip) -> FloatArray:
    """The clip statistics the SVM reads: for each of :data:`MEASURES` its mean, standard deviation,
    minimum, maximum and seen share over the usable readings (:data:`STATISTICS`), then
    :data:`CLIP_MEASURES`.  Unavailable values are 0 (the ``seen`` columns say so), so the vector
    is always finite; its length is ``5 × len(MEASURES) + 4``."""
    cm = clip_measures(clip)
    r = cm.readings
    k = len(MEASURES)
    stats = np.zeros((k, len(STATISTICS)))
    if cm.usable:
        seen = ~np.isnan(r)
        stats[:, 4] = seen.mean(axis=0)
        for j in range(k):
            col = r[seen[:, j], j]
            if col.size:
                stats[j, :4] = col.mean(), col.std(), col.min(), col.max()
    extra = np.array([cm.wrist_motion, cm.head_motion, cm.yaw_range, cm.usable / max(cm.n, 1)])
    return np.asarray(np.nan_to_num(np.concatenate([stats.ravel(), extra]), nan=0.0), dtype=np.float64)


def feature_names() -> list[str]:
    """Names of the :func:`clip_features` columns."""
    return [f"{m}_{s}" for m in MEASURES for s in STATISTICS] + list(CLIP_MEASURES)


# --------------------------------------------------------------------------------------------------
# Geometric rules


@dataclass(frozen=True)
class RuleThresholds:
    """Every threshold of :class:`GeometricRules` (lengths in body units, angles in degrees); see
    the module docstring for what each one means."""

    raise_above_nose: float = 0.15
    raise_above_shoulders: float = 0.5
    lying_head_height: float = -0.1
    lying_min_pitch: float = 50.0
    still_head: float = 0.2
    phone_wrist_gap: float = 0.4
    phone_hands_side: float = 0.5
    phone_hands_drop: tuple[float, float] = (0.2, 0.9)
    phone_min_pitch: float = 15.0
    head_down_height: float = 0.3
    look_yaw: float = 35.0
    look_nose_turn: float = 0.25
    sweep_range: float = 50.0
    sweep_yaw: float = 15.0
    writing_pitch: tuple[float, float] = (10.0, 60.0)
    desk_drop: tuple[float, float] = (0.5, 2.0)
    desk_side: float = 1.0
    writing_motion: float = 0.0
    upright_head_height: float = 0.30
    upright_pitch: tuple[float, float] = (-25.0, 20.0)
    upright_yaw: float = 25.0
    upright_nose_turn: float = 0.15


def _known(x: FloatArray) -> NDArray[np.bool_]:
    return ~np.isnan(x)


def _between(x: FloatArray, lo: float, hi: float) -> NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return (x >= lo) & (x <= hi)


@dataclass(frozen=True)
class GeometricRules:
    """The default behaviour reader: documented thresholds on normalised geometry (module docstring).

    Parameters
    ----------
    thresholds
        The rule thresholds.
    min_readings
        Fewest usable readings to decide anything.
    min_share
        Support a behaviour needs (share of usable readings where its predicate holds).
    camera_pitch
        Degrees the camera looks down at the students; subtracted from the face-mesh pitch, which
        is measured against the camera's line of sight (a level face seen from above reads as
        tilted down by this angle).
    """

    thresholds: RuleThresholds = field(default_factory=RuleThresholds)
    min_readings: int = 3
    min_share: float = 0.6
    camera_pitch: float = 20.0

    def supports(self, clip: Clip) -> dict[str, float]:
        """Each behaviour's support in ``clip`` (all 0 when no reading is usable)."""
        return self._supports(clip_measures(clip))

    def _supports(self, cm: ClipMeasures) -> dict[str, float]:
        if cm.usable == 0:
            return dict.fromkeys(BEHAVIOURS, 0.0)
        t = self.thresholds
        col = cm.column
        hh, yaw, turn = col("head_height"), col("yaw"), col("nose_turn")
        pitch = col("pitch") - self.camera_pitch
        with np.errstate(invalid="ignore"):
            raised = (col("wrist_over_nose") >= t.raise_above_nose) & (
                col("wrist_rise") >= t.raise_above_shoulders
            )
            lying = (hh <= t.lying_head_height) & ~(pitch < t.lying_min_pitch)
            if cm.head_motion > t.still_head:
                lying &= False
            head_low = (hh > t.lying_head_height) & (hh <= t.head_down_height)
            lo, hi = t.phone_hands_drop
            phone_hands = (
                (col("wrist_gap") <= t.phone_wrist_gap)
                & (col("hands_side") <= t.phone_hands_side)
                & _between(col("hands_drop"), lo, hi)
            )
            phone = phone_hands & head_low & ~(pitch < t.phone_min_pitch)
            sweeping = cm.yaw_range >= t.sweep_range
            look_yaw = t.sweep_yaw if sweeping else t.look_yaw
            looking = np.where(_known(yaw), np.abs(yaw) >= look_yaw, np.abs(turn) >= t.look_nose_turn)
            writing = (
                head_low
                & ~(pitch < t.writing_pitch[0])
                & ~(pitch > t.writing_pitch[1])
                & _between(col("low_wrist_drop"), *t.desk_drop)
                & (col("low_wrist_side") <= t.desk_side)
                & ~phone_hands
                & ~(np.abs(yaw) >= t.look_yaw)
            )
            if t.writing_motion > 0 and not cm.wrist_motion >= t.writing_motion:
                writing &= False
            facing = np.where(_known(yaw), np.abs(yaw) < t.upright_yaw, np.abs(turn) < t.upright_nose_turn)
            upright = (
                (hh >= t.upright_head_height)
                & ~(pitch < t.upright_pitch[0])
                & ~(pitch > t.upright_pitch[1])
                & facing
                & ~(col("wrist_over_nose") >= 0)
            )
        flags = {
            "upright": upright,
            "writing": writing,
            "hand-raised": raised,
            "lying-on-desk": lying,
            "looking-around": looking,
            "phone": phone,
        }
        return {name: float(np.mean(flags[name])) for name in BEHAVIOURS}

    def read(self, clip: Clip) -> BehaviourReading:
        """The behaviour of ``clip`` by the rules, or uncertain (module docstring, "Decision")."""
        cm = clip_measures(clip)
        if cm.usable < self.min_readings or cm.usable < 0.5 * cm.n:
            return BehaviourReading(UNCERTAIN, 0.0)
        support = self._supports(cm)
        coverage = cm.usable / cm.n
        if support["hand-raised"] >= self.min_share:
            return BehaviourReading("hand-raised", support["hand-raised"] * coverage)
        ranked = sorted(support.items(), key=lambda kv: kv[1], reverse=True)
        (best, top), (_, second) = ranked[0], ranked[1]
        if top < self.min_share or second >= self.min_share:
            return BehaviourReading(UNCERTAIN, 0.0)
        return BehaviourReading(best, top * coverage)


# --------------------------------------------------------------------------------------------------
# Learned readers


class BehaviourSVM(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """The seed's SVM on clip statistics: :class:`~sklearn.preprocessing.StandardScaler`, then an RBF
    :class:`~sklearn.svm.SVC` with Platt (sigmoid) probabilities fitted by
    :class:`~sklearn.calibration.CalibratedClassifierCV` (3-fold, one final SVC).

    ``predict`` answers :data:`UNCERTAIN` when the highest class probability is below ``threshold``
    **or** the clip is unlike every training clip: its distance to the nearest training clip (in
    standardised feature space) exceeds the ``novelty_quantile`` quantile of the training clips'
    leave-one-out nearest-neighbour distances.  The second test matters: an SVM's probabilities
    stay high far from its training data, so a clip that mixes two behaviours (a student who
    starts writing half-way) would otherwise get a confident label.  ``novelty_quantile=None``
    turns it off.

    ``X`` is a matrix of :func:`clip_features` rows (:meth:`featurise` builds it from clips), so the
    estimator works with scikit-learn's model selection tools.  Every class needs at least 2 clips.
    """

    def __init__(
        self,
        C: float = 10.0,  # noqa: N803 - scikit-learn's name
        gamma: float | str = "scale",
        threshold: float = 0.5,
        novelty_quantile: float | None = 0.99,
        class_weight: str | None = "balanced",
        random_state: int | None = 0,
    ) -> None:
        self.C = C
        self.gamma = gamma
        self.threshold = threshold
        self.novelty_quantile = novelty_quantile
        self.class_weight = class_weight
        self.random_state = random_state

    @staticmethod
    def featurise(clips: Sequence[Clip]) -> FloatArray:
        """The feature matrix of ``clips`` (one :func:`clip_features` row each)."""
        if not clips:
            return np.empty((0, len(feature_names())))
        return np.vstack([clip_features(c) for c in clips])

    def fit(self, X: ArrayLike, y: ArrayLike) -> BehaviourSVM:  # noqa: N803
        """Fit on feature rows ``X`` and labels ``y`` (behaviour names)."""
        features = np.asarray(X, dtype=np.float64)
        labels = np.asarray(y)
        smallest = min(Counter(labels.tolist()).values())
        if smallest < 2:
            raise ValueError("every class needs at least 2 clips")
        svc = SVC(C=self.C, gamma=self.gamma, class_weight=self.class_weight, random_state=self.random_state)
        calibrated = CalibratedClassifierCV(svc, method="sigmoid", cv=min(3, smallest), ensemble=False)
        self.pipeline_ = make_pipeline(StandardScaler(), calibrated)
        self.pipeline_.fit(features, labels)
        self.classes_ = np.asarray(self.pipeline_.classes_)
        self.neighbours_ = None
        self.novelty_radius_ = math.inf
        if self.novelty_quantile is not None and len(features) > 2:
            scaled = self.pipeline_[0].transform(features)
            self.neighbours_ = NearestNeighbors(n_neighbors=2).fit(scaled)
            distances, _ = self.neighbours_.kneighbors(scaled)
            self.novelty_radius_ = float(np.quantile(distances[:, 1], self.novelty_quantile))
        return self

    def predict_proba(self, X: ArrayLike) -> FloatArray:  # noqa: N803
        """Class probabilities, columns in ``classes_`` order."""
        return np.asarray(self.pipeline_.predict_proba(np.asarray(X, dtype=np.float64)), dtype=np.float64)

    def novel(self, X: ArrayLike) -> NDArray[np.bool_]:  # noqa: N803
        """Which rows lie further from every training clip than ``novelty_radius_``."""
        features = np.asarray(X, dtype=np.float64)
        if self.neighbours_ is None or not len(features):
            return np.zeros(len(features), dtype=bool)
        distances, _ = self.neighbours_.kneighbors(self.pipeline_[0].transform(features), n_neighbors=1)
        return np.asarray(distances[:, 0] > self.novelty_radius_)

    def predict(self, X: ArrayLike) -> NDArray[np.str_]:  # noqa: N803
        """The most probable behaviour per row, or :data:`UNCERTAIN` (see the class docstring)."""
        labels = _thresholded(self.predict_proba(X), self.classes_, self.threshold)
        labels[self.novel(X)] = UNCERTAIN
        return labels

    def read(self, clip: Clip) -> BehaviourReading:
        """The behaviour of one clip."""
        features = self.featurise([clip])
        if self.novel(features)[0]:
            return BehaviourReading(UNCERTAIN, 0.0)
        return _reading(self.predict_proba(features)[0], self.classes_, self.threshold)


def _thresholded(proba: FloatArray, classes: NDArray[Any], threshold: float) -> NDArray[np.str_]:
    best = proba.argmax(axis=1)
    labels = np.asarray(classes, dtype=object)[best]
    labels[proba.max(axis=1) < threshold] = UNCERTAIN
    return np.asarray(labels, dtype=np.str_).astype(
        f"<U{max(len(UNCERTAIN), *(len(str(c)) for c in classes))}"
    )


def _reading(proba: FloatArray, classes: NDArray[Any], threshold: float) -> BehaviourReading:
    best = int(proba.argmax())
    if proba[best] < threshold:
        return BehaviourReading(UNCERTAIN, 0.0)
    return BehaviourReading(str(classes[best]), float(proba[best]))


HEAT_CHANNELS: Final = (
    tuple(range(Landmark.NOSE, Landmark.MOUTH_RIGHT + 1)),
    (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
    tuple(range(Landmark.LEFT_ELBOW, Landmark.RIGHT_THUMB + 1)),
)
"""Landmark groups drawn into the first three channels of :func:`render_clip`: head, torso, arms."""
_VIEW: Final = (-1.5, 1.5, -1.6, 2.0)
"""Body-frame window of the heat-maps (x from, x to, y from, y to) in body units about ``S``."""


def render_clip(clip: Clip, frames: int = 8, size: int = 16, sigma: float = 1.0) -> NDArray[np.float32]:
    """The 3-D CNN's input for ``clip``: (5, ``frames``, ``size``, ``size``) float32.

    Channels 0–2 are Gaussian heat-maps (σ = ``sigma`` pixels, peak = visibility) of the head,
    torso and arm landmarks (:data:`HEAT_CHANNELS`), drawn in the body frame — centred on the
    shoulder midpoint, scaled by the body unit, x from −1.5 to 1.5 u and y from −1.6 to 2.0 u — so
    distance and position in the frame do not matter; channels 3 and 4 are constant planes of
    yaw / 90° and pitch / 90° (0 when unknown).  The clip is resampled to ``frames`` readings by
    nearest index; unusable readings are all-zero frames.
    """
    out = np.zeros((5, frames, size, size), dtype=np.float32)
    if not clip:
        return out
    grid = np.arange(size, dtype=np.float64)
    x0, x1, y0, y1 = _VIEW
    for f in range(frames):
        kp = clip[min(len(clip) - 1, int(f * len(clip) / frames))]
        if kp is None:
            continue
        p = kp.pose
        ls, rs = p[Landmark.LEFT_SHOULDER], p[Landmark.RIGHT_SHOULDER]
        if min(ls[2], rs[2]) < MIN_VISIBILITY:
            continue
        u = body_unit(p, kp.face)
        sx, sy = (ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2
        for c, group in enumerate(HEAT_CHANNELS):
            for i in group:
                if p[i, 2] < MIN_VISIBILITY:
                    continue
                gx = ((p[i, 0] - sx) / u - x0) / (x1 - x0) * (size - 1)
                gy = ((p[i, 1] - sy) / u - y0) / (y1 - y0) * (size - 1)
                bump = np.exp(-((grid[None, :] - gx) ** 2 + (grid[:, None] - gy) ** 2) / (2 * sigma**2))
                out[c, f] = np.maximum(out[c, f], (p[i, 2] * bump).astype(np.float32))
        out[3, f] = (kp.yaw or 0.0) / 90.0
        out[4, f] = (kp.pitch or 0.0) / 90.0
    return out


def _network(torch: Any, n_classes: int, width: int) -> Any:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv3d(5, width, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
        nn.ReLU(),
        nn.MaxPool3d((1, 2, 2)),
        nn.Conv3d(width, 2 * width, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool3d(2),
        nn.Conv3d(2 * width, 2 * width, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(2 * width, n_classes),
    )


class Behaviour3DCNN(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """An optional small 3-D CNN (PyTorch, CPU) on rendered keypoint clips (:func:`render_clip`).

    Three 3×3×3 convolutions (``width``, 2·``width``, 2·``width`` channels; ReLU; pooling over space
    then space-time), global average pooling, dropout 0.2 and a linear layer; trained with Adam and
    cross-entropy for ``epochs`` epochs.  ``X`` is an array of rendered clips (n, 5, T, H, W)
    (:meth:`featurise` builds it).  ``predict`` answers :data:`UNCERTAIN` when the highest softmax
    probability is below ``threshold``.
    """

    def __init__(
        self,
        frames: int = 8,
        size: int = 16,
        width: int = 8,
        epochs: int = 15,
        batch_size: int = 32,
        lr: float = 3e-3,
        threshold: float = 0.5,
        random_state: int = 0,
        n_threads: int = 1,
    ) -> None:
        self.frames = frames
        self.size = size
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.threshold = threshold
        self.random_state = random_state
        self.n_threads = n_threads

    def featurise(self, clips: Sequence[Clip]) -> NDArray[np.float32]:
        """The rendered clips, (n, 5, ``frames``, ``size``, ``size``)."""
        shape = (len(clips), 5, self.frames, self.size, self.size)
        out = np.zeros(shape, dtype=np.float32)
        for i, c in enumerate(clips):
            out[i] = render_clip(c, self.frames, self.size)
        return out

    def fit(self, X: ArrayLike, y: ArrayLike) -> Behaviour3DCNN:  # noqa: N803
        """Train on rendered clips ``X`` and labels ``y``."""
        torch = require("torch")
        threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            return self._fit(torch, X, y)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, torch: Any, X: ArrayLike, y: ArrayLike) -> Behaviour3DCNN:  # noqa: N803
        torch.manual_seed(self.random_state)
        data = torch.as_tensor(np.asarray(X, dtype=np.float32))
        labels = np.asarray(y)
        self.classes_, codes = np.unique(labels, return_inverse=True)
        target = torch.as_tensor(codes, dtype=torch.long)
        self.net_ = _network(torch, len(self.classes_), self.width)
        optimiser = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(self.random_state)
        self.net_.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(target), generator=generator)
            for start in range(0, len(target), self.batch_size):
                batch = order[start : start + self.batch_size]
                optimiser.zero_grad()
                loss = loss_fn(self.net_(data[batch]), target[batch])
                loss.backward()
                optimiser.step()
        self.net_.eval()
        return self

    def predict_proba(self, X: ArrayLike) -> FloatArray:  # noqa: N803
        """Softmax class probabilities, columns in ``classes_`` order."""
        torch = require("torch")
        with torch.no_grad():
            logits = self.net_(torch.as_tensor(np.asarray(X, dtype=np.float32)))
            proba = torch.softmax(logits, dim=1).numpy()
        return np.asarray(proba, dtype=np.float64)

    def predict(self, X: ArrayLike) -> NDArray[np.str_]:  # noqa: N803
        """The most probable behaviour per clip, or :data:`UNCERTAIN` below ``threshold``."""
        return _thresholded(self.predict_proba(X), self.classes_, self.threshold)

    def read(self, clip: Clip) -> BehaviourReading:
        """The behaviour of one clip."""
        return _reading(self.predict_proba(self.featurise([clip]))[0], self.classes_, self.threshold)


BehaviourModel = BehaviourSVM | Behaviour3DCNN
"""A trained behaviour reader."""


def save_model(model: BehaviourModel, path: Path | str) -> None:
    """Write a fitted model: the SVM with joblib, the 3-D CNN as a torch file holding its
    ``state_dict``, constructor parameters and classes."""
    path = Path(path)
    if isinstance(model, BehaviourSVM):
        joblib.dump(model, path)
        return
    torch = require("torch")
    torch.save(
        {
            "params": model.get_params(),
            "classes": [str(c) for c in model.classes_],
            "state": model.net_.state_dict(),
        },
        path,
    )


def load_model(path: Path | str) -> BehaviourModel:
    """Read a model written by :func:`save_model` (a torch zip archive → the 3-D CNN, else the
    joblib SVM).  Joblib files are pickles: load only files you wrote yourself."""
    path = Path(path)
    if not path.is_file():
        raise LearnsightError(f"{path}: no such model file")
    if zipfile.is_zipfile(path):
        torch = require("torch")
        saved = torch.load(path, weights_only=True)
        cnn = Behaviour3DCNN(**saved["params"])
        cnn.classes_ = np.asarray(saved["classes"])
        cnn.net_ = _network(torch, len(cnn.classes_), cnn.width)
        cnn.net_.load_state_dict(saved["state"])
        cnn.net_.eval()
        return cnn
    model = joblib.load(path)
    if not isinstance(model, BehaviourSVM):
        raise LearnsightError(f"{path}: not a behaviour model")
    return model


# --------------------------------------------------------------------------------------------------
# Annotations and training


ANNOTATION_COLUMNS: Final = ("video", "start_s", "end_s", "track", "behaviour")


@dataclass(frozen=True)
class Annotation:
    """One labelled span: ``behaviour`` of ``track`` in ``video`` from ``start_s`` to ``end_s``
    seconds; ``line`` is the CSV line it came from (the header is line 1)."""

    video: Path
    start_s: float
    end_s: float
    track: str
    behaviour: str
    line: int = 0


def _number(path: Path, line: int, name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(f"{path}:{line}: {name}: not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise AnnotationError(f"{path}:{line}: {name}: must be a finite number ≥ 0, got {text!r}")
    return value


def load_annotations(path: Path | str, *, check_videos: bool = True) -> list[Annotation]:
    """Read an annotation CSV (module docstring).  Videos are resolved relative to the CSV's folder.

    Raises :class:`AnnotationError` with a one-line message naming the file, the line and the field:
    a missing file or column, an empty field, a number that does not parse or is negative,
    ``end_s ≤ start_s``, an unknown behaviour, a malformed ``face:``/``box:`` track, or (with
    ``check_videos``) a video that does not exist.  Extra columns are ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: no such annotation file")
    out: list[Annotation] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ANNOTATION_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise AnnotationError(f"{path}:1: header: missing column(s) {', '.join(missing)}")
        for row in reader:
            line = reader.line_num
            values = {c: (row.get(c) or "").strip() for c in ANNOTATION_COLUMNS}
            for c in ANNOTATION_COLUMNS:
                if not values[c]:
                    raise AnnotationError(f"{path}:{line}: {c}: empty")
            start = _number(path, line, "start_s", values["start_s"])
            end = _number(path, line, "end_s", values["end_s"])
            if end <= start:
                raise AnnotationError(
                    f"{path}:{line}: end_s: {values['end_s']} is not after start_s {start:g}"
                )
            behaviour = values["behaviour"]
            if behaviour not in BEHAVIOURS:
                raise AnnotationError(
                    f"{path}:{line}: behaviour: unknown {behaviour!r}; "
                    f"expected one of {', '.join(BEHAVIOURS)}"
                )
            try:
                parse_track(values["track"])
            except ValueError as exc:
                raise AnnotationError(f"{path}:{line}: track: {exc}") from None
            video = path.parent / values["video"]
            if check_videos and not video.is_file():
                raise AnnotationError(f"{path}:{line}: video: no such file {video}")
            out.append(Annotation(video, start, end, values["track"], behaviour, line))
    if not out:
        raise AnnotationError(f"{path}: no annotations")
    return out


@dataclass(frozen=True)
class TrackSpec:
    """How a ``track`` field finds its student: ``kind`` is ``"largest"`` (``*``: the largest face),
    ``"face"`` (``face:K``: the K-th face from the left, K from 0), ``"box"`` (``box:x,y,w,h`` in
    frame pixels; quote the field in the CSV, or separate the numbers with spaces) or ``"id"``
    (anything else: a tracker id or a student key, resolved by a ``locate`` function); see
    :func:`read_annotated`."""

    kind: Literal["largest", "face", "box", "id"]
    index: int = 0
    box: Box | None = None
    key: str = ""


def parse_track(text: str) -> TrackSpec:
    """Parse a ``track`` field (see :class:`TrackSpec`); raises ``ValueError`` for a malformed
    ``face:``/``box:`` form."""
    text = text.strip()
    if text == "*":
        return TrackSpec("largest")
    if text.startswith("face:"):
        rest = text[5:]
        if not rest.isdigit():
            raise ValueError(f"face index must be a whole number ≥ 0, got {rest!r}")
        return TrackSpec("face", index=int(rest))
    if text.startswith("box:"):
        parts = text[4:].replace(",", " ").split()
        try:
            x, y, w, h = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"box must be x,y,w,h in pixels, got {text[4:]!r}") from None
        if w <= 0 or h <= 0:
            raise ValueError(f"box width and height must be positive, got {text[4:]!r}")
        return TrackSpec("box", box=Box(x, y, w, h))
    return TrackSpec("id", key=text)


def labelled_clips(
    annotations: Sequence[Annotation],
    readings: Mapping[Annotation, Clip],
    *,
    clip_len: int = 8,
    stride: int | None = None,
    min_readings: int = 3,
) -> tuple[list[list[Keypoints | None]], list[str]]:
    """Cut each annotation's readings into clips of ``clip_len`` readings every ``stride`` (default
    ``clip_len``, no overlap); a span shorter than one clip gives one clip of what it has.  Clips
    with fewer than ``min_readings`` non-``None`` readings are dropped.  Returns clips and labels."""
    clips, labels, _ = _windows(annotations, readings, clip_len, stride, min_readings)
    return clips, labels


def _windows(
    annotations: Sequence[Annotation],
    readings: Mapping[Annotation, Clip],
    clip_len: int,
    stride: int | None,
    min_readings: int = 3,
) -> tuple[list[list[Keypoints | None]], list[str], list[int]]:
    """:func:`labelled_clips` plus, per clip, the index of its annotation (for grouped folds)."""
    stride = stride or clip_len
    clips: list[list[Keypoints | None]] = []
    labels: list[str] = []
    groups: list[int] = []
    for g, a in enumerate(annotations):
        seq = list(readings.get(a, ()))
        for s in range(0, max(1, len(seq) - clip_len + 1), stride):
            clip = seq[s : s + clip_len]
            if sum(kp is not None for kp in clip) >= min_readings:
                clips.append(clip)
                labels.append(a.behaviour)
                groups.append(g)
    return clips, labels, groups


def train_behaviour(
    annotations: Sequence[Annotation],
    readings: Mapping[Annotation, Clip],
    model: Literal["svm", "cnn3d"] = "svm",
    *,
    clip_len: int = 8,
    stride: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> BehaviourModel:
    """Fit a behaviour model on labelled keypoint readings.

    ``readings`` maps each annotation to the keypoints sampled over its span (in time order);
    they are cut into clips by :func:`labelled_clips`.  ``params`` go to the estimator's
    constructor.  Raises :class:`LearnsightError` when fewer than two behaviours have clips.
    """
    clips, labels = labelled_clips(annotations, readings, clip_len=clip_len, stride=stride)
    return _fit(clips, labels, model, params)


def _estimator(model: Literal["svm", "cnn3d"], params: Mapping[str, Any] | None) -> BehaviourModel:
    if model == "svm":
        return BehaviourSVM(**dict(params or {}))
    if model == "cnn3d":
        return Behaviour3DCNN(**dict(params or {}))
    raise ValueError(f"model must be 'svm' or 'cnn3d', got {model!r}")


def _fit(
    clips: Sequence[Clip],
    labels: Sequence[str],
    model: Literal["svm", "cnn3d"],
    params: Mapping[str, Any] | None,
) -> BehaviourModel:
    counts = Counter(labels)
    if len(counts) < 2:
        raise LearnsightError(
            f"training needs clips of at least two behaviours, got {dict(counts) or 'none'}"
        )
    few = sorted(b for b, n in counts.items() if n < 2)
    if few:
        raise LearnsightError(f"training needs at least 2 clips per behaviour; too few for {', '.join(few)}")
    estimator = _estimator(model, params)
    return estimator.fit(estimator.featurise(clips), np.asarray(labels))


@dataclass(frozen=True)
class TrainingReport:
    """What :func:`train_from_annotations` did: the fitted ``model``; clips per behaviour; sampled
    frames and those without keypoints; the cross-validated accuracy (uncertain answers count as
    wrong) and uncertain share, ``None`` when there are too few clips or annotations for ``folds``
    folds (:func:`cross_validate`)."""

    model: BehaviourModel
    clips: dict[str, int]
    frames: int
    frames_without_keypoints: int
    cv_accuracy: float | None
    cv_uncertain: float | None
    folds: int


Locate = Callable[[Annotation, float, Image], Box | None]
"""Resolves a ``track`` of kind ``"id"``: given the annotation, the frame time and the frame,
returns the student's face box (or ``None`` when not in view)."""


class FaceFinder:
    """Mediapipe's full-range face detector (``model_selection=1``) as a typed wrapper."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        mp = require("mediapipe")
        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_confidence
        )

    def __call__(self, image: Image) -> list[Box]:
        """The face boxes in ``image`` (RGB), in pixels."""
        result = self._detector.process(np.ascontiguousarray(image))
        height, width = image.shape[:2]
        boxes = []
        for det in result.detections or ():
            rb = det.location_data.relative_bounding_box
            box = Box(rb.xmin * width, rb.ymin * height, rb.width * width, rb.height * height)
            boxes.append(box.clipped(width, height))
        return [b for b in boxes if b.area > 0]

    def close(self) -> None:
        self._detector.close()


def _follow(previous: Box, faces: Sequence[Box]) -> Box | None:
    """The face continuing ``previous``: the best IoU (≥ 0.1), else the nearest centre within one
    face width; ``None`` when there is none."""
    if not faces:
        return None
    best = max(faces, key=previous.iou)
    if previous.iou(best) >= 0.1:
        return best
    px, py = previous.center
    near = min(faces, key=lambda f: math.hypot(f.center[0] - px, f.center[1] - py))
    dist = math.hypot(near.center[0] - px, near.center[1] - py)
    return near if dist <= previous.w else None


def read_annotated(
    annotations: Sequence[Annotation],
    *,
    rate_hz: float = 2.0,
    reader: PoseReader | None = None,
    faces: Callable[[Image], list[Box]] | None = None,
    locate: Locate | None = None,
) -> dict[Annotation, list[Keypoints | None]]:
    """Decode each annotated span with PyAV, sample it at ``rate_hz`` and read the student's keypoints.

    The student is found in each sampled frame by the annotation's ``track`` (:class:`TrackSpec`):
    ``*`` the largest detected face of the span's first sampled frame with a face; ``face:K`` the
    K-th face from the left in the first sampled frame with more than K faces; ``box:x,y,w,h`` the
    detected face that continues that box.  Each is then followed from frame to frame (best IoU
    ≥ 0.1 with the last box, else the nearest centre within one face width).  Any other value is
    passed to ``locate`` (e.g. the pipeline's tracker) —
    without one, :class:`AnnotationError` is raised before any decoding.  Faces come from ``faces``
    (default :class:`FaceFinder`); the other faces of the frame are masked for the pose
    (:meth:`PoseReader.read` ``others``).  A frame where the student is not found gives ``None``.
    Frames are decoded and enhanced by :func:`learnsight.vision.frames.sample_frames` with its
    default enhancement, as the pipeline sees them.
    """
    from learnsight.vision.frames import sample_frames

    specs = {a: parse_track(a.track) for a in annotations}
    for a, spec in specs.items():
        if spec.kind == "id" and locate is None:
            raise AnnotationError(
                f"line {a.line}: track: {a.track!r} is not '*', 'face:K' or 'box:x,y,w,h'; "
                "track ids and student keys need a locate function (the pipeline's tracker)"
            )
    own_reader = reader is None
    pose_reader = reader or PoseReader()
    own_faces = faces is None
    finder = FaceFinder() if faces is None else None
    detect: Callable[[Image], list[Box]] = faces or finder  # type: ignore[assignment]
    out: dict[Annotation, list[Keypoints | None]] = {}
    try:
        for a in annotations:
            spec = specs[a]
            current = spec.box
            seq: list[Keypoints | None] = []
            for frame in sample_frames(a.video, rate=rate_hz, start_s=a.start_s, end_s=a.end_s):
                boxes = detect(frame.image)
                target: Box | None = None
                if spec.kind == "id":
                    assert locate is not None
                    target = locate(a, frame.t, frame.image)
                elif current is None and spec.kind == "largest":
                    target = max(boxes, key=lambda b: b.area) if boxes else None
                elif current is None:  # face:K, not chosen yet
                    ordered = sorted(boxes, key=lambda b: b.center[0])
                    target = ordered[spec.index] if len(ordered) > spec.index else None
                else:
                    target = _follow(current, boxes)
                if target is None:
                    seq.append(None)
                    continue
                if spec.kind != "id":
                    current = target
                others = [b for b in boxes if b != target]
                seq.append(pose_reader.read(frame.image, target, others=others, time_s=frame.t))
            out[a] = seq
    finally:
        if own_reader:
            pose_reader.close()
        if own_faces and finder is not None:
            finder.close()
    return out


def cross_validate(
    clips: Sequence[Clip],
    labels: Sequence[str],
    model: Literal["svm", "cnn3d"] = "svm",
    *,
    folds: int = 5,
    params: Mapping[str, Any] | None = None,
    groups: Sequence[int] | None = None,
) -> tuple[float, float] | None:
    """Cross-validated accuracy (uncertain answers count as wrong) and uncertain share.

    Stratified ``folds``-fold; with ``groups`` (e.g. the annotation each clip was cut from) the
    folds keep each group whole (:class:`~sklearn.model_selection.StratifiedGroupKFold`), so
    overlapping clips of one span are never on both sides.  ``None`` when the folds cannot be made
    or some training fold would lack 2 clips of a behaviour (the SVM's calibration needs them).
    """
    y = np.asarray(labels)
    classes = set(labels)
    if len(classes) < 2:
        return None
    splitter = (
        StratifiedKFold(folds, shuffle=True, random_state=0)
        if groups is None
        else StratifiedGroupKFold(folds, shuffle=True, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the least populated class has only ..."
        try:
            splits = list(splitter.split(np.zeros(len(y)), y, None if groups is None else np.asarray(groups)))
        except ValueError:
            return None
    for train, _ in splits:
        counts = Counter(y[train].tolist())
        if set(counts) != classes or min(counts.values()) < 2:
            return None
    estimator = _estimator(model, params)
    predicted = cross_val_predict(estimator, estimator.featurise(clips), y, cv=splits)
    return float(np.mean(predicted == y)), float(np.mean(predicted == UNCERTAIN))


def train_from_annotations(
    csv_path: Path | str,
    *,
    model: Literal["svm", "cnn3d"] = "svm",
    rate_hz: float = 2.0,
    clip_s: float = 4.0,
    stride_s: float | None = None,
    folds: int = 5,
    params: Mapping[str, Any] | None = None,
    reader: PoseReader | None = None,
    faces: Callable[[Image], list[Box]] | None = None,
    locate: Locate | None = None,
) -> TrainingReport:
    """Train a behaviour model from an annotation CSV (what ``learnsight video train-behaviour
    LABELS`` runs).

    Loads the annotations (:func:`load_annotations`), reads keypoints over every span at
    ``rate_hz`` (:func:`read_annotated`), cuts clips of ``clip_s`` seconds (``round(clip_s ×
    rate_hz)`` readings) every ``stride_s`` seconds (default ``clip_s``: no overlap),
    cross-validates with the clips of one annotation kept in one fold (:func:`cross_validate`) and
    fits the model on all clips.
    """
    annotations = load_annotations(csv_path)
    readings = read_annotated(annotations, rate_hz=rate_hz, reader=reader, faces=faces, locate=locate)
    clip_len = max(1, round(clip_s * rate_hz))
    stride = max(1, round((stride_s or clip_s) * rate_hz))
    clips, labels, groups = _windows(annotations, readings, clip_len, stride)
    fitted = _fit(clips, labels, model, params)
    cv = cross_validate(clips, labels, model, folds=folds, params=params, groups=groups)
    frames = sum(len(seq) for seq in readings.values())
    missing = sum(kp is None for seq in readings.values() for kp in seq)
    return TrainingReport(
        model=fitted,
        clips=dict(sorted(Counter(labels).items())),
        frames=frames,
        frames_without_keypoints=missing,
        cv_accuracy=None if cv is None else cv[0],
        cv_uncertain=None if cv is None else cv[1],
        folds=folds,
    )


# --------------------------------------------------------------------------------------------------
# A parametric body model for synthetic clips (tests and benchmarks)

_HEAD_POINTS: Final = {
    Landmark.NOSE: (0.0, -0.60, -0.22),
    Landmark.LEFT_EYE_INNER: (0.05, -0.69, -0.17),
    Landmark.LEFT_EYE: (0.085, -0.70, -0.16),
    Landmark.LEFT_EYE_OUTER: (0.12, -0.69, -0.14),
    Landmark.RIGHT_EYE_INNER: (-0.05, -0.69, -0.17),
    Landmark.RIGHT_EYE: (-0.085, -0.70, -0.16),
    Landmark.RIGHT_EYE_OUTER: (-0.12, -0.69, -0.14),
    Landmark.LEFT_EAR: (0.17, -0.65, 0.0),
    Landmark.RIGHT_EAR: (-0.17, -0.65, 0.0),
    Landmark.MOUTH_LEFT: (0.06, -0.52, -0.18),
    Landmark.MOUTH_RIGHT: (-0.06, -0.52, -0.18),
}
"""Head points of the body model at rest, in shoulder widths from the shoulder midpoint: the nose
0.6 u above the shoulder line (people upright in ``faces/detection`` measure a median 0.57)."""
_NECK: Final = np.array([0.0, -0.2, 0.0])
_HIP_CENTRE: Final = np.array([0.0, 1.25, 0.0])


def _rot_x(deg: float) -> FloatArray:
    a = math.radians(deg)
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


def _rot_y(deg: float) -> FloatArray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])


@dataclass(frozen=True)
class _Frame:
    """One instant of the body model: torso lean, head pitch and yaw (degrees), wrists (2, 3)
    (left, right) in world coordinates and their visibilities."""

    lean: float
    pitch: float
    yaw: float
    wrists: FloatArray
    wrist_vis: tuple[float, float]


def _desk_wrist(rng: np.random.Generator, side: float) -> FloatArray:
    return np.array([side * rng.uniform(0.25, 0.45), rng.uniform(0.9, 1.0), -rng.uniform(0.3, 0.5)])


def _behaviour_frames(behaviour: str, rng: np.random.Generator, times: FloatArray) -> list[_Frame]:
    """Per-reading body parameters of one clip of ``behaviour`` (see :func:`synthesize_clip`)."""
    n = len(times)

    def jitter(scale: float, dim: int = 1) -> FloatArray:
        return rng.normal(0.0, scale, (n, dim)) if dim > 1 else rng.normal(0.0, scale, n)

    side = float(rng.choice([-1.0, 1.0]))
    rest = np.stack([_desk_wrist(rng, 1.0), _desk_wrist(rng, -1.0)])
    wrists = np.repeat(rest[None], n, axis=0) + rng.normal(0, 0.01, (n, 2, 3))
    vis = (rng.uniform(0.6, 0.95), rng.uniform(0.6, 0.95))
    if behaviour == "upright":
        lean, pitch, yaw = rng.normal(0, 4), rng.normal(0, 6), rng.normal(0, 8)
        if rng.random() < 0.3:  # hands in the lap, hidden by the desk
            wrists[:, :, 1] += 0.35
            vis = (0.1, 0.1)
        yaws = yaw + jitter(3)
    elif behaviour == "writing":
        lean, pitch, yaw = rng.normal(15, 5), rng.normal(40, 8), rng.normal(0, 8)
        pen = 0 if side > 0 else 1
        amp, freq, phase = rng.uniform(0.08, 0.2), rng.uniform(0.3, 1.2), rng.uniform(0, 2 * math.pi)
        base = np.array([side * rng.uniform(0.05, 0.25), rng.uniform(0.9, 0.97), -rng.uniform(0.4, 0.6)])
        wrists[:, pen] = base + rng.normal(0, 0.01, (n, 3))
        wrists[:, pen, 0] += amp * np.sin(2 * math.pi * freq * times + phase) + 0.03 * times
        wrists[:, pen, 2] += 0.3 * amp * np.cos(2 * math.pi * freq * times + phase)
        yaws = yaw + jitter(3)
    elif behaviour == "hand-raised":
        lean, pitch, yaw = rng.normal(0, 4), rng.normal(-5, 6), rng.normal(0, 10)
        up = 0 if side > 0 else 1
        raised = np.array([side * rng.uniform(0.3, 0.6), -rng.uniform(0.9, 1.3), -rng.uniform(0.0, 0.2)])
        wrists[:, up] = raised + rng.normal(0, 0.03, (n, 3))
        vis = (0.95, vis[1]) if up == 0 else (vis[0], 0.95)
        yaws = yaw + jitter(3)
    elif behaviour == "lying-on-desk":
        lean, pitch, yaw = rng.normal(45, 6), rng.normal(80, 10), rng.normal(0, 25)
        for k, s in enumerate((1.0, -1.0)):
            wrists[:, k] = np.array([s * rng.uniform(0.15, 0.35), 0.85, -rng.uniform(0.4, 0.6)])
        wrists += rng.normal(0, 0.01, (n, 2, 3))
        vis = (0.5, 0.5)
        yaws = yaw + jitter(2)
    elif behaviour == "looking-around":
        lean, pitch = rng.normal(0, 5), rng.normal(0, 8)
        if rng.random() < 0.5:
            yaws = side * rng.uniform(40, 70) + jitter(4)
        else:
            amp, freq, phase = rng.uniform(45, 70), rng.uniform(0.15, 0.35), rng.uniform(0, 2 * math.pi)
            yaws = amp * np.sin(2 * math.pi * freq * times + phase) + jitter(3)
    elif behaviour == "phone":
        lean, pitch, yaw = rng.normal(15, 5), rng.normal(40, 8), rng.normal(0, 8)
        centre = np.array([rng.normal(0, 0.1), rng.uniform(0.55, 0.85), -rng.uniform(0.35, 0.55)])
        half = rng.uniform(0.08, 0.18)
        wrists[:, 0] = centre + np.array([half, 0.0, 0.0])
        wrists[:, 1] = centre - np.array([half, 0.0, 0.0])
        wrists += rng.normal(0, 0.01, (n, 2, 3))
        vis = (0.8, 0.8)
        yaws = yaw + jitter(3)
    else:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {', '.join(BEHAVIOURS)}")
    leans, pitches = lean + jitter(1), pitch + jitter(2)
    return [_Frame(float(leans[i]), float(pitches[i]), float(yaws[i]), wrists[i], vis) for i in range(n)]


def _project(
    frame: _Frame,
    rng: np.random.Generator,
    camera: tuple[float, float, float, float],
    noise: float,
    wrist_noise: float,
) -> Keypoints:
    """Pose the 3-D body of ``frame`` and project it into the camera (see :func:`synthesize_clip`)."""
    elevation, scale, cx, cy = camera
    world = np.zeros((N_POSE, 3))
    vis = np.full(N_POSE, 0.02)
    head_rot = _rot_y(frame.yaw) @ _rot_x(frame.pitch)
    for lm, p in _HEAD_POINTS.items():
        world[lm] = _NECK + head_rot @ (np.asarray(p) - _NECK)
        vis[lm] = 0.98
    world[Landmark.LEFT_SHOULDER], world[Landmark.RIGHT_SHOULDER] = (0.5, 0, 0), (-0.5, 0, 0)
    vis[[Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]] = 0.99
    lean = _rot_x(frame.lean)
    upper = [*_HEAD_POINTS, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
    world[upper] = _HIP_CENTRE + (world[upper] - _HIP_CENTRE) @ lean.T
    world[Landmark.LEFT_HIP], world[Landmark.RIGHT_HIP] = (0.33, 1.25, 0.05), (-0.33, 1.25, 0.05)
    vis[[Landmark.LEFT_HIP, Landmark.RIGHT_HIP]] = 0.15
    for k, (shoulder, elbow, wrist, tips) in enumerate(
        (
            (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST, (17, 19, 21)),
            (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST, (18, 20, 22)),
        )
    ):
        side = 1.0 if k == 0 else -1.0
        w = frame.wrists[k]
        world[wrist] = w
        world[elbow] = (world[shoulder] + w) / 2 + (side * 0.12, 0.12, 0.0)
        direction = w - world[elbow]
        direction = direction / (np.linalg.norm(direction) + 1e-9)
        for j, tip in enumerate(tips):
            world[tip] = w + 0.1 * direction + (side * 0.03 * (j - 1), 0.0, 0.0)
        vis[[wrist, *tips]] = frame.wrist_vis[k]
        vis[elbow] = max(frame.wrist_vis[k], 0.7)
    a = math.radians(elevation)
    x = cx + scale * world[:, 0]
    y = cy + scale * (world[:, 1] * math.cos(a) - world[:, 2] * math.sin(a))
    pose = np.column_stack([x, y, vis])
    pose[:, :2] += rng.normal(0, noise * scale, (N_POSE, 2))
    hands = list(range(Landmark.LEFT_WRIST, Landmark.RIGHT_THUMB + 1))
    pose[hands, :2] += rng.normal(0, wrist_noise * scale, (len(hands), 2))
    head = pose[: Landmark.MOUTH_RIGHT + 1, :2].mean(axis=0)
    side_px = scale / SHOULDERS_PER_FACE
    face = Box(float(head[0] - side_px / 2), float(head[1] - side_px / 2), side_px, side_px)
    seen_pitch = frame.pitch + elevation  # a camera above sees a level face tilted down
    mesh_lost = seen_pitch > 65 or abs(frame.yaw) > 70 or rng.random() < 0.05
    yaw = None if mesh_lost else frame.yaw + float(rng.normal(0, 3))
    pitch = None if mesh_lost else seen_pitch + float(rng.normal(0, 3))
    return Keypoints(pose=pose, face=face, yaw=yaw, pitch=pitch)


def synthesize_clip(
    behaviour: str,
    rng: np.random.Generator,
    *,
    n: int = 8,
    rate_hz: float = 2.0,
    noise: float = 0.02,
    wrist_noise: float = 0.05,
    dropout: float = 0.05,
    elevation: tuple[float, float] = (10.0, 30.0),
    mix: tuple[str, float] | None = None,
) -> list[Keypoints | None]:
    """A synthetic clip of ``behaviour`` from a parametric 3-D body model (tests and benchmarks).

    **Body** (units of shoulder width ``u``; x to the image's right, y down, z away from the
    camera; the student faces the camera): shoulders at (±0.5, 0, 0), hips at (±0.33, 1.25, 0.05)
    (visibility 0.15: the desk hides them), a head of 11 points (nose 0.6 above the shoulder line,
    eyes, ears, mouth) on a neck pivot at (0, −0.2, 0), turned by the head's pitch (+ down) and yaw
    (+ towards the image's right); torso and head lean forward by ``lean`` about the hip centre.
    Wrists are placed in the room (the desk top ~0.9–1 below the shoulders, 0.3–0.6 in front),
    elbows between shoulder and wrist pushed out and down, fingertips just past the wrist.

    **Behaviours** (per clip a draw of the parameters, angles in degrees relative to the room; per
    reading a small jitter): upright — lean 0 (σ 4), pitch 0 (σ 6), yaw 0 (σ 8), hands resting on
    the desk (30 %: in the lap, hidden); writing — lean 15, pitch 40 (σ 8), the pen wrist on the
    desk moving sinusoidally (amplitude 0.08–0.2, 0.3–1.2 Hz) and drifting along the line, the other
    hand 0.25–0.45 to the side; hand-raised — pitch −5, one wrist 0.9–1.3 above the shoulders;
    lying-on-desk — lean 45, pitch 80, both wrists on the desk by the head; looking-around — yaw
    held at 40–70 to one side, or sweeping ±45–70 at 0.15–0.35 Hz; phone — lean 15, pitch 40, both
    wrists 0.16–0.36 apart in front of the chest, 0.55–0.85 below the shoulders.

    **Camera**: orthographic, looking down at an angle drawn from ``elevation`` (10°–30°); the
    shoulders are 40–140 px wide, anywhere in a 1280 × 720 frame.  Pose points get Gaussian noise
    of ``noise`` u, wrists and fingers ``wrist_noise`` u (mediapipe's wrists jitter more than its
    head points; see the module docstring).  The face mesh reads pitch + elevation (a camera above
    sees a level face tilted down) and yaw, each with σ 3° noise, and is lost when that pitch
    exceeds 65° or the yaw 70°, and in 5 % of readings; a whole reading is ``None`` with
    probability ``dropout``.  ``mix=(other, share)`` makes an ambiguous clip: the last ``share`` of
    the readings come from ``other`` (a student changing behaviour mid-clip).
    """
    times = np.arange(n) / rate_hz
    camera = (rng.uniform(*elevation), rng.uniform(40, 140), rng.uniform(200, 1080), rng.uniform(150, 500))
    frames = _behaviour_frames(behaviour, rng, times)
    if mix is not None:
        other, share = mix
        k = round(share * n)
        if k:
            frames[n - k :] = _behaviour_frames(other, rng, times)[n - k :]
    return [None if rng.random() < dropout else _project(f, rng, camera, noise, wrist_noise) for f in frames]


def synthesize_clips(
    n_per_behaviour: int, rng: np.random.Generator, **kwargs: Any
) -> tuple[list[list[Keypoints | None]], list[str]]:
    """``n_per_behaviour`` clips of each of :data:`BEHAVIOURS` from :func:`synthesize_clip`."""
    clips: list[list[Keypoints | None]] = []
    labels: list[str] = []
    for b in BEHAVIOURS:
        for _ in range(n_per_behaviour):
            clips.append(synthesize_clip(b, rng, **kwargs))
            labels.append(b)
    return clips, labels
