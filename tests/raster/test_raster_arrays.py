"""Array-valued pixels: ragged arrays (different lengths per pixel) through kernels, chunked
assembly and band math, against per-pixel Python on the same values."""

from __future__ import annotations

import numpy as np
from affine import Affine

from openee.engine.chunks import materialize
from openee.engine.regions import InlineExecutor
from openee.raster.array_bands import ArrayOpBand
from openee.raster.bandmath import BinaryBand, LonLatBand
from openee.raster.grid import PixelGrid
from openee.raster.sources import ConstantBand

GRID = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 6), 6, 5)


def ragged() -> ArrayOpBand:
    """[col, col + 1, ..., col + 4] kept where the element is even: lengths vary per pixel."""
    col = BinaryBand("subtract", LonLatBand("longitude"), ConstantBand(0.5, "float64"))
    parts = tuple(BinaryBand("add", col, ConstantBand(float(i), "float64")) for i in range(5))
    arr = ArrayOpBand("toArray", parts, (0,))
    even = BinaryBand(
        "eq", BinaryBand("mod", arr, ConstantBand(2.0, "float64")), ConstantBand(0.0, "float64")
    )
    return ArrayOpBand("mask", (arr, even))


def expected(col: int) -> list[float]:
    return [float(v) for v in range(col, col + 5) if v % 2 == 0]


def test_masking_gives_per_pixel_lengths_and_kernels_see_no_padding() -> None:
    p = ragged().read(GRID)
    assert p.lengths is not None
    for r in range(GRID.height):
        for c in range(GRID.width):
            n = int(p.lengths[r, c, 0])
            assert p.data[r, c, :n].tolist() == expected(c)
    total = ArrayOpBand("reduce", (ragged(),), (("sum", "count"), (0,), 0)).read(GRID)
    for c in range(GRID.width):
        assert total.data[
            0,
            c,
            :,
        ].tolist() == [sum(expected(c)), len(expected(c))]


def test_chunks_with_different_padding_are_merged() -> None:
    # one-pixel chunks: each pads to its own array (2 or 3 elements)
    (whole,) = materialize([ragged()], GRID, InlineExecutor(), 1)
    assert whole.data.shape == (5, 6, 3)
    assert whole.lengths is not None
    for c in range(GRID.width):
        n = int(whole.lengths[2, c, 0])
        assert whole.data[2, c, :n].tolist() == expected(c)


def test_band_math_on_ragged_arrays_keeps_lengths() -> None:
    doubled = BinaryBand("multiply", ragged(), ConstantBand(2.0, "float64"))
    assert doubled.rank == 1
    p = doubled.read(GRID)
    assert p.lengths is not None
    for c in range(GRID.width):
        n = int(p.lengths[1, c, 0])
        assert p.data[1, c, :n].tolist() == [2 * v for v in expected(c)]


def test_shapes_that_do_not_fit_mask_the_pixel() -> None:
    # arrayCat along axis 0 of a 1-D array with a 2-D one, and sort keys of another length
    column = ArrayOpBand("toArray", (ragged(),), (1,))
    cat = ArrayOpBand("toArray", (ragged(), column), (0,)).read(GRID)
    assert not cat.valid.any()
    short_keys = ArrayOpBand(
        "slice", (ragged(), ConstantBand(0, "int32"), ConstantBand(1, "int32")), (0, 1)
    )
    sort = ArrayOpBand("sort", (ragged(), short_keys)).read(GRID)
    counts = ragged().read(GRID).lengths[..., 0]
    # one-element keys sort nothing: a pixel with one element is fine, longer ones are masked
    np.testing.assert_array_equal(sort.valid, counts == 1)
