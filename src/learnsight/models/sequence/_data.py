"""Flat-row layout and preprocessing of weekly feature sequences (NumPy only, no torch).

Layout
    :class:`~learnsight.models.sequence.SequenceClassifier` takes a flat 2-D ``X`` so that it runs
    on the scikit-learn style splits and cross-validation of :mod:`learnsight.models.evaluation`:
    the first ``n_static`` columns are static (per-row) features, then ``n_weeks *
    n_week_features`` weekly features in week-major order (week 0's features, then week 1's, ...).
    :func:`flatten_sequences` builds that layout from a ``(rows, weeks, features)`` tensor such as
    :meth:`learnsight.indicators.weekly.WeeklyFeatures.course_tensor`, and
    :func:`split_columns` undoes it.

Preprocessing (:class:`SequenceScaler`, fitted on training rows only)
    Weekly counts are heavily right-skewed (a few students click hundreds of times a week), so
    each weekly value ``x`` becomes ``log1p(max(x, 0))`` and is then standardised per feature over
    the observed (non-NaN) cells of all weeks.  NaN means missing (a week after the cut-off or the
    course's end, a source absent from the data), so missing cells become 0 (the feature's mean)
    and one extra channel per week gives the fraction of that week's features that were observed:
    the network can tell "nothing happened" (observed zeros) from "not observed" (fraction 0).
    Features never observed in training (an absent source) are left out of that fraction.  Static
    features are median-imputed, standardised, and get one missing-indicator column each.
"""

# Upper-case names (X) follow scikit-learn's notation.
# ruff: noqa: N803

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]


def n_week_features(n_columns: int, n_weeks: int, n_static: int) -> int:
    """Number of weekly features per week implied by ``n_columns`` columns of flat ``X``.

    Raises
    ------
    ValueError
        When ``n_weeks < 1``, ``n_static`` is negative or larger than ``n_columns``, or the
        ``n_columns - n_static`` weekly columns are not a positive multiple of ``n_weeks``.
    """
    if isinstance(n_weeks, bool) or not isinstance(n_weeks, int | np.integer) or n_weeks < 1:
        raise ValueError(f"n_weeks must be a positive integer, got {n_weeks!r}")
    if isinstance(n_static, bool) or not isinstance(n_static, int | np.integer) or n_static < 0:
        raise ValueError(f"n_static must be a non-negative integer, got {n_static!r}")
    if n_static > n_columns:
        raise ValueError(f"n_static={n_static} but X has only {n_columns} columns")
    weekly = n_columns - n_static
    if weekly == 0 or weekly % n_weeks:
        raise ValueError(
            f"X has {n_columns} columns: after the n_static={n_static} static columns, {weekly} weekly "
            f"columns remain, which is not a positive multiple of n_weeks={n_weeks} (expected n_static "
            "static columns, then n_weeks * n_week_features weekly columns in week-major order)"
        )
    return weekly // int(n_weeks)


def flatten_sequences(weeks: npt.ArrayLike, static: npt.ArrayLike | None = None) -> FloatArray:
    """Flat ``X`` for :class:`~learnsight.models.sequence.SequenceClassifier` from a weekly tensor.

    Parameters
    ----------
    weeks : array-like of shape (n_samples, n_weeks, n_week_features)
        Weekly features, NaN where missing.
    static : array-like of shape (n_samples, n_static), optional
        Static features, placed first.

    Returns
    -------
    X : ndarray of shape (n_samples, n_static + n_weeks * n_week_features)
        Static columns, then the weekly ones in week-major order (use ``n_weeks`` and
        ``n_static`` of the same values when building the classifier).
    """
    w = np.asarray(weeks, dtype=np.float64)
    if w.ndim != 3:
        raise ValueError(f"weeks must be 3-D (n_samples, n_weeks, n_week_features), got shape {w.shape}")
    flat = w.reshape(w.shape[0], -1)
    if static is None:
        return flat
    s = np.asarray(static, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2 or s.shape[0] != w.shape[0]:
        raise ValueError(f"static must be 2-D with {w.shape[0]} rows, got shape {s.shape}")
    return np.hstack([s, flat])


def split_columns(X: FloatArray, n_static: int, n_weeks: int) -> tuple[FloatArray, FloatArray]:
    """Split flat ``X`` into ``(static (n, n_static), weeks (n, n_weeks, n_week_features))``."""
    n_feat = n_week_features(X.shape[1], n_weeks, n_static)
    return X[:, :n_static], X[:, n_static:].reshape(X.shape[0], n_weeks, n_feat)


@dataclass(frozen=True)
class Prepared:
    """Network inputs of some rows.

    ``seq`` is ``(n, n_weeks, n_week_features + 1)``: the standardised weekly features with 0 for
    missing cells, then the fraction of the week's features observed.  ``cells`` marks the
    observed cells ``(n, n_weeks, n_week_features)``; ``static`` is ``(n, 2 * n_static)``:
    standardised imputed values, then the missing indicators.
    """

    seq: Float32Array
    cells: BoolArray
    static: Float32Array


@dataclass(frozen=True)
class SequenceScaler:
    """Preprocessing of static and weekly features, fitted on training rows (see module docstring)."""

    log_transform: bool
    static_median: FloatArray
    static_mean: FloatArray
    static_scale: FloatArray
    week_mean: FloatArray
    week_scale: FloatArray
    present: BoolArray

    @classmethod
    def fit(cls, static: FloatArray, weeks: FloatArray, *, log_transform: bool = True) -> SequenceScaler:
        """Fit on ``static`` ``(n, n_static)`` and ``weeks`` ``(n, n_weeks, n_week_features)``."""
        medians = np.zeros(static.shape[1])
        for j in range(static.shape[1]):
            col = static[:, j]
            seen = col[~np.isnan(col)]
            medians[j] = float(np.median(seen)) if seen.size else 0.0
        imputed = np.where(np.isnan(static), medians, static)
        s_mean = imputed.mean(axis=0) if static.shape[0] else np.zeros(static.shape[1])
        s_std = imputed.std(axis=0) if static.shape[0] else np.ones(static.shape[1])

        values = _log(weeks) if log_transform else weeks
        cells = ~np.isnan(values)
        count = cells.sum(axis=(0, 1)).astype(np.float64)
        filled = np.where(cells, values, 0.0)
        w_mean = filled.sum(axis=(0, 1)) / np.maximum(count, 1.0)
        sq = np.where(cells, values - w_mean, 0.0)
        w_std = np.sqrt((sq * sq).sum(axis=(0, 1)) / np.maximum(count, 1.0))
        return cls(
            log_transform=log_transform,
            static_median=medians,
            static_mean=s_mean,
            static_scale=_safe_scale(s_std),
            week_mean=w_mean,
            week_scale=_safe_scale(w_std),
            present=count > 0,
        )

    def transform(self, static: FloatArray, weeks: FloatArray) -> Prepared:
        """Network inputs (:class:`Prepared`) of ``static`` and ``weeks`` (same shapes as in fit)."""
        values = _log(weeks) if self.log_transform else weeks
        cells = ~np.isnan(values)
        z = np.where(cells, (values - self.week_mean) / self.week_scale, 0.0)
        n_present = max(int(self.present.sum()), 1)
        frac = (cells & self.present).sum(axis=2, keepdims=True) / n_present
        seq = np.concatenate([z, frac], axis=2).astype(np.float32)

        missing = np.isnan(static)
        s = (np.where(missing, self.static_median, static) - self.static_mean) / self.static_scale
        static_in = np.hstack([s, missing.astype(np.float64)]).astype(np.float32)
        return Prepared(seq=np.ascontiguousarray(seq), cells=cells, static=static_in)


def _log(x: FloatArray) -> FloatArray:
    """``log1p(max(x, 0))``, NaN kept (``np.maximum`` propagates NaN)."""
    out: FloatArray = np.log1p(np.maximum(x, 0.0))
    return out


def _safe_scale(std: FloatArray) -> FloatArray:
    """Standard deviations with 0 (constant or unobserved feature) replaced by 1."""
    out: FloatArray = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
    return out
