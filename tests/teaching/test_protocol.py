"""The protocol's pieces: levels, the stratified seeded split and its refusals, finite features,
group scores and the deviation judged over large groups only; the surrogate's explanations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnsight.teaching.explain import surrogate
from learnsight.teaching.protocol import (
    DESIGNS,
    GroupScore,
    ProtocolError,
    check_features,
    expert_levels,
    group_scores,
    labelled_split,
    level_values,
    max_deviation,
)


def test_levels_round_half_up_on_the_five_point_scale() -> None:
    levels = expert_levels(np.array([1.0, 1.4375, 1.5, 2.4999, 2.5, 4.49, 4.5, 5.0]), DESIGNS["5"])
    assert levels.tolist() == [1, 1, 2, 2, 3, 4, 5, 5]
    assert level_values(levels, DESIGNS["5"]).tolist() == [1, 1, 2, 2, 3, 4, 5, 5]
    with pytest.raises(ProtocolError, match="not on the 1–5 scale"):
        expert_levels(np.array([3.0, np.nan]), DESIGNS["5"])


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=20, max_value=400), min_size=2, max_size=5),
    fraction=st.floats(min_value=0.05, max_value=0.5),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_split_is_stratified_seeded_and_exact(sizes: list[int], fraction: float, seed: int) -> None:
    levels = np.repeat(np.arange(1, len(sizes) + 1), sizes)
    mask = labelled_split(levels, fraction, seed)
    for level, n in zip(range(1, len(sizes) + 1), sizes, strict=True):
        assert int(mask[levels == level].sum()) == math.floor(fraction * n + 0.5)
    assert np.array_equal(mask, labelled_split(levels, fraction, seed))


def test_split_refuses_what_cannot_be_evaluated() -> None:
    levels = np.array([1] * 5 + [2] * 200)
    with pytest.raises(
        ProtocolError, match=r"level 1 \(5 rows\) gets no labelled sample at a labelled fraction of 0.05"
    ):
        labelled_split(levels, 0.05, seed=0)
    for fraction in (1.0, 0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ProtocolError, match="labelled fraction must be in"):
            labelled_split(levels, fraction, seed=0)
    with pytest.raises(ProtocolError, match="labels every row: nothing is left to predict"):
        labelled_split(np.array([1, 2, 2]), 0.9, seed=0)
    assert labelled_split(levels, 0.05, seed=0, minimum=1)[:5].sum() == 1


def test_non_finite_features_name_row_and_feature() -> None:
    x = np.array([[1.0, 2.0], [np.nan, 1.0], [0.0, np.inf]])
    with pytest.raises(
        ProtocolError, match=r"^b.csv:3, feature 'a': nan is not a finite number \(\+1 more\)$"
    ):
        check_features(x, ["a", "b"], rows=["b.csv:2", "b.csv:3", "b.csv:4"])
    check_features(np.ones((2, 2)), ["a", "b"])


def test_group_scores_and_deviation_over_large_groups() -> None:
    instructors = [1] * 50 + [2] * 10 + [10] * 40
    courses = [3] * 50 + [4] * 10 + [1] * 40
    true = np.array([3.0] * 50 + [2.0] * 10 + [4.0] * 40)
    predicted = true.copy()
    predicted[:5] = 4.0  # group (1, 3): 3.1 vs 3.0
    predicted[50:60] = 3.0  # group (2, 4): 50 % off, but only 10 evaluations
    groups = group_scores(instructors, courses, true, predicted)
    assert [(g.instructor, g.course, g.n) for g in groups] == [(1, 3, 50), (2, 4, 10), (10, 1, 40)]
    assert groups[0].deviation_pct == pytest.approx(100 * 0.1 / 3.0)
    assert max_deviation(groups) == pytest.approx(100 * 0.1 / 3.0)
    assert max_deviation(groups, min_n=1) == pytest.approx(50.0)
    assert max_deviation(groups, min_n=100) is None
    assert set(groups[0].to_dict()) == {
        "instructor",
        "course",
        "n",
        "score_true",
        "score_predicted",
        "deviation_pct",
    }
    with pytest.raises(ProtocolError):
        GroupScore(1, 1, 1, 0.0, 1.0).deviation_pct  # noqa: B018


def test_surrogate_contributions_add_up_to_the_group_score() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    scores = 3.0 + 0.5 * x[:, 0] - 0.2 * x[:, 1]
    s = surrogate(x, scores, ("up", "down", "noise"), {"up": "the up item"}, ridge=1e-9)
    assert s.r2 == pytest.approx(1.0)
    members = x[:, 0] > 1.0
    parts = s.contributions(members)
    assert parts[0].feature == "up" and parts[0].label == "the up item" and parts[0].points > 0
    assert s.intercept + sum(p.points for p in parts) == pytest.approx(scores[members].mean())
    assert len(s.contributions(members, top=2)) == 2
