"""image:import with `maskBands` through the stock client: a mask GeoTIFF written here masks
one band of a Landsat 8 scene and not the other; pixel counts from reduceRegion against numpy
on the same files."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

REPO_ROOT = Path(__file__).resolve().parents[2]
L8 = REPO_ROOT / "tests" / "data" / "landsat" / "lc08_c2l2_001062_20201031_600m"
B4 = L8 / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"
B5 = L8 / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B5.TIF"


def finish(ee, name: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        op = ee.data.getOperation(name)
        if op["done"] or time.monotonic() > deadline:
            return op
        time.sleep(0.1)


def valid(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        data = src.read(1)
        return data != src.nodata if src.nodata is not None else np.ones(data.shape, bool)


@pytest.fixture(scope="module")
def masked(ee_api, server) -> dict[str, Any]:
    """The scene imported with a mask (SR_B4 above its median) on SR_B4 only."""
    ee = ee_api
    folder = server.area / f"uploads_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    for path in (B4, B5):
        shutil.copy(path, folder / path.name)
    with rasterio.open(B4) as src:
        b4 = src.read(1)
        profile = src.profile
    mask = np.where(b4 > np.median(b4[valid(B4)]), 255, 0).astype("uint8")
    profile.update(dtype="uint8", nodata=None, count=1)
    with rasterio.open(folder / "mask.tif", "w", **profile) as dst:
        dst.write(mask, 1)
    root = f"projects/{server.project}/assets/e2e_masks_{uuid.uuid4().hex[:8]}"
    ee.data.createFolder(root)
    rel = {p.name: str((folder / p.name).relative_to(server.data_dir)) for p in (B4, B5)}
    task = ee.data.startIngestion(
        ee.data.newTaskId()[0],
        {
            "name": f"{root}/scene",
            "tilesets": [
                {"id": "b4", "sources": [{"uris": [rel[B4.name]]}]},
                {"id": "b5", "sources": [{"uris": [rel[B5.name]]}]},
                {
                    "id": "m",
                    "sources": [
                        {"uris": [str((folder / "mask.tif").relative_to(server.data_dir))]}
                    ],
                },
            ],
            "bands": [
                {"id": "SR_B4", "tilesetId": "b4"},
                {"id": "SR_B5", "tilesetId": "b5"},
            ],
            "maskBands": [{"tilesetId": "m", "bandIds": ["SR_B4"]}],
        },
    )
    op = finish(ee, task["name"])
    assert op["metadata"]["state"] == "SUCCEEDED", op
    return {"id": f"{root}/scene", "mask": mask != 0, "transform": profile["transform"],
            "crs": str(profile["crs"]), "shape": mask.shape}  # fmt: skip


def test_mask_band_masks_only_the_bands_it_names(ee_api, masked) -> None:
    ee = ee_api
    t = masked["transform"]
    height, width = masked["shape"]
    region = ee.Geometry.Rectangle(
        [t.c, t.f + t.e * height, t.c + t.a * width, t.f], masked["crs"], False
    )
    counts = ee.Image(masked["id"]).reduceRegion(ee.Reducer.count(), region).getInfo()
    expected_b4 = int((valid(B4) & masked["mask"]).sum())
    expected_b5 = int(valid(B5).sum())
    assert counts == {"SR_B4": expected_b4, "SR_B5": expected_b5}
    assert 0 < expected_b4 < expected_b5  # the mask did remove pixels
    bands = ee.Image(masked["id"]).bandNames().getInfo()
    assert bands == ["SR_B4", "SR_B5"]  # the mask tileset gives no band of its own
