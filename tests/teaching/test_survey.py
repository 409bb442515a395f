"""The survey reader: the real Turkiye file loads whole; every bad cell is an error naming the file,
the line and the column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from learnsight.teaching.survey import COLUMNS, SurveyError, load_survey

HEADER = ",".join(COLUMNS)
GOOD = ",".join(["1", "2", "1", "0", "4", *["3"] * 28])


def write(tmp_path: Path, *lines: str, name: str = "survey.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.realdata
def test_real_survey_loads_every_evaluation(teaching_survey: Path) -> None:
    survey = load_survey(teaching_survey)
    assert survey.n == 5820
    assert sorted(set(survey.column("instr").tolist())) == [1, 2, 3]
    assert len(set(survey.column("class").tolist())) == 13
    items = survey.matrix(tuple(f"Q{i}" for i in range(1, 29)))
    assert items.min() == 1 and items.max() == 5
    assert survey.lines[0] == 2 and survey.lines[-1] == 5821


def test_a_good_row_and_integral_floats_are_read(tmp_path: Path) -> None:
    survey = load_survey(write(tmp_path, HEADER, GOOD, GOOD.replace(",4,", ",4.0,", 1)))
    assert survey.n == 2
    assert np.array_equal(survey.column("difficulty"), [4, 4])


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("x", "'x' is not an integer 1–5"),
        ("3.5", "'3.5' is not an integer 1–5"),
        ("nan", "'nan' is not an integer 1–5"),
        ("inf", "'inf' is not an integer 1–5"),
        ("", "empty cell"),
        ("6", "6 is out of range, expected an integer 1–5"),
        ("0", "0 is out of range"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(tmp_path: Path, cell: str, reason: str) -> None:
    cells = GOOD.split(",")
    cells[COLUMNS.index("Q7")] = cell
    path = write(tmp_path, HEADER, GOOD, ",".join(cells))
    with pytest.raises(SurveyError) as info:
        load_survey(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: column 'Q7':") and reason in message
    assert (info.value.line, info.value.column) == (3, "Q7")


def test_attendance_has_its_own_range(tmp_path: Path) -> None:
    cells = GOOD.split(",")
    cells[COLUMNS.index("attendance")] = "5"
    with pytest.raises(
        SurveyError, match=r":2: column 'attendance': 5 is out of range, expected an integer 0–4"
    ):
        load_survey(write(tmp_path, HEADER, ",".join(cells)))


def test_a_missing_column_names_it_on_line_one(tmp_path: Path) -> None:
    header = HEADER.replace(",Q13,", ",Q13x,")
    path = write(tmp_path, header, GOOD)
    with pytest.raises(SurveyError) as info:
        load_survey(path)
    assert str(info.value).startswith(f"{path}:1: column 'Q13': missing column(s) Q13;")


def test_empty_and_absent_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(SurveyError, match="empty file"):
        load_survey(write(tmp_path, ""))
    with pytest.raises(SurveyError, match=":2: no evaluations after the header"):
        load_survey(write(tmp_path, HEADER, name="header-only.csv"))
    with pytest.raises(SurveyError, match="no such file"):
        load_survey(tmp_path / "absent.csv")


def test_a_short_row_is_an_empty_cell_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, GOOD, ",".join(GOOD.split(",")[:-1]))
    with pytest.raises(SurveyError, match=r":3: column 'Q28': empty cell"):
        load_survey(path)
