"""CSV + mapping importer: every shipped mapping, value maps, bad mappings, bad files, idempotence."""

from __future__ import annotations

import gzip
import json
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from learnsight.errors import IngestError, MappingError
from learnsight.ingest.csv_mapped import ingest_csv, load_mapping, shipped_mappings
from learnsight.store import DuckDBStore, open_store
from learnsight.xapi import vocab


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    """An in-memory store: importer tests need no file, and it opens in half the time."""
    with open_store(":memory:") as s:
        yield s


CAMPUS = "https://campus.example.edu"

FIXTURES: dict[str, str] = {
    "campus-card-canteen": (
        "card_id,timestamp,terminal,canteen,amount\n"
        "S0001,2024-09-02 07:32:10,T12,North canteen,6.50\n"
        "S0002,2024-09-02 12:01:00,T03,South canteen,12\n"
    ),
    "dorm-gate": (
        "card_id,timestamp,gate,direction\n"
        "S0001,2024-09-02 23:12:45,B3-G1,in\n"
        "S0001,2024-09-03 07:05:02,B3-G1,out\n"
    ),
    "library-loans": (
        "student_id,loan_time,book_id,title,category,author,return_time\n"
        'S0001,2024-09-03 12:10:00,B0123,"Algebra, Linear",Mathematics,Sheldon Axler,'
        "2024-09-20 16:00:00\n"
        "S0002,2024-09-04 09:00:00,B0007,Poems,Literature,Fernando Pessoa,\n"
    ),
    "network-sessions": (
        "account,session_start,session_end,bytes,ap\n"
        "S0001,2024-09-02 23:40:00,2024-09-03 01:15:30,73400320,B3-AP07\n"
    ),
    "moodle-log": (
        "Time,User full name,Affected user,Event context,Component,Event name,Description,"
        "Origin,IP address\n"
        '"2/09/24, 07:32",Ana Silva,-,Course: Programming 1,System,Course viewed,'
        "The user with id '5' viewed the course with id '2'.,web,10.0.0.12\n"
        '"12/09/24, 17:02",Rui Costa,-,Quiz: Week 1 quiz,Quiz,Quiz attempt submitted,'
        "The user with id '7' has submitted the attempt with id '3'.,web,10.0.0.13\n"
        '"12/09/24, 17:05",Ana Silva,-,Forum: Help,Forum,Post created,'
        "The user with id '5' has created the post with id '11'.,web,10.0.0.12\n"
        '"12/09/24, 18:00",Teacher,-,Course: Programming 1,Logs,Log report viewed,'
        "The user with id '2' viewed the log report.,web,10.0.0.1\n"
    ),
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(store: DuckDBStore, columns: str = "*") -> list[dict[str, Any]]:
    cur = store.con.execute(f"SELECT {columns} FROM statements ORDER BY ts, object_id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_every_shipped_mapping_has_a_fixture() -> None:
    assert set(shipped_mappings()) == set(FIXTURES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_shipped_mapping_imports_and_reimports(store: DuckDBStore, tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, f"{name}.csv", FIXTURES[name])
    n = FIXTURES[name].count("\n") - 1
    report = ingest_csv(store, path, name)
    assert report.rows_read == n and report.statements_written == n and not report.rejections
    assert report.details["mapping"] == name
    for statement in _rows(store):
        assert statement["verb_id"] in vocab.VERB_DISPLAY
        assert statement["object_type"] == "Activity"
        full = store.get_statement(str(statement["id"]))
        assert full is not None and full["context"]["platform"] == statement["source"]
    again = ingest_csv(store, path, name)
    assert again.statements_written == 0 and again.statements_skipped == n


def test_shipped_mappings_use_vocabulary_iris() -> None:
    known = {v for k, v in vars(vocab).items() if k.isupper() and isinstance(v, str)}
    for name, path in shipped_mappings().items():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        iris = [data.get("verb")] if isinstance(data.get("verb"), str) else []
        verb = data.get("verb")
        if isinstance(verb, dict):
            iris += [*verb.get("map", {}).values(), verb.get("default")]
        for part in ("result", "context"):
            iris += list(data.get("extensions", {}).get(part, {}))
        for iri in filter(None, iris):
            assert iri in known, f"{name}: {iri} is not in learnsight.xapi.vocab"


def test_canteen(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_csv(store, _write(tmp_path, "c.csv", FIXTURES["campus-card-canteen"]),
               "campus-card-canteen")  # fmt: skip
    first, second = _rows(store)
    assert first["actor_key"] == f"account:{CAMPUS}|S0001"
    assert first["verb_id"] == vocab.SWIPED
    assert first["object_id"] == f"{CAMPUS}/canteen/T12"
    assert first["activity_type"] == vocab.CANTEEN
    assert first["ts"] == datetime(2024, 9, 2, 7, 32, 10)
    assert first["source"] == vocab.SOURCE_CANTEEN
    assert (first["quantity"], second["quantity"]) == (6.5, 12.0)
    assert json.loads(first["extensions"]) == {
        "context": {vocab.EXT_PLACE: "North canteen", vocab.EXT_TERMINAL: "T12"}
    }


def test_dorm_value_map(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_csv(store, _write(tmp_path, "d.csv", FIXTURES["dorm-gate"]), "dorm-gate")
    verbs = [r["verb_id"] for r in _rows(store)]
    assert verbs == [vocab.RETURNED, vocab.LEFT_DORM]
    bad = _write(tmp_path, "d2.csv", "card_id,timestamp,gate,direction\nS1,2024-09-02 23:00:00,G,up\n")
    with pytest.raises(IngestError) as caught:
        ingest_csv(store, bad, "dorm-gate")
    assert str(caught.value.rejections[0]) == ('d2.csv:2: unmapped verb value "up" in column "direction"')


def test_library_and_network(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_csv(store, _write(tmp_path, "l.csv", FIXTURES["library-loans"]), "library-loans")
    ingest_csv(store, _write(tmp_path, "n.csv", FIXTURES["network-sessions"]), "network-sessions")
    rows = {r["verb_id"] + r["actor_key"]: r for r in _rows(store)}
    loan = rows[vocab.BORROWED + f"account:{CAMPUS}|S0001"]
    assert loan["object_id"] == f"{CAMPUS}/library/book/B0123"
    assert loan["duration_s"] is None  # a loan period is not time on task
    ext = json.loads(loan["extensions"])
    assert ext["context"][vocab.EXT_CATEGORY] == "Mathematics"
    assert ext["context"][vocab.EXT_AUTHOR] == "Sheldon Axler"
    assert ext["context"][vocab.EXT_TITLE] == "Algebra, Linear"
    assert ext["result"][vocab.EXT_RETURN_TIME] == "2024-09-20 16:00:00"
    open_loan = rows[vocab.BORROWED + f"account:{CAMPUS}|S0002"]
    assert open_loan["duration_s"] is None
    assert json.loads(open_loan["extensions"])["result"] == {}
    session = rows[vocab.CONNECTED + f"account:{CAMPUS}|S0001"]
    assert session["duration_s"] == 5730 and session["quantity"] == 73400320
    assert session["object_id"] == f"{CAMPUS}/network/ap/B3-AP07"
    assert session["source"] == vocab.SOURCE_NETWORK


def test_moodle(store: DuckDBStore, tmp_path: Path) -> None:
    ingest_csv(store, _write(tmp_path, "m.csv", FIXTURES["moodle-log"]), "moodle-log")
    rows = _rows(store)
    view, quiz, post, other = rows
    assert view["actor_key"] == "account:https://moodle.example.edu|5"
    assert view["actor_name"] == "Ana Silva"
    assert view["ts"] == datetime(2024, 9, 2, 6, 32)  # 07:32 British Summer Time
    assert view["verb_id"] == vocab.VIEWED and view["activity_type"] == vocab.COURSE
    assert view["object_id"] == "https://moodle.example.edu/context/Course:%20Programming%201"
    assert view["course"] == "https://moodle.example.edu/course/view.php?id=2"
    assert (quiz["verb_id"], quiz["activity_type"]) == (vocab.SUBMITTED, vocab.ASSESSMENT)
    assert (post["verb_id"], post["activity_type"]) == (vocab.REPLIED, vocab.FORUM_POST)
    assert (other["verb_id"], other["activity_type"]) == (vocab.INTERACTED, vocab.MODULE)
    assert json.loads(other["extensions"])["context"][vocab.EXT_LMS_EVENT] == "Log report viewed"


# -- custom mappings ---------------------------------------------------------------------------

GRADES_TOML = """
name = "grades"
verb = "http://adlnet.gov/expapi/verbs/scored"
timestamp = {columns = ["date", "time"]}
source = "registry"
course = "https://school.example/course/{course}"

[csv]
delimiter = ";"
timestamp_formats = ["%d.%m.%Y %H:%M", "iso8601"]
timezone = "Europe/Lisbon"

[actor]
column = "email"
mbox = true

[object]
id = "https://school.example/exam/{exam}"
type = {column = "kind", map = {quiz = "http://adlnet.gov/expapi/activities/assessment"}, unmapped = "skip"}

[result]
score = {raw = "points", min = 0, max = "out_of"}
success = {min_score = 10}
completion = "done"
duration = {column = "took", unit = "iso8601"}
response = "answer"

[extensions.context]
"https://learnsight.dev/xapi/extensions/note" = "we\\"ird"
"""

GRADES_CSV = (
    'email;date;time;course;exam;kind;points;out_of;done;took;answer;"we""ird"\n'
    "ana@example.org;02.09.2024;10:00;Math 1;E1;quiz;15;20;yes;PT1H30M;B;O'Brien\n"
    "\n"
    "mailto:rui@example.org;2024-09-02T10:00:00Z;;Math 1;E1;quiz;5;20;no;PT45S;C;\n"
    "ana@example.org;02.09.2024;10:00;Math 1;E1;essay;15;20;yes;PT1H;A;x\n"
)


def test_custom_mapping_features(store: DuckDBStore, tmp_path: Path) -> None:
    mapping = _write(tmp_path, "grades.toml", GRADES_TOML)
    report = ingest_csv(store, _write(tmp_path, "g.csv", GRADES_CSV), mapping)
    assert report.rows_read == 3 and report.statements_written == 2
    assert report.details["blank_lines"] == 1
    assert report.details["rows_skipped"] == 1
    assert report.details["skipped"] == {"kind": {"essay": 1}}
    ana, rui = sorted(_rows(store), key=lambda r: r["actor_key"])
    assert ana["actor_key"] == "mailto:ana@example.org"
    assert rui["actor_key"] == "mailto:rui@example.org"
    assert ana["ts"] == datetime(2024, 9, 2, 9, 0)  # Lisbon summer time is UTC+1
    assert rui["ts"] == datetime(2024, 9, 2, 10, 0)  # ISO 8601 with Z, date + empty time
    assert ana["course"] == "https://school.example/course/Math%201"
    assert (ana["score_raw"], ana["score_min"], ana["score_max"]) == (15, 0, 20)
    assert ana["score_scaled"] == pytest.approx(0.75)
    assert (ana["success"], rui["success"]) == (True, False)
    assert (ana["completion"], rui["completion"]) == (True, False)
    assert (ana["duration_s"], rui["duration_s"]) == (5400, 45)
    assert ana["response"] == "B"
    assert json.loads(ana["extensions"]) == {
        "context": {"https://learnsight.dev/xapi/extensions/note": "O'Brien"}
    }
    assert json.loads(rui["extensions"]) == {"context": {}}


def test_yaml_mapping_and_no_header(store: DuckDBStore, tmp_path: Path) -> None:
    mapping = _write(
        tmp_path,
        "clicks.yaml",
        "name: clicks\n"
        'csv: {header: false, columns: [user, at, page, n], delimiter: "\\t"}\n'
        "actor: {column: user, home_page: 'https://lms.example'}\n"
        "verb: http://adlnet.gov/expapi/verbs/experienced\n"
        "object: {id: 'https://lms.example/{page}'}\n"
        "timestamp: at\n"
        "source: {column: page, map: {home: lms}, unmapped: default, default: web}\n"
        "result: {quantity: n}\n",
    )
    data = _write(
        tmp_path, "clicks.tsv", "u1\t2024-01-01 10:00:00\thome\t3\nu2\t2024-01-01 11:00:00\tx/y\t1\n"
    )
    ingest_csv(store, data, mapping)
    rows = _rows(store)
    assert [r["source"] for r in rows] == ["lms", "web"]
    assert rows[1]["object_id"] == "https://lms.example/x/y"
    assert [r["quantity"] for r in rows] == [3, 1]


def test_identical_rows_are_kept(store: DuckDBStore, tmp_path: Path) -> None:
    row = "S0001,2024-09-02 07:32:10,T12,North canteen,6.50\n"
    path = _write(tmp_path, "dup.csv", "card_id,timestamp,terminal,canteen,amount\n" + row * 2)
    assert ingest_csv(store, path, "campus-card-canteen").statements_written == 2
    longer = _write(tmp_path, "dup3.csv", "card_id,timestamp,terminal,canteen,amount\n" + row * 3)
    report = ingest_csv(store, longer, "campus-card-canteen")
    assert (report.statements_written, report.statements_skipped) == (1, 2)


# -- bad rows and files --------------------------------------------------------------------------

BAD_CANTEEN = (
    "card_id,timestamp,terminal,canteen,amount\n"
    "S0001,2024-09-02 07:32:10,T12,North canteen,6.50\n"  # 2 ok
    ",2024-09-02 07:33:10,T12,North canteen,6.50\n"  # 3 missing actor
    "\n"  # 4 blank
    "S0002,yesterday,T12,North canteen,6.50\n"  # 5 bad timestamp
    "S0003,2024-09-02 07:35:10,T12,North canteen,six\n"  # 6 not a number
    "S0004,2024-09-02 07:36:10,T12,North canteen\n"  # 7 field count
    'S0005,2024-09-02 07:37:10,T12,"North canteen,6.50\n'  # 8 open quote
    "S0006,2024-09-02 07:38:10,,North canteen,1\n"  # 9 empty template value
)


def test_malformed_rows_fail_the_import(store: DuckDBStore, tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", BAD_CANTEEN)
    with pytest.raises(IngestError) as caught:
        ingest_csv(store, path, "campus-card-canteen")
    assert "bad.csv:3: missing actor" in str(caught.value)
    reasons = {r.line: r.reason for r in caught.value.rejections}
    assert set(reasons) == {3, 5, 6, 7, 8, 9}
    assert reasons[3] == 'missing actor (column "card_id")'
    assert reasons[5] == 'unparseable timestamp "yesterday" in column "timestamp"'
    assert reasons[6] == 'not a number (quantity): "six" in column "amount"'
    assert reasons[7] == "expected 5 fields, found 4"
    assert reasons[8].startswith("malformed quoting")
    assert reasons[9] == 'empty value in column "terminal" (needed by object.id)'
    assert {r.file for r in caught.value.rejections} == {"bad.csv"}
    assert store.count_statements() == 0
    assert store.scalar("SELECT count(*) FROM ingest_batches") == 0


def test_max_rejects_records_rejections(store: DuckDBStore, tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", BAD_CANTEEN)
    with pytest.raises(IngestError, match="6 row\\(s\\) rejected, 5 allowed"):
        ingest_csv(store, path, "campus-card-canteen", max_rejects=5)
    report = ingest_csv(store, path, "campus-card-canteen", max_rejects=6)
    assert report.statements_written == 1 and report.rows_rejected == 6
    lines = [r[0] for r in store.con.execute("SELECT line FROM rejected_rows ORDER BY line").fetchall()]
    assert lines == [3, 5, 6, 7, 8, 9]


def test_missing_column(store: DuckDBStore, tmp_path: Path) -> None:
    path = _write(tmp_path, "m.csv", "card_id,timestamp,canteen\nS1,2024-09-02 07:32:10,N\n")
    with pytest.raises(IngestError, match=r"m\.csv: missing column\(s\) terminal, amount"):
        ingest_csv(store, path, "campus-card-canteen")
    assert store.count_statements() == 0


def test_truncated_gzip(store: DuckDBStore, tmp_path: Path) -> None:
    data = gzip.compress(FIXTURES["campus-card-canteen"].encode() * 50)
    path = tmp_path / "canteen.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IngestError, match=r"canteen\.csv\.gz.*(truncated|corrupt)"):
        ingest_csv(store, path, "campus-card-canteen")
    whole = tmp_path / "whole.csv.gz"
    whole.write_bytes(gzip.compress(FIXTURES["campus-card-canteen"].encode()))
    assert ingest_csv(store, whole, "campus-card-canteen").statements_written == 2


def test_latin1_file(store: DuckDBStore, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "card_id,timestamp,terminal,canteen,amount\nS1,2024-09-02 07:32:10,T1,Cantina São,1\n".encode(
            "latin-1"
        )
    )
    with pytest.raises(IngestError, match=r"latin1\.csv.*line 2: not UTF-8"):
        ingest_csv(store, path, "campus-card-canteen")
    assert store.count_statements() == 0


# -- bad mapping files ---------------------------------------------------------------------------

CANTEEN_TOML = Path(__file__).parents[2] / "src/learnsight/ingest/mappings/campus-card-canteen.toml"


@pytest.fixture(scope="module")
def untouched_store() -> Iterator[DuckDBStore]:
    """One store for all bad-mapping cases: none of them may write to it."""
    with open_store(":memory:") as s:
        yield s


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('column = "card_id"', "", "actor.column: field required"),
        ('column = "card_id"', 'colum = "card_id"', "actor.colum: extra inputs are not permitted"),
        (
            'verb = "https://learnsight.dev/xapi/verbs/swiped-card"',
            'verb = "swiped"',
            "verb.value: not an absolute IRI",
        ),
        (
            'verb = "https://learnsight.dev/xapi/verbs/swiped-card"',
            'verb = {column = "terminal", map = {T1 = "http://x.org/v"}, unmapped = "default"}',
            'verb: unmapped = "default" needs default',
        ),
        ('encoding = "utf-8"', 'encoding = "latin-1"', "csv.encoding: input should be 'utf-8'"),
        ('delimiter = ","', 'delimiter = "::"', "csv.delimiter: input should be"),
        ('timezone = "UTC"', 'timezone = "Mars/Olympus"', "csv.timezone: unknown time zone"),
        ('"%Y-%m-%d %H:%M:%S"', '"%Y-%Q"', "csv.timestamp_formats.0:"),
        (
            'home_page = "https://campus.example.edu"',
            'mbox = true\nhome_page = "https://c.e"',
            "actor: give either home_page (account) or mbox = true",
        ),
        (
            'id = "https://campus.example.edu/canteen/{terminal}"',
            'id = "https://c.e/{terminal"',
            "object.id: unbalanced braces",
        ),
        (
            'quantity = "amount"',
            'quantity = "amount"\nduration = {start = "timestamp"}',
            "result.duration: give either column (+ unit) or both start and end",
        ),
        ("[csv]", "[csv\n", "not valid TOML"),
    ],
)
def test_bad_mapping_names_the_field(
    untouched_store: DuckDBStore, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    store = untouched_store
    text = CANTEEN_TOML.read_text(encoding="utf-8")
    assert old in text
    mapping = _write(tmp_path, "mapping.toml", text.replace(old, new, 1))
    data = _write(tmp_path, "c.csv", FIXTURES["campus-card-canteen"])
    with pytest.raises(MappingError) as caught:
        ingest_csv(store, data, mapping)
    assert str(caught.value).startswith("mapping.toml: ")
    assert expected in str(caught.value)
    assert store.count_statements() == 0


def test_bad_yaml_and_unknown_mapping(tmp_path: Path) -> None:
    bad = _write(tmp_path, "m.yaml", "actor: {column: x, home_page: 'https://h.e'}\nverb: [\n")
    with pytest.raises(MappingError, match=r"m\.yaml: not valid YAML"):
        load_mapping(bad)
    missing = _write(tmp_path, "m2.yml", "actor: {column: x, home_page: 'https://h.e'}\n")
    with pytest.raises(MappingError, match=r"m2\.yml: verb: field required"):
        load_mapping(missing)
    with pytest.raises(MappingError, match="no shipped mapping of that name"):
        load_mapping("no-such-mapping")
