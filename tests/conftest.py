"""Shared fixtures.

Real datasets are read from ``LEARNSIGHT_DATA`` (default ``../shared/datasets``).  When a dataset is
missing the test is skipped on a developer's machine but **fails** when ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from learnsight.settings import get_settings, running_in_ci
from learnsight.store import DuckDBStore, open_store


def _dataset(*parts: str) -> Path:
    path = get_settings().data.joinpath(*parts)
    if not path.exists():
        message = f"real dataset missing: {path} (set LEARNSIGHT_DATA)"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def data_dir() -> Path:
    """The shared datasets folder (fails in CI when missing)."""
    return _dataset()


@pytest.fixture
def oulad_dir() -> Path:
    return _dataset("oulad")


@pytest.fixture
def uci_dir() -> Path:
    return _dataset("uci-student-performance")


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """``$LEARNSIGHT_DATA/faces``: expressions/, roster/, detection/ (see its README)."""
    return _dataset("faces")


@pytest.fixture
def ssl_dir() -> Path:
    """``$LEARNSIGHT_DATA/ssl``: the semi-supervised benchmarks (USPS, MNIST 5k, breast cancer, DNA)."""
    return _dataset("ssl")


@pytest.fixture
def teaching_survey() -> Path:
    """``$LEARNSIGHT_DATA/teaching/turkiye-student-evaluation.csv``."""
    return _dataset("teaching", "turkiye-student-evaluation.csv")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    """A fresh store in a temporary DuckDB file."""
    s = open_store(tmp_path / "store.duckdb")
    try:
        yield s
    finally:
        s.close()
