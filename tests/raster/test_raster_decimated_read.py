"""A grid far coarser than a file without overviews reads only the source pixels it takes
(issue 16, item 12): bounded memory and blocks, and exactly the pixels that nearest sampling
names (the source pixel holding each output centre, each centre transformed by pyproj)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.windows import Window

from openee.raster import sampling
from openee.raster.grid import PixelGrid
from openee.raster.read import read_into_grid, read_pixels

CRS = "EPSG:32633"
ORIGIN = (500000.0, 5100000.0)
BIG = 12000  # pixels a side of the file without overviews: 144 MB of pixels decoded
TILE = 256


def big_value(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The big file's pixel at (row, col): varied, yet compressing to a few MB."""
    return ((rows * 3 + cols) % 251).astype(np.uint8)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("decimated") / "big.tif"
    profile = {
        "driver": "GTiff",
        "width": BIG,
        "height": BIG,
        "count": 1,
        "dtype": "uint8",
        "crs": CRS,
        "transform": Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1]),
        "tiled": True,
        "blockxsize": TILE,
        "blockysize": TILE,
        "compress": "deflate",
    }
    cols = np.arange(BIG)
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, BIG, TILE):
            rows = np.arange(r0, min(BIG, r0 + TILE))[:, None]
            dst.write(big_value(rows, cols), 1, window=Window(0, r0, BIG, rows.shape[0]))
    with rasterio.open(path) as src:
        assert src.overviews(1) == []
    return str(path)


def centres_in_source(grid: PixelGrid, transform: Affine) -> tuple[np.ndarray, np.ndarray]:
    """The oracle: the source (row, column) holding each output centre, by pyproj."""
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    xs, ys = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    if grid.crs != CRS:
        xs, ys = Transformer.from_crs(grid.crs, CRS, always_xy=True).transform(xs, ys)
    inv = ~transform
    c = inv.a * np.asarray(xs) + inv.b * np.asarray(ys) + inv.c
    r = inv.d * np.asarray(xs) + inv.e * np.asarray(ys) + inv.f
    return np.floor(r).astype(np.int64), np.floor(c).astype(np.int64)


def big_grids() -> dict[str, PixelGrid]:
    side = 10 * BIG / 64  # the whole file in 64 x 64 pixels
    return {
        "same crs": PixelGrid(CRS, Affine(side, 0, ORIGIN[0], 0, -side, ORIGIN[1]), 64, 64),
        "wgs84, partly outside": PixelGrid(
            "EPSG:4326", Affine(0.02, 0, 14.95, 0, -0.015, 46.06), 64, 64
        ),
        "utm rotated": PixelGrid(
            CRS,
            Affine.translation(ORIGIN[0] + 30000, ORIGIN[1] - 20000)
            @ Affine.rotation(20)
            @ Affine.scale(1500, -1500),
            64,
            64,
        ),
    }


@pytest.mark.parametrize("name", list(big_grids()))
def test_coarse_grid_over_file_without_overviews_is_exact_and_bounded(
    big_file: str, name: str
) -> None:
    grid = big_grids()[name]
    tracemalloc.start()
    try:
        pixels = read_into_grid(big_file, 1, np.dtype("uint8"), None, grid)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Reading the window that holds the samples allocated up to BIG * BIG bytes (144 MB); the
    # pixels taken are 4096, each block window at most 64 KiB.
    assert peak < 4 << 20, peak
    rows, cols = centres_in_source(grid, Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1]))
    inside = (rows >= 0) & (rows < BIG) & (cols >= 0) & (cols < BIG)
    assert inside.sum() > 1000
    np.testing.assert_array_equal(pixels.valid, inside)
    np.testing.assert_array_equal(pixels.data[inside], big_value(rows[inside], cols[inside]))


class RecordingDataset:
    """What read_pixels uses of a dataset, recording the windows it reads."""

    def __init__(self, data: np.ndarray, block: tuple[int, int]) -> None:
        self.data = data
        self.height, self.width = data.shape
        self.dtypes = (data.dtype.name,)
        self.block_shapes = [block]
        self.windows: list[Window] = []

    def read(self, band: int, window: Window) -> np.ndarray:
        assert band == 1
        self.windows.append(window)
        r0, c0 = int(window.row_off), int(window.col_off)
        return self.data[r0 : r0 + int(window.height), c0 : c0 + int(window.width)].copy()


def test_read_pixels_reads_each_block_holding_a_sample_once() -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 1000, size=(1000, 700)).astype(np.int16)
    dataset = RecordingDataset(data, (128, 64))
    rows = rng.integers(0, 1000, size=300)
    cols = rng.integers(0, 700, size=300)
    values = read_pixels(dataset, 1, rows, cols)  # type: ignore[arg-type]
    np.testing.assert_array_equal(values, data[rows, cols])
    blocks = {(int(r) // 128, int(c) // 64) for r, c in zip(rows, cols, strict=True)}
    assert len(dataset.windows) == len(blocks)
    for w in dataset.windows:  # each window lies in one block
        r0, c0 = int(w.row_off), int(w.col_off)
        assert r0 // 128 == (r0 + int(w.height) - 1) // 128
        assert c0 // 64 == (c0 + int(w.width) - 1) // 64
    assert sum(int(w.width) * int(w.height) for w in dataset.windows) <= len(blocks) * 128 * 64


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, np.ndarray]:
    """A 1500 x 1100 file of random values with nodata, no overviews, 128-pixel tiles."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 5000, size=(1100, 1500)).astype(np.uint16)
    data[rng.random(data.shape) < 0.1] = 0
    path = tmp_path_factory.mktemp("decimated") / "small.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=1500,
        height=1100,
        count=1,
        dtype="uint16",
        nodata=0,
        crs=CRS,
        transform=Affine(30, 0, ORIGIN[0], 0, -30, ORIGIN[1]),
        tiled=True,
        blockxsize=128,
        blockysize=128,
    ) as dst:
        dst.write(data, 1)
    return str(path), data


SMALL_GRIDS = {
    "same crs, 16 x coarser": PixelGrid(CRS, Affine(480, 0, ORIGIN[0], 0, -480, ORIGIN[1]), 94, 69),
    "same crs, 3 x coarser, offset": PixelGrid(
        CRS, Affine(90, 0, ORIGIN[0] + 1234, 0, -90, ORIGIN[1] - 777), 300, 200
    ),
    "wgs84, partly outside": PixelGrid(
        "EPSG:4326", Affine(0.004, 0, 14.99, 0, -0.003, 46.05), 200, 180
    ),
    "web mercator": PixelGrid("EPSG:3857", Affine(700, 0, 1.67e6, 0, -700, 5.79e6), 80, 90),
}


@pytest.mark.parametrize("name", SMALL_GRIDS)
def test_sparse_read_equals_window_read(
    small_file: tuple[str, np.ndarray], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pixels and masks of a sparse read are those of reading the whole window, and both
    are the pyproj oracle's."""
    path, data = small_file
    grid = SMALL_GRIDS[name]
    transform = Affine(30, 0, ORIGIN[0], 0, -30, ORIGIN[1])
    sparse = read_into_grid(path, 1, np.dtype("uint16"), 0, grid)
    monkeypatch.setattr(sampling, "SPARSE_RATIO", 10**12)
    window = read_into_grid(path, 1, np.dtype("uint16"), 0, grid)
    np.testing.assert_array_equal(sparse.valid, window.valid)
    np.testing.assert_array_equal(sparse.data[sparse.valid], window.data[window.valid])
    rows, cols = centres_in_source(grid, transform)
    inside = (rows >= 0) & (rows < 1100) & (cols >= 0) & (cols < 1500)
    expected = np.zeros(grid.shape, dtype=np.uint16)
    expected[inside] = data[rows[inside], cols[inside]]
    np.testing.assert_array_equal(sparse.valid, inside & (expected != 0))
    np.testing.assert_array_equal(sparse.data[sparse.valid], expected[sparse.valid])


def test_which_maps_are_sparse(small_file: tuple[str, np.ndarray]) -> None:
    """Sparse: the 16 x coarser grid; not sparse: a grid at the file's resolution."""
    transform = Affine(30, 0, ORIGIN[0], 0, -30, ORIGIN[1])
    coarse = sampling.sample_map(SMALL_GRIDS["same crs, 16 x coarser"], CRS, transform, 1500, 1100)
    native = PixelGrid(CRS, Affine(30, 0, ORIGIN[0] + 300, 0, -30, ORIGIN[1] - 300), 256, 256)
    assert coarse.sparse
    assert not sampling.sample_map(native, CRS, transform, 1500, 1100).sparse
