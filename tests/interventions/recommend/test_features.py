"""The indicators as the fill's design matrix (learnsight.interventions.recommend.features)."""

from __future__ import annotations

import numpy as np

from learnsight.indicators import DuckDBEngine, compute_indicators
from learnsight.indicators.asof import AsOf
from learnsight.interventions.recommend import (
    indicator_features,
    load_interactions,
    resource_courses,
    standardise,
)
from learnsight.store import DuckDBStore


def test_standardise_imputes_medians_and_drops_constant_columns() -> None:
    names, z = standardise(
        {"a": np.array([1.0, np.nan, 3.0, 10.0]), "b": np.full(4, 2.0), "c": np.full(4, np.nan)}
    )
    assert names == ("a",)
    filled = np.array([1.0, 3.0, 3.0, 10.0])
    assert np.allclose(z[:, 0], (filled - filled.mean()) / filled.std())


def test_campus_features_are_finite_standardised_and_course_specific(campus_store: DuckDBStore) -> None:
    tables = compute_indicators(DuckDBEngine(campus_store), AsOf())
    course = resource_courses(campus_store)[0]
    users = load_interactions(campus_store, "resources", course=course).users
    f = indicator_features(campus_store, tables, [*users, "account:nobody|x"], course=course)
    assert f.matrix.shape == (len(users) + 1, f.n_features)
    assert np.all(np.isfinite(f.matrix))
    assert np.allclose(f.matrix.mean(axis=0), 0.0) and np.allclose(f.matrix.std(axis=0), 1.0)
    assert {"prior_gpa", "clicks", "attendance_rate"} <= set(f.names)  # student, course, profile
    assert any(n.startswith("profile.major=") for n in f.names)
    assert not any(n.startswith("profile.student_id") for n in f.names)  # an identifier, not a category
    student_only = indicator_features(campus_store, tables, users)
    assert "clicks" not in student_only.names and "prior_gpa" in student_only.names
    week0 = indicator_features(
        campus_store, compute_indicators(DuckDBEngine(campus_store), AsOf(week=0)), users
    )
    assert "late_returns" not in week0.names  # nothing happened before the semester: no spread
