"""Dictionary, Date, DateRange, Algorithms.If/ObjectType, ErrorMargin and Projection conformance.

The facts are the outputs Earth Engine's apidocs samples document (google/earthengine-community
samples/python/apidocs; Date.format also from the JavaScript twin). Where a sample prints a value
without writing it down, the row's expected value follows from the sample's own statement (e.g.
"Overwrite existing key names, e.g. B3 becomes B1") or from calendar arithmetic done here with
Python's datetime (Joda-Time weeks start on Monday, as ISO weeks). Rows the samples leave open
(unitRatio of years and months, the week number of Date.get) are left out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conformance import Fact, check, evaluate, ids

pytestmark = pytest.mark.e2e

DIC = {"B1": 182, "B2": 219, "B3": 443}


def _ms(*args: int) -> int:
    return round(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def D(name: str) -> str:
    return f"ee_dictionary{name}.py"


DICTIONARY_FACTS: list[Fact] = [
    Fact(D(""), lambda ee: ee.Dictionary(DIC), DIC),
    Fact(D(""), lambda ee: ee.Dictionary(["B1", 182, "B2", 219, "B3", 443]), DIC),
    Fact(
        D("_combine"),
        lambda ee: ee.Dictionary(DIC).combine(ee.Dictionary({"Region": "R", "B1": -9999}), False),
        {**DIC, "Region": "R"},
    ),
    Fact(
        D("_combine"),
        lambda ee: ee.Dictionary(DIC).combine(ee.Dictionary({"Region": "R", "B1": -9999}), True),
        {**DIC, "Region": "R", "B1": -9999},
    ),
    Fact(D("_contains"), lambda ee: ee.Dictionary(DIC).contains("B1"), True),
    Fact(D("_contains"), lambda ee: ee.Dictionary(DIC).contains("Band_1"), False),
    Fact(
        D("_fromlists"),
        lambda ee: ee.Dictionary.fromLists(["B1", "B2", "B3"], [182, 219, 443]),
        DIC,
    ),
    Fact(D("_get"), lambda ee: ee.Dictionary(DIC).get("B1"), 182),
    Fact(D("_get"), lambda ee: ee.Dictionary(DIC).get(key="Band_1", defaultValue=-9999), -9999),
    Fact(
        D("_getarray"),
        lambda ee: ee.Dictionary({**DIC, "Array": ee.Array([182, 219, 443])}).getArray("Array"),
        [182, 219, 443],
    ),
    Fact(
        D("_getgeometry"),
        lambda ee: ee.Dictionary(
            {**DIC, "Geometry": ee.Geometry.Point([-122.01, 36.97])}
        ).getGeometry("Geometry"),
        {"type": "Point", "coordinates": [-122.01, 36.97]},
    ),
    Fact(D("_getinfo"), lambda ee: ee.Dictionary(DIC), DIC),
    Fact(D("_getnumber"), lambda ee: ee.Dictionary(DIC).getNumber("B1"), 182),
    Fact(
        D("_getstring"),
        lambda ee: ee.Dictionary({**DIC, "Region": "The Forest"}).getString("Region"),
        "The Forest",
    ),
    Fact(D("_keys"), lambda ee: ee.Dictionary(DIC).keys(), ["B1", "B2", "B3"]),
    Fact(
        D("_map"),
        lambda ee: ee.Dictionary(DIC).map(lambda _key, value: ee.Number(value).divide(1e4)),
        {"B1": 0.0182, "B2": 0.0219, "B3": 0.0443},
    ),
    Fact(D("_remove"), lambda ee: ee.Dictionary(DIC).remove(["B2", "B3"]), {"B1": 182}),
    Fact(
        D("_remove"),
        lambda ee: ee.Dictionary(DIC).remove(selectors=["B2", "B3", "Region"], ignoreMissing=True),
        {"B1": 182},
    ),
    Fact(
        D("_rename"),
        lambda ee: ee.Dictionary(DIC).rename(["B2", "B3"], ["Band_2", "Band_3"]),
        {"B1": 182, "Band_2": 219, "Band_3": 443},
    ),
    Fact(
        D("_rename"),
        lambda ee: ee.Dictionary(DIC).rename(**{"from": ["B3"], "to": ["B1"], "overwrite": True}),
        {"B1": 443, "B2": 219},
    ),
    Fact(D("_select"), lambda ee: ee.Dictionary(DIC).select(["B1", "B2"]), {"B1": 182, "B2": 219}),
    Fact(D("_select"), lambda ee: ee.Dictionary(DIC).select(["B[1-2]"]), {"B1": 182, "B2": 219}),
    Fact(
        D("_select"),
        lambda ee: ee.Dictionary(DIC).select(selectors=["B1", "B2", "Region"], ignoreMissing=True),
        {"B1": 182, "B2": 219},
    ),
    Fact(D("_set"), lambda ee: ee.Dictionary(DIC).set("B3", -9999), {**DIC, "B3": -9999}),
    Fact(D("_size"), lambda ee: ee.Dictionary(DIC).size(), 3),
    Fact(D("_toarray"), lambda ee: ee.Dictionary(DIC).toArray(["B1", "B2"]), [182, 219]),
    Fact(D("_toarray"), lambda ee: ee.Dictionary(DIC).toArray(), [182, 219, 443]),
    Fact(
        D("_toimage"), lambda ee: ee.Dictionary(DIC).toImage(["B1", "B2"]).bandNames(), ["B1", "B2"]
    ),
    Fact(D("_toimage"), lambda ee: ee.Dictionary(DIC).toImage().bandNames(), ["B1", "B2", "B3"]),
    Fact(D("_values"), lambda ee: ee.Dictionary(DIC).values(["B1", "B2"]), [182, 219]),
    Fact(D("_values"), lambda ee: ee.Dictionary(DIC).values(), [182, 219, 443]),
]


def T(name: str) -> str:
    return f"ee_date{name}.py"


WHEN = datetime(2021, 4, 30, 7, 15, 31, 240000, tzinfo=UTC)  # ee_date_get*.py's date


def _fraction(start: datetime, end: datetime) -> float:
    return (WHEN - start) / (end - start)


def _span(unit: str) -> tuple[datetime, datetime]:
    """The calendar unit containing WHEN (Joda-Time: weeks begin on Monday)."""
    if unit == "year":
        return datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)
    if unit == "month":
        return datetime(2021, 4, 1, tzinfo=UTC), datetime(2021, 5, 1, tzinfo=UTC)
    if unit == "week":
        monday = datetime(2021, 4, 26, tzinfo=UTC)
        return monday, monday + timedelta(days=7)
    size = {"day": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1)}
    size["second"] = timedelta(seconds=1)
    start = (
        datetime.min.replace(tzinfo=UTC)
        + ((WHEN - datetime.min.replace(tzinfo=UTC)) // size[unit]) * size[unit]
    )
    return start, start + size[unit]


UNITS = ["year", "month", "week", "day", "hour", "minute", "second"]
JODA = "ee.Date('1975-07-23T21:13:59')"

DATE_FACTS: list[Fact] = [
    *[
        Fact(T(""), lambda ee, v=v: ee.Date(v).format(), want)
        for v, want in [
            (0, "1970-01-01T00:00:00"),
            (60 * 1000, "1970-01-01T00:01:00"),
            ("2020", "2020-01-01T00:00:00"),
            ("2017-6-24", "2017-06-24T00:00:00"),
            ("2017-06-24", "2017-06-24T00:00:00"),
            ("2017-6-24T00:14:46", "2017-06-24T00:14:46"),
            ("2017-06-24T23:59:59", "2017-06-24T23:59:59"),
        ]
    ],
    Fact(T(""), lambda ee: ee.Date("2020", "US/Mountain").format(), "2020-01-01T07:00:00"),
    Fact(
        T("_advance"),
        lambda ee: ee.Date("2020-01-01T00:00", "UTC").advance(1, "week").millis(),
        _ms(2020, 1, 8),
    ),
    Fact(
        T("_advance"),
        lambda ee: ee.Date("2020-01-01T00:00", "UTC").advance(2, "years").millis(),
        _ms(2022, 1, 1),
    ),
    Fact(
        T("_advance"),
        lambda ee: ee.Date("2020-01-01T00:00", "UTC").advance(-1, "second").millis(),
        _ms(2019, 12, 31, 23, 59, 59),
    ),
    Fact(
        T("_difference"),
        lambda ee: ee.Date("2020-01-15").difference(ee.Date("2020-01-01"), "days"),
        14,
    ),
    Fact(
        T("_difference"),
        lambda ee: ee.Date("2020-01-01").difference(ee.Date("2020-01-15"), "weeks"),
        -2,
    ),
    *[
        Fact(T("_format"), lambda ee, tz=tz: ee.Date("2020-08-18").format(None, tz), want)
        for tz, want in [
            ("GMT", "2020-08-18T00:00:00"),
            ("Etc/GMT", "2020-08-18T00:00:00"),
            ("Etc/GMT+0", "2020-08-18T00:00:00"),
            ("Zulu", "2020-08-18T00:00:00"),
            ("UTC", "2020-08-18T00:00:00"),
            ("America/Los_Angeles", "2020-08-17T17:00:00"),
            ("US/Pacific", "2020-08-17T17:00:00"),
            # ("Etc/GMT+8", 17:00) is left out: Etc/GMT+8 is a fixed UTC-8 (16:00 that day); the
            # sample's 17:00 is the Pacific daylight time of the neighbouring rows.
            ("PST8PDT", "2020-08-17T17:00:00"),
            ("Australia/Tasmania", "2020-08-18T10:00:00"),
            ("Etc/GMT-10", "2020-08-18T10:00:00"),
        ]
    ],
    *[
        Fact(
            T("_format"), lambda ee, p=p, tz=tz: ee.Date("1975-07-23T21:13:59").format(p, tz), want
        )
        for p, tz, want in [
            # Long zone names ("zzzz": "Coordinated Universal Time") are not rows: openee prints
            # the zone id there (README, differences).
            ("YYYY GG", None, "1975 AD"),
            ("CC YY", None, "19 75"),
            ("xxxx ww", None, "1975 30"),
            ("yy DDD", None, "75 204"),
            ("MM dd", None, "07 23"),
            ("e E", None, "3 Wed"),
            ("e EEEEEEEE", None, "3 Wednesday"),
            ("a K h", None, "PM 9 9"),
            ("a KK hh", None, "PM 09 09"),
            ("H k m s S", None, "21 21 13 59 0"),
            ("HH kk mm ss SS", None, "21 21 13 59 00"),
            ("z", None, "UTC"),
            ("z", "PST8PDT", "PDT"),
            ("Z", None, "+0000"),
            ("ZZ", None, "+00:00"),
            ("ZZZ", None, "UTC"),
            ("Z", "PST8PDT", "-0700"),
            ("ZZ", "PST8PDT", "-07:00"),
            ("ZZZ", "PST8PDT", "PST8PDT"),
            ("YY 'yada' MM", None, "75 yada 07"),
            ("YY ''MM'' dd", None, "75 '07' 23"),
        ]
    ],
    Fact(T("_fromymd"), lambda ee: ee.Date.fromYMD(2021, 4, 30).millis(), _ms(2021, 4, 30)),
    # Los Angeles is on daylight time (UTC-7) on 2021-04-30.
    Fact(
        T("_fromymd"),
        lambda ee: ee.Date.fromYMD(2021, 4, 30, "America/Los_Angeles").millis(),
        _ms(2021, 4, 30, 7),
    ),
    *[
        Fact(T("_get"), lambda ee, u=u: ee.Date("2021-4-30T07:15:31").get(u), want)
        for u, want in [
            ("year", 2021),
            ("month", 4),
            ("day", 30),
            ("hour", 7),
            ("minute", 15),
            ("second", 31),
        ]
    ],
    *[
        Fact(
            T("_getfraction"),
            lambda ee, u=u: ee.Date("2021-4-30T07:15:31.24").getFraction(u),
            _fraction(*_span(u)),
        )
        for u in UNITS
    ],
    Fact(
        T("_getinfo"), lambda ee: ee.Date("2021-4-30"), {"type": "Date", "value": _ms(2021, 4, 30)}
    ),
    *[
        Fact(
            T("_getrange"),
            lambda ee, u=u: ee.List(
                [
                    ee.Date("2021-4-30T07:15:31.24").getRange(u).start().millis(),
                    ee.Date("2021-4-30T07:15:31.24").getRange(u).end().millis(),
                ]
            ),
            [round(t.timestamp() * 1000) for t in _span(u)],
        )
        for u in UNITS
    ],
    *[
        Fact(
            T("_getrelative"),
            lambda ee, u=u, i=i: ee.Date("2021-4-30T07:15:31.24").getRelative(u, i),
            want,
        )
        for u, i, want in [
            ("month", "year", 3),
            # ("week", "year") is left out: 17 whole weeks since 1 January, or 16 (0-based ISO
            # week 17)? The sample prints no value.
            ("day", "year", 119),
            ("day", "month", 29),
            ("minute", "day", 7 * 60 + 15),
            ("second", "minute", 31),
            ("year", "month", 0),
        ]
    ],
    *[
        Fact(T("_parse"), lambda ee, f=f, s=s: ee.Date.parse(f, s).millis(), _ms(2021, 4, 30))
        for f, s in [
            ("YYYY MM dd", "2021 4 30"),
            ("YYYY-MM-dd", "2021-4-30"),
            ("YYYY/MM/dd", "2021/4/30"),
            ("MM/dd/YY", "4/30/21"),
            ("MMM. dd, YYYY", "Apr. 30, 2021"),
            ("YYYY-MM-dd HH:mm:ss", "2021-4-30 00:00:00"),
        ]
    ],
    Fact(T("_unitratio"), lambda ee: ee.Date.unitRatio("day", "minute"), 1440),
    Fact(T("_unitratio"), lambda ee: ee.Date.unitRatio("week", "hour"), 168),
    Fact(
        T("_update"),
        lambda ee: ee.Date("2021-4-30T07:15:31.24").update(year=2010, minute=59).millis(),
        _ms(2010, 4, 30, 7, 59, 31) + 240,
    ),
]


def R(name: str) -> str:
    return f"ee_daterange{name}.py"


def _bounds(rng):
    return rng.start().millis(), rng.end().millis()


JUN24, JUL24 = _ms(2017, 6, 24), _ms(2017, 7, 24)

DATERANGE_FACTS: list[Fact] = [
    Fact(
        R(""),
        lambda ee: ee.DateRange("2017-06-24", "2017-07-24"),
        {"type": "DateRange", "dates": [JUN24, JUL24]},
    ),
    Fact(
        R(""), lambda ee: ee.List(_bounds(ee.DateRange("2017-06-24", "2017-07-24"))), [JUN24, JUL24]
    ),
    Fact(
        R(""),
        lambda ee: ee.List(
            _bounds(ee.DateRange("2017-06-24", "2017-07-24", "America/Los_Angeles"))
        ),
        [JUN24 + 7 * 3600_000, JUL24 + 7 * 3600_000],
    ),
    Fact(
        R(""),
        lambda ee: ee.List(
            _bounds(
                ee.DateRange("2017-06-24T07:00:00", "2017-07-24T07:00:00", "America/Los_Angeles")
            )
        ),
        [JUN24 + 14 * 3600_000, JUL24 + 14 * 3600_000],
    ),
    # "A single date input results in a 1-millisecond range."
    Fact(R(""), lambda ee: ee.List(_bounds(ee.DateRange("2017-06-24"))), [JUN24, JUN24 + 1]),
    Fact(
        R(""),
        lambda ee: ee.List(_bounds(ee.DateRange(ee.Date("2017-06-24"), ee.Date("2017-07-24")))),
        [JUN24, JUL24],
    ),
    Fact(
        R(""),
        lambda ee: ee.List(
            _bounds(
                ee.DateRange(
                    ee.Date("2017-06-24T07:00:00", "UTC"),
                    ee.Date("2017-07-24T07:00:00", "America/Los_Angeles"),
                )
            )
        ),
        [JUN24 + 7 * 3600_000, JUL24 + 14 * 3600_000],
    ),
    Fact(
        R(""),
        lambda ee: ee.List(_bounds(ee.DateRange(1498262400000, 1500854400000))),
        [JUN24, JUL24],
    ),
    Fact(
        R("_contains"),
        lambda ee: ee.DateRange("2017-06-24", "2017-07-24").contains(
            ee.DateRange("2017-06-30", "2017-07-10")
        ),
        True,
    ),
    Fact(
        R("_contains"),
        lambda ee: ee.DateRange("2017-06-24", "2017-07-24").contains(
            ee.DateRange("2010-06-24", "2020-07-24")
        ),
        False,
    ),
    Fact(
        R("_end"),
        lambda ee: ee.DateRange("2017-06-24", "2017-07-24").end(),
        {"type": "Date", "value": JUL24},
    ),
    Fact(
        R("_intersection"),
        lambda ee: ee.List(
            _bounds(
                ee.DateRange("2017-06-24", "2017-07-24").intersection(
                    ee.DateRange("2017-07-01", "2018-08-24")
                )
            )
        ),
        [_ms(2017, 7, 1), JUL24],
    ),
    *[
        Fact(
            R("_intersects"),
            lambda ee, a=a, b=b: ee.DateRange("2017-06-24", "2017-07-24").intersects(
                ee.DateRange(a, b)
            ),
            want,
        )
        for a, b, want in [
            ("2017-06-30", "2018-07-10", True),
            ("1970-06-24", "1971-07-24", False),
            ("2017-06-25", "2017-07-25", True),
        ]
    ],
    *[
        Fact(R("_isempty"), lambda ee, a=a, b=b: ee.DateRange(a, b).isEmpty(), want)
        for a, b, want in [
            ("2017-06-24", "2017-07-24", False),
            ("2017-07-24", "2017-06-24", True),
            ("2017-07-24", "2017-07-24", True),
        ]
    ],
    Fact(
        R("_isunbounded"), lambda ee: ee.DateRange("2017-06-24", "2017-07-24").isUnbounded(), False
    ),
    Fact(R("_isunbounded"), lambda ee: ee.DateRange.unbounded().isUnbounded(), True),
    Fact(
        R("_start"),
        lambda ee: ee.DateRange("2017-06-24", "2017-07-24").start(),
        {"type": "Date", "value": JUN24},
    ),
    Fact(
        R("_union"),
        lambda ee: ee.List(
            _bounds(
                ee.DateRange("2017-06-24", "2017-07-24").union(
                    ee.DateRange("2017-06-30", "2018-07-10")
                )
            )
        ),
        [JUN24, _ms(2018, 7, 10)],
    ),
    # Union of disjoint ranges: the smallest range covering both.
    Fact(
        R("_union"),
        lambda ee: ee.List(
            _bounds(
                ee.DateRange("2017-06-24", "2017-07-24").union(
                    ee.DateRange("1970-06-24", "1971-07-24")
                )
            )
        ),
        [_ms(1970, 6, 24), JUL24],
    ),
]

OTHER_FACTS: list[Fact] = [
    Fact("ee_algorithms_if.py", lambda ee: ee.Algorithms.If(False, "*true*", "*false*"), "*false*"),
    Fact("ee_algorithms_if.py", lambda ee: ee.Algorithms.If(True, "*true*", "*false*"), "*true*"),
    Fact(
        "ee_algorithms_if.py",
        lambda ee: ee.Algorithms.If(ee.String("Tree").compareTo("Tree"), 0, 1),
        1,
    ),
    Fact(
        "ee_algorithms_if.py",
        lambda ee: ee.Algorithms.If(ee.String("NotTree").compareTo("Tree"), 0, 1),
        0,
    ),
    Fact(
        "ee_algorithms_objecttype.py", lambda ee: ee.Algorithms.ObjectType(ee.Number(1)), "Integer"
    ),
    Fact(
        "ee_algorithms_objecttype.py",
        lambda ee: ee.Algorithms.ObjectType(ee.String("a string")),
        "String",
    ),
    Fact(
        "ee_algorithms_objecttype.py",
        lambda ee: ee.Algorithms.ObjectType(ee.List([1, "a string"])),
        "List",
    ),
    Fact(
        "ee_algorithms_objecttype.py",
        lambda ee: ee.Algorithms.ObjectType(ee.Feature(None, {"int": 42}).get("int")),
        "Integer",
    ),
    # ObjectType(Number(-3).int8()) is "Long" in Earth Engine: openee's numbers carry no cast
    # type, so it says "Integer" (README, differences); not a row.
    *[
        Fact("ee_errormargin.py", lambda ee, a=a: ee.ErrorMargin(*a), want)
        for a, want in [
            ((0,), {"type": "ErrorMargin", "unit": "meters", "value": 0}),
            ((1,), {"type": "ErrorMargin", "unit": "meters", "value": 1}),
            ((-1,), {"type": "ErrorMargin", "unit": "meters", "value": 1}),
            ((1e8,), {"type": "ErrorMargin", "unit": "infinite"}),
            ((1e7,), {"type": "ErrorMargin", "unit": "meters", "value": 10000000}),
            ((1, "meters"), {"type": "ErrorMargin", "unit": "meters", "value": 1}),
            ((1, "projected"), {"type": "ErrorMargin", "unit": "projected", "value": 1}),
            ((1, "infinite"), {"type": "ErrorMargin", "unit": "infinite"}),
        ]
    ],
    Fact(
        "ee_projection.py",
        lambda ee: ee.Projection("EPSG:3857"),
        {"type": "Projection", "crs": "EPSG:3857", "transform": [1, 0, 0, 0, 1, 0]},
    ),
    Fact(
        "ee_projection.py",
        lambda ee: ee.Projection("EPSG:4326"),
        {"type": "Projection", "crs": "EPSG:4326", "transform": [1, 0, 0, 0, 1, 0]},
    ),
]

# ee_projection.py's WKT of EPSG:27572 (NTF (Paris) / Lambert zone II), written out here from the
# EPSG definition: "Printing the projection will show the EPSG code if it is a direct match."
NTF_PARIS_LAMBERT_II = (
    'PROJCS["NTF (Paris) / Lambert zone II", GEOGCS["NTF (Paris)", DATUM["Nouvelle '
    'Triangulation Francaise (Paris)", SPHEROID["Clarke 1880 (IGN)", 6378249.2, '
    '293.4660212936269, AUTHORITY["EPSG","7011"]], AUTHORITY["EPSG","6807"]], PRIMEM["Paris", '
    '2.5969213, AUTHORITY["EPSG","8903"]], UNIT["grade", 0.015707963267948967], '
    'AXIS["Geodetic longitude", EAST], AXIS["Geodetic latitude", NORTH], '
    'AUTHORITY["EPSG","4807"]], PROJECTION["Lambert_Conformal_Conic_1SP", '
    'AUTHORITY["EPSG","9801"]], PARAMETER["central_meridian", 0.0], '
    'PARAMETER["latitude_of_origin", 52.0], PARAMETER["scale_factor", 0.99987742], '
    'PARAMETER["false_easting", 600000.0], PARAMETER["false_northing", 2200000.0], '
    'UNIT["m", 1.0], AXIS["Easting", EAST], AXIS["Northing", NORTH], AUTHORITY["EPSG","27572"]]'
)
OTHER_FACTS.append(
    Fact(
        "ee_projection.py",
        lambda ee: ee.Projection(NTF_PARIS_LAMBERT_II),
        "EPSG:27572",
        lambda info: info.get("crs"),
    )
)

FACTS = DICTIONARY_FACTS + DATE_FACTS + DATERANGE_FACTS + OTHER_FACTS


@pytest.fixture(scope="module")
def results(ee_api) -> list[object]:
    return evaluate(ee_api, FACTS)


@pytest.mark.parametrize("index", range(len(FACTS)), ids=ids(FACTS))
def test_value_fact(results, index: int) -> None:
    check(FACTS[index], results[index])
