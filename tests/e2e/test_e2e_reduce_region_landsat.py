"""Landsat cloud masking the way users write it (QA_PIXEL bits through bitwiseAnd), then
Image.reduceRegion, against numpy on the QA_PIXEL and SR_B4 files.

The Landsat 8 Collection 2 Level-2 scene is ingested into the running server's catalog with
`openee ingest` (safe while the server runs), under a collection id of its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from openee.cli import main as openee_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENE_DIR = REPO_ROOT / "tests" / "data" / "landsat" / "lc08_c2l2_001062_20201031_600m"
SCENE = "LC08_L2SP_001062_20201031_20201106_02_T2"
COLLECTION = "TESTS/REDUCE_REGION/LC08_C02_T1_L2"
CLOUD_BIT, SHADOW_BIT, FILL_BIT = 3, 4, 0


@pytest.fixture(scope="module")
def scene(server, ee_api):
    code = openee_cli(
        ["ingest", str(SCENE_DIR), "--asset-id", COLLECTION, "--data-dir", str(server.data_dir)]
    )
    assert code == 0
    return ee_api.Image(f"{COLLECTION}/{SCENE}")


def band(name: str) -> tuple[np.ndarray, rasterio.Affine, str]:
    with rasterio.open(SCENE_DIR / f"{SCENE}_{name}.TIF") as src:
        return src.read(1), src.transform, str(src.crs)


def whole_scene(ee, transform: rasterio.Affine, shape: tuple[int, int], crs: str):
    """A rectangle holding every pixel of the scene, in its own CRS (planar)."""
    height, width = shape
    x0, y0 = transform.c, transform.f
    x1, y1 = x0 + transform.a * width, y0 + transform.e * height
    return ee.Geometry.Rectangle([x0, y1, x1, y0], crs, False)


def test_qa_pixel_cloud_and_shadow_bits(ee_api, scene) -> None:
    qa = scene.select("QA_PIXEL")
    clear = qa.bitwiseAnd(1 << CLOUD_BIT).eq(0).And(qa.bitwiseAnd(1 << SHADOW_BIT).eq(0))
    qa_px, transform, crs = band("QA_PIXEL")
    b4, _, _ = band("SR_B4")
    region = whole_scene(ee_api, transform, qa_px.shape, crs)
    reducer = ee_api.Reducer.count().combine(ee_api.Reducer.mean(), "", True)
    result = scene.select("SR_B4").updateMask(clear).reduceRegion(reducer, region).getInfo()

    cloudy = (qa_px & (1 << CLOUD_BIT)) != 0
    shadow = (qa_px & (1 << SHADOW_BIT)) != 0
    valid = (b4 != 0) & ~cloudy & ~shadow
    assert cloudy.sum() > 10_000 and shadow.sum() > 0  # both bits are exercised
    assert result["SR_B4_count"] == int(valid.sum())
    assert result["SR_B4_mean"] == pytest.approx(float(b4[valid].mean()), rel=1e-12)


def test_qa_pixel_fill_bit_count(ee_api, scene) -> None:
    """QA_PIXEL itself has no nodata: bit 0 marks fill; counting the pixels that are not fill."""
    qa = scene.select("QA_PIXEL")
    qa_px, transform, crs = band("QA_PIXEL")
    region = whole_scene(ee_api, transform, qa_px.shape, crs)
    not_fill = qa.bitwiseAnd(1 << FILL_BIT).eq(0)
    result = qa.updateMask(not_fill).reduceRegion(ee_api.Reducer.count(), region).getInfo()
    assert result == {"QA_PIXEL": int(((qa_px & 1) == 0).sum())}
