"""Faces (SPEC §5): detection, description cost, open-set identification and Dempster–Shafer fusion.

Usage::

    .venv/bin/python benchmarks/bench_faces.py [--max-impostors N] [--scales 1.0,0.3]
        [--tracks-per-person 2] [--skip-detection]

On ``$LEARNSIGHT_DATA/faces`` (see its README) it prints, one figure per line:

* detection on ``detection/testing.xml`` (25 hand-marked faces in 5 PASCAL images; the box map of
  each backend was fitted on ``training.xml``): recall and precision at IoU 0.5 and the time per
  image of mediapipe's full-range model (the default), the same on 2 × 2 tiles, dlib's HOG and
  OpenCV's Haar cascade;
* the time of ``describe()`` per face (the 5-point-aligned ResNet descriptor, the 68 landmarks and
  the three LBP region features) and what 30 faces per frame cost;
* identification: leave-one-out accuracy on ``roster/`` (5 people, 55 photos; the identifier and its
  calibration rebuilt without the photo), the not-enrolled rate of each roster person against the
  roster without them, and of the photos of the *evaluation* half of the ``expressions/`` people
  (none of them in the roster; the defaults were chosen on the other half);
* tracks of 3–5 photos of one person: accuracy (roster) and not-enrolled rate (impostors) of
  single-photo decisions against the decision on the whole track, two-stage, stage 2 alone
  (Dempster–Shafer over features × frames) and stage 1 averaged without Dempster–Shafer;

each at every probe scale of ``--scales``: 1.0 is the photo as is; 0.3 and 0.2 shrink the probe
photo (never the enrolled ones) to 30 % and 20 %, faces of about 35–40 and 25 px, as a classroom
camera sees its students.  Rates are printed in per cent.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from _common import figure, peak_rss_mb

from learnsight.settings import dataset_path
from learnsight.vision.descriptors import describe
from learnsight.vision.faces import FaceDetector, evaluate_detection, read_image
from learnsight.vision.identify import Identifier, describe_evaluation_set, evaluate_descriptions


def detection(faces: Path) -> None:
    xml = faces / "detection" / "testing.xml"
    for label, detector in (
        ("mediapipe", FaceDetector()),
        ("mediapipe 2x2 tiles", FaceDetector(tiles=2)),
        ("mediapipe 4x4 tiles", FaceDetector(tiles=4)),
        ("mediapipe 4x4 + short-range", FaceDetector(tiles=4, short_range_tiles=True)),
        ("the video default (+ min size 20 px)", FaceDetector(tiles=4, short_range_tiles=True, min_size=20)),
        ("dlib HOG", FaceDetector("hog")),
        ("Haar cascade", FaceDetector("haar")),
    ):
        with detector:
            detector.detect(read_image(faces / "detection" / "2008_002506.jpg"))  # warm up
            result = evaluate_detection(xml, detector)
        target = ">= 90 %" if label == "mediapipe" else ""
        figure(f"detect {label}: recall", 100 * result["recall"], "%", target)
        figure(f"detect {label}: precision", 100 * result["precision"], "%")
        figure(f"detect {label}: per image", 1000 * result["seconds_per_image"], "ms")
    print(f"   ({result['n_boxes']} annotated faces in {len(result['per_image'])} images, IoU >= 0.5)")


def description_cost(faces: Path) -> None:
    photos = sorted((faces / "roster").glob("*/*.jpg"))
    with FaceDetector("mediapipe", full_range=False) as detector:
        pairs = [(image, detector.detect(image)[0]) for image in map(read_image, photos)]
    describe(*pairs[0])  # loads the dlib models
    started = time.perf_counter()
    described = [describe(image, face) for image, face in pairs]
    per_face = (time.perf_counter() - started) / len(pairs)
    assert all(d is not None for d in described)
    figure("describe(): time per face", 1000 * per_face, "ms")
    figure("describe(): 30 faces (one frame)", 30 * per_face, "s")


def identification(faces: Path, scales: list[float], max_impostors: int | None, tracks: int) -> None:
    started = time.perf_counter()
    data = describe_evaluation_set(
        faces / "roster",
        faces / "expressions" / "images",
        impostor_split="evaluation",
        max_impostors=max_impostors,
        scales=scales,
    )
    print(
        f"-- described {len(data.roster.entries)} roster photos ({data.roster_skipped} skipped) and "
        f"{len(data.impostors[1.0])} impostor photos ({data.impostor_skipped} skipped) at scales "
        f"{scales} in {time.perf_counter() - started:.0f} s ({data.photo_ms:.0f} ms per photo, all scales)"
    )
    identifier = Identifier(data.roster)
    probe = data.roster.entries[0].description
    started = time.perf_counter()
    for _ in range(200):
        identifier.identify([probe])
    figure("identify(): one face, stage 1", 1000 * (time.perf_counter() - started) / 200, "ms")
    ds = Identifier(data.roster, accept_probability=math.inf)
    started = time.perf_counter()
    for _ in range(50):
        ds.identify([probe] * 5)
    figure("identify(): 5-frame track, DS", 1000 * (time.perf_counter() - started) / 50, "ms")
    started = time.perf_counter()
    Identifier(data.roster)
    figure("Identifier(): calibration, 55 photos", 1000 * (time.perf_counter() - started), "ms")

    for scale in scales:
        started = time.perf_counter()
        r = evaluate_descriptions(
            data.roster, data.impostors[scale], probes=data.probes[scale], tracks_per_person=tracks
        )
        tag = f"scale {scale:g}"
        print(
            f"\n-- probe {tag}: {r['loo_probes']} roster probes, {r['impostor_photos']} impostor photos of "
            f"{r['impostor_people']} people, {r['tracks_roster']} roster tracks, {r['tracks_impostor']} "
            f"impostor tracks (evaluated in {time.perf_counter() - started:.1f} s)"
        )
        target = scale == 1.0
        figure(f"{tag}: LOO accuracy", 100 * r["loo_accuracy"], "%", ">= 98 %" if target else "")
        figure(f"{tag}: LOO share in stage 2", 100 * r["loo_stage2_share"], "%")
        figure(f"{tag}: not enrolled, person left out", 100 * r["lopo_not_enrolled_rate"], "%")
        figure(
            f"{tag}: not enrolled, impostors",
            100 * r["impostor_not_enrolled_rate"],
            "%",
            ">= 95 %" if target else "",
        )
        figure(f"{tag}: impostors in stage 2", 100 * r["impostor_stage2_share"], "%")
        for name, label in (
            ("single", "1 photo"),
            ("fused", "track 2-stage"),
            ("ds_only", "track DS only"),
            ("mean_stage1", "track mean st.1"),
        ):
            figure(f"{tag}: accuracy, {label}", 100 * r[f"track_{name}_accuracy"], "%")
            figure(f"{tag}: not enrolled, {label}", 100 * r[f"track_{name}_not_enrolled_rate"], "%")
        figure(f"{tag}: tracks in stage 2", 100 * r["track_stage2_share"], "%")
        figure(f"{tag}: mean conflict K, DS tracks", r["track_ds_mean_conflict"], "")
    calibration = Identifier(data.roster).calibration
    print(
        "\ncalibration on the whole roster: "
        + ", ".join(
            f"{k}: threshold {c.threshold:.3f}, reliability {c.reliability:.3f}"
            for k, c in calibration.items()
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-impostors", type=int, default=None, help="at most this many impostor photos")
    parser.add_argument("--scales", default="1.0,0.3,0.2", help="probe scales, comma-separated")
    parser.add_argument("--tracks-per-person", type=int, default=10)
    parser.add_argument("--skip-detection", action="store_true")
    args = parser.parse_args()
    faces = dataset_path("faces")
    scales = [float(s) for s in args.scales.split(",")]
    if not args.skip_detection:
        detection(faces)
        description_cost(faces)
    identification(faces, scales, args.max_impostors, args.tracks_per_person)
    figure("peak RSS", peak_rss_mb(), "MiB")


if __name__ == "__main__":
    main()
