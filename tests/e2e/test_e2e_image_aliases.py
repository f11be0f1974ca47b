"""Earth Engine's other names of Image algorithms (focal_min, bitwise_and, byte, long, ...)
through the stock client, each against numpy/scipy on a pattern known from pixel centres.

The pattern v = (10000 + col) % 13 + 3 * ((45999 - row) % 7) is built from Image.pixelLonLat on
a 0.001-degree grid whose pixel centres are at 10.0005 + col / 1000, 45.9995 - row / 1000.
"""

from __future__ import annotations

import numpy as np
from oracle import Grid
from scipy import ndimage

SCALE = 0.001
GRID = Grid.centered("EPSG:4326", 10.012, 45.992, SCALE, 24, 16)


def pattern(ee):
    lonlat = ee.Image.pixelLonLat()
    col = lonlat.select("longitude").multiply(1000).floor().toInt32()
    row = lonlat.select("latitude").multiply(1000).floor().toInt32()
    return col.mod(13).add(row.mod(7).multiply(3)).rename("v")


def pattern_oracle(grid: Grid, pad: int = 0) -> np.ndarray:
    """The pattern on `grid` grown by `pad` pixels on every side."""
    t = grid.transform
    rows, cols = np.mgrid[-pad : grid.height + pad, -pad : grid.width + pad]
    col = np.floor((t.c + (cols + 0.5) * t.a) * 1000 + 1e-9).astype(np.int64)
    row = np.floor((t.f + (rows + 0.5) * t.e) * 1000 + 1e-9).astype(np.int64)
    return col % 13 + (row % 7) * 3


def compute(ee, images: dict[str, object], grid: Grid = GRID) -> np.ndarray:
    stacked = None
    for name, image in images.items():
        img = ee.Image(image).rename([name])
        stacked = img if stacked is None else stacked.addBands(img)
    return ee.data.computePixels(
        {"expression": stacked, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def call(ee, name: str, *args):
    return ee.Image(ee.ApiFunction.call_(f"Image.{name}", *args))


def smallest_mode(window: np.ndarray) -> float:
    values, counts = np.unique(window, return_counts=True)
    return float(values[np.argmax(counts)])


def test_focal_snake_case_names(ee_api) -> None:
    ee = ee_api
    v = pattern(ee)
    arr = compute(
        ee,
        {
            "v": v,
            "min": call(ee, "focal_min", v, 1, "square"),
            "max": call(ee, "focal_max", v, 1, "square"),
            "median": call(ee, "focal_median", v, 1, "square"),
            "mode": call(ee, "focal_mode", v, 1, "square"),
            "mean": call(ee, "focal_mean", v, 1, "square"),
        },
    )
    grown = pattern_oracle(GRID, pad=1).astype(np.float64)
    np.testing.assert_array_equal(arr["v"], grown[1:-1, 1:-1])
    box = np.ones((3, 3), dtype=bool)
    expected = {
        "min": ndimage.minimum_filter(grown, footprint=box),
        "max": ndimage.maximum_filter(grown, footprint=box),
        "median": ndimage.median_filter(grown, footprint=box),
        "mode": ndimage.generic_filter(grown, smallest_mode, footprint=box),
        "mean": ndimage.uniform_filter(grown, size=3),
    }
    for name, full in expected.items():
        np.testing.assert_allclose(arr[name], full[1:-1, 1:-1], rtol=1e-12, err_msg=name)


def test_bitwise_snake_case_names(ee_api) -> None:
    ee = ee_api
    v = pattern(ee)
    w = v.multiply(37).add(5)
    arr = compute(
        ee,
        {
            "and": call(ee, "bitwise_and", v, w),
            "or": call(ee, "bitwise_or", v, w),
            "xor": call(ee, "bitwise_xor", v, w),
            "not": call(ee, "bitwise_not", v),
            "left": call(ee, "left_shift", v, ee.Image(3)),
            "right": call(ee, "right_shift", w, ee.Image(2)),
            "first_nonzero": call(ee, "first_nonzero", v.subtract(5).max(0), w),
        },
    )
    a = pattern_oracle(GRID)
    b = a * 37 + 5
    np.testing.assert_array_equal(arr["and"], a & b)
    np.testing.assert_array_equal(arr["or"], a | b)
    np.testing.assert_array_equal(arr["xor"], a ^ b)
    np.testing.assert_array_equal(arr["not"], ~a)
    np.testing.assert_array_equal(arr["left"], a << 3)
    np.testing.assert_array_equal(arr["right"], b >> 2)
    np.testing.assert_array_equal(arr["first_nonzero"], np.where(a > 5, a - 5, b))


# alias -> numpy type it casts to
CASTS = {
    "uint8": "uint8",
    "byte": "uint8",
    "toByte": "uint8",
    "int8": "int8",
    "uint16": "uint16",
    "int16": "int16",
    "short": "int16",
    "toShort": "int16",
    "int": "int32",
    "int32": "int32",
    "uint32": "uint32",
    "long": "int64",
    "toLong": "int64",
    "int64": "int64",
    "float": "float32",
    "double": "float64",
}


def test_cast_short_names_saturate_like_numpy_clip(ee_api) -> None:
    ee = ee_api
    # (v - 20) * 1000.25 spans about -20000 .. 28000: negative, above 255 and above 32767.
    x = pattern(ee).subtract(20).multiply(1000.25)
    arr = compute(ee, {name: call(ee, name, x) for name in CASTS})
    values = (pattern_oracle(GRID) - 20) * 1000.25
    assert values.min() < -128 and values.max() > 255
    for name, dtype in CASTS.items():
        target = np.dtype(dtype)
        assert arr[name].dtype == target, name
        if target.kind == "f":
            expected = values.astype(target)
        else:
            info = np.iinfo(target)
            expected = np.clip(np.trunc(values), info.min, info.max).astype(target)
        np.testing.assert_array_equal(arr[name], expected, err_msg=name)
