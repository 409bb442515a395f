"""Forum participation C (SPEC §2.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.participation import participation


def test_hand_computed() -> None:
    assert participation(3, 5, 4, 160) == pytest.approx(12 / 160)
    assert participation(0, 0, 0, 10) == 0.0  # a silent student in an active forum: a real zero
    # followers are not posts: a popular thread can push C above 1
    assert participation(1, 0, 30, 2) == 15.5


def test_empty_forum_is_missing() -> None:
    assert participation(0, 0, 0, 0) is None


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((-1, 0, 0, 5), "posts"),
        ((0, -1, 0, 5), "replies"),
        ((0, 0, -1, 5), "followers"),
        ((0, 0, 0, -5), "forum_posts"),
        ((3, 3, 0, 5), r"posts \+ replies"),
        ((1, 0, 0, 5.0), "forum_posts"),
    ],
)
def test_invalid(args: tuple[int, ...], name: str) -> None:
    with pytest.raises(IndicatorInputError, match=f"^{name}"):
        participation(*args)


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000))
def test_non_negative_and_monotone(p: int, a: int, r: int, extra: int) -> None:
    q = p + a + extra
    c = participation(p, a, r, q)
    if q == 0:
        assert c is None
        return
    assert c is not None and c >= 0
    more = participation(p, a, r + 1, q)
    assert more is not None and more > c
