"""A server whose catalog is PostgreSQL (`OPENEE_CATALOG=postgresql://...`): bootstrap ingests
the demo collection there, and the asset API and imports work on it, from REST and from the
stock `ee` client (in a subprocess, so that the session's `ee` stays bound to its server).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import oracle
import pytest
import requests
from auth_server import AuthServer, launch, server_env

from openee.catalog.postgres import PostgresCatalog

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data"
L8_B4 = (
    DATA / "landsat" / "lc08_c2l2_001062_20201031_600m"
    / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"
)  # fmt: skip
CITIES = DATA / "vector" / "naturalearth_cities"
CLOUD = "https://www.googleapis.com/auth/cloud-platform"


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    """A throwaway PostgreSQL server from the project's script."""
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "scripts" / "postgres.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline().decode().strip()
    if not line:
        proc.wait(30)
        err = proc.stderr.read().decode() if proc.stderr else ""
        pytest.fail(f"scripts/postgres.py did not start PostgreSQL:\n{err}")
    try:
        yield line
    finally:
        proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory, dsn: str) -> Iterator[AuthServer]:
    with launch(tmp_path_factory.mktemp("assets-pg"), env={"OPENEE_CATALOG": dsn}) as server:
        yield server


@pytest.fixture(scope="module")
def session(pg_server: AuthServer) -> Iterator[requests.Session]:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {pg_server.token(pg_server.key, [CLOUD])}"
    yield s
    s.close()


def test_bootstrap_ingests_into_postgres(pg_server, session, dsn):
    assert not (pg_server.data_dir / "catalog.sqlite").exists()
    url = f"{pg_server.base_url}/v1/projects/earthengine-public/assets/{oracle.COLLECTION_ID}"
    assert session.get(url).json()["type"] == "IMAGE_COLLECTION"
    listed = session.get(f"{url}:listAssets").json()["assets"]
    assert sorted(a["id"] for a in listed) == sorted(i.image_id for i in oracle.load_items())


def test_create_import_and_stock_client_on_postgres(pg_server, session, dsn, tmp_path):
    base = f"{pg_server.base_url}/v1/projects/{pg_server.project}"
    uploads = pg_server.data_dir / "projects" / pg_server.project / "uploads"
    uploads.mkdir(parents=True)
    shutil.copy(L8_B4, uploads / L8_B4.name)
    for part in CITIES.glob("naturalearth_cities.*"):
        shutil.copy(part, uploads / part.name)
    root = f"projects/{pg_server.project}/assets/pg"
    created = session.post(f"{base}/assets", params={"assetId": "pg"}, json={"type": "FOLDER"})
    assert created.status_code == 200, created.text
    ops = [
        session.post(f"{base}/image:import", json={"imageManifest": {
            "name": f"{root}/img", "tilesets": [{"sources": [{"uris": [f"projects/{pg_server.project}/uploads/{L8_B4.name}"]}]}],
            "bands": [{"id": "SR_B4"}], "startTime": "2020-10-31T00:00:00Z"}}).json(),
        session.post(f"{base}/table:import", json={"tableManifest": {
            "name": f"{root}/cities",
            "sources": [{"uris": [f"projects/{pg_server.project}/uploads/naturalearth_cities.shp"]}]}}).json(),
    ]  # fmt: skip
    for op in ops:
        done = session.post(
            f"{pg_server.base_url}/v1/{op['name']}:wait", json={"timeout": "60s"}
        ).json()
        assert done["metadata"]["state"] == "SUCCEEDED", done
    store = PostgresCatalog(dsn)
    try:
        image = store.get(f"{root}/img")
        assert image is not None and [b.id for b in image.bands] == ["SR_B4"]
        assert store.count_features(f"{root}/cities") == 243
    finally:
        store.close()
    script = (
        "import json, sys, ee\n"
        "ee.Initialize(ee.ServiceAccountCredentials(None, sys.argv[2]), project=sys.argv[3],"
        " url=sys.argv[1])\n"
        "root = sys.argv[4]\n"
        "print(json.dumps([ee.Image(root + '/img').bandNames().getInfo(),"
        " ee.FeatureCollection(root + '/cities').size().getInfo(),"
        " [a['id'] for a in ee.data.listAssets({'parent': root})['assets']]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, pg_server.base_url, str(pg_server.key_path),
         pg_server.project, root],
        env=server_env({"HOME": str(tmp_path)}), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    bands, size, ids = json.loads(result.stdout.splitlines()[-1])
    assert bands == ["SR_B4"] and size == 243
    assert ids == [f"{root}/cities", f"{root}/img"]
