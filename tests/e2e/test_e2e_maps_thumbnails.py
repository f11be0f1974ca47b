"""Thumbnails, downloads and map tiles through the stock client: `getThumbURL`,
`getDownloadURL` and `getMapId` make ids with an authenticated call; the URLs are then fetched
with plain `requests` and no credentials, and their pixels are checked against the oracle
(rasterio on the demo files)."""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pytest
import rasterio
import requests
from affine import Affine
from oracle import Grid, load_items, warp_band
from PIL import Image as PILImage
from pyproj import Transformer

ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
UTM = "EPSG:32633"
# A 0.2 x 0.1 degree box inside the tile (lon/lat), as getThumbURL's `region`.
REGION = [15.6, 45.5, 15.8, 45.6]
MERCATOR_HALF_SIDE = math.pi * 6378137.0


def region_grid(crs: str, width: int, height: int) -> Grid:
    """The grid clipToBoundsAndScale gives REGION at width x height: its bounds in `crs`."""
    lons = [REGION[0], REGION[2], REGION[2], REGION[0]]
    lats = [REGION[1], REGION[1], REGION[3], REGION[3]]
    xs, ys = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lons, lats)
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    transform = Affine((xmax - xmin) / width, 0, xmin, 0, -(ymax - ymin) / height, ymax)
    return Grid(crs, transform, width, height)


def stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((values.astype(np.float64) - lo) / (hi - lo), 0, 1)


def fetch(url: str) -> requests.Response:
    """A plain GET, as a browser or <img> tag would: no credentials at all."""
    response = requests.get(url, timeout=120)
    assert response.status_code == 200, response.text[:500]
    return response


def png(response: requests.Response) -> np.ndarray:
    assert response.headers["content-type"] == "image/png"
    return np.asarray(PILImage.open(io.BytesIO(response.content)))


def test_thumbnail_with_palette_matches_the_oracle(ee_api, server) -> None:
    image = ee_api.Image(ITEM.image_id)
    palette = ["0000ff", "00ff00", "ff0000"]
    url = image.getThumbURL(
        {"region": REGION, "dimensions": "96x70", "bands": ["B4"], "min": 200, "max": 2500,
         "palette": palette, "format": "png"}
    )  # fmt: skip
    assert url.startswith(f"{server.base_url}/v1/projects/{server.project}/thumbnails/")
    assert url.endswith(":getPixels")
    pixels = png(fetch(url))
    assert pixels.shape == (70, 96, 4)
    b4 = warp_band(ITEM.band_path("B4"), region_grid(UTM, 96, 70))
    unit = stretch(b4, 200, 2500)
    stops = np.linspace(0, 1, 3)
    for channel in range(3):
        colors = [int(c[2 * channel : 2 * channel + 2], 16) for c in palette]
        expected = np.rint(np.interp(unit, stops, colors))
        np.testing.assert_array_equal(pixels[..., channel][b4 != 0], expected[b4 != 0])
    np.testing.assert_array_equal(pixels[..., 3] == 255, b4 != 0)


def test_rgb_thumbnail_with_gamma_matches_the_oracle(ee_api) -> None:
    image = ee_api.Image(ITEM.image_id)
    url = image.getThumbURL(
        {"region": ee_api.Geometry.Rectangle(REGION, None, False), "dimensions": [80, 60],
         "bands": ["B4", "B3", "B2"], "min": [0, 0, 0], "max": [3000, 2800, 2600],
         "gamma": 1.6, "format": "png"}
    )  # fmt: skip
    pixels = png(fetch(url))
    assert pixels.shape == (60, 80, 4)
    grid = region_grid(UTM, 80, 60)
    for channel, (band, hi) in enumerate((("B4", 3000), ("B3", 2800), ("B2", 2600))):
        values = warp_band(ITEM.band_path(band), grid)
        expected = np.rint(stretch(values, 0, hi) ** (1 / 1.6) * 255)
        valid = values != 0
        np.testing.assert_array_equal(pixels[..., channel][valid], expected[valid])


def test_thumbnail_defaults(ee_api) -> None:
    image = ee_api.Image(ITEM.image_id)
    # No region: the image's footprint, 512 pixels on the longer side.
    whole = fetch(image.getThumbURL({"bands": ["B4", "B3", "B2"], "min": 0, "max": 3000}))
    shape = np.asarray(PILImage.open(io.BytesIO(whole.content))).shape
    assert max(shape[:2]) == 512
    # A region without dimensions: its bounds, 512 pixels on the longer side.
    url = image.getThumbURL({"region": REGION, "bands": "B8", "min": 0, "max": 5000})
    response = fetch(url)
    assert response.headers["content-type"] in ("image/jpeg", "image/png")
    assert max(PILImage.open(io.BytesIO(response.content)).size) == 512
    # An unbounded composite: the whole world, at 512 x 256.
    composite = ee_api.ImageCollection(ITEM.image_id.rsplit("/", 1)[0]).median()
    world = fetch(composite.getThumbURL({"bands": ["B4"], "min": 0, "max": 3000}))
    assert PILImage.open(io.BytesIO(world.content)).size == (512, 256)


def test_visualized_composite_thumbnail(ee_api) -> None:
    collection = ee_api.ImageCollection(ITEM.image_id.rsplit("/", 1)[0])
    composite = collection.filterDate("2023-08-01", "2023-09-01").median()
    url = composite.getThumbURL(
        {"region": REGION, "dimensions": 50, "bands": ["B4", "B3", "B2"], "min": 0,
         "max": 3000, "format": "png"}
    )  # fmt: skip
    pixels = png(fetch(url))
    # A composite's default projection is EPSG:4326: the region's own bounds.
    assert pixels.shape == (25, 50, 4)


def test_download_zip_per_band(ee_api, server) -> None:
    image = ee_api.Image(ITEM.image_id)
    url = image.getDownloadURL(
        {"region": REGION, "scale": 120, "bands": ["B4", "B8"], "name": "ndvi"}
    )
    response = fetch(url)
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="ndvi.zip"' in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["ndvi.B4.tif", "ndvi.B8.tif"]
    lons, lats = [REGION[0], REGION[2], REGION[2], REGION[0]], [REGION[1]] * 2 + [REGION[3]] * 2
    xs, ys = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lons, lats)
    for band in ("B4", "B8"):
        with rasterio.MemoryFile(archive.read(f"ndvi.{band}.tif")) as mem, mem.open() as ds:
            assert ds.crs.to_string() == UTM and ds.count == 1
            t = ds.transform
            # The native 120 m grid, snapped, covering the region's bounds by less than a pixel.
            assert (t.a, t.e) == (120.0, -120.0)
            assert (t.c - 499980.0) % 120 == 0 and (5100000.0 - t.f) % 120 == 0
            left, bottom, right, top = ds.bounds
            assert left <= min(xs) < left + 120 and right - 120 < max(xs) <= right
            assert bottom <= min(ys) < bottom + 120 and top - 120 < max(ys) <= top
            expected = warp_band(ITEM.band_path(band), Grid(UTM, t, ds.width, ds.height))
            # Clipped to the region's bounds: pixels whose centre is outside are masked.
            cols, rows = np.meshgrid(np.arange(ds.width) + 0.5, np.arange(ds.height) + 0.5)
            cx, cy = t.c + cols * t.a, t.f + rows * t.e
            inside = (cx >= min(xs)) & (cx <= max(xs)) & (cy >= min(ys)) & (cy <= max(ys))
            assert 0 < (~inside).sum() < ds.width + ds.height
            np.testing.assert_array_equal(ds.read(1), np.where(inside, expected, 0))
            np.testing.assert_array_equal(ds.read_masks(1) > 0, inside & (expected != 0))


@pytest.mark.parametrize("fmt", ["GEO_TIFF", "NPY", "ZIPPED_GEO_TIFF"])
def test_download_formats(ee_api, fmt: str) -> None:
    image = ee_api.Image(ITEM.image_id).select(["B4", "SCL"])
    grid = region_grid(UTM, 96, 70)  # pixels of 120-240 m: the full-resolution level
    url = image.getDownloadURL(
        {"region": REGION, "dimensions": [96, 70], "format": fmt, "filePerBand": False}
    )
    content = fetch(url).content
    if fmt == "NPY":
        arr = np.load(io.BytesIO(content))
        assert arr.dtype.names == ("B4", "SCL") and arr.shape == (70, 96)
        np.testing.assert_array_equal(arr["B4"], warp_band(ITEM.band_path("B4"), grid))
        return
    if fmt == "ZIPPED_GEO_TIFF":
        (name,) = zipfile.ZipFile(io.BytesIO(content)).namelist()
        content = zipfile.ZipFile(io.BytesIO(content)).read(name)
    with rasterio.MemoryFile(content) as mem, mem.open() as ds:
        assert (ds.width, ds.height, ds.count) == (96, 70, 2)
        assert ds.transform.almost_equals(grid.transform)
        np.testing.assert_array_equal(ds.read(1), warp_band(ITEM.band_path("B4"), grid))


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_grid(zoom: int, x: int, y: int) -> Grid:
    side = 2 * MERCATOR_HALF_SIDE / 2**zoom
    transform = Affine(
        side / 256, 0, -MERCATOR_HALF_SIDE + x * side, 0, -side / 256, MERCATOR_HALF_SIDE - y * side
    )
    return Grid("EPSG:3857", transform, 256, 256)


def test_map_tiles_match_the_oracle(ee_api, server) -> None:
    image = ee_api.Image(ITEM.image_id)
    map_id = image.getMapId({"bands": ["B4", "B3", "B2"], "min": 0, "max": 3000})
    url_format = map_id["tile_fetcher"].url_format
    assert url_format == f"{server.base_url}/v1/{map_id['mapid']}/tiles/{{z}}/{{x}}/{{y}}"
    zoom = 10
    x, y = tile_of(15.7, 45.55, zoom)
    response = fetch(url_format.format(x=x, y=y, z=zoom))
    pixels = png(response)
    assert pixels.shape == (256, 256, 4)
    grid = tile_grid(zoom, x, y)
    for channel, band in enumerate(("B4", "B3", "B2")):
        values = warp_band(ITEM.band_path(band), grid)
        expected = np.rint(stretch(values, 0, 3000) * 255)
        valid = values != 0
        assert valid.any()
        np.testing.assert_array_equal(pixels[..., channel][valid], expected[valid])
    np.testing.assert_array_equal(pixels[..., 3] == 255, warp_band(ITEM.band_path("B4"), grid) != 0)
    # The client's authenticated fetch returns the same tile.
    assert map_id["tile_fetcher"].fetch_tile(x, y, zoom) == response.content
    # A tile far from the data is fully transparent.
    empty = png(fetch(url_format.format(x=0, y=0, z=3)))
    assert empty.shape == (256, 256, 4) and (empty[..., 3] == 0).all()


def test_map_with_visualization_options_and_opacity(ee_api) -> None:
    image = ee_api.Image(ITEM.image_id).select("B8")
    direct = ee_api.data.getMapId(
        {"image": image, "min": "0", "max": "5000", "palette": "black,white"}
    )
    zoom = 10
    x, y = tile_of(15.7, 45.55, zoom)
    gray = png(fetch(direct["tile_fetcher"].format_tile_url(x, y, zoom)))
    values = warp_band(ITEM.band_path("B8"), tile_grid(zoom, x, y))
    valid = values != 0
    expected = np.rint(stretch(values, 0, 5000) * 255)
    np.testing.assert_array_equal(gray[..., 0][valid], expected[valid])
    faded = image.getMapId({"min": 0, "max": 5000, "opacity": 0.5})
    half = png(fetch(faded["tile_fetcher"].format_tile_url(x, y, zoom)))
    assert set(np.unique(half[..., -1])) <= {0, 128}
    assert (half[..., -1][valid] == 128).all()


def test_urls_need_no_credentials_but_the_api_does(ee_api, server) -> None:
    url = ee_api.Image(ITEM.image_id).getThumbURL({"bands": "B4", "min": 0, "max": 3000})
    assert requests.get(url, timeout=60).status_code == 200
    api = requests.post(
        f"{server.base_url}/v1/projects/{server.project}/thumbnails", json={}, timeout=60
    )
    assert api.status_code == 401


def error(response: requests.Response) -> dict[str, object]:
    body: dict[str, dict[str, object]] = response.json()
    return body["error"]


def test_ids_are_bound_to_their_expression_kind_and_project(ee_api, server) -> None:
    image = ee_api.Image(ITEM.image_id)
    red = image.getThumbURL(
        {"region": REGION, "dimensions": 32, "bands": "B4", "min": 0, "max": 3000, "format": "png"}
    )
    nir = image.getThumbURL(
        {"region": REGION, "dimensions": 32, "bands": "B8", "min": 0, "max": 5000, "format": "png"}
    )
    assert fetch(red).content != fetch(nir).content
    # Query parameters cannot redirect an id to another request.
    assert fetch(red + "?bands=B8&expression=x").content == fetch(red).content
    thumb_id = red.rsplit("/", 1)[1].split(":")[0]
    base = f"{server.base_url}/v1/projects"
    for wrong in (
        f"{base}/{server.project}/maps/{thumb_id}/tiles/0/0/0",  # a thumbnail id is no map id
        f"{base}/other-project/thumbnails/{thumb_id}:getPixels",  # bound to its project
        f"{base}/{server.project}/thumbnails/{'0' * 40}:getPixels",  # a random id
        f"{base}/{server.project}/thumbnails/{thumb_id[:-2]}:getPixels",  # a truncated one
        f"{base}/{server.project}/maps/{'f' * 40}/tiles/1/0/0",
    ):
        response = requests.get(wrong, timeout=60)
        assert response.status_code == 404, wrong
        assert error(response) == {
            "code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"
        }  # fmt: skip


def test_bad_requests_fail_when_the_id_is_made(ee_api) -> None:
    image = ee_api.Image(ITEM.image_id)
    with pytest.raises(ee_api.EEException, match="did not match any bands"):
        image.getThumbURL({"bands": ["B99"], "min": 0, "max": 1})
    with pytest.raises(ee_api.EEException, match="1 or 3 bands"):
        image.getMapId()  # 5 raw bands: neither visualized nor chosen
    with pytest.raises(ee_api.EEException, match="not found"):
        ee_api.Image("COPERNICUS/S2_SR_HARMONIZED/NOPE").getThumbURL({"min": 0, "max": 1})
    url = image.getMapId({"bands": ["B4"]})["tile_fetcher"].url_format
    response = requests.get(url.format(x=9, y=0, z=3), timeout=60)  # x beyond 2**3
    assert response.status_code == 400
    assert "outside zoom level 3" in str(error(response)["message"])


def test_thumbnail_in_a_requested_crs_is_drawn_in_that_crs(ee_api) -> None:
    # The stock client sends `crs` without `crsTransform` as setDefaultProjection(crs) before
    # clipToBoundsAndScale: the region's bounds are laid out in that CRS, for stored images too.
    image = ee_api.Image(ITEM.image_id)
    assert image.setDefaultProjection("EPSG:3857").projection().crs().getInfo() == "EPSG:3857"
    url = image.getThumbURL(
        {"region": REGION, "dimensions": "96x70", "bands": ["B4"], "min": 200, "max": 2500,
         "crs": "EPSG:3857", "format": "png"}
    )  # fmt: skip
    pixels = png(fetch(url))
    b4 = warp_band(ITEM.band_path("B4"), region_grid("EPSG:3857", 96, 70))
    expected = np.rint(stretch(b4, 200, 2500) * 255)
    np.testing.assert_array_equal(pixels[..., 0][b4 != 0], expected[b4 != 0])
    np.testing.assert_array_equal(pixels[..., -1] == 255, b4 != 0)
