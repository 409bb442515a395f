"""Experiment statistics against SciPy and statsmodels on known data."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from learnsight.errors import LearnsightError
from learnsight.interventions.experiments import (
    compare_groups,
    paired_analysis,
    paired_power,
    paired_sample_size,
    stratified_assignment,
)

BEFORE = [38, 41, 45, 40, 43, 39, 47, 44, 42, 36, 48, 41, 40, 45, 44]
AFTER = [52, 50, 58, 49, 57, 55, 60, 53, 51, 47, 62, 56, 52, 58, 55]


def test_paired_analysis_matches_scipy_and_the_spec_sign() -> None:
    r = paired_analysis(BEFORE, AFTER, group="poor")
    ref = stats.ttest_rel(BEFORE, AFTER)
    assert r.n == 15 and r.group == "poor"
    assert r.mean_before == pytest.approx(np.mean(BEFORE)) and r.mean_after == pytest.approx(np.mean(AFTER))
    assert r.t == pytest.approx(ref.statistic) and r.p == pytest.approx(ref.pvalue)
    assert r.t < 0  # scores rose: negative T, as SPEC §4 reports it
    diff = np.subtract(AFTER, BEFORE)
    assert r.cohens_dz == pytest.approx(diff.mean() / diff.std(ddof=1))
    ci = stats.t.interval(0.95, 14, loc=diff.mean(), scale=stats.sem(diff))
    assert (r.ci_low, r.ci_high) == pytest.approx(ci)


def test_statsmodels_agrees_on_the_paired_test_and_power() -> None:
    sm = pytest.importorskip("statsmodels.stats.weightstats")
    power = pytest.importorskip("statsmodels.stats.power")
    diff = np.subtract(BEFORE, AFTER)
    t, p, _ = sm.DescrStatsW(diff).ttest_mean(0.0)
    r = paired_analysis(BEFORE, AFTER)
    assert r.t == pytest.approx(t) and r.p == pytest.approx(p)
    for d, n in ((0.5, 20), (0.3, 50), (0.8, 12)):
        assert paired_power(d, n) == pytest.approx(power.TTestPower().power(d, n, 0.05), rel=1e-6)
    for d in (0.2, 0.5, 0.8, 0.02, -0.004):  # tiny effects: hundreds of thousands, found by bisection
        expected = math.ceil(power.TTestPower().solve_power(effect_size=abs(d), alpha=0.05, power=0.8))
        assert paired_sample_size(d) == expected


def test_compare_groups_is_welch_on_the_changes() -> None:
    rng = np.random.default_rng(0)
    b1, b2 = rng.normal(50, 8, 30), rng.normal(50, 8, 30)
    a1, a2 = b1 + rng.normal(6, 5, 30), b2 + rng.normal(1, 5, 30)
    c = compare_groups((b1, a1), (b2, a2))
    ref = stats.ttest_ind(a1 - b1, a2 - b2, equal_var=False)
    assert c.t == pytest.approx(ref.statistic) and c.p == pytest.approx(ref.pvalue)
    assert c.difference == pytest.approx((a1 - b1).mean() - (a2 - b2).mean())
    assert c.p < 0.01 and c.cohens_d > 0.5
    assert c.to_dict()["intervention"]["group"] == "intervention"
    # the Welch CI of the difference, checked against statsmodels' own computation
    sms = pytest.importorskip("statsmodels.stats.weightstats")
    low, high = sms.CompareMeans(sms.DescrStatsW(a1 - b1), sms.DescrStatsW(a2 - b2)).tconfint_diff(
        usevar="unequal"
    )
    assert (c.ci_low, c.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert c.ci_low < c.difference < c.ci_high


def test_stratified_assignment_is_balanced_and_seeded() -> None:
    units = [f"s{i}" for i in range(40)]
    strata = ["at-risk"] * 10 + ["normal"] * 25 + ["excellent"] * 5
    a = stratified_assignment(units, strata, seed=3)
    assert a == stratified_assignment(units, strata, seed=3)
    assert a != stratified_assignment(units, strata, seed=4)
    per = Counter((s, a[u]) for u, s in zip(units, strata, strict=True))
    assert per[("at-risk", "intervention")] == 5 and per[("normal", "intervention")] == 13
    assert per[("excellent", "intervention")] == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: paired_analysis([1, 2], [1, 2, 3]), "one length"),
        (lambda: paired_analysis([1], [2]), "at least 2"),
        (lambda: paired_analysis([1, float("nan")], [2, 3]), "missing"),
        (lambda: paired_sample_size(0.0), "non-zero"),
        (lambda: stratified_assignment(["a", "a"], ["x", "x"], seed=0), "twice"),
        (lambda: stratified_assignment(["a"], ["x", "y"], seed=0), "strata"),
    ],
)
def test_bad_input_is_a_clear_error(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LearnsightError, match=message):
        call()
