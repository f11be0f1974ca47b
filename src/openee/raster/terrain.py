"""Terrain: slope, aspect and hillshade of an elevation band (metres), on the requested grid.

As Earth Engine documents for ee.Terrain, the local gradient comes from the 4-connected
neighbours of each pixel (central differences), so a pixel whose own value or any of those four
neighbours is masked is masked. Distances are geodesic, on the WGS84 ellipsoid: for every pixel,
the geodesics from its centre to its four neighbours' centres, as (east, north) metres at the
centre, give the local Jacobian of the grid, so the gradient is right on any
grid (projected, geographic, rotated) and far from the equator. The input is read on the request
grid grown by one pixel on each side, so chunk borders are exact.

slope is in degrees from horizontal; aspect in degrees clockwise from north, the direction the
slope faces (downhill); hillshade is 255 x the cosine of the angle between the surface normal
and the sun (azimuth clockwise from north, elevation above the horizon), clipped at 0, as uint8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Geod

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid, pixel_lon_lat
from openee.raster.neighborhood import read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

PRODUCTS = ("slope", "aspect", "hillshade")
_GEOD = Geod(ellps="WGS84")


def _east_north(
    lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The geodesic from point 0 to point 1 as (east, north) metres at point 0."""
    azimuth, _, distance = _GEOD.inv(lon0, lat0, lon1, lat1)
    az = np.radians(np.asarray(azimuth))
    d = np.asarray(distance)
    return d * np.sin(az), d * np.cos(az)


def gradient(source: BandSource, grid: PixelGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dz/dEast, dz/dNorth, valid) of the elevation band on `grid`, unitless (metres/metres)."""
    outer = read_expanded(source, grid, 1, 1, 1, 1)
    z = outer.data.astype(np.float64)
    v = outer.valid
    h, w = grid.shape
    centre = (slice(1, h + 1), slice(1, w + 1))
    left, right = (slice(1, h + 1), slice(0, w)), (slice(1, h + 1), slice(2, w + 2))
    up, down = (slice(0, h), slice(1, w + 1)), (slice(2, h + 2), slice(1, w + 1))
    valid = v[centre] & v[left] & v[right] & v[up] & v[down]
    dz_col = z[right] - z[left]  # across two pixel steps
    dz_row = z[down] - z[up]
    lon, lat = pixel_lon_lat(grid.subgrid(-1, -1, h + 2, w + 2))
    # Vectors measured at the centre (to each neighbour), so the meridians' convergence cancels.
    lon_c, lat_c = lon[centre], lat[centre]
    e_r, n_r = _east_north(lon_c, lat_c, lon[right], lat[right])
    e_l, n_l = _east_north(lon_c, lat_c, lon[left], lat[left])
    e_d, n_d = _east_north(lon_c, lat_c, lon[down], lat[down])
    e_u, n_u = _east_north(lon_c, lat_c, lon[up], lat[up])
    e_col, n_col = e_r - e_l, n_r - n_l
    e_row, n_row = e_d - e_u, n_d - n_u
    # [dz_col, dz_row] = J^T [gE, gN] with J = [[e_col, e_row], [n_col, n_row]]: solve for g.
    det = e_col * n_row - e_row * n_col
    ok = valid & np.isfinite(det) & (det != 0)
    safe = np.where(ok, det, 1.0)
    g_east = (n_row * dz_col - n_col * dz_row) / safe
    g_north = (e_col * dz_row - e_row * dz_col) / safe
    return np.where(ok, g_east, 0.0), np.where(ok, g_north, 0.0), ok


def slope_aspect(source: BandSource, grid: PixelGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope and aspect in degrees, and validity."""
    g_east, g_north, valid = gradient(source, grid)
    slope = np.degrees(np.arctan(np.hypot(g_east, g_north)))
    aspect = np.degrees(np.arctan2(-g_east, -g_north)) % 360.0
    return slope, aspect, valid


def hillshade(
    slope: np.ndarray, aspect: np.ndarray, azimuth: float, elevation: float
) -> np.ndarray:
    zenith = np.radians(90.0 - elevation)
    s, a = np.radians(slope), np.radians(aspect)
    shade = np.cos(zenith) * np.cos(s) + np.sin(zenith) * np.sin(s) * np.cos(
        np.radians(azimuth) - a
    )
    return np.round(255.0 * np.clip(shade, 0.0, 1.0))


@dataclass(frozen=True)
class TerrainBand(BandSource):
    """One terrain product ('slope', 'aspect' or 'hillshade') of an elevation band."""

    input: BandSource
    product: str
    azimuth: float = 270.0
    elevation: float = 45.0

    reads_other_grid = True  # its input is read on the grid grown by one pixel

    def __post_init__(self) -> None:
        if self.product not in PRODUCTS:
            raise InvalidArgumentError(f"Unknown terrain product '{self.product}'.")

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.product == "hillshade" else np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        slope, aspect, valid = slope_aspect(self.input, grid)
        if self.product == "slope":
            data = slope
        elif self.product == "aspect":
            data = aspect
        else:
            data = hillshade(slope, aspect, self.azimuth, self.elevation)
        return Pixels(np.where(valid, data, 0).astype(self.dtype), valid)
