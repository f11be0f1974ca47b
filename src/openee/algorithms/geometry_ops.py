"""Geometry: measures, predicates, set operations and accessors (see `openee.values.geodesy`).

Without `proj`, geometries are handled on the WGS84 ellipsoid: areas and lengths are geodesic
(pyproj), predicates and set operations are computed in lon/lat after densifying geodesic edges,
and metric operations (buffer, distance, simplify, centroid) are planar in a local azimuthal
equidistant projection. With `proj`, everything is planar in that projection's CRS and the
results are in its units. `maxError` is accepted and ignored except by `simplify`.
"""

from __future__ import annotations

import itertools
from typing import Any

import shapely
import shapely.geometry
import shapely.ops
from shapely.geometry.base import BaseGeometry

from openee.algorithms.geometry import _build
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values import geodesy
from openee.values.geometry import WGS84, ErrorMargin, Geometry, _lists
from openee.values.projection import Projection


def lonlat(geometry: Geometry) -> BaseGeometry:
    """The shape in EPSG:4326, with long edges densified along geodesics when geodesic."""
    g = geometry.to_wgs84()
    return geodesy.densify(g.shape, g.geodesic) if g.geodesic else g.shape


def _planar(geometry: Geometry, proj: Projection) -> BaseGeometry:
    return geometry.transformed(proj.crs)


def _result(shape: BaseGeometry, like: Geometry, proj: Projection | None) -> Geometry:
    if proj is not None:
        return Geometry(shape, proj.crs, False)
    return Geometry(shape, WGS84, like.geodesic)


def _two(
    left: Geometry, right: Geometry, proj: Projection | None
) -> tuple[BaseGeometry, BaseGeometry]:
    if proj is not None:
        return _planar(left, proj), _planar(right, proj)
    return lonlat(left), lonlat(right)


def _safe(op: Any, *args: Any) -> Any:
    try:
        return op(*args)
    except shapely.errors.GEOSException as exc:
        raise InvalidArgumentError(f"Geometry operation failed: {exc}.") from None


# -- predicates --------------------------------------------------------------------------------


def _predicate(name: str, test: Any, doc: str) -> None:
    def predicate(
        left: Geometry,
        right: Geometry,
        maxError: ErrorMargin | None = None,
        proj: Projection | None = None,
    ) -> bool:
        a, b = _two(left, right, proj)
        return bool(_safe(test, a, b))

    predicate.__doc__ = (
        f"{doc}\n\nArgs:\n    left: The left geometry.\n    right: The right geometry.\n"
        "    maxError: The tolerated error of reprojection (ignored).\n"
        "    proj: The projection to work in. Default: the ellipsoid, in lon/lat.\n"
    )
    algorithm(f"Geometry.{name}")(predicate)


PREDICATES = {
    "intersects": (lambda a, b: a.intersects(b), "Returns true if the geometries intersect."),
    "disjoint": (lambda a, b: a.disjoint(b), "Returns true if the geometries are disjoint."),
    "contains": (
        lambda a, b: a.covers(b),
        "Returns true if and only if the left geometry contains the right.",
    ),
    "containedIn": (
        lambda a, b: b.covers(a),
        "Returns true if and only if the left geometry is contained in the right.",
    ),
}
for _name, (_test, _doc) in PREDICATES.items():
    _predicate(_name, _test, _doc)


# -- set operations ----------------------------------------------------------------------------


def _set_operation(name: str, op: Any, doc: str) -> None:
    def operation(
        left: Geometry,
        right: Geometry,
        maxError: ErrorMargin | None = None,
        proj: Projection | None = None,
    ) -> Geometry:
        a, b = _two(left, right, proj)
        return _result(_safe(op, a, b), left, proj)

    operation.__doc__ = (
        f"{doc}\n\nArgs:\n    left: The left geometry.\n    right: The right geometry.\n"
        "    maxError: The tolerated error of reprojection (ignored).\n"
        "    proj: The projection to work in. Default: the ellipsoid, in lon/lat.\n"
    )
    algorithm(f"Geometry.{name}")(operation)


SET_OPERATIONS = {
    "intersection": (
        lambda a, b: a.intersection(b),
        "Returns the intersection of the two geometries.",
    ),
    "union": (lambda a, b: a.union(b), "Returns the union of the two geometries."),
    "difference": (
        lambda a, b: a.difference(b),
        "Returns the left geometry minus the right geometry.",
    ),
    "symmetricDifference": (
        lambda a, b: a.symmetric_difference(b),
        "Returns the symmetric difference of the two geometries.",
    ),
}
for _name, (_op, _doc) in SET_OPERATIONS.items():
    _set_operation(_name, _op, _doc)


# -- metric operations -------------------------------------------------------------------------


def distance_between(
    left: Geometry, right: Geometry, proj: Projection | None, spherical: bool = False
) -> float:
    """The minimum distance in metres (or in proj units) between two geometries."""
    if proj is not None:
        a, b = _two(left, right, proj)
        return float(a.distance(b))
    a, b = lonlat(left), lonlat(right)
    if a.is_empty or b.is_empty:
        return 0.0
    if a.intersects(b):
        return 0.0
    plane = geodesy.LocalPlane(a, b)
    pa, pb = shapely.ops.nearest_points(plane.to_plane(a), plane.to_plane(b))
    # Measure the distance between the nearest points on the ellipsoid (or the sphere).
    na, nb = plane.to_lonlat(pa), plane.to_lonlat(pb)
    if spherical:
        return geodesy.spherical_distance((na.x, na.y), (nb.x, nb.y), SPHERE_RADIUS)
    _, _, meters = geodesy.GEOD.inv(na.x, na.y, nb.x, nb.y)
    return float(meters)


# The radius of Earth Engine's spherical computations (metres).
SPHERE_RADIUS = 6_378_137.0


@algorithm("Geometry.distance")
def distance(
    left: Geometry,
    right: Geometry,
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
    spherical: bool = False,
) -> float:
    """Returns the minimum distance between two geometries, in metres.

    Args:
        left: The left geometry.
        right: The right geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in, giving the distance in its units. Default: metres on
            the ellipsoid.
        spherical: If true, measure on a sphere of radius 6378137 m instead of the ellipsoid.
    """
    return distance_between(left, right, proj, spherical)


@algorithm("Geometry.withinDistance")
def within_distance(
    left: Geometry,
    right: Geometry,
    distance: float,
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
) -> bool:
    """Returns true if the geometries are within a specified distance of each other.

    Args:
        left: The left geometry.
        right: The right geometry.
        distance: The distance threshold, in metres (or proj units).
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: metres on the ellipsoid.
    """
    return distance_between(left, right, proj) <= distance


def _closest(left: Geometry, right: Geometry, proj: Projection | None) -> tuple[Any, Any] | None:
    a, b = _two(left, right, proj)
    if a.is_empty or b.is_empty:
        return None
    if proj is not None:
        pa, pb = shapely.ops.nearest_points(a, b)
        return Geometry(pa, proj.crs, False), Geometry(pb, proj.crs, False)
    plane = geodesy.LocalPlane(a, b)
    pa, pb = shapely.ops.nearest_points(plane.to_plane(a), plane.to_plane(b))
    return Geometry(plane.to_lonlat(pa)), Geometry(plane.to_lonlat(pb))


@algorithm("Geometry.closestPoint")
def closest_point(
    left: Geometry,
    right: Geometry,
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
) -> Any:
    """Returns the point on the right geometry that is nearest to the left; null if one is empty.

    Args:
        left: The geometry to measure from.
        right: The geometry whose nearest point is returned.
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: a local plane on the ellipsoid.
    """
    found = _closest(left, right, proj)
    return None if found is None else found[1]


@algorithm("Geometry.closestPoints")
def closest_points(
    left: Geometry,
    right: Geometry,
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
) -> Any:
    """Returns {'left': point, 'right': point}: the nearest points of each geometry to the other.

    Args:
        left: The left geometry.
        right: The right geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: a local plane on the ellipsoid.
    """
    found = _closest(left, right, proj)
    return None if found is None else {"left": found[0], "right": found[1]}


def _in_plane(geometry: Geometry, proj: Projection | None, op: Any) -> Geometry:
    """Apply a planar shapely op in proj, or in a local metric plane, and come back."""
    if proj is not None:
        return Geometry(_safe(op, _planar(geometry, proj)), proj.crs, False)
    shape = lonlat(geometry)
    plane = geodesy.LocalPlane(shape)
    out = plane.to_lonlat(_safe(op, plane.to_plane(shape)))
    # Vertices kept from the input come back exactly, not with round-trip noise.
    out = shapely.snap(out, shape, 1e-9) if not out.is_empty else out
    return Geometry(out, WGS84, geometry.to_wgs84().geodesic)


@algorithm("Geometry.buffer")
def buffer(
    geometry: Geometry,
    distance: float,
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
) -> Geometry:
    """Returns the input buffered by a distance; a negative distance shrinks it.

    Computed in a local azimuthal equidistant projection centred on the geometry.

    Args:
        geometry: The geometry.
        distance: The buffer distance in metres (or proj units); may be negative.
        maxError: The tolerated error (ignored; curves have 32 segments per circle).
        proj: The projection to work in. Default: a local plane on the ellipsoid.
    """
    return _in_plane(geometry, proj, lambda s: s.buffer(distance, quad_segs=8))


def _cut(line: BaseGeometry, distances: list[float]) -> list[BaseGeometry]:
    """A line cut at the given distances along it (in its units), in order."""
    cuts = sorted({0.0, line.length, *[d for d in distances if 0 < d < line.length]})
    return [shapely.ops.substring(line, a, b) for a, b in itertools.pairwise(cuts)]


@algorithm("Geometry.cutLines")
def cut_lines(
    geometry: Geometry,
    distances: list[float],
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
) -> Geometry:
    """Cuts the lines of a geometry at distances along each line, into a MultiLineString.

    Args:
        geometry: A LineString, MultiLineString or LinearRing.
        distances: The distances along each line at which to cut it, in metres (or proj units).
        maxError: The tolerated error (ignored).
        proj: The projection to measure in. Default: metres in a local plane on the ellipsoid.
    """
    lines = [
        p for p in geodesy.parts(geometry.shape) if p.geom_type in ("LineString", "LinearRing")
    ]
    if len(lines) != len(list(geodesy.parts(geometry.shape))):
        raise InvalidArgumentError("Geometry.cutLines: the geometry must consist of lines.")

    def cut(shape: BaseGeometry) -> BaseGeometry:
        pieces = [
            piece
            for part in geodesy.parts(shape)
            for piece in _cut(shapely.geometry.LineString(part.coords), distances)
        ]
        return shapely.geometry.MultiLineString(pieces)

    return _in_plane(geometry, proj, cut)


@algorithm("Geometry.centroid")
def centroid(
    geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
) -> Geometry:
    """Returns a point at the centre of the highest-dimension parts of the geometry.

    Args:
        geometry: The geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: a local plane on the ellipsoid.
    """
    if geometry.shape.is_empty:
        raise InvalidArgumentError("Geometry.centroid: the geometry is empty.")
    return _in_plane(geometry, proj, lambda s: s.centroid)


@algorithm("Geometry.simplify")
def simplify(geometry: Geometry, maxError: ErrorMargin, proj: Projection | None = None) -> Geometry:
    """Simplifies the geometry to within a given error margin (Douglas-Peucker).

    Args:
        geometry: The geometry.
        maxError: The tolerated error, in metres (or in proj units if its unit is 'projected').
        proj: The projection to work in. Default: a local plane on the ellipsoid.
    """
    tolerance = maxError.value or 0.0
    return _in_plane(geometry, proj, lambda s: s.simplify(tolerance, preserve_topology=True))


@algorithm("Geometry.convexHull")
def convex_hull(
    geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
) -> Geometry:
    """Returns the convex hull of the geometry.

    Args:
        geometry: The geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: lon/lat.
    """
    shape = _planar(geometry, proj) if proj is not None else lonlat(geometry)
    return _result(_safe(lambda s: s.convex_hull, shape), geometry, proj)


@algorithm("Geometry.dissolve")
def dissolve(
    geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
) -> Geometry:
    """Returns the union of the parts of the geometry (overlaps and shared edges merged).

    Args:
        geometry: The geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: lon/lat.
    """
    shape = _planar(geometry, proj) if proj is not None else lonlat(geometry)
    return _result(_safe(shapely.union_all, list(geodesy.parts(shape))), geometry, proj)


@algorithm("Geometry.bounds")
def bounds(
    geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
) -> Geometry:
    """Returns the bounding rectangle of the geometry (a planar polygon).

    Args:
        geometry: The geometry.
        maxError: The tolerated error (ignored).
        proj: The projection of the rectangle. Default: EPSG:4326.
    """
    shape = _planar(geometry, proj) if proj is not None else lonlat(geometry)
    if shape.is_empty:
        raise InvalidArgumentError("Geometry.bounds: the geometry is empty.")
    x0, y0, x1, y1 = shape.bounds
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return Geometry(shapely.geometry.Polygon(ring), proj.crs if proj else WGS84, False)


def _measure(name: str, fn: Any, planar: Any, doc: str) -> None:
    def measure(
        geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
    ) -> float:
        if proj is not None:
            return float(planar(_planar(geometry, proj)))
        g = geometry.to_wgs84()
        return float(fn(g.shape, g.geodesic))

    measure.__doc__ = (
        f"{doc}\n\nArgs:\n    geometry: The geometry.\n"
        "    maxError: The tolerated error (ignored).\n"
        "    proj: The projection to measure in, in its units. Default: metres on the WGS84 "
        "ellipsoid.\n"
    )
    algorithm(f"Geometry.{name}")(measure)


def _planar_length(shape: BaseGeometry) -> float:
    return sum(p.length for p in geodesy.parts(shape) if p.geom_type != "Polygon")


def _planar_perimeter(shape: BaseGeometry) -> float:
    return sum(p.length for p in geodesy.parts(shape) if p.geom_type == "Polygon")


MEASURES = {
    "area": (
        geodesy.area,
        lambda s: s.area,
        "Returns the area of the polygonal parts of the geometry, in square metres.",
    ),
    "length": (
        geodesy.length,
        _planar_length,
        "Returns the length of the linear parts of the geometry, in metres; polygons count 0.",
    ),
    "perimeter": (
        geodesy.perimeter,
        _planar_perimeter,
        "Returns the perimeter of the polygonal parts of the geometry, in metres.",
    ),
}
for _name, (_fn, _planar_fn, _doc) in MEASURES.items():
    _measure(_name, _fn, _planar_fn, _doc)


# -- accessors and conversion ------------------------------------------------------------------

# Earth Engine's default projection argument, as JSON (coerced to a Projection on the way in).
WGS84_PROJECTION: Any = {
    "crs": "EPSG:4326",
    "transform": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    "type": "Projection",
}


@algorithm("Geometry.transform")
def transform(
    geometry: Geometry,
    proj: Projection = WGS84_PROJECTION,
    maxError: ErrorMargin | None = None,
    geodesic: bool | None = None,
) -> Geometry:
    """Transforms the geometry to a projection.

    Args:
        geometry: The geometry.
        proj: The target projection. Default: EPSG:4326.
        maxError: The tolerated error (ignored; vertices are transformed exactly).
        geodesic: Whether the result's edges are geodesic. Default: true in EPSG:4326 if the
            input's are.
    """
    target = proj if isinstance(proj, Projection) else Projection.of(WGS84)
    try:
        shape = geometry.transformed(target.crs)
    except Exception as exc:  # pyproj raises several kinds for impossible transformations
        raise InvalidArgumentError(f"Geometry.transform failed: {exc}.") from None
    geo = geodesic if geodesic is not None else (geometry.geodesic and target.crs == WGS84)
    return Geometry(shape, target.crs, geo)


def _coordinates(shape: BaseGeometry) -> Any:
    if shape.geom_type == "GeometryCollection":
        return [_coordinates(g) for g in shape.geoms]
    return _lists(shapely.geometry.mapping(shape)["coordinates"])


@algorithm("Geometry.coordinates")
def coordinates(geometry: Geometry) -> list[Any]:
    """Returns the GeoJSON coordinates of the geometry.

    Args:
        geometry: The geometry.
    """
    return list(_coordinates(geometry.shape))


@algorithm("Geometry.type")
def type_(geometry: Geometry) -> str:
    """Returns the GeoJSON type of the geometry.

    Args:
        geometry: The geometry.
    """
    return str(geometry.shape.geom_type)


@algorithm("Geometry.geometries")
def geometries(geometry: Geometry) -> list[Geometry]:
    """Returns the list of geometries of a multi-geometry; a single geometry gives itself.

    Args:
        geometry: The geometry.
    """
    shape = geometry.shape
    if hasattr(shape, "geoms"):
        return [Geometry(g, geometry.crs, geometry.geodesic) for g in shape.geoms]
    return [geometry]


@algorithm("Geometry.edgesAreGeodesics")
def edges_are_geodesics(geometry: Geometry) -> bool:
    """Returns true if the geometry's edges are geodesics, false if they are straight lines.

    Args:
        geometry: The geometry.
    """
    return geometry.geodesic


@algorithm("Geometry.geodesic")
def geodesic(geometry: Geometry) -> bool:
    """Returns true if the geometry's edges are geodesics, false if they are straight lines.

    Args:
        geometry: The geometry.
    """
    return geometry.geodesic


@algorithm("Geometry.isUnbounded")
def is_unbounded(geometry: Geometry) -> bool:
    """Returns true if the geometry is unbounded (never, for geometries built from coordinates).

    Args:
        geometry: The geometry.
    """
    return False


@algorithm("Geometry.projection")
def projection(geometry: Geometry) -> Projection:
    """Returns the projection of the geometry's coordinates.

    Args:
        geometry: The geometry.
    """
    return Projection.of(geometry.crs)


# -- more constructors -------------------------------------------------------------------------


@algorithm("GeometryConstructors.LinearRing")
def linear_ring(
    coordinates: list[Any],
    crs: Projection | None = None,
    geodesic: bool | None = None,
    maxError: ErrorMargin | None = None,
) -> Geometry:
    """Constructs a LinearRing; the ring is closed if its last point is not its first.

    Args:
        coordinates: A list of points [[x, y], ...].
        crs: The projection of the coordinates. Default: EPSG:4326.
        geodesic: Whether edges are geodesics. Default: true in EPSG:4326.
        maxError: The tolerated error when reprojecting.
    """
    return _build("LinearRing", coordinates, crs, geodesic)


@algorithm("GeometryConstructors.MultiLineString")
def multi_line_string(
    coordinates: list[Any],
    crs: Projection | None = None,
    geodesic: bool | None = None,
    maxError: ErrorMargin | None = None,
) -> Geometry:
    """Constructs a MultiLineString.

    Args:
        coordinates: A list of lines, each a list of points.
        crs: The projection of the coordinates. Default: EPSG:4326.
        geodesic: Whether edges are geodesics. Default: true in EPSG:4326.
        maxError: The tolerated error when reprojecting.
    """
    return _build("MultiLineString", coordinates, crs, geodesic)


@algorithm("GeometryConstructors.MultiGeometry")
def multi_geometry(
    geometries: list[Geometry],
    crs: Projection | None = None,
    geodesic: bool | None = None,
    maxError: ErrorMargin | None = None,
) -> Geometry:
    """Constructs a GeometryCollection from a list of geometries.

    Args:
        geometries: The geometries.
        crs: The projection of the result. Default: EPSG:4326.
        geodesic: Whether edges are geodesics. Default: true in EPSG:4326.
        maxError: The tolerated error when reprojecting.
    """
    target = crs.crs if crs is not None else WGS84
    shapes = []
    for g in geometries:
        if not isinstance(g, Geometry):
            raise InvalidArgumentError("MultiGeometry: every element must be a geometry.")
        shapes.append(g.transformed(target))
    geo = geodesic if geodesic is not None else target == WGS84
    return Geometry(shapely.geometry.GeometryCollection(shapes), target, geo)


@algorithm("ErrorMargin")
def error_margin(value: float | None = None, unit: str = "meters") -> ErrorMargin:
    """Returns an ErrorMargin for geometric operations.

    Args:
        value: The maximum error, in the unit; required unless the unit is 'infinite'.
        unit: One of 'meters', 'projected' (units of the operation's projection) or 'infinite'.
    """
    if unit not in ("meters", "projected", "infinite"):
        raise InvalidArgumentError(f"ErrorMargin: unknown unit '{unit}'.")
    if value is None and unit != "infinite":
        raise InvalidArgumentError("ErrorMargin: a value is required.")
    return ErrorMargin(value, unit)
