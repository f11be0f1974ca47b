"""value:compute and image:computePixels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openee.api.deps import Body, Caller, State, check_version
from openee.api.evaluation import evaluate_as
from openee.api.requests import pixels_request
from openee.api.routes.paging import body_page, offset_token
from openee.api.streaming import pixels_response
from openee.services.images import MAX_PAGE, images_page
from openee.services.pixels import stream_pixels
from openee.services.value import compute_value

router = APIRouter()


@router.post("/{version}/projects/{project}/value:compute")
def value_compute(
    version: str, project: str, body: Body, state: State, caller: Caller
) -> dict[str, Any]:
    check_version(version)
    return {"result": compute_value(evaluate_as(state, caller, project, body.get("expression")))}


@router.post("/{version}/projects/{project}/image:computePixels")
def image_compute_pixels(
    version: str, project: str, body: Body, state: State, caller: Caller, http: Request
) -> Response:
    check_version(version)
    image = evaluate_as(state, caller, project, body.get("expression"))
    settings = state.settings
    pixels = pixels_request(body)
    result = stream_pixels(image, pixels, state.executor, settings.limits, settings.chunk_size)
    return pixels_response(result, http, settings.response_compression)


@router.post("/{version}/projects/{project}/imageCollection:computeImages")
def image_collection_compute_images(
    version: str, project: str, body: Body, state: State, caller: Caller
) -> dict[str, Any]:
    check_version(version)
    offset, size = body_page(body, MAX_PAGE, MAX_PAGE)
    collection = evaluate_as(state, caller, project, body.get("expression"))
    images, more = images_page(collection, offset, size)
    out: dict[str, Any] = {"images": images}
    if more:
        out["nextPageToken"] = offset_token(offset + size)
    return out
