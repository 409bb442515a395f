"""Simulated lessons with a known teaching quality, as classroom-video statements (SPEC §5, §6).

The simulator stands in for a term of filmed lessons so that the path video statements → lesson
statistics → teaching score can be tested against a planted truth.  Generative model:

* ``T`` teachers, each teaching one course; teacher ``t`` has a quality ``τ_t``, the values
  ``linspace(−spread, spread, T)`` in a seeded random order;
* lesson ``l`` of teacher ``t`` has the **latent teaching quality** ``q_l = τ_t + N(0, lesson_sd)``;
* each of the lesson's students ``i`` has an engagement ``e_il = q_l + N(0, student_sd)``; in each
  observation window the student's posture behaviour is drawn from
  ``softmax(log(0.40, 0.25, 0.05, 0.08, 0.12, 0.10) + e_il · (0.5, 0.6, 0.8, −0.7, −0.5, −0.9))``
  over upright, writing, hand-raised, lying-on-desk, looking-around, phone; the expression is
  positive with ``P = sigmoid(0.4 + e_il)``, then calm/joy/surprise (0.6/0.3/0.1), else
  disgust/fear/anger (0.4/0.3/0.3); with probability ``uncertain`` each of the two is not
  classified (``uncertain``, as the video models report a case they cannot decide);
* a hand raise is the start of a ``hand-raised`` run, as the video pipeline counts it;
* the **planted expert rating** of the lesson is ``clip(round(3 + q_l + N(0, rating_sd)), 1, 5)``,
  drawn for every lesson (what an expert would say); an evaluation reveals only a few of them.

Every window becomes a ``was-observed`` statement built by :func:`learnsight.vision.observations.
to_statements`, exactly as an analysed video would be stored: the posture in ``result.response``,
expression and state in the result extensions, the lesson as a ``class-session`` activity of the
teacher's course.  Students are accounts under ``home_page`` (default a separate
``teaching.example.edu``, so simulated lessons never merge with other learners).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np

from learnsight import progress
from learnsight.indicators.formulas.classroom import EXPRESSIONS, POSITIVE_EXPRESSIONS, POSTURES
from learnsight.store import IngestBatch, IngestReport, Store
from learnsight.vision import observations as obs
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.parse import parse_statement

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

_POSTURE_BASE: Final = np.log(np.array([0.40, 0.25, 0.05, 0.08, 0.12, 0.10]))
_POSTURE_QUALITY: Final = np.array([0.5, 0.6, 0.8, -0.7, -0.5, -0.9])
_POSITIVE_P: Final = np.array([0.6, 0.3, 0.1])
_NEGATIVE_P: Final = np.array([0.4, 0.3, 0.3])
_POSITIVE: Final = tuple(e for e in EXPRESSIONS if e in POSITIVE_EXPRESSIONS)
_NEGATIVE: Final = tuple(e for e in EXPRESSIONS if e not in POSITIVE_EXPRESSIONS)
HAND_RAISED: Final = POSTURES[2]


@dataclass(frozen=True)
class LessonConfig:
    """Sizes and parameters of the simulated term (see the module docstring)."""

    teachers: int = 6
    lessons_per_teacher: int = 10
    students: int = 20
    windows: int = 12
    window_s: float = 60.0
    spread: float = 1.3
    lesson_sd: float = 0.35
    student_sd: float = 0.6
    rating_sd: float = 0.3
    uncertain: float = 0.05
    seed: int = 0
    home_page: str = "https://teaching.example.edu"
    start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __post_init__(self) -> None:
        for name in ("teachers", "lessons_per_teacher", "students", "windows"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.uncertain < 1.0:
            raise ValueError(f"uncertain must be in [0, 1), got {self.uncertain}")


@dataclass(frozen=True)
class SimulatedLesson:
    """One lesson: where it was filmed, its teacher, the planted truth and its statements."""

    lesson: obs.Lesson
    teacher: str
    quality: float
    rating: int
    statements: list[dict[str, Any]]

    @property
    def activity_id(self) -> str:
        return self.lesson.activity_id


@dataclass(frozen=True)
class SimulatedTerm:
    """Every simulated lesson, and each teacher's quality ``τ``."""

    config: LessonConfig
    lessons: list[SimulatedLesson]
    teacher_quality: dict[str, float]

    @property
    def statements(self) -> int:
        return sum(len(lesson.statements) for lesson in self.lessons)


def rating_of(judged: FloatArray) -> FloatArray:
    """The expert's whole-number rating of a lesson judged at ``judged`` (quality plus the expert's
    noise): ``clip(round(3 + judged), 1, 5)``, the one place the rating scale is defined."""
    out: FloatArray = np.clip(np.rint(3.0 + np.asarray(judged, dtype=np.float64)), 1, 5)
    return out


def expected_rating(quality: FloatArray, rating_sd: float) -> FloatArray:
    """The mean planted expert rating of lessons of latent quality ``quality``:
    ``E[clip(round(3 + q + ε), 1, 5)]`` with ``ε ~ N(0, rating_sd)`` (the simulator's rating model),
    ``Σ_r r · P(r)`` with ``P(r) = Φ((r + ½ − 3 − q)/σ) − Φ((r − ½ − 3 − q)/σ)``, the outer levels
    taking the tails.  No scorer that sees the lesson but not the expert can do better on average: it
    is the yardstick of the lesson evaluation (``oracle``).

    >>> expected_rating(np.array([0.0, 5.0]), 0.3).round(3).tolist()
    [3.0, 5.0]
    """
    from scipy.stats import norm  # type: ignore[import-untyped]

    q = np.asarray(quality, dtype=np.float64)
    edges = np.array([-np.inf, 1.5, 2.5, 3.5, 4.5, np.inf])
    if rating_sd <= 0:
        return rating_of(q)
    cdf = norm.cdf((edges[:, None] - 3.0 - q[None, :]) / rating_sd)
    out: FloatArray = (np.arange(1, 6)[:, None] * np.diff(cdf, axis=0)).sum(axis=0)
    return out


def teacher_name(t: int) -> str:
    return f"T{t + 1:02d}"


def simulate_lessons(config: LessonConfig | None = None) -> SimulatedTerm:
    """Draw a term of lessons (module docstring); the same config gives the same statements."""
    config = config or LessonConfig()
    rng = np.random.default_rng(config.seed)
    spread = np.linspace(-config.spread, config.spread, config.teachers)
    tau = rng.permutation(spread) if config.teachers > 1 else np.zeros(1)
    digest_base = hashlib.sha256(repr(config).encode()).hexdigest()
    lessons: list[SimulatedLesson] = []
    with progress.task("simulating lessons", total=config.teachers * config.lessons_per_teacher) as step:
        for t in range(config.teachers):
            teacher = teacher_name(t)
            course = f"{config.home_page.rstrip('/')}/course/teaching-{teacher}"
            for k in range(config.lessons_per_teacher):
                name = f"{teacher}-L{k + 1:02d}"
                quality = float(tau[t] + rng.normal(0.0, config.lesson_sd))
                rating = int(rating_of(np.asarray(quality + rng.normal(0.0, config.rating_sd))))
                lesson = obs.Lesson(
                    lesson=name,
                    camera="front",
                    start=config.start + timedelta(days=7 * k, hours=2 * t),
                    home_page=config.home_page,
                    digest=hashlib.sha256(f"{digest_base}/{name}".encode()).hexdigest(),
                    video_name=f"simulated-{name}.mp4",
                    course=course,
                )
                observations, raises = _observe(rng, config, teacher, quality)
                lessons.append(
                    SimulatedLesson(
                        lesson=lesson,
                        teacher=teacher,
                        quality=quality,
                        rating=rating,
                        statements=obs.to_statements(lesson, observations, raises),
                    )
                )
                step(1)
    return SimulatedTerm(
        config=config,
        lessons=lessons,
        teacher_quality={teacher_name(t): float(tau[t]) for t in range(config.teachers)},
    )


def store_lessons(store: Store, term: SimulatedTerm) -> IngestReport:
    """Validate every lesson's statements strictly and write them in ONE atomic batch of kind
    ``video`` (as :func:`learnsight.vision.observations.write` does for one analysed video);
    statements already stored (the same term simulated before) are skipped."""
    stored = datetime.now(UTC).replace(tzinfo=None)
    statements = [s for lesson in term.lessons for s in lesson.statements]
    with progress.task("validating lesson statements", total=len(statements)) as step:
        rows = []
        for i, statement in enumerate(statements):
            rows.append(
                statement_columns(parse_statement(statement, index=i), stored=stored, source=statement)
            )
            if i % 1000 == 999:
                step(1000)
        step(len(statements) % 1000)
    batch = IngestBatch(
        kind=obs.INGEST_KIND,
        source=f"simulated lessons (seed {term.config.seed})",
        rows_read=len(rows),
        statements=statements_table(rows),
        details={"lessons": len(term.lessons), "teachers": len(term.teacher_quality)},
    )
    with progress.task("storing lesson statements", total=1) as done:
        report = store.ingest(batch)
        done(1)
    return report


def _observe(
    rng: np.random.Generator, config: LessonConfig, teacher: str, quality: float
) -> tuple[list[obs.Observation], list[obs.HandRaise]]:
    n, w = config.students, config.windows
    engagement = quality + rng.normal(0.0, config.student_sd, n)
    logits = _POSTURE_BASE[None, None, :] + engagement[:, None, None] * _POSTURE_QUALITY[None, None, :]
    posture = np.argmax(logits + rng.gumbel(size=(n, w, len(POSTURES))), axis=2)
    posture_known = rng.random((n, w)) >= config.uncertain
    positive = rng.random((n, w)) < 1.0 / (1.0 + np.exp(-(0.4 + engagement[:, None])))
    pos_kind = rng.choice(len(_POSITIVE), size=(n, w), p=_POSITIVE_P)
    neg_kind = rng.choice(len(_NEGATIVE), size=(n, w), p=_NEGATIVE_P)
    expression_known = rng.random((n, w)) >= config.uncertain
    posture_conf = rng.uniform(0.55, 0.95, (n, w))
    expression_conf = rng.uniform(0.5, 0.95, (n, w))
    observations: list[obs.Observation] = []
    raises: list[obs.HandRaise] = []
    for i in range(n):
        student = f"{teacher}-S{i + 1:02d}"
        previous = None
        for j in range(w):
            label = POSTURES[posture[i, j]] if posture_known[i, j] else obs.UNCERTAIN
            if expression_known[i, j]:
                expression = _POSITIVE[pos_kind[i, j]] if positive[i, j] else _NEGATIVE[neg_kind[i, j]]
                state = "positive" if positive[i, j] else "negative"
            else:
                expression = state = obs.UNCERTAIN
            start = j * config.window_s
            observations.append(
                obs.Observation(
                    track=i + 1,
                    start_s=start,
                    end_s=start + config.window_s,
                    student=student,
                    identity_probability=1.0,
                    posture=label,
                    posture_confidence=float(posture_conf[i, j]) if label != obs.UNCERTAIN else 0.3,
                    expression=expression,
                    expression_state=state,
                    expression_confidence=float(expression_conf[i, j])
                    if expression != obs.UNCERTAIN
                    else 0.3,
                )
            )
            if label == HAND_RAISED and previous != HAND_RAISED:
                raises.append(obs.HandRaise(track=i + 1, t=start, student=student))
            previous = label
    return observations, raises
