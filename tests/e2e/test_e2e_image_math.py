"""Every band-math operator and cast through the stock client, against numpy on the oracle's warp.

Inputs are B4 and B8 of one Sentinel-2 item, warped by the oracle (exact nearest) onto a grid
that leaves the tile, so masks are exercised too. Each group of operators is one computePixels
request with a band per operator (plus its mask). Integer results must be exact, floats within
1e-6 relative; output pixel types follow docs/decisions/0004-pixel-types-of-band-math.md and
0022-division-is-floating-point.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from oracle import Grid, load_items, warp_band

GRID = Grid.centered("EPSG:4326", 15.02, 45.6, 0.0015, 48, 32)  # the tile's west edge crosses it


def item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = warp_band(item().band_path("B4"), GRID).astype(np.int64)
    b = warp_band(item().band_path("B8"), GRID).astype(np.int64)
    return a, b, (a != 0) & (b != 0)


def compute_bands(ee, images: dict[str, object], grid: Grid = GRID) -> np.ndarray:
    """One computePixels request: band `name` and its mask `name__m` for every image."""
    stacked = None
    for name, image in images.items():
        img = ee.Image(image)
        pair = img.rename([name]).addBands(img.mask().rename([f"{name}__m"]))
        stacked = pair if stacked is None else stacked.addBands(pair)
    return ee.data.computePixels(
        {"expression": stacked, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


Case = tuple[Callable[[object, object, object], object], Callable[..., np.ndarray], str]


def safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b in floating point, 0 where b is 0 (docs/decisions/0022)."""
    return np.where(b == 0, 0, a / np.where(b == 0, 1, b))


# name -> (image from (ee, b4, b8), expected from (a, b), output dtype kind/name)
BINARY: dict[str, Case] = {
    "eq": (lambda ee, x, y: x.eq(y), lambda a, b: a == b, "uint8"),
    "neq": (lambda ee, x, y: x.neq(y), lambda a, b: a != b, "uint8"),
    "lt": (lambda ee, x, y: x.lt(y), lambda a, b: a < b, "uint8"),
    "lte": (lambda ee, x, y: x.lte(y), lambda a, b: a <= b, "uint8"),
    "gt": (lambda ee, x, y: x.gt(y), lambda a, b: a > b, "uint8"),
    "gte": (lambda ee, x, y: x.gte(y), lambda a, b: a >= b, "uint8"),
    "and": (lambda ee, x, y: x.gt(1000).And(y.gt(2500)), lambda a, b: (a > 1000) & (b > 2500),
            "uint8"),
    "or": (lambda ee, x, y: x.gt(1000).Or(y.gt(2500)), lambda a, b: (a > 1000) | (b > 2500),
           "uint8"),
    "add": (lambda ee, x, y: x.add(y), lambda a, b: a + b, "int32"),
    "subtract": (lambda ee, x, y: x.subtract(y), lambda a, b: a - b, "int32"),
    "multiply": (lambda ee, x, y: x.multiply(y), lambda a, b: a * b, "int32"),
    "divide": (lambda ee, x, y: y.divide(x), lambda a, b: safe_div(b, a), "float64"),
    "divide_zero": (lambda ee, x, y: x.divide(x.gt(1000)), lambda a, b: np.where(a > 1000, a, 0),
                    "float64"),
    "mod": (lambda ee, x, y: y.mod(x), lambda a, b: np.fmod(b, a), "uint16"),
    "max": (lambda ee, x, y: x.max(y), np.maximum, "uint16"),
    "min": (lambda ee, x, y: x.min(y), np.minimum, "uint16"),
    "first": (lambda ee, x, y: x.first(y), lambda a, b: a, "uint16"),
    "firstNonZero": (lambda ee, x, y: x.gt(1000).multiply(x).firstNonZero(y),
                     lambda a, b: np.where(a > 1000, a, b), "int32"),
    "bitwiseAnd": (lambda ee, x, y: x.bitwiseAnd(y), np.bitwise_and, "uint16"),
    "bitwiseOr": (lambda ee, x, y: x.bitwiseOr(y), np.bitwise_or, "uint16"),
    "bitwiseXor": (lambda ee, x, y: x.bitwiseXor(y), np.bitwise_xor, "uint16"),
    "leftShift": (lambda ee, x, y: x.leftShift(2), lambda a, b: a << 2, "uint16"),
    "rightShift": (lambda ee, x, y: x.rightShift(3), lambda a, b: a >> 3, "uint16"),
    "bitwiseNot": (lambda ee, x, y: x.bitwiseNot(), lambda a, b: np.invert(a.astype(np.uint16)),
                   "uint16"),
    "not": (lambda ee, x, y: x.gt(1000).Not(), lambda a, b: ~(a > 1000), "uint8"),
    "signum": (lambda ee, x, y: x.subtract(y).signum(), lambda a, b: np.sign(a - b), "int32"),
    "abs": (lambda ee, x, y: x.subtract(y).abs(), lambda a, b: np.abs(a - b), "int32"),
}  # fmt: skip

# Float operators on x = B4 / 10000 and y = B8 / 10000 (both within [0, 1) here).
FLOAT: dict[str, Case] = {
    "pow": (lambda ee, x, y: x.pow(y), np.power, "float64"),
    "pow_number": (lambda ee, x, y: x.pow(2), lambda a, b: a**2, "float64"),
    # x is the left operand, y the right one (ee_number_atan2 documents it).
    "atan2": (lambda ee, x, y: x.atan2(y), lambda a, b: np.arctan2(b, a), "float64"),
    "hypot": (lambda ee, x, y: x.hypot(y), np.hypot, "float64"),
    "divide_f": (lambda ee, x, y: x.divide(y), lambda a, b: a / b, "float64"),
    "mod_f": (lambda ee, x, y: y.mod(x), lambda a, b: np.fmod(b, a), "float64"),
    "sqrt": (lambda ee, x, y: x.sqrt(), lambda a, b: np.sqrt(a), "float64"),
    "exp": (lambda ee, x, y: x.exp(), lambda a, b: np.exp(a), "float64"),
    "log": (lambda ee, x, y: x.log(), lambda a, b: np.log(a), "float64"),
    "log10": (lambda ee, x, y: x.log10(), lambda a, b: np.log10(a), "float64"),
    "sin": (lambda ee, x, y: x.sin(), lambda a, b: np.sin(a), "float64"),
    "cos": (lambda ee, x, y: x.cos(), lambda a, b: np.cos(a), "float64"),
    "tan": (lambda ee, x, y: x.tan(), lambda a, b: np.tan(a), "float64"),
    "asin": (lambda ee, x, y: x.asin(), lambda a, b: np.arcsin(a), "float64"),
    "acos": (lambda ee, x, y: x.acos(), lambda a, b: np.arccos(a), "float64"),
    "atan": (lambda ee, x, y: x.atan(), lambda a, b: np.arctan(a), "float64"),
    "sinh": (lambda ee, x, y: x.sinh(), lambda a, b: np.sinh(a), "float64"),
    "cosh": (lambda ee, x, y: x.cosh(), lambda a, b: np.cosh(a), "float64"),
    "tanh": (lambda ee, x, y: x.tanh(), lambda a, b: np.tanh(a), "float64"),
    "cbrt": (lambda ee, x, y: x.subtract(y).cbrt(), lambda a, b: np.cbrt(a - b), "float64"),
    # x*10 - 3 spans about -3..2: floor, ceil and round meet negative halves.
    "floor": (lambda ee, x, y: x.multiply(10).subtract(3).floor(),
              lambda a, b: np.floor(a * 10 - 3), "float64"),
    "ceil": (lambda ee, x, y: x.multiply(10).subtract(3).ceil(),
             lambda a, b: np.ceil(a * 10 - 3), "float64"),
    "round": (lambda ee, x, y: x.multiply(10).subtract(3).round(),
              lambda a, b: np.floor(a * 10 - 3 + 0.5), "float64"),
    "abs_f": (lambda ee, x, y: x.subtract(y).abs(), lambda a, b: np.abs(a - b), "float64"),
    "signum_f": (lambda ee, x, y: x.subtract(y).signum(), lambda a, b: np.sign(a - b), "float64"),
}  # fmt: skip


def _check(arr: np.ndarray, cases: dict[str, Case], a, b, valid, exact: bool) -> None:
    for name, (_, expected_of, dtype) in cases.items():
        values, mask = arr[name], arr[f"{name}__m"] == 1
        np.testing.assert_array_equal(mask, valid, err_msg=name)
        with np.errstate(all="ignore"):
            expected = np.asarray(expected_of(a, b))
        assert values.dtype == np.dtype(dtype), f"{name}: {values.dtype} != {dtype}"
        if exact:
            np.testing.assert_array_equal(values[valid], expected[valid], err_msg=name)
        else:
            np.testing.assert_allclose(values[valid], expected[valid], rtol=1e-6, err_msg=name)


def test_integer_operators(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    x, y = img.select("B4"), img.select("B8")
    arr = compute_bands(ee, {name: make(ee, x, y) for name, (make, _, _) in BINARY.items()})
    a, b, valid = inputs()
    assert valid.any() and not valid.all()
    _check(arr, BINARY, a, b, valid, exact=True)


def test_float_operators(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    x, y = img.select("B4").divide(10000.0), img.select("B8").divide(10000.0)
    arr = compute_bands(ee, {name: make(ee, x, y) for name, (make, _, _) in FLOAT.items()})
    a, b, valid = inputs()
    _check(arr, FLOAT, a / 10000.0, b / 10000.0, valid, exact=False)


CASTS = {
    "toFloat": np.float32,
    "toDouble": np.float64,
    "toInt": np.int32,
    "toUint8": np.uint8,
    "toInt8": np.int8,
    "toUint16": np.uint16,
    "toInt16": np.int16,
    "toUint32": np.uint32,
    "toInt32": np.int32,
    "toInt64": np.int64,
}


def test_casts_saturate_and_truncate(ee_api) -> None:
    ee = ee_api
    # (B4 - 1500) / 7: negative and positive, fractional, beyond int8 and uint8.
    value = ee.Image(item().image_id).select("B4").subtract(1500).divide(7.0)
    arr = compute_bands(ee, {name: getattr(value, name)() for name in CASTS})
    a, _, _ = inputs()
    valid = a != 0
    v = (a - 1500) / 7.0
    for name, dtype in CASTS.items():
        values = arr[name]
        assert values.dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(arr[f"{name}__m"] == 1, valid, err_msg=name)
        if np.dtype(dtype).kind == "f":
            expected = v.astype(dtype)
        else:
            info = np.iinfo(dtype)
            expected = np.clip(np.trunc(v), info.min, info.max).astype(dtype)
        np.testing.assert_array_equal(values[valid], expected[valid], err_msg=name)


@pytest.mark.parametrize(
    ("low", "high"), [(500.0, 2500.0), (-1.0, 1.0)], ids=["inside", "everything-above"]
)
def test_clamp_unit_scale_where(ee_api, low: float, high: float) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    x, y = img.select("B4"), img.select("B8")
    arr = compute_bands(
        ee,
        {
            "clamp": x.clamp(low, high),
            "unitScale": x.unitScale(low, high),
            "where": x.where(y.gt(2500), y.multiply(2)),
            "where_number": x.where(x.gt(1500), 7),
        },
    )
    a, b, _ = inputs()
    ok_a = a != 0
    np.testing.assert_array_equal(arr["clamp"][ok_a], np.clip(a, low, high)[ok_a])
    assert arr["clamp"].dtype == np.uint16  # an integer band stays integer
    np.testing.assert_allclose(arr["unitScale"][ok_a], ((a - low) / (high - low))[ok_a], rtol=1e-9)
    # where: masks come from input where the test is false, from value where it is true.
    take = (b != 0) & (b > 2500)
    expected = np.where(take, 2 * b, a)
    expected_valid = np.where(take, b != 0, ok_a)
    np.testing.assert_array_equal(arr["where__m"] == 1, expected_valid)
    np.testing.assert_array_equal(arr["where"][expected_valid], expected[expected_valid])
    np.testing.assert_array_equal(arr["where_number"][ok_a], np.where(a > 1500, 7, a)[ok_a])
