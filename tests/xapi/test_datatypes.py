"""Formats: language tags, timestamps, durations, versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from learnsight.xapi.datatypes import (
    Duration,
    LanguageTag,
    TimestampError,
    duration_seconds,
    parse_timestamp,
)
from learnsight.xapi.statement import rules_for

_TAG = TypeAdapter(LanguageTag)
_DURATION = TypeAdapter(Duration)


@pytest.mark.parametrize(
    "tag",
    [
        "en",
        "en-US",
        "de-DE",
        "zh-Hant",
        "zh-Hans-CN",
        "sr-Latn-RS",
        "es-419",
        "cmn",
        "ase",
        "de-CH-1901",
        "en-a-bbb-x-a-ccc",
        "x-whatever",
        "i-klingon",
        "EN-gb-OED",
        "fr-CA",
    ],
)
def test_valid_language_tags(tag: str) -> None:
    assert _TAG.validate_python(tag, strict=True) == tag


@pytest.mark.parametrize(
    "tag",
    ["something", "a12345", "a12345678", "en_US", "", "en-", "zh-z-aaa-z-bbb-c-ccc", "de-CH-1901-1901", "12"],
)
def test_invalid_language_tags(tag: str) -> None:
    with pytest.raises(ValidationError):
        _TAG.validate_python(tag, strict=True)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H0M0.1S", 3600.1),
        ("PT16559.14S", 16559.14),
        ("P1D", 86400.0),
        ("P4W", 2419200.0),
        ("PT1,5S", 1.5),
        ("P1Y", 365 * 86400.0),
        ("P1M", 30 * 86400.0),
    ],
)
def test_duration_seconds(text: str, seconds: float) -> None:
    assert _DURATION.validate_python(text, strict=True) == text
    assert duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "PA1H0M0S", "P4W1D", "1H", "pt1h", "PT-1S"])
def test_invalid_durations(text: str) -> None:
    with pytest.raises(ValidationError):
        _DURATION.validate_python(text, strict=True)


def test_timestamps_are_converted_to_utc() -> None:
    assert parse_timestamp("2023-05-04T12:00:00-05:00", require_offset=True) == datetime(
        2023, 5, 4, 17, 0, tzinfo=UTC
    )
    assert parse_timestamp("20230504T120000+0200", require_offset=False) == datetime(
        2023, 5, 4, 10, 0, tzinfo=UTC
    )


def test_timestamp_without_offset_is_utc_under_1_0_and_refused_under_2_0() -> None:
    assert parse_timestamp("2023-05-04T12:00:00", require_offset=False) == datetime(
        2023, 5, 4, 12, 0, tzinfo=UTC
    )
    with pytest.raises(TimestampError, match="RFC 3339"):
        parse_timestamp("2023-05-04T12:00:00", require_offset=True)


@pytest.mark.parametrize(
    "text", ["2008-09-15T15:53:00.601-00", "2008-09-15T15:53:00-0000", "2008-09-15T15:53:00-00:00"]
)
def test_negative_zero_offset_is_refused(text: str) -> None:
    with pytest.raises(TimestampError, match="-00:00"):
        parse_timestamp(text, require_offset=False)


def test_rules_for_versions() -> None:
    assert rules_for("1.0") == rules_for("1.0.9") == "1.0.3"
    assert rules_for("2.0.0") == rules_for("2.0") == "2.0.0"
    for bad in ("1.1.0", "0.9.9", "2", "x"):
        with pytest.raises(ValueError, match="unsupported"):
            rules_for(bad)
