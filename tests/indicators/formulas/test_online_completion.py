"""Online completion W and the bounded completion share (SPEC §2.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.online_completion import bounded_completion, online_completion


def test_hand_computed() -> None:
    # 600·2/600 + 300·1/600 + 0·0/300 = 2 + 0.5 + 0
    assert online_completion([600, 300, 0], [2, 1, 0], [600, 600, 300]) == pytest.approx(2.5)
    # min(1, 1.5) + min(1, 0.5) + min(1, 0) over 3 items
    assert bounded_completion([900, 300, 0], [600, 600, 300]) == pytest.approx(0.5)


def test_numpy_inputs() -> None:
    t = np.array([60.0, 120.0])
    assert online_completion(t, np.array([1, 3]), np.array([120.0, 120.0])) == pytest.approx(3.5)  # type: ignore[arg-type]


def test_no_items_or_unrecorded_values_are_missing() -> None:
    assert online_completion([], [], []) is None
    assert bounded_completion([], []) is None
    assert online_completion([60, math.nan], [1, 1], [60, 60]) is None
    assert online_completion([60, 60], [1, math.nan], [60, 60]) is None
    assert bounded_completion([60, 60], [60, math.nan]) is None


@pytest.mark.parametrize("bad", [0.0, -10.0])
def test_non_positive_length_names_the_item(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^full_length\[1\]: item 1"):
        online_completion([10, 10], [1, 1], [60, bad])
    with pytest.raises(IndicatorInputError, match=r"^full_length\[1\]"):
        bounded_completion([10, 10], [60, bad])


def test_other_invalid_inputs() -> None:
    with pytest.raises(IndicatorInputError, match=r"^time_spent\[0\]: -1.0 is negative"):
        online_completion([-1], [1], [60])
    with pytest.raises(IndicatorInputError, match=r"^sessions\[0\]"):
        online_completion([1], [-1], [60])
    with pytest.raises(IndicatorInputError, match=r"^time_spent\[0\]: inf"):
        bounded_completion([math.inf], [60])
    with pytest.raises(IndicatorInputError, match="lengths differ"):
        online_completion([1, 2], [1], [60, 60])
    with pytest.raises(IndicatorInputError, match=r"^time_spent"):
        online_completion(["a"], [1], [60])  # type: ignore[list-item]


items = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1e5),
        st.integers(min_value=0, max_value=50),
        st.floats(min_value=1e-3, max_value=1e5),
    ),
    min_size=1,
    max_size=30,
)


@given(items)
def test_bounded_share_is_a_share_and_w_is_non_negative(rows: list[tuple[float, int, float]]) -> None:
    t, f, z = (list(column) for column in zip(*rows, strict=True))
    share = bounded_completion(t, z)
    assert share is not None and 0.0 <= share <= 1.0
    w = online_completion(t, f, z)
    assert w is not None and w >= 0.0
    # with one session per item and no overrun, W / m equals the bounded share
    capped = [min(ti, zi) for ti, zi in zip(t, z, strict=True)]
    w_once = online_completion(capped, [1] * len(t), z)
    assert w_once is not None and w_once / len(t) == pytest.approx(share, rel=1e-9, abs=1e-12)
