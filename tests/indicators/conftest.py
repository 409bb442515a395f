"""One local Spark session for every Spark test of the run (starting Spark takes 20-60 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """A ``local[2]`` session (UI off, UTC); imported lazily so DuckDB-only runs never start a JVM."""
    from learnsight.indicators.spark_engine import local_spark

    session = local_spark(app_name="learnsight-tests", cores=2, memory="2g")
    try:
        yield session
    finally:
        session.stop()
