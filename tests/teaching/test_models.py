"""The teaching models' seam: the regressor's numbers, their scale, and what it may not read."""

from __future__ import annotations

import numpy as np
import pytest

from learnsight.teaching.models import DEFAULT_LESSON_MODEL, SEMI_SUPERVISED, Fitted, transduce
from learnsight.teaching.protocol import DESIGNS, ProtocolError


def ratings(n: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    quality = rng.uniform(-2.2, 2.2, n)
    x = np.column_stack([quality + rng.normal(0, 0.3, n), rng.normal(size=n)])
    levels = np.clip(np.rint(3 + quality), 1, 5).astype(np.int64)
    labelled = np.zeros(n, dtype=bool)
    for level in range(1, 6):
        labelled[np.flatnonzero(levels == level)[:3]] = True
    return x, levels, labelled


def test_laprls_predicts_numbers_and_keeps_revealed_levels() -> None:
    assert DEFAULT_LESSON_MODEL == "laprls" and "laprls" in SEMI_SUPERVISED
    x, levels, labelled = ratings()
    fitted = transduce("laprls", x, levels, labelled, seed=0, n_levels=5)
    assert fitted.values is not None
    assert np.array_equal(fitted.values[labelled], levels[labelled])
    assert fitted.values.min() >= 1.0 and fitted.values.max() <= 5.0
    assert np.array_equal(fitted.levels, np.clip(np.rint(fitted.values), 1, 5))
    hidden = ~labelled
    assert np.corrcoef(fitted.values[hidden], levels[hidden])[0, 1] > 0.9
    assert set(fitted.settings) == {"alpha", "gamma_I"}


def test_without_n_levels_the_range_comes_from_revealed_levels_only() -> None:
    x, levels, labelled = ratings()
    labelled &= levels < 5  # the expert never said 5; hidden rows still hold 5s
    fitted = transduce("laprls", x, levels, labelled, seed=0)
    assert fitted.values is not None and fitted.values.max() <= 4.0


def test_scores_interpolate_between_level_values() -> None:
    design = DESIGNS["3"]  # values 1.75, 3, 4.25
    levels = np.array([1, 2, 3, 2])
    regressor = Fitted("laprls", levels, 0.0, values=np.array([1.0, 1.5, 3.0, 2.2]))
    assert regressor.scores(design) == pytest.approx([1.75, 2.375, 4.25, 3.25])
    classifier = Fitted("svm", levels, 0.0)
    assert classifier.scores(design) == pytest.approx([1.75, 3.0, 4.25, 3.0])


def test_too_few_labels_for_leave_one_out_is_a_protocol_error() -> None:
    x, levels, _ = ratings()
    labelled = np.zeros(len(levels), dtype=bool)
    labelled[:2] = True
    with pytest.raises(ProtocolError, match="laprls: choosing alpha/gamma_I by leave-one-out needs"):
        transduce("laprls", x, levels, labelled, seed=0, n_levels=5)
