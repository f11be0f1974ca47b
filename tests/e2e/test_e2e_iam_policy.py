"""Asset IAM through the stock client (`ee.data.getIamPolicy/setIamPolicy/getAssetAcl`) on a
dedicated server: an account of another project sees nothing of a private folder (answers are
those of a missing asset) until the folder's owner binds it a role."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from auth_server import EE_READONLY_SCOPE, AuthServer, bearer, launch, server_env
from oracle import load_items

from openee.catalog.model import FOLDER, AssetRecord
from openee.catalog.names import name_from_id
from openee.catalog.sqlite import SqliteCatalog

ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
OUTSIDER_PROJECT = "team-bee"
OUTSIDER = f"outsider@{OUTSIDER_PROJECT}.iam.gserviceaccount.com"

# Runs stock-client calls as one service account; each result is its value or its error.
EE_SCRIPT = """
import json, sys, ee, requests
base_url, key_path, project, calls = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
ee.Initialize(ee.ServiceAccountCredentials(None, key_path), project=project, url=base_url)
out = []
for name, *args in calls:
    try:
        if name == "getIamPolicy":
            value = ee.data.getIamPolicy(args[0])
        elif name == "setIamPolicy":
            value = ee.data.setIamPolicy(args[0], args[1])
        elif name == "getAssetAcl":
            value = ee.data.getAssetAcl(args[0])
        elif name == "getAsset":
            value = ee.data.getAsset(args[0])["name"]
        elif name == "listAssets":
            value = [a["name"] for a in ee.data.listAssets({"parent": args[0]})["assets"]]
        elif name == "getInfo":
            value = ee.Image(args[0]).bandNames().getInfo()
        elif name == "getPixels":
            value = ee.data.getPixels({"assetId": args[0], "fileFormat": "NUMPY_NDARRAY",
                                       "bandIds": ["B4"], "grid": {"dimensions": {"width": 4, "height": 4}}}).shape
        elif name == "thumb":
            url = ee.Image(args[0]).getThumbURL({"bands": ["B4"], "min": 0, "max": 3000,
                                                 "dimensions": 16})
            value = requests.get(url).status_code
        out.append({"ok": value})
    except ee.EEException as exc:
        out.append({"error": str(exc)})
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    root = tmp_path_factory.mktemp("iam")
    with launch(root) as server:
        catalog = SqliteCatalog(server.data_dir / "catalog.sqlite")
        scene = catalog.get(name_from_id(ITEM.image_id))
        assert scene is not None
        for folder in (private(server), secret(server)):
            catalog.put(AssetRecord(name=folder, type=FOLDER))
            catalog.put(replace(scene, name=f"{folder}/scene"))
        catalog.close()
        yield server


@pytest.fixture(scope="module")
def outsider_key(srv: AuthServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("outsider") / "key.json"
    assert srv.cli("service-accounts", "create", "outsider", "--project", OUTSIDER_PROJECT) == 0
    args = ["--account", "outsider", "--project", OUTSIDER_PROJECT, "--port", str(srv.port)]
    assert srv.cli("keys", "create", *args, "--out", str(out)) == 0
    srv.secret(json.loads(out.read_text())["private_key"])
    return out


def private(srv: AuthServer) -> str:
    return f"projects/{srv.project}/assets/private"


def secret(srv: AuthServer) -> str:
    """A folder nobody outside the project is ever granted."""
    return f"projects/{srv.project}/assets/secret"


def as_account(
    srv: AuthServer, key_path: Path, project: str, tmp_path: Path, *calls: list[Any]
) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-c", EE_SCRIPT, srv.base_url, str(key_path), project, json.dumps(calls)],
        env=server_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: list[dict[str, Any]] = json.loads(result.stdout.splitlines()[-1])
    return out


def test_private_assets_look_missing_until_a_role_is_bound(
    srv: AuthServer, outsider_key: Path, tmp_path: Path
) -> None:
    folder, scene, missing = private(srv), f"{private(srv)}/scene", f"{private(srv)}/nothing"
    before = as_account(
        srv, outsider_key, OUTSIDER_PROJECT, tmp_path,
        ["getIamPolicy", scene], ["getIamPolicy", missing],
        ["thumb", scene], ["thumb", missing],
        ["setIamPolicy", scene, {"bindings": []}], ["setIamPolicy", missing, {"bindings": []}],
    )  # fmt: skip
    for private_answer, missing_answer in zip(before[::2], before[1::2], strict=True):
        assert "error" in private_answer
        assert private_answer["error"].replace(scene, missing) == missing_answer["error"]
    assert "not found (does not exist or caller does not have access)" in before[0]["error"]

    # The owner (the server's default account owns its project) binds the outsider as viewer.
    owner = as_account(
        srv, srv.key_path, srv.project, tmp_path,
        ["getIamPolicy", f"projects/{srv.project}/assets/"],
        ["getIamPolicy", folder],
        ["setIamPolicy", folder, {"bindings": [
            {"role": "roles/viewer", "members": [f"serviceAccount:{OUTSIDER}"]}]}],
        ["getAssetAcl", folder],
    )  # fmt: skip
    assert owner[0]["ok"]["bindings"] == [
        {"role": "roles/owner", "members": [f"serviceAccount:{srv.key['client_email']}"]}
    ]
    assert "bindings" not in owner[1]["ok"]
    assert owner[2]["ok"]["bindings"] == [
        {"role": "roles/viewer", "members": [f"serviceAccount:{OUTSIDER}"]}
    ]
    assert owner[3]["ok"] == {
        "owners": [],
        "readers": [f"serviceAccount:{OUTSIDER}"],
        "writers": [],
    }

    after = as_account(
        srv, outsider_key, OUTSIDER_PROJECT, tmp_path,
        ["getIamPolicy", scene], ["thumb", scene], ["thumb", missing],
        ["setIamPolicy", folder, {"bindings": []}],
    )  # fmt: skip
    assert "version" in after[0]["ok"]
    assert after[1] == {"ok": 200}  # the thumbnail URL works, without credentials
    assert "not found" in after[2]["error"]  # a missing asset is still missing
    assert "does not have permission to set the IAM policy" in after[3]["error"]
    # The outsider still cannot compute in the owner's project.
    in_owner_project = as_account(
        srv,
        outsider_key,
        srv.project,
        tmp_path,
        ["thumb", f"COPERNICUS/S2_SR_HARMONIZED/{ITEM.id}"],
    )
    assert "permission to use project" in in_owner_project[0]["error"]


def test_public_namespace_is_readable_by_everyone(
    srv: AuthServer, outsider_key: Path, tmp_path: Path
) -> None:
    public = f"COPERNICUS/S2_SR_HARMONIZED/{ITEM.id}"
    got = as_account(
        srv, outsider_key, OUTSIDER_PROJECT, tmp_path,
        ["thumb", public], ["getIamPolicy", "COPERNICUS/S2_SR_HARMONIZED"],
        ["setIamPolicy", "COPERNICUS/S2_SR_HARMONIZED", {"bindings": []}],
    )  # fmt: skip
    assert got[0] == {"ok": 200}
    assert "version" in got[1]["ok"]
    assert "does not have permission" in got[2]["error"]


def iam_call(srv: AuthServer, token: str, resource: str, method: str, body: Any) -> Any:
    return requests.post(
        f"{srv.base_url}/v1/{resource}:{method}", json=body, headers=bearer(token), timeout=60
    )


def test_test_iam_permissions_and_scopes(srv: AuthServer) -> None:
    token = srv.token(srv.key)
    asked = {"permissions": ["earthengine.assets.get", "earthengine.assets.setIamPolicy", "x.y"]}
    granted = iam_call(srv, token, private(srv), "testIamPermissions", asked)
    assert granted.status_code == 200
    assert granted.json() == {"permissions": asked["permissions"][:2]}
    readonly = srv.token(srv.key, scopes=[EE_READONLY_SCOPE])
    assert iam_call(srv, readonly, private(srv), "getIamPolicy", {}).status_code == 200
    refused = iam_call(srv, readonly, private(srv), "setIamPolicy", {"policy": {"bindings": []}})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Request had insufficient authentication scopes."
    stale = iam_call(
        srv, token, private(srv), "setIamPolicy", {"policy": {"bindings": [], "etag": "AAAA"}}
    )
    assert stale.status_code == 409 and stale.json()["error"]["status"] == "ABORTED"
    bad = iam_call(
        srv,
        token,
        private(srv),
        "setIamPolicy",
        {"policy": {"bindings": [{"role": "roles/god", "members": ["allUsers"]}]}},
    )
    assert bad.status_code == 400
    assert iam_call(srv, "nonsense", private(srv), "getIamPolicy", {}).status_code == 401
    audit = srv.audit_path.read_text()
    assert '"iam.set_policy"' in audit


def test_reads_and_computations_of_private_assets_answer_as_missing(
    srv: AuthServer, outsider_key: Path, tmp_path: Path
) -> None:
    scene, missing = f"{secret(srv)}/scene", f"{secret(srv)}/nothing"
    calls = [
        [name, asset] for name in ("getAsset", "getInfo", "getPixels") for asset in (scene, missing)
    ]
    calls += [["listAssets", secret(srv)], ["listAssets", f"{secret(srv)}-missing"]]
    answers = as_account(srv, outsider_key, OUTSIDER_PROJECT, tmp_path, *calls)
    pairs = zip(calls[::2], calls[1::2], answers[::2], answers[1::2], strict=True)
    for private_call, missing_call, private_answer, missing_answer in pairs:
        assert "error" in private_answer, private_answer
        normalised = private_answer["error"].replace(private_call[1], missing_call[1])
        assert normalised == missing_answer["error"]
    # The owner reads and computes on the same assets.
    owner = as_account(srv, srv.key_path, srv.project, tmp_path, *calls[:1], ["getInfo", scene])
    assert owner[0] == {"ok": scene}
    assert owner[1]["ok"] == ["B2", "B3", "B4", "B8", "SCL"]
