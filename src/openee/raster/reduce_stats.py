"""More per-pixel reductions over a stack of images (ImageCollection.reduce): sample statistics,
products, logical and distinct counts, min and max together, and the two-input linear fit.

Each reduction skips masked inputs, as `openee.raster.reduce` does; a pixel with too few valid
inputs for the statistic is masked. `StatBand` is one output of one reduction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

# name -> (number of inputs, output count)
STATS: dict[str, tuple[int, int]] = {
    "sampleVariance": (1, 1),
    "sampleStdDev": (1, 1),
    "skew": (1, 1),
    "kurtosis": (1, 1),
    "product": (1, 1),
    "anyNonZero": (1, 1),
    "allNonZero": (1, 1),
    "countDistinct": (1, 1),
    "countDistinctNonNull": (1, 1),
    "countEvery": (1, 1),
    "minMax": (1, 2),
    "linearFit": (2, 2),
}

Result = tuple[list[np.ndarray], np.ndarray]  # outputs (float64) and validity


def _moments(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, ...]:
    """(n, mean, sum of squared, cubed and fourth-power deviations) per pixel."""
    n = valid.sum(axis=0)
    safe_n = np.maximum(n, 1)
    mean = np.where(valid, values, 0).sum(axis=0) / safe_n
    dev = np.where(valid, values - mean, 0)
    return n, mean, (dev**2).sum(axis=0), (dev**3).sum(axis=0), (dev**4).sum(axis=0)


def _sample_variance(values: np.ndarray, valid: np.ndarray) -> Result:
    n, _, m2, _, _ = _moments(values, valid)
    ok = n > 1
    return [m2 / np.maximum(n - 1, 1)], ok


def _sample_std(values: np.ndarray, valid: np.ndarray) -> Result:
    (variance,), ok = _sample_variance(values, valid)
    return [np.sqrt(variance)], ok


def _skew(values: np.ndarray, valid: np.ndarray) -> Result:
    # Bias-corrected sample skewness (as the list reducer computes it).
    n, _, m2, m3, _ = _moments(values, valid)
    ok = n > 2
    nf = n.astype(np.float64)
    s = np.sqrt(m2 / np.maximum(nf - 1, 1))
    safe_s = np.where(s > 0, s, 1.0)
    skew = nf / np.maximum((nf - 1) * (nf - 2), 1) * m3 / safe_s**3
    return [np.where(s > 0, skew, 0.0)], ok


def _kurtosis(values: np.ndarray, valid: np.ndarray) -> Result:
    # Bias-corrected sample excess kurtosis.
    n, _, m2, _, m4 = _moments(values, valid)
    ok = n > 3
    nf = n.astype(np.float64)
    var = m2 / np.maximum(nf - 1, 1)
    safe = np.where(var > 0, var, 1.0)
    denominator = np.maximum((nf - 1) * (nf - 2) * (nf - 3), 1)
    k = nf * (nf + 1) * m4 / (denominator * safe**2) - 3 * (nf - 1) ** 2 / np.maximum(
        (nf - 2) * (nf - 3), 1
    )
    return [np.where(var > 0, k, 0.0)], ok


def _product(values: np.ndarray, valid: np.ndarray) -> Result:
    return [np.where(valid, values, 1.0).prod(axis=0)], np.ones(values.shape[1:], dtype=bool)


def _any(values: np.ndarray, valid: np.ndarray) -> Result:
    out = (valid & (values != 0)).any(axis=0).astype(np.float64)
    return [out], np.ones(values.shape[1:], dtype=bool)


def _all(values: np.ndarray, valid: np.ndarray) -> Result:
    out = (~valid | (values != 0)).all(axis=0).astype(np.float64)
    return [out], np.ones(values.shape[1:], dtype=bool)


def _count_distinct(values: np.ndarray, valid: np.ndarray) -> Result:
    ordered = np.sort(np.where(valid, values, np.nan), axis=0)  # NaNs (masked) sort last
    new = np.ones(ordered.shape, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    count = (new & ~np.isnan(ordered)).sum(axis=0).astype(np.float64)
    return [count], np.ones(values.shape[1:], dtype=bool)


def _count_every(values: np.ndarray, valid: np.ndarray) -> Result:
    # Masked inputs are no inputs on images: every valid input is counted.
    return [valid.sum(axis=0).astype(np.float64)], np.ones(values.shape[1:], dtype=bool)


def _min_max(values: np.ndarray, valid: np.ndarray) -> Result:
    low = np.where(valid, values, np.inf).min(axis=0)
    high = np.where(valid, values, -np.inf).max(axis=0)
    ok = np.asarray(valid.any(axis=0))
    return [np.where(ok, low, 0), np.where(ok, high, 0)], ok


def _linear_fit(xs: np.ndarray, ys: np.ndarray, valid: np.ndarray) -> Result:
    n = valid.sum(axis=0)
    safe_n = np.maximum(n, 1)
    mx = np.where(valid, xs, 0).sum(axis=0) / safe_n
    my = np.where(valid, ys, 0).sum(axis=0) / safe_n
    dx, dy = np.where(valid, xs - mx, 0), np.where(valid, ys - my, 0)
    sxx, sxy = (dx * dx).sum(axis=0), (dx * dy).sum(axis=0)
    ok = (n > 1) & (sxx > 0)
    scale = sxy / np.where(ok, sxx, 1.0)
    return [np.where(ok, scale, 0), np.where(ok, my - scale * mx, 0)], ok


SINGLE: dict[str, Callable[[np.ndarray, np.ndarray], Result]] = {
    "sampleVariance": _sample_variance,
    "sampleStdDev": _sample_std,
    "skew": _skew,
    "kurtosis": _kurtosis,
    "product": _product,
    "anyNonZero": _any,
    "allNonZero": _all,
    "countDistinct": _count_distinct,
    "countDistinctNonNull": _count_distinct,
    "countEvery": _count_every,
    "minMax": _min_max,
}
INTEGER_OUTPUTS = {
    "anyNonZero",
    "allNonZero",
    "countDistinct",
    "countDistinctNonNull",
    "countEvery",
}


def reduce_stats(name: str, inputs: Sequence[Sequence[Pixels]]) -> Result:
    """The outputs of reduction `name` over `inputs` (one stack of images per reducer input)."""
    stacks = [np.stack([p.data for p in stack]).astype(np.float64) for stack in inputs]
    valids = [np.stack([p.valid for p in stack]) for stack in inputs]
    if name == "linearFit":
        return _linear_fit(stacks[0], stacks[1], valids[0] & valids[1])
    return SINGLE[name](stacks[0], valids[0])


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
        if self.reducer in INTEGER_OUTPUTS:
            return np.dtype(np.int64)
        if self.reducer in ("minMax", "product") and self.inputs:
            kind = np.result_type(*[s.dtype for s in self.stacks()[0]])
            if self.reducer == "minMax" or kind.kind == "f":
                return np.dtype(kind) if self.reducer == "minMax" else np.dtype(np.float64)
            return np.dtype(np.int64)
        return np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        if not self.inputs:
            return Pixels.empty(grid.shape, self.dtype)
        pixels = [[s.read(grid) for s in stack] for stack in self.stacks()]
        outputs, valid = reduce_stats(self.reducer, pixels)
        data = np.where(valid, outputs[self.output], 0)
        return Pixels(data.astype(self.dtype), valid)
