"""Classroom-observation shares (SPEC §2.5)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.classroom import (
    EXPRESSIONS,
    POSTURES,
    hand_raises_per_lesson,
    positive_expression_share,
    positive_posture_share,
    posture_shares,
)


def test_posture_shares_hand_computed() -> None:
    shares = posture_shares({"upright": 1800, "writing": 600, "phone": 600})
    assert shares is not None
    assert set(shares) == set(POSTURES)
    assert shares["upright"] == pytest.approx(0.6)
    assert shares["writing"] == pytest.approx(0.2)
    assert shares["phone"] == pytest.approx(0.2)
    assert shares["looking-around"] == 0.0
    assert positive_posture_share({"upright": 1800, "writing": 600, "phone": 600}) == pytest.approx(0.8)
    assert positive_posture_share({"lying-on-desk": 10}) == 0.0


def test_expression_share_hand_computed() -> None:
    # (2000 + 400) / 2500
    assert positive_expression_share({"calm": 2000, "joy": 400, "disgust": 100}) == pytest.approx(0.96)
    assert positive_expression_share({"anger": 5}) == 0.0


def test_nothing_classified_is_missing() -> None:
    assert posture_shares({}) is None
    assert positive_posture_share({"phone": 0}) is None
    assert positive_expression_share({}) is None


def test_invalid_classes_and_durations() -> None:
    with pytest.raises(IndicatorInputError, match="unknown class 'sleeping'"):
        posture_shares({"sleeping": 10})
    with pytest.raises(IndicatorInputError, match="unknown class 'calm'"):
        posture_shares({"calm": 10})  # an expression is not a posture
    with pytest.raises(IndicatorInputError, match=r"^durations\['joy'\]: -1.0 is negative"):
        positive_expression_share({"joy": -1})
    with pytest.raises(IndicatorInputError, match="missing duration"):
        posture_shares({"upright": math.nan})


def test_hand_raises_per_lesson() -> None:
    assert hand_raises_per_lesson(7, 4) == 1.75
    assert hand_raises_per_lesson(0, 4) == 0.0
    assert hand_raises_per_lesson(0, 0) is None
    with pytest.raises(IndicatorInputError, match=r"^hand_raises"):
        hand_raises_per_lesson(2, 0)
    with pytest.raises(IndicatorInputError, match=r"^lessons"):
        hand_raises_per_lesson(2, -1)


@given(
    st.dictionaries(st.sampled_from(POSTURES), st.floats(0, 1e5)),
    st.dictionaries(st.sampled_from(EXPRESSIONS), st.floats(0, 1e5)),
)
def test_shares_are_shares(postures: dict[str, float], expressions: dict[str, float]) -> None:
    shares = posture_shares(postures)
    if shares is not None:
        assert math.fsum(shares.values()) == pytest.approx(1.0)
        positive = positive_posture_share(postures)
        assert positive is not None and 0 <= positive <= 1 + 1e-12
    expression = positive_expression_share(expressions)
    assert expression is None or 0 <= expression <= 1 + 1e-12
