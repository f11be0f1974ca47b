"""Every output format round-trips: GeoTIFF, NPY, PNG, JPEG, AUTO_JPEG_PNG, the ZIPs; plus
visualization options, getPixels of a stored image, computeImages and the 501 for TFRecord."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import rasterio
from oracle import Grid, load_items, warp_band
from PIL import Image as PILImage

ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
GRID = Grid.centered("EPSG:4326", 15.0, 45.5, 0.002, 96, 64)  # half outside the tile: masked
INSIDE = Grid.centered("EPSG:4326", 15.7, 45.55, 0.002, 96, 64)


def post(authed_session, server, project_path: str, body: dict) -> bytes:
    response = authed_session.post(f"{server.base_url}/v1/{project_path}", data=json.dumps(body))
    assert response.status_code == 200, response.text
    return response.content


def pixels(ee_api, authed_session, server, image, grid: Grid, **options) -> bytes:
    body = {"expression": ee_api.serializer.encode(image), "grid": grid.to_pixel_grid(), **options}
    return post(
        authed_session, server, f"projects/{server.key['project_id']}/image:computePixels", body
    )


def b4(grid: Grid) -> np.ndarray:
    return warp_band(ITEM.band_path("B4"), grid)


def test_geotiff_carries_crs_transform_shape_and_mask(ee_api, authed_session, server) -> None:
    image = ee_api.Image(ITEM.image_id).select(["B4", "B8"])
    content = pixels(ee_api, authed_session, server, image, GRID, fileFormat="GEO_TIFF")
    with rasterio.MemoryFile(content) as memfile, memfile.open() as ds:
        assert ds.crs == rasterio.crs.CRS.from_epsg(4326)
        assert ds.transform.almost_equals(GRID.transform)
        assert (ds.height, ds.width, ds.count) == (GRID.height, GRID.width, 2)
        assert ds.descriptions == ("B4", "B8")
        expected = b4(GRID)
        np.testing.assert_array_equal(ds.read_masks(1) > 0, expected != 0)
        np.testing.assert_array_equal(ds.read(1)[expected != 0], expected[expected != 0])


def test_npy_is_a_structured_array_with_band_dtypes(ee_api, authed_session, server) -> None:
    image = ee_api.Image(ITEM.image_id).select(["B4", "SCL"])
    content = pixels(ee_api, authed_session, server, image, INSIDE, fileFormat="NPY")
    arr = np.load(io.BytesIO(content))
    assert arr.shape == (INSIDE.height, INSIDE.width)
    assert arr.dtype.names == ("B4", "SCL")
    assert arr.dtype["B4"] == np.uint16 and arr.dtype["SCL"] == np.uint8
    np.testing.assert_array_equal(arr["B4"], b4(INSIDE))


def test_png_has_alpha_where_masked(ee_api, authed_session, server) -> None:
    image = ee_api.Image(ITEM.image_id)
    content = pixels(
        ee_api, authed_session, server, image, GRID, fileFormat="PNG", bandIds=["B4", "B3", "B2"],
        visualizationOptions={"ranges": [{"min": 0, "max": 3000}]},
    )  # fmt: skip
    png = np.asarray(PILImage.open(io.BytesIO(content)))
    assert png.shape == (GRID.height, GRID.width, 4)
    expected = b4(GRID)
    np.testing.assert_array_equal(png[..., 3] == 255, expected != 0)
    red = np.round(np.clip(expected / 3000 * 255, 0, 255))
    assert np.abs(png[..., 0][expected != 0] - red[expected != 0]).max() <= 1


def test_jpeg_decodes_and_auto_picks_png_only_when_masked(ee_api, authed_session, server) -> None:
    image = ee_api.Image(ITEM.image_id)
    vis = {
        "bandIds": ["B4", "B3", "B2"],
        "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]},
    }
    jpeg = pixels(ee_api, authed_session, server, image, GRID, fileFormat="JPEG", **vis)
    assert PILImage.open(io.BytesIO(jpeg)).format == "JPEG"
    auto_inside = pixels(
        ee_api, authed_session, server, image, INSIDE, fileFormat="AUTO_JPEG_PNG", **vis
    )
    auto_edge = pixels(
        ee_api, authed_session, server, image, GRID, fileFormat="AUTO_JPEG_PNG", **vis
    )
    assert PILImage.open(io.BytesIO(auto_inside)).format == "JPEG"
    assert PILImage.open(io.BytesIO(auto_edge)).format == "PNG"


def test_palette_gamma_and_opacity(ee_api, authed_session, server) -> None:
    image = ee_api.Image(ITEM.image_id).select("B4")
    content = pixels(
        ee_api, authed_session, server, image, INSIDE, fileFormat="PNG",
        visualizationOptions={
            "ranges": [{"min": 0, "max": 1000}], "paletteColors": ["000000", "ff0000"],
            "gamma": {"value": 2.0}, "opacity": 0.5,
        },
    )  # fmt: skip
    png = np.asarray(PILImage.open(io.BytesIO(content)))
    unit = np.clip(b4(INSIDE) / 1000, 0, 1) ** 0.5
    assert np.abs(png[..., 0].astype(int) - np.round(unit * 255)).max() <= 1
    assert (png[..., 1] == 0).all() and (png[..., 2] == 0).all()
    assert set(np.unique(png[..., 3])) == {128}


@pytest.mark.parametrize(
    ("file_format", "names"),
    [
        ("ZIPPED_GEO_TIFF", ["download.tif"]),
        ("ZIPPED_GEO_TIFF_PER_BAND", ["download.B4.tif", "download.B8.tif"]),
    ],
)
def test_zips_hold_their_geotiffs(
    ee_api, authed_session, server, file_format: str, names: list[str]
) -> None:
    image = ee_api.Image(ITEM.image_id).select(["B4", "B8"])
    content = pixels(ee_api, authed_session, server, image, INSIDE, fileFormat=file_format)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == names
        with rasterio.MemoryFile(archive.read(names[0])) as memfile, memfile.open() as ds:
            np.testing.assert_array_equal(ds.read(1), b4(INSIDE))


def test_tf_record_is_unimplemented(ee_api, authed_session, server) -> None:
    body = {"expression": ee_api.serializer.encode(ee_api.Image(ITEM.image_id)), "fileFormat": "TF_RECORD_IMAGE",
            "grid": INSIDE.to_pixel_grid()}  # fmt: skip
    response = authed_session.post(
        f"{server.base_url}/v1/projects/{server.key['project_id']}/image:computePixels",
        data=json.dumps(body),
    )
    assert response.status_code == 501
    assert response.json()["error"]["status"] == "UNIMPLEMENTED"


def test_get_pixels_of_a_stored_image(ee_api) -> None:
    arr = ee_api.data.getPixels(
        {
            "assetId": ITEM.image_id,
            "fileFormat": "NUMPY_NDARRAY",
            "bandIds": ["B4"],
            "grid": INSIDE.to_pixel_grid(),
        }
    )
    np.testing.assert_array_equal(arr["B4"], b4(INSIDE))


def test_get_pixels_native_grid_when_grid_is_omitted(authed_session, server) -> None:
    name = f"projects/earthengine-public/assets/{ITEM.image_id}"
    content = post(
        authed_session, server, f"{name}:getPixels", {"fileFormat": "NPY", "bandIds": ["SCL"]}
    )
    arr = np.load(io.BytesIO(content))
    with rasterio.open(ITEM.band_path("SCL")) as src:
        np.testing.assert_array_equal(arr["SCL"], src.read(1))


def test_compute_images_lists_the_filtered_collection(ee_api, authed_session, server) -> None:
    collection = (
        ee_api.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
        .filterBounds(ee_api.Geometry.Point([15.7, 45.55]))
        .filterDate("2023-08-12", "2023-08-19")
    )
    body = {"expression": ee_api.serializer.encode(collection), "pageSize": 2}
    first = json.loads(
        post(
            authed_session,
            server,
            f"projects/{server.key['project_id']}/imageCollection:computeImages",
            body,
        )
    )
    assert [i["id"] for i in first["images"]] == [
        "COPERNICUS/S2_SR_HARMONIZED/S2B_33TWL_20230813_0_L2A",
        "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWL_20230815_0_L2A",
    ]
    assert first["images"][0]["bands"][0]["grid"]["crsCode"] == "EPSG:32633"
    body["pageToken"] = first["nextPageToken"]
    second = json.loads(
        post(
            authed_session,
            server,
            f"projects/{server.key['project_id']}/imageCollection:computeImages",
            body,
        )
    )
    assert [i["id"] for i in second["images"]] == [
        "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWL_20230818_0_L2A"
    ]
    assert "nextPageToken" not in second
