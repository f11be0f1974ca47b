"""Feature collections, aggregate_*, reduceColumns and filters through the stock client.

The collections are built with ee.FeatureCollection([ee.Feature(...), ...]); the oracle is the
same rows in Python (statistics, shapely, pyproj).
"""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta

import pyproj
import pytest
import shapely.geometry
from pyproj import Geod

pytestmark = pytest.mark.e2e

GEOD = Geod(ellps="WGS84")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(*ymd: int) -> int:
    return (datetime(*ymd, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)


ROWS = [
    {"name": "alpha", "kind": "a", "value": 4, "score": 1.5, "tags": ["x", "y"],
     "system:time_start": _ms(2020, 1, 10), "lon": 15.0, "lat": 46.0},
    {"name": "beta", "kind": "b", "value": 9, "score": 2.5, "tags": ["y"],
     "system:time_start": _ms(2020, 6, 20), "lon": 15.01, "lat": 46.0},
    {"name": "gamma", "kind": "a", "value": 1, "score": -0.5, "tags": [],
     "system:time_start": _ms(2020, 12, 31), "lon": 15.5, "lat": 46.5},
    {"name": "delta", "kind": "c", "value": 9, "score": 4.0, "tags": ["z"],
     "system:time_start": _ms(2021, 3, 1), "lon": 16.0, "lat": 47.0},
    {"name": "epsilon", "kind": "b", "score": 3.0, "tags": ["x"],
     "system:time_start": _ms(2021, 7, 4), "lon": 15.02, "lat": 46.01},
]  # fmt: skip


@pytest.fixture(scope="module")
def fc(ee_api):
    ee = ee_api
    return ee.FeatureCollection(
        [ee.Feature(ee.Geometry.Point([r["lon"], r["lat"]]), r) for r in ROWS]
    )


def _names(got: list[dict]) -> list[str]:
    return [f["properties"]["name"] for f in got]


def test_aggregates(ee_api, fc) -> None:
    ee = ee_api
    got = ee.Dictionary(
        {
            "array": fc.aggregate_array("value"),
            "first": fc.aggregate_first("name"),
            "count": fc.aggregate_count("value"),
            "count_distinct": fc.aggregate_count_distinct("value"),
            "min": fc.aggregate_min("score"),
            "max": fc.aggregate_max("name"),
            "sum": fc.aggregate_sum("value"),
            "product": fc.aggregate_product("value"),
            "mean": fc.aggregate_mean("score"),
            "sample_sd": fc.aggregate_sample_sd("score"),
            "sample_var": fc.aggregate_sample_var("score"),
            "total_sd": fc.aggregate_total_sd("score"),
            "total_var": fc.aggregate_total_var("score"),
            "histogram": fc.aggregate_histogram("kind"),
            "stats": fc.aggregate_stats("value"),
        }
    ).getInfo()
    values = [r["value"] for r in ROWS if "value" in r]
    scores = [r["score"] for r in ROWS]
    assert got["array"] == values
    assert got["first"] == ROWS[0]["name"]
    assert got["count"] == len(values)
    assert got["count_distinct"] == len(set(values))
    assert got["min"] == min(scores)
    assert got["max"] == max(r["name"] for r in ROWS)
    assert got["sum"] == sum(values)
    assert got["product"] == math.prod(values)
    assert got["mean"] == pytest.approx(statistics.mean(scores))
    assert got["sample_sd"] == pytest.approx(statistics.stdev(scores))
    assert got["sample_var"] == pytest.approx(statistics.variance(scores))
    assert got["total_sd"] == pytest.approx(statistics.pstdev(scores))
    assert got["total_var"] == pytest.approx(statistics.pvariance(scores))
    kinds = [r["kind"] for r in ROWS]
    assert got["histogram"] == {k: kinds.count(k) for k in set(kinds)}
    assert got["stats"] == pytest.approx(
        {
            "max": max(values),
            "mean": statistics.mean(values),
            "min": min(values),
            "sample_sd": statistics.stdev(values),
            "sample_var": statistics.variance(values),
            "sum": sum(values),
            "sum_sq": sum(v * v for v in values),
            "total_count": len(ROWS),
            "total_sd": statistics.pstdev(values),
            "total_var": statistics.pvariance(values),
            "valid_count": len(values),
            "weight_sum": len(values),
            "weighted_sum": sum(values),
        }
    )


def test_reduce_columns_and_iterate(ee_api, fc) -> None:
    """The idioms: reduceColumns and iterate on a feature collection."""
    ee = ee_api
    got = ee.List(
        [
            fc.reduceColumns(ee.Reducer.mean(), ["score"]),
            fc.reduceColumns(ee.Reducer.toList(), ["name"]),
            fc.reduceColumns(ee.Reducer.toList(2), ["name", "score"]),
            fc.reduceColumns(ee.Reducer.sum().repeat(2), ["value", "score"]),
            fc.reduceColumns(ee.Reducer.mean().combine(ee.Reducer.stdDev(), None, True), ["score"]),
            fc.reduceColumns(ee.Reducer.sum().group(0, "kind"), ["kind", "score"]),
            fc.reduceColumns(ee.Reducer.minMax().forEach(["v", "s"]), ["value", "score"]),
            fc.iterate(lambda f, acc: ee.Number(acc).add(f.get("score")), 0),
        ]
    ).getInfo()
    scores = [r["score"] for r in ROWS]
    values = [r["value"] for r in ROWS if "value" in r]
    assert got[0] == {"mean": pytest.approx(statistics.mean(scores))}
    assert got[1] == {"list": [r["name"] for r in ROWS]}
    assert got[2] == {"list": [[r["name"], r["score"]] for r in ROWS]}
    assert got[3] == {"sum": [sum(values), pytest.approx(sum(scores))]}
    assert got[4] == pytest.approx(
        {"mean": statistics.mean(scores), "stdDev": statistics.pstdev(scores)}
    )
    groups: dict[str, float] = {}
    for r in ROWS:
        groups[r["kind"]] = groups.get(r["kind"], 0) + r["score"]
    assert got[5] == {"groups": [{"kind": k, "sum": groups[k]} for k in sorted(groups)]}
    rows = [r for r in ROWS if "value" in r]
    assert got[6] == {
        "v_min": min(values),
        "v_max": max(values),
        "s_min": min(r["score"] for r in rows),
        "s_max": max(r["score"] for r in rows),
    }
    assert got[7] == pytest.approx(sum(scores))


def test_collection_operations(ee_api, fc) -> None:
    ee = ee_api
    other = ee.FeatureCollection([ee.Feature(None, {"name": "zeta", "kind": "z"})])
    nested = ee.FeatureCollection([fc, other])
    got = ee.List(
        [
            fc.size(),
            fc.first().get("name"),
            fc.limit(2, "score", False).aggregate_array("name"),
            fc.sort("value").aggregate_array("name"),
            fc.merge(other).aggregate_array("system:index"),
            nested.flatten().size(),
            fc.distinct("kind").aggregate_array("name"),
            fc.distinct(["kind", "value"]).size(),
            fc.remap(["a", "b"], [10, 20], "kind").aggregate_array("kind"),
            fc.map(
                lambda f: f.set("double", ee.Number(f.get("score")).multiply(2))
            ).aggregate_array("double"),
            fc.randomColumn("r", 3).aggregate_array("r"),
            fc.randomColumn("r", 3).aggregate_array("r"),
            fc.geometry(),
            fc.geometry().type(),
            ee.Feature(fc.union().first()).geometry().type(),
            ee.Feature(fc.union().first()).id(),
            fc.toList(2, 1).length(),
            fc.cache().size(),
            fc.makeArray(["value", "score"], "vs").aggregate_array("vs"),
        ]
    ).getInfo()
    assert got[0] == len(ROWS)
    assert got[1] == ROWS[0]["name"]
    assert got[2] == [r["name"] for r in sorted(ROWS, key=lambda r: -r["score"])][:2]
    with_value = sorted((r for r in ROWS if "value" in r), key=lambda r: r["value"])
    assert got[3] == [r["name"] for r in with_value] + [r["name"] for r in ROWS if "value" not in r]
    assert got[4] == [f"1_{i}" for i in range(len(ROWS))] + ["2_0"]
    assert got[5] == len(ROWS) + 1
    assert got[6] == ["alpha", "beta", "delta"]
    assert got[7] == len({(r["kind"], r.get("value")) for r in ROWS})
    assert got[8] == [{"a": 10, "b": 20}[r["kind"]] for r in ROWS if r["kind"] in "ab"]
    assert got[9] == [2 * r["score"] for r in ROWS]
    assert got[10] == got[11]
    assert all(0 <= v < 1 for v in got[10]) and len(set(got[10])) == len(ROWS)
    assert got[12]["type"] == "MultiPoint"
    assert got[12]["coordinates"] == [[r["lon"], r["lat"]] for r in ROWS]
    assert got[13:16] == ["MultiPoint", "MultiPoint", "union_result"]
    assert got[16] == 2
    assert got[17] == len(ROWS)
    assert got[18] == [[r["value"], r["score"]] for r in ROWS if "value" in r]


def test_collection_bounds(ee_api, fc) -> None:
    ee = ee_api
    got = ee.List([fc.bounds(), fc.bounds(None, "EPSG:32633")]).getInfo()
    points = shapely.geometry.MultiPoint([(r["lon"], r["lat"]) for r in ROWS])
    assert shapely.geometry.shape(got[0]).bounds == pytest.approx(points.bounds)
    assert got[1]["crs"]["properties"]["name"] == "EPSG:32633"


def test_bounds_in_a_projection_and_to_list_contents(ee_api, fc) -> None:
    """Focused checks of results the test above only sizes: the bounds' corners in UTM (pyproj)
    and which features toList(count, offset) returns."""
    ee = ee_api
    got = ee.List(
        [fc.bounds(None, "EPSG:32633"), fc.toList(2, 1).map(lambda f: ee.Feature(f).get("name"))]
    ).getInfo()
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    xs, ys = to_utm.transform([r["lon"] for r in ROWS], [r["lat"] for r in ROWS])
    assert shapely.geometry.shape(got[0]).bounds == pytest.approx(
        (min(xs), min(ys), max(xs), max(ys)), abs=1e-3
    )
    assert got[1] == [r["name"] for r in ROWS[1:3]]


FILTERS = [
    ("eq", lambda ee: ee.Filter.eq("kind", "a"), lambda r: r["kind"] == "a"),
    ("neq", lambda ee: ee.Filter.neq("kind", "a"), lambda r: r["kind"] != "a"),
    ("lt", lambda ee: ee.Filter.lt("score", 2), lambda r: r["score"] < 2),
    ("lte", lambda ee: ee.Filter.lte("score", 2.5), lambda r: r["score"] <= 2.5),
    ("gt", lambda ee: ee.Filter.gt("score", 2.5), lambda r: r["score"] > 2.5),
    ("gte", lambda ee: ee.Filter.gte("score", 2.5), lambda r: r["score"] >= 2.5),
    ("equals", lambda ee: ee.Filter.equals("value", 9), lambda r: r.get("value") == 9),
    ("notEquals", lambda ee: ee.Filter.notEquals("kind", "b"), lambda r: r["kind"] != "b"),
    ("lessThan", lambda ee: ee.Filter.lessThan("value", 5), lambda r: r.get("value", 99) < 5),
    ("greaterThanOrEquals", lambda ee: ee.Filter.greaterThanOrEquals("score", 3),
     lambda r: r["score"] >= 3),
    ("greaterThan", lambda ee: ee.Filter.greaterThan("value", 4), lambda r: r.get("value", 0) > 4),
    ("lessThanOrEquals", lambda ee: ee.Filter.lessThanOrEquals("value", 4),
     lambda r: r.get("value", 99) <= 4),
    ("two fields", lambda ee: ee.Filter.lessThan(leftField="value", rightField="score"),
     lambda r: r.get("value", 99) < r["score"]),
    ("stringContains", lambda ee: ee.Filter.stringContains("name", "lt"),
     lambda r: "lt" in r["name"]),
    ("stringStartsWith", lambda ee: ee.Filter.stringStartsWith("name", "e"),
     lambda r: r["name"].startswith("e")),
    ("stringEndsWith", lambda ee: ee.Filter.stringEndsWith("name", "a"),
     lambda r: r["name"].endswith("a")),
    ("inList", lambda ee: ee.Filter.inList("kind", ["a", "c"]), lambda r: r["kind"] in "ac"),
    ("listContains", lambda ee: ee.Filter.listContains("tags", "y"), lambda r: "y" in r["tags"]),
    ("rangeContains", lambda ee: ee.Filter.rangeContains("score", 1.5, 3),
     lambda r: 1.5 <= r["score"] <= 3),
    ("maxDifference", lambda ee: ee.Filter.maxDifference(1, "score", 3),
     lambda r: abs(r["score"] - 3) <= 1),
    ("notNull", lambda ee: ee.Filter.notNull(["value"]), lambda r: "value" in r),
    ("dayOfYear", lambda ee: ee.Filter.dayOfYear(100, 200),
     lambda r: 100 <= _doy(r) <= 200),
    ("calendarRange months wrap", lambda ee: ee.Filter.calendarRange(11, 2, "month"),
     lambda r: _dt(r).month >= 11 or _dt(r).month <= 2),
    ("calendarRange year", lambda ee: ee.Filter.calendarRange(2021, 2021, "year"),
     lambda r: _dt(r).year == 2021),
    ("calendarRange day_of_week", lambda ee: ee.Filter.calendarRange(1, 5, "day_of_week"),
     lambda r: _dt(r).isoweekday() <= 5),
    ("date", lambda ee: ee.Filter.date("2020-06-01", "2021-01-01"),
     lambda r: _ms(2020, 6, 1) <= r["system:time_start"] < _ms(2021, 1, 1)),
    ("and", lambda ee: ee.Filter.And(ee.Filter.eq("kind", "a"), ee.Filter.gt("score", 0)),
     lambda r: r["kind"] == "a" and r["score"] > 0),
    ("or", lambda ee: ee.Filter.Or(ee.Filter.eq("kind", "c"), ee.Filter.lt("score", 0)),
     lambda r: r["kind"] == "c" or r["score"] < 0),
    ("not", lambda ee: ee.Filter.eq("kind", "a").Not(), lambda r: r["kind"] != "a"),
    ("expression", lambda ee: ee.Filter.expression("score > 1 && score < 3.5"),
     lambda r: 1 < r["score"] < 3.5),
    ("hasType", lambda ee: ee.Filter.hasType("value", "Integer"), lambda r: "value" in r),
    ("bounds", lambda ee: ee.Filter.bounds(ee.Geometry.Rectangle([14.9, 45.9, 15.1, 46.1])),
     lambda r: r["lon"] < 15.1 and r["lat"] < 46.1),
    ("withinDistance", lambda ee: ee.Filter.withinDistance(2000, ".geo",
     ee.Geometry.Point([15.0, 46.0])), lambda r: _meters(r, 15.0, 46.0) <= 2000),
    ("isContained", lambda ee: ee.Filter.isContained(".geo",
     ee.Geometry.Rectangle([14.9, 45.9, 15.6, 46.6])), lambda r: r["lon"] < 15.6),
    ("disjoint", lambda ee: ee.Filter.disjoint(".geo",
     ee.Geometry.Rectangle([14.9, 45.9, 15.6, 46.6])), lambda r: r["lon"] > 15.6),
    ("contains", lambda ee: ee.Filter.contains(rightValue=ee.Geometry.Point([16.0, 47.0]),
     leftField=".geo"), lambda r: r["name"] == "delta"),
]  # fmt: skip


def _dt(row: dict) -> datetime:
    return EPOCH + timedelta(milliseconds=row["system:time_start"])


def _doy(row: dict) -> int:
    return _dt(row).timetuple().tm_yday


def _meters(row: dict, lon: float, lat: float) -> float:
    return GEOD.inv(row["lon"], row["lat"], lon, lat)[2]


def test_filters(ee_api, fc) -> None:
    ee = ee_api
    got = ee.List([fc.filter(make(ee)).aggregate_array("name") for _, make, _ in FILTERS]).getInfo()
    for (label, _, keep), names in zip(FILTERS, got, strict=True):
        assert names == [r["name"] for r in ROWS if keep(r)], label


def test_hidden_filters_and_area(ee_api, fc) -> None:
    ee = ee_api
    polys = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Point([0, 0]).buffer(100), {"n": "small"}),
            ee.Feature(ee.Geometry.Point([0, 0]).buffer(1000), {"n": "big"}),
            ee.Feature(None, {"n": "none"}),
        ]
    )
    got = ee.List(
        [
            polys.filter(ee.Filter.area(1e6, 1e7)).aggregate_array("n"),
            polys.filter(ee.ApiFunction.call_("Filter.hasGeometry")).aggregate_array("n"),
            fc.filter(ee.ApiFunction.call_("Filter.always")).size(),
            fc.filter(ee.ApiFunction.call_("Filter.never")).size(),
            fc.filter(ee.ApiFunction.call_("Filter.inList", "kind", ["b"])).size(),
        ]
    ).getInfo()
    big = math.pi * 1000**2
    assert got[0] == (["big"] if 1e6 <= big <= 1e7 else [])
    assert got[1] == ["small", "big"]
    assert got[2:] == [len(ROWS), 0, sum(r["kind"] == "b" for r in ROWS)]
