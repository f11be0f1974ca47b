"""Asset IAM: `POST {+resource}:getIamPolicy`, `:setIamPolicy` and `:testIamPermissions`.

`ee.data.getIamPolicy`, `ee.data.setIamPolicy` (and the deprecated `getAssetAcl`/`setAssetAcl`)
land here. The resource is an asset or folder name, or a project's root folder
(`projects/{p}/assets`), where project-wide roles are bound. See `openee.auth.iam`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from openee.api.audit import Audit, project_of, raw_name, written
from openee.api.deps import Body, Caller, State, check_version
from openee.api.state import AppState
from openee.auth.iam import Iam, resource_name
from openee.auth.store import project_root
from openee.errors import AssetNotFoundError, InvalidArgumentError

router = APIRouter()


def _existing(state: AppState, path: str) -> str:
    """The canonical resource for `projects/{path}`, if it exists (call after authorizing)."""
    resource = resource_name(f"projects/{path}")
    if resource != project_root(resource.split("/")[1]) and state.catalog.get(resource) is None:
        raise AssetNotFoundError(resource)
    return resource


@router.post("/{version}/projects/{path:path}:getIamPolicy")
def get_iam_policy(version: str, path: str, state: State, caller: Caller) -> dict[str, Any]:
    check_version(version)
    iam = Iam(state.auth)
    iam.authorize(caller, "getIamPolicy", resource_name(f"projects/{path}"))
    return iam.get_policy(_existing(state, path))


@router.post("/{version}/projects/{path:path}:setIamPolicy")
def set_iam_policy(
    version: str, path: str, state: State, caller: Caller, body: Body, audit: Audit
) -> dict[str, Any]:
    check_version(version)
    with audit.entry(
        "iam.set_policy",
        project=project_of(f"projects/{path}"),
        resource=raw_name(f"projects/{path}"),
    ) as entry:
        iam = Iam(state.auth)
        resource = resource_name(f"projects/{path}")
        written(entry, resource, "resource")
        iam.authorize(caller, "setIamPolicy", resource)
        resource = _existing(state, path)
        policy = body.get("policy")
        if not isinstance(policy, dict):
            raise InvalidArgumentError("The request has no 'policy' object.")
        updated = iam.set_policy(resource, policy)
        entry["bindings"] = [
            {"role": b["role"], "members": b["members"]} for b in updated.get("bindings", [])
        ]
    return updated


@router.post("/{version}/projects/{path:path}:testIamPermissions")
def test_iam_permissions(
    version: str, path: str, state: State, caller: Caller, body: Body
) -> dict[str, Any]:
    check_version(version)
    requested = body.get("permissions") or []
    if not isinstance(requested, list) or not all(isinstance(p, str) for p in requested):
        raise InvalidArgumentError("permissions must be a list of strings.")
    iam = Iam(state.auth)
    iam.authorize(caller, "read", resource_name(f"projects/{path}"))
    granted = iam.permissions(caller, _existing(state, path), requested)
    return {"permissions": granted} if granted else {}
