"""Meal regularity: real entropy of each meal's day-by-day first-swipe slots (SPEC §2.2).

The swipes are prepared in SQL (``sql/meal_swipes.sql``: one row per student, meal and day with a
first swipe); :func:`meal_entropy_group` turns one (student, meal) group into its symbol sequence —
a missed day is :data:`~learnsight.indicators.formulas.real_entropy.MISSED_MEAL` — and its real
entropy ``E``.  The same function runs as DuckDB's and Spark's grouped-map step.
"""

from __future__ import annotations

import pyarrow as pa

from learnsight.indicators.formulas.real_entropy import MISSED_MEAL, real_entropy

MEALS: tuple[str, ...] = ("breakfast", "lunch", "dinner")

MEAL_ENTROPY_SCHEMA = pa.schema(
    [
        ("actor_key", pa.string()),
        ("meal", pa.string()),
        ("entropy", pa.float64()),
        ("days", pa.int64()),
        ("meals_taken", pa.int64()),
    ]
)


def meal_symbols(day_index: list[int], slot: list[int], n_days: int) -> list[int]:
    """The symbol sequence over ``n_days`` days: the slot of the day's first swipe, else missed."""
    symbols = [MISSED_MEAL] * n_days
    for d, s in zip(day_index, slot, strict=True):
        symbols[d] = s
    return symbols


def meal_entropy_group(group: pa.Table) -> pa.Table:
    """Real entropy of one (student, meal) group of ``meal_swipes`` rows."""
    actor = group.column("actor_key")[0].as_py()
    meal = group.column("meal")[0].as_py()
    n_days = int(group.column("n_days")[0].as_py())
    days = [int(x) for x in group.column("day_index").to_pylist()]
    slots = [int(x) for x in group.column("slot").to_pylist()]
    entropy = real_entropy(meal_symbols(days, slots, n_days))
    return pa.table(
        {
            "actor_key": [actor],
            "meal": [meal],
            "entropy": pa.array([entropy], pa.float64()),
            "days": pa.array([n_days], pa.int64()),
            "meals_taken": pa.array([len(days)], pa.int64()),
        },
        schema=MEAL_ENTROPY_SCHEMA,
    )


def never_taken_entropy(n_days: int) -> float | None:
    """``E`` of a student who has canteen data but never took this meal (all days missed)."""
    return real_entropy([MISSED_MEAL] * n_days)
