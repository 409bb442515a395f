"""Enthusiasm rates per session (SPEC §2.3)."""

from __future__ import annotations

import dataclasses

import pytest

from learnsight.indicators.formulas import Enthusiasm, IndicatorInputError
from learnsight.indicators.formulas.enthusiasm import enthusiasm


def test_hand_computed() -> None:
    e = enthusiasm(8, 3, 5, 10, 9, sessions=10)
    assert e == Enthusiasm(
        previews=0.8, questions_answered=0.3, discussions=0.5, notes=1.0, homework_submitted=0.9
    )
    assert e.positivity == pytest.approx(3.5)


def test_rates_can_exceed_one_and_zero_is_real() -> None:
    e = enthusiasm(0, 12, 0, 0, 0, sessions=4)
    assert e is not None
    assert e.questions_answered == 3.0
    assert e.previews == 0.0


def test_no_session_is_missing() -> None:
    assert enthusiasm(0, 0, 0, 0, 0, sessions=0) is None
    assert enthusiasm(3, 0, 0, 0, 0, sessions=0) is None


def test_result_is_frozen() -> None:
    e = enthusiasm(1, 1, 1, 1, 1, sessions=1)
    assert e is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.notes = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "field", ["previews", "questions_answered", "discussions", "notes", "homework_submitted"]
)
def test_negative_count_names_the_argument(field: str) -> None:
    counts = dict.fromkeys(
        ["previews", "questions_answered", "discussions", "notes", "homework_submitted"], 1
    )
    counts[field] = -1
    with pytest.raises(IndicatorInputError, match=f"^{field}: -1 is negative"):
        enthusiasm(**counts, sessions=5)


def test_negative_sessions() -> None:
    with pytest.raises(IndicatorInputError, match=r"^sessions"):
        enthusiasm(0, 0, 0, 0, 0, sessions=-1)
