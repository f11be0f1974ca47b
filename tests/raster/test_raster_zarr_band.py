"""ZarrBand in process: chunked reads equal whole reads (also through a reprojection), and a
read decodes only the Zarr chunks under it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import zarr
from affine import Affine
from pyproj import Transformer

from openee.engine.chunks import materialize
from openee.errors import InternalError
from openee.raster.grid import PixelGrid
from openee.raster.zarr_band import ZarrBand

TRANSFORM = (0.01, 0.0, 10.0, 0.0, -0.01, 46.0)


def write(tmp_path: Path) -> tuple[str, np.ndarray]:
    data = np.arange(2 * 40 * 50, dtype=np.float32).reshape(2, 40, 50)
    data[1, 10:12, 20:23] = np.nan
    path = tmp_path / "a"
    array = zarr.create_array(
        store=str(path),
        shape=data.shape,
        chunks=(1, 16, 16),
        dtype="f4",
        zarr_format=2,
        fill_value=-1.0,
    )
    array[...] = data
    return str(path), data


def band(path: str, plane: int) -> ZarrBand:
    stamp = Path(path, ".zarray").stat().st_mtime_ns
    return ZarrBand(path, stamp, (plane,), "float32", -1.0, "EPSG:4326", TRANSFORM, 50, 40)


def test_chunked_equals_whole_and_samples_centres(tmp_path: Path) -> None:
    path, data = write(tmp_path)
    grid = PixelGrid("EPSG:32632", Affine(700.0, 0, 560_000.0, 0, -700.0, 5_110_000.0), 60, 50)
    source = band(path, 1)
    whole = source.read(grid)
    with ThreadPoolExecutor(2) as pool:
        chunked = materialize([source], grid, pool, chunk_size=16)[0]
    np.testing.assert_array_equal(chunked.valid, whole.valid)
    np.testing.assert_array_equal(chunked.data, whole.data)
    # each output centre, transformed with pyproj, falls in the array pixel read
    rows, cols = np.mgrid[0:50, 0:60] + 0.5
    x, y = 560_000.0 + cols * 700.0, 5_110_000.0 - rows * 700.0
    lon, lat = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True).transform(x, y)
    c, r = np.floor((lon - 10.0) / 0.01), np.floor((46.0 - lat) / 0.01)
    inside = (c >= 0) & (c < 50) & (r >= 0) & (r < 40)
    expected = np.full(inside.shape, np.nan, dtype=np.float32)
    expected[inside] = data[1, r[inside].astype(int), c[inside].astype(int)]
    assert inside.any() and not inside.all()
    np.testing.assert_array_equal(whole.valid, inside & ~np.isnan(expected))
    np.testing.assert_array_equal(whole.data[whole.valid], expected[whole.valid])


def test_a_read_decodes_only_the_chunks_under_it(tmp_path: Path) -> None:
    path, data = write(tmp_path)
    Path(path, "0.2.3").write_bytes(b"not a chunk")  # plane 0, rows 32-39, columns 48-49
    north_west = PixelGrid("EPSG:4326", Affine(0.01, 0, 10.0, 0, -0.01, 46.0), 20, 20)
    got = band(path, 0).read(north_west)
    np.testing.assert_array_equal(got.data, data[0, :20, :20])
    south_east = PixelGrid("EPSG:4326", Affine(0.01, 0, 10.3, 0, -0.01, 45.8), 20, 20)
    with pytest.raises(InternalError, match="Failed to read Zarr"):
        band(path, 0).read(south_east)


def test_a_coarse_read_decodes_only_the_chunks_holding_its_samples(tmp_path: Path) -> None:
    """A grid 40 x coarser than the array takes one pixel in 40 a side (issue 16, item 12):
    chunks between its samples are never decoded (damaged ones there do not fail the read, as
    they did when the window holding every sample was read), and the pixels are those holding
    the output centres."""
    data = np.arange(400 * 400, dtype=np.float32).reshape(1, 400, 400)
    path = tmp_path / "coarse"
    array = zarr.create_array(
        store=str(path), shape=data.shape, chunks=(1, 16, 16), dtype="f4", zarr_format=2
    )
    array[...] = data
    # Samples fall in array rows and columns 20, 60, 100, ...: never in chunk row or column 0
    # (pixels 0-15) or 2 (pixels 32-47).
    for damaged in ("0.0.0", "0.2.2", "0.0.5"):
        Path(path, damaged).write_bytes(b"not a chunk")
    stamp = Path(path, ".zarray").stat().st_mtime_ns
    source = ZarrBand(
        str(path),
        stamp,
        (0,),
        "float32",
        None,
        "EPSG:4326",
        (0.001, 0, 10, 0, -0.001, 46),
        400,
        400,
    )
    grid = PixelGrid("EPSG:4326", Affine(0.04, 0, 10, 0, -0.04, 46), 10, 10)
    got = source.read(grid)
    centres = (np.arange(10) * 40 + 20)[:, None], (np.arange(10) * 40 + 20)[None, :]
    assert got.valid.all()
    np.testing.assert_array_equal(got.data, data[0][centres])
