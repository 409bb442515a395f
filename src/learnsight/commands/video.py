"""``learnsight video …``: classroom video (SPEC §5, :mod:`learnsight.vision`; the ``video`` extra).

* ``video enroll DIR --roster NAME`` — a roster from a folder of student folders (the folder name is
  the student key), stored encrypted and apart from the statements;
* ``video analyze VIDEO --roster NAME [--course --lesson] --out DIR`` — the whole pipeline: statements
  into the store, ``students.csv``, ``summary.json``, ``observations.csv`` and ``timeline.html`` in DIR;
* ``video erase STUDENT --roster NAME`` — privacy: the student's roster embeddings and video
  statements;
* ``video expressions-eval LABELS_CSV`` / ``video identify-eval ROSTER_DIR`` — the models on labelled
  folders, one JSON object on stdout;
* ``video train-behaviour LABELS`` — train the posture SVM (or 3D-CNN) from annotated clips;
* ``video synthetic OUT`` — render a test lesson from the shared face photographs.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from learnsight.commands.common import DbOption, JsonFlag, cli_store, console, err_console
from learnsight.errors import LearnsightError

video_app = typer.Typer(help="Classroom video: enroll a roster, analyse lessons, evaluate the models.")

DEFAULT_HOME_PAGE = "https://campus.example.edu"
"""The account homePage of students' actors (the demo campus's); use ``--home-page`` for yours."""

RosterOption = Annotated[str, typer.Option("--roster", help="Roster name.")]


def _db(db: Path | None) -> Path:
    store = cli_store(db)
    path = store.path
    store.close()
    if path is None:
        raise LearnsightError("classroom video needs a store file (--db), not an in-memory store")
    return path


@video_app.command("enroll")
def enroll(
    directory: Annotated[Path, typer.Argument(help="A folder with one sub-folder of photos per student.")],
    roster: RosterOption,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Enroll a roster: one folder per student (the folder name is the student key), any number of
    photos each."""
    from learnsight.vision.roster import enroll as enroll_roster

    report = enroll_roster(_db(db), directory, roster)
    if as_json:
        console.print_json(json.dumps(_jsonable(report)))
        return
    console.print(f"[bold]roster {roster}[/]: {_summary_line(report)}")


@video_app.command("analyze")
def analyze(
    video: Annotated[Path, typer.Argument(help="The lesson video (mp4, avi, mkv ...).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the summaries and the timeline.")],
    roster: Annotated[
        str | None, typer.Option("--roster", help="Roster name; without it every face stays pseudonymous.")
    ] = None,
    course: Annotated[str | None, typer.Option("--course", help="Course activity IRI.")] = None,
    lesson: Annotated[
        str | None, typer.Option("--lesson", help="Lesson id (default: from the video).")
    ] = None,
    camera: Annotated[str, typer.Option("--camera", help="Camera id.")] = "front",
    start: Annotated[
        str | None,
        typer.Option("--start", help="Wall-clock time of the first frame (ISO 8601; default: file time)."),
    ] = None,
    rate: Annotated[float, typer.Option("--rate", help="Frames analysed per second of video.")] = 1.0,
    window: Annotated[float, typer.Option("--window", help="Seconds per observation.")] = 10.0,
    no_posture: Annotated[bool, typer.Option("--no-posture", help="Skip body keypoints.")] = False,
    posture_process: Annotated[
        bool,
        typer.Option(
            "--posture-process/--posture-in-process",
            help="Read body keypoints in a second process (default), or between frames in this one.",
        ),
    ] = True,
    denoise: Annotated[bool, typer.Option("--denoise", help="Wavelet-denoise frames (slower).")] = False,
    home_page: Annotated[
        str, typer.Option("--home-page", help="Account homePage of the students' actors.")
    ] = DEFAULT_HOME_PAGE,
    export_frames: Annotated[
        int,
        typer.Option(
            "--export-frames", help="Also write this many frames to DIR/frames, every face blurred."
        ),
    ] = 0,
    unblur: Annotated[
        list[str] | None,
        typer.Option("--unblur", help="A student whose face stays visible in exported frames (repeatable)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Analyse a lesson: who is who, their expression and posture over time, as statements."""
    from learnsight.vision.frames import Enhancement, probe
    from learnsight.vision.pipeline import AnalysisConfig, analyze_video
    from learnsight.vision.pipeline import store_lesson as store_statements
    from learnsight.vision.roster import load_roster
    from learnsight.vision.summary import write_lesson_outputs

    path = _db(db)
    loaded = load_roster(path, roster) if roster is not None else None
    info = probe(video)
    when = _start(start, video)
    config = AnalysisConfig(
        rate=rate,
        window_s=window,
        posture=not no_posture,
        posture_process=posture_process,
        enhancement=Enhancement(denoise=denoise),
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        _FramesPerSecond(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    ) as bar:
        task = bar.add_task(f"analysing {video.name}", total=info.duration_s or None, frames=0)

        def advance(t: float, total: float, frames: int) -> None:
            bar.update(task, completed=t, frames=frames)

        analysis = analyze_video(
            video,
            roster=loaded,
            lesson=lesson,
            course=course,
            camera=camera,
            start=when,
            home_page=home_page,
            config=config,
            progress=advance,
            export_frames=(out / "frames", export_frames, frozenset(unblur or ())) if export_frames else None,
        )
    store = cli_store(path)
    try:
        report = store_statements(store, analysis)
    finally:
        store.close()
    written = write_lesson_outputs(analysis, out)
    result = {
        "video": str(video),
        "lesson": analysis.lesson.lesson,
        "frames": analysis.frames,
        "video_seconds": round(analysis.video_seconds, 1),
        "wall_seconds": round(analysis.wall_seconds, 1),
        "realtime_factor": round(analysis.realtime_factor, 2),
        "stage_seconds": {k: round(v, 2) for k, v in analysis.stage_seconds.items()},
        "tracks": len(analysis.tracks),
        "identified": sorted({t.student for t in analysis.tracks if t.student is not None}),
        "statements_written": report.statements_written,
        "outputs": [str(p) for p in written],
    }
    if as_json:
        console.print_json(json.dumps(result))
        return
    _print_people(out / "summary.json")
    console.print(
        f"{analysis.frames} frames, {analysis.video_seconds:.0f} s of video in {analysis.wall_seconds:.1f} s "
        f"({analysis.realtime_factor:.2f}× real time); {report.statements_written} statements written; "
        f"outputs in {out}"
    )


@video_app.command("erase")
def erase(
    student: Annotated[str, typer.Argument(help="The student key (the roster folder name).")],
    roster: RosterOption,
    home_page: Annotated[str, typer.Option("--home-page", help="Account homePage of the actors.")] = (
        DEFAULT_HOME_PAGE
    ),
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Erase a student's roster embeddings and their video statements."""
    from learnsight.vision.privacy import erase_student

    report = erase_student(_db(db), roster, student, home_page=home_page)
    if as_json:
        console.print_json(json.dumps(report))
        return
    console.print(
        f"erased {student}: {report['embeddings']} roster embedding(s), "
        f"{report['statements']} video statement(s)"
    )


NoStoreDbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Store file (DuckDB); accepted like every video command's, but this command reads and "
        "writes no store.",
    ),
]


@video_app.command("expressions-eval")
def expressions_eval(
    labels_csv: Annotated[Path, typer.Argument(help="labels.csv with columns image,expression.")],
    db: NoStoreDbOption = None,
) -> None:
    """The expression model on a labelled folder; prints one JSON object (n, accuracy, state_accuracy,
    state_balanced_accuracy, ...)."""
    from learnsight.vision.expression import evaluate

    print(json.dumps(_jsonable(evaluate(labels_csv))))


@video_app.command("identify-eval")
def identify_eval(
    roster_dir: Annotated[
        Path | None,
        typer.Argument(help="A roster folder (one sub-folder per person); or use --roster."),
    ] = None,
    impostors: Annotated[
        Path | None,
        typer.Option("--impostors", help="Photos of people NOT enrolled (a folder, searched recursively)."),
    ] = None,
    roster: Annotated[
        str | None,
        typer.Option("--roster", help="Evaluate this roster as enrolled in the store (--db), not a folder."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Leave-one-out identification over a roster folder, or over a roster enrolled in the store
    (``--roster NAME --db FILE``: its stored descriptions); prints one JSON object."""
    from learnsight.vision.identify import evaluate_enrolled, evaluate_identification

    if (roster_dir is None) == (roster is None):
        raise LearnsightError(
            "identify-eval: give a roster folder or --roster NAME (enrolled in --db), not both"
        )
    if roster is not None:
        print(json.dumps(_jsonable(evaluate_enrolled(_db(db), roster, impostors))))
        return
    assert roster_dir is not None
    print(json.dumps(_jsonable(evaluate_identification(roster_dir, impostors))))


@video_app.command("train-behaviour")
def train_behaviour(
    labels: Annotated[Path, typer.Argument(help="Annotations CSV: video,start_s,end_s,track,behaviour.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the fitted model.")],
    model: Annotated[str, typer.Option("--model", help="svm (clip statistics) or cnn3d.")] = "svm",
    rate: Annotated[float, typer.Option("--rate", help="Keypoint readings per second.")] = 2.0,
    clip: Annotated[float, typer.Option("--clip", help="Seconds per training clip.")] = 4.0,
    db: NoStoreDbOption = None,
) -> None:
    """Train the posture classifier from annotated clips; prints one JSON report (clips per
    behaviour, cross-validated accuracy) and writes the model to OUT."""
    from learnsight.vision.behaviour import save_model, train_from_annotations

    if model not in ("svm", "cnn3d"):
        raise LearnsightError(f"--model: expected svm or cnn3d, got {model!r}")
    report = train_from_annotations(labels, model=model, rate_hz=rate, clip_s=clip)  # type: ignore[arg-type]
    save_model(report.model, out)
    data = {
        "model": model,
        "model_path": str(out),
        "clips": report.clips,
        "frames": report.frames,
        "frames_without_keypoints": report.frames_without_keypoints,
        "cv_accuracy": report.cv_accuracy,
        "cv_uncertain": report.cv_uncertain,
        "folds": report.folds,
    }
    print(json.dumps(data))


@video_app.command("synthetic")
def synthetic(
    out: Annotated[Path, typer.Argument(help="The MP4 to write (ground truth beside it as .json).")],
    seconds: Annotated[float, typer.Option("--seconds")] = 60.0,
    seats: Annotated[int, typer.Option("--seats")] = 30,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    enroll_dir: Annotated[
        Path | None,
        typer.Option("--enroll-dir", help="Also write the roster photos NOT shown in the video here."),
    ] = None,
    db: NoStoreDbOption = None,
) -> None:
    """Render a test lesson from the shared face photographs (roster students + other people)."""
    from learnsight.settings import dataset_path
    from learnsight.vision import synthetic as syn

    faces = dataset_path("faces")
    scene, _ = syn.lesson_from_dataset(faces, seats=seats, seconds=seconds, seed=seed, enroll_dir=enroll_dir)
    syn.render(scene, out)
    out.with_suffix(".json").write_text(json.dumps(scene.truth(), indent=1))
    console.print(f"wrote {out} ({seconds:.0f} s, {len(scene.seats)} people) and its ground truth")


class _FramesPerSecond(ProgressColumn):
    """Analysed frames per wall-clock second."""

    def render(self, task: Task) -> Text:
        frames = task.fields.get("frames", 0)
        elapsed = task.elapsed or 0.0
        return Text(f"{frames / elapsed:.1f} frames/s" if elapsed > 0 else "- frames/s", style="cyan")


def _start(start: str | None, video: Path) -> datetime:
    if start is None:
        return datetime.fromtimestamp(video.stat().st_mtime, UTC)
    try:
        when = datetime.fromisoformat(start)
    except ValueError:
        raise LearnsightError(f"--start: {start!r} is not an ISO 8601 time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _print_people(summary_json: Path) -> None:
    data = json.loads(summary_json.read_text())
    table = Table(title=f"lesson {data['lesson']['lesson']}")
    for column in (
        "person",
        "seconds",
        "upright",
        "writing",
        "hand-raised",
        "negative",
        "positive expr.",
        "hands",
    ):
        table.add_column(column)
    for row in data["people"]:
        negative = sum(row[f"{b}_share"] for b in ("lying-on-desk", "looking-around", "phone"))
        expr = row["positive_expression_share"]
        table.add_row(
            row["person"],
            f"{row['seconds']:.0f}",
            f"{row['upright_share']:.0%}",
            f"{row['writing_share']:.0%}",
            f"{row['hand-raised_share']:.0%}",
            f"{negative:.0%}",
            "-" if expr is None else f"{expr:.0%}",
            str(row["hand_raises"]),
        )
    console.print(table)


def _summary_line(report: Any) -> str:
    data = _jsonable(report)
    return ", ".join(f"{k} {v}" for k, v in data.items() if not isinstance(v, list | dict))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
