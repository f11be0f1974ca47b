"""Recipes that move pixels: coordinates of a projection at each pixel, and images displaced by
a per-pixel vector (Image.displace)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import Transformer
from scipy import ndimage

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.neighborhood import metres_per_pixel, read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

ORDERS = {"nearest": 0, "bilinear": 1, "bicubic": 3}
# A displacement wider than this many pixels is refused (it would read a huge window).
MAX_DISPLACEMENT_PX = 1024


@dataclass(frozen=True)
class CoordinateBand(BandSource):
    """The x or y coordinate of each pixel centre in a projection: its CRS coordinates mapped by
    the inverse of its transform (CRS units for an identity transform)."""

    crs: str
    transform: tuple[float, ...]
    axis: str  # "x" or "y"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        rows, cols = np.mgrid[0 : grid.height, 0 : grid.width].astype(np.float64) + 0.5
        t = grid.transform
        x = t.a * cols + t.b * rows + t.c
        y = t.d * cols + t.e * rows + t.f
        if grid.crs != self.crs:
            x, y = Transformer.from_crs(grid.crs, self.crs, always_xy=True).transform(x, y)
        px, py = ~Affine(*self.transform[:6]) * (np.asarray(x), np.asarray(y))
        data = np.asarray(px if self.axis == "x" else py, dtype=np.float64)
        return Pixels(data, np.isfinite(data))


@dataclass(frozen=True)
class DisplacedBand(BandSource):
    """`input` sampled at each pixel moved by (dx east, dy north) metres, read from the
    displacement bands; metres become pixels with the grid's nominal pixel size. Interpolated
    with `mode`; masked where the displacement or an input pixel used is masked."""

    input: BandSource
    dx: BandSource
    dy: BandSource
    mode: str = "bicubic"
    max_offset: float | None = None  # metres; read from the displacement when not given

    reads_other_grid = True

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype if self.mode == "nearest" else np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        dx, dy = self.dx.read(grid), self.dy.read(grid)
        ok = dx.valid & dy.valid
        scale = metres_per_pixel(grid)
        cols = np.where(ok, dx.data, 0).astype(np.float64) / scale
        rows = -np.where(ok, dy.data, 0).astype(np.float64) / scale
        reach = self.max_offset / scale if self.max_offset is not None else 0.0
        if ok.any():
            reach = max(reach, float(np.abs(cols[ok]).max()), float(np.abs(rows[ok]).max()))
        n = math.ceil(reach) + 2
        if n > MAX_DISPLACEMENT_PX:
            raise InvalidArgumentError(
                f"displace: displacements of more than {MAX_DISPLACEMENT_PX} pixels are refused."
            )
        outer = read_expanded(self.input, grid, n, n, n, n)
        r, c = np.mgrid[0 : grid.height, 0 : grid.width].astype(np.float64)
        where = np.stack([r + rows + n, c + cols + n])
        order = ORDERS[self.mode]
        values = ndimage.map_coordinates(
            outer.data.astype(np.float64), where, order=order, mode="nearest"
        )
        valid = ok & self._support_valid(outer.valid, where, order)
        data = np.where(valid, values, 0)
        if self.mode == "nearest":
            data = data.astype(self.dtype)
        return Pixels(data, valid)

    @staticmethod
    def _support_valid(valid: np.ndarray, where: np.ndarray, order: int) -> np.ndarray:
        """Whether every input pixel the interpolation at `where` uses is valid: the nearest
        one, the 2x2 (bilinear) or the 4x4 (bicubic) around the position."""
        h, w = valid.shape
        if order == 0:
            base, offsets = np.round(where).astype(np.int64), [0]
        else:
            base = np.floor(where).astype(np.int64)
            offsets = [0, 1] if order == 1 else [-1, 0, 1, 2]
        out = np.ones(where.shape[1:], dtype=bool)
        for dr in offsets:
            for dc in offsets:
                rr, cc = base[0] + dr, base[1] + dc
                inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
                out &= inside & valid[np.clip(rr, 0, h - 1), np.clip(cc, 0, w - 1)]
        return out
