"""Analyse a lesson video: every stage of :mod:`learnsight.vision` in order, one pass over the frames.

Per sampled frame (``rate`` per second, :mod:`~learnsight.vision.frames`):

1. **detect** every face (:class:`~learnsight.vision.faces.FaceDetector`);
2. **track**: assign the faces to tracks (:class:`~learnsight.vision.tracking.IoUTracker`);
3. **expression**: one batched CNN call for all faces of the frame
   (:class:`~learnsight.vision.expression.ExpressionModel`);
4. **identify** a track once, from its first ``identify_frames`` usable faces fused with
   Dempster–Shafer (:class:`~learnsight.vision.identify.Identifier`), and re-check it every
   ``recheck_s`` seconds with the faces seen since — not every frame, so 30 students cost a few
   descriptor computations per second;
5. **posture**: body keypoints every ``posture_every_s`` seconds per track
   (:class:`~learnsight.vision.posture.PoseReader`; one person per call, so the cost grows with the
   class size: see the module docstring there), read in a second process while this one goes on
   with the next frames (:mod:`~learnsight.vision.posture_worker`).

After the last frame, the tracks of one face the roster does not know are joined under one
pseudonym (:mod:`~learnsight.vision.strangers`), and each track is cut into windows of ``window_s``
seconds; a window's posture is the behaviour of its keypoint clip
(:mod:`~learnsight.vision.behaviour`, geometric rules by default) and its expression the track's
smoothed probabilities read at the window's end, each ``uncertain`` when not confident.  Windows
become :class:`~learnsight.vision.observations.Observation` s; runs of ``hand-raised`` windows
become hand raises.  Nothing is stored here: see :func:`store_lesson`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnsight.files import sha256_file
from learnsight.store.base import IngestReport, Store
from learnsight.vision import observations as obs
from learnsight.vision.frames import DEFAULT_RATE, Enhancement, VideoInfo, probe, sample_frames
from learnsight.vision.tracking import IoUTracker, Track
from learnsight.vision.types import Face, Image

Progress = Callable[[float, float, int], None]
"""Called after each sampled frame with (video seconds done, video seconds in all, frames done)."""


@dataclass(frozen=True)
class AnalysisConfig:
    """Settings of :func:`analyze`; the defaults are the documented analysis rates."""

    rate: float = DEFAULT_RATE
    window_s: float = 10.0
    enhancement: Enhancement = field(default_factory=Enhancement)
    detector: str = "mediapipe"
    detector_tiles: int = 4
    """The detector also runs on a tiles × tiles grid: 30 students in a 720p frame have faces of
    30–60 px, which mediapipe's full-range model misses on the whole frame (2 of 30 found on the
    synthetic lesson; 27 of 30 with 4 × 4 tiles, ~100 ms per frame)."""
    detector_short_range_tiles: bool = True
    """With mediapipe and tiles, also run the short-range model on the tiles (faces that fill a tile:
    :class:`~learnsight.vision.faces.FaceDetector` ``short_range_tiles``; 75 % → 84 % of the people
    in view found on the synthetic 30-seat lesson, ~40 ms more per frame)."""
    detector_min_size: float = 20.0
    """Faces smaller than this (pixels, shorter side) are not analysed: below it a face cannot be
    described for identification (:data:`~learnsight.vision.descriptors.MIN_FACE_SIZE`), and on
    small photos the 4 × 4 tiles' only false faces were 7–18 px (``benchmarks/bench_faces.py``)."""
    identify_frames: int = 3
    recheck_s: float = 30.0
    posture: bool = True
    posture_every_s: float = 2.0
    posture_process: bool = True
    """Read posture in a second process (:mod:`~learnsight.vision.posture_worker`), beside the other
    stages; ``False`` reads it in this process, between frames."""
    camera_pitch: float = 20.0
    """Degrees the camera looks down at the class (the posture rules correct head pitch by it)."""
    expression_half_life_s: float = 4.0
    expression_min_confidence: float | None = None
    expression_weights: Path | None = None
    """Another expression model (``.pt`` with its ``.json``); default: the shipped one."""
    min_track_frames: int = 2


@dataclass
class TrackState:
    """What the pipeline knows about one track while it runs."""

    track: Track
    student: str | None = None
    identity_probability: float = 0.0
    identified_at: float | None = None
    conflict: float = 0.0
    pending: list[Any] = field(default_factory=list)
    expression_times: list[float] = field(default_factory=list)
    expression_probs: list[NDArray[np.float64]] = field(default_factory=list)
    keypoints: list[Any] = field(default_factory=list)
    last_posture_t: float = -1e9
    faces: list[NDArray[np.float32]] = field(default_factory=list)
    """Every face descriptor computed for the track (128-D), for stranger merging."""
    person: int | None = None
    """For a stranger seen in several tracks: the first of them (whose pseudonym they all carry);
    ``None`` for a track that is its own person (:mod:`~learnsight.vision.strangers`)."""


@dataclass
class LessonAnalysis:
    """The result of :func:`analyze`."""

    info: VideoInfo
    lesson: obs.Lesson
    tracks: list[TrackState]
    observations: list[obs.Observation]
    hand_raises: list[obs.HandRaise]
    frames: int
    video_seconds: float
    wall_seconds: float
    faces_seen: int
    rate: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Wall seconds per stage of the main process: decode (with enhancement), detect (with
    tracking), expression, identify, posture (reading it, or with the posture process handing
    frames over and waiting for its last readings); and ``posture worker (in parallel)``, the
    posture process's busy seconds, which overlap the others."""

    @property
    def realtime_factor(self) -> float:
        """Video seconds analysed per wall-clock second (≥ 1: faster than real time)."""
        return self.video_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    def statements(self) -> list[dict[str, Any]]:
        return obs.to_statements(self.lesson, self.observations, self.hand_raises)


def analyze_video(
    video: Path,
    *,
    roster: Any | None,
    lesson: str | None = None,
    course: str | None = None,
    camera: str = "front",
    start: datetime,
    home_page: str,
    config: AnalysisConfig | None = None,
    progress: Progress | None = None,
    export_frames: tuple[Path, int, frozenset[str]] | None = None,
) -> LessonAnalysis:
    """Analyse ``video`` against ``roster`` (a :class:`~learnsight.vision.roster.Roster`, or ``None``
    to keep every track pseudonymous).  ``start`` is the wall-clock time of the video's first frame.

    ``export_frames`` = (folder, n, students): also write ``n`` frames spread over the video as PNG,
    every face blurred except those of the named students (:func:`~learnsight.vision.privacy.blur_faces`);
    without it no image leaves this function.

    Raises :class:`~learnsight.vision.frames.VideoError` for an unreadable or truncated video.
    """
    from learnsight.vision.descriptors import describe
    from learnsight.vision.expression import ExpressionModel, face_crop
    from learnsight.vision.faces import FaceDetector
    from learnsight.vision.posture_worker import PostureRequest, PostureWorker

    config = config or AnalysisConfig()
    video = Path(video)
    info = probe(video)
    digest = sha256_file(video)  # the video's identity in statement ids and pseudonyms
    meta = obs.Lesson(
        lesson=lesson or digest[:12],
        camera=camera,
        start=start,
        home_page=home_page,
        digest=digest,
        video_name=video.name,
        course=course,
    )
    identifier = _identifier(roster)
    expressions = ExpressionModel.load(config.expression_weights)
    tracker = IoUTracker(max_missed_s=max(3.0, 3.0 / config.rate))
    states: dict[int, TrackState] = {}
    started = time.perf_counter()
    frames = faces_seen = 0
    last_t = 0.0
    exported: list[float] = []
    total = info.duration_s or 0.0
    stage = dict.fromkeys(("decode", "detect", "expression", "identify", "posture"), 0.0)
    clock = time.perf_counter()
    with contextlib.ExitStack() as stack:
        short = (
            config.detector_short_range_tiles and config.detector == "mediapipe" and config.detector_tiles > 1
        )
        detector = stack.enter_context(
            FaceDetector(
                config.detector,  # type: ignore[arg-type]
                tiles=config.detector_tiles,
                short_range_tiles=short,
                min_size=config.detector_min_size,
            )
        )
        stack.callback(expressions.close)
        worker = pose_reader = None
        if config.posture and config.posture_process:
            worker = stack.enter_context(PostureWorker(hands=False))
        elif config.posture:
            pose_reader = stack.enter_context(_pose_reader())
        for frame in sample_frames(video, rate=config.rate, enhancement=config.enhancement):
            clock = _lap(stage, "decode", clock)
            faces = detector.detect(frame.image)
            assigned = tracker.update(frame.t, faces)
            faces_seen += len(faces)
            clock = _lap(stage, "detect", clock)
            if assigned:
                crops = [face_crop(frame.image, face) for _, face in assigned]
                probs = expressions.predict(crops)
                clock = _lap(stage, "expression", clock)
                boxes = [face.box for _, face in assigned]
                requests = []
                for k, (track, face) in enumerate(assigned):
                    state = states.setdefault(track.id, TrackState(track))
                    state.expression_times.append(frame.t)
                    state.expression_probs.append(probs[k])
                    if identifier is not None:
                        _identify(state, identifier, frame.image, face, frame.t, config, describe)
                        clock = _lap(stage, "identify", clock)
                    if config.posture and frame.t - state.last_posture_t >= config.posture_every_s:
                        state.last_posture_t = frame.t
                        others = tuple(boxes[:k] + boxes[k + 1 :])
                        requests.append(PostureRequest(track.id, face.box, others, frame.t))
                if worker is not None:
                    worker.submit(frame.image, requests)
                elif pose_reader is not None:
                    for r in requests:
                        keypoints = pose_reader.read(frame.image, r.face, others=r.others, time_s=r.time_s)
                        states[r.track].keypoints.append((r.time_s, keypoints))
                clock = _lap(stage, "posture", clock)
            if export_frames is not None:
                _export(frame.t, frame.image, assigned, states, export_frames, total, exported)
            frames += 1
            last_t = frame.t
            if progress is not None:
                progress(frame.t, total, frames)
            clock = time.perf_counter()
        if worker is not None:
            readings, stage["posture worker (in parallel)"] = worker.finish()
            for track_id, t, keypoints in readings:
                states[track_id].keypoints.append((t, keypoints))
            stage["posture"] += time.perf_counter() - clock
    for state in states.values():
        if identifier is not None and state.pending:  # a track shorter than identify_frames
            _decide(state, identifier, state.track.times[-1])
    kept = [s for s in states.values() if len(s.track.times) >= config.min_track_frames]
    if identifier is not None:
        join_strangers(kept)
    observations, raises = _windows(kept, config)
    video_seconds = max(last_t + 1.0 / config.rate, total) if total else last_t + 1.0 / config.rate
    return LessonAnalysis(
        info=info,
        lesson=meta,
        tracks=sorted(kept, key=lambda s: s.track.id),
        observations=observations,
        hand_raises=raises,
        frames=frames,
        video_seconds=video_seconds,
        wall_seconds=time.perf_counter() - started,
        faces_seen=faces_seen,
        rate=config.rate,
        stage_seconds=stage,
    )


def _lap(stage: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    stage[name] += now - since
    return now


def store_lesson(store: Store, analysis: LessonAnalysis) -> IngestReport:
    """Write the lesson's statements in one atomic batch (:func:`~learnsight.vision.observations.write`)."""
    return obs.write(store, analysis.lesson, analysis.statements())


def _export(
    t: float,
    image: Image,
    assigned: list[tuple[Track, Face]],
    states: dict[int, TrackState],
    export: tuple[Path, int, frozenset[str]],
    total: float,
    exported: list[float],
) -> None:
    """Write the frame at ``t`` if it is the next of ``n`` evenly spaced ones, faces blurred."""
    from learnsight.vision.extra import require
    from learnsight.vision.privacy import blur_faces

    folder, n, keep = export
    if n <= 0 or len(exported) >= n or (exported and t < exported[-1] + max(total, 1.0) / n):
        return
    cv2 = require("cv2")
    folder.mkdir(parents=True, exist_ok=True)
    kept = [states[track.id].student in keep for track, _ in assigned]
    blurred = blur_faces(image, [face.box for _, face in assigned], keep=kept)
    cv2.imwrite(str(folder / f"frame-{t:08.2f}.png"), cv2.cvtColor(blurred, cv2.COLOR_RGB2BGR))
    exported.append(t)


def _identifier(roster: Any | None) -> Any | None:
    if roster is None:
        return None
    from learnsight.vision.identify import Identifier

    return Identifier(roster)


def _pose_reader() -> Any:
    from learnsight.vision.posture import PoseReader

    return PoseReader(hands=False)  # hands add 40 ms per student and the rules do without them


def _identify(
    state: TrackState,
    identifier: Any,
    image: Image,
    face: Face,
    t: float,
    config: AnalysisConfig,
    describe: Callable[[Image, Face], Any],
) -> None:
    """Identify a track from its first usable face, adding faces (up to ``identify_frames``) while
    stage 1 is not confident; re-check every ``recheck_s``.  A face description costs ~120 ms on
    this CPU, so a confident track costs one."""
    first = state.identified_at is None
    if not first and t - state.identified_at < config.recheck_s:  # type: ignore[operator]
        return
    description = describe(image, face)
    if description is None:
        return
    state.pending.append(description)
    state.faces.append(description.face)
    result = identifier.identify(state.pending[-config.identify_frames :])
    if not first or result.stage == 1 or len(state.pending) >= config.identify_frames:
        _accept(state, result, t)


def _decide(state: TrackState, identifier: Any, t: float) -> None:
    """Decide a track with the faces collected so far (a track that ended early)."""
    if state.identified_at is not None:
        return
    if not state.pending:
        state.identified_at = t
        return
    _accept(state, identifier.identify(state.pending[-5:]), t)


def _accept(state: TrackState, result: Any, t: float) -> None:
    state.student = result.student
    state.identity_probability = float(result.probability)
    state.conflict = float(result.conflict)
    state.identified_at = t
    state.pending = state.pending[-2:]  # keep a little evidence for the next re-check


def join_strangers(states: list[TrackState]) -> None:
    """Give the tracks of one face the roster does not know one pseudonym: set ``person`` on every
    stranger track after the first of its face (:func:`~learnsight.vision.strangers.merge_strangers`)."""
    from learnsight.vision.strangers import StrangerTrack, merge_strangers

    strangers = [s for s in states if s.student is None]
    groups = merge_strangers([StrangerTrack(s.track.id, *s.track.span, s.faces) for s in strangers])
    for s in strangers:
        first = groups[s.track.id]
        s.person = first if first != s.track.id else None


def _windows(
    states: list[TrackState], config: AnalysisConfig
) -> tuple[list[obs.Observation], list[obs.HandRaise]]:
    from learnsight.vision.behaviour import GeometricRules
    from learnsight.vision.expression import read, smooth

    rules = GeometricRules(camera_pitch=config.camera_pitch)

    observations: list[obs.Observation] = []
    raises: list[obs.HandRaise] = []
    min_conf: dict[str, Any] = (
        {}
        if config.expression_min_confidence is None
        else {"min_confidence": config.expression_min_confidence}
    )
    for state in states:
        times = np.asarray(state.expression_times)
        smoothed = smooth(
            list(times), np.vstack(state.expression_probs), half_life_s=config.expression_half_life_s
        )
        first, last = state.track.span
        start = first
        raising = False
        while start <= last:
            end = start + config.window_s
            inside = np.flatnonzero((times >= start) & (times < end))
            if inside.size:
                reading = read(smoothed[inside[-1] : inside[-1] + 1], **min_conf)[0]
                clip = [k for tk, k in state.keypoints if start <= tk < end]
                posture = rules.read(clip)
                observations.append(
                    obs.Observation(
                        track=state.track.id,
                        start_s=float(start),
                        end_s=float(min(end, last + 1.0 / config.rate)),
                        student=state.student,
                        identity_probability=state.identity_probability,
                        posture=posture.label,
                        posture_confidence=float(posture.confidence),
                        expression=reading.label,
                        expression_state=reading.state,
                        expression_confidence=float(reading.confidence),
                        person=state.person,
                    )
                )
                if posture.label == "hand-raised" and not raising:
                    raises.append(obs.HandRaise(state.track.id, float(start), state.student, state.person))
                raising = posture.label == "hand-raised"
            start = end
    return observations, raises
