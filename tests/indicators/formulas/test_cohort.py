"""Percentile rank and z-score within a cohort (SPEC §2, §4)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.cohort import percentile_rank, percentile_ranks, z_score, z_scores


def test_percentile_rank_hand_computed() -> None:
    cohort = [1, 2, 3, 3, 5]
    assert percentile_rank(3, cohort) == 60.0  # (2 below + ½·2 equal) / 5
    assert percentile_rank(1, cohort) == 10.0  # (0 + ½) / 5
    assert percentile_rank(5, cohort) == 90.0
    assert percentile_rank(4, cohort) == 80.0  # not in the cohort: 4 below
    assert percentile_rank(0, cohort) == 0.0
    assert percentile_rank(9, cohort) == 100.0
    assert percentile_rank(7, [7, 7, 7]) == 50.0  # all tied: the mean rank


def test_missing_values() -> None:
    assert percentile_rank(None, [1, 2]) is None
    assert percentile_rank(math.nan, [1, 2]) is None
    assert percentile_rank(1, []) is None
    assert percentile_rank(1, [None, math.nan]) is None
    assert percentile_rank(2, [1, None, 3, math.nan]) == 50.0  # N counts present values only
    assert z_score(None, [1, 2]) is None


def test_z_score_hand_computed() -> None:
    cohort = [2, 4, 4, 4, 5, 5, 7, 9]  # mean 5, population sd 2
    assert z_score(4, cohort) == -0.5
    assert z_score(9, cohort) == 2.0
    sample_sd = math.sqrt(32 / 7)
    assert z_score(9, cohort, ddof=1) == pytest.approx(4 / sample_sd)


def test_z_score_undefined() -> None:
    assert z_score(3, [3, 3, 3]) is None  # no spread
    assert z_score(3, []) is None
    assert z_score(3, [3], ddof=1) is None


def test_infinities_rejected() -> None:
    with pytest.raises(IndicatorInputError, match=r"^cohort\[1\]"):
        percentile_rank(1, [1, math.inf])
    with pytest.raises(IndicatorInputError, match=r"^value"):
        z_score(math.inf, [1, 2])
    with pytest.raises(IndicatorInputError, match=r"^values\[0\]"):
        z_scores([-math.inf, 1])


def test_vectorised() -> None:
    ranks = percentile_ranks([10, 20, 20, math.nan, 40])
    np.testing.assert_allclose(ranks, [12.5, 50.0, 50.0, np.nan, 87.5])
    np.testing.assert_allclose(z_scores([1.0, 3.0, math.nan]), [-1.0, 1.0, np.nan])
    assert np.isnan(z_scores([2.0, 2.0])).all()
    assert np.isnan(percentile_ranks([math.nan])).all()
    assert percentile_ranks([]).shape == (0,)


cohorts = st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6), st.integers(-5, 5).map(float)), max_size=40)


@given(cohorts)
def test_vectorised_matches_scalar_and_ranks_average_fifty(values: list[float | None]) -> None:
    array = np.array([math.nan if v is None else v for v in values], dtype=float)
    ranks = percentile_ranks(array)
    scores = z_scores(array)
    for value, rank, score in zip(values, ranks, scores, strict=True):
        expected_rank = percentile_rank(value, values)
        if expected_rank is None:
            assert math.isnan(rank)
        else:
            assert rank == pytest.approx(expected_rank)
            assert 0 < rank <= 100
        expected_z = z_score(value, values)
        assert math.isnan(score) if expected_z is None else score == pytest.approx(expected_z, abs=1e-9)
    present = ranks[~np.isnan(ranks)]
    if present.size:
        assert present.mean() == pytest.approx(50.0)
