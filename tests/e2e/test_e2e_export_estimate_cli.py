"""`openee export estimate` run as a real subprocess on the data dir of a running server, given
the body the stock client would POST to `image:export`. Its figures are checked against an
independent computation: the grid from the region and scale with numpy (the projection's own
pixels snapped to its grid, as `Image.clipToBoundsAndScale` documents), output bytes as pixels x
bands x 4 (float32, from `toFloat()`), source bytes from each source file's window over the grid
(rasterio header + pyproj footprint test), and the time from the stock client's own view of the
project's finished image exports (`ee.data.listOperations`)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely.geometry
from oracle import load_items
from pyproj import Transformer

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
AUGUST = ("2023-08-01", "2023-09-01")
CRS, SCALE = "EPSG:32633", 60.0
# Deliberately off the 60 m lattice, so that snapping to the projection's pixels matters.
XMIN, YMIN, XMAX, YMAX = 540123.4, 5030055.5, 571031.7, 5059990.2
BANDS = ("B4", "B8")


def _body(ee: Any, description: str, **extra: Any) -> dict[str, Any]:
    region = ee.Geometry.Rectangle([XMIN, YMIN, XMAX, YMAX], CRS, False)
    image = ee.ImageCollection(COLLECTION).filterBounds(region).filterDate(*AUGUST).median()
    task = ee.batch.Export.image.toCloudStorage(
        image=image.select(list(BANDS)).toFloat(),
        description=description,
        bucket="estimate-bucket",
        fileNamePrefix=description,
        region=region,
        scale=SCALE,
        crs=CRS,
        fileDimensions=256,
        **extra,
    )
    config = dict(task.config)
    return {
        "expression": ee.serializer.encode(config.pop("expression"), for_cloud_api=True),
        "description": config["description"],
        "fileExportOptions": config["fileExportOptions"],
    }


def _cli(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    env.pop("OPENEE_CATALOG", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "openee",
            "export",
            "estimate",
            "--data-dir",
            str(server.data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _expected_grid() -> tuple[int, int, float, float]:
    col0, col1 = math.floor(XMIN / SCALE), math.ceil(XMAX / SCALE)
    row0, row1 = math.floor(-YMAX / SCALE), math.ceil(-YMIN / SCALE)
    return col1 - col0, row1 - row0, col0 * SCALE, -row0 * SCALE


def _source_bytes() -> tuple[int, int]:
    """Decoded bytes of each B4/B8 file's window over the grid, for the August items whose
    footprint meets the region: (bytes, files)."""
    width, height, x0, y0 = _expected_grid()
    box = shapely.geometry.box(x0, y0 - height * SCALE, x0 + width * SCALE, y0)
    to_wgs84 = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform
    region = shapely.transform(
        shapely.geometry.box(XMIN, YMIN, XMAX, YMAX).segmentize(100), to_wgs84, interleaved=False
    )
    total, files = 0, 0
    for item in load_items():
        if not (AUGUST[0] <= item.datetime.strftime("%Y-%m-%d") < AUGUST[1]):
            continue
        if not item.footprint.intersects(region):
            continue
        for band in BANDS:
            with rasterio.open(item.band_path(band)) as src:
                # Every overview is coarser than the 60 m output: full resolution is read.
                assert src.crs.to_string() == CRS
                assert src.res[0] * min(src.overviews(1) or [math.inf]) > SCALE
                inside = box.intersection(shapely.geometry.box(*src.bounds))
                files += 1
                if inside.is_empty:
                    continue
                t = src.transform
                left, bottom, right, top = inside.bounds
                # Every source pixel the grid's box touches, partly covered ones included.
                cols = math.ceil((right - t.c) / t.a) - math.floor((left - t.c) / t.a)
                rows = math.ceil((bottom - t.f) / t.e) - math.floor((top - t.f) / t.e)
                total += cols * rows * np.dtype(src.dtypes[0]).itemsize
    return total, files


@pytest.fixture(scope="module")
def finished(ee_api, server) -> dict[str, Any]:
    """A small image export run to the end, so the project has a measured throughput."""
    body = _body(ee_api, "estimate_run")
    r = ee_api.data.exportImage(f"estimate-{time.time_ns()}", body)
    name = r["name"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        op = ee_api.data.getOperation(name)
        if op.get("done"):
            assert op["metadata"]["state"] == "SUCCEEDED", op
            return op
        time.sleep(0.25)
    raise AssertionError("the export did not finish")


def test_estimate_cli_gives_the_grid_bytes_and_sources(ee_api, server, finished, tmp_path) -> None:
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps(_body(ee_api, "estimate_cli")))
    run = _cli(server, str(body_file), "--json")
    assert run.returncode == 0, run.stderr
    estimate = json.loads(run.stdout)

    width, height, x0, y0 = _expected_grid()
    assert estimate["grid"]["crs"] == CRS
    assert estimate["grid"]["dimensions"] == {"width": width, "height": height}
    np.testing.assert_allclose(estimate["grid"]["transform"], [SCALE, 0, x0, 0, -SCALE, y0])
    assert estimate["pixels"] == width * height
    assert estimate["bands"] == 2
    assert estimate["dtype"] == "float32"
    assert estimate["uncompressedBytes"] == width * height * 2 * 4
    assert estimate["files"] == math.ceil(width / 256) * math.ceil(height / 256)
    source_bytes, source_files = _source_bytes()
    assert source_bytes > 0
    assert (estimate["sourceBytes"], estimate["sourceFiles"]) == (source_bytes, source_files)
    # The server's chunk size (1024 by default) in whole 256-pixel tiles, per 256-pixel file.
    assert estimate["chunks"] == estimate["files"]

    # The time: the median throughput of the project's finished image exports among its 200
    # newest operations (listOperations answers newest first).
    rates = []
    for op in ee_api.data.listOperations()[:200]:
        meta = op["metadata"]
        if meta["type"] == "EXPORT_IMAGE" and meta["state"] == "SUCCEEDED":
            start = np.datetime64(meta["startTime"].rstrip("Z"))
            end = np.datetime64(meta["endTime"].rstrip("Z"))
            seconds = (end - start) / np.timedelta64(1, "us") / 1e6
            rates.append(meta["estimate"]["pixels"] / seconds)
    assert rates
    rate = sorted(rates)[len(rates) // 2]
    assert estimate["pixelsPerSecond"] == pytest.approx(rate, abs=0.1)
    assert estimate["estimatedSeconds"] == pytest.approx(width * height / rate, abs=0.1)

    # The text form, and the same figures as the REST method and the operation's metadata.
    text = _cli(server, str(body_file))
    assert text.returncode == 0, text.stderr
    assert f"grid:          {width} x {height} pixels, {CRS}" in text.stdout
    assert f"source bytes:  {source_bytes:,} bytes" in text.stdout
    metadata_estimate = finished["metadata"]["estimate"]
    assert metadata_estimate["sourceBytes"] == source_bytes


def test_estimate_cli_takes_a_bare_expression_and_refuses_garbage(ee_api, server, tmp_path):
    expression = _body(ee_api, "bare")["expression"]
    path = tmp_path / "expression.json"
    path.write_text(json.dumps(expression))
    run = _cli(server, str(path), "--json")
    assert run.returncode == 0, run.stderr
    width, height, _, _ = _expected_grid()
    assert json.loads(run.stdout)["files"] == 1  # no fileDimensions: one file up to 32768
    assert json.loads(run.stdout)["pixels"] == width * height

    path.write_text(json.dumps({"something": "else"}))
    bad = _cli(server, str(path))
    assert bad.returncode == 2 and "expected an image:export body" in bad.stderr
    missing = _cli(server, str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "nope.json" in missing.stderr
    bad_band = _body(ee_api, "bad")
    bad_band["expression"] = json.loads(json.dumps(bad_band["expression"]).replace('"B8"', '"B99"'))
    path.write_text(json.dumps(bad_band))
    unknown = _cli(server, str(path))
    assert unknown.returncode == 2 and "B99" in unknown.stderr


def test_operations_list_filter_through_the_stock_clients_stubs(ee_api, finished) -> None:
    """The stock client's REST stubs (built from the discovery document) pass `filter`."""
    projects = ee_api.data._get_cloud_projects()
    name = ee_api.data._get_projects_path()
    listed = ee_api.data._execute_cloud_call(
        projects.operations().list(
            name=name, filter='type = EXPORT_IMAGE AND state = "SUCCEEDED"', pageSize=500
        )
    )["operations"]
    everything = ee_api.data.listOperations()
    expected = [
        op["name"]
        for op in everything
        if op["metadata"]["type"] == "EXPORT_IMAGE" and op["metadata"]["state"] == "SUCCEEDED"
    ]
    assert finished["name"] in expected
    assert [op["name"] for op in listed] == expected
    with pytest.raises(ee_api.EEException, match="unknown state 'DONE'"):
        ee_api.data._execute_cloud_call(
            projects.operations().list(name=name, filter="state = DONE")
        )
