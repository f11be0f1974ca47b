"""Element-wise Array algorithms through the stock client.

Two oracles: the results Earth Engine documents in its Array samples (ee_array_*.py of
earthengine-community; the file is named on each fact), and numpy/scipy computed here on the
same inputs for every operator and cast. Each test batches its expressions into one getInfo.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

pytestmark = pytest.mark.e2e

PI = math.pi
E = math.e
F32 = np.float32

# Python method names of the operators that are Python keywords.
METHOD = {"and": "And", "or": "Or", "not": "Not"}


def call(ee, name: str, *args):
    """`ee.Array(args[0]).<name>(*rest)` through the client's generated method."""
    first, *rest = args
    return getattr(ee.Array(first), METHOD.get(name, name))(*rest)


def f32(values) -> list:
    """The float32 rounding of values, as Earth Engine's 32-bit results arrive in JSON."""
    return np.asarray(values, dtype=np.float64).astype(F32).astype(np.float64).tolist()


def same(got, want, tol: float = 0.0) -> bool:
    """Equal shapes and values; None where a value is NaN or infinite (JSON has neither)."""
    want_a = np.asarray(want, dtype=np.float64)
    got_a = np.asarray(
        [np.nan if v is None else v for v in np.ravel(np.asarray(got, dtype=object))]
    )
    if got_a.size != want_a.size or np.shape(got) != want_a.shape:
        return False
    want_f = want_a.ravel()
    finite = np.isfinite(want_f)
    got_f = got_a.astype(np.float64)
    if not np.array_equal(np.isnan(got_f), ~finite):
        return False
    return bool(np.allclose(got_f[finite], want_f[finite], rtol=tol, atol=tol))


# (file of the sample, algorithm, arguments, documented result, tolerance of the comment)
# fmt: off
DOCUMENTED = [
    ("ee_array_abs", "abs", ([-2, 0, 2],), [2, 0, 2], 0),
    ("ee_array_abs", "abs", ([[-3.1, -2], [-1, 0]],), [[3.1, 2], [1, 0]], 0),
    ("ee_array_acos", "acos", ([-1, 0, 1],), [PI, PI / 2, 0], 1e-6),
    ("ee_array_add", "add", ([0], 1), [1], 0),
    ("ee_array_add", "add", ([-3], [-4]), [-7], 0),
    ("ee_array_add", "add", ([5, 6], [7, 8]), [12, 14], 0),
    ("ee_array_add", "add", ([[0, 1, 2], [3, 4, 5]], 1), [[1, 2, 3], [4, 5, 6]], 0),
    ("ee_array_add", "add", ([[0, 1, 2], [3, 4, 5]], [[0, 1, 2], [3, 4, 5]]),
     [[0, 2, 4], [6, 8, 10]], 0),
    ("ee_array_and", "and", ([1, 1], [-2, 2]), [1, 1], 0),
    ("ee_array_and", "and", ([1, 0], [0, 1]), [0, 0], 0),
    ("ee_array_and", "and", ([1, 1], [0.0, 2.0]), [0, 1], 0),
    ("ee_array_asin", "asin", ([-1, 0, 1],), [-PI / 2, 0, PI / 2], 1e-6),
    ("ee_array_atan", "atan", ([-5, 0, 5],), [-1.3734, 0, 1.3734], 1e-4),
    ("ee_array_bitcount", "bitCount", ([0, 1, 2, 3, 0xFFFF],), [0, 1, 1, 2, 16], 0),
    ("ee_array_bitcount", "bitCount", ([[0, 1], [6, 13]],), [[0, 1], [2, 3]], 0),
    ("ee_array_bitcount", "bitCount", ([-1, -2],), [64, 63], 0),
    ("ee_array_bitwiseand", "bitwiseAnd", ([6, 6], [1, 11]), [0, 2], 0),
    ("ee_array_bitwiseand", "bitwiseAnd", ([-1, -1, 0xFF], [0xFF, -2, 0xFFFF]), [255, -2, 255], 0),
    ("ee_array_bitwise_and", "bitwise_and", ([6, 6], [1, 11]), [0, 2], 0),
    ("ee_array_bitwiseor", "bitwiseOr", ([6, 6], [1, 11]), [7, 15], 0),
    ("ee_array_bitwiseor", "bitwiseOr", ([-1, -2, -2], [0xFF, -3, -4]), [-1, -1, -2], 0),
    ("ee_array_bitwise_or", "bitwise_or", ([0xFF], [0xFFFF]), [65535], 0),
    ("ee_array_bitwisexor", "bitwiseXor", ([1, 2, 3], [5, 8, 16]), [4, 10, 19], 0),
    ("ee_array_bitwise_xor", "bitwise_xor", ([0x00FF], [0xFF00]), [65535], 0),
    ("ee_array_bitwisenot", "bitwiseNot", ([0, 1, 0xFF, -1, -2, -3],), [-1, -2, -256, 0, 1, 2], 0),
    ("ee_array_bitwise_not", "bitwise_not", ([0xFF],), [-256], 0),
    ("ee_array_byte", "byte", ([-1, 255, 256],), [0, 255, 255], 0),
    ("ee_array_byte", "byte", ([-0.1, 0.1, 0.5, 127.1, 255.1, 255.9],), [0, 0, 1, 127, 255, 255], 0),
    ("ee_array_cbrt", "cbrt", ([[0, 1, 8], [27, 64, 125]],), [[0, 1, 2], [3, 4, 5]], 1e-6),
    ("ee_array_cbrt", "cbrt", ([-27],), [-3], 1e-6),
    ("ee_array_ceil", "ceil", ([-1.1, -0.1, 0, 0.1, 1.1],), [-1, 0, 0, 1, 2], 0),
    ("ee_array_cos", "cos", ([-PI, 0, PI],), [-1, 1, -1], 1e-12),
    ("ee_array_cosh", "cosh", ([-4, 0, 4],), [27.31, 1, 27.31], 0.01),
    ("ee_array_digamma", "digamma", ([1, 2],), [-0.577, 0.423], 1e-3),
    ("ee_array_digamma", "digamma", ([0],), [-math.inf], 0),
    ("ee_array_divide", "divide", ([2], 0), [0], 0),
    ("ee_array_divide", "divide", ([2], 1), [2], 0),
    ("ee_array_divide", "divide", ([3, 4], 2), [1.5, 2], 0),
    ("ee_array_divide", "divide", ([3, 4], [2, 4]), [1.5, 1], 0),
    ("ee_array_eq", "eq", ([0], [1]), [0], 0),
    ("ee_array_eq", "eq", ([1.1], [1.1]), [1], 0),
    ("ee_array_erf", "erf", ([-6, 0, 6],), [-1, 0, 1], 1e-7),
    ("ee_array_erfc", "erfc", ([-6, 0, 28],), [2, 1, 0], 1e-7),
    ("ee_array_erfcinv", "erfcInv", ([0.1, 1, 1.9],), [1.163, 0, -1.163], 1e-3),
    ("ee_array_erfinv", "erfInv", ([-0.99, 0, 0.99],), [-1.82, 0, 1.82], 0.01),
    ("ee_array_first", "first", ([0], 0), [0], 0),
    ("ee_array_first", "first", ([0, 1, 2], 1), [0, 1, 2], 0),
    ("ee_array_first", "first", ([3, 4, 5], [0, 1, 2]), [3, 4, 5], 0),
    ("ee_array_firstnonzero", "firstNonZero", ([0], 0), [0], 0),
    ("ee_array_firstnonzero", "firstNonZero", ([0], [1]), [1], 0),
    ("ee_array_firstnonzero", "firstNonZero", ([2], [3]), [2], 0),
    ("ee_array_firstnonzero", "firstNonZero", ([-1, 0, 1], [2, -1, 2]), [-1, -1, 1], 0),
    ("ee_array_first_nonzero", "first_nonzero", ([[1, 2], [0, 0]], [[0, 0], [3, 4]]),
     [[1, 2], [3, 4]], 0),
    ("ee_array_floor", "floor", ([2.1, 2.5, 2.9, -2.1, -2.5, -2.9],), [2, 2, 2, -3, -3, -3], 0),
    ("ee_array_gt", "gt", ([-1, 0, 1], [-2, 1, 0]), [1, 0, 1], 0),
    ("ee_array_gte", "gte", ([-1, 0, 1], [-2, 1, 1]), [1, 0, 1], 0),
    ("ee_array_gte", "gte", ([0], [0]), [1], 0),
    ("ee_array_log", "log", ([E**-1, 1, E],), [-1, 0, 1], 1e-15),
    ("ee_array_log10", "log10", ([0.1, 1, 10, 100],), [-1, 0, 1, 2], 1e-15),
    ("ee_array_lt", "lt", ([-1, 0, 1], [-2, 1, 0]), [0, 1, 0], 0),
    ("ee_array_lte", "lte", ([-1, 0, 1], [-2, 1, 1]), [0, 1, 1], 0),
    ("ee_array_max", "max", ([0, -3, 5, 3], [0, -1, 2, 4]), [0, -1, 5, 4], 0),
    ("ee-array-min.js", "min", ([0, 1, 2, 3], [-1, 3, 0, 2]), [-1, 1, 0, 2], 0),
    ("ee_array_mod", "mod", ([0, 0], [-1, 2]), [0, 0], 0),
    ("ee-array-mod.js", "mod", ([0, 1, 2, 3, 4], [1, 1, 1, 1, 1]), [0, 0, 0, 0, 0], 0),
    ("ee-array-mod.js", "mod", ([0, 1, 2, 3, 4], [2, 2, 2, 2, 2]), [0, 1, 0, 1, 0], 0),
    ("ee-array-mod.js", "mod", ([0, 1, 7, 8, 9], [8, 8, 8, 8, 8]), [0, 1, 7, 0, 1], 0),
    ("ee-array-mod.js", "mod", ([-1, -7, -8, -9], [8, 8, 8, 8]), [-1, -7, 0, -1], 0),
    ("ee-array-mod.js", "mod", ([8, 8, 8, 8], [-1, -7, -8, -9]), [0, 1, 0, 8], 0),
    ("ee_array_mod", "mod", ([2.5], [1.2]), [0.10000000000000009], 0),
    ("ee_array_multiply", "multiply", ([1], 0), [0], 0),
    ("ee_array_multiply", "multiply", ([1], [1]), [1], 0),
    ("ee_array_neq", "neq", ([0], [1]), [1], 0),
    ("ee_array_neq", "neq", ([1.1], [1.1]), [0], 0),
    ("ee_array_not", "not", ([-1, -0.1, 0, 0.1, 1],), [0, 0, 1, 0, 0], 0),
    ("ee-array-or.js", "or", ([0, 0, 1, 1], [0, 1, 0, 1]), [0, 1, 1, 1], 0),
    ("ee_array_pow", "pow", ([-2] * 6, [-2, -1, 0, 1, 2, 3]), [0.25, -0.5, 1, -2, 4, -8], 0),
    ("ee_array_pow", "pow", ([0] * 6, [-2, -1, 0, 1, 2, 3]), [math.inf, math.inf, 1, 0, 0, 0], 0),
    # The documented 32-bit results of integer powers (the comment lists elements 1 to 5).
    ("ee_array_pow", "pow", ([10, 10, 10, 10, 10, 10], [-2, -1, 0, 1, 2, 3]),
     [float(F32(0.01)), 0.10000000149011612, 1, 10, 100, 1000], 0),
    ("ee_array_sin", "sin", ([-PI / 2, 0, PI / 2],), [-1, 0, 1], 1e-12),
    ("ee-array-sinh.js", "sinh", ([-5, 0, 5],), [-74.20, 0, 74.20], 0.01),
    ("ee_array_subtract", "subtract", ([10], 1), [9], 0),
    ("ee_array_subtract", "subtract", ([-1, 0, 1], 2), [-3, -2, -1], 0),
    ("ee_array_subtract", "subtract", ([-1, 0, 1], [-5, 6, 7]), [4, -6, -6], 0),
    ("ee_array_tan", "tan", ([-PI / 4, 0, PI / 4],), [-1, 0, 1], 1e-12),
    ("ee_array_tanh", "tanh", ([-5, 0, 5],), [-1, 0, 1], 1e-4),
]
# fmt: on


def test_documented_results(ee_api) -> None:
    """Every input and output that Earth Engine's Array samples document."""
    ee = ee_api
    got = ee.List([call(ee, name, *args) for _, name, args, _, _ in DOCUMENTED]).getInfo()
    for (sample, name, args, want, tol), value in zip(DOCUMENTED, got, strict=True):
        assert same(value, want, tol), (sample, name, args, value, want)


def test_documented_types(ee_api) -> None:
    """The samples' facts that depend on element types: float() is 32-bit (ee_array_eq,
    ee_array_neq), int8 and int32 compare by value, toInt64 keeps bitwiseNot signed
    (ee_array_bitwisenot), an empty array stays empty (ee_array_add and the others)."""
    ee = ee_api
    empty = ee.Array([1, 2]).slice(0, 0, 0)
    got = ee.List(
        [
            ee.Array([1.1]).float().eq(ee.Array([1.1])),
            ee.Array([1.1]).double().eq(ee.Array([1.1])),
            ee.Array([1.1]).float().neq(ee.Array([1.1])),
            ee.Array([1]).int8().eq(ee.Array([1]).int32()),
            ee.Array([1]).int8().neq(ee.Array([1]).int32()),
            ee.Array([0xFF]).toInt64().bitwiseNot(),
            ee.Array([-1]).int8().bitCount(),
            empty.add(empty),
            empty.bitCount(),
            empty.pow(empty),
            ee.Array([[0.5], [1.5]]).slice(1, 0, 0).byte(),
        ]
    ).getInfo()
    assert got == [[0], [1], [1], [1], [0], [-256], [64], [], [], [], [[], []]]


def test_bits_to_array(ee_api) -> None:
    """ee_array_bitstoarray: lowest bit first, 64 bits for a negative number, [0] for 0."""
    ee = ee_api
    inputs = [0, 1, 5, 0xFF, 6, -1, -2, 2**40]
    exprs = [ee.Array.bitsToArray(n) for n in inputs]
    got = ee.List([*exprs, ee.Array.bitsToArray(-1).toInt8()]).getInfo()
    for n, bits in zip(inputs, got[:-1], strict=True):
        unsigned = n & (2**64 - 1)
        want = [(unsigned >> i) & 1 for i in range(max(unsigned.bit_length(), 1))]
        assert bits == want, n
    assert got[1:4] == [[1], [1, 0, 1], [1] * 8]
    assert got[-1] == [1] * 64


def _lanczos(x: np.ndarray) -> np.ndarray:
    """The Lanczos sum from Gamma: A(x) = Gamma(x + 1) / (sqrt(2 pi) t^(x+1/2) e^-t)."""
    t = x + 607 / 128 + 0.5
    return scipy.special.gamma(x + 1) / (math.sqrt(2 * PI) * t ** (x + 0.5) * np.exp(-t))


# Each unary algorithm's numpy/scipy oracle on float64 values.
UNARY_ORACLE = {
    "abs": np.abs,
    "acos": np.arccos,
    "asin": np.arcsin,
    "atan": np.arctan,
    "cbrt": np.cbrt,
    "ceil": np.ceil,
    "cos": np.cos,
    "cosh": np.cosh,
    "digamma": scipy.special.digamma,
    "erf": scipy.special.erf,
    "erfc": scipy.special.erfc,
    "erfInv": scipy.special.erfinv,
    "erfcInv": scipy.special.erfcinv,
    "exp": np.exp,
    "floor": np.floor,
    "gamma": scipy.special.gamma,
    "lanczos": _lanczos,
    "log": np.log,
    "log10": np.log10,
    "round": lambda x: np.floor(x + 0.5),  # halves up, as Number.round
    "signum": np.sign,
    "sin": np.sin,
    "sinh": np.sinh,
    "sqrt": np.sqrt,
    "tan": np.tan,
    "tanh": np.tanh,
    "trigamma": lambda x: scipy.special.polygamma(1, x),
    "not": lambda x: (x == 0).astype(np.float64),
}
SAME_TYPE = {"abs", "ceil", "floor", "round", "signum", "not"}
UNARY_INPUT = [[-2.5, -0.75, 0.0, 0.3], [0.9, 1.5, 4.0, 1.9]]


def test_unary_against_numpy(ee_api) -> None:
    """Every unary algorithm on doubles (64-bit results) and on integers (32-bit float results
    for the fractional functions, integers for the others)."""
    ee = ee_api
    ints = [[-3, -1, 0, 1], [2, 3, 5, 8]]
    names = list(UNARY_ORACLE)
    got = ee.Dictionary(
        {
            "double": ee.List([call(ee, n, UNARY_INPUT) for n in names]),
            "int": ee.List([call(ee, n, ints) for n in names]),
        }
    ).getInfo()
    with np.errstate(all="ignore"):
        for name, value in zip(names, got["double"], strict=True):
            want = UNARY_ORACLE[name](np.asarray(UNARY_INPUT))
            assert same(value, want, 1e-10 if name == "lanczos" else 1e-12), (name, value, want)
        for name, value in zip(names, got["int"], strict=True):
            want = UNARY_ORACLE[name](np.asarray(ints, dtype=np.float64))
            if name in SAME_TYPE:
                assert all(type(v) is int for row in value for v in row), (name, value)
                assert same(value, want), (name, value, want)
            else:
                assert same(value, f32(want), 1e-6), (name, value, want)


def test_bitwise_unary_and_aliases(ee_api) -> None:
    ee = ee_api
    values = [-(2**40), -7, -1, 0, 1, 255, 2**62]
    got = ee.List(
        [call(ee, n, values) for n in ("bitwiseNot", "bitwise_not", "bitCount")]
    ).getInfo()
    as_u64 = np.asarray(values, dtype=np.int64).view(np.uint64)
    assert got[0] == got[1] == (~np.asarray(values, dtype=np.int64)).tolist()
    assert got[2] == [bin(int(v)).count("1") for v in as_u64]


INT_CASTS = {
    "int8": np.int8,
    "uint8": np.uint8,
    "byte": np.uint8,
    "int16": np.int16,
    "short": np.int16,
    "uint16": np.uint16,
    "int": np.int32,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "long": np.int64,
}
CAST_INPUT = [
    -1e19,
    1e19,
    -5e9,
    -70000.5,
    -300.5,
    -1.5,
    -0.5,
    0.49,
    0.5,
    1.5,
    254.5,
    255.5,
    70000.7,
    5e9,
]


@pytest.mark.parametrize("prefix", ["", "to"])
def test_casts_round_and_saturate(ee_api, prefix: str) -> None:
    """Integer casts round half up and saturate (ee_array_byte); NaN casts to 0; float() is
    float32 and double() float64."""
    ee = ee_api
    rename = (lambda n: "to" + n[0].upper() + n[1:]) if prefix else (lambda n: n)
    names = [*INT_CASTS, "float", "double"]
    nan = ee.Array([-1.0]).sqrt()
    got = ee.Dictionary(
        {
            "values": ee.List([call(ee, rename(n), CAST_INPUT) for n in names]),
            "nan": ee.List([getattr(nan, rename(n))() for n in INT_CASTS]),
        }
    ).getInfo()
    x = np.asarray(CAST_INPUT)
    for name, value in zip(names, got["values"], strict=True):
        if name == "float":
            assert value == f32(x), name
        elif name == "double":
            assert value == x.tolist(), name
        else:
            info = np.iinfo(INT_CASTS[name])
            want = [max(int(info.min), min(int(info.max), math.floor(v + 0.5))) for v in x]
            assert value == want, (name, value)
    assert got["nan"] == [[0]] * len(INT_CASTS)


INT_A = [[7, -7, 12, 0], [3, -64, 1000, 5]]
INT_B = [[2, 3, 10, 0], [-2, 3, 2, 0]]
DBL_A = [[7.5, -7.25, 0.3, 0.0], [2.5, -1.0, 1e3, 0.7]]
DBL_B = [[2.0, 3.0, -0.4, 0.0], [1.2, 2.0, 0.5, 0.5]]


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(b == 0, 0, a / np.where(b == 0, 1, b))


def _mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(b == 0, 0, np.fmod(a, np.where(b == 0, 1, b)))


# Each binary algorithm's numpy/scipy oracle on float64 values.
BINARY_ORACLE = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": _divide,
    "max": np.maximum,
    "min": np.minimum,
    "mod": _mod,
    "pow": np.power,
    "atan2": lambda x, y: np.arctan2(y, x),  # the vector [x, y] (ee_number_atan2.py)
    "hypot": np.hypot,
    "gammainc": lambda x, a: scipy.special.gammainc(a, x),  # left is x (ee_number_gammainc.py)
    "first": lambda a, b: a,
    "firstNonZero": lambda a, b: np.where(a != 0, a, b),
    "first_nonzero": lambda a, b: np.where(a != 0, a, b),
    "eq": np.equal,
    "neq": np.not_equal,
    "lt": np.less,
    "lte": np.less_equal,
    "gt": np.greater,
    "gte": np.greater_equal,
    "and": lambda a, b: (a != 0) & (b != 0),
    "or": lambda a, b: (a != 0) | (b != 0),
}
FRACTIONAL = {"divide", "pow", "atan2", "hypot", "gammainc"}


def test_binary_against_numpy(ee_api) -> None:
    """Every arithmetic, comparison and logical algorithm on doubles and on integers: integers
    stay integers except for the fractional operators, which give 32-bit floats."""
    ee = ee_api
    names = list(BINARY_ORACLE)
    got = ee.Dictionary(
        {
            "double": ee.List([call(ee, n, DBL_A, DBL_B) for n in names]),
            "int": ee.List([call(ee, n, INT_A, INT_B) for n in names]),
        }
    ).getInfo()
    with np.errstate(all="ignore"):
        for name, value in zip(names, got["double"], strict=True):
            want = BINARY_ORACLE[name](np.asarray(DBL_A), np.asarray(DBL_B))
            assert same(value, want, 1e-12), (name, value, want)
        for name, value in zip(names, got["int"], strict=True):
            a, b = np.asarray(INT_A, dtype=np.float64), np.asarray(INT_B, dtype=np.float64)
            want = BINARY_ORACLE[name](a, b)
            if name in FRACTIONAL:
                assert same(value, f32(want), 1e-6), (name, value, want)
            else:
                assert all(type(v) is int for row in value for v in row), (name, value)
                assert same(value, want), (name, value, want)


BITWISE_ORACLE = {
    "bitwiseAnd": np.bitwise_and,
    "bitwise_and": np.bitwise_and,
    "bitwiseOr": np.bitwise_or,
    "bitwise_or": np.bitwise_or,
    "bitwiseXor": np.bitwise_xor,
    "bitwise_xor": np.bitwise_xor,
    "leftShift": np.left_shift,
    "left_shift": np.left_shift,
    "rightShift": np.right_shift,
    "right_shift": np.right_shift,
}


def test_bitwise_binary(ee_api) -> None:
    """64-bit two's complement; floats truncate (as Number's bitwise operators)."""
    ee = ee_api
    a = [-(2**40) - 3, -7, 12, 0xFF, 5, 1]
    b = [0xFFFF, 3, 10, 4, 62, 63]
    names = list(BITWISE_ORACLE)
    got = ee.List(
        [call(ee, n, a, b) for n in names] + [ee.Array([12.9, -7.5]).bitwiseAnd([10, -1])]
    ).getInfo()
    for name, value in zip(names, got[:-1], strict=True):
        want = BITWISE_ORACLE[name](np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
        assert value == want.tolist(), name
    assert got[-1] == [12 & 10, -7]


def test_broadcasting(ee_api) -> None:
    """A number applies to every element; a length-1 axis pairs with any length (as in
    arr.divide(arr.reduce(sum, [0]))); other shapes are refused with a message."""
    ee = ee_api
    m = [[1, 2, 3], [4, 5, 6]]
    got = ee.List(
        [
            ee.Array(m).multiply(2),
            ee.Array(m).subtract([[1], [4]]),
            ee.Array(m).subtract([[1, 2, 3]]),
            ee.Array([[10]]).add(m),
            ee.Array(m).divide([[5, 7, 9]]),  # the column sums
        ]
    ).getInfo()
    a = np.asarray(m)
    assert got[0] == (a * 2).tolist()
    assert got[1] == (a - [[1], [4]]).tolist()
    assert got[2] == (a - [[1, 2, 3]]).tolist()
    assert got[3] == (a + 10).tolist()
    assert got[4] == f32(a / a.sum(axis=0, keepdims=True))
    with pytest.raises(ee.EEException, match=r"Incompatible array shapes: \[3\] vs. \[2, 3\]"):
        ee.Array([1, 2, 3]).add(ee.Array(m)).getInfo()
    with pytest.raises(ee.EEException, match=r"Incompatible array shapes"):
        ee.Array([[1, 2], [3, 4]]).add(ee.Array([[1, 2, 3]])).getInfo()
    with pytest.raises(ee.EEException, match="the limit is 10000000"):
        column = ee.Array(ee.List.repeat([1], 5000))  # built on the server: a small request
        ee.Array(ee.List([ee.List.repeat(1, 5000)])).add(column).getInfo()


def test_bits_to_array_image_of_negative_numbers(ee_api) -> None:
    """Image.bitsToArrayImage agrees with Array.bitsToArray: a negative number has the 64 bits of
    its two's complement (ee_array_bitstoarray: -1 gives 64 ones)."""
    ee = ee_api
    values = [-1, -6, 5, 0]
    image = ee.Image(values).int64().bitsToArrayImage()
    got = image.reduceRegion(ee.Reducer.first(), ee.Geometry.Point(0, 0), 1000).getInfo()
    for band, n in zip(["constant", "constant_1", "constant_2", "constant_3"], values, strict=True):
        unsigned = n & (2**64 - 1)
        assert got[band] == [(unsigned >> i) & 1 for i in range(unsigned.bit_length())], n
