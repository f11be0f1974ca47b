"""GeometryConstructors and Feature."""

from __future__ import annotations

from typing import Any

import shapely.affinity
import shapely.geometry

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.feature import Feature
from openee.values.geometry import WGS84, ErrorMargin, Geometry, _lists
from openee.values.projection import IDENTITY, Projection


def _build(
    kind: str,
    coordinates: Any,
    crs: Projection | None,
    geodesic: bool | None,
    inputs: tuple[Geometry, ...] = (),
) -> Geometry:
    """The geometry; `inputs` are the ee.Geometry objects the coordinates were given as, whose
    projection and geodesic state are the defaults (the constructors' documentation)."""
    try:
        shape = shapely.geometry.shape({"type": kind, "coordinates": coordinates})
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise InvalidArgumentError(f"Invalid {kind} coordinates: {exc}.") from None
    if crs is not None and crs.transform != IDENTITY:
        # Coordinates in a projection with a transform are in its units (pixels of a grid): the
        # stock client's Rectangle([0, 0, w, h], proj=image.projection()) for exports with
        # crs, crsTransform and dimensions is that grid's w x h block.
        t = crs.transform
        shape = shapely.affinity.affine_transform(shape, [t[0], t[1], t[3], t[4], t[2], t[5]])
    crs_code = crs.crs if crs is not None else inputs[0].crs if inputs else WGS84
    # Earth Engine geometries are geodesic by default in geographic coordinates only.
    if geodesic is None:
        geodesic = inputs[0].geodesic if inputs else crs_code == WGS84
    return Geometry(shape, crs_code, geodesic)


def _plain(coordinates: Any, crs: Projection | None) -> tuple[Any, tuple[Geometry, ...]]:
    """Coordinates with the ee.Geometry objects among them replaced by their coordinates (in
    `crs`, else in the first one's projection), and those geometries: a polygon from
    LinearRings, a rectangle from two Points (ee-geometry-polygon.js, ee-geometry-rectangle.js)."""
    inputs: list[Geometry] = []

    def find(value: Any) -> None:
        if isinstance(value, Geometry):
            inputs.append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                find(v)

    find(coordinates)
    if not inputs:
        return coordinates, ()
    target = crs.crs if crs is not None else inputs[0].crs

    def plain(value: Any) -> Any:
        if isinstance(value, Geometry):
            shape = value.transformed(target)
            return _lists(dict(shapely.geometry.mapping(shape)))["coordinates"]
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return plain(coordinates), tuple(inputs)


def _rings(coordinates: list[Any]) -> list[Any]:
    """A polygon given as one ring of points becomes a list of rings."""
    if (
        coordinates
        and isinstance(coordinates[0], list | tuple)
        and coordinates[0]
        and isinstance(coordinates[0][0], int | float)
    ):
        return [coordinates]
    return coordinates


@algorithm("GeometryConstructors.Point")
def point(coordinates: list[float], crs: Projection | None = None) -> Geometry:
    """Constructs a Point.

    Args:
        coordinates: The coordinates [x, y].
        crs: The projection of the coordinates. Default: EPSG:4326.
    """
    if len(coordinates) != 2:
        raise InvalidArgumentError("A Point needs exactly 2 coordinates.")
    return _build("Point", coordinates, crs, None)


@algorithm("GeometryConstructors.MultiPoint")
def multi_point(coordinates: list[Any], crs: Projection | None = None) -> Geometry:
    """Constructs a MultiPoint.

    Args:
        coordinates: A list of points [[x, y], ...].
        crs: The projection of the coordinates. Default: EPSG:4326.
    """
    coordinates, inputs = _plain(coordinates, crs)
    return _build("MultiPoint", coordinates, crs, None, inputs)


_LINE_ARGS_DOC = (
    "    crs: The projection of the coordinates. Default: EPSG:4326.\n"
    "    geodesic: Whether edges are geodesics. Default: true in EPSG:4326.\n"
    "    maxError: The tolerated error when reprojecting.\n"
)
_EVEN_ODD_DOC = "    evenOdd: Whether inner rings are holes by the even-odd rule.\n"


def _constructor(kind: str, summary: str, coordinates_doc: str) -> None:
    """Register GeometryConstructors.`kind`: coordinates (or ee.Geometry objects among them) in
    `crs`, with `geodesic` and `maxError`; polygonal kinds also take `evenOdd`."""

    def construct(
        coordinates: list[Any],
        crs: Projection | None = None,
        geodesic: bool | None = None,
        maxError: ErrorMargin | None = None,
    ) -> Geometry:
        coordinates, inputs = _plain(coordinates, crs)
        if kind == "Polygon":
            coordinates = _rings(coordinates)
        return _build(kind, coordinates, crs, geodesic, inputs)

    def construct_polygonal(
        coordinates: list[Any],
        crs: Projection | None = None,
        geodesic: bool | None = None,
        maxError: ErrorMargin | None = None,
        evenOdd: bool = True,
    ) -> Geometry:
        return construct(coordinates, crs, geodesic, maxError)

    polygonal = kind in ("Polygon", "MultiPolygon")
    func = construct_polygonal if polygonal else construct
    func.__doc__ = (
        f"{summary}\n\nArgs:\n    coordinates: {coordinates_doc}\n"
        + _LINE_ARGS_DOC
        + (_EVEN_ODD_DOC if polygonal else "")
    )
    algorithm(f"GeometryConstructors.{kind}")(func)


# kind: (description, the coordinates argument's doc)
CONSTRUCTORS = {
    "LineString": ("Constructs a LineString.", "A list of at least two points [[x, y], ...]."),
    "LinearRing": (
        "Constructs a LinearRing; the ring is closed if its last point is not its first.",
        "A list of points [[x, y], ...].",
    ),
    "MultiLineString": (
        "Constructs a MultiLineString.",
        "A list of lines, each a list of points.",
    ),
    "Polygon": (
        "Constructs a Polygon from rings: the exterior first, then holes.",
        "A list of rings, each a list of points; or a single ring.",
    ),
    "MultiPolygon": ("Constructs a MultiPolygon.", "A list of polygons, each a list of rings."),
}
for _kind, (_summary, _coordinates_doc) in CONSTRUCTORS.items():
    _constructor(_kind, _summary, _coordinates_doc)


@algorithm("GeometryConstructors.Rectangle")
def rectangle(
    coordinates: list[Any],
    crs: Projection | None = None,
    geodesic: bool | None = None,
    evenOdd: bool = True,
) -> Geometry:
    """Constructs a rectangular Polygon from two corners.

    Args:
        coordinates: [xmin, ymin, xmax, ymax], or two corner points [[x1, y1], [x2, y2]].
        crs: The projection of the coordinates. Default: EPSG:4326.
        geodesic: Whether edges are geodesics. Default: true in EPSG:4326.
        evenOdd: Whether inner rings are holes by the even-odd rule.
    """
    coordinates, inputs = _plain(coordinates, crs)
    flat = (
        [c for pt in coordinates for c in pt]
        if coordinates and isinstance(coordinates[0], list | tuple)
        else list(coordinates)
    )
    if len(flat) != 4 or not all(isinstance(c, int | float) for c in flat):
        raise InvalidArgumentError("A Rectangle needs [xmin, ymin, xmax, ymax].")
    x1, y1, x2, y2 = flat
    ring = [[x1, y2], [x1, y1], [x2, y1], [x2, y2], [x1, y2]]
    return _build("Polygon", [ring], crs, geodesic, inputs)


@algorithm("GeometryConstructors.BBox")
def bbox(west: float, south: float, east: float, north: float) -> Geometry:
    """Constructs a rectangle in EPSG:4326 from its west, south, east and north edges.

    Args:
        west: The western longitude.
        south: The southern latitude.
        east: The eastern longitude.
        north: The northern latitude.
    """
    if south > north:
        raise InvalidArgumentError("BBox: south must not exceed north.")
    ring = [[west, north], [west, south], [east, south], [east, north], [west, north]]
    return Geometry(shapely.geometry.Polygon(ring), WGS84, False)


@algorithm("Feature")
def feature(
    geometry: Geometry | None = None,
    metadata: dict[str, Any] = {},  # noqa: B006 - Earth Engine's default; never mutated
    geometryKey: str | None = None,
) -> Feature:
    """Constructs a Feature from a geometry and properties.

    Args:
        geometry: The geometry, or null.
        metadata: The properties.
        geometryKey: Unused; kept for Earth Engine compatibility.
    """
    return Feature(geometry, dict(metadata))
