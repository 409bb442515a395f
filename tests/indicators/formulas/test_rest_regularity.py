"""Rest regularity Z (SPEC §2.2) and the late-return / early-morning classifiers."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.rest_regularity import (
    in_daily_window,
    is_early_morning_session,
    is_late_return,
    rest_regularity,
)


def test_hand_computed() -> None:
    # (2 + 3 + 5) / (20 + 30 + 50)
    assert rest_regularity(2, 20, 3, 30, 5, 50) == pytest.approx(0.1)
    # only network data: 4 early sessions of 16
    assert rest_regularity(0, 0, 0, 0, 4, 16) == 0.25
    assert rest_regularity(0, 10, 0, 10, 0, 10) == 0.0  # a real zero: opportunities, no misstep
    assert rest_regularity(10, 10, 10, 10, 10, 10) == 1.0


def test_no_opportunities_is_missing_not_zero() -> None:
    assert rest_regularity(0, 0, 0, 0, 0, 0) is None


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((-1, 20, 0, 0, 0, 0), "late_returns"),
        ((0, -2, 0, 0, 0, 0), "dorm_returns"),
        ((0, 0, -1, 0, 0, 0), "absences"),
        ((0, 0, 0, 0, 0, -1), "network_sessions"),
        ((21, 20, 0, 0, 0, 0), "late_returns"),
        ((0, 0, 4, 3, 0, 0), "absences"),
        ((0, 0, 0, 0, 9, 8), "early_sessions"),
        ((1.5, 20, 0, 0, 0, 0), "late_returns"),
        ((True, 20, 0, 0, 0, 0), "late_returns"),
    ],
)
def test_invalid_counts_name_the_argument(args: tuple[int, ...], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}") as info:
        rest_regularity(*args)
    assert isinstance(info.value, IndicatorInputError)


counts = st.integers(min_value=0, max_value=500)


@given(counts, counts, counts, st.data())
def test_z_is_a_share(returns: int, scheduled: int, sessions: int, data: st.DataObject) -> None:
    w = data.draw(st.integers(0, returns))
    q = data.draw(st.integers(0, scheduled))
    ell = data.draw(st.integers(0, sessions))
    z = rest_regularity(w, returns, q, scheduled, ell, sessions)
    if returns + scheduled + sessions == 0:
        assert z is None
    else:
        assert z is not None and 0.0 <= z <= 1.0


@pytest.mark.parametrize(
    ("clock", "late"),
    [
        (time(22, 59, 59), False),
        (time(23, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(4, 59, 59), True),
        (time(5, 0), False),
        (time(12, 0), False),
    ],
)
def test_late_return_default_window(clock: time, late: bool) -> None:
    assert is_late_return(clock) is late
    assert is_late_return(datetime.combine(datetime(2024, 3, 1), clock)) is late


def test_late_return_window_is_configurable() -> None:
    assert not is_late_return(time(23, 30), after=time(23, 45))
    assert is_late_return(time(22, 30), after=time(22, 0), before=time(6, 0))
    assert is_late_return(time(5, 30), after=time(22, 0), before=time(6, 0))


@pytest.mark.parametrize(
    ("clock", "early"),
    [(time(23, 59), False), (time(0, 0), True), (time(3, 0), True), (time(4, 59), True), (time(5, 0), False)],
)
def test_early_morning_default_window(clock: time, early: bool) -> None:
    assert is_early_morning_session(clock) is early


def test_timezone_aware_moments_use_their_own_wall_clock() -> None:
    assert is_early_morning_session(datetime(2024, 3, 1, 1, 0, tzinfo=UTC))
    assert not is_early_morning_session(datetime(2024, 3, 1, 9, 0, tzinfo=UTC))


def test_ambiguous_window_rejected() -> None:
    with pytest.raises(IndicatorInputError, match=r"^start"):
        in_daily_window(time(1, 0), time(5, 0), time(5, 0))
