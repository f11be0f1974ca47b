"""Neighbourhood operations: convolution and reductions over a kernel around each pixel.

A recipe reads its input on the requested grid expanded by the kernel's reach on every side
(`PixelGrid.subgrid` with negative offsets), applies the kernel, and keeps the requested window.
So a chunk computes exactly what the whole grid would: chunk borders leave no seams.

Neighbourhoods are computed on the requested grid: a 3x3 kernel spans 3x3 pixels of the output
grid, and a kernel in meters is converted to pixels with the grid's nominal pixel size. Earth
Engine computes them in the input's own projection and then resamples; the results differ when
the request grid is not the input's native grid (docs/decisions/0007-neighbourhoods-on-the-
request-grid.md).

Masks (our reading of Earth Engine's reduceNeighborhood): the members of a neighbourhood are the
kernel cells with a non-zero weight; masked members are left out; a pixel with no unmasked member
is masked, and with `skip_masked` a pixel whose own input is masked stays masked. Convolution is
the sum of weight x value over the unmasked members (the weights are not renormalised).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.reduce import reduce_stack
from openee.raster.sources import BandSource
from openee.reducers.neighborhood import Sums
from openee.reducers.registry import neighborhood_kernel
from openee.values.kernel import Kernel, KernelMatrix
from openee.values.projection import Projection

# Stacked members (median, mode) are processed in row strips of at most this many values.
_STACK_BUDGET = 1 << 22


def metres_per_pixel(grid: PixelGrid) -> float:
    """The grid's nominal pixel size in metres (degrees count 111 319.49 m, as in Earth
    Engine); the same for every chunk of a grid, so metric kernels do not vary across chunks."""
    t = grid.transform
    return Projection(grid.crs, (t.a, t.b, t.c, t.d, t.e, t.f)).nominal_scale()


def read_expanded(
    source: BandSource, grid: PixelGrid, top: int, left: int, bottom: int, right: int
) -> Pixels:
    """The source's pixels on `grid` grown by the given number of pixels on each side."""
    outer = grid.subgrid(-top, -left, grid.height + top + bottom, grid.width + left + right)
    return source.read(outer)


def _members(m: KernelMatrix) -> Iterator[tuple[int, int, float]]:
    """(row, column, weight) of each kernel cell with a non-zero weight."""
    for r, row in enumerate(m.weights):
        for c, w in enumerate(row):
            if w != 0:
                yield r, c, w


@dataclass(frozen=True)
class NeighborhoodBand(BandSource):
    """`op` over the kernel's neighbourhood of every pixel of `input`.

    `kernel_weighted` is Earth Engine's inputWeight='kernel' (sum, mean, stdDev and variance
    weigh each member by its kernel weight); otherwise each member weighs 1. min, max, median,
    mode and count use the kernel as a footprint only.
    """

    input: BandSource
    kernel: Kernel
    op: str
    skip_masked: bool = True
    kernel_weighted: bool = True

    reads_other_grid = True  # its input is read on the expanded grid

    def __post_init__(self) -> None:
        neighborhood_kernel(self.op)  # refuses an operation without one

    @property
    def dtype(self) -> np.dtype:
        return neighborhood_kernel(self.op).dtype(self.input.dtype)

    def read(self, grid: PixelGrid) -> Pixels:
        m = self.kernel.matrix(metres_per_pixel(grid) if self.kernel.metric else None)
        top, left = m.y, m.x
        bottom, right = m.height - 1 - m.y, m.width - 1 - m.x
        outer = read_expanded(self.input, grid, top, left, bottom, right)
        data, valid = self._apply(m, outer, grid.shape)
        if self.skip_masked:
            valid &= outer.valid[top : top + grid.height, left : left + grid.width]
        return Pixels(np.where(valid, data, 0).astype(self.dtype), valid)

    def _apply(
        self, m: KernelMatrix, outer: Pixels, shape: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        h, w = shape
        values = outer.data.astype(np.float64)
        members = list(_members(m))

        def window(a: np.ndarray, r: int, c: int) -> np.ndarray:
            return a[r : r + h, c : c + w]

        kernel = neighborhood_kernel(self.op)
        if kernel.stacked:
            return self._stacked(members, outer, shape)
        count = np.zeros(shape, dtype=np.int64)
        if kernel.pick is not None:
            best = np.full(shape, kernel.fill)
            for r, c, _ in members:
                ok = window(outer.valid, r, c)
                best = np.where(ok, kernel.pick(best, window(values, r, c)), best)
                count += ok
            return best, count > 0
        total_w = np.zeros(shape)
        total = np.zeros(shape)
        total_sq = np.zeros(shape)
        for r, c, wk in members:
            ok = window(outer.valid, r, c)
            weight = wk if (self.kernel_weighted or kernel.weighted) else 1.0
            v = np.where(ok, window(values, r, c), 0.0)
            count += ok
            total_w += np.where(ok, weight, 0.0)
            total += weight * v
            if kernel.squares:
                total_sq += weight * v * v
        assert kernel.finish is not None  # a kernel either picks, finishes or stacks
        return kernel.finish(Sums(count, total_w, total, total_sq))

    def _stacked(
        self, members: list[tuple[int, int, float]], outer: Pixels, shape: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Median or mode over the members, in row strips so the stack stays bounded."""
        h, w = shape
        data = np.zeros(shape)
        valid = np.zeros(shape, dtype=bool)
        if not members:
            return data, valid
        rows = max(1, _STACK_BUDGET // max(1, len(members) * w))
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            layers = [
                Pixels(
                    outer.data[r0 + r : r1 + r, c : c + w], outer.valid[r0 + r : r1 + r, c : c + w]
                )
                for r, c, _ in members
            ]
            part = reduce_stack(self.op, layers, np.dtype(np.float64))
            data[r0:r1] = part.data
            valid[r0:r1] = part.valid
        return data, valid
