"""Recipes whose pixels depend on a neighbourhood: read the inputs on the requested grid grown
by a halo, compute on the grown window, keep the requested part (ADR 0007, ADR 0012).

A subclass says how many pixels of halo it needs on a grid (`halo`) and computes its result on
the grown window (`compute`); the base class does the reading and the cropping. With a halo at
least the reach of the operation, a chunk equals the same window of the whole grid; operations
of unbounded reach (distance transforms, connected components, cumulative cost) use their
documented size limit as the halo and say in their docstrings what that makes approximate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.neighborhood import metres_per_pixel, read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

# The largest halo any recipe may ask for, in pixels (a chunk of 1024 then reads 3x3 chunks).
MAX_HALO = 1024


class HaloBand(BandSource):
    """Base of the recipes computed on a window grown by `halo(grid)` pixels on every side.

    Subclasses are frozen dataclasses holding their inputs in `inputs()` order."""

    reads_other_grid = True

    def inputs(self) -> tuple[BandSource, ...]:
        raise NotImplementedError

    def halo(self, grid: PixelGrid) -> int:
        raise NotImplementedError

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        """The result on the grown window `outer` (only its inner part is kept)."""
        raise NotImplementedError

    def read(self, grid: PixelGrid) -> Pixels:
        n = min(self.halo(grid), MAX_HALO)
        outer = grid.subgrid(-n, -n, grid.height + 2 * n, grid.width + 2 * n)
        layers = [read_expanded(s, grid, n, n, n, n) for s in self.inputs()]
        out = self.compute(layers, outer, n)
        inner = (slice(n, n + grid.height), slice(n, n + grid.width))
        valid = out.valid[inner]
        return Pixels(np.where(valid, out.data[inner], 0).astype(self.dtype), valid.copy())


@dataclass(frozen=True)
class UnaryHaloBand(HaloBand):
    """A halo recipe of one band, `input` (its subclasses' first field)."""

    input: BandSource

    def inputs(self) -> tuple[BandSource, ...]:
        return (self.input,)


def pixels_for_metres(grid: PixelGrid, metres: float) -> int:
    """How many pixels of `grid` span `metres` (rounded up)."""
    return max(0, math.ceil(metres / metres_per_pixel(grid)))


def shifted(a: np.ndarray, dr: int, dc: int, fill: float | bool = 0) -> np.ndarray:
    """`a` moved so that out[r, c] = a[r + dr, c + dc]; cells from outside get `fill`."""
    h, w = a.shape
    out = np.full_like(a, fill)
    r0, r1 = max(0, -dr), min(h, h - dr)
    c0, c1 = max(0, -dc), min(w, w - dc)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = a[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
    return out


def global_index(grid: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the grid's pixels counted from its CRS's origin: the same numbers
    for a pixel whichever chunk of a grid it is read in."""
    t = grid.transform
    row0 = round(t.f / t.e) if t.e else 0
    col0 = round(t.c / t.a) if t.a else 0
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    return rows.astype(np.int64) + row0, cols.astype(np.int64) + col0
