"""Learning paths from successful learners (learnsight.interventions.recommend.paths)."""

from __future__ import annotations

import pytest

from learnsight.interventions.recommend import RecommendError, from_triples, learning_path, next_steps

DAY = 86400.0


def _course() -> object:
    # three successful learners use r1 → r2 → r3 (r4 by one of them only); a failing one goes r3 first
    rows = [
        ("a", "r1", 0), ("a", "r2", 2), ("a", "r3", 5),
        ("b", "r1", 1), ("b", "r2", 3), ("b", "r3", 6), ("b", "r4", 0),
        ("c", "r1", 0), ("c", "r2", 2), ("c", "r3", 4),
        ("z", "r3", 0), ("z", "r5", 1),
    ]  # fmt: skip
    return from_triples(
        "paths", [r[0] for r in rows], [r[1] for r in rows], [1] * len(rows), [r[2] * DAY for r in rows],
        course="C", labels={"r1": "Intro"},
    )  # fmt: skip


def test_path_follows_the_successful_learners_median_order() -> None:
    x = _course()
    path = learning_path(x, {"a", "b", "c"}, min_share=0.5, start_ts=0.0)  # type: ignore[arg-type]
    assert [s.item_id for s in path.steps] == ["r1", "r2", "r3"]
    assert [s.day for s in path.steps] == [0.0, 2.0, 5.0]
    assert path.steps[0].label == "Intro" and path.n_successful == 3
    wide = learning_path(x, {"a", "b", "c"}, min_share=0.2, start_ts=0.0)  # type: ignore[arg-type]
    # r4 ties r1 on day 0: the more widely used first; r5 is only the failing learner's
    assert [s.item_id for s in wide.steps] == ["r1", "r4", "r2", "r3"]


def test_next_steps_skip_what_was_used_and_keep_path_order() -> None:
    x = _course()
    path = learning_path(x, {"a", "b", "c"}, min_share=0.5)  # type: ignore[arg-type]
    z = x.user_row("z")  # type: ignore[attr-defined]
    used = {j for j in range(len(x.items)) if x.counts[z, j] > 0}  # type: ignore[attr-defined]
    assert [s.item_id for s in next_steps(path, used, 5)] == ["r1", "r2"]
    assert [s.position for s in next_steps(path, set(), 2)] == [1, 2]


def test_no_successful_learner_is_an_error() -> None:
    with pytest.raises(RecommendError, match="no learner of C has a known successful outcome"):
        learning_path(_course(), {"nobody"})  # type: ignore[arg-type]
