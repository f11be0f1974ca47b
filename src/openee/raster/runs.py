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
    pixels = x[0].size
    start = np.ones(x.shape, dtype=bool)
    start[1:] = x[1:] != x[:-1]
    # Runs of equal values get ids 0, 1, ... per pixel; one bincount sizes all runs at once.
    run = np.cumsum(start, axis=0, dtype=np.int64) - 1
    flat = (run.reshape(k, pixels) * pixels + np.arange(pixels)).ravel()
    sizes = np.bincount(flat, weights=ok.ravel(), minlength=k * pixels)
    return sizes[flat].reshape(x.shape), ok
