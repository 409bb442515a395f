"""The OULAD importer on small generated tables, on bad inputs, and on the real release."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from learnsight.errors import IngestError
from learnsight.ingest.oulad import HOME_PAGE, TABLES, ingest_oulad
from learnsight.store import DuckDBStore
from learnsight.xapi import vocab
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.keys import account_key

Rows = dict[str, list[list[str]]]


def sample_rows() -> Rows:
    """Two presentations (2013J, 2014B), three students, a duplicate click row, missing values."""
    return {
        "courses": [["AAA", "2013J", "268"], ["BBB", "2014B", "240"]],
        "assessments": [
            ["AAA", "2013J", "11", "TMA", "19", "10"],
            ["AAA", "2013J", "12", "Exam", "", "100"],
            ["BBB", "2014B", "21", "CMA", "30", "0"],
        ],
        "vle": [
            ["1001", "AAA", "2013J", "resource", "", ""],
            ["1002", "AAA", "2013J", "forumng", "1", "2"],
            ["2001", "BBB", "2014B", "oucontent", "", ""],
        ],
        "studentInfo": [
            [
                "AAA",
                "2013J",
                "1",
                "M",
                "Scotland",
                "HE Qualification",
                "90-100%",
                "55<=",
                "0",
                "240",
                "N",
                "Pass",
            ],
            [
                "AAA",
                "2013J",
                "2",
                "F",
                "Wales",
                "A Level or Equivalent",
                "",
                "0-35",
                "1",
                "60",
                "Y",
                "Withdrawn",
            ],
            [
                "BBB",
                "2014B",
                "1",
                "M",
                "Scotland",
                "HE Qualification",
                "90-100%",
                "55<=",
                "1",
                "120",
                "N",
                "Distinction",
            ],
            [
                "BBB",
                "2014B",
                "3",
                "F",
                "London Region",
                "No Formal quals",
                "0-10%",
                "35-55",
                "0",
                "60",
                "N",
                "Fail",
            ],
        ],
        "studentRegistration": [
            ["AAA", "2013J", "1", "-30", ""],
            ["AAA", "2013J", "2", "", "12"],
            ["BBB", "2014B", "1", "-5", ""],
            ["BBB", "2014B", "3", "-10", ""],
        ],
        "studentAssessment": [
            ["11", "1", "18", "0", "78"],
            ["11", "2", "20", "0", ""],
            ["12", "1", "230", "0", "35"],
            ["21", "1", "28", "1", "100"],
            ["21", "3", "31", "0", "?"],
        ],
        "studentVle": [
            ["AAA", "2013J", "1", "1001", "-10", "4"],
            ["AAA", "2013J", "1", "1001", "-10", "4"],
            ["AAA", "2013J", "1", "1002", "0", "1"],
            ["AAA", "2013J", "2", "1001", "5", "3"],
            ["BBB", "2014B", "1", "2001", "-3", "2"],
            ["BBB", "2014B", "3", "2001", "100", "7"],
        ],
    }


HEADERS = {
    **{table: list(cols) for table, cols in TABLES.items()},
    "vle": ["id_site", "code_module", "code_presentation", "activity_type", "week_from", "week_to"],
}
N_STATEMENTS = 6 + 5 + 4 + 1 + 4
"""clicks + submissions + registrations + unregistrations + final results of sample_rows()."""


def write_oulad(folder: Path, rows: Rows | None = None, *, gz: bool = True) -> Path:
    """Write the seven tables in the official layout (``studentVle`` gzipped when ``gz``)."""
    rows = sample_rows() if rows is None else rows
    folder.mkdir(parents=True, exist_ok=True)
    for table, data in rows.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(HEADERS[table])
        writer.writerows(data)
        text = buffer.getvalue()
        if table == "studentVle" and gz:
            with gzip.open(folder / "studentVle.csv.gz", "wt", encoding="utf-8") as fh:
                fh.write(text)
        else:
            (folder / f"{table}.csv").write_text(text, encoding="utf-8")
    return folder


def counts(store: DuckDBStore) -> tuple[int, int, int]:
    return (
        store.count_statements(),
        int(store.scalar("SELECT count(*) FROM ingest_batches")),
        int(store.scalar("SELECT count(*) FROM profiles")),
    )


def actor(student: str) -> str:
    return account_key(HOME_PAGE, student)


def test_sample_counts_clicks_and_details(store: DuckDBStore, tmp_path: Path) -> None:
    report = ingest_oulad(store, write_oulad(tmp_path / "oulad"))
    assert report.statements_written == N_STATEMENTS
    assert report.profiles_written == 4
    assert report.rows_read == sum(len(r) for r in sample_rows().values())
    assert report.rejections == ()
    details = report.details
    assert details["statements"] == {
        "vle_clicks": 6,
        "submissions": 5,
        "registrations": 4,
        "unregistrations": 1,
        "final_results": 4,
    }
    assert (details["n_students"], details["n_presentations"], details["clicks_total"]) == (3, 2, 21)
    assert details["scores_missing"] == 2
    assert details["registrations_date_imputed"] == 1
    clicks = store.con.execute(
        "SELECT count(*), sum(quantity) FROM statements WHERE verb_id = ?", [vocab.INTERACTED]
    ).fetchall()[0]
    assert clicks == (6, 21.0)


def test_timestamps_are_anchored_at_presentation_start(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_oulad(store, write_oulad(tmp_path / "oulad"))
    october, february = datetime(2013, 10, 1), datetime(2014, 2, 1)

    def ts(verb: str, student: str, course: str) -> list[datetime]:
        rows = store.con.execute(
            "SELECT ts FROM statements WHERE verb_id = ? AND actor_key = ? AND course = ? ORDER BY ts",
            [verb, actor(student), f"{HOME_PAGE}/course/{course}"],
        ).fetchall()
        return [r[0] for r in rows]

    assert ts(vocab.INTERACTED, "1", "AAA/2013J") == [october - timedelta(days=10)] * 2 + [october]
    assert ts(vocab.INTERACTED, "1", "BBB/2014B") == [february - timedelta(days=3)]
    assert ts(vocab.SUBMITTED, "1", "AAA/2013J") == [
        october + timedelta(days=18),
        october + timedelta(days=230),
    ]
    assert ts(vocab.REGISTERED, "1", "AAA/2013J") == [october - timedelta(days=30)]
    # A missing registration date is dated at the start and flagged.
    assert ts(vocab.REGISTERED, "2", "AAA/2013J") == [october]
    flagged = store.scalar(
        "SELECT extensions FROM statements WHERE verb_id = ? AND actor_key = ?",
        [vocab.REGISTERED, actor("2")],
    )
    assert json.loads(flagged) == {"context": {vocab.EXT_DATE_IMPUTED: True}}
    assert ts(vocab.UNREGISTERED, "2", "AAA/2013J") == [october + timedelta(days=12)]
    assert ts(vocab.PASSED, "1", "AAA/2013J") == [october + timedelta(days=268)]
    assert ts(vocab.PASSED, "1", "BBB/2014B") == [february + timedelta(days=240)]
    # The course calendar carries the same anchoring, for as-of cut-offs by course week.
    calendar = store.con.execute("SELECT code, start_ts, length_days FROM courses ORDER BY code").fetchall()
    assert calendar == [("AAA-2013J", october, 268), ("BBB-2014B", february, 240)]


def test_final_results_scores_and_objects(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_oulad(store, write_oulad(tmp_path / "oulad"))
    finals = store.con.execute(
        "SELECT actor_key, course, verb_id, success, completion, response, object_id "
        "FROM statements WHERE source = ? AND verb_id NOT IN (?, ?) ORDER BY ALL",
        [vocab.SOURCE_REGISTRY, vocab.REGISTERED, vocab.UNREGISTERED],
    ).fetchall()
    aaa, bbb = f"{HOME_PAGE}/course/AAA/2013J", f"{HOME_PAGE}/course/BBB/2014B"
    assert finals == sorted(
        [
            (actor("1"), aaa, vocab.PASSED, True, True, "Pass", aaa),
            (actor("2"), aaa, vocab.WITHDREW, None, False, "Withdrawn", aaa),
            (actor("1"), bbb, vocab.PASSED, True, True, "Distinction", bbb),
            (actor("3"), bbb, vocab.FAILED, False, True, "Fail", bbb),
        ]
    )
    scores = store.con.execute(
        "SELECT actor_key, object_id, score_raw, score_scaled, score_min, score_max, success "
        "FROM statements WHERE verb_id = ? ORDER BY ALL",
        [vocab.SUBMITTED],
    ).fetchall()
    assert scores == sorted(
        [
            (actor("1"), f"{aaa}/assessment/11", 78.0, 0.78, 0.0, 100.0, True),
            (actor("2"), f"{aaa}/assessment/11", None, None, None, None, None),
            (actor("1"), f"{aaa}/assessment/12", 35.0, 0.35, 0.0, 100.0, False),
            (actor("1"), f"{bbb}/assessment/21", 100.0, 1.0, 0.0, 100.0, True),
            (actor("3"), f"{bbb}/assessment/21", None, None, None, None, None),
        ]
    )
    types = dict(
        store.con.execute(
            "SELECT object_id, activity_type FROM statements WHERE verb_id = ?", [vocab.INTERACTED]
        ).fetchall()
    )
    assert types == {
        f"{aaa}/vle/1001": vocab.vle_activity_type("resource"),
        f"{aaa}/vle/1002": vocab.vle_activity_type("forumng"),
        f"{bbb}/vle/2001": vocab.vle_activity_type("oucontent"),
    }


def test_rebuilt_statements_carry_clicks_and_assessment_context(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_oulad(store, write_oulad(tmp_path / "oulad"))
    click_id = deterministic_id("oulad", "studentVle", "AAA", "2013J", "1", "1002", "0", "1", 1)
    click = store.get_statement(str(click_id))
    assert click is not None
    assert click["actor"]["account"] == {"homePage": HOME_PAGE, "name": "1"}
    assert click["result"]["extensions"] == {vocab.EXT_CLICKS: 1}
    assert click["context"]["platform"] == vocab.SOURCE_LMS
    banked_id = deterministic_id("oulad", "studentAssessment", "21", "1", "28", "1", "100", 1)
    banked = store.get_statement(str(banked_id))
    assert banked is not None
    assert banked["result"]["extensions"] == {vocab.EXT_IS_BANKED: True}
    assert banked["context"]["extensions"] == {
        vocab.EXT_ASSESSMENT_KIND: "CMA",
        vocab.EXT_WEIGHT: 0.0,
        vocab.EXT_DUE: "2014-03-03T00:00:00Z",
    }


def test_ids_are_deterministic_and_duplicates_all_count(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_oulad(store, write_oulad(tmp_path / "oulad"))
    dup = ("oulad", "studentVle", "AAA", "2013J", "1", "1001", "-10", "4")
    for occurrence in (1, 2):
        found = store.scalar(
            "SELECT count(*) FROM statements WHERE id = ?",
            [str(deterministic_id(*dup, occurrence))],
        )
        assert found == 1
    unregistration = deterministic_id(
        "oulad", "studentRegistration/unregistration", "AAA", "2013J", "2", "", "12", 1
    )
    assert (
        store.scalar("SELECT verb_id FROM statements WHERE id = ?", [str(unregistration)])
        == vocab.UNREGISTERED
    )


def test_reimport_adds_nothing(store: DuckDBStore, tmp_path: Path) -> None:
    folder = write_oulad(tmp_path / "oulad")
    ingest_oulad(store, folder)
    again = ingest_oulad(store, folder)
    assert (again.statements_written, again.statements_skipped) == (0, N_STATEMENTS)
    assert counts(store) == (N_STATEMENTS, 2, 4)


def test_profiles(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_oulad(store, write_oulad(tmp_path / "oulad", gz=False))
    rows = store.con.execute(
        "SELECT course, source, retakes, attributes FROM profiles WHERE actor_key = ? ORDER BY 1",
        [actor("1")],
    ).fetchall()
    assert [(c, s, r) for c, s, r, _ in rows] == [
        (f"{HOME_PAGE}/course/AAA/2013J", vocab.SOURCE_REGISTRY, 0),
        (f"{HOME_PAGE}/course/BBB/2014B", vocab.SOURCE_REGISTRY, 1),
    ]
    assert json.loads(rows[0][3]) == {
        "gender": "M",
        "region": "Scotland",
        "highest_education": "HE Qualification",
        "imd_band": "90-100%",
        "age_band": "55<=",
        "studied_credits": 240,
        "disability": False,
    }
    missing_imd = store.scalar("SELECT attributes FROM profiles WHERE actor_key = ?", [actor("2")])
    assert json.loads(missing_imd)["imd_band"] is None


def test_official_style_zip(store: DuckDBStore, tmp_path: Path) -> None:
    folder = write_oulad(tmp_path / "oulad", gz=False)
    archive = tmp_path / "anonymisedData.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, f"anonymisedData/{file.name}")
    report = ingest_oulad(store, archive)
    assert report.statements_written == N_STATEMENTS
    assert report.source == str(archive)


def bad_sum_click_rows() -> Rows:
    rows = sample_rows()
    rows["studentVle"][3][5] = "abc"  # data row 4 = physical line 5
    return rows


def test_malformed_value_fails_with_file_and_line(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_oulad(store, write_oulad(tmp_path / "good"))
    before = counts(store)
    with pytest.raises(IngestError) as info:
        ingest_oulad(store, write_oulad(tmp_path / "bad", bad_sum_click_rows()))
    assert "studentVle.csv.gz:5: sum_click 'abc'" in str(info.value)
    assert [r.line for r in info.value.rejections] == [5]
    assert counts(store) == before


def test_rejected_row_within_allowance_is_recorded(store: DuckDBStore, tmp_path: Path) -> None:
    folder = write_oulad(tmp_path / "bad", bad_sum_click_rows())
    report = ingest_oulad(store, folder, max_rejects=1)
    assert report.rows_rejected == 1
    assert report.statements_written == N_STATEMENTS - 1
    assert report.details["clicks_total"] == 21 - 3
    recorded = store.con.execute("SELECT file, line, reason FROM rejected_rows").fetchall()
    assert recorded == [
        (str(folder / "studentVle.csv.gz"), 5, "sum_click 'abc' is not a non-negative integer")
    ]


def test_unknown_references_are_rejected(store: DuckDBStore, tmp_path: Path) -> None:
    rows = sample_rows()
    rows["studentVle"][0][3] = "9999"  # line 2: unknown site
    rows["studentVle"][4][4] = "1.5"  # line 6: not an integer (would round silently)
    rows["studentAssessment"][2][0] = "77"  # line 4: unknown assessment
    rows["studentRegistration"][3][1] = "2014X"  # line 5: unknown presentation
    rows["studentAssessment"][0][4] = "101"  # line 2: out of range
    report = ingest_oulad(store, write_oulad(tmp_path / "oulad", rows), max_rejects=10)
    got = sorted((Path(r.file).name, r.line, r.reason) for r in report.rejections)
    assert got == [
        ("studentAssessment.csv", 2, "score '101' is outside 0-100"),
        ("studentAssessment.csv", 4, "unknown id_assessment '77'"),
        ("studentRegistration.csv", 5, "unknown module-presentation 'BBB'/'2014X'"),
        ("studentVle.csv.gz", 2, "unknown id_site '9999' in 'AAA'/'2013J'"),
        ("studentVle.csv.gz", 6, "date '1.5' is not an integer (days from the presentation start)"),
    ]
    assert report.statements_written == N_STATEMENTS - 5


def test_truncated_gzip_leaves_store_unchanged(store: DuckDBStore, tmp_path: Path) -> None:
    rows = sample_rows()
    rows["studentVle"] *= 2000  # big enough that a cut lands inside the deflate stream
    folder = write_oulad(tmp_path / "oulad", rows)
    gz = folder / "studentVle.csv.gz"
    gz.write_bytes(gz.read_bytes()[:-40])
    before = counts(store)
    with pytest.raises(IngestError, match=r"studentVle\.csv\.gz"):
        ingest_oulad(store, folder)
    assert counts(store) == before


def test_missing_column_names_file_and_column(store: DuckDBStore, tmp_path: Path) -> None:
    folder = write_oulad(tmp_path / "oulad")
    info_csv = folder / "studentInfo.csv"
    lines = info_csv.read_text().splitlines()
    info_csv.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    with pytest.raises(IngestError, match=r"studentInfo\.csv: missing column\(s\) final_result"):
        ingest_oulad(store, folder)
    assert counts(store) == (0, 0, 0)


def test_missing_file(store: DuckDBStore, tmp_path: Path) -> None:
    folder = write_oulad(tmp_path / "oulad")
    (folder / "vle.csv").unlink()
    with pytest.raises(IngestError, match=r"vle\.csv: file not found"):
        ingest_oulad(store, folder)
    with pytest.raises(IngestError, match="not found"):
        ingest_oulad(store, tmp_path / "nowhere")
    assert counts(store) == (0, 0, 0)


@pytest.mark.realdata
@pytest.mark.slow
def test_real_oulad_is_imported_losslessly(store: DuckDBStore, oulad_dir: Path) -> None:
    report = ingest_oulad(store, oulad_dir)
    assert report.rejections == ()
    clicks = store.con.execute(
        "SELECT count(*), sum(quantity) FROM statements WHERE verb_id = ?", [vocab.INTERACTED]
    ).fetchall()[0]
    assert clicks == (10_655_280, 39_605_099)
    assert store.scalar("SELECT count(DISTINCT actor_key) FROM statements") == 28_785
    assert store.scalar("SELECT count(DISTINCT course) FROM statements") == 22
    assert report.details["statements"] == {
        "vle_clicks": 10_655_280,
        "submissions": 173_912,
        "registrations": 32_593,
        "unregistrations": 10_072,
        "final_results": 32_593,
    }
    assert report.details["scores_missing"] == 173
    assert report.profiles_written == 32_593
    finals = dict(
        store.con.execute(
            "SELECT response, count(*) FROM statements WHERE verb_id IN (?, ?, ?) GROUP BY 1",
            [vocab.PASSED, vocab.FAILED, vocab.WITHDREW],
        ).fetchall()
    )
    assert finals == {"Pass": 12_361, "Withdrawn": 10_156, "Fail": 7_052, "Distinction": 3_024}
