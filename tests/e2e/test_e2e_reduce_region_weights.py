"""Earth Engine's weighted region reductions (guides "reduceRegion: Pixels in the region" and
"Weighted reductions", docs/decisions/0054) through the stock client, on the demo Sentinel-2
B4 band (native 120 m grid, EPSG:32633).

The oracle is brute force: every pixel's square of the polygon's bounding window is intersected
with the polygon by shapely, one at a time; the fraction becomes Earth Engine's 8-bit weight
floor(fraction * 255) / 255; the statistics are numpy's over the band read with rasterio.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import rasterio
import shapely
import shapely.affinity
from affine import Affine
from oracle import load_items
from pyproj import Transformer
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

ITEM = "S2A_33TWM_20230815_0_L2A"
IMAGE = f"COPERNICUS/S2_SR_HARMONIZED/{ITEM}"
# An irregular field, rotated so that its edges cut pixels at every angle (EPSG:32633).
FIELD = shapely.affinity.rotate(
    Polygon(
        [
            (541_013, 5_137_027),
            (545_911, 5_136_388),
            (547_204, 5_140_950),
            (543_377, 5_143_112),
            (540_650, 5_140_071),
        ]
    ),
    23,
    origin="centroid",
)
SECOND = Polygon([(560_007, 5_150_011), (563_989, 5_150_733), (561_502, 5_154_206)])
TO_WGS84 = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)


@functools.cache
def b4() -> tuple[np.ndarray, Affine]:
    item = next(i for i in load_items() if i.id == ITEM)
    with rasterio.open(item.band_path("B4")) as src:
        return src.read(1), src.transform


def brute_weights(polygon: BaseGeometry) -> np.ndarray:
    """Each pixel's weight: its square intersected with the polygon, pixel by pixel."""
    data, t = b4()
    weights = np.zeros(data.shape)
    xmin, ymin, xmax, ymax = polygon.bounds
    col0, col1 = math.floor((xmin - t.c) / t.a), math.ceil((xmax - t.c) / t.a)
    row0, row1 = math.floor((ymax - t.f) / t.e), math.ceil((ymin - t.f) / t.e)
    for row in range(row0, row1):
        for col in range(col0, col1):
            x, y = t.c + col * t.a, t.f + row * t.e
            fraction = box(x, y + t.e, x + t.a, y).intersection(polygon).area / (t.a * -t.e)
            weights[row, col] = math.floor(fraction * 255 + 1e-6) / 255
    return weights


def centres_inside(polygon: BaseGeometry) -> np.ndarray:
    data, t = b4()
    rows, cols = np.indices(data.shape)
    return shapely.contains_xy(polygon, t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e)


def weighted_oracle(polygon: BaseGeometry) -> dict[str, float]:
    data, _ = b4()
    w = brute_weights(polygon)
    ok = (w > 0) & (data != 0)
    x, w = data[ok].astype(np.float64), w[ok]
    mean = float(np.sum(w * x) / np.sum(w))
    variance = float(np.sum(w * (x - mean) ** 2) / np.sum(w))
    return {"mean": mean, "sum": float(np.sum(w * x)), "variance": variance}


def centroid_values(polygon: BaseGeometry) -> np.ndarray:
    data, _ = b4()
    return data[centres_inside(polygon) & (data != 0)].astype(np.float64)


def utm(ee, polygon: BaseGeometry):
    return ee.Geometry.Polygon([list(map(list, polygon.exterior.coords))], "EPSG:32633", False)


def shared(ee, *reducers):
    combined = reducers[0]
    for reducer in reducers[1:]:
        combined = combined.combine(reducer, "", True)
    return combined


def test_weighted_statistics_equal_the_oracle(ee_api) -> None:
    ee = ee_api
    reducer = shared(
        ee, ee.Reducer.mean(), ee.Reducer.sum(), ee.Reducer.variance(), ee.Reducer.stdDev()
    )
    result = ee.Image(IMAGE).select("B4").reduceRegion(reducer, utm(ee, FIELD), 120).getInfo()
    expected = weighted_oracle(FIELD)
    partial = brute_weights(FIELD)
    assert ((partial > 0) & (partial < 1)).sum() > 50  # the edges weigh in
    assert result["B4_mean"] == pytest.approx(expected["mean"], rel=1e-9)
    assert result["B4_sum"] == pytest.approx(expected["sum"], rel=1e-9)
    assert result["B4_variance"] == pytest.approx(expected["variance"], rel=1e-9)
    assert result["B4_stdDev"] == pytest.approx(math.sqrt(expected["variance"]), rel=1e-9)


def test_unweighted_reducers_take_the_pixel_centres(ee_api) -> None:
    """count and mean().unweighted(): the unmasked pixels whose centre is inside, weight 1;
    the weighted mean differs from it."""
    ee = ee_api
    reducer = shared(ee, ee.Reducer.mean().unweighted(), ee.Reducer.count(), ee.Reducer.max())
    result = ee.Image(IMAGE).select("B4").reduceRegion(reducer, utm(ee, FIELD), 120).getInfo()
    values = centroid_values(FIELD)
    assert result["B4_count"] == values.size
    assert result["B4_mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert result["B4_max"] == values.max()
    weighted = weighted_oracle(FIELD)["mean"]
    assert abs(weighted - values.mean()) > 1e-4 * values.mean()


def test_region_in_wgs84(ee_api) -> None:
    """A geodesic polygon in EPSG:4326 (the client's default) over the UTM band: its edges
    are nearly straight in UTM at this size (millimetres), so the oracle takes the projected
    vertices; a tolerance far below the weighted-centroid difference covers the rest."""
    ee = ee_api
    xs, ys = FIELD.exterior.xy
    lon, lat = TO_WGS84.transform(np.asarray(xs), np.asarray(ys))
    ring = [[round(a, 9), round(b, 9)] for a, b in zip(lon, lat, strict=True)]
    region = ee.Geometry.Polygon([ring])
    result = ee.Image(IMAGE).select("B4").reduceRegion(ee.Reducer.mean(), region, 120).getInfo()
    expected = weighted_oracle(FIELD)["mean"]
    assert result["B4"] == pytest.approx(expected, rel=1e-6)
    assert abs(result["B4"] - centroid_values(FIELD).mean()) > 1e-4 * expected


def test_clip_masks_the_edges_by_their_covered_fraction(ee_api) -> None:
    """clip() leaves the edge pixels with the covered fraction as their mask: a weighted mean
    over the clip's own geometry, or over a pixel-aligned box around it (where only the mask
    weighs), equals the weighted oracle; count counts every pixel the clip left unmasked."""
    ee = ee_api
    clipped = ee.Image(IMAGE).select("B4").clip(utm(ee, FIELD))
    _, t = b4()
    xmin, ymin, xmax, ymax = FIELD.bounds
    aligned = box(
        t.c + math.floor((xmin - t.c) / 120 - 2) * 120,
        t.f - math.ceil((t.f - ymin) / 120 + 2) * 120,
        t.c + math.ceil((xmax - t.c) / 120 + 2) * 120,
        t.f - math.floor((t.f - ymax) / 120 - 2) * 120,
    )
    expected = weighted_oracle(FIELD)["mean"]
    own = clipped.reduceRegion(ee.Reducer.mean(), utm(ee, FIELD), 120).getInfo()
    around = clipped.reduceRegion(
        shared(ee, ee.Reducer.mean(), ee.Reducer.count()), utm(ee, aligned), 120
    ).getInfo()
    assert own["B4"] == pytest.approx(expected, rel=1e-9)
    assert around["B4_mean"] == pytest.approx(expected, rel=1e-9)
    data, _ = b4()
    assert around["B4_count"] == int(((brute_weights(FIELD) > 0) & (data != 0)).sum())


def test_point_region_takes_its_pixel(ee_api) -> None:
    ee = ee_api
    data, t = b4()
    x, y = 545_321.0, 5_139_876.0
    col, row = ~t @ (x, y)
    value = int(data[int(row), int(col)])
    point = ee.Geometry.Point([x, y], "EPSG:32633")
    reducer = shared(ee, ee.Reducer.mean(), ee.Reducer.sum(), ee.Reducer.count())
    result = ee.Image(IMAGE).select("B4").reduceRegion(reducer, point, 120).getInfo()
    assert value != 0
    assert result == {"B4_mean": value, "B4_sum": value, "B4_count": 1}


def test_reduce_regions_weighs_each_feature(ee_api) -> None:
    ee = ee_api
    fields = ee.FeatureCollection(
        [ee.Feature(utm(ee, FIELD), {"n": 1}), ee.Feature(utm(ee, SECOND), {"n": 2})]
    )
    reducer = shared(ee, ee.Reducer.mean(), ee.Reducer.count())
    result = ee.Image(IMAGE).select("B4").reduceRegions(fields, reducer, 120).getInfo()
    for feature, polygon in zip(result["features"], [FIELD, SECOND], strict=True):
        assert feature["properties"]["mean"] == pytest.approx(
            weighted_oracle(polygon)["mean"], rel=1e-9
        )
        assert feature["properties"]["count"] == centroid_values(polygon).size


def test_max_pixels_counts_the_included_pixels(ee_api) -> None:
    """A weighted reducer's region holds every pixel it covers at all; count's, the pixels
    whose centre is inside (masked or not)."""
    ee = ee_api
    img = ee.Image(IMAGE).select("B4")
    covered = int(((brute_weights(FIELD) > 0) | centres_inside(FIELD)).sum())
    centres = int(centres_inside(FIELD).sum())
    assert covered > centres
    for reducer, found in ((ee.Reducer.mean(), covered), (ee.Reducer.count(), centres)):
        with pytest.raises(ee.EEException) as info:
            img.reduceRegion(reducer, utm(ee, FIELD), 120, maxPixels=10).getInfo()
        assert f"Found {found}, but maxPixels allows only 10." in str(info.value)


def test_frequency_histogram_counts_edge_pixels_by_their_weight(ee_api) -> None:
    """A region's frequencyHistogram has fractional counts at its edges; unweighted() counts
    the pixel centres."""
    ee = ee_api
    histogram = ee.Reducer.frequencyHistogram()
    reducer = shared(ee, histogram, histogram.unweighted().setOutputs(["centres"]))
    result = ee.Image(IMAGE).select("B4").reduceRegion(reducer, utm(ee, FIELD), 120).getInfo()
    data, _ = b4()
    w = brute_weights(FIELD)
    ok = (w > 0) & (data != 0)
    weighted = {str(v): float(w[ok][data[ok] == v].sum()) for v in np.unique(data[ok])}
    values, counts = np.unique(centroid_values(FIELD).astype(np.int64), return_counts=True)
    assert result["B4_histogram"] == pytest.approx(weighted, rel=1e-9)
    assert any(not float(c).is_integer() for c in result["B4_histogram"].values())
    assert result["B4_centres"] == dict(
        zip(map(str, values.tolist()), counts.tolist(), strict=True)
    )
