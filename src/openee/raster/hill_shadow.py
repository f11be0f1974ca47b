"""Cast shadows of terrain (Terrain.hillShadow): 1 where the sun reaches a pixel, else 0.

Rays are traced in the request grid's own pixel space, so the grid must be projected in metres
(Earth Engine: "only works for Mercator projections, in which light rays are parallel"). From
each pixel, the terrain toward the sun is sampled (nearest pixel) every pixel step up to
`reach` pixels away; the pixel is shadowed where that terrain rises above the sun's ray.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.neighborhood import read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource


def shadows(
    z: np.ndarray, valid: np.ndarray, reach: int, azimuth: float, zenith: float, pixel: float
) -> np.ndarray:
    """Lit (True) or shadowed of the inner pixels of `z`, which has `reach` pixels of margin."""
    h, w = z.shape[0] - 2 * reach, z.shape[1] - 2 * reach
    az = math.radians(azimuth)
    # One pixel step toward the sun: east is +column, north is -row.
    step_c, step_r = math.sin(az), -math.cos(az)
    rise = math.tan(math.radians(90.0 - zenith)) * pixel  # metres of ray rise per pixel step
    inner = z[reach : reach + h, reach : reach + w].astype(np.float64)
    rows, cols = np.mgrid[0:h, 0:w]
    lit = np.ones((h, w), dtype=bool)
    for k in range(1, reach + 1):
        r = np.rint(rows + reach + k * step_r).astype(np.int64)
        c = np.rint(cols + reach + k * step_c).astype(np.int64)
        other = z[r, c].astype(np.float64)
        blocks = valid[r, c] & (other > inner + k * rise)
        lit &= ~blocks
    return lit


@dataclass(frozen=True)
class ShadowBand(BandSource):
    """1 where the sun (azimuth clockwise from north, zenith from vertical) lights the pixel."""

    input: BandSource
    azimuth: float
    zenith: float
    reach: int

    reads_other_grid = True  # its input is read on the grid grown by `reach`

    dtype = np.dtype(np.uint8)

    def read(self, grid: PixelGrid) -> Pixels:
        if grid.pyproj_crs.is_geographic:
            raise InvalidArgumentError(
                "Terrain.hillShadow needs a projected grid (metres), not geographic degrees."
            )
        t = grid.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0 or abs(t.a + t.e) > 1e-9 * t.a:
            raise InvalidArgumentError("Terrain.hillShadow needs square, north-up pixels.")
        n = self.reach
        outer = read_expanded(self.input, grid, n, n, n, n)
        factor = grid.pyproj_crs.axis_info[0].unit_conversion_factor
        lit = shadows(outer.data, outer.valid, n, self.azimuth, self.zenith, abs(t.a) * factor)
        valid = outer.valid[n : n + grid.height, n : n + grid.width]
        return Pixels((lit & valid).astype(np.uint8), valid)
