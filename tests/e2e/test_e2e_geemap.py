"""geemap end to end, without a browser: `geemap.Map()` after `ee.Initialize(..., url=...)`, then
the server calls its widgets make. `add_layer` of an image, a collection and a FeatureCollection
(tiles fetched without credentials, as ipyleaflet's browser side does, and decoded); the layer
editor's stretch (`calculate_vis_minmax`: reduceRegion of minMax + unweighted mean + stdDev with
bestEffort, maxPixels 10,000, crs 'SR-ORG:6627', scale 1); the inspector's point query
(`Inspector._query_point`: reduceRegion(first) at the map's scale); `ee_to_numpy`
(computePixels) and `ee_export_image` (getDownloadURL). Oracles: rasterio + numpy on the demo
files (oracle.py), shapely/rasterio.features for the table.
"""

from __future__ import annotations

import io
import math
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import rasterio
import rasterio.features
import requests
import scipy.ndimage
import shapely
from affine import Affine
from oracle import Grid, load_items, median_composite, select_items, warp_band
from PIL import Image as PILImage
from pyproj import Transformer

REPO_ROOT = Path(__file__).resolve().parents[2]
BORDER = REPO_ROOT / "tests" / "data" / "vector" / "eo-learn" / "svn_border.geojson"
ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
START, END = "2023-08-01", "2023-09-01"
MERCATOR_HALF_SIDE = math.pi * 6378137.0
# A 0.04 x 0.025 degree view: at maxPixels 10,000 bestEffort settles on 64 m Mercator pixels,
# finer than the 120 m sources (so the full-resolution files are the oracle's input).
VIEW = (15.90, 45.80, 15.94, 45.825)
MAX_PIXELS = 10_000


@pytest.fixture(scope="module")
def geemap() -> Any:
    with warnings.catch_warnings():
        # bqscales (imported by geemap) sets traitlets metadata the deprecated way on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        import geemap

    return geemap


@pytest.fixture(scope="module")
def gmap(geemap: Any, ee_api: Any) -> Any:
    """`geemap.Map()` keeps the session's `ee.Initialize(credentials, url=...)`."""
    m = geemap.Map()
    assert ee_api.data._get_state().cloud_api_base_url.startswith("http://127.0.0.1")
    return m


@pytest.fixture(scope="module")
def border(ee_api: Any, server: Any) -> str:
    """Slovenia's border imported as a table (startTableIngestion, as `earthengine upload`)."""
    folder = server.area / f"uploads_geemap_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    shutil.copy(BORDER, folder / BORDER.name)
    table_id = f"projects/{server.project}/assets/geemap_border_{uuid.uuid4().hex[:8]}"
    task = ee_api.data.startTableIngestion(
        ee_api.data.newTaskId()[0],
        {"name": table_id, "sources": [{"uris": [str(folder / BORDER.name)]}]},
    )
    op = ee_api.data.getOperation(task["name"])
    for _ in range(600):
        if op["done"]:
            break
        op = ee_api.data.getOperation(task["name"])
    assert op["metadata"]["state"] == "SUCCEEDED", op
    return table_id


# -- helpers -------------------------------------------------------------------------------------


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


def layer_tile(gmap: Any, name: str, lon: float, lat: float, zoom: int) -> tuple[np.ndarray, Grid]:
    """The layer's tile at a point, fetched from its url as a browser would (no credentials)."""
    url = gmap.ee_layers[name]["ee_layer"].url
    x, y = tile_of(lon, lat, zoom)
    response = requests.get(url.format(x=x, y=y, z=zoom), timeout=120)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "image/png"
    pixels = np.asarray(PILImage.open(io.BytesIO(response.content)).convert("RGBA"))
    return pixels, tile_grid(zoom, x, y)


def stretched(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.rint(np.clip((values.astype(np.float64) - lo) / (hi - lo), 0, 1) * 255)


def stretch_grid(view: tuple[float, float, float, float]) -> Grid:
    """The pixels reduceRegion(bestEffort, maxPixels) reads over `view` in EPSG:3857 at scale 1:
    pixel size doubled from 1 m until at most MAX_PIXELS pixel centres fall in the view (the
    lon/lat box is a rectangle in Mercator)."""
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (x0, x1), (y0, y1) = to_merc.transform([view[0], view[2]], [view[1], view[3]])
    size = 1.0
    while True:
        c0, c1 = math.ceil(x0 / size - 0.5), math.floor(x1 / size - 0.5)
        r0, r1 = math.ceil(y0 / size - 0.5), math.floor(y1 / size - 0.5)
        width, height = c1 - c0 + 1, r1 - r0 + 1
        if width * height <= MAX_PIXELS:
            break
        size *= 2
    return Grid("EPSG:3857", Affine(size, 0, c0 * size, 0, -size, (r1 + 1) * size), width, height)


def pixel_centre(path: Path, lon: float, lat: float) -> tuple[float, float]:
    """The lon/lat of the centre of the source pixel holding (lon, lat)."""
    with rasterio.open(path) as src:
        to_src = Transformer.from_crs("EPSG:4326", src.crs.to_wkt(), always_xy=True)
        row, col = src.index(*to_src.transform(lon, lat))
        x, y = src.xy(row, col)
        back = Transformer.from_crs(src.crs.to_wkt(), "EPSG:4326", always_xy=True)
        return back.transform(x, y)


def value_at(path: Path, lon: float, lat: float) -> int:
    with rasterio.open(path) as src:
        to_src = Transformer.from_crs("EPSG:4326", src.crs.to_wkt(), always_xy=True)
        row, col = src.index(*to_src.transform(lon, lat))
        return int(src.read(1)[row, col])


def composite(ee_api: Any) -> Any:
    return ee_api.ImageCollection(COLLECTION).filterDate(START, END).median()


# -- add_layer -----------------------------------------------------------------------------------


def test_add_layer_image_tiles_match_the_oracle(gmap: Any, ee_api: Any) -> None:
    vis = {"bands": ["B4", "B3", "B2"], "min": 0, "max": 3000}
    gmap.add_layer(ee_api.Image(ITEM.image_id), vis, "image")
    pixels, grid = layer_tile(gmap, "image", 15.7, 45.55, 10)
    for channel, band in enumerate(vis["bands"]):
        values = warp_band(ITEM.band_path(band), grid)
        valid = values != 0
        assert valid.mean() > 0.5
        np.testing.assert_array_equal(
            pixels[..., channel][valid], stretched(values, 0, 3000)[valid]
        )
    np.testing.assert_array_equal(pixels[..., 3] > 0, warp_band(ITEM.band_path("B4"), grid) != 0)


def test_add_layer_collection_is_drawn_as_its_mosaic(gmap: Any, ee_api: Any) -> None:
    # One day of one MGRS tile at this point: the mosaic is that image.
    collection = ee_api.ImageCollection(COLLECTION).filterDate("2023-08-15", "2023-08-16")
    gmap.add_layer(collection, {"bands": ["B8"], "min": 0, "max": 5000}, "collection")
    assert [i.id for i in select_items("2023-08-15", "2023-08-16", 15.7, 45.55)] == [ITEM.id]
    pixels, grid = layer_tile(gmap, "collection", 15.7, 45.55, 10)
    values = warp_band(ITEM.band_path("B8"), grid)
    valid = values != 0
    np.testing.assert_array_equal(pixels[..., 0][valid], stretched(values, 0, 5000)[valid])
    np.testing.assert_array_equal(pixels[..., 3] > 0, valid)


def test_add_layer_feature_collection_fills_the_polygon(
    gmap: Any, ee_api: Any, border: str
) -> None:
    gmap.add_layer(ee_api.FeatureCollection(border), {"color": "ff0000"}, "border")
    pixels, grid = layer_tile(gmap, "border", 15.6, 45.9, 8)
    meta, _, geometries, _ = pyogrio.raw.read(BORDER)
    polygon = shapely.from_wkb(geometries[0])
    to_merc = Transformer.from_crs(meta["crs"], "EPSG:3857", always_xy=True)
    merc = shapely.transform(polygon, lambda xy: np.column_stack(to_merc.transform(*xy.T)))
    shape = (grid.height, grid.width)
    inside = rasterio.features.rasterize([merc], out_shape=shape, transform=grid.transform) == 1
    edge = rasterio.features.rasterize(
        [merc.boundary], out_shape=shape, transform=grid.transform, all_touched=True
    )
    near_edge = scipy.ndimage.binary_dilation(edge == 1, iterations=3)
    drawn = pixels[..., 3] > 0
    assert inside[~near_edge].any() and (~inside[~near_edge]).any()  # the border crosses the tile
    np.testing.assert_array_equal(drawn[~near_edge], inside[~near_edge])
    # Fill and outline in the layer's colour.
    assert (pixels[..., :3][drawn] == (255, 0, 0)).all()
    # geemap draws `style(fillColor=color).updateMask(ee.Image.constant(0.5))` and blends the
    # 2-pixel outline over it: the fill is half transparent (alpha round(0.5 * 255) = 128) and
    # the outline opaque (ADR 0055). The outline: pixel centres within half a pixel of the
    # border (the stroke reaches a pixel either side of it).
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    centres = shapely.points(t.c + cols * t.a, t.f + rows * t.e)
    to_border = shapely.distance(centres, merc.boundary) / t.a
    on_outline = to_border <= 0.5
    assert on_outline.sum() > 50
    assert (pixels[..., 3][on_outline] == 255).all()
    assert (pixels[..., 3][inside & ~near_edge] == 128).all()


# -- the layer editor's stretch ------------------------------------------------------------------


def _stats(values: np.ndarray) -> tuple[float, float, float, float]:
    valid = values[~np.isnan(values)]
    return float(valid.min()), float(valid.max()), float(valid.std()), float(valid.mean())


@pytest.mark.parametrize("layer", ["image", "composite"])
@pytest.mark.parametrize(
    "option", [{"sigma": 1}, {"sigma": 2}, {"sigma": 3}, {"percent": 0.9}, {"percent": 0.98}, {}]
)
def test_layer_editor_stretch_matches_numpy(
    geemap: Any, ee_api: Any, layer: str, option: dict[str, float]
) -> None:
    grid = stretch_grid(VIEW)
    assert grid.transform.a == 64.0 and grid.width * grid.height <= MAX_PIXELS
    if layer == "image":
        image = ee_api.Image(ITEM.image_id)
        raw = warp_band(ITEM.band_path("B4"), grid).astype(np.float64)
        values = np.where(raw == 0, np.nan, raw)
    else:
        image = composite(ee_api)
        items = [i for i in load_items() if START <= i.datetime.strftime("%Y-%m-%d") < END]
        values = median_composite(items, "B4", grid)
    tile_layer = geemap.ee_tile_layers.EELeafletTileLayer(image, {"bands": ["B4"]}, layer)
    lo, hi = tile_layer.calculate_vis_minmax(
        bounds=ee_api.Geometry.BBox(*VIEW), bands=["B4"], **option
    )
    vmin, vmax, std, mean = _stats(values)
    if "sigma" in option:
        expected = (mean - option["sigma"] * std, mean + option["sigma"] * std)
    else:
        shrink = (vmax - vmin) * (1 - option.get("percent", 1.0))
        expected = (vmin + shrink, vmax - shrink)
    np.testing.assert_allclose((lo, hi), expected, rtol=1e-9)


def test_sr_org_6627_is_web_mercator(ee_api: Any) -> None:
    """The code geemap and the Code Editor use for their stretches reads as EPSG:3857."""
    image = ee_api.Image(ITEM.image_id).select("B4")
    region = ee_api.Geometry.BBox(*VIEW)
    reducer = ee_api.Reducer.count()
    for crs in ("SR-ORG:6627", "EPSG:3857"):
        got = image.reduceRegion(reducer, region, crs=crs, scale=64).getInfo()
        expected = int((warp_band(ITEM.band_path("B4"), stretch_grid(VIEW)) != 0).sum())
        assert got == {"B4": expected}


# -- the inspector -------------------------------------------------------------------------------


def test_inspector_point_query_matches_rasterio(geemap: Any, gmap: Any, ee_api: Any) -> None:
    lon, lat = pixel_centre(ITEM.band_path("B4"), 15.7, 45.55)
    gmap.set_center(lon, lat, 15)
    inspector = geemap.map_widgets.Inspector(gmap)
    # A single image: its pixel at the point.
    got = inspector._query_point([lat, lon], ee_api.Image(ITEM.image_id))
    assert got == {
        b: value_at(ITEM.band_path(b), lon, lat) for b in ("B2", "B3", "B4", "B8", "SCL")
    }
    # The median composite: the median of the items' pixels at the point.
    items = select_items(START, END, lon, lat)
    assert len(items) >= 3 and all("33TWL" in i.id for i in items)
    got = inspector._query_point([lat, lon], composite(ee_api))
    for band in ("B2", "B3", "B4", "B8"):
        samples = [value_at(i.band_path(band), lon, lat) for i in items]
        assert got[band] == float(np.median([s for s in samples if s != 0])), band


# -- pixels out: ee_to_numpy (computePixels) and ee_export_image (getDownloadURL) -----------------

REGION = (15.6, 45.5, 15.8, 45.6)


def native_window(path: Path) -> tuple[np.ndarray, Affine, np.ndarray]:
    """The source's own pixels whose grid covers REGION's bounds (snapped outward to whole
    pixels), the window's transform, and which pixels have their centre inside the bounds."""
    with rasterio.open(path) as src:
        to_src = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        lons = [REGION[0], REGION[2], REGION[2], REGION[0]]
        lats = [REGION[1], REGION[1], REGION[3], REGION[3]]
        xs, ys = to_src.transform(lons, lats)
        t = src.transform
        c0, c1 = math.floor((min(xs) - t.c) / t.a), math.ceil((max(xs) - t.c) / t.a)
        r0, r1 = math.floor((max(ys) - t.f) / t.e), math.ceil((min(ys) - t.f) / t.e)
        data = src.read(1, window=((r0, r1), (c0, c1)))
        window_transform = t @ Affine.translation(c0, r0)
    cols, rows = np.meshgrid(np.arange(c1 - c0) + 0.5, np.arange(r1 - r0) + 0.5)
    cx, cy = window_transform @ (cols, rows)
    inside = (cx >= min(xs)) & (cx <= max(xs)) & (cy >= min(ys)) & (cy <= max(ys))
    return data, window_transform, inside


def test_ee_to_numpy_matches_rasterio(geemap: Any, ee_api: Any) -> None:
    image = ee_api.Image(ITEM.image_id).select(["B4", "B8"])
    array = geemap.ee_to_numpy(image, region=ee_api.Geometry.BBox(*REGION), scale=120)
    for i, band in enumerate(("B4", "B8")):
        data, _, inside = native_window(ITEM.band_path(band))
        assert array.shape == (*data.shape, 2)
        assert 0 < (~inside).sum() < sum(data.shape)
        np.testing.assert_array_equal(array[..., i], np.where(inside, data, 0))


def test_ee_export_image_matches_rasterio(geemap: Any, ee_api: Any, tmp_path: Path) -> None:
    image = ee_api.Image(ITEM.image_id).select(["B4", "B8"])
    out = tmp_path / "export.tif"
    geemap.ee_export_image(
        image, str(out), scale=120, region=ee_api.Geometry.BBox(*REGION), verbose=False
    )
    with rasterio.open(out) as ds:
        assert ds.count == 2 and ds.crs.to_epsg() == 32633
        for i, band in enumerate(("B4", "B8"), start=1):
            data, transform, inside = native_window(ITEM.band_path(band))
            assert ds.transform == transform and ds.shape == data.shape
            np.testing.assert_array_equal(ds.read(i), np.where(inside, data, 0))
