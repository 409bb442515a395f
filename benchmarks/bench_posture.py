"""Benchmark posture: milliseconds per student for :class:`PoseReader`, and the behaviour readers'
accuracy on synthetic clips from the documented body model.

Usage::

    python benchmarks/bench_posture.py              # all 43 annotated people of faces/detection
    python benchmarks/bench_posture.py --repeat 3 --clips 60

``ms per person`` reads every hand-marked face of ``$LEARNSIGHT_DATA/faces/detection`` (other faces
masked), after one warm-up read, for pose + face mesh + hands, without hands, and pose only.  The
accuracy figures are on synthetic clips (``--clips`` per behaviour to train, the same number, other
seed, to test) and say only that the readers agree with the body model; no labelled classroom video
was available.  Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from _common import figure

from learnsight.settings import get_settings
from learnsight.vision.behaviour import (
    UNCERTAIN,
    Behaviour3DCNN,
    BehaviourSVM,
    GeometricRules,
    synthesize_clip,
    synthesize_clips,
)
from learnsight.vision.posture import PoseReader
from learnsight.vision.types import Box, Image


def _people(detection: Path) -> list[tuple[Image, Box, list[Box]]]:
    import cv2

    out = []
    for name in ("training.xml", "testing.xml"):
        for image in ET.parse(detection / name).getroot().iter("image"):
            rgb = np.ascontiguousarray(cv2.imread(str(detection / str(image.get("file"))))[:, :, ::-1])
            boxes = [
                Box(*(float(b.get(k, 0)) for k in ("left", "top", "width", "height")))
                for b in image.iter("box")
            ]
            out.extend((rgb, face, boxes) for face in boxes)
    return out


def _ms_per_person(
    people: list[tuple[Image, Box, list[Box]]], repeat: int, **options: bool
) -> tuple[float, int]:
    with PoseReader(**options) as reader:
        reader.read(*people[0][:2])  # load the models
        found = 0
        start = time.perf_counter()
        for _ in range(repeat):
            for image, face, others in people:
                found += reader.read(image, face, others=others) is not None
        elapsed = time.perf_counter() - start
    return 1000 * elapsed / (repeat * len(people)), found // repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="passes over the 43 people")
    parser.add_argument("--clips", type=int, default=60, help="synthetic clips per behaviour")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    detection = get_settings().data / "faces" / "detection"
    if detection.exists():
        people = _people(detection)
        for label, options in (
            ("pose + face mesh + hands", {"hands": True}),
            ("pose + face mesh", {"hands": False}),
            ("pose only", {"hands": False, "face_mesh": False}),
        ):
            ms, found = _ms_per_person(people, args.repeat, **options)
            figure(f"ms per person: {label}", ms, "ms")
        figure("people with keypoints (of 43)", found, "")
    else:
        print(f"skipped ms per person: {detection} missing")

    rng = np.random.default_rng(args.seed)
    train, train_labels = synthesize_clips(args.clips, rng)
    test, test_labels = synthesize_clips(args.clips, np.random.default_rng(args.seed + 1))
    y = np.array(test_labels)
    rules = GeometricRules()
    start = time.perf_counter()
    pred = np.array([rules.read(c).label for c in test])
    figure("rules: ms per clip", 1000 * (time.perf_counter() - start) / len(test), "ms")
    figure("rules: accuracy (uncertain = wrong)", float(np.mean(pred == y)), "")
    figure("rules: uncertain share", float(np.mean(pred == UNCERTAIN)), "")
    figure(
        "rules: accuracy of decided clips",
        float(np.mean(pred[pred != UNCERTAIN] == y[pred != UNCERTAIN])),
        "",
    )

    start = time.perf_counter()
    svm = BehaviourSVM().fit(BehaviourSVM.featurise(train), train_labels)
    figure("svm: fit seconds", time.perf_counter() - start, "s")
    pred = svm.predict(svm.featurise(test))
    figure("svm: accuracy (uncertain = wrong)", float(np.mean(pred == y)), "")
    figure("svm: uncertain share", float(np.mean(pred == UNCERTAIN)), "")

    mixed_rng = np.random.default_rng(args.seed + 2)
    behaviours = sorted(set(test_labels))
    mixed = [synthesize_clip(a, mixed_rng, mix=(b, 0.5)) for a in behaviours for b in behaviours if a != b]
    figure(
        "rules: uncertain share, mixed clips",
        float(np.mean([rules.read(c).label == UNCERTAIN for c in mixed])),
        "",
    )
    figure(
        "svm: uncertain share, mixed clips",
        float(np.mean(svm.predict(svm.featurise(mixed)) == UNCERTAIN)),
        "",
    )

    cnn = Behaviour3DCNN()
    start = time.perf_counter()
    cnn.fit(cnn.featurise(train), train_labels)
    figure("cnn3d: fit seconds", time.perf_counter() - start, "s")
    pred = cnn.predict(cnn.featurise(test))
    figure("cnn3d: accuracy (uncertain = wrong)", float(np.mean(pred == y)), "")
    figure("cnn3d: uncertain share", float(np.mean(pred == UNCERTAIN)), "")


if __name__ == "__main__":
    main()
