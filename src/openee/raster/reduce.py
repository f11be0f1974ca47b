"""Per-pixel reductions over a stack of bands, skipping masked inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openee.raster.pixels import Pixels
from openee.reducers import order

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
        q = None if reducer == "median" else (param if param is not None else 50.0)
        data, valid_layers = [p.data for p in stack], [p.valid for p in stack]
        result = order.stack_quantile(data, valid_layers, count, q)
        if not out_valid.all():
            np.copyto(result, 0, where=~out_valid)
        return result.astype(dtype, copy=False)
    valid = np.stack([p.valid for p in stack])
    values = np.stack([p.data for p in stack]).astype(np.float64)
    if reducer == "mode":
        result = order.stack_mode(values, valid)
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
        indices = range(len(stack)) if reducer == "first" else range(len(stack) - 1, -1, -1)
        result = np.zeros(shape, dtype=np.float64)
        done = np.zeros(shape, dtype=bool)
        for i in indices:
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
