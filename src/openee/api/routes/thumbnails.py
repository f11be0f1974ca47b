"""Thumbnails and downloads: `POST {parent}/thumbnails` (authenticated) makes an id;
`GET .../thumbnails/{id}:getPixels` (no authentication: the id is the credential) draws it.

`image.getThumbURL`, `image.getDownloadURL` and `ee.data.getThumbId/getDownloadId` all land here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openee.api import capabilities
from openee.api.deps import Body, Caller, State, check_version
from openee.api.streaming import encoded_response

router = APIRouter()


@router.post("/{version}/projects/{project}/thumbnails")
def create_thumbnail(
    version: str,
    project: str,
    state: State,
    principal: Caller,
    body: Body,
) -> dict[str, Any]:
    check_version(version)
    raw = capabilities.create(state, principal, project, body, "thumbnail")
    return {"name": f"projects/{project}/thumbnails/{raw}"}


@router.get("/{version}/projects/{project}/thumbnails/{thumbnail_id}:getPixels")
def get_thumbnail_pixels(
    version: str, project: str, thumbnail_id: str, request: Request, state: State
) -> Response:
    check_version(version)
    capabilities.check_api_key(state, request, project)
    capability = capabilities.resolve(state, "thumbnail", project, thumbnail_id)
    response = capabilities.render(state, capability)
    return encoded_response(response, request, state.settings.response_compression)
