"""The Google API discovery document for the Earth Engine REST API.

The stock `earthengine-api` client fetches `GET {base}/$discovery/rest?version=<v>` on every
`ee.Initialize` and hands the JSON to googleapiclient (`discovery.build(..., static_discovery=False)`),
then overwrites the resource's `_baseUrl`. So the document only has to be something googleapiclient
can build every resource and method from that the client calls:

* every method needs `id`, `httpMethod`, `path` and `parameters`; path parameters use reserved
  expansion (`{+name}`) so `/` and `:` in resource names are not escaped;
* `request` on every method that ee calls with `body=`;
* `response` on every method, or googleapiclient silently switches that method to raw bytes;
* a `nextPageToken` property in the response schema plus a `pageToken` query parameter, so that
  `listAssets_next` and `operations.list_next` are generated;
* global `prettyPrint` / `fields` parameters and the per-method `workloadTag` query parameter.

The document is generated from the compact `_METHODS` table below. Nothing here does I/O.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from openee.errors import NotFoundError, OpeneeError, UnimplementedError

__all__ = ["SUPPORTED_VERSIONS", "discovery_document", "documented_method_id", "unrouted"]

SUPPORTED_VERSIONS: tuple[str, ...] = ("v1", "v1beta", "v1alpha")

_SERVICE = "earthengine"


@dataclass(frozen=True)
class _Method:
    """One REST method. `resource` is dotted, relative to `projects` ("" is `projects` itself)."""

    resource: str
    name: str
    http_method: str
    path: str  # without the version prefix
    query: tuple[str, ...] = ()
    request: str | None = None  # request schema name; None means the method takes no body
    response: str = "Empty"


_LIST_ASSETS_QUERY = ("pageSize", "pageToken", "filter", "view")
_WORKLOAD = ("workloadTag",)

# fmt: off
_METHODS: tuple[_Method, ...] = (
    # projects
    _Method("", "listAssets", "GET", "{+parent}:listAssets", _LIST_ASSETS_QUERY, None, "ListAssetsResponse"),
    _Method("", "getConfig", "GET", "{+name}", (), None, "ProjectConfig"),
    _Method("", "updateConfig", "PATCH", "{+name}", ("updateMask",), "ProjectConfig", "ProjectConfig"),
    # projects.algorithms
    _Method("algorithms", "list", "GET", "{+parent}/algorithms", (), None, "ListAlgorithmsResponse"),
    # projects.assets
    _Method("assets", "get", "GET", "{+name}", (), None, "EarthEngineAsset"),
    _Method("assets", "delete", "DELETE", "{+name}", (), None, "Empty"),
    _Method("assets", "patch", "PATCH", "{+name}", (), "UpdateAssetRequest", "EarthEngineAsset"),
    _Method("assets", "create", "POST", "{+parent}/assets", ("assetId", "overwrite"), "EarthEngineAsset", "EarthEngineAsset"),
    _Method("assets", "copy", "POST", "{+sourceName}:copy", (), "CopyAssetRequest", "EarthEngineAsset"),
    _Method("assets", "move", "POST", "{+sourceName}:move", (), "MoveAssetRequest", "EarthEngineAsset"),
    _Method("assets", "listAssets", "GET", "{+parent}:listAssets", _LIST_ASSETS_QUERY, None, "ListAssetsResponse"),
    _Method("assets", "listFeatures", "GET", "{+asset}:listFeatures", ("pageSize", "pageToken", "region", "filter"), None, "ListFeaturesResponse"),
    _Method("assets", "getPixels", "POST", "{+name}:getPixels", (), "GetPixelsRequest", "HttpBody"),
    _Method("assets", "getIamPolicy", "POST", "{+resource}:getIamPolicy", (), "GetIamPolicyRequest", "Policy"),
    _Method("assets", "setIamPolicy", "POST", "{+resource}:setIamPolicy", (), "SetIamPolicyRequest", "Policy"),
    _Method("assets", "testIamPermissions", "POST", "{+resource}:testIamPermissions", (), "TestIamPermissionsRequest", "TestIamPermissionsResponse"),
    # projects.image / imageCollection / table / value
    _Method("image", "computePixels", "POST", "{+project}/image:computePixels", (), "ComputePixelsRequest", "HttpBody"),
    _Method("image", "export", "POST", "{+project}/image:export", (), "ExportImageRequest", "Operation"),
    _Method("image", "import", "POST", "{+project}/image:import", (), "ImportImageRequest", "Operation"),
    _Method("image", "importExternal", "POST", "{+project}/image:importExternal", (), "ImportExternalImageRequest", "ImportExternalImageResponse"),
    _Method("imageCollection", "computeImages", "POST", "{+project}/imageCollection:computeImages", (), "ComputeImagesRequest", "ComputeImagesResponse"),
    _Method("table", "computeFeatures", "POST", "{+project}/table:computeFeatures", (), "ComputeFeaturesRequest", "ComputeFeaturesResponse"),
    _Method("table", "export", "POST", "{+project}/table:export", (), "ExportTableRequest", "Operation"),
    _Method("table", "import", "POST", "{+project}/table:import", (), "ImportTableRequest", "Operation"),
    _Method("value", "compute", "POST", "{+project}/value:compute", (), "ComputeValueRequest", "ComputeValueResponse"),
    # other exports
    _Method("video", "export", "POST", "{+project}/video:export", (), "ExportVideoRequest", "Operation"),
    _Method("map", "export", "POST", "{+project}/map:export", (), "ExportMapRequest", "Operation"),
    _Method("classifier", "export", "POST", "{+project}/classifier:export", (), "ExportClassifierRequest", "Operation"),
    _Method("videoMap", "export", "POST", "{+project}/videoMap:export", (), "ExportVideoMapRequest", "Operation"),
    # maps, thumbnails, tables, feature views (workloadTag is a query parameter here)
    _Method("maps", "create", "POST", "{+parent}/maps", _WORKLOAD, "EarthEngineMap", "EarthEngineMap"),
    _Method("maps.tiles", "get", "GET", "{+parent}/tiles/{zoom}/{x}/{y}", (), None, "HttpBody"),
    _Method("thumbnails", "create", "POST", "{+parent}/thumbnails", _WORKLOAD, "Thumbnail", "Thumbnail"),
    _Method("thumbnails", "getPixels", "GET", "{+name}:getPixels", (), None, "HttpBody"),
    _Method("videoThumbnails", "create", "POST", "{+parent}/videoThumbnails", _WORKLOAD, "VideoThumbnail", "VideoThumbnail"),
    _Method("videoThumbnails", "getPixels", "GET", "{+name}:getPixels", (), None, "HttpBody"),
    _Method("filmstripThumbnails", "create", "POST", "{+parent}/filmstripThumbnails", _WORKLOAD, "FilmstripThumbnail", "FilmstripThumbnail"),
    _Method("filmstripThumbnails", "getPixels", "GET", "{+name}:getPixels", (), None, "HttpBody"),
    _Method("tables", "create", "POST", "{+parent}/tables", _WORKLOAD, "Table", "Table"),
    _Method("tables", "getFeatures", "GET", "{+name}:getFeatures", (), None, "HttpBody"),
    _Method("featureView", "create", "POST", "{+parent}/featureView", _WORKLOAD, "FeatureView", "FeatureView"),
    # projects.operations
    _Method("operations", "list", "GET", "{+name}/operations", ("filter", "pageSize", "pageToken"), None, "ListOperationsResponse"),
    _Method("operations", "get", "GET", "{+name}", (), None, "Operation"),
    _Method("operations", "delete", "DELETE", "{+name}", (), None, "Empty"),
    _Method("operations", "cancel", "POST", "{+name}:cancel", (), "CancelOperationRequest", "Empty"),
    _Method("operations", "wait", "POST", "{+name}:wait", (), "WaitOperationRequest", "Operation"),
)
# fmt: on

# Parameter types that are not plain strings (both path and query parameters).
_PARAM_TYPES: dict[str, dict[str, Any]] = {
    "pageSize": {"type": "integer", "format": "int32"},
    "zoom": {"type": "integer", "format": "int32"},
    "x": {"type": "integer", "format": "int32"},
    "y": {"type": "integer", "format": "int32"},
    "overwrite": {"type": "boolean"},
    # ee passes a list of paths; `repeated` sends `updateMask=a&updateMask=b` instead of str(list).
    "updateMask": {"type": "string", "format": "google-fieldmask", "repeated": True},
}

# fmt: off
# The standard global parameters of Google APIs (ee uses prettyPrint, fields, alt and key).
_GLOBAL_PARAMETERS: dict[str, dict[str, Any]] = {
    "$.xgafv": {"type": "string", "enum": ["1", "2"], "description": "V1 error format."},
    "access_token": {"type": "string", "description": "OAuth access token."},
    "alt": {"type": "string", "enum": ["json", "media", "proto"], "default": "json",
            "description": "Data format for response."},
    "callback": {"type": "string", "description": "JSONP"},
    "fields": {"type": "string",
               "description": "Selector specifying which fields to include in a partial response."},
    "key": {"type": "string", "description": "API key."},
    "oauth_token": {"type": "string", "description": "OAuth 2.0 token for the current user."},
    "prettyPrint": {"type": "boolean", "default": "true",
                    "description": "Returns response with indentations and line breaks."},
    "quotaUser": {"type": "string", "description": "Quota user."},
    "uploadType": {"type": "string", "description": "Legacy upload protocol for media."},
    "upload_protocol": {"type": "string", "description": "Upload protocol for media."},
}

_PAGED = {"nextPageToken": "string"}
_EXPORT = {"expression": "object", "description": "string", "requestId": "string",
           "maxPixels": "string", "workloadTag": "string", "priority": "integer"}

# Minimal object schemas: name -> {property: type}. "array:T" is an array of T.
_SCHEMAS: dict[str, dict[str, str]] = {
    "Empty": {},
    "HttpBody": {"contentType": "string", "data": "string", "extensions": "array:object"},
    "Operation": {"name": "string", "metadata": "object", "done": "boolean",
                  "error": "object", "response": "object"},
    "ListOperationsResponse": {"operations": "array:object", **_PAGED},
    "CancelOperationRequest": {},
    "WaitOperationRequest": {"timeout": "string"},
    "ListAlgorithmsResponse": {"algorithms": "array:object"},
    "EarthEngineAsset": {"type": "string", "name": "string", "id": "string",
                         "updateTime": "string", "properties": "object", "startTime": "string",
                         "endTime": "string", "geometry": "object", "bands": "array:object",
                         "sizeBytes": "string", "featureCount": "string", "title": "string",
                         "description": "string"},
    "ListAssetsResponse": {"assets": "array:object", **_PAGED},
    "ListFeaturesResponse": {"type": "string", "features": "array:object", **_PAGED},
    "UpdateAssetRequest": {"asset": "object", "updateMask": "object"},
    "CopyAssetRequest": {"destinationName": "string", "overwrite": "boolean"},
    "MoveAssetRequest": {"destinationName": "string"},
    "GetPixelsRequest": {"fileFormat": "string", "grid": "object", "region": "object",
                         "bandIds": "array:string", "visualizationOptions": "object",
                         "workloadTag": "string"},
    "GetIamPolicyRequest": {"options": "object"},
    "SetIamPolicyRequest": {"policy": "object", "updateMask": "string"},
    "Policy": {"version": "integer", "bindings": "array:object", "etag": "string"},
    "TestIamPermissionsRequest": {"permissions": "array:string"},
    "TestIamPermissionsResponse": {"permissions": "array:string"},
    "ProjectConfig": {"name": "string", "registration": "object", "maxConcurrentExports": "integer"},
    "ComputePixelsRequest": {"expression": "object", "fileFormat": "string", "grid": "object",
                             "bandIds": "array:string", "visualizationOptions": "object",
                             "workloadTag": "string"},
    "ComputeImagesRequest": {"expression": "object", "pageSize": "integer",
                             "pageToken": "string", "workloadTag": "string"},
    "ComputeImagesResponse": {"images": "array:object", **_PAGED},
    "ComputeFeaturesRequest": {"expression": "object", "pageSize": "integer",
                               "pageToken": "string", "workloadTag": "string"},
    "ComputeFeaturesResponse": {"type": "string", "features": "array:object", **_PAGED},
    "ComputeValueRequest": {"expression": "object", "workloadTag": "string"},
    "ComputeValueResponse": {"result": "any"},
    "ExportImageRequest": {**_EXPORT, "fileExportOptions": "object",
                           "assetExportOptions": "object", "grid": "object"},
    "ExportTableRequest": {**_EXPORT, "fileExportOptions": "object",
                           "assetExportOptions": "object", "selectors": "array:string"},
    "ExportVideoRequest": {**_EXPORT, "fileExportOptions": "object", "videoOptions": "object"},
    "ExportMapRequest": {**_EXPORT, "tileOptions": "object", "tileExportOptions": "object"},
    "ExportClassifierRequest": {**_EXPORT, "assetExportOptions": "object"},
    "ExportVideoMapRequest": {**_EXPORT, "videoOptions": "object", "tileOptions": "object",
                              "tileExportOptions": "object"},
    "ImportImageRequest": {"imageManifest": "object", "requestId": "string",
                           "overwrite": "boolean", "description": "string"},
    "ImportExternalImageRequest": {"imageManifest": "object", "overwrite": "boolean"},
    "ImportExternalImageResponse": {},
    "ImportTableRequest": {"tableManifest": "object", "requestId": "string",
                           "overwrite": "boolean", "description": "string"},
    "EarthEngineMap": {"name": "string", "expression": "object", "fileFormat": "string",
                       "bandIds": "array:string", "visualizationOptions": "object",
                       "grid": "object"},
    "Thumbnail": {"name": "string", "expression": "object", "fileFormat": "string",
                  "bandIds": "array:string", "visualizationOptions": "object", "grid": "object",
                  "filenamePrefix": "string"},
    "VideoThumbnail": {"name": "string", "expression": "object", "fileFormat": "string",
                       "videoOptions": "object", "grid": "object"},
    "FilmstripThumbnail": {"name": "string", "expression": "object", "fileFormat": "string",
                           "orientation": "string", "grid": "object"},
    "Table": {"name": "string", "expression": "object", "fileFormat": "string",
              "selectors": "array:string", "filename": "string"},
    "FeatureView": {"name": "string", "expression": "object", "mapName": "string",
                    "visualizationExpression": "object"},
}
# fmt: on

_PATH_PARAM = re.compile(r"\{\+?(\w+)\}")


def _param(name: str, location: str, required: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "string", **_PARAM_TYPES.get(name, {}), "location": location}
    if required:
        spec["required"] = True
    return spec


def _property(kind: str) -> dict[str, Any]:
    if kind.startswith("array:"):
        return {"type": "array", "items": {"type": kind.removeprefix("array:")}}
    return {"type": kind}


def _method(m: _Method, version: str) -> dict[str, Any]:
    path_params = _PATH_PARAM.findall(m.path)
    parameters = {p: _param(p, "path", True) for p in path_params}
    parameters.update({q: _param(q, "query", False) for q in m.query})
    desc: dict[str, Any] = {
        "id": _method_id(m),
        "httpMethod": m.http_method,
        "path": f"{version}/{m.path}",
        "flatPath": f"{version}/{m.path}",
        "parameters": parameters,
        "parameterOrder": path_params,
        "response": {"$ref": m.response},
    }
    if m.request is not None:
        desc["request"] = {"$ref": m.request}
    return desc


def _method_id(m: _Method) -> str:
    return f"{_SERVICE}." + ".".join(filter(None, ("projects", m.resource, m.name)))


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\+?\w+\})", template)
    regex = "".join(
        (".+" if p.startswith("{+") else "[^/]+") if p.startswith("{") else re.escape(p)
        for p in parts
    )
    return re.compile(regex)


# Templates that are one bare variable (`{+name}`) match any path: they say nothing about
# which method a path names, so only templates with a literal part are matched.
_PATTERNS = tuple(
    (m, _path_pattern(m.path)) for m in _METHODS if not re.fullmatch(r"\{\+?\w+\}", m.path)
)


def documented_method_id(http_method: str, path: str) -> str | None:
    """The id of the documented method that `http_method path` calls (`path` without its leading
    slash, starting with the version), or None when it names none."""
    version, _, rest = path.partition("/")
    if version not in SUPPORTED_VERSIONS:
        return None
    found = [m for m, p in _PATTERNS if m.http_method == http_method and p.fullmatch(rest)]
    # `{+name}:getPixels` is the template of three resources: the path's collection decides.
    found.sort(key=lambda m: f"/{m.resource.split('.')[-1]}/" not in f"/{rest}")
    return _method_id(found[0]) if found else None


def unrouted(http_method: str, path: str) -> OpeneeError:
    """The error for a request no handler serves: 501 naming the method when the discovery
    document lists it (the stock client builds and calls every listed method), else 404."""
    method_id = documented_method_id(http_method, path.lstrip("/"))
    if method_id is not None:
        return UnimplementedError(f"{method_id} is not implemented in openee yet.")
    return NotFoundError(f"Unknown method: {path.lstrip('/').partition('/')[2]}")


def _resources(version: str) -> dict[str, Any]:
    projects: dict[str, Any] = {}
    for m in _METHODS:
        node = projects
        for part in m.resource.split(".") if m.resource else ():
            node = node.setdefault("resources", {}).setdefault(part, {})
        node.setdefault("methods", {})[m.name] = _method(m, version)
    return {"projects": projects}


def _schemas() -> dict[str, Any]:
    return {
        name: {
            "id": name,
            "type": "object",
            "properties": {prop: _property(kind) for prop, kind in props.items()},
        }
        for name, props in _SCHEMAS.items()
    }


def discovery_document(version: str, root_url: str = "http://localhost/") -> dict[str, Any]:
    """Return a fresh discovery document for `version` (googleapiclient mutates what it is given).

    `root_url` only fills `rootUrl`/`baseUrl`: the ee client replaces the base URL anyway.
    Raises `NotFoundError` for a version other than v1, v1beta or v1alpha.
    """
    if version not in SUPPORTED_VERSIONS:
        raise NotFoundError(
            f"Discovery document for API '{_SERVICE}' version '{version}' not found; "
            f"supported versions: {', '.join(SUPPORTED_VERSIONS)}."
        )
    root = root_url.rstrip("/") + "/"
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"{_SERVICE}:{version}",
        "name": _SERVICE,
        "version": version,
        "revision": "0",
        "title": "Google Earth Engine API (openee)",
        "description": "Earth Engine REST API served by openee.",
        "protocol": "rest",
        "rootUrl": root,
        "servicePath": "",
        "baseUrl": root,
        "batchPath": "batch",
        "parameters": {
            k: {**copy.deepcopy(v), "location": "query"} for k, v in _GLOBAL_PARAMETERS.items()
        },
        "resources": _resources(version),
        "schemas": _schemas(),
    }
