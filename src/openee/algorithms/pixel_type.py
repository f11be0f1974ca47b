"""PixelType: the value type of an array or band (precision, value range, dimensions), as
`ee.Array(values, pixelType)` takes it. Integer types map to the smallest numpy integer type
holding their range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError

_INTS = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "int64")


@dataclass(frozen=True)
class PixelTypeValue:
    """A PixelType: 'int', 'float' or 'double', an optional value range, and the number of
    array dimensions (0 for scalars)."""

    precision: str
    min: float | None = None
    max: float | None = None
    dimensions: int = 0

    @property
    def dtype(self) -> np.dtype:
        """The numpy type of values of this type."""
        if self.precision == "float":
            return np.dtype(np.float32)
        if self.precision == "double":
            return np.dtype(np.float64)
        low = -(2**63) if self.min is None else self.min
        high = 2**63 - 1 if self.max is None else self.max
        for name in _INTS:
            limits = np.iinfo(name)
            if limits.min <= low and high <= limits.max:
                return np.dtype(name)
        return np.dtype(np.int64)

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "PixelType", "precision": self.precision}
        if self.min is not None and self.max is not None:
            out["min"], out["max"] = _number(self.min), _number(self.max)
        if self.dimensions:
            out["dimensions"] = self.dimensions
        return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def of_dtype(dtype: np.dtype) -> PixelTypeValue:
    """The PixelType of a numpy type (integers with their full range)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        limits = np.iinfo(dtype if dtype.kind != "b" else np.uint8)
        return PixelTypeValue("int", int(limits.min), int(limits.max))
    return PixelTypeValue("float" if dtype.itemsize <= 4 else "double")


@algorithm("PixelType")
def pixel_type(
    precision: Any,
    minValue: float | None = None,
    maxValue: float | None = None,
    dimensions: int = 0,
) -> PixelTypeValue:
    """Returns a PixelType of the given precision with the given limits per element, and
    optionally the given number of array dimensions.

    Args:
        precision: The pixel precision: 'int', 'float' or 'double' (or a PixelType).
        minValue: The minimum value of pixels of this type (integers need it with maxValue).
        maxValue: The maximum value of pixels of this type.
        dimensions: The number of array dimensions; 0 for scalar pixels.
    """
    if isinstance(precision, PixelTypeValue):  # the client's ee.PixelType(pixel_type) wrap
        return precision
    if precision not in ("int", "float", "double"):
        raise InvalidArgumentError(
            f"precision must be 'int', 'float' or 'double', not {precision!r}."
        )
    if dimensions < 0:
        raise InvalidArgumentError(f"dimensions must not be negative, got {dimensions}.")
    if minValue is not None and maxValue is not None and minValue > maxValue:
        raise InvalidArgumentError(f"minValue {minValue} is above maxValue {maxValue}.")
    return PixelTypeValue(str(precision), minValue, maxValue, int(dimensions))


def _named(name: str) -> None:
    def fn() -> PixelTypeValue:
        return of_dtype(np.dtype(name))

    fn.__doc__ = f"Returns the PixelType of a {name} value.\n"
    algorithm(
        f"PixelType.{'float' if name == 'float32' else 'double' if name == 'float64' else name}"
    )(fn)


for _name in ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "float32", "float64"):
    _named(_name)


@algorithm("PixelType.precision")
def precision(pixelType: PixelTypeValue) -> str:
    """Returns the precision of a PixelType: 'int', 'float' or 'double'.

    Args:
        pixelType: The PixelType.
    """
    return pixelType.precision


@algorithm("PixelType.minValue")
def min_value(pixelType: PixelTypeValue) -> float | None:
    """Returns the minimum value of a PixelType.

    Args:
        pixelType: The PixelType.
    """
    return None if pixelType.min is None else _number(pixelType.min)


@algorithm("PixelType.maxValue")
def max_value(pixelType: PixelTypeValue) -> float | None:
    """Returns the maximum value of a PixelType.

    Args:
        pixelType: The PixelType.
    """
    return None if pixelType.max is None else _number(pixelType.max)


@algorithm("PixelType.dimensions")
def dimensions(pixelType: PixelTypeValue) -> int:
    """Returns the number of array dimensions of a PixelType (0 for scalars).

    Args:
        pixelType: The PixelType.
    """
    return pixelType.dimensions
