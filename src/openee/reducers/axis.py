"""The reducers' kernels along array axes: `AxisKernel`s reduce over axes that keep length 1
(Array.reduce, Image.arrayReduce), `accumulate` kernels give the running reduction along one
axis (Array.accum, Image.arrayAccum), and `collapse` kernels reduce 1-D values to one value
(the overlapping points of inverseDistance and kriging). Inputs are float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from openee.reducers import order

Axes = tuple[int, ...]
AxisKernel = Callable[[np.ndarray, Axes, float], np.ndarray]
Accumulate = Callable[[np.ndarray, int], np.ndarray]
Collapse = Callable[[np.ndarray], Any]


def _quantile(median: bool) -> AxisKernel:
    def run(x: np.ndarray, axes: Axes, param: float) -> np.ndarray:
        """The median or percentile over `axes` (flattened into one), which keep length 1."""
        kept = [a for a in range(x.ndim) if a not in axes]
        moved = np.transpose(x, [*axes, *kept])
        flat = moved.reshape(-1, *moved.shape[len(axes) :])
        out = order.quantile(flat, None if median else param, axis=0)
        return np.expand_dims(out, axis=tuple(sorted(axes)))

    return run


def _end(first: bool) -> AxisKernel:
    def run(x: np.ndarray, axes: Axes, param: float) -> np.ndarray:
        moved = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim))
        flat = moved.reshape(*moved.shape[: x.ndim - len(axes)], -1)
        pick = flat[..., :1] if first else flat[..., -1:]
        out = pick.reshape(*moved.shape[: x.ndim - len(axes)], *([1] * len(axes)))
        return np.moveaxis(out, range(x.ndim - len(axes), x.ndim), axes)

    return run


def _spread(fn: Callable[..., np.ndarray], ddof: int) -> AxisKernel:
    return lambda x, axes, param: fn(x, axis=axes, keepdims=True, ddof=ddof)


def _plain(fn: Callable[..., np.ndarray]) -> AxisKernel:
    return lambda x, axes, param: fn(x, axis=axes, keepdims=True)


def _count(x: np.ndarray, axes: Axes, param: float) -> np.ndarray:
    return np.sum(np.ones_like(x), axis=axes, keepdims=True)


AXIS_MEAN = _plain(np.mean)
AXIS_SUM = _plain(np.sum)
AXIS_MIN = _plain(np.min)
AXIS_MAX = _plain(np.max)
AXIS_PRODUCT = _plain(np.prod)
AXIS_MEDIAN = _quantile(median=True)
AXIS_PERCENTILE = _quantile(median=False)
AXIS_COUNT = _count
AXIS_STD_DEV = _spread(np.std, 0)
AXIS_SAMPLE_STD_DEV = _spread(np.std, 1)
AXIS_VARIANCE = _spread(np.var, 0)
AXIS_SAMPLE_VARIANCE = _spread(np.var, 1)
AXIS_FIRST = _end(first=True)
AXIS_LAST = _end(first=False)


def _positions(a: np.ndarray, axis: int) -> np.ndarray:
    """1, 2, ... along `axis`, shaped to broadcast against `a`."""
    return np.arange(1, a.shape[axis] + 1).reshape([-1 if i == axis else 1 for i in range(a.ndim)])


def _accumulate(ufunc: np.ufunc) -> Accumulate:
    return lambda a, axis: ufunc.accumulate(a, axis=axis)


def _running_mean(a: np.ndarray, axis: int) -> np.ndarray:
    return np.cumsum(a, axis=axis) / _positions(a, axis)


def _running_count(a: np.ndarray, axis: int) -> np.ndarray:
    return np.broadcast_to(_positions(a, axis), a.shape).astype(np.float64)


def _first(values: np.ndarray) -> Any:
    return values[0]


def _last(values: np.ndarray) -> Any:
    return values[-1]


ACCUM_SUM = _accumulate(np.add)
ACCUM_PRODUCT = _accumulate(np.multiply)
ACCUM_MIN = _accumulate(np.minimum)
ACCUM_MAX = _accumulate(np.maximum)
ACCUM_MEAN: Accumulate = _running_mean
ACCUM_COUNT: Accumulate = _running_count

COLLAPSE_MEAN: Collapse = np.mean
COLLAPSE_MEDIAN: Collapse = order.quantile
COLLAPSE_MIN: Collapse = np.min
COLLAPSE_MAX: Collapse = np.max
COLLAPSE_SUM: Collapse = np.sum
COLLAPSE_FIRST: Collapse = _first
COLLAPSE_LAST: Collapse = _last
