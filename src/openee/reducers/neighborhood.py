"""The reducers' kernels over a kernel's neighbourhood of every pixel (Image.reduceNeighborhood,
and Image.convolve's weighted sum). `openee.raster.neighborhood` walks the members of the
neighbourhood; a kernel says what it does with them:
- `pick` (min, max): the extreme of the unmasked members;
- `finish` (sum, mean, count, stdDev, variance, convolve): a result from the members' sums
  (count, total weight, weighted total, and with `squares` the weighted total of squares);
- `stacked` (median, mode): the reducer's per-pixel kernel over the members stacked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openee.reducers.pixel import band_dtype


@dataclass(frozen=True)
class Sums:
    """Per pixel, over the unmasked members: how many, their total weight, the weighted total
    of their values and of their squared values."""

    count: np.ndarray
    weight: np.ndarray
    total: np.ndarray
    squares: np.ndarray


Finish = Callable[[Sums], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class NeighborhoodKernel:
    """One of `pick`, `finish` or `stacked`; `output` is the band's dtype kind as in
    `openee.reducers.pixel`; `weighted`: members always weigh their kernel weight (convolve)."""

    output: str = "float64"
    pick: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    fill: float = 0.0  # where `pick` starts: no member yet
    finish: Finish | None = None
    squares: bool = False
    stacked: bool = False
    weighted: bool = False

    def dtype(self, input_dtype: np.dtype) -> np.dtype:
        return band_dtype(self.output, input_dtype)


def _total(sums: Sums) -> tuple[np.ndarray, np.ndarray]:
    return sums.total, sums.count > 0


def _count(sums: Sums) -> tuple[np.ndarray, np.ndarray]:
    return sums.count, np.ones(sums.count.shape, dtype=bool)


def _mean(sums: Sums) -> np.ndarray:
    w = sums.weight
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w != 0, sums.total / np.where(w != 0, w, 1.0), 0.0)


def _variance(sums: Sums) -> np.ndarray:
    w = sums.weight
    mean = _mean(sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(w != 0, sums.squares / np.where(w != 0, w, 1.0) - mean**2, 0.0)
    return np.maximum(var, 0.0)


NEIGHBORHOOD_SUM = NeighborhoodKernel(finish=_total)
NEIGHBORHOOD_COUNT = NeighborhoodKernel("int64", finish=_count)
NEIGHBORHOOD_MEAN = NeighborhoodKernel(finish=lambda s: (_mean(s), s.count > 0))
NEIGHBORHOOD_VARIANCE = NeighborhoodKernel(
    finish=lambda s: (_variance(s), s.count > 0), squares=True
)
NEIGHBORHOOD_STD_DEV = NeighborhoodKernel(
    finish=lambda s: (np.sqrt(_variance(s)), s.count > 0), squares=True
)
NEIGHBORHOOD_MIN = NeighborhoodKernel("input", pick=np.minimum, fill=np.inf)
NEIGHBORHOOD_MAX = NeighborhoodKernel("input", pick=np.maximum, fill=-np.inf)
NEIGHBORHOOD_MEDIAN = NeighborhoodKernel(stacked=True)
NEIGHBORHOOD_MODE = NeighborhoodKernel("input", stacked=True)
# Image.convolve: the weighted sum of the unmasked members (not a reducer).
CONVOLVE = NeighborhoodKernel(finish=_total, weighted=True)
