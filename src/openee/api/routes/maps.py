"""Maps: `POST {parent}/maps` (authenticated) makes a map id; `GET .../maps/{id}/tiles/{z}/{x}/{y}`
(no authentication: the id is the credential) draws a 256x256 tile of the Web Mercator
(EPSG:3857) tile pyramid that web maps use.

`image.getMapId` and `ee.data.getMapId` land here; the returned `url_format` and
`TileFetcher.fetch_tile` fetch the tiles.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from openee.api import capabilities
from openee.api.deps import Body, Caller, State, check_version
from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid, web_mercator_tile_grid

router = APIRouter()

TILE_SIZE = 256
MAX_ZOOM = 30


def tile_grid(zoom: int, x: int, y: int) -> PixelGrid:
    """The grid of tile (x, y) at a zoom level: EPSG:3857, 256x256, y from the top."""
    if not 0 <= zoom <= MAX_ZOOM:
        raise InvalidArgumentError(f"Zoom level must be between 0 and {MAX_ZOOM}.")
    count = 1 << zoom
    if not (0 <= x < count and 0 <= y < count):
        raise InvalidArgumentError(f"Tile ({x}, {y}) is outside zoom level {zoom}.")
    return web_mercator_tile_grid(zoom, x, y, TILE_SIZE)


@router.post("/{version}/projects/{project}/maps")
def create_map(
    version: str,
    project: str,
    state: State,
    principal: Caller,
    body: Body,
) -> dict[str, Any]:
    check_version(version)
    raw = capabilities.create(state, principal, project, body, "map")
    return {"name": f"projects/{project}/maps/{raw}"}


@router.get("/{version}/projects/{project}/maps/{map_id}/tiles/{zoom}/{x}/{y}")
async def get_tile(
    version: str,
    project: str,
    map_id: str,
    zoom: int,
    x: int,
    y: int,
    request: Request,
    state: State,
) -> Response:
    """A tile in the tile cache is answered here, on the event loop: after the access checks
    (a few SQLite look-ups, as for every tile) it is bytes, with no hand-off to a thread, no
    evaluation and no encoding. Any other tile is computed in the thread pool."""
    check_version(version)
    capabilities.check_api_key(state, request, project)
    capability = capabilities.resolve(state, "map", project, map_id)
    grid = tile_grid(zoom, x, y)
    # Tiles are PNG (transparent where masked) unless the map asked for JPEG.
    fmt = "JPEG" if capability.request.get("fileFormat") == "JPEG" else "PNG"
    key = (project, map_id, zoom, x, y, fmt)
    principal = capabilities.computing_principal(state, capability)
    hit = state.tiles.peek(key)
    if hit is not None:
        response = capabilities.tile_response(capability, hit)
    else:
        response = await run_in_threadpool(
            capabilities.render, state, capability, grid, fmt, key, principal
        )
    if request.headers.get("if-none-match") == response.headers["etag"]:
        return Response(status_code=304, headers={"ETag": response.headers["etag"]})
    return response
