"""Map tiles from the tile cache: bytes served as they were computed, without evaluating the map
again, with their validator; a tile not cached is computed."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from openee.api import capabilities
from openee.api.app import create_app
from openee.settings import DEFAULT_PROJECT, Settings

ITEM = "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWL_20230815_0_L2A"
PALETTE = ["000004", "51127c", "b73779", "fc8961", "fcfdbf"]


def call(name: str, **arguments: object) -> dict[str, object]:
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def const(value: object) -> dict[str, object]:
    return {"constantValue": value}


# What `ee.Image(ITEM).getMapId({"bands": ["B4"], "min": 0, "max": 3000, "palette": PALETTE})`
# sends.
MAP = {
    "expression": {
        "result": "0",
        "values": {
            "0": call(
                "Image.visualize",
                image=call("Image.load", id=const(ITEM)),
                bands=const(["B4"]),
                min=const(0),
                max=const(3000),
                palette=const(PALETTE),
            )
        },
    },
    "fileFormat": "AUTO_JPEG_PNG",
    "bandIds": [],
}
TILE = "tiles/10/556/364"  # over 33TWL


def test_cached_tile_is_served_without_evaluating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, auth_enabled=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        made = client.post(f"/v1/projects/{DEFAULT_PROJECT}/maps", json=MAP)
        assert made.status_code == 200, made.text
        url = f"/v1/{made.json()['name']}/{TILE}"
        first = client.get(url)
        assert first.status_code == 200, first.text
        drawn = np.asarray(PILImage.open(io.BytesIO(first.content)))
        assert drawn.shape == (256, 256, 4) and (drawn[..., 3] == 255).any()

        def no_evaluation(*args: object) -> None:
            raise AssertionError("a cached tile evaluated its map")

        monkeypatch.setattr(capabilities, "evaluate_image", no_evaluation)
        # Past the few seconds a map's evaluation is reused (ADR 0037): forgotten.
        state = client.app.state.openee  # type: ignore[attr-defined]
        monkeypatch.setattr(state.tile_images, "_entries", type(state.tile_images._entries)())
        again = client.get(url)
        assert again.status_code == 200
        assert again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["content-type"] == "image/png"
        assert "private" in again.headers["cache-control"]
        unchanged = client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        # A tile not cached yet is computed: here it cannot be, so it fails.
        other = client.get(url.replace("tiles/10/556/364", "tiles/10/557/364"))
        assert other.status_code == 500


def test_cached_tile_still_checks_the_map_id(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, auth_enabled=False)
    with TestClient(create_app(settings)) as client:
        made = client.post(f"/v1/projects/{DEFAULT_PROJECT}/maps", json=MAP)
        name = made.json()["name"]
        assert client.get(f"/v1/{name}/{TILE}").status_code == 200
        wrong = name[:-4] + ("0000" if not name.endswith("0000") else "1111")
        assert client.get(f"/v1/{wrong}/{TILE}").status_code == 404
        other_project = name.replace(f"projects/{DEFAULT_PROJECT}/", "projects/other/")
        assert client.get(f"/v1/{other_project}/{TILE}").status_code == 404
