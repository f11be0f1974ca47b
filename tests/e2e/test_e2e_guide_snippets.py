"""Snippets of Earth Engine's guides that failed (issue 11, item 10), through the stock client.

Each is checked against an independent oracle: the demo GeoTIFFs read with rasterio and the
result computed with numpy (Kernel.fixed's focus, Image.expression's assignment), shapely on
pixel centres (Image.paint), numpy.average (reduceColumns' weights, and the value Earth
Engine's reducers06 guide documents), and rasterio reading each file of a per-band download.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import rasterio
import requests
import shapely
from affine import Affine
from oracle import Grid, load_items
from pyproj import Transformer
from shapely.geometry import Polygon

NATIVE_CRS = "EPSG:32633"


def item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def native(band: str) -> tuple[np.ndarray, Affine]:
    with rasterio.open(item().band_path(band)) as ds:
        return ds.read(1), ds.transform


def window(row: int, col: int, height: int, width: int) -> Grid:
    """A window of the band files' own 120 m grid (no resampling anywhere)."""
    _, t = native("B8")
    return Grid(NATIVE_CRS, t @ Affine.translation(col, row), width, height)


def compute(ee, image, grid: Grid) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


# -- Kernel.fixed(9, 9, rows, -4, -4): the images17 guide's local Geary's C ---------------------

ROW = [1, 1, 1, 1, 1, 1, 1, 1, 1]
CENTER_ROW = [1, 1, 1, 1, 0, 1, 1, 1, 1]
GUIDE_ROWS = [ROW, ROW, ROW, ROW, CENTER_ROW, ROW, ROW, ROW, ROW]


def test_fixed_kernel_with_negative_offsets_is_centred(ee_api) -> None:
    ee = ee_api
    info = ee.Kernel.fixed(9, 9, GUIDE_ROWS, -4, -4, False).getInfo()
    assert (info["x"], info["y"], info["width"], info["height"]) == (4, 4, 9, 9)
    np.testing.assert_array_equal(np.array(info["weights"]), np.array(GUIDE_ROWS))


def test_gearys_c_with_the_guides_fixed_kernel(ee_api) -> None:
    ee = ee_api
    nir = ee.Image(item().image_id).select("B8")
    kernel = ee.Kernel.fixed(9, 9, GUIDE_ROWS, -4, -4, False)
    neighs = nir.neighborhoodToBands(kernel)
    gearys = nir.subtract(neighs).pow(2).reduce(ee.Reducer.sum()).divide(81)
    row, col, height, width = 400, 500, 24, 30
    got = compute(ee, gearys.rename("c"), window(row, col, height, width))["c"]
    data, _ = native("B8")
    source = data[row - 4 : row + height + 4, col - 4 : col + width + 4].astype(np.float64)
    assert (source > 0).all()  # no masked pixel in the neighbourhoods
    expected = np.zeros((height, width))
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            if dx or dy:
                shifted = source[4 + dy : 4 + dy + height, 4 + dx : 4 + dx + width]
                expected += (source[4 : 4 + height, 4 : 4 + width] - shifted) ** 2
    np.testing.assert_allclose(got, expected / 81, rtol=1e-6)


# -- Image.expression('c = ...'): '=' names the single-band result -----------------------------


def test_expression_assignment_names_the_band(ee_api) -> None:
    ee = ee_api
    image = ee.Image(item().image_id)
    result = image.expression("c = sqrt(B4 + B8)")
    assert result.bandNames().getInfo() == ["c"]
    row, col, height, width = 300, 200, 20, 25
    got = compute(ee, result, window(row, col, height, width))["c"]
    b4, _ = native("B4")
    b8, _ = native("B8")
    part = np.s_[row : row + height, col : col + width]
    expected = np.sqrt(b4[part].astype(np.float64) + b8[part])
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_expression_assignment_of_many_bands_is_a_clean_error(ee_api) -> None:
    ee = ee_api
    image = ee.Image(item().image_id).select(["B4", "B8"])
    with pytest.raises(ee.EEException, match="single-band result"):
        image.expression("x = b()").bandNames().getInfo()


# -- Image.paint(features, '000000', 3): the reducers05 guide ----------------------------------

PAINT_GRID = Grid("EPSG:4326", Affine(0.01, 0, 10.0, 0, -0.01, 46.0), 40, 30)
SQUARE = Polygon([(10.053, 45.947), (10.171, 45.951), (10.166, 45.833), (10.049, 45.838)])
TRIANGLE = Polygon([(10.203, 45.902), (10.377, 45.896), (10.291, 45.723)])


def _features(ee):
    return ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Polygon(list(SQUARE.exterior.coords)), {"zone": 1}),
            ee.Feature(ee.Geometry.Polygon(list(TRIANGLE.exterior.coords)), {"zone": 2}),
        ]
    )


def _centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    return t.c + cols * t.a, t.f + rows * t.e


def test_paint_with_a_colour_string(ee_api) -> None:
    ee = ee_api
    empty = ee.Image(5).toUint8().updateMask(0)
    outline = empty.paint(_features(ee), "000000", 3)
    filled = empty.paint(_features(ee), "12")
    image = outline.rename("outline").addBands(outline.mask().rename("outline_m"))
    image = image.addBands(filled.rename("fill")).addBands(filled.mask().rename("fill_m"))
    arr = compute(ee, image, PAINT_GRID)
    lon, lat = _centres(PAINT_GRID)
    # '000000' names no property: it is the number 0, painted on a 3-pixel outline.
    edges = SQUARE.boundary.union(TRIANGLE.boundary)
    distance = shapely.distance(edges, shapely.points(lon, lat)) / 0.01
    painted = arr["outline_m"] == 1
    assert painted[distance < 0.8].all() and not painted[distance > 2.3].any()
    assert np.all(arr["outline"][painted] == 0)
    # '12' without a width fills the polygons with 12; the rest stays masked.
    inside = shapely.contains_xy(SQUARE.union(TRIANGLE), lon, lat)
    np.testing.assert_array_equal(arr["fill_m"] == 1, inside)
    assert np.all(arr["fill"][inside] == 12)


def test_paint_with_a_property_name_still_reads_the_property(ee_api) -> None:
    ee = ee_api
    arr = compute(ee, ee.Image(0).toUint8().paint(_features(ee), "zone").rename("z"), PAINT_GRID)
    lon, lat = _centres(PAINT_GRID)
    expected = np.select(
        [shapely.contains_xy(SQUARE, lon, lat), shapely.contains_xy(TRIANGLE, lon, lat)], [1, 2], 0
    )
    np.testing.assert_array_equal(arr["z"], expected)


# -- reduceColumns(weightSelectors=...) --------------------------------------------------------


def test_weighted_reduce_columns_of_the_reducers06_guide(ee_api) -> None:
    ee = ee_api
    fc = ee.FeatureCollection([ee.Feature(None, {"foo": v, "weight": v}) for v in (1, 2, 3)])
    got = fc.reduceColumns(ee.Reducer.mean(), ["foo"], ["weight"]).getInfo()
    assert got["mean"] == pytest.approx(np.average([1, 2, 3], weights=[1, 2, 3]), rel=1e-12)


def test_weighted_reduce_columns_against_numpy(ee_api) -> None:
    ee = ee_api
    rng = np.random.default_rng(11)
    x, y = rng.normal(10, 3, 40), rng.normal(-2, 1, 40)
    wx, wy = rng.uniform(0, 2, 40), rng.uniform(0, 5, 40)
    rows = [
        {"x": float(a), "y": float(b), "wx": float(c), "wy": float(d)}
        for a, b, c, d in zip(x, y, wx, wy, strict=True)
    ]
    rows.append({"x": 1000.0, "y": 1000.0, "wx": None, "wy": None})  # a null weight: skipped
    fc = ee.FeatureCollection([ee.Feature(None, r) for r in rows])
    reducers = ee.Reducer.mean().combine(ee.Reducer.variance(), sharedInputs=True)
    results = [
        fc.reduceColumns(ee.Reducer.mean().repeat(2), ["x", "y"], ["wx", "wy"]),
        fc.reduceColumns(ee.Reducer.sum(), ["x"], ["wx"]),
        fc.reduceColumns(reducers.combine(ee.Reducer.stdDev(), sharedInputs=True), ["x"], ["wx"]),
    ]
    mean2, total, stats = ee.List(results).getInfo()
    np.testing.assert_allclose(
        mean2["mean"], [np.average(x, weights=wx), np.average(y, weights=wy)], rtol=1e-12
    )
    assert total["sum"] == pytest.approx(float(np.sum(x * wx)), rel=1e-12)
    # Reducer.variance is the population variance: weighted, sum(w (x - m)^2) / sum(w).
    mean = np.average(x, weights=wx)
    variance = np.average((x - mean) ** 2, weights=wx)
    assert stats["mean"] == pytest.approx(mean, rel=1e-12)
    assert stats["variance"] == pytest.approx(variance, rel=1e-12)
    assert stats["stdDev"] == pytest.approx(np.sqrt(variance), rel=1e-12)


def test_weights_go_to_the_weighted_inputs_only(ee_api) -> None:
    ee = ee_api
    values, weights = [1.0, 2.0, 7.0], [3.0, 1.0, 0.5]
    fc = ee.FeatureCollection(
        [ee.Feature(None, {"v": v, "w": w}) for v, w in zip(values, weights, strict=True)]
    )
    # One weighted input (mean's) shared with an unweighted one (max's): one weight selector.
    both = ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True)
    got = fc.reduceColumns(both, ["v"], ["w"]).getInfo()
    assert got["mean"] == pytest.approx(np.average(values, weights=weights), rel=1e-12)
    assert got["max"] == 7.0
    with pytest.raises(ee.EEException, match="has 0 weighted inputs"):
        fc.reduceColumns(ee.Reducer.min(), ["v"], ["w"]).getInfo()


# -- getDownloadURL with per-band scales: one file per band, each on its own grid -------------


def test_download_with_per_band_scales(ee_api) -> None:
    ee = ee_api
    lon0, lat0, lon1, lat1 = 15.30, 45.55, 15.36, 45.59
    url = ee.Image(item().image_id).getDownloadURL(
        {
            "bands": [{"id": "B4", "scale": 120}, {"id": "B8", "scale": 240}],
            "region": ee.Geometry.Rectangle([lon0, lat0, lon1, lat1]),
        }
    )
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, response.text[:300]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    files = {}
    for name in archive.namelist():
        with rasterio.open(io.BytesIO(archive.read(name))) as ds:
            files[name] = (ds.read(1), ds.transform, ds.crs)
    assert sorted(name.rsplit(".", 2)[1] for name in files) == ["B4", "B8"]  # one file per band
    # The region's bounds in the bands' UTM zone (densified edges), by pyproj.
    to_utm = Transformer.from_crs("EPSG:4326", NATIVE_CRS, always_xy=True)
    xmin, ymin, xmax, ymax = to_utm.transform_bounds(lon0, lat0, lon1, lat1, densify_pts=21)
    b4, origin = native("B4")
    for band, scale in (("B4", 120), ("B8", 240)):
        data, t, crs = next(v for k, v in files.items() if k.endswith(f".{band}.tif"))
        assert crs == rasterio.crs.CRS.from_string(NATIVE_CRS)
        assert (t.a, t.b, t.d, t.e) == (scale, 0, 0, -scale), band
        # On the band's grid at that scale: snapped to the native origin, covering the region
        # and no more than one pixel beyond it.
        assert (t.c - origin.c) % scale == 0 and (origin.f - t.f) % scale == 0, band
        height, width = data.shape
        assert (
            t.c <= xmin < t.c + scale and t.c + width * scale - scale < xmax <= t.c + width * scale
        )
        assert (
            t.f >= ymax > t.f - scale
            and t.f - height * scale + scale > ymin >= t.f - height * scale
        )
    # B4 at its native scale: the native pixels of that window where the pixel centre lies in
    # the region's bounds; no data (0) where it lies outside (the edge row and column).
    data, t, _ = next(v for k, v in files.items() if k.endswith(".B4.tif"))
    col, row = round((t.c - origin.c) / 120), round((origin.f - t.f) / 120)
    expected = b4[row : row + data.shape[0], col : col + data.shape[1]]
    x = t.c + (np.arange(data.shape[1]) + 0.5) * 120
    y = t.f - (np.arange(data.shape[0]) + 0.5) * 120
    inside = np.outer((y > ymin + 1) & (y < ymax - 1), (x > xmin + 1) & (x < xmax - 1))
    outside = ~np.outer((y > ymin - 1) & (y < ymax + 1), (x > xmin - 1) & (x < xmax + 1))
    assert inside.sum() > 0.8 * data.size
    np.testing.assert_array_equal(data[inside], expected[inside])
    assert np.all(data[outside] == 0)
