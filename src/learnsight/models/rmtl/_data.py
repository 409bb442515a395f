"""Task bookkeeping shared by the RMTL estimators: encoding task labels and per-task centring."""

# Upper-case names (X, W, P, Q, T) follow the paper's and scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def encode_tasks(tasks: Any, n_samples: int) -> tuple[npt.NDArray[Any], IntArray]:
    """Validate a per-row task array and return ``(sorted unique labels, integer code per row)``.

    ``tasks=None`` means every row belongs to one task, labelled ``0``.
    """
    if tasks is None:
        return np.zeros(1, dtype=np.intp), np.zeros(n_samples, dtype=np.intp)
    arr = np.asarray(tasks)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(f"tasks must be 1-D, one entry per row of X ({n_samples}), got shape {arr.shape}")
    labels, codes = np.unique(arr, return_inverse=True)
    return labels, codes.astype(np.intp)


def lookup_tasks(tasks: Any, n_samples: int, known: npt.NDArray[Any]) -> IntArray:
    """Integer codes of ``tasks`` among the fitted task labels ``known``; unknown tasks are an error."""
    if tasks is None:
        if known.shape[0] != 1:
            raise ValueError(f"this model was fitted on {known.shape[0]} tasks: pass tasks= to say which")
        return np.zeros(n_samples, dtype=np.intp)
    arr = np.asarray(tasks)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(f"tasks must be 1-D, one entry per row of X ({n_samples}), got shape {arr.shape}")
    codes = np.clip(np.searchsorted(known, arr), 0, known.shape[0] - 1).astype(np.intp)
    unknown = known[codes] != arr
    if np.any(unknown):
        raise ValueError(f"tasks not seen in fit: {sorted(set(arr[unknown].tolist()))[:5]}")
    return codes


def split_centred(
    X: FloatArray, y: FloatArray, codes: IntArray, n_tasks: int, *, centre_y: bool = True
) -> tuple[list[FloatArray], list[FloatArray], FloatArray, FloatArray]:
    """Rows of each task, centred on the task's means; returns ``(Xs, ys, x_means d x T, y_means T)``."""
    Xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    x_means = np.zeros((X.shape[1], n_tasks))
    y_means = np.zeros(n_tasks)
    for t in range(n_tasks):
        rows = codes == t
        if not np.any(rows):
            raise ValueError(f"task {t} has no rows")
        Xt, yt = X[rows], y[rows]
        x_means[:, t] = Xt.mean(axis=0)
        Xs.append(Xt - x_means[:, t])
        if centre_y:
            y_means[t] = yt.mean()
        ys.append(yt - y_means[t])
    return Xs, ys, x_means, y_means
