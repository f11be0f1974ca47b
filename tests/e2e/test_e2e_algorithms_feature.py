"""Feature, Element and ee.Algorithms.* through the stock client.

Feature geometry algorithms are the Geometry ones on the feature's geometry; the oracle is
pyproj's Geod and shapely, as for geometries.
"""

from __future__ import annotations

import math

import pytest
import shapely.geometry
from pyproj import Geod

pytestmark = pytest.mark.e2e

GEOD = Geod(ellps="WGS84")
SQUARE = [[15.0, 46.0], [15.04, 46.0], [15.04, 46.03], [15.0, 46.03], [15.0, 46.0]]
OTHER = [[15.02, 46.01], [15.06, 46.01], [15.06, 46.05], [15.02, 46.05], [15.02, 46.01]]
PROPS = {"name": "sq", "value": 7, "ratio": 0.5, "system:time_start": 0}


@pytest.fixture(scope="module")
def features(ee_api):
    ee = ee_api
    a = ee.Feature(ee.Geometry.Polygon([SQUARE]), PROPS)
    b = ee.Feature(ee.Geometry.Polygon([OTHER]), {"name": "other"})
    return a, b


def test_feature_measures_and_predicates(ee_api, features) -> None:
    ee = ee_api
    a, b = features
    far = ee.Feature(ee.Geometry.Point([15.1, 46.015]), {})
    got = ee.List(
        [
            a.area(),
            a.perimeter(),
            a.length(),
            a.distance(far),
            a.intersects(b),
            a.disjoint(b),
            a.contains(b),
            a.containedIn(b),
            a.withinDistance(far, 5000),
            a.withinDistance(far, 4000),
            far.closestPoint(a),
            far.closestPoints(a),
        ]
    ).getInfo()
    sq = shapely.geometry.Polygon(SQUARE)
    area, perimeter = GEOD.geometry_area_perimeter(sq)
    east = GEOD.inv(15.04, 46.015, 15.1, 46.015)[2]
    assert got[0] == pytest.approx(abs(area), rel=1e-9)
    assert got[1] == pytest.approx(perimeter, rel=1e-9)
    assert got[2] == 0
    assert got[3] == pytest.approx(east, rel=1e-3)
    assert got[4:10] == [True, False, False, False, east <= 5000, east <= 4000]
    assert got[10]["coordinates"] == pytest.approx([15.04, 46.015], abs=1e-4)
    assert set(got[11]) == {"left", "right"}


def test_feature_geometry_operations_keep_properties(ee_api, features) -> None:
    ee = ee_api
    a, b = features
    got = ee.List(
        [
            a.buffer(100),
            a.centroid(),
            a.bounds(),
            a.convexHull(),
            a.simplify(1),
            a.dissolve(),
            a.transform("EPSG:32633"),
            a.intersection(b),
            a.union(b),
            a.difference(b),
            a.symmetricDifference(b),
        ]
    ).getInfo()
    sa, sb = shapely.geometry.Polygon(SQUARE), shapely.geometry.Polygon(OTHER)
    for info in got:
        assert info["type"] == "Feature"
        assert info["properties"] == PROPS
    assert shapely.geometry.shape(got[0]["geometry"]).contains(sa)
    centroid = sa.centroid
    assert got[1]["geometry"]["coordinates"] == pytest.approx([centroid.x, centroid.y], abs=1e-5)
    assert shapely.geometry.shape(got[2]["geometry"]).bounds == pytest.approx(sa.bounds, abs=1e-4)
    assert shapely.geometry.shape(got[3]["geometry"]).equals(sa.convex_hull)
    assert shapely.geometry.shape(got[4]["geometry"]).equals(sa)
    assert shapely.geometry.shape(got[5]["geometry"]).equals(sa)
    assert got[6]["geometry"]["crs"]["properties"]["name"] == "EPSG:32633"
    for info, want in zip(
        got[7:],
        [sa.intersection(sb), sa.union(sb), sa.difference(sb), sa.symmetric_difference(sb)],
        strict=True,
    ):
        assert shapely.geometry.shape(info["geometry"]).equals(want)


def test_feature_properties_and_elements(ee_api, features) -> None:
    ee = ee_api
    a, b = features
    fc = ee.FeatureCollection([a, b])
    got = ee.List(
        [
            a.get("value"),
            a.getNumber("ratio"),
            a.getString("name"),
            a.get("missing"),
            a.propertyNames(),
            a.toDictionary(),
            a.toDictionary(["name"]),
            a.set("extra", 1).get("extra"),
            a.setMulti({"p": 1, "q": 2}).toDictionary(["p", "q"]),
            a.select(["name", "val.*"]).toDictionary(),
            a.select(["name"], ["label"], False),
            b.copyProperties(a).toDictionary(),
            b.copyProperties(a, ["value"]).toDictionary(),
            b.copyProperties(a, None, ["ratio"]).toDictionary(),
            ee.Element(b).replaceProperties(a).toDictionary(),
            a.geometry(),
            a.setGeometry(ee.Geometry.Point([1, 2])).geometry(),
            a.setGeometry(None).geometry(),
            ee.Feature(fc.first()).id(),
            ee.Feature(fc.toList(2).get(1)).id(),
            a.id(),
        ]
    ).getInfo()
    plain = {k: v for k, v in PROPS.items() if not k.startswith("system:")}
    assert got[:4] == [PROPS["value"], PROPS["ratio"], PROPS["name"], None]
    assert sorted(got[4]) == sorted(PROPS)
    assert got[5] == plain
    assert got[6] == {"name": PROPS["name"]}
    assert got[7] == 1
    assert got[8] == {"p": 1, "q": 2}
    assert got[9] == {"name": PROPS["name"], "value": PROPS["value"]}
    assert got[10] == {"type": "Feature", "geometry": None, "properties": {"label": "sq"}}
    assert got[11] == {**plain, "name": PROPS["name"]}
    assert got[12] == {"name": "other", "value": PROPS["value"]}
    assert got[13] == {k: v for k, v in plain.items() if k != "ratio"}
    assert got[14] == plain
    assert got[15] == {"type": "Polygon", "coordinates": [SQUARE], "geodesic": True}
    assert got[16] == {"type": "Point", "coordinates": [1, 2]}
    assert got[17] is None
    assert got[18:] == ["0", "1", None]


def test_algorithms_if_is_equal_object_type_describe(ee_api) -> None:
    ee = ee_api
    got = ee.List(
        [
            ee.Algorithms.If(1, "yes", "no"),
            ee.Algorithms.If(0, "yes", "no"),
            ee.Algorithms.If("", "yes", "no"),
            ee.Algorithms.If([0], "yes", "no"),
            ee.Algorithms.If(ee.Number(3).gt(2), ee.Number(10), ee.Number(20)),
            ee.List.sequence(1, 5).map(lambda x: ee.Algorithms.If(ee.Number(x).mod(2), x, 0)),
            ee.Algorithms.IsEqual([1, {"a": 2}], [1, {"a": 2}]),
            ee.Algorithms.IsEqual(1, 2),
            ee.Algorithms.ObjectType(1),
            ee.Algorithms.ObjectType(1.5),
            ee.Algorithms.ObjectType("s"),
            ee.Algorithms.ObjectType([1]),
            ee.Algorithms.ObjectType({"a": 1}),
            ee.Algorithms.ObjectType(ee.Date(0)),
            ee.Algorithms.ObjectType(ee.Geometry.Point([0, 0])),
            ee.Algorithms.Describe(ee.Date(1000)),
        ]
    ).getInfo()
    assert got[:5] == ["yes", "no", "no", "yes", 10]
    assert got[5] == [x if x % 2 else 0 for x in range(1, 6)]
    assert got[6:8] == [True, False]
    assert got[8:15] == ["Integer", "Float", "String", "List", "Dictionary", "Date", "Geometry"]
    assert got[15] == {"type": "Date", "value": 1000}
    assert math.isfinite(got[4])
