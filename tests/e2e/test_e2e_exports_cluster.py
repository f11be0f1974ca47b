"""Exports on servers of their own: one whose chunks run on a real dask.distributed LocalCluster
with two worker processes (OPENEE_DASK_SCHEDULER), one killed mid-export and restarted, and one
whose bucket is an S3-compatible server (moto, started here on 127.0.0.1) read back with boto3.
Requests are the stock client's: expressions serialized by `ee`, sent as it sends them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.windows
import requests
import shapely.geometry
from affine import Affine
from oracle import Grid, load_items, masked_median, warp_band

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
AUGUST = ("2023-08-01", "2023-09-01")
WEST, SOUTH, EAST, NORTH = 15.45, 45.55, 15.95, 46.05


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`openee serve` on a data dir, with extra environment; a REST session with its key."""

    def __init__(self, data_dir: Path, env: dict[str, str], port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or _free_port()  # a restart keeps the port: the key's token_uri
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT / "src")}
        data_dir.mkdir(parents=True, exist_ok=True)
        self.stderr = open(data_dir.parent / f"server-{self.port}.stderr", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openee",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            env=full_env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "openee serve exited"
            try:
                if requests.get(f"{self.url}/$discovery/rest?version=v1", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.25)
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2 import service_account

        key = data_dir / "keys" / "default.json"
        self.project = json.loads(key.read_text())["project_id"]
        credentials = service_account.Credentials.from_service_account_file(
            str(key), scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        self.session = AuthorizedSession(credentials)

    def post(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.session.post(f"{self.url}/v1/projects/{self.project}/{method}", json=body)
        assert r.ok, r.text
        return dict(r.json())

    def operation(self, name: str) -> dict[str, Any]:
        r = self.session.get(f"{self.url}/v1/{name}")
        assert r.ok, r.text
        return dict(r.json())

    def wait(self, name: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            op = self.operation(name)
            if op.get("done"):
                return op
            time.sleep(0.2)
        raise AssertionError(f"{name} not done after {timeout} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.session.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.stderr.close()


def finished_windows(data_dir: Path, name: str) -> int:
    """The windows of export `name` already in their files: the lines of its staging ledger,
    each appended as its window is written. (Its progress, in the metadata, is reported at most
    every half second: a fast export can go from its first report to its end between two.)"""
    ledger = data_dir / "exports-staging" / name.rsplit("/", 1)[1] / "windows.log"
    try:
        return sum(line.endswith((" 0", " 1")) for line in ledger.read_text().splitlines())
    except FileNotFoundError:
        return 0


def wait_for_a_window(data_dir: Path, name: str, timeout: float = 120) -> None:
    """Returns once export `name` has written a window, looking every millisecond: it is then
    still running, unless it wrote all its other windows (63 or more) and published them within
    that millisecond."""
    deadline = time.monotonic() + timeout
    while finished_windows(data_dir, name) == 0:
        assert time.monotonic() < deadline, f"{name}: no window written in {timeout} s"
        time.sleep(0.001)


def export_body(
    ee: Any, bucket: str, prefix: str, side: int, file_side: int, shard: int = 256
) -> dict[str, Any]:
    """What `Export.image.toCloudStorage(...).start()` sends for the median composite."""
    region = ee.Geometry.Rectangle([WEST, SOUTH, EAST, NORTH], None, False)
    image = ee.ImageCollection(COLLECTION).filterBounds(region).filterDate(*AUGUST).median()
    task = ee.batch.Export.image.toCloudStorage(
        image=image.select("B4"),
        description="cluster_export",
        bucket=bucket,
        fileNamePrefix=prefix,
        region=region,
        dimensions=f"{side}x{side}",
        crs="EPSG:4326",
        fileDimensions=file_side,
        shardSize=shard,
        maxPixels=1e10,
    )
    config = dict(task.config)
    body = {
        "expression": ee.serializer.encode(config.pop("expression"), for_cloud_api=True),
        "description": config["description"],
        "fileExportOptions": config["fileExportOptions"],
        "maxPixels": config["maxPixels"],
        "requestId": str(uuid.uuid4()),
    }
    return body


def oracle(grid: Grid) -> np.ndarray:
    box = shapely.geometry.box(WEST, SOUTH, EAST, NORTH)
    items = [
        it
        for it in load_items()
        if AUGUST[0] <= it.datetime.strftime("%Y-%m-%d") < AUGUST[1]
        and it.footprint.intersects(box)
    ]
    return masked_median(np.stack([warp_band(it.band_path("B4"), grid) for it in items]))


def check_files(folder: Path, name: str, side: int, file_side: int) -> None:
    whole = Affine((EAST - WEST) / side, 0, WEST, 0, -(NORTH - SOUTH) / side, NORTH)
    for row in range(0, side, file_side):
        for col in range(0, side, file_side):
            with rasterio.open(folder / f"{name}-{row:010d}-{col:010d}.tif") as src:
                grid = Grid("EPSG:4326", src.transform, src.width, src.height)
                np.testing.assert_allclose(
                    src.transform[:6], (whole @ Affine.translation(col, row))[:6], atol=1e-12
                )
                expected = np.nan_to_num(oracle(grid), nan=0.0)
                np.testing.assert_array_equal(src.read(1), expected)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    kwargs = {
        "n_workers": 2,
        "threads_per_worker": 1,
        "processes": True,
        # A port of its own: 8787 may be taken by another cluster on the machine, and the
        # warning distributed gives then is an error under this suite's settings.
        "dashboard_address": "127.0.0.1:0",
        "host": "127.0.0.1",
    }
    try:
        cluster = LocalCluster(**kwargs)
    except RuntimeError:  # a worker missed its start-up deadline on a loaded machine
        cluster = LocalCluster(**kwargs)
    with cluster, Client(cluster) as client:
        yield client


# A cluster start that misses its deadline on a loaded machine (retried in the fixture) leaves
# an unclosed socket behind in distributed's HTTP server start-up.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_export_runs_as_dask_tasks_on_two_worker_processes(ee_api, cluster, tmp_path) -> None:
    from distributed import get_task_stream

    server = Server(
        tmp_path / "data",
        {"OPENEE_DASK_SCHEDULER": cluster.scheduler.address, "OPENEE_CHUNK_SIZE": "128"},
    )
    try:
        with get_task_stream(cluster) as stream:
            body = export_body(ee_api, "dask-bucket", "m", 512, 256, shard=128)
            op = server.post("image:export", body)
            done = server.wait(op["name"])
        assert done["metadata"]["state"] == "SUCCEEDED", done
        chunks = [t for t in stream.data if "timed_chunk" in str(t["key"])]
        assert len(chunks) == 16  # 512 x 512 pixels in chunks of 128
        assert len(cluster.scheduler_info()["workers"]) == 2
        check_files(tmp_path / "data" / "buckets" / "dask-bucket", "m", 512, 256)
    finally:
        server.stop()


# The size: an 8192 x 8192 median composite in four 4096 x 4096 shards. Cheap sources:
# 10 m pixels on the 120 m lattice of tile 33TWL (12 x 12 output pixels per source pixel),
# inside that tile only, over the three images of 14-21 August. The oracle takes the masked
# median of the source windows read with rasterio; output pixel (r, c) is source pixel
# (r // 12, c // 12) of them (nearest sampling of pixel centres on an aligned lattice). The
# composite is exported `toFloat()` (float32, as users do to halve their files): its values,
# halves of integers below 2**23, are exact in float32, and half the bytes keep the test fast.
BIG, BIG_FILE, FACTOR = 8192, 4096, 12
TWL_X, TWL_Y = 499980.0, 5100000.0
BIG_COL0 = BIG_ROW0 = 100  # source pixels from the tile's corner
BIG_X0, BIG_Y0 = TWL_X + 120 * BIG_COL0, TWL_Y - 120 * BIG_ROW0
MID_AUGUST = ("2023-08-14", "2023-08-21")


def big_body(ee: Any, bucket: str, prefix: str) -> dict[str, Any]:
    bounds = [BIG_X0, BIG_Y0 - 10 * BIG, BIG_X0 + 10 * BIG, BIG_Y0]
    region = ee.Geometry.Rectangle(bounds, "EPSG:32633", False)
    image = ee.ImageCollection(COLLECTION).filterBounds(region).filterDate(*MID_AUGUST).median()
    task = ee.batch.Export.image.toCloudStorage(
        image=image.select("B4").toFloat(),
        description="big_export",
        bucket=bucket,
        fileNamePrefix=prefix,
        region=region,
        crs="EPSG:32633",
        crsTransform=[10, 0, BIG_X0, 0, -10, BIG_Y0],
        dimensions=f"{BIG}x{BIG}",
        fileDimensions=BIG_FILE,
        maxPixels=1e9,
    )
    config = dict(task.config)
    return {
        "expression": ee.serializer.encode(config.pop("expression"), for_cloud_api=True),
        "description": config["description"],
        "fileExportOptions": config["fileExportOptions"],
        "maxPixels": config["maxPixels"],
        "requestId": str(uuid.uuid4()),
    }


def big_oracle() -> np.ndarray:
    """The composite on the source pixels under the export (NaN where no image is valid)."""
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True).transform
    region = shapely.transform(
        shapely.geometry.box(BIG_X0, BIG_Y0 - 10 * BIG, BIG_X0 + 10 * BIG, BIG_Y0).segmentize(500),
        to_wgs84,
        interleaved=False,
    )
    items = [
        it
        for it in load_items()
        if MID_AUGUST[0] <= it.datetime.strftime("%Y-%m-%d") < MID_AUGUST[1]
        and it.footprint.intersects(region)
    ]
    assert sorted(it.id for it in items) == [
        "S2A_33TWL_20230815_0_L2A",
        "S2A_33TWL_20230818_0_L2A",
        "S2B_33TWL_20230820_0_L2A",
    ]
    side = -(-BIG // FACTOR)
    window = rasterio.windows.Window(BIG_COL0, BIG_ROW0, side, side)
    stack = []
    for it in items:
        with rasterio.open(it.band_path("B4")) as src:
            assert (src.transform.c, src.transform.f, src.res) == (TWL_X, TWL_Y, (120.0, 120.0))
            stack.append(src.read(1, window=window))
    return masked_median(np.stack(stack))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_8192_square_median_composite_in_shards_on_two_worker_processes(
    ee_api, cluster, tmp_path
) -> None:
    from distributed import get_task_stream

    server = Server(tmp_path / "data", {"OPENEE_DASK_SCHEDULER": cluster.scheduler.address})
    try:
        with get_task_stream(cluster) as stream:
            op = server.post("image:export", big_body(ee_api, "big-bucket", "big/m"))
            done = server.wait(op["name"], timeout=600)
        assert done["metadata"]["state"] == "SUCCEEDED", done
        chunks = [t for t in stream.data if "timed_chunk" in str(t["key"])]
        assert len(chunks) == (BIG // 1024) ** 2  # the default chunk, as Dask tasks
        assert {t["worker"] for t in chunks} == set(cluster.scheduler_info()["workers"])
        assert len(cluster.scheduler_info()["workers"]) == 2
    finally:
        server.stop()
    folder = tmp_path / "data" / "buckets" / "big-bucket" / "big"
    offsets = range(0, BIG, BIG_FILE)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"m-{row:010d}-{col:010d}.tif" for row in offsets for col in offsets] + ["m.receipt.json"]
    )
    median = big_oracle()
    assert (median % 1 == 0.5).any()  # pixels masked in one image: a median of two
    whole = Affine(10, 0, BIG_X0, 0, -10, BIG_Y0)
    covered = np.zeros((BIG, BIG), dtype=np.uint8)
    for row in offsets:
        for col in offsets:
            with rasterio.open(folder / f"m-{row:010d}-{col:010d}.tif") as src:
                assert src.crs.to_string() == "EPSG:32633"
                assert src.transform == whole @ Affine.translation(col, row)
                assert (src.width, src.height) == (BIG_FILE, BIG_FILE)
                assert src.dtypes[0] == "float32"
                covered[row : row + src.height, col : col + src.width] += 1
                rows = np.arange(row, row + BIG_FILE) // FACTOR
                cols = np.arange(col, col + BIG_FILE) // FACTOR
                expected = np.nan_to_num(median[np.ix_(rows, cols)], nan=0.0)  # masked: 0
                np.testing.assert_array_equal(src.read(1), expected.astype(np.float32))
    assert (covered == 1).all()  # the shards tile the grid exactly: no gap, no overlap


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_worker_killed_mid_export_changes_nothing_in_the_output(
    ee_api, cluster, tmp_path
) -> None:
    server = Server(
        tmp_path / "data",
        {"OPENEE_DASK_SCHEDULER": cluster.scheduler.address, "OPENEE_CHUNK_SIZE": "128"},
    )
    address, victim = next(iter(cluster.run(os.getpid).items()))
    try:
        # The victim is stopped before the export starts: the chunks the scheduler gives it
        # cannot finish, so neither can the export (chunks are written in order, a few ahead),
        # however fast the other worker is, until the victim is killed.
        os.kill(victim, signal.SIGSTOP)
        try:
            body = export_body(ee_api, "kill-bucket", "k", 1024, 512, shard=128)
            op = server.post("image:export", body)
            deadline = time.monotonic() + 60
            while not cluster.processing(workers=[address]).get(address):
                assert time.monotonic() < deadline, "the scheduler gave the victim no chunk"
                time.sleep(0.05)
            assert not server.operation(op["name"])["done"]
        finally:
            os.kill(victim, signal.SIGKILL)  # its nanny starts a new worker; its tasks re-run
        done = server.wait(op["name"], timeout=180)
        assert done["metadata"]["state"] == "SUCCEEDED", done
        assert victim not in cluster.run(os.getpid).values()
        check_files(tmp_path / "data" / "buckets" / "kill-bucket", "k", 1024, 512)
    finally:
        server.stop()


def _kill_mid_export(ee: Any, data: Path, bucket: str) -> tuple[Server, str]:
    """Starts an export of 64 chunks and kills the server (SIGKILL) once a first one is
    written."""
    first = Server(data, {"OPENEE_CHUNK_SIZE": "128"})
    op = first.post("image:export", export_body(ee, bucket, "r", 1024, 512, shard=128))
    wait_for_a_window(data, op["name"])
    first.stop(signal.SIGKILL)
    return first, op["name"]


def test_a_killed_server_resumes_its_export_from_the_finished_windows(ee_api, tmp_path) -> None:
    data = tmp_path / "data"
    first, name = _kill_mid_export(ee_api, data, "resume-bucket")
    assert not (data / "buckets" / "resume-bucket").exists()
    second = Server(data, {"OPENEE_CHUNK_SIZE": "128"}, port=first.port)
    try:
        done = second.wait(name)
        assert done["metadata"]["state"] == "SUCCEEDED", done
        assert done["metadata"]["attempt"] == 2
        assert 0 < done["metadata"]["resumedWorkUnits"] < 64
        check_files(data / "buckets" / "resume-bucket", "r", 1024, 512)
        assert not (data / "exports-staging" / name.rsplit("/", 1)[1]).exists()
    finally:
        second.stop()


def test_an_export_that_cannot_resume_fails_and_publishes_nothing(ee_api, tmp_path) -> None:
    data = tmp_path / "data"
    first, name = _kill_mid_export(ee_api, data, "restart-bucket")
    (data / "exports-staging" / name.rsplit("/", 1)[1] / "request.json").unlink()
    second = Server(data, {}, port=first.port)
    try:
        after = second.operation(name)
        assert after["done"] is True
        assert after["metadata"]["state"] == "FAILED"
        assert "server stopped before the operation finished" in after["error"]["message"]
        assert not (data / "buckets" / "restart-bucket").exists()
        assert not any((data / "exports-staging").iterdir())
    finally:
        second.stop()


@pytest.fixture()
def s3() -> Iterator[Any]:
    """An S3-compatible server (moto) on 127.0.0.1 and a boto3 client of it."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="results")
    try:
        yield server, client, port
    finally:
        server.stop()


def test_export_to_a_bucket_mapped_to_s3(ee_api, s3, tmp_path) -> None:
    moto, client, port = s3
    env = {
        "OPENEE_BUCKETS": "ee-results=s3://results/exports",
        "FSSPEC_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        # botocore's own retries make the stopped-server case below slow to fail
        "AWS_MAX_ATTEMPTS": "1",
    }
    server = Server(tmp_path / "data", env)
    try:
        op = server.post("image:export", export_body(ee_api, "ee-results", "s3/m", 512, 256))
        done = server.wait(op["name"])
        assert done["metadata"]["state"] == "SUCCEEDED", done
        listed = client.list_objects_v2(Bucket="results", Prefix="exports/")
        keys = sorted(o["Key"] for o in listed.get("Contents", []))
        assert keys == [
            "exports/s3/m-0000000000-0000000000.tif",
            "exports/s3/m-0000000000-0000000256.tif",
            "exports/s3/m-0000000256-0000000000.tif",
            "exports/s3/m-0000000256-0000000256.tif",
            "exports/s3/m.receipt.json",
        ]
        assert done["metadata"]["destinationUris"][0] == (
            "s3://results/exports/s3/m-0000000000-0000000000.tif"
        )
        folder = tmp_path / "fetched"
        (folder / "s3").mkdir(parents=True)
        for key in keys[:-1]:
            client.download_file("results", key, str(folder / key.removeprefix("exports/")))
        check_files(folder / "s3", "m", 512, 256)

        # The S3 server goes away: the next export fails cleanly and leaves nothing behind.
        moto.stop()
        op = server.post("image:export", export_body(ee_api, "ee-results", "gone/m", 512, 256))
        failed = server.wait(op["name"], timeout=180)
        assert failed["metadata"]["state"] == "FAILED"
        assert "s3://results/exports/gone/m" in failed["error"]["message"]
        assert not (tmp_path / "data" / "exports-staging" / op["name"].rsplit("/", 1)[1]).exists()
    finally:
        server.stop()
