"""Projects and roles: who may compute in a project and read, write or administer its assets.

Roles are bound to members on a resource: a project's root folder (`projects/{p}/assets`, which
is also where project-wide roles live) or any asset below it. A role on a folder applies to
everything under it; the effective role of a principal on an asset is the highest bound on the
asset or any ancestor. Roles are Earth Engine's asset roles:

    roles/viewer  read and list assets, compute (on the project root), read the policy
    roles/editor  (writer) also create, update and delete assets
    roles/owner   also set the policy

Beyond the stored bindings:
  * every service account is created as owner of its own project (a binding it can lose);
  * the public namespace (`earthengine-public`) is readable by every authenticated principal;
  * `earthengine-legacy` as a compute project stands for the caller's own project;
  * a server started with `--no-auth` runs every request as an owner of everything;
  * a principal authenticated by an API key is a viewer of the key's project.

Write actions also need a write scope (`earthengine` or `cloud-platform`), as before.

No oracle: an asset the caller may not read answers every action exactly as a missing asset
does (`AssetNotFoundError`), and every decision depends only on the caller, the action, the
name and the bindings, never on whether the asset exists.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal, get_args

from openee.auth.store import AuthStore, account_member, project_root
from openee.auth.tokens import Principal
from openee.catalog.model import AssetRecord, FeatureRecord
from openee.catalog.names import LEGACY, PUBLIC, name_from_id
from openee.catalog.store import BBox, CatalogStore, ImageQuery
from openee.errors import (
    AssetNotFoundError,
    InvalidArgumentError,
    OpeneeError,
    PermissionDeniedError,
)

Action = Literal["compute", "read", "create", "update", "delete", "getIamPolicy", "setIamPolicy"]
ACTIONS: tuple[Action, ...] = get_args(Action)

_INSUFFICIENT_SCOPES_MESSAGE = "Request had insufficient authentication scopes."


class Role(IntEnum):
    """Roles, ordered: each includes the ones below it."""

    NONE = 0
    VIEWER = 1
    WRITER = 2
    OWNER = 3


ROLE_VIEWER = "roles/viewer"
ROLE_WRITER = "roles/editor"
ROLE_OWNER = "roles/owner"
ROLES: dict[str, Role] = {
    ROLE_VIEWER: Role.VIEWER,
    ROLE_WRITER: Role.WRITER,
    ROLE_OWNER: Role.OWNER,
}
# Also accepted in a policy, stored under the canonical name.
ROLE_ALIASES = {"roles/writer": ROLE_WRITER, "roles/reader": ROLE_VIEWER}

REQUIRED: dict[Action, Role] = {
    "compute": Role.VIEWER,
    "read": Role.VIEWER,
    "getIamPolicy": Role.VIEWER,
    "create": Role.WRITER,
    "update": Role.WRITER,
    "delete": Role.WRITER,
    "setIamPolicy": Role.OWNER,
}
WRITE_ACTIONS: frozenset[Action] = frozenset({"create", "update", "delete", "setIamPolicy"})

# testIamPermissions: Earth Engine's permission names and the role each needs.
PERMISSIONS: dict[str, Role] = {
    "earthengine.assets.get": Role.VIEWER,
    "earthengine.assets.list": Role.VIEWER,
    "earthengine.assets.getIamPolicy": Role.VIEWER,
    "earthengine.computations.create": Role.VIEWER,
    "earthengine.assets.create": Role.WRITER,
    "earthengine.assets.update": Role.WRITER,
    "earthengine.assets.delete": Role.WRITER,
    "earthengine.assets.setIamPolicy": Role.OWNER,
}

_MEMBER_PREFIXES = ("serviceAccount:", "user:", "group:", "domain:")
_EVERYONE = ("allUsers", "allAuthenticatedUsers")
MAX_BINDINGS = 1500


class AbortedError(OpeneeError):
    """A policy changed since the etag the caller read (Google answers 409 ABORTED)."""

    http_status = 409
    rpc_status = "ABORTED"


@dataclass(frozen=True)
class Binding:
    role: str
    member: str


def resource_name(name: str) -> str:
    """The canonical resource of an asset name, a project (`projects/p`), or an asset id.

    Raises:
        InvalidArgumentError: The name is not a valid asset name.
    """
    text = name.strip().strip("/")
    parts = text.split("/")
    if len(parts) == 2 and parts[0] == "projects" and parts[1]:
        return project_root(parts[1])
    return name_from_id(text)


def _project_of(resource: str) -> str:
    return resource.split("/", 2)[1]


def ancestors(resource: str) -> list[str]:
    """The resource and every folder above it, up to the project root, root first."""
    root = project_root(_project_of(resource))
    out = [root]
    if resource != root:
        rest = resource[len(root) + 1 :].split("/")
        out.extend(f"{root}/{'/'.join(rest[: i + 1])}" for i in range(len(rest)))
    return out


def members_of(principal: Principal) -> tuple[str, ...]:
    """The IAM members that stand for a principal."""
    if principal.via_api_key:
        return ()
    return (account_member(principal.email), f"user:{principal.email}", *_EVERYONE)


def _etag(bindings: Iterable[Binding]) -> str:
    text = json.dumps(sorted((b.role, b.member) for b in bindings))
    return base64.b64encode(hashlib.sha256(text.encode()).digest()[:12]).decode()


def _policy(bindings: Sequence[Binding]) -> dict[str, Any]:
    by_role: dict[str, list[str]] = {}
    for b in bindings:
        by_role.setdefault(b.role, []).append(b.member)
    out: dict[str, Any] = {"version": 1, "etag": _etag(bindings)}
    if by_role:
        out["bindings"] = [
            {"role": role, "members": sorted(members)} for role, members in sorted(by_role.items())
        ]
    return out


def parse_policy(policy: object) -> list[Binding]:
    """The bindings of a wire `Policy`, validated.

    Raises:
        InvalidArgumentError: An unknown role, a malformed member, or a malformed policy.
    """
    if not isinstance(policy, dict):
        raise InvalidArgumentError("policy must be an object.")
    raw = policy.get("bindings") or []
    if not isinstance(raw, list):
        raise InvalidArgumentError("policy.bindings must be a list.")
    out: dict[Binding, None] = {}
    for binding in raw:
        if not isinstance(binding, dict):
            raise InvalidArgumentError("Each policy binding must be an object.")
        if binding.get("condition") is not None:
            raise InvalidArgumentError("Conditional role bindings are not supported.")
        role = binding.get("role")
        role = ROLE_ALIASES.get(role, role) if isinstance(role, str) else role
        if role not in ROLES:
            raise InvalidArgumentError(
                f"Role {role!r} is not supported; use one of {', '.join(sorted(ROLES))}."
            )
        members = binding.get("members") or []
        if not isinstance(members, list):
            raise InvalidArgumentError("Binding members must be a list.")
        for member in members:
            if not _valid_member(member):
                raise InvalidArgumentError(f"Invalid member {str(member)[:200]!r} in policy.")
            out[Binding(str(role), str(member))] = None
    if len(out) > MAX_BINDINGS:
        raise InvalidArgumentError(f"A policy may hold at most {MAX_BINDINGS} members.")
    return list(out)


def _valid_member(member: object) -> bool:
    if not isinstance(member, str) or len(member) > 320:
        return False
    if member in _EVERYONE:
        return True
    prefix = next((p for p in _MEMBER_PREFIXES if member.startswith(p)), None)
    return prefix is not None and len(member) > len(prefix) and member.isprintable()


class Iam:
    """Role bindings in the auth database, and the decisions made from them."""

    def __init__(self, store: AuthStore) -> None:
        self.store = store

    # Decisions.

    def role(self, principal: Principal, name: str) -> Role:
        """The principal's effective role on an asset, folder or project."""
        if principal.anonymous:
            return Role.OWNER
        resource = resource_name(name)
        project = _project_of(resource)
        floor = Role.NONE
        if project == PUBLIC:
            floor = Role.VIEWER
        if principal.via_api_key:
            return max(floor, Role.VIEWER if project == principal.project else Role.NONE)
        members = members_of(principal)
        chain = ancestors(resource)
        with self.store.connect(write=False) as conn:
            rows = conn.execute(
                f"SELECT role FROM iam_bindings WHERE resource IN ({_marks(chain)})"
                f" AND member IN ({_marks(members)})",
                (*chain, *members),
            ).fetchall()
        return max([floor, *(ROLES.get(r[0], Role.NONE) for r in rows)])

    def compute_role(self, principal: Principal, project: str) -> Role:
        """The principal's role for computing in a project (`earthengine-legacy`: its own)."""
        if project == LEGACY:
            project = principal.project
        if project == PUBLIC:  # not a project one computes in
            return Role.OWNER if principal.anonymous else Role.NONE
        return self.role(principal, project_root(project))

    def authorize(self, principal: Principal, action: Action, asset_name: str) -> None:
        """Allows an action, or raises what the caller must answer.

        Args:
            principal: The caller.
            action: `compute` (asset_name is the project, `projects/{p}` or just `{p}`),
                `read` (get, list, getPixels, use in an expression), `create` (asset_name is
                the new asset's), `update`, `delete`, `getIamPolicy` or `setIamPolicy`.
            asset_name: The asset's canonical name (`projects/{p}/assets/...`).

        Raises:
            PermissionDeniedError: A write action without a write scope; or an action the
                caller's role does not allow on an asset it may read; or `compute` in a project
                the caller has no role in.
            AssetNotFoundError: Any action on an asset the caller may not read: the same
                answer as for an asset that does not exist.
            InvalidArgumentError: The name is malformed.
        """
        if action not in REQUIRED:
            raise ValueError(f"Unknown action {action!r}.")
        if action in WRITE_ACTIONS and not principal.can_write:
            raise PermissionDeniedError(_INSUFFICIENT_SCOPES_MESSAGE)
        if action == "compute":
            project = asset_name.removeprefix("projects/").split("/", 1)[0]
            if self.compute_role(principal, project) < Role.VIEWER:
                raise PermissionDeniedError(
                    f"Caller does not have required permission to use project {project}."
                )
            return
        role = self.role(principal, asset_name)
        if role < Role.VIEWER:
            raise AssetNotFoundError(asset_name)
        if role < REQUIRED[action]:
            raise PermissionDeniedError(
                f"Caller does not have permission to {_VERBS[action]} asset '{asset_name}'."
            )

    def can(self, principal: Principal, action: Action, asset_name: str) -> bool:
        """Whether `authorize` would allow the action."""
        try:
            self.authorize(principal, action, asset_name)
        except (PermissionDeniedError, AssetNotFoundError):
            return False
        return True

    def permissions(
        self, principal: Principal, asset_name: str, requested: Sequence[str]
    ) -> list[str]:
        """testIamPermissions: the requested permissions the caller's role grants, in order."""
        role = self.role(principal, asset_name)
        return [p for p in requested if p in PERMISSIONS and role >= PERMISSIONS[p]]

    # Policies.

    def bindings(self, asset_name: str) -> list[Binding]:
        """The bindings stored on exactly this resource (not inherited ones)."""
        resource = resource_name(asset_name)
        with self.store.connect(write=False) as conn:
            rows = conn.execute(
                "SELECT role, member FROM iam_bindings WHERE resource = ? ORDER BY role, member",
                (resource,),
            ).fetchall()
        return [Binding(r[0], r[1]) for r in rows]

    def get_policy(self, asset_name: str) -> dict[str, Any]:
        """The wire `Policy` of a resource: its own bindings and an etag."""
        return _policy(self.bindings(asset_name))

    def set_policy(self, asset_name: str, policy: Mapping[str, Any]) -> dict[str, Any]:
        """Replaces the bindings of a resource; returns the new wire `Policy`.

        Raises:
            InvalidArgumentError: The policy is malformed.
            AbortedError: The policy carries an etag and the stored policy changed since.
        """
        resource = resource_name(asset_name)
        new = parse_policy(dict(policy))
        etag = policy.get("etag")
        with self.store.connect() as conn:
            conn.lock(f"iam:{resource}")  # the etag check and the write, as one
            current = [
                Binding(r[0], r[1])
                for r in conn.execute(
                    "SELECT role, member FROM iam_bindings WHERE resource = ?", (resource,)
                ).fetchall()
            ]
            if etag and etag != _etag(current):
                raise AbortedError(
                    "There were concurrent policy changes. Please retry the whole "
                    "read-modify-write with exponential backoff."
                )
            conn.execute("DELETE FROM iam_bindings WHERE resource = ?", (resource,))
            conn.executemany(
                "INSERT INTO iam_bindings (resource, role, member) VALUES (?, ?, ?)",
                [(resource, b.role, b.member) for b in new],
            )
        return _policy(new)

    def grant(self, asset_name: str, role: str, member: str) -> None:
        """Adds one binding (for administration and tests)."""
        (binding,) = parse_policy({"bindings": [{"role": role, "members": [member]}]})
        with self.store.connect() as conn:
            conn.execute(
                "INSERT INTO iam_bindings (resource, role, member) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (resource_name(asset_name), binding.role, binding.member),
            )

    def revoke(self, asset_name: str, role: str, member: str) -> bool:
        """Removes one binding; returns whether it existed."""
        role = ROLE_ALIASES.get(role, role)
        with self.store.connect() as conn:
            cur = conn.execute(
                "DELETE FROM iam_bindings WHERE resource = ? AND role = ? AND member = ?",
                (resource_name(asset_name), role, member),
            )
        return cur.rowcount > 0


_VERBS: dict[Action, str] = {
    "compute": "compute in",
    "read": "read",
    "getIamPolicy": "read the IAM policy of",
    "create": "create",
    "update": "update",
    "delete": "delete",
    "setIamPolicy": "set the IAM policy of",
}


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


class ReadableCatalog:
    """A catalog as one principal sees it: assets it may not read do not exist.

    Give it to an evaluation (`EvalContext(ReadableCatalog(...), project)`), so that an
    expression naming a private asset fails exactly like one naming a missing asset.
    """

    def __init__(self, catalog: CatalogStore, iam: Iam, principal: Principal) -> None:
        self._catalog = catalog
        self._iam = iam
        self._principal = principal

    def readable(self, name: str) -> bool:
        """Whether the principal may read an asset, folder or project root (`projects/{p}/assets`)."""
        try:
            return self._iam.role(self._principal, name) >= Role.VIEWER
        except InvalidArgumentError:
            return False

    def get(self, name: str) -> AssetRecord | None:
        return self._catalog.get(name) if self.readable(name) else None

    def children(
        self, parent: str, offset: int = 0, limit: int = 1000, *, after: str | None = None
    ) -> list[AssetRecord]:
        if not self.readable(parent):
            return []
        return self._catalog.children(parent, offset, limit, after=after)

    def query_images(self, query: ImageQuery) -> list[AssetRecord]:
        return self._catalog.query_images(query) if self.readable(query.parent) else []

    def features(
        self, name: str, offset: int = 0, limit: int | None = None, bbox: BBox | None = None
    ) -> list[FeatureRecord]:
        return self._catalog.features(name, offset, limit, bbox) if self.readable(name) else []

    def count_features(self, name: str) -> int:
        return self._catalog.count_features(name) if self.readable(name) else 0

    def assets_using(self, path: str) -> list[str]:
        return [name for name in self._catalog.assets_using(path) if self.readable(name)]

    def put(self, record: AssetRecord) -> None:
        raise PermissionDeniedError("An evaluation cannot write to the catalog.")

    def put_many(
        self,
        records: Sequence[AssetRecord],
        features: Mapping[str, Sequence[FeatureRecord]] | None = None,
    ) -> None:
        raise PermissionDeniedError("An evaluation cannot write to the catalog.")

    def delete(self, name: str, recursive: bool = False) -> int:
        raise PermissionDeniedError("An evaluation cannot write to the catalog.")

    def move(self, source: str, destination: str, replace: bool = False) -> int:
        raise PermissionDeniedError("An evaluation cannot write to the catalog.")

    def close(self) -> None:
        """The wrapped catalog belongs to the server; closing this view does nothing."""
