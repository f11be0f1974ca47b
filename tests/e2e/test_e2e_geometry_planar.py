"""Planar and geodesic geometries through the stock client (ADR 0023).

A planar geometry's edges are straight lines in its CRS, so operations on planar geometries are
computed in that plane: the oracles are shapely in the geometry's own coordinates and pyproj for
the way to and from EPSG:4326. Geodesic edges are checked against pyproj's Geod.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import shapely.geometry
import shapely.ops
from pyproj import Geod, Transformer

pytestmark = pytest.mark.e2e

GEOD = Geod(ellps="WGS84")
UTM = "EPSG:32633"
TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
FROM_UTM = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
# A 400 km square and a 2 km square, planar in UTM zone 33N (the default for a projected CRS).
BIG = (300_000, 4_800_000, 700_000, 5_200_000)
SMALL = (500_000, 5_000_000, 502_000, 5_002_000)
NEAR = (505_000, 5_000_000, 506_000, 5_001_000)


def _to_utm(info: dict) -> shapely.geometry.base.BaseGeometry:
    shape = shapely.geometry.shape(info)
    return shapely.transform(shape, lambda c: np.column_stack(TO_UTM.transform(c[:, 0], c[:, 1])))


def test_planar_rectangle_centroid_is_its_centre(ee_api) -> None:
    ee = ee_api
    triangle = [[0, 0], [30, 0], [0, 30], [0, 0]]
    got = ee.List(
        [
            ee.Geometry.Rectangle([0, 0, 2, 2], None, False).centroid(1),
            ee.Geometry.Polygon([triangle], None, False).centroid(1),
            ee.Geometry.Rectangle([0, 0, 20, 10]).centroid(1),
            ee.Geometry.Rectangle(list(BIG), UTM, False).centroid(1),
            ee.Geometry.Rectangle([0, 0, 2, 2], None, False).centroid(1, "EPSG:3857"),
        ]
    ).getInfo()
    assert got[0] == {"type": "Point", "coordinates": [1.0, 1.0]}
    centre = shapely.geometry.Polygon(triangle).centroid
    assert got[1]["coordinates"] == pytest.approx([centre.x, centre.y], abs=1e-9)
    # Geodesic edges bow towards the pole: the top edge of a geodesic rectangle from (0, 10)
    # to (20, 10) passes north of latitude 10, and the centroid moves north with it.
    _, top_lat = GEOD.npts(0, 10, 20, 10, 1)[0]
    assert top_lat > 10.1
    assert got[2]["coordinates"][0] == pytest.approx(10.0, abs=1e-9)
    assert got[2]["coordinates"][1] > 5.0 + 1e-3
    # In UTM the centroid is the square's centre, returned in EPSG:4326.
    cx, cy = FROM_UTM.transform((BIG[0] + BIG[2]) / 2, (BIG[1] + BIG[3]) / 2)
    assert got[3]["coordinates"] == pytest.approx([cx, cy], abs=1e-9)
    # With proj, the result is in that projection.
    assert got[4]["crs"]["properties"]["name"] == "EPSG:3857"


def test_planar_measures_are_taken_in_the_plane(ee_api) -> None:
    ee = ee_api
    small = ee.Geometry.Rectangle(list(SMALL), UTM, False)
    line = ee.Geometry.LineString([[SMALL[0], SMALL[1]], [SMALL[2], SMALL[3]]], UTM, False)
    got = ee.List(
        [
            small.area(),
            small.perimeter(),
            line.length(),
            ee.Geometry.Rectangle(list(BIG), UTM, False).area(),
            small.distance(ee.Geometry.Rectangle(list(NEAR), UTM, False)),
            small.withinDistance(ee.Geometry.Rectangle(list(NEAR), UTM, False), 2999.9),
            ee.Geometry.Rectangle([0, 0, 10, 10], None, False).area(),
            ee.Geometry.Rectangle([0, 0, 10, 10]).area(),
        ]
    ).getInfo()
    box = shapely.box(*SMALL)
    assert got[0] == pytest.approx(box.area, rel=1e-12)
    assert got[1] == pytest.approx(box.length, rel=1e-12)
    assert got[2] == pytest.approx(shapely.geometry.LineString([SMALL[:2], SMALL[2:]]).length)
    assert got[3] == pytest.approx(shapely.box(*BIG).area, rel=1e-12)
    assert got[4] == pytest.approx(box.distance(shapely.box(*NEAR)), rel=1e-12)
    assert got[5] is False
    # A planar rectangle in EPSG:4326 is bounded by parallels; its area in square metres is
    # that of the lon/lat box on the ellipsoid (edges densified along the parallels).
    dense = shapely.segmentize(shapely.box(0, 0, 10, 10), 0.01)
    planar_area, _ = GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(dense))
    assert got[6] == pytest.approx(abs(planar_area), rel=1e-6)
    geodesic_area, _ = GEOD.geometry_area_perimeter(shapely.box(0, 0, 10, 10))
    assert got[7] == pytest.approx(abs(geodesic_area), rel=1e-9)


def test_planar_constructions_stay_planar(ee_api) -> None:
    ee = ee_api
    small = ee.Geometry.Rectangle(list(SMALL), UTM, False)
    near = ee.Geometry.Rectangle(list(NEAR), UTM, False)
    planar = ee.Geometry.Rectangle([0, 0, 20, 10], None, False)
    got = ee.List(
        [
            small.buffer(100),
            small.union(near),
            small.convexHull(),
            planar.buffer(1000),
            ee.Geometry.Point([10, 12]).closestPoint(planar),
            ee.Geometry.Point([10, 12]).closestPoint(ee.Geometry.Rectangle([0, 0, 20, 10])),
            small.bounds(),
            ee.Geometry.Rectangle(list(BIG), UTM, False).intersection(
                ee.Geometry.Rectangle([0, 0, 900_000, 9_000_000], UTM, False)
            ),
        ]
    ).getInfo()
    # Buffered in the UTM plane by 100 m, returned in EPSG:4326, still planar.
    assert got[0]["geodesic"] is False and "crs" not in got[0]
    want = shapely.box(*SMALL).buffer(100, quad_segs=8)
    assert _to_utm(got[0]).area == pytest.approx(want.area, rel=1e-9)
    assert _to_utm(got[0]).symmetric_difference(want).area < 1e-6 * want.area
    assert got[1]["geodesic"] is False
    assert _to_utm(got[1]).area == pytest.approx(shapely.box(*SMALL).area * 1.25, rel=1e-9)
    assert got[2]["geodesic"] is False
    assert got[3]["geodesic"] is False
    # The nearest point of a planar rectangle's top edge is straight below; a geodesic top edge
    # bows north, so its nearest point is north of latitude 10.
    assert got[4]["coordinates"] == pytest.approx([10.0, 10.0], abs=1e-12)
    assert got[5]["coordinates"][1] > 10.1
    # The bounds, in EPSG:4326, of the square's straight UTM edges.
    edges = shapely.segmentize(shapely.box(*SMALL), 1.0).exterior.coords
    lons, lats = FROM_UTM.transform(*zip(*edges, strict=True))
    want_bounds = (min(lons), min(lats), max(lons), max(lats))
    assert shapely.geometry.shape(got[6]).bounds == pytest.approx(want_bounds, abs=1e-7)
    # A result computed in the UTM plane keeps its straight UTM edges in EPSG:4326.
    big = shapely.geometry.shape(got[7])
    assert got[7]["geodesic"] is False
    assert big.contains(shapely.geometry.Point(FROM_UTM.transform(500_000, BIG[3] - 300)))
    assert not big.contains(shapely.geometry.Point(FROM_UTM.transform(500_000, BIG[3] + 300)))


def test_planar_predicates_follow_straight_edges(ee_api) -> None:
    ee = ee_api
    big = ee.Geometry.Rectangle(list(BIG), UTM, False)
    # Points 300 m inside and outside the middle of the top edge of the UTM square.
    inside = FROM_UTM.transform(500_000, BIG[3] - 300)
    outside = FROM_UTM.transform(500_000, BIG[3] + 300)
    geodesic = ee.Geometry.Rectangle([0, 0, 20, 10])
    planar = ee.Geometry.Rectangle([0, 0, 20, 10], None, False)
    between = ee.Geometry.Point([10, 10.05])  # under the geodesic top edge, above the parallel
    got = ee.List(
        [
            big.contains(ee.Geometry.Point(list(inside))),
            big.contains(ee.Geometry.Point(list(outside))),
            geodesic.contains(between),
            planar.contains(between),
            ee.FeatureCollection([ee.Feature(between, {"n": 1})]).filterBounds(geodesic).size(),
            ee.FeatureCollection([ee.Feature(between, {"n": 1})]).filterBounds(planar).size(),
            planar.intersection(geodesic).area(),
        ]
    ).getInfo()
    assert got[:4] == [True, False, True, False]
    assert got[4:6] == [1, 0]
    dense = shapely.segmentize(shapely.box(0, 0, 20, 10), 0.01)
    planar_area, _ = GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(dense))
    assert got[6] == pytest.approx(abs(planar_area), rel=1e-4)


# -- two-field spatial join conditions --------------------------------------------------------

# Small shapes (edges of hundredths of a degree): geodesic and straight edges agree to well under
# a millimetre, so shapely's lon/lat predicates are the oracle.
PRIMARY = {
    "A": shapely.box(15.00, 46.00, 15.02, 46.02),
    "B": shapely.box(15.05, 46.00, 15.07, 46.02),
    "C": shapely.box(15.005, 46.005, 15.01, 46.01),
}
SECONDARY = {
    "p": shapely.geometry.Point(15.01, 46.01),
    "q": shapely.geometry.Point(15.06, 46.03),
    "r": shapely.box(15.001, 46.001, 15.015, 46.015),
    "s": shapely.box(15.015, 46.015, 15.055, 46.025),
}


def _collection(ee, shapes: dict) -> object:
    return ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry(json.loads(shapely.to_geojson(s))), {"name": n})
            for n, s in shapes.items()
        ]
    )


def _distance(a: shapely.Geometry, b: shapely.Geometry) -> float:
    if a.intersects(b):
        return 0.0
    pa, pb = shapely.ops.nearest_points(a, b)
    return float(GEOD.inv(pa.x, pa.y, pb.x, pb.y)[2])


def test_two_field_spatial_join_conditions(ee_api) -> None:
    ee = ee_api
    primary, secondary = _collection(ee, PRIMARY), _collection(ee, SECONDARY)
    conditions = {
        "intersects": ee.Filter.intersects(leftField=".geo", rightField=".geo", maxError=10),
        "contains": ee.Filter.contains(leftField=".geo", rightField=".geo"),
        "isContained": ee.Filter.isContained(leftField=".geo", rightField=".geo"),
        "disjoint": ee.Filter.disjoint(leftField=".geo", rightField=".geo"),
        "withinDistance": ee.Filter.withinDistance(
            distance=1000, leftField=".geo", rightField=".geo"
        ),
    }

    def matches(condition):
        joined = ee.Join.saveAll("matches", outer=True).apply(primary, secondary, condition)
        return joined.map(
            lambda f: f.set(
                "names", ee.List(f.get("matches")).map(lambda m: ee.Feature(m).get("name"))
            )
        ).aggregate_array("names")

    got = ee.Dictionary({k: matches(c) for k, c in conditions.items()}).getInfo()
    tests = {
        "intersects": lambda a, b: a.intersects(b),
        "contains": lambda a, b: a.covers(b),
        "isContained": lambda a, b: b.covers(a),
        "disjoint": lambda a, b: a.disjoint(b),
        "withinDistance": lambda a, b: _distance(a, b) <= 1000,
    }
    for name, test in tests.items():
        want = [[n for n, b in SECONDARY.items() if test(a, b)] for a in PRIMARY.values()]
        assert got[name] == want, name
    # The join found something for each condition (the shapes are chosen so).
    assert all(any(row) for row in got.values())


def test_spatial_join_with_inner_and_simple(ee_api) -> None:
    ee = ee_api
    primary, secondary = _collection(ee, PRIMARY), _collection(ee, SECONDARY)
    on_geo = ee.Filter.intersects(leftField=".geo", rightField=".geo")
    got = ee.Dictionary(
        {
            "simple": ee.Join.simple().apply(primary, secondary, on_geo).aggregate_array("name"),
            "inner": ee.Join.inner()
            .apply(primary, secondary, on_geo)
            .map(
                lambda f: ee.Feature(
                    None,
                    {
                        "pair": ee.String(ee.Feature(f.get("primary")).get("name")).cat(
                            ee.Feature(f.get("secondary")).get("name")
                        )
                    },
                )
            )
            .aggregate_array("pair"),
        }
    ).getInfo()
    pairs = [a + b for a, sa in PRIMARY.items() for b, sb in SECONDARY.items() if sa.intersects(sb)]
    assert got["inner"] == pairs
    assert got["simple"] == [
        a for a, s in PRIMARY.items() if any(s.intersects(b) for b in SECONDARY.values())
    ]


def test_transform_keeps_the_edges(ee_api) -> None:
    ee = ee_api
    got = ee.List(
        [
            ee.Geometry.Rectangle([0, 0, 20, 10]).transform("EPSG:3857", 1),
            ee.Geometry.Rectangle(list(BIG), UTM, False).transform("EPSG:4326", 1),
            ee.Geometry.Rectangle([0, 0, 0.02, 0.01]).transform("EPSG:3857", 1),
            ee.FeatureCollection([ee.Feature(ee.Geometry.Rectangle(list(BIG), UTM, False))])
            .geometry()
            .geometries()
            .get(0),
        ]
    ).getInfo()
    # The geodesic top edge bows north of latitude 10; in Web Mercator the polygon is planar and
    # must still hold a point under that bow.
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    assert got[0]["geodesic"] is False
    mercator = shapely.geometry.shape(got[0])
    assert mercator.contains(shapely.geometry.Point(to_mercator.transform(10, 10.05)))
    assert not mercator.contains(shapely.geometry.Point(to_mercator.transform(10, 10.2)))
    # The straight UTM edges, now straight lon/lat edges: 300 m inside stays inside.
    lonlat = shapely.geometry.shape(got[1])
    assert lonlat.contains(shapely.geometry.Point(FROM_UTM.transform(500_000, BIG[3] - 300)))
    assert not lonlat.contains(shapely.geometry.Point(FROM_UTM.transform(500_000, BIG[3] + 300)))
    # A collection's geometry keeps the straight UTM edges too.
    merged = shapely.geometry.shape(got[3])
    assert merged.contains(shapely.geometry.Point(FROM_UTM.transform(500_000, BIG[3] - 300)))
    # Short edges need no extra vertices: the corners are moved exactly.
    corners = [to_mercator.transform(x, y) for x, y in [(0, 0.01), (0, 0), (0.02, 0), (0.02, 0.01)]]
    np.testing.assert_allclose(got[2]["coordinates"][0][:4], corners, atol=1e-6)


def test_region_follows_geodesic_and_planar_edges(ee_api) -> None:
    ee = ee_api
    grid = {"crs": "EPSG:4326", "crsTransform": [0.05, 0, 0, 0, -0.05, 0]}

    def top(geometry):
        return (
            ee.Image.pixelLonLat()
            .select("latitude")
            .reduceRegion(ee.Reducer.max(), geometry, **grid)
            .get("latitude")
        )

    got = ee.List(
        [
            top(ee.Geometry.Rectangle([0, 0, 20, 10])),
            top(ee.Geometry.Rectangle([0, 0, 20, 10], None, False)),
        ]
    ).getInfo()
    # Pixel centres lie on odd multiples of 0.025 degrees. The geodesic top edge reaches the
    # latitude of its midpoint (pyproj's Geod); the planar one stays on the parallel.
    _, bulge = GEOD.npts(0, 10, 20, 10, 1)[0]
    want = (np.floor((bulge - 0.025) / 0.05) * 0.05) + 0.025
    assert got[0] == pytest.approx(want, abs=1e-9)
    assert got[1] == pytest.approx(9.975, abs=1e-9)
