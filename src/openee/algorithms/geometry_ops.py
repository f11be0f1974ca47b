"""Geometry: measures, predicates, set operations and constructions.

Where each is computed follows ADR 0023 (`openee.values.geometry_space`): in `proj`'s plane when
it is given (results in its units), in the plane of the geometries' CRS when they are all planar,
else on the WGS84 ellipsoid. On the ellipsoid, areas and lengths are geodesic (pyproj), predicates
and set operations are computed in lon/lat after densifying edges (along geodesics, or along the
straight lines of planar geometries), and metric constructions (buffer, simplify, centroid,
closest points) are planar in a local azimuthal equidistant projection. `maxError` is accepted
and ignored except by `simplify`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import shapely
import shapely.geometry
import shapely.ops
from shapely.geometry.base import BaseGeometry

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values import geodesy
from openee.values.geometry import WGS84, ErrorMargin, Geometry, _lists
from openee.values.geometry_space import (
    ELLIPSOID,
    Space,
    edges_as,
    metric_space_of,
    on_ellipsoid,
    relate,
    space_of,
)
from openee.values.projection import Projection


def _crs(proj: Projection | None) -> str | None:
    return proj.crs if proj is not None else None


def _safe(op: Any, *args: Any) -> Any:
    try:
        return op(*args)
    except shapely.errors.GEOSException as exc:
        raise InvalidArgumentError(f"Geometry operation failed: {exc}.") from None


_PROJ_DOC = (
    "    proj: The projection to work in. Default: the geometries' plane if all are planar, "
    "else the ellipsoid.\n"
)


# -- predicates --------------------------------------------------------------------------------


def _predicate(name: str, doc: str) -> None:
    def predicate(
        left: Geometry,
        right: Geometry,
        maxError: ErrorMargin | None = None,
        proj: Projection | None = None,
    ) -> bool:
        try:
            return relate(name, left, right, _crs(proj))
        except shapely.errors.GEOSException as exc:
            raise InvalidArgumentError(f"Geometry operation failed: {exc}.") from None

    predicate.__doc__ = (
        f"{doc}\n\nArgs:\n    left: The left geometry.\n    right: The right geometry.\n"
        "    maxError: The tolerated error of reprojection (ignored).\n" + _PROJ_DOC
    )
    algorithm(f"Geometry.{name}")(predicate)


PREDICATES = {
    "intersects": "Returns true if the geometries intersect.",
    "disjoint": "Returns true if the geometries are disjoint.",
    "contains": "Returns true if and only if the left geometry contains the right.",
    "containedIn": "Returns true if and only if the left geometry is contained in the right.",
}
for _name, _doc in PREDICATES.items():
    _predicate(_name, _doc)


# -- set operations ----------------------------------------------------------------------------


def _set_operation(name: str, op: Any, doc: str) -> None:
    def operation(
        left: Geometry,
        right: Geometry,
        maxError: ErrorMargin | None = None,
        proj: Projection | None = None,
    ) -> Geometry:
        space = space_of(left, right, proj_crs=_crs(proj))
        return space.result(_safe(op, space.shape(left), space.shape(right)), left)

    operation.__doc__ = (
        f"{doc}\n\nArgs:\n    left: The left geometry.\n    right: The right geometry.\n"
        "    maxError: The tolerated error of reprojection (ignored).\n" + _PROJ_DOC
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
    space = ELLIPSOID if spherical else metric_space_of(left, right, proj_crs=_crs(proj))
    if space.planar:
        return float(_safe(lambda a, b: a.distance(b), space.shape(left), space.shape(right)))
    a, b = on_ellipsoid(left), on_ellipsoid(right)
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
        proj: The projection to work in, giving the distance in its units. Default: metres in
            the geometries' projected plane if all are planar, else on the ellipsoid.
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
        proj: The projection to work in. Default: metres in the geometries' projected plane if
            all are planar, else on the ellipsoid.
    """
    return distance_between(left, right, proj) <= distance


def _closest(left: Geometry, right: Geometry, proj: Projection | None) -> tuple[Any, Any] | None:
    space = space_of(left, right, proj_crs=_crs(proj))
    a, b = space.shape(left), space.shape(right)
    if a.is_empty or b.is_empty:
        return None
    if space.planar:
        pa, pb = shapely.ops.nearest_points(a, b)
        return space.result(pa, left), space.result(pb, left)
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
        proj: The projection to work in. Default: the geometries' plane if all are planar,
            else a local plane on the ellipsoid.
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
        proj: The projection to work in. Default: the geometries' plane if all are planar,
            else a local plane on the ellipsoid.
    """
    found = _closest(left, right, proj)
    return None if found is None else {"left": found[0], "right": found[1]}


def _construct(
    geometry: Geometry,
    proj: Projection | None,
    op: Callable[[BaseGeometry, float], BaseGeometry],
    metric: bool,
) -> Geometry:
    """A shapely construction `op(shape, units)` in the geometry's space; `units` is metres
    (or proj units) per coordinate unit of the plane it runs in. Metric constructions of a
    geometry whose plane is in degrees run in a local metric plane on the ellipsoid."""
    space: Space = (metric_space_of if metric else space_of)(geometry, proj_crs=_crs(proj))
    if space.planar:
        return space.result(_safe(op, space.shape(geometry), space.scale), geometry)
    shape = on_ellipsoid(geometry)
    plane = geodesy.LocalPlane(shape)
    out = plane.to_lonlat(_safe(op, plane.to_plane(shape), 1.0))
    # Vertices kept from the input come back exactly, not with round-trip noise.
    out = shapely.snap(out, shape, 1e-9) if not out.is_empty else out
    return Geometry(out, WGS84, geometry.geodesic)


@algorithm("Geometry.buffer")
def buffer(
    geometry: Geometry,
    distance: float,
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
) -> Geometry:
    """Returns the input buffered by a distance; a negative distance shrinks it.

    Args:
        geometry: The geometry.
        distance: The buffer distance in metres (or proj units); may be negative.
        maxError: The tolerated error (ignored; curves have 32 segments per circle).
        proj: The projection to work in. Default: the geometry's projected plane if it is
            planar, else a local plane on the ellipsoid.
    """
    return _construct(geometry, proj, lambda s, u: s.buffer(distance / u, quad_segs=8), True)


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
    A geometry with no lines (points, polygons) gives an empty MultiLineString, as Earth Engine
    documents (ee-geometry-polygon-cutlines.js).

    Args:
        geometry: A LineString, MultiLineString or LinearRing; other types give no lines.
        distances: The distances along each line at which to cut it, in metres (or proj units).
        maxError: The tolerated error (ignored).
        proj: The projection to measure in. Default: the geometry's projected plane if it is
            planar, else metres in a local plane on the ellipsoid.
    """
    lines = [
        p for p in geodesy.parts(geometry.shape) if p.geom_type in ("LineString", "LinearRing")
    ]
    if not lines:
        return Geometry(shapely.geometry.MultiLineString(), geometry.crs, geometry.geodesic)
    # A mix of lines and other parts: Earth Engine documents no result for it.
    if len(lines) != len(list(geodesy.parts(geometry.shape))):
        raise InvalidArgumentError("Geometry.cutLines: the geometry must consist of lines.")

    def cut(shape: BaseGeometry, units: float) -> BaseGeometry:
        at = [d / units for d in distances]
        pieces = [
            piece
            for part in geodesy.parts(shape)
            for piece in _cut(shapely.geometry.LineString(part.coords), at)
        ]
        return shapely.geometry.MultiLineString(pieces)

    return _construct(geometry, proj, cut, True)


@algorithm("Geometry.centroid")
def centroid(
    geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
) -> Geometry:
    """Returns a point at the centre of the highest-dimension parts of the geometry.

    Args:
        geometry: The geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in, and of the result. Default: the geometry's plane if it
            is planar, else a local plane on the ellipsoid; the result is in EPSG:4326.
    """
    if geometry.shape.is_empty:
        raise InvalidArgumentError("Geometry.centroid: the geometry is empty.")
    return _construct(geometry, proj, lambda s, _: s.centroid, False)


@algorithm("Geometry.simplify")
def simplify(geometry: Geometry, maxError: ErrorMargin, proj: Projection | None = None) -> Geometry:
    """Simplifies the geometry to within a given error margin (Douglas-Peucker).

    Args:
        geometry: The geometry.
        maxError: The tolerated error, in metres (or in proj units if its unit is 'projected').
        proj: The projection to work in. Default: the geometry's projected plane if it is
            planar, else a local plane on the ellipsoid.
    """
    tolerance = maxError.value or 0.0
    # A 'projected' margin is already in the units of the plane the simplification runs in.
    projected = maxError.unit == "projected"
    return _construct(
        geometry,
        proj,
        lambda s, u: s.simplify(tolerance if projected else tolerance / u, preserve_topology=True),
        True,
    )


def _whole(geometry: Geometry, proj: Projection | None, op: Any) -> Geometry:
    """A construction from the whole shape, in the geometry's space (no local plane needed)."""
    space = space_of(geometry, proj_crs=_crs(proj))
    return space.result(_safe(op, space.shape(geometry)), geometry)


@algorithm("Geometry.convexHull")
def convex_hull(
    geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
) -> Geometry:
    """Returns the convex hull of the geometry.

    Args:
        geometry: The geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: the geometry's plane if it is planar, else
            lon/lat.
    """
    return _whole(geometry, proj, lambda s: s.convex_hull)


@algorithm("Geometry.dissolve")
def dissolve(
    geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
) -> Geometry:
    """Returns the union of the parts of the geometry (overlaps and shared edges merged).

    Args:
        geometry: The geometry.
        maxError: The tolerated error (ignored).
        proj: The projection to work in. Default: the geometry's plane if it is planar, else
            lon/lat.
    """
    return _whole(geometry, proj, lambda s: shapely.union_all(list(geodesy.parts(s))))


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
    shape = (
        space_of(geometry, proj_crs=proj.crs).shape(geometry)
        if proj is not None
        else on_ellipsoid(geometry)
    )
    if shape.is_empty:
        raise InvalidArgumentError("Geometry.bounds: the geometry is empty.")
    x0, y0, x1, y1 = shape.bounds
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return Geometry(shapely.geometry.Polygon(ring), proj.crs if proj else WGS84, False)


def measure(name: str, geometry: Geometry, proj: Projection | None = None) -> float:
    """'area' (square metres), 'length' or 'perimeter' (metres), or in proj units."""
    geodesic_fn, planar_fn, power, _ = MEASURES[name]
    space = metric_space_of(geometry, proj_crs=_crs(proj))
    if space.planar:
        return float(planar_fn(space.shape(geometry))) * space.scale**power
    return float(geodesic_fn(on_ellipsoid(geometry), True))


def _measure(name: str, doc: str) -> None:
    def measure_(
        geometry: Geometry, maxError: ErrorMargin | None = None, proj: Projection | None = None
    ) -> float:
        return measure(name, geometry, proj)

    measure_.__doc__ = (
        f"{doc}\n\nArgs:\n    geometry: The geometry.\n"
        "    maxError: The tolerated error (ignored).\n"
        "    proj: The projection to measure in, in its units. Default: metres in the "
        "geometry's projected plane if it is planar, else on the WGS84 ellipsoid.\n"
    )
    algorithm(f"Geometry.{name}")(measure_)


def _planar_length(shape: BaseGeometry) -> float:
    return sum(p.length for p in geodesy.parts(shape) if p.geom_type != "Polygon")


def _planar_perimeter(shape: BaseGeometry) -> float:
    return sum(p.length for p in geodesy.parts(shape) if p.geom_type == "Polygon")


# name -> (on the ellipsoid, in a plane, power of the unit, doc)
MEASURES: dict[str, tuple[Any, Any, int, str]] = {
    "area": (
        geodesy.area,
        lambda s: s.area,
        2,
        "Returns the area of the polygonal parts of the geometry, in square metres.",
    ),
    "length": (
        geodesy.length,
        _planar_length,
        1,
        "Returns the length of the linear parts of the geometry, in metres; polygons count 0.",
    ),
    "perimeter": (
        geodesy.perimeter,
        _planar_perimeter,
        1,
        "Returns the perimeter of the polygonal parts of the geometry, in metres.",
    ),
}
for _name, (*_, _doc) in MEASURES.items():
    _measure(_name, _doc)


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
        maxError: The tolerated error (ignored; vertices are transformed exactly, and edges whose
            meaning changes are densified first, every 5 km).
        geodesic: Whether the result's edges are geodesic. Default: true in EPSG:4326 if the
            input's are.
    """
    target = proj if isinstance(proj, Projection) else Projection.of(WGS84)
    geo = geodesic if geodesic is not None else (geometry.geodesic and target.crs == WGS84)
    try:
        shape = edges_as(geometry, target.crs, geo)
    except Exception as exc:  # pyproj raises several kinds for impossible transformations
        raise InvalidArgumentError(f"Geometry.transform failed: {exc}.") from None
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


# Earth Engine has two names for the same question.
@algorithm("Geometry.geodesic")
@algorithm("Geometry.edgesAreGeodesics")
def edges_are_geodesics(geometry: Geometry) -> bool:
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


INFINITE_METERS = 2.0e7


@algorithm("ErrorMargin")
def error_margin(value: float | None = None, unit: str = "meters") -> ErrorMargin:
    """Returns an ErrorMargin for geometric operations.

    Args:
        value: The maximum error, in the unit; required unless the unit is 'infinite'.
        unit: One of 'meters', 'projected' (units of the operation's projection) or 'infinite'.
    """
    if unit not in ("meters", "projected", "infinite"):
        raise InvalidArgumentError(f"ErrorMargin: unknown unit '{unit}'.")
    if unit == "infinite":
        return ErrorMargin(None, unit)
    if value is None:
        raise InvalidArgumentError("ErrorMargin: a value is required.")
    # A negative margin is its magnitude, and one of 2e7 metres or more (the Earth's half
    # circumference) is infinite (ee_errormargin.py: -1 -> 1, 1e8 -> infinite, 1e7 stays).
    value = abs(value)
    if unit == "meters" and value >= INFINITE_METERS:
        return ErrorMargin(None, "infinite")
    return ErrorMargin(value, unit)
