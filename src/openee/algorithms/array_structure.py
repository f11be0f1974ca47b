"""ee.Array structure: building, reading, reshaping, sorting and reducing arrays.

The numbers come from the per-pixel kernels of `openee.raster.array_kernels`, run on a batch
of one, so that `Array.x` and `Image.arrayX` share one definition. What a kernel reports as
a masked pixel (an index out of range, a failed solve) is an error here: an Array has no mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openee.algorithms.array_value import ArrayValue, _as_array, _nested
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.array_kernels import OPS
from openee.reducers.registry import Context, axis_outputs, default, keeps_integers, require
from openee.values.reducer import Reducer


def run_kernel(op: str, inputs: list[Any], params: tuple[Any, ...], failure: str) -> Any:
    """The array kernel `op` on one set of inputs (arrays, or numbers for scalar inputs);
    raises `failure` where the kernel cannot answer."""
    try:
        batch = OPS[op].kernel([np.asarray(x)[None] for x in inputs], params)
    except (ValueError, IndexError, np.linalg.LinAlgError):
        raise InvalidArgumentError(failure) from None
    if batch.ok is not None and not bool(batch.ok[0]):
        raise InvalidArgumentError(failure)
    values = batch.values[0]
    if batch.lengths is not None:
        values = values[tuple(slice(0, int(n)) for n in batch.lengths[0])]
    return values


def wrap(data: np.ndarray, dtype: np.dtype | None = None) -> ArrayValue:
    """An Array of `data`, in `dtype` (default: its own; booleans as 8-bit integers)."""
    data = np.asarray(data)
    if dtype is None:
        dtype = np.dtype(np.uint8) if data.dtype == np.bool_ else data.dtype
    data = data.astype(dtype)
    return ArrayValue(_nested(data) if data.ndim else (data.item(),), np.dtype(dtype).name)


def _axis(axis: int, rank: int, what: str = "axis") -> int:
    if not 0 <= axis < rank:
        raise InvalidArgumentError(f"{what} {axis} is out of range for a {rank}-D array.")
    return axis


def _int_result(data: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Float kernel output back in the integer type of an integer source (sum, min, ...)."""
    if source.dtype.kind in "iu" and np.all(np.isfinite(data)) and np.all(data == np.round(data)):
        return data.astype(np.int64)
    return data


# -- building ---------------------------------------------------------------------------------


@algorithm("Array.identity")
def identity(size: int) -> ArrayValue:
    """Creates a 2-D identity matrix of the given size.

    Args:
        size: The length of each axis.
    """
    if size < 0:
        raise InvalidArgumentError(f"size must not be negative, got {size}.")
    return wrap(np.eye(size))


@algorithm("Array.cat")
def cat(arrays: list[Any], axis: int = 0) -> ArrayValue:
    """Concatenates arrays along an axis; with `axis` equal to their dimension count they are
    stacked along a new last axis. Every other axis must have the same length in all arrays.

    Args:
        arrays: The arrays to concatenate.
        axis: The axis to concatenate along.
    """
    data = [_as_array(a, "arrays") for a in arrays]
    if not data:
        raise InvalidArgumentError("at least one array is required.")
    if len({d.ndim for d in data}) != 1:
        raise InvalidArgumentError("the arrays must all have the same number of dimensions.")
    _axis(axis, data[0].ndim + 1)
    # Empty 1-D arrays join anything 1-D (Earth Engine: cat([empty, [1]]) is [1]).
    data = [d for d in data if d.size or d.ndim != 1] or data[:1]
    out = run_kernel("toArray", data, (axis,), "the arrays differ in length along an axis.")
    return wrap(out, np.result_type(*data))


@algorithm("Array.repeat")
def repeat(array: Any, axis: int = 0, copies: int = 2) -> ArrayValue:
    """Repeats the array along an axis: the length along that axis is multiplied by `copies`.
    With `axis` equal to the dimension count, the array gains a new last axis.

    Args:
        array: The array to repeat.
        axis: The axis to repeat along.
        copies: The number of copies.
    """
    data = _as_array(array, "array")
    _axis(axis, data.ndim + 1)
    if copies < 0:
        raise InvalidArgumentError(f"copies must not be negative, got {copies}.")
    return wrap(run_kernel("repeat", [data, copies], (axis,), "cannot repeat."), data.dtype)


@algorithm("Array.pad")
def pad(array: Any, lengths: list[int], pad: float = 0.0) -> ArrayValue:
    """Pads an array to at least the given length along each axis, appending the pad value;
    an axis already as long is unchanged.

    Args:
        array: The array to pad.
        lengths: The new length of each axis.
        pad: The value to pad with.
    """
    data = _as_array(array, "array")
    if len(lengths) != data.ndim:
        raise InvalidArgumentError(f"{len(lengths)} lengths for a {data.ndim}-D array.")
    out = run_kernel("pad", [data], (tuple(int(n) for n in lengths), pad), "cannot pad.")
    dtype = data.dtype if float(pad).is_integer() else np.result_type(data.dtype, np.float64)
    return wrap(out, dtype)


# -- reading ----------------------------------------------------------------------------------


@algorithm("Array.get")
def get(array: Any, position: list[int]) -> Any:
    """The element at a position: one index per axis.

    Args:
        array: The array.
        position: The index along each axis.
    """
    data = _as_array(array, "array")
    if len(position) != data.ndim:
        raise InvalidArgumentError(
            f"the position has {len(position)} indices for a {data.ndim}-D array."
        )
    out = run_kernel(
        "get",
        [data, *position],
        (),
        f"position {list(position)} is out of range for shape {list(data.shape)}.",
    )
    return np.asarray(out).item()


@algorithm("Array.cut")
def cut(array: Any, position: list[int]) -> ArrayValue:
    """Cuts out a subarray: along each axis, the element at the given index (the axis keeps
    length 1), or the whole axis where the index is -1.

    Args:
        array: The array.
        position: The index along each axis, or -1 to keep the axis whole.
    """
    data = _as_array(array, "array")
    if len(position) != data.ndim:
        raise InvalidArgumentError(
            f"the position has {len(position)} indices for a {data.ndim}-D array."
        )
    index = []
    for p, n in zip(position, data.shape, strict=True):
        if p != -1 and not 0 <= p < n:
            raise InvalidArgumentError(
                f"position {list(position)} is out of range for shape {list(data.shape)}."
            )
        index.append(slice(None) if p == -1 else slice(p, p + 1))
    return wrap(data[tuple(index)])


@algorithm("Array.length")
def length(array: Any) -> ArrayValue:
    """The length of each axis, as a 1-D array.

    Args:
        array: The array.
    """
    return wrap(np.array(_as_array(array, "array").shape, dtype=np.int64))


@algorithm("Array.toList")
def to_list(array: Any) -> list[Any]:
    """The array as (nested) lists of numbers.

    Args:
        array: The array.
    """
    return list(_as_array(array, "array").tolist())


@algorithm("Array.argmax")
def argmax(array: Any) -> list[int] | None:
    """The position of the largest element (the first if tied), one index per axis; null for
    an empty array.

    Args:
        array: The array.
    """
    data = _as_array(array, "array")
    if data.size == 0:
        return None
    return [int(i) for i in run_kernel("argmax", [data], (), "the array is empty.")]


@algorithm("Array.dotProduct")
def dot_product(array1: Any, array2: Any) -> Any:
    """The dot product of two 1-D arrays of the same length.

    Args:
        array1: The first 1-D array.
        array2: The second 1-D array.
    """
    a, b = _as_array(array1, "array1"), _as_array(array2, "array2")
    if a.ndim != 1 or a.shape != b.shape:
        raise InvalidArgumentError(
            f"the arrays must be 1-D of one length, got {list(a.shape)} and {list(b.shape)}."
        )
    out = run_kernel("dot", [a, b], (), "the arrays differ in length.")
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return int(out)
    return float(out)


# -- reshaping --------------------------------------------------------------------------------


@algorithm("Array.reshape")
def reshape(array: Any, shape: Any) -> ArrayValue:
    """Reshapes an array (row-major order) to new axis lengths; one length may be -1, taken
    so that the number of elements is unchanged ([-1] flattens).

    Args:
        array: The array.
        shape: A 1-D array of the new lengths.
    """
    data, lengths = _as_array(array, "array"), _as_array(shape, "shape")
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths == -1).sum() > 1:
        raise InvalidArgumentError("shape must be a 1-D array of integers with at most one -1.")
    out = run_kernel(
        "reshape", [data, lengths], (lengths.size,),
        f"cannot reshape an array of shape {list(data.shape)} to {lengths.tolist()}.",
    )  # fmt: skip
    return wrap(out, data.dtype)


@algorithm("Array.project")
def project(array: Any, axes: list[int]) -> ArrayValue:
    """Keeps only the given axes, in that order; every other axis must have length 1.

    Args:
        array: The array.
        axes: The axes to keep.
    """
    data = _as_array(array, "array")
    for a in axes:
        _axis(a, data.ndim)
    if not axes or len(set(axes)) != len(axes):
        raise InvalidArgumentError(f"invalid axes {list(axes)}.")
    failure = f"the axes dropped from shape {list(data.shape)} must have length 1."
    return wrap(run_kernel("project", [data], (tuple(axes),), failure), data.dtype)


def _transpose(array: Any, axis1: int, axis2: int) -> ArrayValue:
    data = _as_array(array, "array")
    _axis(axis1, data.ndim, "axis1")
    _axis(axis2, data.ndim, "axis2")
    return wrap(run_kernel("transpose", [data], (axis1, axis2), "cannot transpose."), data.dtype)


@algorithm("Array.transpose")
def transpose(array: Any, axis1: int = 0, axis2: int = 1) -> ArrayValue:
    """Swaps two axes of an array.

    Args:
        array: The array.
        axis1: The first axis.
        axis2: The second axis.
    """
    return _transpose(array, axis1, axis2)


@algorithm("Array.matrixTranspose")
def matrix_transpose(array: Any, axis1: int = 0, axis2: int = 1) -> ArrayValue:
    """Swaps two axes of an array (the rows and columns of a matrix by default).

    Args:
        array: The array.
        axis1: The first axis.
        axis2: The second axis.
    """
    return _transpose(array, axis1, axis2)


@algorithm("Array.mask")
def mask(input: Any, mask: Any) -> ArrayValue:
    """Keeps the elements where the mask is non-zero. The mask may have more than one
    element along a single axis, the axis filtered; its other axes have length 1.

    Args:
        input: The array.
        mask: The mask array.
    """
    data, keep = _as_array(input, "input"), _as_array(mask, "mask")
    if keep.size == 0 and data.size == 0:
        return wrap(data)
    if keep.ndim != data.ndim:
        raise InvalidArgumentError(f"the mask has {keep.ndim} dimensions, the array {data.ndim}.")
    out = run_kernel("mask", [data, keep], (), "the mask does not match the array.")
    return wrap(out, data.dtype)


@algorithm("Array.sort")
def sort(array: Any, keys: Any = None) -> ArrayValue:
    """Sorts an array along one axis by its own values or by keys (a stable sort); the keys
    may have more than one element along a single axis, the axis sorted.

    Args:
        array: The array.
        keys: The keys to sort by. Default: the values themselves (then 1-D).
    """
    data = _as_array(array, "array")
    inputs = [data] if keys is None else [data, _as_array(keys, "keys")]
    if inputs[-1].ndim != data.ndim:
        raise InvalidArgumentError("the keys must have the array's number of dimensions.")
    failure = "the keys must vary along one axis only, as long as the array's."
    return wrap(run_kernel("sort", inputs, (), failure), data.dtype)


# -- reducing ---------------------------------------------------------------------------------


@algorithm("Array.reduce")
def reduce(
    array: Any, reducer: Reducer, axes: list[int], fieldAxis: int | None = None
) -> ArrayValue:
    """Reduces an array along the given axes, which keep length 1. A reducer with several
    outputs (minMax, percentile, a combined one) lays them out along `fieldAxis`, an axis of
    length 1 in the input.

    Args:
        array: The array.
        reducer: mean, sum, min, max, minMax, median, percentile, product, count, stdDev,
            variance (and their sample forms), first, last, or a combination of them.
        axes: The axes to reduce.
        fieldAxis: The axis for the outputs of a reducer with several.
    """
    data = _as_array(array, "array")
    outputs = axis_outputs(reducer)
    for a in axes:
        _axis(a, data.ndim)
    if len(outputs) > 1:
        if fieldAxis is None:
            raise InvalidArgumentError("a reducer with several outputs needs a fieldAxis.")
        _axis(fieldAxis, data.ndim, "fieldAxis")
    failure = (
        "cannot reduce an empty axis" if data.size == 0 else "the fieldAxis must have length 1."
    )
    out = run_kernel("reduce", [data], (outputs, tuple(axes), fieldAxis or 0), failure)
    keeps_type = all(isinstance(o, str) and keeps_integers(o) for o in outputs)
    return wrap(_int_result(out, data) if keeps_type else out)


@algorithm("Array.accum")
def accum(array: Any, axis: int, reducer: Reducer | None = None) -> ArrayValue:
    """Accumulates along an axis: element i is the reduction of elements 0..i (a running sum
    by default).

    Args:
        array: The array.
        axis: The axis to accumulate along.
        reducer: sum (default), product, min, max, mean or count.
    """
    data = _as_array(array, "array")
    _axis(axis, data.ndim)
    name = (
        default(Context.ARRAY_ACCUM)
        if reducer is None
        else require(reducer, Context.ARRAY_ACCUM).name
    )
    out = run_kernel("accum", [data], (axis, name), "cannot accumulate.")
    return wrap(_int_result(out, data) if keeps_integers(name) else out)
