"""Offline evaluation: held-out interactions, top-k metrics, every model with and without the MLR fill.

Protocol (one or many matrices, e.g. the 22 OULAD module-presentations):

1. :func:`.split.holdout_split` holds out each learner's last 20 % of items by first use (learners
   with ≥ 5 items are evaluated);
2. when the matrix comes with indicator features, the MLR fill (:mod:`.fill`) is fitted on the
   training cells only;
3. every model is fitted on the training matrix (and the fill), scores all items for the
   evaluated learners, drops the items they used in training, and the ranking is compared with the
   held-out items: precision@k, recall@k and NDCG@k (:mod:`.metrics`, ties averaged) for each k;
4. metrics are **micro-averaged over learners** across all matrices (each learner counts once,
   whatever the size of the course).

The random ranking is reported beside the models as the floor; popularity is the baseline a
collaborative filter must beat.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from learnsight.indicators.asof import AsOf
from learnsight.indicators.compute import compute_indicators
from learnsight.indicators.engine import DuckDBEngine
from learnsight.interventions.recommend.als import ImplicitALS
from learnsight.interventions.recommend.base import BaseRecommender, mask_seen
from learnsight.interventions.recommend.baselines import PopularityRecommender, RandomRecommender
from learnsight.interventions.recommend.features import indicator_features
from learnsight.interventions.recommend.fill import MLRFill
from learnsight.interventions.recommend.interactions import (
    COURSE_KINDS,
    Interactions,
    load_interactions,
    resource_courses,
)
from learnsight.interventions.recommend.knn import ItemKNNRecommender
from learnsight.interventions.recommend.metrics import ranking_metrics
from learnsight.interventions.recommend.split import holdout_split
from learnsight.store.duckdb_store import DuckDBStore

FloatArray = npt.NDArray[np.float64]

MODELS: dict[str, Callable[[int], BaseRecommender]] = {
    "random": lambda seed: RandomRecommender(random_state=seed),
    "popularity": lambda seed: PopularityRecommender(),
    "item-knn": lambda seed: ItemKNNRecommender(),
    "als": lambda seed: ImplicitALS(random_state=seed),
}
"""Model name → factory (seeded); the names ``learnsight recommend --model`` accepts."""
FILLABLE = ("popularity", "item-knn", "als")
"""Models that use the MLR fill (a random ranking has nothing to fill)."""


def make_model(name: str, random_state: int = 0) -> BaseRecommender:
    """A fresh model by name (see :data:`MODELS`)."""
    try:
        return MODELS[name](random_state)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}") from None


@dataclass
class _Sums:
    users: int = 0
    seconds: float = 0.0
    sums: dict[tuple[int, str], float] = field(default_factory=dict)


@dataclass
class Evaluation:
    """Accumulated metrics of every (model, fill) over the matrices evaluated so far."""

    ks: tuple[int, ...] = (5, 10, 20)
    matrices: int = 0
    users: int = 0
    held_out: int = 0
    fill_seconds: float = 0.0
    results: dict[tuple[str, bool], _Sums] = field(default_factory=dict)

    def add(self, model: str, fill: bool, metrics: dict[int, dict[str, FloatArray]], seconds: float) -> None:
        acc = self.results.setdefault((model, fill), _Sums())
        first = next(iter(metrics.values()))["precision"]
        acc.users += int(first.size)
        acc.seconds += seconds
        for k, values in metrics.items():
            for name, v in values.items():
                acc.sums[(k, name)] = acc.sums.get((k, name), 0.0) + float(np.nansum(v))

    def rows(self) -> list[dict[str, Any]]:
        """One row per model, fill and k: the micro-averaged metrics, learners and fit seconds."""
        out: list[dict[str, Any]] = []
        for (model, fill), acc in self.results.items():
            for k in self.ks:
                n = max(acc.users, 1)
                out.append(
                    {
                        "model": model,
                        "fill": "mlr" if fill else "none",
                        "k": k,
                        "precision": acc.sums.get((k, "precision"), 0.0) / n,
                        "recall": acc.sums.get((k, "recall"), 0.0) / n,
                        "ndcg": acc.sums.get((k, "ndcg"), 0.0) / n,
                        "users": acc.users,
                        "fit_seconds": acc.seconds,
                    }
                )
        return out

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows())

    def best(self, k: int = 10, metric: str = "ndcg") -> dict[str, Any]:
        """The row with the highest ``metric`` at ``k``."""
        return max((r for r in self.rows() if r["k"] == k), key=lambda r: float(r[metric]))

    def markdown(self) -> str:
        """The metrics as a Markdown table, one line per model and fill, k side by side."""
        head = ["model", "fill", *(f"{m}@{k}" for k in self.ks for m in ("P", "R", "NDCG")), "fit s"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        by_key: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
        for r in self.rows():
            by_key.setdefault((r["model"], r["fill"]), {})[r["k"]] = r
        for (model, fill), per_k in by_key.items():
            cells = [f"{per_k[k][m]:.4f}" for k in self.ks for m in ("precision", "recall", "ndcg")]
            seconds = next(iter(per_k.values()))["fit_seconds"]
            lines.append("| " + " | ".join([model, fill, *cells, f"{seconds:.2f}"]) + " |")
        return "\n".join(lines)


def evaluate(
    matrices: Iterable[tuple[Interactions, FloatArray | None]],
    *,
    models: Sequence[str] = ("random", "popularity", "item-knn", "als"),
    fill: Literal["both", "none", "mlr"] = "both",
    ks: Sequence[int] = (5, 10, 20),
    fraction: float = 0.2,
    min_items: int = 5,
    strategy: Literal["time", "random"] = "time",
    random_state: int = 0,
    fill_params: dict[str, Any] | None = None,
    model_params: dict[str, dict[str, Any]] | None = None,
    evaluation: Evaluation | None = None,
) -> Evaluation:
    """Evaluate ``models`` on each ``(interactions, features)`` (see the module docstring).

    ``features`` (learners × indicators, standardised; :func:`.features.indicator_features`) may be
    None, then only the unfilled variants run.  ``fill`` chooses the variants: without the fill,
    with it, or both.  Pass ``evaluation`` to keep accumulating into an earlier result.
    """
    result = evaluation or Evaluation(ks=tuple(ks))
    for name in models:
        make_model(name)  # fail early on an unknown name
    for interactions, features in matrices:
        split = holdout_split(
            interactions, fraction=fraction, min_items=min_items, strategy=strategy, random_state=random_state
        )
        if split.users.size == 0:
            continue
        result.matrices += 1
        result.users += int(split.users.size)
        result.held_out += int(split.test.nnz)
        relevant = split.test[split.users].toarray() > 0
        seen = split.train[split.users]
        own = interactions.self_columns()[split.users]
        filled = None
        if fill != "none" and features is not None and features.shape[1] > 0:
            t = time.perf_counter()
            filled = MLRFill(**(fill_params or {})).fit_transform(split.train, features)
            result.fill_seconds += time.perf_counter() - t
        variants: list[bool] = [] if fill == "mlr" else [False]
        if fill != "none" and filled is not None:
            variants.append(True)
        for name in models:
            for use_fill in variants:
                if use_fill and name not in FILLABLE:
                    continue
                model = make_model(name, random_state).set_params(**(model_params or {}).get(name, {}))
                t = time.perf_counter()
                model.fit(split.train, filled if use_fill else None)
                seconds = time.perf_counter() - t
                scores = mask_seen(model.score(split.users), seen, own)
                result.add(name, use_fill, ranking_metrics(scores, relevant, ks), seconds)
    return result


FEATURES_AS_OF: Final = AsOf(week=0)
"""Cut-off of the fill's indicators in the offline evaluation: the start of each course.  The
held-out interactions are each learner's *latest*, so indicators computed later would count them
(clicks, active days, the end of a withdrawn learner's activity) and leak them into the fill."""


def store_matrices(
    store: DuckDBStore,
    kind: str,
    *,
    course: str | None = None,
    as_of: AsOf | None = None,
    features_as_of: AsOf | None = FEATURES_AS_OF,
) -> Iterator[tuple[Interactions, FloatArray | None]]:
    """The evaluation inputs of ``kind`` in ``store``: one matrix per course for resources and
    paths (every course with resources unless ``course``), one otherwise, each with its indicator
    design at ``features_as_of`` (None: no features, no fill)."""
    as_of = as_of or AsOf()
    courses: list[str | None] = [course]
    if kind in COURSE_KINDS and course is None:
        courses = list(resource_courses(store, as_of))
    tables = compute_indicators(DuckDBEngine(store), features_as_of) if features_as_of is not None else None
    for c in courses:
        inter = load_interactions(store, kind, course=c, as_of=as_of)
        design = None
        if tables is not None:
            design = indicator_features(store, tables, inter.users, course=c).matrix
        yield inter, design


def evaluate_store(
    store: DuckDBStore,
    kind: str,
    *,
    course: str | None = None,
    as_of: AsOf | None = None,
    features_as_of: AsOf | None = FEATURES_AS_OF,
    **options: Any,
) -> Evaluation:
    """:func:`evaluate` on :func:`store_matrices` (``options`` go to :func:`evaluate`)."""
    matrices = store_matrices(store, kind, course=course, as_of=as_of, features_as_of=features_as_of)
    return evaluate(matrices, **options)


__all__ = [
    "FEATURES_AS_OF",
    "FILLABLE",
    "MODELS",
    "Evaluation",
    "evaluate",
    "evaluate_store",
    "make_model",
    "store_matrices",
]
