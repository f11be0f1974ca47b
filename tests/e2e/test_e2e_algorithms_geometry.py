"""Geometry algorithms through the stock client, checked against pyproj's Geod and shapely.

The test shapes are small (edges under 0.05 degrees), where geodesic and straight edges agree to
well under a millimetre, so shapely's planar answers in lon/lat are the oracle for predicates and
set operations.
"""

from __future__ import annotations

import math

import pytest
import shapely
import shapely.geometry
import shapely.ops
from pyproj import Geod, Transformer

pytestmark = pytest.mark.e2e

GEOD = Geod(ellps="WGS84")
SQUARE = [[15.0, 46.0], [15.04, 46.0], [15.04, 46.03], [15.0, 46.03], [15.0, 46.0]]
OTHER = [[15.02, 46.01], [15.06, 46.01], [15.06, 46.05], [15.02, 46.05], [15.02, 46.01]]
LINE = [[15.0, 46.0], [15.03, 46.02], [15.045, 46.0]]


def _shape(info: dict) -> shapely.geometry.base.BaseGeometry:
    return shapely.geometry.shape(info)


def test_measures_against_geod(ee_api) -> None:
    ee = ee_api
    square = ee.Geometry.Polygon([SQUARE])
    line = ee.Geometry.LineString(LINE)
    got = ee.List(
        [
            square.area(),
            square.perimeter(),
            square.length(),
            line.length(),
            line.area(),
            ee.Geometry.MultiLineString([LINE, SQUARE]).length(),
            square.area(1, "EPSG:32633"),
            square.perimeter(1, "EPSG:32633"),
            ee.Geometry.Point([15, 46]).distance(ee.Geometry.Point([15.05, 46.02])),
            square.distance(ee.Geometry.Point([15.1, 46.015])),
            square.distance(ee.Geometry.Point([15.02, 46.015])),
            ee.Geometry.Point([15, 46]).distance(ee.Geometry.Point([16, 47]), None, None, True),
        ]
    ).getInfo()
    poly = shapely.geometry.Polygon(SQUARE)
    area, perimeter = GEOD.geometry_area_perimeter(poly)
    assert got[0] == pytest.approx(abs(area), rel=1e-9)
    assert got[1] == pytest.approx(perimeter, rel=1e-9)
    assert got[2] == 0
    lons, lats = zip(*LINE, strict=True)
    line_length = GEOD.line_length(lons, lats)
    assert got[3] == pytest.approx(line_length, rel=1e-9)
    assert got[4] == 0
    ring_lons, ring_lats = zip(*SQUARE, strict=True)
    assert got[5] == pytest.approx(line_length + GEOD.line_length(ring_lons, ring_lats))
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    projected = shapely.transform(
        poly, lambda c: list(zip(*utm.transform(c[:, 0], c[:, 1]), strict=True))
    )
    assert got[6] == pytest.approx(projected.area, rel=1e-9)
    assert got[7] == pytest.approx(projected.length, rel=1e-9)
    assert got[8] == pytest.approx(GEOD.inv(15, 46, 15.05, 46.02)[2], rel=1e-9)
    # The nearest point of the square to (15.1, 46.015) is on its east edge, at the same latitude.
    assert got[9] == pytest.approx(GEOD.inv(15.04, 46.015, 15.1, 46.015)[2], rel=1e-3)
    assert got[10] == 0
    lon1, lat1, lon2, lat2 = map(math.radians, (15, 46, 16, 47))
    haversine = 2 * math.asin(
        math.sqrt(
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
    )
    assert got[11] == pytest.approx(6378137 * haversine, rel=1e-9)


def test_predicates_against_shapely(ee_api) -> None:
    ee = ee_api
    a, b = ee.Geometry.Polygon([SQUARE]), ee.Geometry.Polygon([OTHER])
    inside = ee.Geometry.Point([15.01, 46.01])
    far = ee.Geometry.Point([16, 47])
    pairs = [(a, b), (a, inside), (inside, a), (a, far)]
    sa, sb = shapely.geometry.Polygon(SQUARE), shapely.geometry.Polygon(OTHER)
    si, sf = shapely.geometry.Point(15.01, 46.01), shapely.geometry.Point(16, 47)
    spairs = [(sa, sb), (sa, si), (si, sa), (sa, sf)]
    exprs = []
    for left, right in pairs:
        exprs += [
            left.intersects(right),
            left.disjoint(right),
            left.contains(right),
            left.containedIn(right),
            left.withinDistance(right, 5000),
        ]
    got = ee.List(exprs).getInfo()
    want = []
    for left, right in spairs:
        distance = 0.0 if left.intersects(right) else None
        if distance is None:
            p, q = shapely.ops.nearest_points(left, right)
            distance = GEOD.inv(p.x, p.y, q.x, q.y)[2]
        want += [
            left.intersects(right),
            left.disjoint(right),
            left.covers(right),
            right.covers(left),
            distance <= 5000,
        ]
    assert got == want


def test_set_operations_against_shapely(ee_api) -> None:
    ee = ee_api
    a, b = ee.Geometry.Polygon([SQUARE]), ee.Geometry.Polygon([OTHER])
    got = ee.List(
        [
            a.intersection(b),
            a.union(b),
            a.difference(b),
            a.symmetricDifference(b),
            ee.Geometry.MultiPolygon([[SQUARE], [OTHER]]).dissolve(),
            ee.Geometry.MultiPoint([[0, 0], [1, 0], [0, 1], [0.2, 0.2]]).convexHull(),
        ]
    ).getInfo()
    sa, sb = shapely.geometry.Polygon(SQUARE), shapely.geometry.Polygon(OTHER)
    wants = [
        sa.intersection(sb),
        sa.union(sb),
        sa.difference(sb),
        sa.symmetric_difference(sb),
        sa.union(sb),
        shapely.geometry.MultiPoint([(0, 0), (1, 0), (0, 1), (0.2, 0.2)]).convex_hull,
    ]
    for info, want in zip(got, wants, strict=True):
        assert _shape(info).equals(want), (info, want)
    assert got[0]["geodesic"] is True


def test_buffer_centroid_bounds_simplify(ee_api) -> None:
    ee = ee_api
    point = ee.Geometry.Point([15, 46])
    square = ee.Geometry.Polygon([SQUARE])
    wiggly = [[15 + i * 0.001, 46 + (0.00001 if i % 2 else 0)] for i in range(40)]
    got = ee.List(
        [
            point.buffer(1000),
            square.centroid(),
            square.bounds(),
            ee.Geometry.LineString(wiggly).simplify(10),
            square.buffer(-500).area(),
        ]
    ).getInfo()
    ring = got[0]["coordinates"][0]
    distances = [GEOD.inv(15, 46, lon, lat)[2] for lon, lat in ring]
    assert min(distances) == pytest.approx(1000, rel=1e-3)
    assert max(distances) == pytest.approx(1000, rel=1e-3)
    area, _ = GEOD.geometry_area_perimeter(_shape(got[0]))
    assert abs(area) == pytest.approx(math.pi * 1000**2, rel=0.01)
    assert got[1]["type"] == "Point"
    centroid = shapely.geometry.Polygon(SQUARE).centroid
    assert got[1]["coordinates"] == pytest.approx([centroid.x, centroid.y], abs=1e-5)
    x0, y0, x1, y1 = shapely.geometry.Polygon(SQUARE).bounds
    bounds = _shape(got[2])
    assert bounds.bounds == pytest.approx((x0, y0, x1, y1), abs=1e-4)
    assert got[2]["geodesic"] is False
    simplified = got[3]["coordinates"]
    assert len(simplified) == 2
    assert simplified[0] == pytest.approx(wiggly[0]) and simplified[-1] == pytest.approx(wiggly[-1])
    # The square shrunk by 500 m on each side: about (w - 1 km) x (h - 1 km).
    w = GEOD.inv(15.0, 46.015, 15.04, 46.015)[2]
    h = GEOD.inv(15.02, 46.0, 15.02, 46.03)[2]
    assert got[4] == pytest.approx((w - 1000) * (h - 1000), rel=0.01)


def test_accessors_and_transform(ee_api) -> None:
    ee = ee_api
    square = ee.Geometry.Polygon([SQUARE])
    multi = ee.Geometry.MultiPoint([[1, 2], [3, 4]])
    got = ee.List(
        [
            square.type(),
            square.coordinates(),
            square.geodesic(),
            square.edgesAreGeodesics(),
            ee.Geometry.Polygon([SQUARE], None, False).geodesic(),
            square.isUnbounded(),
            square.projection(),
            multi.geometries(),
            multi.type(),
            ee.Geometry.LinearRing(SQUARE).type(),
            ee.Geometry.MultiLineString([LINE, LINE]).type(),
            square.transform("EPSG:32633"),
            ee.Geometry.Point([500000, 5100000], "EPSG:32633").transform("EPSG:4326"),
            ee.Geometry.BBox(15.0, 46.0, 15.04, 46.03).area(),
        ]
    ).getInfo()
    assert got[:6] == ["Polygon", [SQUARE], True, True, False, False]
    assert got[6]["crs"] == "EPSG:4326"
    assert got[7] == [
        {"type": "Point", "coordinates": [1, 2]},
        {"type": "Point", "coordinates": [3, 4]},
    ]
    assert got[8:11] == ["MultiPoint", "LinearRing", "MultiLineString"]
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    assert got[11]["crs"]["properties"]["name"] == "EPSG:32633"
    for (x, y), (lon, lat) in zip(got[11]["coordinates"][0], SQUARE, strict=True):
        assert (x, y) == pytest.approx(utm.transform(lon, lat), abs=1e-6)
    back = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True).transform(
        500000, 5100000
    )
    assert got[12]["coordinates"] == pytest.approx(list(back), abs=1e-9)
    # A BBox has straight (planar) edges: its area follows the parallels, not geodesics.
    dense = [(15.0 + i * 0.0004, 46.0) for i in range(101)] + [
        (15.04 - i * 0.0004, 46.03) for i in range(101)
    ]
    assert got[13] == pytest.approx(abs(GEOD.polygon_area_perimeter(*zip(*dense, strict=True))[0]),
                                    rel=1e-6)  # fmt: skip


def test_closest_points_and_multi_geometry(ee_api) -> None:
    ee = ee_api
    square = ee.Geometry.Polygon([SQUARE])
    outside = ee.Geometry.Point([15.1, 46.015])
    got = ee.List(
        [
            outside.closestPoint(square),
            outside.closestPoints(square),
            ee.ApiFunction.call_(
                "GeometryConstructors.MultiGeometry",
                [ee.Geometry.Point([1, 2]), ee.Geometry.LineString(LINE)],
            ),
            ee.ApiFunction.call_("ErrorMargin", 5),
        ]
    ).getInfo()
    # The geodesically nearest point of the east edge (lon 15.04), by ternary search.
    lo, hi = 46.0, 46.03
    for _ in range(100):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if GEOD.inv(15.1, 46.015, 15.04, m1)[2] < GEOD.inv(15.1, 46.015, 15.04, m2)[2]:
            hi = m2
        else:
            lo = m1
    assert got[0]["coordinates"] == pytest.approx([15.04, lo], abs=1e-7)
    assert got[1]["left"]["coordinates"] == pytest.approx([15.1, 46.015], abs=1e-9)
    assert got[1]["right"]["coordinates"] == pytest.approx([15.04, lo], abs=1e-7)
    assert got[2]["type"] == "GeometryCollection"
    assert [g["type"] for g in got[2]["geometries"]] == ["Point", "LineString"]
    assert got[3] == {"type": "ErrorMargin", "unit": "meters", "value": 5}


def test_cut_lines_and_random_points(ee_api) -> None:
    ee = ee_api
    line = ee.Geometry.LineString(LINE)
    region = ee.Geometry.Polygon([SQUARE])
    got = ee.List(
        [
            line.cutLines([1000, 2500]),
            ee.Feature(line, {"k": 1}).cutLines([1000]),
            ee.FeatureCollection.randomPoints(region, 50, 7),
            ee.FeatureCollection.randomPoints(region, 50, 7).geometry(),
        ]
    ).getInfo()
    pieces = got[0]["coordinates"]
    assert got[0]["type"] == "MultiLineString" and len(pieces) == 3
    lengths = [GEOD.line_length(*zip(*p, strict=True)) for p in pieces]
    total = GEOD.line_length(*zip(*LINE, strict=True))
    assert lengths == pytest.approx([1000, 1500, total - 2500], rel=2e-3)
    assert pieces[0][0] == LINE[0] and pieces[-1][-1] == LINE[-1]
    assert got[1]["properties"] == {"k": 1} and len(got[1]["geometry"]["coordinates"]) == 2
    features = got[2]["features"]
    assert len(features) == 50
    square = shapely.geometry.Polygon(SQUARE)
    assert all(square.contains(shapely.geometry.shape(f["geometry"])) for f in features)
    assert got[3]["coordinates"] == [f["geometry"]["coordinates"] for f in features]
