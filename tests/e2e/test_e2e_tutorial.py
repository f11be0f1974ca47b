"""The "Image computations with the Earth Engine REST API" tutorial, step by step, against openee.

The stock clients (google-auth's AuthorizedSession and earthengine-api) talk to a live server;
every pixel result is checked against an independent oracle (STAC JSON + GDAL warp + numpy).
Deviation from the tutorial: the grid uses 0.001 degree pixels (not 10 m) so that 640x640 px
cover many 120 m source pixels, and it is centred on the point so that it stays inside 33TWL.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from oracle import Grid, median_composite, select_items, visualize
from PIL import Image
from rasterio.io import MemoryFile

pytestmark = pytest.mark.e2e

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
ASSET_NAME = f"projects/earthengine-public/assets/{COLLECTION}"
# Zagreb area: inside the 33TWL footprints only (33TWM starts at about 45.96 N).
LON, LAT = 15.9, 45.6
START, END = "2023-08-01", "2023-09-01"
RGB = ["B4", "B3", "B2"]
SCALE_DEG = 0.001
SIZE = 640
GRID = Grid.centered("EPSG:4326", LON, LAT, SCALE_DEG, SIZE, SIZE)
VIS = {"ranges": [{"min": 0, "max": 3000}]}
MIN_AGREEMENT = 0.995


def _compute_pixels_url(server) -> str:
    return f"{server.base_url}/v1beta/projects/{server.project}/image:computePixels"


def _error_text(response) -> str:
    return f"HTTP {response.status_code}: {response.text[:2000]}"


@pytest.fixture(scope="module")
def items():
    selected = select_items(START, END, LON, LAT)
    assert len(selected) == 5, [it.id for it in selected]  # five dates of 33TWL
    assert all("_33TWL_" in it.id for it in selected)
    return selected


@pytest.fixture(scope="module")
def expected(items) -> dict[str, np.ndarray]:
    """Oracle median per band on the tutorial grid (float64, NaN = masked)."""
    return {band: median_composite(items, band, GRID) for band in RGB}


@pytest.fixture(scope="module")
def collection(ee_api):
    ee = ee_api
    region = ee.Geometry.Point([LON, LAT])
    return ee.ImageCollection(COLLECTION).filterBounds(region).filterDate(START, END)


@pytest.fixture(scope="module")
def serialized(ee_api, collection):
    image = collection.median()
    serialized = ee_api.serializer.encode(image)
    # The graph the tutorial sends: reduce.median over the filtered collection.
    assert "reduce.median" in json.dumps(serialized)
    return serialized


def _agreement(actual: np.ndarray, wanted: np.ndarray, where: np.ndarray, tol: float) -> float:
    if not where.any():
        return 1.0
    diff = np.abs(actual[where].astype(np.float64) - wanted[where].astype(np.float64))
    return float(np.mean(diff <= tol))


def _describe_mismatch(actual, wanted, where, tol) -> str:
    diff = np.abs(actual.astype(np.float64) - wanted.astype(np.float64))
    bad = where & ~(diff <= tol)
    idx = np.argwhere(bad)[:5]
    samples = [(int(r), int(c), float(actual[r, c]), float(wanted[r, c])) for r, c in idx]
    return f"{int(bad.sum())} of {int(where.sum())} pixels off; (row, col, got, want): {samples}"


def test_collection_asset_via_authorized_session(server, authed_session):
    url = f"{server.base_url}/v1beta/{ASSET_NAME}"
    response = authed_session.get(url)
    assert response.status_code == 200, _error_text(response)
    asset = json.loads(response.content)
    assert asset["type"] == "IMAGE_COLLECTION"
    assert asset["name"] == ASSET_NAME


def test_collection_size_matches_oracle(collection, items):
    assert collection.size().getInfo() == len(items)


def test_collection_ids_and_times_match_oracle(ee_api, collection, items):
    ee = ee_api
    ids, times = (
        collection.reduceColumns(
            ee.Reducer.toList().repeat(2), ["system:index", "system:time_start"]
        )
        .get("list")
        .getInfo()
    )
    assert sorted(zip(ids, times, strict=True)) == sorted((it.id, it.time_start_ms) for it in items)


def test_filter_date_is_end_exclusive(ee_api, items):
    ee = ee_api
    point = ee.Geometry.Point([LON, LAT])
    base = ee.ImageCollection(COLLECTION).filterBounds(point)

    # The tutorial-style date strings: 2023-08-15 (09:58 UTC) is after the end.
    oracle_ids = [it.id for it in select_items("2023-08-10", "2023-08-15", LON, LAT)]
    assert oracle_ids == ["S2B_33TWL_20230810_0_L2A", "S2B_33TWL_20230813_0_L2A"]
    assert base.filterDate("2023-08-10", "2023-08-15").size().getInfo() == len(oracle_ids)

    # Exactly at the boundary: end == time_start of the 15th excludes it, start == includes.
    t15 = next(it for it in items if it.id == "S2A_33TWL_20230815_0_L2A").time_start_ms
    t10 = next(it for it in items if it.id == "S2B_33TWL_20230810_0_L2A").time_start_ms
    assert base.filterDate(ee.Date(t10), ee.Date(t15)).size().getInfo() == 2
    assert base.filterDate(ee.Date(t10), ee.Date(t15 + 1)).size().getInfo() == 3
    assert base.filterDate(ee.Date(t10 + 1), ee.Date(t15 + 1)).size().getInfo() == 2


def test_projection_at_scale(ee_api):
    proj = ee_api.Projection("EPSG:4326").atScale(10).getInfo()
    degrees_per_meter = 10 / (6378137 * 2 * math.pi / 360)
    assert proj["crs"] == "EPSG:4326"
    assert proj["transform"][0] == pytest.approx(degrees_per_meter, rel=1e-9)
    assert abs(proj["transform"][4]) == pytest.approx(degrees_per_meter, rel=1e-9)


def test_compute_pixels_png(server, authed_session, serialized, expected):
    # The tutorial's request body, sent exactly the same way (json.dumps'ed data, no headers).
    body = {
        "expression": serialized,
        "fileFormat": "PNG",
        "bandIds": RGB,
        "grid": GRID.to_pixel_grid(),
        "visualizationOptions": VIS,
    }
    response = authed_session.post(url=_compute_pixels_url(server), data=json.dumps(body))
    assert response.status_code == 200, _error_text(response)
    image_content = response.content
    assert image_content[:8] == b"\x89PNG\r\n\x1a\n"

    with Image.open(io.BytesIO(image_content)) as png:
        assert png.size == (SIZE, SIZE)
        assert png.mode == "RGBA"
        rgba = np.asarray(png).astype(np.int32)

    valid = np.all([~np.isnan(expected[b]) for b in RGB], axis=0)
    for channel, band in enumerate(RGB):
        want = visualize(expected[band])
        got = rgba[..., channel]
        share = _agreement(got, want, valid, tol=1)
        assert share >= MIN_AGREEMENT, f"{band}: " + _describe_mismatch(got, want, valid, 1)

    alpha = rgba[..., 3]
    alpha_ok = np.where(valid, alpha == 255, alpha == 0)
    assert alpha_ok.mean() >= MIN_AGREEMENT, f"alpha wrong at {int((~alpha_ok).sum())} px"
    assert np.all(alpha[~valid] == 0)


def test_compute_pixels_npy_via_ee_data(ee_api, collection, expected):
    ee = ee_api
    image = collection.median()
    array = ee.data.computePixels(
        {
            "expression": image,
            "fileFormat": "NUMPY_NDARRAY",
            "bandIds": RGB,
            "grid": GRID.to_pixel_grid(),
        }
    )
    assert isinstance(array, np.ndarray)
    assert array.shape == (SIZE, SIZE)
    assert array.dtype.names == tuple(RGB)
    for band in RGB:
        assert array.dtype[band] == np.float64, (band, array.dtype[band])

    for band in RGB:
        want = expected[band]
        got = array[band].astype(np.float64)
        valid = ~np.isnan(want)
        assert valid.mean() > 0.9  # the grid is well inside the tile
        share = _agreement(got, want, valid, tol=1)
        assert share >= MIN_AGREEMENT, f"{band}: " + _describe_mismatch(got, want, valid, 1)
        assert np.all(got[~valid] == 0)


def test_compute_pixels_masked_outside_footprint(server, authed_session, ee_api, collection):
    """A grid straddling the west edge of 33TWL: no data west of it -> alpha 0 / NPY 0."""
    ee = ee_api
    items = select_items(START, END, LON, LAT)
    grid = Grid("EPSG:4326", Affine(0.002, 0, 14.9, 0, -0.002, 45.5), 100, 50)
    want = {band: median_composite(items, band, grid) for band in RGB}
    valid = np.all([~np.isnan(want[b]) for b in RGB], axis=0)
    assert 0.2 < valid.mean() < 0.8, valid.mean()  # the edge really is inside the grid

    array = ee.data.computePixels(
        {
            "expression": collection.median(),
            "fileFormat": "NUMPY_NDARRAY",
            "bandIds": RGB,
            "grid": grid.to_pixel_grid(),
        }
    )
    for band in RGB:
        got = array[band].astype(np.float64)
        band_valid = ~np.isnan(want[band])
        assert _agreement(got, want[band], band_valid, tol=1) >= MIN_AGREEMENT
        assert np.mean(got[~band_valid] == 0) >= MIN_AGREEMENT

    body = {
        "expression": ee.serializer.encode(collection.median()),
        "fileFormat": "PNG",
        "bandIds": RGB,
        "grid": grid.to_pixel_grid(),
        "visualizationOptions": VIS,
    }
    response = authed_session.post(url=_compute_pixels_url(server), data=json.dumps(body))
    assert response.status_code == 200, _error_text(response)
    with Image.open(io.BytesIO(response.content)) as png:
        rgba = np.asarray(png.convert("RGBA")).astype(np.int32)
    alpha_ok = np.where(valid, rgba[..., 3] == 255, rgba[..., 3] == 0)
    assert alpha_ok.mean() >= MIN_AGREEMENT, f"alpha wrong at {int((~alpha_ok).sum())} px"


def test_compute_pixels_geotiff(server, authed_session, serialized, expected):
    body = {
        "expression": serialized,
        "fileFormat": "GEO_TIFF",
        "bandIds": RGB,
        "grid": GRID.to_pixel_grid(),
    }
    response = authed_session.post(url=_compute_pixels_url(server), data=json.dumps(body))
    assert response.status_code == 200, _error_text(response)
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        assert dataset.driver == "GTiff"
        assert dataset.crs == rasterio.crs.CRS.from_epsg(4326)
        assert dataset.width == SIZE
        assert dataset.height == SIZE
        assert dataset.count == len(RGB)
        assert dataset.transform.almost_equals(GRID.transform, precision=1e-9)
        data = dataset.read()
        descriptions = dataset.descriptions

    if any(descriptions):
        assert list(descriptions) == RGB
    for index, band in enumerate(RGB):
        want = expected[band]
        valid = ~np.isnan(want)
        got = data[index].astype(np.float64)
        share = _agreement(got, want, valid, tol=1)
        assert share >= MIN_AGREEMENT, f"{band}: " + _describe_mismatch(got, want, valid, 1)
