"""Indicator SQL files and the constants they use.

Each definition lives once, in DuckDB's dialect, in ``indicators/sql/*.sql``; ``$NAME`` placeholders
are vocabulary constants (verb IRIs, extension JSON paths, clock thresholds) substituted as SQL
literals from :func:`constants`, never user input.  :func:`render` gives the DuckDB text, and
:mod:`learnsight.indicators.spark_engine` transpiles the same text to Spark SQL with SQLGlot.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

from learnsight.indicators.formulas.interest import InterestThresholds
from learnsight.indicators.formulas.rest_regularity import (
    EARLY_MORNING_END,
    EARLY_MORNING_START,
    LATE_RETURN_AFTER,
    LATE_RETURN_BEFORE,
)
from learnsight.xapi import vocab

MEAL_WINDOWS: dict[str, tuple[int, int]] = {
    "breakfast": (5 * 60, 10 * 60 + 30),
    "lunch": (10 * 60 + 30, 15 * 60 + 30),
    "dinner": (15 * 60 + 30, 22 * 60),
}
"""Meal windows in minutes of the day: a swipe's meal is the window it falls in (SPEC §2.2)."""

SLOT_MINUTES = 30
"""Width of a meal-time symbol (SPEC §2.2 default)."""


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ext_path(part: str, iri: str) -> str:
    return f'$.{part}."{iri}"'


@cache
def constants() -> dict[str, str]:
    """Every ``$NAME`` an indicator SQL file may use, as SQL literals."""
    thresholds = InterestThresholds()
    values: dict[str, object] = {
        name: getattr(vocab, name)
        for name in (
            "RETURNED",
            "ABSENT",
            "ATTENDED",
            "CONNECTED",
            "SWIPED",
            "BORROWED",
            "PREVIEWED",
            "ANSWERED",
            "TOOK_NOTES",
            "SUBMITTED",
            "POSTED",
            "REPLIED",
            "RAISED_HAND",
            "VIEWED",
            "INTERACTED",
            "SCORED",
            "WATCHED",
            "OBSERVED",
            "FOLLOWED",
        )
    }
    values |= {
        "EXT_CATEGORY_PATH": _ext_path("context", vocab.EXT_CATEGORY),
        "EXT_THREAD_AUTHOR_PATH": _ext_path("context", vocab.EXT_THREAD_AUTHOR),
        "EXT_FULL_LENGTH_PATH": _ext_path("context", vocab.EXT_FULL_LENGTH),
        "EXT_EXPRESSION_STATE_PATH": _ext_path("result", vocab.EXT_EXPRESSION_STATE),
        "EXT_LATE_PATH": _ext_path("result", vocab.EXT_LATE),
        "EXT_DUE_PATH": _ext_path("context", vocab.EXT_DUE),
        "LATE_AFTER_HOUR": LATE_RETURN_AFTER.hour,
        "LATE_BEFORE_HOUR": LATE_RETURN_BEFORE.hour,
        "EARLY_START_HOUR": EARLY_MORNING_START.hour,
        "EARLY_END_HOUR": EARLY_MORNING_END.hour,
        "MAX_INTERNET_MINUTES": float(thresholds.daily_internet_minutes or float("inf")),
        "MAX_INTERNET_MB": float(thresholds.daily_traffic_mb or float("inf")),
        "MAX_INTERNET_SESSIONS": float(thresholds.daily_sessions or float("inf")),
        "BREAKFAST_FROM": MEAL_WINDOWS["breakfast"][0],
        "LUNCH_FROM": MEAL_WINDOWS["lunch"][0],
        "DINNER_FROM": MEAL_WINDOWS["dinner"][0],
        "DINNER_UNTIL": MEAL_WINDOWS["dinner"][1],
        "SLOT_MINUTES": float(SLOT_MINUTES),
    }
    return {k: _literal(v) for k, v in values.items()}


@cache
def render(name: str) -> str:
    """The DuckDB SQL of ``indicators/sql/<name>.sql`` with its constants substituted."""
    text = (resources.files("learnsight.indicators") / "sql" / f"{name}.sql").read_text("utf-8")
    return Template(text).substitute(constants())
