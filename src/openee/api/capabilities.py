"""What the thumbnail and map routes share: checking a request when its id is created, and
replaying it, without authentication, when the id is fetched.

Creating an id is an authenticated compute call: the expression is evaluated (lazily, no pixels)
as the caller so that a bad expression fails at once, the caller must be allowed to compute in
the project, and the request is stored with the grid a thumbnail will be drawn on. Fetching an
id evaluates the stored expression again as its creator, with the creator's current access: an
id stops working when the creator's account is disabled or deleted or loses access to an asset.
Every way an id can fail to resolve (unknown, expired, other kind, other project, creator gone)
answers the same 404.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import replace
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from openee.algorithms.image_visualize import (
    bounds_grid,
    default_projection,
    has_bounds_grid,
    image_bounds,
)
from openee.api.deps import api_key_principal, client_address
from openee.api.evaluation import evaluate_as
from openee.api.requests import grid_request, pixels_request
from openee.api.state import AppState
from openee.auth import Principal, anonymous_principal
from openee.auth.apikeys import ApiKeyStore
from openee.auth.capabilities import Capability, Kind
from openee.auth.iam import Iam
from openee.catalog.names import LEGACY
from openee.encode.formats import Content
from openee.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from openee.raster.grid import PixelGrid, affine_to_wire
from openee.raster.image import Image
from openee.services.pixels import check_request_limits, compute_pixels, default_grid
from openee.services.requests import GridRequest
from openee.services.result_cache import Encoded
from openee.values.geometry import WGS84

VISUAL_FORMATS = frozenset({"PNG", "JPEG", "AUTO_JPEG_PNG"})
# A thumbnail without a region or dimensions is at most this many pixels on its longer side.
DEFAULT_THUMBNAIL_MAX_DIMENSION = 512
WORLD = (-180.0, -90.0, 180.0, 90.0)
_NOT_FOUND_MESSAGE = "Requested entity was not found."
_API_KEY_PREFIX = "apikey:"


def evaluate_image(state: AppState, principal: Principal, project: str, expression: Any) -> Image:
    """Evaluates an Image expression as `principal`: private assets look missing."""
    value = evaluate_as(state, principal, project, expression)
    if not isinstance(value, Image):
        raise InvalidArgumentError(f"Expected an Image expression, got {type(value).__name__}.")
    return value


def _wire_grid(crs: str, transform: tuple[float, ...], width: int, height: int) -> dict[str, Any]:
    return {
        "crsCode": crs,
        "affineTransform": affine_to_wire(transform),
        "dimensions": {"width": width, "height": height},
    }


def default_thumbnail_grid(image: Image, visual: bool) -> dict[str, Any] | None:
    """The grid of a thumbnail or download request that gives none.

    A grid set by Image.clipToBoundsAndScale is the image's own (None here). Otherwise a visual
    thumbnail covers the image's bounds (its clip geometry or footprint) in its default
    projection at most 512 pixels wide or high; a data download keeps the native grid, cropped
    to those bounds.
    """
    if has_bounds_grid(image):
        return None
    projection = default_projection(image)
    try:
        bounds = image_bounds(image, None, projection.crs)
    except InvalidArgumentError:
        if not visual or projection.crs != WGS84:
            return None  # resolve_grid asks for an explicit grid
        bounds = WORLD  # an unbounded image (a constant, a composite): the whole world
    if visual:
        transform, w, h = bounds_grid(
            bounds, projection, None, None, DEFAULT_THUMBNAIL_MAX_DIMENSION, None
        )
        return _wire_grid(projection.crs, transform, w, h)
    native = default_grid(image)
    if native is None:
        return None
    crs, affine, (nw, nh) = native
    gx0, gy0, gx1, gy1 = PixelGrid(crs, affine, nw, nh).bounds()
    box = (max(bounds[0], gx0), max(bounds[1], gy0), min(bounds[2], gx1), min(bounds[3], gy1))
    if box[0] >= box[2] or box[1] >= box[3]:
        return None
    transform, w, h = bounds_grid(box, projection, None, None, None, None)
    return _wire_grid(crs, transform, w, h)


def prepare_request(
    state: AppState, principal: Principal, project: str, body: dict[str, Any], kind: Kind
) -> dict[str, Any]:
    """Checks a thumbnail or map request and returns what to store for it."""
    if "expression" not in body:
        raise InvalidArgumentError("The request has no 'expression'.")
    # Thumbnails have no region: the client turns one into the grid (clipToBoundsAndScale).
    request = replace(pixels_request(body), region=None)
    file_format = request.file_format
    vis = body.get("visualizationOptions")
    image = evaluate_image(state, principal, project, body["expression"])
    selected = image.select(list(request.band_ids)) if request.band_ids else image
    if not selected.bands:
        raise InvalidArgumentError("The image has no bands to compute.")
    visual = file_format in VISUAL_FORMATS or kind == "map"
    if visual and len(selected.bands) not in (1, 3):
        raise InvalidArgumentError(
            f"Expected 1 or 3 bands for a visualized image, got {len(selected.bands)}; use "
            "bands (or bandIds) and min/max, or visualize the image first."
        )
    stored: dict[str, Any] = {
        "expression": body["expression"],
        "fileFormat": file_format,
        "bandIds": list(request.band_ids),
    }
    if vis:
        stored["visualizationOptions"] = vis
    if kind == "map":
        return stored
    prefix = body.get("filenamePrefix")
    if prefix is not None and (not isinstance(prefix, str) or not _safe_prefix(prefix)):
        raise InvalidArgumentError(
            "filenamePrefix may only hold letters, digits, '.', '_' and '-' (at most 100)."
        )
    grid = body.get("grid") if request.grid is not None else None
    if grid is None:
        grid = default_thumbnail_grid(selected, visual)
        request = replace(request, grid=grid_request(grid))
    # Fail now, not on the unauthenticated fetch, for a grid that is missing or too large.
    check_request_limits(selected, request, state.settings.limits)
    if grid is not None:
        stored["grid"] = grid
    if prefix:
        stored["filenamePrefix"] = prefix
    return stored


def _safe_prefix(prefix: str) -> bool:
    return 0 < len(prefix) <= 100 and all(ch.isalnum() or ch in "._-" for ch in prefix)


def create(
    state: AppState, principal: Principal, project: str, body: dict[str, Any], kind: Kind
) -> str:
    """Authorizes and stores a request; returns the new id."""
    Iam(state.auth).authorize(principal, "compute", project)
    stored = prepare_request(state, principal, project, body, kind)
    creator = principal.email
    return state.capabilities.create(kind, project, creator, principal.scopes, stored)


def check_api_key(state: AppState, request: Request, project: str) -> None:
    """Checks `?key=` when a capability URL carries one: 400 for a bad key, as Google."""
    raw = request.query_params.get("key")
    if raw is None or not state.settings.auth_enabled:
        return
    key_principal = api_key_principal(state, raw, client_address(request))
    if key_principal.project != project and project != LEGACY:
        raise PermissionDeniedError(f"The API key is not valid for project {project}.")


def resolve(state: AppState, kind: Kind, project: str, raw_id: str) -> Capability:
    capability = state.capabilities.resolve(kind, project, raw_id)
    if capability is None:
        raise NotFoundError(_NOT_FOUND_MESSAGE)
    return capability


def creator_principal(state: AppState, capability: Capability) -> Principal:
    """The principal a capability computes as, if it may still."""
    creator = capability.creator
    if creator == "anonymous":
        if state.settings.auth_enabled:
            raise NotFoundError(_NOT_FOUND_MESSAGE)
        return anonymous_principal(capability.project)
    if creator.startswith(_API_KEY_PREFIX):
        key_id = creator[len(_API_KEY_PREFIX) :]
        key = ApiKeyStore(state.auth).get(key_id)
        if key is None or key.revoked:
            raise NotFoundError(_NOT_FOUND_MESSAGE)
        return Principal(creator, key.project, capability.scopes, via_api_key=True)
    account = state.auth.get_account(creator)
    if account is None or account.disabled:
        raise NotFoundError(_NOT_FOUND_MESSAGE)
    return Principal(creator, account.project, capability.scopes)


def render(
    state: AppState,
    capability: Capability,
    grid: PixelGrid | None = None,
    file_format: str | None = None,
    cache_key: tuple[Any, ...] | None = None,
    principal: Principal | None = None,
) -> Response:
    """Computes a capability's stored request and encodes it; map tiles give their `grid`,
    `file_format` and a `cache_key` whose first two items name the map (the creator's account
    and project access are checked on every request; a map's evaluated expression is reused for
    a few seconds, and the pixels and their encoding come from the tile cache). `principal`:
    the computing principal, when the caller has just checked it."""
    if principal is None:
        principal = computing_principal(state, capability)
    stored = capability.request

    def evaluated() -> Image:
        return evaluate_image(state, principal, capability.project, stored["expression"])

    # Tiles reuse their map's evaluation for a few seconds (ADR 0037); the account and project
    # checks above still run on every request.
    image = (
        evaluated()
        if cache_key is None
        else state.tile_images.get_or_compute(cache_key[:2], evaluated)
    )
    request = pixels_request(stored)
    if grid is not None:
        request = replace(request, grid=GridRequest.of(grid))
    if file_format is not None:
        request = replace(request, file_format=file_format)
    settings = state.settings

    def encoded() -> Encoded:
        result = compute_pixels(
            image, request, state.executor, settings.limits, settings.chunk_size
        )
        prefix = stored.get("filenamePrefix")
        if prefix and result.media_type == "application/zip":
            return Encoded(_renamed_zip(result.content, prefix), result.media_type)
        return Encoded(result.body, result.media_type)

    if cache_key is not None:
        return tile_response(capability, state.tiles.get_or_compute(cache_key, encoded))
    found = encoded()
    response = capability_response(capability, found.content, found.media_type)
    prefix = stored.get("filenamePrefix")
    if prefix and found.media_type == "application/zip":
        response.headers["Content-Disposition"] = f'attachment; filename="{prefix}.zip"'
    return response


def computing_principal(state: AppState, capability: Capability) -> Principal:
    """The principal a capability computes as: its creator, if still allowed to compute."""
    principal = creator_principal(state, capability)
    try:
        Iam(state.auth).authorize(principal, "compute", capability.project)
    except PermissionDeniedError:
        raise NotFoundError(_NOT_FOUND_MESSAGE) from None
    return principal


def tile_response(capability: Capability, tile: Encoded) -> Response:
    """A map tile, with its validator: small, asked again and again."""
    response = capability_response(capability, tile.content, tile.media_type)
    response.headers["ETag"] = tile.etag
    return response


def capability_response(
    capability: Capability, content: bytes | memoryview, media_type: str
) -> Response:
    """A drawn capability, cacheable privately until the id expires (an hour at most)."""
    max_age = max(0, min(3600, int(capability.expires_at - time.time())))
    headers = {"Cache-Control": f"private, max-age={max_age}"}
    return Response(content, media_type=media_type, headers=headers)


def _renamed_zip(content: Content, prefix: str) -> bytes:
    """The zip with its `download.*` entries named `{prefix}.*`, as Earth Engine names them."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            name = info.filename
            if name.startswith("download."):
                name = prefix + name[len("download") :]
            target.writestr(name, source.read(info))
    return out.getvalue()
