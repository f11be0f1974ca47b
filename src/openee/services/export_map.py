"""Map exports (`Export.map.toCloudStorage`): a `{z}/{x}/{y}` Web Mercator tile pyramid of a
visualized image over its region, and an `index.html` that shows it (Leaflet, no API key).

The client sends `Image.clip(region)` as the expression (the clip's geometry is the region) and
`tileOptions {startZoom, endZoom | scale, skipEmpty, dimensions}`. Tiles are named as Earth
Engine names them, `<prefix>/<z>/<x>/<y>` without an extension; each tile is computed like a map
tile (`compute_pixels` on the tile's grid) and encoded as PNG, JPEG or, for AUTO_JPEG_PNG, JPEG
when every pixel is opaque.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import Transformer

from openee.engine.executors import ChunkExecutor
from openee.errors import InvalidArgumentError
from openee.raster.grid import MERCATOR_HALF_SIDE, web_mercator_tile_grid
from openee.raster.image import Image
from openee.services.export_image import Progress, Report
from openee.services.pixels import compute_pixels
from openee.services.requests import GridRequest, PixelsRequest
from openee.settings import Limits

MAX_ZOOM = 24
MAX_TILES = 100_000
FORMATS = {"AUTO_JPEG_PNG", "PNG", "JPEG"}


@dataclass(frozen=True)
class MapOptions:
    file_format: str = "AUTO_JPEG_PNG"
    start_zoom: int = 0
    end_zoom: int | None = None
    scale: float | None = None
    skip_empty: bool = False
    tile_size: int = 256


def _end_zoom(opts: MapOptions) -> int:
    """endZoom, or the zoom level whose pixels are first as fine as `scale` (at the equator)."""
    if opts.end_zoom is not None:
        return opts.end_zoom
    assert opts.scale is not None
    zoom = math.ceil(math.log2(2 * MERCATOR_HALF_SIDE / (opts.tile_size * opts.scale)))
    return max(opts.start_zoom, min(MAX_ZOOM, zoom))


def tiles_over(bounds: tuple[float, float, float, float], zoom: int) -> list[tuple[int, int]]:
    """The tiles at `zoom` that meet a lon/lat box, row-major."""
    west, south, east, north = bounds
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x0, y1 = to_mercator.transform(west, max(south, -85.05112878))
    x1, y0 = to_mercator.transform(east, min(north, 85.05112878))
    count = 1 << zoom
    side = 2 * MERCATOR_HALF_SIDE / count

    def index(value: float, origin: float, sign: int) -> float:
        return sign * (value - origin) / side

    c0 = max(0, math.floor(index(x0, -MERCATOR_HALF_SIDE, 1)))
    c1 = min(count - 1, math.ceil(index(x1, -MERCATOR_HALF_SIDE, 1)) - 1)
    r0 = max(0, math.floor(index(y0, MERCATOR_HALF_SIDE, -1)))
    r1 = min(count - 1, math.ceil(index(y1, MERCATOR_HALF_SIDE, -1)) - 1)
    return [(x, y) for y in range(r0, r1 + 1) for x in range(c0, max(c0, c1) + 1)]


def write_map_tiles(
    image: Image,
    opts: MapOptions,
    staging: Path,
    executor: ChunkExecutor,
    limits: Limits,
    chunk_size: int,
    check: Callable[[], None],
    report: Report,
) -> list[tuple[Path, str]]:
    """Every tile of the pyramid, then index.html: (staged path, suffix after the prefix)."""
    if image.footprint_geometry is None:
        raise InvalidArgumentError("A map export needs a region.")
    bounds = image.footprint_geometry.to_wgs84().shape.bounds
    zooms = range(opts.start_zoom, _end_zoom(opts) + 1)
    tiles = [(z, x, y) for z in zooms for x, y in tiles_over(bounds, z)]
    if len(tiles) > MAX_TILES:
        raise InvalidArgumentError(
            f"The map export would write {len(tiles)} tiles (max: {MAX_TILES}): lower maxZoom."
        )
    progress = Progress(0, len(tiles))
    report(progress)
    staging.mkdir(parents=True, exist_ok=True)
    out: list[tuple[Path, str]] = []
    for z, x, y in tiles:
        grid = GridRequest.of(web_mercator_tile_grid(z, x, y, opts.tile_size))
        request = PixelsRequest(file_format=opts.file_format, grid=grid)
        result = compute_pixels(image, request, executor, limits, chunk_size)
        if not (opts.skip_empty and _empty(result.body)):
            path = staging / f"{z}-{x}-{y}"
            path.write_bytes(result.body)
            out.append((path, f"/{z}/{x}/{y}"))
        progress.done += 1
        report(progress)
        check()
    page = staging / "index.html"
    page.write_text(index_html(bounds, opts.start_zoom, zooms[-1]))
    out.append((page, "/index.html"))
    return out


def _empty(content: memoryview) -> bool:
    """Whether an encoded tile is wholly transparent (a PNG whose alpha is 0 everywhere)."""
    import io

    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(bytes(content))) as tile:
        if tile.mode not in ("LA", "RGBA"):
            return False
        return not np.asarray(tile.getchannel("A")).any()


def index_html(bounds: tuple[float, float, float, float], min_zoom: int, max_zoom: int) -> str:
    west, south, east, north = bounds
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>openee map export</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="https://unpkg.com/leaflet@1.9.4/dist/leaflet.css">
<script src="https://unpkg.com/leaflet@1.9.4/dist/leaflet.js"></script>
<style>html, body, #map {{ height: 100%; margin: 0; }}</style></head>
<body><div id="map"></div><script>
var map = L.map('map');
L.tileLayer('https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png',
  {{attribution: '&copy; OpenStreetMap contributors', maxZoom: 19}}).addTo(map);
L.tileLayer('{{z}}/{{x}}/{{y}}', {{minZoom: {min_zoom}, maxNativeZoom: {max_zoom}, maxZoom: 22}}).addTo(map);
map.fitBounds([[{south}, {west}], [{north}, {east}]]);
</script></body></html>
"""
