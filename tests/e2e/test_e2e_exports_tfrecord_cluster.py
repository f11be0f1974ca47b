"""TFRecord image exports on servers of their own (the stock client's requests, sent as it sends
them): blocks of patches run as Dask tasks on a LocalCluster of two worker processes, and a
server killed mid-export resumes from its finished blocks. The patches are read back with the
`tfrecord` package and compared with the median composite computed by `oracle.py`."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from oracle import Grid
from test_e2e_exports_cluster import (
    AUGUST,
    COLLECTION,
    EAST,
    NORTH,
    SOUTH,
    WEST,
    Server,
    cluster,  # noqa: F401 - the fixture
    oracle,
    wait_for_a_window,
)
from test_e2e_exports_tfrecord import examples


def tfrecord_body(ee: Any, bucket: str, prefix: str, side: int, patch: int, kernel: int):
    """What `Export.image.toCloudStorage(fileFormat='TFRecord', ...)` sends for the median."""
    region = ee.Geometry.Rectangle([WEST, SOUTH, EAST, NORTH], None, False)
    image = ee.ImageCollection(COLLECTION).filterBounds(region).filterDate(*AUGUST).median()
    task = ee.batch.Export.image.toCloudStorage(
        image=image.select("B4"),
        description="tfrecord_cluster",
        bucket=bucket,
        fileNamePrefix=prefix,
        region=region,
        dimensions=f"{side}x{side}",
        crs="EPSG:4326",
        fileFormat="TFRecord",
        formatOptions={
            "patchDimensions": [patch, patch],
            "kernelSize": [kernel, kernel],
            "compressed": True,
        },
        maxPixels=1e10,
    )
    config = dict(task.config)
    return {
        "expression": ee.serializer.encode(config.pop("expression"), for_cloud_api=True),
        "description": config["description"],
        "fileExportOptions": config["fileExportOptions"],
        "maxPixels": config["maxPixels"],
        "requestId": str(uuid.uuid4()),
    }


def check_patches(folder: Path, name: str, side: int, patch: int, kernel: int) -> None:
    """Every patch equals the oracle's composite on the grid widened by the margins; margins
    outside the region (clipped) and pixels without a valid input hold the default 0."""
    m = kernel // 2
    whole = Affine((EAST - WEST) / side, 0, WEST, 0, -(NORTH - SOUTH) / side, NORTH)
    wide = Grid("EPSG:4326", whole @ Affine.translation(-m, -m), side + 2 * m, side + 2 * m)
    expected = np.nan_to_num(oracle(wide), nan=0.0)
    expected[:m] = expected[-m:] = expected[:, :m] = expected[:, -m:] = 0
    records = examples(folder / f"{name}-00000.tfrecord.gz")
    per_row = side // patch
    assert len(records) == per_row * per_row
    tile = patch + 2 * m
    for i, record in enumerate(records):
        r, c = divmod(i, per_row)
        window = np.s_[r * patch : r * patch + tile, c * patch : c * patch + tile]
        np.testing.assert_array_equal(record["B4"].reshape(tile, tile), expected[window])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tfrecord_blocks_run_as_dask_tasks(ee_api, cluster, tmp_path) -> None:  # noqa: F811
    from distributed import get_task_stream

    server = Server(
        tmp_path / "data",
        {"OPENEE_DASK_SCHEDULER": cluster.scheduler.address, "OPENEE_CHUNK_SIZE": "256"},
    )
    try:
        with get_task_stream(cluster) as stream:
            op = server.post("image:export", tfrecord_body(ee_api, "dask-tfr", "p", 512, 128, 16))
            done = server.wait(op["name"])
        assert done["metadata"]["state"] == "SUCCEEDED", done
        blocks = [t for t in stream.data if "tfrecord_block" in str(t["key"])]
        assert len(blocks) == 8  # 4 patch rows of 4 patches, two patches a block
        check_patches(tmp_path / "data" / "buckets" / "dask-tfr", "p", 512, 128, 16)
    finally:
        server.stop()


def test_a_killed_server_resumes_its_tfrecord_export(ee_api, tmp_path) -> None:
    data = tmp_path / "data"
    first = Server(data, {"OPENEE_CHUNK_SIZE": "128"})
    # 1024 x 1024 pixels in 64-pixel patches, two a block: 128 blocks.
    op = first.post("image:export", tfrecord_body(ee_api, "resume-tfr", "r", 1024, 64, 8))
    wait_for_a_window(data, op["name"])
    first.stop(signal.SIGKILL)
    assert not (data / "buckets" / "resume-tfr").exists()
    second = Server(data, {"OPENEE_CHUNK_SIZE": "128"}, port=first.port)
    try:
        done = second.wait(op["name"], timeout=180)
        assert done["metadata"]["state"] == "SUCCEEDED", done
        assert done["metadata"]["attempt"] == 2
        assert 0 < done["metadata"]["resumedWorkUnits"] < 128
        check_patches(data / "buckets" / "resume-tfr", "r", 1024, 64, 8)
    finally:
        second.stop()
