"""`Export.map.toCloudStorage` through the stock client: the tile pyramid's tiles per zoom
against the slippy-map tile formula, one tile decoded against the oracle (the band file warped
onto the tile's grid and stretched as Image.visualize defines), and the index.html page."""

from __future__ import annotations

import io
import math
import time
import uuid

import numpy as np
from affine import Affine
from oracle import Grid, load_items, visualize, warp_band
from PIL import Image as PILImage
from pyproj import Transformer

WEST, SOUTH, EAST, NORTH = 15.6, 45.5, 15.8, 45.62
HALF = math.pi * 6378137.0


def slippy(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 1 << zoom
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def test_map_export_writes_the_tile_pyramid_and_a_page(ee_api, server) -> None:
    item = next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)
    image = ee_api.Image(item.image_id).visualize(bands=["B4", "B3", "B2"], min=0, max=3000)
    path = f"maps/m_{uuid.uuid4().hex[:6]}"
    task = ee_api.batch.Export.map.toCloudStorage(
        image=image,
        description="map_export",
        bucket="maps-bucket",
        path=path,
        fileFormat="png",
        minZoom=8,
        maxZoom=10,
        region=ee_api.Geometry.Rectangle([WEST, SOUTH, EAST, NORTH], None, False),
        writePublicTiles=False,
    )
    task.start()
    deadline = time.monotonic() + 120
    while (status := task.status())["state"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status["state"] == "COMPLETED", status
    assert status["task_type"] == "EXPORT_TILES"
    root = server.data_dir / "buckets" / "maps-bucket" / path
    for zoom in (8, 9, 10):
        x0, y0 = slippy(WEST, NORTH, zoom)
        x1, y1 = slippy(EAST, SOUTH, zoom)
        expected = {(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)}
        got = {(int(p.parent.name), int(p.name)) for p in (root / str(zoom)).glob("*/*")}
        assert got == expected, zoom
    assert "leaflet" in (root / "index.html").read_text()

    # One tile at zoom 10, decoded: red = B4 stretched over [0, 3000], clear outside the region.
    x, y = slippy((WEST + EAST) / 2, (SOUTH + NORTH) / 2, 10)
    rgba = np.asarray(PILImage.open(io.BytesIO((root / "10" / str(x) / str(y)).read_bytes())))
    assert rgba.shape == (256, 256, 4)
    side = 2 * HALF / (1 << 10)
    grid = Grid(
        "EPSG:3857",
        Affine(side / 256, 0, -HALF + x * side, 0, -side / 256, HALF - y * side),
        256,
        256,
    )
    values = warp_band(item.band_path("B4"), grid)
    rows, cols = np.mgrid[0:256, 0:256] + 0.5
    xs, ys = grid.transform.c + cols * grid.transform.a, grid.transform.f + rows * grid.transform.e
    lon, lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(xs, ys)
    inside = (lon > WEST) & (lon < EAST) & (lat > SOUTH) & (lat < NORTH)
    shown = rgba[..., 3] == 255
    assert shown.any() and (~shown).any()
    assert not (shown & ~inside).any()
    assert not (shown & (values == 0)).any()
    np.testing.assert_array_equal(rgba[..., 0][shown], visualize(values, 0, 3000)[shown])
