"""PixelType: the constructor, the named types and the accessors (ADR 0032)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from openee.algorithms.registry import algorithm
from openee.values.pixel_type import PixelType


@algorithm("PixelType")
def pixel_type(
    precision: object,
    minValue: float | None = None,
    maxValue: float | None = None,
    dimensions: int = 0,
) -> PixelType:
    """Returns a PixelType of the given precision with the given limits per element, and an
    optional dimensionality.

    Args:
        precision: The pixel precision, one of 'int', 'float', or 'double'.
        minValue: The minimum value of pixels of this type. If precision is 'float' or
            'double', this can be null, signifying negative infinity.
        maxValue: The maximum value of pixels of this type. If precision is 'float' or
            'double', this can be null, signifying positive infinity.
        dimensions: The number of dimensions in which pixels of this type can vary; 0 is a
            scalar, 1 is a vector, 2 is a matrix, etc.
    """
    # The stock client wraps every PixelType-returning call in this constructor (its
    # promoter), so a PixelType given as the precision is the type itself.
    if isinstance(precision, PixelType):
        return precision
    return PixelType.make(precision, minValue, maxValue, dimensions)


def _named(name: str, dtype: str) -> None:
    def make() -> PixelType:
        return PixelType.of_dtype(np.dtype(dtype))

    make.__doc__ = f"Returns the {dtype} PixelType."
    algorithm(f"PixelType.{name}")(make)


for _name, _dtype in (
    ("int8", "int8"),
    ("int16", "int16"),
    ("int32", "int32"),
    ("int64", "int64"),
    ("uint8", "uint8"),
    ("uint16", "uint16"),
    ("uint32", "uint32"),
    ("float", "float32"),
    ("double", "float64"),
):
    _named(_name, _dtype)


def _accessor(name: str, doc: str, get: Callable[[PixelType], object]) -> None:
    def access(pixelType: PixelType) -> object:
        return get(pixelType)

    access.__doc__ = f"{doc}\n\nArgs:\n    pixelType: The pixel type."
    algorithm(f"PixelType.{name}")(access)


_accessor(
    "dimensions", "Returns the number of dimensions of the PixelType.", lambda t: t.dimensions
)
_accessor(
    "maxValue",
    "Returns the maximum value of the PixelType (positive infinity for an unbounded float).",
    lambda t: t.max_value(),
)
_accessor(
    "minValue",
    "Returns the minimum value of the PixelType (negative infinity for an unbounded float).",
    lambda t: t.min_value(),
)
_accessor(
    "precision",
    "Returns the precision of the PixelType: 'int', 'float' or 'double'.",
    lambda t: t.precision,
)
