"""Behaviour indicators (SPEC §2): per student, and per student and course, at an as-of cut-off.

>>> from learnsight.indicators import AsOf
>>> AsOf.parse("week:6")
AsOf(date=None, week=6)
"""

from learnsight.indicators.asof import AsOf
from learnsight.indicators.catalog import INDICATORS, Indicator
from learnsight.indicators.compute import IndicatorTables, compute_indicators
from learnsight.indicators.engine import DuckDBEngine, Engine
from learnsight.indicators.persist import save_indicators, wide_table

__all__ = [
    "INDICATORS",
    "AsOf",
    "DuckDBEngine",
    "Engine",
    "Indicator",
    "IndicatorTables",
    "compute_indicators",
    "save_indicators",
    "wide_table",
]
