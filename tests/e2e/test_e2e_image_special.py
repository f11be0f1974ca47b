"""Image special functions (gamma, digamma, trigamma, erf, erfc, erfInv, erfcInv, lanczos,
gammainc, bitCount) through the stock client, against Python's math module and identities.

Inputs come from Image.pixelLonLat on a small EPSG:4326 grid, so each pixel's input is known
exactly from its centre; no openee value is used as an expectation.
"""

from __future__ import annotations

import math

import numpy as np
from oracle import Grid

GRID = Grid.centered("EPSG:4326", 2.0, 0.0, 0.1, 36, 4)  # longitudes 0.25 .. 3.75
SQRT_2PI = math.sqrt(2 * math.pi)
LANCZOS_G = 607 / 128  # Earth Engine's (Apache Commons Math's) Lanczos g


def centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    return t.c + cols * t.a, t.f + rows * t.e


def compute(ee, images: dict[str, object], grid: Grid = GRID) -> np.ndarray:
    stacked = None
    for name, image in images.items():
        img = ee.Image(image).rename([name])
        stacked = img if stacked is None else stacked.addBands(img)
    return ee.data.computePixels(
        {"expression": stacked, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def elementwise(fn, x: np.ndarray) -> np.ndarray:
    return np.vectorize(fn, otypes=[np.float64])(x)


def lower_gamma_series(a: float, x: float) -> float:
    """P(a, x) = x^a e^-x sum_n x^n / Gamma(a + n + 1), summed until the terms vanish."""
    total, n = 0.0, 0
    while True:
        term = math.exp((a + n) * math.log(x) - x - math.lgamma(a + n + 1))
        total += term
        n += 1
        if term < 1e-18 * total:
            return total


def test_gamma_family_matches_math(ee_api) -> None:
    ee = ee_api
    lon = ee.Image.pixelLonLat().select("longitude")
    arr = compute(
        ee,
        {
            "gamma": lon.gamma(),
            "digamma": lon.digamma(),
            "trigamma": lon.trigamma(),
            "lanczos": lon.lanczos(),
            "gammainc": lon.gammainc(lon.multiply(0.5).add(1)),
        },
    )
    x, _ = centres(GRID)
    assert arr["gamma"].dtype == np.float64
    np.testing.assert_allclose(arr["gamma"], elementwise(math.gamma, x), rtol=1e-12)
    # digamma and trigamma: the first and second derivatives of log Gamma, by central differences.
    h = 1e-4
    lg = np.vectorize(math.lgamma)
    np.testing.assert_allclose(arr["digamma"], (lg(x + h) - lg(x - h)) / (2 * h), atol=1e-8)
    second = (lg(x + h) - 2 * lg(x) + lg(x - h)) / h**2
    np.testing.assert_allclose(arr["trigamma"], second, rtol=1e-5)
    # The Lanczos sum A(x) is what makes Gamma(x) = sqrt(2 pi) / x * t^(x+1/2) e^-t A(x).
    t = x + LANCZOS_G + 0.5
    from_sum = SQRT_2PI / x * t ** (x + 0.5) * np.exp(-t) * arr["lanczos"]
    np.testing.assert_allclose(from_sum, elementwise(math.gamma, x), rtol=1e-13)
    expected = np.vectorize(lower_gamma_series)(x * 0.5 + 1, x)  # gammainc(x, a): left is x
    np.testing.assert_allclose(arr["gammainc"], expected, rtol=1e-10)


def test_error_functions_and_their_inverses(ee_api) -> None:
    ee = ee_api
    lon = ee.Image.pixelLonLat().select("longitude")
    unit = lon.divide(2).subtract(1)  # -0.875 .. 0.875
    arr = compute(
        ee,
        {
            "erf": unit.erf(),
            "erfc": unit.erfc(),
            "erfInv": unit.erfInv(),
            "erfcInv": unit.add(1).erfcInv(),
        },
    )
    x, _ = centres(GRID)
    y = x / 2 - 1
    np.testing.assert_allclose(arr["erf"], elementwise(math.erf, y), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(arr["erfc"], elementwise(math.erfc, y), rtol=1e-13)
    np.testing.assert_allclose(elementwise(math.erf, arr["erfInv"]), y, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(elementwise(math.erfc, arr["erfcInv"]), y + 1, rtol=1e-12)
    assert np.all(np.sign(arr["erfInv"]) == np.sign(y))


def test_bit_count_counts_64_bit_twos_complement_ones(ee_api) -> None:
    ee = ee_api
    lon = ee.Image.pixelLonLat().select("longitude")
    values = lon.multiply(1000).subtract(2000).toInt64()  # -1750 .. 1750: negatives have ~60 ones
    arr = compute(ee, {"bits": values.bitCount(), "v": values})
    x, _ = centres(GRID)
    expected_values = np.trunc(x * 1000 - 2000).astype(np.int64)
    np.testing.assert_array_equal(arr["v"], expected_values)
    expected = [bin(int(v) & (2**64 - 1)).count("1") for v in expected_values.ravel()]
    np.testing.assert_array_equal(arr["bits"].ravel(), expected)
    assert arr["bits"].dtype == np.uint8
