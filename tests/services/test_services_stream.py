"""Chunk rows reported as they complete (fill_rows) and the streamed NPY built on them
(NpyStream), in process, on real GeoTIFFs; the oracle is the files' own arrays (rasterio)."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from openee.api.requests import pixels_request
from openee.engine.chunks import allocate_outputs, fill_rows, materialize
from openee.raster.grid import PixelGrid
from openee.raster.image import Band, Image
from openee.raster.read import SourceUnreadableError
from openee.raster.sources import FileBand
from openee.services.pixels import NpyStream, compute_pixels, stream_pixels
from openee.services.requests import PixelsRequest
from openee.settings import Limits
from openee.values.projection import Projection

CRS = "EPSG:32633"
TRANSFORM = Affine(10, 0, 500000, 0, -10, 5000000)
HEIGHT, WIDTH = 70, 50  # chunk size 16: several chunk rows of several chunks
CHUNK = 16
NODATA = -1.0


class GatedPool(ThreadPoolExecutor):
    """A one-thread pool that keeps the futures it hands out; every task after the first
    `free` ones waits for `gate` before it runs, so chunks stay queued while the test looks."""

    def __init__(self, free: int) -> None:
        super().__init__(1)
        self.free = free
        self.gate = threading.Event()
        self.futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        gated = len(self.futures) >= self.free

        def run() -> Any:
            if gated:
                self.gate.wait(30)
            return fn(*args, **kwargs)

        future = super().submit(run)
        self.futures.append(future)
        return future


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as executor:
        yield executor


def write_geotiff(path: Path, data: np.ndarray, striped: bool = False) -> None:
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": CRS,
        "transform": TRANSFORM,
        "nodata": NODATA,
    }
    if striped:  # uncompressed strips in row order, after the header
        profile.update(tiled=False, blockysize=4)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)


def values(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """Distinct values, and a diagonal of nodata crossing every chunk row."""
    data = np.arange(height * width, dtype=np.float32).reshape(height, width) * 0.5 + 1
    rows = np.arange(height)
    data[rows, (rows * 7) % width] = NODATA
    return data


def file_image(path: Path) -> Image:
    with rasterio.open(path) as ds:
        band = FileBand(str(path), 1, ds.dtypes[0], ds.nodata)
        projection = Projection.of(CRS, tuple(TRANSFORM)[:6])
        return Image((Band("v", band, projection, (ds.width, ds.height)),))


def npy_request() -> PixelsRequest:
    return PixelsRequest("NPY")  # on the image's own grid


def expected_npy(data: np.ndarray) -> bytes:
    """The file Earth Engine's NPY holds: one field, 0 where the band is masked (np.save)."""
    array = np.zeros(data.shape, dtype=[("v", data.dtype)])
    array["v"] = np.where(data == NODATA, 0, data)
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def test_fill_rows_reports_each_chunk_row_once_it_is_complete(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    data = values()
    write_geotiff(tmp_path / "a.tif", data)
    image = file_image(tmp_path / "a.tif")
    sources = [b.source for b in image.bands]
    grid = PixelGrid(CRS, TRANSFORM, WIDTH, HEIGHT)
    outputs = allocate_outputs(sources, grid)
    bands = []
    for start, stop in fill_rows(sources, grid, pool, CHUNK, outputs, max_in_flight=3):
        # Every row up to `stop` is final when the band is reported.
        np.testing.assert_array_equal(outputs[0].valid[:stop], data[:stop] != NODATA)
        np.testing.assert_array_equal(
            outputs[0].data[:stop][outputs[0].valid[:stop]], data[:stop][data[:stop] != NODATA]
        )
        bands.append((start, stop))
    chunk_rows = sorted({(row, row + sub.height) for row, _, sub in grid.chunks(CHUNK)})
    assert len(chunk_rows) > 2
    assert bands == chunk_rows
    whole = materialize(sources, grid, pool, CHUNK)
    np.testing.assert_array_equal(whole[0].data, outputs[0].data)


def test_streamed_npy_is_the_whole_file_with_masked_pixels_zeroed_in_every_band(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    data = values()
    write_geotiff(tmp_path / "a.tif", data)
    image = file_image(tmp_path / "a.tif")
    stream = stream_pixels(image, npy_request(), pool, Limits(), CHUNK)
    assert isinstance(stream, NpyStream)
    parts = list(stream.parts())
    header, rows = parts[0], parts[1:]
    grid = PixelGrid(CRS, TRANSFORM, WIDTH, HEIGHT)
    assert len(rows) == len({row for row, _, _ in grid.chunks(CHUNK)})  # one part per chunk row
    streamed = b"".join(parts)
    assert len(streamed) == stream.length
    assert streamed == expected_npy(data)
    # Each band of rows, on its own, already holds 0 at the masked pixels.
    dtype = np.dtype([("v", np.float32)])
    start = 0
    for part in rows:
        band = np.frombuffer(part, dtype=dtype).reshape(-1, WIDTH)["v"]
        stop = start + band.shape[0]
        masked = data[start:stop] == NODATA
        assert masked.any()
        assert (band[masked] == 0).all()
        start = stop
    assert start == HEIGHT
    # The whole-file path (bench, thumbnails) gives the same bytes.
    assert bytes(compute_pixels(image, npy_request(), pool, Limits(), CHUNK).content) == streamed
    assert bytes(header) == streamed[: len(header)]


def test_other_formats_are_not_streamed(tmp_path: Path, pool: ThreadPoolExecutor) -> None:
    write_geotiff(tmp_path / "a.tif", values())
    image = file_image(tmp_path / "a.tif")
    result = stream_pixels(image, PixelsRequest("GEO_TIFF"), pool, Limits(), CHUNK)
    assert not isinstance(result, NpyStream)
    with rasterio.MemoryFile(bytes(result.content)) as memfile, memfile.open() as ds:
        assert (ds.height, ds.width) == (HEIGHT, WIDTH)


def truncated_geotiff(path: Path, good_rows: int) -> np.ndarray:
    """A striped GeoTIFF cut short after about `good_rows` rows: its header opens, reading the
    rows after them fails."""
    data = values()
    write_geotiff(path, data, striped=True)
    with rasterio.open(path) as ds:
        assert ds.block_shapes == [(4, WIDTH)]
    row_bytes = WIDTH * data.dtype.itemsize
    os.truncate(path, os.path.getsize(path) - (HEIGHT - good_rows) * row_bytes)
    return data


def test_a_failing_later_chunk_row_fails_the_stream_after_the_first_rows(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    data = truncated_geotiff(tmp_path / "cut.tif", good_rows=24)
    stream = stream_pixels(file_image(tmp_path / "cut.tif"), npy_request(), pool, Limits(), CHUNK)
    assert isinstance(stream, NpyStream)
    parts = stream.parts()
    next(parts)  # header
    first = np.frombuffer(next(parts), dtype=[("v", np.float32)]).reshape(-1, WIDTH)["v"]
    rows = first.shape[0]
    assert 0 < rows < 24  # the first band of rows lies before the rows that cannot be read
    np.testing.assert_array_equal(first, np.where(data[:rows] == NODATA, 0, data[:rows]))
    with pytest.raises(SourceUnreadableError, match=r"Cannot read the source file 'cut\.tif'"):
        list(parts)


def test_a_failing_first_chunk_row_fails_before_anything_is_sent(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    truncated_geotiff(tmp_path / "cut.tif", good_rows=4)
    with pytest.raises(SourceUnreadableError, match=r"Cannot read the source file 'cut\.tif'"):
        stream_pixels(file_image(tmp_path / "cut.tif"), npy_request(), pool, Limits(), CHUNK)


def test_closing_the_stream_early_cancels_the_chunks_not_started(tmp_path: Path) -> None:
    write_geotiff(tmp_path / "tall.tif", values(40 * 8, 8))  # 40 chunk rows of one chunk
    image = file_image(tmp_path / "tall.tif")
    with GatedPool(free=1) as pool:
        stream = stream_pixels(image, npy_request(), pool, Limits(), 8)
        assert isinstance(stream, NpyStream)
        parts = stream.parts()
        next(parts), next(parts)  # the header and the first chunk row are sent
        stream.close()  # the client went away
        pool.gate.set()
    # Four chunks were submitted (the first, and three ahead of it) and none more; the two
    # queued behind the one the thread had taken were cancelled.
    assert len(pool.futures) == 4
    first, _, *queued = pool.futures
    assert not first.cancelled() and all(f.cancelled() for f in queued)


def test_npy_beyond_the_file_holds_0_at_every_masked_pixel(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    """A grid reaching past the file: chunks write only the box the file covers (some chunks
    nothing), with masked pixels at 0 (the file's nodata is -1), into a buffer that starts at
    0; pixels no chunk writes must read 0 too, also on a second request that reuses the freed
    memory of the first. Oracle: the file's array placed in the grid by numpy."""
    data = values()
    write_geotiff(tmp_path / "a.tif", data)
    image = file_image(tmp_path / "a.tif")
    # 20 pixels more on every side (the same CRS and pixel size: pixel (r, c) of the grid is
    # pixel (r - 20, c - 20) of the file).
    grid_transform = TRANSFORM @ Affine.translation(-20, -20)
    width, height = WIDTH + 40, HEIGHT + 40
    expected = np.zeros((height, width), dtype=np.float32)
    expected[20:-20, 20:-20] = np.where(data == NODATA, 0, data)
    wire = {
        "crsCode": CRS,
        "affineTransform": dict(
            zip(
                ["scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY"],
                tuple(grid_transform)[:6],
                strict=True,
            )
        ),
        "dimensions": {"width": width, "height": height},
    }
    request = pixels_request({"fileFormat": "NPY", "grid": wire})
    for _ in range(2):
        whole = compute_pixels(image, request, pool, Limits(), CHUNK).content
        stream = stream_pixels(image, request, pool, Limits(), CHUNK)
        assert isinstance(stream, NpyStream)
        streamed = b"".join(stream.parts())
        for content in (bytes(whole), streamed):
            got = np.load(io.BytesIO(content))["v"]
            np.testing.assert_array_equal(got, expected)


def test_zero_masked_outputs_carry_the_mask_in_their_data_and_keep_no_mask_array(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    data = values()
    write_geotiff(tmp_path / "a.tif", data)
    sources = [b.source for b in file_image(tmp_path / "a.tif").bands]
    grid = PixelGrid(CRS, TRANSFORM, WIDTH, HEIGHT)
    target = np.full(grid.shape, 7.0)  # not zeroed beforehand: every chunk writes its pixels
    (out,) = materialize(sources, grid, pool, CHUNK, [target], zero_masked=True)
    np.testing.assert_array_equal(target, np.where(data == NODATA, 0, data))
    # The mask lives in the data (an NPY's zeros): no (height, width) array of it is kept.
    assert out.valid.shape == grid.shape and out.valid.strides == (0, 0)
    assert not out.valid.any()
