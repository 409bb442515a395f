"""Where indicator SQL runs: the embedded DuckDB store, or Apache Spark over exported Parquet.

An engine offers the three operations the indicator pipeline needs — create the as-of views, run
a query to Arrow, and run a *grouped map* (a Python function applied to each group's rows, for
sequence measures such as real entropy that SQL cannot express).  The indicator definitions and
the grouped-map functions are the same for every engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from learnsight.store.duckdb_store import DuckDBStore

GroupFunction = Callable[[pa.Table], pa.Table]
"""Maps the rows of one group (all columns, keys included) to output rows."""


class Engine(Protocol):
    """What the indicator pipeline asks of an execution engine."""

    name: str

    def create_views(self, views: Sequence[tuple[str, str]]) -> None:
        """Create (or replace) temporary views, given in DuckDB SQL."""

    def query(self, sql: str) -> pa.Table:
        """Run a DuckDB-dialect query and return the result as Arrow."""

    def grouped_map(self, sql: str, keys: Sequence[str], fn: GroupFunction, schema: pa.Schema) -> pa.Table:
        """Apply ``fn`` to the rows of each group of ``sql``'s result (grouped by ``keys``)."""


class DuckDBEngine:
    """Runs indicator SQL inside the store's own DuckDB connection."""

    name = "duckdb"

    def __init__(self, store: DuckDBStore) -> None:
        self.store = store

    def create_views(self, views: Sequence[tuple[str, str]]) -> None:
        for name, sql in views:
            self.store.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def query(self, sql: str) -> pa.Table:
        with self.store.analytics():
            table: pa.Table = self.store.con.sql(sql).to_arrow_table()
        return table

    def grouped_map(self, sql: str, keys: Sequence[str], fn: GroupFunction, schema: pa.Schema) -> pa.Table:
        data = self.query(f"SELECT * FROM ({sql}) q ORDER BY {', '.join(keys)}")
        return apply_grouped(data, keys, fn, schema)


def apply_grouped(data: pa.Table, keys: Sequence[str], fn: GroupFunction, schema: pa.Schema) -> pa.Table:
    """Apply ``fn`` per group of a table already **sorted** by ``keys`` (no per-row Python)."""
    if data.num_rows == 0:
        return schema.empty_table()
    # Group boundaries: rows where any key differs from the previous row.
    change = None
    for key in keys:
        col = data.column(key)
        differs = pc.not_equal(col.slice(1), col.slice(0, data.num_rows - 1))
        differs = pc.fill_null(differs, True)
        change = differs if change is None else pc.or_(change, differs)
    starts = [0] + [i + 1 for i in pc.indices_nonzero(change).to_pylist()] if change is not None else [0]
    bounds = [*starts, data.num_rows]
    parts = [fn(data.slice(a, b - a)) for a, b in itertools.pairwise(bounds)]
    return pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])
