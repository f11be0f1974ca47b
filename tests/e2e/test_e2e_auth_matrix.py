"""The access-control matrix over HTTP, against one live server: {read-only, write scope} x
{viewer, writer, owner, no role} x {compute, read asset, create asset, delete asset, set policy},
every one of the 40 cells asserted.

Four service accounts live in another project and hold, on the server's project root, the roles
viewer, writer (`roles/editor`), owner, and nothing. Each calls through stock google-auth
(`service_account.Credentials` with the cell's scope, `AuthorizedSession`). The expected table
below is written from the rules, not from openee:

* a read-only scope (`earthengine.readonly`) may compute and read, and never write;
* a viewer may compute in the project and read its assets; a writer may also create and delete
  them; an owner may also set their IAM policy;
* without a role, nothing: computing in the project is refused, and every asset answers exactly
  as a missing one does (no 404-versus-403 oracle).

Each cell also checks the effect: a refused write changed nothing, an allowed one happened.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_server import EE_READONLY_SCOPE, EE_SCOPE, AuthServer, launch

from openee.catalog.model import FOLDER, IMAGE_COLLECTION, AssetRecord
from openee.catalog.sqlite import SqliteCatalog

SCOPES = {"readonly": EE_READONLY_SCOPE, "write": EE_SCOPE}
ROLES = {"viewer": "roles/viewer", "writer": "roles/editor", "owner": "roles/owner", "none": None}
ACTIONS = ("compute", "read", "create", "delete", "set_policy")
PEOPLE = "matrix-people"  # the accounts' own project
GEOJSON = Path(__file__).resolve().parents[2] / "tests/data/vector/eo-learn/svn_border.geojson"

OK = "ok"  # 200, and the effect happened
SCOPE = "scope"  # 403: the token's scopes do not allow writes
DENIED = "denied"  # 403: the caller's role does not allow this
HIDDEN = "hidden"  # 404, answered exactly as for a missing asset

# fmt: off
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("readonly", "viewer"): {"compute": OK,     "read": OK,     "create": SCOPE,  "delete": SCOPE,  "set_policy": SCOPE},
    ("readonly", "writer"): {"compute": OK,     "read": OK,     "create": SCOPE,  "delete": SCOPE,  "set_policy": SCOPE},
    ("readonly", "owner"):  {"compute": OK,     "read": OK,     "create": SCOPE,  "delete": SCOPE,  "set_policy": SCOPE},
    ("readonly", "none"):   {"compute": DENIED, "read": HIDDEN, "create": SCOPE,  "delete": SCOPE,  "set_policy": SCOPE},
    ("write", "viewer"):    {"compute": OK,     "read": OK,     "create": DENIED, "delete": DENIED, "set_policy": DENIED},
    ("write", "writer"):    {"compute": OK,     "read": OK,     "create": OK,     "delete": OK,     "set_policy": DENIED},
    ("write", "owner"):     {"compute": OK,     "read": OK,     "create": OK,     "delete": OK,     "set_policy": OK},
    ("write", "none"):      {"compute": DENIED, "read": HIDDEN, "create": HIDDEN, "delete": HIDDEN, "set_policy": HIDDEN},
}
# fmt: on

INSUFFICIENT_SCOPES = "Request had insufficient authentication scopes."
# 1 + 2, as the stock client serializes `ee.Number(1).add(2)`.
ONE_PLUS_TWO = {
    "result": "0",
    "values": {
        "0": {
            "functionInvocationValue": {
                "functionName": "Number.add",
                "arguments": {"left": {"constantValue": 1}, "right": {"constantValue": 2}},
            }
        }
    },
}
NEW_POLICY = {
    "bindings": [
        {"role": "roles/viewer", "members": ["serviceAccount:auditor@else.iam.gserviceaccount.com"]}
    ]
}

CELLS = [(s, r, a) for s in SCOPES for r in ROLES for a in ACTIONS]


def test_the_table_has_every_cell() -> None:
    assert sorted((s, r, a) for (s, r), row in EXPECTED.items() for a in row) == sorted(CELLS)
    assert len(CELLS) == 40


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    root = tmp_path_factory.mktemp("auth-matrix")
    with launch(root) as server:
        uploads = server.data_dir / "projects" / server.project / "uploads"
        uploads.mkdir(parents=True)
        shutil.copy(GEOJSON, uploads / "border.geojson")
        folder = matrix(server)
        catalog = SqliteCatalog(server.data_dir / "catalog.sqlite")
        catalog.put(AssetRecord(name=folder, type=FOLDER))
        catalog.put(AssetRecord(name=f"{folder}/readable", type=IMAGE_COLLECTION))
        for scope, role in EXPECTED:
            catalog.put(AssetRecord(name=f"{folder}/victim_{scope}_{role}", type=IMAGE_COLLECTION))
            catalog.put(AssetRecord(name=f"{folder}/policy_{scope}_{role}", type=FOLDER))
        catalog.close()
        keys = root / "keys"
        for role, binding in ROLES.items():
            account = f"matrix-{role}"
            assert server.cli("service-accounts", "create", account, "--project", PEOPLE) == 0
            out = keys / f"{role}.json"
            assert server.cli("keys", "create", "--account", account, "--project", PEOPLE,
                              "--port", str(server.port), "--out", str(out)) == 0  # fmt: skip
            server.secret(json.loads(out.read_text())["private_key"])
            if binding is not None:
                member = f"serviceAccount:{account}@{PEOPLE}.iam.gserviceaccount.com"
                assert server.cli("iam", "grant", f"projects/{server.project}",
                                  "--role", binding, "--member", member) == 0  # fmt: skip
        yield server


def matrix(srv: AuthServer) -> str:
    return f"projects/{srv.project}/assets/matrix"


@pytest.fixture(scope="module")
def sessions(srv: AuthServer) -> Iterator[dict[tuple[str, str], Any]]:
    """One stock google-auth session per (scope, role), made when first used."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    made: dict[tuple[str, str], Any] = {}

    class Sessions(dict[tuple[str, str], Any]):
        def __missing__(self, cell: tuple[str, str]) -> Any:
            scope, role = cell
            key_path = srv.data_dir.parent / "keys" / f"{role}.json"
            credentials = service_account.Credentials.from_service_account_file(
                str(key_path), scopes=[SCOPES[scope]]
            )
            made[cell] = session = AuthorizedSession(credentials)
            self[cell] = session
            return session

    yield Sessions()
    for session in made.values():
        if session.credentials.token:
            srv.secret(str(session.credentials.token))
        session.close()


@pytest.fixture(scope="module")
def owner(srv: AuthServer) -> Iterator[Any]:
    """The server's default account (owner of its project), to look at the effects."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(srv.key_path), scopes=[EE_SCOPE]
    )
    with AuthorizedSession(credentials) as session:
        yield session
        srv.secret(str(credentials.token))


def request(srv: AuthServer, session: Any, action: str, target: str) -> Any:
    """The call that performs `action`, on asset `target` (the project for `compute`)."""
    v1 = f"{srv.base_url}/v1"
    if action == "compute":
        return session.post(f"{v1}/{target}/value:compute", json={"expression": ONE_PLUS_TWO})
    if action == "read":
        return session.get(f"{v1}/{target}")
    if action == "create":
        parent, asset_id = target.split("/assets/", 1)
        return session.post(f"{v1}/{parent}/assets", params={"assetId": asset_id},
                            json={"type": "FOLDER"})  # fmt: skip
    if action == "delete":
        return session.delete(f"{v1}/{target}")
    assert action == "set_policy"
    return session.post(f"{v1}/{target}:setIamPolicy", json={"policy": NEW_POLICY})


def targets(srv: AuthServer, scope: str, role: str, action: str) -> tuple[str, str]:
    """The asset a cell acts on, and a missing asset that must answer alike when hidden."""
    folder, cell = matrix(srv), f"{scope}_{role}"
    return {
        "compute": (f"projects/{srv.project}", f"projects/{srv.project}"),
        "read": (f"{folder}/readable", f"{folder}/absent_{cell}"),
        "create": (f"{folder}/new_{cell}", f"{folder}_absent/new_{cell}"),
        "delete": (f"{folder}/victim_{cell}", f"{folder}/absent_{cell}"),
        "set_policy": (f"{folder}/policy_{cell}", f"{folder}/absent_{cell}"),
    }[action]


def exists(srv: AuthServer, owner: Any, name: str) -> bool:
    response = owner.get(f"{srv.base_url}/v1/{name}")
    assert response.status_code in (200, 404), response.text
    return bool(response.status_code == 200)


def policy(srv: AuthServer, owner: Any, name: str) -> list[Any]:
    response = owner.post(f"{srv.base_url}/v1/{name}:getIamPolicy", json={})
    assert response.status_code == 200, response.text
    bindings: list[Any] = response.json().get("bindings", [])
    return bindings


@pytest.mark.parametrize(("scope", "role", "action"), CELLS, ids=["-".join(cell) for cell in CELLS])
def test_cell(
    srv: AuthServer,
    sessions: dict[tuple[str, str], Any],
    owner: Any,
    scope: str,
    role: str,
    action: str,
) -> None:
    expected = EXPECTED[(scope, role)][action]
    session = sessions[(scope, role)]
    target, missing = targets(srv, scope, role, action)
    response = request(srv, session, action, target)
    body = response.json()

    if expected == OK:
        assert response.status_code == 200, response.text
    elif expected == SCOPE:
        assert response.status_code == 403, response.text
        assert body["error"] == {"code": 403, "message": INSUFFICIENT_SCOPES,
                                 "status": "PERMISSION_DENIED"}  # fmt: skip
    elif expected == DENIED:
        assert response.status_code == 403, response.text
        assert body["error"]["status"] == "PERMISSION_DENIED"
        assert body["error"]["message"] != INSUFFICIENT_SCOPES  # the role, not the scope
    else:
        assert expected == HIDDEN
        assert response.status_code == 404, response.text
        assert body["error"]["status"] == "NOT_FOUND"
        twin = request(srv, session, action, missing)
        assert twin.status_code == 404
        assert json.dumps(body).replace(target, missing) == json.dumps(twin.json())

    # The effect, or its absence, as the project's owner sees it.
    if action == "compute" and expected == OK:
        assert body == {"result": 3}
    elif action == "read" and expected == OK:
        assert body["name"] == target and body["type"] == "IMAGE_COLLECTION"
    elif action == "create":
        assert exists(srv, owner, target) is (expected == OK)
    elif action == "delete":
        assert exists(srv, owner, target) is (expected != OK)
    elif action == "set_policy":
        assert policy(srv, owner, target) == (NEW_POLICY["bindings"] if expected == OK else [])


def test_operations_follow_the_project_roles(
    srv: AuthServer, sessions: dict[tuple[str, str], Any], owner: Any
) -> None:
    """An operation names the asset it writes: without a role in its project (and not being
    its creator) it answers as a missing one; a viewer sees it; a writer may cancel it."""
    v1, project = f"{srv.base_url}/v1", srv.project
    made = owner.post(
        f"{v1}/projects/{project}/table:import",
        json={
            "tableManifest": {
                "name": f"{matrix(srv)}/imported",
                "sources": [{"uris": [f"projects/{project}/uploads/border.geojson"]}],
            }
        },
    )
    assert made.status_code == 200, made.text
    op = made.json()["name"]
    done = owner.post(f"{v1}/{op}:wait", json={"timeout": "30s"}).json()
    assert done["done"] and done["metadata"]["state"] == "SUCCEEDED"
    missing = f"projects/{project}/operations/{'0' * 24}"

    def call(session: Any, method: str, name: str) -> Any:
        if method == "get":
            return session.get(f"{v1}/{name}")
        if method == "delete":
            return session.delete(f"{v1}/{name}")
        return session.post(f"{v1}/{name}:{method}", json={})

    nobody = sessions[("write", "none")]
    for method in ("get", "wait", "cancel", "delete"):
        real, twin = call(nobody, method, op), call(nobody, method, missing)
        assert real.status_code == 404, (method, real.text)
        assert real.text.replace(op, missing) == twin.text
    listed = nobody.get(f"{v1}/projects/{project}/operations")
    assert listed.status_code == 403
    assert "imported" not in listed.text

    viewer = sessions[("write", "viewer")]
    assert call(viewer, "get", op).json()["name"] == op
    assert op in [o["name"] for o in viewer.get(f"{v1}/projects/{project}/operations").json()["operations"]]  # fmt: skip
    for method in ("cancel", "delete"):
        refused = call(viewer, method, op)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["status"] == "PERMISSION_DENIED"

    writer = sessions[("write", "writer")]
    assert call(writer, "cancel", op).status_code == 200
    assert call(writer, "delete", op).status_code == 200
    assert call(owner, "get", op).status_code == 404
