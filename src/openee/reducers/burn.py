"""The reducers that reduceToImage computes with rasterizations of all the features at once
(`openee.raster.features`), instead of stacking the features that cover a chunk: counts and
sums add up burned values, min, max, first and last burn the features in an order where the
wanted one is burned last (each later feature replaces the earlier ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BurnKernel:
    """`total`: burn the values adding up, then `finish(total, count)`; otherwise `order` the
    (shape, value) pairs so that the wanted value is burned last. `everywhere`: the output is
    valid where no feature is (a count, which also burns no values)."""

    total: bool = False
    finish: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    order: Callable[[list[tuple[object, float]]], list[tuple[object, float]]] | None = None
    everywhere: bool = False


BURN_COUNT = BurnKernel(everywhere=True)
BURN_SUM = BurnKernel(total=True, finish=lambda total, count: total)
BURN_MEAN = BurnKernel(total=True, finish=lambda total, count: total / np.maximum(count, 1))
BURN_MIN = BurnKernel(order=lambda pairs: sorted(pairs, key=lambda p: -p[1]))
BURN_MAX = BurnKernel(order=lambda pairs: sorted(pairs, key=lambda p: p[1]))
BURN_FIRST = BurnKernel(order=lambda pairs: pairs[::-1])
BURN_LAST = BurnKernel(order=lambda pairs: pairs)
