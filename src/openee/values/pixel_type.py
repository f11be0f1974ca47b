"""Earth Engine's PixelType value: a precision ('int', 'float' or 'double'), an optional range
of values and a number of array dimensions (0: scalar)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from openee.errors import InvalidArgumentError

PRECISIONS = ("int", "float", "double")


@dataclass(frozen=True)
class PixelType:
    """`min`/`max` are None for an unbounded float type; an int type always has both."""

    precision: str
    min: float | None = None
    max: float | None = None
    dimensions: int = 0

    @classmethod
    def of_dtype(cls, dtype: np.dtype) -> PixelType:
        """The pixel type of a numpy dtype: integers with their full range."""
        dtype = np.dtype(dtype)
        if dtype.kind in "iub":
            info = np.iinfo(dtype if dtype.kind != "b" else np.uint8)
            return cls("int", int(info.min), int(info.max))
        return cls("float" if dtype.itemsize <= 4 else "double")

    @classmethod
    def make(
        cls, precision: object, lo: float | None, hi: float | None, dimensions: int
    ) -> PixelType:
        """Checked construction. A float type's range is kept only when both ends are given
        (Earth Engine's ee_pixeltype sample: 'double', None, 2.3 is plain 'double'); an int
        type without a range is a 64-bit integer."""
        if precision not in PRECISIONS:
            raise InvalidArgumentError(
                f"Invalid precision {precision!r}: use 'int', 'float' or 'double'."
            )
        if dimensions < 0:
            raise InvalidArgumentError("PixelType: dimensions must not be negative.")
        if lo is None or hi is None:
            if precision == "int":
                info = np.iinfo(np.int64)
                lo = info.min if lo is None else lo
                hi = info.max if hi is None else hi
            else:
                lo = hi = None
        if lo is not None and hi is not None:
            if lo > hi:
                raise InvalidArgumentError(f"PixelType: minValue {lo} is above maxValue {hi}.")
            if precision == "int":
                lo, hi = math.ceil(lo), math.floor(hi)
        return cls(str(precision), lo, hi, int(dimensions))

    def dtype(self) -> np.dtype:
        """The smallest numpy dtype holding every value of the type."""
        if self.precision != "int":
            return np.dtype(np.float32 if self.precision == "float" else np.float64)
        lo, hi = self.min_value(), self.max_value()
        for name in ("uint8", "int8", "uint16", "int16", "uint32", "int32"):
            info = np.iinfo(name)
            if info.min <= lo and hi <= info.max:
                return np.dtype(name)
        return np.dtype(np.int64)

    def min_value(self) -> float:
        return -math.inf if self.min is None else self.min

    def max_value(self) -> float:
        return math.inf if self.max is None else self.max

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "PixelType", "precision": self.precision}
        if self.min is not None and self.max is not None:
            out["min"], out["max"] = self.min, self.max
        if self.dimensions:
            out["dimensions"] = self.dimensions
        return out
