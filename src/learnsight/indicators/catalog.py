"""The indicator catalogue: every column the indicator tables hold, what it means, where it comes
from, and why it is missing when it is (SPEC §2).

The SQL in ``indicators/sql/`` computes the values; this table documents them and drives the
missing-value reasons and the coverage report.  A count whose source is absent from the store (no
canteen data at all, say) is *missing*, not zero: it is nulled with reason ``source_absent:<source>``.
A ratio is missing when its denominator is zero, with the reason given here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["student", "student_course"]


@dataclass(frozen=True)
class Indicator:
    """One indicator column."""

    name: str
    level: Level
    family: str
    source: str | None
    """The statement source it is computed from (``None``: profiles or several sources)."""
    missing: str
    """Reason code when the value is null although its source is present."""
    description: str
    kind: Literal["count", "ratio", "value", "label"] = "ratio"
    better: Literal["higher", "lower"] | None = None
    """Which direction of the value is the good one (SPEC §4 target factors: a shortfall is a value
    on the other side of the cohort); ``None`` for labels and neutral counts (opportunities such as
    ``scheduled_sessions``, volumes such as ``forum_posts``, shares of the time of day)."""


def _s(
    name: str,
    family: str,
    source: str | None,
    missing: str,
    description: str,
    kind: Literal["count", "ratio", "value", "label"] = "ratio",
    *,
    better: Literal["higher", "lower"] | None = None,
) -> Indicator:
    return Indicator(name, "student", family, source, missing, description, kind, better)


def _c(
    name: str,
    family: str,
    source: str | None,
    missing: str,
    description: str,
    kind: Literal["count", "ratio", "value", "label"] = "ratio",
    *,
    better: Literal["higher", "lower"] | None = None,
) -> Indicator:
    return Indicator(name, "student_course", family, source, missing, description, kind, better)


INDICATORS: tuple[Indicator, ...] = (
    # -- §2.1 basic information -----------------------------------------------------------------
    _s(
        "prior_gpa",
        "basic",
        None,
        "no_profile",
        "prior GPA / historical grade (profile)",
        "value",
        better="higher",
    ),
    _s("retakes", "basic", None, "no_profile", "retaken courses (profile)", "value", better="lower"),
    # -- §2.2 living habits ------------------------------------------------------------------------
    _s(
        "late_returns",
        "living",
        "dorm",
        "no_dorm_data",
        "w: dorm returns 23:00-05:00",
        "count",
        better="lower",
    ),
    _s("dorm_returns", "living", "dorm", "no_dorm_data", "dorm returns", "count"),
    _s(
        "absences",
        "living",
        "classroom",
        "no_timetable",
        "q: class absences, all courses",
        "count",
        better="lower",
    ),
    _s("scheduled_sessions", "living", "classroom", "no_timetable", "scheduled class sessions", "count"),
    _s(
        "early_sessions",
        "living",
        "network",
        "no_network_data",
        "l: network sessions 00:00-05:00",
        "count",
        better="lower",
    ),
    _s("network_sessions", "living", "network", "no_network_data", "network sessions", "count"),
    _s(
        "rest_regularity_z",
        "living",
        None,
        "no_opportunities",
        "Z = (w + q + l) / Σp, smaller is better (SPEC §2.2)",
        better="lower",
    ),
    _s("canteen_swipes", "living", "canteen", "no_canteen_data", "canteen card swipes", "count"),
    _s(
        "meal_entropy_breakfast",
        "living",
        "canteen",
        "no_canteen_data",
        "real entropy E of breakfast first-swipe slots",
        better="lower",
    ),
    _s(
        "meal_entropy_lunch",
        "living",
        "canteen",
        "no_canteen_data",
        "real entropy E of lunch first-swipe slots",
        better="lower",
    ),
    _s(
        "meal_entropy_dinner",
        "living",
        "canteen",
        "no_canteen_data",
        "real entropy E of dinner first-swipe slots",
        better="lower",
    ),
    _s(
        "meal_regularity_e",
        "living",
        "canteen",
        "no_canteen_data",
        "mean real entropy E over the three meals, smaller is more regular (SPEC §2.2)",
        better="lower",
    ),
    # -- §2.4 interest preferences -------------------------------------------------------------------
    _s("library_loans", "interest", "library", "no_library_data", "library loans", "count", better="higher"),
    _s("top_book_category", "interest", "library", "no_loans", "most borrowed book category", "label"),
    _s("top_book_category_share", "interest", "library", "no_loans", "its share of loans"),
    _s(
        "internet_minutes_per_day",
        "interest",
        "network",
        "no_network_days",
        "network minutes per day online",
        better="lower",
    ),
    _s(
        "internet_mb_per_day",
        "interest",
        "network",
        "no_network_days",
        "traffic (MiB) per day online",
        better="lower",
    ),
    _s(
        "internet_sessions_per_day",
        "interest",
        "network",
        "no_network_days",
        "network sessions per day online",
        better="lower",
    ),
    _s(
        "internet_excess",
        "interest",
        "network",
        "no_network_days",
        "above an internet threshold (time, traffic or sessions per day)",
        "label",
    ),
    _s("lms_morning_share", "interest", "lms", "no_lms_events", "LMS events 06-12h share"),
    _s("lms_afternoon_share", "interest", "lms", "no_lms_events", "LMS events 12-18h share"),
    _s("lms_evening_share", "interest", "lms", "no_lms_events", "LMS events 18-24h share"),
    _s("lms_night_share", "interest", "lms", "no_lms_events", "LMS events 00-06h share"),
    _s("top_resource_type", "interest", "lms", "no_lms_events", "most used resource type", "label"),
    _s("top_resource_type_share", "interest", "lms", "no_lms_events", "its share of LMS events"),
    # -- §2.3 learning effort (per course) ---------------------------------------------------------
    _c(
        "course_retakes",
        "basic",
        None,
        "no_course_profile",
        "attempts before this one",
        "value",
        better="lower",
    ),
    _c("attended", "effort", "classroom", "no_timetable", "sessions attended", "count", better="higher"),
    _c("absent", "effort", "classroom", "no_timetable", "sessions missed", "count", better="lower"),
    _c(
        "attendance_rate",
        "effort",
        "classroom",
        "no_scheduled_sessions",
        "attended / scheduled",
        better="higher",
    ),
    _c(
        "online_completion_w",
        "effort",
        "lms",
        "no_course_videos",
        "W = Σ t_i f_i / z_i over the course's videos (SPEC §2.3)",
        better="higher",
    ),
    _c(
        "completion_share",
        "effort",
        "lms",
        "no_course_videos",
        "(1/m) Σ min(1, t_i / z_i): bounded completion",
        better="higher",
    ),
    _c(
        "previews_per_session",
        "effort",
        "lms",
        "no_scheduled_sessions",
        "previews per scheduled session",
        better="higher",
    ),
    _c(
        "answers_per_session",
        "effort",
        "classroom",
        "no_scheduled_sessions",
        "in-class answers per scheduled session",
        better="higher",
    ),
    _c(
        "notes_per_session",
        "effort",
        "classroom",
        "no_scheduled_sessions",
        "notes per scheduled session",
        better="higher",
    ),
    _c(
        "homework_per_session",
        "effort",
        "lms",
        "no_scheduled_sessions",
        "homework submissions per scheduled session",
        better="higher",
    ),
    _c(
        "hand_raises_per_session",
        "effort",
        "classroom",
        "no_scheduled_sessions",
        "hand raises per scheduled session",
        better="higher",
    ),
    _c("previews", "effort", "lms", "no_lms_data", "previews before class", "count", better="higher"),
    _c(
        "class_answers",
        "effort",
        "classroom",
        "no_timetable",
        "questions answered in class",
        "count",
        better="higher",
    ),
    _c("notes", "effort", "classroom", "no_timetable", "notes taken", "count", better="higher"),
    _c(
        "submissions",
        "effort",
        "lms",
        "no_lms_data",
        "homework / assessment submissions",
        "count",
        better="higher",
    ),
    _c("posts", "effort", "lms", "no_lms_data", "p: forum threads started", "count", better="higher"),
    _c("replies", "effort", "lms", "no_lms_data", "a: forum replies", "count", better="higher"),
    _c(
        "followers",
        "effort",
        "lms",
        "no_lms_data",
        "r: followers of the student's threads",
        "count",
        better="higher",
    ),
    _c("forum_posts", "effort", "lms", "no_forum_posts", "q: all posts in the course forum", "count"),
    _c(
        "participation_c",
        "effort",
        "lms",
        "no_forum_posts",
        "C = (p + a + r) / q (SPEC §2.3)",
        better="higher",
    ),
    # -- §2.6 online platform traces --------------------------------------------------------------------
    _c("clicks", "online", "lms", "no_lms_data", "clicks on courseware", "count", better="higher"),
    _c("courseware_views", "online", "lms", "no_lms_data", "courseware views", "count", better="higher"),
    _c("lms_events", "online", "lms", "no_lms_data", "all LMS events", "count", better="higher"),
    _c("lms_active_days", "online", "lms", "no_lms_data", "days with LMS activity", "count", better="higher"),
    _c(
        "interaction_frequency",
        "online",
        "lms",
        "no_lms_events",
        "LMS events per active day",
        better="higher",
    ),
    _c("quiz_answers", "online", "lms", "no_lms_data", "quiz questions answered", "count", better="higher"),
    _c("wrong_answers", "online", "lms", "no_lms_data", "wrong quiz answers", "count"),
    _c("wrong_answer_rate", "online", "lms", "no_quiz_answers", "wrong / answered", better="lower"),
    _c("mean_test_score", "online", "lms", "no_scored_tests", "mean scaled test score", better="higher"),
    _c("video_seconds", "online", "lms", "no_lms_data", "video watching time (s)", "count", better="higher"),
    _c("video_views", "online", "lms", "no_lms_data", "video viewing sessions", "count", better="higher"),
    _c("videos_watched", "online", "lms", "no_lms_data", "distinct videos watched", "count", better="higher"),
    _c("video_repeats", "online", "lms", "no_videos_watched", "views beyond the first per video", "count"),
    # -- §2.5 classroom behaviour (video) -----------------------------------------------------------------
    _c("observations", "classroom", "camera", "no_video_data", "camera observations", "count"),
    _c("upright_share", "classroom", "camera", "no_observations", "sitting upright share", better="higher"),
    _c("writing_share", "classroom", "camera", "no_observations", "writing share", better="higher"),
    _c("hand_raised_share", "classroom", "camera", "no_observations", "hand raised share", better="higher"),
    _c(
        "lying_on_desk_share",
        "classroom",
        "camera",
        "no_observations",
        "lying on the desk share",
        better="lower",
    ),
    _c(
        "looking_around_share",
        "classroom",
        "camera",
        "no_observations",
        "looking around share",
        better="lower",
    ),
    _c("phone_share", "classroom", "camera", "no_observations", "playing with a phone share", better="lower"),
    _c(
        "positive_posture_share",
        "classroom",
        "camera",
        "no_observations",
        "upright + writing + hand raised",
        better="higher",
    ),
    _c(
        "positive_expression_share",
        "classroom",
        "camera",
        "no_expression_observations",
        "share of positive expression states",
        better="higher",
    ),
    _c(
        "hand_raises_per_lesson",
        "classroom",
        "classroom",
        "no_attended_sessions",
        "hand raises per attended lesson",
        better="higher",
    ),
)

BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}


def indicators(level: Level) -> tuple[Indicator, ...]:
    """The catalogue entries of one level, in table order."""
    return tuple(i for i in INDICATORS if i.level == level)
