"""FeatureCollection.inverseDistance and FeatureCollection.kriging through the stock client, on a
500 m UTM grid with computePixels.

Oracles: the formulas of the algorithms' descriptions written independently, per pixel in plain
loops: geodesic distances from pyproj.Geod one pair at a time, IDW weights as (1/d - 1/R)^2, and
ordinary kriging solved per pixel with scipy.linalg in its covariance form
(C(h) = sill - g(h), which gives the same weights as the semivariogram form)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from affine import Affine
from oracle import Grid
from pyproj import Geod, Transformer

pytestmark = pytest.mark.e2e

CRS = "EPSG:32633"
X0, Y0, PIXEL, WIDTH, HEIGHT = 500_000.0, 5_100_000.0, 500.0, 16, 12
GRID = Grid(CRS, Affine(PIXEL, 0, X0, 0, -PIXEL, Y0), WIDTH, HEIGHT)
GEOD = Geod(ellps="WGS84")
TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
# (x, y) offsets in metres from the grid's corner, and values; two points share a place.
SITES = [(1200, -900, 4.0), (5300, -2100, 9.0), (2600, -4700, 1.5), (6900, -5200, 7.0),
         (3100, -2700, 5.5), (7600, -800, 2.0), (3100, -2700, 6.5)]  # fmt: skip


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return TO_LONLAT.transform(x, y)


def _points(reduce=np.mean) -> list[tuple[float, float, float]]:
    by_place: dict[tuple[float, float], list[float]] = {}
    for dx, dy, v in SITES:
        by_place.setdefault(_lonlat(X0 + dx, Y0 + dy), []).append(v)
    return [(lon, lat, float(reduce(vs))) for (lon, lat), vs in by_place.items()]


def _pixel_centres():
    for row in range(HEIGHT):
        for col in range(WIDTH):
            yield row, col, _lonlat(X0 + (col + 0.5) * PIXEL, Y0 - (row + 0.5) * PIXEL)


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def _collection(ee):
    features = []
    for dx, dy, v in SITES:
        lon, lat = _lonlat(X0 + dx, Y0 + dy)
        features.append(ee.Feature(ee.Geometry.Point([lon, lat]), {"t": v}))
    features.append(ee.Feature(ee.Geometry.Point([15.0, 46.0]), {"other": 1}))  # no 't'
    return ee.FeatureCollection(features)


def _compute(ee, image) -> np.ma.MaskedArray:
    got = ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    )
    return got


def _idw_oracle(points, radius, mean, gamma):
    out = np.full((HEIGHT, WIDTH), np.nan)
    for row, col, centre in _pixel_centres():
        num, den, exact = 0.0, 0.0, []
        for lon, lat, v in points:
            d = _distance(centre, (lon, lat))
            if d == 0:
                exact.append(v)
            elif d < radius:
                w = (1 / d - 1 / radius) ** 2
                num += w * (v - mean)
                den += w
        if exact:
            out[row, col] = sum(exact) / len(exact)
        elif den > 0:
            out[row, col] = mean + num / (den + gamma / radius**2)
    return out


@pytest.mark.parametrize(("gamma", "reducer"), [(1.0, None), (3.0, "max")])
def test_inverse_distance_matches_formula(ee_api, gamma, reducer) -> None:
    ee = ee_api
    radius, mean = 1800.0, 5.0
    ee_reducer = None if reducer is None else getattr(ee.Reducer, reducer)()
    image = _collection(ee).inverseDistance(radius, "t", mean, 2.0, gamma, ee_reducer)
    got = _compute(ee, image)
    assert got.dtype.names == ("t",)
    expected = _idw_oracle(_points(np.max if reducer else np.mean), radius, mean, gamma)
    values = np.asarray(got["t"], dtype=np.float64)
    covered = ~np.isnan(expected)
    assert 0 < covered.sum() < covered.size  # some pixels are out of range of every point
    np.testing.assert_allclose(values[covered], expected[covered], rtol=1e-9, atol=1e-9)


def _variogram(shape: str, h: float, radius: float, sill: float, nugget: float) -> float:
    if h == 0:
        return 0.0
    r = h / radius
    if shape == "spherical":
        part = 1.0 if r >= 1 else r * (3 - r * r) / 2
    elif shape == "exponential":
        part = 1 - math.exp(-3 * r)
    else:
        part = 1 - math.exp(-3 * r * r)
    return nugget + (sill - nugget) * part


def _kriging_oracle(points, shape, radius, sill, nugget, reach):
    def cov(h: float) -> float:
        return sill - _variogram(shape, h, radius, sill, nugget)

    out = np.full((HEIGHT, WIDTH), np.nan)
    for row, col, centre in _pixel_centres():
        near = [p for p in points if _distance(centre, (p[0], p[1])) <= reach]
        if not near:
            continue
        n = len(near)
        a = np.zeros((n + 1, n + 1))
        b = np.zeros(n + 1)
        for i, p in enumerate(near):
            for j, q in enumerate(near):
                a[i, j] = cov(_distance((p[0], p[1]), (q[0], q[1])))
            a[i, n] = a[n, i] = 1.0
            b[i] = cov(_distance(centre, (p[0], p[1])))
        b[n] = 1.0
        weights = scipy.linalg.solve(a, b)[:n]
        out[row, col] = float(np.dot(weights, [p[2] for p in near]))
    return out


@pytest.mark.parametrize(
    ("shape", "radius", "sill", "nugget", "max_distance"),
    [
        ("spherical", 6000.0, 4.0, 0.5, None),
        ("exponential", 5000.0, 3.0, 0.0, 4000.0),
        ("gaussian", 7000.0, 2.0, 0.2, 20000.0),
    ],
)
def test_kriging_matches_per_pixel_solution(
    ee_api, shape, radius, sill, nugget, max_distance
) -> None:
    ee = ee_api
    image = _collection(ee).kriging("t", shape, radius, sill, nugget, max_distance)
    got = _compute(ee, image)
    reach = radius if max_distance is None else max_distance
    expected = _kriging_oracle(_points(), shape, radius, sill, nugget, reach)
    values = np.asarray(got["t"], dtype=np.float64)
    covered = ~np.isnan(expected)
    assert covered.sum() > 0
    np.testing.assert_allclose(values[covered], expected[covered], rtol=1e-7, atol=1e-7)


def test_masked_where_no_point_is_in_range(ee_api) -> None:
    ee = ee_api
    image = _collection(ee).kriging("t", "spherical", 1000.0, 1.0, 0.0).mask()
    mask = np.asarray(_compute(ee, image)["t"])
    expected = _kriging_oracle(_points(), "spherical", 1000.0, 1.0, 0.0, 1000.0)
    np.testing.assert_array_equal(mask != 0, ~np.isnan(expected))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda ee, fc: fc.kriging("t", "cubic", 1000, 1, 0), "Unknown semivariogram shape"),
        (lambda ee, fc: fc.kriging("t", "spherical", -5, 1, 0), "range must be a positive"),
        (lambda ee, fc: fc.kriging("t", "spherical", 1000, 1, 2), "nugget must be between"),
        (lambda ee, fc: fc.inverseDistance(0, "t", 1, 1), "range must be a positive"),
        (lambda ee, fc: fc.inverseDistance(1000, "t", 1, -1), "stdDev must be a positive"),
        (
            lambda ee, fc: fc.inverseDistance(1000, "t", 1, 1, 1, ee.Reducer.stdDev()),
            "not supported to collapse overlapping points",
        ),
        (
            lambda ee, fc: ee.FeatureCollection(
                [ee.Feature(ee.Geometry.Point([15, 46]), {"t": "warm"})]
            ).inverseDistance(1000, "t", 1, 1),
            "must be a number",
        ),
    ],
)
def test_bad_arguments_are_clean_errors(ee_api, build, message) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        _compute(ee, build(ee, _collection(ee)))
