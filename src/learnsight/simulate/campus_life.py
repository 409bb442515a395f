"""Campus-life events: canteen swipes, dorm returns, network sessions, library loans.

Generative model, per student ``i`` and day ``d`` (``reg``/``dil``/``soc`` the student's traits;
Saturday and Sunday are the weekend):

* **SWIPED** (source ``canteen``) — for each meal (breakfast 06:30–09:30, lunch 11:00–13:30, dinner
  17:00–19:30) the student skips it with ``P = sigmoid(meal_skip_logits[m] − 1.3 reg)`` (+0.8 on
  weekend breakfasts, +0.3 on other weekend meals).  The first swipe falls at the student's habitual
  time (meal centre 07:15 / 12:05 / 18:05 + ``N(0, 20 min)`` − ``10 min · reg``; weekend breakfast
  one hour later) plus day-to-day jitter ``N(0, (meal_jitter_minutes · exp(−0.55 reg))²)``; with
  ``P = sigmoid(erratic_meal_logit − reg)``, or when it falls outside the meal window, the time is
  instead uniform over the window.  A second swipe (a drink, ``U(2, 6)``) follows ``U(1, 10)`` min
  later with ``second_swipe_prob``.
  ``quantity`` = amount (log-normal around 5.5 / 14 / 12, rounded to 0.5).  The student uses their
  preferred canteen three times in four, any terminal of it; canteen name and terminal are context
  extensions (``EXT_PLACE``, ``EXT_TERMINAL``).
* **RETURNED** (source ``dorm``) — one return each night except nights away (``dorm_away_prob``,
  tripled on Friday and Saturday).  Hour ``dorm_return_hour − 0.5 reg + N(0, 0.4²)`` per student
  plus ``N(0, (0.5 · exp(−0.45 reg))²)`` per night, +0.5 h on Friday/Saturday, and with
  ``P = sigmoid(late_spree_logit − 1.3 reg + o_i)`` (``o_i ~ N(0, 0.8²)``, night owls whatever
  their regularity) a late night adding ``U(1, 3.5)`` h; returns may pass
  midnight (then the timestamp is the next calendar day before 05:00).  A *late return* is one at
  23:00 or later, or before 05:00.  **LEFT_DORM** — every morning after a night in the dorm (and on
  the first day) the student goes out at ``8.0 − 0.4 reg + N(0, 0.3²)`` h per student plus
  ``N(0, (0.5 · exp(−0.45 reg))²)`` per day (06:00–12:00).  Building, gate and direction
  (``in``/``out``) are context extensions.
* **CONNECTED** (source ``network``) — ``Poisson(net_sessions_per_day · exp(0.25 soc))`` dorm-network
  sessions a day: an early-morning session (00:00–05:00 of the next day) with
  ``P = sigmoid(early_session_logit − 1.5 reg + g_i)`` (``g_i ~ N(0, 0.8²)``), a daytime one
  (12:00–18:00) with ``day_session_share``, otherwise an evening one (18:00–24:00).  ``duration_s``
  log-normal, median 35 min (×1.5 early in the morning); ``quantity`` = bytes at a log-normal rate
  around 150 kB/s.  The access point (in the student's building) is the object and the
  ``EXT_ACCESS_POINT`` extension.
* **BORROWED** (source ``library``) — ``Poisson(loan_rate · exp(0.5 dil + 0.3 ū_i))`` loans a week
  (``ū_i`` the student's mean course interest), in opening hours 09:00–21:30.  The category follows
  the student's tastes: logits ``N(0, 1)`` per category plus ``max(u_ic, 0)`` for the category of
  each course taken; then a uniform book of that category.  Category, author and title are context
  extensions; the return time (``U(3, 35)`` days later, absent when after the semester) is the
  result extension ``EXT_RETURN_TIME`` (``YYYY-MM-DD HH:MM:SS``).  A loan has no ``duration_s``:
  the loan period is not time spent in the library, and would glue the learner's later library
  events into one activity.
"""

from __future__ import annotations

import json
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from learnsight.simulate.config import HOME_PAGE, CampusConfig
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
from learnsight.simulate.timetable import epoch_seconds
from learnsight.simulate.traits import Population
from learnsight.xapi import vocab as v

CANTEENS: Final = ("North", "South", "East", "West", "Central", "Lakeside")
MEAL_WINDOWS: Final = ((390, 570), (660, 810), (1020, 1170))
"""Breakfast, lunch, dinner as (first, last) minute of the day."""
MEAL_CENTRES: Final = (435.0, 725.0, 1085.0)
MEAL_AMOUNTS: Final = (5.5, 14.0, 12.0)
APS_PER_BUILDING: Final = 8
GATES_PER_BUILDING: Final = 2
CATEGORIES: Final = (
    "Mathematics",
    "Computer science",
    "Physics",
    "Economics",
    "Literature",
    "History",
    "Philosophy",
    "Psychology",
    "Art",
    "Languages",
)
_TITLE_WORDS: Final = (
    "Foundations of",
    "Introduction to",
    "Essays on",
    "A History of",
    "Advanced",
    "Readings in",
    "Principles of",
    "Topics in",
)
_FIRST: Final = ("Ana", "Wei", "Lena", "Omar", "Priya", "Jonas", "Mei", "Carlos", "Yuki", "Sara")
_LAST: Final = ("Li", "Novak", "Garcia", "Chen", "Okafor", "Silva", "Kim", "Weber", "Rossi", "Ito")


def building_name(b: int) -> str:
    return f"B{b + 1}"


def canteen_name(c: int) -> str:
    return f"{CANTEENS[c]} canteen"


def simulate_campus_life(config: CampusConfig, pop: Population, rng: np.random.Generator) -> list[Events]:
    """Every canteen, dorm, network and library statement (see module docstring)."""
    return [
        _canteen(config, pop, rng),
        *_dorm(config, pop, rng),
        _network(config, pop, rng),
        _library(config, pop, rng),
    ]


def _canteen(config: CampusConfig, pop: Population, rng: np.random.Generator) -> Events:
    n, days = config.n_students, config.n_days
    reg = pop.regularity[:, None, None]
    weekend = (np.arange(days) % 7 >= 5)[None, :, None]
    breakfast = (np.arange(3) == 0)[None, None, :]
    skip_logit = np.array(config.meal_skip_logits)[None, None, :] - 1.3 * reg
    skip_logit = skip_logit + weekend * np.where(breakfast, 0.8, 0.3)
    eats = rng.random((n, days, 3)) >= sigmoid(skip_logit)
    habit = np.array(MEAL_CENTRES)[None, :] + rng.normal(0.0, 20.0, (n, 3)) - 10.0 * pop.regularity[:, None]
    minute = (
        habit[:, None, :]
        + weekend * breakfast * 60.0
        + rng.standard_normal((n, days, 3)) * config.meal_jitter_minutes * np.exp(-0.55 * reg)
    )
    lo = np.array([w[0] for w in MEAL_WINDOWS], dtype=np.float64)[None, None, :]
    hi = np.array([w[1] for w in MEAL_WINDOWS], dtype=np.float64)[None, None, :]
    erratic = rng.random((n, days, 3)) < sigmoid(config.erratic_meal_logit - reg)
    erratic |= (minute < lo) | (minute >= hi)
    minute = np.where(erratic, rng.uniform(lo, hi, (n, days, 3)), minute)
    stu, day, meal = (a.astype(np.int64) for a in np.nonzero(eats))
    ts = (
        epoch_seconds(config.start)
        + day * DAY
        + (minute[stu, day, meal] * MINUTE).astype(np.int64)
        + rng.integers(0, 60, stu.size)
    )
    amount = np.exp(rng.normal(np.log(np.array(MEAL_AMOUNTS)[meal]), 0.25))
    amount = np.maximum(np.round(amount * 2) / 2, 1.0)
    n_can, per = config.n_canteens, config.terminals_per_canteen
    preferred = rng.integers(0, n_can, n)
    canteen = np.where(rng.random(stu.size) < 0.75, preferred[stu], rng.integers(0, n_can, stu.size))
    terminal = canteen * per + rng.integers(0, per, stu.size)
    extra = np.flatnonzero(rng.random(stu.size) < config.second_swipe_prob)
    names, exts = [], []
    for t in range(n_can * per):
        label = f"T{t + 1:02d}"
        names.append(f"{HOME_PAGE}/canteen/{label}")
        exts.append(ext_json(context={v.EXT_PLACE: canteen_name(t // per), v.EXT_TERMINAL: label}))
    return Events(
        source=v.SOURCE_CANTEEN,
        verb=v.SWIPED,
        student=np.concatenate([stu, stu[extra]]),
        ts=np.concatenate([ts, ts[extra] + rng.integers(MINUTE, 10 * MINUTE, extra.size)]),
        objects=names,
        object_idx=np.concatenate([terminal, terminal[extra]]),
        activity_types=v.CANTEEN,
        quantity=np.concatenate([amount, np.round(rng.uniform(2, 6, extra.size) * 2) / 2]),
        extensions=exts,
    )


def _dorm(config: CampusConfig, pop: Population, rng: np.random.Generator) -> list[Events]:
    n, days = config.n_students, config.n_days
    reg = pop.regularity[:, None]
    fri_sat = np.isin(np.arange(days) % 7, (4, 5))[None, :]
    away = rng.random((n, days)) < config.dorm_away_prob * np.where(fri_sat, 3.0, 1.0)
    habit = config.dorm_return_hour - 0.5 * pop.regularity + rng.normal(0.0, 0.4, n)
    night_owl = rng.normal(0.0, 0.8, n)[:, None]
    spree = rng.random((n, days)) < sigmoid(config.late_spree_logit - 1.3 * reg + night_owl)
    hour = (
        habit[:, None]
        + rng.standard_normal((n, days)) * 0.5 * np.exp(-0.45 * reg)
        + 0.5 * fri_sat
        + spree * rng.uniform(1.0, 3.5, (n, days))
    )
    hour = np.clip(hour, 17.5, 28.5)
    stu, day = (a.astype(np.int64) for a in np.nonzero(~away))
    start = epoch_seconds(config.start)
    ts = start + day * DAY + (hour[stu, day] * HOUR).astype(np.int64)
    keep = ts < start + days * DAY
    n_gates = config.n_buildings * GATES_PER_BUILDING
    gate = pop.building[stu] * GATES_PER_BUILDING + rng.integers(0, GATES_PER_BUILDING, stu.size)
    # Mornings: out once on every day that follows a night in the dorm (and on the first day).
    slept_in = np.concatenate([np.ones((n, 1), dtype=bool), ~away[:, :-1]], axis=1)
    o_stu, o_day = (a.astype(np.int64) for a in np.nonzero(slept_in))
    leave_habit = 8.0 - 0.4 * pop.regularity + rng.normal(0.0, 0.3, n)
    leave = leave_habit[o_stu] + rng.standard_normal(o_stu.size) * 0.5 * np.exp(-0.45 * pop.regularity[o_stu])
    o_ts = start + o_day * DAY + (np.clip(leave, 6.0, 12.0) * HOUR).astype(np.int64)
    o_gate = pop.building[o_stu] * GATES_PER_BUILDING + rng.integers(0, GATES_PER_BUILDING, o_stu.size)
    names: list[str] = []
    exts: list[str | None] = []
    for direction in ("in", "out"):
        for g in range(n_gates):
            b = building_name(g // GATES_PER_BUILDING)
            label = f"{b}-G{g % GATES_PER_BUILDING + 1}"
            names.append(f"{HOME_PAGE}/dorm/{label}")
            exts.append(ext_json(context={v.EXT_BUILDING: b, v.EXT_GATE: label, v.EXT_DIRECTION: direction}))
    return [
        Events(
            source=v.SOURCE_DORM,
            verb=v.RETURNED,
            student=stu[keep],
            ts=ts[keep],
            objects=names,
            object_idx=gate[keep],
            activity_types=v.DORM_GATE,
            extensions=exts,
        ),
        Events(
            source=v.SOURCE_DORM,
            verb=v.LEFT_DORM,
            student=o_stu,
            ts=o_ts,
            objects=names,
            object_idx=o_gate,
            activity_types=v.DORM_GATE,
            extensions=exts,
            extension_idx=o_gate + n_gates,
        ),
    ]


def _network(config: CampusConfig, pop: Population, rng: np.random.Generator) -> Events:
    n, days = config.n_students, config.n_days
    counts = rng.poisson(config.net_sessions_per_day * np.exp(0.25 * pop.sociability)[:, None], (n, days))
    parent, _ = expand(counts.reshape(-1))
    stu = parent // days
    day = parent % days
    u = rng.random(parent.size)
    gamer = rng.normal(0.0, 0.8, n)
    p_early = sigmoid(config.early_session_logit - 1.5 * pop.regularity[stu] + gamer[stu])
    early = u < p_early
    daytime = ~early & (u < p_early + config.day_session_share)
    hour = np.where(
        early,
        24.0 + rng.uniform(0.0, 5.0, parent.size),
        np.where(daytime, rng.uniform(12.0, 18.0, parent.size), rng.uniform(18.0, 24.0, parent.size)),
    )
    ts = epoch_seconds(config.start) + day * DAY + (hour * HOUR).astype(np.int64)
    duration = np.round(np.exp(rng.normal(np.log(35 * MINUTE), 0.8, parent.size)) * np.where(early, 1.5, 1.0))
    rate = np.exp(rng.normal(np.log(150e3), 0.7, parent.size))
    ap = pop.building[stu] * APS_PER_BUILDING + rng.integers(0, APS_PER_BUILDING, parent.size)
    keep = ts < epoch_seconds(config.start) + days * DAY
    labels = [
        f"{building_name(a // APS_PER_BUILDING)}-AP{a % APS_PER_BUILDING + 1:02d}"
        for a in range(config.n_buildings * APS_PER_BUILDING)
    ]
    return Events(
        source=v.SOURCE_NETWORK,
        verb=v.CONNECTED,
        student=stu[keep],
        ts=ts[keep],
        objects=[f"{HOME_PAGE}/network/ap/{label}" for label in labels],
        object_idx=ap[keep],
        activity_types=v.NETWORK,
        duration_s=duration[keep],
        quantity=np.round(duration * rate)[keep],
        extensions=[ext_json(context={v.EXT_ACCESS_POINT: label}) for label in labels],
    )


def book_catalogue(config: CampusConfig, rng: np.random.Generator) -> list[dict[str, str]]:
    """``n_books`` books; book ``b`` belongs to category ``b % len(CATEGORIES)``."""
    words = rng.integers(0, len(_TITLE_WORDS), config.n_books)
    first = rng.integers(0, len(_FIRST), config.n_books)
    last = rng.integers(0, len(_LAST), config.n_books)
    return [
        {
            "book_id": f"B{b + 1:04d}",
            "category": CATEGORIES[b % len(CATEGORIES)],
            "title": f"{_TITLE_WORDS[words[b]]} {CATEGORIES[b % len(CATEGORIES)]} {b // len(CATEGORIES) + 1}",
            "author": f"{_FIRST[first[b]]} {_LAST[last[b]]}",
        }
        for b in range(config.n_books)
    ]


def course_category(course: IntArray) -> IntArray:
    """The library category of each course's subject (courses cycle through the first six)."""
    return np.asarray(course % 6, dtype=np.int64)


def _library(config: CampusConfig, pop: Population, rng: np.random.Generator) -> Events:
    n, w = config.n_students, config.n_weeks
    n_cat = len(CATEGORIES)
    mean_interest = np.where(pop.enrolled, pop.interest, 0.0).sum(1) / pop.enrolled.sum(1)
    counts = rng.poisson(
        config.loan_rate * np.exp(0.5 * pop.diligence + 0.3 * mean_interest)[:, None], (n, w)
    )
    parent, _ = expand(counts.reshape(-1))
    stu = parent // w
    week = parent % w
    taste = rng.standard_normal((n, n_cat))
    pull = np.where(pop.enrolled, np.maximum(pop.interest, 0.0), 0.0)
    cat_of_course = course_category(np.arange(config.n_courses))
    for c in range(config.n_courses):
        taste[:, cat_of_course[c]] += pull[:, c]
    category = np.argmax(taste[stu] + rng.gumbel(size=(stu.size, n_cat)), axis=1)
    per_cat = max(config.n_books // n_cat, 1)
    book = category + n_cat * rng.integers(0, per_cat, stu.size)
    book = np.where(book < config.n_books, book, category)
    ts = (
        epoch_seconds(config.start)
        + (week * 7 + rng.integers(0, 7, stu.size)) * DAY
        + rng.integers(9 * HOUR, 21 * HOUR + 30 * MINUTE, stu.size)
    )
    back = ts + rng.integers(3 * DAY, 35 * DAY, stu.size)
    returned = back < epoch_seconds(config.start) + config.n_days * DAY
    books = book_catalogue(config, rng)
    context = pa.array(
        [
            json.dumps(
                {v.EXT_CATEGORY: b["category"], v.EXT_AUTHOR: b["author"], v.EXT_TITLE: b["title"]},
                separators=(",", ":"),
            )
            for b in books
        ]
    ).take(pa.array(book))
    back_text = pc.strftime(
        pa.array(back, type=pa.int64()).cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S"
    )
    with_return = join_text(
        '{"result":{"', v.EXT_RETURN_TIME, '":"', back_text, '"},"context":', context, "}"
    )
    without = join_text('{"context":', context, "}")
    ext = pc.if_else(pa.array(returned), with_return, without)
    return Events(
        source=v.SOURCE_LIBRARY,
        verb=v.BORROWED,
        student=stu,
        ts=ts,
        objects=[f"{HOME_PAGE}/library/book/{b['book_id']}" for b in books],
        object_idx=book,
        activity_types=v.BOOK,
        extensions=ext,
        extension_idx=np.arange(stu.size, dtype=np.int64),
    )
