"""Projects and roles (`openee.auth.iam`): the authorization matrix, inheritance, the public
namespace, the absence of a 404-versus-403 oracle, policies and the evaluation's catalog view."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from openee.auth import EARTHENGINE_READONLY_SCOPE, EARTHENGINE_SCOPE, AuthStore, Principal
from openee.auth import anonymous_principal as anonymous
from openee.auth.iam import (
    ACTIONS,
    AbortedError,
    Action,
    Iam,
    ReadableCatalog,
    Role,
    ancestors,
    resource_name,
)
from openee.catalog.model import FOLDER, AssetRecord
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import ImageQuery
from openee.errors import AssetNotFoundError, InvalidArgumentError, PermissionDeniedError
from openee.statedb import StateDB

TEAM = "team-project"
FOLDER_NAME = f"projects/{TEAM}/assets/shared"
ASSET = f"{FOLDER_NAME}/image"
NEW_ASSET = f"{FOLDER_NAME}/new-image"
ME = "me@elsewhere.iam.gserviceaccount.com"

SCOPES = {"readonly": (EARTHENGINE_READONLY_SCOPE,), "write": (EARTHENGINE_SCOPE,)}
ROLES = {"viewer": "roles/viewer", "writer": "roles/editor", "owner": "roles/owner", "none": None}
# The matrix's actions, as the routes ask: compute in the project, then actions on assets.
MATRIX_ACTIONS: dict[str, tuple[Action, str]] = {
    "compute": ("compute", f"projects/{TEAM}"),
    "read asset": ("read", ASSET),
    "create asset": ("create", NEW_ASSET),
    "delete asset": ("delete", ASSET),
    "set policy": ("setIamPolicy", ASSET),
}

OK, SCOPE, DENIED, HIDDEN = "ok", "403 scope", "403", "404"
# Every cell of {scope} x {role} x {action}, with the role bound on the project.
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("readonly", "viewer"): {
        "compute": OK, "read asset": OK, "create asset": SCOPE, "delete asset": SCOPE,
        "set policy": SCOPE,
    },
    ("readonly", "writer"): {
        "compute": OK, "read asset": OK, "create asset": SCOPE, "delete asset": SCOPE,
        "set policy": SCOPE,
    },
    ("readonly", "owner"): {
        "compute": OK, "read asset": OK, "create asset": SCOPE, "delete asset": SCOPE,
        "set policy": SCOPE,
    },
    ("readonly", "none"): {
        "compute": DENIED, "read asset": HIDDEN, "create asset": SCOPE, "delete asset": SCOPE,
        "set policy": SCOPE,
    },
    ("write", "viewer"): {
        "compute": OK, "read asset": OK, "create asset": DENIED, "delete asset": DENIED,
        "set policy": DENIED,
    },
    ("write", "writer"): {
        "compute": OK, "read asset": OK, "create asset": OK, "delete asset": OK,
        "set policy": DENIED,
    },
    ("write", "owner"): {
        "compute": OK, "read asset": OK, "create asset": OK, "delete asset": OK,
        "set policy": OK,
    },
    ("write", "none"): {
        "compute": DENIED, "read asset": HIDDEN, "create asset": HIDDEN, "delete asset": HIDDEN,
        "set policy": HIDDEN,
    },
}  # fmt: skip


@pytest.fixture
def store(state_target: Path | StateDB) -> AuthStore:
    """An auth store in a SQLite file, and in PostgreSQL."""
    return AuthStore(state_target)


@pytest.fixture
def iam(store: AuthStore) -> Iam:
    return Iam(store)


def outcome(iam: Iam, principal: Principal, action: Action, name: str) -> str:
    try:
        iam.authorize(principal, action, name)
    except AssetNotFoundError as exc:
        assert exc.http_status == 404
        return HIDDEN
    except PermissionDeniedError as exc:
        assert exc.http_status == 403
        return SCOPE if "scopes" in exc.message else DENIED
    return OK


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(MATRIX_ACTIONS))
def test_matrix_with_project_roles(iam: Iam, scope: str, role: str, action: str) -> None:
    me = Principal(ME, "elsewhere", SCOPES[scope])
    if ROLES[role] is not None:
        iam.grant(f"projects/{TEAM}", str(ROLES[role]), f"serviceAccount:{ME}")
    verb, name = MATRIX_ACTIONS[action]
    assert outcome(iam, me, verb, name) == EXPECTED[(scope, role)][action]


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(MATRIX_ACTIONS))
def test_matrix_with_folder_roles(iam: Iam, scope: str, role: str, action: str) -> None:
    """A role on a folder applies to everything under it, but not to computing in the project."""
    me = Principal(ME, "elsewhere", SCOPES[scope])
    if ROLES[role] is not None:
        iam.grant(FOLDER_NAME, str(ROLES[role]), f"serviceAccount:{ME}")
    verb, name = MATRIX_ACTIONS[action]
    expected = EXPECTED[(scope, role)][action] if action != "compute" else DENIED
    assert outcome(iam, me, verb, name) == expected
    # ... and not to a sibling folder.
    sibling = name.replace("/shared/", "/private/")
    if action != "compute":
        assert outcome(iam, me, verb, sibling) == EXPECTED[(scope, "none")][action]


def test_the_highest_role_on_any_ancestor_wins(iam: Iam) -> None:
    me = Principal(ME, "elsewhere", SCOPES["write"])
    iam.grant(f"projects/{TEAM}", "roles/viewer", f"serviceAccount:{ME}")
    iam.grant(FOLDER_NAME, "roles/owner", f"user:{ME}")
    assert iam.role(me, ASSET) == Role.OWNER
    assert iam.role(me, f"projects/{TEAM}/assets/other") == Role.VIEWER
    assert ancestors(ASSET) == [f"projects/{TEAM}/assets", FOLDER_NAME, ASSET]


def test_everyone_members(iam: Iam) -> None:
    me = Principal(ME, "elsewhere", SCOPES["readonly"])
    assert not iam.can(me, "read", ASSET)
    iam.grant(FOLDER_NAME, "roles/viewer", "allUsers")
    assert iam.can(me, "read", ASSET)
    iam.grant(FOLDER_NAME, "roles/editor", "allAuthenticatedUsers")
    assert iam.role(me, ASSET) == Role.WRITER


def test_accounts_own_their_project(store: AuthStore, iam: Iam) -> None:
    store.add_account(f"ci@{TEAM}.iam.gserviceaccount.com", TEAM)
    ci = Principal(f"ci@{TEAM}.iam.gserviceaccount.com", TEAM, SCOPES["write"])
    assert iam.role(ci, ASSET) == Role.OWNER
    assert iam.can(ci, "setIamPolicy", f"projects/{TEAM}")
    assert iam.get_policy(f"projects/{TEAM}")["bindings"] == [
        {"role": "roles/owner", "members": [f"serviceAccount:{ci.email}"]}
    ]
    # The binding is an ordinary one: the owner can be demoted, and deletion removes it.
    iam.set_policy(f"projects/{TEAM}", {"bindings": [{"role": "roles/viewer", "members": [
        f"serviceAccount:{ci.email}"]}]})  # fmt: skip
    assert iam.role(ci, ASSET) == Role.VIEWER
    store.delete_account(ci.email)
    assert iam.role(ci, ASSET) == Role.NONE


def test_stores_from_before_iam_keep_accounts_owning_their_project(tmp_path: Path) -> None:
    path = tmp_path / "auth.sqlite"
    AuthStore(path).add_account(f"old@{TEAM}.iam.gserviceaccount.com", TEAM)
    with sqlite3.connect(path) as conn:  # a store from before IAM (and schema versions)
        conn.execute("DROP TABLE iam_bindings")
        conn.execute("DROP TABLE openee_schema")
    old = Principal(f"old@{TEAM}.iam.gserviceaccount.com", TEAM, SCOPES["write"])
    assert Iam(AuthStore(path)).role(old, ASSET) == Role.OWNER


@pytest.mark.parametrize("scope", list(SCOPES))
def test_public_namespace_is_readable_by_every_principal(iam: Iam, scope: str) -> None:
    me = Principal(ME, "elsewhere", SCOPES[scope])
    public = "projects/earthengine-public/assets/COPERNICUS/S2_SR_HARMONIZED"
    assert iam.can(me, "read", public)
    assert iam.can(me, "read", f"{public}/S2A_33TWL_20230815_0_L2A")
    assert iam.can(me, "getIamPolicy", public)
    for action in ("create", "delete", "update", "setIamPolicy"):
        assert outcome(iam, me, action, public) == (SCOPE if scope == "readonly" else DENIED)
    assert outcome(iam, me, "compute", "projects/earthengine-public") == DENIED


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("action", ACTIONS)
def test_no_oracle_between_private_and_missing(
    tmp_path: Path, iam: Iam, scope: str, action: Action
) -> None:
    """A private asset answers exactly like a missing one, whatever the action."""
    catalog = SqliteCatalog(tmp_path / "catalog.sqlite")
    catalog.put(AssetRecord(name=ASSET, type=FOLDER))
    missing = f"{FOLDER_NAME}/nothing-here"
    assert catalog.get(missing) is None

    def answer(name: str) -> tuple[str, int, str]:
        try:
            iam.authorize(Principal(ME, "elsewhere", SCOPES[scope]), action, name)
        except (AssetNotFoundError, PermissionDeniedError) as exc:
            return type(exc).__name__, exc.http_status, exc.message.replace(name, "<name>")
        return ("allowed", 200, "")

    assert answer(ASSET) == answer(missing)
    assert answer(ASSET)[0] != "allowed"


def test_legacy_project_computes_as_the_callers_own(store: AuthStore, iam: Iam) -> None:
    store.add_account(f"ci@{TEAM}.iam.gserviceaccount.com", TEAM)
    ci = Principal(f"ci@{TEAM}.iam.gserviceaccount.com", TEAM, SCOPES["readonly"])
    iam.authorize(ci, "compute", "projects/earthengine-legacy")
    stranger = Principal(ME, "elsewhere", SCOPES["readonly"])
    with pytest.raises(PermissionDeniedError):
        iam.authorize(stranger, "compute", "projects/earthengine-legacy")


def test_no_auth_and_api_key_principals(iam: Iam) -> None:
    assert iam.role(anonymous("p"), ASSET) == Role.OWNER
    iam.authorize(anonymous("p"), "setIamPolicy", ASSET)
    key = Principal("apikey:0badc0de", TEAM, SCOPES["readonly"], via_api_key=True)
    iam.authorize(key, "compute", f"projects/{TEAM}")
    iam.authorize(key, "read", ASSET)
    assert outcome(iam, key, "delete", ASSET) == SCOPE
    assert outcome(iam, key, "read", "projects/other/assets/x") == HIDDEN
    # Bindings to everyone do not extend to API keys of other projects.
    iam.grant("projects/other", "roles/viewer", "allUsers")
    assert outcome(iam, key, "read", "projects/other/assets/x") == HIDDEN


def test_policy_round_trip_and_etag(iam: Iam) -> None:
    empty = iam.get_policy(FOLDER_NAME)
    assert "bindings" not in empty and empty["version"] == 1
    written = iam.set_policy(
        FOLDER_NAME,
        {
            "etag": empty["etag"],
            "bindings": [
                {"role": "roles/writer", "members": ["serviceAccount:b@x.com", "user:a@x.com"]},
                {"role": "roles/viewer", "members": ["allUsers"]},
            ],
        },
    )
    assert written == iam.get_policy(FOLDER_NAME)
    assert written["bindings"] == [
        {"role": "roles/editor", "members": ["serviceAccount:b@x.com", "user:a@x.com"]},
        {"role": "roles/viewer", "members": ["allUsers"]},
    ]
    with pytest.raises(AbortedError) as stale:
        iam.set_policy(FOLDER_NAME, {"etag": empty["etag"], "bindings": []})
    assert stale.value.http_status == 409
    assert iam.get_policy(FOLDER_NAME) == written  # unchanged
    assert "bindings" not in iam.set_policy(FOLDER_NAME, {"bindings": []})


@pytest.mark.parametrize(
    "policy",
    [
        {"bindings": [{"role": "roles/superuser", "members": ["user:a@x.com"]}]},
        {"bindings": [{"role": "roles/viewer", "members": ["a@x.com"]}]},
        {"bindings": [{"role": "roles/viewer", "members": ["user:"]}]},
        {"bindings": [{"role": "roles/viewer", "members": "user:a@x.com"}]},
        {"bindings": [{"role": "roles/viewer", "members": [], "condition": {"expression": "x"}}]},
        {"bindings": "nope"},
    ],
)
def test_malformed_policies_are_refused(iam: Iam, policy: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError):
        iam.set_policy(FOLDER_NAME, policy)


def test_resource_names() -> None:
    assert resource_name("projects/p") == "projects/p/assets"
    assert resource_name("projects/p/assets/") == "projects/p/assets"
    assert resource_name("COPERNICUS/S2") == "projects/earthengine-public/assets/COPERNICUS/S2"
    with pytest.raises(InvalidArgumentError):
        resource_name("projects/p/assets/../../etc")


def test_permissions(iam: Iam) -> None:
    me = Principal(ME, "elsewhere", SCOPES["write"])
    iam.grant(FOLDER_NAME, "roles/editor", f"serviceAccount:{ME}")
    asked = [
        "earthengine.assets.get",
        "earthengine.assets.delete",
        "earthengine.assets.setIamPolicy",
        "storage.buckets.create",
    ]
    assert iam.permissions(me, ASSET, asked) == asked[:2]


def test_readable_catalog_hides_what_the_principal_may_not_read(tmp_path: Path, iam: Iam) -> None:
    catalog = SqliteCatalog(tmp_path / "catalog.sqlite")
    catalog.put(AssetRecord(name=FOLDER_NAME, type=FOLDER))
    catalog.put(AssetRecord(name=ASSET, type=FOLDER))
    me = Principal(ME, "elsewhere", SCOPES["readonly"])
    view = ReadableCatalog(catalog, iam, me)
    assert view.get(ASSET) is None and view.children(FOLDER_NAME) == []
    assert view.query_images(ImageQuery(FOLDER_NAME)) == []
    iam.grant(FOLDER_NAME, "roles/viewer", f"serviceAccount:{ME}")
    got = view.get(ASSET)
    assert got is not None and got.name == ASSET
    assert [r.name for r in view.children(FOLDER_NAME)] == [ASSET]
    with pytest.raises(PermissionDeniedError):
        view.delete(ASSET)
