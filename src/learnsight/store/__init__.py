"""The learnsight store: one place for every statement, profile and derived table."""

from __future__ import annotations

from pathlib import Path

from learnsight.store.base import IngestBatch, IngestReport, Store, StoreStats
from learnsight.store.duckdb_store import DuckDBStore


def open_store(db: str | Path | None = None, *, read_only: bool = False) -> DuckDBStore:
    """Open (creating and migrating if needed) the store at ``db``; default from settings."""
    if db is None:
        from learnsight.settings import get_settings

        db = get_settings().db
    return DuckDBStore(Path(db), read_only=read_only)


__all__ = ["DuckDBStore", "IngestBatch", "IngestReport", "Store", "StoreStats", "open_store"]
