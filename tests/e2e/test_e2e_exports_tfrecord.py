"""TFRecord exports through the stock `ee` client (`fileFormat='TFRecord'`): image patches with
margins, gzip, maxFileSize, the mixer sidecar, and tables with selectors. Files are read back
with an independent reader (the `tfrecord` package, its own copy of TensorFlow's example.proto)
and compared with the band files warped by `oracle.warp_band` (pyproj + numpy), and with the
same collection exported as CSV and read by pandas."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from oracle import Grid, load_items, warp_band
from tfrecord import example_pb2
from tfrecord.reader import tfrecord_iterator

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
WIDTH, HEIGHT = 200, 130
PATCH, KERNEL = 64, 8
DEFAULT = -1


def _item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def run(task: Any, timeout: float = 120.0) -> dict[str, Any]:
    task.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = task.status()
        if status["state"] in ("COMPLETED", "FAILED", "CANCELLED"):
            assert status["state"] == "COMPLETED", status.get("error_message", status)
            return status
        time.sleep(0.25)
    raise AssertionError("export did not finish")


def examples(path: Path) -> list[dict[str, Any]]:
    compression = "gzip" if path.name.endswith(".gz") else None
    out = []
    for record in tfrecord_iterator(str(path), compression_type=compression):
        ex = example_pb2.Example()
        ex.ParseFromString(bytes(record))
        out.append(
            {
                k: np.array(v.float_list.value)
                if v.HasField("float_list")
                else [b.decode() for b in v.bytes_list.value]
                for k, v in ex.features.feature.items()
            }
        )
    return out


def utm_region(ee: Any, t: Affine, width: int, height: int) -> Any:
    """The rectangle of a width x height block of the grid, in its UTM coordinates: with crs,
    crsTransform, region and dimensions the client sends Image.reproject then
    Image.clipToBoundsAndScale, whose grid is then the block itself."""
    x1, y1 = t @ (width, height)
    return ee.Geometry.Rectangle([t.c, y1, x1, t.f], "EPSG:32633", False)


def grid_transform() -> Affine:
    """A 120 m grid inside the demo tile, 100 pixels from its corner."""
    with rasterio.open(_item().band_path("B4")) as src:
        t = src.transform
    return Affine(t.a, 0, t.c + 100 * t.a, 0, t.e, t.f + 100 * t.e)


@pytest.fixture(scope="module")
def image_export(ee_api, server) -> dict[str, Any]:
    t = grid_transform()
    prefix = f"tfr/patches_{uuid.uuid4().hex[:6]}"
    status = run(
        ee_api.batch.Export.image.toCloudStorage(
            image=ee_api.Image(_item().image_id).select(["B4", "B8"]),
            description="tfrecord_image",
            bucket="tfr-bucket",
            fileNamePrefix=prefix,
            crs="EPSG:32633",
            # crs, crsTransform and dimensions, no region (the usual way to export patches on
            # a known grid): the client clips to Rectangle([0, 0, W, H]) in the image's
            # projection, i.e. W x H pixels of crsTransform.
            crsTransform=[t.a, t.b, t.c, t.d, t.e, t.f],
            dimensions=f"{WIDTH}x{HEIGHT}",
            fileFormat="TFRecord",
            formatOptions={
                "patchDimensions": [PATCH, PATCH],
                "kernelSize": [KERNEL, KERNEL],
                "compressed": True,
                # a 72 x 72 patch of 2 float bands is 41 kB: two patches a file
                "maxFileSize": 90_000,
                "defaultValue": DEFAULT,
            },
        )
    )
    folder = server.data_dir / "buckets" / "tfr-bucket" / "tfr"
    return {
        "prefix": prefix,
        "name": Path(prefix).name,
        "folder": folder,
        "transform": t,
        "status": status,
    }


def test_files_are_named_as_earth_engine_names_them(image_export) -> None:
    name = image_export["name"]
    files = sorted(p.name for p in image_export["folder"].glob(f"{name}*"))
    assert files == [
        f"{name}-00000.tfrecord.gz",
        f"{name}-00001.tfrecord.gz",
        f"{name}-00002.tfrecord.gz",
        f"{name}-mixer.json",
        f"{name}.receipt.json",
    ]


def test_progress_and_estimate_in_the_operation(image_export, ee_api) -> None:
    op = ee_api.data.getOperation(image_export["status"]["name"])
    meta = op["metadata"]
    assert meta["state"] == "SUCCEEDED" and meta["progress"] == 1.0
    (stage,) = meta["stages"]
    assert stage["completeWorkUnits"] == stage["totalWorkUnits"] >= 2
    assert meta["estimate"]["patches"] == (WIDTH // PATCH) * (HEIGHT // PATCH)
    assert meta["estimate"]["files"] == 3
    uris = meta["destinationUris"]
    assert [u.rsplit("/", 1)[1] for u in uris] == [
        f"{image_export['name']}-00000.tfrecord.gz",
        f"{image_export['name']}-00001.tfrecord.gz",
        f"{image_export['name']}-00002.tfrecord.gz",
        f"{image_export['name']}-mixer.json",
    ]
    outputs = op["response"]["receipt"]["outputs"]
    assert len(outputs) == 4


def test_mixer_describes_the_patch_grid(image_export) -> None:
    mixer = json.loads((image_export["folder"] / f"{image_export['name']}-mixer.json").read_text())
    t = image_export["transform"]
    assert mixer == {
        "projection": {
            "crs": "EPSG:32633",
            "affine": {"doubleMatrix": [t.a, t.b, t.c, t.d, t.e, t.f]},
        },
        "patchDimensions": [PATCH, PATCH],
        "patchesPerRow": WIDTH // PATCH,
        "totalPatches": (WIDTH // PATCH) * (HEIGHT // PATCH),
    }


def test_patches_equal_the_oracle_with_margins_and_default_values(image_export) -> None:
    name, folder, t = image_export["name"], image_export["folder"], image_export["transform"]
    records = [r for i in range(3) for r in examples(folder / f"{name}-{i:05d}.tfrecord.gz")]
    cols, rows = WIDTH // PATCH, HEIGHT // PATCH
    assert len(records) == rows * cols
    m = KERNEL // 2
    # The whole grid with a margin all round: outside the exported region the image is clipped
    # (Image.clipToBoundsAndScale), so margins there hold defaultValue, as masked pixels do.
    wide = Grid("EPSG:32633", t @ Affine.translation(-m, -m), WIDTH + 2 * m, HEIGHT + 2 * m)
    b4 = warp_band(_item().band_path("B4"), wide).astype(np.float64)
    b8 = warp_band(_item().band_path("B8"), wide).astype(np.float64)
    masked = (b4 == 0) | (b8 == 0)  # 0 is the files' nodata
    masked[:m] = masked[-m:] = masked[:, :m] = masked[:, -m:] = True
    b4[masked] = b8[masked] = DEFAULT
    side = PATCH + KERNEL
    for i, record in enumerate(records):
        r, c = divmod(i, cols)
        window = np.s_[r * PATCH : r * PATCH + side, c * PATCH : c * PATCH + side]
        np.testing.assert_array_equal(record["B4"].reshape(side, side), b4[window])
        np.testing.assert_array_equal(record["B8"].reshape(side, side), b8[window])
    assert (records[0]["B4"] != DEFAULT).mean() > 0.8  # mostly real pixels


def test_uncompressed_export_to_drive(ee_api, server) -> None:
    t = grid_transform()
    status = run(
        ee_api.batch.Export.image.toDrive(
            image=ee_api.Image(_item().image_id).select("B4"),
            description="tfrecord_drive",
            folder="tfr",
            fileNamePrefix="plain",
            crs="EPSG:32633",
            crsTransform=[t.a, t.b, t.c, t.d, t.e, t.f],
            region=utm_region(ee_api, t, 100, 50),
            dimensions="100x50",
            fileFormat="TFRecord",
            formatOptions={"patchDimensions": [50, 50]},
        )
    )
    folder = next((server.data_dir / "drive").glob("*")) / "tfr"
    assert sorted(p.name for p in folder.glob("plain*")) == [
        "plain-00000.tfrecord",
        "plain-mixer.json",
        "plain.receipt.json",
    ]
    assert status["destination_uris"][0].endswith("plain-00000.tfrecord")
    first, second = examples(folder / "plain-00000.tfrecord")
    expected = warp_band(_item().band_path("B4"), Grid("EPSG:32633", t, 100, 50))
    np.testing.assert_array_equal(first["B4"].reshape(50, 50), expected[:, :50])
    np.testing.assert_array_equal(second["B4"].reshape(50, 50), expected[:, 50:])


def test_a_tfrecord_export_without_patch_dimensions_is_refused(ee_api) -> None:
    task = ee_api.batch.Export.image.toCloudStorage(
        image=ee_api.Image(_item().image_id).select("B4"),
        description="tfrecord_no_patch",
        bucket="tfr-bucket",
        dimensions="64x64",
        region=ee_api.Geometry.Rectangle([15.6, 45.6, 15.7, 45.7]),
        fileFormat="TFRecord",
    )
    with pytest.raises(ee_api.EEException, match="patchDimensions"):
        task.start()


POINTS = [(15.1, 45.1, "a", 1, 0.5), (15.2, 45.3, "b", 2, 1.5), (15.7, 46.0, "c", 3, -2.25)]


def _table(ee: Any, server: Any, file_format: str, selectors: list[str] | None) -> Path:
    prefix = f"tables/t_{uuid.uuid4().hex[:6]}"
    collection = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Point([x, y]), {"name": n, "count": c, "value": v})
            for x, y, n, c, v in POINTS
        ]
    )
    run(
        ee.batch.Export.table.toCloudStorage(
            collection=collection,
            description=f"table_{file_format}",
            bucket="tfr-bucket",
            fileNamePrefix=prefix,
            fileFormat=file_format,
            selectors=selectors,
        )
    )
    return server.data_dir / "buckets" / "tfr-bucket" / prefix


def test_table_is_one_gzipped_file_of_one_example_per_feature(ee_api, server) -> None:
    prefix = _table(ee_api, server, "TFRecord", None)
    assert sorted(p.name for p in prefix.parent.glob(f"{prefix.name}*")) == [
        f"{prefix.name}.receipt.json",
        f"{prefix.name}.tfrecord.gz",
    ]
    records = examples(prefix.with_name(prefix.name + ".tfrecord.gz"))
    csv = pd.read_csv(_table(ee_api, server, "CSV", None).with_suffix(".csv"))
    assert len(records) == len(csv) == len(POINTS)
    for record, (_, row) in zip(records, csv.iterrows(), strict=True):
        assert set(record) == {"name", "count", "value"}  # the properties
        assert record["name"] == [row["name"]]
        np.testing.assert_array_equal(record["count"], [row["count"]])
        np.testing.assert_array_equal(record["value"], [row["value"]])


def test_table_selectors_pick_the_features(ee_api, server) -> None:
    prefix = _table(ee_api, server, "TFRecord", ["value", "system:index"])
    records = examples(prefix.with_name(prefix.name + ".tfrecord.gz"))
    assert [set(r) for r in records] == [{"value", "system:index"}] * len(POINTS)
    np.testing.assert_array_equal([r["value"][0] for r in records], [p[4] for p in POINTS])


def test_array_band_becomes_a_tensor_of_its_depth(ee_api, server) -> None:
    # Image.toArray() makes one 1-D array band ('array', [B4, B8] per pixel); tensorDepths 3
    # gives 3 channels, the third (past each pixel's array) holding defaultValue.
    t = grid_transform()
    run(
        ee_api.batch.Export.image.toCloudStorage(
            image=ee_api.Image(_item().image_id).select(["B4", "B8"]).toArray(),
            description="tfrecord_array",
            bucket="tfr-bucket",
            fileNamePrefix="tfr/array",
            crs="EPSG:32633",
            crsTransform=[t.a, t.b, t.c, t.d, t.e, t.f],
            dimensions="40x30",
            fileFormat="TFRecord",
            formatOptions={
                "patchDimensions": [20, 30],
                "tensorDepths": {"array": 3},
                "defaultValue": 7,
            },
        )
    )
    folder = server.data_dir / "buckets" / "tfr-bucket" / "tfr"
    records = examples(folder / "array-00000.tfrecord")
    grid = Grid("EPSG:32633", t, 40, 30)
    b4 = warp_band(_item().band_path("B4"), grid)
    b8 = warp_band(_item().band_path("B8"), grid)
    assert (b4 > 0).all() and (b8 > 0).all()  # no masked pixel here
    assert [set(r) for r in records] == [{"array"}, {"array"}]
    for i, record in enumerate(records):
        chw = record["array"].reshape(3, 30, 20)
        np.testing.assert_array_equal(chw[0], b4[:, i * 20 : (i + 1) * 20])
        np.testing.assert_array_equal(chw[1], b8[:, i * 20 : (i + 1) * 20])
        assert (chw[2] == 7).all()
