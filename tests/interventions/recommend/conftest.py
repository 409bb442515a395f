"""Shared fixtures of the recommendation tests: a small simulated campus in a store, and planted data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from learnsight.interventions.recommend import Interactions, from_triples
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore, open_store

CAMPUS = CampusConfig(n_students=120, n_courses=3, n_weeks=8, seed=1)


@pytest.fixture(scope="session")
def campus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("campus") / "campus.duckdb"
    with open_store(path) as store:
        write_campus(store, simulate_campus(CAMPUS))
    return path


@pytest.fixture
def campus_store(campus_db: Path) -> Iterator[DuckDBStore]:
    store = DuckDBStore(campus_db, read_only=True)
    try:
        yield store
    finally:
        store.close()


def planted(
    n_users: int = 300, n_items: int = 60, n_groups: int = 3, per_user: int = 12, seed: int = 0
) -> Interactions:
    """Users who each prefer one of ``n_groups`` item groups (a rank-``n_groups`` preference matrix):
    85 % of a user's items come from their group; within a group, items have a Zipf-like popularity,
    so popularity also carries signal and beats a random order."""
    rng = np.random.default_rng(seed)
    group_of_item = np.arange(n_items) % n_groups
    weight = 1.0 / (1.0 + np.arange(n_items) // n_groups) ** 0.8
    users, items, times = [], [], []
    for u in range(n_users):
        g = u % n_groups
        p = weight * np.where(group_of_item == g, 0.85 / weight[group_of_item == g].sum(), 0.0)
        p += weight * np.where(group_of_item != g, 0.15 / weight[group_of_item != g].sum(), 0.0)
        chosen = rng.choice(n_items, size=per_user, replace=False, p=p / p.sum())
        users += [f"u{u:04d}"] * per_user
        items += [f"i{j:03d}" for j in chosen]
        times += rng.random(per_user).tolist()
    counts = rng.integers(1, 6, len(users))
    return from_triples("resources", users, items, counts, times)


@pytest.fixture
def make_planted() -> object:
    """:func:`planted`, for tests to call with their own sizes."""
    return planted
