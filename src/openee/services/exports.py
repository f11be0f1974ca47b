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
from openee.errors import InvalidArgumentError
from openee.raster.image import Image
from openee.services import export_receipt
from openee.services.destinations import (
    FileDestination,
    staging_dir,
)
from openee.services.export_image import (
    ImageOptions,
    Progress,
    estimate,
    write_image_files,
)
from openee.services.export_map import MapOptions, write_map_tiles
from openee.services.export_table import write_table_files
from openee.services.export_tfrecord import estimate_tfrecord, write_tfrecord_files
from openee.services.export_video import VideoOptions, write_video
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
EXPORT_TYPES = frozenset(
    {EXPORT_IMAGE, EXPORT_FEATURES, EXPORT_TILES, EXPORT_VIDEO, EXPORT_CLASSIFIER}
)
# Under the data dir: the COGs, GeoJSON and classifier documents of exports to assets.
ASSET_FILES = "exports"
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
    ExportClassifierRequest, checked (built from the request JSON by api/export_requests.py).

    `expression` is the request's Expression graph as sent: what the receipt hashes.
    """

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


def asset_destination(ctx: ExportServices, asset_id: str, overwrite: bool) -> AssetDestination:
    """The asset an export writes (its id as the client gives it), if the catalog allows it."""
    name = name_from_id(asset_id)
    service.check_destination(ctx.catalog, name, overwrite)
    return AssetDestination(name, overwrite)


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

    `record` (the request's body and caller, opaque here) is kept in the operation's staging
    folder, from which a restarted server resumes the export (`resumable`, `resume`).
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
    """The request record of an export a previous process left running, if it can resume: the
    record `start` stored, for the HTTP layer to check again and hand back to `resume`."""
    if op.type not in EXPORT_TYPES or op.state not in (PENDING, RUNNING):
        return None
    path = staging_dir(ctx.data_dir, op.id) / REQUEST_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def resume(
    ctx: ExportServices, op: Operation, req: ExportRequest, evaluate: Callable[[], object]
) -> bool:
    """Queues an export again after a restart: finished windows (the staging folder's ledger)
    are kept, the others computed. False if it cannot be (it is then failed with the rest)."""
    if req.type != op.type or not ctx.operations.requeue(op.id):
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
