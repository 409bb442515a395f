"""Top-k recommendations per student, with a reason a student or teacher can read (SPEC §4).

The chain behind ``learnsight recommend``:

1. the implicit-feedback matrix of the kind (:mod:`.interactions`; resources and paths per course),
   at the as-of cut-off;
2. the students to serve: by default those known or predicted to be excellent (:mod:`.targets`),
   or everyone in the matrix, or the students named;
3. with ``fill``, the empty cells filled by multiple linear regression on the indicators computed
   at the same cut-off (:mod:`.features`, :mod:`.fill`);
4. the model (item-kNN, implicit ALS or popularity) fitted on the whole matrix, and each student's
   ``k`` best items they have not used yet;
5. the reason: for item-kNN and ALS the used item that contributes most to the score
   (:meth:`.knn.ItemKNNRecommender.contributions`, :meth:`.als.ImplicitALS.contributions`), for
   popularity how many learners used it; for paths the step of the successful learners' path
   (:mod:`.paths`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa

from learnsight.indicators.asof import AsOf
from learnsight.indicators.compute import IndicatorTables, compute_indicators
from learnsight.indicators.engine import DuckDBEngine
from learnsight.interventions.recommend.als import ImplicitALS
from learnsight.interventions.recommend.base import BaseRecommender, mask_seen, top_k
from learnsight.interventions.recommend.evaluate import make_model
from learnsight.interventions.recommend.features import indicator_features
from learnsight.interventions.recommend.fill import MLRFill
from learnsight.interventions.recommend.interactions import (
    COURSE_KINDS,
    KINDS,
    Interactions,
    RecommendError,
    load_interactions,
    resource_courses,
)
from learnsight.interventions.recommend.knn import ItemKNNRecommender
from learnsight.interventions.recommend.paths import learning_path, next_steps, used_items
from learnsight.interventions.recommend.targets import excellent_pairs
from learnsight.models.outcomes import outcomes
from learnsight.store.duckdb_store import DuckDBStore

MODEL_ALIASES: Final[dict[str, str]] = {
    "knn": "item-knn",
    "item-knn": "item-knn",
    "als": "als",
    "popularity": "popularity",
}
"""``--model`` values and the model each one names (:data:`.evaluate.MODELS`)."""
AUDIENCES: Final = ("excellent", "all")

RECOMMENDATION_SCHEMA: Final = pa.schema(
    [
        ("actor_key", pa.string()),
        ("kind", pa.string()),
        ("course", pa.string()),
        ("rank", pa.int32()),
        ("item", pa.string()),
        ("label", pa.string()),
        ("score", pa.float64()),
        ("reason", pa.string()),
        ("model", pa.string()),
        ("fill", pa.bool_()),
        ("as_of", pa.string()),
    ]
)
"""One row per recommended item, ordered by student, course and rank."""

_VERB: Final[dict[str, str]] = {
    "resources": "used",
    "paths": "used",
    "courses": "took",
    "partners": "worked with",
    "books": "borrowed",
    "projects": "joined",
}


def recommend(
    store: DuckDBStore,
    kind: str,
    *,
    students: Sequence[str] | None = None,
    course: str | None = None,
    k: int = 10,
    model: str = "knn",
    fill: bool = True,
    audience: str = "excellent",
    as_of: AsOf | None = None,
    random_state: int = 0,
    tables: IndicatorTables | None = None,
) -> pa.Table:
    """The ``k`` best unused items of ``kind`` for each student served (see the module docstring).

    Parameters
    ----------
    store : DuckDBStore
        Read only.
    kind : str
        One of :data:`.interactions.KINDS`.
    students : sequence of str, optional
        Actor keys to serve (then ``audience`` is ignored); each must have interactions of the kind.
    course : str, optional
        Restrict to one course (resources and paths: otherwise every course with resources).
    model : {"knn", "als", "popularity"}
    fill : bool
        Fill the empty cells by MLR on the indicators before fitting (SPEC §4).
    audience : {"excellent", "all"}
        Students known or predicted excellent (SPEC §4), or everyone in the matrix.
    as_of : AsOf, optional
        Cut-off of the interactions and the indicators (default: all data).
    tables : IndicatorTables, optional
        Indicators already computed at ``as_of`` (else computed here when ``fill``).

    Returns
    -------
    pyarrow.Table
        In :data:`RECOMMENDATION_SCHEMA`.
    """
    as_of = as_of or AsOf()
    if kind not in KINDS:
        raise RecommendError(f"--kind: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if model not in MODEL_ALIASES:
        raise RecommendError(f"--model: unknown model {model!r}; expected one of knn, als, popularity")
    if audience not in AUDIENCES:
        raise RecommendError(f"--for: expected excellent or all, got {audience!r}")
    if k < 1:
        raise RecommendError(f"--k: expected a positive number of recommendations, got {k}")
    courses: list[str | None] = [course]
    if kind in COURSE_KINDS and course is None:
        courses = list(resource_courses(store, as_of))
        if not courses:
            raise RecommendError(
                f"--kind {kind}: the store has no LMS resource views (as of {as_of.label()})"
            )
    excellent = excellent_pairs(store, as_of) if students is None and audience == "excellent" else set()
    rows: list[dict[str, Any]] = []
    served: set[str] = set()
    for c in courses:
        inter = load_interactions(store, kind, course=c, as_of=as_of)
        targets = _targets(inter, students, audience, excellent, kind)
        if not targets:
            continue
        served.update(inter.users[r] for r in targets)
        if kind == "paths":
            rows.extend(_path_rows(store, inter, targets, k, as_of))
            continue
        filled = None
        if fill:
            tables = tables or compute_indicators(DuckDBEngine(store), as_of)
            design = indicator_features(store, tables, inter.users, course=c).matrix
            if design.shape[1] > 0:
                filled = MLRFill().fit_transform(inter.ratings(), design)
        name = MODEL_ALIASES[model]
        fitted = make_model(name, random_state).fit(inter.ratings(), filled)
        rows.extend(_model_rows(inter, fitted, name, targets, k, filled is not None, as_of))
    _check_served(students, served, kind, course, as_of, audience)
    rows.sort(key=lambda r: (r["actor_key"], r["course"] or "", r["rank"]))
    return pa.Table.from_pylist(rows, schema=RECOMMENDATION_SCHEMA)


def _targets(
    inter: Interactions,
    students: Sequence[str] | None,
    audience: str,
    excellent: set[tuple[str, str]],
    kind: str,
) -> list[int]:
    if students is not None:
        wanted = set(students)
        return [i for i, u in enumerate(inter.users) if u in wanted]
    if audience == "all":
        return list(range(len(inter.users)))
    if kind in COURSE_KINDS or inter.course is not None:
        keys = {a for a, c in excellent if c == inter.course}
    else:
        keys = {a for a, _ in excellent}
    return [i for i, u in enumerate(inter.users) if u in keys]


def _check_served(
    students: Sequence[str] | None,
    served: set[str],
    kind: str,
    course: str | None,
    as_of: AsOf,
    audience: str,
) -> None:
    where = f" in {course}" if course else ""
    if students is not None:
        missing = [s for s in students if s not in served]
        if missing:
            raise RecommendError(
                f"--student: {missing[0]!r} has no {kind} interactions{where} (as of {as_of.label()})"
            )
    elif not served:
        hint = (
            " (none known or predicted excellent: store final results or run `learnsight predict "
            "--statements`, or use --for all)"
            if audience == "excellent"
            else ""
        )
        raise RecommendError(f"--kind {kind}: no student to recommend to{where}{hint}")


def _model_rows(
    inter: Interactions,
    fitted: BaseRecommender,
    name: str,
    targets: list[int],
    k: int,
    filled: bool,
    as_of: AsOf,
) -> list[dict[str, Any]]:
    rows = np.asarray(targets, dtype=np.int64)
    masked = mask_seen(fitted.score(rows), fitted.seen_[rows], inter.self_columns()[rows])
    items, scores = top_k(masked, k)
    users_per_item = np.diff(inter.counts.tocsc().indptr)
    out: list[dict[str, Any]] = []
    for row, its, scs in zip(targets, items, scores, strict=True):
        for rank, (item, score) in enumerate(zip(its.tolist(), scs.tolist(), strict=True), start=1):
            if item < 0:
                break
            out.append(
                {
                    "actor_key": inter.users[row],
                    "kind": inter.kind,
                    "course": inter.course,
                    "rank": rank,
                    "item": inter.items[item],
                    "label": inter.labels[item],
                    "score": float(score),
                    "reason": _reason(inter, fitted, name, row, item, int(users_per_item[item])),
                    "model": name,
                    "fill": filled,
                    "as_of": as_of.label(),
                }
            )
    return out


def _reason(inter: Interactions, fitted: BaseRecommender, name: str, row: int, item: int, users: int) -> str:
    verb = _VERB[inter.kind]
    it = "them" if inter.kind == "partners" else "it"
    if isinstance(fitted, ItemKNNRecommender | ImplicitALS):
        terms = fitted.contributions(row, item)
        seen = used_items(inter, row)
        if seen:
            best = max(seen, key=lambda j: float(terms[j]))
            if terms[best] > 0:
                how = "learners who" + f" {verb} one often {verb} the other"
                if isinstance(fitted, ImplicitALS):
                    how = "closest in the learners' latent usage pattern"
                return f"like «{inter.labels[best]}», which you {verb} ({how}); {users} learners {verb} {it}"
        return f"predicted from learners with indicators like yours (MLR fill); {users} learners {verb} {it}"
    return f"popular: {users} of {len(inter.users)} learners {verb} {it}"


def _path_rows(
    store: DuckDBStore, inter: Interactions, targets: list[int], k: int, as_of: AsOf
) -> list[dict[str, Any]]:
    known = outcomes(store)
    passed = {
        str(a)
        for a, c, p in zip(
            known.column("actor_key").to_pylist(),
            known.column("course").to_pylist(),
            known.column("passed").to_pylist(),
            strict=True,
        )
        if c == inter.course and p
    }
    start = store.con.execute(
        "SELECT epoch(min(start_ts)) FROM courses WHERE course = ?", [inter.course]
    ).fetchone()
    start_ts = float(start[0]) if start and start[0] is not None else None
    path = learning_path(inter, passed, start_ts=start_ts)
    out: list[dict[str, Any]] = []
    for row in targets:
        for rank, step in enumerate(next_steps(path, set(used_items(inter, row)), k), start=1):
            out.append(
                {
                    "actor_key": inter.users[row],
                    "kind": "paths",
                    "course": inter.course,
                    "rank": rank,
                    "item": step.item_id,
                    "label": step.label,
                    "score": float(step.share),
                    "reason": (
                        f"step {step.position} of {len(path)} on the path of {path.n_successful} learners "
                        f"who passed: {100 * step.share:.0f} % of them used it, typically on day "
                        f"{step.day:g}"
                    ),
                    "model": "path",
                    "fill": False,
                    "as_of": as_of.label(),
                }
            )
    return out


__all__ = ["AUDIENCES", "MODEL_ALIASES", "RECOMMENDATION_SCHEMA", "recommend"]
