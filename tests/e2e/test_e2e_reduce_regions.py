"""Image.reduceRegions, Image.sample and Image.sampleRegions on the demo Sentinel-2 data, against
rasterio + numpy + shapely on the band files (native 120 m grid, EPSG:32633)."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import rasterio
import rasterio.features
from affine import Affine
from oracle import coverage_weights, load_items
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry
from tables_data import BORDER_PATH, ingest_tables

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
ITEM = "S2A_33TWM_20230815_0_L2A"
# Two fields in EPSG:32633 inside the tile; the second is a triangle.
BOX = box(520_010, 5_130_010, 530_010, 5_138_010)  # no pixel centre on an edge
TRIANGLE = Polygon([(540_000, 5_150_000), (556_000, 5_150_000), (548_000, 5_162_000)])
TOWNS = {"Celje": (15.2677, 46.2309), "Maribor": (15.6459, 46.5547)}
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)


@functools.cache
def band(name: str) -> tuple[np.ndarray, Affine]:
    item = next(i for i in load_items() if i.id == ITEM)
    with rasterio.open(item.band_path(name)) as src:
        return src.read(1), src.transform


def polygon_values(name: str, polygon: BaseGeometry) -> np.ndarray:
    """The band's unmasked values whose pixel centres fall in the polygon, row-major."""
    data, transform = band(name)
    inside = rasterio.features.geometry_mask([polygon], data.shape, transform, invert=True)
    return data[inside & (data != 0)]


def weighted_mean(name: str, polygon: BaseGeometry) -> float:
    """mean is weighted: every unmasked pixel the polygon covers, by its covered fraction."""
    data, transform = band(name)
    w = coverage_weights(polygon, data.shape, transform)
    ok = (w > 0) & (data != 0)
    return float(np.sum(w[ok] * data[ok]) / np.sum(w[ok]))


def pixel_value(name: str, lon: float, lat: float) -> int:
    data, transform = band(name)
    x, y = TO_UTM.transform(lon, lat)
    col, row = ~transform @ (x, y)
    return int(data[int(np.floor(row)), int(np.floor(col))])


def ee_polygon(ee, shape: BaseGeometry):
    return ee.Geometry.Polygon([list(map(list, shape.exterior.coords))], "EPSG:32633", False)


@pytest.fixture(scope="module")
def image(ee_api):
    return ee_api.Image(f"{COLLECTION}/{ITEM}")


@pytest.fixture(scope="module")
def fields(ee_api):
    return ee_api.FeatureCollection(
        [
            ee_api.Feature(ee_polygon(ee_api, BOX), {"name": "box"}),
            ee_api.Feature(ee_polygon(ee_api, TRIANGLE), {"name": "triangle"}),
        ]
    )


def test_reduce_regions_one_band(ee_api, image, fields) -> None:
    """With one band, the outputs keep the reducer's names ('mean', 'count')."""
    reducer = ee_api.Reducer.mean().combine(ee_api.Reducer.count(), "", True)
    result = image.select("B4").reduceRegions(fields, reducer, 120).getInfo()
    features = result["features"]
    assert [f["properties"]["name"] for f in features] == ["box", "triangle"]
    for feature, polygon in zip(features, [BOX, TRIANGLE], strict=True):
        values = polygon_values("B4", polygon)
        assert feature["properties"]["count"] == values.size
        assert feature["properties"]["mean"] == pytest.approx(
            weighted_mean("B4", polygon), rel=1e-9
        )


def test_reduce_regions_bands(ee_api, image, fields) -> None:
    """With several bands, one output per band, named after it."""
    result = image.select(["B4", "B8"]).reduceRegions(fields, ee_api.Reducer.max(), 120)
    for feature, polygon in zip(result.getInfo()["features"], [BOX, TRIANGLE], strict=True):
        for name in ("B4", "B8"):
            assert feature["properties"][name] == polygon_values(name, polygon).max()


def test_sample_all_pixels(ee_api, image) -> None:
    region = ee_polygon(ee_api, BOX)
    samples = image.select(["B4", "B8"]).sample(region, 120).getInfo()["features"]
    b4, transform = band("B4")
    b8, _ = band("B8")
    inside = rasterio.features.geometry_mask([BOX], b4.shape, transform, invert=True)
    both = inside & (b4 != 0) & (b8 != 0)  # dropNulls: a pixel with any band masked goes
    assert [f["properties"]["B4"] for f in samples] == b4[both].tolist()
    assert [f["properties"]["B8"] for f in samples] == b8[both].tolist()
    assert all(f["geometry"] is None for f in samples)


def test_sample_factor_is_seeded_and_geometries_locate_pixels(ee_api, image) -> None:
    region = ee_polygon(ee_api, BOX)
    img = image.select("B4")
    first = img.sample(region, 120, factor=0.1, seed=7, geometries=True).getInfo()["features"]
    again = img.sample(region, 120, factor=0.1, seed=7, geometries=True).getInfo()["features"]
    other = img.sample(region, 120, factor=0.1, seed=8, geometries=True).getInfo()["features"]
    total = polygon_values("B4", BOX).size
    assert first == again
    assert first != other
    assert 0.05 * total < len(first) < 0.15 * total
    for feature in first:
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["properties"]["B4"] == pixel_value("B4", lon, lat)
        x, y = TO_UTM.transform(lon, lat)
        assert BOX.covers(Point(x, y))


def test_sample_regions_points_and_polygon(ee_api, image) -> None:
    towns = ee_api.FeatureCollection(
        [ee_api.Feature(ee_api.Geometry.Point(list(c)), {"town": n}) for n, c in TOWNS.items()]
    )
    result = image.select(["B4", "B8"]).sampleRegions(towns, ["town"], 120).getInfo()
    features = result["features"]
    assert [f["properties"]["town"] for f in features] == list(TOWNS)
    for feature, (lon, lat) in zip(features, TOWNS.values(), strict=True):
        assert feature["properties"]["B4"] == pixel_value("B4", lon, lat)
        assert feature["properties"]["B8"] == pixel_value("B8", lon, lat)
    field = ee_api.FeatureCollection([ee_api.Feature(ee_polygon(ee_api, BOX), {"crop": 3})])
    samples = image.select("B4").sampleRegions(field, scale=120).getInfo()["features"]
    assert [f["properties"]["B4"] for f in samples] == polygon_values("B4", BOX).tolist()
    assert all(f["properties"]["crop"] == 3 for f in samples)
    assert samples[0]["id"] == "0_0"


def test_table_regions_through_compute_features(ee_api, server, image) -> None:
    """reduceRegions over a stored table (Collection.loadTable), fetched with computeFeatures:
    the Slovenia border against geometry_mask of the original EPSG:32633 polygon."""
    ids = ingest_tables(server.data_dir, server.project)
    reducer = ee_api.Reducer.mean().combine(ee_api.Reducer.count(), "", True)
    reduced = image.select("B4").reduceRegions(ee_api.FeatureCollection(ids.border), reducer, 120)
    page = ee_api.data.computeFeatures({"expression": reduced})
    (feature,) = page["features"]
    doc = json.loads(BORDER_PATH.read_text())
    polygon = shape(doc["features"][0]["geometry"])
    values = polygon_values("B4", polygon)
    assert feature["properties"]["NAME"] == "Slovenia"
    assert feature["properties"]["count"] == values.size
    assert feature["properties"]["mean"] == pytest.approx(weighted_mean("B4", polygon), rel=1e-9)
