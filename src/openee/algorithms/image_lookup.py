"""Image value lookups: remap (a table), polynomial and interpolate (a piecewise-linear function).
Kernels live in `openee.raster.lookup`."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image
from openee.raster.lookup import (
    INTERPOLATE_BEHAVIORS,
    InterpolatedBand,
    PolynomialBand,
    RemappedBand,
    table_dtype,
)


def _numbers(values: list[Any], what: str) -> tuple[float, ...]:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InvalidArgumentError(f"{what} must be a list of numbers, got {v!r}.")
    return tuple(float(v) for v in values)


@algorithm("Image.remap")
def remap(
    image: Image,
    from_: list[Any],
    to: list[Any],
    defaultValue: Any = None,
    bandName: str | None = None,
) -> Image:
    """Maps input values to output values given as two parallel lists; values not in the input
    list become defaultValue if given, and are masked otherwise. The output band is 'remapped'.

    Args:
        image: The image to which the remapping is applied.
        from_: The source values; floating-point values may fail to match by precision.
        to: The destination values, one per source value.
        defaultValue: The value for pixels that match no source value. Default: masked.
        bandName: The band to remap. Default: the first band.
    """
    if len(from_) != len(to):
        raise InvalidArgumentError(
            f"'from' and 'to' differ in length ({len(from_)} and {len(to)})."
        )
    keys = _numbers(from_, "'from'")
    values = _numbers(to, "'to'")
    default = None
    if defaultValue is not None:
        default = _numbers([defaultValue], "defaultValue")[0]
    if bandName is not None:
        band = image.band(bandName)
    elif image.bands:
        band = image.bands[0]
    else:
        raise InvalidArgumentError("the image has no bands.")
    extra = [] if defaultValue is None else [defaultValue]
    integral = all(isinstance(v, int) for v in [*to, *extra])
    dtype = table_dtype(values, default, integral)
    source = RemappedBand(band.source, keys, values, default, dtype.name)
    return replace(image, bands=(Band("remapped", source, band.projection, band.dimensions),))


@algorithm("Image.polynomial")
def polynomial(image: Image, coefficients: list[float]) -> Image:
    """Computes a polynomial of each band at each pixel, as doubles; band names are kept.

    Args:
        image: The input image.
        coefficients: The coefficients in increasing order of degree, constant term first.
    """
    if not coefficients:
        raise InvalidArgumentError("the list of coefficients is empty.")
    coeffs = _numbers(coefficients, "coefficients")
    return image.map_bands(lambda b: replace(b, source=PolynomialBand(b.source, coeffs)))


@algorithm("Image.interpolate")
def interpolate(
    image: Image, x: list[float], y: list[float], behavior: str = "extrapolate"
) -> Image:
    """Maps the first band of the image through the piecewise-linear function through the
    points (x, y); the band keeps its name and becomes double.

    Args:
        image: The image; its first band is interpolated.
        x: The x values of the function's points, strictly increasing.
        y: The y values of the function's points, one per x value.
        behavior: Outside [x[0], x[-1]]: 'extrapolate' (the end segments continue), 'clamp'
            (the end values), 'input' (the input value) or 'mask'.
    """
    xs, ys = _numbers(x, "x"), _numbers(y, "y")
    if len(xs) != len(ys) or not xs:
        raise InvalidArgumentError(
            f"x and y must be non-empty and of equal length ({len(xs)} and {len(ys)})."
        )
    if any(b <= a for a, b in itertools.pairwise(xs)) or not all(map(math.isfinite, xs)):
        raise InvalidArgumentError("x values must be strictly increasing.")
    if behavior not in INTERPOLATE_BEHAVIORS:
        raise InvalidArgumentError(
            f"invalid behavior '{behavior}': use one of {', '.join(INTERPOLATE_BEHAVIORS)}."
        )
    if not image.bands:
        raise InvalidArgumentError("the image has no bands.")
    first = image.bands[0]
    band = replace(first, source=InterpolatedBand(first.source, xs, ys, behavior))
    return replace(image, bands=(band,))
