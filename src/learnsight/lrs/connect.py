"""Opening an LRS backend from a target: a DuckDB file path or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path

from learnsight.lrs.backend import LRSBackend

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: Path | str) -> bool:
    """True when ``target`` is a PostgreSQL connection URL."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def open_backend(target: Path | str) -> LRSBackend:
    """The backend at ``target``: the path of a DuckDB store (created when new).  A
    ``postgresql://`` URL is refused until the PostgreSQL backend lands (issue 6)."""
    if is_postgres(target):
        raise ValueError(f"{target}: the PostgreSQL backend is not available yet; use a DuckDB store path")
    from learnsight.lrs.duckdb_backend import DuckDBBackend

    return DuckDBBackend(target)
