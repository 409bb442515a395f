"""Classroom-video throughput and memory (issue 8 target: a 720p lesson with 30 faces in view at
≥ 1× real time on this 2-core machine, at the default analysis rate, in ≤ 2 GB).

Usage::

    .venv/bin/python benchmarks/bench_video.py [--seconds 60] [--seats 30] [--rate 1] [--no-posture]

Renders a 1280×720, 25 fps lesson of ``--seats`` real face photographs
(:mod:`learnsight.vision.synthetic`: the 5 roster students, the others from ``faces/expressions``),
enrolls the roster from the photos not shown, then times :func:`~learnsight.vision.pipeline.analyze_video`
(decode, enhance, detect, track, expression, identification, posture) and the statement write, and
prints the real-time factor (video seconds per wall second), the time per stage and the peak RSS of
this process and of the posture process (``--posture-in-process`` reads posture between frames
instead, the baseline for the second process).  The stage baseline in the same run: decoding
alone (every frame, no analysis).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import figure

from learnsight.settings import dataset_path
from learnsight.store import DuckDBStore
from learnsight.vision import synthetic as syn
from learnsight.vision.frames import Enhancement, sample_frames
from learnsight.vision.pipeline import AnalysisConfig, analyze_video, store_lesson
from learnsight.vision.roster import enroll, load_roster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seats", type=int, default=30)
    parser.add_argument("--rate", type=float, default=1.0, help="analysed frames per second")
    parser.add_argument("--no-posture", action="store_true")
    parser.add_argument("--posture-in-process", action="store_true", help="no second process for posture")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--expression-weights", type=Path, default=None, help="default: the shipped model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scene, _ = syn.lesson_from_dataset(
            dataset_path("faces"),
            seats=args.seats,
            seconds=args.seconds,
            seed=args.seed,
            enroll_dir=work / "r",
        )
        t = time.perf_counter()
        video = syn.render(scene, work / "lesson.mp4")
        render_s = time.perf_counter() - t
        db = work / "store.duckdb"
        DuckDBStore(db).close()
        t = time.perf_counter()
        enroll(db, work / "r", "bench")
        enroll_s = time.perf_counter() - t
        t = time.perf_counter()
        decoded = sum(1 for _ in sample_frames(video, rate=1000.0, enhancement=Enhancement.none()))
        decode_s = time.perf_counter() - t
        analysis = analyze_video(
            video,
            roster=load_roster(db, "bench"),
            lesson="bench",
            start=datetime(2026, 3, 2, 9, tzinfo=UTC),
            home_page="https://campus.example.edu",
            config=AnalysisConfig(
                rate=args.rate,
                posture=not args.no_posture,
                posture_process=not args.posture_in_process,
                expression_weights=args.expression_weights,
            ),
        )
        store = DuckDBStore(db)
        t = time.perf_counter()
        report = store_lesson(store, analysis)
        write_s = time.perf_counter() - t
        store.close()
    enrolled = {s.person.name for s in scene.seats if s.person.enrolled}
    named = {tr.student for tr in analysis.tracks if tr.student is not None}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    posture_where = (
        "off" if args.no_posture else "in this process" if args.posture_in_process else "in a second process"
    )
    print(
        f"720p lesson: {args.seconds:.0f} s, {len(scene.seats)} people, analysis rate {args.rate:g} frame/s, "
        f"posture {posture_where}"
    )
    figure("render the test video", render_s, "s")
    figure("enroll 5 students", enroll_s, "s")
    figure("decode every frame (baseline)", decoded / decode_s, "frames/s")
    figure("analysed frames", analysis.frames, "")
    in_view = sum(len(scene.present(k / args.rate)) for k in range(analysis.frames))
    figure("people in view per analysed frame (scene truth)", in_view / max(analysis.frames, 1), "")
    figure("faces found per analysed frame", analysis.faces_seen / max(analysis.frames, 1), "")
    figure("faces found / people in view", analysis.faces_seen / max(in_view, 1), "")
    figure("tracks", len(analysis.tracks), "")
    figure("enrolled students identified", len(named & enrolled), f"of {len(enrolled)}")
    figure("strangers given a student's name", len(named - enrolled), "")
    figure("analysis wall time", analysis.wall_seconds, "s")
    figure("real-time factor (video s / wall s)", analysis.realtime_factor, "x", ">= 1")
    for name, seconds in analysis.stage_seconds.items():
        figure(f"  stage {name}: ms per analysed frame", 1000 * seconds / max(analysis.frames, 1), "ms")
    figure("statements written", report.statements_written, "")
    figure("statement write", write_s, "s")
    figure("peak RSS of this process", peak_mb, "MB")
    figure("peak RSS of the largest child (the posture process)", worker_mb, "MB")
    figure("both together (upper bound)", peak_mb + worker_mb, "MB", "<= 2048")


if __name__ == "__main__":
    main()
