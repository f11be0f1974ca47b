"""The stock `ee` client reads compressed NPY responses (ADR 0049): it asks for `gzip, deflate`
(googleapiclient's header), gets gzip from a server whose policy compresses for it, and decodes
the pixels of the source file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from auth_server import AuthServer, launch, server_env

DEMO = Path(__file__).resolve().parents[2] / "src/openee/demo/data/sentinel2"
ITEM = "S2A_33TWL_20230815_0_L2A"
B4 = next(DEMO.glob(f"*/sentinel-2-l2a/{ITEM}/B04.tif"))
COL0, ROW0, WIDTH, HEIGHT = 100, 150, 600, 500

SCRIPT = r"""
import json, sys
import ee, numpy as np, requests

base, project, out, grid = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
ee.Initialize(None, project=project, url=base)
seen = []
send = requests.Session.request

def recording(self, method, url, *args, **kwargs):
    response = send(self, method, url, *args, **kwargs)
    if "computePixels" in url:
        seen.append([response.request.headers.get("Accept-Encoding"),
                     response.headers.get("Content-Encoding")])
    return response

requests.Session.request = recording
image = ee.Image("COPERNICUS/S2_SR_HARMONIZED/%s" % sys.argv[5]).select("B4").toDouble()
data = ee.data.computePixels({"expression": image, "fileFormat": "NPY", "grid": grid})
np.save(out, np.load(__import__("io").BytesIO(data))["B4"])
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def compressing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    # A loopback client gets nothing compressed under the default policy: `always` stands for a
    # server whose clients are remote (behind a proxy on the same machine).
    env = {"OPENEE_RESPONSE_COMPRESSION": "always"}
    with launch(tmp_path_factory.mktemp("wire"), "--no-auth", env=env) as server:
        yield server


def test_stock_client_reads_gzip_npy(compressing: AuthServer, tmp_path: Path) -> None:
    with rasterio.open(B4) as src:
        t = src.transform
        crs = src.crs.to_string()
        expected = src.read(1, window=((ROW0, ROW0 + HEIGHT), (COL0, COL0 + WIDTH)))
    grid = {
        "crsCode": crs,
        "affineTransform": {
            "scaleX": t.a, "shearX": 0, "translateX": t.c + COL0 * t.a,
            "shearY": 0, "scaleY": t.e, "translateY": t.f + ROW0 * t.e,
        },
        "dimensions": {"width": WIDTH, "height": HEIGHT},
    }  # fmt: skip
    out = tmp_path / "b4.npy"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, compressing.base_url, compressing.project, str(out),
         json.dumps(grid), ITEM],
        env=server_env({"HOME": str(tmp_path)}), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen == [["gzip, deflate", "gzip"]]
    np.testing.assert_array_equal(np.load(out), expected.astype(np.float64))


HEIGHT_ROWS, WIDTH_COLS, NODATA = 2600, 16, -1.0  # three chunk rows of the default 1024


def write_geotiff(server: AuthServer, name: str, good_rows: int | None = None) -> str:
    """A float32 GeoTIFF in the project's area, a nodata pixel in every row; with `good_rows`,
    uncompressed strips cut short after about that many rows."""
    folder = server.data_dir / "projects" / server.project / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    data = np.arange(HEIGHT_ROWS * WIDTH_COLS, dtype=np.float32).reshape(HEIGHT_ROWS, -1) + 1
    rows = np.arange(HEIGHT_ROWS)
    data[rows, (rows * 5) % WIDTH_COLS] = NODATA
    profile = {
        "driver": "GTiff", "width": WIDTH_COLS, "height": HEIGHT_ROWS, "count": 1,
        "dtype": "float32", "crs": "EPSG:32633", "nodata": NODATA, "tiled": False,
        "transform": rasterio.Affine(10, 0, 500000, 0, -10, 5000000), "blockysize": 16,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)
    if good_rows is not None:
        os.truncate(path, os.path.getsize(path) - (HEIGHT_ROWS - good_rows) * WIDTH_COLS * 4)
    return str(path)


def post_npy(server: AuthServer, path: str) -> requests.Response:
    expression = {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {
                    "functionName": "Image.loadGeoTIFF",
                    "arguments": {"uri": {"constantValue": path}},
                }
            }
        },
    }
    url = f"{server.base_url}/v1/projects/{server.project}/image:computePixels"
    body = {"expression": expression, "fileFormat": "NPY"}
    return requests.post(url, json=body, headers={"Accept-Encoding": "gzip"}, timeout=120)


def test_compressed_stream_over_chunk_rows_is_the_file(compressing: AuthServer) -> None:
    path = write_geotiff(compressing, "whole.tif")
    response = post_npy(compressing, path)
    assert response.status_code == 200, response.text
    assert response.headers["content-encoding"] == "gzip"
    with rasterio.open(path) as ds:
        band = ds.read(1, masked=True)
    expected = np.zeros(band.shape, dtype=[("B0", np.float32)])
    expected["B0"] = band.filled(0)  # Earth Engine's NPY: 0 where masked
    saved = io.BytesIO()
    np.save(saved, expected)
    assert response.content == saved.getvalue()


def test_compressed_stream_failing_late_breaks_the_body(compressing: AuthServer) -> None:
    # No Content-Length to fall short of: the chunked body ends without its last chunk (and
    # the gzip stream without its checksum), which the client reports.
    path = write_geotiff(compressing, "cut-late.tif", good_rows=1024 + 500)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post_npy(compressing, path)
    assert post_npy(compressing, write_geotiff(compressing, "after.tif")).status_code == 200
