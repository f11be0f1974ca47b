"""Image.rsedTransform through the stock client on the demo Sentinel-2 item: bright pixels
(B4 > 1500) as parabolas of height 20, on a 120 m grid.

Oracle: the input fetched on a grid grown by the neighbourhood on each side, and the upper
envelope max(0, v - dx^2 - dy^2) over every source within the square window, in numpy."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from oracle import Grid

pytestmark = pytest.mark.e2e

IMAGE_ID = "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWM_20230815_0_L2A"
X0, Y0, PIXEL, WIDTH, HEIGHT = 530_020.0, 5_140_020.0, 120.0, 40, 30


def _grid(margin: int) -> dict:
    transform = Affine(PIXEL, 0, X0 - margin * PIXEL, 0, -PIXEL, Y0 + margin * PIXEL)
    return Grid("EPSG:32633", transform, WIDTH + 2 * margin, HEIGHT + 2 * margin).to_pixel_grid()


def _envelope(values: np.ndarray, margin: int, neighborhood: int) -> np.ndarray:
    out = np.zeros((HEIGHT, WIDTH))
    rows, cols = np.nonzero(values)
    for r, c in zip(rows, cols, strict=True):
        v = values[r, c]
        for row in range(
            max(0, r - margin - neighborhood), min(HEIGHT, r - margin + neighborhood + 1)
        ):
            for col in range(
                max(0, c - margin - neighborhood), min(WIDTH, c - margin + neighborhood + 1)
            ):
                d2 = (row + margin - r) ** 2 + (col + margin - c) ** 2
                out[row, col] = max(out[row, col], v - d2)
    return out


@pytest.mark.parametrize("neighborhood", [3, 256])
def test_rsed_transform_matches_parabola_envelope(ee_api, neighborhood) -> None:
    ee = ee_api
    bright = ee.Image(IMAGE_ID).select("B4").gt(1500).multiply(20).rename("b")
    margin = 6  # sqrt(20) < 5: no parabola reaches farther
    source = ee.data.computePixels(
        {"expression": bright, "fileFormat": "NUMPY_NDARRAY", "grid": _grid(margin)}
    )
    values = np.asarray(source["b"], dtype=np.float64)
    assert 0 < np.count_nonzero(values) < values.size / 2
    got = ee.data.computePixels(
        {
            "expression": bright.rsedTransform(neighborhood),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": _grid(0),
        }
    )
    assert got.dtype.names == ("b",)
    np.testing.assert_array_equal(
        np.asarray(got["b"]), _envelope(values, margin, min(neighborhood, margin))
    )


def test_rsed_transform_bad_units(ee_api) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match="only units 'pixels'"):
        ee.Image(1).rsedTransform(10, "meters").getInfo()
