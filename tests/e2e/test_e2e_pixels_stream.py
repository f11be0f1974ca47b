"""computePixels NPY streamed row band by row band over HTTP: the body is the file np.save
writes for the source's pixels (rasterio), masked pixels are 0 in every chunk row, a failure
after the response started breaks the body (never a complete-looking file) and the server
keeps serving, a failure in the first chunk row is the usual error envelope.

The session server computes chunks of 1024 x 1024 pixels, so a 2600-row grid spans three chunk
rows. Failures are real: a striped GeoTIFF cut short, whose header opens but whose later rows
cannot be read.
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import requests
from affine import Affine

CHUNK = 1024  # Settings.chunk_size of the session server
HEIGHT, WIDTH = 2600, 16
NODATA = -1.0
CRS = "EPSG:32633"
TRANSFORM = Affine(10, 0, 500000, 0, -10, 5000000)


def write_geotiff(server, name: str, good_rows: int | None = None) -> tuple[str, np.ndarray]:
    """A float32 GeoTIFF in the server's data dir with a nodata pixel in every row; with
    `good_rows`, uncompressed strips cut short after about that many rows."""
    folder = server.area / "uploads" / "stream"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    data = np.arange(HEIGHT * WIDTH, dtype=np.float32).reshape(HEIGHT, WIDTH) * 0.25 + 1
    rows = np.arange(HEIGHT)
    data[rows, (rows * 5) % WIDTH] = NODATA
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=1,
        dtype="float32",
        crs=CRS,
        transform=TRANSFORM,
        nodata=NODATA,
        tiled=False,
        blockysize=16,
    ) as ds:
        ds.write(data, 1)
    if good_rows is not None:
        os.truncate(path, os.path.getsize(path) - (HEIGHT - good_rows) * WIDTH * 4)
    return str(path), data


def oracle(path: str) -> np.ndarray:
    """Earth Engine's NPY for the file: one field per band, 0 where the band is masked."""
    with rasterio.open(path) as ds:
        band = ds.read(1, masked=True)
    array = np.zeros(band.shape, dtype=[("B0", np.float32)])
    array["B0"] = band.filled(0)
    return array


def post_npy(ee, authed_session, server, path: str) -> requests.Response:
    body: dict[str, Any] = {
        "expression": ee.serializer.encode(ee.Image.loadGeoTIFF(path)),
        "fileFormat": "NPY",
    }
    url = f"{server.base_url}/v1/projects/{server.project}/image:computePixels"
    return authed_session.post(url, data=json.dumps(body))


def test_npy_spanning_chunk_rows_is_the_file_np_save_writes(ee_api, authed_session, server) -> None:
    path, data = write_geotiff(server, "whole.tif")
    response = post_npy(ee_api, authed_session, server, path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert int(response.headers["content-length"]) == len(response.content)
    expected = oracle(path)
    saved = io.BytesIO()
    np.save(saved, expected)
    assert response.content == saved.getvalue()
    # Masked pixels hold 0 in every chunk row (each is sent as soon as it is computed).
    values = np.load(io.BytesIO(response.content))["B0"]
    for start in range(0, HEIGHT, CHUNK):
        masked = data[start : start + CHUNK] == NODATA
        assert masked.any()
        assert (values[start : start + CHUNK][masked] == 0).all()
    # The stock client reads the same array.
    array = ee_api.data.computePixels(
        {"expression": ee_api.Image.loadGeoTIFF(path), "fileFormat": "NUMPY_NDARRAY"}
    )
    np.testing.assert_array_equal(array, expected)


def test_a_failure_after_the_first_chunk_row_breaks_the_body_and_is_logged(
    ee_api, authed_session, server
) -> None:
    path, _ = write_geotiff(server, "cut-late.tif", good_rows=CHUNK + 500)
    logged_before = Path(server.stderr_path).read_text(errors="replace").count("response.aborted")
    # The status and the first chunk row were sent; the body then stops short of its
    # Content-Length, which the client reports instead of returning a truncated file. (The ee
    # client sees the same error, and retries it five times with backoff, as it does a 500.)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        post_npy(ee_api, authed_session, server, path)
    lines = [
        json.loads(line)
        for line in Path(server.stderr_path).read_text(errors="replace").splitlines()
        if '"response.aborted"' in line
    ]
    assert len(lines) == logged_before + 1
    assert lines[-1]["path"] == f"/v1/projects/{server.project}/image:computePixels"
    assert lines[-1]["error"] == "SourceUnreadableError"
    assert 0 < lines[-1]["sent_bytes"] < lines[-1]["content_length"]
    log = Path(server.stderr_path).read_text(errors="replace").splitlines()
    access = [line for line in log if line.startswith('{"method": ')][-1]
    assert json.loads(access)["incomplete"] is True  # the request's line, after the error's
    # The server keeps serving.
    whole, _ = write_geotiff(server, "after-failure.tif")
    response = post_npy(ee_api, authed_session, server, whole)
    assert response.status_code == 200
    np.testing.assert_array_equal(np.load(io.BytesIO(response.content)), oracle(whole))


def test_a_failure_in_the_first_chunk_row_is_an_error_envelope(
    ee_api, authed_session, server
) -> None:
    path, _ = write_geotiff(server, "cut-early.tif", good_rows=100)
    response = post_npy(ee_api, authed_session, server, path)
    # A damaged file is the data's fault: 400, naming the file (not its directory).
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "FAILED_PRECONDITION"
    assert "Cannot read the source file 'cut-early.tif'" in error["message"]
    assert str(server.data_dir) not in error["message"]
    assert response.headers["content-type"] == "application/json"


def test_a_bad_band_is_an_error_envelope(ee_api, authed_session, server) -> None:
    path, _ = write_geotiff(server, "bands.tif")
    body = {
        "expression": ee_api.serializer.encode(ee_api.Image.loadGeoTIFF(path)),
        "fileFormat": "NPY",
        "bandIds": ["nope"],
    }
    url = f"{server.base_url}/v1/projects/{server.project}/image:computePixels"
    response = authed_session.post(url, data=json.dumps(body))
    assert response.status_code == 400
    assert "nope" in response.json()["error"]["message"]


def _settled_length(log: Path) -> int:
    """The log's line count once the earlier tests' requests have finished writing to it (a
    broken stream of the test before may log its lines after that test returned)."""
    count, deadline = -1, time.monotonic() + 5
    while time.monotonic() < deadline:
        now = len(log.read_text(errors="replace").splitlines())
        if now == count:
            break
        count = now
        time.sleep(0.3)
    return count


def test_a_client_that_goes_away_mid_body_leaves_no_error(ee_api, authed_session, server) -> None:
    log = Path(server.stderr_path)
    before = _settled_length(log)
    # 32 MiB over four chunk rows: more than the socket buffers hold, so the server is still
    # sending when the client stops reading.
    image = ee_api.Image.pixelLonLat().select(["longitude"])
    body = {
        "expression": ee_api.serializer.encode(image),
        "fileFormat": "NPY",
        "grid": {
            "crsCode": "EPSG:4326",
            "affineTransform": {
                "scaleX": 0.0001,
                "translateX": 15,
                "scaleY": -0.0001,
                "translateY": 46,
            },
            "dimensions": {"width": 1024, "height": 4 * CHUNK},
        },
    }
    url = f"{server.base_url}/v1/projects/{server.project}/image:computePixels"
    response = authed_session.post(url, data=json.dumps(body), stream=True)
    assert response.status_code == 200
    assert len(response.raw.read(100_000)) == 100_000
    response.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = log.read_text(errors="replace").splitlines()[before:]
        access = [json.loads(line) for line in new if line.startswith('{"method": "POST"')]
        access = [a for a in access if a["path"].endswith("image:computePixels")]
        if access:
            break
        time.sleep(0.1)
    assert access[-1].get("incomplete") is True, new
    assert not [line for line in new if "ERROR" in line or "Traceback" in line], new
    assert not [line for line in new if "response.aborted" in line], new
    path, _ = write_geotiff(server, "after-disconnect.tif")
    assert post_npy(ee_api, authed_session, server, path).status_code == 200
