"""ImageCollection.reduce with the reducers beyond the basic composites: sample statistics,
product, logical and distinct counts, minMax, combine, and the two-input linearFit.

Oracle: the five 33TWM scenes read with rasterio on their native grid, nodata (0) skipped,
reduced pixel by pixel with numpy and scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import scipy.stats
from affine import Affine
from oracle import Grid, load_items

pytestmark = pytest.mark.e2e

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
ROW0, COL0, HEIGHT, WIDTH = 505, 160, 20, 30
GRID = Grid("EPSG:32633", Affine(120, 0, 499980 + 120 * COL0, 0, -120, 5200020 - 120 * ROW0),
            WIDTH, HEIGHT)  # fmt: skip
FILL = -999.0


def stack(band: str) -> np.ma.MaskedArray:
    items = sorted((i for i in load_items() if "33TWM" in i.id), key=lambda i: i.time_start_ms)
    layers = []
    for item in items:
        with rasterio.open(item.band_path(band)) as src:
            layers.append(src.read(1, window=((ROW0, ROW0 + HEIGHT), (COL0, COL0 + WIDTH))))
    data = np.stack(layers).astype(np.float64)
    return np.ma.masked_array(data, data == 0)


def compute(ee, image) -> np.ndarray:
    return ee.data.computePixels(
        {
            "expression": image.unmask(FILL),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": GRID.to_pixel_grid(),
        }
    )


def collection(ee):
    return ee.ImageCollection(COLLECTION).filter(ee.Filter.stringContains("system:index", "33TWM"))


def test_single_input_statistics(ee_api) -> None:
    ee = ee_api
    R = ee.Reducer
    b4 = collection(ee).select("B4")
    image = (
        b4.reduce(R.sampleStdDev())
        .addBands(b4.reduce(R.skew()))
        .addBands(b4.reduce(R.minMax()))
        .addBands(b4.reduce(R.mean().combine(R.sampleVariance(), "", True)))
        .addBands(b4.reduce(R.countEvery()))
        .addBands(collection(ee).select("SCL").reduce(R.countDistinct()))
        .addBands(collection(ee).select("SCL").map(lambda i: i.eq(9)).reduce(R.anyNonZero()))
        .addBands(collection(ee).select("SCL").map(lambda i: i.eq(4)).reduce(R.allNonZero()))
        .addBands(b4.map(lambda i: i.toFloat().divide(1000)).reduce(R.product()))
    )
    names = image.bandNames().getInfo()
    assert names == ["B4_stdDev", "B4_skew", "B4_min", "B4_max", "B4_mean", "B4_variance",
                     "B4_count", "SCL_count", "SCL_any", "SCL_all", "B4_product"]  # fmt: skip
    got = compute(ee, image)
    b4v, scl = stack("B4"), stack("SCL")
    assert b4v.count(axis=0).min() >= 3
    np.testing.assert_allclose(got["B4_stdDev"], b4v.std(axis=0, ddof=1), rtol=1e-9)
    skew = np.ma.apply_along_axis(lambda v: scipy.stats.skew(v.compressed(), bias=False), 0, b4v)
    np.testing.assert_allclose(got["B4_skew"], skew, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(got["B4_min"], b4v.min(axis=0))
    np.testing.assert_array_equal(got["B4_max"], b4v.max(axis=0))
    np.testing.assert_allclose(got["B4_mean"], b4v.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["B4_variance"], b4v.var(axis=0, ddof=1), rtol=1e-9)
    np.testing.assert_array_equal(got["B4_count"], b4v.count(axis=0))
    distinct = [[len(set(scl[:, r, c].compressed().tolist())) for c in range(WIDTH)]
                for r in range(HEIGHT)]  # fmt: skip
    np.testing.assert_array_equal(got["SCL_count"], distinct)
    np.testing.assert_array_equal(got["SCL_any"], (scl == 9).filled(False).any(axis=0))
    np.testing.assert_array_equal(got["SCL_all"], (scl == 4).filled(True).all(axis=0))
    np.testing.assert_allclose(got["B4_product"], (b4v / 1000).prod(axis=0), rtol=1e-9)


def test_two_input_linear_fit(ee_api) -> None:
    ee = ee_api
    pairs = collection(ee).select(["B4", "B8"])
    fit = pairs.reduce(ee.Reducer.linearFit())
    assert fit.bandNames().getInfo() == ["scale", "offset"]
    got = compute(ee, fit)
    x, y = stack("B4"), stack("B8")
    both = ~(x.mask | y.mask)
    for r in range(HEIGHT):
        for c in range(WIDTH):
            keep = both[:, r, c]
            slope, intercept = np.polyfit(x.data[keep, r, c], y.data[keep, r, c], 1)
            assert got["scale"][r, c] == pytest.approx(slope, rel=1e-7, abs=1e-9)
            assert got["offset"][r, c] == pytest.approx(intercept, rel=1e-7, abs=1e-6)
    # forEach / forEachBand: one copy of the reducer per band, outputs named after the bands.
    per_band = pairs.reduce(ee.Reducer.max().forEachBand(pairs.first()))
    assert per_band.bandNames().getInfo() == ["B4", "B8"]
    got = compute(ee, per_band.addBands(pairs.reduce(ee.Reducer.minMax().forEach(["r", "n"]))))
    np.testing.assert_array_equal(got["B4"], x.max(axis=0))
    np.testing.assert_array_equal(got["B8"], y.max(axis=0))
    np.testing.assert_array_equal(got["r_min"], x.min(axis=0))
    np.testing.assert_array_equal(got["n_max"], y.max(axis=0))
    with pytest.raises(ee.EEException, match="takes 2 inputs, but the images have 3 bands"):
        collection(ee).select(["B4", "B8", "B2"]).reduce(
            ee.Reducer.linearFit()
        ).bandNames().getInfo()


def test_product_and_or_shortcuts_keep_band_names(ee_api) -> None:
    """ImageCollection.product(), .and() and .or() (the reduce.* shortcuts of product,
    allNonZero and anyNonZero) keep the band names."""
    ee = ee_api
    scaled = collection(ee).select("B4").map(lambda i: i.toFloat().divide(1000))
    vegetation = collection(ee).select("SCL").map(lambda i: i.eq(4))
    image = (
        scaled.product()
        .addBands(vegetation.And().rename("all_vegetation"))
        .addBands(vegetation.Or().rename("any_vegetation"))
    )
    assert image.bandNames().getInfo() == ["B4", "all_vegetation", "any_vegetation"]
    got = compute(ee, image)
    b4v, scl = stack("B4"), stack("SCL")
    np.testing.assert_allclose(got["B4"], (b4v / 1000).prod(axis=0), rtol=1e-9)
    veg = np.ma.masked_array(scl.data == 4, scl.mask)
    np.testing.assert_array_equal(got["all_vegetation"], veg.all(axis=0).astype(int))
    np.testing.assert_array_equal(got["any_vegetation"], veg.any(axis=0).astype(int))
