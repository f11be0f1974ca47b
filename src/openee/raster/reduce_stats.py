"""Per-pixel statistics over a stack of images (ImageCollection.reduce) with the statistics
kernels of the reducers (`openee.reducers.stats`): sample statistics, products, logical and
distinct counts, min and max together, and the two-input linear fit.

Each reduction skips masked inputs, as `openee.raster.reduce` does; a pixel with too few valid
inputs for the statistic is masked. `StatBand` is one output of one reduction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.reducers.registry import stat_kernel
from openee.reducers.stats import Result


def reduce_stats(name: str, inputs: Sequence[Sequence[Pixels]]) -> Result:
    """The outputs of reduction `name` over `inputs` (one stack of images per reducer input)."""
    stacks = [np.stack([p.data for p in stack]).astype(np.float64) for stack in inputs]
    valids = [np.stack([p.valid for p in stack]) for stack in inputs]
    return stat_kernel(name).run(stacks, valids)


@dataclass(frozen=True)
class StatBand(BandSource):
    """Output `output` of reduction `reducer` over stacks of image bands: `inputs` holds the
    stack of each reducer input one after the other, `count` stacks of equal length (kept flat
    so that the file reads under it are found and prefetched)."""

    reducer: str
    output: int
    inputs: tuple[BandSource, ...]
    count: int = 1

    def stacks(self) -> list[tuple[BandSource, ...]]:
        size = len(self.inputs) // self.count
        return [self.inputs[i * size : (i + 1) * size] for i in range(self.count)]

    @property
    def dtype(self) -> np.dtype:
        kernel = stat_kernel(self.reducer)
        if not self.inputs:
            return kernel.dtype(np.dtype(np.float64))
        return kernel.dtype(np.result_type(*[s.dtype for s in self.stacks()[0]]))

    def read(self, grid: PixelGrid) -> Pixels:
        if not self.inputs:
            return Pixels.empty(grid.shape, self.dtype)
        pixels = [[s.read(grid) for s in stack] for stack in self.stacks()]
        outputs, valid = reduce_stats(self.reducer, pixels)
        data = np.where(valid, outputs[self.output], 0)
        return Pixels(data.astype(self.dtype), valid)
