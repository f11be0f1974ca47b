"""Projection."""

from __future__ import annotations

from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError, UnimplementedError
from openee.values.projection import Projection, parse_crs


@algorithm("Projection")
def projection(
    crs: Any, transform: list[Any] | None = None, transformWkt: str | None = None
) -> Projection:
    """Returns a Projection with the given CRS and pixel-to-CRS transform.

    Args:
        crs: The CRS: an 'EPSG:n' code or WKT, or a Projection.
        transform: The affine transform [xScale, xShear, xOffset, yShear, yScale, yOffset].
        transformWkt: A transform as WKT; not supported.
    """
    if transformWkt is not None:
        raise UnimplementedError("Projection: transformWkt is not supported; use transform.")
    if isinstance(crs, Projection):
        return crs if transform is None else Projection.of(crs.crs, transform)
    if not isinstance(crs, str):
        raise InvalidArgumentError("Projection: crs must be a string such as 'EPSG:4326'.")
    if not crs.strip().upper().startswith("EPSG:"):
        # WKT that is exactly an EPSG definition is that code, as Earth Engine prints it
        # (ee_projection.py: the WKT of EPSG:27572 gives crs 'EPSG:27572').
        epsg = parse_crs(crs).to_epsg(min_confidence=100)
        if epsg is not None:
            crs = f"EPSG:{epsg}"
    return Projection.of(crs, transform)


@algorithm("Projection.atScale")
def at_scale(projection: Projection, meters: float) -> Projection:
    """Returns the projection scaled so that its nominal scale is `meters`.

    Args:
        projection: The projection.
        meters: The desired nominal scale in meters.
    """
    if meters <= 0:
        raise InvalidArgumentError("Projection.atScale: meters must be positive.")
    return projection.at_scale(meters)


@algorithm("Projection.nominalScale")
def nominal_scale(proj: Projection) -> float:
    """Returns the linear scale in meters of the units of the projection, at its true scale.

    Args:
        proj: The projection.
    """
    return proj.nominal_scale()


@algorithm("Projection.crs")
def projection_crs(projection: Projection) -> str:
    """Returns the CRS of the projection.

    Args:
        projection: The projection.
    """
    return projection.crs


@algorithm("Projection.scale")
def scale(projection: Projection, x: float, y: float) -> Projection:
    """Returns the projection with its pixels scaled by x and y (the transform times a scale).

    Args:
        projection: The projection.
        x: The factor along the x axis.
        y: The factor along the y axis.
    """
    a, b, c, d, e, f = projection.transform
    return Projection(projection.crs, (a * x, b * y, c, d * x, e * y, f))


@algorithm("Projection.translate")
def translate(projection: Projection, x: float, y: float) -> Projection:
    """Returns the projection with its pixel grid shifted by x and y pixels.

    The new transform is the old one after a translation of the pixel coordinates, so the
    origin moves by (x, y) pixels, i.e. by (a x + b y, d x + e y) in CRS units.

    Args:
        projection: The projection.
        x: The shift along the x axis, in pixels.
        y: The shift along the y axis, in pixels.
    """
    a, b, c, d, e, f = projection.transform
    return Projection(projection.crs, (a, b, c + a * x + b * y, d, e, f + d * x + e * y))


@algorithm("Projection.transform")
def projection_transform(projection: Projection) -> str:
    """Returns the pixel-to-CRS affine transform as WKT (an OGC 'Affine' PARAM_MT).

    Args:
        projection: The projection.
    """
    a, b, c, d, e, f = projection.transform
    names = ("elt_0_0", "elt_0_1", "elt_0_2", "elt_1_0", "elt_1_1", "elt_1_2")
    params = ", ".join(
        f'PARAMETER["{n}", {v!r}]' for n, v in zip(names, (a, b, c, d, e, f), strict=True)
    )
    return f'PARAM_MT["Affine", PARAMETER["num_row", 3], PARAMETER["num_col", 3], {params}]'


@algorithm("Projection.wkt")
def wkt(projection: Projection) -> str:
    """Returns the WKT (WKT1) of the projection's coordinate reference system.

    Args:
        projection: The projection.
    """
    return str(parse_crs(projection.crs).to_wkt("WKT1_GDAL"))
