"""Every IRI learnsight writes: verbs, activity types, extensions and sources (one definition each).

ADL and community (tincanapi) vocabulary is used where it exists; learnsight's own terms live under
:data:`BASE`.  The ``VERB_DISPLAY`` table is also written to the store so statements rebuilt from
columns carry their verb's display map.
"""

from __future__ import annotations

from typing import Final

BASE: Final[str] = "https://learnsight.dev/xapi"
"""Root of learnsight's own IRIs."""

# --- verbs ----------------------------------------------------------------------------------------
ADL = "http://adlnet.gov/expapi/verbs/"
TINCAN = "http://id.tincanapi.com/verb/"

ANSWERED: Final = ADL + "answered"
ATTEMPTED: Final = ADL + "attempted"
ATTENDED: Final = ADL + "attended"
COMMENTED: Final = ADL + "commented"
COMPLETED: Final = ADL + "completed"
EXPERIENCED: Final = ADL + "experienced"
FAILED: Final = ADL + "failed"
INTERACTED: Final = ADL + "interacted"
LAUNCHED: Final = ADL + "launched"
PASSED: Final = ADL + "passed"
REGISTERED: Final = ADL + "registered"
SCORED: Final = ADL + "scored"
ASKED: Final = ADL + "asked"
RESPONDED: Final = ADL + "responded"
VOIDED: Final = ADL + "voided"
SUBMITTED: Final = "http://activitystrea.ms/schema/1.0/submit"
VIEWED: Final = TINCAN + "viewed"
REPLIED: Final = TINCAN + "replied"
FOLLOWED: Final = "http://activitystrea.ms/schema/1.0/follow"
POSTED: Final = "http://activitystrea.ms/schema/1.0/post"
WATCHED: Final = "https://w3id.org/xapi/video/verbs/played"
PREVIEWED: Final = f"{BASE}/verbs/previewed"
UNREGISTERED: Final = f"{BASE}/verbs/unregistered"
WITHDREW: Final = f"{BASE}/verbs/withdrew"
ABSENT: Final = f"{BASE}/verbs/was-absent"
RAISED_HAND: Final = f"{BASE}/verbs/raised-hand"
OBSERVED: Final = f"{BASE}/verbs/was-observed"
TOOK_NOTES: Final = f"{BASE}/verbs/took-notes"
SWIPED: Final = f"{BASE}/verbs/swiped-card"
RETURNED: Final = f"{BASE}/verbs/returned-to-dorm"
BORROWED: Final = f"{BASE}/verbs/borrowed"
CONNECTED: Final = f"{BASE}/verbs/connected"

VERB_DISPLAY: Final[dict[str, str]] = {
    ANSWERED: "answered",
    ATTEMPTED: "attempted",
    ATTENDED: "attended",
    COMMENTED: "commented",
    COMPLETED: "completed",
    EXPERIENCED: "experienced",
    FAILED: "failed",
    INTERACTED: "interacted",
    LAUNCHED: "launched",
    PASSED: "passed",
    REGISTERED: "registered",
    SCORED: "scored",
    ASKED: "asked",
    RESPONDED: "responded",
    VOIDED: "voided",
    SUBMITTED: "submitted",
    VIEWED: "viewed",
    REPLIED: "replied",
    FOLLOWED: "followed",
    POSTED: "posted",
    WATCHED: "watched",
    PREVIEWED: "previewed",
    UNREGISTERED: "unregistered",
    WITHDREW: "withdrew",
    ABSENT: "was absent from",
    RAISED_HAND: "raised hand in",
    OBSERVED: "was observed in",
    TOOK_NOTES: "took notes in",
    SWIPED: "swiped card at",
    RETURNED: "returned to dorm",
    BORROWED: "borrowed",
    CONNECTED: "connected to",
}

# --- activity types ---------------------------------------------------------------------------------
ADL_ACT = "http://adlnet.gov/expapi/activities/"
COURSE: Final = ADL_ACT + "course"
ASSESSMENT: Final = ADL_ACT + "assessment"
QUESTION: Final = ADL_ACT + "cmi.interaction"
LESSON: Final = ADL_ACT + "lesson"
MEETING: Final = ADL_ACT + "meeting"
MEDIA: Final = ADL_ACT + "media"
LINK: Final = ADL_ACT + "link"
FILE: Final = ADL_ACT + "file"
MODULE: Final = ADL_ACT + "module"
VIDEO: Final = "https://w3id.org/xapi/video/activity-type/video"
DISCUSSION: Final = "http://id.tincanapi.com/activitytype/discussion"
FORUM_POST: Final = "http://id.tincanapi.com/activitytype/forum-reply"
BOOK: Final = "http://id.tincanapi.com/activitytype/book"
HOMEWORK: Final = f"{BASE}/activities/homework"
CANTEEN: Final = f"{BASE}/activities/canteen"
DORM_GATE: Final = f"{BASE}/activities/dorm-gate"
NETWORK: Final = f"{BASE}/activities/network-session"
VLE_ITEM: Final = f"{BASE}/activities/vle-item"
CLASS_SESSION: Final = f"{BASE}/activities/class-session"


def vle_activity_type(activity_type: str) -> str:
    """Activity type IRI of an OULAD VLE item type (``resource``, ``oucontent``, ``forumng`` ...)."""
    return f"{BASE}/activities/vle/{activity_type}"


# --- extensions -------------------------------------------------------------------------------------
EXT: Final = f"{BASE}/extensions/"
EXT_CLICKS: Final = EXT + "clicks"
EXT_AMOUNT: Final = EXT + "amount"
EXT_BYTES: Final = EXT + "bytes"
EXT_SOURCE: Final = EXT + "source"
EXT_CONFIDENCE: Final = EXT + "confidence"
EXT_WEIGHT: Final = EXT + "weight"
EXT_IS_BANKED: Final = EXT + "is-banked"
EXT_FULL_LENGTH: Final = EXT + "full-length-seconds"

# --- sources (acquisition devices; context.platform) ---------------------------------------------------
SOURCE_LMS: Final = "lms"
SOURCE_CLASSROOM: Final = "classroom"
SOURCE_CAMERA: Final = "camera"
SOURCE_CANTEEN: Final = "canteen"
SOURCE_DORM: Final = "dorm"
SOURCE_LIBRARY: Final = "library"
SOURCE_NETWORK: Final = "network"
SOURCE_REGISTRY: Final = "registry"
"""Student records office: registrations, final results, grades."""

# --- synthetic campus (learnsight.simulate) -----------------------------------------------------------
EXT_THREAD_AUTHOR: Final = EXT + "thread-author"
"""Actor key of a forum thread's author (context extension of POSTED/REPLIED/FOLLOWED)."""
EXT_EXPRESSION: Final = EXT + "expression"
EXT_EXPRESSION_STATE: Final = EXT + "expression-state"
EXT_CATEGORY: Final = EXT + "category"
EXT_AUTHOR: Final = EXT + "author"
EXT_TITLE: Final = EXT + "title"
EXT_RETURN_TIME: Final = EXT + "return-time"
EXT_TERMINAL: Final = EXT + "terminal"
EXT_PLACE: Final = EXT + "place"
EXT_GATE: Final = EXT + "gate"
EXT_DIRECTION: Final = EXT + "direction"
EXT_BUILDING: Final = EXT + "building"
EXT_ACCESS_POINT: Final = EXT + "access-point"
EXT_OUTCOME: Final = EXT + "outcome"
EXT_ASSESSMENT_KIND: Final = EXT + "assessment-kind"
EXT_LEVEL: Final = EXT + "difficulty-level"
EXT_LATE: Final = EXT + "late"

# --- extensions added for the OULAD importer ----------------------------------------------------------
EXT_DUE: Final = EXT + "due"
"""Deadline of the assessed activity (ISO 8601 timestamp)."""
EXT_DATE_IMPUTED: Final = EXT + "date-imputed"
"""``true`` when the source gave no date and the statement's timestamp is a documented stand-in."""

# --- added for the CSV mapping importer (learnsight.ingest.csv_mapped) ----------------------------------
LEFT_DORM: Final = f"{BASE}/verbs/left-dorm"
"""A dorm-gate passage outwards (the counterpart of :data:`RETURNED`)."""
VERB_DISPLAY[LEFT_DORM] = "left dorm"
EXT_LMS_EVENT: Final = EXT + "lms-event"
"""The LMS's own name of the logged event (e.g. Moodle's "Event name"), kept beside the mapped verb."""
EXT_LMS_COMPONENT: Final = EXT + "lms-component"
"""The LMS component that logged the event (e.g. Moodle's "Component": Forum, Quiz, System)."""

# --- added for model predictions (learnsight.models.predict) --------------------------------------------
PREDICTED: Final = f"{BASE}/verbs/predicted"
"""A model's prediction of a learner's outcome in a course (object: the course activity)."""
VERB_DISPLAY[PREDICTED] = "predicted"
SOURCE_MODEL: Final = "model"
"""Statements written by a learnsight model (``context.platform``); never features of a model
(the indicators' ``ev`` view leaves them out, :func:`learnsight.indicators.asof.base_views`)."""
EXT_PROBABILITIES: Final = EXT + "class-probabilities"
"""Result extension of a prediction: ``{class: probability}`` of every class."""
EXT_DRIVERS: Final = EXT + "drivers"
"""Result extension of a prediction: its top drivers, ``[{feature, value, contribution}]``."""
EXT_MODEL: Final = EXT + "model"
"""Context extension of a prediction: the model's name (``learnsight.models.zoo``)."""
EXT_MODEL_FINGERPRINT: Final = EXT + "model-fingerprint"
"""Context extension of a prediction: SHA-256 of the saved model file."""
EXT_TARGET: Final = EXT + "target"
"""Context extension of a prediction: what the model predicts (``three_class``, ``pass_fail`` ...)."""
EXT_DATA_FINGERPRINT: Final = EXT + "data-fingerprint"
"""Context extension of a prediction: fingerprint of the model's training data."""
EXT_TRAINING_CUTOFF: Final = EXT + "training-cutoff"
"""Context extension of a prediction: the as-of cut-off of the model's training data."""
EXT_AS_OF: Final = EXT + "as-of"
"""Context extension of a prediction: the as-of cut-off of the features it was made from."""

# --- added for interventions (learnsight.interventions) --------------------------------------------------
SOURCE_INTERVENTION: Final = "intervention"
"""Statements of the intervention log (planned, delivered, reviewed, escalated interventions);
like predictions they describe what learnsight and teachers did, never what a learner did, so they
are never events of an indicator or a model feature."""
DERIVED_SOURCES: Final = (SOURCE_MODEL, SOURCE_INTERVENTION)
"""Sources of statements learnsight writes about learners (not traces of them)."""

# The intervention log (learnsight.interventions.log).
# Verbs read with the learner as subject, like vocab.ABSENT ("was absent from") and vocab.OBSERVED.
PLANNED: Final = f"{BASE}/verbs/was-planned"
"""An intervention was planned for the learner (object: the intervention)."""
DELIVERED: Final = f"{BASE}/verbs/received"
"""The learner received (was delivered) the intervention; ``timestamp`` = the delivery time."""
REVIEWED: Final = f"{BASE}/verbs/was-reviewed-after"
"""The intervention's outcome was measured after the next assessment (result: the verdict)."""
ESCALATED: Final = f"{BASE}/verbs/was-escalated-from"
"""The learner did not improve: the intervention was replaced by a changed one (SPEC §4 feedback)."""
VERB_DISPLAY.update(
    {
        PLANNED: "was planned",
        DELIVERED: "received",
        REVIEWED: "was reviewed after",
        ESCALATED: "was escalated from",
    }
)

INTERVENTION: Final = f"{BASE}/activities/intervention"
"""Activity type of an intervention (object ``BASE/interventions/<plan id>``)."""
INTERVENTION_PREFIX: Final = f"{BASE}/interventions/"
"""Object IRI of an intervention = this prefix + the plan id."""

EXT_STRATEGY: Final = EXT + "intervention-strategy"
"""Context extension: the strategy (one of :data:`~learnsight.interventions.types.STRATEGIES`)."""
EXT_RULE: Final = EXT + "intervention-rule"
"""Context extension: the name of the strategy rule that chose it."""
EXT_TIMING: Final = EXT + "intervention-timing"
"""Context extension: ``course_start`` or ``during``."""
EXT_METHOD: Final = EXT + "intervention-method"
"""Context extension: ``{"mode": …, "channel": …, "depth": …}``."""
EXT_MESSAGE: Final = EXT + "intervention-message"
"""Context extension: the message to the student."""
EXT_FACTORS: Final = EXT + "target-factors"
"""Context extension: the targeted indicators, most severe first (list)."""
EXT_EVIDENCE: Final = EXT + "evidence"
"""Context extension: the evidence sentences of the targeted factors (list)."""
EXT_ATTEMPT: Final = EXT + "attempt"
"""Context extension: 1 for a first plan, +1 per escalation."""
EXT_PREVIOUS: Final = EXT + "previous-intervention"
"""Context extension: the id of the plan an escalation replaces."""
EXT_REASON: Final = EXT + "reason"
"""Context extension: why (an escalated plan, a review's measurement, an escalation)."""
EXT_NOTE: Final = EXT + "note"
"""Context extension of a delivery: the deliverer's free-text note."""
EXT_OUTCOME_MEASURES: Final = EXT + "outcome-measures"
"""Result extension of a review: the before/after assessments, scores, z-scores and the gain."""
EXT_NEXT: Final = EXT + "next-intervention"
"""Result extension of an escalation: the id of the plan that replaces this one."""
# The cut-off of the data a plan was made from reuses EXT_AS_OF.

# --- experiments (learnsight.interventions.study) ------------------------------------------------------
ASSIGNED: Final = f"{BASE}/verbs/was-assigned-to"
"""The learner was assigned to an arm of an experiment (object: the experiment; response: the arm)."""
VERB_DISPLAY[ASSIGNED] = "was assigned to"
EXPERIMENT: Final = f"{BASE}/activities/experiment"
"""Activity type of an experiment (object ``BASE/experiments/<experiment id>``)."""
EXPERIMENT_PREFIX: Final = f"{BASE}/experiments/"
"""Object IRI of an experiment = this prefix + :func:`experiment_id`."""
EXT_STRATUM: Final = EXT + "stratum"
"""Context extension of an assignment: the stratum the unit was randomised in."""
EXT_ASSIGNMENT_SEED: Final = EXT + "assignment-seed"
"""Context extension of an assignment: the seed of the randomisation."""
EXT_TREATED_SHARE: Final = EXT + "treated-share"
"""Context extension of an assignment: the share of each stratum assigned to the intervention."""
# The cut-off of the predictions the units came from reuses EXT_AS_OF.

# --- recommendations (learnsight.interventions.recommend) ---------------------------------------------
PROJECT: Final = f"{BASE}/activities/project"
"""Activity type of a research or innovation project a learner joined, proposed or contributed to
(the ``projects`` kind of recommendation)."""
