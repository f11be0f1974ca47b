"""Bands that move pixels or report where they are: Image.changeProj (and Image.translate, a
change to a shifted copy of a projection) and Image.pixelCoordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio.warp
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling

from openee.raster.grid import PixelGrid, pixel_centres
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

Transform = tuple[float, float, float, float, float, float]


def same_size_grid(grid: PixelGrid, crs: str) -> PixelGrid:
    """A north-up grid in `crs` with `grid`'s pixel counts, covering its bounds."""
    xmin, ymin, xmax, ymax = Transformer.from_crs(grid.crs, crs, always_xy=True).transform_bounds(
        *grid.bounds(), densify_pts=21
    )
    transform = Affine((xmax - xmin) / grid.width, 0, xmin, 0, -(ymax - ymin) / grid.height, ymax)
    return PixelGrid(crs, transform, grid.width, grid.height)


def nearest_into(pixels: Pixels, source: PixelGrid, grid: PixelGrid) -> Pixels:
    """Pixels computed on `source` resampled (nearest) onto `grid`."""
    data = np.zeros(grid.shape, dtype=pixels.data.dtype)
    valid = np.zeros(grid.shape, dtype=np.uint8)
    common = dict(
        src_transform=source.transform,
        src_crs=source.crs,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        resampling=Resampling.nearest,
    )
    rasterio.warp.reproject(pixels.data, data, **common)
    rasterio.warp.reproject(pixels.valid.astype(np.uint8), valid, src_nodata=255, **common)
    return Pixels(data, valid == 1)


@dataclass(frozen=True)
class ChangedProjectionBand(BandSource):
    """The input with each pixel moved from its place in `src` to the same projection
    coordinates in `dst`: the value at a point p is the input's at src(dst^-1(p)).

    On a request grid in dst's CRS this is exact: the input is read on the grid mapped through
    src * dst^-1 (an affine map), pixel for pixel. Otherwise it is computed on a grid of the
    same size in dst's CRS and resampled (nearest) into the request grid.
    """

    input: BandSource
    src_crs: str
    src_transform: Transform
    dst_crs: str
    dst_transform: Transform

    reads_other_grid = True

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        if grid.crs != self.dst_crs:
            inner = same_size_grid(grid, self.dst_crs)
            return nearest_into(self.read(inner), inner, grid)
        mapping = Affine(*self.src_transform) @ ~Affine(*self.dst_transform)
        moved = PixelGrid(self.src_crs, mapping @ grid.transform, grid.width, grid.height)
        return self.input.read(moved)


@dataclass(frozen=True)
class PixelCoordinatesBand(BandSource):
    """The x (axis 0) or y (axis 1) coordinate of each pixel centre in a projection: its CRS
    coordinates mapped through the inverse of the projection's transform."""

    crs: str
    transform: Transform
    axis: int

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        x, y = pixel_centres(grid)
        if grid.crs != self.crs:
            x, y = Transformer.from_crs(grid.crs, self.crs, always_xy=True).transform(x, y)
        inverse = ~Affine(*self.transform)
        if self.axis == 0:
            data = inverse.a * x + inverse.b * y + inverse.c
        else:
            data = inverse.d * x + inverse.e * y + inverse.f
        data = np.asarray(data, dtype=np.float64)
        return Pixels(data, np.isfinite(data))
