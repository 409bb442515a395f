"""Follow each face across sampled frames, so that a student is identified once per track.

An optimal assignment per frame: the cost of pairing a live track with a detection is
``1 − IoU`` of the track's last box and the detection, pairs with IoU below ``min_iou`` are not
allowed, and the Hungarian algorithm (:func:`scipy.optimize.linear_sum_assignment`) picks the
cheapest matching.  At a low analysis rate (1 frame/s) faces can move more than their own width
between frames, so when IoU fails the tracker also accepts a detection whose centre lies within
``max_center_shift`` face-widths of the track's last centre and whose size is within a factor
``max_scale_change`` — the cost of such a pair is ``1 + normalised centre distance``, so an
overlapping candidate always wins.  A track not matched for ``max_missed_s`` seconds ends; an
unmatched detection starts a new track.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from learnsight.vision.types import Face

_FORBIDDEN = 1e6


@dataclass
class Track:
    """One face followed over time: ``id`` is unique within a video; ``times`` and ``faces`` are
    the sampled frames where it was seen, in order."""

    id: int
    times: list[float] = field(default_factory=list)
    faces: list[Face] = field(default_factory=list)

    @property
    def last(self) -> Face:
        return self.faces[-1]

    @property
    def span(self) -> tuple[float, float]:
        return self.times[0], self.times[-1]


@dataclass
class IoUTracker:
    """Assign the faces of each sampled frame to tracks (see the module docstring)."""

    min_iou: float = 0.2
    max_center_shift: float = 1.0
    max_scale_change: float = 1.6
    max_missed_s: float = 3.0
    _live: list[Track] = field(default_factory=list)
    _ended: list[Track] = field(default_factory=list)
    _next_id: int = 1

    def update(self, t: float, faces: list[Face]) -> list[tuple[Track, Face]]:
        """Add the faces of the frame at time ``t``; returns each face with its track."""
        self._expire(t)
        cost = np.full((len(self._live), len(faces)), _FORBIDDEN)
        for i, track in enumerate(self._live):
            for j, face in enumerate(faces):
                cost[i, j] = self._cost(track.last, face)
        matched: dict[int, Track] = {}
        if cost.size:
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=True):
                if cost[i, j] < _FORBIDDEN:
                    matched[int(j)] = self._live[int(i)]
        out = []
        for j, face in enumerate(faces):
            found = matched.get(j)
            if found is None:
                track = Track(self._next_id)
                self._next_id += 1
                self._live.append(track)
            else:
                track = found
            track.times.append(t)
            track.faces.append(face)
            out.append((track, face))
        return out

    def finish(self) -> list[Track]:
        """Every track, ended or live, in order of first appearance."""
        tracks = self._ended + self._live
        self._ended, self._live = [], []
        return sorted(tracks, key=lambda tr: tr.id)

    def _expire(self, t: float) -> None:
        keep: list[Track] = []
        for track in self._live:
            (keep if t - track.times[-1] <= self.max_missed_s else self._ended).append(track)
        self._live = keep

    def _cost(self, last: Face, face: Face) -> float:
        iou = last.box.iou(face.box)
        if iou >= self.min_iou:
            return 1.0 - iou
        size = max(last.box.w, 1e-6)
        scale = face.box.w / size
        if not 1 / self.max_scale_change <= scale <= self.max_scale_change:
            return _FORBIDDEN
        (ax, ay), (bx, by) = last.box.center, face.box.center
        shift = float(np.hypot(ax - bx, ay - by)) / size
        return 1.0 + shift if shift <= self.max_center_shift else _FORBIDDEN
