"""Per-lesson and per-student summaries of a classroom video: CSV and JSON tables and a Plotly
timeline of who was attentive when.

A **person** is an identified student (named by the roster folder name, the student key) or, for a
face the roster does not know, its pseudonymous track (``track-<id>``, the first track of that face:
:mod:`~learnsight.vision.strangers`).  Several tracks of one student (they left the picture and came
back) are one person.  Per person: seconds observed, the
time share of each posture behaviour (``uncertain`` included, so shares sum to 1), the share of
positive expression among the windows whose expression was read, hand raises, and the mean identity
probability.  The lesson row aggregates every person.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from learnsight.vision.behaviour import BEHAVIOURS, POSITIVE_BEHAVIOURS
from learnsight.vision.observations import UNCERTAIN, HandRaise, Observation, pseudonym_track

if TYPE_CHECKING:
    from learnsight.vision.pipeline import LessonAnalysis


@dataclass(frozen=True)
class PersonSummary:
    """One person's lesson (see the module docstring)."""

    person: str
    enrolled: bool
    tracks: tuple[int, ...]
    seconds: float
    shares: dict[str, float]
    positive_posture_share: float | None
    positive_expression_share: float | None
    hand_raises: int
    identity_probability: float

    def row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "person": self.person,
            "enrolled": self.enrolled,
            "tracks": " ".join(str(t) for t in self.tracks),
            "seconds": round(self.seconds, 1),
        }
        row.update({f"{b}_share": round(self.shares.get(b, 0.0), 4) for b in (*BEHAVIOURS, UNCERTAIN)})
        row["positive_posture_share"] = _round(self.positive_posture_share)
        row["positive_expression_share"] = _round(self.positive_expression_share)
        row["hand_raises"] = self.hand_raises
        row["identity_probability"] = round(self.identity_probability, 4)
        return row


def person_of(observation: Observation | HandRaise) -> str:
    if observation.student is not None:
        return observation.student
    return f"track-{pseudonym_track(observation)}"


def summarise(observations: list[Observation], hand_raises: list[HandRaise]) -> list[PersonSummary]:
    """One :class:`PersonSummary` per person, enrolled students first, by name."""
    by_person: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        by_person[person_of(o)].append(o)
    raises: dict[str, int] = defaultdict(int)
    for r in hand_raises:
        raises[person_of(r)] += 1
    out = []
    for person, items in by_person.items():
        seconds = sum(o.end_s - o.start_s for o in items)
        time_by: dict[str, float] = defaultdict(float)
        for o in items:
            time_by[o.posture] += o.end_s - o.start_s
        shares = {k: v / seconds for k, v in time_by.items()} if seconds > 0 else {}
        known = sum(v for k, v in time_by.items() if k != UNCERTAIN)
        positive_posture = (
            sum(v for k, v in time_by.items() if k in POSITIVE_BEHAVIOURS) / known if known > 0 else None
        )
        read = [o for o in items if o.expression != UNCERTAIN and o.expression_state != UNCERTAIN]
        positive_expression = (
            sum(o.expression_state == "positive" for o in read) / len(read) if read else None
        )
        out.append(
            PersonSummary(
                person=person,
                enrolled=items[0].student is not None,
                tracks=tuple(sorted({o.track for o in items})),
                seconds=seconds,
                shares=shares,
                positive_posture_share=positive_posture,
                positive_expression_share=positive_expression,
                hand_raises=raises.get(person, 0),
                identity_probability=sum(o.identity_probability for o in items) / len(items),
            )
        )
    return sorted(out, key=lambda s: (not s.enrolled, s.person))


def write_tables(summaries: list[PersonSummary], lesson: dict[str, Any], out: Path) -> list[Path]:
    """``students.csv``, ``summary.json`` (the lesson and every person) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [s.row() for s in summaries]
    csv_path = out / "students.csv"
    with csv_path.open("w", newline="") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    json_path = out / "summary.json"
    json_path.write_text(json.dumps({"lesson": lesson, "people": rows}, indent=2))
    return [csv_path, json_path]


def timeline(observations: list[Observation], *, title: str) -> Any:
    """A Plotly figure: one row per person, one bar per window coloured by posture behaviour, with
    the expression in the hover text — who was attentive when."""
    import plotly.graph_objects as go

    colours = {
        "upright": "#2a9d8f",
        "writing": "#52b788",
        "hand-raised": "#1d3557",
        "lying-on-desk": "#e63946",
        "looking-around": "#f4a261",
        "phone": "#9d0208",
        UNCERTAIN: "#c8c8c8",
    }
    figure = go.Figure()
    for behaviour, colour in colours.items():
        items = [o for o in observations if o.posture == behaviour]
        if not items:
            continue
        figure.add_bar(
            name=behaviour,
            y=[person_of(o) for o in items],
            x=[o.end_s - o.start_s for o in items],
            base=[o.start_s for o in items],
            orientation="h",
            marker_color=colour,
            customdata=[
                [
                    o.expression,
                    o.expression_state,
                    round(o.expression_confidence, 2),
                    round(o.posture_confidence, 2),
                    o.end_s,
                ]
                for o in items
            ],
            hovertemplate=(
                "%{y}<br>%{base:.0f}–%{customdata[4]:.0f} s: " + behaviour + " (%{customdata[3]})"
                "<br>expression %{customdata[0]} / %{customdata[1]} (%{customdata[2]})<extra></extra>"
            ),
        )
    figure.update_layout(
        title=title,
        barmode="overlay",
        xaxis_title="seconds from the start of the video",
        yaxis={"categoryorder": "category descending"},
        height=max(320, 24 * len({person_of(o) for o in observations}) + 120),
        legend_title="posture",
    )
    return figure


def write_timeline(observations: list[Observation], out: Path, *, title: str) -> Path:
    """``timeline.html`` in ``out`` (Plotly, self-contained)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "timeline.html"
    timeline(observations, title=title).write_html(str(path), include_plotlyjs=True, full_html=True)
    return path


def write_lesson_outputs(analysis: LessonAnalysis, out: Path) -> list[Path]:
    """Everything a lesson's analysis writes to ``out``: ``students.csv``, ``summary.json``,
    ``observations.csv`` and ``timeline.html``."""
    people = summarise(analysis.observations, analysis.hand_raises)
    lesson = {
        "lesson": analysis.lesson.lesson,
        "course": analysis.lesson.course,
        "camera": analysis.lesson.camera,
        "video": analysis.lesson.video_name,
        "start": analysis.lesson.start.isoformat(),
        "frames": analysis.frames,
        "video_seconds": round(analysis.video_seconds, 1),
        "analysis_rate": analysis.rate,
        "people": len(people),
        "identified": sum(p.enrolled for p in people),
    }
    written = write_tables(people, lesson, out)
    observations_csv = out / "observations.csv"
    with observations_csv.open("w", newline="") as f:
        writer = csv.DictWriter(
            f, fieldnames=[*asdict(analysis.observations[0])] if analysis.observations else []
        )
        writer.writeheader()
        writer.writerows(asdict(o) for o in analysis.observations)
    written.append(observations_csv)
    written.append(write_timeline(analysis.observations, out, title=f"lesson {analysis.lesson.lesson}"))
    return written


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
