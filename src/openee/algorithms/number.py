"""Number: arithmetic, comparison and math, generated from operator tables."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError

Num = int | float


def _divide(a: Num, b: Num) -> Num:
    # Earth Engine's integer division by zero gives 0, float division by zero inf/nan.
    if b == 0:
        return (
            0
            if isinstance(a, int) and isinstance(b, int)
            else math.copysign(math.inf, a)
            if a
            else math.nan
        )
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    return a / b


def _mod(a: Num, b: Num) -> Num:
    if b == 0:
        return 0 if isinstance(a, int) and isinstance(b, int) else math.nan
    return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b))


BINARY: dict[str, tuple[Callable[[Num, Num], Num], str]] = {
    "add": (operator.add, "Adds the first value to the second."),
    "subtract": (operator.sub, "Subtracts the second value from the first."),
    "multiply": (operator.mul, "Multiplies the first value by the second."),
    "divide": (_divide, "Divides the first value by the second; integer division truncates."),
    "max": (max, "Selects the maximum of the first and second values."),
    "min": (min, "Selects the minimum of the first and second values."),
    "pow": (lambda a, b: math.pow(a, b), "Raises the first value to the power of the second."),
    "mod": (_mod, "Remainder of the first value divided by the second (sign of the first)."),
    "eq": (lambda a, b: int(a == b), "Returns 1 if the first value equals the second."),
    "neq": (lambda a, b: int(a != b), "Returns 1 if the first value differs from the second."),
    "lt": (lambda a, b: int(a < b), "Returns 1 if the first value is less than the second."),
    "lte": (lambda a, b: int(a <= b), "Returns 1 if the first value is at most the second."),
    "gt": (lambda a, b: int(a > b), "Returns 1 if the first value is greater than the second."),
    "gte": (lambda a, b: int(a >= b), "Returns 1 if the first value is at least the second."),
    "and": (lambda a, b: int(bool(a) and bool(b)), "Returns 1 if both values are non-zero."),
    "or": (lambda a, b: int(bool(a) or bool(b)), "Returns 1 if either value is non-zero."),
}


def _log(x: Num) -> Num:
    if x <= 0:
        return -math.inf if x == 0 else math.nan
    return math.log(x)


UNARY: dict[str, tuple[Callable[[Num], Num], str]] = {
    "not": (lambda x: int(not x), "Returns 0 if the input is non-zero, and 1 otherwise."),
    "abs": (abs, "Computes the absolute value of the input."),
    "sqrt": (lambda x: math.sqrt(x) if x >= 0 else math.nan, "Computes the square root."),
    "round": (lambda x: math.floor(x + 0.5), "Rounds to the nearest integer, halves up."),
    "floor": (math.floor, "Computes the largest integer not greater than the input."),
    "ceil": (math.ceil, "Computes the smallest integer not less than the input."),
    "int": (lambda x: int(x), "Casts the input to a signed 32-bit integer (truncating)."),
    "toInt": (lambda x: int(x), "Casts the input to a signed 32-bit integer (truncating)."),
    "float": (float, "Casts the input to a 32-bit float."),
    "toFloat": (float, "Casts the input to a 32-bit float."),
    "exp": (math.exp, "Computes Euler's number e raised to the power of the input."),
    "log": (_log, "Computes the natural logarithm of the input."),
    "log10": (lambda x: _log(x) / math.log(10), "Computes the base-10 logarithm of the input."),
}


def _register_binary(name: str, op: Callable[[Num, Num], Num], doc: str) -> None:
    def binary(left: Num, right: Num) -> Num:
        try:
            return op(left, right)
        except (OverflowError, ValueError) as exc:
            raise InvalidArgumentError(f"Arithmetic error: {exc}.") from None

    binary.__doc__ = (
        f"{doc}\n\nArgs:\n    left: The left-hand value.\n    right: The right-hand value.\n"
    )
    algorithm(f"Number.{name}")(binary)


def _register_unary(name: str, op: Callable[[Num], Num], doc: str) -> None:
    def unary(input: Num) -> Num:
        try:
            return op(input)
        except (OverflowError, ValueError) as exc:
            raise InvalidArgumentError(f"Arithmetic error: {exc}.") from None

    unary.__doc__ = f"{doc}\n\nArgs:\n    input: The input value.\n"
    algorithm(f"Number.{name}")(unary)


for _name, (_binary, _doc) in BINARY.items():
    _register_binary(_name, _binary, _doc)
for _name, (_unary, _doc) in UNARY.items():
    _register_unary(_name, _unary, _doc)


@algorithm("Number.format")
def number_format(number: Num, pattern: str = "%s") -> str:
    """Converts a number to a string using printf-style formatting.

    Args:
        number: The number to convert.
        pattern: A printf-style format string, e.g. '%.2f' or '%d'.
    """
    try:
        return pattern % number
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"Invalid format pattern '{pattern}'.") from None
