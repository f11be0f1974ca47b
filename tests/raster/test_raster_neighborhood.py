"""Neighbourhood and terrain recipes in process: chunk borders are exact, masks follow the rules,
values match scipy.ndimage's generic filter over the same pixels."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from scipy import ndimage

from openee.engine.chunks import materialize
from openee.raster.grid import PixelGrid
from openee.raster.neighborhood import NeighborhoodBand
from openee.raster.sources import BandSource, FileBand
from openee.raster.terrain import TerrainBand
from openee.values.kernel import Kernel, KernelMatrix

DEMO = Path(__file__).resolve().parents[2] / "src/openee/demo/data/sentinel2"
B04 = next(DEMO.rglob("S2A_33TWL_20230815_0_L2A/B04.tif"))
BAND = FileBand(str(B04), 1, "uint16", 0.0)
# Partly west of the tile (masked there), in the file's own CRS at its own 120 m pixels.
GRID = PixelGrid("EPSG:32633", Affine(120.0, 0, 490_000.0, 0, -120.0, 5_050_000.0), 90, 70)


def whole_and_chunked(source: BandSource, grid: PixelGrid, size: int) -> tuple:
    with ThreadPoolExecutor(4) as pool:
        chunked = materialize([source], grid, pool, chunk_size=size)[0]
    return source.read(grid), chunked


@pytest.mark.parametrize(
    ("kernel", "op"),
    [
        (Kernel("gaussian", radius=3, normalize=True), "convolve"),
        (Kernel("circle", radius=2.5, normalize=True), "median"),
        (Kernel("sobel"), "convolve"),
        (Kernel("roberts"), "max"),
        (Kernel("square", radius=2, units="meters"), "mean"),  # 0 px at 120 m: the pixel itself
        (Kernel("octagon", radius=400, units="meters"), "stdDev"),  # 3.3 px
    ],
)
def test_chunked_equals_whole(kernel: Kernel, op: str) -> None:
    whole, chunked = whole_and_chunked(NeighborhoodBand(BAND, kernel, op), GRID, 17)
    assert whole.valid.any() and not whole.valid.all()
    np.testing.assert_array_equal(chunked.valid, whole.valid)
    np.testing.assert_array_equal(chunked.data, whole.data)


def test_terrain_chunked_equals_whole() -> None:
    whole, chunked = whole_and_chunked(TerrainBand(BAND, "aspect"), GRID, 23)
    np.testing.assert_array_equal(chunked.valid, whole.valid)
    np.testing.assert_allclose(chunked.data, whole.data, rtol=1e-9, atol=1e-9)


def _oracle(op: str, footprint: np.ndarray, weights: np.ndarray | None = None) -> tuple:
    """scipy.ndimage.generic_filter over the grid grown by the kernel radius (NaN = masked)."""
    n = footprint.shape[0] // 2
    outer = GRID.subgrid(-n, -n, GRID.height + 2 * n, GRID.width + 2 * n)
    pixels = BAND.read(outer)
    values = np.where(pixels.valid, pixels.data.astype(np.float64), np.nan)
    w = weights[footprint] if weights is not None else None

    def reduce(window: np.ndarray) -> float:
        ok = ~np.isnan(window)
        if not ok.any():
            return np.nan
        v = window[ok]
        if op == "convolve":
            return float((v * w[ok]).sum())
        if op == "median":
            return float(np.median(v))
        if op == "mode":
            uniq, counts = np.unique(v, return_counts=True)
            return float(uniq[np.argmax(counts)])
        if op == "count":
            return float(ok.sum())
        return float(getattr(np, {"stdDev": "std"}.get(op, op))(v))

    out = ndimage.generic_filter(values, reduce, footprint=footprint, mode="constant", cval=np.nan)
    out = out[n:-n, n:-n]
    centre = pixels.valid[n:-n, n:-n]
    return np.where(centre, out, np.nan)


@pytest.mark.parametrize("op", ["median", "mode", "min", "max", "mean", "stdDev", "count"])
def test_reductions_match_a_generic_filter(op: str) -> None:
    kernel = Kernel("diamond", radius=2)
    result = NeighborhoodBand(BAND, kernel, op).read(GRID)
    footprint = kernel.matrix().array() != 0
    expected = _oracle(op, footprint)
    if op == "count":
        np.testing.assert_array_equal(result.data[result.valid & ~np.isnan(expected)],
                                      expected[result.valid & ~np.isnan(expected)])  # fmt: skip
        return
    np.testing.assert_array_equal(result.valid, ~np.isnan(expected))
    np.testing.assert_allclose(result.data[result.valid], expected[result.valid], rtol=1e-9)


def test_convolution_weights_members_and_ignores_masked_ones() -> None:
    weights = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [0.5, 0.0, 1.0]])
    kernel = Kernel("fixed", fixed=KernelMatrix.of(weights, 1, 1))
    result = NeighborhoodBand(BAND, kernel, "convolve").read(GRID)
    expected = _oracle("convolve", weights != 0, weights)
    np.testing.assert_array_equal(result.valid, ~np.isnan(expected))
    np.testing.assert_allclose(result.data[result.valid], expected[result.valid], rtol=1e-12)


def test_skip_masked_false_fills_masked_pixels_from_neighbours() -> None:
    kernel = Kernel("square", radius=1)
    kept = NeighborhoodBand(BAND, kernel, "max", skip_masked=True).read(GRID)
    grown = NeighborhoodBand(BAND, kernel, "max", skip_masked=False).read(GRID)
    assert (grown.valid & ~kept.valid).any()
    assert not (kept.valid & ~grown.valid).any()


@pytest.mark.parametrize(
    ("rotations", "expected", "focus"),
    [
        (1, [[0, 1], [-1, 0]], (0, 1)),
        (-1, [[0, -1], [1, 0]], (1, 0)),
        (2, [[-1, 0], [0, 1]], (0, 0)),
    ],
)
def test_rotation_turns_weights_and_focus(rotations: int, expected: list, focus: tuple) -> None:
    m = Kernel("rotate", operands=(Kernel("roberts"),), rotations=rotations).matrix()
    np.testing.assert_array_equal(m.array(), expected)
    assert (m.x, m.y) == focus
