"""Batch exports as long-running operations: `image:export`, `table:export`, `map:export`,
`video:export`, `classifier:export`.

A request is checked at once (options, destination, asset name): a bad one is a 400 before any
operation exists. The operation then runs on the operation runner's threads: the expression is
evaluated as its caller, the outputs are computed into the operation's staging folder (image
chunks on the server's chunk executor: threads, or Dask tasks), and published only when all are
complete (`destinations.py`); a cancel or an error publishes nothing (docs/decisions/0029).

The metadata carries Earth Engine's OperationMetadata fields (priority, progress, stages with
work units, destinationUris, batchEecuUsageSeconds as the CPU seconds of the chunk tasks) and,
beyond Earth Engine, the export's size before it runs (`estimate`). A finished export writes a
receipt next to its outputs (`<prefix>.receipt.json`, also the operation's response): the
expression's hash, the assets it loaded with their update times, the source files read,
openee's version and every output's SHA-256.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openee.catalog import service
from openee.catalog.manifests import build_image, build_table, plan_image, plan_table
from openee.catalog.model import CLASSIFIER, AssetRecord
from openee.catalog.names import name_from_id
from openee.catalog.roots import Roots
from openee.catalog.store import CatalogStore
from openee.engine.executors import ChunkExecutor
from openee.errors import InvalidArgumentError, OpeneeError, UnimplementedError
from openee.raster.image import Image
from openee.services import export_receipt
from openee.services.destinations import (
    FileDestination,
    bucket_destination,
    drive_destination,
    safe_relative,
    staging_dir,
)
from openee.services.export_image import (
    ImageOptions,
    Progress,
    estimate,
    image_options,
    write_image_files,
)
from openee.services.export_map import MapOptions, map_options, write_map_tiles
from openee.services.export_table import selectors_of, table_file_format, write_table_files
from openee.services.export_tfrecord import estimate_tfrecord, write_tfrecord_files
from openee.services.export_video import VideoOptions, video_options, write_video
from openee.services.operations import (
    PENDING,
    RUNNING,
    SUCCEEDED,
    Job,
    LeaseLost,
    Operation,
    OperationRunner,
    OperationStore,
)
from openee.services.publish import JOURNAL
from openee.settings import Limits
from openee.values.classifier import Classifier
from openee.values.classifier_document import dumps, to_document

EXPORT_IMAGE, EXPORT_FEATURES = "EXPORT_IMAGE", "EXPORT_FEATURES"
EXPORT_TILES, EXPORT_VIDEO = "EXPORT_TILES", "EXPORT_VIDEO"
EXPORT_CLASSIFIER = "EXPORT_CLASSIFIER"
_DEFAULT_DESCRIPTION = {
    EXPORT_IMAGE: "myExportImageTask",
    EXPORT_FEATURES: "myExportTableTask",
    EXPORT_TILES: "myExportMapTask",
    EXPORT_VIDEO: "myExportVideoTask",
    EXPORT_CLASSIFIER: "myExportClassifierTask",
}
# Under the data dir: the COGs, GeoJSON and classifier documents of exports to assets.
ASSET_FILES = "exports"
DEFAULT_PRIORITY = 100
RECEIPT_SUFFIX = ".receipt.json"
REQUEST_FILE = "request.json"  # in the staging folder: what a restarted server resumes
_PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True)
class ExportServices:
    """What an export needs from the server."""

    data_dir: Path
    buckets: tuple[tuple[str, str], ...]
    executor: ChunkExecutor
    chunk_size: int
    operations: OperationStore
    runner: OperationRunner
    catalog: CatalogStore
    roots: Roots
    limits: Limits
    # Chunks submitted ahead of the one being written: enough to keep every worker busy.
    in_flight: int = 4
    # The server's base URL: Drive exports are named by download links under it (none: file
    # URIs).
    base_url: str | None = None


@dataclass(frozen=True)
class AssetDestination:
    name: str
    overwrite: bool


Destination = FileDestination | AssetDestination


@dataclass(frozen=True)
class ExportRequest:
    """An ExportImageRequest, ExportTableRequest, ExportMapRequest, ExportVideoRequest or
    ExportClassifierRequest, checked."""

    type: str
    description: str
    priority: int
    request_id: str | None
    destination: Destination
    expression: Any
    image: ImageOptions | None = None
    table_format: str | None = None
    selectors: list[str] | None = None
    map: MapOptions | None = None
    video: VideoOptions | None = None


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


def _request_id(body: dict[str, Any]) -> str | None:
    value = body.get("requestId")
    if value is not None and (not isinstance(value, str) or len(value) > 200):
        raise InvalidArgumentError("'requestId' must be a string of at most 200 characters.")
    return value or None


def _file_destination(
    ctx: ExportServices, options: dict[str, Any], principal: str, description: str
) -> FileDestination:
    gcs = options.get("cloudStorageDestination") or options.get("gcsDestination")
    drive = options.get("driveDestination")
    if isinstance(gcs, dict):
        prefix = safe_relative(str(gcs.get("filenamePrefix") or description), "filenamePrefix")
        return bucket_destination(ctx.data_dir, ctx.buckets, gcs.get("bucket"), prefix)
    if isinstance(drive, dict):
        prefix = safe_relative(str(drive.get("filenamePrefix") or description), "filenamePrefix")
        if "/" in prefix:
            raise InvalidArgumentError("A Drive filenamePrefix cannot hold '/'; use folder.")
        return drive_destination(ctx.data_dir, principal, drive.get("folder"), prefix, ctx.base_url)
    raise InvalidArgumentError(
        "fileExportOptions needs a cloudStorageDestination or a driveDestination."
    )


def _asset_destination(ctx: ExportServices, options: Any) -> AssetDestination:
    dest = options.get("earthEngineDestination") if isinstance(options, dict) else None
    if not isinstance(dest, dict) or not isinstance(dest.get("name"), str) or not dest["name"]:
        raise InvalidArgumentError("assetExportOptions.earthEngineDestination.name is required.")
    name = name_from_id(dest["name"])
    overwrite = bool(dest.get("overwrite", False))
    service.check_destination(ctx.catalog, name, overwrite)
    return AssetDestination(name, overwrite)


def parse_request(
    ctx: ExportServices, type: str, body: dict[str, Any], principal: str
) -> ExportRequest:
    """Checks an export request: everything that can fail before the operation starts."""
    if body.get("expression") is None:
        raise InvalidArgumentError("The request has no 'expression'.")
    description = _description(body, _DEFAULT_DESCRIPTION[type])
    files = body.get("fileExportOptions")
    assets = body.get("assetExportOptions")
    for unsupported in ("bigqueryExportOptions", "featureViewExportOptions"):
        if body.get(unsupported):
            raise UnimplementedError(f"Table export with {unsupported} is not implemented.")
    common = {
        "type": type,
        "description": description,
        "priority": _priority(body),
        "request_id": _request_id(body),
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


def _destination_uris(req: ExportRequest) -> list[str]:
    if isinstance(req.destination, AssetDestination):
        return [req.destination.name]
    return [req.destination.uri("")]


def start(
    ctx: ExportServices,
    project: str,
    principal: str,
    req: ExportRequest,
    evaluate: Callable[[], object],
    record: dict[str, Any],
) -> Operation:
    """Creates the operation (or returns the one `requestId` made) and queues its work.

    `record` (the request's body and caller) is kept in the operation's staging folder, from
    which a restarted server resumes the export (`resume`).
    """
    op, created = ctx.operations.create(
        project,
        req.type,
        req.description,
        principal,
        req.request_id,
        extra={"priority": req.priority, "destinationUris": _destination_uris(req)},
    )
    if created:
        staging = staging_dir(ctx.data_dir, op.id)
        staging.mkdir(parents=True, exist_ok=True)
        (staging / REQUEST_FILE).write_text(json.dumps(record))
        ctx.runner.submit(op, lambda job: _run(ctx, op, req, evaluate, job))
    return op


def resumable(ctx: ExportServices, op: Operation) -> dict[str, Any] | None:
    """The request record of an export a previous process left running, if it can resume."""
    if op.type not in _DEFAULT_DESCRIPTION or op.state not in (PENDING, RUNNING):
        return None
    path = staging_dir(ctx.data_dir, op.id) / REQUEST_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def resume(
    ctx: ExportServices, op: Operation, body: dict[str, Any], evaluate: Callable[[], object]
) -> bool:
    """Queues an export again after a restart: finished windows (the staging folder's ledger)
    are kept, the others computed. False if it cannot be (it is then failed with the rest)."""
    try:
        req = parse_request(ctx, op.type, body, op.principal)
    except OpeneeError:
        return False
    if not ctx.operations.requeue(op.id):
        return False
    ctx.runner.submit(op, lambda job: _run(ctx, op, req, evaluate, job))
    return True


def estimate_export(
    ctx: ExportServices, project: str, req: ExportRequest, value: object
) -> dict[str, Any]:
    """The size of an image export before it runs (beyond Earth Engine), with a time estimate
    from the throughput (pixels per second) of the project's last finished image exports."""
    if req.type != EXPORT_IMAGE or req.image is None:
        raise InvalidArgumentError("Only image exports can be estimated.")
    return estimate_image(value, req.image, ctx.chunk_size, ctx.operations, project)


def estimate_image(
    value: object,
    opts: ImageOptions,
    chunk_size: int,
    operations: OperationStore | None,
    project: str,
) -> dict[str, Any]:
    """The estimate of `image:estimateExport` and `openee export estimate`: grid, files,
    pixels, bytes, source bytes, chunks and, when `operations` holds finished image exports of
    the project, `pixelsPerSecond` (their median) and `estimatedSeconds`."""
    if not isinstance(value, Image):
        raise InvalidArgumentError(f"Export.image needs an Image, got {type(value).__name__}.")
    out = _estimate(value, opts, chunk_size)
    rates = []
    for op in operations.list(project, 0, 200) if operations is not None else []:
        pixels = (op.extra or {}).get("estimate", {}).get("pixels")
        if op.type == EXPORT_IMAGE and op.state == SUCCEEDED and pixels and op.start_time:
            seconds = _seconds(op.start_time, op.end_time or op.update_time)
            if seconds > 0:
                rates.append(pixels / seconds)
    if rates:
        rate = sorted(rates)[len(rates) // 2]
        out["pixelsPerSecond"] = round(rate, 1)
        out["estimatedSeconds"] = round(out["pixels"] / rate, 1)
    return out


def _estimate(image: Image, opts: ImageOptions, chunk_size: int) -> dict[str, Any]:
    if opts.tfrecord is not None:
        return estimate_tfrecord(image, opts, chunk_size)
    return estimate(image, opts, chunk_size)


def _seconds(start: str, end: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(end) - parse(start)).total_seconds()


# -- running ------------------------------------------------------------------------------------


class _Reporter:
    """Writes progress into the operation's metadata, at most every half second."""

    def __init__(self, job: Job, stage: str) -> None:
        self.job, self.stage, self.last = job, stage, 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self.last < _PROGRESS_EVERY_S and progress.done not in (0, progress.total):
            return
        self.last = now
        self.job.update(
            progress=progress.done / progress.total if progress.total else 0.0,
            stages=[
                {
                    "displayName": self.stage,
                    "description": "Computing and writing the output's chunks.",
                    "completeWorkUnits": progress.done,
                    "totalWorkUnits": progress.total,
                }
            ],
            batchEecuUsageSeconds=round(progress.cpu_seconds, 3),
            **({"resumedWorkUnits": progress.resumed} if progress.resumed else {}),
        )


def _run(
    ctx: ExportServices,
    op: Operation,
    req: ExportRequest,
    evaluate: Callable[[], object],
    job: Job,
) -> dict[str, Any]:
    staging = staging_dir(ctx.data_dir, op.id)
    ours = True  # the staging folder, until another process takes the operation over
    try:
        value = evaluate()
        if req.type == EXPORT_IMAGE:
            assert req.image is not None
            if not isinstance(value, Image):
                raise InvalidArgumentError(
                    f"Export.image needs an Image, got {type(value).__name__}."
                )
            job.update(estimate=_estimate(value, req.image, ctx.chunk_size))
            job.check()  # a cancel that came while the estimate read the sources' headers
            write = write_tfrecord_files if req.image.tfrecord else write_image_files
            files = write(
                value,
                req.image,
                staging,
                ctx.executor,
                ctx.chunk_size,
                job.check,
                _Reporter(job, "Export image"),
                max_in_flight=ctx.in_flight,
            )
            sources = export_receipt.files_read(value)
        elif req.type == EXPORT_TILES:
            assert req.map is not None
            if not isinstance(value, Image):
                raise InvalidArgumentError(
                    f"Export.map needs an Image, got {type(value).__name__}."
                )
            files = write_map_tiles(
                value,
                req.map,
                staging,
                ctx.executor,
                ctx.limits,
                ctx.chunk_size,
                job.check,
                _Reporter(job, "Export map tiles"),
            )
            sources = export_receipt.files_read(value)
        elif req.type == EXPORT_CLASSIFIER:
            if not isinstance(value, Classifier):
                raise InvalidArgumentError(
                    f"Export.classifier needs a Classifier, got {type(value).__name__}."
                )
            staged = staging / "classifier.json"
            staged.write_text(dumps(to_document(value)))
            files, sources = [(staged, "")], []
            job.update(progress=1.0)
        elif req.type == EXPORT_VIDEO:
            assert req.video is not None
            files = write_video(
                value,
                req.video,
                staging,
                ctx.executor,
                ctx.chunk_size,
                job.check,
                _Reporter(job, "Export video frames"),
            )
            sources = []
        else:
            assert req.table_format is not None
            name = (
                Path(req.destination.prefix).name
                if isinstance(req.destination, FileDestination)
                else "table"
            )
            files = write_table_files(value, req.table_format, req.selectors, staging, name)
            job.update(progress=1.0)
            sources = []
        job.check()  # nothing is published after a cancel
        uris_of = [
            (path, req.destination.uri(suffix))
            if isinstance(req.destination, FileDestination)
            else (path, req.destination.name)
            for path, suffix in files
        ]
        receipt = export_receipt.receipt(ctx.catalog, req.expression, uris_of, sources)
        if isinstance(req.destination, AssetDestination) and req.type == EXPORT_FEATURES:
            uris = [_register_table(ctx, op, req.destination, files)]
        elif isinstance(req.destination, AssetDestination) and req.type == EXPORT_CLASSIFIER:
            uris = [_register_classifier(ctx, op, req.destination, files)]
        elif isinstance(req.destination, AssetDestination):
            uris = [_register_image(ctx, op, req.destination, files)]
        else:
            receipt_path = staging / "receipt.json"
            receipt_path.write_text(json.dumps(receipt, indent=2))
            uris = req.destination.publish(
                [*files, (receipt_path, RECEIPT_SUFFIX)], staging / JOURNAL
            )[:-1]
        job.update(destinationUris=uris)
        return {"@type": "type.googleapis.com/google.protobuf.Empty", "receipt": receipt}
    except LeaseLost:
        ours = False  # its new holder resumes from the finished windows in it (ADR 0046)
        raise
    finally:
        if ours:
            shutil.rmtree(staging, ignore_errors=True)


def _register_image(
    ctx: ExportServices, op: Operation, dest: AssetDestination, files: list[tuple[Path, str]]
) -> str:
    """The COG becomes an image asset through the same code path as `image:import`."""
    ((staged, _),) = files
    target = ctx.data_dir / ASSET_FILES / f"{op.id}.tif"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    try:
        import rasterio

        with rasterio.open(target) as src:
            names = [d or f"b{i + 1}" for i, d in enumerate(src.descriptions[:-1])]
        manifest = {
            "name": dest.name,
            "tilesets": [{"id": "0", "sources": [{"uris": [str(target)]}]}],
            "bands": [
                {"id": n, "tilesetId": "0", "tilesetBandIndex": i} for i, n in enumerate(names)
            ],
            "maskBands": [{"tilesetId": "0", "bandIds": []}],
        }
        plan = plan_image(dest.name, manifest, ctx.roots)
        service.import_asset(ctx.catalog, build_image(plan), None, dest.overwrite)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return dest.name


def _register_table(
    ctx: ExportServices, op: Operation, dest: AssetDestination, files: list[tuple[Path, str]]
) -> str:
    """The GeoJSON becomes a table asset through the same code path as `table:import`."""
    ((staged, _),) = files
    target = ctx.data_dir / ASSET_FILES / f"{op.id}.geojson"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    try:
        manifest = {"name": dest.name, "sources": [{"uris": [str(target)]}]}
        record, features = build_table(plan_table(dest.name, manifest, ctx.roots))
        service.import_asset(ctx.catalog, record, features, dest.overwrite)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return dest.name


def _register_classifier(
    ctx: ExportServices, op: Operation, dest: AssetDestination, files: list[tuple[Path, str]]
) -> str:
    """The classifier document becomes a CLASSIFIER asset (its one source file), written with
    the code that registers imports (`service.import_asset`: one transaction, overwrite)."""
    ((staged, _),) = files
    target = ctx.data_dir / ASSET_FILES / f"{op.id}.classifier.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    try:
        record = AssetRecord(name=dest.name, type=CLASSIFIER, sources=(str(target),))
        service.import_asset(ctx.catalog, record, None, dest.overwrite)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return dest.name
