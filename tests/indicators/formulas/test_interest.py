"""Interest preferences: shares, top-k, internet excess flags (SPEC §2.4)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.interest import (
    INTERNET_SESSIONS,
    INTERNET_TIME,
    INTERNET_TRAFFIC,
    InterestThresholds,
    InternetUsage,
    Preference,
    interest_profile,
    internet_usage,
    preference_shares,
    top_preferences,
)


def test_shares_hand_computed() -> None:
    assert preference_shares({"fiction": 6, "math": 3, "history": 1}) == pytest.approx(
        {"fiction": 0.6, "math": 0.3, "history": 0.1}
    )


def test_nothing_observed_is_missing() -> None:
    assert preference_shares({}) is None
    assert preference_shares({"fiction": 0}) is None
    assert top_preferences({}) == ()


def test_invalid_weights() -> None:
    with pytest.raises(IndicatorInputError, match=r"^weights\['math'\]: -1.0 is negative"):
        preference_shares({"math": -1})
    with pytest.raises(IndicatorInputError, match="missing weight"):
        preference_shares({"math": math.nan})


def test_top_preferences_order_and_ties() -> None:
    weights = {"library": 5, "dorm": 3, "classroom": 3, "cafe": 0}
    top = top_preferences(weights, k=3)
    assert [p.category for p in top] == ["library", "classroom", "dorm"]  # tie broken by name
    assert top[0].share == pytest.approx(5 / 11)
    assert [p.category for p in top_preferences(weights, k=10)] == ["library", "classroom", "dorm"]


def test_internet_usage_means_skip_missing_days() -> None:
    usage = internet_usage([120, 300, math.nan], [500, 700, 900], [])
    assert usage == InternetUsage(
        days=3, mean_daily_minutes=210.0, mean_daily_traffic_mb=700.0, mean_daily_sessions=None
    )
    assert internet_usage() == InternetUsage(0, None, None, None)
    with pytest.raises(IndicatorInputError, match=r"^daily_minutes\[1\]"):
        internet_usage([1, -1])


def test_profile_flags_excess_strictly_above_threshold() -> None:
    limits = InterestThresholds(daily_internet_minutes=240, daily_traffic_mb=1000, daily_sessions=20)
    at_limit = interest_profile(
        {}, daily_minutes=[240], daily_traffic_mb=[1000], daily_sessions=[20], thresholds=limits
    )
    assert at_limit.flags == frozenset()
    above = interest_profile(
        {}, daily_minutes=[300], daily_traffic_mb=[1001], daily_sessions=[21], thresholds=limits
    )
    assert above.flags == {INTERNET_TIME, INTERNET_TRAFFIC, INTERNET_SESSIONS}


def test_missing_internet_data_raises_no_flag_and_checks_can_be_off() -> None:
    assert interest_profile({}).flags == frozenset()
    off = InterestThresholds(daily_internet_minutes=None)
    assert interest_profile({}, daily_minutes=[1440], thresholds=off).flags == frozenset()


def test_profile_top_and_dominance() -> None:
    profile = interest_profile(
        {
            "borrowing_category": {"fiction": 9, "math": 1},
            "learning_place": {"library": 1, "dorm": 1},
            "learning_strategy": {},
        },
        thresholds=InterestThresholds(dominant_share=0.8, top_k=1),
    )
    assert profile.top["borrowing_category"] == (Preference("fiction", 0.9),)
    assert profile.top["learning_place"] == (Preference("dorm", 0.5),)
    assert profile.top["learning_strategy"] == ()
    assert profile.flags == {"dominant:borrowing_category"}


@pytest.mark.parametrize(
    "kwargs",
    [{"dominant_share": 0.0}, {"dominant_share": 1.5}, {"top_k": 0}, {"daily_sessions": -1.0}],
)
def test_invalid_thresholds(kwargs: dict[str, float]) -> None:
    with pytest.raises(IndicatorInputError, match=f"^{next(iter(kwargs))}"):
        InterestThresholds(**kwargs)  # type: ignore[arg-type]


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.floats(0, 1e6), min_size=1, max_size=12))
def test_shares_sum_to_one(weights: dict[str, float]) -> None:
    shares = preference_shares(weights)
    if math.fsum(weights.values()) == 0:
        assert shares is None
    else:
        assert shares is not None
        assert math.fsum(shares.values()) == pytest.approx(1.0)
        assert all(0 <= s <= 1 for s in shares.values())
        top = top_preferences(weights, k=3)
        assert [p.share for p in top] == sorted((p.share for p in top), reverse=True)
