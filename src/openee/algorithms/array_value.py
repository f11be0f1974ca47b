"""ee.Array values: a rectangular nested list of numbers with a numpy element type. The
constructor, eigen and slice are here; structure and matrix algebra are in array_structure and
array_matrix, element-wise math in array_math.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openee.algorithms.array_eigen import symmetric_eigen
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError


@dataclass(frozen=True)
class ArrayValue:
    """An Earth Engine Array: the values as nested tuples, and their numpy type."""

    values: tuple[Any, ...]
    dtype_name: str

    def array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=self.dtype_name)

    def info(self) -> Any:
        return self.array().tolist()


def _nested(value: np.ndarray) -> tuple[Any, ...]:
    return tuple(_nested(v) if isinstance(v, np.ndarray) else v.item() for v in value)


def _plain(values: Any) -> Any:
    """Nested lists of numbers from a value that may hold Arrays (ee.Array of ee.Arrays)."""
    if isinstance(values, ArrayValue):
        return values.array().tolist()
    if isinstance(values, list | tuple):
        return [_plain(v) for v in values]
    return values


@algorithm("Array")
def array(values: Any, pixelType: Any = None) -> ArrayValue:
    """Makes an array from a number or a rectangular nested list of numbers (or of arrays).

    Args:
        values: A number or a (nested) list of numbers; every row of an axis the same length.
        pixelType: The type of the elements (ee.PixelType.int8(), ...). Default: integers
            stay integers and anything else is double.
    """
    try:
        data = np.array(_plain(values))
    except ValueError:
        data = np.array(0, dtype=object)  # ragged: refused below
    if data.size == 0 and data.dtype == np.float64:
        data = data.astype(np.int64)  # an empty list has no elements to make it double
    if data.dtype.kind not in "iuf" or data.dtype == np.bool_:
        raise InvalidArgumentError(
            "the values must be a number or a rectangular nested list of numbers."
        )
    dtype = "int64" if data.dtype.kind in "iu" else "float64"
    if pixelType is not None:
        dtype = pixelType.dtype().name
        if pixelType.dimensions and data.ndim != pixelType.dimensions:
            raise InvalidArgumentError(
                f"the values have {data.ndim} dimensions, the pixelType {pixelType.dimensions}."
            )
    if pixelType is not None:
        from openee.algorithms.array_math import cast  # it builds on this module

        data = cast(data, np.dtype(dtype))  # as Array.int8 & co: half up, saturated
    data = data.astype(dtype)
    if data.ndim == 0:
        data = data.reshape(1)
    return ArrayValue(_nested(data), dtype)


def _as_array(value: Any, what: str) -> np.ndarray:
    """An Array argument (a list or number is promoted, as Earth Engine does)."""
    if isinstance(value, ArrayValue):
        return value.array()
    return array(value).array()


def _value(data: np.ndarray) -> ArrayValue:
    dtype = "int64" if data.dtype.kind in "iub" else "float64"
    return ArrayValue(_nested(data.astype(dtype)), dtype)


@algorithm("Array.eigen")
def array_eigen(input: Any) -> ArrayValue:
    """The real eigenvalues and eigenvectors of a square matrix: one row per eigenvalue, in
    descending order, holding the eigenvalue and then its unit eigenvector.

    Args:
        input: A square 2-D array with real eigenvalues (a covariance matrix, for instance).
    """
    matrix = _as_array(input, "input").astype(np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidArgumentError(f"the array must be a square matrix, got shape {matrix.shape}.")
    if not np.isfinite(matrix).all():
        raise InvalidArgumentError("the matrix has values that are not finite.")
    if matrix.size == 0:
        return _value(np.zeros((0, 1)))
    if (matrix == matrix.T).all() and len(matrix) <= 64:
        values, vectors = symmetric_eigen(matrix)  # Earth Engine's signs (array_eigen)
    elif (matrix == matrix.T).all():  # JAMA's loops are Python: LAPACK for large matrices
        values, vectors = np.linalg.eigh(matrix)
    else:
        values, vectors = np.linalg.eig(matrix)
        if np.iscomplexobj(values) and np.abs(values.imag).max() > 1e-12:
            raise InvalidArgumentError("the matrix has complex eigenvalues.")
        values, vectors = values.real, vectors.real
    order = np.argsort(-values, kind="stable")
    return _value(np.column_stack([values[order], vectors[:, order].T]))


@algorithm("Array.slice")
def array_slice(
    array: Any, axis: int = 0, start: int = 0, end: int | None = None, step: int = 1
) -> ArrayValue:
    """A subarray along one axis, from start (inclusive) to end (exclusive) by step; negative
    start or end count from the end of the axis.

    Args:
        array: The array.
        axis: The axis to slice.
        start: The first index.
        end: The index after the last. Default: the axis length.
        step: The step between indices (positive).
    """
    data = _as_array(array, "array")
    if not 0 <= axis < data.ndim:
        raise InvalidArgumentError(f"axis {axis} is out of range for a {data.ndim}-D array.")
    if step < 1:
        raise InvalidArgumentError(f"step must be positive, got {step}.")
    index: list[slice] = [slice(None)] * data.ndim
    index[axis] = slice(start, end, step)
    return _value(data[tuple(index)])
