"""Heavy interactive requests run their chunks on the Dask cluster, light ones in the server
(OPENEE_DASK_THRESHOLD, docs/decisions/0047): the same computePixels request, below and above the
threshold, gives the same bytes, which equal rasterio's read of the file; only the request above
the threshold adds tasks to the cluster (the scheduler's task stream)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.windows
from affine import Affine
from distributed import Client, LocalCluster, get_task_stream
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.demo import S2_L2A_CATALOG
from openee.engine.executors import Executors, cost, route
from openee.raster.grid import PixelGrid
from openee.raster.sources import FileBand, ReducedBand
from openee.settings import DEFAULT_PROJECT, Settings

SCENES = S2_L2A_CATALOG.parent / "sentinel-2-l2a"
TWL = sorted(p.name for p in SCENES.iterdir() if "_33TWL_" in p.name)
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
URL = f"/v1/projects/{DEFAULT_PROJECT}/image:computePixels"
# A native-resolution window of the 33TWL tiles (EPSG:32633, 120 m): 600 x 400 pixels from
# column 100, row 200; in chunks of 256 (6 chunks).
COL0, ROW0, WIDTH, HEIGHT = 100, 200, 600, 400
GRID = {
    "crsCode": "EPSG:32633",
    "affineTransform": {
        "scaleX": 120.0, "shearX": 0.0, "translateX": 499980.0 + 120 * COL0,
        "shearY": 0.0, "scaleY": -120.0, "translateY": 5100000.0 - 120 * ROW0,
    },
    "dimensions": {"width": WIDTH, "height": HEIGHT},
}  # fmt: skip
LOAD = {
    "functionInvocationValue": {
        "functionName": "Image.load",
        "arguments": {"id": {"constantValue": f"{COLLECTION}/{TWL[0]}"}},
    }
}
MEDIAN = {  # the 5 images of 33TWL, reduced by their median
    "functionInvocationValue": {
        "functionName": "ImageCollection.reduce",
        "arguments": {
            "collection": {"functionInvocationValue": {
                "functionName": "ImageCollection.fromImages",
                "arguments": {"images": {"arrayValue": {"values": [
                    {"functionInvocationValue": {
                        "functionName": "Image.load",
                        "arguments": {"id": {"constantValue": f"{COLLECTION}/{scene}"}},
                    }}
                    for scene in TWL
                ]}}},
            }},
            "reducer": {"functionInvocationValue": {
                "functionName": "Reducer.median", "arguments": {},
            }},
        },
    }
}  # fmt: skip


def _body(image: dict[str, Any]) -> dict[str, Any]:
    return {
        "expression": {"result": "0", "values": {"0": image}},
        "fileFormat": "NPY",
        "bandIds": ["B4"] if image is LOAD else ["B4_median"],
        "grid": GRID,
    }


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
    # Worker processes: the chunks' inputs and results really cross a process boundary.
    kwargs = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": ":0"}
    try:
        cluster = LocalCluster(**kwargs)
    except RuntimeError:  # a worker missing its start-up deadline on a loaded machine
        cluster = LocalCluster(**kwargs)
    with cluster, Client(cluster) as client:
        yield client


def _app(data_dir: Path, scheduler: str, threshold: int) -> TestClient:
    settings = Settings(
        data_dir=data_dir,
        auth_enabled=False,
        dask_scheduler=scheduler,
        dask_threshold=threshold,
        chunk_size=256,
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def apps(
    tmp_path_factory: pytest.TempPathFactory, dask_client: Client
) -> Iterator[dict[str, TestClient]]:
    """Two servers on one data dir and one cluster: one whose threshold no request reaches,
    one whose threshold every request reaches."""
    data_dir = tmp_path_factory.mktemp("dask-threshold")
    scheduler = dask_client.scheduler.address
    with (
        _app(data_dir, scheduler, 2**62) as light,
        _app(data_dir, scheduler, 1) as heavy,
    ):
        yield {"light": light, "heavy": heavy}


def _run(client: TestClient, dask_client: Client, image: dict[str, Any]) -> tuple[bytes, int]:
    """The response's bytes and the chunk tasks the cluster ran meanwhile."""
    with get_task_stream(dask_client) as stream:
        response = client.post(URL, json=_body(image))
        assert response.status_code == 200, response.text
    chunks = [t for t in stream.data if str(t["key"]).startswith("compute_chunk")]
    return response.content, len(chunks)


def _oracle() -> np.ndarray:
    window = rasterio.windows.Window(COL0, ROW0, WIDTH, HEIGHT)
    with rasterio.open(SCENES / TWL[0] / "B04.tif") as src:
        return src.read(1, window=window)


def test_same_bytes_in_threads_and_on_the_cluster(
    apps: dict[str, TestClient], dask_client: Client
) -> None:
    light, light_tasks = _run(apps["light"], dask_client, LOAD)
    heavy, heavy_tasks = _run(apps["heavy"], dask_client, LOAD)
    assert light_tasks == 0
    assert heavy_tasks == 6  # the grid's 6 chunks of 256
    assert heavy == light
    pixels = np.load(io.BytesIO(heavy))
    np.testing.assert_array_equal(pixels["B4"], _oracle())


def test_a_composite_on_the_cluster_equals_threads(
    apps: dict[str, TestClient], dask_client: Client
) -> None:
    assert len(TWL) == 5
    light, light_tasks = _run(apps["light"], dask_client, MEDIAN)
    heavy, heavy_tasks = _run(apps["heavy"], dask_client, MEDIAN)
    assert (light_tasks, heavy_tasks) == (0, 6)
    assert heavy == light
    values = np.load(io.BytesIO(heavy))["B4_median"]
    assert np.count_nonzero(values) > values.size // 2  # real pixels, not an empty grid


def test_the_threshold_compares_pixels_times_sources() -> None:
    """Below the threshold in threads, from it on; the cost of 5 files is 5 times one's."""
    one = FileBand(str(SCENES / TWL[0] / "B04.tif"), 1, "uint16", 0.0)
    five = ReducedBand(
        "median", tuple(FileBand(str(SCENES / s / "B04.tif"), 1, "uint16", 0.0) for s in TWL)
    )
    grid = PixelGrid("EPSG:32633", Affine(120, 0, 499980, 0, -120, 5100000), WIDTH, HEIGHT)
    assert (cost([one], grid), cost([five], grid)) == (WIDTH * HEIGHT, 5 * WIDTH * HEIGHT)
    cluster = object()  # where the heavy grids go: never submitted to here
    with ThreadPoolExecutor(1) as pool:
        executors = Executors(pool, cluster, threshold=5 * WIDTH * HEIGHT)
        assert route(executors, [five], grid) is cluster
        assert route(executors, [one, one], grid) is pool  # the same file read once
        assert route(Executors(pool), [five], grid) is pool  # no cluster configured
        assert route(pool, [five], grid) is pool  # an executor given explicitly (exports)
