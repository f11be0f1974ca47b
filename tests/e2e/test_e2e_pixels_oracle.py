"""The pixel engine against an independent oracle (rasterio + numpy on the same files).

Each case builds an expression with the stock client, asks the live server for NPY pixels plus
the band's mask on a grid, and compares with what GDAL + numpy compute from the source files.
Integer results must be exact, floats within 1e-6 relative, resampled values within 1 DN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.features
from affine import Affine
from oracle import (
    Grid,
    Item,
    coverage_weights,
    load_items,
    masked_median,
    select_items,
    warp_band,
)
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject
from shapely.geometry import Polygon

LON, LAT = 15.7, 45.55  # inside 33TWL only
OVERLAP_LON, OVERLAP_LAT = 15.7, 46.0  # inside both 33TWL and 33TWM
AUGUST = ("2023-08-01", "2023-09-01")
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
GRID_4326 = Grid.centered("EPSG:4326", LON, LAT, 0.001, 160, 120)


def item(day: str, tile: str = "33TWL") -> Item:
    return next(i for i in load_items() if tile in i.id and day in i.id)


def compute(ee, image, band: str, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Values and mask of one band of `image` on `grid`, from the server (NPY)."""
    selected = image.select([band])
    both = selected.rename(["v"]).addBands(selected.mask().rename(["m"]))
    arr = ee.data.computePixels(
        {"expression": both, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )
    assert arr.shape == (grid.height, grid.width)
    return arr["v"], arr["m"] > 0  # masks are fractional: a clip edge is partly valid


def assert_exact(
    values: np.ndarray, valid: np.ndarray, expected: np.ndarray, expected_valid: np.ndarray
) -> None:
    assert expected_valid.any(), "the oracle has no valid pixel: the case tests nothing"
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_array_equal(values[valid], expected[expected_valid])


def utm_to_grid(crs: str, scale: float, width: int, height: int) -> Grid:
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(LON, LAT)
    return Grid(
        crs,
        Affine(scale, 0, x - scale * width / 2, 0, -scale, y + scale * height / 2),
        width,
        height,
    )


@pytest.mark.parametrize(
    "grid",
    [
        GRID_4326,
        utm_to_grid("EPSG:3857", 150.0, 160, 120),
        utm_to_grid("EPSG:32634", 110.0, 160, 120),
        # rotated by 20 degrees, and sheared
        Grid(
            "EPSG:32633",
            Affine.translation(
                *Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform(LON, LAT)
            )
            @ Affine.rotation(20)
            @ Affine.scale(100, -100),
            150,
            110,
        ),
        Grid("EPSG:32633", Affine(100, 30, 555000, 10, -100, 5050000), 150, 110),
        # partly west of the tile: the outside is masked, not an error
        Grid.centered("EPSG:4326", 15.0, 45.5, 0.002, 120, 80),
    ],
    ids=["utm-to-4326", "utm-to-3857", "utm-to-utm34", "rotated", "sheared", "partly-outside"],
)
def test_single_image_nearest_is_exact(ee_api, grid: Grid) -> None:
    it = item("20230815")
    values, valid = compute(ee_api, ee_api.Image(it.image_id), "B4", grid)
    expected = warp_band(it.band_path("B4"), grid)
    assert_exact(values, valid, expected, expected != 0)


def test_grid_wholly_outside_is_masked(ee_api) -> None:
    grid = Grid.centered("EPSG:4326", 5.0, 40.0, 0.001, 32, 32)
    _, valid = compute(ee_api, ee_api.Image(item("20230815").image_id), "B4", grid)
    assert not valid.any()


def test_overlap_of_both_tiles_median_of_ten(ee_api) -> None:
    grid = Grid.centered("EPSG:4326", OVERLAP_LON, OVERLAP_LAT, 0.002, 120, 100)
    point = ee_api.Geometry.Point([OVERLAP_LON, OVERLAP_LAT])
    collection = ee_api.ImageCollection(COLLECTION).filterBounds(point).filterDate(*AUGUST)
    items = select_items(*AUGUST, OVERLAP_LON, OVERLAP_LAT)
    assert len(items) == 10 == collection.size().getInfo()
    values, valid = compute(ee_api, collection.median(), "B8", grid)
    expected = masked_median(np.stack([warp_band(i.band_path("B8"), grid) for i in items]))
    assert_exact(values, valid, expected, ~np.isnan(expected))


def _warp_interpolated(path: Path, grid: Grid, resampling: Resampling) -> np.ndarray:
    """GDAL's bilinear/bicubic warp of the full-resolution band (the interpolation oracle)."""
    with rasterio.open(path) as src:
        data = src.read(1)
        dst = np.zeros((grid.height, grid.width), dtype=data.dtype)
        reproject(
            data, dst, src_transform=src.transform, src_crs=src.crs, src_nodata=0,
            dst_transform=grid.transform, dst_crs=CRS.from_user_input(grid.crs), dst_nodata=0,
            resampling=resampling, init_dest_nodata=True,
        )  # fmt: skip
    return dst


def test_coarse_grid_reads_the_matching_overview(ee_api) -> None:
    # 0.008 degrees here is about 620 m x 890 m: the finest overview not finer than that is the
    # 4x one (480 m), overview level 1 of the JPEG2000 file.
    grid = Grid.centered("EPSG:4326", LON, LAT, 0.008, 100, 80)
    it = item("20230815")
    values, valid = compute(ee_api, ee_api.Image(it.image_id), "B4", grid)
    expected = warp_band(it.band_path("B4"), grid, overview_level=1)
    assert_exact(values, valid, expected, expected != 0)
    assert not np.array_equal(expected, warp_band(it.band_path("B4"), grid))


@pytest.mark.parametrize(
    ("mode", "resampling"), [("bilinear", Resampling.bilinear), ("bicubic", Resampling.cubic)]
)
def test_resample_interpolates_within_one_dn(ee_api, mode: str, resampling: Resampling) -> None:
    grid = Grid.centered("EPSG:4326", LON, LAT, 0.0004, 120, 100)  # finer than the source
    it = item("20230815")
    values, valid = compute(ee_api, ee_api.Image(it.image_id).resample(mode), "B4", grid)
    expected = _warp_interpolated(it.band_path("B4"), grid, resampling)
    both = valid & (expected != 0)
    assert both.mean() > 0.99
    assert np.abs(values[both].astype(np.int64) - expected[both]).max() <= 1
    assert not np.array_equal(values[both], warp_band(it.band_path("B4"), grid)[both])


def test_scl_cloud_classes_through_update_mask(ee_api) -> None:
    it = item("20230818")  # 46 % cloud cover
    image = ee_api.Image(it.image_id)
    scl = image.select("SCL")
    clear = scl.neq(3).And(scl.neq(8)).And(scl.neq(9)).And(scl.neq(10))
    values, valid = compute(ee_api, image.updateMask(clear), "B4", GRID_4326)
    b4 = warp_band(it.band_path("B4"), GRID_4326)
    classes = warp_band(it.band_path("SCL"), GRID_4326)
    expected_valid = (b4 != 0) & (classes != 0) & ~np.isin(classes, [3, 8, 9, 10])
    assert (classes[b4 != 0] == 9).any(), "the case needs clouds in the grid"
    assert_exact(values, valid, b4, expected_valid)


def test_mosaic_puts_the_last_image_on_top(ee_api) -> None:
    grid = Grid.centered("EPSG:4326", 16.3, 45.5, 0.002, 120, 100)  # the orbit edge: partial images
    first, last = item("20230813"), item("20230818")
    mosaic = ee_api.ImageCollection.fromImages(
        [ee_api.Image(first.image_id), ee_api.Image(last.image_id)]
    ).mosaic()
    values, valid = compute(ee_api, mosaic, "B4", grid)
    a, b = warp_band(first.band_path("B4"), grid), warp_band(last.band_path("B4"), grid)
    expected = np.where(b != 0, b, a)
    assert ((a != 0) & (b == 0)).any() and ((a != 0) & (b != 0)).any()
    assert_exact(values, valid, expected, expected != 0)


def _masked_stack(band: str, grid: Grid) -> np.ma.MaskedArray:
    items = select_items(*AUGUST, LON, LAT)
    stack = np.stack([warp_band(i.band_path(band), grid) for i in items]).astype(np.float64)
    return np.ma.masked_equal(stack, 0)


REDUCERS: dict[str, Callable[[np.ma.MaskedArray], np.ma.MaskedArray]] = {
    "mean": lambda m: m.mean(axis=0),
    "median": lambda m: np.ma.median(m, axis=0),
    "min": lambda m: m.min(axis=0),
    "max": lambda m: m.max(axis=0),
    "sum": lambda m: m.sum(axis=0),
    "stdDev": lambda m: m.std(axis=0),
    "variance": lambda m: m.var(axis=0),
}


@pytest.mark.parametrize("name", list(REDUCERS))
def test_collection_reduce(ee_api, name: str) -> None:
    collection = (
        ee_api.ImageCollection(COLLECTION)
        .filterBounds(ee_api.Geometry.Point([LON, LAT]))
        .filterDate(*AUGUST)
    )
    reducer = getattr(ee_api.Reducer, name)()
    image = collection.reduce(reducer)
    assert image.bandNames().getInfo()[:2] == [f"B2_{name}", f"B3_{name}"]
    values, valid = compute(ee_api, image, f"B8_{name}", GRID_4326)
    expected = REDUCERS[name](_masked_stack("B8", GRID_4326))
    expected_valid = ~np.ma.getmaskarray(expected)
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_allclose(values[valid], np.ma.getdata(expected)[expected_valid], rtol=1e-6)


def test_collection_count(ee_api) -> None:
    collection = (
        ee_api.ImageCollection(COLLECTION)
        .filterBounds(ee_api.Geometry.Point([LON, LAT]))
        .filterDate(*AUGUST)
    )
    values, valid = compute(ee_api, collection.count(), "B8", GRID_4326)
    expected = (~np.ma.getmaskarray(_masked_stack("B8", GRID_4326))).sum(axis=0)
    assert valid.all()
    np.testing.assert_array_equal(values, expected)


def _ndvi_oracle(it: Item) -> tuple[np.ndarray, np.ndarray]:
    nir = warp_band(it.band_path("B8"), GRID_4326).astype(np.float64)
    red = warp_band(it.band_path("B4"), GRID_4326).astype(np.float64)
    valid = (nir != 0) & (red != 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, (nir - red) / (nir + red), 0), valid


def test_ndvi_through_normalized_difference(ee_api) -> None:
    it = item("20230815")
    values, valid = compute(
        ee_api, ee_api.Image(it.image_id).normalizedDifference(["B8", "B4"]), "nd", GRID_4326
    )
    expected, expected_valid = _ndvi_oracle(it)
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_allclose(values[valid], expected[valid], rtol=1e-6)


def test_ndvi_through_expression(ee_api) -> None:
    it = item("20230815")
    image = ee_api.Image(it.image_id).expression(
        "float(NIR - RED) / (NIR + RED)",
        {
            "NIR": ee_api.Image(it.image_id).select("B8"),
            "RED": ee_api.Image(it.image_id).select("B4"),
        },
    )
    values, valid = compute(ee_api, image, image.bandNames().getInfo()[0], GRID_4326)
    expected, expected_valid = _ndvi_oracle(it)
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_allclose(values[valid], expected[valid], rtol=1e-6)


def test_clip_masks_outside_the_geometry(ee_api) -> None:
    it = item("20230815")
    ring = [
        (LON - 0.03, LAT - 0.02),
        (LON + 0.05, LAT - 0.03),
        (LON + 0.01, LAT + 0.04),
        (LON - 0.03, LAT - 0.02),
    ]
    geometry = ee_api.Geometry.Polygon([[list(p) for p in ring]], None, False)
    values, valid = compute(ee_api, ee_api.Image(it.image_id).clip(geometry), "B4", GRID_4326)
    b4 = warp_band(it.band_path("B4"), GRID_4326)
    # Every pixel the polygon covers at all stays unmasked, the edges with a fractional mask.
    size = (GRID_4326.height, GRID_4326.width)
    covered = coverage_weights(Polygon(ring), size, GRID_4326.transform) > 0
    assert_exact(values, valid, b4, (b4 != 0) & covered)
    assert 0.05 < valid.mean() < 0.9


def test_unmask_fills_masked_pixels(ee_api) -> None:
    grid = Grid.centered("EPSG:4326", 15.0, 45.5, 0.002, 120, 80)  # half outside the tile
    it = item("20230815")
    values, valid = compute(ee_api, ee_api.Image(it.image_id).unmask(7, False), "B4", grid)
    b4 = warp_band(it.band_path("B4"), grid)
    assert valid.all()
    np.testing.assert_array_equal(values, np.where(b4 != 0, b4, 7))


def test_pixel_lon_lat(ee_api) -> None:
    grid = utm_to_grid("EPSG:32633", 500.0, 40, 30)
    values, valid = compute(ee_api, ee_api.Image.pixelLonLat(), "latitude", grid)
    rows, cols = np.mgrid[0:30, 0:40] + 0.5
    t = grid.transform
    xs, ys = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    _, lat = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True).transform(xs, ys)
    assert valid.all()
    np.testing.assert_allclose(values, lat, rtol=1e-9)
    assert math.isclose(float(values.mean()), LAT, abs_tol=0.1)


def test_pixel_area_on_the_ellipsoid(ee_api) -> None:
    from pyproj import Geod

    grid = Grid.centered("EPSG:4326", LON, LAT, 0.01, 20, 30)
    values, valid = compute(ee_api, ee_api.Image.pixelArea(), "area", grid)
    geod = Geod(ellps="WGS84")
    t = grid.transform
    for row in range(grid.height):
        lon0, lat0 = t.c, t.f + row * t.e
        lons = [lon0, lon0 + t.a, lon0 + t.a, lon0]
        lats = [lat0, lat0, lat0 + t.e, lat0 + t.e]
        area, _ = geod.polygon_area_perimeter(lons, lats)
        np.testing.assert_allclose(values[row], abs(area), rtol=1e-4)
    assert valid.all()


def test_reduce_resolution_takes_the_mean_of_native_pixels(ee_api) -> None:
    grid = Grid.centered("EPSG:4326", LON, LAT, 0.01, 40, 30)  # ~800 m pixels over 120 m ones
    it = item("20230815")
    image = ee_api.Image(it.image_id).select("B4").reduceResolution(ee_api.Reducer.mean())
    values, valid = compute(ee_api, image, "B4", grid)
    with rasterio.open(it.band_path("B4")) as src:
        data = src.read(1).astype(np.float64)
        expected = np.full((grid.height, grid.width), np.nan)
        reproject(
            np.where(data == 0, np.nan, data), expected, src_transform=src.transform, src_crs=src.crs,
            src_nodata=np.nan, dst_transform=grid.transform, dst_crs=CRS.from_user_input(grid.crs),
            dst_nodata=np.nan, resampling=Resampling.average,
        )  # fmt: skip
    np.testing.assert_array_equal(valid, ~np.isnan(expected))
    close = np.abs(values[valid] - expected[valid]) <= 1.0
    assert close.mean() > 0.99
    nearest = warp_band(it.band_path("B4"), grid).astype(np.float64)
    assert (
        np.abs(values[valid] - nearest[valid]).mean()
        > 5 * np.abs(values[valid] - expected[valid]).mean()
    )


def test_unmask_keeps_the_footprint_by_default(ee_api) -> None:
    # 2023-08-13 has an orbit-edge nodata wedge inside the file; the grid also leaves the file.
    grid = Grid.centered("EPSG:4326", 16.42, 45.5, 0.002, 120, 80)
    it = item("20230813")
    values, valid = compute(ee_api, ee_api.Image(it.image_id).unmask(7), "B4", grid)
    b4 = warp_band(it.band_path("B4"), grid)
    with rasterio.open(it.band_path("B4")) as src:
        ones = np.ones((src.height, src.width), np.uint8)
        covered = np.zeros((grid.height, grid.width), np.uint8)
        reproject(
            ones, covered, src_transform=src.transform, src_crs=src.crs, dst_transform=grid.transform,
            dst_crs=CRS.from_user_input(grid.crs), resampling=Resampling.nearest,
        )  # fmt: skip
    inside = covered == 1
    assert ((b4 == 0) & inside).any() and (~inside).any()
    np.testing.assert_array_equal(valid, inside)
    np.testing.assert_array_equal(values[inside], np.where(b4 != 0, b4, 7)[inside])
