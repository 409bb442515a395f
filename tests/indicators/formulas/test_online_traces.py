"""Online platform traces (SPEC §2.6)."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.online_traces import (
    VideoViewing,
    interaction_frequency,
    mean_test_score,
    online_traces,
    video_viewing,
    wrong_answer_rate,
)


def test_interaction_frequency_counts_active_days() -> None:
    stamps = [
        datetime(2024, 3, 1, 9),
        datetime(2024, 3, 1, 23, 59),
        datetime(2024, 3, 2, 0, 1),
        datetime(2024, 3, 9),
    ]
    assert interaction_frequency(stamps) == pytest.approx(4 / 3)
    assert interaction_frequency(iter(stamps)) == pytest.approx(4 / 3)
    assert interaction_frequency([]) is None


def test_wrong_answer_rate() -> None:
    assert wrong_answer_rate(3, 12) == 0.25
    assert wrong_answer_rate(0, 12) == 0.0
    assert wrong_answer_rate(0, 0) is None
    with pytest.raises(IndicatorInputError, match=r"^wrong_answers: 13 exceeds answers"):
        wrong_answer_rate(13, 12)
    with pytest.raises(IndicatorInputError, match=r"^answers"):
        wrong_answer_rate(0, -1)


def test_mean_test_score_leaves_out_tests_not_taken() -> None:
    assert mean_test_score([80, None, 90, math.nan]) == 85.0
    assert mean_test_score([0.0, 1.0]) == 0.5  # a zero score is a real score
    assert mean_test_score([]) is None
    assert mean_test_score([None, math.nan]) is None
    with pytest.raises(IndicatorInputError, match=r"^scores\[1\]"):
        mean_test_score([1.0, math.inf])
    with pytest.raises(IndicatorInputError, match=r"^scores\[0\]"):
        mean_test_score(["A"])  # type: ignore[list-item]


def test_video_viewing() -> None:
    v = video_viewing([("v1", 300), ("v2", 120), ("v1", 60.5), ("v1", 10)])
    assert v == VideoViewing(views=4, videos=2, total_seconds=490.5, repeat_views=2)
    assert v.repeat_share == 0.5
    empty = video_viewing([])
    assert empty == VideoViewing(0, 0, 0.0, 0)
    assert empty.repeat_share is None
    with pytest.raises(IndicatorInputError, match=r"^views\[1\]\.seconds"):
        video_viewing([("v1", 3), ("v2", -1)])
    with pytest.raises(IndicatorInputError, match="missing duration"):
        video_viewing([("v1", math.nan)])


def test_online_traces_bundle() -> None:
    traces = online_traces(
        clicks=40,
        courseware_views=12,
        event_times=[datetime(2024, 3, 1, 9), datetime(2024, 3, 2, 9)],
        wrong_answers=2,
        answers=8,
        test_scores=[70, None, 90],
        video_views=[("v", 60), ("v", 30)],
    )
    assert traces.clicks == 40
    assert traces.courseware_views == 12
    assert traces.interaction_frequency == 1.0
    assert traces.wrong_answers == 2
    assert traces.wrong_answer_rate == 0.25
    assert traces.mean_test_score == 80.0
    assert traces.video.repeat_views == 1
    with pytest.raises(IndicatorInputError, match=r"^clicks"):
        online_traces(
            clicks=-1,
            courseware_views=0,
            event_times=[],
            wrong_answers=0,
            answers=0,
            test_scores=[],
            video_views=[],
        )
