"""Posture read in a second process gives the main process's readings; failures surface."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from learnsight.vision.posture import PoseReader
from learnsight.vision.posture_worker import PostureRequest, PostureWorker, PostureWorkerError
from learnsight.vision.types import Box

pytestmark = pytest.mark.realdata


def _people(detection: Path) -> list[tuple[np.ndarray, list[Box]]]:
    import cv2

    out = []
    for image in ET.parse(detection / "training.xml").getroot().iter("image"):
        boxes = [
            Box(*(float(b.get(k, 0)) for k in ("left", "top", "width", "height"))) for b in image.iter("box")
        ]
        bgr = cv2.imread(str(detection / str(image.get("file"))))
        out.append((np.ascontiguousarray(bgr[:, :, ::-1]), boxes))
    return out


def test_worker_readings_equal_in_process_readings(faces_dir: Path) -> None:
    frames = _people(faces_dir / "detection")
    jobs = [
        [
            PostureRequest(10 * f + k, box, tuple(b for b in boxes if b != box), float(f))
            for k, box in enumerate(boxes)
        ]
        for f, (_, boxes) in enumerate(frames)
    ]
    with PostureWorker(max_pending=1) as worker:
        for (image, _), requests in zip(frames, jobs, strict=True):
            worker.submit(image, requests)
        worker.submit(frames[0][0], [])  # nothing to read: nothing sent
        readings, busy = worker.finish()
    assert busy > 0
    expected = [(r.track, r.time_s) for requests in jobs for r in requests]
    assert [(track, t) for track, t, _ in readings] == expected  # all of them, in request order
    with PoseReader() as reader:
        for (image, _), requests in zip(frames, jobs, strict=True):
            for r in requests:
                here = reader.read(image, r.face, others=r.others, time_s=r.time_s)
                there = next(k for track, _, k in readings if track == r.track)
                assert (here is None) == (there is None)
                if here is not None and there is not None:
                    np.testing.assert_allclose(here.pose, there.pose)
                    assert here.yaw == pytest.approx(there.yaw) if here.yaw is not None else there.yaw is None
    assert sum(k is not None for _, _, k in readings) >= len(readings) // 2


def test_a_failure_in_the_worker_is_raised_with_its_traceback() -> None:
    with PostureWorker() as worker:
        worker.submit(np.zeros((200, 200), dtype=np.uint8), [PostureRequest(1, Box(80, 20, 30, 30), (), 0.0)])
        with pytest.raises(PostureWorkerError, match="posture process"):
            worker.finish()


def test_leaving_the_block_early_stops_the_process() -> None:
    with PostureWorker() as worker:
        process = worker._process
        assert process.is_alive()
    assert not process.is_alive()
