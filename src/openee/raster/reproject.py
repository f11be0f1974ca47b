"""Image.reproject: compute a band in a fixed projection, then resample into the request grid."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rasterio.warp
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling

from openee.errors import ResourceExhaustedError
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

# The largest intermediate grid one chunk may compute (pixels per side).
MAX_INTERMEDIATE_SIDE = 8192


def intermediate_grid(grid: PixelGrid, crs: str, transform: Affine) -> PixelGrid | None:
    """The part of the (crs, transform) pixel lattice that covers `grid`, with a 1-pixel margin."""
    xmin, ymin, xmax, ymax = grid.bounds()
    if crs != grid.crs:
        xmin, ymin, xmax, ymax = Transformer.from_crs(
            grid.crs, crs, always_xy=True
        ).transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        return None
    inverse = ~transform
    corners = [inverse @ (x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    cols = [c[0] for c in corners]
    rows = [c[1] for c in corners]
    col0, row0 = math.floor(min(cols)) - 1, math.floor(min(rows)) - 1
    width, height = math.ceil(max(cols)) + 1 - col0, math.ceil(max(rows)) + 1 - row0
    if width > MAX_INTERMEDIATE_SIDE or height > MAX_INTERMEDIATE_SIDE:
        raise ResourceExhaustedError(
            "Image.reproject: the requested grid needs too many pixels in the reprojected "
            f"projection ({width}x{height}); request a smaller area or a coarser scale."
        )
    return PixelGrid(crs, transform @ Affine.translation(col0, row0), max(width, 1), max(height, 1))


@dataclass(frozen=True)
class ReprojectedBand(BandSource):
    accepts_arrays = True

    input: BandSource
    crs: str
    transform: tuple[float, float, float, float, float, float]

    reads_other_grid = True  # its input is read on the intermediate grid

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        inner = intermediate_grid(grid, self.crs, Affine(*self.transform))
        if inner is None:
            return Pixels.empty(grid.shape, self.dtype)
        computed = self.input.read(inner)
        data = np.zeros(grid.shape, dtype=self.dtype)
        valid = np.zeros(grid.shape, dtype=np.uint8)
        common = dict(
            src_transform=inner.transform,
            src_crs=inner.crs,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            resampling=Resampling.nearest,
        )
        if computed.rank:
            return _nearest_arrays(computed, grid, common)
        rasterio.warp.reproject(computed.data, data, **common)
        rasterio.warp.reproject(computed.valid.astype(np.uint8), valid, src_nodata=255, **common)
        weight = None
        if computed.weight is not None:  # a fractional mask goes with its pixel (ADR 0055)
            weight = np.ones(grid.shape, dtype=np.float32)
            rasterio.warp.reproject(computed.weight, weight, src_nodata=-1.0, **common)
        return Pixels(data, valid == 1, weight=weight)


def _nearest_arrays(computed: Pixels, grid: PixelGrid, common: dict[str, object]) -> Pixels:
    """Array pixels resampled by nearest neighbour: GDAL warps the index of each source pixel,
    and whole arrays (with their lengths) are gathered by index."""
    h, w = computed.valid.shape
    index = np.arange(h * w, dtype=np.float64).reshape(h, w)
    where = np.full(grid.shape, -1.0)
    rasterio.warp.reproject(index, where, src_nodata=-1.0, dst_nodata=-1.0, **common)
    found = where >= 0
    idx = np.where(found, where, 0).astype(np.int64).reshape(-1)
    dims = computed.data.shape[2:]
    data = computed.data.reshape(h * w, *dims)[idx].reshape(*grid.shape, *dims)
    valid = found & computed.valid.reshape(-1)[idx].reshape(grid.shape)
    lengths = None
    if computed.lengths is not None:
        rank = computed.rank
        lengths = computed.lengths.reshape(h * w, rank)[idx].reshape(*grid.shape, rank)
    return Pixels(data, valid, lengths)


@dataclass(frozen=True)
class ReducedResolutionBand(BandSource):
    """Image.reduceResolution with the mean reducer: when the request grid is coarser than the
    band's native grid, each output pixel is the area-weighted mean of the native pixels it
    covers (GDAL's 'average' resampling) instead of a nearest-neighbour sample."""

    input: BandSource
    crs: str
    transform: tuple[float, float, float, float, float, float]

    reads_other_grid = True

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        inner = intermediate_grid(grid, self.crs, Affine(*self.transform))
        if inner is None:
            return Pixels.empty(grid.shape, self.dtype)
        computed = self.input.read(inner)
        values = np.where(computed.valid, computed.data.astype(np.float64), np.nan)
        out = np.full(grid.shape, np.nan)
        rasterio.warp.reproject(
            values,
            out,
            src_transform=inner.transform,
            src_crs=inner.crs,
            src_nodata=np.nan,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            dst_nodata=np.nan,
            resampling=Resampling.average,
        )
        valid = ~np.isnan(out)
        return Pixels(np.where(valid, out, 0.0), valid)


@dataclass(frozen=True)
class PixelAreaBand(BandSource):
    """The area of each pixel in square metres on the WGS84 ellipsoid (Image.pixelArea).

    Pixel corners are projected to an equal-area projection of the ellipsoid (EPSG:6933) and
    each cell's area is the shoelace area of its four corners there.
    """

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        rows, cols = np.mgrid[0 : grid.height + 1, 0 : grid.width + 1].astype(np.float64)
        t = grid.transform
        xs = t.a * cols + t.b * rows + t.c
        ys = t.d * cols + t.e * rows + t.f
        ex, ey = Transformer.from_crs(grid.crs, "EPSG:6933", always_xy=True).transform(xs, ys)
        ex, ey = np.asarray(ex), np.asarray(ey)
        # corners in ring order: (r, c), (r, c+1), (r+1, c+1), (r+1, c)
        x0, y0 = ex[:-1, :-1], ey[:-1, :-1]
        x1, y1 = ex[:-1, 1:], ey[:-1, 1:]
        x2, y2 = ex[1:, 1:], ey[1:, 1:]
        x3, y3 = ex[1:, :-1], ey[1:, :-1]
        area = 0.5 * np.abs(
            (x0 * y1 - x1 * y0) + (x1 * y2 - x2 * y1) + (x2 * y3 - x3 * y2) + (x3 * y0 - x0 * y3)
        )
        valid = np.isfinite(area)
        return Pixels(np.where(valid, area, 0.0), valid)
