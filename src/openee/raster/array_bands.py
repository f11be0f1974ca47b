"""Band recipes of array-valued pixels: one generic recipe naming a kernel from a table.

`ArrayOpBand(op, inputs, params)` stays a small frozen dataclass of plain values (picklable, see
docs/decisions/0002); `OPS[op]` holds the kernel, the output rank and the output type. Kernels
see dense batches (`openee.raster.arrays.apply_kernel`), so they are plain batched numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from openee.raster.array_kernels import OPS
from openee.raster.arrays import Batch, apply_kernel, compact
from openee.raster.grid import PixelGrid
from openee.raster.neighborhood import metres_per_pixel, read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource, shared_read
from openee.values.kernel import Kernel


@dataclass(frozen=True)
class ArrayOpBand(BandSource):
    """The array op `op` (a key of `OPS`) of `inputs`, with plain-valued `params`."""

    accepts_arrays = True
    shares_reads = True

    op: str
    inputs: tuple[BandSource, ...]
    params: tuple[Any, ...] = ()

    @property
    def dtype(self) -> np.dtype:
        return OPS[self.op].dtype([s.dtype for s in self.inputs], self.params)

    @property
    def rank(self) -> int:
        return OPS[self.op].rank([s.rank for s in self.inputs], self.params)

    def read(self, grid: PixelGrid) -> Pixels:
        return shared_read(self, grid, self._read)

    def _read(self, grid: PixelGrid) -> Pixels:
        spec = OPS[self.op]
        pixels = [s.read(grid) for s in self.inputs]
        params = self.params
        rank, dtype = self.rank, self.dtype

        def kernel(batch: list[np.ndarray]) -> Batch:
            try:
                return spec.kernel(batch, params)
            except (ValueError, IndexError):
                # arrays whose shapes do not fit together (arrayCat of different widths, keys
                # of another length, ...): those pixels are masked, as other per-pixel failures
                n = batch[0].shape[0]
                empty = np.zeros((n, *[0] * rank), dtype=dtype)
                return Batch(empty, ok=np.zeros(n, dtype=bool))

        return apply_kernel(pixels, kernel, rank, dtype, spec.shape_inputs)


@dataclass(frozen=True)
class CollectionArrayBand(BandSource):
    """ImageCollection.toArray: per pixel, the images valid in all bands stacked on axis 0,
    bands on axis 1. Pixels where no image is valid are masked."""

    accepts_arrays = True
    shares_reads = True

    images: tuple[tuple[BandSource, ...], ...]

    @property
    def dtype(self) -> np.dtype:
        types = [s.dtype for bands in self.images for s in bands]
        return np.result_type(*types) if types else np.dtype(np.float64)

    @property
    def rank(self) -> int:
        return 2

    def read(self, grid: PixelGrid) -> Pixels:
        return shared_read(self, grid, self._read)

    def _read(self, grid: PixelGrid) -> Pixels:
        nb = len(self.images[0]) if self.images else 0
        if not self.images or nb == 0:
            return Pixels(np.zeros((*grid.shape, 0, nb), self.dtype), np.zeros(grid.shape, bool))
        reads = [[s.read(grid) for s in bands] for bands in self.images]
        data = np.stack([np.stack([p.data for p in r], axis=-1) for r in reads], axis=2)
        keep = np.stack([np.logical_and.reduce([p.valid for p in r]) for r in reads], axis=2)
        h, w = grid.shape
        flat = compact(
            data.reshape(h * w, *data.shape[2:]).astype(self.dtype), keep.reshape(h * w, -1), 0
        )
        assert flat.lengths is not None
        counts = flat.lengths[:, 0]
        size = int(counts.max()) if counts.size else 0
        values = flat.values[:, :size].reshape(h, w, size, nb)
        lengths = flat.lengths.reshape(h, w, 2)
        return Pixels(values, counts.reshape(h, w) > 0, lengths)


@dataclass(frozen=True)
class PerBandArrayBand(BandSource):
    """ImageCollection.toArrayPerBand for one band: its values across images on `axis`."""

    accepts_arrays = True

    inputs: tuple[BandSource, ...]
    axis: int
    drop_masked: bool

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(*[s.dtype for s in self.inputs])

    @property
    def rank(self) -> int:
        return max(1, self.inputs[0].rank)

    def read(self, grid: PixelGrid) -> Pixels:
        reads = [s.read(grid) for s in self.inputs]
        h, w = grid.shape
        if reads[0].rank == 0:
            data = np.stack([p.data for p in reads], axis=-1).astype(self.dtype)
            keep = np.stack([p.valid for p in reads], axis=-1)
            if not self.drop_masked:
                return Pixels(data, np.asarray(keep.all(axis=-1)))
            flat = compact(data.reshape(h * w, -1), keep.reshape(h * w, -1), 0)
            assert flat.lengths is not None
            return Pixels(
                flat.values.reshape(h, w, -1),
                np.asarray(keep.any(axis=-1)),
                flat.lengths.reshape(h, w, 1),
            )
        axis = self.axis
        cat: Callable[[list[np.ndarray]], Batch] = lambda b: Batch(  # noqa: E731
            np.concatenate(b, axis=axis + 1).astype(self.dtype)
        )
        return apply_kernel(reads, cat, self.rank, self.dtype)


@dataclass(frozen=True)
class NeighborhoodArrayBand(BandSource):
    """Image.neighborhoodToArray: each pixel's kernel-sized neighbourhood (all cells of the
    kernel's rectangle, rows along axis 0) as a 2-D array; masked neighbours hold `default`
    (truncated and clamped to the band's type). The pixel keeps its own mask."""

    accepts_arrays = True

    input: BandSource
    kernel: Kernel
    default: float

    reads_other_grid = True  # the input is read on the grid grown by the kernel's reach

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    @property
    def rank(self) -> int:
        return 2

    def _fill(self) -> float | int:
        if self.dtype.kind in "iub":
            limits = np.iinfo(self.dtype) if self.dtype.kind != "b" else np.iinfo(np.uint8)
            return int(min(max(np.trunc(self.default), limits.min), limits.max))
        return self.default

    def read(self, grid: PixelGrid) -> Pixels:
        m = self.kernel.matrix(metres_per_pixel(grid) if self.kernel.metric else None)
        top, left = m.y, m.x
        outer = read_expanded(self.input, grid, top, left, m.height - 1 - m.y, m.width - 1 - m.x)
        values = np.where(outer.valid, outer.data, self._fill()).astype(self.dtype)
        windows = np.lib.stride_tricks.sliding_window_view(values, (m.height, m.width))
        h, w = grid.shape
        valid = outer.valid[top : top + h, left : left + w]
        return Pixels(np.array(windows[:h, :w]), np.array(valid))


@dataclass(frozen=True)
class ArrayConstantBand(BandSource):
    """The same array on every pixel, unmasked (Image.constant of an Array)."""

    values: tuple[Any, ...]
    dtype_name: str

    @property
    def rank(self) -> int:
        return int(np.asarray(self.values).ndim)

    def read(self, grid: PixelGrid) -> Pixels:
        array = np.asarray(self.values, dtype=self.dtype)
        data = np.broadcast_to(array, (*grid.shape, *array.shape))
        return Pixels(np.array(data), np.ones(grid.shape, dtype=bool))
