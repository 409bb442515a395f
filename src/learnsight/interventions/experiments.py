"""Intervention experiments: stratified random assignment, the paired before/after analysis of each
group, and the group size a study needs (SPEC §4, "Experiments").

SPEC §4 reports, per group, the mean score before and after, the change, and the paired t
statistic with its p-value ("poor group, intervention, 15 students, 42.3 → 54.6, T = −3.243,
p = 0.002").  :func:`paired_analysis` gives that row plus what a reader needs to judge it: the
standard deviation of the changes, Cohen's ``d_z`` (mean change / sd of the changes) and a
confidence interval of the mean change.  The sign convention follows the SPEC: ``T`` is computed on
``before − after``, so an improvement gives a negative ``T``.  :func:`compare_groups` adds the
difference-in-differences between intervention and control (Welch's t on the changes), the test
that says whether the intervention did more than time alone.

All statistics come from :mod:`scipy.stats`; tests check them against SciPy's and statsmodels'
own results on known data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]

from learnsight.errors import LearnsightError


@dataclass(frozen=True)
class PairedResult:
    """One row of the SPEC §4 experiment table."""

    group: str
    n: int
    mean_before: float
    mean_after: float
    change: float
    """Mean of ``after − before``."""
    sd_change: float
    t: float
    """Paired t on ``before − after`` (negative when scores rose), as the SPEC reports it."""
    p: float
    """Two-sided p-value."""
    cohens_dz: float
    """Mean change / sd of the changes."""
    ci_low: float
    ci_high: float
    """Confidence interval of the mean change (``confidence`` level)."""
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_analysis(
    before: npt.ArrayLike, after: npt.ArrayLike, *, group: str = "", confidence: float = 0.95
) -> PairedResult:
    """The paired before/after analysis of one group (see the module docstring).

    >>> r = paired_analysis([40, 42, 45, 41], [50, 55, 52, 49], group="poor")
    >>> round(r.change, 2), round(r.t, 3), r.n
    (9.5, -7.181, 4)
    """
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    if b.shape != a.shape or b.ndim != 1:
        raise LearnsightError(f"before and after must be 1-D of one length, got {b.shape} and {a.shape}")
    if np.isnan(b).any() or np.isnan(a).any():
        raise LearnsightError("before/after scores must not be missing; drop the students without both")
    if b.size < 2:
        raise LearnsightError(f"a paired analysis needs at least 2 students, got {b.size}")
    if not 0.0 < confidence < 1.0:
        raise LearnsightError(f"confidence must be in (0, 1), got {confidence}")
    diff = a - b
    sd = float(diff.std(ddof=1))
    res = stats.ttest_rel(b, a)
    se = sd / math.sqrt(diff.size)
    half = float(stats.t.ppf(0.5 + confidence / 2, diff.size - 1)) * se
    mean = float(diff.mean())
    return PairedResult(
        group=group,
        n=int(diff.size),
        mean_before=float(b.mean()),
        mean_after=float(a.mean()),
        change=mean,
        sd_change=sd,
        t=float(res.statistic),
        p=float(res.pvalue),
        cohens_dz=mean / sd if sd > 0 else math.nan,
        ci_low=mean - half,
        ci_high=mean + half,
        confidence=confidence,
    )


@dataclass(frozen=True)
class GroupComparison:
    """Intervention against control: each group's paired result and the difference of changes."""

    intervention: PairedResult
    control: PairedResult
    difference: float
    """Mean change of the intervention group minus that of the control group."""
    t: float
    """Welch's t of the changes (intervention − control)."""
    p: float
    cohens_d: float
    """Difference of mean changes / pooled sd of the changes."""
    ci_low: float
    ci_high: float
    """Welch confidence interval of the difference (at the ``confidence`` asked for)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "intervention": self.intervention.to_dict(),
            "control": self.control.to_dict(),
            "difference": self.difference,
            "t": self.t,
            "p": self.p,
            "cohens_d": self.cohens_d,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


def compare_groups(
    intervention: tuple[npt.ArrayLike, npt.ArrayLike],
    control: tuple[npt.ArrayLike, npt.ArrayLike],
    *,
    confidence: float = 0.95,
) -> GroupComparison:
    """Each group's paired analysis and whether the intervention group improved more (Welch)."""
    ri = paired_analysis(*intervention, group="intervention", confidence=confidence)
    rc = paired_analysis(*control, group="control", confidence=confidence)
    di = np.asarray(intervention[1], dtype=np.float64) - np.asarray(intervention[0], dtype=np.float64)
    dc = np.asarray(control[1], dtype=np.float64) - np.asarray(control[0], dtype=np.float64)
    res = stats.ttest_ind(di, dc, equal_var=False)
    ci = res.confidence_interval(confidence)
    pooled = math.sqrt(
        ((di.size - 1) * di.var(ddof=1) + (dc.size - 1) * dc.var(ddof=1)) / (di.size + dc.size - 2)
    )
    diff = float(di.mean() - dc.mean())
    return GroupComparison(
        intervention=ri,
        control=rc,
        difference=diff,
        t=float(res.statistic),
        p=float(res.pvalue),
        cohens_d=diff / pooled if pooled > 0 else math.nan,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
    )


def paired_sample_size(effect: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Students a two-sided paired t-test needs to detect a change of ``effect`` (Cohen's ``d_z``)
    with the given power: the smallest ``n`` whose power, from the noncentral t distribution, is at
    least ``power``.

    >>> paired_sample_size(0.5)
    34
    """
    if effect == 0 or not math.isfinite(effect):
        raise LearnsightError(f"effect must be a non-zero finite Cohen's d, got {effect}")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise LearnsightError(f"alpha and power must be in (0, 1), got {alpha}, {power}")
    d = abs(effect)
    limit = 1_000_000
    # Power grows with n: double until it is reached, then bisect (a few dozen noncentral-t
    # evaluations even for tiny effects, where a linear scan would take minutes).
    low, high = 1, 2
    while paired_power(d, high, alpha=alpha) < power:
        if high >= limit:
            break
        low, high = high, min(2 * high, limit)
    else:
        while high - low > 1:
            mid = (low + high) // 2
            if paired_power(d, mid, alpha=alpha) >= power:
                high = mid
            else:
                low = mid
        return high
    raise LearnsightError(f"effect {effect} is too small to reach power {power} with a million students")


def paired_power(effect: float, n: int, *, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t-test with ``n`` students and true ``d_z = effect``."""
    if n < 2:
        raise LearnsightError(f"n must be >= 2, got {n}")
    df = n - 1
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    nc = abs(effect) * math.sqrt(n)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def stratified_assignment(
    units: Sequence[str], strata: Sequence[str], *, seed: int, treated_share: float = 0.5
) -> dict[str, str]:
    """Randomly assign ``units`` to ``intervention`` / ``control`` within each stratum.

    Each stratum (e.g. predicted class × course) is shuffled with ``numpy.random.default_rng(seed)``
    and its first ``round(treated_share · n)`` units (halves rounded up) are treated, so both
    groups keep the strata's mix.  A function of ``seed`` alone.
    """
    if len(units) != len(strata):
        raise LearnsightError(f"{len(units)} units but {len(strata)} strata")
    if len(set(units)) != len(units):
        raise LearnsightError("a unit appears twice; assign each student once")
    if not 0.0 < treated_share < 1.0:
        raise LearnsightError(f"treated_share must be in (0, 1), got {treated_share}")
    rng = np.random.default_rng(seed)
    out: dict[str, str] = {}
    order = np.asarray(units, dtype=object)
    keys = np.asarray(strata, dtype=object)
    for stratum in sorted(set(map(str, strata))):
        members = rng.permutation(order[keys.astype(str) == stratum])
        k = math.floor(treated_share * members.size + 0.5)
        for i, unit in enumerate(members):
            out[str(unit)] = "intervention" if i < k else "control"
    return out


__all__ = [
    "GroupComparison",
    "PairedResult",
    "compare_groups",
    "paired_analysis",
    "paired_power",
    "paired_sample_size",
    "stratified_assignment",
]
