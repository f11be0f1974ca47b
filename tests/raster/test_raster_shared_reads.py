"""One chunk reads each file once and computes each shared array recipe once (issue 11, item
14: a harmonic regression over a 90-image collection array took seconds at one pixel because
the collection's files were read one by one, again for every slice and flattened band)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from affine import Affine

from openee.raster.array_bands import ArrayOpBand, CollectionArrayBand
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import CastBand, ConstantBand, FileBand, file_leaves, read_many

GRID = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 2), 2, 2)


@dataclass(frozen=True)
class CountingBand(ConstantBand):
    """A constant that counts its reads."""

    reads: ClassVar[list[float]] = []
    tag: int = field(default=0)

    def read(self, grid: PixelGrid) -> Pixels:
        CountingBand.reads.append(self.value)
        return super().read(grid)


def test_file_leaves_are_found_inside_a_collection_array() -> None:
    files = [FileBand(f"/data/scene{i}.tif", 1, "uint16", 0) for i in range(3)]
    collection = CollectionArrayBand(tuple((f, ConstantBand(1.0, "float64")) for f in files))
    sliced = ArrayOpBand(
        "slice", (collection, ConstantBand(0, "int64"), ConstantBand(1, "int64")), (1, 1)
    )
    assert set(file_leaves([sliced])) == set(files)


def test_a_shared_array_recipe_is_computed_once_per_chunk() -> None:
    CountingBand.reads.clear()
    images = tuple(
        (CountingBand(float(i), "float64", tag=i), ConstantBand(2.0 * i, "float64"))
        for i in range(4)
    )
    collection = CollectionArrayBand(images)
    x = ArrayOpBand(
        "slice", (collection, ConstantBand(0, "int64"), ConstantBand(1, "int64")), (1, 1)
    )
    y = ArrayOpBand(
        "slice", (collection, ConstantBand(1, "int64"), ConstantBand(2, "int64")), (1, 1)
    )
    solve = ArrayOpBand("matrixSolve", (x, y))
    out = read_many([solve, solve, x], GRID, lambda fn, leaves: [fn(leaf) for leaf in leaves])
    assert sorted(CountingBand.reads) == [0.0, 1.0, 2.0, 3.0]  # each image band read once
    np.testing.assert_allclose(out[0].data[0, 0], [[2.0]])  # y = 2 x
    assert out[2].data.shape == (2, 2, 4, 1)


def test_a_shared_recipe_behind_a_plain_one_read_twice_is_computed_once() -> None:
    CountingBand.reads.clear()
    images = tuple((CountingBand(float(i), "float64", tag=i),) for i in range(3))
    total = ArrayOpBand("reduce", (CollectionArrayBand(images),), (("sum",), (0,), 0))
    cast = CastBand(total, "float32")  # not shared itself: read twice, it reads `total` twice
    out = read_many([cast, cast], GRID, lambda fn, leaves: [fn(leaf) for leaf in leaves])
    assert sorted(CountingBand.reads) == [0.0, 1.0, 2.0]
    assert out[0].data[0, 0].tolist() == [[3.0]]
