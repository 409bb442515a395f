"""Online platform traces of one student in one course (SPEC §2.6).

Clicks, courseware views, interaction frequency, wrong answers, test scores, video viewing time
and repeats.  The formulas:

* interaction frequency ``= events / active days`` — an *active day* is a calendar day with at least
  one event, so the rate measures intensity when present, not regularity (rest and meal regularity
  cover that);
* wrong-answer rate ``= wrong answers / answers``;
* mean test score ``= mean of the scores of the tests taken`` (a test not taken is missing, not 0);
* video repeats ``= views − distinct videos viewed`` (every view after a video's first), repeat
  share ``= repeats / views``; viewing duration is the sum of view durations (seconds).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from numbers import Real

from learnsight.indicators.formulas._checks import (
    IndicatorInputError,
    check_at_most,
    check_count,
    check_non_negative_real,
)


def interaction_frequency(timestamps: Iterable[datetime]) -> float | None:
    """Events per active day: ``len(timestamps) / |{t.date()}|`` (SPEC §2.6).

    ``timestamps`` are the student's platform events in the course (clicks, views, answers …), in
    campus local time (the calendar day is taken as given).  ``None`` without any event: the
    frequency of a student never seen online is missing, not zero.

    >>> interaction_frequency([datetime(2024, 3, 1, 9), datetime(2024, 3, 1, 21), datetime(2024, 3, 4, 8)])
    1.5
    >>> interaction_frequency([]) is None
    True
    """
    stamps = list(timestamps)
    if not stamps:
        return None
    return len(stamps) / len({stamp.date() for stamp in stamps})


def wrong_answer_rate(wrong_answers: int, answers: int) -> float | None:
    """Share of the student's answers that were wrong, ``wrong_answers / answers`` in ``[0, 1]`` (SPEC §2.6).

    ``None`` when nothing was answered (missing, not a perfect record).

    >>> wrong_answer_rate(3, 12)
    0.25
    >>> wrong_answer_rate(0, 0) is None
    True
    """
    w = check_count("wrong_answers", wrong_answers)
    n = check_count("answers", answers)
    check_at_most("wrong_answers", w, "answers", n)
    if n == 0:
        return None
    return w / n


def mean_test_score(scores: Iterable[float | None]) -> float | None:
    """Mean of the scores of the tests the student took (SPEC §2.6), in the scores' own unit.

    ``None`` or ``NaN`` entries are tests not taken (or not graded) and are left out; the result is
    ``None`` when no score remains.  Put the scores on one scale first (e.g. xAPI ``score.scaled``).

    >>> mean_test_score([80, None, 90, float("nan")])
    85.0
    >>> mean_test_score([None]) is None
    True
    """
    taken: list[float] = []
    for index, score in enumerate(scores):
        if score is None:
            continue
        if isinstance(score, bool) or not isinstance(score, Real):
            raise IndicatorInputError(f"scores[{index}]: expected a number, got {score!r}")
        value = float(score)
        if math.isinf(value):
            raise IndicatorInputError(f"scores[{index}]: {value} is not finite")
        if not math.isnan(value):
            taken.append(value)
    if not taken:
        return None
    return math.fsum(taken) / len(taken)


@dataclass(frozen=True)
class VideoViewing:
    """Video watching summary: totals and repeats (durations in seconds)."""

    views: int
    videos: int
    total_seconds: float
    repeat_views: int

    @property
    def repeat_share(self) -> float | None:
        """``repeat_views / views``; ``None`` when there was no view."""
        return self.repeat_views / self.views if self.views else None


def video_viewing(views: Sequence[tuple[str, float]]) -> VideoViewing:
    """Summarise video views given as ``(video_id, seconds watched)`` pairs (SPEC §2.6).

    A repeat is any view of a video after the first view of it, so
    ``repeat_views = views − distinct videos``.  An empty input gives zero counts (the counts of an
    observed absence of viewing are real zeros) and ``repeat_share`` ``None``.

    >>> v = video_viewing([("v1", 300), ("v2", 120), ("v1", 60.5)])
    >>> v.total_seconds, v.repeat_views, round(v.repeat_share, 3)
    (480.5, 1, 0.333)
    """
    seen: set[str] = set()
    total = 0.0
    for index, (video, seconds) in enumerate(views):
        duration = check_non_negative_real(f"views[{index}].seconds", seconds)
        if duration is None:
            raise IndicatorInputError(f"views[{index}].seconds: missing duration")
        seen.add(video)
        total += duration
    return VideoViewing(
        views=len(views), videos=len(seen), total_seconds=total, repeat_views=len(views) - len(seen)
    )


@dataclass(frozen=True)
class OnlineTraces:
    """One student's online traces in one course (SPEC §2.6); ``None`` fields are missing."""

    clicks: int
    courseware_views: int
    interaction_frequency: float | None
    wrong_answers: int
    wrong_answer_rate: float | None
    mean_test_score: float | None
    video: VideoViewing


def online_traces(
    *,
    clicks: int,
    courseware_views: int,
    event_times: Iterable[datetime],
    wrong_answers: int,
    answers: int,
    test_scores: Iterable[float | None],
    video_views: Sequence[tuple[str, float]],
) -> OnlineTraces:
    """All SPEC §2.6 trace indicators at once (counts are checked, rates as in the functions above).

    >>> t = online_traces(clicks=40, courseware_views=12, event_times=[datetime(2024, 3, 1, 9)] * 4,
    ...                   wrong_answers=2, answers=8, test_scores=[70, 90], video_views=[("v", 60)])
    >>> t.interaction_frequency, t.wrong_answer_rate, t.mean_test_score, t.video.total_seconds
    (4.0, 0.25, 80.0, 60.0)
    """
    return OnlineTraces(
        clicks=check_count("clicks", clicks),
        courseware_views=check_count("courseware_views", courseware_views),
        interaction_frequency=interaction_frequency(event_times),
        wrong_answers=check_count("wrong_answers", wrong_answers),
        wrong_answer_rate=wrong_answer_rate(wrong_answers, answers),
        mean_test_score=mean_test_score(test_scores),
        video=video_viewing(video_views),
    )
