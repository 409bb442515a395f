"""Teaching evaluation from classroom video (SPEC §6): lesson and teacher scores from the behaviour
and expression statistics of stored lessons, with a few expert ratings.

Path, end to end: simulated lessons (:mod:`learnsight.teaching.lessons`) → ``was-observed``
statements in the store → per-lesson statistics read back by one SQL query and the §2.5 formulas
(:mod:`learnsight.teaching.lesson_stats`) → the semi-supervised model, which sees every lesson's
statistics and the expert's rating of ``expert_share`` of them (stratified by rating, at least
one lesson of each rating, seeded) →
a **lesson score** (the rating's value, 1–5: the expert's where given, the predicted one elsewhere;
the default model, ``laprls``, predicts it as a number, not a level: see :mod:`.models`)
→ a **teacher score** (the mean over the teacher's lessons).  The planted truth checks it: the
rank correlation of the scores with the latent quality and with the hidden ratings, and each
teacher's deviation from the mean of all the teacher's planted ratings (the protocol's
``deviation_pct``; every teacher is judged).  A supervised model on the rated lessons alone is the
baseline.  Each score is explained by the behaviours that moved it (:mod:`learnsight.teaching.explain`).

The **oracle** is the yardstick: the same scores with every unrated lesson given the mean rating of
its latent quality (:func:`~learnsight.teaching.lessons.expected_rating`), which only the simulator
knows.  Its deviation is what the expert's own noise and whole-number ratings leave even to a
scorer that reads each lesson perfectly: with 10 lessons per teacher it is typically far above 5 %,
so the within-5 % protocol can be judged on a lesson term only with enough lessons per teacher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from learnsight import progress
from learnsight.store import DuckDBStore
from learnsight.teaching.explain import Contribution, surrogate
from learnsight.teaching.lesson_stats import FEATURE_LABELS, FEATURES, lesson_statistics
from learnsight.teaching.lessons import (
    LessonConfig,
    SimulatedTerm,
    expected_rating,
    simulate_lessons,
    store_lessons,
)
from learnsight.teaching.models import (
    BASELINES,
    DEFAULT_BASELINE,
    DEFAULT_LESSON_MODEL,
    SEMI_SUPERVISED,
    check_model,
    supervise,
    transduce,
)
from learnsight.teaching.protocol import (
    DESIGNS,
    TOLERANCE_PCT,
    FloatArray,
    GroupScore,
    ProtocolError,
    check_features,
    group_scores,
    labelled_split,
    level_values,
    max_deviation,
    standardise,
)


@dataclass(frozen=True)
class LessonScore:
    """One lesson's score, the planted truth beside it, and what moved it."""

    lesson: str
    teacher: str
    quality: float
    rating: int
    rated: bool
    score: float
    baseline_score: float
    drivers: list[Contribution]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "teacher": self.teacher,
            "quality": round(self.quality, 4),
            "expert_rating": self.rating,
            "rated": self.rated,
            "score": self.score,
            "baseline_score": self.baseline_score,
            "drivers": [d.to_dict() for d in self.drivers],
        }


@dataclass(frozen=True)
class LessonEvaluation:
    """Scores of every lesson and teacher, and how well they recover the planted truth."""

    model: str
    baseline: str
    seed: int
    expert_share: float
    lessons: list[LessonScore]
    teachers: list[GroupScore]
    baseline_teachers: list[GroupScore]
    oracle_teachers: list[GroupScore]
    teacher_quality: dict[str, float]
    teacher_drivers: dict[str, list[Contribution]]
    spearman_quality: float
    spearman_rating_unrated: float
    baseline_spearman_quality: float
    accuracy_unrated: float
    baseline_accuracy_unrated: float
    teacher_order_spearman: float
    surrogate_r2: float
    statements: int
    missing: dict[str, str]
    kernel_weights: dict[str, float]
    model_settings: dict[str, float]

    @property
    def max_deviation_pct(self) -> float | None:
        return max_deviation(self.teachers, 1)

    @property
    def baseline_max_deviation_pct(self) -> float | None:
        return max_deviation(self.baseline_teachers, 1)

    @property
    def oracle_max_deviation_pct(self) -> float | None:
        return max_deviation(self.oracle_teachers, 1)

    @property
    def rated(self) -> int:
        return sum(s.rated for s in self.lessons)

    def line(self) -> str:
        """One line for the demo's summary."""
        m = self.max_deviation_pct
        deviation = "no teacher scored" if m is None else f"teacher max deviation {m:.1f} %"
        return (
            f"{len(self.lessons)} lessons of {len(self.teachers)} teachers, {self.rated} rated; "
            f"Spearman(score, quality) {self.spearman_quality:.2f}; {deviation}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "baseline": self.baseline,
            "seed": self.seed,
            "expert_share": self.expert_share,
            "lessons_scored": len(self.lessons),
            "lessons_rated": self.rated,
            "statements": self.statements,
            "groups": [g.to_dict() for g in self.teachers],
            "max_deviation_pct": _round(self.max_deviation_pct),
            "within_tolerance": self.max_deviation_pct is not None
            and self.max_deviation_pct <= TOLERANCE_PCT,
            "spearman_score_quality": round(self.spearman_quality, 4),
            "spearman_score_rating_unrated": round(self.spearman_rating_unrated, 4),
            "accuracy_unrated": round(self.accuracy_unrated, 4),
            "teacher_order_spearman": round(self.teacher_order_spearman, 4),
            "surrogate_r2": round(self.surrogate_r2, 4),
            "kernel_weights": {k: round(v, 4) for k, v in self.kernel_weights.items() if v > 0},
            "model_settings": self.model_settings,
            "oracle_result": {
                "description": "unrated lessons scored by the mean rating of their latent quality",
                "groups": [g.to_dict() for g in self.oracle_teachers],
                "max_deviation_pct": _round(self.oracle_max_deviation_pct),
            },
            "baseline_result": {
                "groups": [g.to_dict() for g in self.baseline_teachers],
                "max_deviation_pct": _round(self.baseline_max_deviation_pct),
                "spearman_score_quality": round(self.baseline_spearman_quality, 4),
                "accuracy_unrated": round(self.baseline_accuracy_unrated, 4),
            },
            "teacher_quality": {k: round(v, 4) for k, v in self.teacher_quality.items()},
            "teacher_drivers": {k: [d.to_dict() for d in v] for k, v in self.teacher_drivers.items()},
            "lessons": [s.to_dict() for s in self.lessons],
            "missing": self.missing,
        }


def evaluate_lessons(
    store: DuckDBStore,
    term: SimulatedTerm,
    *,
    expert_share: float = 0.25,
    seed: int = 0,
    model: str = DEFAULT_LESSON_MODEL,
    baseline: str = DEFAULT_BASELINE,
    top: int = 3,
) -> LessonEvaluation:
    """Score the term's lessons from their stored statements (module docstring).

    Raises
    ------
    ProtocolError
        No lesson has statistics, ``expert_share`` is outside (0, 1), a rating level gets no
        expert-rated lesson, or a statistic is not finite.
    """
    check_model(model, SEMI_SUPERVISED)
    check_model(baseline, BASELINES)
    design = DESIGNS["5"]
    by_id = {lesson.activity_id: lesson for lesson in term.lessons}
    with progress.task("lesson statistics from the store", total=1) as step:
        stats = lesson_statistics(store, list(by_id))
        step(1)
    if not stats.lessons:
        raise ProtocolError("no stored lesson has behaviour statistics; store the lessons first")
    simulated = [by_id[a] for a in stats.lessons]
    names = [s.lesson.lesson for s in simulated]
    check_features(stats.x, FEATURES, rows=[f"lesson {n}" for n in names])
    levels = np.asarray([s.rating for s in simulated], dtype=np.int64)
    truth = level_values(levels, design)
    quality = np.asarray([s.quality for s in simulated])
    mask = labelled_split(levels, expert_share, seed, minimum=1)
    z = standardise(stats.x)
    with progress.task(f"{model} on {len(names)} lessons, {int(mask.sum())} rated", total=2) as step:
        ours = transduce(model, z, levels, mask, seed=seed, n_levels=design.levels)
        step(1)
        base = supervise(baseline, z, levels, mask, seed=seed)
        step(1)
    scores = ours.scores(design)
    base_scores = base.scores(design)
    teachers = [s.teacher for s in simulated]
    courses = [s.lesson.course.rsplit("/", 1)[-1] if s.lesson.course else "" for s in simulated]
    sur = surrogate(stats.x, scores, FEATURES, FEATURE_LABELS)
    hidden = ~mask
    lesson_scores = [
        LessonScore(
            lesson=names[i],
            teacher=teachers[i],
            quality=float(quality[i]),
            rating=int(levels[i]),
            rated=bool(mask[i]),
            score=float(scores[i]),
            baseline_score=float(base_scores[i]),
            drivers=sur.contributions(np.arange(len(names)) == i, top),
        )
        for i in range(len(names))
    ]
    groups = group_scores(teachers, courses, truth, scores)
    teacher_array = np.asarray(teachers)
    teacher_drivers = {g.instructor: sur.contributions(teacher_array == g.instructor, top) for g in groups}
    tau = np.asarray([term.teacher_quality[str(g.instructor)] for g in groups])
    return LessonEvaluation(
        model=model,
        baseline=baseline,
        seed=seed,
        expert_share=expert_share,
        lessons=lesson_scores,
        teachers=groups,
        baseline_teachers=group_scores(teachers, courses, truth, base_scores),
        oracle_teachers=group_scores(
            teachers, courses, truth, np.where(mask, truth, expected_rating(quality, term.config.rating_sd))
        ),
        teacher_quality=dict(term.teacher_quality),
        teacher_drivers={str(k): v for k, v in teacher_drivers.items()},
        spearman_quality=spearman(scores, quality),
        spearman_rating_unrated=spearman(scores[hidden], truth[hidden]),
        baseline_spearman_quality=spearman(base_scores, quality),
        accuracy_unrated=float((ours.levels[hidden] == levels[hidden]).mean()),
        baseline_accuracy_unrated=float((base.levels[hidden] == levels[hidden]).mean()),
        teacher_order_spearman=spearman(np.asarray([g.score_predicted for g in groups]), tau),
        surrogate_r2=sur.r2,
        statements=term.statements,
        missing=stats.missing,
        kernel_weights=ours.kernel_weights,
        model_settings=ours.settings,
    )


def run_lessons(
    store: DuckDBStore,
    config: LessonConfig | None = None,
    *,
    expert_share: float = 0.25,
    model: str = DEFAULT_LESSON_MODEL,
    baseline: str = DEFAULT_BASELINE,
) -> LessonEvaluation:
    """Simulate a term (``config``), store its statements in ``store`` and score it; the split uses
    ``config.seed``."""
    term = simulate_lessons(config or LessonConfig())
    store_lessons(store, term)
    return evaluate_lessons(
        store, term, expert_share=expert_share, seed=term.config.seed, model=model, baseline=baseline
    )


def spearman(a: FloatArray, b: FloatArray) -> float:
    """Spearman's rank correlation (average ranks for ties); ``nan`` when either side is constant.

    >>> spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
    0.5
    """
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    ra = np.asarray(rankdata(a), dtype=np.float64)
    rb = np.asarray(rankdata(b), dtype=np.float64)
    if ra.size < 2 or ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
