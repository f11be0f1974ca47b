"""Download links of `Export.image.toDrive`: the task's destination URI is a link of the server
that serves the file to the exporting principal (media type, attachment name, byte ranges);
another principal gets exactly a missing file's 404. The downloaded bytes are read with rasterio
and compared with the demo's band file sampled by the independent oracle (`oracle.warp_band`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from affine import Affine
from oracle import Grid, load_items, warp_band
from rasterio.io import MemoryFile

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
GRID = Grid("EPSG:32633", Affine(120, 0, 560040, 0, -120, 5060040), 200, 150)
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def _cli(server: Any, *argv: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "openee", *argv, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def drive_export(ee_api, server) -> dict[str, Any]:
    item = sorted(load_items(), key=lambda it: it.id)[0]
    folder = f"links_{uuid.uuid4().hex[:6]}"
    xmin, ymax = GRID.transform.c, GRID.transform.f
    region = [xmin, ymax - 120 * GRID.height, xmin + 120 * GRID.width, ymax]
    task = ee_api.batch.Export.image.toDrive(
        image=ee_api.Image(f"{COLLECTION}/{item.id}").select("B4"),
        description="drive_link",
        folder=folder,
        fileNamePrefix="b4 red",  # a space: the link is URL-quoted
        crs=GRID.crs,
        crsTransform=list(GRID.crs_transform),
        dimensions=f"{GRID.width}x{GRID.height}",
        region=ee_api.Geometry.Rectangle(region, GRID.crs, False),
    )
    task.start()
    deadline = time.monotonic() + 120
    while (status := task.status())["state"] not in ("COMPLETED", "FAILED", "CANCELLED"):
        assert time.monotonic() < deadline
        time.sleep(0.25)
    assert status["state"] == "COMPLETED", status
    return {"status": status, "folder": folder, "item": item}


@pytest.fixture(scope="module")
def stranger(server, tmp_path_factory) -> Any:
    """A second service account of another project, with its own key and session."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    _cli(server, "service-accounts", "create", "drive-stranger", "--project", "elsewhere")
    key = tmp_path_factory.mktemp("stranger") / "key.json"
    _cli(server, "keys", "create", "--account", "drive-stranger", "--project", "elsewhere",
         "--port", str(server.port), "--out", str(key))  # fmt: skip
    credentials = service_account.Credentials.from_service_account_file(str(key), scopes=[SCOPE])
    with AuthorizedSession(credentials) as session:
        yield session


def test_the_destination_uri_is_a_download_link(drive_export, server) -> None:
    email = server.key["client_email"]
    (uri,) = drive_export["status"]["destination_uris"][:1]
    assert uri == f"{server.base_url}/v1/drive/{email}/{drive_export['folder']}/b4%20red.tif"


def test_the_owner_downloads_the_file(drive_export, authed_session, server) -> None:
    uri = drive_export["status"]["destination_uris"][0]
    r = authed_session.get(uri)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/tiff"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "b4%20red.tif" in r.headers["content-disposition"]
    on_disk = server.data_dir / "drive" / server.key["client_email"] / drive_export["folder"]
    assert r.content == (on_disk / "b4 red.tif").read_bytes()
    with MemoryFile(r.content) as memory, memory.open() as src:
        assert (src.width, src.height) == (GRID.width, GRID.height)
        np.testing.assert_allclose(src.transform[:6], GRID.transform[:6], atol=1e-6)
        expected = warp_band(drive_export["item"].band_path("B4"), GRID)
        np.testing.assert_array_equal(src.read(1), expected)

    # The receipt is published beside it, as JSON.
    receipt = authed_session.get(uri.replace("b4%20red.tif", "b4%20red.receipt.json"))
    assert receipt.status_code == 200
    assert receipt.headers["content-type"] == "application/json"
    assert json.loads(receipt.content)["outputs"][0]["uri"] == uri


def test_byte_ranges(drive_export, authed_session) -> None:
    uri = drive_export["status"]["destination_uris"][0]
    whole = authed_session.get(uri).content
    part = authed_session.get(uri, headers={"Range": "bytes=100-299"})
    assert part.status_code == 206
    assert part.content == whole[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{len(whole)}"
    tail = authed_session.get(uri, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole[-50:]


def test_another_principal_gets_a_missing_files_404(drive_export, authed_session, stranger):
    uri = drive_export["status"]["destination_uris"][0]
    folder = drive_export["folder"]
    theirs = stranger.get(uri)
    missing = authed_session.get(uri.replace("b4%20red.tif", "b4%20rex.tif"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["status"] == missing.json()["error"]["status"] == "NOT_FOUND"
    assert theirs.json()["error"]["message"] == f"File '{folder}/b4 red.tif' not found."
    assert missing.json()["error"]["message"] == f"File '{folder}/b4 rex.tif' not found."
    assert theirs.headers["content-type"] == missing.headers["content-type"]
    # Nor through its own folder name, nor by climbing out of it.
    base = uri.split("/v1/drive/")[0] + "/v1/drive/"
    for path in (
        f"drive-stranger@elsewhere.iam.gserviceaccount.com/../{uri.split('/v1/drive/')[1]}",
        f"{uri.split('/v1/drive/')[1].split('/')[0]}/%2E%2E/%2E%2E/keys/default.json",
    ):
        assert stranger.get(base + path).status_code == 404
    assert (
        authed_session.get(
            base + f"{uri.split('/v1/drive/')[1].split('/')[0]}/%2E%2E/%2E%2E/keys/default.json"
        ).status_code
        == 404
    )
    assert requests.get(uri, timeout=10).status_code == 401  # no token at all
