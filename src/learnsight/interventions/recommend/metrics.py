"""Top-k ranking metrics — precision@k, recall@k, NDCG@k — with ties handled exactly.

For one learner with relevant (held-out) items ``T`` and a ranking of the candidate items by score,
with binary relevance ``rel_j`` at position ``j = 1, 2, …``:

    precision@k = (1/k) Σ_{j≤k} rel_j          recall@k = (1/|T|) Σ_{j≤k} rel_j
    DCG@k = Σ_{j≤k} rel_j / log2(j + 1)         NDCG@k = DCG@k / IDCG@k,
    IDCG@k = Σ_{j ≤ min(k, |T|)} 1 / log2(j + 1)

(Järvelin & Kekäläinen 2002; the ideal ranking puts the ``min(k, |T|)`` relevant items first, so a
learner with fewer relevant items than ``k`` can still reach 1).  **Ties**: items with equal scores
have no order, so each metric is its *expected* value when the tied items are put in random order
(McSherry & Najork 2008): every position inside a tied group gets the group's mean relevance.  A
recommender that scores everything 0 thus gets the random-ranking value, not a lucky or unlucky
one decided by item ids.  Cells scored ``-inf`` (already used, excluded) rank last.

All functions are vectorised over learners (rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def expected_gains(scores: npt.ArrayLike, relevant: npt.ArrayLike) -> FloatArray:
    """Per row, the expected relevance at each rank position (best first), ties averaged.

    >>> expected_gains([[0.9, 0.5, 0.5, 0.1]], [[False, True, False, True]]).tolist()
    [[0.0, 0.5, 0.5, 1.0]]
    """
    s = np.asarray(scores, dtype=np.float64)
    rel = np.asarray(relevant, dtype=np.float64)
    if s.ndim != 2 or s.shape != rel.shape:
        raise ValueError(f"scores and relevant must be 2-D of the same shape, got {s.shape}, {rel.shape}")
    n, m = s.shape
    if n == 0 or m == 0:
        return np.zeros((n, m))
    order = np.argsort(-s, axis=1, kind="stable")
    s_sorted = np.take_along_axis(s, order, axis=1)
    r_sorted = np.take_along_axis(rel, order, axis=1)
    new_group = np.ones((n, m), dtype=bool)
    new_group[:, 1:] = s_sorted[:, 1:] != s_sorted[:, :-1]
    starts = np.flatnonzero(new_group.ravel())
    sums = np.add.reduceat(r_sorted.ravel(), starts)
    sizes = np.diff(np.r_[starts, n * m])
    group = np.cumsum(new_group.ravel()) - 1
    return np.asarray((sums / sizes)[group].reshape(n, m), dtype=np.float64)


def _discounts(k: int) -> FloatArray:
    return np.asarray(1.0 / np.log2(np.arange(2, k + 2)), dtype=np.float64)


def ranking_metrics(
    scores: npt.ArrayLike, relevant: npt.ArrayLike, ks: Sequence[int] = (5, 10, 20)
) -> dict[int, dict[str, FloatArray]]:
    """``{k: {"precision": …, "recall": …, "ndcg": …}}``, one value per row; rows without any
    relevant item get NaN recall and NDCG (leave them out of averages).

    >>> m = ranking_metrics([[3.0, 2.0, 1.0, 0.0]], [[False, True, False, True]], ks=[2])
    >>> {name: round(float(v[0]), 4) for name, v in m[2].items()}
    {'precision': 0.5, 'recall': 0.5, 'ndcg': 0.3869}
    """
    gains = expected_gains(scores, relevant)
    n_rel = np.asarray(relevant, dtype=bool).sum(axis=1).astype(np.float64)
    m = gains.shape[1]
    out: dict[int, dict[str, FloatArray]] = {}
    for k in ks:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        kk = min(k, m)
        disc = _discounts(k)
        hits = gains[:, :kk].sum(axis=1)
        dcg = gains[:, :kk] @ disc[:kk]
        ideal_n = np.minimum(n_rel, k).astype(np.int64)
        idcg = np.r_[0.0, np.cumsum(disc)][ideal_n]
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.where(n_rel > 0, hits / n_rel, np.nan)
            ndcg = np.where(idcg > 0, dcg / idcg, np.nan)
        out[k] = {"precision": hits / k, "recall": recall, "ndcg": ndcg}
    return out


def precision_at_k(scores: npt.ArrayLike, relevant: npt.ArrayLike, k: int) -> FloatArray:
    """Precision@k per row (see the module docstring)."""
    return ranking_metrics(scores, relevant, [k])[k]["precision"]


def recall_at_k(scores: npt.ArrayLike, relevant: npt.ArrayLike, k: int) -> FloatArray:
    """Recall@k per row."""
    return ranking_metrics(scores, relevant, [k])[k]["recall"]


def ndcg_at_k(scores: npt.ArrayLike, relevant: npt.ArrayLike, k: int) -> FloatArray:
    """NDCG@k per row."""
    return ranking_metrics(scores, relevant, [k])[k]["ndcg"]


__all__ = ["expected_gains", "ndcg_at_k", "precision_at_k", "ranking_metrics", "recall_at_k"]
