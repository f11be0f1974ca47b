"""Batch image exports through the stock `ee` client: `Export.image.toCloudStorage`, `toDrive`
and `toAsset` started with `task.start()` and followed with `task.status()`; the files are
checked against an independent oracle (the demo's band files warped with pyproj + numpy and a
masked median, `oracle.py`) on each file's own grid, which must tile the region exactly with
Earth Engine's shard names. Also: the receipt, cancel, failures, Task.list / listOperations.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.windows
import shapely.geometry
from affine import Affine
from oracle import Grid, load_items, masked_median, warp_band
from pyproj import Transformer

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
AUGUST = ("2023-08-01", "2023-09-01")
# Over both demo tiles (33TWL, 33TWM): the composite's pixels come from ten images.
WEST, SOUTH, EAST, NORTH = 15.45, 45.55, 15.95, 46.05
SIDE, FILE_SIDE = 2048, 1024
NO_DATA = -9999.0
DONE = ("COMPLETED", "FAILED", "CANCELLED")


def wait_done(task: Any, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = task.status()
        if status["state"] in DONE:
            return status
        time.sleep(0.25)
    raise AssertionError(f"task still {task.status()['state']} after {timeout} s")


def composite(ee: Any) -> Any:
    region = ee.Geometry.Rectangle([WEST, SOUTH, EAST, NORTH], None, False)
    return ee.ImageCollection(COLLECTION).filterBounds(region).filterDate(*AUGUST).median()


def region(ee: Any) -> Any:
    return ee.Geometry.Rectangle([WEST, SOUTH, EAST, NORTH], None, False)


def oracle_median(band: str, grid: Grid) -> np.ndarray:
    """The masked median of the August images whose footprint meets the region, each band file
    sampled at the grid's pixel centres (nearest, centres transformed exactly with pyproj, as
    `oracle.warp_band` does; the index maps are computed once per source grid, since the ten
    files lie on two)."""
    box = shapely.geometry.box(WEST, SOUTH, EAST, NORTH)
    items = [
        it
        for it in load_items()
        if AUGUST[0] <= it.datetime.strftime("%Y-%m-%d") < AUGUST[1]
        and it.footprint.intersects(box)
    ]
    assert len(items) == 10
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    xs, ys = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    index_maps: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    layers = []
    for it in items:
        with rasterio.open(it.band_path(band)) as src:
            data, key = src.read(1), (src.crs.to_wkt(), tuple(src.transform), src.shape)
        if key not in index_maps:
            sx, sy = Transformer.from_crs(grid.crs, key[0], always_xy=True).transform(xs, ys)
            inv = ~Affine(*key[1][:6])
            c = np.floor(inv.a * sx + inv.b * sy + inv.c)
            r = np.floor(inv.d * sx + inv.e * sy + inv.f)
            inside = (c >= 0) & (r >= 0) & (c < key[2][1]) & (r < key[2][0])
            index_maps[key] = (r[inside].astype(int), c[inside].astype(int), inside)
        r, c, inside = index_maps[key]
        layer = np.zeros((grid.height, grid.width), dtype=data.dtype)
        layer[inside] = data[r, c]
        layers.append(layer)
    return masked_median(np.stack(layers))


def file_grid(path: Path) -> tuple[Grid, np.ndarray, dict[str, Any]]:
    with rasterio.open(path) as src:
        grid = Grid(src.crs.to_string(), src.transform, src.width, src.height)
        return grid, src.read(), {"nodata": src.nodata, "descriptions": src.descriptions}


@pytest.fixture(scope="module")
def gcs_export(ee_api, server) -> dict[str, Any]:
    """One 2048 x 2048 median composite of B4 and B8, split in four files."""
    prefix = f"exports/median_{uuid.uuid4().hex[:6]}"
    task = ee_api.batch.Export.image.toCloudStorage(
        image=composite(ee_api).select(["B4", "B8"]),
        description="median_gcs",
        bucket="e2e-bucket",
        fileNamePrefix=prefix,
        region=region(ee_api),
        dimensions=f"{SIDE}x{SIDE}",
        crs="EPSG:4326",
        fileDimensions=FILE_SIDE,
        formatOptions={"cloudOptimized": True, "noData": NO_DATA},
    )
    task.start()
    status = wait_done(task)
    folder = server.data_dir / "buckets" / "e2e-bucket" / "exports"
    return {"task": task, "status": status, "prefix": prefix, "folder": folder}


def test_export_to_cloud_storage_completes_with_earth_engines_shard_names(gcs_export) -> None:
    status = gcs_export["status"]
    assert status["state"] == "COMPLETED", status
    assert status["task_type"] == "EXPORT_IMAGE"
    assert status["description"] == "median_gcs"
    name = Path(gcs_export["prefix"]).name
    files = sorted(p.name for p in gcs_export["folder"].glob(f"{name}*"))
    assert files == [
        f"{name}-0000000000-0000000000.tif",
        f"{name}-0000000000-0000001024.tif",
        f"{name}-0000001024-0000000000.tif",
        f"{name}-0000001024-0000001024.tif",
        f"{name}.receipt.json",
    ]
    assert status["destination_uris"] and status["destination_uris"][0].startswith("file://")


def test_shards_tile_the_region_exactly_and_equal_the_oracle(gcs_export) -> None:
    name = Path(gcs_export["prefix"]).name
    whole = Affine(
        (EAST - WEST) / SIDE, 0, WEST, 0, -(NORTH - SOUTH) / SIDE, NORTH
    )  # region / dimensions, as Image.clipToBoundsAndScale defines it
    for row in (0, FILE_SIDE):
        for col in (0, FILE_SIDE):
            path = gcs_export["folder"] / f"{name}-{row:010d}-{col:010d}.tif"
            grid, data, meta = file_grid(path)
            assert (grid.width, grid.height) == (FILE_SIDE, FILE_SIDE)
            assert grid.crs == "EPSG:4326"
            expected_transform = whole @ Affine.translation(col, row)
            np.testing.assert_allclose(
                grid.transform[:6], expected_transform[:6], rtol=0, atol=1e-12
            )
            assert meta["nodata"] == NO_DATA
            assert meta["descriptions"] == ("B4", "B8")
            # B4 on every file; B8 (same code path, another band index) on the first one.
            for i, band in enumerate(("B4", "B8") if row == col == 0 else ("B4",)):
                expected = oracle_median(band, grid)
                assert (~np.isnan(expected)).any()
                expected = np.where(np.isnan(expected), NO_DATA, expected)
                np.testing.assert_array_equal(data[i], expected)


def test_cloud_optimized_files_are_cogs(gcs_export) -> None:
    name = Path(gcs_export["prefix"]).name
    with rasterio.open(gcs_export["folder"] / f"{name}-0000000000-0000000000.tif") as src:
        assert src.profile["tiled"]
        assert src.overviews(1), "a COG of 1024 x 1024 pixels has overviews"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_receipt_names_the_expression_inputs_and_checksums(gcs_export, server) -> None:
    name = Path(gcs_export["prefix"]).name
    receipt = json.loads((gcs_export["folder"] / f"{name}.receipt.json").read_text())
    assert receipt["openeeVersion"]
    assert len(receipt["expressionSha256"]) == 64
    assert [a["id"] for a in receipt["assets"]] == [COLLECTION]
    assert len(receipt["sourceFiles"]) == 2 * 10  # B4 and B8 of ten images
    assert len(receipt["outputs"]) == 4
    for output in receipt["outputs"]:
        path = Path(output["uri"].removeprefix("file://"))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == output["sha256"]
        assert path.stat().st_size == output["bytes"]


def test_operation_metadata_is_earth_engines(gcs_export, ee_api) -> None:
    op = ee_api.data.getOperation(gcs_export["status"]["name"])
    meta = op["metadata"]
    assert op["done"] is True
    assert meta["state"] == "SUCCEEDED"
    assert meta["type"] == "EXPORT_IMAGE"
    assert meta["priority"] == 100
    assert meta["progress"] == 1.0
    (stage,) = meta["stages"]
    assert stage["completeWorkUnits"] == stage["totalWorkUnits"] >= 4
    assert meta["batchEecuUsageSeconds"] > 0
    assert meta["estimate"]["pixels"] == SIDE * SIDE
    assert meta["estimate"]["files"] == 4
    for key in ("createTime", "updateTime", "startTime", "endTime"):
        stamp = meta[key]
        assert stamp.endswith("Z")
        fraction = stamp[:-1].partition(".")[2]
        assert len(fraction) <= 6
    assert op["response"]["receipt"]["outputs"]


def test_task_list_and_list_operations_show_the_export(gcs_export, ee_api) -> None:
    task_id = gcs_export["task"].id
    assert task_id in [t.id for t in ee_api.batch.Task.list()]
    ops = ee_api.data.listOperations()
    assert any(op["name"].endswith(task_id) for op in ops)
    assert not gcs_export["task"].active()


def test_estimate_before_running(gcs_export, ee_api, server, authed_session) -> None:
    task = ee_api.batch.Export.image.toCloudStorage(
        image=composite(ee_api).select(["B4", "B8"]),
        description="estimate",
        bucket="e2e-bucket",
        fileNamePrefix="estimate",
        region=region(ee_api),
        dimensions=f"{SIDE}x{SIDE}",
        crs="EPSG:4326",
        fileDimensions=FILE_SIDE,
    )
    config = dict(task.config)
    body = {
        "expression": ee_api.serializer.encode(config.pop("expression"), for_cloud_api=True),
        "fileExportOptions": config["fileExportOptions"],
    }
    r = authed_session.post(
        f"{server.base_url}/v1/projects/{server.project}/image:estimateExport", json=body
    )
    assert r.ok, r.text
    estimate = r.json()["estimate"]
    name = Path(gcs_export["prefix"]).name
    with rasterio.open(gcs_export["folder"] / f"{name}-0000000000-0000000000.tif") as src:
        itemsize = np.dtype(src.dtypes[0]).itemsize
    assert estimate["pixels"] == SIDE * SIDE
    assert estimate["files"] == 4
    assert estimate["bands"] == 2
    assert estimate["uncompressedBytes"] == SIDE * SIDE * 2 * itemsize
    assert estimate["grid"]["dimensions"] == {"width": SIDE, "height": SIDE}
    assert estimate["estimatedSeconds"] > 0  # from the throughput of the export above
    assert not list((server.data_dir / "buckets" / "e2e-bucket").glob("estimate*"))  # not run


def test_export_to_drive_lands_in_the_callers_folder(ee_api, server) -> None:
    grid = Grid("EPSG:32633", Affine(120, 0, 560040, 0, -120, 5060040), 300, 200)
    image = ee_api.Image(f"{COLLECTION}/{_item_id()}").select("B4")
    task = ee_api.batch.Export.image.toDrive(
        image=image,
        description="drive_export",
        folder="ee_out",
        fileNamePrefix="b4",
        crs=grid.crs,
        crsTransform=list(grid.crs_transform),
        dimensions=f"{grid.width}x{grid.height}",
        region=ee_api.Geometry.Rectangle(list(_bounds(grid)), grid.crs, False),
    )
    task.start()
    status = wait_done(task)
    assert status["state"] == "COMPLETED", status
    email = server.key["client_email"]
    path = server.data_dir / "drive" / email / "ee_out" / "b4.tif"
    got, data, _ = file_grid(path)
    assert (got.width, got.height) == (grid.width, grid.height)
    np.testing.assert_allclose(got.transform[:6], grid.transform[:6], atol=1e-6)
    expected = warp_band(_item().band_path("B4"), got)
    np.testing.assert_array_equal(data[0], expected)


def test_export_to_asset_then_read_back_with_get_pixels(ee_api, server) -> None:
    asset = f"projects/{server.project}/assets/exported_{uuid.uuid4().hex[:6]}"
    grid = Grid("EPSG:32633", Affine(120, 0, 560040, 0, -120, 5060040), 128, 96)
    image = ee_api.Image(f"{COLLECTION}/{_item_id()}").select(["B4", "B8"])
    task = ee_api.batch.Export.image.toAsset(
        image=image,
        description="asset_export",
        assetId=asset,
        crs=grid.crs,
        crsTransform=list(grid.crs_transform),
        dimensions=f"{grid.width}x{grid.height}",
        region=ee_api.Geometry.Rectangle(list(_bounds(grid)), grid.crs, False),
    )
    task.start()
    status = wait_done(task)
    assert status["state"] == "COMPLETED", status
    exported = ee_api.Image(asset)
    assert exported.bandNames().getInfo() == ["B4", "B8"]
    pixels = ee_api.data.getPixels(
        {"assetId": asset, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )
    for band in ("B4", "B8"):
        expected = warp_band(_item().band_path(band), grid)
        np.testing.assert_array_equal(pixels[band], expected)
    # masked source pixels stay masked in the asset
    mask = (
        exported.select("B4")
        .mask()
        .reduceRegion(
            ee_api.Reducer.min(),
            ee_api.Geometry.Rectangle(list(_bounds(grid)), grid.crs, False),
            crs=grid.crs,
            crsTransform=list(grid.crs_transform),
        )
        .getInfo()
    )
    assert mask["B4"] == (1 if (warp_band(_item().band_path("B4"), grid) != 0).all() else 0)


def test_cancel_leaves_nothing_at_the_destination(ee_api, server) -> None:
    prefix = f"cancelled_{uuid.uuid4().hex[:6]}"
    task = ee_api.batch.Export.image.toCloudStorage(
        image=composite(ee_api).select(["B4", "B8", "B2", "B3"]),
        description="to_cancel",
        bucket="cancel-bucket",
        fileNamePrefix=prefix,
        region=region(ee_api),
        dimensions="8192x8192",
        crs="EPSG:4326",
        maxPixels=1e9,
    )
    task.start()
    deadline = time.monotonic() + 60
    while task.status()["state"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert task.status()["state"] == "RUNNING"
    task.cancel()
    # No timing assertion (it flaked on a loaded machine): an export that ignored the cancel
    # would end SUCCEEDED with files in the bucket, which the lines below refuse.
    status = wait_done(task, timeout=120)
    assert status["state"] == "CANCELLED"
    bucket = server.data_dir / "buckets" / "cancel-bucket"
    assert not bucket.exists() or not any(bucket.rglob("*"))
    assert not any((server.data_dir / "exports-staging").glob(f"{task.id}*"))


def test_too_many_pixels_fails_with_earth_engines_message(ee_api) -> None:
    task = ee_api.batch.Export.image.toCloudStorage(
        image=composite(ee_api).select("B4"),
        description="too_large",
        bucket="e2e-bucket",
        fileNamePrefix="too_large",
        region=region(ee_api),
        dimensions="20000x20000",
        crs="EPSG:4326",
    )
    task.start()
    status = wait_done(task)
    assert status["state"] == "FAILED"
    assert status["error_message"] == (
        "Export too large: specified 400000000 pixels (max: 100000000). Specify higher "
        "maxPixels value if you intend to export a large area."
    )


def test_a_bad_expression_fails_the_task_with_a_clear_message(ee_api, server) -> None:
    task = ee_api.batch.Export.image.toCloudStorage(
        image=ee_api.Image(f"{COLLECTION}/{_item_id()}").select("B99"),
        description="bad_band",
        bucket="e2e-bucket",
        fileNamePrefix="bad_band",
        region=region(ee_api),
        scale=1000,
    )
    task.start()
    status = wait_done(task)
    assert status["state"] == "FAILED"
    assert "B99" in status["error_message"]
    assert not list((server.data_dir / "buckets" / "e2e-bucket").glob("bad_band*"))


def test_a_set_whose_third_file_cannot_be_written_publishes_nothing(ee_api, server) -> None:
    """Four shards and a receipt; a folder sits where the third shard goes: the export fails
    naming it, and none of the set is at the destination (docs/decisions/0044)."""
    grid = Grid("EPSG:32633", Affine(120, 0, 560040, 0, -120, 5060040), 200, 150)
    prefix = f"sets/s_{uuid.uuid4().hex[:6]}"
    folder = server.data_dir / "buckets" / "set-bucket" / "sets"
    blocker = folder / f"{Path(prefix).name}-0000000128-0000000000.tif"
    blocker.mkdir(parents=True)
    task = ee_api.batch.Export.image.toCloudStorage(
        image=ee_api.Image(f"{COLLECTION}/{_item_id()}").select("B4"),
        description="blocked_set",
        bucket="set-bucket",
        fileNamePrefix=prefix,
        crs=grid.crs,
        crsTransform=list(grid.crs_transform),
        dimensions=f"{grid.width}x{grid.height}",
        region=ee_api.Geometry.Rectangle(list(_bounds(grid)), grid.crs, False),
        fileDimensions=128,
        shardSize=128,
    )
    task.start()
    status = wait_done(task)
    assert status["state"] == "FAILED"
    assert f"Writing '{blocker}' failed: IsADirectoryError" in status["error_message"]
    assert [p.relative_to(folder) for p in folder.rglob("*")] == [blocker.relative_to(folder)]
    assert not any((server.data_dir / "exports-staging").glob(f"{task.id}*"))


def test_a_retried_start_with_the_same_request_id_makes_one_operation(ee_api, server) -> None:
    request_id = str(uuid.uuid4())
    body = {
        "expression": ee_api.serializer.encode(
            ee_api.Image.constant(1).clipToBoundsAndScale(geometry=region(ee_api), width=8),
            for_cloud_api=True,
        ),
        "description": "idempotent",
        "fileExportOptions": {
            "fileFormat": "GEO_TIFF",
            "cloudStorageDestination": {"bucket": "e2e-bucket", "filenamePrefix": "idem"},
        },
        "requestId": request_id,
    }
    first = ee_api.data.exportImage(request_id, body)
    second = ee_api.data.exportImage(request_id, body)
    assert first["name"] == second["name"]


@pytest.mark.parametrize("kind", ["videoMap"])
def test_unbuilt_exports_answer_unimplemented(authed_session, server, kind: str) -> None:
    # Straight to REST: the stock client retries a 501 for half a minute before raising it.
    r = authed_session.post(
        f"{server.base_url}/v1/projects/{server.project}/{kind}:export", json={}
    )
    assert r.status_code == 501
    assert r.json()["error"]["status"] == "UNIMPLEMENTED"
    assert r.json()["error"]["message"] == (
        f"earthengine.projects.{kind}.export is not implemented in openee yet."
    )


def _item_id() -> str:
    return _item().id


def _item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def _bounds(grid: Grid) -> tuple[float, float, float, float]:
    t = grid.transform
    return (t.c, t.f + t.e * grid.height, t.c + t.a * grid.width, t.f)


def test_the_earthengine_cli_lists_inspects_cancels_and_waits(
    ee_api, server, gcs_export, tmp_path
) -> None:
    config = tmp_path / "credentials.json"
    config.write_text(json.dumps({"url": server.base_url}))
    cli = [
        str(Path(sys.executable).parent / "earthengine"),
        "--ee_config",
        str(config),
        "--service_account_file",
        str(server.key_path),
        "--project",
        server.project,
        "task",
    ]

    def earthengine(*args: str, code: int = 0) -> str:
        done = subprocess.run([*cli, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == code, done.stderr
        return done.stdout

    finished = gcs_export["task"].id
    assert finished in earthengine("list")
    info = earthengine("info", finished)
    assert "State: SUCCEEDED" in info and "Type: Export.image" in info
    task = ee_api.batch.Export.image.toCloudStorage(
        image=composite(ee_api).select(["B4", "B8", "B2", "B3"]),
        description="cli_cancel",
        bucket="cli-bucket",
        fileNamePrefix="cli",
        region=region(ee_api),
        dimensions="8192x8192",
        crs="EPSG:4326",
        maxPixels=1e9,
    )
    task.start()
    assert f'Canceling task "{task.id}"' in earthengine("cancel", task.id)
    assert wait_done(task, timeout=30)["state"] == "CANCELLED"
    # `wait` (which polls every 10 s) returns at once for a finished task; 1: not succeeded
    waited = earthengine("wait", "--timeout", "60", task.id, code=1)
    assert f"Task {task.id} ended at state: CANCELLED" in waited
    assert not (server.data_dir / "buckets" / "cli-bucket").exists()


def test_a_composite_with_region_and_scale_exports_in_wgs84_at_that_scale(ee_api, server) -> None:
    # A composite's default projection is WGS84 (Earth Engine's guides): `scale` metres become
    # degrees at the equator (1 degree = 111319.49 m), the grid snapped to that projection.
    task = ee_api.batch.Export.image.toCloudStorage(
        image=composite(ee_api).select("B4"),
        description="scale_only",
        bucket="e2e-bucket",
        fileNamePrefix="scale_only",
        region=region(ee_api),
        scale=500,
    )
    task.start()
    assert wait_done(task)["state"] == "COMPLETED"
    grid, data, _ = file_grid(server.data_dir / "buckets" / "e2e-bucket" / "scale_only.tif")
    degrees = 500 / 111319.49079327357
    assert grid.crs == "EPSG:4326"
    assert grid.transform.a == pytest.approx(degrees, rel=1e-9)
    assert grid.transform.e == pytest.approx(-degrees, rel=1e-9)
    assert grid.transform.c <= WEST < grid.transform.c + degrees
    assert grid.transform.f >= NORTH > grid.transform.f - degrees
    assert (grid.width, grid.height) == (
        math.ceil(EAST / degrees) - math.floor(WEST / degrees),
        math.ceil(NORTH / degrees) - math.floor(SOUTH / degrees),
    )
    # (pixel values at 500 m come from the sources' overviews: the 2048 x 2048 case above
    # checks values; here the region's pixels are all there)
    assert (data[0][1:-1, 1:-1] > 0).all()


def test_a_native_image_with_a_region_only_keeps_its_own_pixels(ee_api, server) -> None:
    # No scale, crs or dimensions: the client sends Image.clip(region); the file is the image's
    # native grid cropped to the region's bounds (whole pixels), read straight from the source.
    west, south, east, north = 15.62, 45.52, 15.71, 45.58
    task = ee_api.batch.Export.image.toCloudStorage(
        image=ee_api.Image(f"{COLLECTION}/{_item_id()}").select("B4"),
        description="native",
        bucket="e2e-bucket",
        fileNamePrefix="native",
        region=ee_api.Geometry.Rectangle([west, south, east, north], None, False),
    )
    task.start()
    assert wait_done(task)["state"] == "COMPLETED"
    grid, data, _ = file_grid(server.data_dir / "buckets" / "e2e-bucket" / "native.tif")
    with rasterio.open(_item().band_path("B4")) as src:
        native_transform, native_crs = src.transform, src.crs
        to_utm = Transformer.from_crs("EPSG:4326", native_crs, always_xy=True)
        xs, ys = to_utm.transform([west, east, east, west], [south, south, north, north])
        inverse = ~native_transform
        cols, rows = zip(*[inverse @ (x, y) for x, y in zip(xs, ys, strict=True)], strict=True)
        col0, row0 = math.floor(min(cols)), math.floor(min(rows))
        col1, row1 = math.ceil(max(cols)), math.ceil(max(rows))
        window = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
        expected = src.read(1, window=window)
        expected_transform = src.window_transform(window)
    assert grid.crs == native_crs.to_string()
    assert grid.transform == expected_transform
    assert data[0].shape == expected.shape
    # pixels whose centre is in the region hold the source's values (outside: masked, 0)
    inside = data[0] != 0
    assert inside.mean() > 0.9
    np.testing.assert_array_equal(data[0][inside], expected[inside])


def test_a_native_image_exported_with_crs_and_scale_is_in_that_crs(ee_api, server) -> None:
    # crs without crsTransform: the client sends Image.setDefaultProjection (ADR 0041), then
    # clipToBoundsAndScale(scale): the file is in that CRS at that scale, nearest from the source.
    west, south, east, north = 15.62, 45.52, 15.71, 45.58
    task = ee_api.batch.Export.image.toCloudStorage(
        image=ee_api.Image(f"{COLLECTION}/{_item_id()}").select("B4"),
        description="crs_scale",
        bucket="e2e-bucket",
        fileNamePrefix="crs_scale",
        region=ee_api.Geometry.Rectangle([west, south, east, north], None, False),
        crs="EPSG:4326",
        scale=100,
    )
    task.start()
    assert wait_done(task)["state"] == "COMPLETED"
    grid, data, _ = file_grid(server.data_dir / "buckets" / "e2e-bucket" / "crs_scale.tif")
    degrees = 100 / 111319.49079327357
    assert grid.crs == "EPSG:4326"
    assert grid.transform.a == pytest.approx(degrees, rel=1e-9)
    assert grid.transform.c <= west < grid.transform.c + degrees
    expected = warp_band(_item().band_path("B4"), grid)
    inside = data[0] != 0
    assert inside.mean() > 0.9
    np.testing.assert_array_equal(data[0][inside], expected[inside])
