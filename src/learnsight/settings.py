"""Explicit configuration, read when used (never at import time).

Environment variables use the ``LEARNSIGHT_`` prefix:

``LEARNSIGHT_DB``
    The embedded DuckDB store file (default: ``learnsight.duckdb`` in the user's data directory).
``LEARNSIGHT_MEMORY_LIMIT``
    DuckDB memory limit for the store connection (default ``2GB``; larger work spills to disk).
``LEARNSIGHT_ANALYTICS_MEMORY_LIMIT``
    DuckDB memory limit while building derived tables (default ``8GB``).
``LEARNSIGHT_DATA``
    The folder with the shared real datasets (default: ``../shared/datasets`` beside the project
    checkout, else relative to the working directory).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from learnsight.errors import LearnsightError


def default_db_path() -> Path:
    """The store used when no ``--db`` is given: ``<user data dir>/learnsight/learnsight.duckdb``."""
    return user_data_path("learnsight", appauthor=False) / "learnsight.duckdb"


def _default_data_dir() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent.parent / "shared" / "datasets"
    return Path("../shared/datasets")


class Settings(BaseSettings):
    """All of learnsight's settings; construct one where it is needed."""

    model_config = SettingsConfigDict(env_prefix="LEARNSIGHT_", extra="ignore")

    db: Path = Field(default_factory=default_db_path)
    data: Path = Field(default_factory=_default_data_dir)
    activity_gap_minutes: float = 30.0
    memory_limit: str = "2GB"
    """DuckDB memory limit of the store's connection (it spills to disk beyond it)."""
    analytics_memory_limit: str = "8GB"
    """DuckDB memory limit while building derived tables (activities, indicators, weekly tensors):
    their window sorts spill to disk, and run several times slower, under the ingest limit."""


def get_settings() -> Settings:
    """Settings as the environment says now."""
    return Settings()


def dataset_path(*parts: str) -> Path:
    """Path of a shared real dataset, e.g. ``dataset_path("oulad")``.

    Raises :class:`LearnsightError` naming the setting when the path does not exist.
    """
    path = get_settings().data.joinpath(*parts)
    if not path.exists():
        raise LearnsightError(
            f"dataset not found: {path} (set LEARNSIGHT_DATA to the folder holding the datasets)"
        )
    return path


def running_in_ci() -> bool:
    """True when ``CI=true``: missing real data must then fail, not skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
