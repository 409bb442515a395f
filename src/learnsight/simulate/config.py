"""Every parameter of the synthetic campus, with its default, in one frozen dataclass.

The generative model is described module by module (:mod:`~learnsight.simulate.traits`,
:mod:`~learnsight.simulate.classroom`, :mod:`~learnsight.simulate.lms`,
:mod:`~learnsight.simulate.campus_life`, :mod:`~learnsight.simulate.grades`); this module only
holds the numbers.  Rates are per opportunity (per student, course and week unless said otherwise)
for an average student; each module multiplies them by ``exp(β · trait)`` factors it documents.
Logits are on the log-odds scale for an average student (``sigmoid(logit)`` is the probability).

Times are the campus's local wall-clock time, stored as naive UTC (so "23:00" in a timestamp is
23:00 on campus): the indicators' time-of-day thresholds apply to ``ts`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

HOME_PAGE: Final = "https://campus.example.edu"
"""``account.homePage`` of every simulated student; also the root of every simulated IRI."""


@dataclass(frozen=True)
class CampusConfig:
    """Size, seed and every rate of one simulated semester (defaults give a plausible campus)."""

    # --- size -------------------------------------------------------------------------------------
    n_students: int = 1000
    n_courses: int = 6
    n_weeks: int = 16
    seed: int = 7
    start: date = date(2024, 9, 2)
    """First day of the semester (a Monday); day 0 of the simulation."""

    # --- enrolment --------------------------------------------------------------------------------
    enrol_prob: float = 0.85
    """Probability that a student takes a given course (every student takes at least one)."""

    # --- latent traits (see traits.py) ------------------------------------------------------------
    corr_ability_diligence: float = 0.30
    corr_ability_regularity: float = 0.20
    corr_diligence_regularity: float = 0.40
    corr_diligence_sociability: float = 0.15
    corr_regularity_sociability: float = -0.10
    difficulty_sd: float = 0.5
    """Standard deviation of the course difficulty (z scale)."""
    interest_general_weight: float = 0.5
    """Correlation of a student's interest in every course with their sociability/curiosity."""
    weekly_effort_sd: float = 0.35
    """Week-to-week noise of a student's effort in a course (z scale)."""
    effort_trend_sd: float = 0.35
    """Spread of the semester-long drift of effort (diligent students keep up, others fade)."""

    # --- classroom (see classroom.py) -------------------------------------------------------------
    session_minutes: int = 95
    attend_logit: float = 2.4
    hand_rate: float = 0.35
    class_answer_rate: float = 0.25
    class_questions: int = 6
    """Questions a teacher asks per session (objects of in-class ANSWERED statements)."""
    notes_logit: float = 0.3
    camera_rate: float = 1.0
    """Camera observations per attended student-session (Poisson mean)."""

    # --- LMS (see lms.py) -------------------------------------------------------------------------
    videos_per_week: int = 2
    video_watch_logit: float = 0.9
    video_repeat_rate: float = 0.35
    preview_logit: float = -0.6
    resources_per_course: int = 24
    resource_view_rate: float = 1.6
    resource_clicks: float = 2.5
    quiz_logit: float = 1.0
    questions_per_quiz: int = 4
    homework_logit: float = 1.4
    homework_late_logit: float = -3.0
    post_rate: float = 0.22
    reply_rate: float = 0.45
    follow_rate: float = 0.6
    study_hour: float = 20.0
    """Mean preferred hour of online study (irregular students study later)."""

    # --- campus life (see campus_life.py) ---------------------------------------------------------
    n_canteens: int = 3
    terminals_per_canteen: int = 8
    meal_skip_logits: tuple[float, float, float] = (-1.0, -3.0, -2.3)
    """Breakfast, lunch, dinner: log-odds of skipping the meal for an average student."""
    meal_jitter_minutes: float = 12.0
    """Day-to-day standard deviation of a meal's first-swipe time for an average student."""
    erratic_meal_logit: float = -2.4
    second_swipe_prob: float = 0.15
    n_buildings: int = 6
    dorm_away_prob: float = 0.04
    dorm_return_hour: float = 21.8
    late_spree_logit: float = -2.4
    net_sessions_per_day: float = 1.6
    early_session_logit: float = -2.2
    day_session_share: float = 0.3
    loan_rate: float = 0.3
    """Library loans per student and week (Poisson mean)."""
    n_books: int = 600

    # --- grades (see grades.py) -------------------------------------------------------------------
    score_mean: float = 72.0
    score_sd: float = 13.0
    score_r2: float = 0.6
    """Share of the final score's variance explained by the true linear predictor."""
    midterm_week: int = 8
    """1-based week of the mid-term exam (clipped to the semester)."""
    excellent_from: float = 85.0
    at_risk_below: float = 60.0

    def __post_init__(self) -> None:
        if self.n_students < 1 or self.n_courses < 1 or self.n_weeks < 1:
            raise ValueError("n_students, n_courses and n_weeks must be at least 1")
        if self.n_students > 9999:
            raise ValueError("n_students is at most 9999 (student ids are S0001…S9999)")
        if self.n_courses > 99:
            raise ValueError("n_courses is at most 99 (course ids are C01…C99)")
        if not 1 <= self.n_canteens <= 6:
            raise ValueError("n_canteens must lie in 1…6")
        if self.start.weekday() != 0:
            raise ValueError(f"the semester must start on a Monday, not {self.start:%A}")
        if not 0.0 < self.score_r2 < 1.0:
            raise ValueError("score_r2 must lie strictly between 0 and 1")
        if not 0.0 < self.enrol_prob <= 1.0:
            raise ValueError("enrol_prob must lie in (0, 1]")

    @property
    def n_days(self) -> int:
        return self.n_weeks * 7

    @property
    def midterm_week_index(self) -> int:
        """0-based week of the mid-term exam."""
        return min(self.midterm_week, self.n_weeks) - 1
