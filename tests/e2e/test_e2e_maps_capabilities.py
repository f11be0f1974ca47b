"""Capability URLs on dedicated servers: they work without a token until they expire, stop when
their creator is disabled, and API keys (`?key=`, `openee api-keys`) work as Earth Engine's do
with the stock client's `cloud_api_key`."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from auth_server import AuthServer, bearer, launch, server_env
from oracle import load_items

ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
TTL_S = 4
NOT_FOUND = {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
INVALID_KEY = {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
}


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    root = tmp_path_factory.mktemp("caps-short")
    with launch(root, env={"OPENEE_CAPABILITY_TTL": str(TTL_S)}) as srv:
        yield srv


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    with launch(tmp_path_factory.mktemp("caps")) as server:
        yield server


def thumbnail_body(ee_api: Any) -> dict[str, Any]:
    image = ee_api.Image(ITEM.image_id).visualize(bands=["B4"], min=0, max=3000)
    region = ee_api.Geometry.Rectangle([15.6, 45.5, 15.8, 45.6], None, False)
    image = image.clipToBoundsAndScale(geometry=region, maxDimension=32)
    return {"expression": ee_api.serializer.encode(image, for_cloud_api=True), "fileFormat": "PNG"}


def create(srv: AuthServer, token: str, kind: str, body: dict[str, Any]) -> str:
    response = requests.post(
        f"{srv.base_url}/v1/projects/{srv.project}/{kind}",
        json=body,
        headers=bearer(token),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    assert name.startswith(f"projects/{srv.project}/{kind}/")
    srv.secret(name.rsplit("/", 1)[1])  # the id is a credential: never in the logs
    return f"{srv.base_url}/v1/{name}" + (":getPixels" if kind == "thumbnails" else "/tiles/0/0/0")


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=60)


def test_urls_work_without_a_token_until_they_expire(short: AuthServer, ee_api: Any) -> None:
    token = short.token(short.key)
    thumb = create(short, token, "thumbnails", thumbnail_body(ee_api))
    tiles = create(short, token, "maps", {"expression": thumbnail_body(ee_api)["expression"]})
    made = time.monotonic()
    first = get(thumb)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert get(tiles).status_code == 200
    time.sleep(max(0.0, TTL_S + 0.5 - (time.monotonic() - made)))
    for url in (thumb, tiles):
        expired = get(url)
        assert expired.status_code == 404
        assert expired.json() == {"error": NOT_FOUND}


def test_urls_stop_when_their_creator_is_disabled(
    srv: AuthServer, ee_api: Any, tmp_path: Path
) -> None:
    key = srv.new_key("thumb-maker", tmp_path / "maker.json")
    url = create(srv, srv.token(key), "thumbnails", thumbnail_body(ee_api))
    assert get(url).status_code == 200
    assert srv.cli("service-accounts", "disable", key["client_email"]) == 0
    assert get(url).json() == {"error": NOT_FOUND}
    assert srv.cli("service-accounts", "enable", key["client_email"]) == 0
    assert get(url).status_code == 200  # the id itself was never revoked


def new_api_key(srv: AuthServer, capsys: pytest.CaptureFixture[str], project: str) -> str:
    capsys.readouterr()
    assert srv.cli("api-keys", "create", "--project", project) == 0
    created = json.loads(capsys.readouterr().out.splitlines()[-1])
    return srv.secret(str(created["key"]))


# The stock client with `cloud_api_key`: map tile and thumbnail URLs carry `?key=`.
KEY_SCRIPT = """
import json, sys, ee, requests
base_url, key_path, api_key, item = sys.argv[1:5]
project = json.load(open(key_path))["project_id"]
ee.Initialize(ee.ServiceAccountCredentials(None, key_path), project=project, url=base_url,
              cloud_api_key=api_key)
image = ee.Image(item)
map_id = image.getMapId({"bands": ["B4"], "min": 0, "max": 3000})
url_format = map_id["tile_fetcher"].url_format
thumb = image.getThumbURL({"bands": ["B4"], "min": 0, "max": 3000, "dimensions": 16})
out = {"url_format": url_format, "thumb": thumb,
       "tile": requests.get(url_format.format(x=8, y=5, z=4)).status_code,
       "thumb_status": requests.get(thumb).status_code}
print(json.dumps(out))
"""

# The stock client with only an API key, no credentials: read-only calls of the key's project.
KEY_ONLY_SCRIPT = """
import json, sys, ee
base_url, project, api_key = sys.argv[1:4]
ee.Initialize(None, project=project, url=base_url, cloud_api_key=api_key)
out = {"sum": ee.Number(20).add(22).getInfo()}
try:
    ee.data.setIamPolicy("projects/%s/assets" % project, {"bindings": []})
except ee.EEException as exc:
    out["write"] = str(exc)
print(json.dumps(out))
"""


def run(srv: AuthServer, tmp_path: Path, script: str, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", script, srv.base_url, *args],
        env=server_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return out


def test_api_keys_with_the_stock_client(
    srv: AuthServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api_key = new_api_key(srv, capsys, srv.project)
    out = run(srv, tmp_path, KEY_SCRIPT, str(srv.key_path), api_key, ITEM.image_id)
    assert out["url_format"].endswith(f"/tiles/{{z}}/{{x}}/{{y}}?key={api_key}")
    assert out["thumb"].endswith(f":getPixels?key={api_key}")
    assert out["tile"] == 200 and out["thumb_status"] == 200
    srv.secret(out["url_format"].split("/maps/")[1].split("/")[0])
    srv.secret(out["thumb"].split("/thumbnails/")[1].split(":")[0])
    tile = out["url_format"].format(x=8, y=5, z=4)
    png = get(tile)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    # A wrong key, a key of another project, a revoked key.
    assert get(tile.replace(api_key, api_key[:-4] + "AAAA")).json() == {"error": INVALID_KEY}
    other = new_api_key(srv, capsys, "another-project")
    wrong_project = get(tile.replace(api_key, other))
    assert wrong_project.status_code == 403
    key_id = api_key[4:12]
    assert srv.cli("api-keys", "revoke", key_id) == 0
    assert get(tile).json() == {"error": INVALID_KEY}
    # Without a key, the id alone still works: it is the capability.
    assert get(tile.split("?")[0]).status_code == 200


def test_api_key_alone_authenticates_read_only_calls(
    srv: AuthServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api_key = new_api_key(srv, capsys, srv.project)
    out = run(srv, tmp_path, KEY_ONLY_SCRIPT, srv.project, api_key)
    assert out["sum"] == 42
    assert "insufficient authentication scopes" in out["write"]
    bad = get(f"{srv.api_url}?key=AIza{'0' * 51}")
    assert bad.status_code == 400 and bad.json() == {"error": INVALID_KEY}
    assert get(srv.api_url).status_code == 401
    # An API key only reaches its own project.
    other = get(f"{srv.base_url}/v1/projects/another-project/algorithms?key={api_key}")
    assert other.status_code == 200  # listing algorithms needs no project role
    denied = requests.post(
        f"{srv.base_url}/v1/projects/another-project/thumbnails?key={api_key}",
        json={"expression": {"result": "0", "values": {"0": {"constantValue": 1}}}},
        timeout=60,
    )
    assert denied.status_code == 403


def constant_image(value: int) -> dict[str, Any]:
    """`ee.Image.constant(value)` as the stock client serializes it."""
    call = {"functionName": "Image.constant", "arguments": {"value": {"constantValue": value}}}
    return {"result": "0", "values": {"0": {"functionInvocationValue": call}}}


def test_an_id_cannot_be_reused_for_another_expression(srv: AuthServer) -> None:
    """An id draws the expression it was made for, whatever a request to it carries."""
    token = srv.token(srv.key)
    vis = {"visualizationOptions": {"ranges": [{"min": 0, "max": 255}]}}
    dark = create(srv, token, "maps", {"expression": constant_image(10), **vis})
    bright = create(srv, token, "maps", {"expression": constant_image(240), **vis})
    thumb = create(
        srv, token, "thumbnails", {"expression": constant_image(10), "fileFormat": "PNG"}
    )
    original = {url: get(url).content for url in (dark, bright, thumb)}
    assert original[dark] != original[bright]
    other = json.dumps(constant_image(240))
    for url in (dark, thumb):
        # Another expression in the query string is ignored; in a body, refused.
        assert get(f"{url}?expression={other}").content == original[url]
        body = {"expression": constant_image(240)}
        assert requests.post(url, json=body, timeout=60).status_code == 401
        posted = requests.post(url, json=body, headers=bearer(token), timeout=60)
        assert posted.status_code == 404
        assert get(url).content == original[url]


def test_tiles_carry_an_etag_and_a_cached_tile_still_checks_access(
    srv: AuthServer, ee_api: Any, tmp_path: Path
) -> None:
    key = srv.new_key("tile-maker", tmp_path / "tiles.json")
    url = create(srv, srv.token(key), "maps", {"expression": thumbnail_body(ee_api)["expression"]})
    first, again = get(url), get(url)  # the second comes from the tile cache
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    etag = first.headers["ETag"]
    assert etag == again.headers["ETag"] == f'"{hashlib.sha256(first.content).hexdigest()[:32]}"'
    revalidated = requests.get(url, headers={"If-None-Match": etag}, timeout=60)
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert srv.cli("service-accounts", "disable", key["client_email"]) == 0
    assert get(url).json() == {"error": NOT_FOUND}  # the cached tile is not served
    assert srv.cli("service-accounts", "enable", key["client_email"]) == 0
    assert get(url).content == first.content
