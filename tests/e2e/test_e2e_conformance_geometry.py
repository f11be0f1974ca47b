"""Conformance: the Geometry apidocs samples, through the stock client.

Earth Engine's `ee_geometry_<type>_<method>.py` samples (google/earthengine-community
samples/python/apidocs) run every Geometry method on the same nine geometries near Mountain View
(one per constructor) against one BBox or one Point, and print the result without documenting its
value. The inputs are taken from those samples; the expected values come from the API's definition
(type names, flags, coordinates, projection) or from independent oracles: pyproj's Geod on the
WGS84 ellipsoid for areas and lengths, shapely in lon/lat for predicates and set operations (edges
here are under 1.5 km, where geodesic and straight edges differ by micrometres), shapely in UTM
zone 10N for buffers and distances. The tolerances (0.2 % for measures, 1 % for buffers, whose
circles Earth Engine approximates within maxError) are far tighter than a geodesic/planar or
unit mix-up, which moves these numbers by orders of magnitude.

A BBox is planar and every other constructor here is geodesic (ADR 0023; the client's
documentation of `geodesic`: "true if the inputs are numbers"), so `geodesic()` and
`edgesAreGeodesics()` tell them apart.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import shapely
import shapely.geometry
import shapely.ops
from pyproj import Geod, Transformer
from shapely.geometry.polygon import orient

pytestmark = pytest.mark.e2e

GEOD = Geod(ellps="WGS84")
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32610", always_xy=True)
FROM_UTM = Transformer.from_crs("EPSG:32610", "EPSG:4326", always_xy=True)

# The samples' inputs (ee_geometry_<type>_*.py), as GeoJSON coordinates.
BBOX = (-122.09, 37.42, -122.08, 37.43)
POLYGON_RING = [[-122.092, 37.424], [-122.086, 37.418], [-122.079, 37.425], [-122.085, 37.423]]
MULTIPOLYGON = [
    [POLYGON_RING],
    [[[-122.081, 37.417], [-122.086, 37.421], [-122.089, 37.416]]],
]
LINESTRING = [[-122.09, 37.42], [-122.08, 37.43]]
MULTILINESTRING = [
    [[-122.088, 37.418], [-122.086, 37.422], [-122.082, 37.418]],
    [[-122.087, 37.416], [-122.083, 37.416], [-122.082, 37.419]],
]
LINEARRING = [[-122.091, 37.420], [-122.085, 37.422], [-122.080, 37.430]]
MULTIPOINT = [[-122.082, 37.420], [-122.081, 37.426]]
POINT = [-122.082, 37.42]
# ee_geometry_<method>.py: a polygon given as GeoJSON to ee.Geometry (its ring left open).
GEOJSON_RING = [[-122.081, 37.417], [-122.086, 37.421], [-122.084, 37.418], [-122.089, 37.416]]
# The `right` operands: a BBox for predicates and set operations, a Point for distances.
RIGHT_BBOX = (-122.085, 37.415, -122.075, 37.425)
RIGHT_POINT = [-122.090, 37.423]


def _closed(ring: list[list[float]]) -> list[list[float]]:
    return ring if ring[0] == ring[-1] else [*ring, ring[0]]


def _bbox_ring(b: tuple[float, float, float, float]) -> list[list[float]]:
    """The ring the client writes for a BBox (and openee for a Rectangle): from the north-west
    corner, anticlockwise."""
    w, s, e, n = b
    return [[w, n], [w, s], [e, s], [e, n], [w, n]]


# name -> (sample type, GeoJSON the geometry stands for, type() name, geodesic flag)
GEOMETRIES: dict[str, tuple[str, dict[str, Any], bool]] = {
    "bbox": ("Polygon", {"type": "Polygon", "coordinates": [_bbox_ring(BBOX)]}, False),
    "rectangle": ("Polygon", {"type": "Polygon", "coordinates": [_bbox_ring(BBOX)]}, True),
    "polygon": ("Polygon", {"type": "Polygon", "coordinates": [_closed(POLYGON_RING)]}, True),
    "multipolygon": (
        "MultiPolygon",
        {"type": "MultiPolygon", "coordinates": [[_closed(p[0])] for p in MULTIPOLYGON]},
        True,
    ),
    "linestring": ("LineString", {"type": "LineString", "coordinates": LINESTRING}, True),
    "multilinestring": (
        "MultiLineString",
        {"type": "MultiLineString", "coordinates": MULTILINESTRING},
        True,
    ),
    "linearring": (
        "LinearRing",
        {"type": "LinearRing", "coordinates": _closed(LINEARRING)},
        True,
    ),
    "multipoint": ("MultiPoint", {"type": "MultiPoint", "coordinates": MULTIPOINT}, True),
    "point": ("Point", {"type": "Point", "coordinates": POINT}, True),
    "": ("Polygon", {"type": "Polygon", "coordinates": [_closed(GEOJSON_RING)]}, True),
}
# The same inputs made planar (geodesic=False, ADR 0023): "<type> planar" rows run the samples'
# calls on them; results must be the same here (straight and geodesic edges differ by
# micrometres at this size) and stay planar.
PLANAR = ["rectangle", "polygon", "multipolygon", "linestring", "multilinestring", "linearring"]
for _name in PLANAR:
    _type, _geojson, _ = GEOMETRIES[_name]
    GEOMETRIES[f"{_name} planar"] = (_type, _geojson, False)


def _construct(ee: Any, name: str) -> Any:
    if name.endswith(" planar"):
        return _construct_planar(ee, name.removesuffix(" planar"))
    return {
        "bbox": lambda: ee.Geometry.BBox(*BBOX),
        "rectangle": lambda: ee.Geometry.Rectangle(*BBOX),
        "polygon": lambda: ee.Geometry.Polygon([POLYGON_RING]),
        "multipolygon": lambda: ee.Geometry.MultiPolygon(MULTIPOLYGON),
        "linestring": lambda: ee.Geometry.LineString(LINESTRING),
        "multilinestring": lambda: ee.Geometry.MultiLineString(MULTILINESTRING),
        "linearring": lambda: ee.Geometry.LinearRing(LINEARRING),
        "multipoint": lambda: ee.Geometry.MultiPoint(MULTIPOINT),
        "point": lambda: ee.Geometry.Point(*POINT),
        "": lambda: ee.Geometry({"type": "Polygon", "coordinates": [GEOJSON_RING]}),
    }[name]()


def _construct_planar(ee: Any, name: str) -> Any:
    return {
        "rectangle": lambda: ee.Geometry.Rectangle(list(BBOX), None, False),
        "polygon": lambda: ee.Geometry.Polygon([POLYGON_RING], None, False),
        "multipolygon": lambda: ee.Geometry.MultiPolygon(MULTIPOLYGON, None, False),
        "linestring": lambda: ee.Geometry.LineString(LINESTRING, None, False),
        "multilinestring": lambda: ee.Geometry.MultiLineString(MULTILINESTRING, None, False),
        "linearring": lambda: ee.Geometry.LinearRing(LINEARRING, None, False),
    }[name]()


def _shape(info: dict[str, Any]) -> shapely.geometry.base.BaseGeometry:
    if info["type"] == "LinearRing":
        return shapely.geometry.LineString(info["coordinates"])
    return shapely.geometry.shape(info)


def is_polygonal(shape: shapely.geometry.base.BaseGeometry) -> bool:
    return shape.geom_type in ("Polygon", "MultiPolygon")


def _area(shape: shapely.geometry.base.BaseGeometry) -> float:
    """Geodesic area in m² of the polygonal parts (pyproj Geod)."""
    polygons = [g for g in getattr(shape, "geoms", [shape]) if g.geom_type == "Polygon"]
    return sum(abs(GEOD.geometry_area_perimeter(orient(p))[0]) for p in polygons)


def _length(shape: shapely.geometry.base.BaseGeometry) -> float:
    """Geodesic length in m of the linear parts."""
    lines = [g for g in getattr(shape, "geoms", [shape]) if "LineString" in g.geom_type]
    return sum(GEOD.geometry_length(g) for g in lines)


def _perimeter(shape: shapely.geometry.base.BaseGeometry) -> float:
    polygons = [g for g in getattr(shape, "geoms", [shape]) if g.geom_type == "Polygon"]
    return sum(GEOD.geometry_length(p.exterior) for p in polygons)


def _measure(shape: shapely.geometry.base.BaseGeometry) -> float:
    """The area of a polygonal result, else the length of a linear one, else 0."""
    return _area(shape) or _length(shape)


def _utm(shape: shapely.geometry.base.BaseGeometry) -> shapely.geometry.base.BaseGeometry:
    return shapely.transform(shape, lambda c: np.column_stack(TO_UTM.transform(c[:, 0], c[:, 1])))


METHODS = [
    "type",
    "geodesic",
    "edgesAreGeodesics",
    "isUnbounded",
    "projection",
    "coordinates",
    "getInfo",
    "geometries",
    "area",
    "length",
    "perimeter",
    "bounds",
    "centroid",
    "buffer",
    "convexHull",
    "dissolve",
    "simplify",
    "containedIn",
    "contains",
    "disjoint",
    "intersects",
    "difference",
    "intersection",
    "union",
    "symmetricDifference",
    "distance",
    "withinDistance",
]


# Methods whose result is a geometry with edges of the left operand's kind (bounds are a
# lon/lat rectangle, planar whatever the input).
GEOMETRIC_RESULTS = [
    "buffer",
    "convexHull",
    "dissolve",
    "simplify",
    "difference",
    "intersection",
    "union",
    "symmetricDifference",
]


def _compute(ee: Any, geometry: Any) -> list[Any]:
    """Each method called as its sample calls it (maxError=1, buffer 100 m, within 500 m)."""
    box = ee.Geometry.BBox(*RIGHT_BBOX)
    point = ee.Geometry.Point(RIGHT_POINT)
    return [
        geometry.type(),
        geometry.geodesic(),
        geometry.edgesAreGeodesics(),
        geometry.isUnbounded(),
        geometry.projection(),
        geometry.coordinates(),
        geometry,
        geometry.geometries(),
        geometry.area(maxError=1),
        geometry.length(),
        geometry.perimeter(maxError=1),
        geometry.bounds(),
        geometry.centroid(maxError=1),
        geometry.buffer(distance=100),
        geometry.convexHull(maxError=1),
        geometry.dissolve(maxError=1),
        geometry.simplify(maxError=1),
        geometry.containedIn(right=box, maxError=1),
        geometry.contains(right=box, maxError=1),
        geometry.disjoint(right=box, maxError=1),
        geometry.intersects(right=box, maxError=1),
        geometry.difference(right=box, maxError=1),
        geometry.intersection(right=box, maxError=1),
        geometry.union(right=box, maxError=1),
        geometry.symmetricDifference(right=box, maxError=1),
        geometry.distance(right=point, maxError=1),
        geometry.withinDistance(right=point, distance=500, maxError=1),
    ]


def _same(got: Any, want: Any) -> bool:
    """Nested coordinate lists equal within 1e-9 degrees."""
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(_same(g, w) for g, w in zip(got, want, strict=True))
        )
    return isinstance(got, float | int) and abs(got - want) <= 1e-9


def _compute_feature(ee: Any, geometry: Any) -> list[Any]:
    """The same calls on ee.Feature(geometry) (the Feature.* algorithms), with Feature operands;
    a Feature result is read as its geometry. The flags and constructors stay Geometry's."""
    feature = ee.Feature(geometry, {"name": "left"})
    box = ee.Feature(ee.Geometry.BBox(*RIGHT_BBOX))
    point = ee.Feature(ee.Geometry.Point(RIGHT_POINT))

    def geom(result: Any) -> Any:
        return ee.Feature(result).geometry()

    return [
        geometry.type(),
        geometry.geodesic(),
        geometry.edgesAreGeodesics(),
        geometry.isUnbounded(),
        geometry.projection(),
        geometry.coordinates(),
        feature.geometry(),
        geometry.geometries(),
        feature.area(maxError=1),
        feature.length(maxError=1),
        feature.perimeter(maxError=1),
        geom(feature.bounds(maxError=1)),
        geom(feature.centroid(maxError=1)),
        geom(feature.buffer(distance=100)),
        geom(feature.convexHull(maxError=1)),
        geom(feature.dissolve(maxError=1)),
        geom(feature.simplify(maxError=1)),
        feature.containedIn(right=box, maxError=1),
        feature.contains(right=box, maxError=1),
        feature.disjoint(right=box, maxError=1),
        feature.intersects(right=box, maxError=1),
        geom(feature.difference(right=box, maxError=1)),
        geom(feature.intersection(right=box, maxError=1)),
        geom(feature.union(right=box, maxError=1)),
        geom(feature.symmetricDifference(right=box, maxError=1)),
        feature.distance(right=point, maxError=1),
        feature.withinDistance(right=point, distance=500, maxError=1),
    ]


def _close(got: float, want: float, rel: float, abs_: float = 1e-6) -> bool:
    return math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def _check(name: str, got: dict[str, Any]) -> list[str]:
    """Every fact that does not hold, as 'ee_geometry_<name>_<method>.py: got ... want ...'."""
    type_name, geojson, geodesic = GEOMETRIES[name]
    shape = _shape(geojson)
    box = shapely.geometry.box(*RIGHT_BBOX)
    right_point = shapely.geometry.Point(RIGHT_POINT)
    coordinates = geojson["coordinates"]
    parts = list(getattr(shape, "geoms", [shape]))
    # The sample's two polygons overlap: as a set of points, the geometry is their union.
    covered = shapely.unary_union(parts) if is_polygonal(shape) else shape
    polygonal = is_polygonal(shape)
    facts: dict[str, tuple[bool, Any]] = {}

    def fact(method: str, ok: bool, want: Any) -> None:
        facts[method] = (ok, want)

    fact("type", got["type"] == type_name, type_name)
    fact("geodesic", got["geodesic"] is geodesic, geodesic)
    fact("edgesAreGeodesics", got["edgesAreGeodesics"] is geodesic, geodesic)
    fact("isUnbounded", got["isUnbounded"] is False, False)
    proj = got["projection"]
    fact(
        "projection",
        proj.get("crs") == "EPSG:4326" and proj.get("transform") == [1, 0, 0, 0, 1, 0],
        "EPSG:4326, identity transform",
    )
    fact("coordinates", _same(got["coordinates"], coordinates), coordinates)
    info = got["getInfo"]
    fact(
        "getInfo",
        info["type"] == type_name
        and _same(info["coordinates"], coordinates)
        and info.get("geodesic", True) is geodesic,
        {**geojson, "type": type_name, "geodesic": geodesic},
    )
    want_parts = [shapely.geometry.mapping(p)["type"] for p in parts]
    if name.startswith("linearring"):
        want_parts = ["LinearRing"]
    fact("geometries", [g["type"] for g in got["geometries"]] == want_parts, want_parts)
    fact("area", _close(got["area"], _area(shape), 2e-3), _area(shape))
    want_length = 0.0 if polygonal else _length(shape)
    fact("length", _close(got["length"], want_length, 2e-3), want_length)
    fact("perimeter", _close(got["perimeter"], _perimeter(shape), 2e-3), _perimeter(shape))
    bounds = _shape(got["bounds"]).bounds
    fact(
        "bounds",
        all(_close(a, b, 0, 1e-6) for a, b in zip(bounds, shape.bounds, strict=True)),
        shape.bounds,
    )
    # Lines are weighted by their length in metres, so the centroid is taken in UTM (a degree of
    # longitude is shorter than one of latitude here); at this size a geodesic centroid is
    # within ~1e-6 degrees of it.
    centroid = shapely.Point(FROM_UTM.transform(*_utm(shape).centroid.coords[0]))
    if not geodesic:
        # A planar geometry's centroid is taken in its own plane, lon/lat here (ADR 0023), of
        # the points it covers.
        centroid = covered.centroid
    fact(
        "centroid",
        got["centroid"]["type"] == "Point"
        and all(
            _close(a, b, 0, 1e-5)
            for a, b in zip(got["centroid"]["coordinates"], [centroid.x, centroid.y], strict=True)
        ),
        [centroid.x, centroid.y],
    )
    buffered = _utm(shape).buffer(100, quad_segs=64).area
    fact("buffer", _close(_utm(_shape(got["buffer"])).area, buffered, 1e-2), buffered)
    hull = shape.convex_hull
    fact(
        "convexHull",
        _shape(got["convexHull"]).geom_type == hull.geom_type
        and _close(_measure(_shape(got["convexHull"])), _measure(hull), 2e-3),
        shapely.geometry.mapping(hull),
    )
    # dissolve: "unions multi geometries" (the overlapping polygons become one).
    fact(
        "dissolve",
        _close(_measure(_shape(got["dissolve"])), _measure(covered), 2e-3),
        _measure(covered),
    )
    fact(
        "simplify",
        _close(_measure(_shape(got["simplify"])), _measure(shape), 2e-3),
        _measure(shape),
    )
    fact("containedIn", got["containedIn"] is covered.within(box), covered.within(box))
    fact("contains", got["contains"] is covered.contains(box), covered.contains(box))
    fact("disjoint", got["disjoint"] is covered.disjoint(box), covered.disjoint(box))
    fact("intersects", got["intersects"] is covered.intersects(box), covered.intersects(box))
    for method, op in (
        ("difference", covered.difference),
        ("intersection", covered.intersection),
        ("union", covered.union),
        ("symmetricDifference", covered.symmetric_difference),
    ):
        want = op(box)
        result = _shape(got[method])
        fact(method, _close(_measure(result), _measure(want), 2e-3, 1e-3), _measure(want))
    distance = _utm(shape).distance(_utm(right_point))
    fact("distance", _close(got["distance"], distance, 2e-3, 0.5), distance)
    fact("withinDistance", got["withinDistance"] is (distance <= 500), distance <= 500)
    # A geometric result keeps the left operand's edges: planar stays planar (ADR 0023).
    # Points have no edges, so a point's result takes the BBox operand's (planar) edges.
    for method in GEOMETRIC_RESULTS if shape.geom_type not in ("Point", "MultiPoint") else []:
        flag = got[method].get("geodesic", geodesic) if isinstance(got[method], dict) else None
        if flag is not geodesic:
            facts[f"{method} geodesic"] = (False, geodesic)
            got = {**got, f"{method} geodesic": flag}
    return [
        f"{_sample(name, method)}: got {got[method]!r}, want {want!r}"
        for method, (ok, want) in facts.items()
        if not ok
    ]


def _sample(name: str, method: str) -> str:
    kind, _, planar = name.partition(" ")
    return f"ee_geometry_{kind + '_' if kind else ''}{method.lower()}.py{' (planar)' if planar else ''}"


def test_geometry_samples(ee_api) -> None:
    ee = ee_api
    names = list(GEOMETRIES)
    values = ee.List([ee.List(_compute(ee, _construct(ee, n))) for n in names]).getInfo()
    mismatches = []
    for name, row in zip(names, values, strict=True):
        mismatches += _check(name, dict(zip(METHODS, row, strict=True)))
    assert not mismatches, "\n".join(mismatches)


def test_feature_methods_on_the_sample_geometries(ee_api) -> None:
    """The Feature.* twins of the Geometry methods on the same geometries agree with the same
    oracles (no Feature sample documents values; ee_feature_buffer.py reads a catalog table)."""
    ee = ee_api
    names = list(GEOMETRIES)
    values = ee.List([ee.List(_compute_feature(ee, _construct(ee, n))) for n in names]).getInfo()
    mismatches = []
    for name, row in zip(names, values, strict=True):
        mismatches += _check(name, dict(zip(METHODS, row, strict=True)))
    assert not mismatches, "\n".join(mismatches)


def test_line_cut_lines(ee_api) -> None:
    """ee_geometry_<line type>_cutlines.py: cutLines(distances=[10, 100], maxError=1) cuts each
    line at 10 m and 100 m along it, so a single line gives parts of 10 m, 90 m and the rest."""
    ee = ee_api
    names = ["linestring", "multilinestring", "linearring"]
    got = ee.List(
        [_construct(ee, n).cutLines(distances=[10, 100], maxError=1) for n in names]
    ).getInfo()
    for name, result in zip(names, got, strict=True):
        shape = _shape(GEOMETRIES[name][1])
        assert result["type"] == "MultiLineString", (name, result)
        lengths = [
            GEOD.geometry_length(shapely.geometry.LineString(c)) for c in result["coordinates"]
        ]
        want: list[float] = []
        for part in getattr(shape, "geoms", [shape]):
            total = GEOD.geometry_length(part)
            want += [10.0, 90.0, total - 100.0]
        assert lengths == pytest.approx(want, rel=2e-3, abs=0.05), name


def test_cut_lines_of_geometries_without_lines(ee_api) -> None:
    """ee-geometry-<type>-cutlines.js for point, multipoint, polygon, multipolygon, bbox and
    rectangle: "cutLines ... applies only to LineString, MultiLineString, and LinearRing
    geometries. All other geometry types result in an empty MultiLineString." """
    ee = ee_api
    names = ["point", "multipoint", "polygon", "multipolygon", "bbox", "rectangle", ""]
    got = ee.List(
        [_construct(ee, n).cutLines(distances=[10, 100], maxError=1) for n in names]
    ).getInfo()
    for name, result in zip(names, got, strict=True):
        assert result["type"] == "MultiLineString", (name, result)
        assert result["coordinates"] == [], (name, result)


def test_geojson_string_round_trip(ee_api) -> None:
    """ee_geometry_<type>_togeojsonstring.py: the string is the geometry's GeoJSON."""
    ee = ee_api
    # The client writes the string itself, for the geometries it built (not the planar ones,
    # whose constructor is a server call).
    for name in [n for n in GEOMETRIES if not n.endswith(" planar")]:
        geometry = _construct(ee, name)
        assert json.loads(geometry.toGeoJSONString())["type"] == GEOMETRIES[name][0]


def test_closest_points(ee_api) -> None:
    """ee_geometry_closestpoint.py: the closest points of the GeoJSON polygon and a rectangle to
    its east (left on the polygon, right on the rectangle), checked with shapely in UTM."""
    ee = ee_api
    east = [[-122.068, 37.418], [-122.068, 37.416], [-122.064, 37.416], [-122.064, 37.418]]
    left = _construct(ee, "")
    right = ee.Geometry.Polygon([east])
    got = ee.List(
        [left.closestPoints(right=right, maxError=1), left.closestPoint(right=right, maxError=1)]
    ).getInfo()
    a, b = shapely.ops.nearest_points(
        _utm(_shape(GEOMETRIES[""][1])), _utm(shapely.geometry.Polygon(east))
    )
    want_left, want_right = (FROM_UTM.transform(*p.coords[0]) for p in (a, b))
    assert got[0]["left"]["coordinates"] == pytest.approx(want_left, abs=1e-6)
    assert got[0]["right"]["coordinates"] == pytest.approx(want_right, abs=1e-6)
    assert got[1]["coordinates"] == pytest.approx(want_right, abs=1e-6)


def test_geometry_from_geojson_and_cast(ee_api) -> None:
    """ee_geometry.py: ee.Geometry accepts a GeoJSON object, and a geometry stored in a feature
    property, cast back with ee.Geometry, has its bounds."""
    ee = ee_api
    triangle = [[-122.085, 37.423], [-122.092, 37.424], [-122.085, 37.418], [-122.085, 37.423]]
    geojson = {"type": "Polygon", "coordinates": [triangle]}
    feature = ee.Feature(None, {"geom": ee.Geometry(geojson)})
    got = ee.List([ee.Geometry(geojson), ee.Geometry(feature.get("geom")).bounds()]).getInfo()
    assert got[0]["type"] == "Polygon" and _same(got[0]["coordinates"], [triangle])
    assert _shape(got[1]).bounds == pytest.approx((-122.092, 37.418, -122.085, 37.424), abs=1e-6)


def test_planar_bbox_is_computed_in_its_plane(ee_api) -> None:
    """ee_geometry_bbox_centroid.py, _bounds.py, _area.py with ADR 0023: a BBox is planar, so its
    centroid is the exact centre of its lon/lat rectangle and its bounds are its own corners
    (a geodesic reading moves the centroid north and widens the bounds)."""
    ee = ee_api
    bbox = ee.Geometry.BBox(*BBOX)
    got = ee.List([bbox.centroid(maxError=1), bbox.bounds(), bbox.area(maxError=1)]).getInfo()
    w, s, e, n = BBOX
    assert got[0]["coordinates"] == pytest.approx([(w + e) / 2, (s + n) / 2], abs=1e-9)
    assert _shape(got[1]).bounds == pytest.approx(BBOX, abs=1e-9)
    # The straight lon/lat edges, densified, on the ellipsoid.
    dense = shapely.segmentize(shapely.geometry.box(*BBOX), 1e-4)
    assert got[2] == pytest.approx(_area(dense), rel=1e-6)


def test_covering_grid_cell_ids(ee_api) -> None:
    """ee-geometry-coveringgrid.js: a 100 km buffer around (31.6, -8.54) covered by a 2**14 m grid
    in EPSG:32736 has a cell '18,551' (ids are 'column,row' of the grid in that CRS); that cell is
    the square [18, 19] x [551, 552] grid steps (pyproj puts the point at column 21, row 552)."""
    ee = ee_api
    scale = 2**14
    grid = (
        ee.Geometry.Point(31.6, -8.54).buffer(100000).coveringGrid(proj="EPSG:32736", scale=scale)
    )
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32736", always_xy=True).transform(31.6, -8.54)
    assert (int(x // scale), int(y // scale)) == (21, 552)
    ids, cell = ee.List(
        [
            grid.aggregate_array("system:index"),
            grid.filter(ee.Filter.eq("system:index", "18,551")).first().geometry(),
        ]
    ).getInfo()
    assert "18,551" in ids
    # The cell is a planar polygon in the grid's CRS.
    assert cell["crs"]["properties"]["name"] == "EPSG:32736" and cell["geodesic"] is False
    xs, ys = np.array(_shape(cell).exterior.coords).T
    assert (min(xs), max(xs)) == pytest.approx((18 * scale, 19 * scale), abs=0.01)
    assert (min(ys), max(ys)) == pytest.approx((551 * scale, 552 * scale), abs=0.01)


def test_constructors(ee_api) -> None:
    """ee-geometry-polygon.js: a polygon from GeoJSON coordinates with an interior ring ("matching
    the first vertex is optional"), from a LinearRing, and from a flat coordinate list;
    ee-geometry-rectangle.js: a rectangle from two corner points, from two ee.Geometry.Point,
    and from [xMin, yMin, xMax, yMax] is the same geometry."""
    ee = ee_api
    outer = [[100.0, 0.0], [103.0, 0.0], [103.0, 3.0], [100.0, 3.0], [100.0, 0.0]]
    inner = [[101.0, 1.0], [102.0, 2.0], [102.0, 1.0]]
    x0, y0, x1, y1 = -122.09, 37.42, -122.08, 37.43
    got = ee.List(
        [
            ee.Geometry.Polygon([outer, inner]),
            ee.Geometry.Polygon(
                [ee.Geometry.LinearRing([[105.0, 0.0], [108.0, 0.0], [108.0, 3.0]])]
            ),
            ee.Geometry.Polygon([110.0, 0.0, 113.0, 0.0, 110.0, 3.0]),
            ee.Geometry.Rectangle([[x0, y0], [x1, y1]]),
            ee.Geometry.Rectangle([ee.Geometry.Point(x0, y0), ee.Geometry.Point(x1, y1)]),
            ee.Geometry.Rectangle([x0, y0, x1, y1]),
            ee.Geometry.Point([-122.08412, 37.42189]),
        ]
    ).getInfo()
    assert got[0]["type"] == "Polygon"
    assert _same(got[0]["coordinates"], [outer, _closed(inner)])
    assert _same(got[1]["coordinates"], [[[105.0, 0.0], [108.0, 0.0], [108.0, 3.0], [105.0, 0.0]]])
    assert _same(got[2]["coordinates"], [[[110.0, 0.0], [113.0, 0.0], [110.0, 3.0], [110.0, 0.0]]])
    assert got[3] == got[4] == got[5]
    assert _same(got[3]["coordinates"], [_bbox_ring((x0, y0, x1, y1))])
    assert got[6] == {"type": "Point", "coordinates": [-122.08412, 37.42189]}
    # The interior ring is a hole: the area is the outer square's minus the triangle's.
    shape = _shape(got[0])
    assert _area(shape) == pytest.approx(
        _area(shapely.geometry.Polygon(outer)) - _area(shapely.geometry.Polygon(inner)), rel=1e-9
    )
