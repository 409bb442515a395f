"""Hold out each learner's latest interactions for offline evaluation.

For every learner with at least ``min_items`` distinct items, the last ``⌈fraction · n_u⌉`` items
(never all of them) are held out; everything else trains.  ``strategy="time"`` orders a learner's
items by **first use** — recommending what a learner goes on to use next, as deployed — with
equal first-use times (OULAD dates are days) in a seeded random order; ``strategy="random"`` holds
out a seeded random subset of the same size.  Learners below ``min_items`` keep all their items in
training and are not evaluated.  The held-out cells are *removed* from the training matrix, so no
model, fill or popularity count sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

from learnsight.interventions.recommend.interactions import Interactions

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Split:
    """Training ratings, held-out items and the learners evaluated.

    ``train`` is the ratings matrix (csr, ``log1p(count)``) without the held-out cells; ``test`` a
    binary csr of the held-out cells; ``users`` the rows evaluated (ascending).
    """

    train: Any
    test: Any
    users: IntArray


def holdout_split(
    interactions: Interactions,
    *,
    fraction: float = 0.2,
    min_items: int = 5,
    strategy: Literal["time", "random"] = "time",
    random_state: int = 0,
) -> Split:
    """Split ``interactions`` per learner (see the module docstring).

    >>> from learnsight.interventions.recommend.interactions import from_triples
    >>> x = from_triples("books", ["a"] * 5, list("vwxyz"), [1] * 5, [5, 4, 3, 2, 1])
    >>> s = holdout_split(x)
    >>> s.test.toarray().tolist(), s.users.tolist()    # "v" was used last
    ([[1.0, 0.0, 0.0, 0.0, 0.0]], [0])
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    if min_items < 2:
        raise ValueError("min_items must be >= 2 (a learner needs a training and a held-out item)")
    if strategy not in ("time", "random"):
        raise ValueError(f"strategy must be 'time' or 'random', got {strategy!r}")
    ratings = interactions.ratings()
    n_users = ratings.shape[0]
    per_user = np.diff(ratings.indptr)
    rows = np.repeat(np.arange(n_users), per_user)
    noise = np.random.default_rng(random_state).random(ratings.nnz)
    key = interactions.first_use if strategy == "time" else np.zeros(ratings.nnz)
    order = np.lexsort((noise, key, rows))  # by user, then first use, then the seeded tie-break
    rank = np.empty(ratings.nnz, dtype=np.int64)
    rank[order] = np.arange(ratings.nnz) - np.repeat(ratings.indptr[:-1], per_user)
    evaluated = per_user >= min_items
    n_test = np.where(evaluated, np.minimum(np.ceil(fraction * per_user), per_user - 1), 0).astype(np.int64)
    held = rank >= (per_user - n_test)[rows]
    train = ratings.copy()
    train.data = np.where(held, 0.0, train.data)
    train.eliminate_zeros()
    test = sp.csr_matrix((held.astype(np.float64), ratings.indices, ratings.indptr), shape=ratings.shape)
    test.eliminate_zeros()
    return Split(train=train, test=test, users=np.flatnonzero(evaluated).astype(np.int64))


__all__ = ["Split", "holdout_split"]
