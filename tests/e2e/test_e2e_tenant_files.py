"""Tenant isolation of files (ADR 0034), over HTTP with stock google-auth sessions: two service
accounts, alice in project `tenant-a` and bob in `tenant-b`, neither with a role in the other's
project, on one server with a shared root (OPENEE_ALLOWED_ROOTS).

Bob must not read the pixels or rows behind alice's private image and table by naming their
files: not by `image:import`, `table:import`, `assets.create` (a COG-backed image), nor
`Image.loadGeoTIFF` in `value:compute` / `image:computePixels`; and each refusal must be the
answer for a file that does not exist (same status, same message but for the URI), so that
no path is an existence oracle. Alice reads her files; both read the shared root; bob reads his
own project's area; bob reads alice's file once alice lets him read the asset it backs.

Oracles: rasterio on the same file for pixels, the CSV written by the test for rows.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from auth_server import EE_SCOPE, AuthServer, launch

REPO_ROOT = Path(__file__).resolve().parents[2]
TIF = REPO_ROOT / "tests/data/landsat/lc08_c2l2_001062_20201031_600m/LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"  # fmt: skip
A, B = "tenant-a", "tenant-b"
ACCOUNTS = {"alice": ("alice-a", A), "bob": ("bobby-b", B)}  # name: (account id, project)
ROWS = [("x", "y", "name"), ("15.0", "45.5", "first"), ("15.5", "46.0", "second")]


def load_geotiff(uri: str) -> dict[str, Any]:
    """`ee.Image.loadGeoTIFF(uri)` as the stock client serializes it."""
    return {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {
                    "functionName": "Image.loadGeoTIFF",
                    "arguments": {"uri": {"constantValue": uri}},
                }
            }
        },
    }


def band_names(image: dict[str, Any]) -> dict[str, Any]:
    """`image.bandNames()` of a serialized image."""
    return {
        "result": "1",
        "values": {
            **image["values"],
            "1": {
                "functionInvocationValue": {
                    "functionName": "Image.bandNames",
                    "arguments": {"image": {"valueReference": "0"}},
                }
            },
        },
    }


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    root = tmp_path_factory.mktemp("tenant-files")
    shared = root / "shared"
    shared.mkdir()
    shutil.copy(TIF, shared / "b4.tif")
    with launch(root, env={"OPENEE_ALLOWED_ROOTS": str(shared)}) as server:
        for account, project in ACCOUNTS.values():
            area = server.data_dir / "projects" / project / "up"
            area.mkdir(parents=True)
            shutil.copy(TIF, area / "b4.tif")
            with open(area / "points.csv", "w", newline="") as f:
                csv.writer(f).writerows(ROWS)
            assert server.cli("service-accounts", "create", account, "--project", project) == 0
            out = root / "keys" / f"{account}.json"
            assert server.cli("keys", "create", "--account", account, "--project", project,
                              "--port", str(server.port), "--out", str(out)) == 0  # fmt: skip
            server.secret(json.loads(out.read_text())["private_key"])
        yield server


@pytest.fixture(scope="module")
def sessions(srv: AuthServer) -> Iterator[dict[str, Any]]:
    """Stock google-auth sessions of alice and bob."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    made = {}
    for who, (account, _) in ACCOUNTS.items():
        path = srv.data_dir.parent / "keys" / f"{account}.json"
        credentials = service_account.Credentials.from_service_account_file(
            str(path), scopes=[EE_SCOPE]
        )
        made[who] = AuthorizedSession(credentials)
    yield made
    for session in made.values():
        if session.credentials.token:
            srv.secret(str(session.credentials.token))
        session.close()


def area_file(srv: AuthServer, project: str, name: str) -> Path:
    return srv.data_dir / "projects" / project / "up" / name


def wait(srv: AuthServer, session: Any, op: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while not op.get("done") and time.monotonic() < deadline:
        time.sleep(0.1)
        op = session.get(f"{srv.base_url}/v1/{op['name']}").json()
    return op


def import_image(srv: AuthServer, session: Any, project: str, asset: str, uri: str) -> Any:
    manifest = {"name": f"projects/{project}/assets/{asset}",
                "tilesets": [{"sources": [{"uris": [uri]}]}]}  # fmt: skip
    return session.post(f"{srv.base_url}/v1/projects/{project}/image:import",
                        json={"imageManifest": manifest})  # fmt: skip


def import_table(srv: AuthServer, session: Any, project: str, asset: str, uri: str) -> Any:
    manifest = {"name": f"projects/{project}/assets/{asset}",
                "sources": [{"uris": [uri], "xColumn": "x", "yColumn": "y"}]}  # fmt: skip
    return session.post(f"{srv.base_url}/v1/projects/{project}/table:import",
                        json={"tableManifest": manifest})  # fmt: skip


def create_cog_image(srv: AuthServer, session: Any, project: str, asset: str, uri: str) -> Any:
    return session.post(
        f"{srv.base_url}/v1/projects/{project}/assets", params={"assetId": asset},
        json={"type": "IMAGE", "cloudStorageLocation": {"uris": [uri]}},
    )  # fmt: skip


def compute_bands(srv: AuthServer, session: Any, project: str, uri: str) -> Any:
    return session.post(f"{srv.base_url}/v1/projects/{project}/value:compute",
                        json={"expression": band_names(load_geotiff(uri))})  # fmt: skip


def compute_pixels(srv: AuthServer, session: Any, project: str, uri: str) -> Any:
    """The file's pixels on its own grid, as NPY."""
    with rasterio.open(TIF) as ds:
        t, crs, (width, height) = ds.transform, ds.crs.to_string(), (ds.width, ds.height)
    grid = {
        "crsCode": crs,
        "affineTransform": {"scaleX": t.a, "shearX": t.b, "translateX": t.c,
                            "shearY": t.d, "scaleY": t.e, "translateY": t.f},
        "dimensions": {"width": width, "height": height},
    }  # fmt: skip
    return session.post(f"{srv.base_url}/v1/projects/{project}/image:computePixels",
                        json={"expression": load_geotiff(uri), "fileFormat": "NPY",
                              "grid": grid})  # fmt: skip


def tif_pixels() -> np.ndarray:
    with rasterio.open(TIF) as ds:
        return np.asarray(ds.read(1))


@pytest.fixture(scope="module")
def alices_assets(srv: AuthServer, sessions: dict[str, Any]) -> dict[str, str]:
    """Alice's private image and table, imported from her project's area."""
    alice = sessions["alice"]
    image = import_image(srv, alice, A, "private_image", str(area_file(srv, A, "b4.tif")))
    table = import_table(srv, alice, A, "private_table", str(area_file(srv, A, "points.csv")))
    for response in (image, table):
        assert response.status_code == 200, response.text
        assert wait(srv, alice, response.json())["metadata"]["state"] == "SUCCEEDED"
    return {
        "image": f"projects/{A}/assets/private_image",
        "table": f"projects/{A}/assets/private_table",
    }


def refusal(response: Any, uri: str) -> tuple[int, str]:
    """A refusal's status and message with the URI taken out (it names what was asked)."""
    message = response.json()["error"]["message"]
    assert uri in message, message
    return response.status_code, message.replace(uri, "<uri>")


# What bob may call, each a function of (srv, session, bob's project, uri).
CALLS = {
    "image:import": lambda srv, s, p, uri: import_image(srv, s, p, "stolen_image", uri),
    "table:import": lambda srv, s, p, uri: import_table(srv, s, p, "stolen_table", uri),
    "assets.create": lambda srv, s, p, uri: create_cog_image(srv, s, p, "stolen_cog", uri),
    "loadGeoTIFF value:compute": compute_bands,
    "loadGeoTIFF computePixels": compute_pixels,
}
FILES = {  # the file each call names: alice's image file for rasters, her CSV for tables
    "image:import": "b4.tif",
    "table:import": "points.csv",
    "assets.create": "b4.tif",
    "loadGeoTIFF value:compute": "b4.tif",
    "loadGeoTIFF computePixels": "b4.tif",
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("spelling", ["absolute", "relative"])
def test_bob_cannot_read_alices_files_and_the_refusal_is_a_missing_file(
    srv: AuthServer, sessions: dict[str, Any], alices_assets: dict[str, str], call: str,
    spelling: str,
) -> None:  # fmt: skip
    bob = sessions["bob"]
    real = area_file(srv, A, FILES[call])
    missing = real.with_name("no_such_" + real.name)
    assert real.exists() and not missing.exists()
    uris = [str(real), str(missing)]
    if spelling == "relative":
        uris = [str(Path(u).relative_to(srv.data_dir)) for u in uris]
    refused = CALLS[call](srv, bob, B, uris[0])
    absent = CALLS[call](srv, bob, B, uris[1])
    assert refused.status_code == 400, refused.text
    assert refusal(refused, uris[0]) == refusal(absent, uris[1])
    assert "no such file, or the caller may not read it" in refused.text
    # Nothing was written in bob's project.
    for asset in ("stolen_image", "stolen_table", "stolen_cog"):
        got = bob.get(f"{srv.base_url}/v1/projects/{B}/assets/{asset}")
        assert got.status_code == 404, got.text


def test_a_missing_file_in_ones_own_area_answers_alike(
    srv: AuthServer, sessions: dict[str, Any]
) -> None:
    """The same answer when bob names a missing file in his own area: the message does not
    say whose area a path is in."""
    bob = sessions["bob"]
    own_missing = str(area_file(srv, B, "nope.tif"))
    alices = str(area_file(srv, A, "b4.tif"))
    assert refusal(compute_bands(srv, bob, B, own_missing), own_missing) == refusal(
        compute_bands(srv, bob, B, alices), alices
    )


def test_alice_reads_her_files_and_bob_his_own_area(
    srv: AuthServer, sessions: dict[str, Any], alices_assets: dict[str, str]
) -> None:
    for account, project in (("alice", A), ("bob", B)):
        session = sessions[account]
        uri = str(area_file(srv, project, "b4.tif"))
        response = compute_pixels(srv, session, project, uri)
        assert response.status_code == 200, response.text
        np.testing.assert_array_equal(np.load(io.BytesIO(response.content))["B0"], tif_pixels())
        # ... and refused the other's.
        other = str(area_file(srv, B if project == A else A, "b4.tif"))
        assert compute_bands(srv, session, project, other).status_code == 400
    # Alice's table holds the CSV's rows.
    rows = sessions["alice"].get(f"{srv.base_url}/v1/{alices_assets['table']}:listFeatures")
    assert rows.status_code == 200, rows.text
    names = sorted(f["properties"]["name"] for f in rows.json()["features"])
    assert names == sorted(r[2] for r in ROWS[1:])
    # Bob imports from his own area.
    uri = f"projects/{B}/up/points.csv"
    response = import_table(srv, sessions["bob"], B, "own_table", uri)
    assert response.status_code == 200, response.text
    assert wait(srv, sessions["bob"], response.json())["metadata"]["state"] == "SUCCEEDED"


def test_a_shared_root_is_readable_by_both_but_no_other_area(
    srv: AuthServer, sessions: dict[str, Any]
) -> None:
    shared = str(srv.data_dir.parent / "shared" / "b4.tif")
    for account, project in (("alice", A), ("bob", B)):
        response = compute_pixels(srv, sessions[account], project, shared)
        assert response.status_code == 200, response.text
        np.testing.assert_array_equal(np.load(io.BytesIO(response.content))["B0"], tif_pixels())
    # A file elsewhere in the data dir backs no asset: nobody's, so nobody reads it.
    loose = srv.data_dir / "loose.tif"
    shutil.copy(TIF, loose)
    for account, project in (("alice", A), ("bob", B)):
        assert compute_bands(srv, sessions[account], project, str(loose)).status_code == 400


def test_bob_reads_alices_file_once_he_may_read_the_asset_it_backs(
    srv: AuthServer, sessions: dict[str, Any], alices_assets: dict[str, str]
) -> None:
    """Reading goes with the asset: a viewer of alice's image may load its file (and the
    mosaic or table source behind an asset he may read), nothing else of her area."""
    alice, bob = sessions["alice"], sessions["bob"]
    image, table = alices_assets["image"], alices_assets["table"]
    tif, points = str(area_file(srv, A, "b4.tif")), str(area_file(srv, A, "points.csv"))
    assert compute_bands(srv, bob, B, tif).status_code == 400
    policy = {"bindings": [{"role": "roles/viewer",
                            "members": [f"serviceAccount:bobby-b@{B}.iam.gserviceaccount.com"]}]}  # fmt: skip
    for asset in (image, table):
        response = alice.post(f"{srv.base_url}/v1/{asset}:setIamPolicy", json={"policy": policy})
        assert response.status_code == 200, response.text
    try:
        response = compute_pixels(srv, bob, B, tif)
        assert response.status_code == 200, response.text
        np.testing.assert_array_equal(np.load(io.BytesIO(response.content))["B0"], tif_pixels())
        response = import_table(srv, bob, B, "copied_table", points)
        assert response.status_code == 200, response.text
        # Her other files stay hers.
        other = area_file(srv, A, "other.tif")
        shutil.copy(TIF, other)
        assert compute_bands(srv, bob, B, str(other)).status_code == 400
    finally:
        for asset in (image, table):
            alice.post(f"{srv.base_url}/v1/{asset}:setIamPolicy", json={"policy": {}})
    assert compute_bands(srv, bob, B, tif).status_code == 400


def zarr_bands(uri: str) -> dict[str, Any]:
    """`ee.Image.loadZarrV2Array(uri, ee.Projection('EPSG:4326', ...)).bandNames()`."""
    call = {"functionName": "Image.loadZarrV2Array",
            "arguments": {"uri": {"constantValue": uri}, "proj": {"valueReference": "p"}}}  # fmt: skip
    projection = {"functionName": "Projection",
                  "arguments": {"crs": {"constantValue": "EPSG:4326"},
                                "transform": {"constantValue": [1, 0, 0, 0, -1, 0]}}}  # fmt: skip
    return band_names({"values": {"p": {"functionInvocationValue": projection},
                                  "0": {"functionInvocationValue": call}}})  # fmt: skip


def test_a_zarr_chunk_linked_into_another_area_is_refused(
    srv: AuthServer, sessions: dict[str, Any]
) -> None:
    """A chunk of bob's Zarr array that links into alice's area would hand bob her bytes: the
    array is refused; the same array with the chunk linked into his own area loads."""
    bob = sessions["bob"]
    for owner in (A, B):
        target = area_file(srv, owner, f"chunk_for_{B}.bin")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(np.arange(4, dtype="<u1").tobytes())
    array = srv.data_dir / "projects" / B / "linked.zarr"
    array.mkdir(parents=True)
    meta = {"zarr_format": 2, "shape": [2, 2], "chunks": [2, 2], "dtype": "|u1",
            "compressor": None, "fill_value": 0, "order": "C", "filters": None}  # fmt: skip
    (array / ".zarray").write_text(json.dumps(meta))
    (array / ".zattrs").write_text(json.dumps({"_ARRAY_DIMENSIONS": ["y", "x"]}))
    url = f"{srv.base_url}/v1/projects/{B}/value:compute"
    answers = {}
    for owner in (A, B):
        (array / "0.0").unlink(missing_ok=True)
        (array / "0.0").symlink_to(area_file(srv, owner, f"chunk_for_{B}.bin"))
        answers[owner] = bob.post(url, json={"expression": zarr_bands(str(array))})
    assert answers[B].status_code == 200, answers[B].text
    assert answers[B].json()["result"] == ["B0"]
    assert answers[A].status_code == 400, answers[A].text
    assert "contains a link (0.0)" in answers[A].json()["error"]["message"]
