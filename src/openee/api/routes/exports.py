"""Batch exports: `image:export`, `table:export`, `map:export` (a tile pyramid),
`video:export` (an MP4) and `classifier:export` (a CLASSIFIER asset) start an operation
(`services/exports.py`) that `operations` get / list / cancel / wait follow. `videoMap:export`
has no handler: as every documented method without one, it answers 501 naming the method
(`api/discovery.unrouted`).

An export needs a write scope and a role allowing computation in its project; an export to an
asset also needs the right to create that asset. A `requestId` seen before returns the
operation it made (the stock client sends one with every start and retries with it).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Collection
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from openee.api.audit import Audit, WriteAudit
from openee.api.deps import authorize, check_version, get_state, json_body, require_principal
from openee.api.deps import require_write as require_write_scope
from openee.api.evaluation import evaluate_as
from openee.api.export_requests import export_request, request_id
from openee.api.public_url import public_base_url
from openee.api.routes.operations import IMPORT_TYPES, resume_import, written_import
from openee.api.state import AppState
from openee.auth import Principal
from openee.errors import OpeneeError
from openee.services import exports
from openee.services.destinations import staging_dir
from openee.services.operations import PENDING, RUNNING, Operation

log = logging.getLogger("openee.operations")

router = APIRouter(dependencies=[Depends(require_principal)])

State = Annotated[AppState, Depends(get_state)]
Body = Annotated[dict[str, Any], Depends(json_body)]
Caller = Annotated[Principal, Depends(require_principal)]
BaseUrl = Annotated[str, Depends(public_base_url)]


def services(state: AppState, base_url: str) -> exports.ExportServices:
    """What an export runs with; `base_url`: the public URL of the request that started it
    (api/public_url.py), the base of its Drive download links."""
    settings = state.settings
    return exports.ExportServices(
        data_dir=settings.data_dir,
        buckets=settings.buckets,
        executor=state.executor.heavy,
        chunk_size=settings.chunk_size,
        operations=state.operations,
        runner=state.export_runner or state.runner,
        catalog=state.catalog,
        roots=state.roots,
        limits=settings.limits,
        in_flight=2 * _workers(state),
        base_url=base_url,
    )


def _workers(state: AppState) -> int:
    """The threads that run chunks: a Dask cluster's (as it is now), else the thread pool's."""
    nthreads = getattr(state.executor.heavy, "nthreads", None)
    if callable(nthreads):
        try:
            return max(2, sum(nthreads().values()))
        except Exception:  # a scheduler that does not answer: the local figure
            pass
    return max(2, state.settings.chunk_workers)


def _export(
    state: AppState,
    project: str,
    body: dict[str, Any],
    principal: Principal,
    audit: WriteAudit,
    kind: str,
    base_url: str,
) -> dict[str, Any]:
    with audit.entry(f"export.{kind.lower()}", project=project) as entry:
        require_write_scope(principal)
        authorize(state, principal, "compute", project)
        retry = request_id(body)
        if retry is not None:
            seen = state.operations.find_request(project, retry)
            if seen is not None:
                entry.update(operation=seen.name, retry=True)
                return seen.resource()
        ctx = services(state, base_url)
        req = export_request(ctx, kind, body, principal.email)
        if isinstance(req.destination, exports.AssetDestination):
            authorize(state, principal, "create", req.destination.name)
            entry["asset"] = req.destination.name
        expression = req.expression
        op = exports.start(
            ctx,
            project,
            principal.email,
            req,
            lambda: evaluate_as(state, principal, project, expression),
            {
                "project": project,
                "body": body,
                "principal": dataclasses.asdict(principal),
                "baseUrl": base_url,
            },
        )
        entry["operation"] = op.name
        return op.resource()


def take_over(state: AppState, taken: Collection[Operation]) -> set[str]:
    """Operations this process took over from a stopped one resume as their caller (if that
    account still exists and is enabled): exports from their finished windows, imports from
    their request, planned again; an import whose asset its first run had written ends
    SUCCEEDED (ADR 0057). The others end FAILED (CANCELLED if a cancel was asked) and what they
    left in staging goes. Returns the ids resumed or ended here (ADR 0046)."""
    ctx = services(state, state.settings.base_url)
    resumed = set()
    for op in taken:
        if op.type in IMPORT_TYPES and written_import(
            state, op, state.operations.request_of(op.id)
        ):
            resumed.add(op.id)  # its asset was written before its server stopped: done
            continue
        is_import = op.type in IMPORT_TYPES and op.state in (PENDING, RUNNING)
        record = state.operations.request_of(op.id) if is_import else exports.resumable(ctx, op)
        principal = _caller(state, record)
        if record is None or principal is None:
            continue
        if is_import:
            if resume_import(state, op, record, principal):
                resumed.add(op.id)
            continue
        body, project = record.get("body"), record.get("project")
        if not isinstance(body, dict) or not isinstance(project, str):
            continue
        # The links keep the base URL of the request that started the export (records from
        # before it was kept: the server's own).
        kept = record.get("baseUrl")
        own = services(state, kept) if isinstance(kept, str) else ctx
        try:
            # Checked again as at the start (the server's buckets or the asset may differ now).
            req = export_request(own, op.type, body, op.principal)
        except OpeneeError:
            continue

        def evaluate(
            principal: Principal = principal,
            project: str = project,
            expression: Any = req.expression,
        ) -> object:
            return evaluate_as(state, principal, project, expression)

        if exports.resume(own, op, req, evaluate):
            resumed.add(op.id)
    abandoned = [op for op in taken if op.id not in resumed]
    if abandoned:
        ended = state.operations.abandon(abandoned)
        log.info("%d operations left unfinished by a stopped server were ended", ended)
        for op in abandoned:
            shutil.rmtree(staging_dir(state.settings.data_dir, op.id), ignore_errors=True)
    return resumed


def _caller(state: AppState, record: dict[str, Any] | None) -> Principal | None:
    """The principal an operation's kept request ran as, if it may still act."""
    try:
        principal = Principal(**record["principal"]) if record is not None else None
    except (KeyError, TypeError):
        return None
    if principal is None:
        return None
    if principal.anonymous:
        return None if state.settings.auth_enabled else principal
    account = state.auth.get_account(principal.email)
    return None if account is None or account.disabled else principal


@router.post("/{version}/projects/{project}/image:export")
def image_export(
    version: str,
    project: str,
    body: Body,
    state: State,
    principal: Caller,
    audit: Audit,
    base: BaseUrl,
) -> dict[str, Any]:
    """ExportImageRequest: `{expression, description?, fileExportOptions | assetExportOptions,
    maxPixels?, priority?, requestId?}`."""
    check_version(version)
    return _export(state, project, body, principal, audit, exports.EXPORT_IMAGE, base)


@router.post("/{version}/projects/{project}/table:export")
def table_export(
    version: str,
    project: str,
    body: Body,
    state: State,
    principal: Caller,
    audit: Audit,
    base: BaseUrl,
) -> dict[str, Any]:
    """ExportTableRequest: `{expression, description?, fileExportOptions, selectors?,
    priority?, requestId?}`."""
    check_version(version)
    return _export(state, project, body, principal, audit, exports.EXPORT_FEATURES, base)


@router.post("/{version}/projects/{project}/image:estimateExport")
def image_estimate_export(
    version: str, project: str, body: Body, state: State, principal: Caller, base: BaseUrl
) -> dict[str, Any]:
    """Beyond Earth Engine: the body of an `image:export`, answered with the export's grid,
    files, pixels, bytes, chunks and, from the project's past exports, a time estimate."""
    check_version(version)
    ctx = services(state, base)
    req = export_request(ctx, exports.EXPORT_IMAGE, body, principal.email)
    value = evaluate_as(state, principal, project, req.expression)
    return {"estimate": exports.estimate_export(ctx, project, req, value)}


@router.post("/{version}/projects/{project}/map:export")
def map_export(
    version: str,
    project: str,
    body: Body,
    state: State,
    principal: Caller,
    audit: Audit,
    base: BaseUrl,
) -> dict[str, Any]:
    """ExportMapRequest: `{expression, description?, tileExportOptions, tileOptions,
    priority?, requestId?}`."""
    check_version(version)
    return _export(state, project, body, principal, audit, exports.EXPORT_TILES, base)


@router.post("/{version}/projects/{project}/video:export")
def video_export(
    version: str,
    project: str,
    body: Body,
    state: State,
    principal: Caller,
    audit: Audit,
    base: BaseUrl,
) -> dict[str, Any]:
    """ExportVideoRequest: `{expression, description?, fileExportOptions, videoOptions?,
    priority?, requestId?}`."""
    check_version(version)
    return _export(state, project, body, principal, audit, exports.EXPORT_VIDEO, base)


@router.post("/{version}/projects/{project}/classifier:export")
def classifier_export(
    version: str,
    project: str,
    body: Body,
    state: State,
    principal: Caller,
    audit: Audit,
    base: BaseUrl,
) -> dict[str, Any]:
    """ExportClassifierRequest: `{expression, description?, assetExportOptions, priority?,
    requestId?}`."""
    check_version(version)
    return _export(state, project, body, principal, audit, exports.EXPORT_CLASSIFIER, base)
