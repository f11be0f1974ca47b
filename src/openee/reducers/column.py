"""The reducers' fast kernels over one band's valid pixel values in a region (reduceRegion,
reduceRegions, the region statistics): numpy over the whole column instead of the list kernels
over Python values. A kernel takes the values (not empty, booleans as uint8) and the reducer,
and returns its outputs, or None to leave the column to the list kernels (e.g. a `min` of
several inputs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from openee.reducers import order
from openee.values.reducer import Reducer

ColumnKernel = Callable[[np.ndarray, Reducer], list[Any] | None]


def _floats(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float64, copy=False)


def _count(values: np.ndarray, reducer: Reducer) -> list[Any]:
    return [int(values.size)]


def _mean(values: np.ndarray, reducer: Reducer) -> list[Any]:
    return [float(np.mean(_floats(values)))]


def _sum(values: np.ndarray, reducer: Reducer) -> list[Any]:
    if values.dtype.kind in "iub":
        return [int(values.sum(dtype=np.int64))]
    return [float(_floats(values).sum())]


def _extreme(lowest: bool) -> ColumnKernel:
    def run(values: np.ndarray, reducer: Reducer) -> list[Any] | None:
        if reducer.inputs != 1:
            return None
        return [(values.min() if lowest else values.max()).item()]

    return run


def _min_max(values: np.ndarray, reducer: Reducer) -> list[Any]:
    return [values.min().item(), values.max().item()]


def _spread(sample: bool, root: bool) -> ColumnKernel:
    def run(values: np.ndarray, reducer: Reducer) -> list[Any]:
        if sample and values.size < 2:
            return [None]
        variance = float(np.var(_floats(values), ddof=1 if sample else 0))
        return [float(np.sqrt(variance)) if root else variance]

    return run


def _median(values: np.ndarray, reducer: Reducer) -> list[Any]:
    return [float(order.quantile(_floats(values)))]


def _percentile(values: np.ndarray, reducer: Reducer) -> list[Any]:
    return [float(order.quantile(_floats(values), p)) for p in reducer.params]


def _frequency_histogram(values: np.ndarray, reducer: Reducer) -> list[Any]:
    keys, counts = np.unique(values, return_counts=True)
    return [
        {
            (repr(k) if isinstance(k, float) else str(k)): int(c)
            for k, c in zip(keys.tolist(), counts.tolist(), strict=True)
        }
    ]


COLUMN_COUNT: ColumnKernel = _count
COLUMN_MEAN: ColumnKernel = _mean
COLUMN_SUM: ColumnKernel = _sum
COLUMN_MIN = _extreme(lowest=True)
COLUMN_MAX = _extreme(lowest=False)
COLUMN_MIN_MAX: ColumnKernel = _min_max
COLUMN_VARIANCE = _spread(sample=False, root=False)
COLUMN_STD_DEV = _spread(sample=False, root=True)
COLUMN_SAMPLE_VARIANCE = _spread(sample=True, root=False)
COLUMN_SAMPLE_STD_DEV = _spread(sample=True, root=True)
COLUMN_MEDIAN: ColumnKernel = _median
COLUMN_PERCENTILE: ColumnKernel = _percentile
COLUMN_FREQUENCY_HISTOGRAM: ColumnKernel = _frequency_histogram
