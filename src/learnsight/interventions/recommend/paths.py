"""Learning paths: a course's resources in the order its successful learners used them (SPEC §4).

The path of a course is built from the learners who passed it (:func:`learning_path`): each
resource that at least ``min_share`` of them used becomes a step, and the steps are ordered by the
**median first-use time** among those successful learners (ties: more widely used first, then the
item id).  Each step carries that share and its typical day (median first use − course start, in
days).  A learner's **next steps** (:func:`next_steps`) are the first steps of the path they have
not used yet, in path order — catching up on a skipped step comes before jumping ahead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from learnsight.interventions.recommend.interactions import Interactions, RecommendError


@dataclass(frozen=True)
class PathStep:
    """One step: the item (column of the interactions), its label and how successful learners used it."""

    position: int
    item: int
    item_id: str
    label: str
    share: float
    """Share of the successful learners who used it."""
    day: float
    """Median first use, in days after the course start (or after the path's first step)."""


@dataclass(frozen=True)
class LearningPath:
    """The ordered steps of one course's path and how many successful learners it rests on."""

    course: str | None
    steps: tuple[PathStep, ...]
    n_successful: int

    def __len__(self) -> int:
        return len(self.steps)


def learning_path(
    interactions: Interactions,
    successful: Collection[str],
    *,
    min_share: float = 0.2,
    start_ts: float | None = None,
) -> LearningPath:
    """The path of ``interactions`` (one course's resources) from the ``successful`` learners.

    >>> from learnsight.interventions.recommend.interactions import from_triples
    >>> x = from_triples("paths", ["a", "a", "b", "b", "c"], ["r2", "r1", "r2", "r1", "r3"],
    ...                  [1, 1, 1, 1, 1], [86400, 0, 3 * 86400, 86400, 0])
    >>> [(s.item_id, s.share, s.day) for s in learning_path(x, {"a", "b"}, start_ts=0).steps]
    [('r1', 1.0, 0.5), ('r2', 1.0, 2.0)]
    """
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share}")
    rows = np.array([i for i, u in enumerate(interactions.users) if u in successful], dtype=np.int64)
    if rows.size == 0:
        where = f" of {interactions.course}" if interactions.course else ""
        raise RecommendError(
            f"--kind paths: no learner{where} has a known successful outcome yet; a path is built "
            "from the learners who passed (final results in the store)"
        )
    first = interactions.first_use_matrix()[rows].tocsc()
    n_items = first.shape[1]
    users_per_item = np.diff(first.indptr)
    median = np.full(n_items, np.inf)
    for j in np.flatnonzero(users_per_item):
        median[j] = float(np.median(first.data[first.indptr[j] : first.indptr[j + 1]]))
    share = users_per_item / rows.size
    keep = np.flatnonzero(share >= min_share)
    order = keep[np.lexsort((np.asarray(interactions.items, dtype=object)[keep], -share[keep], median[keep]))]
    origin = start_ts if start_ts is not None else (float(median[order[0]]) if order.size else 0.0)
    steps = tuple(
        PathStep(
            position=p + 1,
            item=int(j),
            item_id=interactions.items[j],
            label=interactions.labels[j],
            share=float(share[j]),
            day=round((float(median[j]) - origin) / 86400.0, 2),
        )
        for p, j in enumerate(order.tolist())
    )
    return LearningPath(course=interactions.course, steps=steps, n_successful=int(rows.size))


def next_steps(path: LearningPath, used: Collection[int], k: int) -> list[PathStep]:
    """The first ``k`` steps of ``path`` whose item is not in ``used`` (column indices)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return [s for s in path.steps if s.item not in used][:k]


def used_items(interactions: Interactions, row: int) -> Sequence[int]:
    """Columns the learner of ``row`` has used."""
    counts = interactions.counts
    return [int(j) for j in counts.indices[counts.indptr[row] : counts.indptr[row + 1]]]


__all__ = ["LearningPath", "PathStep", "learning_path", "next_steps", "used_items"]
