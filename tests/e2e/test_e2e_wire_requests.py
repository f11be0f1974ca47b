"""REST and asset requests that used to give silent wrong results (issue 11, items 2-5), through
the stock `ee` client and google-auth's AuthorizedSession, against independent oracles:

- `assets/*:getPixels` with `region`: the pixels of the native grid covering the region's
  bounding box, read here with rasterio; with `grid.dimensions`, that extent rescaled (nearest
  neighbour by pixel centres, `oracle.warp_band`).
- `:listImages` with `startTime`, `endTime`, `region` and a bare-name `filter`, as Earth Engine's
  REST quickstart writes it: the demo STAC items selected here from their JSON.
- `filterBounds` keeps unbounded images (`ee.Image(0)`).
- `Feature.propertyNames()` lists `system:index`; a table's `getInfo()['columns']` lists its
  columns and types (read here with pyogrio).
"""

from __future__ import annotations

import io
import json
import math
import uuid

import numpy as np
import oracle
import pyogrio
import pytest
import rasterio
import rasterio.windows
import shapely.geometry
from affine import Affine
from PIL import Image as PILImage
from pyproj import Transformer

from openee.cli import main as openee_cli

LOWRES = oracle.REPO_ROOT / "tests/data/vector/naturalearth_lowres/naturalearth_lowres.shp"
ITEM = oracle.load_items()[0]
B4 = ITEM.band_path("B4")


def _patch(half_m: float = 1000.0) -> dict[str, object]:
    """A 2 km square (WGS84 GeoJSON) around the footprint's centre, made in the band's UTM."""
    with rasterio.open(B4) as src:
        crs = src.crs.to_string()
    centre = ITEM.footprint.centroid
    to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x, y = to_utm.transform(centre.x, centre.y)
    ring = [
        to_wgs.transform(x + dx, y + dy)
        for dx, dy in ((-half_m, -half_m), (half_m, -half_m), (half_m, half_m), (-half_m, half_m))
    ]
    return {"type": "Polygon", "coordinates": [[*map(list, ring), list(ring[0])]]}


def _covering_window(region: dict[str, object]) -> tuple[rasterio.windows.Window, Affine, str]:
    """The band file's window of whole pixels covering the region's bounds in the file's CRS."""
    with rasterio.open(B4) as src:
        crs, transform = src.crs.to_string(), src.transform
    to_file = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    ring = shapely.geometry.shape(region).exterior.coords
    xs, ys = to_file.transform([p[0] for p in ring], [p[1] for p in ring])
    exact = rasterio.windows.from_bounds(min(xs), min(ys), max(xs), max(ys), transform)
    col0, row0 = math.floor(exact.col_off), math.floor(exact.row_off)
    col1 = math.ceil(exact.col_off + exact.width)
    row1 = math.ceil(exact.row_off + exact.height)
    window = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
    return window, rasterio.windows.transform(window, transform), crs


def _npy(ee, body: dict[str, object]) -> np.ndarray:
    return ee.data.getPixels({"assetId": ITEM.image_id, "fileFormat": "NUMPY_NDARRAY", **body})


# -- getPixels ---------------------------------------------------------------------------------


def test_get_pixels_region_returns_the_window_covering_it(ee_api) -> None:
    region = _patch()
    window, _, _ = _covering_window(region)
    with rasterio.open(B4) as src:
        want = src.read(1, window=window)
        full = (src.height, src.width)
    got = _npy(ee_api, {"bandIds": ["B4"], "region": region})
    assert got.shape == want.shape
    assert want.shape[0] < full[0] // 4  # a patch, not the scene
    np.testing.assert_array_equal(got["B4"], want)


def test_get_pixels_region_with_dimensions_rescales_the_region(ee_api) -> None:
    region = _patch()
    window, transform, crs = _covering_window(region)
    width, height = 2 * int(window.width) + 3, 2 * int(window.height) + 1
    scaled = transform @ Affine.scale(window.width / width, window.height / height)
    want = oracle.warp_band(B4, oracle.Grid(crs, scaled, width, height))
    got = _npy(
        ee_api,
        {
            "bandIds": ["B4"],
            "region": region,
            "grid": {"dimensions": {"width": width, "height": height}},
        },
    )
    assert got.shape == (height, width)
    np.testing.assert_array_equal(got["B4"], want)


def test_get_pixels_png_of_region_and_dimensions(ee_api) -> None:
    """The quickstart's thumbnail request (region + dimensions + ranges) on a patch."""
    region = _patch()
    window, transform, crs = _covering_window(region)
    width, height = 3 * int(window.width), 3 * int(window.height)
    scaled = transform @ Affine.scale(window.width / width, window.height / height)
    values = oracle.warp_band(B4, oracle.Grid(crs, scaled, width, height)).astype(float)
    content = ee_api.data.getPixels(
        {
            "assetId": ITEM.image_id,
            "fileFormat": "PNG",
            "bandIds": ["B4"],
            "region": region,
            "grid": {"dimensions": {"width": width, "height": height}},
            "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]},
        }
    )
    png = np.asarray(PILImage.open(io.BytesIO(content)))
    assert png.shape[:2] == (height, width)
    gray = np.clip(values / 3000 * 255, 0, 255)
    valid = values != oracle.NODATA
    assert valid.mean() > 0.9
    np.testing.assert_allclose(png[..., 0][valid], gray[valid], atol=1)


# -- listImages --------------------------------------------------------------------------------


def _cloud_cover(item: oracle.Item) -> float:
    doc = json.loads((item.band_path("B4").parent / f"{item.id}.json").read_text())
    return float(doc["properties"]["eo:cloud_cover"])


@pytest.mark.parametrize("field", ["CLOUDY_PIXEL_PERCENTAGE", "properties.CLOUDY_PIXEL_PERCENTAGE"])
@pytest.mark.parametrize(
    ("start", "end", "lon", "lat", "below"),
    [
        ("2023-08-01", "2023-09-01", 15.5, 45.5, 10),
        ("2023-08-11", "2023-08-19", 15.5, 45.5, 10),
        ("2023-08-11", "2023-08-21", 15.8, 46.5, 5),
    ],
)
def test_rest_list_images_time_region_and_filter(
    server, authed_session, field, start, end, lon, lat, below
) -> None:
    """Earth Engine's REST quickstart: `:listImages?startTime&endTime&region&filter`."""
    expected = [it for it in oracle.select_items(start, end, lon, lat) if _cloud_cover(it) < below]
    url = f"{server.base_url}/v1/projects/earthengine-public/assets/{oracle.COLLECTION_ID}"
    response = authed_session.get(
        f"{url}:listImages",
        params={
            "startTime": f"{start}T00:00:00.000Z",
            "endTime": f"{end}T00:00:00.000Z",
            "region": json.dumps({"type": "Point", "coordinates": [lon, lat]}),
            "filter": f"{field} < {below}",
        },
    )
    assert response.status_code == 200, response.text
    images = response.json().get("images", [])
    assert sorted(i["id"] for i in images) == sorted(it.image_id for it in expected)
    for image in images:
        assert image["properties"]["CLOUDY_PIXEL_PERCENTAGE"] < below
    assert 0 < len(expected) < len(oracle.select_items(start, end, lon, lat))  # each part bites


def test_client_list_images_with_a_bare_name_filter(ee_api) -> None:
    """`ee.data.listImages` passes `filter` through to listAssets as the user wrote it."""
    expected = [it for it in oracle.load_items() if _cloud_cover(it) < 10]
    listed = ee_api.data.listImages(
        {"parent": oracle.COLLECTION_ID, "filter": "CLOUDY_PIXEL_PERCENTAGE < 10"}
    )["images"]
    assert sorted(i["id"] for i in listed) == sorted(it.image_id for it in expected)
    assert 0 < len(expected) < len(oracle.load_items())


# -- filterBounds --------------------------------------------------------------------------------


@pytest.mark.parametrize(("lon", "lat"), [(0.0, 0.0), (-120.0, 40.0), (15.5, 45.5)])
def test_filter_bounds_keeps_unbounded_images(ee_api, lon, lat) -> None:
    ee = ee_api
    point = shapely.geometry.Point(lon, lat)
    collection = ee.ImageCollection([ee.Image(0), ee.Image(ITEM.image_id).select("B4")])
    kept = collection.filterBounds(ee.Geometry.Point([lon, lat]))
    got = kept.toList(10).map(lambda i: ee.Image(i).bandNames().get(0)).getInfo()
    want = ["constant"] + (["B4"] if ITEM.footprint.intersects(point) else [])
    assert got == want


# -- propertyNames and columns -----------------------------------------------------------------


@pytest.fixture(scope="module")
def lowres(server) -> str:
    asset_id = f"projects/{server.project}/assets/wire_{uuid.uuid4().hex[:8]}/naturalearth_lowres"
    code = openee_cli(
        ["ingest", str(LOWRES), "--asset-id", asset_id, "--data-dir", str(server.data_dir)]
    )
    assert code == 0
    return asset_id


# pyogrio's field dtypes -> the type names Earth Engine's table columns carry (ADR 0024).
_EE_TYPES = {"object": "String", "float64": "Float", "int64": "Long", "int32": "Long"}


def test_table_columns_list_names_and_types(ee_api, lowres) -> None:
    info = pyogrio.read_info(LOWRES)
    want = {str(n): _EE_TYPES[str(t)] for n, t in zip(info["fields"], info["dtypes"], strict=True)}
    want["system:index"] = "String"
    fc = ee_api.FeatureCollection(lowres)
    assert fc.limit(0).getInfo()["columns"] == want  # the guides' idiom (features04)
    assert fc.getInfo()["columns"] == want


def test_computed_collection_columns_as_documented(ee_api) -> None:
    """Earth Engine's ee.FeatureCollection sample shows the getInfo of a one-feature
    collection with {'key': 'val1'}: columns {'key': 'String', 'system:index': 'String'}."""
    ee = ee_api
    fc = ee.FeatureCollection([ee.Feature(ee.Geometry.Point(-62.54, -27.32), {"key": "val1"})])
    assert fc.getInfo()["columns"] == {"key": "String", "system:index": "String"}


def test_computed_collection_column_types(ee_api) -> None:
    """Type names as Earth Engine's getInfo writes them for values from the client: whole
    numbers 'Integer', others 'Float', lists of strings 'List<String>' (ADR 0024)."""
    ee = ee_api
    props = {"name": "x", "n": 3, "ratio": 0.5, "tags": ["a", "b"]}
    mixed = {"name": "y", "n": 2.5}
    fc = ee.FeatureCollection([ee.Feature(None, props), ee.Feature(None, mixed)])
    assert fc.getInfo()["columns"] == {
        "name": "String",
        "n": "Float",
        "ratio": "Float",
        "tags": "List<String>",
        "system:index": "String",
    }
    assert fc.limit(1).getInfo()["columns"]["n"] == "Integer"


def test_feature_property_names_include_system_index(ee_api, lowres) -> None:
    ee = ee_api
    fields = [str(n) for n in pyogrio.read_info(LOWRES)["fields"]]
    first = ee.Feature(ee.FeatureCollection(lowres).first())
    listed = ee.Feature(ee.FeatureCollection([ee.Feature(None, {"a": 1})]).first())
    got = ee.List(
        [first.propertyNames(), listed.propertyNames(), first.get("system:index"), first.id()]
    ).getInfo()
    assert sorted(got[0]) == sorted([*fields, "system:index"])
    assert sorted(got[1]) == ["a", "system:index"]
    assert got[2] == got[3] is not None
