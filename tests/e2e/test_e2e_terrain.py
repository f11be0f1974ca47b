"""ee.Terrain through the stock client on DEMs built as expressions, against analytic values.

No DEM ships with the project, so the DEMs are functions of longitude and latitude
(Image.pixelLonLat): a plane z = a·(lat - lat0) + b·(lon - lon0) and a paraboloid. Their true
gradient in metres per metre follows from the WGS84 radii of curvature: one degree of latitude
is M(φ)·π/180 metres, one of longitude N(φ)·cos φ·π/180.
"""

from __future__ import annotations

import math

import numpy as np
from affine import Affine
from oracle import Grid
from pyproj import Transformer

A_WGS84 = 6378137.0
E2 = 0.00669437999014  # first eccentricity squared of WGS84
LON0, LAT0 = 15.7, 45.55


def metres_per_degree(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) metres per degree of longitude and latitude at latitude `lat`."""
    phi = np.radians(lat)
    w = 1 - E2 * np.sin(phi) ** 2
    m = A_WGS84 * (1 - E2) / w**1.5
    n = A_WGS84 / np.sqrt(w)
    return n * np.cos(phi) * math.pi / 180, m * math.pi / 180


def centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    x, y = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    if grid.crs == "EPSG:4326":
        return x, y
    return Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)


def expected_terrain(
    grid: Grid, dz_dlon: np.ndarray, dz_dlat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    _, lat = centres(grid)
    east, north = metres_per_degree(lat)
    g_east, g_north = dz_dlon / east, dz_dlat / north
    slope = np.degrees(np.arctan(np.hypot(g_east, g_north)))
    aspect = np.degrees(np.arctan2(-g_east, -g_north)) % 360
    return slope, aspect


def compute(ee, image, grid: Grid) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def utm_grid() -> Grid:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform(LON0, LAT0)
    return Grid("EPSG:32633", Affine(100.0, 0, x - 2000, 0, -100.0, y + 1500), 40, 30)


def test_slope_aspect_hillshade_of_a_plane_on_a_utm_grid(ee_api) -> None:
    ee = ee_api
    lonlat = ee.Image.pixelLonLat()
    a, b = 5e4, -3e4  # metres per degree of latitude and of longitude
    dem = (
        lonlat.select("latitude").subtract(LAT0).multiply(a)
        .add(lonlat.select("longitude").subtract(LON0).multiply(b))
        .rename("elevation")
    )  # fmt: skip
    image = (
        ee.Terrain.slope(dem)
        .addBands(ee.Terrain.aspect(dem))
        .addBands(ee.Terrain.hillshade(dem, 300, 30))
        .addBands(ee.Terrain.hillshade(dem).rename("hs_default"))
    )
    grid = utm_grid()
    arr = compute(ee, image, grid)
    slope, aspect = expected_terrain(grid, np.full((30, 40), b), np.full((30, 40), a))
    np.testing.assert_allclose(arr["slope"], slope, atol=1e-4)
    np.testing.assert_allclose(arr["aspect"], aspect, atol=1e-4)
    assert 20 < slope.mean() < 40 and 120 < aspect.mean() < 160  # faces south-east
    for band, azimuth, elevation in (("hillshade", 300, 30), ("hs_default", 270, 45)):
        zenith, s, asp = math.radians(90 - elevation), np.radians(slope), np.radians(aspect)
        shade = math.cos(zenith) * np.cos(s) + math.sin(zenith) * np.sin(s) * np.cos(
            math.radians(azimuth) - asp
        )
        expected = np.round(255 * np.clip(shade, 0, 1))
        assert arr[band].dtype == np.uint8
        assert np.abs(arr[band].astype(int) - expected).max() <= 1


def test_paraboloid_on_a_geographic_grid(ee_api) -> None:
    ee = ee_api
    lonlat = ee.Image.pixelLonLat()
    a, b = 1e6, 5e5
    dlat = lonlat.select("latitude").subtract(LAT0)
    dlon = lonlat.select("longitude").subtract(LON0)
    dem = dlat.pow(2).multiply(a).add(dlon.pow(2).multiply(b))
    grid = Grid.centered("EPSG:4326", LON0, LAT0, 0.001, 60, 50)
    products = ee.Terrain.products(dem)
    names = products.bandNames().getInfo()
    assert names == ["latitude", "slope", "aspect", "hillshade"]
    arr = compute(ee, products, grid)
    lon, lat = centres(grid)
    slope, aspect = expected_terrain(grid, 2 * b * (lon - LON0), 2 * a * (lat - LAT0))
    np.testing.assert_allclose(arr["slope"], slope, atol=1e-3)
    steep = slope > 0.5
    diff = (arr["aspect"][steep] - aspect[steep] + 180) % 360 - 180
    assert np.abs(diff).max() < 1e-3
    np.testing.assert_allclose(arr["latitude"], dem_values(a, b, lon, lat), rtol=1e-9)


def dem_values(a: float, b: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return a * (lat - LAT0) ** 2 + b * (lon - LON0) ** 2


def test_terrain_algorithm_and_masks(ee_api) -> None:
    ee = ee_api
    lonlat = ee.Image.pixelLonLat()
    dem = lonlat.select("latitude").multiply(1e4).rename("elevation")
    # Masked where longitude > LON0: slope is masked there and one pixel beyond (4-neighbours).
    masked = dem.updateMask(lonlat.select("longitude").lt(LON0))
    image = ee.ApiFunction.call_("Terrain", masked.addBands(lonlat))
    assert image.bandNames().getInfo() == [
        "elevation",
        "longitude",
        "latitude",
        "slope",
        "aspect",
        "hillshade",
    ]
    # Pixel centres at LON0 - 0.00975 + k/1000: columns 0..9 west of LON0, 10..20 east of it.
    grid = Grid("EPSG:4326", Affine(0.001, 0, LON0 - 0.01025, 0, -0.001, LAT0 + 0.005), 21, 10)
    both = image.select("slope").addBands(image.select("slope").mask().rename("m"))
    arr = compute(ee, both, grid)
    lon, _ = centres(grid)
    inside = lon < LON0
    expected_valid = inside & np.roll(inside, -1, axis=1)  # the east neighbour must be valid too
    np.testing.assert_array_equal(arr["m"] == 1, expected_valid)
    slope, _ = expected_terrain(grid, np.zeros(grid_shape(grid)), np.full(grid_shape(grid), 1e4))
    ok = expected_valid
    np.testing.assert_allclose(arr["slope"][ok], slope[ok], atol=1e-4)


def grid_shape(grid: Grid) -> tuple[int, int]:
    return (grid.height, grid.width)
