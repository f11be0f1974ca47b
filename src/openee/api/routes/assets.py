"""The asset API: get, `:listAssets`, `:listImages` (with its time and region parameters),
`:listFeatures`, create, patch, delete, `:copy`, `:move`, and `:getPixels`.

Names are `projects/{p}/assets/...` plus the `earthengine-public` and `earthengine-legacy`
namespaces (`catalog/names.py`). Writes need a write scope (`earthengine` or `cloud-platform`);
every file an asset names is confined to the roots (`catalog/roots.py`), a violation being a 400.

Every write (create, patch, delete, copy, move) is recorded in the audit log, refused or not
(`api/audit.py`).

Delete: Earth Engine's `assets.delete` has no recursive flag, and deleting a folder or collection
that still holds assets fails; the stock client (`earthengine rm -r`) deletes the children first.
openee does the same (400 FAILED_PRECONDITION), and takes `?recursive=true` as an extension for
REST callers that want the whole subtree gone in one transaction. Deleting never touches files.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from openee.algorithms.assets import image_from_record
from openee.api.audit import Audit, project_of, raw_name, written
from openee.api.deps import (
    Body,
    Caller,
    State,
    authorize,
    check_version,
    require_principal,
    require_write,
)
from openee.api.discovery import unrouted
from openee.api.evaluation import file_access
from openee.api.fastjson import FastJSONResponse
from openee.api.requests import pixels_request
from openee.api.routes.tables import list_features
from openee.api.state import AppState
from openee.api.streaming import pixels_response
from openee.auth import Principal
from openee.catalog import service
from openee.catalog.manifests import (
    build_image,
    image_manifest_of_asset,
    parse_time,
    plan_image,
)
from openee.catalog.model import FOLDER, IMAGE, IMAGE_COLLECTION, TABLE, AssetRecord
from openee.catalog.names import LEGACY, name_from_id
from openee.catalog.resource import asset_resource
from openee.errors import AssetNotFoundError, InvalidArgumentError, NotFoundError
from openee.services.pixels import stream_pixels

router = APIRouter(dependencies=[Depends(require_principal)])


_METHOD = re.compile(r"^[A-Za-z]+$")
_CREATE_TYPES = {
    "FOLDER": FOLDER,
    "Folder": FOLDER,
    "IMAGE_COLLECTION": IMAGE_COLLECTION,
    "ImageCollection": IMAGE_COLLECTION,
    "IMAGE": IMAGE,
    "Image": IMAGE,
}


def _split(path: str) -> tuple[str, str]:
    """`a/b:method` -> (`a/b`, `method`); a colon inside the project (`example.com:p`) stays."""
    target, sep, method = path.rpartition(":")
    if not sep or not _METHOD.match(method):
        return path, ""
    return target, method


def _asset_name(target: str) -> str:
    """The canonical name of `projects/{target}`, which must be an asset (not a root)."""
    if "/assets/" not in f"{target}/" or target.endswith("/assets"):
        raise NotFoundError(f"Requested entity was not found: projects/{target}")
    return name_from_id(f"projects/{target}")


def _record(state: AppState, name: str) -> AssetRecord:
    record = state.catalog.get(name)
    if record is None:
        raise AssetNotFoundError(name)
    return record


def _resource(state: AppState, record: AssetRecord) -> dict[str, Any]:
    count = state.catalog.count_features(record.name) if record.type == TABLE else None
    return asset_resource(record, count)


# -- reads ----------------------------------------------------------------------------------


@router.get("/{version}/projects/{path:path}", response_model=None)
def get_or_list(
    version: str,
    path: str,
    state: State,
    principal: Caller,
    pageSize: Annotated[int | None, Query()] = None,
    pageToken: Annotated[str | None, Query()] = None,
    filter: Annotated[str | None, Query()] = None,
    region: Annotated[str | None, Query()] = None,
    view: Annotated[str | None, Query()] = None,
    startTime: Annotated[str | None, Query()] = None,
    endTime: Annotated[str | None, Query()] = None,
) -> dict[str, Any] | Response:
    """`projects/{p}/assets/...` is an asset; `:listAssets`/`:listImages` list a folder or
    collection (`projects/{p}:listAssets` the project's root), `:listFeatures` a table.
    `:listImages` also takes `startTime`, `endTime` and `region` (Earth Engine's
    projects.assets.listImages)."""
    check_version(version)
    target, method = _split(path)
    if method in ("listAssets", "listImages"):
        parent = (
            f"projects/{target}/assets" if "/" not in target else name_from_id(f"projects/{target}")
        )
        authorize(state, principal, "read", parent)
        if method == "listImages":
            page = service.list_images(
                state.catalog, parent, pageSize, pageToken, filter, startTime, endTime, region
            )
        else:
            page = service.list_assets(state.catalog, parent, pageSize, pageToken, filter)
        key = "images" if method == "listImages" else "assets"
        out: dict[str, Any] = {key: [asset_resource(r) for r in page.assets]}
        if page.next_page_token:
            out["nextPageToken"] = page.next_page_token
        # Already plain JSON: rendered directly, skipping FastAPI's jsonable_encoder, which
        # walks every coordinate of every footprint (100 ms for a page of 1,000 images).
        return FastJSONResponse(out)
    if method == "listFeatures":
        record = _readable(state, principal, _asset_name(target))
        if record.type != TABLE:
            raise InvalidArgumentError(f"Asset '{record.id}' is not a table.")
        return list_features(state.catalog, record.name, pageSize, pageToken, region, filter)
    if method:
        raise unrouted("GET", f"{version}/projects/{path}")
    return _resource(state, _readable(state, principal, _asset_name(target)))


def _readable(state: AppState, principal: Principal, name: str) -> AssetRecord:
    """The record, if the caller may read it; otherwise the same 404 as a missing asset."""
    authorize(state, principal, "read", name)
    return _record(state, name)


# -- create, copy, move, getPixels ------------------------------------------------------------


def _create(
    state: AppState,
    principal: Principal,
    parent: str,
    asset_id: str | None,
    overwrite: bool,
    body: dict[str, Any],
    entry: dict[str, Any],
) -> dict[str, Any]:
    if not asset_id:
        raise InvalidArgumentError("The request needs an 'assetId'.")
    name = name_from_id(f"{parent}/{asset_id.strip('/')}")
    written(entry, name)
    # Under `earthengine-legacy` an id may name another project (`projects/demo/assets/x`, as
    # the client writes ids of short project names); elsewhere it stays under the parent.
    if parent != f"projects/{LEGACY}/assets" and not name.startswith(f"{parent}/"):
        raise InvalidArgumentError(f"Asset id '{asset_id[:200]}' is not under '{parent}'.")
    authorize(state, principal, "create", name)
    kind = _CREATE_TYPES.get(str(body.get("type", "")))
    if kind is None:
        raise InvalidArgumentError(
            f"Cannot create an asset of type '{str(body.get('type'))[:50]}': use FOLDER,"
            " IMAGE_COLLECTION, or IMAGE (table:import makes tables)."
        )
    if kind == IMAGE:
        plan = plan_image(
            name, image_manifest_of_asset(body), state.roots, file_access(state, principal)
        )
        service.check_destination(state.catalog, name, overwrite)
        record = build_image(plan)
    else:
        properties = body.get("properties") or {}
        if not isinstance(properties, dict) or any(k.startswith("system:") for k in properties):
            raise InvalidArgumentError("'properties' must be an object without system: keys.")
        record = AssetRecord(
            name=name,
            type=kind,
            properties=dict(properties),
            start_time=parse_time(body.get("startTime"), "startTime"),
            end_time=parse_time(body.get("endTime"), "endTime"),
        )
    return _resource(state, service.create_asset(state.catalog, record, overwrite))


def _destination(body: dict[str, Any]) -> tuple[str, bool]:
    destination = body.get("destinationName")
    if not isinstance(destination, str) or not destination:
        raise InvalidArgumentError("The request needs a 'destinationName'.")
    overwrite = body.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise InvalidArgumentError("'overwrite' must be true or false.")
    return name_from_id(destination), overwrite


@router.post("/{version}/projects/{path:path}")
def post_asset(
    version: str,
    path: str,
    state: State,
    body: Body,
    principal: Caller,
    audit: Audit,
    http: Request,
    assetId: Annotated[str | None, Query()] = None,
    overwrite: Annotated[bool, Query()] = False,
) -> Any:
    """`{parent}/assets?assetId=` creates; `{name}:copy` and `{name}:move` copy and move;
    `{name}:getPixels` reads a stored image's pixels."""
    check_version(version)
    target, method = _split(path)
    if not method and target.endswith("/assets") and target.count("/") == 1:
        parent = f"projects/{target}"
        kind = str(body.get("type", ""))[:50]
        with audit.entry(
            "asset.create",
            project=project_of(parent),
            asset=raw_name(f"{parent}/{assetId or ''}"),
            type=kind,
        ) as entry:
            require_write(principal)
            return _create(state, principal, parent, assetId, overwrite, body, entry)
    if method in ("copy", "move"):
        raw_destination = body.get("destinationName")
        with audit.entry(
            f"asset.{method}",
            project=project_of(f"projects/{target}"),
            source=raw_name(f"projects/{target}"),
            destination=raw_name(raw_destination if isinstance(raw_destination, str) else None),
        ) as entry:
            require_write(principal)
            source = _asset_name(target)
            written(entry, source, "source")
            destination, replace = _destination(body)
            written(entry, destination, "destination")
            authorize(state, principal, "read" if method == "copy" else "delete", source)
            authorize(state, principal, "create", destination)
            if method == "copy":
                record = service.copy_asset(state.catalog, source, destination, replace)
            else:
                record = service.move_asset(state.catalog, source, destination, replace)
            return _resource(state, record)
    if method == "getPixels":
        record = _readable(state, principal, _asset_name(target))
        if record.type != IMAGE:
            raise InvalidArgumentError(f"Asset '{record.id}' is not an image.")
        settings = state.settings
        image = image_from_record(record)
        pixels = pixels_request(body)
        result = stream_pixels(image, pixels, state.executor, settings.limits, settings.chunk_size)
        return pixels_response(result, http, settings.response_compression)
    raise unrouted("POST", f"{version}/projects/{path}")


# -- patch, delete ----------------------------------------------------------------------------


def _update_mask(body: dict[str, Any]) -> list[str]:
    """`updateMask` as the client sends it (`{"paths": [...]}`) or as proto3 JSON writes a
    FieldMask (`"a,b"`)."""
    mask = body.get("updateMask")
    if mask is None:
        return []
    if isinstance(mask, dict):
        mask = mask.get("paths") or []
    if isinstance(mask, str):
        mask = [p for p in mask.split(",") if p]
    if not isinstance(mask, list) or not all(isinstance(p, str) for p in mask):
        raise InvalidArgumentError("'updateMask.paths' must be a list of field paths.")
    return [p.strip() for p in mask]


@router.patch("/{version}/projects/{path:path}")
def patch_asset(
    version: str, path: str, state: State, body: Body, principal: Caller, audit: Audit
) -> dict[str, Any]:
    """Body `{updateMask: {paths}, asset}`: change properties, startTime and endTime. An empty
    mask updates all of them, as in Earth Engine (a field absent from `asset` is cleared)."""
    check_version(version)
    target, method = _split(path)
    if method:
        raise unrouted("PATCH", f"{version}/projects/{path}")
    with audit.entry(
        "asset.update",
        project=project_of(f"projects/{target}"),
        asset=raw_name(f"projects/{target}"),
    ) as entry:
        require_write(principal)
        name = _asset_name(target)
        written(entry, name)
        return _patch(state, principal, name, body, entry)


def _patch(
    state: AppState, principal: Principal, name: str, body: dict[str, Any], entry: dict[str, Any]
) -> dict[str, Any]:
    authorize(state, principal, "update", name)
    asset = body.get("asset") or {}
    if not isinstance(asset, dict):
        raise InvalidArgumentError("'asset' must be an object.")
    paths = _update_mask(body) or ["properties", "start_time", "end_time"]
    entry["paths"] = [p[:100] for p in paths[:50]]
    if any(p in ("bands", "bands.id") or p.startswith("bands.") for p in paths):
        raise InvalidArgumentError("Renaming bands is not supported.")
    properties = asset.get("properties")
    if properties is not None and not isinstance(properties, dict):
        raise InvalidArgumentError("'asset.properties' must be an object.")
    start = parse_time(asset.get("startTime", asset.get("start_time")), "startTime")
    end = parse_time(asset.get("endTime", asset.get("end_time")), "endTime")
    record = service.patch_asset(state.catalog, name, properties, start, end, paths)
    return _resource(state, record)


@router.delete("/{version}/projects/{path:path}")
def delete_asset(
    version: str,
    path: str,
    state: State,
    principal: Caller,
    audit: Audit,
    recursive: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """Delete one asset; a folder or collection that holds assets only with `recursive=true`
    (an openee extension; the stock client deletes children first)."""
    check_version(version)
    target, method = _split(path)
    if method:
        raise unrouted("DELETE", f"{version}/projects/{path}")
    with audit.entry(
        "asset.delete",
        project=project_of(f"projects/{target}"),
        asset=raw_name(f"projects/{target}"),
        recursive=recursive,
    ) as entry:
        require_write(principal)
        name = _asset_name(target)
        written(entry, name)
        authorize(state, principal, "delete", name)
        # How many assets went: the one named, and with `recursive` everything under it.
        entry["deleted"] = service.delete_asset(state.catalog, name, recursive)
    return {}
