"""Classroom-video observations as xAPI statements in the store (SPEC §5: every observation becomes a
statement), so the §2.5 classroom indicators come from the same indicator code as every source.

One **observation** is one track over one window of ``window_s`` seconds (default 10): its majority
posture behaviour and its smoothed expression, each with a confidence.  It is written as

* actor: the identified student, an ``account`` agent (``home_page`` + the roster key, the roster
  folder's name); for a face the roster does not know, a **pseudonymous** agent
  ``account(<home_page>/video-tracks, <video digest>/<track>)`` that names no one (``<track>`` is
  the first track of that face, so a stranger who left and came back keeps one pseudonym);
* verb :data:`~learnsight.xapi.vocab.OBSERVED` ("was observed in"), the learner as subject;
* object: the lesson, an Activity of type :data:`~learnsight.xapi.vocab.CLASS_SESSION`
  (``<course>/session/<lesson>``, or ``<home_page>/video/<digest>`` without a course);
* ``result.response``: the posture behaviour (``upright``, ``writing``, ``hand-raised``,
  ``lying-on-desk``, ``looking-around``, ``phone``) or ``uncertain``; ``result.duration``: the window;
  result extensions :data:`~learnsight.xapi.vocab.EXT_EXPRESSION` (a class or ``uncertain``),
  :data:`~learnsight.xapi.vocab.EXT_EXPRESSION_STATE` (``positive``/``negative``, absent when the
  expression is uncertain, so uncertain faces never count towards the positive share),
  :data:`~learnsight.xapi.vocab.EXT_CONFIDENCE` (posture), :data:`EXT_EXPRESSION_CONFIDENCE`,
  :data:`EXT_IDENTITY_PROBABILITY`;
* context: platform ``camera``; the course as a ``grouping`` Activity of type ``course``;
  extensions :data:`EXT_LESSON`, :data:`EXT_CAMERA`, :data:`EXT_TRACK`, :data:`EXT_VIDEO`.

A hand raise (the start of a ``hand-raised`` run) is also a :data:`~learnsight.xapi.vocab.RAISED_HAND`
statement, which the ``hand_raises`` indicator counts.  Statement ids are deterministic (video
digest, track, window), so analysing the same video twice stores nothing new.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.xapi import vocab as v
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.parse import parse_statement

INGEST_KIND: Final = "video"
EXT_EXPRESSION_CONFIDENCE: Final = v.EXT + "expression-confidence"
EXT_IDENTITY_PROBABILITY: Final = v.EXT + "identity-probability"
EXT_LESSON: Final = v.EXT + "lesson"
EXT_CAMERA: Final = v.EXT + "camera"
EXT_TRACK: Final = v.EXT + "video-track"
EXT_VIDEO: Final = v.EXT + "video"
UNCERTAIN: Final = "uncertain"
_NAMESPACE: Final = uuid.UUID("6f1d8f4e-3b7c-5a0e-9d2b-1c4e7a9b8d60")


@dataclass(frozen=True)
class Lesson:
    """Where a video was filmed: ``course`` (an IRI, or ``None``), ``lesson`` (an id), ``camera``,
    the wall-clock ``start`` of the video (aware), the institution's account ``home_page`` and the
    video's content ``digest`` (SHA-256 hex)."""

    lesson: str
    camera: str
    start: datetime
    home_page: str
    digest: str
    video_name: str
    course: str | None = None

    @property
    def activity_id(self) -> str:
        if self.course is not None:
            return f"{self.course.rstrip('/')}/session/{self.lesson}"
        return f"{self.home_page.rstrip('/')}/video/{self.digest[:16]}"


@dataclass(frozen=True)
class Observation:
    """One track over one window (see the module docstring)."""

    track: int
    start_s: float
    end_s: float
    student: str | None
    identity_probability: float
    posture: str
    posture_confidence: float
    expression: str
    expression_state: str
    expression_confidence: float
    person: int | None = None
    """A stranger's first track when this track is the same face again (its pseudonym's track)."""


@dataclass(frozen=True)
class HandRaise:
    """The start of a ``hand-raised`` run of a track."""

    track: int
    t: float
    student: str | None
    person: int | None = None


def pseudonym_track(seen: Observation | HandRaise) -> int:
    """The track whose pseudonym a stranger's statements carry: the first track of the same face."""
    return seen.track if seen.person is None else seen.person


def actor(lesson: Lesson, track: int, student: str | None) -> dict[str, Any]:
    """The statement actor of a track: the student's account, or a pseudonymous track agent."""
    if student is not None:
        return {"objectType": "Agent", "account": {"homePage": lesson.home_page, "name": student}}
    return {
        "objectType": "Agent",
        "account": {
            "homePage": f"{lesson.home_page.rstrip('/')}/video-tracks",
            "name": f"{lesson.digest[:16]}/{track}",
        },
    }


def to_statements(
    lesson: Lesson, observations: Sequence[Observation], hand_raises: Sequence[HandRaise] = ()
) -> list[dict[str, Any]]:
    """The xAPI statements of a lesson's observations and hand raises."""
    out = []
    for obs in observations:
        extensions: dict[str, Any] = {
            v.EXT_EXPRESSION: obs.expression,
            v.EXT_CONFIDENCE: round(obs.posture_confidence, 4),
            EXT_EXPRESSION_CONFIDENCE: round(obs.expression_confidence, 4),
            EXT_IDENTITY_PROBABILITY: round(obs.identity_probability, 4),
        }
        if obs.expression != UNCERTAIN and obs.expression_state != UNCERTAIN:
            extensions[v.EXT_EXPRESSION_STATE] = obs.expression_state
        result = {
            "response": obs.posture,
            "duration": _duration(obs.end_s - obs.start_s),
            "extensions": extensions,
        }
        out.append(_statement(lesson, obs, v.OBSERVED, obs.start_s, "obs", result))
    for raise_ in hand_raises:
        out.append(_statement(lesson, raise_, v.RAISED_HAND, raise_.t, "hand", None))
    return out


def write(store: Store, lesson: Lesson, statements: Sequence[dict[str, Any]]) -> IngestReport:
    """Validate ``statements`` strictly and store them in ONE atomic batch (kind ``video``); a
    statement already stored (the same video analysed before) is skipped."""
    stored = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        statement_columns(parse_statement(s, index=i), stored=stored, source=s)
        for i, s in enumerate(statements)
    ]
    batch = IngestBatch(
        kind=INGEST_KIND,
        source=f"video:{lesson.video_name}",
        rows_read=len(rows),
        statements=statements_table(rows),
        details={"lesson": lesson.lesson, "camera": lesson.camera, "digest": lesson.digest},
    )
    return store.ingest(batch)


def _statement(
    lesson: Lesson,
    seen: Observation | HandRaise,
    verb: str,
    t: float,
    kind: str,
    result: dict[str, Any] | None,
) -> dict[str, Any]:
    when = lesson.start + timedelta(seconds=t)
    track = seen.track
    context: dict[str, Any] = {
        "platform": v.SOURCE_CAMERA,
        "extensions": {
            EXT_LESSON: lesson.lesson,
            EXT_CAMERA: lesson.camera,
            EXT_TRACK: track,
            EXT_VIDEO: lesson.video_name,
        },
    }
    if lesson.course is not None:
        context["contextActivities"] = {
            "grouping": [{"objectType": "Activity", "id": lesson.course, "definition": {"type": v.COURSE}}]
        }
    statement: dict[str, Any] = {
        "id": str(uuid.uuid5(_NAMESPACE, f"{lesson.digest}/{kind}/{track}/{t:.3f}")),
        "actor": actor(lesson, pseudonym_track(seen), seen.student),
        "verb": {"id": verb, "display": {"en-US": v.VERB_DISPLAY.get(verb, verb.rsplit("/", 1)[-1])}},
        "object": {
            "objectType": "Activity",
            "id": lesson.activity_id,
            "definition": {"type": v.CLASS_SESSION, "name": {"en-US": f"lesson {lesson.lesson}"}},
        },
        "timestamp": when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "context": context,
    }
    if result is not None:
        statement["result"] = result
    return statement


def _duration(seconds: float) -> str:
    """ISO 8601 duration with centisecond precision (the xAPI precision)."""
    return f"PT{max(seconds, 0.0):.2f}S"
