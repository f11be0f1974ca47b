"""Array-valued pixels through the stock client: ImageCollection.toArray and the usual idiom
(arraySlice, arrayReduce, arrayProject, arrayFlatten), masking, sorting and lengths.

Oracle: the five 33TWM scenes read with rasterio on their native grid (nodata 0 is masked),
with the per-pixel arrays rebuilt in plain numpy. Cloudy values (B4 >= 5000) are masked
before toArray, so the arrays of different pixels have different lengths.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from oracle import Grid, load_items
from pyproj import Transformer

pytestmark = pytest.mark.e2e

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
ROW0, COL0, HEIGHT, WIDTH = 505, 160, 6, 8
GRID = Grid("EPSG:32633", Affine(120, 0, 499980 + 120 * COL0, 0, -120, 5200020 - 120 * ROW0),
            WIDTH, HEIGHT)  # fmt: skip
FILL = -999.0
CLOUD = 5000  # B4 at or above this is taken as cloud and masked, so pixels differ in length


def scenes(band: str) -> np.ndarray:
    """(scene, row, column) of one band, scenes in time order."""
    items = sorted((i for i in load_items() if "33TWM" in i.id), key=lambda i: i.time_start_ms)
    layers = []
    for item in items:
        with rasterio.open(item.band_path(band)) as src:
            layers.append(src.read(1, window=((ROW0, ROW0 + HEIGHT), (COL0, COL0 + WIDTH))))
    return np.stack(layers).astype(np.float64)


def pixel_arrays() -> list[list[np.ndarray]]:
    """Per pixel, the (k, 2) array of (B4, B8) over the scenes valid in both bands."""
    b4, b8 = scenes("B4"), scenes("B8")
    out = []
    for r in range(HEIGHT):
        row = []
        for c in range(WIDTH):
            ok = (b4[:, r, c] != 0) & (b8[:, r, c] != 0) & (b4[:, r, c] < CLOUD)
            row.append(np.stack([b4[ok, r, c], b8[ok, r, c]], axis=1))
        out.append(row)
    return out


def per_pixel(fn, fill: float = FILL) -> np.ndarray:
    return np.array([[fn(a) for a in row] for row in pixel_arrays()], dtype=np.float64)


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


def array_image(ee):
    clear = collection(ee).map(lambda i: i.updateMask(i.select("B4").lt(CLOUD)))
    return clear.select(["B4", "B8"]).toArray()


def test_collection_to_array_idiom(ee_api) -> None:
    ee = ee_api
    arr = array_image(ee)
    info = arr.getInfo()["bands"][0]
    assert info["id"] == "array"
    assert info["data_type"]["dimensions"] == 2
    types = arr.addBands(arr.arrayLength(0)).bandTypes().getInfo()
    assert types["array"]["dimensions"] == 2 and "dimensions" not in types["array_1"]
    mean = arr.arrayReduce(ee.Reducer.mean(), [0]).arrayProject([1]).arrayFlatten([["B4", "B8"]])
    centred = arr.subtract(arr.arrayReduce(ee.Reducer.mean(), [0]))  # (k, 2) - (1, 2)
    spread = centred.abs().arrayReduce(ee.Reducer.max(), [0]).arrayFlatten([["dev"], ["4", "8"]])
    firsts = arr.arraySlice(0, 0, 2).arrayReduce(ee.Reducer.sum(), [0])
    image = (
        mean.addBands(spread)
        .addBands(arr.arrayLength(0).rename("n"))
        .addBands(arr.arrayLength(1).rename("bands"))
        .addBands(arr.arrayDimensions().rename("dims"))
        .addBands(arr.arrayLengths().arrayFlatten([["len0", "len1"]]))
        .addBands(firsts.arrayFlatten([["first2"], ["b4", "b8"]]))
        .addBands(arr.arrayGet([0, 1]).rename("get01"))
        .addBands(arr.arrayFlatten([[f"r{i}" for i in range(5)], ["a", "b"]]).select("r4_b"))
        .addBands(arr.arraySlice(1, -1).arrayProject([0]).arrayGet([-1]).rename("neg"))
    )
    got = compute(ee, image)
    n = per_pixel(len)
    assert 0 < n.min() < n.max()  # ragged: pixels differ in length
    np.testing.assert_allclose(got["B4"], per_pixel(lambda a: a[:, 0].mean()), rtol=1e-12)
    np.testing.assert_allclose(got["B8"], per_pixel(lambda a: a[:, 1].mean()), rtol=1e-12)
    dev = per_pixel(lambda a: np.abs(a[:, 0] - a[:, 0].mean()).max())
    np.testing.assert_allclose(got["dev_4"], dev, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(got["n"], n)
    np.testing.assert_array_equal(got["len0"], n)
    assert (got["bands"] == 2).all() and (got["len1"] == 2).all() and (got["dims"] == 2).all()
    np.testing.assert_array_equal(got["first2_b4"], per_pixel(lambda a: a[:2, 0].sum()))
    np.testing.assert_array_equal(got["first2_b8"], per_pixel(lambda a: a[:2, 1].sum()))
    np.testing.assert_array_equal(got["get01"], per_pixel(lambda a: a[0, 1]))
    # flattening needs the labels' shape: pixels with fewer than 5 clear scenes are masked
    np.testing.assert_array_equal(
        got["r4_b"], per_pixel(lambda a: a[4, 1] if len(a) == 5 else FILL)
    )
    # an index out of range masks the pixel
    np.testing.assert_array_equal(got["neg"], FILL)


def test_mask_sort_and_band_math(ee_api) -> None:
    ee = ee_api
    b4 = array_image(ee).arraySlice(1, 0, 1).arrayProject([0])  # 1-D: B4 over valid scenes
    bright = b4.arrayMask(b4.gt(600))
    ascending = b4.arraySort()
    by_b8 = array_image(ee).arraySort(array_image(ee).arraySlice(1, 1, 2).multiply(-1))
    image = (
        bright.arrayLength(0).rename("bright_n")
        .addBands(bright.arrayReduce(ee.Reducer.sum(), [0]).arrayGet([0]).rename("bright_sum"))
        .addBands(ascending.arrayGet([0]).rename("min"))
        .addBands(ascending.arrayGet(ascending.arrayLength(0).subtract(1)).rename("max"))
        .addBands(b4.multiply(2).add(b4).arrayReduce(ee.Reducer.max(), [0]).arrayGet([0])
                  .rename("triple_max"))
        .addBands(by_b8.arrayGet([0, 0]).rename("b4_at_max_b8"))
        .addBands(
            bright.updateMask(bright.arrayLength(0).gt(1))
            .arrayReduce(ee.Reducer.max(), [0])
            .arrayGet([0])
            .rename("bright_max_of_2")
        )
    )  # fmt: skip
    got = compute(ee, image)
    bright_n = per_pixel(lambda a: (a[:, 0] > 600).sum())
    np.testing.assert_array_equal(got["bright_n"], bright_n)
    assert bright_n.max() > 0 and (bright_n < per_pixel(len)).any()
    expect_sum = per_pixel(lambda a: a[a[:, 0] > 600, 0].sum() if (a[:, 0] > 600).any() else FILL)
    np.testing.assert_array_equal(got["bright_sum"], expect_sum)
    bright_max = per_pixel(
        lambda a: a[a[:, 0] > 600, 0].max() if (a[:, 0] > 600).sum() > 1 else FILL
    )
    assert (bright_max != FILL).any()
    np.testing.assert_array_equal(got["bright_max_of_2"], bright_max)
    np.testing.assert_array_equal(got["min"], per_pixel(lambda a: a[:, 0].min()))
    np.testing.assert_array_equal(got["max"], per_pixel(lambda a: a[:, 0].max()))
    np.testing.assert_array_equal(got["triple_max"], per_pixel(lambda a: 3 * a[:, 0].max()))
    np.testing.assert_array_equal(
        got["b4_at_max_b8"], per_pixel(lambda a: a[np.argsort(-a[:, 1], kind="stable")[0], 0])
    )


def test_array_pixels_in_tables_and_refused_as_pixels(ee_api) -> None:
    ee = ee_api
    arr = array_image(ee)
    lon, lat = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True).transform(
        GRID.transform.c + 180, GRID.transform.f - 180
    )  # the centre of pixel (row 1, column 1)
    point = ee.Geometry.Point([lon, lat])
    proj = ee.Projection("EPSG:32633", list(GRID.crs_transform))
    feats = arr.sample(region=point, projection=proj).getInfo()["features"]
    assert len(feats) == 1
    expected = pixel_arrays()[1][1]
    assert feats[0]["properties"]["array"] == expected.tolist()
    region = point.buffer(1)
    crs = {"crs": "EPSG:32633", "crsTransform": list(GRID.crs_transform)}
    listed = arr.reduceRegion(ee.Reducer.toList(), region, **crs).getInfo()
    assert listed == {"array": [expected.tolist()]}
    with pytest.raises(ee.EEException, match="arrayFlatten"):
        ee.data.computePixels(
            {"expression": arr, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
        )
    with pytest.raises(ee.EEException, match="cannot reduce array"):
        arr.reduceRegion(ee.Reducer.mean(), region, **crs).getInfo()


T0 = 1690848000000  # 2023-08-01T00:00Z in milliseconds


def test_per_pixel_linear_trend(ee_api) -> None:
    """The trend-fitting idiom two ways: ImageCollection.reduce(linearRegression) and
    toArray + arraySlice + matrixSolve, on cloud-masked (ragged) time series."""
    ee = ee_api

    def variables(img):
        days = img.metadata("system:time_start").toDouble().subtract(T0).divide(86_400_000)
        b4 = img.select("B4")
        table = ee.Image(1).toDouble().addBands(days).addBands(b4.toDouble())
        return table.rename(["one", "t", "B4"]).updateMask(b4.lt(CLOUD))

    tables = collection(ee).map(variables)
    reg = tables.reduce(ee.Reducer.linearRegression(2, 1))
    assert reg.bandNames().getInfo() == ["coefficients", "residuals"]
    array = tables.toArray()
    solved = array.arraySlice(1, 0, 2).matrixSolve(array.arraySlice(1, 2))
    image = (
        reg.select("coefficients").arrayProject([0]).arrayFlatten([["offset", "slope"]])
        .addBands(reg.select("residuals").arrayFlatten([["rms"]]))
        .addBands(solved.arrayProject([0]).arrayFlatten([["offset2", "slope2"]]))
    )  # fmt: skip
    got = compute(ee, image)
    b4 = scenes("B4")
    items = sorted((i for i in load_items() if "33TWM" in i.id), key=lambda i: i.time_start_ms)
    days = np.array([(i.time_start_ms - T0) / 86_400_000 for i in items])
    offset, slope, rms = (np.full((HEIGHT, WIDTH), FILL) for _ in range(3))
    for r in range(HEIGHT):
        for c in range(WIDTH):
            ok = (b4[:, r, c] != 0) & (b4[:, r, c] < CLOUD)
            x = np.stack([np.ones(ok.sum()), days[ok]], axis=1)
            beta, *_ = np.linalg.lstsq(x, b4[ok, r, c], rcond=None)
            offset[r, c], slope[r, c] = beta
            rms[r, c] = np.sqrt(np.mean((b4[ok, r, c] - x @ beta) ** 2))
    for name, expected in (("offset", offset), ("slope", slope)):
        np.testing.assert_allclose(got[name], expected, rtol=1e-7)
        np.testing.assert_allclose(got[f"{name}2"], expected, rtol=1e-7)
    np.testing.assert_allclose(got["rms"], rms, rtol=1e-7, atol=1e-9)
