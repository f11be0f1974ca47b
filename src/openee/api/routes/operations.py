"""`image:import` and `table:import`, and the operations they return: get, list, cancel, wait,
delete.

An import is checked at once (manifest, asset name, roots, destination): a bad request is a 400,
a taken name a 409, before any operation exists (tilesets of several sources have their headers
read then, to refuse what cannot be mosaicked). The files are then read in a background thread
(`services/operations.py`) and the catalog written in one transaction; the operation says how it
went. A `requestId` seen before returns the operation it made (the client may retry).

Imports, their completion, cancels and deletes of operations are recorded in the audit log
(`api/audit.py`).

Who sees an operation: its creator, and whoever may compute in its project (a viewer of the
project root); to anyone else it answers exactly as a missing one, since its description names
an asset. Listing needs that project role. Cancelling or deleting needs a write scope and either
to be its creator or a writer of the project.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from openee.api.audit import OK, Audit, WriteAudit, project_of, raw_name, written
from openee.api.deps import (
    authorize,
    check_version,
    get_state,
    json_body,
    require_principal,
    require_write,
)
from openee.api.discovery import unrouted
from openee.api.evaluation import file_access
from openee.api.routes.paging import offset_token, page_size, token_offset
from openee.api.state import AppState
from openee.auth import Principal
from openee.auth.iam import Action, Iam
from openee.auth.store import project_root
from openee.catalog import service
from openee.catalog.manifests import (
    ImagePlan,
    TablePlan,
    build_image,
    build_table,
    inspect_mosaics,
    plan_image,
    plan_table,
)
from openee.catalog.mosaics import MosaicWriter
from openee.catalog.names import name_from_id
from openee.catalog.orphans import record_files, sweep_replaced
from openee.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    OpeneeError,
    PermissionDeniedError,
)
from openee.services.operation_filter import Predicate, parse_filter
from openee.services.operations import (
    FAILED,
    SUCCEEDED,
    Job,
    Operation,
    Work,
    rpc_error,
    wait,
)

router = APIRouter(dependencies=[Depends(require_principal)])

State = Annotated[AppState, Depends(get_state)]
Body = Annotated[dict[str, Any], Depends(json_body)]
Caller = Annotated[Principal, Depends(require_principal)]

MOSAIC_DIR = "mosaics"  # under the data dir: the COGs of tilesets of several sources
DEFAULT_PAGE = 500
MAX_PAGE = 1000
MAX_WAIT_S = 60.0
FILTER_BATCH = 500  # operations read at a time while filtering
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?)s\s*$")


def _manifest(body: dict[str, Any], key: str) -> tuple[dict[str, Any], str, bool, str | None]:
    manifest = body.get(key)
    if not isinstance(manifest, dict):
        raise InvalidArgumentError(f"The request needs '{key}'.")
    raw_name = manifest.get("name") or manifest.get("id")
    if not isinstance(raw_name, str) or not raw_name:
        raise InvalidArgumentError(f"'{key}.name' must name the asset to create.")
    name = name_from_id(raw_name)
    if name.endswith("/assets"):
        raise InvalidArgumentError(f"'{key}.name' must name an asset, not a project root.")
    overwrite = body.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise InvalidArgumentError("'overwrite' must be true or false.")
    request_id = body.get("requestId")
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > 200):
        raise InvalidArgumentError("'requestId' must be a string of at most 200 characters.")
    return manifest, name, overwrite, request_id or None


IMPORT_TYPES = ("INGEST_IMAGE", "INGEST_TABLE")


def _plan(
    state: AppState,
    principal: Principal,
    kind: str,
    manifest: dict[str, Any],
    name: str,
    overwrite: bool,
) -> ImagePlan | TablePlan:
    """What an import will read and write, checked: a bad request is a 400, a taken name 409."""
    plan: ImagePlan | TablePlan
    if kind == "INGEST_IMAGE":
        plan = plan_image(name, manifest, state.roots, file_access(state, principal))
    else:
        plan = plan_table(name, manifest, state.roots, file_access(state, principal))
    service.check_destination(state.catalog, name, overwrite)
    if isinstance(plan, ImagePlan):
        # Headers of tilesets of several sources are read now: what cannot be mosaicked
        # is a 400 before any operation exists.
        plan = inspect_mosaics(plan)
    return plan


def _work(
    state: AppState, op: Operation, plan: ImagePlan | TablePlan, overwrite: bool, audit: WriteAudit
) -> Work:
    """The import's work: read the files, write the catalog once (unless cancelled)."""
    what = "image" if isinstance(plan, ImagePlan) else "table"
    catalog = state.catalog
    mosaic_root = state.settings.data_dir / MOSAIC_DIR

    def work(job: Job) -> dict[str, Any] | None:
        # The asset is written here, later: its own audit entry says how that went.
        with audit.entry(
            f"asset.import_{what}.finish",
            project=project_of(plan.name),
            asset=plan.name,
            operation=op.name,
        ):
            # Mosaics of tilesets of several sources are files of this operation alone;
            # they are removed again when it does not write the catalog.
            mosaics = MosaicWriter(mosaic_root, op.id, job.check)
            try:
                if isinstance(plan, ImagePlan):
                    record, features = build_image(plan, mosaics), None
                else:
                    record, features = build_table(plan)
                job.check()  # nothing is written after a cancel
                replaced = record_files(catalog.get(plan.name)) if overwrite else set()
                # Marked as this operation's write, for a server that takes it over.
                record = dataclasses.replace(record, operation=op.id)
                service.import_asset(catalog, record, features, overwrite)
                sweep_replaced(catalog, replaced - record_files(record), mosaic_root)
            except BaseException:
                mosaics.discard()
                raise
        return None

    return work


def _start(
    state: AppState,
    project: str,
    body: dict[str, Any],
    audit: WriteAudit,
    kind: str,
    plan: ImagePlan | TablePlan,
    overwrite: bool,
    request_id: str | None,
    entry: dict[str, Any],
) -> dict[str, Any]:
    what = "image" if kind == "INGEST_IMAGE" else "table"
    # The request and its caller are kept for a server that takes the import over (ADR 0046).
    request = {
        "body": body,
        "principal": dataclasses.asdict(audit.principal),
        "client": audit.client,
    }
    op, created = state.operations.create(
        project, kind, f'Ingest {what}: "{plan.name}"', audit.principal.email, request_id,
        request=request,
    )  # fmt: skip
    entry["operation"] = op.name
    if created:
        state.runner.submit(op, _work(state, op, plan, overwrite, audit))
    else:
        entry["retry"] = True
    return op.resource()


def written_import(state: AppState, op: Operation, record: dict[str, Any] | None) -> bool:
    """Ends SUCCEEDED an import taken over from a stopped server whose catalog write had
    committed (the server stopped before recording the end): the asset its request names is
    there, written by this operation. False if it is not (ADR 0057)."""
    key = "imageManifest" if op.type == "INGEST_IMAGE" else "tableManifest"
    try:
        name = _manifest(record["body"], key)[1] if record is not None else None
    except (OpeneeError, KeyError, TypeError):
        return False
    asset = state.catalog.get(name) if name else None
    if asset is None or asset.operation != op.id:
        return False
    if not state.operations.finish(op.id, SUCCEEDED):
        return False  # another process holds it now
    state.audit.record(
        f"asset.import_{'image' if op.type == 'INGEST_IMAGE' else 'table'}.finish",
        principal=op.principal,
        project=project_of(asset.name),
        asset=raw_name(asset.name),
        operation=op.name,
        client=record.get("client") if record else None,
        outcome=OK,
        takenOver=True,
    )
    return True


def resume_import(
    state: AppState, op: Operation, record: dict[str, Any], principal: Principal
) -> bool:
    """Runs again an import a stopped server left unfinished, as its caller: planned again
    from the kept request, so files and rights are checked again. False if it cannot be.
    When another asset took its name meanwhile, it ends FAILED saying so (and True)."""
    key = "imageManifest" if op.type == "INGEST_IMAGE" else "tableManifest"
    audit = WriteAudit(state.audit, principal, record.get("client"))
    try:
        manifest, name, overwrite, _ = _manifest(record["body"], key)
        plan = _plan(state, principal, op.type, manifest, name, overwrite)
    except AlreadyExistsError as exc:  # not this operation's asset (`written_import`)
        return state.operations.finish(op.id, FAILED, error=rpc_error(exc.rpc_status, exc.message))
    except (OpeneeError, KeyError, TypeError):
        return False
    if not state.operations.requeue(op.id):
        return False
    state.runner.submit(op, _work(state, op, plan, overwrite, audit))
    return True


def _import(
    state: AppState,
    project: str,
    body: dict[str, Any],
    principal: Principal,
    audit: WriteAudit,
    kind: str,
) -> dict[str, Any]:
    key, what = ("imageManifest", "image") if kind == "INGEST_IMAGE" else ("tableManifest", "table")
    raw = body.get(key)
    raw_asset = (raw.get("name") or raw.get("id")) if isinstance(raw, dict) else None
    with audit.entry(
        f"asset.import_{what}",
        project=project,
        asset=raw_name(raw_asset if isinstance(raw_asset, str) else None),
    ) as entry:
        require_write(principal)
        manifest, name, overwrite, request_id = _manifest(body, key)
        written(entry, name)
        # Authorized first, so that a request id cannot reveal another caller's operation.
        authorize(state, principal, "create", name)
        if request_id and (seen := state.operations.find_request(project, request_id)):
            entry.update(operation=seen.name, retry=True)
            return seen.resource()  # a retry: the operation the first request made
        plan = _plan(state, principal, kind, manifest, name, overwrite)
        return _start(state, project, body, audit, kind, plan, overwrite, request_id, entry)


@router.post("/{version}/projects/{project}/image:import")
def image_import(
    version: str, project: str, body: Body, state: State, principal: Caller, audit: Audit
) -> dict[str, Any]:
    """Body `{imageManifest: {name, tilesets: [{id?, sources: [{uris}, ...]}], bands?, startTime?,
    endTime?, properties?, missingData?}, overwrite?, requestId?}`."""
    check_version(version)
    return _import(state, project, body, principal, audit, "INGEST_IMAGE")


@router.post("/{version}/projects/{project}/table:import")
def table_import(
    version: str, project: str, body: Body, state: State, principal: Caller, audit: Audit
) -> dict[str, Any]:
    """Body `{tableManifest: {name, sources: [{uris}], startTime?, endTime?, properties?},
    overwrite?, requestId?}`."""
    check_version(version)
    return _import(state, project, body, principal, audit, "INGEST_TABLE")


# -- operations -------------------------------------------------------------------------------


def _project_role(state: AppState, principal: Principal, project: str, action: Action) -> bool:
    """Whether the caller's role on the project's root allows `action` (`compute`: a viewer)."""
    if action == "compute":
        return Iam(state.auth).can(principal, "compute", project)
    return Iam(state.auth).can(principal, action, project_root(project))


def _visible(state: AppState, principal: Principal, project: str, op_id: str) -> Operation:
    """The operation, if the caller may see it; otherwise the answer for a missing one."""
    op = state.operations.get(project, op_id)
    if op is None or not (
        op.principal == principal.email or _project_role(state, principal, project, "compute")
    ):
        raise NotFoundError(f"Operation 'projects/{project}/operations/{op_id}' not found.")
    return op


def _changeable(state: AppState, principal: Principal, project: str, op_id: str) -> None:
    """Allows cancelling or deleting an operation, or raises what to answer."""
    require_write(principal)
    op = _visible(state, principal, project, op_id)
    if op.principal != principal.email and not _project_role(state, principal, project, "update"):
        raise PermissionDeniedError(
            f"Caller does not have permission to change operation '{op.name}'."
        )


@router.get("/{version}/projects/{project}/operations")
def list_operations(
    version: str,
    project: str,
    state: State,
    principal: Caller,
    pageSize: Annotated[int | None, Query()] = None,
    pageToken: Annotated[str | None, Query()] = None,
    filter: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """The project's operations, newest first; `filter` keeps those it matches (a subset of
    Google's list filters, `services/operation_filter.py`; anything else is a 400)."""
    check_version(version)
    authorize(state, principal, "compute", project)
    limit = page_size(pageSize, DEFAULT_PAGE, MAX_PAGE)
    offset = token_offset(pageToken)
    matches = parse_filter(filter)
    if matches is None:
        rows = [op.resource() for op in state.operations.list(project, offset, limit + 1)]
    else:
        rows = _filtered(state, project, matches, offset, limit + 1)
    out: dict[str, Any] = {"operations": rows[:limit]}
    if len(rows) > limit:
        out["nextPageToken"] = offset_token(offset + limit)
    return out


def _filtered(
    state: AppState, project: str, matches: Predicate, offset: int, count: int
) -> list[dict[str, Any]]:
    """`count` operations matching from the `offset`-th match on (offsets count matches)."""
    found: list[dict[str, Any]] = []
    seen, start = 0, 0
    while len(found) < count:
        batch = state.operations.list(project, start, FILTER_BATCH)
        for op in batch:
            resource = op.resource()
            if matches(resource):
                if seen >= offset:
                    found.append(resource)
                seen += 1
                if len(found) == count:
                    break
        if len(batch) < FILTER_BATCH:
            break
        start += FILTER_BATCH
    return found


@router.get("/{version}/projects/{project}/operations/{op_id}")
def get_operation(
    version: str, project: str, op_id: str, state: State, principal: Caller
) -> dict[str, Any]:
    check_version(version)
    return _visible(state, principal, project, op_id).resource()


def _timeout(body: dict[str, Any]) -> float:
    """WaitOperationRequest's `timeout` (a Duration, `"30s"`), at most MAX_WAIT_S."""
    value = body.get("timeout")
    if value is None:
        return MAX_WAIT_S
    match = _DURATION.match(str(value))
    if not match:
        raise InvalidArgumentError(f"Invalid timeout: '{str(value)[:50]}' (expected e.g. '30s').")
    return min(float(match.group(1)), MAX_WAIT_S)


@router.post("/{version}/projects/{project}/operations/{op_call}")
def call_operation(
    version: str,
    project: str,
    op_call: str,
    body: Body,
    state: State,
    principal: Caller,
    audit: Audit,
) -> dict[str, Any]:
    """`{id}:cancel` (-> `{}`; needs a write scope) and `{id}:wait` (-> the Operation, once
    done or at the timeout)."""
    check_version(version)
    op_id, _, method = op_call.partition(":")
    if method == "cancel":
        operation = raw_name(f"projects/{project}/operations/{op_id}")
        with audit.entry("operation.cancel", project=project, operation=operation):
            _changeable(state, principal, project, op_id)
            state.operations.cancel(project, op_id)
        return {}
    if method == "wait":
        _visible(state, principal, project, op_id)
        op: Operation = wait(state.operations, project, op_id, _timeout(body))
        return op.resource()
    raise unrouted("POST", f"{version}/projects/{project}/operations/{op_call}")


@router.delete("/{version}/projects/{project}/operations/{op_id}")
def delete_operation(
    version: str, project: str, op_id: str, state: State, principal: Caller, audit: Audit
) -> dict[str, Any]:
    """Forget an operation (it keeps running if it was)."""
    check_version(version)
    operation = raw_name(f"projects/{project}/operations/{op_id}")
    with audit.entry("operation.delete", project=project, operation=operation):
        _changeable(state, principal, project, op_id)
        state.operations.delete(project, op_id)
    return {}
