"""The store's typed tables, as one definition shared by every backend and importer.

Importers hand the store Arrow data whose columns are a subset of these; the store fills the rest
with NULL (or the column default).  Keeping the column list here, not in each importer, is what
lets a new backend (PostgreSQL) implement the same interface.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

STATEMENT_COLUMNS: Final[dict[str, pa.DataType]] = {
    "id": pa.string(),
    "actor_key": pa.string(),
    "actor_name": pa.string(),
    "verb_id": pa.string(),
    "object_id": pa.string(),
    "object_type": pa.string(),
    "activity_type": pa.string(),
    "ts": pa.timestamp("us"),
    "stored": pa.timestamp("us"),
    "source": pa.string(),
    "course": pa.string(),
    "registration": pa.string(),
    "score_scaled": pa.float64(),
    "score_raw": pa.float64(),
    "score_min": pa.float64(),
    "score_max": pa.float64(),
    "success": pa.bool_(),
    "completion": pa.bool_(),
    "response": pa.string(),
    "duration_s": pa.float64(),
    "quantity": pa.float64(),
    "extensions": pa.string(),
    "raw": pa.string(),
    "voided": pa.bool_(),
}
"""Columns an importer may provide for ``statements`` (``batch_id`` is set by the store)."""

REQUIRED_STATEMENT_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "actor_key",
    "verb_id",
    "object_id",
    "object_type",
    "ts",
    "source",
)

PROFILE_COLUMNS: Final[dict[str, pa.DataType]] = {
    "actor_key": pa.string(),
    "course": pa.string(),
    "source": pa.string(),
    "display_name": pa.string(),
    "prior_gpa": pa.float64(),
    "retakes": pa.int32(),
    "attributes": pa.string(),
}
"""Columns an importer may provide for ``profiles`` (static learner attributes)."""

REQUIRED_PROFILE_COLUMNS: Final[tuple[str, ...]] = ("actor_key", "source")

COURSE_COLUMNS: Final[dict[str, pa.DataType]] = {
    "course": pa.string(),
    "code": pa.string(),
    "title": pa.string(),
    "start_ts": pa.timestamp("us"),
    "length_days": pa.int32(),
    "source": pa.string(),
}
"""Columns an importer may provide for ``courses`` (the course calendar)."""

REQUIRED_COURSE_COLUMNS: Final[tuple[str, ...]] = ("course", "code", "source")

STATEMENT_SCHEMA: Final[pa.Schema] = pa.schema(list(STATEMENT_COLUMNS.items()))
PROFILE_SCHEMA: Final[pa.Schema] = pa.schema(list(PROFILE_COLUMNS.items()))
