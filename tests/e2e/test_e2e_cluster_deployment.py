"""The deployment of `scripts/cluster.py` (docs/decisions/0047), brought up for real: PostgreSQL,
the S3 store with the demo imagery as COGs, a Dask scheduler with 2 workers, 2 `openee serve`
replicas, each with a data dir of its own, and the balancer in front.

The seed tutorial (`examples/compute_image.py`, the README's) runs unchanged with the stock
client through the balancer, its PNG checked against the oracle of tests/e2e/oracle.py (rasterio
reads of the local demo files, pyproj, numpy); its chunks run on the Dask workers (their task
counters). Then what makes the replicas one service: a token granted by one is accepted by the
other, a map made on one is tiled by the other, an import started on one is polled on the other,
and one killed during an import leaves it to the other, which runs it to the end, while the
balancer sends everything to the other.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import rasterio
import requests
from affine import Affine
from auth_server import free_port, server_env
from oracle import Grid, median_composite, select_items, visualize
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
CLUSTER = REPO_ROOT / "scripts" / "cluster.py"
TUTORIAL = REPO_ROOT / "examples" / "compute_image.py"
CLOUD = "https://www.googleapis.com/auth/cloud-platform"
RGB = ["B4", "B3", "B2"]
# The tutorial's request: 640 x 640 pixels of ~120 m from (15.9, 45.85), the August median.
LON, LAT, SIZE, START, END = 15.9, 45.85, 640, "2023-08-01", "2023-09-01"
# A threshold below the tutorial's cost (409600 pixels x 15 files), above a map tile's: the
# tutorial's chunks (256 pixels a side: 9 of them) run on the Dask workers, tiles in the
# replicas. Leases of 6 s: a killed replica's operations are taken over within seconds.
ENV = {
    "OPENEE_DASK_THRESHOLD": "1000000",
    "OPENEE_CHUNK_SIZE": "256",
    "OPENEE_OPERATION_LEASE": "6",
}
MIN_AGREEMENT = 0.995
SCENE = "S2A_33TWL_20230815_0_L2A"


@dataclass
class Deployment:
    state_dir: Path
    info: dict[str, Any]
    components: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def key(self) -> dict[str, Any]:
        return dict(json.loads(Path(self.info["key"]).read_text()))

    @property
    def project(self) -> str:
        return str(self.info["project"])

    def pid(self, name: str) -> int:
        return next(int(c["pid"]) for c in self.components if c["name"] == name)


def _cluster(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLUSTER), *args],
        env=server_env(env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie (ended, not reaped yet) is not running.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    state = tmp_path_factory.mktemp("cluster")
    up = _cluster("up", "--state-dir", str(state), "--port", str(free_port()), env=ENV)
    assert up.returncode == 0, up.stderr[-6000:]
    saved = json.loads((state / "cluster.json").read_text())
    started = Deployment(state, saved["info"], saved["components"])
    try:
        assert up.stdout.splitlines()[0] == f"openee is up behind the balancer: {started.url}"
        names = [c["name"] for c in started.components]
        assert names == [
            "postgres", "s3", "dask-scheduler", "dask-worker-1", "dask-worker-2",
            "replica-1", "replica-2", "balancer",
        ]  # fmt: skip
        status = _cluster("status", "--state-dir", str(state))
        assert status.returncode == 0, status.stdout
        yield started
    finally:
        down = _cluster("down", "--state-dir", str(state))
        assert down.returncode == 0, down.stderr
        left = [c["name"] for c in started.components if _running(int(c["pid"]))]
        assert not left, f"still running after down: {left}"


def _executed(deployment: Deployment) -> int:
    """Tasks the Dask workers have run so far."""
    from distributed import Client

    with Client(deployment.info["dask_scheduler"], set_as_default=False, timeout=30) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return sum(counts.values())


def test_the_seed_tutorial_through_the_balancer(deployment: Deployment, tmp_path: Path) -> None:
    before = _executed(deployment)
    run = subprocess.run(
        [sys.executable, str(TUTORIAL)],
        env=server_env({"OPENEE_URL": deployment.url, "OPENEE_KEY": deployment.info["key"]}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert run.stdout.splitlines()[0] == "IMAGE_COLLECTION"
    assert _executed(deployment) - before == 9  # the PNG's 9 chunks, on the workers

    # The tutorial's grid: EPSG:4326 at 120 m (Projection.atScale's degrees), from (LON, LAT).
    scale = 120 / (6378137 * 2 * np.pi / 360)
    grid = Grid("EPSG:4326", Affine(scale, 0, LON, 0, -scale, LAT), SIZE, SIZE)
    items = select_items(START, END, LON, LAT)
    assert len(items) == 5
    expected = {band: median_composite(items, band, grid) for band in RGB}
    with Image.open(tmp_path / "median.png") as png:
        assert png.size == (SIZE, SIZE)
        rgba = np.asarray(png.convert("RGBA")).astype(np.int32)
    valid = np.all([~np.isnan(expected[b]) for b in RGB], axis=0)
    assert valid.mean() > 0.5
    for channel, band in enumerate(RGB):
        diff = np.abs(rgba[..., channel][valid] - visualize(expected[band])[valid])
        assert np.mean(diff <= 1) >= MIN_AGREEMENT, band
    alpha_ok = np.where(valid, rgba[..., 3] == 255, rgba[..., 3] == 0)
    assert alpha_ok.mean() >= MIN_AGREEMENT


def _token(replica: str, key: dict[str, Any]) -> str:
    """A token granted by `replica` itself, with the stock google-auth."""
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(
        {**key, "token_uri": f"{replica}/token"}, scopes=[CLOUD]
    )
    credentials.refresh(Request())
    return str(credentials.token)


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def test_a_token_from_one_replica_works_on_the_other(deployment: Deployment) -> None:
    a, b = deployment.info["replicas"]
    with _session(_token(a, deployment.key)) as session:
        asset = session.get(
            f"{b}/v1/projects/earthengine-public/assets/COPERNICUS/S2_SR_HARMONIZED"
        )
    assert asset.status_code == 200, asset.text
    assert asset.json()["type"] == "IMAGE_COLLECTION"
    with _session("not-a-token") as session:
        refused = session.get(f"{b}/v1/projects/{deployment.project}/algorithms")
    assert refused.status_code == 401


def _median_expression(band: str) -> dict[str, Any]:
    """An Expression of a one-band August median of the 5 images of 33TWL, written out:
    ImageCollection.fromImages of their Image.load, reduced by Reducer.median, then selected."""
    ids = [it.id for it in select_items(START, END, 15.9, 45.6)]
    images = [
        {
            "functionInvocationValue": {
                "functionName": "Image.load",
                "arguments": {"id": {"constantValue": f"COPERNICUS/S2_SR_HARMONIZED/{i}"}},
            }
        }
        for i in ids
    ]
    return {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {
                    "functionName": "Image.select",
                    "arguments": {
                        "input": {
                            "functionInvocationValue": {
                                "functionName": "ImageCollection.reduce",
                                "arguments": {
                                    "collection": {
                                        "functionInvocationValue": {
                                            "functionName": "ImageCollection.fromImages",
                                            "arguments": {
                                                "images": {"arrayValue": {"values": images}}
                                            },
                                        }
                                    },
                                    "reducer": {
                                        "functionInvocationValue": {
                                            "functionName": "Reducer.median",
                                            "arguments": {},
                                        }
                                    },
                                },
                            }
                        },
                        "bandSelectors": {"constantValue": [f"{band}_median"]},
                    },
                }
            }
        },
    }


def test_a_map_made_on_one_replica_is_tiled_by_the_other(deployment: Deployment) -> None:
    a, b = deployment.info["replicas"]
    body = {
        "expression": _median_expression("B4"),
        "fileFormat": "PNG",
        "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]},
    }
    with _session(_token(a, deployment.key)) as session:
        made = session.post(f"{a}/v1/projects/{deployment.project}/maps", json=body)
    assert made.status_code == 200, made.text
    name = made.json()["name"]
    tile = "tiles/10/556/365"  # west of Zagreb (15.47..15.82 E, 45.58..45.83 N)
    on_b = requests.get(f"{b}/v1/{name}/{tile}", timeout=60)
    assert on_b.status_code == 200, on_b.text
    on_a = requests.get(f"{a}/v1/{name}/{tile}", timeout=60)
    assert on_a.status_code == 200, on_a.text
    assert on_b.content == on_a.content
    with Image.open(io.BytesIO(on_b.content)) as png:
        alpha = np.asarray(png.convert("RGBA"))[..., 3]
    assert alpha.mean() > 128  # most of the tile holds pixels


# 64 x 48 native pixels (EPSG:32633, 120 m) of the 33TWL tiles, from column 100, row 200.
NATIVE = {
    "crsCode": "EPSG:32633",
    "affineTransform": {
        "scaleX": 120.0, "shearX": 0.0, "translateX": 499980.0 + 120 * 100,
        "shearY": 0.0, "scaleY": -120.0, "translateY": 5100000.0 - 120 * 200,
    },
    "dimensions": {"width": 64, "height": 48},
}  # fmt: skip


def _native_window(scene: str, band: str) -> np.ndarray:
    """The NATIVE window of a demo file, read by rasterio (the store holds COG copies)."""
    path = next((REPO_ROOT / "src/openee/demo/data/sentinel2").glob(f"*/*/{scene}/{band}.tif"))
    with rasterio.open(path) as src:
        return src.read(1, window=((200, 248), (100, 164)))


def _import_body(project: str, name: str, scenes: list[str]) -> dict[str, Any]:
    """An image:import of demo COGs in the store, a band per file."""
    bands = [
        (f"{s}_{b}", f"s3://imagery/demo/sentinel-2-l2a/{s}/{b}.tif")
        for s in scenes
        for b in ("B02", "B03", "B04", "B08")
    ]
    return {
        "imageManifest": {
            "name": f"projects/{project}/assets/{name}",
            "tilesets": [{"id": band, "sources": [{"uris": [uri]}]} for band, uri in bands],
            "bands": [{"id": band, "tilesetId": band} for band, _ in bands],
            "startTime": "2023-08-15T00:00:00Z",
        }
    }


def _wait(session: requests.Session, url: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        op = session.get(url)
        assert op.status_code == 200, op.text
        if op.json().get("done") or time.monotonic() > deadline:
            return dict(op.json())
        time.sleep(0.25)


def test_an_import_started_on_one_replica_is_polled_on_the_other(
    deployment: Deployment,
) -> None:
    a, b = deployment.info["replicas"]
    token = _token(a, deployment.key)
    with _session(token) as session:
        started = session.post(
            f"{a}/v1/projects/{deployment.project}/image:import",
            json=_import_body(deployment.project, "polled", [SCENE]),
        )
        assert started.status_code == 200, started.text
        name = started.json()["name"]
        op = _wait(session, f"{b}/v1/{name}", 120)
        assert op["metadata"]["state"] == "SUCCEEDED", op
        listed = session.get(f"{b}/v1/projects/{deployment.project}/operations")
        assert name in [o["name"] for o in listed.json()["operations"]]
        asset = session.get(f"{b}/v1/projects/{deployment.project}/assets/polled")
    assert asset.status_code == 200, asset.text
    assert [band["id"] for band in asset.json()["bands"]] == [
        f"{SCENE}_{b}" for b in ("B02", "B03", "B04", "B08")
    ]


def test_a_replica_killed_mid_import(deployment: Deployment) -> None:
    """Replica 1 is killed while its import runs (held at its catalog write by a table lock):
    once the lease runs out, replica 2 takes the import over and runs it again to the end (ADR
    0046): every band there, its pixels those of the file (rasterio); and the balancer keeps
    answering, from replica 2."""
    a, b = deployment.info["replicas"]
    scenes = sorted(p.name for p in (REPO_ROOT / "src/openee/demo/data/sentinel2").glob("*/*/S2*"))
    with (
        _session(_token(a, deployment.key)) as session,
        psycopg.connect(deployment.info["catalog"]) as blocker,
    ):
        blocker.execute("LOCK TABLE openee_assets IN EXCLUSIVE MODE")  # reads go on, writes wait
        started = session.post(
            f"{a}/v1/projects/{deployment.project}/image:import",
            json=_import_body(deployment.project, "orphaned", scenes),
        )
        assert started.status_code == 200, started.text
        name = started.json()["name"]
        deadline = time.monotonic() + 60
        while (seen := session.get(f"{b}/v1/{name}").json())["metadata"]["state"] != "RUNNING":
            assert time.monotonic() < deadline, seen
            time.sleep(0.05)
        os.kill(deployment.pid("replica-1"), signal.SIGKILL)
        blocker.rollback()
        op = _wait(session, f"{b}/v1/{name}", 180)
        assert op.get("done"), f"still {op['metadata']['state']} on replica 2: {op}"
        assert op["metadata"]["state"] == "SUCCEEDED", op
        asset = session.get(f"{b}/v1/projects/{deployment.project}/assets/orphaned")
        assert asset.status_code == 200, asset.text
        assert len(asset.json()["bands"]) == 4 * len(scenes)
        band = f"{SCENE}_B04"
        pixels = session.post(
            f"{b}/v1/projects/{deployment.project}/assets/orphaned:getPixels",
            json={"bandIds": [band], "fileFormat": "NPY", "grid": NATIVE},
        )
        assert pixels.status_code == 200, pixels.text
        got = np.load(io.BytesIO(pixels.content))[band]
        np.testing.assert_array_equal(np.ma.getdata(got), _native_window(SCENE, "B04"))

        for _ in range(4):  # round-robin: half of these went to replica 1 before
            through = session.get(f"{deployment.url}/v1/projects/{deployment.project}/algorithms")
            assert through.status_code == 200, through.text
