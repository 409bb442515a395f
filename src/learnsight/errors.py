"""One exception hierarchy for the whole project.

Every error carries the context a user needs to act on it: which file and line, which JSON path or
field, which statement id.  ``str(error)`` is always one line, suitable for the CLI, which prints it
without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class LearnsightError(Exception):
    """Root of every error that learnsight raises on purpose."""


class StoreError(LearnsightError):
    """The store cannot be opened, migrated or written."""


@dataclass(frozen=True)
class Rejection:
    """One source row that could not become a statement.

    ``line`` is 1-based and counts physical lines of the file as a text editor shows them (the
    header is line 1 for CSV files); ``None`` when the source has no lines (e.g. a JSON array).
    """

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


class IngestError(LearnsightError):
    """An import failed; the store is unchanged.

    ``rejections`` lists the offending rows (at most the first few hundred) when the failure is
    row-level; ``file`` names the source when the failure is file-level (truncated gzip, missing
    column, unknown encoding).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        rejections: tuple[Rejection, ...] = (),
    ) -> None:
        self.file = str(file) if file is not None else None
        self.rejections = rejections
        prefix = f"{self.file}: " if self.file and not message.startswith(str(self.file)) else ""
        super().__init__(prefix + message)


class MappingError(LearnsightError):
    """A CSV mapping file (TOML/YAML) is invalid; the message names the file and the field."""


class StatementValidationError(LearnsightError):
    """An xAPI statement violates the specification.

    ``path`` is the JSON path of the first violation, e.g. ``actor.mbox`` or
    ``context.contextActivities.parent[0].id``; ``errors`` lists every violation found as
    ``(path, message)`` pairs.
    """

    def __init__(self, errors: list[tuple[str, str]], *, index: int | None = None) -> None:
        if not errors:
            errors = [("", "invalid statement")]
        self.errors = errors
        self.index = index
        self.path = errors[0][0]
        where = f"statement {index}: " if index is not None else ""
        first_path, first_msg = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{where}{first_path or '<statement>'}: {first_msg}{more}")
