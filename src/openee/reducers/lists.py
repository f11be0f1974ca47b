"""The list kernels of the reducers: a reducer over columns of values (List.reduce,
Collection.reduceColumns, reduceRegion's list-like reducers, aggregate_*).

Each kernel takes one list per reducer input (the rows are the elements) and returns the
reducer's outputs in order. Single-input reducers skip nulls, as Earth Engine skips masked inputs
(except `first`, `last` and `countEvery`); multi-input reducers skip rows with a null. The
combinators' walks (group, forEachElement, disaggregate) take the evaluation of their child.
The registry (openee.reducers.registry) puts each kernel on its reducer's spec.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from openee.errors import InvalidArgumentError
from openee.reducers import order
from openee.reducers.pvalue import betainc
from openee.values.feature import Feature, FeatureCollection
from openee.values.reducer import Reducer

Columns = Sequence[Sequence[Any]]
Kernel = Callable[[Columns, Reducer], list[Any]]
# The evaluation of any reducer over columns, which the combinators' walks apply to their child.
Evaluate = Callable[[Reducer, Columns], list[Any]]
Walk = Callable[[Reducer, Columns, Evaluate], list[Any]]


def _group(reducer: Reducer, columns: Columns, evaluate: Evaluate) -> list[Any]:
    child = reducer.parts[0]
    field = int(reducer.option("groupField", 0))
    name = str(reducer.option("groupName", "group"))
    if not 0 <= field < len(columns):
        raise InvalidArgumentError(f"Reducer.group: groupField {field} is out of range.")
    keys = columns[field]
    rest = [c for i, c in enumerate(columns) if i != field]
    groups: dict[Any, list[int]] = {}
    for row, key in enumerate(keys):
        if key is not None:
            groups.setdefault(key, []).append(row)
    out = []
    for key in sorted(groups, key=_order):
        rows = groups[key]
        sub = [[c[r] for r in rows] for c in rest]
        result = dict(zip(child.outputs, evaluate(child, sub), strict=True))
        out.append({name: key, **result})
    return [out]


def _for_each_element(reducer: Reducer, columns: Columns, evaluate: Evaluate) -> list[Any]:
    """The child reducer at each position of 1-D array inputs; each output is an array."""
    child = reducer.parts[0]
    rows = [r for r in zip(*columns, strict=True) if all(v is not None for v in r)]
    if not all(isinstance(v, list | tuple) for r in rows for v in r):
        raise InvalidArgumentError("Reducer.forEachElement: the inputs must be arrays.")
    lengths = {len(v) for r in rows for v in r}
    if len(lengths) > 1:
        raise InvalidArgumentError("Reducer.forEachElement: the arrays differ in length.")
    size = lengths.pop() if lengths else 0
    per_position = [
        evaluate(child, [[r[i][p] for r in rows] for i in range(len(columns))]) for p in range(size)
    ]
    return [[values[j] for values in per_position] for j in range(len(child.outputs))]


def _disaggregate(reducer: Reducer, columns: Columns, evaluate: Evaluate) -> list[Any]:
    """The child reducer over the items of aggregate inputs (arrays, lists, dictionaries).

    Without an axis, arrays are flattened completely; with one, they are cut along that axis
    and each slice is one item. Dictionaries give their values; numbers and strings pass as
    they are. The inputs of one row are cut in step, so they must hold as many items.
    """
    axis = reducer.option("axis")
    items: list[list[Any]] = [[] for _ in columns]
    for row in zip(*columns, strict=True):
        parts = [_items(v, axis) for v in row]
        if len({len(p) for p in parts}) > 1:
            raise InvalidArgumentError(
                "Reducer.disaggregate: the inputs of a row hold different numbers of items."
            )
        for column, part in zip(items, parts, strict=True):
            column.extend(part)
    return evaluate(reducer.parts[0], items)


def _items(value: Any, axis: int | None) -> list[Any]:
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list | tuple):
        return [value]
    if axis is None:
        return [leaf for item in value for leaf in _items(item, None)]
    if axis < 0:
        raise InvalidArgumentError(f"Reducer.disaggregate: invalid axis {axis}.")
    array = np.asarray(value, dtype=object)
    if axis >= array.ndim:
        raise InvalidArgumentError(
            f"Reducer.disaggregate: axis {axis} is out of range for a {array.ndim}-D array."
        )
    slices = [np.take(array, i, axis=axis) for i in range(array.shape[axis])]
    return [s.tolist() if isinstance(s, np.ndarray) else s for s in slices]


def _order(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value))


# -- kernels -------------------------------------------------------------------------------------


def _present(values: Sequence[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _numbers(values: Sequence[Any], name: str) -> list[float]:
    present = _present(values)
    if not all(isinstance(v, int | float) for v in present):
        raise InvalidArgumentError(f"Reducer.{name}: inputs must be numbers.")
    return present


def _rows(columns: Columns, name: str) -> list[list[float]]:
    """The rows with no null input, as numbers."""
    rows = [list(r) for r in zip(*columns, strict=True) if all(v is not None for v in r)]
    if not all(isinstance(v, int | float) for r in rows for v in r):
        raise InvalidArgumentError(f"Reducer.{name}: inputs must be numbers.")
    return rows


def _numeric(fn: Callable[[list[float]], Any], empty: Any = None) -> Kernel:
    """A kernel of one numeric input and one output."""

    def kernel(columns: Columns, reducer: Reducer) -> list[Any]:
        values = _numbers(columns[0], reducer.name)
        return [fn(values) if values else empty]

    return kernel


def _ints(values: Sequence[float]) -> bool:
    return all(isinstance(v, int) for v in values)


def _sample_variance(v: list[float]) -> float | None:
    return statistics.variance(v) if len(v) > 1 else None


def _skew(v: list[float]) -> float | None:
    # Apache Commons Math's (bias-corrected) sample skewness.
    n = len(v)
    if n < 3:
        return None
    mean = math.fsum(v) / n
    s = statistics.stdev(v)
    if s == 0:
        return 0.0
    return n / ((n - 1) * (n - 2)) * math.fsum(((x - mean) / s) ** 3 for x in v)


def _kurtosis(v: list[float]) -> float | None:
    # Apache Commons Math's (bias-corrected) sample excess kurtosis.
    n = len(v)
    if n < 4:
        return None
    mean = math.fsum(v) / n
    var = statistics.variance(v)
    if var == 0:
        return 0.0
    m4 = math.fsum((x - mean) ** 4 for x in v)
    return n * (n + 1) * m4 / ((n - 1) * (n - 2) * (n - 3) * var**2) - 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default method)."""
    return float(order.quantile(np.asarray(values, dtype=np.float64), p))


def _median(v: Sequence[float]) -> float:
    if len(v) % 2 and _ints(v):  # the middle integer itself, exactly
        return sorted(v)[int(order.median_ranks(np.int64(len(v)))[0])]
    return float(order.quantile(np.asarray(v, dtype=np.float64)))


def _mode(v: list[float]) -> float:
    best = order.mode(np.asarray(v, dtype=np.float64))
    return next(x for x in v if x == best)  # the input itself: an integer stays one


def _resultant(v: list[float]) -> float:
    return math.hypot(math.fsum(map(math.sin, v)), math.fsum(map(math.cos, v))) / len(v)


def _min_max(columns: Columns, reducer: Reducer) -> list[Any]:
    values = _numbers(columns[0], reducer.name)
    return [min(values), max(values)] if values else [None, None]


def _extreme(pick: Callable[..., Any]) -> Kernel:
    """min/max with numInputs > 1: the extreme of the first input, with the others of its row."""

    def kernel(columns: Columns, reducer: Reducer) -> list[Any]:
        if len(columns) == 1:
            values = _numbers(columns[0], reducer.name)
            return [pick(values) if values else None]
        rows = [r for r in zip(*columns, strict=True) if r[0] is not None]
        if not rows:
            return [None] * len(columns)
        return list(pick(rows, key=lambda r: r[0]))

    return kernel


def _keep_nulls(index: int) -> Kernel:
    def kernel(columns: Columns, reducer: Reducer) -> list[Any]:
        values = list(columns[0])
        return [values[index] if values else None]

    return kernel


def _non_null(index: int) -> Kernel:
    def kernel(columns: Columns, reducer: Reducer) -> list[Any]:
        values = _present(columns[0])
        return [values[index] if values else None]

    return kernel


def _count_distinct(skip_nulls: bool) -> Kernel:
    def kernel(columns: Columns, reducer: Reducer) -> list[Any]:
        values = _present(columns[0]) if skip_nulls else list(columns[0])
        return [len({_order(v) for v in values})]

    return kernel


def _count(columns: Columns, reducer: Reducer) -> list[Any]:
    return [len(_present(columns[0]))]


def _count_every(columns: Columns, reducer: Reducer) -> list[Any]:
    return [len(columns[0])]


def _count_runs(columns: Columns, reducer: Reducer) -> list[Any]:
    values = list(columns[0])
    return [sum(1 for i, v in enumerate(values) if i == 0 or v != values[i - 1])]


def _bitwise(op: Callable[[int, int], int]) -> Kernel:
    def kernel(columns: Columns, reducer: Reducer) -> list[Any]:
        values = [int(v) for v in _numbers(columns[0], reducer.name)]
        if not values:
            return [None]
        out = values[0]
        for v in values[1:]:
            out = op(out, v)
        return [out]

    return kernel


def _to_list(columns: Columns, reducer: Reducer) -> list[Any]:
    if reducer.option("tupleSize") is None:
        return [_present(columns[0])]
    required = len(columns) - int(reducer.option("numOptional", 0))
    rows = [list(r) for r in zip(*columns, strict=True) if all(v is not None for v in r[:required])]
    return [rows]


def _to_collection(columns: Columns, reducer: Reducer) -> list[Any]:
    names = reducer.option("propertyNames")
    required = len(columns) - int(reducer.option("numOptional", 0))
    features = [
        Feature(None, dict(zip(names, row, strict=True)))
        for row in zip(*columns, strict=True)
        if all(v is not None for v in row[:required])
    ]
    return [FeatureCollection(tuple(features))]


def _percentiles(columns: Columns, reducer: Reducer) -> list[Any]:
    values = _numbers(columns[0], reducer.name)
    return [percentile(values, p) if values else None for p in reducer.params]


def _interval_mean(columns: Columns, reducer: Reducer) -> list[Any]:
    values = sorted(_numbers(columns[0], reducer.name))
    if not values:
        return [None]
    low, high = (percentile(values, p) for p in reducer.params)
    inside = [v for v in values if low <= v <= high]
    return [math.fsum(inside) / len(inside) if inside else None]


def _frequency_histogram(columns: Columns, reducer: Reducer) -> list[Any]:
    counts: dict[str, int] = {}
    for v in sorted(_present(columns[0]), key=_order):
        key = repr(v) if isinstance(v, float) else str(v)
        counts[key] = counts.get(key, 0) + 1
    return [counts]


def bucket_width(values: Sequence[float], max_buckets: int, min_width: float | None) -> float:
    """The smallest power-of-2 width (at least min_width) giving at most max_buckets buckets."""
    span = max(values) - min(values)
    width = 2.0 ** math.ceil(math.log2(span / max_buckets)) if span > 0 else 1.0
    if min_width is not None and width < min_width:
        width = float(min_width)
    while span / width >= max_buckets:
        width *= 2
    return width


def histogram_buckets(
    values: Sequence[float], max_buckets: int, min_width: float | None
) -> tuple[float, float, list[int], list[float | None]]:
    """(bucketMin, bucketWidth, counts, means) with power-of-2 bucket widths."""
    width = bucket_width(values, max_buckets, min_width)
    start = math.floor(min(values) / width) * width
    n = int((max(values) - start) // width) + 1
    sums = [0.0] * n
    counts = [0] * n
    for v in values:
        i = min(n - 1, int((v - start) // width))
        counts[i] += 1
        sums[i] += v
    means = [s / c if c else None for s, c in zip(sums, counts, strict=True)]
    return start, width, counts, means


def _histogram(columns: Columns, reducer: Reducer) -> list[Any]:
    values = _numbers(columns[0], reducer.name)
    if not values:
        return [None]
    max_buckets = int(reducer.option("maxBuckets") or 256)
    start, width, counts, means = histogram_buckets(
        values, max_buckets, reducer.option("minBucketWidth")
    )
    result: dict[str, Any] = {
        "bucketMeans": means,
        "bucketMin": start,
        "bucketWidth": width,
        "histogram": counts,
    }
    return [result]


def _auto_histogram(columns: Columns, reducer: Reducer) -> list[Any]:
    values = _numbers(columns[0], reducer.name)
    if not values:
        return [None]
    max_buckets = int(reducer.option("maxBuckets") or 256)
    start, width, counts, _ = histogram_buckets(
        values, max_buckets, reducer.option("minBucketWidth")
    )
    return [_edges(start, width, counts, bool(reducer.option("cumulative")))]


def _edges(start: float, width: float, counts: list[int], cumulative: bool) -> list[list[float]]:
    total = 0
    rows = []
    for i, c in enumerate(counts):
        total += c
        rows.append([start + i * width, total if cumulative else c])
    return rows


def _fixed_histogram(columns: Columns, reducer: Reducer) -> list[Any]:
    values = _numbers(columns[0], reducer.name)
    low, high, steps = reducer.params
    n = int(steps)
    width = (high - low) / n
    counts = [0] * n
    for v in values:
        if low <= v < high:
            counts[min(n - 1, int((v - low) // width))] += 1
    return [_edges(low, width, counts, bool(reducer.option("cumulative")))]


def _linear_fit(columns: Columns, reducer: Reducer) -> list[Any]:
    rows = _rows(columns, reducer.name)
    if len(rows) < 2:
        return [None, None]
    xs, ys = [r[0] for r in rows], [r[1] for r in rows]
    mx, my = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return [None, None]
    scale = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return [scale, my - scale * mx]


def _linear_regression(columns: Columns, reducer: Reducer) -> list[Any]:
    rows = _rows(columns, reducer.name)
    num_x = int(reducer.option("numX"))
    if len(rows) < num_x:
        return [None, None]
    data = np.asarray(rows, dtype=np.float64)
    x, y = data[:, :num_x], data[:, num_x:]
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coefficients
    rms = np.sqrt(np.mean(residuals**2, axis=0))
    return [coefficients.tolist(), rms.tolist()]


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's correlation coefficient; None when a variable is constant."""
    mx, my = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def _pearson(columns: Columns, reducer: Reducer) -> list[Any]:
    rows = _rows(columns, reducer.name)
    n = len(rows)
    if n < 3:
        return [None, None]
    r = correlation([row[0] for row in rows], [row[1] for row in rows])
    if r is None:
        return [None, None]
    if abs(r) >= 1:
        return [r, 0.0]
    df = n - 2
    t = r * math.sqrt(df / (1 - r * r))
    return [r, betainc(df / 2, 0.5, df / (df + t * t))]


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def _spearman(columns: Columns, reducer: Reducer) -> list[Any]:
    rows = _rows(columns, reducer.name)
    if len(rows) < 2:
        return [None]
    return [correlation(ranks([r[0] for r in rows]), ranks([r[1] for r in rows]))]


def _kendall(columns: Columns, reducer: Reducer) -> list[Any]:
    if len(columns) == 1:
        ys = _numbers(columns[0], reducer.name)
        rows = [[float(i), y] for i, y in enumerate(ys)]
    else:
        rows = _rows(columns, reducer.name)
    n = len(rows)
    if n < 2:
        return [None]
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx = rows[i][0] - rows[j][0]
            dy = rows[i][1] - rows[j][1]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif dx * dy > 0:
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return [(concordant - discordant) / denominator if denominator else None]


def _sens_slope(columns: Columns, reducer: Reducer) -> list[Any]:
    rows = _rows(columns, reducer.name)
    slopes = [
        (rows[j][1] - rows[i][1]) / (rows[j][0] - rows[i][0])
        for i in range(len(rows))
        for j in range(i + 1, len(rows))
        if rows[j][0] != rows[i][0]
    ]
    if not slopes:
        return [None, None]
    slope = _median(slopes)
    return [slope, _median([r[1] - slope * r[0] for r in rows])]


# The kernels, one per reducer (the registry puts them on the specs).
MEAN: Kernel = _numeric(lambda v: math.fsum(v) / len(v))
SUM: Kernel = _numeric(lambda v: sum(v) if _ints(v) else math.fsum(v), 0)
PRODUCT: Kernel = _numeric(math.prod, 1)
MEDIAN: Kernel = _numeric(_median)
MODE: Kernel = _numeric(_mode)
VARIANCE: Kernel = _numeric(statistics.pvariance)
STD_DEV: Kernel = _numeric(statistics.pstdev)
SAMPLE_VARIANCE: Kernel = _numeric(_sample_variance)
SAMPLE_STD_DEV: Kernel = _numeric(
    lambda v: math.sqrt(s) if (s := _sample_variance(v)) is not None else None
)
SKEW: Kernel = _numeric(_skew)
KURTOSIS: Kernel = _numeric(_kurtosis)
COUNT: Kernel = _count
COUNT_EVERY: Kernel = _count_every
COUNT_DISTINCT: Kernel = _count_distinct(skip_nulls=False)
COUNT_DISTINCT_NON_NULL: Kernel = _count_distinct(skip_nulls=True)
COUNT_RUNS: Kernel = _count_runs
FIRST: Kernel = _keep_nulls(0)
LAST: Kernel = _keep_nulls(-1)
FIRST_NON_NULL: Kernel = _non_null(0)
LAST_NON_NULL: Kernel = _non_null(-1)
MIN: Kernel = _extreme(min)
MAX: Kernel = _extreme(max)
MIN_MAX: Kernel = _min_max
ANY_NON_ZERO: Kernel = _numeric(lambda v: int(any(v)), 0)
ALL_NON_ZERO: Kernel = _numeric(lambda v: int(all(v)), 1)
OR: Kernel = _numeric(lambda v: int(any(v)), 0)
AND: Kernel = _numeric(lambda v: int(all(v)), 1)
BITWISE_AND: Kernel = _bitwise(lambda a, b: a & b)
BITWISE_OR: Kernel = _bitwise(lambda a, b: a | b)
CIRCULAR_MEAN: Kernel = _numeric(
    lambda v: math.atan2(math.fsum(map(math.sin, v)), math.fsum(map(math.cos, v)))
)
CIRCULAR_VARIANCE: Kernel = _numeric(lambda v: 1 - _resultant(v))
CIRCULAR_STDDEV: Kernel = _numeric(
    lambda v: math.sqrt(-2 * math.log(r)) if (r := _resultant(v)) > 0 else math.inf
)
TO_LIST: Kernel = _to_list
TO_COLLECTION: Kernel = _to_collection
PERCENTILE: Kernel = _percentiles
INTERVAL_MEAN: Kernel = _interval_mean
FREQUENCY_HISTOGRAM: Kernel = _frequency_histogram
HISTOGRAM: Kernel = _histogram
AUTO_HISTOGRAM: Kernel = _auto_histogram
FIXED_HISTOGRAM: Kernel = _fixed_histogram
LINEAR_FIT: Kernel = _linear_fit
LINEAR_REGRESSION: Kernel = _linear_regression
PEARSONS_CORRELATION: Kernel = _pearson
SPEARMANS_CORRELATION: Kernel = _spearman
KENDALLS_CORRELATION: Kernel = _kendall
SENS_SLOPE: Kernel = _sens_slope

# The combinators: how combine and forEach hand their inputs to their parts, and the walks of
# the others.
Split = Callable[[Reducer], list[tuple[Reducer, range]]]


def _combine_split(reducer: Reducer) -> list[tuple[Reducer, range]]:
    first, second = reducer.parts
    n = first.num_inputs()
    if reducer.option("sharedInputs"):
        return [(first, range(n)), (second, range(n))]
    return [(first, range(n)), (second, range(n, n + second.num_inputs()))]


def _for_each_split(reducer: Reducer) -> list[tuple[Reducer, range]]:
    child = reducer.parts[0]
    n = child.num_inputs()
    return [(child, range(i * n, (i + 1) * n)) for i in range(reducer.repeat)]


COMBINE: Split = _combine_split
FOR_EACH: Split = _for_each_split
GROUP: Walk = _group
FOR_EACH_ELEMENT: Walk = _for_each_element
DISAGGREGATE: Walk = _disaggregate
