"""The whole classroom-video pipeline on a real-photo lesson: enroll → analyse → statements → CLI
outputs; bad input leaves the store unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from learnsight.cli import app
from learnsight.store import DuckDBStore
from learnsight.vision import synthetic as syn
from learnsight.vision.frames import VideoError
from learnsight.vision.pipeline import AnalysisConfig, analyze_video, store_lesson
from learnsight.vision.roster import enroll, load_roster

HOME = "https://campus.example.edu"


@pytest.fixture(scope="module")
def lesson(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, syn.Scene]:
    """A 12-second lesson: the 5 roster students (photos not used to enroll them) and 3 strangers;
    the roster enrolled from the other photos into a store."""
    from learnsight.settings import dataset_path

    work = tmp_path_factory.mktemp("lesson")
    scene, _ = syn.lesson_from_dataset(
        dataset_path("faces"), seats=8, seconds=12.0, seed=4, fps=10.0, enroll_dir=work / "roster"
    )
    video = syn.render(scene, work / "lesson.mp4")
    db = work / "store.duckdb"
    DuckDBStore(db).close()
    enroll(db, work / "roster", "class-a")
    return video, db, scene


@pytest.mark.realdata
@pytest.mark.slow
def test_identifies_the_enrolled_and_keeps_strangers_pseudonymous(
    lesson: tuple[Path, Path, syn.Scene],
) -> None:
    video, db, scene = lesson
    analysis = analyze_video(
        video,
        roster=load_roster(db, "class-a"),
        lesson="L1",
        course=f"{HOME}/course/C01",
        start=datetime(2026, 3, 2, 9, tzinfo=UTC),
        home_page=HOME,
        config=AnalysisConfig(rate=1.0, window_s=6.0),
    )
    enrolled = {s.person.name for s in scene.seats if s.person.enrolled}
    named = {t.student for t in analysis.tracks if t.student is not None}
    assert len(named & enrolled) >= 4, (named, enrolled)
    assert named <= enrolled, "a stranger was given a student's name"
    assert analysis.frames == 12
    assert analysis.observations and all(o.expression for o in analysis.observations)
    people = {o.student for o in analysis.observations}
    assert None in people  # the strangers are observed under pseudonyms
    store = DuckDBStore(db)
    try:
        report = store_lesson(store, analysis)
        assert report.statements_written == len(analysis.statements()) > 0
        sources = store.con.execute("SELECT DISTINCT source FROM statements").fetchall()
        assert sources == [("camera",)]
    finally:
        store.close()


@pytest.mark.realdata
@pytest.mark.slow
def test_posture_in_a_second_process_reads_what_the_main_process_reads(
    lesson: tuple[Path, Path, syn.Scene],
) -> None:
    video, db, _ = lesson
    runs = [
        analyze_video(
            video, roster=load_roster(db, "class-a"), lesson="L1", start=datetime(2026, 3, 2, 9, tzinfo=UTC),
            home_page=HOME, config=AnalysisConfig(rate=1.0, window_s=6.0, posture_process=process),
        )
        for process in (True, False)
    ]  # fmt: skip
    worker, inline = (
        [(t.track.id, [(tk, k is None) for tk, k in t.keypoints]) for t in a.tracks] for a in runs
    )
    assert worker == inline and any(kps for _, kps in worker)
    assert [(o.track, o.start_s, o.posture) for o in runs[0].observations] == [
        (o.track, o.start_s, o.posture) for o in runs[1].observations
    ]
    assert "posture worker (in parallel)" in runs[0].stage_seconds
    assert "posture worker (in parallel)" not in runs[1].stage_seconds


@pytest.mark.realdata
@pytest.mark.slow
def test_cli_analyze_writes_summaries_named_by_roster_folder(
    lesson: tuple[Path, Path, syn.Scene], tmp_path: Path
) -> None:
    video, db, scene = lesson
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "video", "analyze", str(video), "--roster", "class-a", "--db", str(db), "--out", str(out),
            "--lesson", "L2", "--posture-in-process", "--json", "--export-frames", "2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (
        "posture worker (in parallel)" not in data["stage_seconds"] and data["stage_seconds"]["posture"] > 0
    )
    assert data["frames"] == 12 and data["statements_written"] > 0
    summary = json.loads((out / "summary.json").read_text())
    names = {p["person"] for p in summary["people"]}
    enrolled = {s.person.name for s in scene.seats if s.person.enrolled}
    assert len(names & enrolled) >= 4
    assert (out / "timeline.html").stat().st_size > 10_000
    assert (out / "students.csv").exists() and (out / "observations.csv").exists()
    assert len(list((out / "frames").glob("*.png"))) == 2


@pytest.mark.realdata
def test_a_truncated_video_is_a_clear_error_and_stores_nothing(
    lesson: tuple[Path, Path, syn.Scene], tmp_path: Path
) -> None:
    video, db, _ = lesson
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 3])
    store = DuckDBStore(db)
    before = store.scalar("SELECT count(*) FROM statements")
    store.close()
    result = CliRunner().invoke(
        app, ["video", "analyze", str(cut), "--db", str(db), "--out", str(tmp_path / "o"), "--no-posture"]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, VideoError) and "cut.mp4" in str(result.exception)
    store = DuckDBStore(db)
    assert store.scalar("SELECT count(*) FROM statements") == before
    store.close()
    with pytest.raises(VideoError, match=r"cut\.mp4"):
        analyze_video(cut, roster=None, start=datetime(2026, 3, 2, tzinfo=UTC), home_page=HOME)
