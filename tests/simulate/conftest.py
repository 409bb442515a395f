"""Shared simulated campuses (module-free fixtures, simulated once per test session)."""

from __future__ import annotations

import pytest

from learnsight.simulate import Campus, CampusConfig, simulate_campus

SMALL = CampusConfig(n_students=30, n_courses=2, n_weeks=4, seed=11)
"""Small enough for every structural test (~8k statements, well under a second)."""

SIGNAL = CampusConfig(n_students=250, n_courses=2, n_weeks=4, seed=5)
"""Large enough for the planted correlations to show clearly."""


@pytest.fixture(scope="session")
def small_campus() -> Campus:
    return simulate_campus(SMALL)


@pytest.fixture(scope="session")
def signal_campus() -> Campus:
    return simulate_campus(SIGNAL)
