"""openee behind a reverse proxy under a path prefix (ADR 0059): `scripts/balancer.py --prefix
/openee` in front of the session server, stripping the prefix and saying it in
`X-Forwarded-Prefix`, as `location /openee/ { proxy_pass http://openee/; }` would.

The stock `ee` client (in its own process: `ee.Initialize` is global) is initialised with
`url=<proxy>/openee` and a key whose token_uri is the proxy's. Its thumbnail, download and map
tile URLs must start with the proxy's prefix, and fetched through the proxy they must answer
the same bytes as the same requests made directly to the server (the oracle), which
tests/e2e/test_e2e_maps_thumbnails.py checks against rasterio. The URL the server itself writes
(the discovery document's rootUrl) names the proxy and its prefix too.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from auth_server import free_port, server_env
from oracle import load_items
from PIL import Image as PILImage

BALANCER = Path(__file__).resolve().parents[2] / "scripts" / "balancer.py"
PREFIX = "/openee"
ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
THUMB = {"region": [15.6, 45.5, 15.8, 45.6], "dimensions": "96x70", "bands": ["B4"],
         "min": 200, "max": 2500, "format": "png"}  # fmt: skip
DOWNLOAD = {"region": [15.6, 45.5, 15.8, 45.6], "scale": 500, "bands": ["B4", "B3"],
            "format": "NPY"}  # fmt: skip
VIS = {"bands": ["B4"], "min": 0, "max": 3000}
TILE = {"z": 4, "x": 8, "y": 5}  # over the image

URLS_SCRIPT = """
import json, sys, ee
url, key_path, item, thumb, download, vis = sys.argv[1:7]
project = json.load(open(key_path))["project_id"]
ee.Initialize(ee.ServiceAccountCredentials(None, key_path), project=project, url=url)
image = ee.Image(item)
print(json.dumps({
    "size": ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED").size().getInfo(),
    "thumb": image.getThumbURL(json.loads(thumb)),
    "download": image.getDownloadURL(json.loads(download)),
    "tiles": image.getMapId(json.loads(vis))["tile_fetcher"].url_format,
}))
"""


@pytest.fixture(scope="module")
def proxy(server) -> Iterator[str]:
    """The balancer serving the session server under PREFIX; its URL (without the prefix)."""
    port = free_port()
    backend = f"127.0.0.1:{server.port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(BALANCER),
            "--port",
            str(port),
            "--prefix",
            PREFIX,
            "--backend",
            backend,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    assert url == f"http://127.0.0.1:{port}"
    yield url
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()


def client_urls(base_url: str, key: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    key_path = tmp_path / "key.json"
    key_path.write_text(json.dumps(key))
    args = [base_url, str(key_path), ITEM.image_id, *map(json.dumps, (THUMB, DOWNLOAD, VIS))]
    result = subprocess.run(
        [sys.executable, "-c", URLS_SCRIPT, *args],
        env=server_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return out


@pytest.fixture(scope="module")
def through_proxy(proxy: str, server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # The key a user behind the proxy holds: its token URI is the proxy's too.
    key = {**server.key, "token_uri": f"{proxy}{PREFIX}/token"}
    return client_urls(f"{proxy}{PREFIX}", key, tmp_path_factory.mktemp("proxy-client"))


@pytest.fixture(scope="module")
def direct(server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return client_urls(server.base_url, server.key, tmp_path_factory.mktemp("direct-client"))


def fetch(url: str) -> requests.Response:
    """A plain GET with no credentials, as an <img> tag or a map library does."""
    response = requests.get(url, timeout=120)
    assert response.status_code == 200, response.text[:500]
    return response


def test_the_client_works_through_the_proxy(through_proxy: dict[str, Any], direct) -> None:
    assert through_proxy["size"] == direct["size"] == 10  # the demo collection


@pytest.mark.parametrize("kind", ["thumb", "download"])
def test_urls_are_under_the_prefix_and_answer_as_directly(
    through_proxy: dict[str, Any], direct: dict[str, Any], proxy: str, server, kind: str
) -> None:
    url = through_proxy[kind]
    assert url.startswith(f"{proxy}{PREFIX}/v1/projects/{server.project}/thumbnails/"), url
    assert direct[kind].startswith(f"{server.base_url}/v1/projects/{server.project}/thumbnails/")
    assert fetch(url).content == fetch(direct[kind]).content


def test_the_thumbnail_through_the_proxy_is_the_png(through_proxy: dict[str, Any]) -> None:
    response = fetch(through_proxy["thumb"])
    assert response.headers["content-type"] == "image/png"
    pixels = np.asarray(PILImage.open(io.BytesIO(response.content)))
    assert pixels.shape == (70, 96, 2)  # one band, no palette: grey and alpha
    assert (pixels[..., 1] == 255).mean() > 0.5  # the region lies inside the image


def test_map_tiles_are_under_the_prefix_and_answer_as_directly(
    through_proxy: dict[str, Any], direct: dict[str, Any], proxy: str, server
) -> None:
    template = through_proxy["tiles"]
    assert template.startswith(f"{proxy}{PREFIX}/v1/projects/{server.project}/maps/"), template
    tile = fetch(template.format(**TILE))
    assert tile.headers["content-type"] == "image/png"
    assert tile.content == fetch(direct["tiles"].format(**TILE)).content


def test_the_server_writes_the_proxy_url(proxy: str, server) -> None:
    document = fetch(f"{proxy}{PREFIX}/$discovery/rest?version=v1").json()
    assert document["rootUrl"] == f"{proxy}{PREFIX}/"
    assert fetch(f"{server.base_url}/$discovery/rest?version=v1").json()["rootUrl"] == (
        f"{server.base_url}/"
    )


def test_outside_the_prefix_the_proxy_serves_nothing(proxy: str) -> None:
    assert requests.get(f"{proxy}/v1/projects/p/algorithms", timeout=30).status_code == 404
