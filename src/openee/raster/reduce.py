"""Per-pixel reductions over a stack of bands, skipping masked inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openee.raster.pixels import Pixels

# Output dtype per reducer for a given input dtype (None: keep the input dtype).
FLOAT_REDUCERS = {"mean", "median", "stdDev", "variance", "percentile"}


def output_dtype(reducer: str, input_dtype: np.dtype) -> np.dtype:
    if reducer in FLOAT_REDUCERS:
        return np.dtype(np.float64)
    if reducer == "count":
        return np.dtype(np.int64)
    if reducer == "sum":
        return np.dtype(np.float64) if input_dtype.kind == "f" else np.dtype(np.int64)
    return np.dtype(input_dtype)


def reduce_stack(
    reducer: str, stack: Sequence[Pixels], dtype: np.dtype, param: float | None = None
) -> Pixels:
    """Reduce pixel-wise over `stack`; a pixel with no valid input is masked.

    `param` is the percentile (0-100) for 'percentile', interpolated linearly between the
    closest ranks of the valid values (numpy's default method).
    """
    shape = stack[0].data.shape
    count = _count_valid(stack)
    if reducer == "count":
        return Pixels(count.astype(dtype), np.ones(shape, dtype=bool))
    out_valid = count > 0
    box = _valid_box(out_valid)
    if box is None:  # e.g. a chunk outside every input's footprint
        return Pixels.empty(shape, dtype)
    if out_valid[box].size < 0.75 * out_valid.size:
        # Outside the box no input is valid: reduce only inside it (a chunk on a tile's edge).
        inner = [Pixels(p.data[box], p.valid[box]) for p in stack]
        out = Pixels.empty(shape, dtype)
        out.data[box] = _reduce_valid(reducer, inner, count[box], out_valid[box], dtype, param)
        out.valid[box] = out_valid[box]
        return out
    return Pixels(_reduce_valid(reducer, stack, count, out_valid, dtype, param), out_valid)


def _count_valid(stack: Sequence[Pixels]) -> np.ndarray:
    """The number of valid inputs per pixel, in the smallest integer type that holds it."""
    count = np.zeros(stack[0].valid.shape, dtype=np.min_scalar_type(len(stack)))
    for p in stack:
        np.add(count, p.valid, out=count, casting="unsafe")
    return count


def _reduce_valid(
    reducer: str,
    stack: Sequence[Pixels],
    count: np.ndarray,
    out_valid: np.ndarray,
    dtype: np.dtype,
    param: float | None,
) -> np.ndarray:
    """The reduction's values (0 where `out_valid` is False) as `dtype`."""
    shape = count.shape
    if reducer in ("median", "percentile"):
        result = _rank_statistic(stack, count, reducer, param)
        if not out_valid.all():
            np.copyto(result, 0, where=~out_valid)
        return result.astype(dtype, copy=False)
    valid = np.stack([p.valid for p in stack])
    values = np.stack([p.data for p in stack]).astype(np.float64)
    if reducer == "mode":
        # The most frequent valid value; ties go to the smallest value.
        values[~valid] = np.nan
        values.sort(axis=0)
        best = np.zeros(shape)
        best_count = np.zeros(shape, dtype=np.int64)
        for i in range(values.shape[0]):
            same = (values == values[i][None]).sum(axis=0)
            better = valid.any(axis=0) & ~np.isnan(values[i]) & (same > best_count)
            best[better] = values[i][better]
            best_count[better] = same[better]
        result = best
    elif reducer in ("mean", "sum", "variance", "stdDev"):
        values[~valid] = 0
        total = values.sum(axis=0)
        if reducer == "sum":
            result = total
        else:
            n = np.maximum(count, 1)
            mean = total / n
            if reducer == "mean":
                result = mean
            else:
                sq = np.where(valid, (values - mean[None]) ** 2, 0).sum(axis=0)
                var = sq / n
                result = var if reducer == "variance" else np.sqrt(var)
    elif reducer in ("min", "max"):
        fill = np.inf if reducer == "min" else -np.inf
        values[~valid] = fill
        result = values.min(axis=0) if reducer == "min" else values.max(axis=0)
    elif reducer in ("first", "last"):
        order = range(len(stack)) if reducer == "first" else range(len(stack) - 1, -1, -1)
        result = np.zeros(shape, dtype=np.float64)
        done = np.zeros(shape, dtype=bool)
        for i in order:
            take = valid[i] & ~done
            result[take] = values[i][take]
            done |= take
    else:
        raise ValueError(f"unsupported reducer {reducer}")
    return np.where(out_valid, result, 0).astype(dtype)


def _valid_box(valid: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest (rows, columns) box holding every valid pixel; None if there is none."""
    rows = np.flatnonzero(valid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(valid.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _rank_statistic(
    stack: Sequence[Pixels], count: np.ndarray, reducer: str, param: float | None
) -> np.ndarray:
    """Median (the mean of the two middle values for an even count) or a linearly
    interpolated percentile of the valid values, as float64.

    Sorted in the inputs' own dtype (uint16 sorts several times faster than float64), with
    masked values replaced by the dtype's largest value so that they sort last; the ranks taken
    are all below the count of valid values, so a valid value equal to that sentinel is still
    read correctly.
    """
    dtype = np.result_type(*[p.data.dtype for p in stack])
    if reducer == "median" and len(stack) <= _NETWORK_MAX:
        return _median_network(stack, count, dtype)
    top = np.iinfo(dtype).max if dtype.kind in "iu" else np.inf
    layers = [
        p.data.astype(dtype, copy=False)
        if p.valid.all()
        else np.where(p.valid, p.data, top).astype(dtype, copy=False)
        for p in stack
    ]
    n = np.maximum(count, 1)
    if reducer == "median":
        lo_i, hi_i = (n - 1) >> 1, n >> 1  # shifts: integer division is slow
    else:
        rank = (n - 1) * (float(param if param is not None else 50) / 100.0)
        lo_i = np.floor(rank).astype(np.int32)
        hi_i = np.minimum(lo_i + 1, n - 1)
    if len(layers) <= _NETWORK_MAX:
        ordered = _sorted_layers(layers)
        lo, hi = _pick(ordered, lo_i), _pick(ordered, hi_i)
    else:
        data = np.sort(np.stack(layers), axis=0)
        lo = np.take_along_axis(data, lo_i[None], axis=0)[0]
        hi = np.take_along_axis(data, hi_i[None], axis=0)[0]
    if reducer == "median":
        out = np.add(lo, hi, dtype=np.float64)
        out *= 0.5
        return out
    out = lo.astype(np.float64)
    out += (hi.astype(np.float64) - out) * (rank - lo_i)
    return out


def _median_network(stack: Sequence[Pixels], count: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The median of the valid values of a few layers, as float64 (the mean of the two middle
    values for an even count), by a sorting network over whole layers, read at the same rank
    for every pixel whatever its count of valid values.

    With an odd number k of layers, a pixel missing m values gets ceil(m/2) of them filled
    with `low` (the dtype's lowest value) and the rest with `high`; sorted, its valid values
    then sit around the middle, so the lower median is always at rank (k-1)/2 and the upper
    one at (k+1)/2 when the count is even. (Valid values equal to a fill value do not matter:
    only the sorted values are read.) An even k is padded with a layer missing everywhere.
    This costs a few passes per layer but no per-pixel gather, which a cloud-masked composite,
    whose counts vary from pixel to pixel, would otherwise pay for each rank.
    """
    if dtype.kind not in "iuf":
        dtype = np.dtype(np.float64)
    if dtype.kind == "f":
        low, high = dtype.type(-np.inf), dtype.type(np.inf)
    else:
        info = np.iinfo(dtype)
        low, high = dtype.type(info.min), dtype.type(info.max)
    k = len(stack) | 1
    lows = (k - count + 1) >> 1  # per pixel: how many missing values to fill low
    seen = np.zeros(count.shape, dtype=count.dtype)  # missing values met so far
    layers = []
    for p in stack:
        if p.valid.all():
            layers.append(p.data.astype(dtype, copy=False))
            continue
        layers.append(np.where(p.valid, p.data, _fill(seen >= lows, low, high)))
        np.add(seen, ~p.valid, out=seen, casting="unsafe")
    if len(stack) < k:
        layers.append(_fill(seen >= lows, low, high))
    ordered = _sorted_layers(layers)
    mid = (k - 1) // 2
    lo = ordered[mid]
    even = (count & 1) == 0
    hi = np.where(even, ordered[mid + 1], lo) if k > 1 and even.any() else lo
    # A pixel with no valid value adds -inf and inf (float inputs): it is masked anyway.
    with np.errstate(invalid="ignore"):
        out = np.add(lo, hi, dtype=np.float64)
    out *= 0.5
    return out


def _fill(high_here: np.ndarray, low: np.generic, high: np.generic) -> np.ndarray:
    """`high` where `high_here`, else `low` (a product when low is 0: np.where with scalars
    is several times slower)."""
    if low == 0:
        return np.multiply(high_here, high, dtype=high.dtype)
    return np.where(high_here, high, low)


def _pick(ordered: list[np.ndarray], index: np.ndarray) -> np.ndarray:
    """Per pixel, the value of layer `index` (a cheap gather for a few distinct ranks: in a
    composite most pixels share the same count of valid inputs)."""
    first, last = int(index.min()), int(index.max())
    if first == last:
        return ordered[first]
    out = ordered[first].copy()
    for rank in range(first + 1, last + 1):
        np.copyto(out, ordered[rank], where=index == rank)
    return out


# Up to this many inputs, a sorting network of element-wise min/max beats np.sort along the
# stack axis (which works lane by lane): n(n-1)/2 comparators over whole 2-D arrays.
_NETWORK_MAX = 16


def _sorted_layers(layers: list[np.ndarray]) -> list[np.ndarray]:
    """Odd-even transposition sort of 2-D arrays, pixel by pixel."""
    out = list(layers)
    n = len(out)
    for round_ in range(n):
        for i in range(round_ % 2, n - 1, 2):
            low = np.minimum(out[i], out[i + 1])
            out[i + 1] = np.maximum(out[i], out[i + 1])
            out[i] = low
    return out
