"""The lesson path end to end: simulated lessons → was-observed statements in the store → per-lesson
statistics read back with SQL and the §2.5 formulas → scores that recover the planted quality."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from learnsight.indicators.formulas.classroom import POSTURES
from learnsight.store import DuckDBStore, open_store
from learnsight.teaching.lesson_evaluation import LessonEvaluation, evaluate_lessons, spearman
from learnsight.teaching.lesson_stats import FEATURES, lesson_statistics
from learnsight.teaching.lessons import (
    LessonConfig,
    SimulatedTerm,
    expected_rating,
    simulate_lessons,
    store_lessons,
)
from learnsight.teaching.protocol import ProtocolError
from learnsight.vision.observations import UNCERTAIN
from learnsight.xapi import vocab as v
from learnsight.xapi.parse import parse_statement

CONFIG = LessonConfig(teachers=5, lessons_per_teacher=10, students=16, windows=10, seed=4)


@pytest.fixture(scope="module")
def term() -> SimulatedTerm:
    return simulate_lessons(CONFIG)


@pytest.fixture(scope="module")
def stored(term: SimulatedTerm, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lessons") / "lessons.duckdb"
    with open_store(path) as store:
        report = store_lessons(store, term)
        assert report.statements_written == term.statements
    return path


@pytest.fixture(scope="module")
def evaluation(term: SimulatedTerm, stored: Path) -> LessonEvaluation:
    with open_store(stored) as store:
        return evaluate_lessons(store, term, seed=CONFIG.seed)


def test_statements_are_the_video_pipelines_and_valid(term: SimulatedTerm) -> None:
    lesson = term.lessons[0]
    for statement in lesson.statements[:50]:
        parse_statement(statement, version="1.0.3")
    observed = [s for s in lesson.statements if s["verb"]["id"] == v.OBSERVED]
    raised = [s for s in lesson.statements if s["verb"]["id"] == v.RAISED_HAND]
    assert len(observed) == CONFIG.students * CONFIG.windows and raised
    first = observed[0]
    assert first["object"]["definition"]["type"] == v.CLASS_SESSION
    assert first["context"]["platform"] == v.SOURCE_CAMERA
    assert first["result"]["response"] in (*POSTURES, UNCERTAIN)
    assert v.EXT_EXPRESSION in first["result"]["extensions"]
    assert first["actor"]["account"]["homePage"] == CONFIG.home_page
    assert simulate_lessons(CONFIG).lessons[3].statements == term.lessons[3].statements


def test_statistics_read_from_the_store_match_the_statements(term: SimulatedTerm, stored: Path) -> None:
    with open_store(stored, read_only=True) as store:
        stats = lesson_statistics(store, [lesson.activity_id for lesson in term.lessons])
    assert stats.lessons == [lesson.activity_id for lesson in term.lessons] and not stats.missing
    lesson = term.lessons[7]
    observed = [s["result"] for s in lesson.statements if s["verb"]["id"] == v.OBSERVED]
    postures = Counter(r["response"] for r in observed if r["response"] != UNCERTAIN)
    states = Counter(r["extensions"].get(v.EXT_EXPRESSION_STATE) for r in observed)
    raises = sum(s["verb"]["id"] == v.RAISED_HAND for s in lesson.statements)
    row = dict(zip(FEATURES, stats.x[7], strict=True))
    assert row["phone_share"] == pytest.approx(postures["phone"] / sum(postures.values()))
    assert row["positive_expression_share"] == pytest.approx(
        states["positive"] / (states["positive"] + states["negative"])
    )
    assert row["hand_raises_per_student"] == pytest.approx(raises / CONFIG.students)
    assert stats.uncertain_share[7] == pytest.approx(
        sum(r["response"] == UNCERTAIN for r in observed) / len(observed)
    )


def test_storing_the_same_term_again_writes_nothing(term: SimulatedTerm, stored: Path) -> None:
    with open_store(stored) as store:
        assert store_lessons(store, term).statements_written == 0


def test_scores_recover_the_planted_quality_ordering(
    evaluation: LessonEvaluation, term: SimulatedTerm
) -> None:
    assert len(evaluation.lessons) == 50 and evaluation.rated >= 5
    assert evaluation.spearman_quality > 0.8
    assert evaluation.teacher_order_spearman > 0.9
    by_quality = sorted(term.teacher_quality, key=term.teacher_quality.__getitem__)
    scores = {str(g.instructor): g.score_predicted for g in evaluation.teachers}
    assert scores[by_quality[-1]] > scores[by_quality[0]] + 1.0
    rated = [s for s in evaluation.lessons if s.rated]
    assert all(s.score == s.rating for s in rated)
    assert evaluation.max_deviation_pct is not None and evaluation.max_deviation_pct >= 0


def test_every_score_is_explained_by_behaviours(evaluation: LessonEvaluation) -> None:
    best = max(evaluation.teachers, key=lambda g: g.score_predicted)
    drivers = evaluation.teacher_drivers[str(best.instructor)]
    assert len(drivers) == 3 and all(d.feature in FEATURES for d in drivers)
    assert sum(d.points for d in drivers) > 0
    assert all(len(s.drivers) == 3 for s in evaluation.lessons)
    assert evaluation.surrogate_r2 > 0.5
    document = evaluation.to_dict()
    assert {"groups", "max_deviation_pct", "lessons", "teacher_drivers"} <= set(document)


def test_a_lesson_without_any_read_expression_is_reported_not_scored(tmp_path: Path) -> None:
    term = simulate_lessons(LessonConfig(teachers=2, lessons_per_teacher=4, students=4, windows=4, seed=1))
    blind = term.lessons[0]
    for statement in blind.statements:
        extensions = statement.get("result", {}).get("extensions", {})
        extensions.pop(v.EXT_EXPRESSION_STATE, None)
        if v.EXT_EXPRESSION in extensions:
            extensions[v.EXT_EXPRESSION] = UNCERTAIN
    with open_store(tmp_path / "s.duckdb") as store:
        store_lessons(store, term)
        stats = lesson_statistics(store, [lesson.activity_id for lesson in term.lessons])
        assert stats.missing == {blind.activity_id: "no expression read"}
        assert blind.activity_id not in stats.lessons and stats.x.shape == (7, len(FEATURES))
        empty = lesson_statistics(store, ["https://nowhere.example/lesson"])
        assert empty.missing == {"https://nowhere.example/lesson": "no observation stored"}


def test_bad_lesson_inputs_are_clear_errors(term: SimulatedTerm, tmp_path: Path) -> None:
    with (
        open_store(tmp_path / "empty.duckdb") as store,
        pytest.raises(ProtocolError, match="no stored lesson has behaviour statistics"),
    ):
        evaluate_lessons(store, term)


def test_all_lessons_rated_is_refused(term: SimulatedTerm, stored: Path) -> None:
    with open_store(stored) as store, pytest.raises(ProtocolError, match="labelled fraction must be in"):
        evaluate_lessons(store, term, expert_share=1.0, model="lapsvm")


def test_non_finite_statistics_are_refused(
    term: SimulatedTerm, stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import learnsight.teaching.lesson_evaluation as module

    real = module.lesson_statistics

    def poisoned(store: DuckDBStore, lessons: list[str]):  # type: ignore[no-untyped-def]
        stats = real(store, lessons)
        stats.x[2, FEATURES.index("hand_raises_per_student")] = np.inf
        return stats

    monkeypatch.setattr(module, "lesson_statistics", poisoned)
    with open_store(stored) as store:
        name = term.lessons[2].lesson.lesson
        with pytest.raises(ProtocolError, match=f"lesson {name}, feature 'hand_raises_per_student': inf"):
            evaluate_lessons(store, term, model="lapsvm")


def test_expected_rating_is_the_mean_of_the_rating_model() -> None:
    rng = np.random.default_rng(3)
    quality = np.array([-2.6, -1.2, -0.3, 0.0, 0.45, 1.1, 2.4])
    draws = np.clip(np.rint(3.0 + quality[:, None] + rng.normal(0.0, 0.3, (7, 200_000))), 1, 5)
    assert expected_rating(quality, 0.3) == pytest.approx(draws.mean(axis=1), abs=0.01)
    assert expected_rating(quality, 0.0).tolist() == [1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0]


def test_the_oracle_keeps_rated_lessons_and_reads_quality_elsewhere(evaluation: LessonEvaluation) -> None:
    assert evaluation.model == "laprls"  # the lesson default: the rating as a number
    assert set(evaluation.to_dict()["model_settings"]) == {"alpha", "gamma_I"}
    document = evaluation.to_dict()["oracle_result"]
    assert document["max_deviation_pct"] == pytest.approx(evaluation.oracle_max_deviation_pct, abs=1e-3)
    rating_sd = CONFIG.rating_sd
    for teacher in evaluation.oracle_teachers:
        lessons = [s for s in evaluation.lessons if s.teacher == teacher.instructor]
        assert teacher.score_true == pytest.approx(np.mean([s.rating for s in lessons]))
        # rated lessons keep the expert's rating; the others get the mean rating of their quality
        expected = [
            s.rating if s.rated else float(expected_rating(np.array([s.quality]), rating_sd)[0])
            for s in lessons
        ]
        assert teacher.score_predicted == pytest.approx(np.mean(expected), abs=1e-3)
    assert evaluation.oracle_max_deviation_pct == pytest.approx(
        max(g.deviation_pct for g in evaluation.oracle_teachers)
    )


def test_spearman_handles_ties_and_constants() -> None:
    assert spearman(np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(0.8660254)
    assert np.isnan(spearman(np.ones(3), np.arange(3.0)))
