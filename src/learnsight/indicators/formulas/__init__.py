"""SPEC §2 behaviour-indicator formulas: pure, typed functions, one small module per indicator.

Each module states its formula, units and edge cases in its docstring, with a worked example that
runs as a doctest.  Missing inputs give a missing result (``None``, or ``NaN`` in vectorised
functions), never a default of zero; impossible inputs raise :class:`IndicatorInputError`, a
:class:`ValueError` whose message names the offending argument.
"""

from learnsight.indicators.formulas._checks import IndicatorInputError
from learnsight.indicators.formulas.attendance import attendance_rate
from learnsight.indicators.formulas.classroom import (
    hand_raises_per_lesson,
    positive_expression_share,
    positive_posture_share,
    posture_shares,
)
from learnsight.indicators.formulas.cohort import percentile_rank, percentile_ranks, z_score, z_scores
from learnsight.indicators.formulas.enthusiasm import Enthusiasm, enthusiasm
from learnsight.indicators.formulas.interest import (
    InterestProfile,
    InterestThresholds,
    InternetUsage,
    Preference,
    interest_profile,
    internet_usage,
    preference_shares,
    top_preferences,
)
from learnsight.indicators.formulas.online_completion import bounded_completion, online_completion
from learnsight.indicators.formulas.online_traces import (
    OnlineTraces,
    VideoViewing,
    interaction_frequency,
    mean_test_score,
    online_traces,
    video_viewing,
    wrong_answer_rate,
)
from learnsight.indicators.formulas.participation import participation
from learnsight.indicators.formulas.real_entropy import (
    MISSED_MEAL,
    meal_slot,
    meal_symbol_sequence,
    real_entropy,
)
from learnsight.indicators.formulas.rest_regularity import (
    is_early_morning_session,
    is_late_return,
    rest_regularity,
)

__all__ = [
    "MISSED_MEAL",
    "Enthusiasm",
    "IndicatorInputError",
    "InterestProfile",
    "InterestThresholds",
    "InternetUsage",
    "OnlineTraces",
    "Preference",
    "VideoViewing",
    "attendance_rate",
    "bounded_completion",
    "enthusiasm",
    "hand_raises_per_lesson",
    "interaction_frequency",
    "interest_profile",
    "internet_usage",
    "is_early_morning_session",
    "is_late_return",
    "meal_slot",
    "meal_symbol_sequence",
    "mean_test_score",
    "online_completion",
    "online_traces",
    "participation",
    "percentile_rank",
    "percentile_ranks",
    "positive_expression_share",
    "positive_posture_share",
    "posture_shares",
    "preference_shares",
    "real_entropy",
    "rest_regularity",
    "top_preferences",
    "video_viewing",
    "wrong_answer_rate",
    "z_score",
    "z_scores",
]
