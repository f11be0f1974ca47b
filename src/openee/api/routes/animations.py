"""Video and filmstrip thumbnails: `POST {parent}/videoThumbnails` and
`{parent}/filmstripThumbnails` (authenticated) make an id; `GET .../{id}:getPixels` (no
authentication: the id is the credential) draws it.

`ImageCollection.getVideoThumbURL` and `getFilmstripThumbURL` land here (api/animations.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openee.api import animations, capabilities
from openee.api.deps import Body, Caller, State, check_version

router = APIRouter()


@router.post("/{version}/projects/{project}/videoThumbnails")
def create_video_thumbnail(
    version: str, project: str, state: State, principal: Caller, body: Body
) -> dict[str, Any]:
    check_version(version)
    raw = animations.create(state, principal, project, body, "video")
    return {"name": f"projects/{project}/videoThumbnails/{raw}"}


@router.get("/{version}/projects/{project}/videoThumbnails/{thumbnail_id}:getPixels")
def get_video_thumbnail_pixels(
    version: str, project: str, thumbnail_id: str, request: Request, state: State
) -> Response:
    check_version(version)
    capabilities.check_api_key(state, request, project)
    capability = capabilities.resolve(state, "video", project, thumbnail_id)
    return animations.render(state, capability)


@router.post("/{version}/projects/{project}/filmstripThumbnails")
def create_filmstrip_thumbnail(
    version: str, project: str, state: State, principal: Caller, body: Body
) -> dict[str, Any]:
    check_version(version)
    raw = animations.create(state, principal, project, body, "filmstrip")
    return {"name": f"projects/{project}/filmstripThumbnails/{raw}"}


@router.get("/{version}/projects/{project}/filmstripThumbnails/{thumbnail_id}:getPixels")
def get_filmstrip_thumbnail_pixels(
    version: str, project: str, thumbnail_id: str, request: Request, state: State
) -> Response:
    check_version(version)
    capabilities.check_api_key(state, request, project)
    capability = capabilities.resolve(state, "filmstrip", project, thumbnail_id)
    return animations.render(state, capability)
