"""Decoding, sampling and enhancing video frames; tracking faces across them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from learnsight.vision import synthetic as syn
from learnsight.vision.frames import (
    Enhancement,
    VideoError,
    auto_gamma,
    gray_world,
    probe,
    sample_frames,
    wavelet_denoise,
)
from learnsight.vision.tracking import IoUTracker
from learnsight.vision.types import Box, Face


@pytest.fixture(scope="module")
def lesson_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, syn.Scene]:
    """A 6-second, 8-seat lesson of real roster and expression photos (rendered once per module)."""
    from learnsight.settings import dataset_path

    faces = dataset_path("faces")
    scene, _ = syn.lesson_from_dataset(faces, seats=8, seconds=6.0, seed=2, fps=10.0)
    path = tmp_path_factory.mktemp("video") / "lesson.mp4"
    syn.render(scene, path)
    return path, scene


@pytest.mark.realdata
def test_probe_and_sampling_rate(lesson_video: tuple[Path, syn.Scene]) -> None:
    path, scene = lesson_video
    info = probe(path)
    assert (info.width, info.height) == (scene.width, scene.height)
    assert info.fps == pytest.approx(10.0)
    frames = list(sample_frames(path, rate=2.0, enhancement=Enhancement.none()))
    times = [f.t for f in frames]
    assert len(frames) == 12
    assert np.allclose(np.diff(times), 0.5, atol=0.06)
    assert frames[0].image.shape == (scene.height, scene.width, 3) and frames[0].image.dtype == np.uint8
    # a span
    span = list(sample_frames(path, rate=1.0, start_s=2.0, end_s=4.0, enhancement=Enhancement.none()))
    assert [round(f.t) for f in span] == [2, 3, 4]


@pytest.mark.realdata
def test_truncated_and_unreadable_videos_are_clear_errors(
    lesson_video: tuple[Path, syn.Scene], tmp_path: Path
) -> None:
    path, _ = lesson_video
    with pytest.raises(VideoError, match="cannot be read as a video"):
        list(sample_frames(tmp_path / "missing.mp4"))
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoError, match=r"notes\.mp4"):
        list(sample_frames(text))
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(VideoError, match=r"cut\.mp4"):
        list(sample_frames(truncated))


def test_sampling_rate_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rate"):
        list(sample_frames(tmp_path / "x.mp4", rate=0))


def test_gray_world_equalises_channel_means() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 200, (40, 60, 3)).astype(np.uint8)
    image[..., 2] = image[..., 2] // 2  # a blue cast removed
    out = gray_world(image).reshape(-1, 3).astype(float).mean(axis=0)
    assert np.ptp(out) < 1.5


def test_gamma_brightens_dark_and_darkens_bright_frames() -> None:
    dark = np.full((8, 8, 3), 30, np.uint8)
    bright = np.full((8, 8, 3), 230, np.uint8)
    assert auto_gamma(dark).mean() > 60
    assert auto_gamma(bright).mean() < 230
    mid = np.full((8, 8, 3), 128, np.uint8)
    assert abs(float(auto_gamma(mid).mean()) - 128) <= 1


def test_wavelet_denoising_reduces_noise_and_keeps_edges() -> None:
    rng = np.random.default_rng(1)
    clean = np.zeros((128, 128, 3), np.float64)
    clean[:, 64:] = 200.0
    grain = rng.normal(0, 20, clean.shape[:2])[..., None]  # luminance noise: what the step removes
    noisy = np.clip(clean + grain, 0, 255).astype(np.uint8)
    out = wavelet_denoise(noisy).astype(float)
    assert np.abs(out - clean).mean() < 0.7 * np.abs(noisy.astype(float) - clean).mean()
    assert out[:, 70:].mean() - out[:, :58].mean() > 150  # the edge survives


def face(x: float, y: float, w: float = 40.0) -> Face:
    return Face(Box(x, y, w, w), 0.9)


def test_tracker_keeps_identities_through_motion_gaps_and_crossings() -> None:
    tracker = IoUTracker(max_missed_s=2.0)
    ids = {}
    for t in range(6):
        a = face(100 + 10 * t, 100)  # walks right, overlapping itself frame to frame
        b = face(400 - 30 * t, 300)  # moves fast: less than one face width per frame
        out = tracker.update(float(t), [b, a] if t % 2 else [a, b])
        for track, f in out:
            ids.setdefault(f.box.y, set()).add(track.id)
    assert len(ids[100]) == 1 and len(ids[300]) == 1 and ids[100] != ids[300]
    # a gap shorter than max_missed_s keeps the track, a longer one starts a new one
    tracker.update(6.0, [])
    kept = tracker.update(6.5, [face(160, 100)])[0][0]
    assert kept.id in ids[100]
    new = tracker.update(12.0, [face(160, 100)])[0][0]
    assert new.id not in ids[100]
    tracks = tracker.finish()
    assert [t.id for t in tracks] == sorted(t.id for t in tracks)
    assert sum(len(t.times) for t in tracks) == 14


def test_tracker_never_joins_far_or_rescaled_faces() -> None:
    tracker = IoUTracker()
    first = tracker.update(0.0, [face(100, 100)])[0][0]
    far = tracker.update(1.0, [face(300, 100)])[0][0]  # 5 face widths away
    assert far.id != first.id
    tracker = IoUTracker()
    first = tracker.update(0.0, [face(100, 100)])[0][0]
    bigger = tracker.update(1.0, [Face(Box(95, 95, 90, 90), 0.9)])[0][0]  # 2.25x the size
    assert bigger.id != first.id


@pytest.mark.realdata
def test_synthetic_scene_ground_truth_matches_what_is_shown(lesson_video: tuple[Path, syn.Scene]) -> None:
    _, scene = lesson_video
    truth = scene.truth()
    assert len(truth["seats"]) == 8
    assert sum(s["enrolled"] for s in truth["seats"]) == 5
    from learnsight.settings import dataset_path

    enroll, _ = syn.split_roster(dataset_path("faces", "roster"))
    enrolled_photos = {p for photos in enroll.values() for p in photos}
    shown = {p for seat in scene.seats if seat.person.enrolled for p in seat.person.photos}
    assert shown and not shown & enrolled_photos  # identification is tested on photos it never saw
    for seat in scene.seats:
        assert seat.tile.x >= 0 and seat.tile.x + seat.tile.w <= scene.width
        assert not math.isnan(seat.sway_phase)
        assert 0 <= scene.photo_at(seat, seat.arrive_s) < len(seat.person.photos)
