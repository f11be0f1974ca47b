"""value:compute and image:computePixels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from openee.algorithms.context import EvalContext, evaluation_context
from openee.api.deps import check_version, get_state, json_body, require_principal
from openee.api.state import AppState
from openee.compute.images import compute_images
from openee.compute.pixels import compute_pixels
from openee.compute.value import compute_value
from openee.errors import InvalidArgumentError
from openee.graph.evaluate import evaluate

router = APIRouter(dependencies=[Depends(require_principal)])

Body = Annotated[dict[str, Any], Depends(json_body)]
State = Annotated[AppState, Depends(get_state)]


def _evaluate(state: AppState, project: str, body: dict[str, Any]) -> Any:
    if "expression" not in body:
        raise InvalidArgumentError("The request has no 'expression'.")
    with evaluation_context(EvalContext(state.catalog, project)):
        return evaluate(body["expression"], state.registry)


@router.post("/{version}/projects/{project}/value:compute")
def value_compute(version: str, project: str, body: Body, state: State) -> dict[str, Any]:
    check_version(version)
    return {"result": compute_value(_evaluate(state, project, body))}


@router.post("/{version}/projects/{project}/image:computePixels")
def image_compute_pixels(version: str, project: str, body: Body, state: State) -> Response:
    check_version(version)
    image = _evaluate(state, project, body)
    settings = state.settings
    result = compute_pixels(image, body, state.executor, settings.limits, settings.chunk_size)
    return Response(result.content, media_type=result.media_type)


@router.post("/{version}/projects/{project}/imageCollection:computeImages")
def image_collection_compute_images(
    version: str, project: str, body: Body, state: State
) -> dict[str, Any]:
    check_version(version)
    return compute_images(_evaluate(state, project, body), body)
