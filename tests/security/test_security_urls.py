"""The URL allow-list (issue 16, item 6): checked on the URL's normal form, and on every redirect,
none followed out of the list. The allow-listed server is a local HTTP server on 127.0.0.1 whose
prefix `/allowed/` is the only one allowed; the canary listener must see 0 requests and the
allowed server no request outside its prefix."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from security_kit import Api, Listener, write_tif


@pytest.fixture
def served(allowed_server: Listener, canary: Listener, tmp_path: Path) -> Listener:
    """A GeoTIFF of 7s at /allowed/x.tif, a redirect to it inside the prefix, a redirect out
    to the canary, and the same GeoTIFF outside the prefix."""
    tif = write_tif(tmp_path / "x.tif", 7, size=64).read_bytes()
    allowed_server.routes.update({
        "/allowed/x.tif": (200, {}, tif),
        "/forbidden.tif": (200, {}, tif),
        "/allowed/inside.tif": (302, {"Location": "/allowed/x.tif"}, b""),
        "/allowed/out.tif": (302, {"Location": f"{canary.url}/x.tif"}, b""),
        "/allowed/up.tif": (302, {"Location": "/forbidden.tif"}, b""),
    })  # fmt: skip
    allowed_server.hits.clear()
    return allowed_server


def outside_prefix(listener: Listener) -> list[str]:
    return [h for h in listener.hits if not h.startswith("/allowed/")]


def test_an_allowed_url_and_a_redirect_inside_the_prefix_are_read(
    api: Api, served: Listener
) -> None:
    for name in ("x.tif", "inside.tif"):
        response = api.load_geotiff(f"{served.url}/allowed/{name}")
        assert response.status_code == 200, response.text
        values = np.load(io.BytesIO(response.content))
        assert (values["B0"] == 7).all()  # the served file's only value
    assert outside_prefix(served) == []


@pytest.mark.parametrize("name", ["out.tif", "up.tif"])
def test_no_redirect_is_followed_out_of_the_prefix(
    api: Api, served: Listener, canary: Listener, name: str
) -> None:
    response = api.load_geotiff(f"{served.url}/allowed/{name}")
    assert response.status_code == 400, response.text
    assert "redirects outside" in response.json()["error"]["message"]
    assert canary.hits == [] and outside_prefix(served) == []


@pytest.mark.parametrize(
    "tail", ["x.tif?/../../forbidden.tif", "./../forbidden.tif", "x.tif?a=/../../forbidden.tif"]
)
def test_dot_segments_cannot_leave_the_prefix(api: Api, served: Listener, tail: str) -> None:
    response = api.load_geotiff(f"{served.url}/allowed/{tail}")
    assert response.status_code == 400, response.text
    assert outside_prefix(served) == []
