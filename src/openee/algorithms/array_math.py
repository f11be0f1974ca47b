"""Element-wise Array algorithms: unary math, binary operators, casts, and Array.bitsToArray.

The family is Number's: every operator of Number's tables (`openee.algorithms.number`) is also
served as `Array.<name>`, and its numpy kernel is the one Image band math uses
(`openee.raster.bandmath`), so each operator's math is written once. What is Array's own is stated
here, from Earth Engine's Array samples (ADR 0026):

- Types: integer arrays compute in 64 bits; an operator that gives fractions (divide, pow, atan2,
  hypot, gammainc, sqrt, log, ...) gives a 32-bit float from integer or 32-bit float inputs and a
  64-bit float when an input is 64-bit float (ee_array_pow: 10 ** -1 of integers is
  0.10000000149011612). Comparisons and logical operators give 0/1 in uint8.
- Division by zero gives 0, for integers and floats alike (Array.divide's documentation); mod is
  the truncated remainder, with the sign of the dividend (ee_array_mod), and mod 0 gives 0.
- Integer casts round half up and saturate at the type's bounds; NaN casts to 0 (ee_array_byte).
- Bitwise operators work on 64-bit two's complement; floats truncate first, as for Number.
- Shapes: equal shapes pair element by element; an operand of one element (a number, which the
  client sends as a one-element Array) applies to every element of the other; arrays of the same
  rank pair a length-1 axis with any length (numpy broadcasting). Anything else is an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from openee.algorithms import number
from openee.algorithms.array_value import ArrayValue, array
from openee.algorithms.registry import algorithm, ee_signatures
from openee.errors import InvalidArgumentError
from openee.raster.bandmath import ARITHMETIC, BITWISE, COMPARISONS, FLOAT_UNARY, SAME_TYPE_UNARY
from openee.raster.special import bit_count
from openee.values.size import MAX_ELEMENTS, ValueTooLargeError

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
I64 = np.dtype(np.int64)
U8 = np.dtype(np.uint8)

# Operators whose result is a fraction even from integers.
FLOATING = frozenset({"divide", "pow", "atan2", "hypot", "gammainc"})

# The wheel's descriptions where Array's behaviour differs from Number's wording.
DOCS = {
    "divide": "Divides the first value by the second, returning 0 for division by 0.",
    "mod": "Calculates the remainder of the first value divided by the second (sign of the "
    "first); the remainder of a division by 0 is 0.",
    "pow": "Raises the first value to the power of the second; integers give a 32-bit float.",
}


def operand(value: Any) -> np.ndarray:
    """An Array argument as numpy (a number or nested list is promoted, as Earth Engine does)."""
    if isinstance(value, ArrayValue):
        return value.array()
    return array(value).array()


def result(data: np.ndarray) -> ArrayValue:
    """An ArrayValue holding `data` with its numpy type (a 32-bit float stays one)."""
    return ArrayValue(_frozen(data.tolist()), data.dtype.name)


def _frozen(values: Any) -> Any:
    return tuple(_frozen(v) for v in values) if isinstance(values, list) else values


def float_type(*dtypes: np.dtype) -> np.dtype:
    """The float type of a fractional result: 64-bit if an input is, 32-bit otherwise."""
    return F64 if any(d == F64 for d in dtypes) else F32


def broadcast(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two operands on one shape, by the rules of the module docstring."""
    if left.shape == right.shape:
        return left, right
    if left.size == 1 or right.size == 1:
        if left.size == right.size:  # two single elements: the result has the larger rank
            shape = max(left.shape, right.shape, key=len)
        else:
            shape = right.shape if left.size == 1 else left.shape
        return (
            np.broadcast_to(left.reshape(-1)[0] if left.size == 1 else left, shape),
            np.broadcast_to(right.reshape(-1)[0] if right.size == 1 else right, shape),
        )
    if left.ndim == right.ndim:
        try:
            shape = np.broadcast_shapes(left.shape, right.shape)
        except ValueError:
            pass
        else:
            if math.prod(shape) > MAX_ELEMENTS:  # a row against a column: sizes multiply
                raise ValueTooLargeError(math.prod(shape))
            return np.broadcast_to(left, shape), np.broadcast_to(right, shape)
    raise InvalidArgumentError(
        f"Incompatible array shapes: {list(left.shape)} vs. {list(right.shape)}."
    )


def as_int64(data: np.ndarray) -> np.ndarray:
    """Values as 64-bit integers for the bitwise operators: floats truncate, NaN is 0."""
    if data.dtype.kind == "f":
        data = np.trunc(np.nan_to_num(data, nan=0.0)).clip(-(2.0**63), 2.0**63 - 1024)
    return data.astype(I64)


# -- binary -----------------------------------------------------------------------------------


def apply_binary(name: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Earth Engine's `Array.<name>` of two broadcast operands."""
    a, b = broadcast(left, right)
    floats = a.dtype.kind == "f" or b.dtype.kind == "f"
    with np.errstate(all="ignore"):
        if name in COMPARISONS:
            work = F64 if floats else I64
            return np.asarray(COMPARISONS[name](a.astype(work), b.astype(work))).astype(U8)
        if name in BITWISE:
            x, y = as_int64(a), as_int64(b)
            if name in ("leftShift", "rightShift"):
                y = y.clip(0, 64)  # as Number's: a negative shift is none, 64 or more is all
            return np.asarray(BITWISE[name](x, y)).astype(I64)
        if name == "first":
            return a.copy()
        out = float_type(a.dtype, b.dtype) if floats or name in FLOATING else I64
        work = F64 if out.kind == "f" else I64
        return np.asarray(ARITHMETIC[name](a.astype(work), b.astype(work))).astype(out)


def _register_binary(name: str, kernel: str, doc: str) -> None:
    def binary(left: Any, right: Any) -> ArrayValue:
        return result(apply_binary(kernel, operand(left), operand(right)))

    binary.__doc__ = (
        f"On an element-wise basis, {doc[0].lower()}{doc[1:]}\n\n"
        "Args:\n    left: The left-hand value.\n    right: The right-hand value.\n"
    )
    algorithm(f"Array.{name}")(binary)


# -- unary ------------------------------------------------------------------------------------

# Integer casts: the type each Number cast name stands for.
CAST_TYPES: dict[str, np.dtype] = {
    name: np.dtype(t)
    for name, t in (
        ("int8", np.int8),
        ("uint8", np.uint8),
        ("byte", np.uint8),
        ("int16", np.int16),
        ("short", np.int16),
        ("uint16", np.uint16),
        ("int", np.int32),
        ("int32", np.int32),
        ("uint32", np.uint32),
        ("int64", np.int64),
        ("long", np.int64),
    )
}
FLOAT_CASTS: dict[str, np.dtype] = {"float": F32, "toFloat": F32, "double": F64, "toDouble": F64}


def cast(data: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Rounds half up and saturates at the bounds of integer `dtype` (ee_array_byte)."""
    if dtype.kind == "f":
        return data.astype(dtype)
    info = np.iinfo(dtype)
    if data.dtype.kind == "f":
        rounded = np.floor(np.nan_to_num(data, nan=0.0) + 0.5)
        # A float cannot hold int64's maximum (it rounds to 2**63): saturate those apart.
        high = rounded >= float(info.max)
        out = np.where(high, 0, rounded).clip(info.min, info.max).astype(dtype)
        out[high] = info.max
        return out
    return data.astype(I64).clip(info.min, info.max).astype(dtype)


def _cast_type(name: str) -> np.dtype | None:
    if name in FLOAT_CASTS:
        return FLOAT_CASTS[name]
    base = name[2].lower() + name[3:] if name.startswith("to") else name
    return CAST_TYPES.get(base)


def apply_unary(name: str, data: np.ndarray) -> np.ndarray:
    """Earth Engine's `Array.<name>` of one operand."""
    target = _cast_type(name)
    with np.errstate(all="ignore"):
        if target is not None:
            return cast(data, target)
        if name == "not":
            return (data == 0).astype(U8)
        if name == "bitwiseNot":
            return np.invert(as_int64(data))
        if name == "bitCount":
            return bit_count(data)
        if name in FLOAT_UNARY:
            return np.asarray(FLOAT_UNARY[name](data.astype(F64))).astype(float_type(data.dtype))
        return np.asarray(SAME_TYPE_UNARY[name](data)).astype(data.dtype)


UNARY_KERNELS = frozenset({"not", "bitwiseNot", "bitCount", *FLOAT_UNARY, *SAME_TYPE_UNARY})


def _register_unary(name: str, kernel: str, doc: str) -> None:
    def unary(input: Any) -> ArrayValue:
        return result(apply_unary(kernel, operand(input)))

    text = doc[0].lower() + doc[1:]
    unary.__doc__ = f"On an element-wise basis, {text}\n\nArgs:\n    input: The input array.\n"
    algorithm(f"Array.{name}")(unary)


def _doc(name: str, table: dict[str, tuple[Callable[..., Any], str]]) -> str:
    if name in DOCS:
        return DOCS[name]
    if (target := _cast_type(name)) is not None and target.kind in "iu":
        return f"Casts the input to {target.name}, rounding half up; out-of-range values saturate."
    return table[name][1]


def _register_all() -> None:
    served = ee_signatures()
    kernels = {*COMPARISONS, *ARITHMETIC, *BITWISE}
    for name in number.BINARY:
        if f"Array.{name}" not in served:  # xor: only the expression languages have it
            continue
        if name not in kernels:
            raise RuntimeError(f"Array.{name}: no element-wise kernel")  # caught at import
        _register_binary(name, name, _doc(name, number.BINARY))
    for name in number.UNARY:
        if _cast_type(name) is None and name not in UNARY_KERNELS:
            raise RuntimeError(f"Array.{name}: no element-wise kernel")  # caught at import
        _register_unary(name, name, _doc(name, number.UNARY))
    for alias, name in number.ALIASES.items():
        if f"Array.{alias}" not in served:
            continue
        if name in number.BINARY:
            _register_binary(alias, name, _doc(name, number.BINARY))
        else:
            _register_unary(alias, name, _doc(name, number.UNARY))


_register_all()


@algorithm("Array.bitsToArray")
def bits_to_array(input: int | float) -> ArrayValue:
    """Converts the bits of an integer to an array, lowest bit first: as many elements as the
    position of the highest set bit (64 for a negative number, in two's complement), or a single
    0 for 0.

    Args:
        input: The integer to transform (a float truncates).
    """
    bits = int(as_int64(np.asarray([input]))[0]) & ((1 << 64) - 1)
    width = max(bits.bit_length(), 1)
    return result(((np.uint64(bits) >> np.arange(width, dtype=np.uint64)) & 1).astype(U8))
