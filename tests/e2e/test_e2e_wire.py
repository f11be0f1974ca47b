"""The stock `ee` client reads compressed NPY responses (ADR 0049): it asks for `gzip, deflate`
(googleapiclient's header), gets gzip from a server whose policy compresses for it, and decodes
the pixels of the source file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
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
