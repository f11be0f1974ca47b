"""The list kernels of reducers that produce arrays: covariances, regularised and robust
regressions, the geometric median, 2-D histograms, and weighted ('split weights') statistics.

Arrays are returned as nested lists, the way Earth Engine's getInfo returns them. Each kernel
takes the reducer's input columns (one list per input) and returns its outputs in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from openee.errors import InvalidArgumentError
from openee.reducers import order
from openee.reducers.pvalue import betainc
from openee.values.reducer import Reducer

Columns = Sequence[Sequence[Any]]
Kernel = Callable[[Columns, Reducer], list[Any]]

# Talwar's tuning constant: a residual beyond this many robust standard deviations is an outlier.
TALWAR_BETA = 2.795
ROBUST_ITERATIONS = 50
GEOMETRIC_MEDIAN_ITERATIONS = 1000


def _rows(columns: Columns, name: str) -> np.ndarray:
    """The rows with no null input, as a float64 (rows, inputs) array."""
    rows = [r for r in zip(*columns, strict=True) if all(v is not None for v in r)]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for r in rows for v in r):
        raise InvalidArgumentError(f"Reducer.{name}: inputs must be numbers.")
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(columns))


def _vectors(column: Sequence[Any], name: str) -> np.ndarray:
    """A column of 1-D arrays (numbers count as arrays of length 1) as a (rows, N) array."""
    vectors = []
    for value in column:
        if value is None:
            continue
        vector = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in vector):
            raise InvalidArgumentError(f"Reducer.{name}: inputs must be 1-D arrays of numbers.")
        vectors.append(vector)
    if len({len(v) for v in vectors}) > 1:
        raise InvalidArgumentError(f"Reducer.{name}: the input arrays differ in length.")
    width = len(vectors[0]) if vectors else 0
    return np.asarray(vectors, dtype=np.float64).reshape(len(vectors), width)


def _covariance(centered: bool) -> Kernel:
    """The sample covariance matrix (divided by n - 1) of 1-D array inputs.

    The centred variant takes the data as already mean-centred: it sums x xᵀ without
    subtracting the mean, as Earth Engine's centeredCovariance does.
    """

    def kernel(columns: Columns, reducer: Reducer) -> list[Any]:
        data = _vectors(columns[0], reducer.name)
        if data.shape[0] < 2:
            return [None]
        deviations = data if centered else data - data.mean(axis=0)
        return [(deviations.T @ deviations / (data.shape[0] - 1)).tolist()]

    return kernel


def _f_test_p_value(y: np.ndarray, fitted: np.ndarray, num_x: int) -> float | None:
    """The p-value of the regression's F statistic (all slopes zero) for one dependent variable."""
    n = y.size
    df_model, df_error = num_x, n - num_x - 1
    if df_error <= 0:
        return None
    sse = float(np.sum((y - fitted) ** 2))
    ssr = float(np.sum((fitted - y.mean()) ** 2))
    if sse == 0:
        return 0.0
    f = (ssr / df_model) / (sse / df_error)
    # P(F > f) = I_{d2 / (d2 + d1 f)}(d2 / 2, d1 / 2).
    return betainc(df_error / 2, df_model / 2, df_error / (df_error + df_model * f))


def _ridge(columns: Columns, reducer: Reducer) -> list[Any]:
    """Ridge regression with an unpenalised intercept (x and y centred before the fit).

    Outputs: coefficients ((numX + 1) x numY, the intercepts in the last row), the root mean
    square of each dependent variable's residuals, and each one's F-test p-value.
    """
    rows = _rows(columns, reducer.name)
    num_x = int(reducer.option("numX"))
    penalty = float(reducer.option("lambda"))
    if rows.shape[0] < num_x + 1:
        return [None, None, None]
    x, y = rows[:, :num_x], rows[:, num_x:]
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - x_mean, y - y_mean
    slopes = np.linalg.solve(xc.T @ xc + penalty * np.eye(num_x), xc.T @ yc)
    intercepts = y_mean - x_mean @ slopes
    fitted = x @ slopes + intercepts
    rms = np.sqrt(np.mean((y - fitted) ** 2, axis=0))
    p_values = [_f_test_p_value(y[:, j], fitted[:, j], num_x) for j in range(y.shape[1])]
    return [np.vstack([slopes, intercepts]).tolist(), rms.tolist(), p_values]


def _robust(columns: Columns, reducer: Reducer) -> list[Any]:
    """Iteratively reweighted least squares with Talwar's cost: points whose scaled residual
    (the RMS over the dependent variables, each scaled by its residuals' median absolute
    deviation) exceeds beta get weight 0, the others 1, until the weights stop changing.

    Outputs: coefficients (numX x numY, no implicit intercept) and the RMS of each dependent
    variable's residuals over all points.
    """
    rows = _rows(columns, reducer.name)
    num_x = int(reducer.option("numX"))
    beta = reducer.option("beta")
    beta = TALWAR_BETA if beta is None else float(beta)
    if rows.shape[0] < num_x:
        return [None, None]
    x, y = rows[:, :num_x], rows[:, num_x:]
    inliers = np.ones(rows.shape[0], dtype=bool)
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    for _ in range(ROBUST_ITERATIONS):
        residuals = y - x @ coefficients
        scale = order.quantile(np.abs(residuals), axis=0) / 0.6745
        scale[scale == 0] = 1.0
        scaled = np.sqrt(np.mean((residuals / scale) ** 2, axis=1))
        updated = scaled <= beta
        if updated.sum() < num_x or np.array_equal(updated, inliers):
            break
        inliers = updated
        coefficients, *_ = np.linalg.lstsq(x[inliers], y[inliers], rcond=None)
    rms = np.sqrt(np.mean((y - x @ coefficients) ** 2, axis=0))
    return [coefficients.tolist(), rms.tolist()]


def _geometric_median(columns: Columns, reducer: Reducer) -> list[Any]:
    """The point minimising the sum of Euclidean distances to the inputs (Weiszfeld's
    iteration), stopped when a step moves it less than eta."""
    points = _rows(columns, reducer.name)
    if points.shape[0] == 0:
        return [None]
    eta = float(reducer.option("eta"))
    estimate = points.mean(axis=0)
    for _ in range(GEOMETRIC_MEDIAN_ITERATIONS):
        distances = np.linalg.norm(points - estimate, axis=1)
        at_point = distances < 1e-12
        if at_point.any():
            # Weiszfeld's step is undefined at an input point; that point is the median if the
            # pull of the others is weaker than its own weight (Vardi and Zhang).
            others = ~at_point
            pull = ((points[others] - estimate) / distances[others, None]).sum(axis=0)
            if np.linalg.norm(pull) <= at_point.sum():
                break
            distances = np.where(at_point, 1e-12, distances)
        weights = 1.0 / distances
        updated = (points * weights[:, None]).sum(axis=0) / weights.sum()
        step = float(np.linalg.norm(updated - estimate))
        estimate = updated
        if step < eta:
            break
    return [estimate.tolist()]


def _fixed_2d_histogram(columns: Columns, reducer: Reducer) -> list[Any]:
    """Counts in xSteps x ySteps fixed-width buckets of [xMin, xMax) x [yMin, yMax).

    Outputs: the counts (rows are x buckets, columns y buckets) and the lower bucket edges
    of each axis.
    """
    rows = _rows(columns, reducer.name)
    x_min, x_max, x_steps, y_min, y_max, y_steps = reducer.params
    nx, ny = int(x_steps), int(y_steps)
    x_width, y_width = (x_max - x_min) / nx, (y_max - y_min) / ny
    x, y = rows[:, 0], rows[:, 1]
    inside = (x >= x_min) & (x < x_max) & (y >= y_min) & (y < y_max)
    i = np.minimum(((x[inside] - x_min) // x_width).astype(np.int64), nx - 1)
    j = np.minimum(((y[inside] - y_min) // y_width).astype(np.int64), ny - 1)
    counts = np.zeros((nx, ny), dtype=np.int64)
    np.add.at(counts, (i, j), 1)
    x_edges = [x_min + i * x_width for i in range(nx)]
    y_edges = [y_min + j * y_width for j in range(ny)]
    return [counts.tolist(), x_edges, y_edges]


# A weighted statistic of (value, weight) rows: (values, weights, sum of weights, the reducer)
# to the reducer's outputs.
Weighted = Callable[[np.ndarray, np.ndarray, float, Reducer], list[Any]]


def weighted(columns: Columns, child: Reducer, statistic: Weighted) -> list[Any]:
    """Reducer `child` after splitWeights: the statistic of (value, weight) pairs of inputs."""
    rows = _rows(columns, f"{child.name}.splitWeights")
    values, weights = rows[:, 0], rows[:, 1]
    return statistic(values, weights, float(weights.sum()), child)


def _weighted_sum(
    values: np.ndarray, weights: np.ndarray, total: float, reducer: Reducer
) -> list[Any]:
    return [float(np.sum(values * weights))]


def _weighted_mean(
    values: np.ndarray, weights: np.ndarray, total: float, reducer: Reducer
) -> list[Any]:
    if total == 0:
        return [None]
    return [float(np.sum(values * weights) / total)]


def _weighted_variance(values: np.ndarray, weights: np.ndarray, total: float) -> float | None:
    if total == 0:
        return None
    mean = float(np.sum(values * weights) / total)
    return float(np.sum(weights * (values - mean) ** 2) / total)


def _variance(values: np.ndarray, weights: np.ndarray, total: float, reducer: Reducer) -> list[Any]:
    return [_weighted_variance(values, weights, total)]


def _std_dev(values: np.ndarray, weights: np.ndarray, total: float, reducer: Reducer) -> list[Any]:
    variance = _weighted_variance(values, weights, total)
    return [None if variance is None else math.sqrt(variance)]


WEIGHTED_SUM: Weighted = _weighted_sum
WEIGHTED_MEAN: Weighted = _weighted_mean
WEIGHTED_VARIANCE: Weighted = _variance
WEIGHTED_STD_DEV: Weighted = _std_dev


def _merge_histograms(columns: Columns, reducer: Reducer) -> list[Any]:
    """Merges histograms made by Reducer.histogram into one with a common power-of-2 width.

    Each input bucket moves whole into the merged bucket holding its lower edge; merged
    bucket means are the count-weighted means of the buckets that fell in.
    """
    histograms = [h for h in columns[0] if h is not None]
    if not all(isinstance(h, dict) and "histogram" in h for h in histograms):
        raise InvalidArgumentError("Reducer.histogramCombiner: inputs must be histograms.")
    if not histograms:
        return [None]
    width = max(float(h["bucketWidth"]) for h in histograms)
    min_width = reducer.option("minBucketWidth")
    if min_width is not None:
        width = max(width, float(min_width))
    max_buckets = int(reducer.option("maxBuckets") or 256)
    low = min(float(h["bucketMin"]) for h in histograms)
    high = max(float(h["bucketMin"]) + len(h["histogram"]) * h["bucketWidth"] for h in histograms)
    while (high - math.floor(low / width) * width) / width > max_buckets:
        width *= 2
    start = math.floor(low / width) * width
    n = max(1, math.ceil((high - start) / width))
    counts = [0] * n
    sums = [0.0] * n
    for h in histograms:
        means = h.get("bucketMeans") or [None] * len(h["histogram"])
        for i, (count, mean) in enumerate(zip(h["histogram"], means, strict=True)):
            if not count:
                continue
            edge = float(h["bucketMin"]) + i * float(h["bucketWidth"])
            k = min(n - 1, int((edge - start) // width))
            counts[k] += count
            sums[k] += count * (mean if mean is not None else edge + h["bucketWidth"] / 2)
    merged = {
        "bucketMeans": [s / c if c else None for s, c in zip(sums, counts, strict=True)],
        "bucketMin": start,
        "bucketWidth": width,
        "histogram": counts,
    }
    return [merged]


# The kernels, one per reducer (the registry puts them on the specs; splitWeights applies its
# child's weighted statistic).
COVARIANCE: Kernel = _covariance(centered=False)
CENTERED_COVARIANCE: Kernel = _covariance(centered=True)
RIDGE_REGRESSION: Kernel = _ridge
ROBUST_LINEAR_REGRESSION: Kernel = _robust
GEOMETRIC_MEDIAN: Kernel = _geometric_median
FIXED_2D_HISTOGRAM: Kernel = _fixed_2d_histogram
HISTOGRAM_COMBINER: Kernel = _merge_histograms
