"""ImageCollection.formaTrend through the stock client, against a per-pixel least-squares
computation with numpy.linalg.lstsq and an explicit loop for Hansen's (1992) L_c."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from oracle import Grid

GRID = Grid("EPSG:4326", Affine(0.1, 0, 3.0, 0, -0.1, 2.0), 8, 6)
STEPS = 10


def centres() -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : GRID.height, 0 : GRID.width] + 0.5
    return 3.0 + 0.1 * cols, 2.0 - 0.1 * rows


def series_value(k: int, lon, lat):
    """Image k of the series: a trend, a break and a wiggle that vary from pixel to pixel."""
    return (
        lon * 0.3 * k
        + (lat * k * k * 0.05 if k > 5 else 0)
        + np.sin(lon * 7 + k * 1.3) * lat
        + np.cos(k * lat * 3)
    )


def series_image(ee, k: int):
    ll = ee.Image.pixelLonLat()
    lon, lat = ll.select("longitude"), ll.select("latitude")
    value = (
        lon.multiply(0.3 * k)
        .add(lat.multiply(k * k * 0.05 if k > 5 else 0))
        .add(lon.multiply(7).add(k * 1.3).sin().multiply(lat))
        .add(lat.multiply(k * 3).cos())
    )
    return value.rename("y")


def ols(y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Slope, its t statistic and the residuals of y on [1, t] by lstsq."""
    t = np.arange(len(y), dtype=float)
    x = np.column_stack([np.ones_like(t), t])
    coef, _, _, _ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    sigma2 = resid @ resid / (len(y) - 2)
    cov = sigma2 * np.linalg.inv(x.T @ x)
    return coef[1], coef[1] / np.sqrt(cov[1, 1]), resid


def hansen_lc(y: np.ndarray) -> float:
    resid = ols(y)[2]
    n = len(y)
    s2 = resid @ resid / n
    f = [np.array([resid[i], i * resid[i], resid[i] ** 2 - s2]) for i in range(n)]
    v = sum(np.outer(fi, fi) for fi in f)
    vinv = np.linalg.inv(v)
    total, s = 0.0, np.zeros(3)
    for fi in f:
        s = s + fi
        total += s @ vinv @ s
    return total / n


def expected(ys: np.ndarray, window: int) -> dict[str, np.ndarray]:
    out = {
        k: np.zeros(ys.shape[1:])
        for k in ("long-trend", "short-trend", "long-tstat", "hansen-stat")
    }
    for r in range(ys.shape[1]):
        for c in range(ys.shape[2]):
            y = ys[:, r, c]
            slope, tstat, _ = ols(y)
            out["long-trend"][r, c] = slope
            out["long-tstat"][r, c] = tstat
            out["short-trend"][r, c] = min(
                np.polyfit(np.arange(window), y[i : i + window], 1)[0]
                for i in range(len(y) - window + 1)
            )
            out["hansen-stat"][r, c] = hansen_lc(y)
    return out


def compute(ee, image) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    )


def test_forma_trend_matches_least_squares(ee_api) -> None:
    ee = ee_api
    coll = ee.ImageCollection([series_image(ee, k) for k in range(STEPS)])
    image = coll.formaTrend(None, 4)
    assert image.bandNames().getInfo() == ["long-trend", "short-trend", "long-tstat", "hansen-stat"]
    arr = compute(ee, image)
    lon, lat = centres()
    ys = np.stack([series_value(k, lon, lat) for k in range(STEPS)])
    want = expected(ys, 4)
    for name, values in want.items():
        np.testing.assert_allclose(arr[name], values, rtol=2e-5, atol=2e-6, err_msg=name)


def test_forma_trend_of_the_ratio_to_covariates_and_masks(ee_api) -> None:
    ee = ee_api
    ll = ee.Image.pixelLonLat()
    covariate = [ll.select("longitude").add(k * 0.5).rename("c") for k in range(STEPS)]
    images = [series_image(ee, k) for k in range(STEPS)]
    # one image masked east of lon 3.5: those pixels have no complete series
    images[3] = images[3].updateMask(ll.select("longitude").lt(3.5))
    image = ee.ImageCollection(images).formaTrend(ee.ImageCollection(covariate))  # window 6
    arr = compute(ee, image.addBands(image.select(0).mask().rename("m")))
    lon, lat = centres()
    ys = np.stack([series_value(k, lon, lat) / (lon + k * 0.5) for k in range(STEPS)])
    want = expected(ys, 6)
    west = lon < 3.5
    np.testing.assert_array_equal(arr["m"] == 1, west)
    for name, values in want.items():
        np.testing.assert_allclose(arr[name][west], values[west], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ee, c: c.formaTrend(None, 11), "windowSize must be between 2"),
        (lambda ee, c: c.formaTrend(c.limit(4)), "the covariates have 4 images"),
        (
            lambda ee, c: c.map(lambda i: i.addBands(i.rename("z"))).formaTrend(),
            "exactly one band",
        ),
        (lambda ee, c: c.limit(2).formaTrend(None, 2), "at least 3 images"),
    ],
)
def test_forma_trend_bad_arguments_are_clean_errors(ee_api, make, message: str) -> None:
    ee = ee_api
    coll = ee.ImageCollection([series_image(ee, k) for k in range(STEPS)])
    with pytest.raises(ee.EEException, match=message):
        make(ee, coll).bandNames().getInfo()
