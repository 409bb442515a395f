"""Teaching evaluation (SPEC §6): score lessons and teachers from classroom behaviour statistics and
from student evaluation surveys, with a few expert labels and a semi-supervised model.

* :mod:`.survey` — read and validate a student-evaluation survey (Turkiye layout);
* :mod:`.protocol` — expert labels, the labelled split, group scores and their deviation;
* :mod:`.models` — the semi-supervised models and supervised baselines behind one seam;
* :mod:`.explain` — which inputs moved a score (a ridge surrogate read per group);
* :mod:`.evaluate` — the survey protocol end to end;
* :mod:`.lessons`, :mod:`.lesson_stats`, :mod:`.lesson_evaluation` — simulated filmed lessons with a
  planted quality → stored statements → per-lesson statistics → lesson and teacher scores.
"""

from learnsight.teaching.evaluate import INPUTS, SurveyEvaluation, evaluate_survey
from learnsight.teaching.lesson_evaluation import LessonEvaluation, evaluate_lessons, run_lessons
from learnsight.teaching.lessons import LessonConfig, SimulatedTerm, simulate_lessons, store_lessons
from learnsight.teaching.protocol import DESIGNS, GroupScore, LabelDesign, ProtocolError
from learnsight.teaching.survey import Survey, SurveyError, load_survey

__all__ = [
    "DESIGNS",
    "INPUTS",
    "GroupScore",
    "LabelDesign",
    "LessonConfig",
    "LessonEvaluation",
    "ProtocolError",
    "SimulatedTerm",
    "Survey",
    "SurveyError",
    "SurveyEvaluation",
    "evaluate_lessons",
    "evaluate_survey",
    "load_survey",
    "run_lessons",
    "simulate_lessons",
    "store_lessons",
]
