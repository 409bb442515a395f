"""Who is this face? Two-stage, open-set identification against a roster (SPEC §5).

Calibration (fitted on the roster itself)
-----------------------------------------
For each feature ``k`` of :data:`~learnsight.vision.descriptors.FEATURES` (whole-face ResNet
descriptor, eyes, nose, mouth) the distance ``δ_s`` of a face to student ``s`` is its distance to
that student's nearest enrolled photo; region-feature distances are cohort-normalised first
(:func:`cohort_normalise`).  A logistic ``σ(a_k + b_k δ)`` is fitted by Platt scaling (Platt,
"Probabilistic outputs for support vector machines", 1999, with his smoothed targets
``(N₊+1)/(N₊+2)`` and ``1/(N₋+2)``, which keep the fit finite when the roster separates perfectly)
on the roster's own leave-one-out pairs: each photo against its own student's other photos (a match)
and against every other student (no match), the two classes weighted equally.  With equal weights
the fitted odds ``e^{a + b δ}`` is the *likelihood ratio* ``p(δ | match) / p(δ | no match)``, free of
the roster's share of matching pairs.  Taking each student as a possible match and "not enrolled" as
one more hypothesis, all equally likely beforehand, gives the open-set posterior::

    P(s) = LR_s / (1 + Σ_t LR_t),      P(not enrolled) = 1 / (1 + Σ_t LR_t)

a softmax over ``−δ`` with temperature ``−1/b`` in which "not enrolled" sits at the feature's match
threshold ``τ_k = −a/b``.  The uniform prior matters: Dempster's rule on Bayesian masses multiplies
them, so a prior inside every source's mass would be counted once per source (the first version,
fitted without equal weights, let three weak region features outvote the face on 2 of 55 roster
photos, all towards "not enrolled").

Each feature's *reliability* ``α_k`` is its chance-corrected accuracy ``(acc − c)/(1 − c)`` (``c``:
the accuracy of guessing among the hypotheses) when deciding alone on the roster's leave-one-out
photos (true answer: their student) and leave-one-person-out photos (true answer: not enrolled),
capped at :data:`MAX_RELIABILITY` so that no single source can veto the others.  A roster too small
to calibrate (one student, or no student with two photos) uses :data:`DEFAULT_CALIBRATION`.

Stage 1
    The whole-face posterior, averaged over the frames of the track; if its best hypothesis (a
    student or "not enrolled") reaches ``accept_probability``, that is the answer.
Stage 2 (Dempster–Shafer)
    The ``candidates`` most probable students plus "not enrolled" form the frame Θ.  For every frame
    and every feature, the feature's posterior restricted to Θ is a Bayesian mass function,
    discounted by ``α_k`` (its mass ``1 − α_k`` goes to Θ); all of them (features × frames) are fused
    with Dempster's rule (:mod:`learnsight.vision.evidence`) and the answer is the pignistic
    argmax; ``conflict`` is the total conflict ``K = 1 − Π (1 − K_i)`` of the fusion, which grows
    with the number of sources (4 per frame): compare it between tracks of the same length.

Defaults: ``accept_probability=0.9`` and ``candidates=3`` were chosen on the roster (leave-one-out,
leave-one-person-out, simulated tracks) and on 305 photos (every fifth) of the *tuning* half of the
``expressions/`` impostors (people split by a CRC32 of their name, :func:`impostor_half`), with
probe faces at full resolution
and shrunk to 30 % and 20 %.  Every value of ``accept_probability`` from 0.5 to 0.97 made no error at
full and 30 % resolution; at 20 % every value from 0.75 up lost one of the 55 leave-one-out photos
(0.5: none) while every fused track was right.  0.9 keeps stage 1 to confident answers and hands the
doubtful ones to the fusion.  On this roster stage 1's most probable student was the true one for
every leave-one-out photo at all three resolutions, so the size of the frame hardly matters here;
three leaves room for a doubt between two look-alikes and the "not enrolled" hypothesis.
``benchmarks/bench_faces.py`` reports the *evaluation* half.
"""

from __future__ import annotations

import math
import random
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize  # type: ignore[import-untyped]

from learnsight.errors import LearnsightError
from learnsight.vision.descriptors import FEATURES, FaceDescription, describe
from learnsight.vision.evidence import Mass, bayesian, combine_all, discount, pignistic
from learnsight.vision.extra import require
from learnsight.vision.faces import FaceDetector
from learnsight.vision.roster import Roster, RosterError, largest_face, student_folders
from learnsight.vision.types import Box, Face, Image

NOT_ENROLLED = "\x00not enrolled"
"""The "not enrolled" hypothesis in the frame of discernment (no folder name can contain NUL)."""

MAX_RELIABILITY = 0.95
"""The largest reliability a feature may get: its mass on Θ stays at least 5 %."""

COHORT_NORMALISED = ("eyes", "nose", "mouth")
"""Features whose distances are cohort-normalised (:func:`cohort_normalise`) before calibration: the
LBP distances grow for every student at once when the face is small or blurred; the ResNet
descriptor's do not (its metric is absolute: dlib's 0.6)."""


class IdentificationError(LearnsightError):
    """Identification cannot run (an empty roster, no description)."""


@dataclass(frozen=True)
class Identification:
    """The answer for one face or one track.

    ``student`` is ``None`` when the face is not enrolled; ``probability`` is the stage-1 posterior
    or the stage-2 pignistic probability of the answer; ``conflict`` is Dempster's ``K`` (0 in stage
    1); ``candidates`` are the students considered, most probable first.
    """

    student: str | None
    probability: float
    stage: int
    conflict: float
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class FeatureCalibration:
    """A feature's calibration: the likelihood ratio of a match ``exp(intercept + slope · δ)`` and its
    reliability in [0, 1]."""

    intercept: float
    slope: float
    reliability: float

    @property
    def threshold(self) -> float:
        """The distance (score) at which the likelihood ratio of a match is 1."""
        return -self.intercept / self.slope if self.slope < 0 else math.inf

    def log_odds(self, distances: NDArray[np.float64]) -> NDArray[np.float64]:
        """``a + b δ`` per distance; ``−∞`` (no match possible) where ``δ`` is infinite."""
        d = np.asarray(distances, dtype=np.float64)
        finite = np.isfinite(d)
        out: NDArray[np.float64] = np.full(d.shape, -np.inf)
        out[finite] = self.intercept + self.slope * d[finite]
        return out


Calibration = dict[str, FeatureCalibration]

DEFAULT_CALIBRATION: Calibration = {
    "face": FeatureCalibration(intercept=8.52, slope=-16.73, reliability=0.95),
    "eyes": FeatureCalibration(intercept=19.44, slope=-21.87, reliability=0.567),
    "nose": FeatureCalibration(intercept=30.23, slope=-32.14, reliability=0.6),
    "mouth": FeatureCalibration(intercept=26.21, slope=-28.5, reliability=0.656),
}
"""Used for rosters too small to calibrate themselves: :func:`fit_calibration` on the full
``roster/`` folder of the shared faces dataset (5 students, 55 photos), rounded."""


# -- distances and posteriors ----------------------------------------------------------------------
class _Gallery:
    """The roster's vectors per feature, and which rows belong to which student."""

    def __init__(self, roster: Roster) -> None:
        self.students = roster.students
        index = {s: i for i, s in enumerate(self.students)}
        self.owner = np.array([index[e.student] for e in roster.entries], dtype=np.int64)
        self.vectors = {
            k: np.stack([np.asarray(e.description.feature(k), dtype=np.float64) for e in roster.entries])
            for k in FEATURES
        }

    def distances(self, description: FaceDescription, feature: str) -> NDArray[np.float64]:
        """Distance to each student's nearest photo, in the order of ``students``."""
        probe = np.asarray(description.feature(feature), dtype=np.float64)
        per_photo = np.linalg.norm(self.vectors[feature] - probe, axis=1)
        out = np.full(len(self.students), np.inf)
        np.minimum.at(out, self.owner, per_photo)
        return out


def open_set_posterior(log_odds: NDArray[np.float64]) -> NDArray[np.float64]:
    """``[P(s_1), …, P(s_n), P(not enrolled)]`` from per-student match log-odds (see module doc),
    along the last axis.

    >>> open_set_posterior(np.array([0.0, math.log(3.0)])).round(3).tolist()
    [0.2, 0.6, 0.2]
    """
    lo = np.asarray(log_odds, dtype=np.float64)
    logits = np.concatenate([lo, np.zeros((*lo.shape[:-1], 1))], axis=-1)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    out: NDArray[np.float64] = weights / weights.sum(axis=-1, keepdims=True)
    return out


def cohort_normalise(distances: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each distance divided by the median distance to the *other* students (the cohort), so that a
    probe far from everyone (a small, blurred face) is judged by how much nearer it is to one student
    than to the rest (cohort normalisation: Auckenthaler, Carey & Lloyd-Thomas, "Score normalization
    for text-independent speaker verification systems", DSP 10, 2000).  Works on the last axis (one
    row per probe); infinite distances stay infinite; a student without a finite cohort keeps the
    raw distance.

    >>> cohort_normalise(np.array([0.2, 0.4, 0.8])).round(3).tolist()
    [0.333, 0.8, 2.667]
    """
    d = np.asarray(distances, dtype=np.float64)
    rows = np.atleast_2d(d)
    out = rows.copy()
    for c in range(rows.shape[1]):
        cohort = np.delete(rows, c, axis=1)
        median = np.full(len(rows), np.nan)
        whole = np.isfinite(cohort).all(axis=1)
        if cohort.shape[1] and whole.any():
            median[whole] = np.median(cohort[whole], axis=1)
        for r in np.flatnonzero(~whole):  # rare: a student with no other photo
            values = cohort[r][np.isfinite(cohort[r])]
            if len(values):
                median[r] = np.median(values)
        ok = np.isfinite(median) & np.isfinite(rows[:, c])
        out[ok, c] = rows[ok, c] / np.maximum(median[ok], 1e-9)
    result: NDArray[np.float64] = out.reshape(d.shape)
    return result


def _score(feature: str, distances: NDArray[np.float64]) -> NDArray[np.float64]:
    """What a feature's logistic reads: raw distances (face) or cohort-normalised ones (regions)."""
    return cohort_normalise(distances) if feature in COHORT_NORMALISED else distances


def platt_fit(
    distances: NDArray[np.float64], matches: NDArray[np.bool_], *, balanced: bool = True
) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` of ``σ(a + b δ)`` by maximum likelihood with Platt's smoothed
    targets; ``balanced`` weighs both classes equally, so that ``e^{a + b δ}`` is a likelihood ratio.

    >>> a, b = platt_fit(np.array([0.2, 0.3, 0.8, 0.9]), np.array([True, True, False, False]))
    >>> b < 0 and 0.3 < -a / b < 0.8
    True
    """
    d = np.asarray(distances, dtype=np.float64)
    y = np.asarray(matches, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise IdentificationError("calibration needs both matching and non-matching pairs")
    target = np.where(y, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    weight = np.where(y, n_neg / n_pos, 1.0) if balanced else np.ones_like(d)
    centre, scale = float(d.mean()), float(d.std()) or 1.0
    z = (d - centre) / scale

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        s = theta[0] + theta[1] * z
        value = float(np.sum(weight * (np.logaddexp(0.0, s) - target * s)))
        residual = weight * (1.0 / (1.0 + np.exp(-s)) - target)
        return value, np.array([residual.sum(), (residual * z).sum()])

    result = minimize(loss, np.zeros(2), jac=True, method="BFGS")
    a_z, b_z = (float(v) for v in result.x)
    return a_z - b_z * centre / scale, b_z / scale


def fit_calibration(roster: Roster) -> Calibration:
    """Calibrate every feature on the roster itself (see the module doc); falls back to
    :data:`DEFAULT_CALIBRATION` when the roster has fewer than two students or no student with two
    photos."""
    gallery = _Gallery(roster)
    counts = np.bincount(gallery.owner, minlength=len(gallery.students))
    if len(gallery.students) < 2 or counts.max() < 2:
        return dict(DEFAULT_CALIBRATION)
    n = len(roster.entries)
    out: Calibration = {}
    for feature in FEATURES:
        vectors = gallery.vectors[feature]
        squared = (vectors**2).sum(axis=1)
        photo_d = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * vectors @ vectors.T, 0.0))
        np.fill_diagonal(photo_d, np.inf)
        # per probe photo: distance to each student's nearest *other* photo (inf when none)
        student_d = np.full((n, len(gallery.students)), np.inf)
        for s in range(len(gallery.students)):
            student_d[:, s] = photo_d[:, gallery.owner == s].min(axis=1)
        own = student_d[np.arange(n), gallery.owner]
        scores = _score(feature, student_d)
        usable = np.isfinite(scores)
        is_own = np.zeros_like(usable)
        is_own[np.arange(n), gallery.owner] = True
        a, b = platt_fit(scores[usable], is_own[usable])
        calibration = FeatureCalibration(a, b, 0.0)
        # leave-one-out photos (the answer: their student), then leave-one-person-out (not enrolled)
        loo = np.isfinite(own)
        guesses = open_set_posterior(calibration.log_odds(scores[loo])).argmax(axis=-1)
        correct = int((guesses == gallery.owner[loo]).sum())
        total, hypotheses = int(loo.sum()), int(loo.sum()) * (len(gallery.students) + 1)
        for s in range(len(gallery.students)):
            rows = gallery.owner == s
            others = _score(feature, np.delete(student_d[rows], s, axis=1))
            guesses = open_set_posterior(calibration.log_odds(others)).argmax(axis=-1)
            correct += int((guesses == others.shape[1]).sum())
            total += int(rows.sum())
            hypotheses += int(rows.sum()) * len(gallery.students)
        chance = total / hypotheses
        reliability = min(MAX_RELIABILITY, max(0.0, (correct / total - chance) / (1.0 - chance)))
        out[feature] = FeatureCalibration(a, b, reliability)
    return out


# -- the identifier --------------------------------------------------------------------------------
class Identifier:
    """Identify faces and tracks against a roster (see the module doc for the method).

    Parameters
    ----------
    roster
        The enrolled students (:func:`~learnsight.vision.roster.load_roster`).
    accept_probability
        Stage 1 answers alone when its best posterior reaches this; ``> 1`` always runs stage 2.
    candidates
        How many students (the most probable) enter stage 2's frame of discernment.
    calibration
        Per-feature calibration; default :func:`fit_calibration` on ``roster``.
    features
        The features fused in stage 2 (default all four).
    """

    def __init__(
        self,
        roster: Roster,
        *,
        accept_probability: float = 0.9,
        candidates: int = 3,
        calibration: Calibration | None = None,
        features: Sequence[str] = FEATURES,
    ) -> None:
        if not roster.entries:
            raise IdentificationError(f"roster {roster.name!r} has no enrolled photo")
        if candidates < 1:
            raise IdentificationError(f"candidates must be at least 1, got {candidates}")
        unknown = [f for f in features if f not in FEATURES]
        if unknown or not features:
            raise IdentificationError(f"unknown features {unknown} (one of {', '.join(FEATURES)})")
        self.roster = roster
        self.accept_probability = accept_probability
        self.candidates = candidates
        self.features = tuple(features)
        self.calibration = fit_calibration(roster) if calibration is None else calibration
        self._gallery = _Gallery(roster)

    @property
    def students(self) -> tuple[str, ...]:
        return self._gallery.students

    def posterior(self, description: FaceDescription, feature: str = "face") -> NDArray[np.float64]:
        """Feature ``feature``'s open-set posterior ``[P(s) for s in students] + [P(not enrolled)]``."""
        scores = _score(feature, self._gallery.distances(description, feature))
        return open_set_posterior(self.calibration[feature].log_odds(scores))

    def identify(self, descriptions: Sequence[FaceDescription]) -> Identification:
        """Identify one face (one description) or a track (one description per frame)."""
        if not descriptions:
            raise IdentificationError("identify: no face description given")
        students = self.students
        stage1 = np.mean([self.posterior(d, "face") for d in descriptions], axis=0)
        order = [int(i) for i in np.argsort(-stage1[:-1], kind="stable")]
        candidates = tuple(students[i] for i in order[: self.candidates])
        best = int(stage1.argmax())
        if stage1[best] >= self.accept_probability:
            student = None if best == len(students) else students[best]
            return Identification(student, float(stage1[best]), 1, 0.0, candidates)
        fused, conflict = combine_all(self.masses(descriptions, candidates))
        bet = pignistic(fused)
        answer = max(bet, key=lambda h: (bet[h], h == NOT_ENROLLED))
        return Identification(
            None if answer == NOT_ENROLLED else answer, float(bet[answer]), 2, conflict, candidates
        )

    def masses(self, descriptions: Sequence[FaceDescription], candidates: Sequence[str]) -> list[Mass]:
        """Stage 2's mass functions over Θ = candidates + not enrolled: one per frame and feature."""
        index = [self.students.index(c) for c in candidates]
        frame = [*candidates, NOT_ENROLLED]
        out: list[Mass] = []
        for description in descriptions:
            for feature in self.features:
                calibration = self.calibration[feature]
                scores = _score(feature, self._gallery.distances(description, feature))[index]
                post = open_set_posterior(calibration.log_odds(scores))
                bayes = bayesian(dict(zip(frame, (float(p) for p in post), strict=True)))
                out.append(discount(bayes, calibration.reliability, frame))
        return out


# -- evaluation ------------------------------------------------------------------------------------
def person_of(photo: Path) -> str:
    """The person an LFW-style file name names: ``Al_Gore_0002.jpg`` → ``Al_Gore``."""
    stem = photo.stem
    head, _, tail = stem.rpartition("_")
    return head if head and tail.isdigit() else stem


def impostor_half(person: str) -> Literal["tuning", "evaluation"]:
    """The fixed split of impostor people: CRC32 of the name, even → tuning, odd → evaluation."""
    return "tuning" if zlib.crc32(person.encode()) % 2 == 0 else "evaluation"


def _tracks(
    items: Sequence[tuple[str, Any]], sizes: tuple[int, int], per_person: int, rng: random.Random
) -> list[tuple[str, list[int]]]:
    """``per_person`` random tracks per person with at least ``sizes[0]`` photos: each a random set of
    ``sizes[0]..sizes[1]`` of that person's photos (two tracks may share photos)."""
    by_person: dict[str, list[int]] = {}
    for i, (person, _) in enumerate(items):
        by_person.setdefault(person, []).append(i)
    tracks = []
    for person in sorted(by_person):
        pool = by_person[person]
        if len(pool) < sizes[0]:
            continue
        for _ in range(per_person):
            size = min(rng.randint(*sizes), len(pool))
            tracks.append((person, sorted(rng.sample(pool, size))))
    return tracks


def describe_scaled(
    path: Path, detector: FaceDetector, scales: Sequence[float] = (1.0,)
) -> dict[float, FaceDescription | None]:
    """The description of the largest face of the photo at ``path`` at each of ``scales``: the face
    is found at full resolution, then the image (area-averaged) and the face box are shrunk by the
    scale before :func:`~learnsight.vision.descriptors.describe` — a classroom camera's small face of
    an enrolled student.  Raises :class:`RosterError` when the photo is unreadable or has no face."""
    image, face = largest_face(path, detector)
    out: dict[float, FaceDescription | None] = {}
    for scale in scales:
        if scale == 1.0:
            out[scale] = describe(image, face)
            continue
        small = shrink(image, scale)
        b = face.box
        out[scale] = describe(
            small, Face(Box(b.x * scale, b.y * scale, b.w * scale, b.h * scale), face.score)
        )
    return out


def shrink(image: Image, scale: float) -> Image:
    """``image`` resized by ``scale`` (< 1) with area averaging, as a camera farther away would see it."""
    cv2 = require("cv2")
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small: Image = np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    return small


@dataclass
class EvaluationSet:
    """Described photos for :func:`evaluate_descriptions`: the roster (full resolution), and per probe
    scale the roster's own photos and the impostors' photos described at that scale."""

    roster: Roster
    probes: dict[float, list[FaceDescription | None]]
    impostors: dict[float, list[tuple[str, FaceDescription]]]
    roster_skipped: int = 0
    impostor_skipped: int = 0
    photo_ms: float = 0.0


def describe_evaluation_set(
    roster_dir: Path | str | None,
    impostor_dir: Path | str | None,
    *,
    impostor_split: Literal["tuning", "evaluation", "all"] = "all",
    max_impostors: int | None = None,
    scales: Sequence[float] = (1.0,),
) -> EvaluationSet:
    """Describe a roster folder (one sub-folder per person) and photos of other people (``None``:
    none), each at every probe scale of ``scales`` (see :func:`describe_scaled`); ``roster_dir=None``
    describes the impostors only (the roster is then empty).

    Impostor photos are every ``.jpg``/``.jpeg``/``.png`` under ``impostor_dir``; the person is read
    from an LFW-style name (``First_Last_0001.jpg``, :func:`person_of`), which also decides the half
    of :func:`impostor_half` (``impostor_split="all"`` keeps both; the benchmark reports the
    ``"evaluation"`` half, the defaults were chosen on the ``"tuning"`` one); at most
    ``max_impostors`` photos, evenly spread over the sorted names.  ``photo_ms`` is the mean time to
    read, detect and describe one photo at all scales."""
    scales = tuple(dict.fromkeys((1.0, *scales)))
    folders = student_folders(Path(roster_dir))[0] if roster_dir is not None else []
    if impostor_dir is not None and not Path(impostor_dir).is_dir():
        raise RosterError(f"{impostor_dir}: impostor folder not found")
    found = Path(impostor_dir).rglob("*") if impostor_dir is not None else iter(())
    paths = sorted(p for p in found if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    paths = [p for p in paths if impostor_split == "all" or impostor_half(person_of(p)) == impostor_split]
    if max_impostors is not None and len(paths) > max_impostors:
        step = len(paths) / max_impostors
        paths = [paths[int(i * step)] for i in range(max_impostors)]
    started = time.perf_counter()
    gallery: dict[str, list[FaceDescription]] = {}
    probes_of: dict[str, dict[float, list[FaceDescription | None]]] = {}
    impostors: dict[float, list[tuple[str, FaceDescription]]] = {s: [] for s in scales}
    roster_skipped = impostor_skipped = n_photos = 0
    with FaceDetector("mediapipe", full_range=False) as detector:
        for folder in folders:
            for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
                n_photos += 1
                try:
                    described = describe_scaled(path, detector, scales)
                except RosterError:
                    described = {}
                full = described.get(1.0)
                if full is None:
                    roster_skipped += 1
                    continue
                gallery.setdefault(folder.name, []).append(full)
                for s in scales:
                    probes_of.setdefault(folder.name, {}).setdefault(s, []).append(described[s])
        for path in paths:
            n_photos += 1
            try:
                described = describe_scaled(path, detector, scales)
            except RosterError:
                impostor_skipped += 1
                continue
            if described[1.0] is None:
                impostor_skipped += 1
            for s, d in described.items():
                if d is not None:
                    impostors[s].append((person_of(path), d))
    elapsed = time.perf_counter() - started
    roster = Roster.from_descriptions(Path(roster_dir).name if roster_dir is not None else "", gallery)
    # in the roster's order: by student, then each student's photos in file order
    probes = {s: [d for student in roster.students for d in probes_of[student][s]] for s in scales}
    return EvaluationSet(
        roster=roster,
        probes=probes,
        impostors=impostors,
        roster_skipped=roster_skipped,
        impostor_skipped=impostor_skipped,
        photo_ms=1000 * elapsed / max(n_photos, 1),
    )


def evaluate_identification(
    roster_dir: Path | str,
    impostor_dir: Path | str | None = None,
    *,
    impostor_split: Literal["tuning", "evaluation", "all"] = "all",
    max_impostors: int | None = None,
    probe_scale: float = 1.0,
    **options: Any,
) -> dict[str, Any]:
    """Describe a roster folder and photos of people not in it (:func:`describe_evaluation_set`),
    then :func:`evaluate_descriptions` with the probes described at ``probe_scale``; ``options`` go
    to :func:`evaluate_descriptions`.  Adds ``photo_ms`` and the counts of skipped photos."""
    data = describe_evaluation_set(
        roster_dir,
        impostor_dir,
        impostor_split=impostor_split,
        max_impostors=max_impostors,
        scales=(probe_scale,),
    )
    result = evaluate_descriptions(
        data.roster, data.impostors[probe_scale], probes=data.probes[probe_scale], **options
    )
    return result | {
        "roster_skipped": data.roster_skipped,
        "impostor_skipped": data.impostor_skipped,
        "photo_ms": data.photo_ms,
    }


def evaluate_enrolled(
    db: Path, roster_name: str, impostor_dir: Path | str | None = None, **options: Any
) -> dict[str, Any]:
    """:func:`evaluate_descriptions` on the roster ``roster_name`` as enrolled in the store ``db``
    (its stored, decrypted descriptions: the same leave-one-out as on a folder, without the photos),
    with photos of people not enrolled from ``impostor_dir``."""
    from learnsight.vision.roster import load_roster

    roster = load_roster(db, roster_name)
    data = describe_evaluation_set(None, impostor_dir)
    result = evaluate_descriptions(roster, data.impostors[1.0], **options)
    return result | {
        "roster": roster_name,
        "store": str(db),
        "impostor_skipped": data.impostor_skipped,
        "photo_ms": data.photo_ms,
    }


def evaluate_descriptions(
    roster: Roster,
    impostors: Sequence[tuple[str, FaceDescription]],
    *,
    probes: Sequence[FaceDescription | None] | None = None,
    accept_probability: float = 0.9,
    candidates: int = 3,
    track_sizes: tuple[int, int] = (3, 5),
    tracks_per_person: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate :class:`Identifier` on described photos.

    ``probes[i]`` is what is identified in place of roster entry ``i`` (default: the entry's own
    description; ``None``: that photo is left out as a probe), e.g. the same photo at a lower
    resolution.

    * ``loo_accuracy``: each roster probe against the roster without its photo (the identifier,
      calibration included, is rebuilt without it);
    * ``lopo_not_enrolled_rate``: each person's probes against the roster without that person;
    * ``impostor_not_enrolled_rate``: each impostor photo against the whole roster;
    * ``track_*``: simulated tracks of ``track_sizes`` photos of one person (``tracks_per_person``
      random ones per person with enough photos; roster tracks against the roster without the
      track's photos, impostor tracks against the whole roster): accuracy (roster) and not-enrolled
      rate (impostors) of the single-photo decisions (``single``: every photo of every track alone),
      of the two-stage decision on the track (``fused``), of stage 2 alone, i.e. Dempster–Shafer
      over features and frames (``ds_only``), and of the stage-1 posterior averaged over the track,
      without Dempster–Shafer (``mean_stage1``).
    """
    if len(roster.students) < 2:
        raise IdentificationError(f"roster {roster.name!r}: evaluation needs at least two students")
    probe_of = [e.description for e in roster.entries] if probes is None else list(probes)
    if len(probe_of) != len(roster.entries):
        raise IdentificationError("evaluate_descriptions: one probe per roster entry is needed")

    def make(r: Roster, accept: float = accept_probability) -> Identifier:
        return Identifier(r, accept_probability=accept, candidates=candidates)

    loo = []
    for i, e in enumerate(roster.entries):
        probe = probe_of[i]
        if probe is not None:
            loo.append((make(roster.without(indices={i})).identify([probe]), e.student))
    lopo = []
    for student in roster.students:
        identifier = make(roster.without(student=student))
        for i, e in enumerate(roster.entries):
            probe = probe_of[i]
            if e.student == student and probe is not None:
                lopo.append(identifier.identify([probe]).student is None)
    full = make(roster)
    impostor_results = [full.identify([d]) for _, d in impostors]

    rng = random.Random(seed)
    roster_items = [(e.student, p) for e, p in zip(roster.entries, probe_of, strict=True) if p is not None]
    roster_index = [i for i, p in enumerate(probe_of) if p is not None]
    whole = (full, make(roster, accept=math.inf), make(roster, accept=0.0))
    rows: dict[str, list[bool]] = {}
    stage2: list[bool] = []
    conflict: list[float] = []
    for kind, items in (("roster", roster_items), ("impostor", list(impostors))):
        for person, indices in _tracks(items, track_sizes, tracks_per_person, rng):
            if kind == "roster":
                base = roster.without(indices={roster_index[i] for i in indices})
                two_stage, ds_only, mean1 = make(base), make(base, accept=math.inf), make(base, accept=0.0)
                truth: str | None = person
            else:
                (two_stage, ds_only, mean1), truth = whole, None
            track = [items[i][1] for i in indices]
            single = [two_stage.identify([d]).student == truth for d in track]
            fused = two_stage.identify(track)
            ds = ds_only.identify(track)
            for name, value in (
                ("single", single),
                ("fused", [fused.student == truth]),
                ("ds_only", [ds.student == truth]),
                ("mean_stage1", [mean1.identify(track).student == truth]),
            ):
                rows.setdefault(f"{kind}:{name}", []).extend(value)
            stage2.append(fused.stage == 2)
            conflict.append(ds.conflict)

    def rate(values: Sequence[bool] | Sequence[float]) -> float:
        return float(np.mean(values)) if len(values) else math.nan

    out: dict[str, Any] = {
        "roster_students": len(roster.students),
        "roster_photos": len(roster.entries),
        "loo_probes": len(loo),
        "loo_accuracy": rate([r.student == truth for r, truth in loo]),
        "loo_stage2_share": rate([r.stage == 2 for r, _ in loo]),
        "lopo_not_enrolled_rate": rate(lopo),
        "impostor_photos": len(impostors),
        "impostor_people": len({p for p, _ in impostors}),
        "impostor_not_enrolled_rate": rate([r.student is None for r in impostor_results]),
        "impostor_stage2_share": rate([r.stage == 2 for r in impostor_results]),
        "tracks_roster": len(rows.get("roster:fused", [])),
        "tracks_impostor": len(rows.get("impostor:fused", [])),
        "track_stage2_share": rate(stage2),
        "track_ds_mean_conflict": rate(conflict),
        "calibration": {k: vars(v) for k, v in full.calibration.items()},
    }
    for name in ("single", "fused", "ds_only", "mean_stage1"):
        out[f"track_{name}_accuracy"] = rate(rows.get(f"roster:{name}", []))
        out[f"track_{name}_not_enrolled_rate"] = rate(rows.get(f"impostor:{name}", []))
    return out
