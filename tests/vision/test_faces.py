"""Face detection on the PASCAL images of dlib's face-detection example (faces/detection/)."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest

from learnsight.vision import faces as faces_module
from learnsight.vision.faces import (
    BOX_TRANSFORMS,
    IDENTITY,
    FaceDetectionError,
    FaceDetector,
    evaluate_detection,
    fit_box_transform,
    load_imglab,
    match_boxes,
    read_image,
)
from learnsight.vision.types import Box, Face

pytestmark = pytest.mark.realdata


@pytest.fixture
def detection_dir(faces_dir: Path) -> Path:
    return faces_dir / "detection"


def test_doctests_pass() -> None:
    result = doctest.testmod(faces_module)
    assert result.attempted >= 3 and result.failed == 0


def test_load_imglab_reads_every_box(detection_dir: Path) -> None:
    images = load_imglab(detection_dir / "testing.xml")
    assert [f for f, _ in images][:2] == ["2008_002470.jpg", "2008_002506.jpg"]
    assert len(images) == 5
    assert sum(len(b) for _, b in images) == 25
    assert images[1][1][0] == Box(329, 78, 109, 109)  # left, top, width, height


def test_load_imglab_refuses_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<dataset><images><image file='x.jpg'><box top='1'/></image></images></dataset>")
    with pytest.raises(FaceDetectionError, match=r"bad\.xml: x\.jpg: a box lacks"):
        load_imglab(bad)
    bad.write_text("<dataset><images>")
    with pytest.raises(FaceDetectionError, match=r"bad\.xml: not a readable imglab XML"):
        load_imglab(bad)


def test_detection_finds_the_annotated_faces_of_a_real_image(detection_dir: Path) -> None:
    truth = dict(load_imglab(detection_dir / "testing.xml"))["2008_002506.jpg"]
    image = read_image(detection_dir / "2008_002506.jpg")
    with FaceDetector() as detector:
        faces = detector.detect(image)
    assert len(faces) == 3
    assert match_boxes(truth, faces, 0.5) == 3
    for face in faces:
        assert 0.5 <= face.score <= 1.0
        assert face.keypoints is not None and face.keypoints.shape == (6, 2)
        # the eyes and the nose tip lie inside the face box
        inner = face.box.expanded(0.1)
        for x, y in face.keypoints[:3]:
            assert inner.x <= x <= inner.x + inner.w and inner.y <= y <= inner.y + inner.h
    assert faces == sorted(faces, key=lambda f: -f.score)


def test_an_image_without_faces_gives_none(detection_dir: Path) -> None:
    image = read_image(detection_dir / "2008_002506.jpg")
    below_the_faces = np.ascontiguousarray(image[int(image.shape[0] * 0.6) :])  # bodies, no face
    with FaceDetector() as detector, FaceDetector(tiles=2) as tiled:
        assert detector.detect(below_the_faces) == []
        assert tiled.detect(below_the_faces) == []
        assert detector.detect(np.full((240, 320, 3), 128, dtype=np.uint8)) == []


def test_recall_on_the_test_split_reaches_the_target(detection_dir: Path) -> None:
    with FaceDetector() as detector:
        result = evaluate_detection(detection_dir / "testing.xml", detector)
    assert result["n_boxes"] == 25
    assert result["recall"] >= 0.90
    assert result["precision"] >= 0.90
    assert len(result["per_image"]) == 5
    assert sum(p["true_positives"] for p in result["per_image"]) == result["true_positives"]


def test_tiling_finds_the_small_faces_it_misses_otherwise(detection_dir: Path) -> None:
    with FaceDetector(tiles=2) as detector:
        result = evaluate_detection(detection_dir / "testing.xml", detector)
    assert result["recall"] == 1.0
    assert result["precision"] >= 0.9


def test_short_range_tiles_add_faces_and_no_false_ones(detection_dir: Path) -> None:
    with FaceDetector(tiles=4) as plain, FaceDetector(tiles=4, short_range_tiles=True) as both:
        before = evaluate_detection(detection_dir / "testing.xml", plain)
        after = evaluate_detection(detection_dir / "testing.xml", both)
    assert after["recall"] >= before["recall"] and after["recall"] >= 0.96
    assert after["precision"] >= before["precision"]  # the score floor keeps the short model's noise out
    with pytest.raises(FaceDetectionError, match="short_range_tiles"):
        FaceDetector(short_range_tiles=True)  # no tiles
    with pytest.raises(FaceDetectionError, match="short_range_tiles"):
        FaceDetector("hog", tiles=2, short_range_tiles=True)


def test_min_size_drops_the_tiny_faces_only(detection_dir: Path) -> None:
    with FaceDetector(tiles=4) as every, FaceDetector(tiles=4, min_size=20) as sized:
        kept = evaluate_detection(detection_dir / "testing.xml", sized)
        plain = evaluate_detection(detection_dir / "testing.xml", every)
        faces = every.detect(read_image(detection_dir / "2008_002470.jpg"))
        small = sized.detect(read_image(detection_dir / "2008_002470.jpg"))
    assert kept["recall"] == plain["recall"] and kept["precision"] >= plain["precision"]
    assert [(f.box, f.score) for f in faces if min(f.box.w, f.box.h) >= 20] == [
        (f.box, f.score) for f in small
    ]
    assert len(small) < len(faces)  # this photo has tiny false faces
    with pytest.raises(FaceDetectionError, match="min_size"):
        FaceDetector(min_size=-1)


def test_hog_and_haar_backends(detection_dir: Path) -> None:
    image = read_image(detection_dir / "2008_002506.jpg")
    truth = dict(load_imglab(detection_dir / "testing.xml"))["2008_002506.jpg"]
    with FaceDetector("hog") as hog, FaceDetector("haar") as haar:
        hog_faces = hog.detect(image)
        haar_faces = haar.detect(image)
    assert match_boxes(truth, hog_faces) == 3
    assert all(f.keypoints is None and 0.5 <= f.score <= 1 for f in hog_faces)
    assert match_boxes(truth, haar_faces) >= 2


def test_box_transform_is_reproducible_from_the_training_split_only(detection_dir: Path) -> None:
    with FaceDetector() as detector:
        fitted = fit_box_transform(detection_dir / "training.xml", detector)
    expected = BOX_TRANSFORMS["mediapipe-full"]
    for field in ("dx", "dy", "sw", "sh"):
        assert getattr(fitted, field) == pytest.approx(getattr(expected, field), abs=0.005)
    with FaceDetector(box_transform=IDENTITY) as raw:
        assert raw.box_transform == IDENTITY


def test_bad_input_is_refused(detection_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FaceDetectionError, match="unknown backend"):
        FaceDetector("yolo")  # type: ignore[arg-type]
    with pytest.raises(FaceDetectionError, match="min_score"):
        FaceDetector(min_score=2.0)
    detector = FaceDetector()
    with pytest.raises(FaceDetectionError, match="uint8"):
        detector.detect(np.zeros((10, 10, 3), dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(FaceDetectionError, match="RGB array"):
        detector.detect(np.zeros((10, 10), dtype=np.uint8))
    detector.close()
    with pytest.raises(FaceDetectionError, match="after close"):
        detector.detect(np.zeros((10, 10, 3), dtype=np.uint8))
    not_an_image = tmp_path / "photo.jpg"
    not_an_image.write_text("hello")
    with pytest.raises(FaceDetectionError, match=r"photo\.jpg: not a readable image"):
        read_image(not_an_image)
    with pytest.raises(FaceDetectionError, match="cannot read"):
        read_image(tmp_path / "missing.jpg")


def test_match_boxes_uses_each_detection_once() -> None:
    truth = [Box(0, 0, 10, 10), Box(1, 0, 10, 10)]
    assert match_boxes(truth, [Face(Box(0, 0, 10, 10), 0.9)]) == 1
    assert match_boxes(truth, [Face(Box(0, 0, 10, 10), 0.9), Face(Box(1, 0, 10, 10), 0.8)]) == 2
    assert match_boxes(truth, [Face(Box(50, 50, 10, 10), 0.9)]) == 0
