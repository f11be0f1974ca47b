"""Compressed pixel responses (ADR 0049): the coding a client accepts, the same bytes once decoded,
the right headers, nothing compressed that should not be."""

from __future__ import annotations

import io
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient

from openee.api import wire
from openee.api.app import create_app
from openee.settings import DEFAULT_PROJECT, Settings

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

DEMO = Path(__file__).resolve().parents[2] / "src/openee/demo/data/sentinel2"
ITEM = "S2A_33TWL_20230815_0_L2A"
B4 = next(DEMO.glob(f"*/sentinel-2-l2a/{ITEM}/B04.tif"))
URL = f"/v1/projects/{DEFAULT_PROJECT}/image:computePixels"
# The image's own grid, a 512 x 384 window of it: nearest sampling on the file's own grid is the
# file's pixels (the oracle is rasterio's read of the window).
COL0, ROW0, WIDTH, HEIGHT = 200, 300, 512, 384


def call(name: str, **arguments: object) -> dict[str, object]:
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def image_expression(*functions: str) -> dict[str, object]:
    node = call(
        "Image.select",
        input=call("Image.load", id={"constantValue": f"COPERNICUS/S2_SR_HARMONIZED/{ITEM}"}),
        bandSelectors={"constantValue": ["B4"]},
    )
    for name in functions:
        node = call(name, value=node)
    return {"result": "0", "values": {"0": node}}


def body(expression: dict[str, object], file_format: str = "NPY") -> dict[str, object]:
    with rasterio.open(B4) as src:
        t = src.transform @ rasterio.Affine.translation(COL0, ROW0)
        crs = src.crs.to_string()
    return {
        "expression": expression,
        "fileFormat": file_format,
        "grid": {
            "crsCode": crs,
            "affineTransform": {
                "scaleX": t.a, "shearX": t.b, "translateX": t.c,
                "shearY": t.d, "scaleY": t.e, "translateY": t.f,
            },
            "dimensions": {"width": WIDTH, "height": HEIGHT},
        },
    }  # fmt: skip


def oracle() -> np.ndarray:
    with rasterio.open(B4) as src:
        return src.read(1, window=((ROW0, ROW0 + HEIGHT), (COL0, COL0 + WIDTH)))


def make_client(tmp: Path, policy: str, host: str = "testclient") -> TestClient:
    settings = Settings(data_dir=tmp, auth_enabled=False, response_compression=policy)
    return TestClient(create_app(settings), client=(host, 50000))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("wire"), "auto") as test_client:
        yield test_client


def raw_post(client: TestClient, request: dict[str, object], accept: str) -> tuple[dict, bytes]:
    """Headers and the body as sent (not decoded by the HTTP client)."""
    with client.stream("POST", URL, json=request, headers={"Accept-Encoding": accept}) as r:
        assert r.status_code == 200, r.read()[:300]
        return dict(r.headers), b"".join(r.iter_raw())


DECODERS = {
    "gzip": lambda data: zlib.decompress(data, 16 + zlib.MAX_WBITS),
    "deflate": zlib.decompress,
    "zstd": zstd.decompress,
}


@pytest.mark.parametrize(
    ("accept", "coding"),
    [("gzip, deflate", "gzip"), ("deflate", "deflate"), ("gzip, deflate, zstd", "zstd")],
)
def test_npy_decodes_to_the_same_bytes(client: TestClient, accept: str, coding: str) -> None:
    request = body(image_expression("Image.toDouble"))
    plain_headers, plain = raw_post(client, request, "identity")
    headers, sent = raw_post(client, request, accept)
    assert headers["content-encoding"] == coding
    assert "accept-encoding" in headers["vary"].lower()
    assert "content-length" not in headers  # streamed, chunked
    assert len(sent) < len(plain)
    assert DECODERS[coding](sent) == plain
    assert "content-encoding" not in plain_headers
    assert int(plain_headers["content-length"]) == len(plain)
    assert "accept-encoding" in plain_headers["vary"].lower()
    array = np.load(io.BytesIO(plain))
    np.testing.assert_array_equal(array["B4"], oracle().astype(np.float64))


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0, deflate;q=0", "br", ""])
def test_nothing_compressed_unless_accepted(client: TestClient, accept: str) -> None:
    headers, sent = raw_post(client, body(image_expression("Image.toDouble")), accept)
    assert "content-encoding" not in headers
    assert int(headers["content-length"]) == len(sent)
    np.testing.assert_array_equal(np.load(io.BytesIO(sent))["B4"], oracle())


def test_http_client_reads_the_compressed_npy(client: TestClient) -> None:
    # httpx decodes gzip itself, as requests/urllib3 do under the stock client.
    response = client.post(
        URL, json=body(image_expression("Image.toDouble")), headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    np.testing.assert_array_equal(np.load(io.BytesIO(response.content))["B4"], oracle())


def test_encoded_formats_are_not_compressed_again(client: TestClient) -> None:
    request = body(image_expression(), "GEO_TIFF")
    headers, sent = raw_post(client, request, "gzip, deflate, zstd")
    assert "content-encoding" not in headers
    assert "vary" not in headers
    with rasterio.MemoryFile(sent) as memfile, memfile.open() as dataset:
        np.testing.assert_array_equal(dataset.read(1), oracle())


def test_pixels_that_do_not_compress_go_as_they_are(client: TestClient) -> None:
    # Uniform random doubles: their mantissas are noise, gzip cannot shrink them 1.5 times.
    expression = {"result": "0", "values": {"0": call("Image.random", seed={"constantValue": 7})}}
    headers, sent = raw_post(client, body(expression), "gzip, deflate")
    assert "content-encoding" not in headers
    assert int(headers["content-length"]) == len(sent)
    values = np.load(io.BytesIO(sent))["random"]
    assert values.dtype == np.float64 and values.min() >= 0.0 and values.max() < 1.0
    assert len(zlib.compress(sent, 1)) * wire.MIN_RATIO > len(sent)  # indeed incompressible


def test_auto_leaves_loopback_clients_alone(tmp_path: Path) -> None:
    request = body(image_expression("Image.toDouble"))
    with make_client(tmp_path / "a", "auto", host="127.0.0.1") as local:
        headers, sent = raw_post(local, request, "gzip, deflate")
    assert "content-encoding" not in headers
    np.testing.assert_array_equal(np.load(io.BytesIO(sent))["B4"], oracle())
    with make_client(tmp_path / "b", "always", host="127.0.0.1") as proxied:
        headers, sent = raw_post(proxied, request, "gzip, deflate")
    assert headers["content-encoding"] == "gzip"
    np.testing.assert_array_equal(np.load(io.BytesIO(DECODERS["gzip"](sent)))["B4"], oracle())


def test_off_never_compresses(tmp_path: Path) -> None:
    with make_client(tmp_path, "off") as plain:
        headers, _ = raw_post(plain, body(image_expression("Image.toDouble")), "gzip, deflate")
    assert "content-encoding" not in headers
    assert "vary" not in headers


def test_download_url_npy_is_compressed_whole(client: TestClient) -> None:
    """getPixels of a download id (getDownloadURL with format NPY): one body, its length known."""
    request = body(image_expression("Image.toDouble"))
    created = client.post(f"/v1/projects/{DEFAULT_PROJECT}/thumbnails", json=request)
    assert created.status_code == 200, created.text
    url = f"/v1/{created.json()['name']}:getPixels"
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as r:
        headers, sent = dict(r.headers), b"".join(r.iter_raw())
    assert headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert int(headers["content-length"]) == len(sent)
    array = np.load(io.BytesIO(DECODERS["gzip"](sent)))
    np.testing.assert_array_equal(array["B4"], oracle().astype(np.float64))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate", {"gzip", "deflate"}),
        ("gzip;q=0.5, zstd;q=0", {"gzip"}),
        ("*", {"gzip", "deflate", "zstd"}),
        ("*, gzip;q=0", {"deflate", "zstd"}),
        ("identity", {"identity"}),
        (None, set()),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str | None, expected: set[str]) -> None:
    assert wire.accepted(header) == expected


def test_unknown_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="response_compression"):
        Settings(data_dir=tmp_path, response_compression="sometimes")
