"""How many times each value occurs among the members of a stack, per pixel, by sorting.

For a stack of member values (members x h x w) with a validity mask, `value_counts` gives, for
each valid member (in sorted order), how many valid members of its pixel hold the same value.
Sorting makes this O(k log k) per pixel instead of comparing all k^2 pairs.
"""

from __future__ import annotations

import numpy as np


def value_counts(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts, valid) in sorted order along axis 0; invalid members sort last."""
    x = np.where(valid, values.astype(np.float64), np.nan)
    x.sort(axis=0)
    ok = ~np.isnan(x)
    k = x.shape[0]
    index = np.arange(k).reshape((k,) + (1,) * (x.ndim - 1))
    start = np.ones(x.shape, dtype=bool)
    start[1:] = x[1:] != x[:-1]
    end = np.ones(x.shape, dtype=bool)
    end[:-1] = x[:-1] != x[1:]
    first = np.maximum.accumulate(np.where(start, index, 0), axis=0)
    last = np.flip(
        np.minimum.accumulate(np.flip(np.where(end, index, k - 1), axis=0), axis=0), axis=0
    )
    return (last - first + 1).astype(np.float64), ok
