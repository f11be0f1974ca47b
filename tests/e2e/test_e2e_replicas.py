"""Two `openee serve` replicas on one PostgreSQL state database (ADR 0046): the catalog, accounts,
tokens, map ids, failed-login counts and operations of one are the other's. A token granted by A
is accepted by B, failures on both count together, a map made on A is tiled by B, an import
started on A is listed, polled and finished on B, an export started on A is cancelled from B. A
replica stalled (SIGSTOP) past its lease yields its export to B; when A is killed (SIGKILL)
mid-operation B takes its export and imports over once A's lease runs out and finishes them (the
export's files equal to the oracle), or fails an import that cannot run again, having written
nothing.

Both replicas share a data dir (imported files, export staging, the capability secret) and use
leases of 3 s, so that a take-over happens within seconds. PostgreSQL is scripts/postgres.py
(the session's `pg_dsn`, one fresh database per module)."""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import rasterio
import requests
from oracle import load_items
from psycopg.conninfo import make_conninfo
from test_e2e_exports_cluster import Server, check_files, export_body, wait_for_a_window

from openee.services.operations import STOPPED_MESSAGE

REPO_ROOT = Path(__file__).resolve().parents[2]
L8_B4 = (
    REPO_ROOT / "tests" / "data" / "landsat" / "lc08_c2l2_001062_20201031_600m"
    / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"
)  # fmt: skip
ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
LEASE_S = 3


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> Iterator[str]:
    """A database of its own in the session's PostgreSQL server."""
    name = f"replicas_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replicas") / "data"


@pytest.fixture(scope="module")
def replicas(dsn: str, data: Path) -> Iterator[tuple[Server, Server]]:
    env = {
        "OPENEE_CATALOG": dsn,
        "OPENEE_OPERATION_LEASE": str(LEASE_S),
        "OPENEE_CHUNK_SIZE": "128",
    }
    a = Server(data, env)  # first alone: it ingests the demo data and writes the key
    b = Server(data, env)
    try:
        yield a, b
    finally:
        b.stop()
        a.stop()


def test_the_state_is_in_postgresql_not_in_the_data_dir(replicas, dsn: str, data: Path) -> None:
    assert not any((data / name).exists() for name in ("auth.sqlite", "operations.sqlite"))
    with psycopg.connect(dsn) as db:
        accounts = db.execute("SELECT email FROM service_accounts").fetchall()
        versions = dict(db.execute("SELECT component, version FROM openee_schema").fetchall())
    assert accounts == [(replicas[0].session.credentials.service_account_email,)]
    # The catalog shares the database here (OPENEE_CATALOG), its schema versioned alike.
    assert set(versions) == {"auth", "operations", "audit", "ratelimit", "catalog"}


def test_a_token_granted_by_a_is_accepted_by_b(replicas) -> None:
    a, b = replicas
    key = json.loads((a.data_dir / "keys" / "default.json").read_text())
    assert key["token_uri"] == f"{a.url}/token"
    a.session.get(f"{a.url}/v1/projects/{a.project}/algorithms").raise_for_status()
    token = a.session.credentials.token  # granted by A's token endpoint
    headers = {"Authorization": f"Bearer {token}"}
    on_b = requests.get(f"{b.url}/v1/projects/{b.project}/algorithms", headers=headers, timeout=60)
    assert on_b.status_code == 200
    forged = {"Authorization": f"Bearer {token[:-4]}AAAA"}
    refused = requests.get(
        f"{b.url}/v1/projects/{b.project}/algorithms", headers=forged, timeout=60
    )
    assert refused.status_code == 401


def _get_from(server: Server, source: str, token: str) -> int:
    """The status of an API call to `server` from another loopback address."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=60, source_address=(source, 0)
    )
    try:
        path = f"/v1/projects/{server.project}/algorithms"
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_failed_logins_on_both_replicas_count_together(replicas) -> None:
    """20 failures a minute per address are tolerated (OPENEE_AUTH_MAX_FAILURES): 11 on A and 10
    on B make 21, and B blocks the address, even for a valid token; other addresses go on."""
    a, b = replicas
    source = "127.0.0.9"
    assert [_get_from(a, source, "not-a-token") for _ in range(11)] == [401] * 11
    assert [_get_from(b, source, "not-a-token") for _ in range(9)] == [401] * 9
    assert _get_from(b, source, "not-a-token") == 429  # the 21st failure trips the block
    a.session.get(f"{a.url}/v1/projects/{a.project}/algorithms").raise_for_status()
    valid = a.session.credentials.token
    assert _get_from(a, source, valid) == 429
    assert _get_from(b, "127.0.0.10", valid) == 200


def test_a_map_made_on_a_is_tiled_by_b(replicas, ee_api) -> None:
    a, b = replicas
    image = ee_api.Image(ITEM.image_id).select("B4")
    body = {
        "expression": ee_api.serializer.encode(image, for_cloud_api=True),
        "fileFormat": "PNG",
        "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]},
    }
    name = a.post("maps", body)["name"]
    tile = f"/v1/{name}/tiles/4/8/5"
    on_b = requests.get(b.url + tile, timeout=120)
    assert on_b.status_code == 200 and on_b.headers["content-type"] == "image/png"
    on_a = requests.get(a.url + tile, timeout=120)
    assert on_a.content == on_b.content  # one layer, computed by each replica
    unknown = name[: -len(name.rsplit("/", 1)[1])] + "0" * 40
    assert requests.get(f"{b.url}/v1/{unknown}/tiles/4/8/5", timeout=60).status_code == 404


def test_an_import_started_on_a_is_listed_and_polled_on_b(replicas, data: Path) -> None:
    a, b = replicas
    asset = f"projects/{a.project}/assets/replicated_{uuid.uuid4().hex[:6]}"
    op = _import(a, data, asset)
    listed = b.session.get(f"{b.url}/v1/projects/{b.project}/operations").json()["operations"]
    assert op["name"] in [o["name"] for o in listed]
    done = b.wait(op["name"])
    assert done["metadata"]["state"] == "SUCCEEDED", done
    got = b.session.get(f"{b.url}/v1/{asset}").json()
    assert got["type"] == "IMAGE" and [x["id"] for x in got["bands"]] == ["b1"]  # EE default names


def test_an_export_started_on_a_is_cancelled_from_b(replicas, ee_api, data: Path) -> None:
    a, b = replicas
    # 1024 windows, each followed by a check for a cancel: the export stops at the first after
    # the cancel (milliseconds from its start), and could not end before it even were it a
    # hundred times faster. Cancelled, its size costs nothing.
    op = a.post("image:export", export_body(ee_api, "cancelled-bucket", "c", 4096, 1024, 128))
    r = b.session.post(f"{b.url}/v1/{op['name']}:cancel", json={})
    assert r.ok, r.text
    done = b.wait(op["name"])
    assert done["metadata"]["state"] == "CANCELLED", done
    assert not (data / "buckets" / "cancelled-bucket").exists()


def test_a_stalled_replica_yields_its_export_to_b(replicas, ee_api, data: Path) -> None:
    """A stops (SIGSTOP) longer than its lease mid-export: B takes the export over and resumes
    it; A, continued, finds its lease gone at its next check and stops without touching the
    staging folder B now works in. The files equal the oracle."""
    a, b = replicas
    op = a.post("image:export", export_body(ee_api, "stalled-bucket", "s", 1024, 512, 128))
    deadline = time.monotonic() + 120
    wait_for_a_window(data, op["name"])
    a.proc.send_signal(signal.SIGSTOP)
    try:
        while b.operation(op["name"])["metadata"].get("attempt", 1) < 2:  # B took it over
            assert time.monotonic() < deadline + 60
            time.sleep(0.1)
    finally:
        a.proc.send_signal(signal.SIGCONT)
    done = b.wait(op["name"], timeout=240)
    assert done["metadata"]["state"] == "SUCCEEDED", done
    assert 0 < done["metadata"]["resumedWorkUnits"] < 64
    check_files(data / "buckets" / "stalled-bucket", "s", 1024, 512)
    stopped = f"operation {op['name'].rsplit('/', 1)[1]}: taken over by another process; stopped"
    log = data.parent / f"server-{a.port}.stderr"
    while stopped not in log.read_text(errors="replace"):  # A's worker reached its next check
        assert time.monotonic() < deadline + 300
        time.sleep(0.1)
    a.session.get(f"{a.url}/v1/projects/{a.project}/algorithms").raise_for_status()  # A lives


def _import(server: Server, data: Path, name: str, file_name: str = L8_B4.name) -> dict[str, Any]:
    uploads = data / "projects" / server.project / "uploads"  # the project's area (ADR 0034)
    uploads.mkdir(parents=True, exist_ok=True)
    shutil.copy(L8_B4, uploads / file_name)
    manifest = {
        "name": name,
        "tilesets": [{"sources": [{"uris": [str((uploads / file_name).relative_to(data))]}]}],
        "startTime": "2020-10-31T14:20:00Z",
    }
    return server.post("image:import", {"imageManifest": manifest})


def test_a_killed_replicas_operations_are_taken_over_by_b(
    replicas, ee_api, data: Path, dsn: str
) -> None:
    """A runs an export and two imports (held at their catalog write by a table lock) when it
    is killed: B resumes the export from its finished windows and runs the imports again from
    their requests; the one whose file went meanwhile fails, having written nothing. No
    operation stays RUNNING."""
    a, b = replicas
    export = a.post("image:export", export_body(ee_api, "takeover-bucket", "t", 1024, 512, 128))
    kept = f"projects/{a.project}/assets/taken_over_{uuid.uuid4().hex[:6]}"
    lost = f"projects/{a.project}/assets/source_gone_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(dsn) as blocker:
        blocker.execute("LOCK TABLE openee_assets IN EXCLUSIVE MODE")  # reads go on, writes wait
        imports = [_import(a, data, kept), _import(a, data, lost, "gone.tif")]
        deadline = time.monotonic() + 120
        while any(b.operation(i["name"])["metadata"]["state"] != "RUNNING" for i in imports):
            assert time.monotonic() < deadline  # then held at their catalog write
            time.sleep(0.05)
        wait_for_a_window(data, export["name"])
        a.stop(signal.SIGKILL)
        assert b.operation(export["name"])["metadata"]["state"] == "RUNNING"  # A's lease holds
        (data / "projects" / a.project / "uploads" / "gone.tif").unlink()
        blocker.rollback()
    finished = b.wait(imports[0]["name"], timeout=60)
    assert finished["metadata"]["state"] == "SUCCEEDED", finished
    assert finished["metadata"]["attempt"] == 2
    got = b.session.get(f"{b.url}/v1/{kept}").json()
    with rasterio.open(L8_B4) as src:
        size = {"width": src.width, "height": src.height}
    assert [band["grid"]["dimensions"] for band in got["bands"]] == [size]
    failed = b.wait(imports[1]["name"], timeout=60)
    assert failed["metadata"]["state"] == "FAILED", failed
    assert failed["error"]["message"] == STOPPED_MESSAGE
    assert b.session.get(f"{b.url}/v1/{lost}").status_code == 404
    done = b.wait(export["name"], timeout=240)
    assert done["metadata"]["state"] == "SUCCEEDED", done
    assert done["metadata"]["attempt"] == 2
    assert 0 < done["metadata"]["resumedWorkUnits"] < 64
    check_files(data / "buckets" / "takeover-bucket", "t", 1024, 512)
    with psycopg.connect(dsn) as db:
        states = db.execute("SELECT state FROM operations").fetchall()
        (owner,) = db.execute(
            "SELECT owner FROM operations WHERE id = %s", (export["name"].rsplit("/", 1)[1],)
        ).fetchone()
    assert not [s for s in states if s[0] in ("PENDING", "RUNNING", "CANCELLING")]
    assert owner.split(":")[1] == str(b.proc.pid)
