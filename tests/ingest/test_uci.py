"""UCI Student Performance importer: linking across courses, ambiguity report, bad rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from learnsight.errors import IngestError
from learnsight.ingest.uci import ATTRIBUTES, HOME_PAGE, course_iri, ingest_uci
from learnsight.store import DuckDBStore, open_store
from learnsight.xapi import vocab


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    """An in-memory store: importer tests need no file, and it opens in half the time."""
    with open_store(":memory:") as s:
        yield s


BASE = {
    "school": "GP", "sex": "F", "age": "17", "address": "U", "famsize": "GT3", "Pstatus": "T",
    "Medu": "2", "Fedu": "2", "Mjob": "other", "Fjob": "other", "reason": "home",
    "guardian": "mother", "traveltime": "1", "studytime": "2", "failures": "0",
    "schoolsup": "no", "famsup": "yes", "paid": "no", "activities": "no", "nursery": "yes",
    "higher": "yes", "internet": "yes", "romantic": "no", "famrel": "4", "freetime": "3",
    "goout": "3", "Dalc": "1", "Walc": "1", "health": "5", "absences": "2",
    "G1": "10", "G2": "11", "G3": "12",
}  # fmt: skip
NUMERIC = {"age", "Medu", "Fedu", "traveltime", "studytime", "failures", "famrel", "freetime",
           "goout", "Dalc", "Walc", "health", "absences", "G3"}  # fmt: skip


def line(**changes: str) -> str:
    """One data line in the UCI style: text quoted, numbers bare (G1/G2 quoted as in the files)."""
    values = {**BASE, **changes}
    return ";".join(values[a] if a in NUMERIC else f'"{values[a]}"' for a in ATTRIBUTES)


def write(folder: Path, course: str, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"student-{course}.csv"
    path.write_text(";".join(ATTRIBUTES) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Math: linked A (line 2), Math-only B (3), ambiguous C (4).
    Portuguese: linked A (2), ambiguous C x2 (3 agrees on shared attributes, 4 does not),
    duplicate-key D x2 (5, 6)."""
    d = tmp_path / "uci"
    write(d, "mat", [
        line(),                                     # A
        line(age="18", G3="8"),                     # B, Math only
        line(age="16", Mjob="teacher"),             # C
    ])  # fmt: skip
    write(d, "por", [
        line(G1="14", G2="15", G3="16"),            # A
        line(age="16", Mjob="teacher"),             # C, agrees with the Math row
        line(age="16", Mjob="teacher", health="2"), # C', differs on a shared attribute
        line(school="MS", sex="M"),                 # D
        line(school="MS", sex="M", goout="5"),      # D' (same key, same course)
    ])  # fmt: skip
    return d


def test_links_students_and_reports_ambiguity(store: DuckDBStore, folder: Path) -> None:
    report = ingest_uci(store, folder)
    d = report.details
    assert report.rows_read == 8
    assert report.statements_written == 8 * 3
    assert d["linked_students"] == 1
    assert d["mat_only_students"] == 2  # B and the ambiguous Math row of C
    assert d["por_only_students"] == 4  # C, C', D, D'
    assert d["students"] == 7
    assert d["ambiguous_groups"] == 1
    assert d["ambiguous_rows"] == 3
    assert d["duplicate_key_groups"] == 1 and d["duplicate_key_rows"] == 2
    assert d["published_merge_pairs"] == 1 + 2
    assert d["linked_attribute_conflicts"] == 0
    by_row = {(m["file"], m["line"]): m for m in d["ambiguous_matches"]}
    assert set(by_row) == {("student-mat.csv", 4), ("student-por.csv", 3), ("student-por.csv", 4)}
    mat_c = by_row["student-mat.csv", 4]
    assert mat_c["candidates"] == 2
    assert mat_c["candidate_rows"] == ["student-por.csv:3", "student-por.csv:4"]
    assert mat_c["agreeing_on_shared_attributes"] == ["student-por.csv:3"]
    assert mat_c["student"].endswith("-mat1")
    assert by_row["student-por.csv", 4]["agreeing_on_shared_attributes"] == []
    assert d["ambiguous_rows_with_one_agreeing_candidate"] == 2

    # The linked student has one actor key in both courses; the ambiguous rows have three.
    keys = store.con.execute(
        "SELECT actor_key, list(DISTINCT course ORDER BY course) FROM statements "
        "GROUP BY actor_key HAVING count(DISTINCT course) = 2"
    ).fetchall()
    assert len(keys) == 1
    assert keys[0][0].startswith(f"account:{HOME_PAGE}|GP-")
    assert keys[0][1] == [course_iri("mat"), course_iri("por")]
    assert store.scalar("SELECT count(DISTINCT actor_key) FROM statements") == 7

    # Re-import writes nothing.
    again = ingest_uci(store, folder)
    assert again.statements_written == 0 and again.statements_skipped == 24


def test_grade_statements(store: DuckDBStore, folder: Path) -> None:
    ingest_uci(store, folder)
    rows = store.con.execute(
        "SELECT object_id, ts, score_raw, score_scaled, score_min, score_max, success, verb_id, "
        "source, activity_type, extensions FROM statements s WHERE course = ? "
        "AND actor_key IN (SELECT actor_key FROM profiles WHERE "
        "json_extract_string(attributes, '$.key_status') = 'unique' "
        "AND json_extract_string(attributes, '$.age') = '17' "
        "AND course = '') ORDER BY ts",
        [course_iri("por")],
    ).fetchall()
    assert [r[0] for r in rows] == [f"{course_iri('por')}/period/{p}" for p in (1, 2, 3)]
    assert [str(r[1]) for r in rows] == [
        "2005-12-16 12:00:00", "2006-04-07 12:00:00", "2006-06-16 12:00:00"
    ]  # fmt: skip
    assert [r[2] for r in rows] == [14.0, 15.0, 16.0]
    assert rows[2][3] == pytest.approx(0.8)
    assert rows[2][4:6] == (0.0, 20.0)
    assert [r[6] for r in rows] == [None, None, True]
    assert {r[7] for r in rows} == {vocab.SCORED}
    assert {r[8] for r in rows} == {vocab.SOURCE_REGISTRY}
    assert {r[9] for r in rows} == {vocab.ASSESSMENT}
    assert json.loads(rows[0][10]) == {"context": {vocab.EXT_DATE_IMPUTED: True}}
    failed = store.scalar(
        "SELECT success FROM statements WHERE score_raw = 8 AND object_id LIKE '%/period/3'"
    )
    assert failed is False


def test_profiles_keep_all_attributes(store: DuckDBStore, folder: Path) -> None:
    report = ingest_uci(store, folder)
    assert report.profiles_written == 7 + 8
    shared = json.loads(
        store.scalar(
            "SELECT attributes FROM profiles WHERE course = '' AND "
            "json_extract_string(attributes, '$.key_status') = 'unique' "
            "AND json_extract_string(attributes, '$.age') = '17' AND "
            "json_extract_string(attributes, '$.school') = 'GP'"
        )
    )
    per_course = json.loads(
        store.scalar(
            "SELECT attributes FROM profiles WHERE course = ? AND actor_key = ("
            "SELECT actor_key FROM statements WHERE score_raw = 16)",
            [course_iri("por")],
        )
    )
    assert shared["courses"] == ["mat", "por"]
    assert shared["nursery"] is True and shared["age"] == 17 and shared["Mjob"] == "other"
    kept = set(shared) | set(per_course)
    assert set(ATTRIBUTES) <= kept
    assert per_course["G3"] == 16 and per_course["source_line"] == 2
    assert per_course["source_file"] == "student-por.csv"
    assert store.scalar("SELECT max(retakes) FROM profiles WHERE course <> ''") == 0


def test_single_file(store: DuckDBStore, folder: Path) -> None:
    report = ingest_uci(store, folder / "student-mat.csv")
    assert report.details["files"] == {"mat": "student-mat.csv"}
    assert report.details["linked_students"] == 0
    assert report.details["ambiguous_groups"] == 0
    assert report.statements_written == 9


def test_malformed_rows_rejected_with_file_and_line(store: DuckDBStore, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write(folder, "mat", [line(), line(G1="abc"), line(G3="21"), line() + ';"extra"'])
    with pytest.raises(IngestError) as caught:
        ingest_uci(store, folder)
    reasons = {r.line: r.reason for r in caught.value.rejections}
    assert set(reasons) == {3, 4, 5}
    assert "G1" in reasons[3] and "whole number" in reasons[3]
    assert "G3: 21 outside 0–20" in reasons[4]
    assert "expected 33 fields, found 34" in reasons[5]
    assert "student-mat.csv:3" in str(caught.value)
    assert store.count_statements() == 0
    assert store.scalar("SELECT count(*) FROM profiles") == 0

    report = ingest_uci(store, folder, max_rejects=3)
    assert report.rows_rejected == 3 and report.statements_written == 3
    recorded = store.con.execute("SELECT file, line FROM rejected_rows ORDER BY line").fetchall()
    assert recorded == [("student-mat.csv", 3), ("student-mat.csv", 4), ("student-mat.csv", 5)]


def test_missing_column(store: DuckDBStore, tmp_path: Path) -> None:
    folder = tmp_path / "cols"
    folder.mkdir()
    header = ";".join(a for a in ATTRIBUTES if a != "G2")
    (folder / "student-por.csv").write_text(header + "\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"student-por\.csv.*missing column\(s\) G2"):
        ingest_uci(store, folder)
    assert store.count_statements() == 0


def test_folder_without_files(store: DuckDBStore, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"no student-mat\.csv or student-por\.csv"):
        ingest_uci(store, tmp_path)
    other = tmp_path / "grades.csv"
    other.write_text("a\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"expected student-mat\.csv"):
        ingest_uci(store, other)


@pytest.mark.realdata
def test_real_dataset(store: DuckDBStore, uci_dir: Path) -> None:
    report = ingest_uci(store, uci_dir)
    d = report.details
    assert report.rows_read == 395 + 649 and report.rows_rejected == 0
    assert report.statements_written == 3 * (395 + 649)
    assert d["published_merge_pairs"] == 382
    assert d["linked_students"] == 358
    assert d["ambiguous_groups"] == 8
    assert d["ambiguous_rows"] == 28
    assert d["mat_only_students"] == 37 and d["por_only_students"] == 291
    assert d["students"] == 686
    assert d["duplicate_key_groups"] == 3 and d["duplicate_key_rows"] == 7
    assert d["linked_attribute_conflicts"] == 0
    assert d["ambiguous_rows_with_one_agreeing_candidate"] == 24
    first = d["ambiguous_matches"][0]
    assert (first["file"], first["line"], first["candidates"]) == ("student-mat.csv", 80, 2)
    assert first["candidate_rows"] == ["student-por.csv:80", "student-por.csv:157"]
    candidates = sorted(m["candidates"] for m in d["ambiguous_matches"])
    assert candidates == [1] * 8 + [2] * 20  # 4 x (1 + 2) rows and 4 x (2 + 2) rows
    assert store.scalar("SELECT count(DISTINCT actor_key) FROM profiles") == 686
    again = ingest_uci(store, uci_dir)
    assert again.statements_written == 0
