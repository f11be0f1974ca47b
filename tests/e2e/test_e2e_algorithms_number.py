"""Number algorithms through the stock client, checked against Python's math.

Each test batches many expressions into one ee.List so that a single request covers a family.
"""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.e2e


def _close(got: object, want: float) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None  # NaN travels as null in JSON
    if isinstance(want, float) and math.isinf(want):
        return got is None
    assert isinstance(got, int | float), got
    return got == pytest.approx(want, rel=1e-12, abs=1e-12)


def _bits64(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


# (method or algorithm name, left, right, oracle)
BINARY = [
    ("add", 7, 2.5, 9.5),
    ("subtract", 7, 2.5, 4.5),
    ("multiply", 7, 2.5, 17.5),
    ("divide", 7, 2, 3.5),  # floating point, as ee_number_divide.py documents (5 / 10 = 0.5)
    ("divide", -7, 2, -3.5),
    ("divide", 7.0, 2, 3.5),
    ("divide", 7, 0, 0),
    ("max", 7, 2.5, 7),
    ("min", 7, 2.5, 2.5),
    ("pow", 2, 10, 1024.0),
    ("mod", -7, 3, -1),
    ("mod", 7.5, 2, 1.5),
    ("eq", 3, 3, 1),
    ("neq", 3, 3, 0),
    ("lt", 2, 3, 1),
    ("lte", 3, 3, 1),
    ("gt", 2, 3, 0),
    ("gte", 2, 3, 0),
    ("And", 2, 0, 0),
    ("Or", 2, 0, 1),
    ("first", 4, 9, 4),
    ("firstNonZero", 0, 9, 9),
    ("firstNonZero", 5, 9, 5),
    ("first_nonzero", 0, 8, 8),
    ("atan2", 1.0, -2.0, math.atan2(-2.0, 1.0)),  # the vector [x, y] = [left, right]
    ("hypot", 3.0, 4.0, 5.0),
    ("bitwiseAnd", 12, 10, 12 & 10),
    ("bitwiseOr", 12, 10, 12 | 10),
    ("bitwiseXor", 12, 10, 12 ^ 10),
    ("bitwise_and", 13, 7, 13 & 7),
    ("bitwise_or", 13, 7, 13 | 7),
    ("bitwise_xor", 13, 7, 13 ^ 7),
    ("leftShift", 3, 4, 3 << 4),
    ("left_shift", 5, 62, _bits64(5 << 62)),
    ("rightShift", -64, 3, -64 >> 3),
    ("right_shift", 1000, 2, 1000 >> 2),
    ("gammainc", 2.0, 1.0, 1 - math.exp(-2.0)),  # left is x, right a: P(1, x) = 1 - e^-x
    ("gammainc", 0.7, 0.5, math.erf(math.sqrt(0.7))),  # P(1/2, x) = erf(sqrt(x))
]


def test_binary_operators(ee_api) -> None:
    ee = ee_api
    exprs = [getattr(ee.Number(a), name)(b) for name, a, b, _ in BINARY]
    got = ee.List(exprs).getInfo()
    for (name, a, b, want), value in zip(BINARY, got, strict=True):
        assert _close(value, want), (name, a, b, value, want)


def _digamma(x: float) -> float:
    h = 1e-5
    return (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)


def _trigamma(x: float) -> float:
    h = 1e-4
    return (math.lgamma(x + h) - 2 * math.lgamma(x) + math.lgamma(x - h)) / (h * h)


UNARY = [
    ("abs", -2.5, 2.5),
    ("sqrt", 2.0, math.sqrt(2.0)),
    ("sqrt", -1.0, math.nan),
    ("round", 2.5, 3),
    ("round", -2.5, -2),
    ("floor", -2.5, -3),
    ("ceil", -2.5, -2),
    ("exp", 1.5, math.exp(1.5)),
    ("log", 10.0, math.log(10.0)),
    ("log10", 1000.0, 3.0),
    ("Not", 0, 1),
    ("bitwiseNot", 5, ~5),
    ("bitwise_not", -1, 0),
    ("bitCount", 255, 8),
    ("bitCount", -1, 64),
    ("sin", 0.5, math.sin(0.5)),
    ("cos", 0.5, math.cos(0.5)),
    ("tan", 0.5, math.tan(0.5)),
    ("asin", 0.5, math.asin(0.5)),
    ("acos", 0.5, math.acos(0.5)),
    ("asin", 2.0, math.nan),
    ("atan", 0.5, math.atan(0.5)),
    ("sinh", 0.5, math.sinh(0.5)),
    ("cosh", 0.5, math.cosh(0.5)),
    ("tanh", 0.5, math.tanh(0.5)),
    ("cbrt", -27.0, -3.0),
    ("gamma", 4.5, math.gamma(4.5)),
    ("erf", 0.3, math.erf(0.3)),
    ("erfc", 0.3, math.erfc(0.3)),
    ("signum", -4.2, -1.0),
    ("signum", 0, 0),
    ("signum", 7, 1),
    ("double", 3, 3.0),
    ("toDouble", 3, 3.0),
    ("float", 3, 3.0),
    ("toFloat", 3, 3.0),
]


def test_unary_functions(ee_api) -> None:
    ee = ee_api
    exprs = [getattr(ee.Number(x), name)() for name, x, _ in UNARY]
    got = ee.List(exprs).getInfo()
    for (name, x, want), value in zip(UNARY, got, strict=True):
        assert _close(value, want), (name, x, value, want)


def test_special_functions(ee_api) -> None:
    """digamma/trigamma against derivatives of lgamma; the inverses against erf/erfc."""
    ee = ee_api
    xs = [0.3, 1.0, 2.5, 7.0]
    ys = [-0.9, -0.2, 0.0, 0.4, 0.95]
    zs = [0.05, 0.7, 1.3, 1.99]
    got = ee.Dictionary(
        {
            "digamma": ee.List([ee.Number(x).digamma() for x in xs]),
            "trigamma": ee.List([ee.Number(x).trigamma() for x in xs]),
            "erfInv": ee.List([ee.Number(y).erfInv() for y in ys]),
            "erfcInv": ee.List([ee.Number(z).erfcInv() for z in zs]),
            "lanczos": ee.List([ee.Number(x).lanczos() for x in xs]),
        }
    ).getInfo()
    for x, d, t in zip(xs, got["digamma"], got["trigamma"], strict=True):
        assert d == pytest.approx(_digamma(x), rel=1e-6, abs=1e-6)
        assert t == pytest.approx(_trigamma(x), rel=1e-4)
    for y, v in zip(ys, got["erfInv"], strict=True):
        assert math.erf(v) == pytest.approx(y, abs=1e-14)
    for z, v in zip(zs, got["erfcInv"], strict=True):
        assert math.erfc(v) == pytest.approx(z, rel=1e-12)
    # Gamma(x) = sqrt(2 pi) / x * t^(x + 1/2) * e^-t * lanczos(x), t = x + 607/128 + 1/2.
    for x, sum_ in zip(xs, got["lanczos"], strict=True):
        t = x + 607 / 128 + 0.5
        gamma = math.sqrt(2 * math.pi) / x * t ** (x + 0.5) * math.exp(-t) * sum_
        assert gamma == pytest.approx(math.gamma(x), rel=1e-12)


CASTS = {
    "int8": (-128, 127),
    "uint8": (0, 255),
    "byte": (0, 255),
    "int16": (-32768, 32767),
    "short": (-32768, 32767),
    "uint16": (0, 65535),
    "int": (-(2**31), 2**31 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "long": (-(2**63), 2**63 - 1),
}


@pytest.mark.parametrize("prefix", ["", "to"])
def test_integer_casts_truncate_and_saturate(ee_api, prefix: str) -> None:
    ee = ee_api
    inputs = [1.7, -1.7, 300.0, -300.0, 70000.5, -5e9, 5e9]
    names = [n if not prefix else "to" + n[0].upper() + n[1:] for n in CASTS]
    exprs = [[getattr(ee.Number(x), name)() for x in inputs] for name in names]
    got = ee.List(exprs).getInfo()
    for (low, high), row, name in zip(CASTS.values(), got, names, strict=True):
        want = [max(low, min(high, math.trunc(x))) for x in inputs]
        assert row == want, name


def test_clamp_unit_scale_parse_format(ee_api) -> None:
    ee = ee_api
    got = ee.List(
        [
            ee.Number(15).clamp(0, 10),
            ee.Number(-3).clamp(0, 10),
            ee.Number(4).clamp(0, 10),
            ee.Number(15).unitScale(10, 20),
            ee.Number(25).unitScale(10, 20),
            ee.Number.parse("42"),
            ee.Number.parse("-2.5e3"),
            ee.Number.parse("ff", 16),
            ee.Number.parse("101", 2),
            ee.Number(3.14159).format("%.2f"),
            ee.Number(42).format(),
        ]
    ).getInfo()
    assert got == [10, 0, 4, 0.5, 1.5, 42, -2500.0, 255, 5, "3.14", "42"]


def test_expression_with_variables(ee_api) -> None:
    ee = ee_api
    vars_ = {"a": 3, "b": 4.5, "c": {"x": 10}}
    cases = [
        ("a * 2 + b", 3 * 2 + 4.5),
        ("max(a, b) ** 2 - sqrt(16)", max(3, 4.5) ** 2 - math.sqrt(16)),
        ("a > 2 ? c.x : -1", 10),
        ("(a + 1) % 3", (3 + 1) % 3),
        ("hypot(a, 4) + abs(-b)", math.hypot(3, 4) + 4.5),
        ("a << 2 | 1", (3 << 2) | 1),
    ]
    got = ee.List([ee.Number.expression(expr, vars_) for expr, _ in cases]).getInfo()
    for (expr, want), value in zip(cases, got, strict=True):
        assert value == pytest.approx(want), expr


def test_invalid_parse_is_a_clean_error(ee_api) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match="Unable to convert"):
        ee.Number.parse("twelve").getInfo()
