"""Classroom events: attendance, hand raises, in-class answers, notes, camera observations.

Generative model, per enrolled student ``i``, course ``c`` and scheduled session ``s`` of week
``w`` (``e`` = weekly effort ``e_icw``, ``reg``/``soc``/``abil``/``dil`` the student's traits):

* **ATTENDED / ABSENT** (source ``classroom``) — exactly one of the two for every scheduled session,
  so absences and opportunities are countable.  ``P(attend) = sigmoid(attend_logit + 0.9 e +
  0.6 reg)``.  Arrival ``N(−4 min, 3 min)``; late by ``U(3, 25)`` min with probability
  ``sigmoid(−2.5 − reg)``.  ATTENDED carries ``duration_s`` (time in class) and a ``late`` result
  extension; ABSENT is stamped at the session start.
* **RAISED_HAND** — ``Poisson(hand_rate · exp(0.6 soc + 0.4 e))`` per attended session.
* **ANSWERED** (in class) — ``Poisson(class_answer_rate · exp(0.5 soc + 0.5 e))``; the object is
  one of the teacher's ``class_questions`` questions of the session;
  ``success ~ Bernoulli(sigmoid(0.8 + abil + 0.3 e − d_c))``.
* **TOOK_NOTES** — at most once per attended session, ``P = sigmoid(notes_logit + 1.2 dil + 0.4 e)``.
* **OBSERVED** (source ``camera``) — ``Poisson(camera_rate)`` observations per attended session;
  ``response`` is the posture behaviour, drawn from a softmax over
  ``log(0.40, 0.25, 0.05, 0.08, 0.12, 0.10) + β·e`` (upright, writing, hand-raised, lying-on-desk,
  looking-around, phone; ``β = (0.3, 0.5, 0.6, −0.6, −0.4, −0.7)``, and lying-on-desk also
  ``−0.5 reg``: tired students doze); the expression (result extensions ``EXT_EXPRESSION`` and
  ``EXT_EXPRESSION_STATE``) is positive with ``P = sigmoid(0.8 + 0.8 e)``, then calm/joy/surprise
  (0.6/0.3/0.1), else disgust/fear/anger (0.4/0.3/0.3).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from learnsight.simulate.config import CampusConfig
from learnsight.simulate.frame import MINUTE, Events, FloatArray, IntArray, expand, ext_json, sigmoid
from learnsight.simulate.timetable import Timetable, course_ids
from learnsight.simulate.traits import Population
from learnsight.xapi import vocab as v

POSTURES: Final = ("upright", "writing", "hand-raised", "lying-on-desk", "looking-around", "phone")
POSITIVE_POSTURES: Final = frozenset(POSTURES[:3])
_POSTURE_BASE: Final = np.log(np.array([0.40, 0.25, 0.05, 0.08, 0.12, 0.10]))
_POSTURE_EFFORT: Final = np.array([0.3, 0.5, 0.6, -0.6, -0.4, -0.7])
EXPRESSIONS: Final = ("calm", "joy", "surprise", "disgust", "fear", "anger")
POSITIVE_EXPRESSIONS: Final = frozenset(EXPRESSIONS[:3])
_EXPRESSION_P: Final = np.array([0.6, 0.3, 0.1, 0.4, 0.3, 0.3])


def _gumbel_choice(rng: np.random.Generator, logits: FloatArray) -> IntArray:
    """One category per row of ``logits`` (rows, k), sampled from the row's softmax."""
    return np.asarray(np.argmax(logits + rng.gumbel(size=logits.shape), axis=1), dtype=np.int64)


def simulate_classroom(
    config: CampusConfig, pop: Population, tt: Timetable, rng: np.random.Generator
) -> list[Events]:
    """Every classroom and camera statement of the semester (see module docstring)."""
    es, ec = pop.enrolments()
    n_sess = tt.sessions_per_course
    stu = np.repeat(es, n_sess)
    crs = np.repeat(ec, n_sess)
    sess = np.tile(np.arange(n_sess, dtype=np.int64), es.size)
    e = pop.effort[stu, crs, sess // 2]
    reg = pop.regularity[stu]
    soc = pop.sociability[stu]
    start = tt.session_start[crs, sess]
    obj = crs * n_sess + sess
    length = config.session_minutes * MINUTE
    session_iris = tt.session_iris(course_ids(config.n_courses))

    present = rng.random(stu.size) < sigmoid(config.attend_logit + 0.9 * e + 0.6 * reg)
    late = rng.random(stu.size) < sigmoid(-2.5 - reg)
    lateness = rng.normal(-4 * MINUTE, 3 * MINUTE, stu.size) + late * rng.uniform(
        3 * MINUTE, 25 * MINUTE, stu.size
    )
    arrive = np.round(lateness).astype(np.int64)
    late_ext = [ext_json(result={v.EXT_LATE: False}), ext_json(result={v.EXT_LATE: True})]

    p = np.flatnonzero(present)
    a = np.flatnonzero(~present)
    out: list[Events] = [
        Events(
            source=v.SOURCE_CLASSROOM,
            verb=v.ATTENDED,
            student=stu[p],
            course=crs[p],
            ts=start[p] + arrive[p],
            objects=session_iris,
            object_idx=obj[p],
            activity_types=v.CLASS_SESSION,
            duration_s=(length - np.maximum(arrive[p], 0)).astype(np.float64),
            extensions=late_ext,
            extension_idx=late[p].astype(np.int64),
        ),
        Events(
            source=v.SOURCE_CLASSROOM,
            verb=v.ABSENT,
            student=stu[a],
            course=crs[a],
            ts=start[a],
            objects=session_iris,
            object_idx=obj[a],
            activity_types=v.CLASS_SESSION,
        ),
    ]

    def during(rows: IntArray, lo_min: float) -> IntArray:
        offset = rng.uniform(lo_min * MINUTE, length - 2 * MINUTE, rows.size)
        return np.asarray(start[rows] + offset.astype(np.int64), dtype=np.int64)

    hands, _ = expand(rng.poisson(config.hand_rate * np.exp(0.6 * soc[p] + 0.4 * e[p])))
    rows = p[hands]
    out.append(
        Events(
            source=v.SOURCE_CLASSROOM,
            verb=v.RAISED_HAND,
            student=stu[rows],
            course=crs[rows],
            ts=during(rows, 5),
            objects=session_iris,
            object_idx=obj[rows],
            activity_types=v.CLASS_SESSION,
        )
    )

    answers, _ = expand(rng.poisson(config.class_answer_rate * np.exp(0.5 * soc[p] + 0.5 * e[p])))
    rows = p[answers]
    q = rng.integers(0, config.class_questions, rows.size)
    question_iris = [f"{iri}/q{j + 1}" for iri in session_iris for j in range(config.class_questions)]
    correct = sigmoid(0.8 + pop.ability[stu[rows]] + 0.3 * e[rows] - pop.difficulty[crs[rows]])
    out.append(
        Events(
            source=v.SOURCE_CLASSROOM,
            verb=v.ANSWERED,
            student=stu[rows],
            course=crs[rows],
            ts=during(rows, 10),
            objects=question_iris,
            object_idx=obj[rows] * config.class_questions + q,
            activity_types=v.QUESTION,
            success=rng.random(rows.size) < correct,
        )
    )

    dil = pop.diligence[stu[p]]
    rows = p[rng.random(p.size) < sigmoid(config.notes_logit + 1.2 * dil + 0.4 * e[p])]
    out.append(
        Events(
            source=v.SOURCE_CLASSROOM,
            verb=v.TOOK_NOTES,
            student=stu[rows],
            course=crs[rows],
            ts=during(rows, 15),
            objects=session_iris,
            object_idx=obj[rows],
            activity_types=v.CLASS_SESSION,
        )
    )

    seen, _ = expand(rng.poisson(config.camera_rate, p.size))
    rows = p[seen]
    logits = _POSTURE_BASE[None, :] + e[rows, None] * _POSTURE_EFFORT[None, :]
    logits[:, 3] -= 0.5 * reg[rows]
    posture = _gumbel_choice(rng, logits)
    positive = rng.random(rows.size) < sigmoid(0.8 + 0.8 * e[rows])
    pos_kind = rng.choice(3, rows.size, p=_EXPRESSION_P[:3])
    neg_kind = 3 + rng.choice(3, rows.size, p=_EXPRESSION_P[3:])
    expression = np.where(positive, pos_kind, neg_kind)
    expression_ext = [
        ext_json(
            result={
                v.EXT_EXPRESSION: name,
                v.EXT_EXPRESSION_STATE: "positive" if name in POSITIVE_EXPRESSIONS else "negative",
            }
        )
        for name in EXPRESSIONS
    ]
    out.append(
        Events(
            source=v.SOURCE_CAMERA,
            verb=v.OBSERVED,
            student=stu[rows],
            course=crs[rows],
            ts=during(rows, 1),
            objects=session_iris,
            object_idx=obj[rows],
            activity_types=v.CLASS_SESSION,
            responses=POSTURES,
            response_idx=posture.astype(np.int64),
            extensions=expression_ext,
            extension_idx=expression.astype(np.int64),
        )
    )
    return out
