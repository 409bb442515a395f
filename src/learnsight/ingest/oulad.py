"""Import the Open University Learning Analytics Dataset (OULAD) as xAPI statements and profiles.

Source: Kuzilek, Hlosta & Zdrahal (2017), *Open University Learning Analytics dataset*, Scientific
Data 4:170171 (CC BY 4.0).  The input is the official layout: a folder holding the seven CSV files
``courses``, ``assessments``, ``vle``, ``studentInfo``, ``studentRegistration``,
``studentAssessment`` and ``studentVle`` (each ``.csv`` or ``.csv.gz``), or the official zip of them.

Everything is transformed inside an in-memory DuckDB (no Python object per row) and streamed to
:meth:`~learnsight.store.Store.ingest` as Arrow record batches: one call, one atomic batch holding
every statement and profile, so a failed import leaves the store unchanged.

Identifiers
    * Learner: the xAPI account ``{homePage: https://oulad.open.ac.uk, name: <id_student>}``, i.e.
      actor key ``account:https://oulad.open.ac.uk|<id_student>`` (:data:`HOME_PAGE`).
    * Module-presentation (the course, ``context.contextActivities.grouping``):
      ``https://oulad.open.ac.uk/course/<code_module>/<code_presentation>``.
    * VLE item: ``<course>/vle/<id_site>``; assessment: ``<course>/assessment/<id_assessment>``.
    * Statement id: UUIDv5 (:func:`learnsight.xapi.ids.uuid5_sql`) of ``oulad``, the table name, the
      row's raw text fields in file order and the row's *occurrence number* among identical rows,
      so re-importing adds nothing while exact duplicate rows (``studentVle`` has 787,170) all count.
      The second statement made from a registration row uses the table name
      ``studentRegistration/unregistration``.

Time anchoring
    OULAD dates are whole days relative to the start of the module-presentation; the release gives
    no start dates, only that presentations coded ``B`` start in February and ``J`` in October.  We
    anchor every presentation at **1 February** (``B``) or **1 October** (``J``) of the year in its
    code, 00:00 UTC (``2013J`` starts 2013-10-01).  A statement's ``timestamp`` is that start plus its
    day offset (negative offsets, before the start, are kept), always at midnight: OULAD's clicks
    have day resolution.  Other presentation letters are rejected.

Mapping (``source`` is ``context.platform``)
    * ``studentVle`` row → verb ``interacted`` (ADL), object the VLE item with activity type
      :func:`~learnsight.xapi.vocab.vle_activity_type` of the item's ``activity_type`` in
      ``vle.csv``, ``quantity`` = ``sum_click`` (also result extension ``clicks``), timestamp = start
      + ``date``, source ``lms``.  One statement per row: a row is one student's clicks on one item on
      one day.
    * ``studentAssessment`` row → verb ``submit`` (Activity Streams), object the assessment (activity
      type ``assessment``), timestamp = start + ``date_submitted``, source ``lms``; result score
      ``raw`` = ``score`` with ``min`` 0, ``max`` 100, ``scaled`` = score / 100 and ``success`` =
      score >= 40 (the OULAD documentation: "a score lower than 40 is interpreted as Fail"); result
      extension ``is-banked`` (``is_banked`` = 1: the result was transferred from a previous
      presentation); context extensions ``assessment-kind`` (TMA, CMA, Exam), ``weight`` and ``due``
      (the assessment's deadline, when ``assessments.date`` gives one).  A missing score (empty or
      ``?``; 173 in the official file) keeps the statement, without score or success.
    * ``studentRegistration`` row → ``registered`` at start + ``date_registration``, object the
      course, source ``registry``; when ``date_registration`` is missing (45 rows in the official
      file) the statement is still written, dated at the presentation start and flagged with context
      extension ``date-imputed: true`` (counted in ``details``), so that every registration exists as
      an event and no analysis mistakes the stand-in date for a real one.  Plus ``unregistered`` at
      start + ``date_unregistration`` when that is given.
    * ``studentInfo`` row → one final-result statement per student and presentation, dated at the
      presentation end (start + ``module_presentation_length`` days), object the course, source
      ``registry``, ``response`` = the raw ``final_result``: ``Pass`` and ``Distinction`` → ``passed``
      (success and completion true), ``Fail`` → ``failed`` (success false, completion true),
      ``Withdrawn`` → ``withdrew`` (completion false; the withdrawal's own date is the
      ``unregistered`` statement).
    * ``studentInfo`` row → a learner profile for the course (the attributes are per presentation):
      ``retakes`` = ``num_of_prev_attempts``; ``attributes`` JSON with ``gender``, ``region``,
      ``highest_education``, ``imd_band`` (null when missing), ``age_band``, ``studied_credits``
      (integer) and ``disability`` (boolean from ``Y``/``N``); source ``registry``.
    * ``courses``, ``vle`` and ``assessments`` describe activities and give no statements of their
      own (``vle.week_from``/``week_to`` are not used).

Validation
    Each file is read as text (``all_varchar``) and every value is checked in SQL before anything is
    streamed.  A value that does not parse (integers must be plain digits with an optional sign, so
    ``1.5`` is not silently rounded), a reference to an unknown module-presentation, ``id_site`` or
    ``id_assessment``, a score outside 0-100, an unknown ``final_result`` and a repeated key in a
    reference table (or a repeated student-presentation in ``studentInfo``) make a
    :class:`~learnsight.errors.Rejection` naming the file and its physical line (header = line 1;
    OULAD has no quoted line breaks, so data row *k* is line *k* + 1).  A row rejected from a
    reference table makes the rows that refer to it rejected too.  Rejected rows give no statement;
    more than ``max_rejects`` of them fail the import.  A missing file or column, a truncated gzip or
    a CSV DuckDB cannot parse raise :class:`~learnsight.errors.IngestError` naming the file.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import duckdb

from learnsight import progress
from learnsight.errors import IngestError, Rejection
from learnsight.ingest.common import (
    ARROW_BATCH_ROWS,
    check_source_file,
    csv_columns,
    first_line,
    require_columns,
    transform_connection,
)
from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.xapi import vocab
from learnsight.xapi.ids import uuid5_sql
from learnsight.xapi.keys import account_key_sql

KIND: Final = "oulad"
"""Importer name: ``ingest_batches.kind`` and the first part of every statement id's identity."""

HOME_PAGE: Final = "https://oulad.open.ac.uk"
"""Account home page of OULAD learners and root of OULAD activity IRIs."""

PASS_MARK: Final = 40.0
"""OULAD: an assessment score lower than 40 is interpreted as Fail."""

START_MONTH: Final[dict[str, int]] = {"B": 2, "J": 10}
"""Month (day 1) in which a presentation starts, by the letter of its code."""

TABLES: Final[dict[str, tuple[str, ...]]] = {
    "courses": ("code_module", "code_presentation", "module_presentation_length"),
    "assessments": (
        "code_module",
        "code_presentation",
        "id_assessment",
        "assessment_type",
        "date",
        "weight",
    ),
    "vle": ("id_site", "code_module", "code_presentation", "activity_type"),
    "studentInfo": (
        "code_module",
        "code_presentation",
        "id_student",
        "gender",
        "region",
        "highest_education",
        "imd_band",
        "age_band",
        "num_of_prev_attempts",
        "studied_credits",
        "disability",
        "final_result",
    ),
    "studentRegistration": (
        "code_module",
        "code_presentation",
        "id_student",
        "date_registration",
        "date_unregistration",
    ),
    "studentAssessment": ("id_assessment", "id_student", "date_submitted", "is_banked", "score"),
    "studentVle": ("code_module", "code_presentation", "id_student", "id_site", "date", "sum_click"),
}
"""The official tables, in the order they are checked, with the columns the importer reads."""

TRANSFORM_MEMORY_LIMIT: Final = "1500MB"
"""Memory the transform engine may use before spilling to a temporary folder."""


def _lit(text: str) -> str:
    """A SQL string literal of one of this module's constants (never of user input)."""
    return "'" + text.replace("'", "''") + "'"


def _cols(table: str, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{c}"' for c in TABLES[table])


def _statement_id(table: str, alias: str = "") -> str:
    """SQL of the statement id of a row: ``oulad``, the table name, its raw fields, ``occ``."""
    prefix = f"{alias}." if alias else ""
    source_table = table.split("/")[0]
    parts = [_lit(KIND), _lit(table), *(f'{prefix}"{c}"' for c in TABLES[source_table]), "occ"]
    return f"CAST({uuid5_sql(parts)} AS VARCHAR)"


def _occurrence(table: str) -> str:
    """SQL numbering identical rows of ``table`` 1, 2, ... (which copy gets which is immaterial)."""
    return f"row_number() OVER (PARTITION BY {_cols(table)})"


_ACTOR = account_key_sql(_lit(HOME_PAGE), "student")

_MACROS: Final = f"""
CREATE TEMP MACRO shown(x) AS CASE WHEN x IS NULL THEN 'empty' ELSE '''' || x || '''' END;
CREATE TEMP MACRO is_int(x) AS coalesce(regexp_full_match(trim(x), '[+-]?[0-9]{{1,9}}'), false);
CREATE TEMP MACRO is_count(x) AS coalesce(regexp_full_match(trim(x), '[+]?[0-9]{{1,9}}'), false);
CREATE TEMP MACRO is_num(x) AS coalesce(
    regexp_full_match(trim(x), '[+-]?([0-9]{{1,15}}([.][0-9]*)?|[.][0-9]+)'), false);
CREATE TEMP MACRO to_int(x) AS CASE WHEN is_int(x) THEN CAST(trim(x) AS INTEGER) END;
CREATE TEMP MACRO is_blank(x) AS x IS NULL OR trim(x) IN ('', '?');
CREATE TEMP MACRO blank_null(x) AS CASE WHEN is_blank(x) THEN NULL ELSE x END;
CREATE TEMP MACRO is_code(x) AS coalesce(regexp_full_match(x, '[A-Za-z0-9_-]+'), false);
CREATE TEMP MACRO course_iri(m, p) AS {_lit(HOME_PAGE + "/course/")} || m || '/' || p;
CREATE TEMP MACRO course_shown(m, p) AS shown(m) || '/' || shown(p);
"""

_LOAD: Final = (
    "CREATE TEMP TABLE raw_{table} AS SELECT row_number() OVER () + 1 AS line, {cols} "
    "FROM read_csv(?, header = true, all_varchar = true, delim = ',', quote = '\"')"
)

_VLE_SOURCE: Final = (
    "SELECT {cols} FROM read_csv($path, header = true, all_varchar = true, delim = ',', quote = '\"')"
)

# Every reference table is checked into `chk_<table>` (raw columns, parsed columns, `reason` of the
# first failed check or NULL); the valid rows of the reference tables become lookup tables.
_CHECKS: Final[dict[str, str]] = {
    "courses": f"""
CREATE TEMP TABLE chk_courses AS
SELECT *, CASE
    WHEN NOT is_code(code_module) THEN 'code_module ' || shown(code_module) || ' is not a module code'
    WHEN NOT coalesce(regexp_full_match(code_presentation, '[0-9]{{4}}[{"".join(START_MONTH)}]'),
                      false)
        THEN 'code_presentation ' || shown(code_presentation)
             || ' is not a year followed by B (February) or J (October)'
    WHEN NOT is_count(module_presentation_length) OR to_int(module_presentation_length) = 0
        THEN 'module_presentation_length ' || shown(module_presentation_length)
             || ' is not a positive integer'
    WHEN first_line < line THEN 'duplicate module-presentation '
         || course_shown(code_module, code_presentation) || ' (first on line ' || first_line || ')'
    END AS reason
FROM (SELECT *, min(line) OVER (PARTITION BY code_module, code_presentation) AS first_line
      FROM raw_courses);
CREATE TEMP TABLE pres AS
SELECT code_module, code_presentation, course_iri(code_module, code_presentation) AS course,
       start_ts, start_ts + to_days(to_int(module_presentation_length)) AS end_ts
FROM (SELECT *, make_timestamp(CAST(left(code_presentation, 4) AS INTEGER),
                               CASE right(code_presentation, 1)
                                   {" ".join(f"WHEN {_lit(k)} THEN {v}" for k, v in START_MONTH.items())}
                               END, 1, 0, 0, 0) AS start_ts
      FROM chk_courses WHERE reason IS NULL);
""",
    "vle": """
CREATE TEMP TABLE chk_vle AS
SELECT r.*, CASE
    WHEN NOT is_int(r.id_site) THEN 'id_site ' || shown(r.id_site) || ' is not an integer'
    WHEN p.course IS NULL THEN 'unknown module-presentation '
         || course_shown(r.code_module, r.code_presentation)
    WHEN is_blank(r.activity_type) THEN 'activity_type is empty'
    WHEN NOT is_code(r.activity_type) THEN 'activity_type ' || shown(r.activity_type)
         || ' is not a plain word'
    WHEN r.first_line < r.line THEN 'duplicate id_site ' || shown(r.id_site)
         || ' (first on line ' || r.first_line || ')'
    END AS reason
FROM (SELECT *, min(line) OVER (PARTITION BY to_int(id_site)) AS first_line FROM raw_vle) r
LEFT JOIN pres p USING (code_module, code_presentation);
CREATE TEMP TABLE sites AS
SELECT to_int(id_site) AS site, code_module, code_presentation, activity_type
FROM chk_vle WHERE reason IS NULL;
""",
    "assessments": """
CREATE TEMP TABLE chk_assessments AS
SELECT r.*, CASE
    WHEN NOT is_int(r.id_assessment) THEN 'id_assessment ' || shown(r.id_assessment)
         || ' is not an integer'
    WHEN p.course IS NULL THEN 'unknown module-presentation '
         || course_shown(r.code_module, r.code_presentation)
    WHEN is_blank(r.assessment_type) THEN 'assessment_type is empty'
    WHEN NOT is_blank(r."date") AND NOT is_int(r."date") THEN 'date ' || shown(r."date")
         || ' is not an integer (days from the presentation start)'
    WHEN NOT is_blank(r.weight) AND NOT is_num(r.weight) THEN 'weight ' || shown(r.weight)
         || ' is not a number'
    WHEN r.first_line < r.line THEN 'duplicate id_assessment ' || shown(r.id_assessment)
         || ' (first on line ' || r.first_line || ')'
    END AS reason
FROM (SELECT *, min(line) OVER (PARTITION BY to_int(id_assessment)) AS first_line
      FROM raw_assessments) r
LEFT JOIN pres p USING (code_module, code_presentation);
CREATE TEMP TABLE assess AS
SELECT to_int(a.id_assessment) AS assessment, a.code_module, a.code_presentation,
       a.assessment_type,
       CAST(blank_null(a.weight) AS DOUBLE) AS weight,
       p.start_ts + to_days(to_int(a."date")) AS due, p.course, p.start_ts,
       p.course || '/assessment/' || CAST(to_int(a.id_assessment) AS VARCHAR) AS object_id
FROM chk_assessments a JOIN pres p USING (code_module, code_presentation)
WHERE a.reason IS NULL;
""",
    "studentInfo": """
CREATE TEMP TABLE chk_studentInfo AS
SELECT r.*, p.course, p.end_ts, TRY_CAST(trim(r.id_student) AS BIGINT) AS student, CASE
    WHEN NOT is_int(r.id_student) THEN 'id_student ' || shown(r.id_student) || ' is not an integer'
    WHEN p.course IS NULL THEN 'unknown module-presentation '
         || course_shown(r.code_module, r.code_presentation)
    WHEN NOT is_count(r.num_of_prev_attempts) THEN 'num_of_prev_attempts '
         || shown(r.num_of_prev_attempts) || ' is not a non-negative integer'
    WHEN NOT is_blank(r.studied_credits) AND NOT is_count(r.studied_credits)
        THEN 'studied_credits ' || shown(r.studied_credits) || ' is not a non-negative integer'
    WHEN NOT is_blank(r.disability) AND r.disability NOT IN ('Y', 'N')
        THEN 'disability ' || shown(r.disability) || ' is not Y or N'
    WHEN f.verb_id IS NULL THEN 'final_result ' || shown(r.final_result)
         || ' is not Pass, Distinction, Fail or Withdrawn'
    WHEN r.first_line < r.line THEN 'duplicate student ' || shown(r.id_student) || ' in '
         || course_shown(r.code_module, r.code_presentation)
         || ' (first on line ' || r.first_line || ')'
    END AS reason
FROM (SELECT *, min(line) OVER (PARTITION BY code_module, code_presentation,
                                TRY_CAST(trim(id_student) AS BIGINT)) AS first_line
      FROM raw_studentInfo) r
LEFT JOIN pres p USING (code_module, code_presentation)
LEFT JOIN final_results f USING (final_result);
""",
    "studentRegistration": """
CREATE TEMP TABLE chk_studentRegistration AS
SELECT r.*, p.course, p.start_ts, TRY_CAST(trim(r.id_student) AS BIGINT) AS student, CASE
    WHEN NOT is_int(r.id_student) THEN 'id_student ' || shown(r.id_student) || ' is not an integer'
    WHEN p.course IS NULL THEN 'unknown module-presentation '
         || course_shown(r.code_module, r.code_presentation)
    WHEN NOT is_blank(r.date_registration) AND NOT is_int(r.date_registration)
        THEN 'date_registration ' || shown(r.date_registration) || ' is not an integer'
    WHEN NOT is_blank(r.date_unregistration) AND NOT is_int(r.date_unregistration)
        THEN 'date_unregistration ' || shown(r.date_unregistration) || ' is not an integer'
    END AS reason
FROM raw_studentRegistration r
LEFT JOIN pres p USING (code_module, code_presentation);
""",
    "studentAssessment": """
CREATE TEMP TABLE chk_studentAssessment AS
SELECT r.*, a.code_module, a.code_presentation, a.course, a.start_ts, a.object_id,
       a.assessment_type, a.weight, a.due,
       TRY_CAST(trim(r.id_student) AS BIGINT) AS student,
       CAST(blank_null(r.score) AS DOUBLE) AS score_value, CASE
    WHEN NOT is_int(r.id_assessment) THEN 'id_assessment ' || shown(r.id_assessment)
         || ' is not an integer'
    WHEN a.course IS NULL THEN 'unknown id_assessment ' || shown(r.id_assessment)
    WHEN NOT is_int(r.id_student) THEN 'id_student ' || shown(r.id_student) || ' is not an integer'
    WHEN NOT is_int(r.date_submitted) THEN 'date_submitted ' || shown(r.date_submitted)
         || ' is not an integer (days from the presentation start)'
    WHEN coalesce(trim(r.is_banked), '') NOT IN ('0', '1')
        THEN 'is_banked ' || shown(r.is_banked) || ' is not 0 or 1'
    WHEN NOT is_blank(r.score) AND NOT is_num(r.score)
        THEN 'score ' || shown(r.score) || ' is not a number'
    WHEN NOT is_blank(r.score) AND CAST(trim(r.score) AS DOUBLE) NOT BETWEEN 0 AND 100
        THEN 'score ' || shown(r.score) || ' is outside 0-100'
    END AS reason
FROM raw_studentAssessment r
LEFT JOIN assess a ON a.assessment = to_int(r.id_assessment);
""",
}

# The big table is never materialised: one streaming scan finds its rejected rows (with their line
# numbers, from row_number() over the scan in file order) and aggregates the valid ones per student
# and presentation for the report; a second scan, which needs no order, makes the statements.
_CHECK_VLE: Final = """
SELECT r.*, p.course, p.start_ts, s.activity_type,
       TRY_CAST(trim(r.id_student) AS BIGINT) AS student, CASE
    WHEN NOT is_int(r.id_student) THEN 'id_student ' || shown(r.id_student) || ' is not an integer'
    WHEN p.course IS NULL THEN 'unknown module-presentation '
         || course_shown(r.code_module, r.code_presentation)
    WHEN NOT is_int(r.id_site) THEN 'id_site ' || shown(r.id_site) || ' is not an integer'
    WHEN s.site IS NULL THEN 'unknown id_site ' || shown(r.id_site) || ' in '
         || course_shown(r.code_module, r.code_presentation)
    WHEN NOT is_int(r."date") THEN 'date ' || shown(r."date")
         || ' is not an integer (days from the presentation start)'
    WHEN NOT is_count(r.sum_click) THEN 'sum_click ' || shown(r.sum_click)
         || ' is not a non-negative integer'
    END AS reason
FROM {source} r
LEFT JOIN pres p USING (code_module, code_presentation)
LEFT JOIN sites s ON s.site = to_int(r.id_site) AND s.code_module = r.code_module
                 AND s.code_presentation = r.code_presentation
"""

_SCAN_VLE: Final = f"""
CREATE TEMP TABLE scan_studentVle AS
SELECT code_module, code_presentation, student, reason,
       CASE WHEN reason IS NOT NULL THEN line END AS line,
       count(*) AS n, sum(CASE WHEN reason IS NULL THEN to_int(sum_click) END) AS clicks
FROM ({_CHECK_VLE.format(source="(SELECT row_number() OVER () + 1 AS line, * FROM src_studentVle)")})
GROUP BY ALL
"""

_COLUMNS: Final = (
    "id",
    "actor_key",
    "verb_id",
    "object_id",
    "object_type",
    "activity_type",
    "ts",
    "source",
    "course",
    "score_scaled",
    "score_raw",
    "score_min",
    "score_max",
    "success",
    "completion",
    "response",
    "quantity",
    "extensions",
)
"""Statement columns every part of the import provides, in this order."""


def _json(**groups: dict[str, str]) -> str:
    """SQL of the ``extensions`` JSON ``{"result": {...}, "context": {...}}`` (NULL values dropped).

    ``groups`` maps ``result``/``context`` to {extension IRI: SQL value}.
    """
    objects = []
    for group, values in groups.items():
        pairs = ", ".join(f"{_lit(iri)}, {sql}" for iri, sql in values.items())
        objects.append(f"{_lit(group)}, json_object({pairs})")
    return f"CAST(json_object({', '.join(objects)}) AS VARCHAR)"


def _part(select: dict[str, str], rest: str) -> str:
    """One ``SELECT`` of the statement union, every column in :data:`_COLUMNS` order and type."""
    types = {
        "ts": "TIMESTAMP",
        "score_scaled": "DOUBLE",
        "score_raw": "DOUBLE",
        "score_min": "DOUBLE",
        "score_max": "DOUBLE",
        "success": "BOOLEAN",
        "completion": "BOOLEAN",
        "quantity": "DOUBLE",
    }
    cols = ", ".join(f"CAST({select.get(c, 'NULL')} AS {types.get(c, 'VARCHAR')}) AS {c}" for c in _COLUMNS)
    return f"SELECT {cols} {rest}"


def _statements_sql() -> str:
    course_object = {
        "actor_key": _ACTOR,
        "object_id": "course",
        "object_type": "'Activity'",
        "activity_type": _lit(vocab.COURSE),
        "source": _lit(vocab.SOURCE_REGISTRY),
        "course": "course",
    }
    registered = _part(
        {
            **course_object,
            "id": _statement_id("studentRegistration"),
            "verb_id": _lit(vocab.REGISTERED),
            "ts": "start_ts + to_days(coalesce(to_int(date_registration), 0))",
            "extensions": "CASE WHEN is_blank(date_registration) THEN "
            + _json(context={vocab.EXT_DATE_IMPUTED: "true"})
            + " END",
        },
        f"FROM (SELECT *, {_occurrence('studentRegistration')} AS occ "
        "FROM chk_studentRegistration WHERE reason IS NULL)",
    )
    unregistered = _part(
        {
            **course_object,
            "id": _statement_id("studentRegistration/unregistration"),
            "verb_id": _lit(vocab.UNREGISTERED),
            "ts": "start_ts + to_days(to_int(date_unregistration))",
        },
        f"FROM (SELECT *, {_occurrence('studentRegistration')} AS occ "
        "FROM chk_studentRegistration WHERE reason IS NULL) "
        "WHERE NOT is_blank(date_unregistration)",
    )
    final = _part(
        {
            **course_object,
            "id": _statement_id("studentInfo"),
            "verb_id": "f.verb_id",
            "ts": "end_ts",
            "success": "f.success",
            "completion": "f.completion",
            "response": "final_result",
        },
        f"FROM (SELECT *, {_occurrence('studentInfo')} AS occ "
        "FROM chk_studentInfo WHERE reason IS NULL) JOIN final_results f USING (final_result)",
    )
    submitted = _part(
        {
            "id": _statement_id("studentAssessment"),
            "actor_key": _ACTOR,
            "verb_id": _lit(vocab.SUBMITTED),
            "object_id": "object_id",
            "object_type": "'Activity'",
            "activity_type": _lit(vocab.ASSESSMENT),
            "ts": "start_ts + to_days(to_int(date_submitted))",
            "source": _lit(vocab.SOURCE_LMS),
            "course": "course",
            "score_scaled": "score_value / 100",
            "score_raw": "score_value",
            "score_min": "CASE WHEN score_value IS NOT NULL THEN 0 END",
            "score_max": "CASE WHEN score_value IS NOT NULL THEN 100 END",
            "success": f"score_value >= {PASS_MARK}",
            "extensions": _json(
                result={vocab.EXT_IS_BANKED: "trim(is_banked) = '1'"},
                context={
                    vocab.EXT_ASSESSMENT_KIND: "assessment_type",
                    vocab.EXT_WEIGHT: "weight",
                    vocab.EXT_DUE: "strftime(due, '%Y-%m-%dT%H:%M:%SZ')",
                },
            ),
        },
        f"FROM (SELECT *, {_occurrence('studentAssessment')} AS occ "
        "FROM chk_studentAssessment WHERE reason IS NULL)",
    )
    clicked = _part(
        {
            "id": _statement_id("studentVle"),
            "actor_key": _ACTOR,
            "verb_id": _lit(vocab.INTERACTED),
            "object_id": "course || '/vle/' || CAST(to_int(id_site) AS VARCHAR)",
            "object_type": "'Activity'",
            "activity_type": _lit(vocab.vle_activity_type("")) + " || activity_type",
            "ts": 'start_ts + to_days(to_int("date"))',
            "source": _lit(vocab.SOURCE_LMS),
            "course": "course",
            "quantity": "to_int(sum_click)",
            "extensions": _json(result={vocab.EXT_CLICKS: "to_int(sum_click)"}),
        },
        f"FROM (SELECT *, {_occurrence('studentVle')} AS occ FROM ("
        + _CHECK_VLE.format(source="src_studentVle")
        + ") WHERE reason IS NULL)",
    )
    return "\nUNION ALL\n".join([registered, unregistered, final, submitted, clicked])


_PROFILES: Final = f"""
SELECT {_ACTOR} AS actor_key, course, {_lit(vocab.SOURCE_REGISTRY)} AS source,
       CAST(to_int(num_of_prev_attempts) AS INTEGER) AS retakes,
       CAST(json_object(
           'gender', blank_null(gender), 'region', blank_null(region),
           'highest_education', blank_null(highest_education), 'imd_band', blank_null(imd_band),
           'age_band', blank_null(age_band), 'studied_credits', to_int(studied_credits),
           'disability', CASE blank_null(disability) WHEN 'Y' THEN true WHEN 'N' THEN false END
       ) AS VARCHAR) AS attributes
FROM chk_studentInfo WHERE reason IS NULL
"""

_COURSES: Final = f"""
SELECT course, code_module || '-' || code_presentation AS code,
       'OULAD module ' || code_module || ', presentation ' || code_presentation AS title,
       start_ts, CAST(datediff('day', start_ts, end_ts) AS INTEGER) AS length_days,
       {_lit(KIND)} AS source
FROM pres
"""
"""The course calendar (anchored start dates, presentation lengths) for as-of cut-offs."""

_FINAL_RESULTS: Final[tuple[tuple[str, str, bool | None, bool], ...]] = (
    ("Pass", vocab.PASSED, True, True),
    ("Distinction", vocab.PASSED, True, True),
    ("Fail", vocab.FAILED, False, True),
    ("Withdrawn", vocab.WITHDREW, None, False),
)
"""``final_result`` → (verb, success, completion) of the final-result statement."""

_DETAILS: Final = """
WITH valid AS (
    SELECT code_module, code_presentation, student FROM chk_studentInfo WHERE reason IS NULL
    UNION ALL SELECT code_module, code_presentation, student
        FROM chk_studentRegistration WHERE reason IS NULL
    UNION ALL SELECT code_module, code_presentation, student
        FROM chk_studentAssessment WHERE reason IS NULL
    UNION ALL SELECT code_module, code_presentation, student
        FROM scan_studentVle WHERE reason IS NULL
)
SELECT
    (SELECT count(DISTINCT student) FROM valid),
    (SELECT count(DISTINCT (code_module, code_presentation)) FROM valid),
    (SELECT coalesce(sum(n), 0) FROM scan_studentVle WHERE reason IS NULL),
    (SELECT coalesce(sum(clicks), 0) FROM scan_studentVle WHERE reason IS NULL),
    (SELECT count(*) FROM chk_studentAssessment WHERE reason IS NULL),
    (SELECT count(*) FROM chk_studentAssessment WHERE reason IS NULL AND score_value IS NULL),
    (SELECT count(*) FROM chk_studentRegistration WHERE reason IS NULL),
    (SELECT count(*) FROM chk_studentRegistration
        WHERE reason IS NULL AND is_blank(date_registration)),
    (SELECT count(*) FROM chk_studentRegistration
        WHERE reason IS NULL AND NOT is_blank(date_unregistration)),
    (SELECT count(*) FROM chk_studentInfo WHERE reason IS NULL)
"""


def ingest_oulad(store: Store, path: Path, *, max_rejects: int = 0) -> IngestReport:
    """Import OULAD from its folder of seven CSV files or from the official zip.

    Parameters
    ----------
    store
        The store to write to; one atomic batch, unchanged on any error.
    path
        A folder holding ``courses.csv`` ... ``studentVle.csv`` (each may be ``.csv.gz``), or a zip
        of those files (at its root or in one folder).
    max_rejects
        How many rejected rows are tolerated (recorded in ``rejected_rows``); more raise.

    Returns
    -------
    IngestReport
        With ``details``: ``statements`` per kind, ``n_students``, ``n_presentations``,
        ``clicks_total``, ``scores_missing``, ``registrations_date_imputed``, ``rows_by_file``.

    Raises
    ------
    IngestError
        Missing file or column, truncated gzip, unreadable CSV or zip, too many rejected rows.
    """
    path = Path(path)
    if not path.exists():
        raise IngestError("OULAD folder or zip not found", file=path)
    with _located_files(path) as (files, shown):
        return _ingest_files(store, files, shown, source=str(path), max_rejects=max_rejects)


@contextmanager
def _located_files(path: Path) -> Iterator[tuple[dict[str, Path], dict[str, str]]]:
    """The seven files (extracted to a temporary folder for a zip) and their names for messages."""
    if path.is_dir():
        files = {table: _find(path, table) for table in TABLES}
        yield files, {table: str(p) for table, p in files.items()}
        return
    if not zipfile.is_zipfile(path):
        raise IngestError("expected the OULAD folder of 7 CSV files or the official zip", file=path)
    with tempfile.TemporaryDirectory(prefix="learnsight-oulad-") as tmp:
        files, shown = {}, {}
        try:
            with zipfile.ZipFile(path) as archive:
                members = {Path(n).name: n for n in archive.namelist() if not n.endswith("/")}
                for table in TABLES:
                    member = members.get(f"{table}.csv") or members.get(f"{table}.csv.gz")
                    if member is None:
                        raise IngestError(f"{table}.csv not found in the archive", file=path)
                    target = Path(tmp) / Path(member).name
                    with archive.open(member) as src, target.open("wb") as dst:
                        while chunk := src.read(1 << 24):
                            dst.write(chunk)
                    files[table] = target
                    shown[table] = f"{path}/{member}"
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise IngestError(f"cannot read the zip archive: {exc}", file=path) from exc
        yield files, shown


def _find(folder: Path, table: str) -> Path:
    for name in (f"{table}.csv", f"{table}.csv.gz"):
        if (folder / name).is_file():
            return folder / name
    raise IngestError("file not found (nor its .csv.gz)", file=folder / f"{table}.csv")


def _ingest_files(
    store: Store,
    files: dict[str, Path],
    shown: dict[str, str],
    *,
    source: str,
    max_rejects: int,
) -> IngestReport:
    with progress.task("OULAD: checking files"):
        for table in TABLES:
            check_source_file(files[table])
    with tempfile.TemporaryDirectory(prefix="learnsight-spill-") as spill:
        con = transform_connection()
        try:
            con.execute(f"SET memory_limit = {_lit(TRANSFORM_MEMORY_LIMIT)}")
            con.execute("SET temp_directory = ?", [spill])
            con.execute(_MACROS)
            con.execute(
                "CREATE TEMP TABLE final_results (final_result VARCHAR, verb_id VARCHAR, "
                "success BOOLEAN, completion BOOLEAN)"
            )
            con.executemany(
                "INSERT INTO final_results VALUES (?, ?, ?, ?)", [list(r) for r in _FINAL_RESULTS]
            )
            rows_by_file = _load_and_check(con, files, shown)
            rejections = _rejections(con, shown)
            details = _details(con, rows_by_file)
            if len(rejections) > max_rejects:
                # The store would refuse the batch anyway; this spares reading studentVle again.
                return store.ingest(
                    IngestBatch(KIND, source, sum(rows_by_file.values()), rejections=rejections),
                    max_rejects=max_rejects,
                )
            # Order does not matter from here on; not keeping it saves memory.
            con.execute("SET preserve_insertion_order = false")
            profiles = con.sql(_PROFILES).to_arrow_table()
            courses = con.sql(_COURSES).to_arrow_table()
            statements = con.sql(_statements_sql()).to_arrow_reader(ARROW_BATCH_ROWS)
            batch = IngestBatch(
                kind=KIND,
                source=source,
                rows_read=sum(rows_by_file.values()),
                statements=statements,
                profiles=profiles,
                courses=courses,
                rejections=rejections,
                details=details,
            )
            with progress.task("OULAD: writing statements"):
                return store.ingest(batch, max_rejects=max_rejects)
        finally:
            con.close()


def _run(con: duckdb.DuckDBPyConnection, sql: str, file: str, params: Sequence[Any] = ()) -> None:
    """Execute ``sql``, turning an engine error into an :class:`IngestError` naming ``file``."""
    try:
        con.execute(sql, list(params))
    except duckdb.Error as exc:
        raise IngestError(f"cannot read: {first_line(exc)}", file=file) from exc


def _load_and_check(
    con: duckdb.DuckDBPyConnection, files: dict[str, Path], shown: dict[str, str]
) -> dict[str, int]:
    """Load and check every table; returns the number of data rows per file."""
    for table, file in files.items():
        found = csv_columns(con, file, delim=",")
        try:
            require_columns(found, TABLES[table], file)
        except IngestError as exc:
            raise IngestError(str(exc).removeprefix(f"{file}: "), file=shown[table]) from exc
    with progress.task("OULAD: reading and checking the reference tables"):
        for table in TABLES:
            if table == "studentVle":
                continue
            params = [str(files[table])]
            _run(con, _LOAD.format(table=table, cols=_cols(table)), shown[table], params)
            _run(con, _CHECKS[table], shown[table])
    with progress.task("OULAD: checking studentVle"):
        try:
            con.sql(
                _VLE_SOURCE.format(cols=_cols("studentVle")),
                params={"path": str(files["studentVle"])},
            ).create_view("src_studentVle")
        except duckdb.Error as exc:
            raise IngestError(f"cannot read: {first_line(exc)}", file=shown["studentVle"]) from exc
        _run(con, _SCAN_VLE, shown["studentVle"])
    counts = {}
    for table in TABLES:
        name = "scan_studentVle" if table == "studentVle" else f"raw_{table}"
        total = con.execute(
            f"SELECT coalesce(sum(n), 0) FROM {name}"
            if table == "studentVle"
            else f"SELECT count(*) FROM {name}"
        ).fetchall()[0][0]
        counts[shown[table]] = int(total)
    return counts


def _rejections(con: duckdb.DuckDBPyConnection, shown: dict[str, str]) -> list[Rejection]:
    rejections: list[Rejection] = []
    for table in TABLES:
        name = "scan_studentVle" if table == "studentVle" else f"chk_{table}"
        rows = con.execute(
            f"SELECT line, reason FROM {name} WHERE reason IS NOT NULL ORDER BY line"
        ).fetchall()
        rejections.extend(Rejection(shown[table], int(line), str(reason)) for line, reason in rows)
    return rejections


def _details(con: duckdb.DuckDBPyConnection, rows_by_file: dict[str, int]) -> dict[str, Any]:
    row = con.execute(_DETAILS).fetchall()[0]
    (
        students,
        presentations,
        vle_rows,
        clicks,
        submissions,
        no_score,
        registrations,
        imputed,
        unregistrations,
        finals,
    ) = (int(x) for x in row)
    return {
        "statements": {
            "vle_clicks": vle_rows,
            "submissions": submissions,
            "registrations": registrations,
            "unregistrations": unregistrations,
            "final_results": finals,
        },
        "n_students": students,
        "n_presentations": presentations,
        "clicks_total": clicks,
        "scores_missing": no_score,
        "registrations_date_imputed": imputed,
        "rows_by_file": rows_by_file,
        "anchoring": "presentation start = 1 February (B) / 1 October (J) of the code's year, UTC",
    }


__all__ = ["HOME_PAGE", "KIND", "PASS_MARK", "TABLES", "ingest_oulad"]
