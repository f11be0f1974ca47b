"""Malformed requests get Google's error envelope with the right status, and the server survives.

Raw cases use `requests` with a bearer token issued by the server's token endpoint (through
google-auth), so that nothing in a stock client sanitises the request first.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
import requests

pytestmark = pytest.mark.e2e

IMAGE_ID = "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWL_20230815_0_L2A"
GOOD_GRID = {
    "dimensions": {"width": 8, "height": 4},
    "affineTransform": {
        "scaleX": 0.001,
        "shearX": 0,
        "translateX": 15.9,
        "shearY": 0,
        "scaleY": -0.001,
        "translateY": 45.6,
    },
    "crsCode": "EPSG:4326",
}


def _invoke(name: str, **arguments: Any) -> dict:
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def _const(value: Any) -> dict:
    return {"constantValue": value}


def _expr(node: dict) -> dict:
    return {"result": "0", "values": {"0": node}}


IMAGE = _invoke("Image.load", id=_const(IMAGE_ID))


def _grid(**overrides: Any) -> dict:
    grid = json.loads(json.dumps(GOOD_GRID))
    for key, value in overrides.items():
        if key in ("width", "height"):
            grid["dimensions"][key] = value
        else:
            grid[key] = value
    return grid


def _pixels(**overrides: Any) -> dict:
    body = {"expression": _expr(IMAGE), "fileFormat": "NPY", "bandIds": ["B4"], "grid": GOOD_GRID}
    body.update(overrides)
    return body


# (id, endpoint, JSON body or raw bytes, expected HTTP status, expected envelope status)
CASES = [
    (
        "unknown-function",
        "value:compute",
        {"expression": _expr(_invoke("Image.noSuchAlgorithm", input=IMAGE))},
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "missing-required-argument",
        "value:compute",
        {"expression": _expr(_invoke("Number.add", left=_const(1)))},
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "wrong-argument-type",
        "value:compute",
        {"expression": _expr(_invoke("Collection.size", collection=_const(5)))},
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "dangling-value-reference",
        "value:compute",
        {"expression": {"result": "7", "values": {"0": _const(1)}}},
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "band-not-found-in-bandIds",
        "image:computePixels",
        _pixels(bandIds=["B99"]),
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "unknown-fileFormat",
        "image:computePixels",
        _pixels(fileFormat="BMP_NOT_A_FORMAT"),
        400,
        "INVALID_ARGUMENT",
    ),
    ("zero-width", "image:computePixels", _pixels(grid=_grid(width=0)), 400, "INVALID_ARGUMENT"),
    (
        "negative-height",
        "image:computePixels",
        _pixels(grid=_grid(height=-5)),
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "bad-crs-code",
        "image:computePixels",
        _pixels(grid=_grid(crsCode="EPSG:999999")),
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "garbage-crs-code",
        "image:computePixels",
        _pixels(grid=_grid(crsCode="NOT A CRS")),
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "grid-side-over-limit",
        "image:computePixels",
        _pixels(grid=_grid(width=40000, height=2)),
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "broken-json",
        "image:computePixels",
        b'{"expression": {"result": "0", "values": ',
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "broken-json-value-compute",
        "value:compute",
        b"{not json at all",
        400,
        "INVALID_ARGUMENT",
    ),
]


def _url(server, endpoint: str) -> str:
    return f"{server.base_url}/v1/projects/{server.project}/{endpoint}"


def _assert_envelope(response: requests.Response, code: int, status: str) -> dict:
    assert response.status_code == code, f"HTTP {response.status_code}: {response.text[:1000]}"
    try:
        body = response.json()
    except ValueError:
        pytest.fail(f"error body is not JSON: {response.text[:500]!r}")
    error = body["error"]
    assert error["code"] == code, body
    assert error["status"] == status, body
    assert isinstance(error["message"], str)
    assert error["message"].strip(), body
    return error


def _post(server, endpoint: str, body: dict | bytes, headers: dict[str, str]) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        _url(server, endpoint),
        data=data,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("endpoint", "body", "code", "status"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_request(server, access_token, endpoint, body, code, status):
    response = _post(server, endpoint, body, {"Authorization": f"Bearer {access_token}"})
    _assert_envelope(response, code, status)


def test_band_not_found_message_names_band(server, access_token):
    response = _post(
        server,
        "image:computePixels",
        _pixels(bandIds=["B99"]),
        {"Authorization": f"Bearer {access_token}"},
    )
    error = _assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert "B99" in error["message"]


def test_unknown_function_message_names_it(server, access_token):
    body = {"expression": _expr(_invoke("Image.noSuchAlgorithm", input=IMAGE))}
    response = _post(server, "value:compute", body, {"Authorization": f"Bearer {access_token}"})
    error = _assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert "Image.noSuchAlgorithm" in error["message"]


@pytest.mark.parametrize("endpoint", ["value:compute", "image:computePixels"])
def test_missing_token_is_401(server, endpoint):
    body = _pixels() if endpoint == "image:computePixels" else {"expression": _expr(_const(1))}
    response = _post(server, endpoint, body, {})
    _assert_envelope(response, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "ya29.expired-or-forged", "eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HA"],
    ids=["garbage", "google-looking", "jwt-looking"],
)
def test_invalid_bearer_token_is_401(server, token):
    body = {"expression": _expr(_const(1))}
    response = _post(server, "value:compute", body, {"Authorization": f"Bearer {token}"})
    _assert_envelope(response, 401, "UNAUTHENTICATED")


def test_tampered_bearer_token_is_401(server, access_token):
    tampered = access_token[:-2] + ("AA" if not access_token.endswith("AA") else "BB")
    body = {"expression": _expr(_const(1))}
    response = _post(server, "value:compute", body, {"Authorization": f"Bearer {tampered}"})
    _assert_envelope(response, 401, "UNAUTHENTICATED")


def test_wrong_auth_scheme_is_401(server, access_token):
    body = {"expression": _expr(_const(1))}
    response = _post(server, "value:compute", body, {"Authorization": f"Basic {access_token}"})
    _assert_envelope(response, 401, "UNAUTHENTICATED")


def test_unknown_asset_is_404(server, access_token):
    response = requests.get(
        f"{server.base_url}/v1/projects/earthengine-public/assets/NO/SUCH_COLLECTION",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )
    _assert_envelope(response, 404, "NOT_FOUND")


def test_ee_client_select_missing_band_raises(ee_api):
    ee = ee_api
    image = ee.Image(IMAGE_ID).select(["B99"])
    with pytest.raises(ee.EEException) as excinfo:
        image.getInfo()
    message = str(excinfo.value)
    assert "B99" in message
    assert "Image.select" in message


def test_ee_client_unknown_asset_raises(ee_api):
    ee = ee_api
    with pytest.raises(ee.EEException) as excinfo:
        ee.Image("COPERNICUS/S2_SR_HARMONIZED/NO_SUCH_IMAGE").bandNames().getInfo()
    assert "NO_SUCH_IMAGE" in str(excinfo.value)


def test_server_still_serves(server, ee_api, access_token):
    """After all the abuse above, both value:compute and computePixels still answer."""
    ee = ee_api
    assert ee.Number(1).add(2).getInfo() == 3
    response = _post(
        server, "image:computePixels", _pixels(), {"Authorization": f"Bearer {access_token}"}
    )
    assert response.status_code == 200, response.text[:500]
    array = np.load(io.BytesIO(response.content))
    assert array.shape == (4, 8)
    assert array.dtype.names == ("B4",)
    assert np.all(array["B4"] > 0)
    discovery = requests.get(
        f"{server.base_url}/$discovery/rest", params={"version": "v1"}, timeout=10
    )
    assert discovery.status_code == 200
