"""The request JSON of the export methods (`image:export`, `table:export`, `map:export`,
`video:export`, `classifier:export`, `image:estimateExport`), checked once and turned into the
typed `ExportRequest` that `services/exports.py` runs (docs/decisions/0051).

Everything that can fail before an operation exists fails here: the description, priority and
requestId, the destination (a bucket, a Drive folder or an asset name, resolved by the
services' functions that know the server's bucket map and data dir) and each kind's options
(`api/export_options.py`). A restarted server resumes an export by parsing its stored body
here again (`api/routes/exports.resume_exports`).
"""

from __future__ import annotations

from typing import Any

from openee.api.export_options import (
    image_options,
    map_options,
    selectors_of,
    table_file_format,
    video_options,
)
from openee.errors import InvalidArgumentError, UnimplementedError
from openee.services.destinations import (
    FileDestination,
    bucket_destination,
    drive_destination,
    safe_relative,
)
from openee.services.exports import (
    EXPORT_CLASSIFIER,
    EXPORT_FEATURES,
    EXPORT_IMAGE,
    EXPORT_TILES,
    EXPORT_VIDEO,
    AssetDestination,
    Destination,
    ExportRequest,
    ExportServices,
    asset_destination,
)

DEFAULT_DESCRIPTION = {
    EXPORT_IMAGE: "myExportImageTask",
    EXPORT_FEATURES: "myExportTableTask",
    EXPORT_TILES: "myExportMapTask",
    EXPORT_VIDEO: "myExportVideoTask",
    EXPORT_CLASSIFIER: "myExportClassifierTask",
}
DEFAULT_PRIORITY = 100


def request_id(body: dict[str, Any]) -> str | None:
    """The client's `requestId` (the stock client sends one with every start and retry)."""
    value = body.get("requestId")
    if value is not None and (not isinstance(value, str) or len(value) > 200):
        raise InvalidArgumentError("'requestId' must be a string of at most 200 characters.")
    return value or None


def _description(body: dict[str, Any], default: str) -> str:
    value = body.get("description") or default
    if not isinstance(value, str) or len(value) > 100:
        raise InvalidArgumentError("description must be a string of at most 100 characters.")
    return value


def _priority(body: dict[str, Any]) -> int:
    raw = body.get("priority")
    value = raw.get("value") if isinstance(raw, dict) else raw
    if value is None:
        return DEFAULT_PRIORITY
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 9999:
        raise InvalidArgumentError("priority must be an integer from 0 to 9999.")
    return value


def _file_destination(
    ctx: ExportServices, options: dict[str, Any], principal: str, description: str
) -> FileDestination:
    """A `cloudStorageDestination` (or its old name `gcsDestination`) or a `driveDestination`."""
    gcs = options.get("cloudStorageDestination") or options.get("gcsDestination")
    drive = options.get("driveDestination")
    if isinstance(gcs, dict):
        prefix = safe_relative(str(gcs.get("filenamePrefix") or description), "filenamePrefix")
        bucket = gcs.get("bucket")
        if not isinstance(bucket, str):
            raise InvalidArgumentError(f"Invalid bucket name: '{str(bucket)[:100]}'.")
        return bucket_destination(ctx.data_dir, ctx.buckets, bucket, prefix)
    if isinstance(drive, dict):
        prefix = safe_relative(str(drive.get("filenamePrefix") or description), "filenamePrefix")
        if "/" in prefix:
            raise InvalidArgumentError("A Drive filenamePrefix cannot hold '/'; use folder.")
        folder = drive.get("folder")
        if folder is not None and not isinstance(folder, str):
            raise InvalidArgumentError("driveDestination.folder must be a string.")
        return drive_destination(ctx.data_dir, principal, folder, prefix, ctx.base_url)
    raise InvalidArgumentError(
        "fileExportOptions needs a cloudStorageDestination or a driveDestination."
    )


def _asset_destination(ctx: ExportServices, options: Any) -> AssetDestination:
    dest = options.get("earthEngineDestination") if isinstance(options, dict) else None
    if not isinstance(dest, dict) or not isinstance(dest.get("name"), str) or not dest["name"]:
        raise InvalidArgumentError("assetExportOptions.earthEngineDestination.name is required.")
    return asset_destination(ctx, dest["name"], bool(dest.get("overwrite", False)))


def export_request(
    ctx: ExportServices, type: str, body: dict[str, Any], principal: str
) -> ExportRequest:
    """Checks an export request of kind `type` (EXPORT_IMAGE, ...): everything that can fail
    before the operation starts."""
    if body.get("expression") is None:
        raise InvalidArgumentError("The request has no 'expression'.")
    description = _description(body, DEFAULT_DESCRIPTION[type])
    files = body.get("fileExportOptions")
    assets = body.get("assetExportOptions")
    for unsupported in ("bigqueryExportOptions", "featureViewExportOptions"):
        if body.get(unsupported):
            raise UnimplementedError(f"Table export with {unsupported} is not implemented.")
    common = {
        "type": type,
        "description": description,
        "priority": _priority(body),
        "request_id": request_id(body),
        "expression": body["expression"],
    }
    if type == EXPORT_CLASSIFIER:
        return ExportRequest(**common, destination=_asset_destination(ctx, assets))
    if type == EXPORT_TILES:
        tiles = body.get("tileExportOptions")
        if not isinstance(tiles, dict) or not isinstance(
            tiles.get("cloudStorageDestination"), dict
        ):
            raise InvalidArgumentError("tileExportOptions.cloudStorageDestination is required.")
        return ExportRequest(
            **common,
            destination=_file_destination(ctx, tiles, principal, description),
            map=map_options(body),
        )
    if type == EXPORT_VIDEO:
        if not isinstance(files, dict):
            raise InvalidArgumentError("A video export needs fileExportOptions.")
        return ExportRequest(
            **common,
            destination=_file_destination(ctx, files, principal, description),
            video=video_options(body),
        )
    if type == EXPORT_IMAGE:
        opts = image_options(body)
        if isinstance(files, dict):
            dest: Destination = _file_destination(ctx, files, principal, description)
        else:
            dest = _asset_destination(ctx, assets)
        return ExportRequest(**common, destination=dest, image=opts)
    if isinstance(files, dict):
        return ExportRequest(
            **common,
            destination=_file_destination(ctx, files, principal, description),
            table_format=table_file_format(files.get("fileFormat")),
            selectors=selectors_of(body),
        )
    if isinstance(assets, dict):
        return ExportRequest(
            **common,
            destination=_asset_destination(ctx, assets),
            table_format="GEO_JSON",
            selectors=selectors_of(body),
        )
    raise InvalidArgumentError("The request needs fileExportOptions or assetExportOptions.")
