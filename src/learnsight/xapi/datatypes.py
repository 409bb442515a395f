"""The xAPI data types every statement part is built from (xAPI 1.0.3 Part Two §4, IEEE 9274.1.1 §4.2.7).

Each type is an ``Annotated`` string with a pattern that pydantic-core checks in Rust, so validating
a statement costs no Python call per field.  The few rules a regular expression cannot express
(repeated language-tag singletons, calendar validity of a timestamp) run in small Python functions
on values that already passed the pattern.

What each type accepts, precisely:

``IRI`` / ``IRL``
    An absolute IRI: a scheme (RFC 3986 ``ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )``), a colon
    and at least one character, with no white space, control characters or ``<>"{}|\\^```.  IRLs
    are checked the same way; whether they resolve is not checked.
``URI``
    As ``IRI`` but ASCII only (``openid``).
``MailtoIRI``
    ``mailto:`` followed by ``local@domain`` (no white space, exactly one ``@``).
``UUID``
    Standard string form, any hex case, an RFC 4122/9562 version digit 1–8 and the RFC 4122
    variant (``8``, ``9``, ``a`` or ``b``), as the ADL LRS does.
``LanguageTag``
    The RFC 5646 ``Language-Tag`` grammar (langtag, private use, grandfathered), case-insensitive,
    and no repeated extension singleton or variant (RFC 5646 §2.2.5–2.2.6; the ADL suite rejects
    ``zh-z-aaa-z-bbb-c-ccc``).
``Timestamp``
    ISO 8601 extended (``2024-03-01T09:30:00.123+01:00``) or basic (``20240301T093000Z``) date and
    time, hours and minutes at least, an optional fraction after ``.`` or ``,``, and an optional
    offset ``Z``/``±hh``/``±hhmm``/``±hh:mm``.  Calendar validity and the version-dependent rules
    (offset required in 2.0, ``-00:00`` refused) are checked by :func:`parse_timestamp`.
``Duration``
    ISO 8601:2004 §4.4.3.2: ``PnW`` alone, or ``PnYnMnD`` with an optional ``T`` part ``nHnMnS``;
    at least one component, a decimal fraction (``.`` or ``,``) allowed on any component.  The
    alternative format (``P0003-01-29T04:35:59``) is refused, as the spec requires, and so is
    ``P4W1D`` (weeks combined with other units; the ADL 2.0 suite rejects it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final, TypeVar

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, StringConstraints, Tag
from pydantic_core import PydanticCustomError, core_schema

from learnsight.xapi.unions import LANG_FULL, LANG_SIMPLE, SIMPLE_LANGUAGE_TAG_PATTERN

T = TypeVar("T")

# --- patterns (checked by pydantic-core's Rust regex engine) --------------------------------------
IRI_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^\x60\x00-\x1f\x7f]+$"
URI_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$"
MAILTO_PATTERN: Final = r"^mailto:[^\s@]+@[^\s@]+$"
SHA1_PATTERN: Final = r"^[0-9a-fA-F]{40}$"
SHA2_PATTERN: Final = r"^(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$"
UUID_PATTERN: Final = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
_TOKEN = r"[A-Za-z0-9!#$&^_.+\-]+"
CONTENT_TYPE_PATTERN: Final = rf"^{_TOKEN}/{_TOKEN}(?:\s*;.*)?$"
VERSION_PATTERN: Final = r"^[12]\.0(?:\.[0-9]+)?$"

_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"  # language (+ extlang)
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"  # private use
)
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|"
    "i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn|"
    "zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
LANGUAGE_TAG_PATTERN: Final = rf"^(?:{_LANGTAG}|[xX](?:-[A-Za-z0-9]{{1,8}})+|(?i:{_GRANDFATHERED}))$"

_TIME = r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
_TIME_BASIC = r"[0-9]{4}(?:[0-9]{2}(?:[.,][0-9]+)?)?"
TIMESTAMP_PATTERN: Final = (
    rf"^(?:[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T{_TIME}(?:Z|[+\-][0-9]{{2}}(?::?[0-9]{{2}})?)?"
    rf"|[0-9]{{8}}T{_TIME_BASIC}(?:Z|[+\-][0-9]{{2}}(?:[0-9]{{2}})?)?)$"
)

_NUM = r"[0-9]+(?:[.,][0-9]+)?"
_DATE_PART = rf"(?:{_NUM}Y(?:{_NUM}M)?(?:{_NUM}D)?|{_NUM}M(?:{_NUM}D)?|{_NUM}D)"
_TIME_PART = rf"T(?:{_NUM}H(?:{_NUM}M)?(?:{_NUM}S)?|{_NUM}M(?:{_NUM}S)?|{_NUM}S)"
DURATION_PATTERN: Final = rf"^P(?:{_NUM}W|{_DATE_PART}(?:{_TIME_PART})?|{_TIME_PART})$"

PATTERN_NAMES: Final[dict[str, str]] = {
    IRI_PATTERN: "an absolute IRI (scheme:...)",
    URI_PATTERN: "an absolute URI (RFC 3986)",
    MAILTO_PATTERN: "a mailto IRI (mailto:name@domain)",
    SHA1_PATTERN: "a SHA-1 digest in hexadecimal (40 characters)",
    SHA2_PATTERN: "a SHA-2 digest in hexadecimal (56, 64, 96 or 128 characters)",
    UUID_PATTERN: "a UUID (RFC 4122 variant, e.g. 3f2504e0-4f89-41d3-9a0c-0305e82c3301)",
    CONTENT_TYPE_PATTERN: "an Internet media type (type/subtype)",
    VERSION_PATTERN: "an xAPI version 1.0.x or 2.0.x",
    LANGUAGE_TAG_PATTERN: "an RFC 5646 language tag",
    SIMPLE_LANGUAGE_TAG_PATTERN: "an RFC 5646 language tag",
    TIMESTAMP_PATTERN: "an ISO 8601 timestamp (e.g. 2024-03-01T09:30:00.000Z)",
    DURATION_PATTERN: "an ISO 8601 duration (e.g. PT1H30M or P1DT2.5S)",
}
"""Human names of the patterns, used in error messages instead of the regular expression."""


# --- Python checks on values that passed their pattern ---------------------------------------------
def _check_language_tag(tag: str) -> str:
    """Refuse repeated extension singletons and variants (RFC 5646 §2.2.5, §2.2.6)."""
    if tag.count("-") < 3:
        return tag
    subtags = tag.lower().split("-")
    seen: set[str] = set()
    variants: set[str] = set()
    for i, sub in enumerate(subtags):
        if i == 0:
            continue
        if sub == "x":
            break
        if len(sub) == 1:
            if sub in seen:
                raise PydanticCustomError(
                    "language_tag",
                    "extension singleton '{singleton}' is repeated (RFC 5646)",
                    {"singleton": sub},
                )
            seen.add(sub)
        elif not seen and (len(sub) >= 5 or (len(sub) == 4 and sub[0].isdigit())):
            if sub in variants:
                raise PydanticCustomError(
                    "language_tag", "variant '{variant}' is repeated (RFC 5646)", {"variant": sub}
                )
            variants.add(sub)
    return tag


class _NotNull:
    """Marks an optional property that may be absent but never JSON ``null``.

    xAPI 1.0.3 §2.2 (ADL suite XAPI-00001): an LRS rejects a statement with a property set to
    ``null`` except inside ``extensions``.  ``Opt[X]`` keeps the Python type ``X | None`` (absent
    properties read as ``None``) while the validator accepts only ``X``.
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        if schema["type"] == "nullable":
            inner: core_schema.CoreSchema = schema["schema"]
            return inner
        return schema


Opt = Annotated[T | None, _NotNull()]
"""An optional, non-nullable property: ``name: Opt[str] = None``."""


def _pattern(pattern: str) -> StringConstraints:
    return StringConstraints(pattern=pattern)


IRI = Annotated[str, _pattern(IRI_PATTERN)]
IRL = Annotated[str, _pattern(IRI_PATTERN)]
URI = Annotated[str, _pattern(URI_PATTERN)]
MailtoIRI = Annotated[str, _pattern(MAILTO_PATTERN)]
Sha1Hex = Annotated[str, _pattern(SHA1_PATTERN)]
Sha2Hex = Annotated[str, _pattern(SHA2_PATTERN)]
UUID = Annotated[str, _pattern(UUID_PATTERN)]
ContentType = Annotated[str, _pattern(CONTENT_TYPE_PATTERN)]
Version = Annotated[str, _pattern(VERSION_PATTERN)]
LanguageTag = Annotated[
    Annotated[str, _pattern(SIMPLE_LANGUAGE_TAG_PATTERN), Tag(LANG_SIMPLE)]
    | Annotated[str, _pattern(LANGUAGE_TAG_PATTERN), AfterValidator(_check_language_tag), Tag(LANG_FULL)],
    Field(union_mode="left_to_right"),
]
Timestamp = Annotated[str, _pattern(TIMESTAMP_PATTERN)]
Duration = Annotated[str, _pattern(DURATION_PATTERN)]
NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]

LanguageMap = dict[LanguageTag, str]
"""A language map: RFC 5646 tags to strings (xAPI 1.0.3 Part Two §4.2)."""

Extensions = dict[IRI, Any]
"""Extensions: IRI keys to any JSON value, ``null`` included (xAPI 1.0.3 Part Two §4.1)."""

NonEmptyIRIList = Annotated[list[IRI], Field(min_length=1)]


# --- timestamps ------------------------------------------------------------------------------------
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+\-][0-9]{2}:[0-9]{2})"
)
_NEGATIVE_ZERO = ("-00", "-0000", "-00:00")


class TimestampError(ValueError):
    """A timestamp that matches the ISO 8601 shape but is not acceptable; ``str`` says why."""


def parse_timestamp(value: str, *, require_offset: bool) -> datetime:
    """Parse an xAPI timestamp that already matched :data:`TIMESTAMP_PATTERN`.

    Returns an aware datetime in UTC; a timestamp without an offset (allowed in xAPI 1.0.x, where
    the spec only says it SHOULD include one) is read as UTC.

    Raises :class:`TimestampError` when the date or time does not exist (``2023-02-30``, ``24:00``),
    when the offset is ``-00``/``-0000``/``-00:00`` (RFC 3339 "unknown local offset", refused by the
    ADL suite for 1.0.3 and 2.0), or, with ``require_offset`` (xAPI 2.0: IEEE 9274.1.1 requires
    RFC 3339, whose ``date-time`` makes the offset mandatory and allows only the extended format
    with seconds), when the value is not an RFC 3339 date-time.
    """
    if value.endswith(_NEGATIVE_ZERO):
        raise TimestampError("offset -00:00 (unknown local offset) is not allowed; use Z or +00:00")
    if require_offset and not _RFC3339.fullmatch(value):
        raise TimestampError(
            "xAPI 2.0 requires an RFC 3339 date-time with seconds and a time zone offset "
            "(e.g. 2024-03-01T09:30:00Z)"
        )
    try:
        parsed = datetime.fromisoformat(value.replace(",", "."))
    except ValueError as exc:
        raise TimestampError(f"not a valid date and time ({exc})") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- durations ---------------------------------------------------------------------------------------
_DURATION_PARTS = re.compile(
    r"P(?:(?P<W>[0-9.,]+)W)?(?:(?P<Y>[0-9.,]+)Y)?(?:(?P<Mo>[0-9.,]+)M)?(?:(?P<D>[0-9.,]+)D)?"
    r"(?:T(?:(?P<H>[0-9.,]+)H)?(?:(?P<Mi>[0-9.,]+)M)?(?:(?P<S>[0-9.,]+)S)?)?"
)
_SECONDS = {
    "W": 7 * 86400.0,
    "Y": 365 * 86400.0,
    "Mo": 30 * 86400.0,
    "D": 86400.0,
    "H": 3600.0,
    "Mi": 60.0,
    "S": 1.0,
}


def duration_seconds(value: str) -> float:
    """Seconds in an ISO 8601 duration that matched :data:`DURATION_PATTERN`.

    Years count 365 days and months 30 days (ISO 8601 leaves nominal units open; learning-time
    durations in practice use hours, minutes and seconds only).

    >>> duration_seconds("PT1H30M")
    5400.0
    >>> duration_seconds("P1DT0.5S")
    86400.5
    """
    match = _DURATION_PARTS.fullmatch(value)
    if match is None:
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    total = 0.0
    for unit, text in match.groupdict().items():
        if text:
            total += float(text.replace(",", ".")) * _SECONDS[unit]
    return total
