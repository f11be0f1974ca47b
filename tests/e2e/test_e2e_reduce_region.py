"""Image.reduceRegion on the demo Sentinel-2 data over the Slovenia border, against an oracle.

The oracle reads the band files with rasterio and selects the pixels whose centres fall in the
border polygon with `rasterio.features.geometry_mask` on the native grid (or on a coarser grid
with the same origin) for the unweighted reducers (count, min, max, toList, linearFit, and the
histogram-based ones, see ADR 0054), and weighs every pixel the polygon covers by its covered
fraction for the weighted ones (mean, sum, variance, stdDev: `oracle.coverage_weights`), then
reduces them with numpy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features
from affine import Affine
from oracle import Grid, Item, coverage_weights, load_items, masked_median, warp_band
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parents[2]
BORDER_PATH = REPO_ROOT / "tests" / "data" / "vector" / "eo-learn" / "svn_border.geojson"
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
CLEAR = "S2A_33TWM_20230815_0_L2A"  # few clouds over Slovenia
CLOUDY = "S2B_33TWM_20230810_0_L2A"  # clouds and a no-data edge over Slovenia
SCL_MASKED = [3, 8, 9, 10]  # cloud shadow, cloud medium and high probability, cirrus


def border() -> tuple[dict[str, Any], BaseGeometry]:
    """The Slovenia border polygon (EPSG:32633), as GeoJSON and as a shapely shape."""
    doc = json.loads(BORDER_PATH.read_text())
    assert doc["crs"]["properties"]["name"].endswith("32633")
    geometry = doc["features"][0]["geometry"]
    return geometry, shape(geometry)


def item(item_id: str) -> Item:
    return next(i for i in load_items() if i.id == item_id)


def read(path: Path) -> tuple[np.ndarray, Affine]:
    with rasterio.open(path) as src:
        return src.read(1), src.transform


def inside(polygon: BaseGeometry, shape_: tuple[int, int], transform: Affine) -> np.ndarray:
    return rasterio.features.geometry_mask([polygon], shape_, transform, invert=True)


def weighted(
    data: np.ndarray, polygon: BaseGeometry, transform: Affine, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The values and weights of a weighted reducer: every valid pixel the polygon covers."""
    w = coverage_weights(polygon, data.shape, transform)
    ok = (w > 0) & valid
    return data[ok].astype(np.float64), w[ok]


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.sum(values * weights) / np.sum(weights))


def weighted_variance(values: np.ndarray, weights: np.ndarray) -> float:
    mean = weighted_mean(values, weights)
    return float(np.sum(weights * (values - mean) ** 2) / np.sum(weights))


@pytest.fixture(scope="module")
def svn(ee_api):
    geojson, _ = border()
    return ee_api.Geometry(geojson, "EPSG:32633", False)


def image(ee, item_id: str):
    return ee.Image(f"{COLLECTION}/{item_id}")


def mean_and_count(ee):
    return ee.Reducer.mean().combine(ee.Reducer.count(), "", True)


def test_mean_count_native_grid(ee_api, svn) -> None:
    """scale=120 without crs: the band's own projection at 120 m, i.e. its native grid."""
    result = (
        image(ee_api, CLEAR).select("B4").reduceRegion(mean_and_count(ee_api), svn, 120).getInfo()
    )
    b4, transform = read(item(CLEAR).band_path("B4"))
    valid = inside(border()[1], b4.shape, transform) & (b4 != 0)
    assert valid.sum() > 100_000
    assert result["B4_count"] == int(valid.sum())
    values, weights = weighted(b4, border()[1], transform, b4 != 0)
    assert result["B4_mean"] == pytest.approx(weighted_mean(values, weights), rel=1e-9)
    # Centroid pixels only, as before ADR 0054: 490.42567 here, 490.42044 weighted.
    assert abs(result["B4_mean"] - b4[valid].mean()) > 1e-3


def test_explicit_crs_transform(ee_api, svn) -> None:
    """crs + crsTransform giving the native grid; single-output reducers key by band name."""
    b4, transform = read(item(CLEAR).band_path("B4"))
    crs_transform = [transform.a, transform.b, transform.c, transform.d, transform.e, transform.f]
    img = image(ee_api, CLEAR).select(["B4", "B8"])
    result = img.reduceRegion(
        ee_api.Reducer.sum(), svn, crs="EPSG:32633", crsTransform=crs_transform
    ).getInfo()
    b8, _ = read(item(CLEAR).band_path("B8"))
    assert set(result) == {"B4", "B8"}
    for name, data in (("B4", b4), ("B8", b8)):
        values, weights = weighted(data, border()[1], transform, data != 0)
        assert result[name] == pytest.approx(float(np.sum(values * weights)), rel=1e-9)


def test_statistics(ee_api, svn) -> None:
    """minMax, stdDev, median, percentile and a frequency histogram of SCL classes. median and
    percentile stay on the pixel centres (ADR 0054: not weighted here)."""
    img = image(ee_api, CLEAR)
    b4, transform = read(item(CLEAR).band_path("B4"))
    scl, _ = read(item(CLEAR).band_path("SCL"))
    region = inside(border()[1], b4.shape, transform)
    values = b4[region & (b4 != 0)].astype(np.float64)
    covered, weights = weighted(b4, border()[1], transform, b4 != 0)
    reducer = (
        ee_api.Reducer.minMax()
        .combine(ee_api.Reducer.stdDev(), "", True)
        .combine(ee_api.Reducer.median(), "", True)
        .combine(ee_api.Reducer.percentile([10, 90]), "", True)
    )
    stats = img.select("B4").reduceRegion(reducer, svn, 120).getInfo()
    assert stats["B4_min"] == values.min()
    assert stats["B4_max"] == values.max()
    assert stats["B4_stdDev"] == pytest.approx(
        np.sqrt(weighted_variance(covered, weights)), rel=1e-9
    )
    assert stats["B4_median"] == pytest.approx(np.median(values))
    assert stats["B4_p10"] == pytest.approx(np.percentile(values, 10))
    assert stats["B4_p90"] == pytest.approx(np.percentile(values, 90))
    histogram = (
        img.select("SCL").reduceRegion(ee_api.Reducer.frequencyHistogram(), svn, 120).getInfo()
    )
    # frequencyHistogram is weighted: a class counts each pixel by its weight (ADR 0054).
    classes, weights = weighted(scl, border()[1], transform, scl != 0)
    expected = {str(int(c)): float(weights[classes == c].sum()) for c in np.unique(classes)}
    assert histogram["SCL"] == pytest.approx(expected, rel=1e-9)
    assert histogram["SCL"]["4"] != int((region & (scl == 4)).sum())


def test_scl_cloud_mask(ee_api, svn) -> None:
    """Masking the Sentinel-2 SCL classes the way users write it, then count and mean."""
    img = image(ee_api, CLOUDY)
    scl = img.select("SCL")
    clear = scl.neq(3).And(scl.neq(8)).And(scl.neq(9)).And(scl.neq(10))
    result = (
        img.select("B4").updateMask(clear).reduceRegion(mean_and_count(ee_api), svn, 120).getInfo()
    )
    b4, transform = read(item(CLOUDY).band_path("B4"))
    scl_px, _ = read(item(CLOUDY).band_path("SCL"))
    region = inside(border()[1], b4.shape, transform)
    clear_px = (b4 != 0) & (scl_px != 0) & ~np.isin(scl_px, SCL_MASKED)
    valid = region & clear_px
    unmasked = region & (b4 != 0)
    assert 0 < valid.sum() < unmasked.sum() * 0.5  # the mask removes most of the region
    assert result["B4_count"] == int(valid.sum())
    values, weights = weighted(b4, border()[1], transform, clear_px)
    assert result["B4_mean"] == pytest.approx(weighted_mean(values, weights), rel=1e-9)


def test_too_many_pixels(ee_api, svn) -> None:
    reducer = ee_api.Reducer.count()
    with pytest.raises(ee_api.EEException) as info:
        image(ee_api, CLEAR).select("B4").reduceRegion(reducer, svn, 120, maxPixels=1000).getInfo()
    # The region's pixels on the native grid, wherever the image has data or not.
    _, transform = read(item(CLEAR).band_path("B4"))
    polygon = border()[1]
    xmin, ymin, xmax, ymax = polygon.bounds
    col0 = int(np.floor((xmin - transform.c) / transform.a))
    row0 = int(np.floor((ymax - transform.f) / transform.e))
    width = int(np.ceil((xmax - transform.c) / transform.a)) - col0
    height = int(np.ceil((ymin - transform.f) / transform.e)) - row0
    grid = transform @ Affine.translation(col0, row0)
    found = int(inside(polygon, (height, width), grid).sum())
    assert str(info.value) == (
        "Image.reduceRegion: Too many pixels in the region. "
        f"Found {found}, but maxPixels allows only 1000."
    )


def test_best_effort_coarsens(ee_api, svn) -> None:
    """bestEffort doubles the pixel size until the region fits: 120 -> 240 -> 480 m here, read
    from the band's 4x overview as Earth Engine reads its pyramids. The mean is weighted, so
    the region counts every pixel it covers at all."""
    result = (
        image(ee_api, CLEAR)
        .select("B4")
        .reduceRegion(mean_and_count(ee_api), svn, 120, maxPixels=100_000, bestEffort=True)
        .getInfo()
    )
    path = item(CLEAR).band_path("B4")
    _, transform = read(path)
    polygon = border()[1]
    scale = 480.0
    xmin, ymin, xmax, ymax = polygon.bounds
    col0 = int(np.floor((xmin - transform.c) / scale))
    row0 = int(np.floor((transform.f - ymax) / scale))
    width = int(np.ceil((xmax - transform.c) / scale)) - col0
    height = int(np.ceil((transform.f - ymin) / scale)) - row0
    coarse = Affine(scale, 0, transform.c + col0 * scale, 0, -scale, transform.f - row0 * scale)
    region = inside(polygon, (height, width), coarse)
    covered = coverage_weights(polygon, (height, width), coarse) > 0
    assert 50_000 < (region | covered).sum() <= 100_000
    b4 = warp_band(path, Grid("EPSG:32633", coarse, width, height), overview_level=1)
    valid = region & (b4 != 0)
    assert result["B4_count"] == int(valid.sum())
    values, weights = weighted(b4, polygon, coarse, b4 != 0)
    assert result["B4_mean"] == pytest.approx(weighted_mean(values, weights), rel=1e-9)


FIELD = box(520_010, 5_130_010, 530_010, 5_138_010)  # no pixel centre on an edge


def field_values(item_id: str, band: str) -> np.ndarray:
    data, transform = read(item(item_id).band_path(band))
    return data[inside(FIELD, data.shape, transform) & (data != 0)]


def ee_field(ee):
    return ee.Geometry.Polygon([list(map(list, FIELD.exterior.coords))], "EPSG:32633", False)


def test_min_variance_and_list(ee_api) -> None:
    reducer = (
        ee_api.Reducer.min()
        .combine(ee_api.Reducer.variance(), "", True)
        .combine(ee_api.Reducer.toList(), "", True)
    )
    result = image(ee_api, CLEAR).select("B8").reduceRegion(reducer, ee_field(ee_api), 120)
    result = result.getInfo()
    values = field_values(CLEAR, "B8")
    b8, transform = read(item(CLEAR).band_path("B8"))
    covered, weights = weighted(b8, FIELD, transform, b8 != 0)
    assert result["B8_min"] == values.min()
    assert result["B8_variance"] == pytest.approx(weighted_variance(covered, weights), rel=1e-9)
    assert sorted(result["B8_list"]) == sorted(values.tolist())


def test_histogram(ee_api) -> None:
    result = (
        image(ee_api, CLEAR)
        .select("B4")
        .reduceRegion(ee_api.Reducer.histogram(maxBuckets=64), ee_field(ee_api), 120)
        .getInfo()["B4"]
    )
    # histogram is weighted: each pixel the field covers counts by its weight (ADR 0054).
    b4, transform = read(item(CLEAR).band_path("B4"))
    values, weights = weighted(b4, FIELD, transform, b4 != 0)
    start, width, counts = result["bucketMin"], result["bucketWidth"], result["histogram"]
    assert len(counts) <= 64 and np.log2(width).is_integer()
    edges = start + width * np.arange(len(counts) + 1)
    assert edges[0] <= values.min() and values.max() < edges[-1]
    expected, _ = np.histogram(values, bins=edges, weights=weights)
    assert counts == pytest.approx(expected.tolist(), rel=1e-9)
    assert sum(counts) != len(field_values(CLEAR, "B4"))
    for mean, lo, hi, n in zip(result["bucketMeans"], edges, edges[1:], counts, strict=False):
        if n:
            inside = (values >= lo) & (values < hi)
            assert mean == pytest.approx(weighted_mean(values[inside], weights[inside]))


def test_two_input_reducer_takes_two_bands(ee_api) -> None:
    """linearFit takes the image's two bands as (x, y); the outputs keep their names."""
    img = image(ee_api, CLEAR).select(["B4", "B8"])
    fit = img.reduceRegion(ee_api.Reducer.linearFit(), ee_field(ee_api), 120).getInfo()
    b4, transform = read(item(CLEAR).band_path("B4"))
    b8, _ = read(item(CLEAR).band_path("B8"))
    both = inside(FIELD, b4.shape, transform) & (b4 != 0) & (b8 != 0)
    slope, offset = np.polyfit(b4[both].astype(np.float64), b8[both].astype(np.float64), 1)
    assert set(fit) == {"scale", "offset"}
    assert fit["scale"] == pytest.approx(slope, rel=1e-9)
    assert fit["offset"] == pytest.approx(offset, rel=1e-9)


def test_composite_needs_its_grid(ee_api) -> None:
    """A median composite has no native grid: given one (crs + crsTransform), it is reduced on
    it; the oracle takes the per-pixel median of the August 33TWM scenes."""
    region = ee_field(ee_api)
    composite = (
        ee_api.ImageCollection(COLLECTION)
        .filterDate("2023-08-01", "2023-09-01")
        .filterBounds(region)
        .select("B4")
        .median()
    )
    native = [120, 0, 499980, 0, -120, 5200020]
    result = composite.reduceRegion(
        mean_and_count(ee_api), region, crs="EPSG:32633", crsTransform=native
    ).getInfo()
    scenes = [i for i in load_items() if "33TWM" in i.id]
    stack = np.stack([read(i.band_path("B4"))[0] for i in scenes])
    median = masked_median(stack)
    _, transform = read(scenes[0].band_path("B4"))
    assert transform == Affine(*native)
    valid = inside(FIELD, median.shape, transform) & ~np.isnan(median)
    assert result["B4_count"] == int(valid.sum())
    values, weights = weighted(median, FIELD, transform, ~np.isnan(median))
    assert result["B4_mean"] == pytest.approx(weighted_mean(values, weights), rel=1e-9)
