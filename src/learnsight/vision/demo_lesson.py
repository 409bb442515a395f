"""The demo's classroom-video step: a short synthetic lesson of real face photographs, analysed end
to end (enroll → analyse → statements → summaries and timeline).

It runs only when the ``video`` extra is installed and ``$LEARNSIGHT_DATA/faces`` exists; otherwise
:func:`classroom_video` returns why it was skipped.  The roster students are enrolled from half of
their photos and shown with the other half (:func:`~learnsight.vision.synthetic.lesson_from_dataset`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from learnsight.settings import get_settings
from learnsight.store import DuckDBStore

EXTRA_MODULES = ("mediapipe", "dlib", "av", "pywt", "torch", "cv2")
HOME_PAGE = "https://campus.example.edu"


@dataclass(frozen=True)
class VideoStep:
    """What the demo's video step did (or why it did not run)."""

    skipped: str | None = None
    video: Path | None = None
    people: int = 0
    identified: tuple[str, ...] = ()
    enrolled_in_video: tuple[str, ...] = ()
    statements: int = 0
    realtime_factor: float = 0.0
    timeline: Path | None = None

    def line(self) -> str:
        if self.skipped is not None:
            return f"skipped: {self.skipped}"
        return (
            f"{self.people} people, {len(self.identified)}/{len(self.enrolled_in_video)} enrolled "
            "identified, "
            f"{self.statements} statements, {self.realtime_factor:.1f}× real time"
        )


def classroom_video(
    store: DuckDBStore, out: Path, *, seconds: float = 20.0, seats: int = 12, seed: int = 7
) -> VideoStep:
    """Render, enroll, analyse and store a short lesson; summaries and timeline under ``out``."""
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return VideoStep(skipped=f"the video extra is not installed ({', '.join(missing)})")
    faces = get_settings().data / "faces"
    if not (faces / "roster").is_dir() or not (faces / "expressions").is_dir():
        return VideoStep(skipped=f"no face photographs at {faces} (set LEARNSIGHT_DATA)")
    from learnsight.vision import synthetic
    from learnsight.vision.pipeline import analyze_video, store_lesson
    from learnsight.vision.roster import enroll, load_roster
    from learnsight.vision.summary import write_lesson_outputs

    out.mkdir(parents=True, exist_ok=True)
    scene, _ = synthetic.lesson_from_dataset(
        faces, seats=seats, seconds=seconds, seed=seed, enroll_dir=out / "roster"
    )
    video = synthetic.render(scene, out / "lesson.mp4")
    db = store.path
    if db is None:
        return VideoStep(skipped="the demo store is in memory")
    enroll(db, out / "roster", "demo")
    analysis = analyze_video(
        video,
        roster=load_roster(db, "demo"),
        lesson="demo-lesson",
        course=f"{HOME_PAGE}/course/C01",
        start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        home_page=HOME_PAGE,
    )
    report = store_lesson(store, analysis)
    write_lesson_outputs(analysis, out)
    identified = tuple(sorted({t.student for t in analysis.tracks if t.student is not None}))
    return VideoStep(
        video=video,
        people=len(scene.seats),
        identified=identified,
        enrolled_in_video=tuple(sorted(s.person.name for s in scene.seats if s.person.enrolled)),
        statements=report.statements_written,
        realtime_factor=analysis.realtime_factor,
        timeline=out / "timeline.html",
    )
