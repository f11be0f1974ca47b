"""`Export.image.toCloudStorage` / `toDrive` with fileFormat 'NPY' (the client also maps
'NUMPY' to it: ee/_cloud_api_utils.convert_to_image_file_format) through the stock client:
one `<prefix>.npy` of the whole grid, the structured array of computePixels' NPY (a field per
band in the band's own type, 0 where masked), read back with numpy and compared with the demo's
band files sampled on the same grid by the test's own oracle (pyproj + numpy, `oracle.py`).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import numpy as np
import pytest
from affine import Affine
from oracle import Grid, load_items, warp_band

pytestmark = pytest.mark.e2e

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
DONE = ("COMPLETED", "FAILED", "CANCELLED")
# 1100 x 300 pixels at 120 m: two of the server's 1024-pixel chunks side by side, the east one
# partly beyond the tile's edge (masked there: 0 in the file).
GRID = Grid("EPSG:32633", Affine(120, 0, 500040, 0, -120, 5060040), 1100, 300)


def wait_done(task: Any, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = task.status()
        if status["state"] in DONE:
            return status
        time.sleep(0.2)
    raise AssertionError(f"task still {task.status()['state']} after {timeout} s")


def _item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def _region(ee: Any) -> Any:
    t = GRID.transform
    bounds = [t.c, t.f + t.e * GRID.height, t.c + t.a * GRID.width, t.f]
    return ee.Geometry.Rectangle(bounds, GRID.crs, False)


def _grid_args(ee: Any) -> dict[str, Any]:
    return {
        "crs": GRID.crs,
        "crsTransform": list(GRID.crs_transform),
        "dimensions": f"{GRID.width}x{GRID.height}",
        "region": _region(ee),
    }


def test_npy_export_to_cloud_storage_equals_the_oracle(ee_api, server) -> None:
    ee = ee_api
    source = ee.Image(f"{COLLECTION}/{_item().id}")
    b4 = source.select("B4")
    # Three bands of three types: uint16, a float ratio, and B8 masked where B4 <= 1000.
    image = b4.addBands(source.select("B8").divide(b4).rename("ratio")).addBands(
        source.select("B8").updateMask(b4.gt(1000))
    )
    prefix = f"npy/stack_{uuid.uuid4().hex[:6]}"
    task = ee.batch.Export.image.toCloudStorage(
        image=image,
        description="npy_export",
        bucket="npy-bucket",
        fileNamePrefix=prefix,
        fileFormat="NPY",
        **_grid_args(ee),
    )
    task.start()
    status = wait_done(task)
    assert status["state"] == "COMPLETED", status
    folder = server.data_dir / "buckets" / "npy-bucket" / "npy"
    name = prefix.split("/")[1]
    path = folder / f"{name}.npy"
    assert sorted(p.name for p in folder.glob(f"{name}*")) == [
        f"{name}.npy",
        f"{name}.receipt.json",
    ]
    assert status["destination_uris"] == [path.as_uri()]
    got = np.load(path)
    assert got.shape == (GRID.height, GRID.width)
    assert got.dtype.names == ("B4", "ratio", "B8")
    assert got.dtype["B4"] == np.uint16 and got.dtype["B8"] == np.uint16
    assert got.dtype["ratio"].kind == "f"
    red = warp_band(_item().band_path("B4"), GRID)
    nir = warp_band(_item().band_path("B8"), GRID)
    valid = (red > 0) & (nir > 0)
    assert valid.sum() > 1000 and (red[valid] > 1000).any() and (red[valid] <= 1000).any()
    assert not valid[:, -1].any()  # beyond the tile
    np.testing.assert_array_equal(got["B4"], red)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(valid, nir.astype(np.float64) / red, 0)
    np.testing.assert_allclose(got["ratio"], ratio.astype(got.dtype["ratio"]), rtol=1e-6)
    np.testing.assert_array_equal(got["B8"], np.where(red > 1000, nir, 0))
    receipt = json.loads((folder / f"{name}.receipt.json").read_text())
    assert [o["uri"] for o in receipt["outputs"]] == [path.as_uri()]


def test_numpy_alias_to_drive_and_npy_options_refused(ee_api, server) -> None:
    ee = ee_api
    image = ee.Image(f"{COLLECTION}/{_item().id}").select("B2")
    task = ee.batch.Export.image.toDrive(
        image=image,
        description="npy_drive",
        folder="npy_out",
        fileNamePrefix="b2",
        fileFormat="NUMPY",
        **_grid_args(ee),
    )
    task.start()
    assert wait_done(task)["state"] == "COMPLETED"
    path = server.data_dir / "drive" / server.key["client_email"] / "npy_out" / "b2.npy"
    got = np.load(path)
    np.testing.assert_array_equal(got["B2"], warp_band(_item().band_path("B2"), GRID))
    # GeoTIFF-only options are refused by the stock client before any request (batch.py).
    with pytest.raises(ValueError, match="skipEmptyTiles is only supported for GeoTIFF"):
        ee.batch.Export.image.toDrive(
            image=image, fileFormat="NPY", skipEmptyTiles=True, **_grid_args(ee)
        )
    # maxPixels holds for NPY as for GeoTIFF, with Earth Engine's message.
    task = ee.batch.Export.image.toDrive(
        image=image, fileFormat="NPY", maxPixels=1000, **_grid_args(ee)
    )
    task.start()
    status = wait_done(task)
    assert status["state"] == "FAILED"
    assert "Export too large: specified 330000 pixels (max: 1000)" in status["error_message"]
