"""A geemap FeatureCollection layer as map tiles (ADR 0055): geemap draws
`fc.style(fillColor=c).updateMask(ee.Image.constant(0.5)).blend(fc.style(color=c,
fillColor='00000000', width=2))`; the tile's fill is half transparent (alpha round(0.5 * 255) =
128) and its outline opaque, both in the layer's colour. Oracle: the styled colour, and shapely
for which pixel centres are inside the square or on its outline."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from pyproj import Transformer

from openee.api.app import create_app
from openee.settings import DEFAULT_PROJECT, Settings

HALF_SIDE = math.pi * 6378137.0
ZOOM, X, Y = 8, 139, 91  # 15.47-16.88 E, 45.09-46.07 N: the square's eastern part
SQUARE = [[15.2, 45.5], [16.0, 45.5], [16.0, 46.2], [15.2, 46.2], [15.2, 45.5]]


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A function invocation node; a value node (one key ending in 'Value') is kept as is."""
    args = {
        k: v
        if isinstance(v, dict) and len(v) == 1 and next(iter(v)).endswith("Value")
        else {"constantValue": v}
        for k, v in arguments.items()
    }
    return {"functionInvocationValue": {"functionName": name, "arguments": args}}


def geemap_layer(color: str) -> dict[str, Any]:
    polygon = call("GeometryConstructors.Polygon", coordinates=[SQUARE], geodesic=False)
    feature = call("Feature", geometry=polygon, metadata={})
    fc = call("Collection", features={"arrayValue": {"values": [feature]}})
    fc["functionInvocationValue"]["arguments"]["features"] = {"arrayValue": {"values": [feature]}}
    fill = call(
        "Image.updateMask",
        image=call("Collection.style", collection=fc, fillColor=color),
        mask=call("Image.constant", value=0.5),
    )
    outline = call("Collection.style", collection=fc, color=color, fillColor="00000000", width=2)
    return call("Image.blend", bottom=fill, top=outline)


def tile_centres() -> tuple[np.ndarray, float]:
    side = 2 * HALF_SIDE / 2**ZOOM
    pixel = side / 256
    x0, y0 = -HALF_SIDE + X * side, HALF_SIDE - Y * side
    rows, cols = np.mgrid[0:256, 0:256] + 0.5
    return shapely.points(x0 + cols * pixel, y0 - rows * pixel), pixel


def test_geemap_feature_collection_tile_is_half_transparent_inside(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, auth_enabled=False)
    body = {
        "expression": {"result": "0", "values": {"0": geemap_layer("ff8000")}},
        "fileFormat": "AUTO_JPEG_PNG",
        "bandIds": [],
    }
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        made = client.post(f"/v1/projects/{DEFAULT_PROJECT}/maps", json=body)
        assert made.status_code == 200, made.text
        tile = client.get(f"/v1/{made.json()['name']}/tiles/{ZOOM}/{X}/{Y}")
        assert tile.status_code == 200, tile.text
        assert tile.headers["content-type"] == "image/png"
    pixels = np.asarray(PILImage.open(io.BytesIO(tile.content)).convert("RGBA"))
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    square = shapely.Polygon([to_merc.transform(lon, lat) for lon, lat in SQUARE])
    centres, pixel = tile_centres()
    to_border = shapely.distance(centres, square.boundary) / pixel
    inside = shapely.contains(square, centres)
    interior = inside & (to_border > 2)
    outline = to_border <= 0.5
    outside = ~inside & (to_border > 2)
    assert interior.sum() > 1000 and outline.sum() > 100 and outside.sum() > 1000
    alpha = pixels[..., 3]
    assert (alpha[interior] == 128).all()
    assert (alpha[outline] == 255).all()
    assert (alpha[outside] == 0).all()
    drawn = alpha > 0
    assert (pixels[..., :3][drawn] == (0xFF, 0x80, 0x00)).all()
