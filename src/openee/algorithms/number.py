"""Number: arithmetic, comparison and math, generated from operator tables."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from openee.algorithms import special
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError

Num = int | float


def _divide(a: Num, b: Num) -> Num:
    # Number arithmetic is floating point (Earth Engine documents 5 / 10 = 0.5) and division
    # by zero gives 0 (10 / 0 = 0); see docs/decisions/0022.
    return 0 if b == 0 else a / b


def _pow(a: Num, b: Num) -> float:
    # IEEE pow, as Earth Engine's (its Array.pow sample: 0 ** -1 is Infinity, 2 ** -2 is 0.25):
    # no error for a zero base with a negative exponent or a negative base with a fraction.
    with np.errstate(all="ignore"):
        return float(np.power(np.float64(a), np.float64(b)))


def _bits(x: Num) -> int:
    """A number as a 64-bit integer for the bitwise operators (floats truncate)."""
    if isinstance(x, float):
        if not math.isfinite(x):
            raise InvalidArgumentError("Bitwise operators need finite numbers.")
        x = int(x)
    return _wrap64(x)


def _wrap64(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


def _mod(a: Num, b: Num) -> Num:
    if b == 0:
        return 0 if isinstance(a, int) and isinstance(b, int) else math.nan
    return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b))


BINARY: dict[str, tuple[Callable[[Num, Num], Num], str]] = {
    "add": (operator.add, "Adds the first value to the second."),
    "subtract": (operator.sub, "Subtracts the second value from the first."),
    "multiply": (operator.mul, "Multiplies the first value by the second."),
    "divide": (_divide, "Divides the first value by the second, returning 0 for division by 0."),
    "max": (max, "Selects the maximum of the first and second values."),
    "min": (min, "Selects the minimum of the first and second values."),
    "pow": (_pow, "Raises the first value to the power of the second."),
    "mod": (_mod, "Remainder of the first value divided by the second (sign of the first)."),
    "eq": (lambda a, b: int(a == b), "Returns 1 if the first value equals the second."),
    "neq": (lambda a, b: int(a != b), "Returns 1 if the first value differs from the second."),
    "lt": (lambda a, b: int(a < b), "Returns 1 if the first value is less than the second."),
    "lte": (lambda a, b: int(a <= b), "Returns 1 if the first value is at most the second."),
    "gt": (lambda a, b: int(a > b), "Returns 1 if the first value is greater than the second."),
    "gte": (lambda a, b: int(a >= b), "Returns 1 if the first value is at least the second."),
    "and": (lambda a, b: int(bool(a) and bool(b)), "Returns 1 if both values are non-zero."),
    "or": (lambda a, b: int(bool(a) or bool(b)), "Returns 1 if either value is non-zero."),
    "first": (lambda a, b: a, "Selects the value of the first value."),
    "firstNonZero": (
        lambda a, b: a if a else b,
        "Selects the first value if it is non-zero, and the second value otherwise.",
    ),
    # x is the left operand, y the right one (ee_number_atan2: Number(1).atan2(0) is 0).
    "atan2": (
        lambda left, right: math.atan2(right, left),
        "Calculates the angle formed by the 2D vector [x, y] (x=left, y=right).",
    ),
    "hypot": (math.hypot, "Calculates the magnitude of the 2D vector [x, y]."),
    "bitwiseAnd": (lambda a, b: _bits(a) & _bits(b), "Calculates the bitwise AND of the values."),
    "bitwiseOr": (lambda a, b: _bits(a) | _bits(b), "Calculates the bitwise OR of the values."),
    "bitwiseXor": (lambda a, b: _bits(a) ^ _bits(b), "Calculates the bitwise XOR of the values."),
    "leftShift": (
        lambda a, b: _wrap64(_bits(a) << max(0, min(_bits(b), 64))),
        "Calculates the left shift of the first value by the second (64-bit).",
    ),
    "rightShift": (
        lambda a, b: _bits(a) >> max(0, min(_bits(b), 64)),
        "Calculates the signed right shift of the first value by the second.",
    ),
    "gammainc": (
        # Earth Engine's gamma(x, a): the left value is x, the right one a (ee_number_gammainc.py).
        lambda x, a: special.gammainc(a, x),
        "Calculates the regularized lower incomplete gamma function P(a=right, x=left).",
    ),
}

# Earth Engine's snake_case aliases of some binary operators (hidden in its algorithm list).
ALIASES = {
    "first_nonzero": "firstNonZero",
    "bitwise_and": "bitwiseAnd",
    "bitwise_or": "bitwiseOr",
    "bitwise_xor": "bitwiseXor",
    "left_shift": "leftShift",
    "right_shift": "rightShift",
    "bitwise_not": "bitwiseNot",
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
    "float": (float, "Casts the input to a 32-bit float."),
    "toFloat": (float, "Casts the input to a 32-bit float."),
    "exp": (math.exp, "Computes Euler's number e raised to the power of the input."),
    "log": (_log, "Computes the natural logarithm of the input."),
    "log10": (lambda x: _log(x) / math.log(10), "Computes the base-10 logarithm of the input."),
    "bitwiseNot": (lambda x: ~_bits(x), "Calculates the bitwise NOT of the input."),
    "bitCount": (
        lambda x: bin(_bits(x) & ((1 << 64) - 1)).count("1"),
        "Counts the one bits in the 64-bit two's complement representation of the input.",
    ),
    "sin": (lambda x: _real(math.sin, x), "Computes the sine of the input in radians."),
    "cos": (lambda x: _real(math.cos, x), "Computes the cosine of the input in radians."),
    "tan": (lambda x: _real(math.tan, x), "Computes the tangent of the input in radians."),
    "asin": (lambda x: _real(math.asin, x), "Computes the arc sine in radians of the input."),
    "acos": (lambda x: _real(math.acos, x), "Computes the arc cosine in radians of the input."),
    "atan": (math.atan, "Computes the arc tangent in radians of the input."),
    "sinh": (lambda x: _real(math.sinh, x), "Computes the hyperbolic sine of the input."),
    "cosh": (lambda x: _real(math.cosh, x), "Computes the hyperbolic cosine of the input."),
    "tanh": (math.tanh, "Computes the hyperbolic tangent of the input."),
    "cbrt": (math.cbrt, "Computes the cubic root of the input."),
    "gamma": (lambda x: _real(math.gamma, x), "Computes the gamma function of the input."),
    "digamma": (special.digamma, "Computes the digamma function of the input."),
    "trigamma": (special.trigamma, "Computes the trigamma function of the input."),
    "erf": (math.erf, "Computes the error function of the input."),
    "erfc": (math.erfc, "Computes the complementary error function of the input."),
    "erfInv": (special.erfinv, "Computes the inverse error function of the input."),
    "erfcInv": (special.erfcinv, "Computes the inverse complementary error function of the input."),
    "lanczos": (special.lanczos, "Computes the Lanczos approximation (sum) of the input."),
    "signum": (
        lambda x: type(x)((x > 0) - (x < 0)) if x == x else x,
        "Computes the signum function (sign) of the input: -1, 0 or 1.",
    ),
    "double": (float, "Casts the input value to a 64-bit float."),
    "toDouble": (float, "Casts the input value to a 64-bit float."),
}

# Integer casts saturate: a value out of range becomes the nearest bound (floats truncate first).
INT_CASTS: dict[str, tuple[int, int, str]] = {
    "int8": (-(2**7), 2**7 - 1, "a signed 8-bit integer"),
    "uint8": (0, 2**8 - 1, "an unsigned 8-bit integer"),
    "byte": (0, 2**8 - 1, "an unsigned 8-bit integer"),
    "int16": (-(2**15), 2**15 - 1, "a signed 16-bit integer"),
    "short": (-(2**15), 2**15 - 1, "a signed 16-bit integer"),
    "uint16": (0, 2**16 - 1, "an unsigned 16-bit integer"),
    "int": (-(2**31), 2**31 - 1, "a signed 32-bit integer"),
    "int32": (-(2**31), 2**31 - 1, "a signed 32-bit integer"),
    "uint32": (0, 2**32 - 1, "an unsigned 32-bit integer"),
    "int64": (-(2**63), 2**63 - 1, "a signed 64-bit integer"),
    "long": (-(2**63), 2**63 - 1, "a signed 64-bit integer"),
}


def _real(fn: Callable[[float], float], x: Num) -> float:
    """fn(x), or NaN outside its domain (Earth Engine answers NaN, not an error)."""
    try:
        return fn(x)
    except ValueError:
        return math.nan
    except OverflowError:
        return math.inf


def _saturate(low: int, high: int) -> Callable[[Num], Num]:
    def cast(x: Num) -> Num:
        if isinstance(x, float):
            if math.isnan(x):
                return 0
            if math.isinf(x):
                return high if x > 0 else low
        return max(low, min(high, int(x)))

    return cast


for _cast, (_low, _high, _what) in INT_CASTS.items():
    _doc = f"Casts the input value to {_what}; out-of-range values saturate."
    UNARY[_cast] = (_saturate(_low, _high), _doc)
    UNARY["to" + _cast[0].upper() + _cast[1:]] = (_saturate(_low, _high), _doc)


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
for _alias, _name in ALIASES.items():
    if _name in BINARY:
        _register_binary(_alias, *BINARY[_name])
    else:
        _register_unary(_alias, *UNARY[_name])

# The expression languages' `^` is a logical xor (Earth Engine lists it with && || ! among the
# logical operators); added after registration because Earth Engine has no Number.xor algorithm.
BINARY["xor"] = (
    lambda a, b: int(bool(a) != bool(b)),
    "Returns 1 if exactly one value is non-zero.",
)


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


@algorithm("Number.clamp")
def clamp(number: Num, min: float, max: float) -> Num:
    """Clamps the value to lie between min and max.

    Args:
        number: The number to clamp.
        min: The minimum to clamp to.
        max: The maximum to clamp to.
    """
    return min if number < min else max if number > max else number


@algorithm("Number.unitScale")
def unit_scale(number: Num, min: float, max: float) -> Num:
    """Scales the input so that [min, max] becomes [0, 1]; values outside are not clamped.

    Args:
        number: The number to scale.
        min: The value mapped to 0.
        max: The value mapped to 1.
    """
    if max == min:
        return math.nan
    return (number - min) / (max - min)


@algorithm("Number.parse")
def parse(input: str, radix: int = 10) -> Num:
    """Converts a string to a number.

    Args:
        input: The string to convert.
        radix: An integer from 2 to 36 for integer strings; 10 also accepts decimals.
    """
    text = input.strip()
    if not 2 <= radix <= 36:
        raise InvalidArgumentError(f"Invalid radix {radix}: it must be from 2 to 36.")
    try:
        if radix == 10:
            try:
                return int(text)
            except ValueError:
                return float(text)
        return int(text, radix)
    except ValueError:
        raise InvalidArgumentError(f"Unable to convert '{input[:100]}' to a number.") from None


@algorithm("Number.expression")
def expression(expression: str, vars: dict[str, Any] | None = None) -> Num:
    """Computes a numeric expression, e.g. 'a * 2 + max(b, 3)', with variables from vars.

    Args:
        expression: The expression: numbers, variables, the operators of Image.expression
            (** * / % + - << >> < <= > >= == != & ^ | && || ! ~ and ?:), and the unary
            Number functions (abs, sqrt, sin, ..., plus min, max, pow, atan2, hypot).
        vars: The values of the variables; a dictionary variable's fields are read with
            'name.field' or "name['field']".
    """
    from openee.algorithms.expression import Parser  # the shared expression grammar

    tree = Parser(expression).parse()
    result = _evaluate(tree, vars or {})
    if not isinstance(result, int | float):
        raise InvalidArgumentError("Number.expression: the expression is not a number.")
    return result


def _evaluate(node: tuple[Any, ...], env: dict[str, Any]) -> Any:
    kind = node[0]
    if kind in ("number", "string"):
        return node[1]
    if kind == "name":
        if node[1] in env:
            return env[node[1]]
        if node[1] in ("PI", "E"):
            return math.pi if node[1] == "PI" else math.e
        if node[1] == "Math":  # JavaScript's Math.PI and Math.E (ee_number_expression.py)
            return {"PI": math.pi, "E": math.e}
        raise InvalidArgumentError(f"Number.expression: unknown variable '{node[1]}'.")
    if kind == "select":
        container, key = _evaluate(node[1], env), _evaluate(node[2], env)
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            raise InvalidArgumentError(f"Number.expression: cannot select '{key}'.") from None
    if kind == "ternary":
        return _evaluate(node[2] if _evaluate(node[1], env) else node[3], env)
    if kind == "unary":
        return _number_op(UNARY, node[1], _evaluate(node[2], env))
    if kind == "binary":
        return _number_op(BINARY, node[1], _evaluate(node[2], env), _evaluate(node[3], env))
    if kind == "call":
        name, call_args = node[1], [_evaluate(n, env) for n in node[2]]
        table: dict[str, Any] = UNARY if len(call_args) == 1 else BINARY
        if name in table and len(call_args) in (1, 2):
            return _number_op(table, name, *call_args)
    raise InvalidArgumentError("Number.expression: unsupported expression.")


def _number_op(table: dict[str, Any], name: str, *args: Any) -> Any:
    if name not in table or not all(isinstance(a, int | float) for a in args):
        raise InvalidArgumentError(f"Number.expression: cannot apply '{name}' to {args!r:.80}.")
    try:
        return table[name][0](*args)
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise InvalidArgumentError(f"Arithmetic error: {exc}.") from None
