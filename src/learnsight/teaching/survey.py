"""Student evaluation surveys in the layout of the Turkiye student-evaluation data set (UCI, Gunduz &
Fokoue 2013): one row per evaluation, every cell an integer.

========================  =======================================================================
column                    meaning and accepted values
========================  =======================================================================
``instr``                 instructor id, integer ≥ 1
``class``                 course code, integer ≥ 1
``nb.repeat``             how many times the student has taken the course, integer ≥ 1
``attendance``            attendance level, 0–4
``difficulty``            difficulty of the course as perceived by the student, 1–5
``Q1`` … ``Q12``          statements about the **course**, 1 (disagree) – 5 (agree)
``Q13`` … ``Q28``         statements about the **instructor**, 1–5
========================  =======================================================================

:func:`load_survey` reads the file with line-exact error reporting: a missing column, an empty
cell, a non-integer cell (``3.5``, ``x``, ``nan``, ``inf``; ``3.0`` is read as 3) or a value out of
its range raises :class:`SurveyError` naming the file, the line (the header is line 1) and the column.  Extra
columns are ignored.  Nothing is dropped or repaired silently.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from learnsight.errors import LearnsightError

IntArray = NDArray[np.int64]

COURSE_ITEMS: Final[tuple[str, ...]] = tuple(f"Q{i}" for i in range(1, 13))
"""The twelve statements about the course."""
INSTRUCTOR_ITEMS: Final[tuple[str, ...]] = tuple(f"Q{i}" for i in range(13, 29))
"""The sixteen statements about the instructor."""
CONTEXT_COLUMNS: Final[tuple[str, ...]] = ("attendance", "difficulty", "nb.repeat")
GROUP_COLUMNS: Final[tuple[str, ...]] = ("instr", "class")
COLUMNS: Final[tuple[str, ...]] = (
    *GROUP_COLUMNS,
    "nb.repeat",
    "attendance",
    "difficulty",
    *COURSE_ITEMS,
    *INSTRUCTOR_ITEMS,
)
"""Every column :func:`load_survey` requires, in the data set's order."""

RANGES: Final[Mapping[str, tuple[int, int | None]]] = {
    "instr": (1, None),
    "class": (1, None),
    "nb.repeat": (1, None),
    "attendance": (0, 4),
    "difficulty": (1, 5),
    **dict.fromkeys((*COURSE_ITEMS, *INSTRUCTOR_ITEMS), (1, 5)),
}
"""Accepted integer range of each column (``None``: no upper bound)."""

ITEM_LABELS: Final[Mapping[str, str]] = {
    "Q1": "Q1 course plan and evaluation given at the start",
    "Q2": "Q2 aims and objectives stated clearly",
    "Q3": "Q3 course worth its credits",
    "Q4": "Q4 taught according to the syllabus",
    "Q5": "Q5 discussions, homework and applications satisfactory",
    "Q6": "Q6 textbook and resources sufficient and up to date",
    "Q7": "Q7 field work, labs and discussion possible",
    "Q8": "Q8 quizzes, projects and exams helped learning",
    "Q9": "Q9 enjoyed the class, eager to participate",
    "Q10": "Q10 initial expectations met",
    "Q11": "Q11 relevant to professional development",
    "Q12": "Q12 gave a new perspective",
    "attendance": "attendance level (0–4)",
    "difficulty": "perceived difficulty (1–5)",
    "nb.repeat": "times the course was taken",
}
"""Short readable names of the model's inputs (paraphrasing the data set's documentation)."""


class SurveyError(LearnsightError):
    """A survey file cannot be used; ``file``, ``line`` (1-based, the header is line 1; ``None`` for a
    file-level problem) and ``column`` say where."""

    def __init__(self, message: str, *, file: str | Path, line: int | None = None, column: str | None = None):
        self.file = str(file)
        self.line = line
        self.column = column
        where = self.file if line is None else f"{self.file}:{line}"
        field = f" column {column!r}:" if column is not None else ""
        super().__init__(f"{where}:{field} {message}")


@dataclass(frozen=True)
class Survey:
    """A validated survey: ``values[c]`` is column ``c`` as an integer array, one entry per evaluation,
    in file order; ``lines[i]`` is the file line of evaluation ``i``."""

    path: Path
    values: Mapping[str, IntArray]
    lines: IntArray

    @property
    def n(self) -> int:
        return int(self.lines.size)

    def column(self, name: str) -> IntArray:
        return self.values[name]

    def matrix(self, columns: tuple[str, ...]) -> NDArray[np.float64]:
        """The named columns side by side as floats, one row per evaluation."""
        return np.column_stack([self.values[c].astype(np.float64) for c in columns])


def load_survey(path: Path) -> Survey:
    """Read and validate a survey CSV (see the module docstring).

    Raises
    ------
    SurveyError
        The file is missing or empty, a required column is absent, or a cell is not an integer in its
        column's range; the message names the file, the line and the column.
    """
    if not path.is_file():
        raise SurveyError("no such file", file=path)
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise SurveyError("empty file, expected a header line", file=path, line=1)
        names = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise SurveyError(
                f"missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}",
                file=path,
                line=1,
                column=missing[0],
            )
        index = {c: names.index(c) for c in COLUMNS}
        columns: dict[str, list[int]] = {c: [] for c in COLUMNS}
        lines: list[int] = []
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            for c, i in index.items():
                cell = row[i].strip() if i < len(row) else ""
                columns[c].append(_integer(cell, c, path, line))
            lines.append(line)
    if not lines:
        raise SurveyError("no evaluations after the header", file=path, line=2)
    return Survey(
        path=path,
        values={c: np.asarray(v, dtype=np.int64) for c, v in columns.items()},
        lines=np.asarray(lines, dtype=np.int64),
    )


def _integer(cell: str, column: str, path: Path, line: int) -> int:
    low, high = RANGES[column]
    expected = f"an integer {low}–{high}" if high is not None else f"an integer ≥ {low}"
    if not cell:
        raise SurveyError(f"empty cell, expected {expected}", file=path, line=line, column=column)
    try:
        number = float(cell)
    except ValueError:
        raise SurveyError(f"{cell!r} is not {expected}", file=path, line=line, column=column) from None
    if not math.isfinite(number) or not number.is_integer():
        raise SurveyError(f"{cell!r} is not {expected}", file=path, line=line, column=column)
    value = int(number)
    if value < low or (high is not None and value > high):
        raise SurveyError(
            f"{value} is out of range, expected {expected}", file=path, line=line, column=column
        )
    return value
