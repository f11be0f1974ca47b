"""Per-pixel band math: operator tables, output types, and the band sources that apply them.

Output types (a simplification of Earth Engine's range-based PixelType, stated once here; see
docs/decisions/0004 and 0022): comparisons and logical operators give uint8 0/1; integer
add/subtract/multiply widen to at least int32 (int64 if an input is 64-bit) so sums cannot wrap;
divide is floating point whatever its inputs (uint16 / 10000 gives reflectances, not 0), as are
pow, atan2 and hypot; mod, min, max keep the joined input type; bitwise operators need integers;
anything with a float input, and every transcendental or special function (gamma, erf, ...,
gammainc), gives float64; bitCount gives uint8. Division and modulo by zero give 0, as in Earth
Engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from openee.errors import InvalidArgumentError
from openee.raster.arrays import Batch, apply_kernel
from openee.raster.grid import PixelGrid, pixel_lon_lat
from openee.raster.pixels import Pixels, min_weight
from openee.raster.sources import BandSource
from openee.raster.special import SPECIAL_UNARY, bit_count, gammainc

Binary = Callable[[np.ndarray, np.ndarray], np.ndarray]
Unary = Callable[[np.ndarray], np.ndarray]


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b in floating point, also for integer inputs, and 0 where b is 0 (Earth Engine's
    Image.divide: "returning 0 for division by 0"; ADR 0022)."""
    zero = b == 0
    safe = np.where(zero, 1, b)
    out: np.ndarray = np.true_divide(a, safe, dtype=np.result_type(a, safe, np.float64))
    return np.where(zero, 0, out)


def _mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    zero = b == 0
    out = np.fmod(a, np.where(zero, 1, b))
    return np.where(zero, 0, out)


COMPARISONS: dict[str, Binary] = {
    "eq": np.equal,
    "neq": np.not_equal,
    "lt": np.less,
    "lte": np.less_equal,
    "gt": np.greater,
    "gte": np.greater_equal,
    "and": lambda a, b: (a != 0) & (b != 0),
    "or": lambda a, b: (a != 0) | (b != 0),
}

ARITHMETIC: dict[str, Binary] = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": _divide,
    "mod": _mod,
    "max": np.maximum,
    "min": np.minimum,
    "pow": lambda a, b: np.power(a.astype(np.float64), b),
    # The angle of the vector [x, y] with x the left operand and y the right one, as Earth
    # Engine documents it (ee_number_atan2: Number(1).atan2(0) is 0, Number(0).atan2(1) is pi/2).
    "atan2": lambda a, b: np.arctan2(b.astype(np.float64), a),
    "hypot": lambda a, b: np.hypot(a.astype(np.float64), b),
    "first": lambda a, b: a,
    "firstNonZero": lambda a, b: np.where(a != 0, a, b),
    # gamma(x, a): the first operand is x, the second a, as Number.gammainc (ee_number_gammainc.py).
    "gammainc": lambda x, a: gammainc(a.astype(np.float64), x.astype(np.float64)),
}

# The expression language's `^`, listed by Earth Engine with && || ! as a logical operator ("Xor");
# there is no Image.xor algorithm, so it is not registered as one.
LOGICAL_XOR: dict[str, Binary] = {"xor": lambda a, b: (a != 0) ^ (b != 0)}

BITWISE: dict[str, Binary] = {
    "bitwiseAnd": np.bitwise_and,
    "bitwiseOr": np.bitwise_or,
    "bitwiseXor": np.bitwise_xor,
    "leftShift": np.left_shift,
    "rightShift": np.right_shift,
}

FLOAT_UNARY: dict[str, Unary] = {
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "cbrt": np.cbrt,
    **SPECIAL_UNARY,
}

SAME_TYPE_UNARY: dict[str, Unary] = {
    "abs": np.abs,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": lambda a: np.floor(a + 0.5) if a.dtype.kind == "f" else a,
    "signum": np.sign,
}


def _float(*dtypes: np.dtype) -> bool:
    return any(d.kind == "f" for d in dtypes)


def binary_dtype(op: str, a: np.dtype, b: np.dtype) -> np.dtype:
    if op in COMPARISONS or op in LOGICAL_XOR:
        return np.dtype(np.uint8)
    if op in BITWISE:
        if _float(a, b):
            raise InvalidArgumentError(f"Image.{op}: bitwise operators need integer bands.")
        return np.result_type(a, b)
    if _float(a, b) or op in ("divide", "pow", "atan2", "hypot", "gammainc"):
        return np.dtype(np.float64)
    if op in ("first",):
        return a
    joined = np.result_type(a, b)
    if op in ("add", "subtract", "multiply"):
        wide = np.int64 if max(a.itemsize, b.itemsize) >= 8 else np.int32
        return np.result_type(joined, wide) if joined.kind in "iu" else joined
    return joined


def unary_dtype(op: str, a: np.dtype) -> np.dtype:
    if op in ("not", "bitCount"):
        return np.dtype(np.uint8)
    if op == "bitwiseNot":
        if a.kind == "f":
            raise InvalidArgumentError("Image.bitwiseNot: bitwise operators need integer bands.")
        return a
    if op in FLOAT_UNARY:
        return np.dtype(np.float64)
    if op == "signum" and a.kind == "u":
        return np.dtype(np.int8)
    return a


def apply_binary(op: str, a: np.ndarray, b: np.ndarray, out: np.dtype) -> np.ndarray:
    fn = COMPARISONS.get(op) or LOGICAL_XOR.get(op) or ARITHMETIC.get(op) or BITWISE[op]
    if out.kind in "iu" and op in ARITHMETIC:
        a, b = a.astype(np.int64), b.astype(np.int64)
    with np.errstate(all="ignore"):
        result = fn(a, b)
    return np.asarray(result).astype(out)


def apply_unary(op: str, a: np.ndarray, out: np.dtype) -> np.ndarray:
    with np.errstate(all="ignore"):
        if op == "not":
            result = a == 0
        elif op == "bitwiseNot":
            result = np.invert(a)
        elif op == "bitCount":
            result = bit_count(a)
        elif op in FLOAT_UNARY:
            result = FLOAT_UNARY[op](a.astype(np.float64))
        else:
            result = SAME_TYPE_UNARY[op](a)
    return np.asarray(result).astype(out)


@dataclass(frozen=True)
class BinaryBand(BandSource):
    accepts_arrays = True

    op: str
    left: BandSource
    right: BandSource

    @property
    def dtype(self) -> np.dtype:
        return binary_dtype(self.op, self.left.dtype, self.right.dtype)

    @property
    def rank(self) -> int:
        return max(self.left.rank, self.right.rank)

    def read(self, grid: PixelGrid) -> Pixels:
        a = self.left.read(grid)
        b = self.right.read(grid)
        # The output's mask is the minimum of the inputs' (docs/decisions/0055).
        if self.rank:
            out = _elementwise(self.op, a, b, self.dtype, self.rank)
            return replace(out, weight=min_weight(a, b))
        data = apply_binary(self.op, a.data, b.data, self.dtype)
        return Pixels(data, a.valid & b.valid, weight=min_weight(a, b))


def _elementwise(op: str, a: Pixels, b: Pixels, dtype: np.dtype, rank: int) -> Pixels:
    """Band math on array pixels: element by element. A scalar pixel applies to every element,
    and an axis of length 1 is repeated along the other operand's (numpy broadcasting, as in
    `arr.subtract(arr.arrayReduce(mean, [0]))`); shapes that do not broadcast mask the pixel."""

    def kernel(batch: list[np.ndarray]) -> Batch:
        x, y = batch
        if x.ndim != y.ndim:  # a scalar operand: broadcast over the array's elements
            x = x.reshape(*x.shape, *([1] * (y.ndim - x.ndim)))
            y = y.reshape(*y.shape, *([1] * (x.ndim - y.ndim)))
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            n = x.shape[0]
            return Batch(np.zeros((n, *x.shape[1:]), dtype), ok=np.zeros(n, dtype=bool))
        return Batch(apply_binary(op, x, y, dtype))

    return apply_kernel([a, b], kernel, rank, dtype)


@dataclass(frozen=True)
class UnaryBand(BandSource):
    accepts_arrays = True

    op: str
    input: BandSource

    @property
    def dtype(self) -> np.dtype:
        return unary_dtype(self.op, self.input.dtype)

    def read(self, grid: PixelGrid) -> Pixels:
        a = self.input.read(grid)
        return Pixels(apply_unary(self.op, a.data, self.dtype), a.valid, a.lengths, a.weight)


@dataclass(frozen=True)
class WhereBand(BandSource):
    """`input`, with `value`'s pixels wherever `test` is non-zero (Image.where)."""

    input: BandSource
    test: BandSource
    value: BandSource

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.input.dtype, self.value.dtype)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        test = self.test.read(grid)
        value = self.value.read(grid)
        take = test.valid & (test.data != 0)
        data = np.where(take, value.data, base.data).astype(self.dtype)
        valid = np.where(take, value.valid, base.valid)
        weight = None
        if base.weight is not None or value.weight is not None:
            whole = np.float32(1)
            weight = np.where(
                take,
                value.weight if value.weight is not None else whole,
                base.weight if base.weight is not None else whole,
            ).astype(np.float32)
        return Pixels(data, valid, weight=weight)


@dataclass(frozen=True)
class LonLatBand(BandSource):
    """Longitude or latitude (degrees) of each pixel centre (Image.pixelLonLat)."""

    axis: str  # "longitude" or "latitude"

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        lon, lat = pixel_lon_lat(grid)
        return Pixels(lon if self.axis == "longitude" else lat, np.ones(grid.shape, dtype=bool))
