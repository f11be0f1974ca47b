"""Terrain.fillMinima and Terrain.hillShadow through the stock client, on DEMs built as
expressions of Image.pixelLonLat.

Oracles: sink filling as morphological reconstruction by erosion (scipy.ndimage, iterated to a
fixed point) of the DEM fetched on the grid grown by the neighbourhood; cast shadows from the
shadow length of a wall, H / tan(sun elevation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage
from affine import Affine
from oracle import Grid
from pyproj import Transformer

pytestmark = pytest.mark.e2e

LON0, LAT0 = 15.7, 45.55


def compute(ee, image, grid: Grid) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def utm_grid(pixel: float, width: int, height: int, margin: int = 0) -> Grid:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform(LON0, LAT0)
    x0 = x - pixel * width / 2 - margin * pixel
    y0 = y + pixel * height / 2 + margin * pixel
    return Grid("EPSG:32633", Affine(pixel, 0, x0, 0, -pixel, y0), width + 2 * margin,
                height + 2 * margin)  # fmt: skip


def reconstruct_fill(z: np.ndarray) -> np.ndarray:
    """Fill sinks: start from +inf inside and the DEM on the edge, erode until stable."""
    marker = np.full(z.shape, np.inf)
    marker[0, :], marker[-1, :], marker[:, 0], marker[:, -1] = z[0], z[-1], z[:, 0], z[:, -1]
    while True:
        eroded = scipy.ndimage.grey_erosion(marker, size=(3, 3), mode="nearest")
        updated = np.maximum(z, np.minimum(marker, eroded))
        if np.array_equal(updated, marker):
            return updated
        marker = updated


def test_fill_minima(ee_api) -> None:
    ee = ee_api
    lonlat = ee.Image.pixelLonLat()
    dlon = lonlat.select("longitude").subtract(LON0)
    dlat = lonlat.select("latitude").subtract(LAT0)
    dem = dlon.multiply(400).sin().multiply(dlat.multiply(300).cos()).multiply(200)
    dem = dem.add(dlon.multiply(2000)).toInt16().rename("elevation")
    n = 8
    raw = compute(ee, dem, utm_grid(100, 40, 30, n))["elevation"].astype(np.float64)
    filled = compute(ee, ee.Terrain.fillMinima(dem, None, n), utm_grid(100, 40, 30))
    expected = reconstruct_fill(raw)[n:-n, n:-n]
    assert filled["elevation"].dtype == np.int16
    assert np.array_equal(filled["elevation"], expected.astype(np.int16))
    assert (expected > raw[n:-n, n:-n]).sum() > 20  # some sinks were filled
    # A border value above the terrain floods the whole window to that level at least.
    high = compute(ee, ee.Terrain.fillMinima(dem, 1000, n), utm_grid(100, 40, 30))
    assert (high["elevation"] == np.maximum(1000, raw[n:-n, n:-n])).all()


def test_hill_shadow(ee_api) -> None:
    ee = ee_api
    height, pixel = 100.0, 10.0
    lon = ee.Image.pixelLonLat().select("longitude")
    wall = lon.lt(LON0).multiply(height).rename("elevation")  # a plateau west of LON0
    grid = utm_grid(pixel, 60, 20)
    dem = compute(ee, wall, grid)["elevation"]
    from_west = compute(ee, ee.Terrain.hillShadow(wall, 270, 60), grid)["shadow"]
    from_east = compute(ee, ee.Terrain.hillShadow(wall, 90, 60), grid)["shadow"]
    assert from_west.dtype == np.uint8
    # Sun from the west at 30 degrees elevation: the shadow reaches H / tan(30) = 173 m east of
    # the wall; a pixel k columns east of the last plateau pixel of its row is dark iff
    # k * pixel * tan(30 degrees) < H.
    expected = np.ones(dem.shape, dtype=np.uint8)
    for r in range(dem.shape[0]):
        last = np.flatnonzero(dem[r] > 0).max()
        k = np.arange(dem.shape[1]) - last
        expected[r, (k > 0) & (k * pixel * math.tan(math.radians(30)) < height)] = 0
    assert 0 < (expected == 0).sum() < expected.size
    assert np.array_equal(from_west, expected)
    assert (from_east == 1).all()  # nothing rises east of anything
    with pytest.raises(ee.EEException, match="projected grid"):
        geographic = Grid.centered("EPSG:4326", LON0, LAT0, 0.001, 10, 10)
        compute(ee, ee.Terrain.hillShadow(wall, 270, 60), geographic)
