"""Import UCI Student Performance (Cortez & Silva 2008): two courses, students linked across them.

The source
----------
``student-mat.csv`` (Math, 395 rows) and ``student-por.csv`` (Portuguese, 649 rows), ``;``-separated
with quoted text, one row per student *in one course*, 33 attributes (``student.txt``).  Give the
importer the folder holding them, or one of the files (``.csv.gz`` also accepted).  Students carry no
id; the dataset's note says 382 students appear in both files, found by merging on 13 attributes.

Linking students across the courses
-----------------------------------
A row's **link key** is its 13 identifying attributes (:data:`LINK_ATTRIBUTES`: school, sex, age,
address, famsize, Pstatus, Medu, Fedu, Mjob, Fjob, reason, nursery, internet) in their canonical
text (trimmed; numbers as integers), joined by U+001F.  Rows are grouped by key:

* at most one row per course in the group (**unique**): the rows are one student; with a row in
  each course the student is **linked**.  Account name ``<school>-<digest>``, where ``digest`` is
  the first 12 hex digits of the SHA-1 of the key (pseudonymous: the name does not spell out the
  attributes, and equal keys give equal names in every import).
* rows in both courses and more than one in some course (**ambiguous**): the key cannot tell who
  is who, so nothing is guessed.  Every row of the group gets its own course-specific student,
  ``<school>-<digest>-<course><k>`` (``k`` = 1, 2, ... in file order within the group and course),
  and is listed in ``details["ambiguous_matches"]`` with its file and line, the number of
  candidates in the other course, their file:line, and which of them also agree on the 13 other
  course-independent attributes (:data:`SHARED_ATTRIBUTES`: guardian, traveltime, schoolsup,
  famsup, activities, higher, romantic, famrel, freetime, goout, Dalc, Walc, health) — evidence for
  an analyst, not applied.
* several rows in one course and none in the other (**duplicate key**): distinct students of the
  same course (one student is never twice in a course); named like ambiguous rows and counted in
  ``details["duplicate_key_groups"]``.

On the real data: 358 linked students, 8 ambiguous groups (28 rows: 4 groups of 1 Math row and 2
Portuguese rows, 4 groups of 2 + 2), 3 duplicate-key groups in Portuguese (7 rows); 37 Math-only and
291 Portuguese-only students, 686 students in all.  The published 382 is the number of *pairs* an
inner join on the 13 attributes gives (358 + 1·2·4 + 2·2·4), reported as
``details["published_merge_pairs"]``.  The shared attributes would settle every ambiguous group:
each ambiguous row has at most one candidate agreeing on all of them, the agreeing pairs are one to
one (12 pairs), and 24 of the 28 rows have exactly one (the other 4 are the surplus Portuguese
rows of the 1 + 2 groups: ``details["ambiguous_rows_with_one_agreeing_candidate"]``), while the 358
linked students agree on all of them (``details["linked_attribute_conflicts"]`` = 0).  That
evidence is reported, not applied: the importer keeps to the published 13-attribute rule.

Import both files together: the ambiguity of a group is only visible when both courses are read.
Importing one file at a time links unique keys all the same (the names agree), but a row of an
ambiguous group imported alone keeps the plain ``<school>-<digest>`` name.

What is written
---------------
Actors: ``account {homePage: HOME_PAGE, name}`` as above.  Statements, three per row: the period
grades G1, G2 and the final grade G3 as ``SCORED`` statements (raw 0–20, min 0, max 20, scaled =
raw / 20), object ``<course IRI>/period/<1|2|3>`` of type ``ASSESSMENT``, course = the course IRI
(``<HOME_PAGE>/course/mat`` or ``.../por``), source ``registry``; G3 carries
``success = G3 >= 10`` (the Portuguese pass mark; the interim grades carry no success).  The data
have no dates, so each period gets a **synthetic timestamp** (:data:`PERIOD_TIMESTAMPS`: about the
end of each term of the 2005/06 school year in which the data were collected, noon UTC; only their
order is meaningful) and every grade statement carries the context extension
``EXT_DATE_IMPUTED = true``.  Absences are *not* turned into statements: an xAPI absence statement
stands for one missed, dated session, and the data give only a yearly count (it stays in the
profile).

Profiles (source ``registry``), all 33 attributes kept:

* course ``''`` (shared by all of a student's courses): the 13 link attributes and the 13 shared
  attributes, typed (numbers as integers, yes/no as booleans), plus ``courses`` (the course codes
  seen) and ``key_status`` (unique | ambiguous | duplicate).  For a linked student the Math row's
  values are used; any disagreement of the Portuguese row is reported
  (``details["linked_attribute_conflicts"]``, with examples).
* one per course (course = the course IRI): the course-specific attributes
  (:data:`COURSE_ATTRIBUTES`: studytime, failures, paid, absences, G1, G2, G3) and the row's
  ``source_file`` / ``source_line``; ``retakes`` = failures (past class failures, the dataset's
  nearest measure of retaken courses).  ``studytime`` is per course as the questionnaire asked it
  per subject, although linked students happen to give the same value in both.

Statement ids are ``uuid5("uci", file stem, the row's raw fields, occurrence among identical rows,
grade item)`` (:func:`~learnsight.xapi.ids.uuid5_sql`): re-importing writes nothing.  They depend on
the row, not on the student key.

Bad input
---------
A row is rejected (file, physical line, every problem of the row) for malformed quoting, a wrong
field count, or a value outside the documented domain of its attribute (:data:`DOMAINS`), e.g. a
non-numeric grade or a grade outside 0–20.  Rejected rows take no part in linking.  More rejections
than ``max_rejects`` fail the import (store unchanged); a missing column is an
:class:`~learnsight.errors.IngestError` naming the file and the column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa

from learnsight import progress
from learnsight.errors import IngestError, Rejection
from learnsight.ingest.common import check_source_file, first_line, require_columns, transform_connection
from learnsight.ingest.delimited import quote_ident, read_delimited
from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.xapi import vocab
from learnsight.xapi.ids import uuid5_sql
from learnsight.xapi.keys import account_key_sql

HOME_PAGE: Final = "https://archive.ics.uci.edu/dataset/320/student+performance"
"""Account homePage of UCI students, and root of the course IRIs."""

COURSES: Final = {"mat": "Math", "por": "Portuguese"}
"""Course codes (as in the file names) and their subjects, in the order rows are preferred."""

LINK_ATTRIBUTES: Final = (
    "school", "sex", "age", "address", "famsize", "Pstatus", "Medu", "Fedu",
    "Mjob", "Fjob", "reason", "nursery", "internet",
)  # fmt: skip
"""The 13 attributes the dataset's authors merge the two courses on."""

SHARED_ATTRIBUTES: Final = (
    "guardian", "traveltime", "schoolsup", "famsup", "activities", "higher", "romantic",
    "famrel", "freetime", "goout", "Dalc", "Walc", "health",
)  # fmt: skip
"""Further course-independent attributes (profile course ``''``), not used for linking."""

COURSE_ATTRIBUTES: Final = ("studytime", "failures", "paid", "absences", "G1", "G2", "G3")
"""Attributes specific to a course (one profile per course)."""

ATTRIBUTES: Final = (*LINK_ATTRIBUTES, *SHARED_ATTRIBUTES, *COURSE_ATTRIBUTES)
"""All 33 columns."""

_JOBS: Final = ("teacher", "health", "services", "at_home", "other")
DOMAINS: Final[dict[str, tuple[int, int] | tuple[str, ...]]] = {
    "school": ("GP", "MS"),
    "sex": ("F", "M"),
    "age": (15, 22),
    "address": ("U", "R"),
    "famsize": ("LE3", "GT3"),
    "Pstatus": ("T", "A"),
    "Medu": (0, 4),
    "Fedu": (0, 4),
    "Mjob": _JOBS,
    "Fjob": _JOBS,
    "reason": ("home", "reputation", "course", "other"),
    "guardian": ("mother", "father", "other"),
    "traveltime": (1, 4),
    "studytime": (1, 4),
    "failures": (0, 4),
    "famrel": (1, 5),
    "freetime": (1, 5),
    "goout": (1, 5),
    "Dalc": (1, 5),
    "Walc": (1, 5),
    "health": (1, 5),
    "absences": (0, 93),
    "G1": (0, 20),
    "G2": (0, 20),
    "G3": (0, 20),
    **{a: ("yes", "no") for a in (
        "schoolsup", "famsup", "paid", "activities", "nursery", "higher", "internet", "romantic"
    )},
}  # fmt: skip
"""Documented domain of every attribute (``student.txt``): an integer range or the allowed texts."""

GRADES: Final = (("G1", 1), ("G2", 2), ("G3", 3))
"""Grade item and the school period it closes (G3 is the final grade, given after period 3)."""

PERIOD_TIMESTAMPS: Final = {
    "G1": "2005-12-16 12:00:00",
    "G2": "2006-04-07 12:00:00",
    "G3": "2006-06-16 12:00:00",
}
"""Synthetic timestamps (UTC) of the grades: about the end of each term of 2005/06."""

PASS_MARK: Final = 10
"""Portuguese secondary-school pass mark on the 0–20 scale."""

_FILE = re.compile(r"^student-(mat|por)\.csv(\.gz)?$")


def course_iri(course: str) -> str:
    """IRI of a UCI course (``mat`` / ``por``)."""
    return f"{HOME_PAGE}/course/{course}"


def _lit(text: str) -> str:
    """A SQL string literal of one of this module's own constants."""
    return "'" + text.replace("'", "''") + "'"


def find_files(path: Path) -> dict[str, Path]:
    """Course code -> file, from a folder or a single ``student-<course>.csv`` file."""
    if path.is_dir():
        found: dict[str, Path] = {}
        for course in COURSES:
            for name in (f"student-{course}.csv", f"student-{course}.csv.gz"):
                if (path / name).is_file():
                    found[course] = path / name
                    break
        if not found:
            raise IngestError("no student-mat.csv or student-por.csv in this folder", file=path)
        return found
    match = _FILE.match(path.name)
    if not path.exists():
        raise IngestError("file not found", file=path)
    if match is None:
        raise IngestError("expected student-mat.csv or student-por.csv (or their folder)", file=path)
    return {match.group(1): path}


# -- per-file SQL ------------------------------------------------------------------------------------


def _value_checks(column: str, domain: tuple[int, int] | tuple[str, ...]) -> tuple[str, str]:
    """(typed value SQL, problem SQL or NULL) of one attribute of a ``raw`` row."""
    cell = f"trim({quote_ident(column)})"
    if isinstance(domain[0], int):
        low, high = domain
        typed = f"TRY_CAST({cell} AS INTEGER)"
        problem = (
            f"CASE WHEN NOT regexp_full_match({cell}, '-?[0-9]+') "
            f"THEN {_lit(column + ': ')} || '\"' || left({cell}, 40) || '\" is not a whole number' "
            f"WHEN {typed} NOT BETWEEN {low} AND {high} "
            f"THEN {_lit(f'{column}: ')} || {typed} || {_lit(f' outside {low}–{high}')} END"
        )
        return typed, problem
    allowed = ", ".join(_lit(str(v)) for v in domain)
    typed = f"({cell} = 'yes')" if domain == ("yes", "no") else cell
    not_one_of = _lit('" not one of ' + "/".join(map(str, domain)))
    problem = (
        f"CASE WHEN {cell} NOT IN ({allowed}) THEN {_lit(column + ': ')} || '\"' || "
        f"left({cell}, 40) || {not_one_of} END"
    )
    return typed, problem


def _load_course(con: duckdb.DuckDBPyConnection, course: str, path: Path) -> tuple[int, list[Rejection]]:
    """Read one file into ``rows_<course>`` (valid rows, typed); returns (rows read, rejections)."""
    records = read_delimited(con, path, table=f"rec_{course}", delimiter=";")
    require_columns(records.columns, ATTRIBUTES, path)
    index = {n: i + 1 for i, n in enumerate(records.columns)}
    aliases = ", ".join(f"fields[{index[a]}] AS {quote_ident(a)}" for a in ATTRIBUTES)
    typed, problems = [], []
    for attribute in ATTRIBUTES:
        value, problem = _value_checks(attribute, DOMAINS[attribute])
        typed.append(f"{value} AS {quote_ident(attribute)}")
        problems.append(problem)
    n = len(records.columns)
    key_text = " || chr(31) || ".join(f"CAST({quote_ident(a)} AS VARCHAR)" for a in LINK_ATTRIBUTES)
    con.execute(
        f"CREATE TEMP TABLE checked_{course} AS "
        f"WITH raw AS (SELECT line, wellformed, fields, {aliases} FROM rec_{course}) "
        "SELECT line, fields, "
        "row_number() OVER (PARTITION BY array_to_string(fields, chr(31)) ORDER BY line) "
        "AS occurrence, "
        "CASE WHEN NOT wellformed THEN "
        f"{_lit('malformed quoting (a stray or unbalanced quote)')} "
        f"WHEN len(fields) <> {n} THEN 'expected {n} fields, found ' || len(fields) "
        f"ELSE nullif(concat_ws('; ', {', '.join(problems)}), '') END AS _problem, "
        f"{', '.join(typed)} FROM raw"
    )
    rejections = [
        Rejection(path.name, int(line), str(reason))
        for line, reason in con.execute(
            f"SELECT line, _problem FROM checked_{course} WHERE _problem IS NOT NULL ORDER BY line"
        ).fetchall()
    ]
    con.execute(
        f"CREATE TEMP TABLE rows_{course} AS SELECT {_lit(course)} AS course, "
        f"{_lit(path.name)} AS file, {_lit(path.stem.removesuffix('.csv'))} AS file_stem, "
        f"line, fields, occurrence, {', '.join(quote_ident(a) for a in ATTRIBUTES)}, "
        f"{key_text} AS key_text FROM checked_{course} WHERE _problem IS NULL"
    )
    return records.rows_read, rejections


# -- linking -------------------------------------------------------------------------------------


_LINK_SQL: Final = """
CREATE TEMP TABLE students AS
WITH grouped AS (
    SELECT *,
        count(*) FILTER (WHERE course = 'mat') OVER (PARTITION BY key_text) AS n_mat,
        count(*) FILTER (WHERE course = 'por') OVER (PARTITION BY key_text) AS n_por,
        row_number() OVER (PARTITION BY key_text, course ORDER BY line) AS k,
        substr(sha1(key_text), 1, 12) AS digest
    FROM all_rows
)
SELECT *,
    CASE WHEN n_mat <= 1 AND n_por <= 1 THEN 'unique'
         WHEN n_mat >= 1 AND n_por >= 1 THEN 'ambiguous'
         ELSE 'duplicate' END AS key_status,
    CASE WHEN n_mat <= 1 AND n_por <= 1 THEN school || '-' || digest
         ELSE school || '-' || digest || '-' || course || k END AS student
FROM grouped
"""


def _shared_equal(a: str, b: str) -> str:
    return " AND ".join(
        f"{a}.{quote_ident(x)} IS NOT DISTINCT FROM {b}.{quote_ident(x)}" for x in SHARED_ATTRIBUTES
    )


def _link_report(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The linking figures and the list of ambiguous rows (see the module docstring)."""

    def one(sql: str) -> Any:
        return con.execute(sql).fetchall()[0][0]

    ambiguous = con.execute(
        "SELECT s.course, s.file, s.line, s.student, "
        "list(o.file || ':' || o.line ORDER BY o.line) AS candidates, "
        f"list(o.file || ':' || o.line ORDER BY o.line) FILTER (WHERE {_shared_equal('s', 'o')}) "
        "AS agreeing "
        "FROM students s JOIN students o ON o.key_text = s.key_text AND o.course <> s.course "
        "WHERE s.key_status = 'ambiguous' GROUP BY ALL ORDER BY s.course, s.line"
    ).fetchall()
    matches = [
        {
            "file": file,
            "line": int(line),
            "course": course,
            "candidates": len(candidates),
            "candidate_rows": list(candidates),
            "agreeing_on_shared_attributes": list(agreeing or []),
            "student": student,
        }
        for course, file, line, student, candidates, agreeing in ambiguous
    ]
    conflicts = con.execute(
        "SELECT m.student, x.attribute, x.mat, x.por FROM students m JOIN students p "
        "ON p.key_text = m.key_text AND m.course = 'mat' AND p.course = 'por' "
        "AND m.key_status = 'unique', "
        "LATERAL (SELECT * FROM (VALUES "
        + ", ".join(
            f"({_lit(a)}, CAST(m.{quote_ident(a)} AS VARCHAR), CAST(p.{quote_ident(a)} AS VARCHAR))"
            for a in SHARED_ATTRIBUTES
        )
        + ") v(attribute, mat, por) WHERE mat IS DISTINCT FROM por) x ORDER BY m.student, x.attribute"
    ).fetchall()
    return {
        "students": int(one("SELECT count(DISTINCT student) FROM students")),
        "linked_students": int(
            one(
                "SELECT count(*) FROM (SELECT student FROM students GROUP BY student "
                "HAVING count(DISTINCT course) = 2)"
            )
        ),
        "mat_only_students": int(
            one(
                "SELECT count(*) FROM (SELECT student FROM students GROUP BY student "
                "HAVING bool_and(course = 'mat'))"
            )
        ),
        "por_only_students": int(
            one(
                "SELECT count(*) FROM (SELECT student FROM students GROUP BY student "
                "HAVING bool_and(course = 'por'))"
            )
        ),
        "ambiguous_groups": int(
            one("SELECT count(DISTINCT key_text) FROM students WHERE key_status = 'ambiguous'")
        ),
        "ambiguous_rows": len(matches),
        "ambiguous_rows_with_one_agreeing_candidate": sum(
            1 for m in matches if len(m["agreeing_on_shared_attributes"]) == 1
        ),
        "ambiguous_matches": matches,
        "duplicate_key_groups": int(
            one("SELECT count(DISTINCT key_text) FROM students WHERE key_status = 'duplicate'")
        ),
        "duplicate_key_rows": int(one("SELECT count(*) FROM students WHERE key_status = 'duplicate'")),
        "published_merge_pairs": int(
            one(
                "SELECT count(*) FROM students m JOIN students p "
                "ON p.key_text = m.key_text AND m.course = 'mat' AND p.course = 'por'"
            )
        ),
        "linked_attribute_conflicts": len(conflicts),
        "linked_attribute_conflict_examples": [
            {"student": s, "attribute": a, "mat": m, "por": p} for s, a, m, p in conflicts[:20]
        ],
    }


# -- output ----------------------------------------------------------------------------------------


def _statements_sql() -> str:
    actor = account_key_sql(_lit(HOME_PAGE), "student")
    periods = ", ".join(
        f"({_lit(item)}, {period}, TIMESTAMP {_lit(PERIOD_TIMESTAMPS[item])})" for item, period in GRADES
    )
    grade = "CASE g.item " + " ".join(f"WHEN {_lit(i)} THEN {i}" for i, _ in GRADES) + " END"
    ident = uuid5_sql(["'uci'", "file_stem", "array_to_string(fields, chr(31))", "occurrence",
                       "g.item"])  # fmt: skip
    course = f"({_lit(HOME_PAGE + '/course/')} || course)"
    extensions = _lit(f'{{"context": {{"{vocab.EXT_DATE_IMPUTED}": true}}}}')
    return (
        f"SELECT CAST({ident} AS VARCHAR) AS id, {actor} AS actor_key, "
        f"{_lit(vocab.SCORED)} AS verb_id, {course} || '/period/' || g.period AS object_id, "
        f"'Activity' AS object_type, {_lit(vocab.ASSESSMENT)} AS activity_type, g.ts AS ts, "
        f"{_lit(vocab.SOURCE_REGISTRY)} AS source, {course} AS course, "
        f"CAST({grade} AS DOUBLE) / 20 AS score_scaled, CAST({grade} AS DOUBLE) AS score_raw, "
        "0.0 AS score_min, 20.0 AS score_max, "
        f"CASE WHEN g.item = 'G3' THEN {grade} >= {PASS_MARK} END AS success, "
        f"{extensions} AS extensions "
        f"FROM students CROSS JOIN (VALUES {periods}) g(item, period, ts) "
        "ORDER BY course, line, g.period"
    )


def _json_fields(columns: tuple[str, ...], alias: str) -> str:
    return ", ".join(f"{_lit(c)}, {alias}.{quote_ident(c)}" for c in columns)


def _profiles_sql() -> str:
    actor = account_key_sql(_lit(HOME_PAGE), "student")
    registry = _lit(vocab.SOURCE_REGISTRY)
    shared = _json_fields((*LINK_ATTRIBUTES, *SHARED_ATTRIBUTES), "r")
    per_course = _json_fields(COURSE_ATTRIBUTES, "s")
    return (
        f"SELECT {actor} AS actor_key, '' AS course, {registry} AS source, "
        "CAST(NULL AS VARCHAR) AS display_name, CAST(NULL AS DOUBLE) AS prior_gpa, "
        "CAST(NULL AS INTEGER) AS retakes, "
        f"CAST(json_object({shared}, 'courses', r.courses, 'key_status', r.key_status) "
        "AS VARCHAR) AS attributes "
        "FROM (SELECT *, list(course ORDER BY course) OVER (PARTITION BY student) AS courses, "
        "row_number() OVER (PARTITION BY student ORDER BY course, line) AS pick "
        "FROM students) r WHERE r.pick = 1 "
        "UNION ALL "
        f"SELECT {actor}, {_lit(HOME_PAGE + '/course/')} || s.course, {registry}, NULL, NULL, "
        "CAST(s.failures AS INTEGER), "
        f"CAST(json_object({per_course}, 'source_file', s.file, 'source_line', s.line) "
        "AS VARCHAR) FROM students s ORDER BY 1, 2"
    )


def ingest_uci(store: Store, path: Path, *, max_rejects: int = 0) -> IngestReport:
    """Import UCI Student Performance from a folder or one of its two files.

    Returns the store's report; ``details`` holds the linking figures and the ambiguous matches
    (see the module docstring).  Raises :class:`IngestError` (store unchanged) for a missing file
    or column, an unreadable file, or more than ``max_rejects`` rejected rows.
    """
    path = Path(path)
    files = find_files(path)
    for file in files.values():
        check_source_file(file)
    con = transform_connection()
    try:
        with progress.task(f"uci {path.name}", total=len(files) + 2) as advance:
            rows_read = 0
            rejections: list[Rejection] = []
            for course, file in files.items():
                read, rejected = _load_course(con, course, file)
                rows_read += read
                rejections += rejected
                advance(1)
            con.execute(
                "CREATE TEMP TABLE all_rows AS "
                + " UNION ALL ".join(f"SELECT * FROM rows_{course}" for course in files)
            )
            con.execute(_LINK_SQL)
            details: dict[str, Any] = {
                "files": {course: file.name for course, file in files.items()},
                "rows": {
                    course: int(con.execute(f"SELECT count(*) FROM rows_{course}").fetchall()[0][0])
                    for course in files
                },
                **_link_report(con),
                "synthetic_timestamps": dict(PERIOD_TIMESTAMPS),
            }
            statements: pa.Table = con.sql(_statements_sql()).to_arrow_table()
            profiles: pa.Table = con.sql(_profiles_sql()).to_arrow_table()
            advance(1)
            report = store.ingest(
                IngestBatch(
                    kind="uci",
                    source=str(path),
                    rows_read=rows_read,
                    statements=statements,
                    profiles=profiles,
                    rejections=tuple(rejections),
                    details=details,
                ),
                max_rejects=max_rejects,
            )
            advance(1)
            return report
    except duckdb.Error as exc:
        raise IngestError(f"transform failed: {first_line(exc)}", file=path) from exc
    finally:
        con.close()


__all__ = [
    "ATTRIBUTES",
    "COURSE_ATTRIBUTES",
    "HOME_PAGE",
    "LINK_ATTRIBUTES",
    "PERIOD_TIMESTAMPS",
    "SHARED_ATTRIBUTES",
    "course_iri",
    "find_files",
    "ingest_uci",
]
