"""Teaching evaluation from student surveys (SPEC §6): the re-runnable protocol on a survey file.

Protocol (one seed fixes every random choice; ``learnsight teaching evaluate --survey PATH
--labelled 0.05 --seed 0`` re-runs it):

1. **Expert label** of an evaluation: the level of the mean of its sixteen instructor statements
   Q13–Q28 (default design ``"3"``: poor < 2.5 ≤ fair < 3.5 ≤ good, valued 1.75 / 3 / 4.25;
   ``--levels 5`` rounds to 1 … 5 instead; see :mod:`learnsight.teaching.protocol`).  The
   instructor statements are what a teaching expert judges — preparation, clarity, use of
   class time, fairness — so a score built from them is the expert's rating that SPEC §6
   compares with.
2. **Inputs** the models see: the twelve course statements Q1–Q12, attendance, difficulty and
   nb.repeat, standardised over all rows.  Never Q13–Q28 (they define the label), never the
   instructor or course id (the groups being scored).
3. **Labelled split**: ``--labelled`` (default 5 %) of the labels, stratified by level, drawn with
   the seed; the other labels are hidden.
4. **Ours**: the semi-supervised model (default the multi-kernel LapSVM) on every row with the
   revealed labels; **baseline**: a supervised model (default an RBF SVM) on the revealed rows only.
5. **Group score** per instructor × course: the mean level value of its evaluations, true labels vs
   predictions (revealed rows keep their label); ``deviation_pct = 100·|pred − true| / true``;
   ``max_deviation_pct`` over the groups with at least 40 evaluations.  The goal is ≤ 5 %.
6. **Explanation** of each predicted group score: a ridge surrogate of the model's scores on the
   inputs (:mod:`learnsight.teaching.explain`) names the survey items that moved it most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from learnsight import progress
from learnsight.teaching.explain import Contribution, surrogate
from learnsight.teaching.models import (
    BASELINES,
    DEFAULT_BASELINE,
    DEFAULT_MODEL,
    SEMI_SUPERVISED,
    Fitted,
    check_model,
    supervise,
    transduce,
)
from learnsight.teaching.protocol import (
    DESIGNS,
    MIN_GROUP_N,
    TOLERANCE_PCT,
    GroupScore,
    LabelDesign,
    ProtocolError,
    check_features,
    expert_levels,
    group_scores,
    labelled_split,
    level_values,
    max_deviation,
    standardise,
)
from learnsight.teaching.survey import (
    CONTEXT_COLUMNS,
    COURSE_ITEMS,
    INSTRUCTOR_ITEMS,
    ITEM_LABELS,
    Survey,
)

INPUTS: Final[tuple[str, ...]] = (*COURSE_ITEMS, *CONTEXT_COLUMNS)
"""What the models see of an evaluation (never the instructor statements Q13–Q28)."""


@dataclass(frozen=True)
class Arm:
    """One model's side of the comparison."""

    model: str
    kind: str
    groups: list[GroupScore]
    max_deviation_pct: float | None
    accuracy: float
    within_one: float
    seconds: float
    kernel_weights: dict[str, float] = field(default_factory=dict)

    def to_dict(self, min_n: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "kind": self.kind,
            "groups": [g.to_dict() for g in self.groups],
            "max_deviation_pct": _round(self.max_deviation_pct),
            "groups_within_tolerance": sum(
                g.deviation_pct <= TOLERANCE_PCT for g in self.groups if g.n >= min_n
            ),
            "groups_judged": sum(g.n >= min_n for g in self.groups),
            "accuracy_unlabelled": round(self.accuracy, 4),
            "within_one_level_unlabelled": round(self.within_one, 4),
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class SurveyEvaluation:
    """The protocol's result on one survey (see the module docstring)."""

    survey: Path
    design: LabelDesign
    labelled: float
    seed: int
    min_n: int
    n: int
    levels: dict[int, int]
    labelled_levels: dict[int, int]
    ours: Arm
    baseline: Arm
    explanations: dict[tuple[int | str, int | str], list[Contribution]]
    surrogate_r2: float
    surrogate_weights: dict[str, float]

    @property
    def n_labelled(self) -> int:
        return sum(self.labelled_levels.values())

    @property
    def within_tolerance(self) -> bool:
        m = self.ours.max_deviation_pct
        return m is not None and m <= TOLERANCE_PCT

    def protocol(self) -> dict[str, Any]:
        """The protocol's settings, enough to re-run it."""
        return {
            "survey": str(self.survey),
            "seed": self.seed,
            "labelled_fraction": self.labelled,
            "labelled_rows": self.n_labelled,
            "rows": self.n,
            "label": "level of mean(Q13..Q28) (instructor statements)",
            "label_design": self.design.name,
            "levels": self.design.describe(),
            "inputs": list(INPUTS),
            "split": "stratified by level, floor(f * n_level + 1/2) labelled rows per level",
            "group_score": "mean level value; labelled rows keep their label",
            "deviation": "100 * |predicted - true| / true",
            "judged_groups": f"n >= {self.min_n}",
            "tolerance_pct": TOLERANCE_PCT,
            "command": (
                f"learnsight teaching evaluate --survey {self.survey} --labelled {self.labelled:g} "
                f"--seed {self.seed} --levels {self.design.name} --model {self.ours.model} "
                f"--baseline {self.baseline.model}"
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``learnsight teaching evaluate --json``: ``groups`` and
        ``max_deviation_pct`` are ours; the baseline's sit under ``baseline``."""
        ours = self.ours.to_dict(self.min_n)
        return {
            "groups": ours.pop("groups"),
            "max_deviation_pct": ours.pop("max_deviation_pct"),
            "within_tolerance": self.within_tolerance,
            **ours,
            "kernel_weights": {k: round(v, 4) for k, v in self.ours.kernel_weights.items() if v > 0},
            "baseline": self.baseline.to_dict(self.min_n),
            "protocol": self.protocol(),
            "level_counts": {str(k): v for k, v in self.levels.items()},
            "labelled_level_counts": {str(k): v for k, v in self.labelled_levels.items()},
            "explanations": [
                {
                    "instructor": key[0],
                    "course": key[1],
                    "drivers": [c.to_dict() for c in contributions],
                }
                for key, contributions in self.explanations.items()
            ],
            "surrogate_r2": round(self.surrogate_r2, 4),
        }


def evaluate_survey(
    survey: Survey,
    *,
    labelled: float = 0.05,
    seed: int = 0,
    design: str = "3",
    model: str = DEFAULT_MODEL,
    baseline: str = DEFAULT_BASELINE,
    min_n: int = MIN_GROUP_N,
    top: int = 3,
) -> SurveyEvaluation:
    """Run the protocol (module docstring) on a validated survey.

    Raises
    ------
    ProtocolError
        An unknown design or model, a labelled fraction outside (0, 1), a level without a labelled
        evaluation at that fraction.
    """
    if design not in DESIGNS:
        raise ProtocolError(f"unknown label design {design!r}; expected one of {', '.join(DESIGNS)}")
    check_model(model, SEMI_SUPERVISED)
    check_model(baseline, BASELINES)
    label_design = DESIGNS[design]
    ratings = survey.matrix(INSTRUCTOR_ITEMS).mean(axis=1)
    levels = expert_levels(ratings, label_design)
    truth = level_values(levels, label_design)
    x = survey.matrix(INPUTS)
    check_features(x, INPUTS, rows=[f"{survey.path}:{line}" for line in survey.lines])
    z = standardise(x)
    mask = labelled_split(levels, labelled, seed)
    instructors = survey.column("instr").tolist()
    courses = survey.column("class").tolist()

    arms: list[Arm] = []
    with progress.task(f"{model} on {survey.n:,} evaluations, {int(mask.sum())} labelled", total=2) as step:
        fitted = transduce(model, z, levels, mask, seed=seed, n_levels=label_design.levels)
        arms.append(
            _arm(fitted, "semi-supervised", levels, mask, truth, instructors, courses, label_design, min_n)
        )
        step(1)
        fitted_baseline = supervise(baseline, z, levels, mask, seed=seed)
        arms.append(
            _arm(
                fitted_baseline, "supervised", levels, mask, truth, instructors, courses, label_design, min_n
            )
        )
        step(1)

    with progress.task("explaining group scores", total=len(arms[0].groups)) as step:
        scores = fitted.scores(label_design)
        sur = surrogate(x, scores, INPUTS, ITEM_LABELS)
        keys = np.array([f"{i}\x1f{c}" for i, c in zip(instructors, courses, strict=True)])
        explanations: dict[tuple[int | str, int | str], list[Contribution]] = {}
        for g in arms[0].groups:
            explanations[(g.instructor, g.course)] = sur.contributions(
                keys == f"{g.instructor}\x1f{g.course}", top
            )
            step(1)

    return SurveyEvaluation(
        survey=survey.path,
        design=label_design,
        labelled=labelled,
        seed=seed,
        min_n=min_n,
        n=survey.n,
        levels=_counts(levels),
        labelled_levels=_counts(levels[mask]),
        ours=arms[0],
        baseline=arms[1],
        explanations=explanations,
        surrogate_r2=sur.r2,
        surrogate_weights=sur.weights(),
    )


def _arm(
    fitted: Fitted,
    kind: str,
    levels: np.ndarray[Any, Any],
    mask: np.ndarray[Any, Any],
    truth: np.ndarray[Any, Any],
    instructors: list[Any],
    courses: list[Any],
    design: LabelDesign,
    min_n: int,
) -> Arm:
    hidden = ~mask
    groups = group_scores(instructors, courses, truth, fitted.scores(design))
    return Arm(
        model=fitted.model,
        kind=kind,
        groups=groups,
        max_deviation_pct=max_deviation(groups, min_n),
        accuracy=float((fitted.levels[hidden] == levels[hidden]).mean()),
        within_one=float((np.abs(fitted.levels[hidden] - levels[hidden]) <= 1).mean()),
        seconds=fitted.seconds,
        kernel_weights=fitted.kernel_weights,
    )


def _counts(levels: np.ndarray[Any, Any]) -> dict[int, int]:
    values, counts = np.unique(levels, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
