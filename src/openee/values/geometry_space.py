"""Where a geometry operation is computed: in a plane, or on the ellipsoid (ADR 0023).

Earth Engine's geometries are geodesic (edges follow great circles) or planar (edges are straight
lines in the geometry's CRS). An operation is computed
- in `proj`'s plane when the caller gives `proj` (results in its units);
- in the plane of the (first) geometry's CRS when every operand with edges is planar (points have
  no edges, so their flag does not count): a planar rectangle's centroid is its centre; lengths
  and areas are converted to metres when the CRS is projected;
- on the ellipsoid otherwise; a planar operand then enters with its straight edges followed
  (densified), never re-read as geodesics.
Metric quantities (areas, lengths, distances, buffers) cannot be taken in degrees, so for a planar
geometry in a geographic CRS they are measured on the ellipsoid along its straight edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from openee.values import geodesy
from openee.values.geometry import WGS84, Geometry

# Spacing (metres) of the vertices inserted along a projected planar edge taken to lon/lat.
_SPACING_M = 5_000.0


@lru_cache(maxsize=64)
def metres_per_unit(crs: str) -> float | None:
    """Metres per coordinate unit of a projected CRS; None for a geographic one (degrees)."""
    parsed = CRS.from_user_input(crs)
    if not parsed.is_projected:
        return None
    return float(parsed.axis_info[0].unit_conversion_factor)


@dataclass(frozen=True)
class Space:
    """A plane (`crs`, with `units`: metres per unit, None for degrees) or the ellipsoid."""

    crs: str | None
    units: float | None = None
    # Whether quantities come out in metres (no `proj`) or in the plane's own units (`proj`).
    in_metres: bool = True

    @property
    def planar(self) -> bool:
        return self.crs is not None

    @property
    def metric(self) -> bool:
        """Whether lengths in metres can be taken in this plane."""
        return self.crs is not None and (not self.in_metres or self.units is not None)

    @property
    def scale(self) -> float:
        """Metres (or proj units) per coordinate unit of the plane."""
        return 1.0 if not self.in_metres or self.units is None else self.units

    def shape(self, geometry: Geometry) -> BaseGeometry:
        """The geometry's shape in this space: plane coordinates, or lon/lat densified."""
        if self.crs is None:
            return point_set(on_ellipsoid(geometry))
        if geometry.crs == self.crs and not geometry.geodesic:
            return point_set(geometry.shape)
        source = on_ellipsoid(geometry) if geometry.geodesic else _segmentized(geometry)
        shape = Geometry(source, WGS84 if geometry.geodesic else geometry.crs).transformed(self.crs)
        return point_set(shape)

    def result(self, shape: BaseGeometry, like: Geometry) -> Geometry:
        """A geometric result: in `proj` if given, else in EPSG:4326 (planar if computed so)."""
        if self.crs is None:
            return Geometry(shape, WGS84, like.geodesic)
        if not self.in_metres:
            return Geometry(shape, self.crs, False)
        # Straight edges in the plane stay straight there: densified on the way to lon/lat.
        return Geometry(in_crs(Geometry(shape, self.crs, False), WGS84), WGS84, False)


ELLIPSOID = Space(None)


def point_set(shape: BaseGeometry) -> BaseGeometry:
    """The shape as the set of points it covers, valid for GEOS: the parts of a multi-polygon
    may overlap (Earth Engine's own samples build one, ee_geometry_multipolygon_*.py, and run
    every operation on it), which GEOS rejects ("side location conflict"); such parts are
    joined into their union."""
    if shape.is_valid or shape.geom_type not in ("Polygon", "MultiPolygon"):
        return shape
    parts = getattr(shape, "geoms", [shape])
    return shapely.unary_union([shapely.make_valid(p) for p in parts])


def space_of(*geometries: Geometry, proj_crs: str | None = None) -> Space:
    """The space an operation on these geometries is computed in (see the module doc)."""
    if proj_crs is not None:
        return Space(proj_crs, metres_per_unit(proj_crs), in_metres=False)
    # Points have no edges: their flag does not decide (a point and a planar polygon are planar).
    edged = [g for g in geometries if not _pointlike(g)]
    if edged and all(not g.geodesic for g in edged):
        crs = edged[0].crs
        return Space(crs, metres_per_unit(crs))
    return ELLIPSOID


def _pointlike(geometry: Geometry) -> bool:
    return all(p.geom_type == "Point" for p in geodesy.parts(geometry.shape))


def metric_space_of(*geometries: Geometry, proj_crs: str | None = None) -> Space:
    """As `space_of`, but the ellipsoid where the plane's units are degrees (no metres there)."""
    found = space_of(*geometries, proj_crs=proj_crs)
    return found if found.crs is None or found.metric else ELLIPSOID


def on_ellipsoid(geometry: Geometry) -> BaseGeometry:
    """The shape in lon/lat with its edges followed: geodesics, or straight lines in its CRS."""
    if geometry.geodesic:
        g = geometry.to_wgs84()
        return geodesy.densify(g.shape, geodesic=True)
    if geometry.crs == WGS84:
        return geodesy.densify(geometry.shape, geodesic=False)
    return Geometry(_segmentized(geometry), geometry.crs).transformed(WGS84)


def in_crs(geometry: Geometry, crs: str) -> BaseGeometry:
    """The shape in another CRS as straight edges there, its own edges followed (densified)."""
    return Space(crs).shape(geometry)


def edges_as(geometry: Geometry, crs: str, geodesic: bool) -> BaseGeometry:
    """The shape in `crs` for a result whose edges are read as geodesic or not: vertices are
    moved as they are while the edges keep their meaning, else the edges are densified first."""
    if geodesic == geometry.geodesic and (geodesic or crs == geometry.crs):
        return geometry.transformed(crs)
    if geodesic:
        return Geometry(on_ellipsoid(geometry)).transformed(crs)
    return in_crs(geometry, crs)


def _segmentized(geometry: Geometry) -> BaseGeometry:
    """A planar shape with vertices inserted along long edges, so they survive reprojection."""
    units = metres_per_unit(geometry.crs)
    if geometry.crs == WGS84 or units is None:
        return geodesy.densify(geometry.shape, geodesic=False)
    if geometry.shape.is_empty:
        return geometry.shape
    return shapely.segmentize(geometry.shape, _SPACING_M / units)


def relate(op: str, left: Geometry, right: Geometry, proj_crs: str | None = None) -> bool:
    """A spatial predicate ('intersects', 'disjoint', 'contains', 'containedIn') in its space."""
    space = space_of(left, right, proj_crs=proj_crs)
    a, b = space.shape(left), space.shape(right)
    if op == "intersects":
        return bool(a.intersects(b))
    if op == "disjoint":
        return bool(a.disjoint(b))
    if op == "contains":
        return bool(a.covers(b))
    if op == "containedIn":
        return bool(b.covers(a))
    raise ValueError(f"unknown spatial predicate {op}")
