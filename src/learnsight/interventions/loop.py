"""The closed loop on the synthetic campus: predict → intervene → measure, with a known true effect
(SPEC §4 "Experiments" and "Feedback", issue 5 part 6).

:func:`run_closed_loop` plays one academic year end to end through the store:

1. **Last year's cohort** — a campus simulated with another seed (same courses: course IRIs do not
   depend on the seed), all of it in its own store; an early-warning model (RMTL, three classes) is
   trained on its data before week ``week`` (:mod:`learnsight.models.predict`).
2. **This year, phase 1** — the untreated campus's statements dated before the cut-off
   ``AsOf(week=week)`` go into this year's store (what the institution has seen when it decides);
   every enrolled student is predicted and the ``predicted`` statements are stored.
3. **Assign** — the students predicted *at-risk* are randomised to intervention and control within
   their course (:func:`learnsight.interventions.study.assign`; strata course × predicted class).
4. **This year, phase 2** — the campus simulated again with the intervention arm treated from
   week ``week`` with true effect ``δ`` (:mod:`learnsight.simulate.treatment`, which explains why the
   two phases join into a valid draw of the treated semester); its statements dated from the
   cut-off on go into the store.
5. **Measure** — :func:`learnsight.interventions.study.analyze` with the mid-term as *before* and
   the final as *after* over all units (``by=()``).  The design needs the mid-term before the
   intervention: ``midterm_week ≤ week`` (the mid-term is on the Friday of its 1-based week, the
   cut-off at the end of 0-based week ``week − 1``); otherwise the loop refuses to run.

The intervention arm's change minus the control arm's estimates the planted gain
(:func:`~learnsight.simulate.treatment.expected_gain`; rounding to 0.5 and clipping to 0–100 move it
slightly).  :func:`replicate_experiment` runs steps 3–5 in memory on the ground truth alone (units:
the enrolments whose mid-term is below the at-risk mark, a stand-in for the model) so that hundreds
of replications measure the false-positive rate and the CI coverage in seconds
(:func:`simulation_study`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from learnsight import progress
from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.interventions.experiments import compare_groups, stratified_assignment
from learnsight.interventions.study import (
    CONTROL,
    INTERVENTION,
    Assignment,
    StudyResult,
    analyze,
    assign,
)
from learnsight.models.persist import ModelBundle
from learnsight.simulate.campus import (
    Campus,
    CampusConfig,
    course_calendar,
    simulate_campus,
    simulate_ground_truth,
    write_campus,
)
from learnsight.simulate.treatment import Treatment, effect_for_gain, expected_gain
from learnsight.store import IngestBatch, open_store

DEFAULT_CONFIG: Final = CampusConfig(n_students=500, n_courses=2, n_weeks=8, seed=7, midterm_week=4)
"""A campus the whole loop runs on in well under 30 s (two cohorts, training and both phases)."""
BEFORE: Final = "exam/midterm"
AFTER: Final = "course"


def cutoff_instant(config: CampusConfig, week: int) -> datetime:
    """The instant of ``AsOf(week=week)`` on the campus (every course starts on the first day).

    >>> cutoff_instant(CampusConfig(), 8)
    datetime.datetime(2024, 10, 28, 0, 0)
    """
    return datetime.combine(config.start, datetime.min.time()) + timedelta(days=7 * week)


def _check_design(config: CampusConfig, week: int) -> None:
    if not 1 <= week < config.n_weeks:
        raise LearnsightError(f"week {week}: the intervention week must lie in 1…{config.n_weeks - 1}")
    if config.midterm_week > week:
        raise LearnsightError(
            f"the mid-term (week {config.midterm_week}) falls after the intervention (from week {week}); "
            "a before/after design needs midterm_week <= week"
        )


def _split(campus: Campus, cutoff: datetime, *, before: bool) -> pa.Table:
    ts = campus.statements.column("ts")
    at = pa.scalar(cutoff, type=ts.type)
    mask = pc.less(ts, at) if before else pc.greater_equal(ts, at)
    return campus.statements.filter(mask)


@dataclass(frozen=True)
class LoopResult:
    """What the closed loop did and found (see the module docstring)."""

    config: CampusConfig
    week: int
    effect: float
    expected_gain: float
    """Analytic gain of a treated student's final score (before rounding and clipping)."""
    last_year_seed: int
    experiment: str
    bundle: ModelBundle = field(repr=False)
    """The early-warning model trained on last year's cohort (or the one given)."""
    predicted: dict[str, int]
    """Predicted class → number of enrolments at the cut-off."""
    assignment: Assignment
    study: StudyResult
    db: Path
    last_year_db: Path | None
    """None when a trained model was given."""
    seconds: dict[str, float]

    @property
    def difference(self) -> float | None:
        """Mean change of the intervention arm minus that of the control arm."""
        comparison = self.study.groups[0].comparison if self.study.groups else None
        return None if comparison is None else comparison.difference

    @property
    def difference_ci(self) -> tuple[float, float] | None:
        return self.study.groups[0].difference_ci if self.study.groups else None

    @property
    def p(self) -> float | None:
        comparison = self.study.groups[0].comparison if self.study.groups else None
        return None if comparison is None else comparison.p

    @property
    def covers_expected(self) -> bool:
        """Whether the CI of the difference contains the planted (expected) gain."""
        ci = self.difference_ci
        return ci is not None and ci[0] <= self.expected_gain <= ci[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": {
                k: str(v) if not isinstance(v, int | float) else v for k, v in vars(self.config).items()
            },
            "week": self.week,
            "effect": self.effect,
            "expected_gain": self.expected_gain,
            "difference": self.difference,
            "difference_ci": None if self.difference_ci is None else list(self.difference_ci),
            "p": self.p,
            "covers_expected": self.covers_expected,
            "last_year_seed": self.last_year_seed,
            "experiment": self.experiment,
            "model": self.bundle.metadata.model,
            "model_metrics": self.bundle.metadata.metrics,
            "predicted": self.predicted,
            "assignment": {k: v for k, v in self.assignment.to_dict().items() if k != "units"},
            "study": self.study.to_dict(),
            "db": str(self.db),
            "last_year_db": None if self.last_year_db is None else str(self.last_year_db),
            "seconds": self.seconds,
        }


def run_closed_loop(
    config: CampusConfig = DEFAULT_CONFIG,
    *,
    week: int,
    workdir: Path,
    effect: float | None = None,
    gain: float | None = None,
    seed: int = 0,
    treated_share: float = 0.5,
    last_year_seed: int | None = None,
    experiment: str = "closed-loop",
    model: str | ModelBundle = "rmtl",
    evaluate: bool = False,
) -> LoopResult:
    """Predict → intervene → measure on the synthetic campus (module docstring).

    Give the true effect either as ``effect`` (``δ``, the rise of weekly effort on the z scale) or
    as ``gain`` (the expected points of the final score; ``δ`` is solved for it).  ``seed`` seeds the
    model and the assignment; last year's cohort is ``config.seed + 1`` unless ``last_year_seed``.
    The two stores are ``workdir/last_year.duckdb`` and ``workdir/this_year.duckdb`` (created fresh:
    existing files are an error, so a loop never mixes with an earlier one).  ``model`` names the zoo
    model trained on last year's cohort, or is a bundle trained before (e.g. :attr:`LoopResult.bundle`
    of an earlier loop on the same courses and week: step 1 is then skipped and no last-year store is
    written).  ``evaluate`` also scores the trained model on last year's grouped hold-out (slower).
    """
    from learnsight.models.dataset import DatasetBuilder
    from learnsight.models.predict import predict_store, prediction_statements, train_model, write_predictions

    _check_design(config, week)
    if (effect is None) == (gain is None):
        raise LearnsightError("give the true effect as exactly one of effect (δ) or gain (points)")
    last_seed = config.seed + 1 if last_year_seed is None else last_year_seed
    if last_seed == config.seed:
        raise LearnsightError("last year's cohort needs another seed than this year's")
    workdir.mkdir(parents=True, exist_ok=True)
    db, last_db = workdir / "this_year.duckdb", workdir / "last_year.duckdb"
    for path in (db, last_db):
        if path.exists():
            raise LearnsightError(f"{path}: already exists; the closed loop starts from empty stores")
    cutoff = cutoff_instant(config, week)
    as_of = AsOf(week=week)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(now - clock, 3)
        clock = now

    with progress.task("closed loop", total=5) as advance:
        if isinstance(model, ModelBundle):
            bundle, trained_on = model, None
        else:
            with open_store(last_db) as store:
                write_campus(store, simulate_campus(dataclasses.replace(config, seed=last_seed)))
                data = DatasetBuilder(store).build(as_of)
                bundle = train_model(data, "three_class", model, seed=seed, evaluate=evaluate)
            trained_on = last_db
            lap("last year: simulate, store, train")
        advance(1)

        untreated = simulate_campus(config)
        delta = (
            float(effect)
            if effect is not None
            else effect_for_gain(config, gain=float(gain or 0.0), from_week=week, eta_sd=untreated.eta_sd)
        )
        with open_store(db) as store:
            seen = _split(untreated, cutoff, before=True)
            store.ingest(
                IngestBatch(
                    kind="simulate",
                    source=f"closed loop phase 1 (seed={config.seed}, before week {week})",
                    rows_read=seen.num_rows,
                    statements=seen,
                    profiles=untreated.profiles,
                    courses=course_calendar(untreated),
                )
            )
            predictions = predict_store(store, bundle, as_of, top_k=3)
            write_predictions(store, prediction_statements(predictions, bundle, timestamp=cutoff))
            counts: dict[str, int] = {}
            for label in predictions.column("predicted").to_pylist():
                counts[str(label)] = counts.get(str(label), 0) + 1
            lap("this year: phase 1, predict")
            advance(1)

            assignment = assign(
                store,
                experiment=experiment,
                seed=seed,
                treated_share=treated_share,
                as_of=as_of,
                classes=("at-risk",),
                timestamp=cutoff,
            )
            lap("assign")
            advance(1)

            treatments = [
                Treatment(u.actor_key, u.course, week, delta)
                for u in assignment.units
                if u.arm == INTERVENTION
            ]
            treated = simulate_campus(config, treatments)
            later = _split(treated, cutoff, before=False)
            store.ingest(
                IngestBatch(
                    kind="simulate",
                    source=f"closed loop phase 2 (seed={config.seed}, from week {week}, δ={delta:g})",
                    rows_read=later.num_rows,
                    statements=later,
                )
            )
            lap("this year: phase 2 (treated)")
            advance(1)

            study = analyze(store, experiment, before=BEFORE, after=AFTER, by=())
            lap("analyse")
            advance(1)

    return LoopResult(
        config=config,
        week=week,
        effect=delta,
        expected_gain=expected_gain(config, effect=delta, from_week=week, eta_sd=untreated.eta_sd),
        last_year_seed=last_seed,
        experiment=experiment,
        bundle=bundle,
        predicted=counts,
        assignment=assignment,
        study=study,
        db=db,
        last_year_db=trained_on,
        seconds=seconds,
    )


# -- in-memory replications -------------------------------------------------------------------------


@dataclass(frozen=True)
class Replication:
    """One in-memory experiment on the ground truth (see :func:`replicate_experiment`)."""

    seed: int
    n_intervention: int
    n_control: int
    difference: float
    ci_low: float
    ci_high: float
    p: float
    expected_gain: float

    @property
    def covers_expected(self) -> bool:
        return self.ci_low <= self.expected_gain <= self.ci_high


def replicate_experiment(
    config: CampusConfig,
    *,
    week: int,
    effect: float,
    seed: int,
    treated_share: float = 0.5,
    confidence: float = 0.95,
) -> Replication:
    """Steps 3–5 of the loop without a store or a model, on the campus of seed ``config.seed``.

    Units are the enrolments whose mid-term is below ``at_risk_below`` (observed before the
    cut-off, so a fair stand-in for the model's at-risk list), stratified by course and assigned by
    :func:`~learnsight.interventions.experiments.stratified_assignment`; the intervention arm is
    treated from ``week`` with effect ``effect``; before = mid-term, after = final, as in the loop.
    Only the traits and grades are simulated (:func:`~learnsight.simulate.campus.simulate_ground_truth`),
    which takes milliseconds.
    """
    _check_design(config, week)
    base = simulate_ground_truth(config)
    traits = base.traits
    mid = np.asarray(traits.column("midterm").to_numpy(), dtype=np.float64)
    keys = traits.column("actor_key").to_pylist()
    courses = traits.column("course").to_pylist()
    rows = np.flatnonzero(mid < config.at_risk_below)
    units = [f"{keys[i]}\t{courses[i]}" for i in rows.tolist()]
    arms = stratified_assignment(
        units, [courses[i] for i in rows.tolist()], seed=seed, treated_share=treated_share
    )
    treated_rows = [i for i, u in zip(rows.tolist(), units, strict=True) if arms[u] == INTERVENTION]
    truth = simulate_ground_truth(
        config, [Treatment(keys[i], courses[i], week, effect) for i in treated_rows]
    )
    final = np.asarray(truth.traits.column("final").to_numpy(), dtype=np.float64)
    is_treated = np.zeros(mid.size, dtype=bool)
    is_treated[treated_rows] = True
    in_study = np.zeros(mid.size, dtype=bool)
    in_study[rows] = True
    arm_i, arm_c = in_study & is_treated, in_study & ~is_treated
    comparison = compare_groups((mid[arm_i], final[arm_i]), (mid[arm_c], final[arm_c]), confidence=confidence)
    low, high = comparison.ci_low, comparison.ci_high
    return Replication(
        seed=config.seed,
        n_intervention=int(arm_i.sum()),
        n_control=int(arm_c.sum()),
        difference=comparison.difference,
        ci_low=low,
        ci_high=high,
        p=comparison.p,
        expected_gain=expected_gain(config, effect=effect, from_week=week, eta_sd=base.eta_sd),
    )


@dataclass(frozen=True)
class SimulationStudy:
    """Many replications: how often the test rejects and how often the CI covers the planted gain."""

    replications: tuple[Replication, ...]
    alpha: float

    @property
    def rejection_rate(self) -> float:
        """Share of replications with p < alpha (the false-positive rate when no effect is planted,
        the power otherwise)."""
        return float(np.mean([r.p < self.alpha for r in self.replications]))

    @property
    def rejections(self) -> int:
        return int(sum(r.p < self.alpha for r in self.replications))

    @property
    def coverage(self) -> float:
        """Share of replications whose CI contains the expected gain."""
        return float(np.mean([r.covers_expected for r in self.replications]))

    @property
    def mean_difference(self) -> float:
        return float(np.mean([r.difference for r in self.replications]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "replications": len(self.replications),
            "alpha": self.alpha,
            "rejections": self.rejections,
            "rejection_rate": self.rejection_rate,
            "coverage": self.coverage,
            "mean_difference": self.mean_difference,
            "expected_gain": float(np.mean([r.expected_gain for r in self.replications])),
            "mean_n_intervention": float(np.mean([r.n_intervention for r in self.replications])),
            "mean_n_control": float(np.mean([r.n_control for r in self.replications])),
        }


def simulation_study(
    config: CampusConfig,
    *,
    week: int,
    effect: float,
    replications: int = 200,
    seeds: Sequence[int] | None = None,
    alpha: float = 0.05,
) -> SimulationStudy:
    """:func:`replicate_experiment` on ``replications`` campuses (seeds ``config.seed + r`` unless
    given), each with its own assignment seed ``r``."""
    chosen = list(seeds) if seeds is not None else [config.seed + r for r in range(replications)]
    if not chosen:
        raise LearnsightError("a simulation study needs at least one replication")
    reps = tuple(
        replicate_experiment(dataclasses.replace(config, seed=s), week=week, effect=effect, seed=r)
        for r, s in enumerate(chosen)
    )
    if any(math.isnan(r.p) for r in reps):
        raise LearnsightError("a replication had no variance in an arm; use a larger campus")
    return SimulationStudy(reps, alpha)


__all__ = [
    "AFTER",
    "BEFORE",
    "CONTROL",
    "DEFAULT_CONFIG",
    "INTERVENTION",
    "LoopResult",
    "Replication",
    "SimulationStudy",
    "cutoff_instant",
    "replicate_experiment",
    "run_closed_loop",
    "simulation_study",
]
