"""The store interface every backend implements (DuckDB now; PostgreSQL for the LRS later).

Importers never talk SQL to the store: they hand it an :class:`IngestBatch` of Arrow data in the
columns of :mod:`learnsight.store.schema`, and :meth:`Store.ingest` writes it **atomically** (all or
nothing) and **idempotently** (statements whose id is already stored are skipped, not duplicated).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import pyarrow as pa

from learnsight.errors import Rejection


@dataclass
class IngestBatch:
    """What an importer produced from one source, ready to be written in one transaction."""

    kind: str
    source: str
    rows_read: int
    statements: pa.Table | pa.RecordBatchReader | None = None
    profiles: pa.Table | None = None
    courses: pa.Table | None = None
    rejections: Sequence[Rejection] = ()
    details: dict[str, Any] = field(default_factory=dict)
    new_ids: bool = False
    """The writer has checked, holding the store's only writable connection, that every statement
    id is new and occurs once (the LRS does, :func:`learnsight.lrs.statements.store_groups`): the
    store then skips its own anti-join against the stored ids, most of a small batch's cost, and
    still refuses the batch if an id repeats within it.  Needs ``statements`` as a ``pa.Table``."""


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did: the figures every importer reports."""

    batch_id: int
    kind: str
    source: str
    rows_read: int
    statements_written: int
    statements_skipped: int
    profiles_written: int
    rejections: tuple[Rejection, ...]
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejections)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "kind": self.kind,
            "source": self.source,
            "rows_read": self.rows_read,
            "statements_written": self.statements_written,
            "statements_skipped": self.statements_skipped,
            "profiles_written": self.profiles_written,
            "rows_rejected": self.rows_rejected,
            "rejections": [str(r) for r in self.rejections[:100]],
            "seconds": round(self.seconds, 3),
            "details": self.details,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)


@dataclass(frozen=True)
class StoreStats:
    """Counts for ``learnsight stats``."""

    statements: int
    voided: int
    actors: int
    profiles: int
    first_ts: Any
    last_ts: Any
    by_source: list[tuple[str, int]]
    by_verb: list[tuple[str, int]]
    by_course: list[tuple[str | None, int]]
    batches: list[dict[str, Any]]
    rejected_rows: int
    activities: int | None


class Store(ABC):
    """A learnsight store: statements, learner profiles, ingest history."""

    @abstractmethod
    def ingest(self, batch: IngestBatch, *, max_rejects: int = 0) -> IngestReport:
        """Write a batch atomically and idempotently.

        Raises :class:`~learnsight.errors.IngestError` (store unchanged) when the batch has more than
        ``max_rejects`` rejected rows, when reading its data fails midway, or when it holds two
        statements with the same id.  Rejected rows within the allowance are recorded.
        """

    @abstractmethod
    def count_statements(self) -> int:
        """Number of stored statements (voided ones included)."""

    @abstractmethod
    def get_statement(self, statement_id: str) -> dict[str, Any] | None:
        """The full statement (as received, or rebuilt from its columns), or ``None``."""

    @abstractmethod
    def stats(self) -> StoreStats:
        """Counts by source, verb and course, date range, rejected rows."""

    @abstractmethod
    def close(self) -> None:
        """Release the backend's resources."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
