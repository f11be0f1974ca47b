"""Per-pixel reductions over a stack of bands, skipping masked inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openee.raster.pixels import Pixels
from openee.reducers.pixel import PixelKernel
from openee.reducers.registry import pixel_kernel


def output_dtype(reducer: str, input_dtype: np.dtype) -> np.dtype:
    """The dtype of the band that `reducer` makes from bands of `input_dtype`."""
    return pixel_kernel(reducer).dtype(input_dtype)


def reduce_stack(
    reducer: str, stack: Sequence[Pixels], dtype: np.dtype, param: float | None = None
) -> Pixels:
    """Reduce pixel-wise over `stack` with the reducer's pixel kernel; a pixel with no valid
    input is masked.

    `param` is the percentile (0-100) for 'percentile', interpolated linearly between the
    closest ranks of the valid values (numpy's default method).
    """
    return reduce_with(pixel_kernel(reducer), stack, dtype, param)


def reduce_with(
    kernel: PixelKernel, stack: Sequence[Pixels], dtype: np.dtype, param: float | None = None
) -> Pixels:
    """`reduce_stack` with the pixel kernel itself (an algorithm that uses one by definition)."""
    shape = stack[0].data.shape
    count = _count_valid(stack)
    if kernel.everywhere:
        return Pixels(count.astype(dtype), np.ones(shape, dtype=bool))
    out_valid = count > 0
    box = _valid_box(out_valid)
    if box is None:  # e.g. a chunk outside every input's footprint
        return Pixels.empty(shape, dtype)
    if out_valid[box].size < 0.75 * out_valid.size:
        # Outside the box no input is valid: reduce only inside it (a chunk on a tile's edge).
        inner = [Pixels(p.data[box], p.valid[box]) for p in stack]
        out = Pixels.empty(shape, dtype)
        out.data[box] = _reduce_valid(kernel, inner, count[box], out_valid[box], dtype, param)
        out.valid[box] = out_valid[box]
        return out
    return Pixels(_reduce_valid(kernel, stack, count, out_valid, dtype, param), out_valid)


def _count_valid(stack: Sequence[Pixels]) -> np.ndarray:
    """The number of valid inputs per pixel, in the smallest integer type that holds it."""
    count = np.zeros(stack[0].valid.shape, dtype=np.min_scalar_type(len(stack)))
    for p in stack:
        np.add(count, p.valid, out=count, casting="unsafe")
    return count


def _reduce_valid(
    kernel: PixelKernel,
    stack: Sequence[Pixels],
    count: np.ndarray,
    out_valid: np.ndarray,
    dtype: np.dtype,
    param: float | None,
) -> np.ndarray:
    """The reduction's values (0 where `out_valid` is False) as `dtype`."""
    result = kernel.run([p.data for p in stack], [p.valid for p in stack], count, param)
    if not out_valid.all():
        np.copyto(result, 0, where=~out_valid)
    return result.astype(dtype, copy=False)


def _valid_box(valid: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest (rows, columns) box holding every valid pixel; None if there is none."""
    rows = np.flatnonzero(valid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(valid.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
