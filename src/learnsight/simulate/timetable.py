"""Names and the timetable: student and course identifiers, IRIs, and when every class meets.

IRI scheme (all under :data:`~learnsight.simulate.config.HOME_PAGE`)::

    students    account {homePage: https://campus.example.edu, name: S0001}
    course      https://campus.example.edu/course/C01
    session     …/course/C01/session/W03-2          (week 3, second session of the week)
    slides      …/course/C01/slides/W03-2           (previewed before that session)
    question    …/course/C01/session/W03-2/q4       (asked in class)
    video       …/course/C01/video/W03-1
    resource    …/course/C01/resource/R07
    quiz        …/course/C01/quiz/W03,  …/quiz/W03/q2
    homework    …/course/C01/homework/W03
    thread      …/course/C01/forum/S0001/t2         (the 2nd thread S0001 opened in C01)
    exams       …/course/C01/exam/midterm; the final grade's object is the course itself
    canteen     https://campus.example.edu/canteen/T03
    dorm gate   https://campus.example.edu/dorm/B3-G1
    network AP  https://campus.example.edu/network/ap/B3-AP07
    book        https://campus.example.edu/library/book/B0123

A forum thread's author is recoverable from its IRI (the segment after ``forum/``) and from the
``EXT_THREAD_AUTHOR`` context extension (the author's actor key) on every POSTED, REPLIED and
FOLLOWED statement.

Timetable: each course meets twice a week on a fixed pair of weekdays (Mon/Wed, Tue/Thu, Wed/Fri,
Mon/Thu or Tue/Fri) at a fixed time (08:00, 10:00, 14:00, 16:00 or 19:00), drawn per course.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pyarrow as pa

from learnsight.simulate.config import HOME_PAGE, CampusConfig
from learnsight.simulate.frame import DAY, HOUR, IntArray
from learnsight.xapi.keys import account_key

DAY_PAIRS: Final = ((0, 2), (1, 3), (2, 4), (0, 3), (1, 4))
START_HOURS: Final = (8, 10, 14, 16, 19)
WEEKDAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def student_ids(n: int) -> list[str]:
    return [f"S{i + 1:04d}" for i in range(n)]


def course_ids(m: int) -> list[str]:
    return [f"C{c + 1:02d}" for c in range(m)]


def course_iri(course_id: str) -> str:
    return f"{HOME_PAGE}/course/{course_id}"


def actor_keys(n: int) -> pa.Array:
    """Actor keys of students ``S0001 …`` in index order."""
    return pa.array([account_key(HOME_PAGE, s) for s in student_ids(n)], type=pa.string())


def epoch_seconds(day: date) -> int:
    """Unix seconds of midnight (campus time, stored as naive UTC) of ``day``."""
    return (day - date(1970, 1, 1)).days * DAY


@dataclass(frozen=True)
class Timetable:
    """When every course meets: ``session_start[c, s]`` for session ``s = 2·week + j``."""

    days: IntArray
    """(courses, 2) weekday of each weekly session (0 = Monday)."""
    hours: IntArray
    """(courses,) starting hour of the course's sessions."""
    session_start: IntArray
    """(courses, 2·weeks) Unix seconds of each session's start."""
    session_labels: list[str]
    """``W03-2`` style label of session index ``s`` (shared by every course)."""

    @property
    def sessions_per_course(self) -> int:
        return int(self.session_start.shape[1])

    def session_iris(self, courses: list[str], suffix: str = "session") -> list[str]:
        """``…/course/C01/<suffix>/W01-1`` for every (course, session), course-major."""
        return [f"{course_iri(c)}/{suffix}/{label}" for c in courses for label in self.session_labels]


def draw_timetable(config: CampusConfig, rng: np.random.Generator) -> Timetable:
    m, w = config.n_courses, config.n_weeks
    pair = rng.integers(0, len(DAY_PAIRS), m)
    days = np.array([DAY_PAIRS[p] for p in pair], dtype=np.int64)
    hours = np.array(START_HOURS, dtype=np.int64)[rng.integers(0, len(START_HOURS), m)]
    week = np.repeat(np.arange(w, dtype=np.int64), 2)
    j = np.tile(np.arange(2), w)
    day = week[None, :] * 7 + days[:, j]
    start = epoch_seconds(config.start) + day * DAY + hours[:, None] * HOUR
    labels = [f"W{wk + 1:02d}-{jj + 1}" for wk, jj in zip(week.tolist(), j.tolist(), strict=True)]
    return Timetable(days=days, hours=hours, session_start=start, session_labels=labels)
