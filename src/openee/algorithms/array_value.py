"""ee.Array constants: a rectangular nested list of numbers, as `ee.Image(ee.Array(...))` needs
to make a constant array image (the tasseled-cap idiom). Array arithmetic is not served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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


@algorithm("Array")
def array(values: Any, pixelType: Any = None) -> ArrayValue:
    """Makes an array from a number or a rectangular nested list of numbers.

    Args:
        values: A number or a (nested) list of numbers; every row of an axis the same length.
        pixelType: Accepted for compatibility; integers stay integers and anything else is
            double.
    """
    try:
        data = np.array(values)
    except ValueError:
        data = np.array(0, dtype=object)  # ragged: refused below
    if data.dtype.kind not in "iuf" or data.dtype == np.bool_:
        raise InvalidArgumentError(
            "the values must be a number or a rectangular nested list of numbers."
        )
    dtype = "int64" if data.dtype.kind in "iu" else "float64"
    data = data.astype(dtype)
    if data.ndim == 0:
        data = data.reshape(1)
    return ArrayValue(_nested(data), dtype)
