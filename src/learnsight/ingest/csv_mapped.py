"""Import any CSV file through a mapping file (TOML or YAML): one row becomes one xAPI statement.

A mapping says which column is the learner, which verb, object, time, source device, course and
result each row stands for.  It is parsed into the pydantic model :class:`CsvMapping`
(``extra="forbid"`` everywhere, so a misspelt key is an error), compiled against the file's header
to **one DuckDB query** (:func:`compile_mapping`), and run over the whole file at once: no Python
runs per row.  Example mappings ship in ``learnsight/ingest/mappings/`` (``learnsight ingest
mappings`` lists them; :func:`shipped_mappings` returns them), each commented line by line.

The mapping format
------------------
Top level (``[table]`` = a TOML table / a YAML mapping)::

    name        id namespace of the statements (default: the file's stem); keep it stable
    description free text
    [csv]       delimiter (",", ";", "\\t", "|"), encoding ("utf-8" only), header (true/false),
                columns (names when header = false), timestamp_formats (strptime patterns or
                "iso8601", tried in order; default ["iso8601"]), timezone (IANA name of the
                wall-clock times in the file, default "UTC"; statements are stored in UTC)
    [actor]     column; home_page (account IFI: homePage + the column's value) or mbox = true
                (the column holds e-mail addresses); pattern (a regular expression whose first
                group extracts the id from the column); name_column (display name)
    verb        an IRI, or [verb] column + map (value -> IRI) + unmapped + default
    [object]    id (IRI template, e.g. "https://campus.example.edu/canteen/{terminal}");
                type (activity type: an IRI, or column + map like verb)
    timestamp   a column, or [timestamp] columns = ["date", "time"] (joined with a space)
    source      the acquisition device (context.platform): a value, or column + map
    course      optional IRI template of the course (contextActivities.grouping)
    [result]    score = {raw, min, max, scaled} (each a number or a column name);
                success / completion = a column (true/false values configurable) or, for success,
                {min_score = N} (success when score.raw >= N); duration = {column, unit} with unit
                seconds|minutes|hours|milliseconds|iso8601, or {start, end} (two timestamp
                columns); quantity = a column (the principal amount: money, bytes, clicks);
                response = a column
    [extensions.result] / [extensions.context]   extension IRI -> column (text values; empty
                cells are left out)

Value maps (``verb``, ``object.type``, ``source``) compare the cell after trimming surrounding
spaces, exactly (case matters).  ``unmapped`` says what happens to a value the map lacks:
``"reject"`` (default; the row is rejected with its line), ``"default"`` (use ``default``) or
``"skip"`` (the row is dropped and counted per value in the report's ``details["skipped"]``,
never silently).  A column without a map is used as is (it must then hold IRIs).

Templates insert the trimmed cell where ``{column}`` stands.  Characters that may not appear in an
IRI (space, tab, ``"<>\\^`{|}``) are percent-encoded; everything else (``/``, ``:``, non-ASCII
letters) is kept so an IRI built from a path-like id stays readable.  An empty cell needed by a
template rejects the row.

Reading, and why not DuckDB's CSV reader
----------------------------------------
Every rejection must name its **physical line** (header = line 1), but DuckDB's CSV reader exposes
no line number for good rows.  So the file is read by DuckDB as raw lines (one VARCHAR per line,
order kept, ``.gz`` decompressed) and each line is split by a regular expression for RFC 4180
fields (``"..."`` with ``""`` escapes).  This is vectorised in the engine and exact for every file
whose quoted fields stay on one line; a quoted field spanning lines is reported as malformed
quoting (and its continuation line as a bad record) rather than silently misread.  Blank lines
are skipped (counted in ``details["blank_lines"]``).  The files must be UTF-8
(:func:`~learnsight.ingest.common.check_source_file` refuses anything else before reading); a
UTF-8 byte-order mark is ignored.

Rejections and failures
-----------------------
A row is rejected (:class:`~learnsight.errors.Rejection` with file and line) for: malformed quoting
or a wrong field count, a missing actor (or one the pattern does not find), an empty or
unparseable timestamp, an unmapped value under ``unmapped = "reject"``, an empty cell a template
needs, a non-numeric number, a non-boolean boolean, a score outside ``[min, max]``, a negative or
malformed duration.  All reasons of a row are reported together.  More rejections than
``max_rejects`` fail the import with :class:`~learnsight.errors.IngestError` and the store is
unchanged; fewer are recorded in the store beside the written statements.  A missing column, a
truncated gzip or a non-UTF-8 file is an ``IngestError`` naming the file.  A bad mapping file is a
:class:`~learnsight.errors.MappingError` naming the file and the field, e.g.
``mapping.toml: actor.column: field required``.

Safety of the compiled SQL: column names appear only as quoted identifiers (``"`` doubled) and
every value taken from the mapping (IRIs, map keys and values, formats, patterns, messages) is a
bound ``$parameter``; nothing from the mapping or the file is spliced into the SQL text.

Statement ids
-------------
``uuid5("csv", mapping name, the row's raw fields, occurrence)`` via
:func:`~learnsight.xapi.ids.uuid5_sql`, where *occurrence* numbers identical rows in file order.
The id depends on the row, not on its line or the file's name, so re-importing the file, or a
later export that repeats its rows, writes nothing new; a row that legitimately repeats keeps
every copy.  Changing the mapping's ``name`` changes every id.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal, Self

import duckdb
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
)

from learnsight import progress
from learnsight.errors import IngestError, MappingError, Rejection
from learnsight.ingest.common import (
    ARROW_BATCH_ROWS,
    check_source_file,
    first_line,
    require_columns,
    transform_connection,
)
from learnsight.ingest.delimited import (
    MALFORMED_QUOTING,
    DelimitedRecords,
    quote_ident,
    read_delimited,
)
from learnsight.ingest.delimited import scalar as _one
from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.xapi.ids import uuid5_sql
from learnsight.xapi.keys import account_key_sql

# =================================================================================================
# The mapping model
# =================================================================================================

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_TRUE_VALUES: Final = ("true", "yes", "y", "1", "t", "pass", "passed", "completed")
_FALSE_VALUES: Final = ("false", "no", "n", "0", "f", "fail", "failed", "incomplete")


def _check_iri(value: str) -> str:
    if not _IRI.match(value):
        raise ValueError(f"not an absolute IRI: {value!r}")
    return value


def _check_template(value: str) -> str:
    if value.count("{") != value.count("}") or _PLACEHOLDER.sub("", value).count("{"):
        raise ValueError(f"unbalanced braces in template {value!r}")
    if not value.startswith("{"):
        _check_iri(_PLACEHOLDER.sub("x", value))
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvOptions(_Model):
    """How to read the file."""

    delimiter: Literal[",", ";", "\t", "|"] = ","
    encoding: Literal["utf-8"] = "utf-8"
    header: bool = True
    columns: tuple[str, ...] | None = None
    timestamp_formats: tuple[str, ...] = ("iso8601",)
    timezone: str = "UTC"

    @field_validator("encoding", mode="before")
    @classmethod
    def _normalise_encoding(cls, value: object) -> object:
        if isinstance(value, str) and value.lower().replace("_", "-") in {"utf-8", "utf8"}:
            return "utf-8"
        return value

    @field_validator("timestamp_formats")
    @classmethod
    def _non_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one format")
        return value

    @model_validator(mode="after")
    def _columns_without_header(self) -> Self:
        if not self.header and not self.columns:
            raise ValueError("header = false needs columns = [...]")
        return self


class ValueSpec(_Model):
    """A fixed value, or a column's value (optionally translated by a map)."""

    value: str | None = None
    column: str | None = None
    map: dict[str, str] = {}
    unmapped: Literal["reject", "default", "skip"] = "reject"
    default: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        return {"value": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.value is None) == (self.column is None):
            raise ValueError("give either a value or a column")
        if self.unmapped == "default" and self.default is None:
            raise ValueError('unmapped = "default" needs default = ...')
        return self


class IriValueSpec(ValueSpec):
    """A :class:`ValueSpec` whose values are IRIs (verbs, activity types)."""

    @field_validator("value", "default")
    @classmethod
    def _iri(cls, value: str | None) -> str | None:
        return None if value is None else _check_iri(value)

    @field_validator("map")
    @classmethod
    def _iri_values(cls, value: dict[str, str]) -> dict[str, str]:
        for iri in value.values():
            _check_iri(iri)
        return value


class ActorSpec(_Model):
    """Who: the column identifying the learner and how it becomes an xAPI agent."""

    column: str
    home_page: str | None = None
    mbox: bool = False
    pattern: str | None = None
    name_column: str | None = None

    @field_validator("home_page")
    @classmethod
    def _iri(cls, value: str | None) -> str | None:
        return None if value is None else _check_iri(value)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                groups = re.compile(value).groups
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
            if groups < 1:
                raise ValueError("the pattern needs a (group) around the id")
        return value

    @model_validator(mode="after")
    def _one_ifi(self) -> Self:
        if (self.home_page is None) == (not self.mbox):
            raise ValueError("give either home_page (account) or mbox = true")
        return self


class ObjectSpec(_Model):
    """What: the activity's IRI template and its type."""

    id: str
    type: IriValueSpec | None = None

    @field_validator("id")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_template(value)


class TimestampSpec(_Model):
    """When: one column, or several joined with a space (date + time)."""

    column: str | None = None
    columns: tuple[str, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        return {"column": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.column is None) == (not self.columns):
            raise ValueError("give either column or columns")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return (self.column,) if self.column is not None else tuple(self.columns or ())


class NumberSpec(_Model):
    """A number: fixed (``max = 20``) or from a column (``raw = "grade"``)."""

    value: float | None = None
    column: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, data: object) -> object:
        if isinstance(data, bool):
            return data
        if isinstance(data, int | float):
            return {"value": data}
        return {"column": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.value is None) == (self.column is None):
            raise ValueError("give either a number or a column")
        return self


class ScoreSpec(_Model):
    """result.score: raw, min, max and scaled; scaled defaults to (raw - min) / (max - min)."""

    raw: NumberSpec | None = None
    min: NumberSpec | None = None
    max: NumberSpec | None = None
    scaled: NumberSpec | None = None


class BoolSpec(_Model):
    """A boolean column (values compared case-insensitively), or ``min_score`` for success."""

    column: str | None = None
    true_values: tuple[str, ...] = _TRUE_VALUES
    false_values: tuple[str, ...] = _FALSE_VALUES
    min_score: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        return {"column": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.column is None) == (self.min_score is None):
            raise ValueError("give either column or min_score")
        return self


class DurationSpec(_Model):
    """result.duration: a column in a unit, or the span between two timestamp columns."""

    column: str | None = None
    unit: Literal["seconds", "minutes", "hours", "milliseconds", "iso8601"] = "seconds"
    start: str | None = None
    end: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        return {"column": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one(self) -> Self:
        span = self.start is not None and self.end is not None
        if (self.column is None) == (not span) or (self.start is None) != (self.end is None):
            raise ValueError("give either column (+ unit) or both start and end")
        return self


class ResultSpec(_Model):
    """The statement's result."""

    score: ScoreSpec | None = None
    success: BoolSpec | None = None
    completion: BoolSpec | None = None
    duration: DurationSpec | None = None
    quantity: str | None = None
    response: str | None = None

    @model_validator(mode="after")
    def _completion_is_a_column(self) -> Self:
        if self.completion is not None and self.completion.column is None:
            raise ValueError("completion needs a column (min_score applies to success only)")
        if (
            self.success is not None
            and self.success.min_score is not None
            and (self.score is None or self.score.raw is None)
        ):
            raise ValueError("success.min_score needs score.raw")
        return self


class ExtensionsSpec(_Model):
    """Extra extensions: extension IRI -> column, in the result or the context."""

    result: dict[str, str] = {}
    context: dict[str, str] = {}

    @field_validator("result", "context")
    @classmethod
    def _iri_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for iri in value:
            _check_iri(iri)
        return value


class CsvMapping(_Model):
    """A whole mapping file (see the module docstring for the format)."""

    name: str | None = None
    description: str = ""
    csv: CsvOptions = CsvOptions()
    actor: ActorSpec
    verb: IriValueSpec
    object: ObjectSpec
    timestamp: TimestampSpec
    source: ValueSpec
    course: str | None = None
    result: ResultSpec = ResultSpec()
    extensions: ExtensionsSpec = ExtensionsSpec()

    @field_validator("course")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value)


# =================================================================================================
# Loading mapping files
# =================================================================================================


def shipped_mappings() -> dict[str, Path]:
    """The example mappings shipped with learnsight: name (file stem) -> path, sorted by name."""
    folder = resources.files("learnsight.ingest") / "mappings"
    found: dict[str, Path] = {}
    for entry in folder.iterdir():
        if entry.name.endswith((".toml", ".yaml", ".yml")):
            found[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(found.items()))


def resolve_mapping(mapping: Path | str) -> Path:
    """The file of ``mapping``: an existing path, else the shipped mapping of that name."""
    path = Path(mapping)
    if path.is_file():
        return path
    shipped = shipped_mappings()
    for key in (str(mapping), path.name, path.stem):
        if key in shipped:
            return shipped[key]
    raise MappingError(
        f"{mapping}: no such mapping file, and no shipped mapping of that name "
        f"(shipped: {', '.join(shipped) or 'none'})"
    )


def load_mapping(mapping: Path | str) -> tuple[CsvMapping, str, Path]:
    """Parse and validate a mapping; returns (model, mapping name, file).

    Raises :class:`MappingError` naming the file and the first invalid field.
    """
    path = resolve_mapping(mapping)
    shown = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{shown}: cannot read: {exc}") from exc
    data: object
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
        else:
            raise MappingError(f"{shown}: unknown mapping format (use .toml, .yaml or .yml)")
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{shown}: not valid TOML: {exc}") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{shown}: not valid YAML: {first_line(exc)}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{shown}: expected a table of settings at the top level")
    try:
        model = CsvMapping.model_validate(data)
        return model, model.name or path.stem, path
    except ValidationError as exc:
        problem = _describe(exc)
    # Raised outside the handler: pydantic's error holds references the garbage collector cannot
    # see, so chaining it would keep the caller's frames (and its open store) alive.
    raise MappingError(f"{shown}: {problem}")


def _describe(exc: ValidationError) -> str:
    # A misspelt key shows as an extra key *and* a missing one; the extra key is the cause.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or "<top level>"
    message = str(first["msg"]).removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {message}{more}"


# =================================================================================================
# Compiling a mapping to one query
# =================================================================================================

_IRI_ESCAPES: Final = (
    ("\t", "%09"),
    (" ", "%20"),
    ('"', "%22"),
    ("<", "%3C"),
    (">", "%3E"),
    ("\\", "%5C"),
    ("^", "%5E"),
    ("`", "%60"),
    ("{", "%7B"),
    ("|", "%7C"),
    ("}", "%7D"),
)
_ISO_DURATION: Final = (
    r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_UNIT_SECONDS: Final = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "milliseconds": 0.001}
_SHOWN_CHARS: Final = 80
"""Cell text quoted in a rejection reason is cut to this many characters."""


@dataclass
class CompiledMapping:
    """The query of a mapping for one file: ``sql`` creates the temp table ``mapped``.

    ``mapped`` holds every record with its ``line``, the statement columns in ``outputs``, ``reason``
    (NULL for a good row) and ``skipped``.
    """

    sql: str
    params: dict[str, object]
    outputs: list[str]
    skip_columns: list[str]


@dataclass
class _Builder:
    columns: tuple[str, ...]
    mapping: CsvMapping
    params: dict[str, object] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    skip_columns: list[str] = field(default_factory=list)

    def param(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def col(self, name: str) -> str:
        if name not in self.used:
            self.used.append(name)
        return f"c.{quote_ident(name)}"

    def check(self, condition: str, *message: str) -> None:
        """Reject the row when ``condition``; ``message`` parts are SQL (use :meth:`text`)."""
        self.checks.append((condition, " || ".join(message)))

    def text(self, literal: str) -> str:
        return self.param(literal)

    def shown(self, cell: str) -> str:
        return f"left({cell}, {_SHOWN_CHARS})"

    def label(self, column: str) -> str:
        return self.text(f'column "{column}"')

    # -- building blocks -----------------------------------------------------------------------
    def cell(self, column: str) -> str:
        """The trimmed cell, NULL when empty."""
        return f"nullif(trim({self.col(column)}), '')"

    def value(self, spec: ValueSpec, what: str) -> str:
        if spec.value is not None:
            return self.param(spec.value)
        assert spec.column is not None
        column = spec.column
        cell = self.cell(column)
        if not spec.map:
            self.check(f"{cell} IS NULL", self.text(f'missing {what} (column "{column}")'))
            return cell
        cases = " ".join(f"WHEN {self.param(k)} THEN {self.param(v)}" for k, v in spec.map.items())
        fallback = self.param(spec.default) if spec.unmapped == "default" else "NULL"
        expr = f"(CASE {cell} {cases} ELSE {fallback} END)"
        if spec.unmapped == "reject":
            self.check(
                f"{expr} IS NULL",
                self.text(f'unmapped {what} value "'),
                f"coalesce({self.shown(cell)}, '')",
                self.text(f'" in column "{column}"'),
            )
        elif spec.unmapped == "skip":
            self.skips.append(f"{expr} IS NULL")
            self.skip_columns.append(column)
        return expr

    def template(self, template: str, what: str) -> str:
        parts: list[str] = []
        pos = 0
        for match in _PLACEHOLDER.finditer(template):
            if match.start() > pos:
                parts.append(self.param(template[pos : match.start()]))
            column = match.group(1)
            cell = self.cell(column)
            self.check(
                f"{cell} IS NULL",
                self.text(f'empty value in column "{column}" (needed by {what})'),
            )
            escaped = cell
            for char, code in _IRI_ESCAPES:
                escaped = f"replace({escaped}, {self.param(char)}, {self.param(code)})"
            parts.append(escaped)
            pos = match.end()
        if pos < len(template):
            parts.append(self.param(template[pos:]))
        return "(" + " || ".join(parts) + ")"

    def timestamp_of(self, raw: str) -> str:
        """TIMESTAMP (UTC) of a text expression, NULL when no format parses it."""
        tries = []
        for fmt in self.mapping.csv.timestamp_formats:
            if fmt.lower() == "iso8601":
                tries.append(f"timezone('UTC', TRY_CAST({raw} AS TIMESTAMPTZ))")
            else:
                tries.append(f"timezone('UTC', CAST(try_strptime({raw}, {self.param(fmt)}) AS TIMESTAMPTZ))")
        return tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"

    def timestamp_column(self, column: str, what: str, *, required: bool) -> str:
        cell = self.cell(column)
        ts = self.timestamp_of(cell)
        if required:
            self.check(f"{cell} IS NULL", self.text(f'missing {what} (column "{column}")'))
        self.check(
            f"{cell} IS NOT NULL AND {ts} IS NULL",
            self.text(f'unparseable {what} "'),
            self.shown(cell),
            self.text(f'" in column "{column}"'),
        )
        return ts

    def number(self, spec: NumberSpec, what: str) -> str:
        if spec.value is not None:
            return self.param(float(spec.value))
        assert spec.column is not None
        return self.number_column(spec.column, what)

    def number_column(self, column: str, what: str) -> str:
        cell = self.cell(column)
        number = f"TRY_CAST({cell} AS DOUBLE)"
        self.check(
            f"{cell} IS NOT NULL AND NOT coalesce(isfinite({number}), false)",
            self.text(f'not a number ({what}): "'),
            self.shown(cell),
            self.text(f'" in column "{column}"'),
        )
        return number

    def boolean(self, spec: BoolSpec, what: str) -> str:
        assert spec.column is not None
        column = spec.column
        cell = f"lower({self.cell(column)})"
        trues = self.param([v.lower() for v in spec.true_values])
        falses = self.param([v.lower() for v in spec.false_values])
        expr = (
            f"(CASE WHEN list_contains({trues}, {cell}) THEN true "
            f"WHEN list_contains({falses}, {cell}) THEN false END)"
        )
        self.check(
            f"{cell} IS NOT NULL AND {expr} IS NULL",
            self.text(f'not a boolean ({what}): "'),
            self.shown(cell),
            self.text(f'" in column "{column}"'),
        )
        return expr

    def duration(self, spec: DurationSpec) -> str:
        if spec.start is not None and spec.end is not None:
            start = self.timestamp_column(spec.start, "duration start", required=False)
            end = self.timestamp_column(spec.end, "duration end", required=False)
            seconds = f"(epoch({end}) - epoch({start}))"
            self.check(
                f"{seconds} < 0",
                self.text(f'ends before it starts (columns "{spec.start}", "{spec.end}")'),
            )
            return seconds
        assert spec.column is not None
        column = spec.column
        if spec.unit == "iso8601":
            cell = self.cell(column)
            pattern = self.param(_ISO_DURATION)
            parts = " + ".join(
                f"coalesce(TRY_CAST(nullif(regexp_extract({cell}, {pattern}, {i}), '') "
                f"AS DOUBLE), 0) * {factor}"
                for i, factor in ((1, 86400), (2, 3600), (3, 60), (4, 1))
            )
            ok = f"(regexp_full_match({cell}, {pattern}) AND regexp_matches({cell}, '[0-9]'))"
            self.check(
                f"{cell} IS NOT NULL AND NOT {ok}",
                self.text('not an ISO 8601 duration: "'),
                self.shown(cell),
                self.text(f'" in column "{column}"'),
            )
            return f"(CASE WHEN {ok} THEN {parts} END)"
        seconds = f"({self.number_column(column, 'duration')} * {_UNIT_SECONDS[spec.unit]})"
        self.check(f"{seconds} < 0", self.text(f'negative duration in column "{column}"'))
        return seconds

    def extensions(self, spec: ExtensionsSpec) -> str | None:
        if not spec.result and not spec.context:
            return None
        parts = []
        for key, entries in (("result", spec.result), ("context", spec.context)):
            if not entries:
                continue
            items = ", ".join(
                f"{{'k': {self.param(iri)}, 'v': coalesce({self.cell(column)}, '')}}"
                for iri, column in entries.items()
            )
            parts.append(f"'{key}', to_json(map_from_entries(list_filter([{items}], lambda e: e.v <> '')))")
        return f"CAST(json_object({', '.join(parts)}) AS VARCHAR)"


def compile_mapping(mapping: CsvMapping, name: str, records: DelimitedRecords) -> CompiledMapping:
    """Compile ``mapping`` for a file with ``records.columns`` into one parameterised query.

    Raises :class:`IngestError` (listing every missing column) when the mapping names a column
    the file lacks.
    """
    b = _Builder(columns=records.columns, mapping=mapping)
    out: dict[str, str] = {}

    # Who.
    actor = mapping.actor
    cell = b.cell(actor.column)
    b.check(f"{cell} IS NULL", b.text(f'missing actor (column "{actor.column}")'))
    ident = cell
    if actor.pattern is not None:
        ident = f"nullif(trim(regexp_extract({cell}, {b.param(actor.pattern)}, 1)), '')"
        b.check(
            f"{cell} IS NOT NULL AND {ident} IS NULL",
            b.text(f'no actor id in column "{actor.column}" (pattern does not match): "'),
            b.shown(cell),
            b.text('"'),
        )
    if actor.home_page is not None:
        out["actor_key"] = account_key_sql(b.param(actor.home_page), ident)
    else:
        out["actor_key"] = (
            f"(CASE WHEN starts_with(lower({ident}), 'mailto:') THEN {ident} ELSE 'mailto:' || {ident} END)"
        )
        b.check(
            f"{ident} IS NOT NULL AND NOT contains({ident}, '@')",
            b.text('not an e-mail address: "'),
            b.shown(ident),
            b.text(f'" in column "{actor.column}"'),
        )
    if actor.name_column is not None:
        out["actor_name"] = b.cell(actor.name_column)

    # Did what, to what, when, where.
    out["verb_id"] = b.value(mapping.verb, "verb")
    out["object_id"] = b.template(mapping.object.id, "object.id")
    out["object_type"] = "'Activity'"
    if mapping.object.type is not None:
        out["activity_type"] = b.value(mapping.object.type, "activity type")
    ts_names = mapping.timestamp.names
    if len(ts_names) == 1:
        out["ts"] = b.timestamp_column(ts_names[0], "timestamp", required=True)
    else:
        joined = "nullif(concat_ws(' ', " + ", ".join(b.cell(n) for n in ts_names) + "), '')"
        out["ts"] = b.timestamp_of(joined)
        b.check(f"{joined} IS NULL", b.text(f"missing timestamp (columns {', '.join(ts_names)})"))
        b.check(
            f"{joined} IS NOT NULL AND {out['ts']} IS NULL",
            b.text('unparseable timestamp "'),
            b.shown(joined),
            b.text(f'" in columns {", ".join(ts_names)}'),
        )
    out["source"] = b.value(mapping.source, "source")
    if mapping.course is not None:
        out["course"] = b.template(mapping.course, "course")

    # Result.
    result = mapping.result
    if result.score is not None:
        score = result.score
        raw = b.number(score.raw, "score.raw") if score.raw else None
        low = b.number(score.min, "score.min") if score.min else None
        high = b.number(score.max, "score.max") if score.max else None
        for key, expr in (("score_raw", raw), ("score_min", low), ("score_max", high)):
            if expr is not None:
                out[key] = expr
        if score.scaled is not None:
            out["score_scaled"] = b.number(score.scaled, "score.scaled")
        elif raw is not None and high is not None:
            base = low or "0.0"
            out["score_scaled"] = f"(({raw} - {base}) / nullif({high} - {base}, 0))"
        if raw is not None and low is not None:
            b.check(f"{raw} < {low}", b.text("score below score.min"))
        if raw is not None and high is not None:
            b.check(f"{raw} > {high}", b.text("score above score.max"))
        if "score_scaled" in out:
            b.check(f"abs({out['score_scaled']}) > 1", b.text("scaled score outside [-1, 1]"))
    if result.success is not None:
        if result.success.min_score is not None:
            out["success"] = f"({out['score_raw']} >= {b.param(result.success.min_score)})"
        else:
            out["success"] = b.boolean(result.success, "success")
    if result.completion is not None:
        out["completion"] = b.boolean(result.completion, "completion")
    if result.duration is not None:
        out["duration_s"] = b.duration(result.duration)
    if result.quantity is not None:
        out["quantity"] = b.number_column(result.quantity, "quantity")
    if result.response is not None:
        out["response"] = b.cell(result.response)
    ext = b.extensions(mapping.extensions)
    if ext is not None:
        out["extensions"] = ext

    require_columns(records.columns, b.used, Path(records.file))
    index = {n: i + 1 for i, n in enumerate(records.columns)}
    aliases = ", ".join(f"fields[{index[n]}] AS {quote_ident(n)}" for n in b.used)
    ident_sql = uuid5_sql(["'csv'", b.param(name), "array_to_string(fields, chr(31))", "occurrence"])
    checks = ", ".join(f"CASE WHEN {cond} THEN {msg} END" for cond, msg in b.checks)
    skipped = " OR ".join(f"coalesce({s}, false)" for s in b.skips) or "false"
    n_columns = b.param(len(records.columns))
    outputs = ", ".join(f"{expr} AS {key}" for key, expr in out.items())
    sql = (
        "CREATE OR REPLACE TEMP TABLE mapped AS "
        "WITH src AS ("
        "  SELECT line, fields, row_number() OVER ("
        "    PARTITION BY array_to_string(fields, chr(31)) ORDER BY line) AS occurrence,"
        f"   CASE WHEN NOT wellformed THEN {b.param(MALFORMED_QUOTING)}"
        f"        WHEN len(fields) <> {n_columns} THEN 'expected ' || {n_columns} || "
        "         ' fields, found ' || len(fields) END AS structural"
        f"  FROM {records.table}"
        f"), c AS (SELECT *, {aliases} FROM src) "
        f"SELECT line, CAST({ident_sql} AS VARCHAR) AS id, {outputs}, "
        "  CASE WHEN structural IS NOT NULL THEN structural"
        f"       WHEN {skipped} THEN NULL"
        f"       ELSE nullif(concat_ws('; ', {checks}), '') END AS reason,"
        f"  structural IS NULL AND ({skipped}) AS skipped "
        "FROM c"
    )
    return CompiledMapping(sql=sql, params=b.params, outputs=["id", *out], skip_columns=b.skip_columns)


# =================================================================================================
# The importer
# =================================================================================================

MAX_REJECTIONS_SHOWN: Final = 1000
"""Rejections carried by the IngestError when there are too many (the count is always exact)."""


def ingest_csv(store: Store, path: Path, mapping: Path | str, *, max_rejects: int = 0) -> IngestReport:
    """Import one CSV file (``.gz`` ok) through ``mapping`` (a file, or a shipped name).

    Returns the store's report; ``details`` has the mapping, blank lines and skipped rows.
    Raises :class:`MappingError` for a bad mapping and :class:`IngestError` (store unchanged) for
    an unreadable file, a missing column, or more than ``max_rejects`` rejected rows.
    """
    path = Path(path)
    model, name, mapping_file = load_mapping(mapping)
    check_source_file(path)
    con = transform_connection()
    try:
        with progress.task(f"csv {path.name}", total=3) as advance:
            _configure_time(con, model, mapping_file)
            records = read_delimited(
                con,
                path,
                table="records",
                delimiter=model.csv.delimiter,
                header=model.csv.header,
                columns=model.csv.columns,
            )
            advance(1)
            compiled = compile_mapping(model, name, records)
            try:
                con.execute(compiled.sql, compiled.params)
            except duckdb.Error as exc:
                raise IngestError(f"transform failed: {first_line(exc)}", file=path.name) from exc
            advance(1)
            n_rejected = int(_one(con, "SELECT count(*) FROM mapped WHERE reason IS NOT NULL"))
            limit = n_rejected if n_rejected <= max_rejects else MAX_REJECTIONS_SHOWN
            rejections = tuple(
                Rejection(path.name, int(line), str(reason))
                for line, reason in con.execute(
                    "SELECT line, reason FROM mapped WHERE reason IS NOT NULL ORDER BY line LIMIT ?",
                    [limit],
                ).fetchall()
            )
            if n_rejected > max_rejects:
                raise too_many_rejections(path.name, rejections, n_rejected, max_rejects)
            details: dict[str, Any] = {
                "mapping": name,
                "mapping_file": str(mapping_file),
                "blank_lines": records.blank_lines,
                "rows_skipped": int(_one(con, "SELECT count(*) FROM mapped WHERE skipped")),
            }
            if details["rows_skipped"] and compiled.skip_columns:
                details["skipped"] = _skipped_values(con, compiled, records)
            columns = ", ".join(compiled.outputs)
            reader = con.sql(
                f"SELECT {columns} FROM mapped WHERE reason IS NULL AND NOT skipped ORDER BY line"
            ).to_arrow_reader(ARROW_BATCH_ROWS)
            batch = IngestBatch(
                kind="csv",
                source=str(path),
                rows_read=records.rows_read,
                statements=reader,
                rejections=rejections,
                details=details,
            )
            report = store.ingest(batch, max_rejects=max_rejects)
            advance(1)
            return report
    finally:
        con.close()


def too_many_rejections(file: str, shown: tuple[Rejection, ...], total: int, allowed: int) -> IngestError:
    """The error for an import with more rejected rows than allowed (the store's wording)."""
    listed = "; ".join(str(r) for r in shown[:3])
    more = f" (+{total - 3} more)" if total > 3 else ""
    return IngestError(
        f"{total} row(s) rejected, {allowed} allowed; nothing was written: {listed}{more}",
        file=file,
        rejections=shown,
    )


def _configure_time(con: duckdb.DuckDBPyConnection, model: CsvMapping, mapping_file: Path) -> None:
    """Set the session time zone (naive times are read in it) and check the formats."""
    tz = model.csv.timezone
    if not _one(con, "SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [tz]):
        raise MappingError(f"{mapping_file.name}: csv.timezone: unknown time zone {tz!r}")
    # SET takes no parameters; the name was just checked against the engine's own list.
    con.execute("SET TimeZone = '" + tz.replace("'", "''") + "'")
    checks = [
        (f"csv.timestamp_formats.{i}", "SELECT try_strptime('2000-01-01', ?)", fmt)
        for i, fmt in enumerate(model.csv.timestamp_formats)
        if fmt.lower() != "iso8601"
    ]
    if model.actor.pattern is not None:
        checks.append(("actor.pattern", "SELECT regexp_extract('', ?, 1)", model.actor.pattern))
    for where, sql, value in checks:
        problem = _engine_error(con, sql, value)
        if problem:
            raise MappingError(f"{mapping_file.name}: {where}: {problem}")


def _engine_error(con: duckdb.DuckDBPyConnection, sql: str, value: str) -> str:
    """The engine's first error line for ``sql`` with one parameter, or '' when it runs.

    The DuckDB exception is not chained into the MappingError (see :func:`load_mapping`).
    """
    try:
        con.execute(sql, [value]).fetchall()
    except duckdb.Error as exc:
        return first_line(exc)
    return ""


def _skipped_values(
    con: duckdb.DuckDBPyConnection, compiled: CompiledMapping, records: DelimitedRecords
) -> dict[str, dict[str, int]]:
    """Per skip column, the 20 most frequent values of the skipped rows and their counts."""
    found: dict[str, dict[str, int]] = {}
    index = {n: i + 1 for i, n in enumerate(records.columns)}
    for column in dict.fromkeys(compiled.skip_columns):
        rows = con.execute(
            f"SELECT r.fields[{index[column]}] AS v, count(*) AS n FROM mapped m "
            f"JOIN {records.table} r USING (line) WHERE m.skipped "
            "GROUP BY v ORDER BY n DESC, v LIMIT 20"
        ).fetchall()
        found[column] = {str(v): int(n) for v, n in rows}
    return found


__all__ = [
    "CsvMapping",
    "compile_mapping",
    "ingest_csv",
    "load_mapping",
    "resolve_mapping",
    "shipped_mappings",
]
