"""Date and DateRange."""

from __future__ import annotations

from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.date import Date, DateRange


def _no_time_zone(timeZone: str | None) -> None:
    if timeZone not in (None, "UTC", "Etc/UTC", "GMT"):
        raise InvalidArgumentError(f"Time zone '{timeZone}' is not supported yet; use UTC.")


@algorithm("Date")
def date(value: Any, timeZone: str | None = None) -> Date:
    """Creates a Date from milliseconds since the epoch or an ISO 8601 string.

    Args:
        value: Milliseconds since 1970-01-01T00:00:00Z, or an ISO 8601 date string.
        timeZone: The time zone of a string without one. Only UTC is supported.
    """
    _no_time_zone(timeZone)
    return Date.parse(value)


@algorithm("Date.millis")
def date_millis(date: Date) -> int:
    """The number of milliseconds since 1970-01-01T00:00:00Z.

    Args:
        date: The date.
    """
    return date.millis


@algorithm("DateRange")
def date_range(start: Any, end: Any = None, timeZone: str | None = None) -> DateRange:
    """Creates a DateRange from start (inclusive) to end (exclusive).

    Args:
        start: The beginning of the range, inclusive.
        end: The end of the range, exclusive. Default: start plus one millisecond.
        timeZone: The time zone of date strings. Only UTC is supported.
    """
    _no_time_zone(timeZone)
    first = Date.parse(start)
    last = Date.parse(end) if end is not None else Date(first.millis + 1)
    return DateRange(first, last)


@algorithm("DateRange.start")
def date_range_start(dateRange: DateRange) -> Date:
    """Returns the (inclusive) start of the range.

    Args:
        dateRange: The range.
    """
    return dateRange.start


@algorithm("DateRange.end")
def date_range_end(dateRange: DateRange) -> Date:
    """Returns the (exclusive) end of the range.

    Args:
        dateRange: The range.
    """
    return dateRange.end
