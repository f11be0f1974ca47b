"""Computed tables: `table:computeFeatures` pages through an evaluated FeatureCollection;
`POST {parent}/tables` (authenticated) makes a download id, and
`GET .../tables/{id}:getFeatures` (no authentication: the id is the credential, unguessable and
expiring, as thumbnails') encodes the collection as CSV, GeoJSON, KML, KMZ or a zipped Shapefile.

`fc.getDownloadURL(...)` and `ee.data.computeFeatures(...)` (which loops over pages with
`pageToken` in the body for PANDAS_DATAFRAME) land here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openee.api import capabilities
from openee.api.deps import Body, Caller, State, check_version
from openee.api.evaluation import evaluate_as
from openee.api.routes.paging import body_page, offset_token
from openee.auth.iam import Iam
from openee.encode.tables import table_format
from openee.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from openee.services.features import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    all_geojson,
    collection_features,
    features_page,
)

router = APIRouter()


@router.post("/{version}/projects/{project}/table:computeFeatures")
def compute_features(
    version: str, project: str, state: State, principal: Caller, body: Body
) -> dict[str, Any]:
    check_version(version)
    Iam(state.auth).authorize(principal, "compute", project)
    offset, size = body_page(body, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    value = evaluate_as(state, principal, project, body.get("expression"))
    features, more = features_page(value, offset, size)
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if more:
        out["nextPageToken"] = offset_token(offset + size)
    return out


def _selectors(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [s.strip() for s in value.split(",") if s.strip()]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise InvalidArgumentError("selectors must be a list of property names.")
    return value or None


def _filename(value: Any) -> str:
    if value is None or value == "":
        return "table"
    if (
        not isinstance(value, str)
        or len(value) > 100
        or not all(ch.isalnum() or ch in "._-" for ch in value)
    ):
        raise InvalidArgumentError(
            "filename may only hold letters, digits, '.', '_' and '-' (at most 100)."
        )
    return value


@router.post("/{version}/projects/{project}/tables")
def create_table(
    version: str, project: str, state: State, principal: Caller, body: Body
) -> dict[str, Any]:
    check_version(version)
    Iam(state.auth).authorize(principal, "compute", project)
    stored = {
        "expression": body.get("expression"),
        "fileFormat": table_format(body.get("fileFormat")).name,
        "selectors": _selectors(body.get("selectors")),
        "filename": _filename(body.get("filename")),
    }
    # Fail now, not on the unauthenticated fetch, for an expression that is not a table.
    collection_features(evaluate_as(state, principal, project, stored["expression"]))
    raw = state.capabilities.create("table", project, principal.email, principal.scopes, stored)
    return {"name": f"projects/{project}/tables/{raw}"}


@router.get("/{version}/projects/{project}/tables/{table_id}:getFeatures")
def get_features(
    version: str, project: str, table_id: str, request: Request, state: State
) -> Response:
    check_version(version)
    capabilities.check_api_key(state, request, project)
    capability = capabilities.resolve(state, "table", project, table_id)
    principal = capabilities.creator_principal(state, capability)
    try:
        Iam(state.auth).authorize(principal, "compute", project)
    except PermissionDeniedError:
        raise NotFoundError("Requested entity was not found.") from None
    stored = capability.request
    fmt = table_format(stored["fileFormat"])
    value = evaluate_as(state, principal, project, stored["expression"])
    name = str(stored["filename"])
    content = fmt.encode(all_geojson(value), stored["selectors"], name)
    headers = {
        "Content-Disposition": f'attachment; filename="{name}.{fmt.extension}"',
        "Cache-Control": "private, max-age=3600",
    }
    return Response(content, media_type=fmt.media_type, headers=headers)
