"""One pseudonym per face the roster does not know, however many tracks it left (SPEC §5).

A student who is not enrolled and leaves the picture comes back as a new track.  Enrolled students'
tracks are joined by their student key; a stranger's tracks are joined here, by their faces:

* each track is described by the mean of its dlib face descriptors (128-D,
  :mod:`learnsight.vision.descriptors`; the identification stage computes them anyway);
* tracks are taken in order of their first frame; a track joins the group whose mean descriptor is
  nearest, when that distance is below :data:`SAME_FACE_DISTANCE` **and** the track overlaps none of
  the group's tracks in time (one person is not in two places at once); otherwise it starts a group;
* a group is named by its first track, so its pseudonym (``<video>/<track>``) is the first track's.

dlib's model separates people at a Euclidean distance of 0.6 (its documented threshold, 99.38 % on
LFW pairs); 0.5 is stricter, so that two look-alike strangers stay two people more often than one
stranger is split in two.  A track without a descriptor (a face too small for dlib) stays alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SAME_FACE_DISTANCE = 0.5
"""The largest distance between mean face descriptors of two tracks of one stranger."""


@dataclass(frozen=True)
class StrangerTrack:
    """What :func:`merge_strangers` needs of a track: its id, first and last time, face descriptors."""

    track: int
    start: float
    end: float
    descriptors: Sequence[NDArray[np.float32]]


def merge_strangers(
    tracks: Sequence[StrangerTrack], *, max_distance: float = SAME_FACE_DISTANCE
) -> dict[int, int]:
    """Each track's group, named by the group's first track id (see the module docstring).

    >>> a = np.zeros(128, np.float32); b = np.full(128, 0.1, np.float32)
    >>> merge_strangers([StrangerTrack(1, 0, 10, [a]), StrangerTrack(2, 20, 30, [a + 0.01]),
    ...                  StrangerTrack(3, 40, 50, [b]), StrangerTrack(4, 5, 15, [a])])
    {1: 1, 4: 4, 2: 1, 3: 3}
    """
    if not max_distance > 0:
        raise ValueError(f"max_distance must be positive, got {max_distance}")
    groups: list[tuple[int, list[StrangerTrack], list[NDArray[np.float64]]]] = []
    out: dict[int, int] = {}
    for t in sorted(tracks, key=lambda s: (s.start, s.track)):
        if not len(t.descriptors):
            out[t.track] = t.track
            continue
        mean = np.mean(np.asarray(t.descriptors, dtype=np.float64), axis=0)
        best, best_distance = None, max_distance
        for k, (_, members, means) in enumerate(groups):
            if any(t.start <= m.end and m.start <= t.end for m in members):
                continue
            distance = float(np.linalg.norm(np.mean(means, axis=0) - mean))
            if distance < best_distance:
                best, best_distance = k, distance
        if best is None:
            groups.append((t.track, [t], [mean]))
            out[t.track] = t.track
        else:
            name, members, means = groups[best]
            members.append(t)
            means.append(mean)
            out[t.track] = name
    return out


__all__ = ["SAME_FACE_DISTANCE", "StrangerTrack", "merge_strangers"]
