"""The reducers' kernels over groups of pixels (Image.reduceConnectedComponents): each reduces
the float64 `values` of every group label in `index` (labels in `groups`, 0 left out) to one
value per group, with scipy's labelled statistics; `output` is the band's dtype as for the
per-pixel kernels ('float64', 'int64', or 'input': the values' own dtype)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from openee.reducers import order

Run = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class GroupedKernel:
    """`run(values, groups, index)`; `everywhere`: a group without values still has an output
    (a count of 0)."""

    run: Run
    output: str = "float64"
    everywhere: bool = False

    def dtype(self, input_dtype: np.dtype) -> np.dtype:
        return np.dtype(input_dtype) if self.output == "input" else np.dtype(self.output)


def _count(values: np.ndarray, groups: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.asarray(ndimage.sum_labels(np.ones_like(values), groups, index))


def _std_dev(values: np.ndarray, groups: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.sqrt(ndimage.variance(values, groups, index))


def _labelled(fn: Callable[..., object]) -> Run:
    return lambda values, groups, index: np.asarray(fn(values, groups, index))


GROUPED_COUNT = GroupedKernel(_count, "int64", everywhere=True)
GROUPED_SUM = GroupedKernel(_labelled(ndimage.sum_labels))
GROUPED_MEAN = GroupedKernel(_labelled(ndimage.mean))
GROUPED_MIN = GroupedKernel(_labelled(ndimage.minimum), "input")
GROUPED_MAX = GroupedKernel(_labelled(ndimage.maximum), "input")
GROUPED_MEDIAN = GroupedKernel(order.grouped_quantile)
GROUPED_VARIANCE = GroupedKernel(_labelled(ndimage.variance))
GROUPED_STD_DEV = GroupedKernel(_std_dev)
