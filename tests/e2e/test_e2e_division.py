"""Division and the other arithmetic operators give Earth Engine's documented numbers.

Oracles: the values Earth Engine documents in its apidocs samples (ee_number_divide.py,
ee_number_mod.py, ee_number_pow.py, ee_number_add.py, ee_number_subtract.py,
ee_number_multiply.py, ee_array_pow.py) and its Image math guide, and numpy on the band files
read with rasterio at their native grid (no resampling, so values compare exactly).
See docs/decisions/0022-division-is-floating-point.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from oracle import Grid, load_items
from rasterio.windows import Window

pytestmark = pytest.mark.e2e

# A 64 x 48 window of the demo tile's native 120 m grid (EPSG:32633), inside the data.
COL, ROW, WIDTH, HEIGHT = 300, 400, 64, 48


def item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def native_grid() -> Grid:
    with rasterio.open(item().band_path("B4")) as ds:
        transform = ds.window_transform(Window(COL, ROW, WIDTH, HEIGHT))
        return Grid(ds.crs.to_string(), transform, WIDTH, HEIGHT)


def read(band: str) -> np.ndarray:
    """The band's uint16 pixels on the native window, straight from the file."""
    with rasterio.open(item().band_path(band)) as ds:
        data = ds.read(1, window=Window(COL, ROW, WIDTH, HEIGHT))
    assert data.dtype == np.uint16
    return data


def compute(ee, images: dict[str, object], grid: Grid) -> np.ndarray:
    """One computePixels request: band `name` and its mask `name__m` for every image."""
    stacked = None
    for name, image in images.items():
        img = ee.Image(image)
        pair = img.rename([name]).addBands(img.mask().rename([f"{name}__m"]))
        stacked = pair if stacked is None else stacked.addBands(pair)
    return ee.data.computePixels(
        {"expression": stacked, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def _same(got: object, want: float) -> bool:
    if math.isinf(want) or math.isnan(want):
        return got is None  # non-finite numbers travel as null in JSON
    return isinstance(got, int | float) and got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_number_divide_gives_the_documented_values(ee_api) -> None:
    ee = ee_api
    # ee_number_divide.py: inputs and the outputs printed in its comments; 10.5 / 0 follows the
    # reference text "returning 0 for division by 0".
    cases = [
        (5, 10, 0.5),
        (5, 10.2, 0.490196078),
        (5, -10.2, -0.490196078),
        (-10.2, 5, -2.04),
        (-10.2, -5, 2.04),
        (0, 10, 0),
        (10, 0, 0),
        (10.5, 0, 0),
        (7, 2, 3.5),
        (-7, 2, -3.5),
    ]
    got = ee.List([ee.Number(a).divide(ee.Number(b)) for a, b, _ in cases]).getInfo()
    for (a, b, want), value in zip(cases, got, strict=True):
        assert value == pytest.approx(want, rel=1e-8), f"{a} / {b}"


def test_number_operators_give_the_documented_values(ee_api) -> None:
    ee = ee_api
    cases = [
        # ee_number_mod.py: the remainder has the sign of the dividend.
        ("mod", 12, 5, 2),
        ("mod", 1, -2, 1),
        ("mod", 1, 2, 1),
        ("mod", 2, 3, 2),
        ("mod", 5.5, 2, 1.5),
        ("mod", -12, 5, -2),
        ("mod", -1, 2, -1),
        ("mod", -4, 2, 0),
        # ee_number_pow.py
        ("pow", 5, 2, 25),
        ("pow", -5, 2, 25),
        ("pow", 5, -2, 0.04),
        ("pow", 5, 2.2, 34.493241536),
        ("pow", 5.2, 2, 27.04),
        # ee_array_pow.py (integer bases and exponents): IEEE results, no error.
        ("pow", -2, -1, -0.5),
        ("pow", 0, -2, math.inf),
        ("pow", 0, 0, 1),
        # ee_number_add.py, ee_number_subtract.py, ee_number_multiply.py
        ("add", 5, 10, 15),
        ("add", 5, 10.2, 15.2),
        ("add", 5, -10.2, -5.2),
        ("subtract", 5, 10, -5),
        ("subtract", 5, -10.2, 15.2),
        ("multiply", -5, -10, 50),
        ("multiply", 5, -10.5, -52.5),
    ]
    got = ee.List([getattr(ee.Number(a), op)(b) for op, a, b, _ in cases]).getInfo()
    for (op, a, b, want), value in zip(cases, got, strict=True):
        assert _same(value, want), f"{op}({a}, {b}) = {value!r}, want {want}"


def test_uint16_bands_divided_by_10000_are_reflectances(ee_api) -> None:
    ee = ee_api
    # Earth Engine's own S2 SR examples scale with .divide(10000) and display 0..0.3
    # (ee_image_addbands.py: img.select('B.*').divide(10000)).
    img = ee.Image(item().image_id)
    arr = compute(
        ee,
        {
            "b4": img.select("B4").divide(10000),
            "b8": img.select(["B4", "B8"]).divide(10000).select("B8"),
            "ratio": img.select("B8").divide(img.select("B4")),
        },
        native_grid(),
    )
    b4, b8 = read("B4").astype(np.float64), read("B8").astype(np.float64)
    valid = (b4 != 0) & (b8 != 0)
    assert valid.all()
    for name, expected in (("b4", b4 / 10000), ("b8", b8 / 10000), ("ratio", b8 / b4)):
        assert arr[name].dtype.kind == "f", name
        np.testing.assert_array_equal(arr[f"{name}__m"] == 1, valid, err_msg=name)
        np.testing.assert_allclose(arr[name], expected, rtol=1e-12, err_msg=name)
    assert arr["b4"].min() > 0 and arr["b4"].max() < 1  # reflectances, not 0 or 1


def _ndvi(nir: np.ndarray, red: np.ndarray) -> np.ndarray:
    nir, red = nir.astype(np.float64), red.astype(np.float64)
    total = nir + red
    return np.where(total == 0, 0, (nir - red) / np.where(total == 0, 1, total))


def test_ndvi_of_integer_bands_is_floating_point(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    b4, b8 = img.select("B4"), img.select("B8")
    arr = compute(
        ee,
        {
            "ops": b8.subtract(b4).divide(b8.add(b4)),
            # ee_image_expression.py: the same NDVI written three ways on uint16 bands, shown 0..0.5.
            "named": ee.Image().expression("(NIR - RED) / (NIR + RED)", {"NIR": b8, "RED": b4}),
            "b": img.expression('(b("B8") - b("B4")) / (b("B8") + b("B4"))'),
            "dot": ee.Image().expression("(s2.B8 - s2.B4) / (s2.B8 + s2.B4)", {"s2": img}),
        },
        native_grid(),
    )
    expected = _ndvi(read("B8"), read("B4"))
    assert expected.min() < 0.1 and expected.max() > 0.3  # a range truncation would erase
    for name in ("ops", "named", "b", "dot"):
        assert arr[name].dtype.kind == "f", name
        np.testing.assert_allclose(arr[name], expected, rtol=1e-12, atol=1e-15, err_msg=name)


def test_expression_literals_and_logical_xor(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    arr = compute(
        ee,
        {
            # Image math guide: expression() divides two integers with "floor division":
            # 10 / 20 = 0, and 10 * 1.0 / 20 = 0.5.
            "ints": img.expression("10 / 20"),
            "float": img.expression("10 * 1.0 / 20"),
            "mixed": img.expression("B4 / 20"),
            # Undocumented for negatives; truncation pairs with `%` keeping the dividend's sign.
            "neg": img.expression("-7 / 2"),
            # ee_image_expression.py lists ^ with && || ! as a logical operator (Xor).
            "xor": img.expression("B4 ^ (B8 > 2500)"),
        },
        native_grid(),
    )
    b4, b8 = read("B4"), read("B8")
    assert (arr["ints"] == 0).all() and (arr["float"] == 0.5).all() and (arr["neg"] == -3).all()
    np.testing.assert_allclose(arr["mixed"], b4 / 20.0, rtol=1e-12)
    expected_xor = (b4 != 0) ^ (b8 > 2500)
    assert expected_xor.any() and not expected_xor.all()
    np.testing.assert_array_equal(arr["xor"], expected_xor.astype(np.uint8))
    # Number.expression shares the grammar: ^ is logical there too.
    got = ee.List(
        [ee.Number.expression(e, {"x": 5, "y": 10}) for e in ("x ^ y", "x ^ 0", "x / y")]
    ).getInfo()
    assert got == [0, 1, 0.5]


def test_integer_constant_images(ee_api) -> None:
    ee = ee_api
    grid = Grid.centered("EPSG:4326", 15.0, 45.0, 0.01, 2, 2)
    cases = {
        "div": (ee.Image(5).divide(10), 0.5),
        "div_img": (ee.Image(5).divide(ee.Image(10)), 0.5),
        "div_neg": (ee.Image(-7).divide(2), -3.5),
        "div_zero": (ee.Image(7).divide(0), 0.0),  # Image.divide: "returning 0 for division by 0"
        "add_u8": (ee.Image(200).add(100), 300),  # uint8 inputs: no wrap-around
        "mul_u8": (ee.Image(200).multiply(ee.Image(200)), 40000),
        "mod_neg": (ee.Image(-12).mod(5), -2),  # as ee_number_mod.py
        "pow_neg": (ee.Image(2).pow(-2), 0.25),  # as ee_array_pow.py
    }
    arr = compute(ee, {name: image for name, (image, _) in cases.items()}, grid)
    for name, (_, want) in cases.items():
        np.testing.assert_array_equal(arr[name], np.full((2, 2), want), err_msg=name)
    for name in ("div", "div_img", "div_neg", "div_zero", "pow_neg"):
        assert arr[name].dtype.kind == "f", name
