"""Strangers (faces the roster does not know) keep one pseudonym across their tracks."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from learnsight.vision import observations as obs
from learnsight.vision import strangers
from learnsight.vision.faces import FaceDetector
from learnsight.vision.pipeline import TrackState, join_strangers
from learnsight.vision.roster import describe_photo
from learnsight.vision.strangers import StrangerTrack, merge_strangers
from learnsight.vision.summary import summarise
from learnsight.vision.tracking import Track


def test_doctests_pass() -> None:
    assert doctest.testmod(strangers).failed == 0


def vec(value: float) -> np.ndarray:
    return np.full(128, value, dtype=np.float32)


def test_tracks_that_overlap_in_time_are_never_one_person() -> None:
    same = [StrangerTrack(1, 0, 10, [vec(0)]), StrangerTrack(2, 10, 20, [vec(0)])]  # touching at t=10
    assert merge_strangers(same) == {1: 1, 2: 2}
    apart = [StrangerTrack(1, 0, 10, [vec(0)]), StrangerTrack(2, 10.5, 20, [vec(0)])]
    assert merge_strangers(apart) == {1: 1, 2: 1}


def test_distance_threshold_and_tracks_without_descriptors() -> None:
    # 0.04 per coordinate is 0.45 apart (merged), 0.05 is 0.57 (not merged)
    tracks = [
        StrangerTrack(1, 0, 5, [vec(0)]),
        StrangerTrack(2, 6, 9, [vec(0.04)]),
        StrangerTrack(3, 10, 12, [vec(-0.05), vec(-0.05)]),
        StrangerTrack(4, 13, 15, []),
    ]
    assert merge_strangers(tracks) == {1: 1, 2: 1, 3: 3, 4: 4}
    assert merge_strangers(tracks, max_distance=1.0) == {1: 1, 2: 1, 3: 1, 4: 4}
    assert merge_strangers([]) == {}
    with pytest.raises(ValueError, match="positive"):
        merge_strangers(tracks, max_distance=0)


def test_a_track_joins_the_nearest_group() -> None:
    tracks = [
        StrangerTrack(1, 0, 10, [vec(0)]),
        StrangerTrack(2, 0, 10, [vec(0.03)]),
        StrangerTrack(3, 20, 30, [vec(0.028)]),
    ]
    assert merge_strangers(tracks) == {1: 1, 2: 2, 3: 2}


def test_real_faces_of_two_strangers_in_five_tracks(faces_dir: Path) -> None:
    """Two people of the roster folder play strangers (no roster is used to decide): A appears in
    three tracks one after the other, B in two tracks that overlap A's."""
    folders = sorted(p for p in (faces_dir / "roster").iterdir() if p.is_dir())[:2]
    with FaceDetector("mediapipe", full_range=False) as detector:
        faces = {
            f.name: [describe_photo(p, detector).face for p in sorted(f.glob("*.jpg"))[:6]] for f in folders
        }
    a, b = (faces[f.name] for f in folders)
    spans = {1: (0, 30, a[0:2], None), 2: (40, 70, a[2:4], None), 3: (80, 99, a[4:6], None)}
    spans |= {4: (10, 50, b[0:3], None), 5: (60, 99, b[3:6], None)}
    spans[6] = (0, 99, a[0:1], "ana")  # an enrolled student is never joined to a stranger
    states = []
    for track_id, (start, end, descriptors, student) in spans.items():
        state = TrackState(Track(track_id, [float(start), float(end)]), student=student)
        state.faces = list(descriptors)
        states.append(state)
    join_strangers(states)
    person = {s.track.id: s.person for s in states}
    assert person == {1: None, 2: 1, 3: 1, 4: None, 5: 4, 6: None}

    lesson = obs.Lesson(
        lesson="L1", camera="front", start=datetime(2026, 12, 7, 9, tzinfo=UTC),
        home_page="https://school.example", digest="d" * 64, video_name="v.mp4",
    )  # fmt: skip
    seen = [
        obs.Observation(s.track.id, s.track.times[0], s.track.times[0] + 10, s.student, 0.9,
                        "upright", 0.8, "calm", "positive", 0.9, person=s.person)
        for s in states
    ]  # fmt: skip
    raises = [obs.HandRaise(3, 85.0, None, person=1)]
    statements = obs.to_statements(lesson, seen, raises)
    names = {st["context"]["extensions"][obs.EXT_TRACK]: st["actor"]["account"]["name"] for st in statements}
    assert names[1] == names[2] == names[3] == f"{'d' * 16}/1"
    assert names[4] == names[5] == f"{'d' * 16}/4" and names[6] == "ana"
    assert len({st["id"] for st in statements}) == len(statements)  # ids stay per track
    people = {p.person: p for p in summarise(seen, raises)}
    assert set(people) == {"ana", "track-1", "track-4"}
    assert people["track-1"].tracks == (1, 2, 3) and people["track-1"].hand_raises == 1
    assert people["track-4"].tracks == (4, 5)
