"""The audit log of asset writes, against a live server driven by stock google-auth
(`service_account.Credentials` + `AuthorizedSession`): every write through the REST API (create
folder, collection and image, patch, copy, move, delete and recursive delete, image:import and
table:import with their completion, operation cancel and delete, setIamPolicy) appends one entry
naming the principal, the action, the asset(s), the project, the time and the outcome, refused
writes included. When the server stops, its logs are scanned for token and key material
(auth_server.launch).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from auth_server import EE_READONLY_SCOPE, EE_SCOPE, AuthServer, launch

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data"
TIF = DATA / "landsat" / "lc08_c2l2_001062_20201031_600m" / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"  # fmt: skip
GEOJSON = DATA / "vector" / "eo-learn" / "svn_border.geojson"
OUTSIDER_PROJECT = "audit-elsewhere"
# `ee.Image.constant(1)` as the stock client serializes it.
CONSTANT_IMAGE = {
    "result": "0",
    "values": {
        "0": {
            "functionInvocationValue": {
                "functionName": "Image.constant",
                "arguments": {"value": {"constantValue": 1}},
            }
        }
    },
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    with launch(tmp_path_factory.mktemp("audit-writes")) as server:
        uploads = server.data_dir / "projects" / server.project / "uploads"
        uploads.mkdir(parents=True)
        shutil.copy(TIF, uploads / "b4.tif")
        shutil.copy(GEOJSON, uploads / "border.geojson")
        yield server


@contextmanager
def authorized_session(srv: AuthServer, key_path: Path, scope: str) -> Iterator[Any]:
    """A stock google-auth session; its token is registered as a secret for the log scan."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(key_path), scopes=[scope]
    )
    with AuthorizedSession(credentials) as s:
        try:
            yield s
        finally:
            if credentials.token:
                srv.secret(str(credentials.token))


@pytest.fixture(scope="module")
def session(srv: AuthServer) -> Iterator[Any]:
    """The server's default account (owner of its project)."""
    with authorized_session(srv, srv.key_path, EE_SCOPE) as s:
        yield s


def audit_entries(srv: AuthServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in srv.audit_path.read_text().splitlines()]


def find(entries: list[dict[str, Any]], event: str, **fields: Any) -> dict[str, Any]:
    """The one entry of `event` whose fields include `fields`."""
    hits = [
        e for e in entries if e["event"] == event and all(e.get(k) == v for k, v in fields.items())
    ]
    assert len(hits) == 1, (event, fields, [e for e in entries if e["event"] == event])
    return hits[0]


def finish(session: Any, srv: AuthServer, operation: str) -> dict[str, Any]:
    response = session.post(f"{srv.base_url}/v1/{operation}:wait", json={"timeout": "30s"})
    assert response.status_code == 200, response.text
    op: dict[str, Any] = response.json()
    assert op["done"], op
    return op


def test_every_write_is_audited(srv: AuthServer, session: Any, tmp_path: Path) -> None:
    started = datetime.now(UTC)
    v1, project = f"{srv.base_url}/v1", srv.project
    root = f"projects/{project}/assets"
    folder = f"{root}/audited"
    me = srv.key["client_email"]

    def ok(response: Any) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    def create(asset_id: str, body: dict[str, Any]) -> Any:
        return session.post(f"{v1}/{root}", params={"assetId": asset_id}, json=body)

    ok(create("audited", {"type": "FOLDER"}))
    ok(create("audited/coll", {"type": "IMAGE_COLLECTION", "properties": {"a": 1}}))
    image = {
        "type": "IMAGE",
        "gcs_location": {"uris": [str(srv.data_dir / f"projects/{srv.project}/uploads/b4.tif")]},
    }
    ok(create("audited/img", image))
    ok(
        session.patch(
            f"{v1}/{folder}/coll",
            json={"updateMask": {"paths": ["properties"]}, "asset": {"properties": {"b": 2}}},
        )
    )
    ok(session.post(f"{v1}/{folder}/img:copy", json={"destinationName": f"{folder}/img_copy"}))
    ok(session.post(f"{v1}/{folder}/img_copy:move", json={"destinationName": f"{folder}/moved"}))
    ok(session.delete(f"{v1}/{folder}/moved"))
    image_op = ok(
        session.post(
            f"{v1}/projects/{project}/image:import",
            json={
                "imageManifest": {
                    "name": f"{folder}/imported",
                    "tilesets": [{"sources": [{"uris": [f"projects/{project}/uploads/b4.tif"]}]}],
                }
            },
        )
    )["name"]
    table_op = ok(
        session.post(
            f"{v1}/projects/{project}/table:import",
            json={
                "tableManifest": {
                    "name": f"{folder}/table",
                    "sources": [{"uris": [f"projects/{project}/uploads/border.geojson"]}],
                }
            },
        )
    )["name"]
    assert finish(session, srv, image_op)["metadata"]["state"] == "SUCCEEDED"
    assert finish(session, srv, table_op)["metadata"]["state"] == "SUCCEEDED"
    ok(session.post(f"{v1}/{image_op}:cancel", json={}))  # finished: stays as it was
    ok(session.delete(f"{v1}/{table_op}"))
    policy = {"bindings": [{"role": "roles/viewer", "members": ["allAuthenticatedUsers"]}]}
    ok(session.post(f"{v1}/{folder}/coll:setIamPolicy", json={"policy": policy}))

    # Refused writes: a read-only token, an account with no role here, a clash, bad input.
    with authorized_session(srv, srv.key_path, EE_READONLY_SCOPE) as readonly:
        assert readonly.delete(f"{v1}/{folder}/coll").status_code == 403
    outsider_key = tmp_path / "outsider.json"
    assert srv.cli("service-accounts", "create", "outsider", "--project", OUTSIDER_PROJECT) == 0
    assert srv.cli("keys", "create", "--account", "outsider", "--project", OUTSIDER_PROJECT,
                   "--port", str(srv.port), "--out", str(outsider_key)) == 0  # fmt: skip
    srv.secret(json.loads(outsider_key.read_text())["private_key"])
    with authorized_session(srv, outsider_key, EE_SCOPE) as outsider:
        assert outsider.delete(f"{v1}/{folder}/img").status_code == 404  # private: as missing
    assert create("audited/coll", {"type": "FOLDER"}).status_code == 409
    assert session.delete(f"{v1}/{folder}").status_code == 400  # not empty, not recursive

    # Writes aimed at a capability URL fail; the id (a credential) stays out of the log.
    made = ok(session.post(f"{v1}/projects/{project}/maps", json={"expression": CONSTANT_IMAGE}))
    srv.secret(made["name"].rsplit("/", 1)[1])
    assert session.delete(f"{v1}/{made['name']}").status_code == 404
    assert session.patch(f"{v1}/{made['name']}", json={}).status_code == 404
    assert (
        session.post(f"{v1}/{made['name']}:move", json={"destinationName": folder}).status_code
        == 404
    )
    assert (
        session.post(f"{v1}/{folder}/coll:copy", json={"destinationName": made["name"]}).status_code
        == 400
    )

    # The recursive delete removes the folder and everything still in it.
    listed = ok(session.get(f"{v1}/{folder}:listAssets"))["assets"]
    assert sorted(a["name"] for a in listed) == [
        f"{folder}/coll", f"{folder}/img", f"{folder}/imported", f"{folder}/table"
    ]  # fmt: skip
    ok(session.delete(f"{v1}/{folder}", params={"recursive": "true"}))
    ended = datetime.now(UTC)
    time.sleep(0.2)

    entries = audit_entries(srv)
    writes = [e for e in entries if e["event"].split(".")[0] in ("asset", "operation", "iam")]
    for entry in writes:
        when = datetime.fromisoformat(entry["time"])
        assert started - timedelta(seconds=1) <= when <= ended + timedelta(seconds=1), entry
        assert entry["client"] == "127.0.0.1"
        assert entry["project"] == project
        assert entry["principal"]
    mine = {"principal": me, "outcome": "OK"}
    find(writes, "asset.create", asset=folder, type="FOLDER", **mine)
    find(writes, "asset.create", asset=f"{folder}/coll", type="IMAGE_COLLECTION", **mine)
    find(writes, "asset.create", asset=f"{folder}/img", type="IMAGE", **mine)
    assert find(writes, "asset.update", asset=f"{folder}/coll", **mine)["paths"] == ["properties"]
    find(writes, "asset.copy", source=f"{folder}/img", destination=f"{folder}/img_copy", **mine)
    find(writes, "asset.move", source=f"{folder}/img_copy", destination=f"{folder}/moved", **mine)
    one = find(writes, "asset.delete", asset=f"{folder}/moved", **mine)
    assert one["recursive"] is False and one["deleted"] == 1
    find(writes, "asset.import_image", asset=f"{folder}/imported", operation=image_op, **mine)
    find(
        writes, "asset.import_image.finish", asset=f"{folder}/imported", operation=image_op, **mine
    )
    find(writes, "asset.import_table", asset=f"{folder}/table", operation=table_op, **mine)
    find(writes, "asset.import_table.finish", asset=f"{folder}/table", operation=table_op, **mine)
    find(writes, "operation.cancel", operation=image_op, **mine)
    find(writes, "operation.delete", operation=table_op, **mine)
    set_policy = find(writes, "iam.set_policy", resource=f"{folder}/coll", **mine)
    assert set_policy["bindings"] == policy["bindings"]
    everything = find(writes, "asset.delete", asset=folder, recursive=True, **mine)
    assert everything["deleted"] == 1 + len(listed)

    # Refusals are recorded with their status.
    refused = [e for e in writes if e["outcome"] != "OK"]
    assert len(refused) == 8, refused
    capability_names = [e for e in refused if "maps/" in json.dumps(e)]
    assert len(capability_names) == 4
    assert all("/maps/{id}" in json.dumps(e) for e in capability_names), capability_names
    find(refused, "asset.delete", asset=f"{folder}/coll", principal=me,
         outcome="PERMISSION_DENIED", code=403)  # fmt: skip
    find(refused, "asset.delete", asset=f"{folder}/img",
         principal=f"outsider@{OUTSIDER_PROJECT}.iam.gserviceaccount.com",
         outcome="NOT_FOUND", code=404)  # fmt: skip
    find(refused, "asset.create", asset=f"{folder}/coll", principal=me,
         outcome="ALREADY_EXISTS", code=409)  # fmt: skip
    find(refused, "asset.delete", asset=folder, recursive=False, principal=me,
         outcome="FAILED_PRECONDITION", code=400)  # fmt: skip

    # 21 writes were made; each has exactly one entry (imports two: request, finish).
    assert len(writes) == 21 + 2
    # No request body reaches the log: the collection's properties are not in it.
    assert '"b": 2' not in srv.audit_path.read_text()
