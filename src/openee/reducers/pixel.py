"""The per-pixel kernels of the reducers: each reduces a stack of layers (2-D arrays, each with
its validity mask) pixel by pixel, skipping invalid values. `openee.raster.reduce` runs them
for collections (`ImageCollection.reduce`), bands (`Image.reduce`), `reduceToImage` and the
stacked neighbourhood reductions; it asks a reducer's spec for its kernel.

A kernel returns float64 values (anything where no value is valid: the caller masks them);
`output` says the dtype of the band it makes from an input dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from openee.reducers import order

Layers = Sequence[np.ndarray]
Run = Callable[[Layers, Layers, np.ndarray, float | None], np.ndarray]


@dataclass(frozen=True)
class PixelKernel:
    """`run(data, valid, count, param)`; `output`: 'float64', 'int64', 'widened' (float64 for
    float inputs, else int64) or 'input' (the input's dtype); `everywhere`: the output is valid
    even where no input is (a count)."""

    run: Run
    output: str = "float64"
    everywhere: bool = False

    def dtype(self, input_dtype: np.dtype) -> np.dtype:
        return band_dtype(self.output, input_dtype)


def band_dtype(output: str, input_dtype: np.dtype) -> np.dtype:
    """The dtype of a band of kernel output kind `output` ('float64', 'int64', 'widened':
    float64 for float inputs, else int64, or 'input') over bands of `input_dtype`."""
    if output == "widened":
        return np.dtype(np.float64) if input_dtype.kind == "f" else np.dtype(np.int64)
    return np.dtype(input_dtype) if output == "input" else np.dtype(output)


def _stacked(data: Layers, valid: Layers) -> tuple[np.ndarray, np.ndarray]:
    return np.stack(list(data)).astype(np.float64), np.stack(list(valid))


def _moment(which: str) -> Run:
    def run(data: Layers, valid: Layers, count: np.ndarray, param: float | None) -> np.ndarray:
        values, ok = _stacked(data, valid)
        values[~ok] = 0
        total = values.sum(axis=0)
        if which == "sum":
            return total
        n = np.maximum(count, 1)
        mean = total / n
        if which == "mean":
            return mean
        var = np.where(ok, (values - mean[None]) ** 2, 0).sum(axis=0) / n
        return var if which == "variance" else np.sqrt(var)

    return run


def _extreme(lowest: bool) -> Run:
    def run(data: Layers, valid: Layers, count: np.ndarray, param: float | None) -> np.ndarray:
        values, ok = _stacked(data, valid)
        values[~ok] = np.inf if lowest else -np.inf
        return values.min(axis=0) if lowest else values.max(axis=0)

    return run


def _end(first: bool) -> Run:
    def run(data: Layers, valid: Layers, count: np.ndarray, param: float | None) -> np.ndarray:
        values, ok = _stacked(data, valid)
        shape = count.shape
        result = np.zeros(shape, dtype=np.float64)
        done = np.zeros(shape, dtype=bool)
        for i in range(len(data)) if first else range(len(data) - 1, -1, -1):
            take = ok[i] & ~done
            result[take] = values[i][take]
            done |= take
        return result

    return run


def _mode(data: Layers, valid: Layers, count: np.ndarray, param: float | None) -> np.ndarray:
    values, ok = _stacked(data, valid)
    return order.stack_mode(values, ok)


def _median(data: Layers, valid: Layers, count: np.ndarray, param: float | None) -> np.ndarray:
    return order.stack_quantile(data, valid, count)


def _percentile(data: Layers, valid: Layers, count: np.ndarray, param: float | None) -> np.ndarray:
    return order.stack_quantile(data, valid, count, param if param is not None else 50.0)


def _count(data: Layers, valid: Layers, count: np.ndarray, param: float | None) -> np.ndarray:
    return count


MEAN = PixelKernel(_moment("mean"))
SUM = PixelKernel(_moment("sum"), "widened")
VARIANCE = PixelKernel(_moment("variance"))
STD_DEV = PixelKernel(_moment("stdDev"))
MIN = PixelKernel(_extreme(lowest=True), "input")
MAX = PixelKernel(_extreme(lowest=False), "input")
FIRST = PixelKernel(_end(first=True), "input")
LAST = PixelKernel(_end(first=False), "input")
MODE = PixelKernel(_mode, "input")
MEDIAN = PixelKernel(_median)
PERCENTILE = PixelKernel(_percentile)
COUNT = PixelKernel(_count, "int64", everywhere=True)
