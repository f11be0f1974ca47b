"""A band read from one 2-D plane of a Zarr v2 array, on demand and by window (ADR 0018).

The array's last two dimensions are Y and X on a projection the caller gives (Earth Engine's
loadZarrV2Array takes it as an argument: a Zarr array carries no georeferencing). A read takes,
for each output pixel, the array pixel that contains its centre (the exact nearest-neighbour
sampling of raster/sampling.py) and fetches only the window of the array those pixels span, so
only the Zarr chunks under a request are decoded; a grid much coarser than the array fetches
only the pixels it takes (coordinate selection), so only the chunks holding them are decoded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from affine import Affine

from openee.errors import InternalError
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sampling import sample_map, sampled_pixels
from openee.raster.sources import BandSource

_open_lock = threading.Lock()


@lru_cache(maxsize=64)
def _array(path: str, stamp: int) -> Any:
    """The opened (read-only) Zarr v2 array in directory `path`, shared by the threads; `stamp`
    (the .zarray's modification time) makes a rewritten array open afresh."""
    import zarr  # imported on first use: most servers never read Zarr
    from zarr.storage import LocalStore

    with _open_lock:
        return zarr.open_array(store=LocalStore(path, read_only=True), zarr_format=2, mode="r")


@dataclass(frozen=True)
class ZarrBand(BandSource):
    """The 2-D plane at `index` (the non-spatial indices) of the Zarr v2 array in `path`.

    Pixels equal to the array's fill value (or NaN) are masked, as a file's nodata is."""

    path: str  # the array's directory (holding .zarray), confined to the data roots
    stamp: int  # .zarray's modification time (ns) when the metadata was checked
    index: tuple[int, ...]
    dtype_name: str
    fill_value: float | None
    crs: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int

    def read(self, grid: PixelGrid) -> Pixels:
        where = sample_map(grid, self.crs, Affine(*self.transform), self.width, self.height)
        if where.window is None:
            return Pixels.empty(grid.shape, self.dtype)
        w = where.window
        r0, c0, h, wd = int(w.row_off), int(w.col_off), int(w.height), int(w.width)
        try:
            array = _array(self.path, self.stamp)
            if where.sparse:  # a coarse grid: only the pixels taken, from the chunks holding them
                rows, cols, where = where.distinct
                plane = tuple(np.full(rows.size, i, dtype=np.intp) for i in self.index)
                block = np.asarray(array.vindex[(*plane, rows, cols)])
            else:
                block = np.asarray(array[(*self.index, slice(r0, r0 + h), slice(c0, c0 + wd))])
        except (OSError, ValueError, RuntimeError) as exc:  # a damaged chunk or metadata
            raise InternalError(f"Failed to read Zarr array: {type(exc).__name__}") from exc
        pixels = sampled_pixels(block, where, self.dtype, self.fill_value, mask_nan=True)
        # A fill value masks its pixels; they read as 0, as outside ones do.
        return Pixels(np.where(pixels.valid, pixels.data, 0).astype(self.dtype), pixels.valid)
