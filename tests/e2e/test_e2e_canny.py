"""CannyEdgeDetector through the stock client (ADR 0032).

Earth Engine documents: output bands keep the input's names; non-zero values are edges and hold
the gradient magnitude; a pixel is only an edge when its magnitude is higher than `threshold`;
`sigma` is a Gaussian pre-filter (0: none). The oracles: a step edge whose gradient is known by
hand, and on the demo B4 band (warped with rasterio onto the grown grid) a plain-loop
re-implementation of the documented steps (scipy's Gaussian, Sobel kernels convolved explicitly,
non-maximum suppression pixel by pixel).
"""

from __future__ import annotations

import math

import numpy as np
from oracle import Grid, warp_band
from scipy import ndimage
from test_e2e_kernel import compute_bands, grown, item

LON, LAT = 15.1, 45.6
GRID = Grid.centered("EPSG:4326", LON, LAT, 0.0015, 30, 24)


def test_step_edge_has_the_documented_magnitude_and_strict_threshold(ee_api) -> None:
    ee = ee_api
    # 0 west of LON, 100 east of it: the step falls between columns 14 and 15 of GRID.
    step = ee.Image.pixelLonLat().select("longitude").gt(LON).multiply(100).rename("step")
    edges = ee.Algorithms.CannyEdgeDetector(step, 49, 0)
    assert edges.bandNames().getInfo() == ["step"]
    got = compute_bands(
        ee, {"low": edges, "high": ee.Algorithms.CannyEdgeDetector(step, 50, 0)}, GRID
    )
    values, valid = got["low"]
    assert valid.all()
    want = np.zeros((GRID.height, GRID.width))
    # The change per pixel across the step, on either side of it: (100 - 0) / 2.
    want[:, 14:16] = 50.0
    np.testing.assert_allclose(values, want, atol=1e-9)
    # Only magnitudes higher than the threshold are edges.
    high, _ = got["high"]
    assert not high.any()


def oracle(v: np.ndarray, threshold: float, sigma: float) -> np.ndarray:
    """Canny as documented, on a window with a halo (NaN = masked input)."""
    ok = ~np.isnan(v)
    x = np.nan_to_num(v)
    if sigma > 0:
        x = ndimage.gaussian_filter(x, sigma, mode="nearest", truncate=3.0)
    sx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8.0
    gx = ndimage.correlate(x, sx, mode="nearest")
    gy = ndimage.correlate(x, sx.T, mode="nearest")
    mag = np.sqrt(gx**2 + gy**2)
    h, w = x.shape
    out = np.full((h, w), np.nan)
    reach = (int(3.0 * sigma + 0.5) if sigma > 0 else 0) + 2
    for r in range(1, h - 1):
        for c in range(1, w - 1):
            window = ok[max(0, r - reach) : r + reach + 1, max(0, c - reach) : c + reach + 1]
            if not window.all() or min(r, c, h - 1 - r, w - 1 - c) < reach:
                continue
            a = math.degrees(math.atan2(gy[r, c], gx[r, c])) % 180
            dr, dc = (
                (0, 1)
                if a < 22.5 or a >= 157.5
                else (1, 1)
                if a < 67.5
                else ((1, 0) if a < 112.5 else (1, -1))
            )
            m = mag[r, c]
            peak = m >= mag[r + dr, c + dc] and m >= mag[r - dr, c - dc]
            out[r, c] = m if peak and m > threshold else 0.0
    return out


def test_canny_on_b4_matches_the_documented_steps(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    got = compute_bands(
        ee,
        {
            "s1": ee.Algorithms.CannyEdgeDetector(img, 10, 1),
            "s0": ee.Algorithms.CannyEdgeDetector(image=img, threshold=30, sigma=0),
        },
        GRID,
    )
    for name, threshold, sigma in (("s1", 10, 1.0), ("s0", 30, 0.0)):
        n = (int(3.0 * sigma + 0.5) if sigma > 0 else 0) + 2
        v = warp_band(item().band_path("B4"), grown(GRID, n)).astype(np.float64)
        v = np.where(v != 0, v, np.nan)
        want = oracle(v, threshold, sigma)[n:-n, n:-n]
        values, valid = got[name]
        np.testing.assert_array_equal(valid, ~np.isnan(want), err_msg=name)
        np.testing.assert_allclose(values[valid], want[valid], rtol=1e-9, atol=1e-9)
        edges = values[valid] > 0
        assert 0.02 < edges.mean() < 0.6, (name, edges.mean())
