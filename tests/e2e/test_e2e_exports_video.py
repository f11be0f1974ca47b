"""`Export.video.toCloudStorage` through the stock client: an MP4 of a collection's visualized
images, decoded with PyAV: frame count, frame size and frame order against the oracle."""

from __future__ import annotations

import time
import uuid

import av
import numpy as np
from affine import Affine
from oracle import Grid, load_items, visualize, warp_band
from pyproj import Transformer

WEST, SOUTH, EAST, NORTH = 15.6, 45.5, 15.8, 45.62
AUGUST = ("2023-08-01", "2023-09-01")


def test_video_export_writes_one_frame_per_image(ee_api, server) -> None:
    region = ee_api.Geometry.Rectangle([WEST, SOUTH, EAST, NORTH], None, False)
    collection = (
        ee_api.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
        .filterBounds(region)
        .filterDate(*AUGUST)
        .filter(ee_api.Filter.stringContains("system:index", "33TWL"))
    )
    frames = collection.map(lambda i: i.visualize(bands=["B4", "B4", "B4"], min=0, max=3000))
    prefix = f"videos/v_{uuid.uuid4().hex[:6]}"
    task = ee_api.batch.Export.video.toCloudStorage(
        collection=frames,
        description="video_export",
        bucket="video-bucket",
        fileNamePrefix=prefix,
        dimensions=160,
        region=region,
        crs="EPSG:32633",  # the images' own
        framesPerSecond=2,
    )
    task.start()
    deadline = time.monotonic() + 120
    while (status := task.status())["state"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status["state"] == "COMPLETED", status
    assert status["task_type"] == "EXPORT_VIDEO"
    items = [
        i
        for i in load_items()
        if "33TWL" in i.id and AUGUST[0] <= i.datetime.strftime("%Y-%m-%d") < AUGUST[1]
    ]
    path = server.data_dir / "buckets" / "video-bucket" / f"{prefix}.mp4"
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        rate = container.streams.video[0].average_rate
    assert len(decoded) == len(items) == 5
    assert rate == 2
    # dimensions=160: the region's bounds in the frames' CRS, the longer side 160 pixels
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    xs, ys = to_utm.transform([WEST, EAST, EAST, WEST], [SOUTH, SOUTH, NORTH, NORTH])
    dx, dy = max(xs) - min(xs), max(ys) - min(ys)
    height = decoded[0].shape[0]
    assert decoded[0].shape[1:] == (160, 3)
    assert abs(height - dy * 160 / dx) <= 1  # the server's bounds follow the edges' curvature
    assert all(frame.shape == decoded[0].shape for frame in decoded)
    # frames in collection (time) order: each frame is closest to its own image's oracle (H.264
    # is lossy, so compare mean absolute differences of the red channel)
    grid = Grid("EPSG:32633", Affine(dx / 160, 0, min(xs), 0, -dy / height, max(ys)), 160, height)
    ordered = sorted(items, key=lambda i: i.datetime)
    expected = [visualize(warp_band(i.band_path("B4"), grid), 0, 3000) for i in ordered]
    for index, frame in enumerate(decoded):
        distances = [np.abs(frame[..., 0].astype(float) - e).mean() for e in expected]
        assert int(np.argmin(distances)) == index
        assert distances[index] < 20  # lossy, and the grid known to within a pixel


def test_video_export_with_the_clients_default_crs(ee_api, server) -> None:
    region = ee_api.Geometry.Rectangle([WEST, SOUTH, EAST, NORTH], None, False)
    frames = (
        ee_api.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
        .filterBounds(region)
        .filterDate(*AUGUST)
        .limit(3)
        .map(lambda i: i.visualize(bands=["B4", "B3", "B2"], min=0, max=3000))
    )
    prefix = f"videos/d_{uuid.uuid4().hex[:6]}"
    task = ee_api.batch.Export.video.toDrive(
        collection=frames, description="video_default", fileNamePrefix=prefix.replace("/", "_"),
        dimensions=64, region=region,
    )  # fmt: skip
    task.start()
    deadline = time.monotonic() + 120
    while (status := task.status())["state"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status["state"] == "COMPLETED", status
    path = (
        server.data_dir / "drive" / server.key["client_email"] / f"{prefix.replace('/', '_')}.mp4"
    )
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 3
    assert max(decoded[0].shape[:2]) == 64  # the longer side: dimensions=64
