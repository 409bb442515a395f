"""Attendance rate and its excused-absence policies (SPEC §2.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.attendance import attendance_rate


def test_hand_computed_policies() -> None:
    # 16 scheduled, 12 attended, 2 excused, 2 unexcused absences
    assert attendance_rate(12, 16, 2) == pytest.approx(12 / 14)
    assert attendance_rate(12, 16, 2, excused_policy="exclude") == pytest.approx(12 / 14)
    assert attendance_rate(12, 16, 2, excused_policy="absent") == 0.75
    assert attendance_rate(12, 16, 2, excused_policy="present") == 0.875
    assert attendance_rate(0, 16) == 0.0  # attended none: a real zero


def test_missing_when_nothing_to_attend() -> None:
    assert attendance_rate(0, 0) is None
    assert attendance_rate(0, 3, 3) is None  # every session excused
    assert attendance_rate(0, 3, 3, excused_policy="absent") == 0.0
    assert attendance_rate(0, 3, 3, excused_policy="present") == 1.0


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((-1, 5, 0), "attended"),
        ((1, -5, 0), "scheduled"),
        ((1, 5, -1), "excused"),
        ((4, 5, 2), "attended \\+ excused"),
    ],
)
def test_invalid_counts(args: tuple[int, int, int], name: str) -> None:
    with pytest.raises(IndicatorInputError, match=f"^{name}"):
        attendance_rate(*args)


def test_unknown_policy() -> None:
    with pytest.raises(IndicatorInputError, match=r"^excused_policy"):
        attendance_rate(1, 2, excused_policy="ignore")  # type: ignore[arg-type]


@given(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300))
def test_rates_are_shares_and_ordered(a: int, e: int, extra: int) -> None:
    s = a + e + extra
    absent = attendance_rate(a, s, e, excused_policy="absent")
    exclude = attendance_rate(a, s, e, excused_policy="exclude")
    present = attendance_rate(a, s, e, excused_policy="present")
    if s == 0:
        assert absent is None and present is None and exclude is None
        return
    assert absent is not None and present is not None
    assert 0 <= absent <= present <= 1
    if exclude is not None:
        assert absent <= exclude <= present + 1e-12
