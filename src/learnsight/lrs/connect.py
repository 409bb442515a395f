"""Opening an LRS backend from a target: a DuckDB file path or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path

from learnsight.lrs.backend import LRSBackend

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: Path | str) -> bool:
    """True when ``target`` is a PostgreSQL connection URL."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def open_backend(target: Path | str) -> LRSBackend:
    """The backend at ``target``: ``postgresql://user@host:port/db`` opens the PostgreSQL backend
    (the ``postgres`` extra), anything else is the path of a DuckDB store (created when new)."""
    if is_postgres(target):
        from learnsight.lrs.postgres_backend import PostgresBackend

        return PostgresBackend(str(target))
    from learnsight.lrs.duckdb_backend import DuckDBBackend

    return DuckDBBackend(target)
