"""Date and DateRange."""

from __future__ import annotations

import calendar
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.date import Date, DateRange
from openee.values.joda import format_datetime, parse_datetime, zone_of


@algorithm("Date")
def date(value: Any, timeZone: str | None = None) -> Date:
    """Creates a Date from milliseconds since the epoch or an ISO 8601 string.

    Args:
        value: Milliseconds since 1970-01-01T00:00:00Z, or an ISO 8601 date string.
        timeZone: The time zone of a string without an offset. Default: UTC.
    """
    return Date.parse(value, zone_of(timeZone))


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
        start: The beginning of the range, inclusive; or a DateRange, returned as it is
            (what `filterDate(ee.DateRange(...))` and `ee.Filter.date(range)` send).
        end: The end of the range, exclusive. Default: start plus one millisecond.
        timeZone: The time zone of date strings without an offset. Default: UTC.
    """
    if isinstance(start, DateRange):
        if end is not None:
            raise InvalidArgumentError("DateRange: 'end' must be null when 'start' is a DateRange.")
        return start
    zone = zone_of(timeZone)
    first = Date.parse(start, zone)
    last = Date.parse(end, zone) if end is not None else Date(first.millis + 1)
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


# -- calendar units --------------------------------------------------------------------------

DAY_MS = 86_400_000
# Average unit lengths (Joda's ISO chronology): a year is 365.2425 days, a month a twelfth.
UNIT_MS: dict[str, float] = {
    "year": 365.2425 * DAY_MS,
    "month": 365.2425 * DAY_MS / 12,
    "week": 7 * DAY_MS,
    "day": DAY_MS,
    "hour": 3_600_000,
    "minute": 60_000,
    "second": 1_000,
}
_FIXED = {"hour", "minute", "second"}
# Earth Engine's unbounded range ends.
MIN_MILLIS = -(2**63)
MAX_MILLIS = 2**63 - 1


def unit_of(unit: str) -> str:
    """'year', 'month', ... from any case and the plural ('days')."""
    name = unit.strip().lower()
    name = name[:-1] if name.endswith("s") and name[:-1] in UNIT_MS else name
    if name not in UNIT_MS:
        raise InvalidArgumentError(
            f"Unknown unit '{unit}': expected one of year, month, week, day, hour, minute, second."
        )
    return name


def local(date: Date, timeZone: str | None) -> datetime:
    """The date as an aware datetime in the time zone (UTC by default)."""
    try:
        return date.to_datetime().astimezone(zone_of(timeZone))
    except (OverflowError, ValueError, OSError):
        raise InvalidArgumentError("The date is out of the supported range.") from None


def from_local(dt: datetime) -> Date:
    """A local wall-clock time (aware) back to an instant; folds resolve to the earlier time."""
    naive = dt.replace(tzinfo=None)
    zone = dt.tzinfo
    aware = naive.replace(tzinfo=zone, fold=0)
    millis = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    return Date(int(millis))


def start_of(dt: datetime, unit: str) -> datetime:
    """The start of the calendar unit holding `dt`, in its zone (weeks start on Monday)."""
    if unit == "year":
        return dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "month":
        return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=dt.weekday())
    if unit == "day":
        return dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return dt.replace(second=0, microsecond=0)
    return dt.replace(microsecond=0)


def add_units(dt: datetime, count: int, unit: str) -> datetime:
    """Local calendar arithmetic: months clamp the day to the end of the month, as Joda does."""
    if unit in ("year", "month"):
        months = dt.month - 1 + count * (12 if unit == "year" else 1)
        year = dt.year + months // 12
        month = months % 12 + 1
        if not 1 <= year <= 9999:
            raise InvalidArgumentError("The date is out of the supported range.")
        day = min(dt.day, calendar.monthrange(year, month)[1])
        return dt.replace(year=year, month=month, day=day)
    if unit in ("week", "day"):
        return dt + timedelta(days=count * (7 if unit == "week" else 1))
    raise ValueError(unit)


def _advance(date: Date, delta: float, unit: str, timeZone: str | None) -> Date:
    if unit in _FIXED:
        return Date(date.millis + round(delta * UNIT_MS[unit]))
    whole = math.floor(delta)
    start = add_units(local(date, timeZone), whole, unit)
    moved = from_local(start)
    if delta == whole:
        return moved
    # The fraction is of the length of the unit that follows.
    following = from_local(add_units(start, 1, unit))
    return Date(moved.millis + round((delta - whole) * (following.millis - moved.millis)))


@algorithm("Date.advance")
def date_advance(date: Date, delta: float, unit: str, timeZone: str | None = None) -> Date:
    """Creates a new Date by adding the specified units to the given Date.

    Args:
        date: The date.
        delta: The number of units to add; may be negative or fractional.
        unit: One of 'year', 'month', 'week', 'day', 'hour', 'minute', or 'second'.
        timeZone: The time zone of the calendar arithmetic (e.g. 'America/Los_Angeles').
            Default: UTC.
    """
    try:
        return _advance(date, delta, unit_of(unit), timeZone)
    except (OverflowError, ValueError):
        raise InvalidArgumentError("The date is out of the supported range.") from None


@algorithm("Date.difference")
def date_difference(date: Date, start: Date, unit: str) -> float:
    """Returns date - start in the unit, floating-point, using the unit's average length.

    Args:
        date: The date.
        start: The date to subtract.
        unit: One of 'year', 'month', 'week', 'day', 'hour', 'minute', or 'second'.
    """
    return (date.millis - start.millis) / UNIT_MS[unit_of(unit)]


@algorithm("Date.unitRatio")
def unit_ratio(numerator: str, denominator: str) -> float:
    """Returns the ratio of the (average) length of one unit to that of another.

    Args:
        numerator: The unit whose length is divided.
        denominator: The unit to divide by.
    """
    return UNIT_MS[unit_of(numerator)] / UNIT_MS[unit_of(denominator)]


@algorithm("Date.format")
def date_format(date: Date, format: str | None = None, timeZone: str | None = None) -> str:
    """Converts a date to a string with a Joda-Time pattern.

    Args:
        date: The date.
        format: A Joda-Time pattern, e.g. 'yyyy-MM-dd'. Default: "yyyy-MM-dd'T'HH:mm:ss".
        timeZone: The time zone of the result (e.g. 'America/Los_Angeles'). Default: UTC.
    """
    pattern = format if format is not None else "yyyy-MM-dd'T'HH:mm:ss"
    return format_datetime(local(date, timeZone), pattern, timeZone or "UTC")


@algorithm("Date.parse")
def date_parse(format: str, date: str, timeZone: str | None = None) -> Date:
    """Parses a date string with a Joda-Time pattern.

    Args:
        format: A Joda-Time pattern, e.g. 'yyyy-MM-dd HH:mm'.
        date: The string to parse.
        timeZone: The time zone of the string, if it has no offset. Default: UTC.
    """
    return from_local(parse_datetime(format, date, zone_of(timeZone)))


@algorithm("Date.fromYMD")
def from_ymd(year: int, month: int, day: int, timeZone: str | None = None) -> Date:
    """Returns a Date for the given year, month and day (midnight in the time zone).

    Args:
        year: The year, e.g. 2020.
        month: The month, 1-12.
        day: The day of the month, 1-31.
        timeZone: The time zone. Default: UTC.
    """
    try:
        return from_local(datetime(year, month, day, tzinfo=zone_of(timeZone)))
    except ValueError as exc:
        raise InvalidArgumentError(f"Date.fromYMD: {exc}.") from None


@algorithm("Date.get")
def date_get(date: Date, unit: str, timeZone: str | None = None) -> int:
    """Returns a field of the date: year, month (1-12), week (1-53), day (1-31), hour, minute, second.

    Args:
        date: The date.
        unit: One of 'year', 'month', 'week', 'day', 'hour', 'minute', or 'second'.
        timeZone: The time zone. Default: UTC.
    """
    dt = local(date, timeZone)
    name = unit_of(unit)
    if name == "week":
        return dt.isocalendar()[1]
    return int(getattr(dt, name))


def _count_units(start: datetime, end: datetime, unit: str) -> int:
    """The number of whole units from start to end (both in the same zone)."""
    if unit in ("year", "month"):
        months = (end.year - start.year) * 12 + end.month - start.month
        if add_units(start, months, "month") > end:
            months -= 1
        return months // 12 if unit == "year" else months
    if unit in ("week", "day"):
        days = (end.replace(tzinfo=None) - start.replace(tzinfo=None)).days
        return days // 7 if unit == "week" else days
    return int((end - start) // timedelta(milliseconds=UNIT_MS[unit]))


@algorithm("Date.getRelative")
def get_relative(date: Date, unit: str, inUnit: str, timeZone: str | None = None) -> int:
    """Returns the (0-based) unit of the date within a larger unit, e.g. the day of the year.

    Args:
        date: The date.
        unit: One of 'month', 'week', 'day', 'hour', 'minute', or 'second'.
        inUnit: One of 'year', 'month', 'week', 'day', 'hour', or 'minute'.
        timeZone: The time zone. Default: UTC.
    """
    small, large = unit_of(unit), unit_of(inUnit)
    if UNIT_MS[small] >= UNIT_MS[large]:
        return 0  # Earth Engine's answer for a unit larger than inUnit (ee_date_getrelative.py)
    dt = local(date, timeZone)
    return _count_units(start_of(dt, large), dt, small)


def _unit_bounds(date: Date, unit: str, timeZone: str | None) -> tuple[Date, Date]:
    name = unit_of(unit)
    start = start_of(local(date, timeZone), name)
    if name in _FIXED:
        first = from_local(start)
        return first, Date(first.millis + int(UNIT_MS[name]))
    return from_local(start), from_local(add_units(start, 1, name))


@algorithm("Date.getFraction")
def get_fraction(date: Date, unit: str, timeZone: str | None = None) -> float:
    """Returns the fraction of the calendar unit holding the date that has elapsed (0 to 1).

    Args:
        date: The date.
        unit: One of 'year', 'month', 'week', 'day', 'hour', 'minute', or 'second'.
        timeZone: The time zone. Default: UTC.
    """
    first, last = _unit_bounds(date, unit, timeZone)
    return (date.millis - first.millis) / (last.millis - first.millis)


@algorithm("Date.getRange")
def get_range(date: Date, unit: str, timeZone: str | None = None) -> DateRange:
    """Returns the DateRange of the calendar unit that holds the date (weeks start on Monday).

    Args:
        date: The date.
        unit: One of 'year', 'month', 'week', 'day', 'hour', 'minute', or 'second'.
        timeZone: The time zone. Default: UTC.
    """
    first, last = _unit_bounds(date, unit, timeZone)
    return DateRange(first, last)


@algorithm("Date.update")
def date_update(
    date: Date,
    year: int | None = None,
    month: int | None = None,
    day: int | None = None,
    hour: int | None = None,
    minute: int | None = None,
    second: float | None = None,
    timeZone: str | None = None,
) -> Date:
    """Creates a new Date with some fields replaced.

    Args:
        date: The date.
        year: The new year, if given.
        month: The new month (1-12), if given.
        day: The new day of the month, if given.
        hour: The new hour (0-23), if given.
        minute: The new minute, if given.
        second: The new second, possibly fractional, if given.
        timeZone: The time zone of the fields. Default: UTC.
    """
    dt = local(date, timeZone)
    try:
        dt = dt.replace(
            year=dt.year if year is None else year,
            month=dt.month if month is None else month,
            day=dt.day if day is None else day,
            hour=dt.hour if hour is None else hour,
            minute=dt.minute if minute is None else minute,
        )
        if second is not None:
            whole = math.floor(second)
            dt = dt.replace(second=int(whole), microsecond=round((second - whole) * 1000) * 1000)
    except ValueError as exc:
        raise InvalidArgumentError(f"Date.update: {exc}.") from None
    return from_local(dt)


# -- DateRange -----------------------------------------------------------------------------------


@algorithm("DateRange.unbounded")
def unbounded() -> DateRange:
    """Creates a DateRange that covers all time."""
    return DateRange(Date(MIN_MILLIS), Date(MAX_MILLIS))


@algorithm("DateRange.isUnbounded")
def is_unbounded(dateRange: DateRange) -> bool:
    """Returns true if the range is unbounded in both directions.

    Args:
        dateRange: The range.
    """
    return dateRange.start.millis == MIN_MILLIS and dateRange.end.millis == MAX_MILLIS


@algorithm("DateRange.isEmpty")
def is_empty(dateRange: DateRange) -> bool:
    """Returns true if the range holds no instant (its end is not after its start).

    Args:
        dateRange: The range.
    """
    return dateRange.end <= dateRange.start


@algorithm("DateRange.contains")
def range_contains(dateRange: DateRange, other: Any) -> bool:
    """Returns true if the other date, or the whole other range, is inside the range.

    Args:
        dateRange: The range.
        other: A Date (or date string or milliseconds), or a DateRange.
    """
    if isinstance(other, DateRange):
        return dateRange.start <= other.start and other.end <= dateRange.end
    return dateRange.contains(Date.parse(other))


@algorithm("DateRange.intersects")
def range_intersects(dateRange: DateRange, other: DateRange) -> bool:
    """Returns true if the ranges share at least one instant.

    Args:
        dateRange: The range.
        other: The other range.
    """
    return max(dateRange.start, other.start) < min(dateRange.end, other.end)


@algorithm("DateRange.intersection")
def range_intersection(dateRange: DateRange, other: DateRange) -> DateRange:
    """Returns the range of instants in both ranges (empty if they do not intersect).

    Args:
        dateRange: The range.
        other: The other range.
    """
    start = max(dateRange.start, other.start)
    end = min(dateRange.end, other.end)
    return DateRange(start, end if end > start else start)


@algorithm("DateRange.union")
def range_union(dateRange: DateRange, other: DateRange) -> DateRange:
    """Returns the smallest range that holds both ranges.

    Args:
        dateRange: The range.
        other: The other range.
    """
    return DateRange(min(dateRange.start, other.start), max(dateRange.end, other.end))
