"""Per-pixel value lookups: a table (Image.remap), a polynomial (Image.polynomial) and a
piecewise-linear function (Image.interpolate)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource


def table_dtype(values: tuple[float, ...], default: float | None, integral: bool) -> np.dtype:
    """The narrowest of int32/int64/float64 that holds the output values of a lookup."""
    if not integral:
        return np.dtype(np.float64)
    everything = [*values, *([] if default is None else [default])]
    if all(-(2**31) <= v < 2**31 for v in everything):
        return np.dtype(np.int32)
    return np.dtype(np.int64)


@dataclass(frozen=True)
class RemappedBand(BandSource):
    """Pixels equal to `keys[i]` become `values[i]`; others become `default`, or are masked when
    there is none."""

    input: BandSource
    keys: tuple[float, ...]
    values: tuple[float, ...]
    default: float | None
    dtype_name: str

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        data = np.zeros(grid.shape, dtype=self.dtype)
        matched = np.zeros(grid.shape, dtype=bool)
        # Later duplicates of a key do not override the first, as a lookup table would not.
        for key, value in reversed(list(zip(self.keys, self.values, strict=True))):
            hit = base.data == key
            data[hit] = value
            matched |= hit
        if self.default is not None:
            data[~matched] = self.default
            return Pixels(data, base.valid, weight=base.weight)
        return Pixels(data, base.valid & matched, weight=base.weight)


@dataclass(frozen=True)
class PolynomialBand(BandSource):
    """sum(coefficients[i] * x**i), evaluated by Horner's rule in double precision."""

    input: BandSource
    coefficients: tuple[float, ...]

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        x = base.data.astype(np.float64)
        total = np.zeros(grid.shape, dtype=np.float64)
        with np.errstate(all="ignore"):
            for c in reversed(self.coefficients):
                total = total * x + c
        return Pixels(total, base.valid, weight=base.weight)


INTERPOLATE_BEHAVIORS = ("extrapolate", "clamp", "input", "mask")


@dataclass(frozen=True)
class InterpolatedBand(BandSource):
    """The piecewise-linear function through (xs, ys); outside [xs[0], xs[-1]] `behavior` says
    what happens: extrapolate the end segments, clamp to the end values, keep the input, or mask.
    """

    input: BandSource
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    behavior: str

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        x = base.data.astype(np.float64)
        xs, ys = np.asarray(self.xs), np.asarray(self.ys)
        out = np.interp(x, xs, ys)
        below, above = x < xs[0], x > xs[-1]
        valid = base.valid
        if self.behavior == "extrapolate" and len(xs) > 1:
            low_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
            high_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
            out = np.where(below, ys[0] + (x - xs[0]) * low_slope, out)
            out = np.where(above, ys[-1] + (x - xs[-1]) * high_slope, out)
        elif self.behavior == "input":
            out = np.where(below | above, x, out)
        elif self.behavior == "mask":
            valid = valid & ~below & ~above
        return Pixels(out, valid, weight=base.weight)
