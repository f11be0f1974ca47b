"""Joda-Time patterns: formatting and parsing against datetime's own fields."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from openee.errors import InvalidArgumentError
from openee.values.joda import format_datetime, parse_datetime, zone_of

DT = datetime(2020, 8, 18, 13, 5, 9, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss", DT.strftime("%Y-%m-%dT%H:%M:%S")),
        ("yy/M/d", "20/8/18"),
        ("EEE EEEE MMM MMMM", DT.strftime("%a %A %b %B")),
        ("D DDD", f"{DT.timetuple().tm_yday} {DT.timetuple().tm_yday:03d}"),
        ("h:mm a K k", "1:05 PM 1 13"),
        ("SSS S SSSSS", "123 1 12300"),
        ("xxxx-'W'ww-e", f"{DT.isocalendar()[0]}-W{DT.isocalendar()[1]:02d}-{DT.isoweekday()}"),
        ("'It''s' G", "It's AD"),
        ("Z ZZ", "+0000 +00:00"),
    ],
)
def test_format(pattern: str, expected: str) -> None:
    assert format_datetime(DT, pattern, "UTC") == expected


def test_format_in_a_time_zone() -> None:
    local = DT.astimezone(ZoneInfo("America/Los_Angeles"))
    assert format_datetime(local, "HH:mm Z ZZZ", "America/Los_Angeles") == (
        "06:05 -0700 America/Los_Angeles"
    )


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("yyyy-MM-dd", "2020-03-15", datetime(2020, 3, 15, tzinfo=UTC)),
        ("yyyyMMddHHmm", "202003151745", datetime(2020, 3, 15, 17, 45, tzinfo=UTC)),
        ("dd MMM yy", "05 Mar 21", datetime(2021, 3, 5, tzinfo=UTC)),
        ("MMMM d, yyyy h:mm a", "March 5, 2021 5:45 PM", datetime(2021, 3, 5, 17, 45, tzinfo=UTC)),
        ("yyyy DDD", "2020 060", datetime(2020, 2, 29, tzinfo=UTC)),
        (
            "yyyy-MM-dd HH:mm:ss.SSS",
            "2020-01-02 03:04:05.678",
            datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        ),
        ("yyyy-MM-dd HH:mm Z", "2020-01-02 03:04 -0800", datetime(2020, 1, 2, 11, 4, tzinfo=UTC)),
    ],
)
def test_parse(pattern: str, text: str, expected: datetime) -> None:
    assert parse_datetime(pattern, text, UTC) == expected


def test_parse_errors_are_clean() -> None:
    with pytest.raises(InvalidArgumentError, match="does not match"):
        parse_datetime("yyyy-MM-dd", "15/03/2020", UTC)
    with pytest.raises(InvalidArgumentError, match="Illegal pattern"):
        parse_datetime("yyyy-bb", "2020-01", UTC)
    with pytest.raises(InvalidArgumentError, match="Unknown time zone"):
        zone_of("Mars/Olympus")


def test_offsets_as_zones() -> None:
    assert zone_of("-08:00").utcoffset(None).total_seconds() == -8 * 3600  # type: ignore[union-attr]
    assert zone_of("UTC") is UTC
