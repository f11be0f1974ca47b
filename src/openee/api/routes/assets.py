"""Assets: get, and :listAssets (with :listImages as an alias)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from openee.algorithms.assets import image_from_record
from openee.api.deps import check_version, get_state, json_body, require_principal
from openee.api.state import AppState
from openee.catalog.model import IMAGE
from openee.catalog.names import name_from_id
from openee.catalog.resource import asset_resource
from openee.compute.pixels import compute_pixels
from openee.errors import AssetNotFoundError, InvalidArgumentError, NotFoundError

router = APIRouter(dependencies=[Depends(require_principal)])

State = Annotated[AppState, Depends(get_state)]
MAX_PAGE = 1000


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise InvalidArgumentError("Invalid pageToken.")
    return int(token)


def _list(
    state: AppState, parent: str, page_size: int | None, page_token: str | None
) -> dict[str, Any]:
    if not parent.endswith("/assets") and state.catalog.get(parent) is None:
        raise AssetNotFoundError(parent)
    size = min(page_size or MAX_PAGE, MAX_PAGE)
    if size < 1:
        raise InvalidArgumentError("pageSize must be positive.")
    offset = _page_offset(page_token)
    records = state.catalog.children(parent, offset, size + 1)
    out: dict[str, Any] = {"assets": [asset_resource(r) for r in records[:size]]}
    if len(records) > size:
        out["nextPageToken"] = str(offset + size)
    return out


@router.get("/{version}/projects/{path:path}")
def get_or_list(
    version: str,
    path: str,
    state: State,
    pageSize: Annotated[int | None, Query()] = None,
    pageToken: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """`projects/{p}/assets/...` is an asset; a trailing `:listAssets` lists its children."""
    check_version(version)
    target, _, method = path.partition(":")
    if method in ("listAssets", "listImages"):
        # `projects/{p}:listAssets` lists the project's root folder.
        parent = (
            f"projects/{target}/assets" if "/" not in target else name_from_id(f"projects/{target}")
        )
        listed = _list(state, parent, pageSize, pageToken)
        if method == "listImages":
            listed["images"] = listed.pop("assets")
        return listed
    if method or "/assets/" not in f"/{target}/":
        raise AssetNotFoundError(f"projects/{path}")
    name = name_from_id(f"projects/{target}")
    record = state.catalog.get(name)
    if record is None:
        raise AssetNotFoundError(name)
    return asset_resource(record)


@router.post("/{version}/projects/{path:path}")
def get_pixels(
    version: str, path: str, state: State, body: Annotated[dict[str, Any], Depends(json_body)]
) -> Response:
    """`projects/{p}/assets/{id}:getPixels`: raw pixels of a stored image."""
    check_version(version)
    target, _, method = path.partition(":")
    if method != "getPixels":
        raise NotFoundError(f"Unknown method: projects/{path}")
    name = name_from_id(f"projects/{target}")
    record = state.catalog.get(name)
    if record is None:
        raise AssetNotFoundError(name)
    if record.type != IMAGE:
        raise InvalidArgumentError(f"Asset '{record.id}' is not an image.")
    settings = state.settings
    image = image_from_record(record)
    result = compute_pixels(image, body, state.executor, settings.limits, settings.chunk_size)
    return Response(result.content, media_type=result.media_type)
