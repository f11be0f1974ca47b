"""A server started over operations a stopped one left unfinished (ADR 0046), in process: an
import runs again from its kept request, as its caller, and its asset equals the file read with
rasterio; an import whose file is gone, or whose request was not kept, ends FAILED having
written nothing. None stays RUNNING."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import rasterio
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.auth import anonymous_principal
from openee.services.operations import STOPPED_MESSAGE, OperationStore
from openee.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data"
L8_B4 = (
    DATA / "landsat" / "lc08_c2l2_001062_20201031_600m"
    / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"
)  # fmt: skip
PROJECT = "openee-demo"


def _left_running(store: OperationStore, name: str, uri: str, keep_request: bool = True) -> str:
    """An import as the route makes it, started by a process that then died."""
    body = {"imageManifest": {"name": name, "tilesets": [{"sources": [{"uris": [uri]}]}]}}
    request = {
        "body": body,
        "principal": dataclasses.asdict(anonymous_principal(PROJECT)),
        "client": "127.0.0.1",
    }
    op, _ = store.create(
        PROJECT, "INGEST_IMAGE", f'Ingest image: "{name}"', "anonymous", None,
        request=request if keep_request else None,
    )  # fmt: skip
    assert store.start(op.id)
    return op.id


def _done(client: TestClient, op_id: str) -> dict[str, Any]:
    for _ in range(600):
        op = client.get(f"/v1/projects/{PROJECT}/operations/{op_id}").json()
        if op["done"]:
            return dict(op)
        time.sleep(0.05)
    raise AssertionError(f"operation {op_id} not done")


def test_a_restarted_server_runs_unfinished_imports_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    uploads = data / "projects" / PROJECT / "uploads"  # the project's area (ADR 0034)
    uploads.mkdir(parents=True)
    shutil.copy(L8_B4, uploads / "b4.tif")
    dead = OperationStore(data / "operations.sqlite", owner="dead-process")
    root = f"projects/{PROJECT}/assets"
    resumed = _left_running(dead, f"{root}/resumed", "projects/openee-demo/uploads/b4.tif")
    gone = _left_running(dead, f"{root}/gone", "projects/openee-demo/uploads/gone.tif")
    unkept = _left_running(dead, f"{root}/unkept", "projects/openee-demo/uploads/b4.tif", False)
    dead.close()

    settings = Settings(data_dir=data, auth_enabled=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        finished = _done(client, resumed)
        assert finished["metadata"]["state"] == "SUCCEEDED", finished
        assert finished["metadata"]["attempt"] == 2
        asset = client.get(f"/v1/{root}/resumed").json()
        with rasterio.open(L8_B4) as src:
            size = {"width": src.width, "height": src.height}
            transform = list(src.transform)[:6]
        (band,) = asset["bands"]
        assert band["grid"]["dimensions"] == size
        assert band["grid"]["affineTransform"] == dict(
            zip(
                ("scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY"),
                transform,
                strict=True,
            )
        )
        for op_id, name in ((gone, "gone"), (unkept, "unkept")):
            failed = _done(client, op_id)
            assert failed["metadata"]["state"] == "FAILED"
            assert failed["error"]["message"] == STOPPED_MESSAGE
            assert client.get(f"/v1/{root}/{name}").status_code == 404


def _unfinish(store: OperationStore, op_id: str) -> None:
    """The operation as its server left it when it died right after its catalog write
    committed: still RUNNING, its lease run out, no end recorded."""
    with store.db.tx() as db:
        db.execute(
            "UPDATE operations SET state = 'RUNNING', end_time = NULL, response = NULL,"
            " owner = 'dead-process', lease_until = 0 WHERE id = ?",
            (op_id,),
        )


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_import_whose_asset_was_written_before_its_server_died_ends_succeeded(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A's import committed its asset, then A died before recording the end. B takes the
    operation over: it recognizes the asset as the operation's own write and ends it SUCCEEDED,
    the asset untouched; an import whose name another asset took meanwhile ends FAILED saying
    so, that asset untouched too."""
    data = tmp_path / "data"
    uploads = data / "projects" / PROJECT / "uploads"
    uploads.mkdir(parents=True)
    shutil.copy(L8_B4, uploads / "b4.tif")
    dsn = request.getfixturevalue("pg_schema_dsn") if kind == "postgres" else None
    settings = Settings(data_dir=data, auth_enabled=False, catalog=dsn)
    root = f"projects/{PROJECT}/assets"
    uri = "projects/openee-demo/uploads/b4.tif"
    with TestClient(create_app(settings), raise_server_exceptions=False) as a:
        body = {
            "imageManifest": {"name": f"{root}/done", "tilesets": [{"sources": [{"uris": [uri]}]}]}
        }
        written = a.post(f"/v1/projects/{PROJECT}/image:import", json=body).json()
        op_id = written["name"].rsplit("/", 1)[1]
        assert _done(a, op_id)["metadata"]["state"] == "SUCCEEDED"
        before = a.get(f"/v1/{root}/done").json()
        body["imageManifest"]["name"] = f"{root}/other"
        other_op = a.post(f"/v1/projects/{PROJECT}/image:import", json=body).json()
        assert _done(a, other_op["name"].rsplit("/", 1)[1])["metadata"]["state"] == "SUCCEEDED"
        other_before = a.get(f"/v1/{root}/other").json()
    store = OperationStore(data / "operations.sqlite") if dsn is None else None
    if dsn is not None:
        from openee.statedb import PostgresState

        store = OperationStore(PostgresState(dsn))
    assert store is not None
    _unfinish(store, op_id)
    # Another operation, started by the dead server, for a name another asset holds now.
    clash = _left_running(store, f"{root}/other", uri)
    with store.db.tx() as db:
        db.execute("UPDATE operations SET lease_until = 0 WHERE id = ?", (clash,))
    store.close()

    with TestClient(create_app(settings), raise_server_exceptions=False) as b:
        finished = _done(b, op_id)
        assert finished["metadata"]["state"] == "SUCCEEDED", finished
        assert "error" not in finished
        after = b.get(f"/v1/{root}/done").json()
        assert after == before  # not written again (same updateTime, same bands)
        with rasterio.open(L8_B4) as src:
            size = {"width": src.width, "height": src.height}
        assert after["bands"][0]["grid"]["dimensions"] == size
        failed = _done(b, clash)
        assert failed["metadata"]["state"] == "FAILED"
        assert failed["error"] == {
            "code": 6,
            "message": f"Asset '{root}/other' already exists.",
        }
        assert b.get(f"/v1/{root}/other").json() == other_before
    # The finish the dead server never recorded is in the audit trail, marked as taken over.
    if dsn is None:
        lines = (data / "audit.log").read_text().splitlines()
        events = [json.loads(line) for line in lines]
    else:
        with psycopg.connect(dsn) as db:
            rows = db.execute("SELECT event, fields FROM audit_events").fetchall()
        events = [{"event": event, **json.loads(fields)} for event, fields in rows]
    finishes = [
        e for e in events
        if e["event"] == "asset.import_image.finish" and e.get("operation") == written["name"]
    ]  # fmt: skip
    assert [e.get("takenOver") for e in finishes] == [None, True]
    assert finishes[1]["outcome"] == "OK" and finishes[1]["asset"] == f"{root}/done"
