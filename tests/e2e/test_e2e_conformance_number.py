"""ee.Number conformance: the outputs Earth Engine's apidocs samples document, through the client.

Each row names the sample (google/earthengine-community samples/python/apidocs) whose documented
input and printed output it checks; see tests/e2e/conformance.py. Rows the samples print without
a value (serialize, aside, evaluate, expression) are not facts and are left out.
"""

from __future__ import annotations

import math

import pytest
from conformance import INF, NAN, Fact, Printed, check, evaluate, ids

pytestmark = pytest.mark.e2e

P = Printed
N = "ee_number_{}.py".format


def _unary(sample: str, method: str, cases: list[tuple[float, object]]) -> list[Fact]:
    return [
        Fact(N(sample), lambda ee, x=x, m=method: getattr(ee.Number(x), m)(), want)
        for x, want in cases
    ]


def _binary(sample: str, method: str, cases: list[tuple[float, float, object]]) -> list[Fact]:
    return [
        Fact(N(sample), lambda ee, a=a, b=b, m=method: getattr(ee.Number(a), m)(ee.Number(b)), want)
        for a, b, want in cases
    ]


# Cast samples: 100 stays 100, 1.7 "loses decimal precision" (1), and a value 12345 beyond either
# end of the type's range "becomes" that end.
_CAST_RANGES = {
    "byte": (0, 255),
    "int8": (-128, 127),
    "uint8": (0, 255),
    "int16": (-32768, 32767),
    "short": (-32768, 32767),
    "uint16": (0, 65535),
    "int": (-(2**31), 2**31 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
}
_CAST_METHODS = {
    "byte": ["byte", "toByte"],
    "int8": ["int8", "toInt8"],
    "uint8": ["uint8", "toUint8"],
    "int16": ["int16", "toInt16"],
    "short": ["short", "toShort"],
    "uint16": ["uint16", "toUint16"],
    "int": ["int", "toInt"],
    "int32": ["int32", "toInt32"],
    "uint32": ["uint32", "toUint32"],
}


def _casts() -> list[Fact]:
    facts = []
    for kind, methods in _CAST_METHODS.items():
        lo, hi = _CAST_RANGES[kind]
        for method in methods:
            facts += _unary(
                method.lower(),
                method,
                [(100, 100), (1.7, 1), (hi + 12345, hi), (lo - 12345, lo)],
            )
    for method in ["long", "toLong", "toInt64"]:
        facts += _unary(method.lower(), method, [(100, 100), (1.7, 1)])
    # ee_number_toint64.py: beyond the int64 range (given as doubles) becomes the range's end.
    facts += _unary(
        "toint64", "toInt64", [(2.0**63 + 12345, 2.0**63), (-(2.0**63) - 12345, -(2.0**63))]
    )
    for method in ["double", "toDouble", "float", "toFloat"]:
        facts += _unary(method.lower(), method, [(100, 100)])
    return facts


FACTS: list[Fact] = [
    *[
        Fact("ee_number.py", lambda ee, x=x: ee.Number(x), want)
        for x, want in [
            (0, 0),
            (1, 1),
            (0.0, 0),
            (1.0, 1),
            (-1.0, -1),
            (math.pi, 3.141592653589793),
            (1.2e-35, 1.2e-35),
            (3.4e10, 34000000000),
        ]
    ],
    *_unary("abs", "abs", [(-1, 1), (0, 0), (2.3, 2.3)]),
    *_unary("acos", "acos", [(-1, P("3.141592653")), (0, P("1.570796326")), (1, 0)]),
    *_unary("asin", "asin", [(-1, P("-1.570796326")), (0, 0), (1, P("1.570796326"))]),
    *_unary(
        "atan",
        "atan",
        [
            (-1e13, P("-1.570796326")),
            (-1, P("-0.785398163")),
            (0, 0),
            (1, P("0.785398163")),
            (1e13, P("1.570796326")),
        ],
    ),
    # Left is x and right is y, as the sample and the reference ("the 2D vector [x, y]") say.
    *_binary(
        "atan2",
        "atan2",
        [
            (0, 0, 0),
            (1, 0, 0),
            (0, 1, P("1.570796326")),
            (-1, 0, P("3.141592653")),
            (0, -1, P("-1.570796326")),
        ],
    ),
    *_binary("add", "add", [(5, 10, 15), (5, 10.2, 15.2), (5, -10.2, P("-5.199999999"))]),
    *_binary("and", "And", [(5, 10, 1), (5, 0, 0)]),
    *_unary(
        "bitcount", "bitCount", [(0, 0), (1, 1), (2, 1), (3, 2), (0xFFFF, 16), (-1, 64), (-2, 63)]
    ),
    Fact(N("bitcount"), lambda ee: ee.Number(-1).toInt8().bitCount(), 64),
    *_binary("bitwiseand", "bitwiseAnd", [(25, 21, 17)]),
    *_unary("bitwisenot", "bitwiseNot", [(25, -26)]),
    *_binary("bitwiseor", "bitwiseOr", [(25, 21, 29)]),
    *_binary("bitwisexor", "bitwiseXor", [(25, 21, 12)]),
    *_unary("cbrt", "cbrt", [(27, 3)]),
    *_unary("ceil", "ceil", [(2.1, 3), (2.5, 3), (2.9, 3), (-2.1, -2), (-2.5, -2), (-2.9, -2)]),
    *[
        Fact(N("clamp"), lambda ee, x=x: ee.Number(x).clamp(0, 255), want)
        for x, want in [(100, 100), (259, 255), (-259, 0)]
    ],
    *_unary(
        "cos",
        "cos",
        [(0, 1), (math.pi / 2, P("0.000000000")), (math.pi, -1), (math.pi / 4, P("0.707106781"))],
    ),
    *_unary(
        "cosh",
        "cosh",
        [
            (-5, P("74.209948524")),
            (-1, P("1.543080634")),
            (0, 1),
            (1, P("1.543080634")),
            (5, P("74.209948524")),
            (math.pi / 4, P("1.324609089")),
        ],
    ),
    # Earth Engine's digamma differs from the exact function (mpmath, scipy) by up to 4e-9 in the
    # ninth decimal (-0.577215667 for psi(1) = -0.5772156649...): those rows allow 5e-9.
    *_unary(
        "digamma",
        "digamma",
        [
            (-1.5, P("0.703156637", within=5e-9)),
            (-1, -INF),
            (0, -INF),
            (0.5, P("-1.963510028", within=5e-9)),
            (1, P("-0.577215667", within=5e-9)),
            (100, P("4.600161852")),
            (1e13, P("29.933606208")),
        ],
    ),
    *_binary(
        "divide",
        "divide",
        [
            (5, 10, 0.5),
            (5, 10.2, P("0.490196078")),
            (5, -10.2, P("-0.490196078")),
            (-10.2, 5, -2.04),
            (-10.2, -5, 2.04),
            (0, 10, 0),
            (10, 0, 0),
        ],
    ),
    *_binary("eq", "eq", [(1, 1, 1), (1.001, 1, 0)]),
    *_unary(
        "erf",
        "erf",
        [(-10, -1), (-0.001, P("-0.001128378")), (0, 0), (0.001, P("0.001128378")), (10, 1)],
    ),
    *_unary(
        "erfc",
        "erfc",
        [
            (-10, 2),
            (-0.001, P("1.001128378")),
            (0, 1),
            (0.001, P("0.998871621")),
            (10, P("2.088487583e-45")),
        ],
    ),
    *_unary("erfcinv", "erfcInv", [(0, INF), (0.001, P("2.326753765")), (1, 0)]),
    *_unary(
        "erfinv",
        "erfInv",
        [(-1, -INF), (-0.001, P("-0.000886227")), (0, 0), (0.001, P("0.000886227")), (1, INF)],
    ),
    *_unary(
        "exp", "exp", [(-1, P("0.367879441")), (0, 1), (1, P("2.718281828")), (2, P("7.389056098"))]
    ),
    *_binary("first", "first", [(1, 2, 1)]),
    *_binary("firstnonzero", "firstNonZero", [(0, 5, 5), (5, 0, 5)]),
    *_unary("floor", "floor", [(2.1, 2), (2.5, 2), (2.9, 2), (-2.1, -3), (-2.5, -3), (-2.9, -3)]),
    *[
        Fact(N("format"), lambda ee, x=x, f=f: ee.Number(x).format(f), want)
        for x, f, want in [
            (1, "%03d", "001"),
            (1.23476, "%.1f", "1.2"),
            (1.23476, "%.3f", "1.235"),
            (123476, "%.3e", "1.235e+05"),
            (123476, "%.2f", "123476.00"),
        ]
    ],
    *_unary(
        "gamma",
        "gamma",
        [
            (0.001, P("999.423772484")),
            (0.5, P("1.772453850")),
            (1, 1),
            (100, P("9.332621544e+155")),
            (200, INF),
        ],
    ),
    *_binary(
        "gammainc",
        "gammainc",
        [
            (0, 1, 0),
            (1, 1, P("0.632120558")),
            (10, 1, P("0.999954600")),
            (-1, 1, NAN),
            (10, -1, NAN),
        ],
    ),
    Fact(N("getinfo"), lambda ee: ee.Number(10.3), 10.3),
    *_binary("gt", "gt", [(5, 10, 0), (10, 5, 1)]),
    *_binary("gte", "gte", [(5, 10, 0), (10, 5, 1), (5, 5, 1)]),
    *_binary("hypot", "hypot", [(0, 0, 0), (3, 0, 3), (3, 4, 5), (-3, 4, 5), (-3, -4, 5)]),
    *_unary(
        "lanczos",
        "lanczos",
        [
            (-1, INF),
            (-0.9, P("524.955196990")),
            (0, P("32.946318679")),
            (10, P("2.281783181")),
            (1e10, P("1.000000001")),
        ],
    ),
    *_binary("leftshift", "leftShift", [(20, 2, 80)]),
    *_unary("log", "log", [(math.e**-1, -1), (1, 0), (math.e, 1)]),
    *_unary("log10", "log10", [(0.1, -1), (1, 0), (10, 1), (100, 2)]),
    *_binary("lt", "lt", [(5, 10, 1), (10, 5, 0)]),
    *_binary("lte", "lte", [(5, 10, 1), (10, 5, 0), (5, 5, 1)]),
    *_binary("max", "max", [(5, 10, 10)]),
    *_binary("min", "min", [(5, 10, 5)]),
    *_binary(
        "mod",
        "mod",
        [
            (12, 5, 2),
            (1, -2, 1),
            (1, 2, 1),
            (2, 3, 2),
            (5.5, 2, 1.5),
            (-12, 5, -2),
            (-1, 2, -1),
            (-4, 2, 0),
        ],
    ),
    *_binary(
        "multiply",
        "multiply",
        [(5, 10, 50), (-5, -10, 50), (5, 10.5, 52.5), (5, -10.5, -52.5), (0, 10, 0)],
    ),
    *_binary("neq", "neq", [(5, 10, 1), (5, 5, 0)]),
    *_unary("not", "Not", [(5, 0), (0, 1)]),
    *_binary("or", "Or", [(0, 5, 1), (0, 0, 0)]),
    Fact(N("parse"), lambda ee: ee.Number.parse("10"), 10),
    Fact(N("parse"), lambda ee: ee.Number.parse(ee.String("100")), 100),
    Fact(N("parse"), lambda ee: ee.Number.parse(ee.Feature(None, {"id": "1000"}).get("id")), 1000),
    Fact(N("parse"), lambda ee: ee.Number.parse("0001"), 1),
    Fact(N("parse"), lambda ee: ee.Number.parse("3E8", 16), 1000),
    *_binary(
        "pow",
        "pow",
        [
            (5, 2, 25),
            (-5, 2, 25),
            (5, -2, 0.04),
            (5, 2.2, P("34.493241536")),
            (5.2, 2, P("27.040000000")),
        ],
    ),
    *_binary("rightshift", "rightShift", [(20, 2, 5)]),
    *_unary("round", "round", [(10.4, 10), (10.5, 11), (10.9, 11)]),
    *_unary("signum", "signum", [(-5, -1), (0, 0), (5, 1)]),
    *_unary(
        "sin",
        "sin",
        [(0, 0), (math.pi / 2, 1), (3 * math.pi / 2, -1), (math.pi / 4, P("0.707106781"))],
    ),
    *_unary(
        "sinh",
        "sinh",
        [
            (-5, P("-74.203210577")),
            (-1, P("-1.175201193")),
            (0, 0),
            (1, P("1.175201193")),
            (5, P("74.203210577")),
            (math.pi / 4, P("0.868670961")),
        ],
    ),
    *_unary("sqrt", "sqrt", [(100, 10)]),
    *[
        Fact(N("subtract"), lambda ee, a=a, b=b: ee.Number(a).subtract(b), want)
        for a, b, want in [(5, 10, -5), (10, 5, 5), (5, 10.2, P("-5.199999999")), (5, -10.2, 15.2)]
    ],
    *_unary(
        "tan",
        "tan",
        [
            (0, 0),
            (math.pi / 2, 16331239353195370),
            (math.pi, P("0.000000000")),
            (math.pi / 4, P("1.000000000")),
        ],
    ),
    *_unary(
        "tanh",
        "tanh",
        [
            (-5, P("-0.999909204")),
            (-1, P("-0.761594155")),
            (0, 0),
            (1, P("0.761594155")),
            (5, P("0.999909204")),
            (math.pi / 4, P("0.655794202")),
        ],
    ),
    *_unary(
        "trigamma",
        "trigamma",
        [
            (-100, INF),
            (0.001, P("1000001.642533195")),
            (0.5, P("4.934802200")),
            (1, P("1.644934066")),
            (100, P("0.010050166")),
            (200, P("0.005012520")),
        ],
    ),
    *[
        Fact(N("unitscale"), lambda ee, x=x: ee.Number(x).unitScale(0, 100), want)
        for x, want in [(-10, -0.1), (10, 0.1)]
    ],
    *_casts(),
]


# ee_number_expression.py prints its results without writing them down; these rows take the
# operators' meaning (Python's arithmetic, math.pi and math.e) as the oracle. Its logical rows
# (||, &&, !) are left out: whether they give 1/0 or an operand is not documented.
_XY = {"x": 5, "y": 10}
FACTS += [
    Fact(N("expression"), lambda ee, e=e, v=v: ee.Number.expression(e, v), want)
    for e, v, want in [
        ("x + y", _XY, 15),
        ("x - y", _XY, -5),
        ("x * y", _XY, 50),
        ("x / y", _XY, 0.5),
        ("x ** y", _XY, 5**10),
        ("x % y", _XY, 5),
        ("x > y", _XY, 0),
        ("x >= y", _XY, 0),
        ("x < y", _XY, 1),
        ("x <= y", _XY, 1),
        ("x == y", _XY, 0),
        ("x != y", _XY, 1),
        ("(x < y) ? 100 : 1000", _XY, 100),
        ("100 * (x + y)", _XY, 1500),
        ("Math.PI", None, math.pi),
        ("Math.E", None, math.e),
        ("vals.x * vals.y", {"vals": _XY}, 50),
        ("add(x, y)", _XY, 15),
        ("subtract(add(x, y), 5)", _XY, 10),
    ]
]


@pytest.fixture(scope="module")
def results(ee_api) -> list[object]:
    return evaluate(ee_api, FACTS)


@pytest.mark.parametrize("index", range(len(FACTS)), ids=ids(FACTS))
def test_number_fact(results, index: int) -> None:
    check(FACTS[index], results[index])
