"""Weighted statistics of the counting reducers: each value counts by its weight instead of 1.

Earth Engine's histograms of a region count the pixels on its edge by their weight: a
frequencyHistogram or histogram of a region has fractional counts there (a pixel half covered
counts 0.5; ADR 0054). They are the `weighted` kernels of their specs, so Reducer.splitWeights
takes them too. With every weight 1 they give what the unweighted kernels give.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openee.reducers.lists import bucket_width
from openee.values.reducer import Reducer


def _key(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _frequency_histogram(
    values: np.ndarray, weights: np.ndarray, total: float, reducer: Reducer
) -> list[Any]:
    keys, index = np.unique(values, return_inverse=True)
    sums = np.bincount(index.reshape(-1), weights=weights, minlength=keys.size)
    return [{_key(k): float(s) for k, s in zip(keys.tolist(), sums.tolist(), strict=True)}]


def _mode(values: np.ndarray, weights: np.ndarray, total: float, reducer: Reducer) -> list[Any]:
    if values.size == 0:
        return [None]
    keys, index = np.unique(values, return_inverse=True)
    sums = np.bincount(index.reshape(-1), weights=weights, minlength=keys.size)
    return [keys[int(np.argmax(sums))].item()]  # the first of the heaviest: the smallest


def _histogram(
    values: np.ndarray, weights: np.ndarray, total: float, reducer: Reducer
) -> list[Any]:
    if values.size == 0:
        return [None]
    floats = values.astype(np.float64)
    max_buckets = int(reducer.option("maxBuckets") or 256)
    low, high = float(floats.min()), float(floats.max())
    width = bucket_width([low, high], max_buckets, reducer.option("minBucketWidth"))
    start = float(np.floor(low / width) * width)
    n = int((high - start) // width) + 1
    bucket = np.minimum(((floats - start) // width).astype(np.int64), n - 1)
    counts = np.bincount(bucket, weights=weights, minlength=n)
    sums = np.bincount(bucket, weights=weights * floats, minlength=n)
    means = [float(s / c) if c else None for s, c in zip(sums, counts, strict=True)]
    result = {
        "bucketMeans": means,
        "bucketMin": start,
        "bucketWidth": width,
        "histogram": counts.tolist(),
    }
    return [result]


WEIGHTED_FREQUENCY_HISTOGRAM = _frequency_histogram
WEIGHTED_MODE = _mode
WEIGHTED_HISTOGRAM = _histogram
