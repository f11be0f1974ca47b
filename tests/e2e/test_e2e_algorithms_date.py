"""Date and DateRange through the stock client, checked against datetime, zoneinfo, dateutil."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

pytestmark = pytest.mark.e2e

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
YEAR_MS = 365.2425 * 86_400_000
LA = ZoneInfo("America/Los_Angeles")


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


def test_advance_in_calendar_units(ee_api) -> None:
    """The idiom ee.Date(...).advance, in UTC and in a time zone across a DST change."""
    ee = ee_api
    start = datetime(2020, 1, 31, 10, 30, tzinfo=UTC)
    d = ee.Date("2020-01-31T10:30:00")
    cases = [
        (1, "month", start + relativedelta(months=1)),
        (13, "month", start + relativedelta(months=13)),
        (-2, "year", start + relativedelta(years=-2)),
        (3, "week", start + timedelta(weeks=3)),
        (-45, "day", start + timedelta(days=-45)),
        (36, "hour", start + timedelta(hours=36)),
        (90, "minute", start + timedelta(minutes=90)),
        (1.5, "second", start + timedelta(seconds=1.5)),
        (2, "days", start + timedelta(days=2)),
    ]
    got = ee.List([d.advance(n, unit).millis() for n, unit, _ in cases]).getInfo()
    assert got == [ms(want) for _, _, want in cases]
    # A day in Los Angeles across the spring-forward change is 23 hours long.
    local = datetime(2020, 3, 7, 12, 0, tzinfo=LA)
    moved = ee.Date(ms(local)).advance(1, "day", "America/Los_Angeles").millis().getInfo()
    assert moved == ms(datetime(2020, 3, 8, 12, 0, tzinfo=LA))


def test_difference_and_unit_ratio(ee_api) -> None:
    ee = ee_api
    a, b = datetime(2020, 1, 15, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)
    got = ee.List(
        [
            ee.Date("2020-01-15").difference(ee.Date("2020-01-01"), "day"),
            ee.Date("2020-01-01").difference(ee.Date("2020-01-15"), "weeks"),
            ee.Date("2021-01-01").difference(ee.Date("2020-01-01"), "year"),
            ee.Date.unitRatio("day", "minute"),
            ee.Date.unitRatio("year", "day"),
            ee.Date.unitRatio("month", "year"),
            ee.Date.unitRatio("week", "hour"),
        ]
    ).getInfo()
    assert got[0] == (a - b).days
    assert got[1] == pytest.approx(-2.0)
    assert got[2] == pytest.approx(366 * 86_400_000 / YEAR_MS)
    assert got[3:] == pytest.approx([1440, 365.2425, 1 / 12, 168])


def test_format_and_parse(ee_api) -> None:
    ee = ee_api
    dt = datetime(2020, 8, 18, 13, 5, 9, 123000, tzinfo=UTC)
    d = ee.Date(ms(dt))
    la = dt.astimezone(LA)
    got = ee.List(
        [
            d.format(),
            d.format(None, "America/Los_Angeles"),
            d.format("yyyy-MM-dd HH:mm:ss.SSS"),
            d.format("EEE, d MMM yy h:mm a"),
            d.format("EEEE MMMM D"),
            d.format("yyyy-MM-dd'T'HH:mmZZ", "America/Los_Angeles"),
            ee.Date.parse("dd/MM/yyyy HH:mm", "05/03/2021 17:45").millis(),
            ee.Date.parse("yyyy-MM-dd", "2020-03-08", "America/Los_Angeles").millis(),
            ee.Date.parse("yyyyDDD", "2020060").millis(),
            ee.Date("2020-06-01T12:00:00", "Europe/Ljubljana").millis(),
        ]
    ).getInfo()
    assert got[0] == dt.strftime("%Y-%m-%dT%H:%M:%S")
    assert got[1] == la.strftime("%Y-%m-%dT%H:%M:%S")
    assert got[2] == dt.strftime("%Y-%m-%d %H:%M:%S.") + "123"
    assert got[3] == dt.strftime("%a, %-d %b %y %-I:%M %p")
    assert got[4] == dt.strftime("%A %B ") + str(dt.timetuple().tm_yday)
    assert got[5] == la.strftime("%Y-%m-%dT%H:%M") + "-07:00"
    assert got[6] == ms(datetime(2021, 3, 5, 17, 45, tzinfo=UTC))
    assert got[7] == ms(datetime(2020, 3, 8, tzinfo=LA))
    assert got[8] == ms(datetime(2020, 2, 29, tzinfo=UTC))
    assert got[9] == ms(datetime(2020, 6, 1, 12, tzinfo=ZoneInfo("Europe/Ljubljana")))


def test_fields_and_ranges(ee_api) -> None:
    ee = ee_api
    dt = datetime(2021, 2, 20, 18, 45, 30, tzinfo=UTC)
    d = ee.Date(ms(dt))
    la = dt.astimezone(LA)
    units = ["year", "month", "week", "day", "hour", "minute", "second"]
    got = ee.Dictionary(
        {
            "get": ee.List([d.get(u) for u in units]),
            "getLA": ee.List([d.get(u, "America/Los_Angeles") for u in units]),
            "dayOfYear": d.getRelative("day", "year"),
            "monthOfYear": d.getRelative("month", "year"),
            "hourOfWeek": d.getRelative("hour", "week"),
            "fractionOfDay": d.getFraction("day"),
            "fractionOfYear": d.getFraction("year"),
            "monthRange": d.getRange("month"),
            "weekRange": d.getRange("week"),
            "ymd": ee.Date.fromYMD(2021, 2, 28).millis(),
            "ymdLA": ee.Date.fromYMD(2021, 2, 28, "America/Los_Angeles").millis(),
            "update": d.update(2019, None, 28, None, 0, 1.5).millis(),
        }
    ).getInfo()
    iso_week = dt.isocalendar()[1]
    assert got["get"] == [2021, 2, iso_week, 20, 18, 45, 30]
    assert got["getLA"] == [la.year, la.month, la.isocalendar()[1], la.day, la.hour, 45, 30]
    assert got["dayOfYear"] == dt.timetuple().tm_yday - 1
    assert got["monthOfYear"] == 1
    assert got["hourOfWeek"] == dt.weekday() * 24 + dt.hour
    assert got["fractionOfDay"] == pytest.approx((18 * 3600 + 45 * 60 + 30) / 86400)
    year_start = datetime(2021, 1, 1, tzinfo=UTC)
    assert got["fractionOfYear"] == pytest.approx((dt - year_start) / timedelta(days=365))
    assert got["monthRange"] == {
        "type": "DateRange",
        "dates": [ms(datetime(2021, 2, 1, tzinfo=UTC)), ms(datetime(2021, 3, 1, tzinfo=UTC))],
    }
    monday = datetime(2021, 2, 15, tzinfo=UTC)
    assert got["weekRange"]["dates"] == [ms(monday), ms(monday + timedelta(days=7))]
    assert got["ymd"] == ms(datetime(2021, 2, 28, tzinfo=UTC))
    assert got["ymdLA"] == ms(datetime(2021, 2, 28, tzinfo=LA))
    assert got["update"] == ms(datetime(2019, 2, 28, 18, 0, 1, 500000, tzinfo=UTC))


def test_date_range_algebra(ee_api) -> None:
    ee = ee_api
    r1 = ee.DateRange("2020-01-01", "2020-03-01")
    r2 = ee.DateRange("2020-02-01", "2020-05-01")
    r3 = ee.DateRange("2021-01-01", "2021-02-01")
    t = {k: ms(datetime(*v, tzinfo=UTC)) for k, v in {
        "jan": (2020, 1, 1), "feb": (2020, 2, 1), "mar": (2020, 3, 1), "may": (2020, 5, 1)
    }.items()}  # fmt: skip
    got = ee.List(
        [
            r1.contains("2020-02-15"),
            r1.contains("2020-03-01"),
            r1.contains(ee.DateRange("2020-01-05", "2020-01-06")),
            r1.intersects(r2),
            r1.intersects(r3),
            r1.intersection(r2),
            r1.union(r2),
            r1.isEmpty(),
            ee.DateRange("2020-01-01", "2020-01-01").isEmpty(),
            r1.isUnbounded(),
            ee.DateRange.unbounded().isUnbounded(),
            ee.DateRange.unbounded().contains("1900-01-01"),
            r1.start(),
            r1.end(),
        ]
    ).getInfo()
    assert got[:5] == [True, False, True, True, False]
    assert got[5] == {"type": "DateRange", "dates": [t["feb"], t["mar"]]}
    assert got[6] == {"type": "DateRange", "dates": [t["jan"], t["may"]]}
    assert got[7:12] == [False, True, False, True, True]
    assert got[12:] == [{"type": "Date", "value": t["jan"]}, {"type": "Date", "value": t["mar"]}]
