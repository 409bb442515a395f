"""LMS events (source ``lms``): videos, previews, resources, quizzes, homework and the forum.

Generative model, per enrolled student ``i``, course ``c`` and week ``w`` (``e`` = weekly effort
``e_icw``; ``abil``/``dil``/``soc`` traits; ``d_c`` course difficulty).  Online study happens at
the student's preferred hour ± 2 h (see :func:`~learnsight.simulate.traits.study_times`).

* **WATCHED** — ``videos_per_week`` videos per course and week, released on Monday, each with a
  full length ``U(300, 1500)`` s (context extension ``EXT_FULL_LENGTH``).  A student watches a video
  with ``P = sigmoid(video_watch_logit + 1.3 e)``, then rewatches it
  ``Poisson(video_repeat_rate · exp(0.4 e − 0.3 abil))`` more times (weaker students review).
  ``duration_s`` = watched share × full length, the share ``sigmoid(1.2 + 0.9 e + N(0, 1))`` for the
  first view and ``U(0.2, 0.9)`` of that for repeats.  Views fall within 10 days of release.
* **PREVIEWED** — the slides of each session, ``P = sigmoid(preview_logit + 1.3 e)``, between 36 h
  and 1 h before the session (none before the semester's first day); ``duration_s`` log-normal, median 8 min.
* **VIEWED** — ``Poisson(resource_view_rate · exp(0.5 e))`` views a week among the course's
  ``resources_per_course`` resources (file, link or media; difficulty level easy/medium/hard in the
  context extension ``EXT_LEVEL``); ``quantity`` = clicks ``1 + Poisson(resource_clicks ·
  exp(0.3 e))``.
* **Quizzes** — one a week with ``questions_per_quiz`` questions, taken with
  ``P = sigmoid(quiz_logit + 1.2 e)``.  Each question gives one **ANSWERED** (``success`` with
  ``P = sigmoid(0.6 + 1.1 abil + 0.4 e − d_c − δ_q)``, ``δ_q ~ N(0, 0.7²)``; ``response`` the chosen
  option a–d, a wrong one when unsuccessful), then one **SCORED** for the quiz
  (``score_raw`` = correct answers, ``score_min`` 0, ``score_max`` = questions, ``success`` when
  ``score_scaled ≥ 0.6``, ``completion`` true).
* **SUBMITTED** homework — one assignment a week due Sunday 23:59, submitted with
  ``P = sigmoid(homework_logit + 1.5 e)``, ``Exp(1.5 d · exp(0.4 dil))`` before the deadline or,
  with ``P = sigmoid(homework_late_logit − dil)``, up to 2 days late (result extension ``EXT_LATE``);
  score ``100 · sigmoid(1 + 0.9 abil + 0.5 e − d_c + N(0, 0.5²))`` minus 10 when late, out of 100.
* **Forum** — **POSTED** ``Poisson(post_rate · exp(0.8 soc + 0.3 e))`` new threads a week;
  **REPLIED** ``Poisson(reply_rate · exp(0.7 soc + 0.3 e))`` replies a week, each to a thread of
  the same course chosen with weight ``exp(0.5 soc_a + 0.3 abil_a)`` of its author ``a``,
  ``Exp(1.5 d)`` after the thread; **FOLLOWED** ``Poisson(follow_rate · exp(0.5 soc_a +
  0.4 abil_a))`` followers per thread, classmates drawn uniformly, ``Exp(2 d)`` after the thread.
  The object of all three is the thread (IRI ``…/course/C01/forum/S0001/t2``, see
  :mod:`~learnsight.simulate.timetable`), and the context extension ``EXT_THREAD_AUTHOR`` holds the
  author's actor key, so "followers of a student's threads" are counted by that extension.
  Self-replies, self-follows, repeated follows and events after the semester are dropped.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from learnsight.simulate.config import CampusConfig
from learnsight.simulate.frame import (
    DAY,
    HOUR,
    MINUTE,
    Events,
    IntArray,
    expand,
    ext_json,
    join_text,
    sigmoid,
)
from learnsight.simulate.timetable import (
    Timetable,
    actor_keys,
    course_ids,
    course_iri,
    epoch_seconds,
    student_ids,
)
from learnsight.simulate.traits import Population, study_times
from learnsight.xapi import vocab as v

RESOURCE_TYPES: Final = (v.FILE, v.LINK, v.MEDIA)
LEVELS: Final = ("easy", "medium", "hard")
OPTIONS: Final = ("a", "b", "c", "d")


class _Week:
    """Rows (enrolment × week) shared by the weekly LMS generators."""

    def __init__(self, config: CampusConfig, pop: Population) -> None:
        es, ec = pop.enrolments()
        w = config.n_weeks
        self.n_weeks = w
        self.student = np.repeat(es, w)
        self.course = np.repeat(ec, w)
        self.week = np.tile(np.arange(w, dtype=np.int64), es.size)
        self.effort = pop.effort[self.student, self.course, self.week]
        self.week_start = epoch_seconds(config.start) + self.week * 7 * DAY
        self.hours = pop.study_hour[self.student]

    def course_week(self, rows: IntArray) -> IntArray:
        return np.asarray(self.course[rows] * self.n_weeks + self.week[rows], dtype=np.int64)


def simulate_lms(
    config: CampusConfig, pop: Population, tt: Timetable, rng: np.random.Generator
) -> list[Events]:
    """Every LMS statement of the semester (see module docstring)."""
    wk = _Week(config, pop)
    out = [*_videos(config, pop, wk, rng), _previews(config, pop, tt, rng)]
    out.append(_resources(config, wk, rng))
    out.extend(_quizzes(config, pop, wk, rng))
    out.append(_homework(config, pop, wk, rng))
    out.extend(_forum(config, pop, wk, rng))
    return out


def _week_labels(config: CampusConfig) -> list[str]:
    return [
        f"{course_iri(c)}/{{kind}}/W{w + 1:02d}"
        for c in course_ids(config.n_courses)
        for w in range(config.n_weeks)
    ]


def _videos(config: CampusConfig, pop: Population, wk: _Week, rng: np.random.Generator) -> list[Events]:
    nv = config.videos_per_week
    rows = np.repeat(np.arange(wk.student.size), nv)
    j = np.tile(np.arange(nv, dtype=np.int64), wk.student.size)
    video = wk.course_week(rows) * nv + j
    full = rng.integers(300, 1501, config.n_courses * config.n_weeks * nv).astype(np.float64)
    e = wk.effort[rows]
    abil = pop.ability[wk.student[rows]]
    watched = rng.random(rows.size) < sigmoid(config.video_watch_logit + 1.3 * e)
    repeats = rng.poisson(config.video_repeat_rate * np.exp(0.4 * e - 0.3 * abil))
    parent, k = expand(watched * (1 + repeats))
    r = rows[parent]
    share = sigmoid(1.2 + 0.9 * e[parent] + rng.standard_normal(parent.size))
    share = np.where(k > 0, share * rng.uniform(0.2, 0.9, parent.size), share)
    vid = video[parent]
    days_left = config.n_days - wk.week[r] * 7
    names = [
        f"{course_iri(c)}/video/W{w + 1:02d}-{i + 1}"
        for c in course_ids(config.n_courses)
        for w in range(config.n_weeks)
        for i in range(nv)
    ]
    return [
        Events(
            source=v.SOURCE_LMS,
            verb=v.WATCHED,
            student=wk.student[r],
            course=wk.course[r],
            ts=study_times(rng, wk.hours[r], wk.week_start[r], np.minimum(10, days_left)),
            objects=names,
            object_idx=vid,
            activity_types=v.VIDEO,
            duration_s=np.maximum(np.round(share * full[vid]), 1.0),
            extensions=[ext_json(context={v.EXT_FULL_LENGTH: float(x)}) for x in full],
        )
    ]


def _previews(config: CampusConfig, pop: Population, tt: Timetable, rng: np.random.Generator) -> Events:
    es, ec = pop.enrolments()
    n_sess = tt.sessions_per_course
    stu = np.repeat(es, n_sess)
    crs = np.repeat(ec, n_sess)
    sess = np.tile(np.arange(n_sess, dtype=np.int64), es.size)
    e = pop.effort[stu, crs, sess // 2]
    previewed = rng.random(stu.size) < sigmoid(config.preview_logit + 1.3 * e)
    before = rng.uniform(1 * HOUR, 36 * HOUR, stu.size).astype(np.int64)
    at = tt.session_start[crs, sess] - before
    rows = np.flatnonzero(previewed & (at >= epoch_seconds(config.start)))
    ts = at[rows]
    return Events(
        source=v.SOURCE_LMS,
        verb=v.PREVIEWED,
        student=stu[rows],
        course=crs[rows],
        ts=ts,
        objects=tt.session_iris(course_ids(config.n_courses), "slides"),
        object_idx=crs[rows] * n_sess + sess[rows],
        activity_types=v.FILE,
        duration_s=np.round(rng.lognormal(np.log(8 * MINUTE), 0.6, rows.size)),
    )


def _resources(config: CampusConfig, wk: _Week, rng: np.random.Generator) -> Events:
    nr = config.resources_per_course
    n_res = config.n_courses * nr
    kinds = rng.integers(0, len(RESOURCE_TYPES), n_res)
    levels = rng.integers(0, len(LEVELS), n_res)
    parent, _ = expand(rng.poisson(config.resource_view_rate * np.exp(0.5 * wk.effort)))
    e = wk.effort[parent]
    clicks = 1 + rng.poisson(config.resource_clicks * np.exp(0.3 * e))
    return Events(
        source=v.SOURCE_LMS,
        verb=v.VIEWED,
        student=wk.student[parent],
        course=wk.course[parent],
        ts=study_times(rng, wk.hours[parent], wk.week_start[parent], np.full(parent.size, 7)),
        objects=[
            f"{course_iri(c)}/resource/R{r + 1:02d}" for c in course_ids(config.n_courses) for r in range(nr)
        ],
        object_idx=wk.course[parent] * nr + rng.integers(0, nr, parent.size),
        activity_types=[RESOURCE_TYPES[i] for i in kinds.tolist()],
        quantity=clicks.astype(np.float64),
        extensions=[ext_json(context={v.EXT_LEVEL: LEVELS[i]}) for i in levels.tolist()],
    )


def _quizzes(config: CampusConfig, pop: Population, wk: _Week, rng: np.random.Generator) -> list[Events]:
    nq = config.questions_per_quiz
    n_quiz = config.n_courses * config.n_weeks
    delta = rng.normal(0.0, 0.7, (n_quiz, nq))
    key = rng.integers(0, len(OPTIONS), (n_quiz, nq))
    rows = np.flatnonzero(rng.random(wk.student.size) < sigmoid(config.quiz_logit + 1.2 * wk.effort))
    quiz = wk.course_week(rows)
    stu = wk.student[rows]
    crs = wk.course[rows]
    e = wk.effort[rows]
    began = study_times(rng, wk.hours[rows], wk.week_start[rows], np.full(rows.size, 7))
    logit = (0.6 + 1.1 * pop.ability[stu] + 0.4 * e - pop.difficulty[crs])[:, None] - delta[quiz]
    correct = rng.random((rows.size, nq)) < sigmoid(logit)
    wrong = (key[quiz] + rng.integers(1, len(OPTIONS), (rows.size, nq))) % len(OPTIONS)
    answer = np.where(correct, key[quiz], wrong)
    at = began[:, None] + np.cumsum(rng.integers(30, 151, (rows.size, nq)), axis=1)
    template = _week_labels(config)
    quiz_iris = [t.format(kind="quiz") for t in template]
    question_iris = [f"{q}/q{i + 1}" for q in quiz_iris for i in range(nq)]
    raw = correct.sum(axis=1).astype(np.float64)
    return [
        Events(
            source=v.SOURCE_LMS,
            verb=v.ANSWERED,
            student=np.repeat(stu, nq),
            course=np.repeat(crs, nq),
            ts=at.reshape(-1),
            objects=question_iris,
            object_idx=(quiz[:, None] * nq + np.arange(nq)[None, :]).reshape(-1),
            activity_types=v.QUESTION,
            success=correct.reshape(-1),
            responses=OPTIONS,
            response_idx=answer.reshape(-1).astype(np.int64),
        ),
        Events(
            source=v.SOURCE_LMS,
            verb=v.SCORED,
            student=stu,
            course=crs,
            ts=at[:, -1] + 20,
            objects=quiz_iris,
            object_idx=quiz,
            activity_types=v.ASSESSMENT,
            score_raw=raw,
            score_min=0.0,
            score_max=float(nq),
            success=raw / nq >= 0.6,
            completion=True,
            duration_s=(at[:, -1] + 20 - began).astype(np.float64),
        ),
    ]


def _homework(config: CampusConfig, pop: Population, wk: _Week, rng: np.random.Generator) -> Events:
    rows = np.flatnonzero(rng.random(wk.student.size) < sigmoid(config.homework_logit + 1.5 * wk.effort))
    stu = wk.student[rows]
    crs = wk.course[rows]
    e = wk.effort[rows]
    dil = pop.diligence[stu]
    due = wk.week_start[rows] + 7 * DAY - MINUTE
    late = rng.random(rows.size) < sigmoid(config.homework_late_logit - dil)
    early = rng.exponential(1.5 * DAY * np.exp(0.4 * dil))
    on_time = np.maximum(due - early.astype(np.int64), wk.week_start[rows] + 2 * HOUR)
    ts = np.where(late, due + rng.integers(HOUR, 48 * HOUR, rows.size), on_time)
    ts = np.minimum(ts, epoch_seconds(config.start) + config.n_days * DAY - 1)
    quality = sigmoid(
        1.0 + 0.9 * pop.ability[stu] + 0.5 * e - pop.difficulty[crs] + rng.normal(0, 0.5, rows.size)
    )
    score = np.clip(np.round(2 * (100 * quality - 10 * late)) / 2, 0.0, 100.0)
    return Events(
        source=v.SOURCE_LMS,
        verb=v.SUBMITTED,
        student=stu,
        course=crs,
        ts=ts,
        objects=[t.format(kind="homework") for t in _week_labels(config)],
        object_idx=wk.course_week(rows),
        activity_types=v.HOMEWORK,
        score_raw=score,
        score_min=0.0,
        score_max=100.0,
        success=score >= 60.0,
        completion=True,
        extensions=[ext_json(result={v.EXT_LATE: False}), ext_json(result={v.EXT_LATE: True})],
        extension_idx=late.astype(np.int64),
    )


def _forum(config: CampusConfig, pop: Population, wk: _Week, rng: np.random.Generator) -> list[Events]:
    soc = pop.sociability
    abil = pop.ability
    end = epoch_seconds(config.start) + config.n_days * DAY
    # threads ----------------------------------------------------------------------------------
    parent, _ = expand(rng.poisson(config.post_rate * np.exp(0.8 * soc[wk.student] + 0.3 * wk.effort)))
    author = wk.student[parent]
    t_course = wk.course[parent]
    t_ts = study_times(rng, wk.hours[parent], wk.week_start[parent], np.full(parent.size, 7))
    enrolment = parent // config.n_weeks
    per = np.bincount(enrolment, minlength=wk.student.size // config.n_weeks)
    ordinal = np.arange(parent.size) - (np.cumsum(per) - per)[enrolment] + 1
    keys = actor_keys(config.n_students)
    course_arr = pa.array([course_iri(c) for c in course_ids(config.n_courses)])
    sid_arr = pa.array(student_ids(config.n_students))
    threads = join_text(
        course_arr.take(pa.array(t_course)),
        "/forum/",
        sid_arr.take(pa.array(author)),
        "/t",
        pc.cast(pa.array(ordinal), pa.string()),
    )
    thread_ext = join_text('{"context":{"', v.EXT_THREAD_AUTHOR, '":"', keys.take(pa.array(author)), '"}}')
    n_threads = int(parent.size)
    out = [
        Events(
            source=v.SOURCE_LMS,
            verb=v.POSTED,
            student=author,
            course=t_course,
            ts=t_ts,
            objects=threads,
            object_idx=np.arange(n_threads, dtype=np.int64),
            activity_types=v.DISCUSSION,
            extensions=thread_ext,
        )
    ]
    # replies ----------------------------------------------------------------------------------
    rp, _ = expand(rng.poisson(config.reply_rate * np.exp(0.7 * soc[wk.student] + 0.3 * wk.effort)))
    r_student = wk.student[rp]
    r_course = wk.course[rp]
    target = np.full(rp.size, -1, dtype=np.int64)
    appeal = np.exp(0.5 * soc[author] + 0.3 * abil[author])
    for c in range(config.n_courses):
        pool = np.flatnonzero(t_course == c)
        mine = np.flatnonzero(r_course == c)
        if pool.size and mine.size:
            w = appeal[pool] / appeal[pool].sum()
            target[mine] = pool[rng.choice(pool.size, mine.size, p=w)]
    r_ts = np.where(target >= 0, t_ts[target] + rng.exponential(1.5 * DAY, rp.size).astype(np.int64), end)
    keep = (target >= 0) & (author[target] != r_student) & (r_ts < end)
    out.append(
        Events(
            source=v.SOURCE_LMS,
            verb=v.REPLIED,
            student=r_student[keep],
            course=r_course[keep],
            ts=r_ts[keep],
            objects=threads,
            object_idx=target[keep],
            activity_types=v.DISCUSSION,
            extensions=thread_ext,
        )
    )
    # followers --------------------------------------------------------------------------------
    fp, _ = expand(rng.poisson(config.follow_rate * np.exp(0.5 * soc[author] + 0.4 * abil[author])))
    follower = np.full(fp.size, -1, dtype=np.int64)
    for c in range(config.n_courses):
        roster = np.flatnonzero(pop.enrolled[:, c])
        mine = np.flatnonzero(t_course[fp] == c)
        if roster.size and mine.size:
            follower[mine] = roster[rng.integers(0, roster.size, mine.size)]
    f_ts = t_ts[fp] + rng.exponential(2 * DAY, fp.size).astype(np.int64)
    ok = (follower >= 0) & (follower != author[fp]) & (f_ts < end)
    pair = fp * config.n_students + follower
    _, first = np.unique(pair, return_index=True)
    unique = np.zeros(fp.size, dtype=bool)
    unique[first] = True
    keep = ok & unique
    out.append(
        Events(
            source=v.SOURCE_LMS,
            verb=v.FOLLOWED,
            student=follower[keep],
            course=t_course[fp[keep]],
            ts=f_ts[keep],
            objects=threads,
            object_idx=fp[keep],
            activity_types=v.DISCUSSION,
            extensions=thread_ext,
        )
    )
    return out
