"""GET /{version}/projects/{project}/algorithms: every Earth Engine algorithm, with its signature
(the unserved ones described as such; calling them answers 501)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from openee.api.deps import check_version, get_state, require_principal
from openee.api.state import AppState

router = APIRouter(dependencies=[Depends(require_principal)])


@router.get("/{version}/projects/{project}/algorithms")
def list_algorithms(
    version: str, project: str, state: Annotated[AppState, Depends(get_state)]
) -> dict[str, Any]:
    check_version(version)
    return {"algorithms": state.registry.wire_listing()}
