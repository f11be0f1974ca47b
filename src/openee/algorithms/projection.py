"""Projection."""

from __future__ import annotations

from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError, UnimplementedError
from openee.values.projection import Projection


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
