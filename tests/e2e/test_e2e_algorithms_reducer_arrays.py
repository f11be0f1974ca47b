"""Array-valued and weighted reducers through the stock client: covariances, ridge and robust
regressions, the geometric median, 2-D histograms, histogram merging, forEachBand,
disaggregate and splitWeights; on lists (List.reduce, reduceColumns) and on pixels
(reduceRegion on a real Sentinel-2 scene).

Oracles: numpy (cov, lstsq on an augmented system, histogram2d, average), scipy (the F
distribution, a general-purpose minimiser) and rasterio reads of the same band files.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
from test_e2e_reduce_region import CLEAR, FIELD, ee_field, image, inside, item, read

pytestmark = pytest.mark.e2e

ARRAYS = [[1.0, 2.0, 0.5], [2.0, 1.0, 1.5], [4.0, 3.5, 0.0], [3.0, 5.0, 2.0], [0.5, 2.5, 1.0]]
# (x1, x2, y) rows; y is roughly 1.5 x1 - 0.5 x2 + 2.
REGRESSION = [
    [1.0, 2.0, 2.4],
    [2.0, 1.0, 4.6],
    [3.0, 4.0, 4.4],
    [4.0, 3.0, 6.6],
    [5.0, 5.0, 6.9],
    [6.0, 2.0, 9.8],
    [7.0, 6.0, 9.6],
]


def test_covariances(ee_api) -> None:
    R = ee_api.Reducer
    got = ee_api.Dictionary(
        {
            "cov": ee_api.List(ARRAYS).reduce(R.covariance()),
            "centered": ee_api.List(ARRAYS).reduce(R.centeredCovariance()),
        }
    ).getInfo()
    data = np.array(ARRAYS)
    assert np.allclose(got["cov"], np.cov(data, rowvar=False), rtol=1e-12)
    # centeredCovariance takes the data as centred: sum of outer products over n - 1.
    outer = sum(np.outer(row, row) for row in data) / (len(data) - 1)
    assert np.allclose(got["centered"], outer, rtol=1e-12)


def test_covariance_in_reduce_columns(ee_api) -> None:
    """A column of array properties, reduced with reduceColumns."""
    fc = ee_api.FeatureCollection([ee_api.Feature(None, {"v": row}) for row in ARRAYS])
    got = fc.reduceColumns(ee_api.Reducer.covariance(), ["v"]).getInfo()
    assert np.allclose(got["covariance"], np.cov(np.array(ARRAYS), rowvar=False), rtol=1e-12)


def test_ridge_regression(ee_api) -> None:
    lam = 0.5
    got = ee_api.List(REGRESSION).reduce(ee_api.Reducer.ridgeRegression(2, 1, lam)).getInfo()
    data = np.array(REGRESSION)
    x, y = data[:, :2], data[:, 2]
    # Oracle: minimise |y - X b - c|^2 + lam |b|^2 as one augmented least-squares problem.
    design = np.vstack([np.column_stack([x, np.ones(len(x))]), np.sqrt(lam) * np.eye(2, 3)])
    target = np.concatenate([y, np.zeros(2)])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    assert np.ravel(got["coefficients"]) == pytest.approx(solution, rel=1e-9)
    fitted = np.column_stack([x, np.ones(len(x))]) @ solution
    assert got["residuals"] == pytest.approx([np.sqrt(np.mean((y - fitted) ** 2))], rel=1e-9)
    ssr, sse = np.sum((fitted - y.mean()) ** 2), np.sum((y - fitted) ** 2)
    p = scipy.stats.f.sf((ssr / 2) / (sse / (len(y) - 3)), 2, len(y) - 3)
    assert got["pValue"] == pytest.approx([p], rel=1e-6)
    # Fewer rows than numX + 1: null outputs.
    short = ee_api.List(REGRESSION[:2]).reduce(ee_api.Reducer.ridgeRegression(2)).getInfo()
    assert short == {"coefficients": None, "residuals": None, "pValue": None}


def test_robust_linear_regression(ee_api) -> None:
    """One gross outlier: the robust fit equals least squares on the other rows."""
    xs = np.arange(1.0, 11.0)
    ys = 2.0 * xs + 1.0 + np.array([0.1, -0.2, 0.15, -0.1, 0.05, -0.15, 0.2, -0.05, 0.1, -0.1])
    ys[6] = 60.0
    rows = [[1.0, float(x), float(y)] for x, y in zip(xs, ys, strict=True)]
    got = ee_api.List(rows).reduce(ee_api.Reducer.robustLinearRegression(2)).getInfo()
    keep = np.arange(len(xs)) != 6
    design = np.column_stack([np.ones(len(xs)), xs])
    coef, *_ = np.linalg.lstsq(design[keep], ys[keep], rcond=None)
    assert np.ravel(got["coefficients"]) == pytest.approx(coef, rel=1e-9)
    rms = np.sqrt(np.mean((ys - design @ coef) ** 2))
    assert got["residuals"] == pytest.approx([rms], rel=1e-9)


def test_geometric_median(ee_api) -> None:
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [3.0, 4.0], [12.0, 9.0], [5.0, 1.0]])
    got = ee_api.List(points.tolist()).reduce(ee_api.Reducer.geometricMedian(2, 1e-9)).getInfo()
    total = lambda p: np.linalg.norm(points - p, axis=1).sum()  # noqa: E731
    best = scipy.optimize.minimize(total, points.mean(axis=0), method="Nelder-Mead",
                                   options={"xatol": 1e-10, "fatol": 1e-12}).x  # fmt: skip
    assert got == pytest.approx(best, abs=1e-5)
    assert total(np.array(got)) <= total(best) + 1e-9


def test_fixed_2d_histogram(ee_api) -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(-1, 11, size=(60, 2)).round(3)
    got = ee_api.List(xy.tolist()).reduce(ee_api.Reducer.fixed2DHistogram(0, 10, 5, 0, 10, 4))
    got = got.getInfo()
    counts, xedges, yedges = np.histogram2d(
        xy[:, 0], xy[:, 1], bins=[5, 4], range=[[0, 10], [0, 10]]
    )
    # numpy's last bin is closed; Earth Engine's [min, max) is not: no value equals 10 here.
    assert got["histogram"] == counts.astype(int).tolist()
    assert got["xBuckets"] == pytest.approx(xedges[:-1])
    assert got["yBuckets"] == pytest.approx(yedges[:-1])


def test_histogram_combiner(ee_api) -> None:
    first = [1.0, 2.0, 2.5, 3.0, 7.0]
    second = [4.0, 4.5, 9.0, 1.5]
    R = ee_api.Reducer
    histograms = ee_api.List(
        [
            ee_api.List(first).reduce(R.histogram(8, 1)),
            ee_api.List(second).reduce(R.histogram(8, 1)),
        ]
    )
    got = histograms.reduce(R.histogramCombiner()).getInfo()
    values = np.array(first + second)
    width = got["bucketWidth"]
    assert width == 1
    edges = got["bucketMin"] + width * np.arange(len(got["histogram"]) + 1)
    counts, _ = np.histogram(values, bins=edges)
    assert got["histogram"] == counts.tolist()
    for mean, lo, hi, n in zip(got["bucketMeans"], edges, edges[1:], counts, strict=False):
        if n:
            assert mean == pytest.approx(values[(values >= lo) & (values < hi)].mean())


def test_disaggregate(ee_api) -> None:
    R = ee_api.Reducer
    nested = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    got = ee_api.Dictionary(
        {
            "flat": ee_api.List([[1, 2, 3], [4, 5], 6]).reduce(R.sum().disaggregate()),
            "deep": ee_api.List(nested).reduce(R.toList().disaggregate()),
            "rows": ee_api.List(nested).reduce(R.toList().disaggregate(0)),
            "columns": ee_api.List(nested).reduce(R.toList().disaggregate(1)),
            "dict": ee_api.List([{"a": 1, "b": 10}, {"c": 100}]).reduce(R.max().disaggregate()),
            "pairs": ee_api.List([[[1, 2], [10, 20]], [[3], [30]]]).reduce(
                R.linearFit().disaggregate()
            ),
        }
    ).getInfo()
    assert got["flat"] == 1 + 2 + 3 + 4 + 5 + 6
    assert got["deep"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert got["rows"] == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert got["columns"] == [[1, 3], [2, 4], [5, 7], [6, 8]]
    assert got["dict"] == 100
    assert got["pairs"] == pytest.approx({"scale": 10.0, "offset": 0.0}, abs=1e-12)


def test_split_weights_and_for_each_band_on_lists(ee_api) -> None:
    values = [3.0, 5.0, 10.0, 4.0]
    weights = [1.0, 2.0, 0.5, 4.0]
    rows = [[v, w] for v, w in zip(values, weights, strict=True)]
    R = ee_api.Reducer
    img = ee_api.Image.constant([1, 2]).rename(["red", "nir"])
    got = ee_api.Dictionary(
        {
            "mean": ee_api.List(rows).reduce(R.mean().splitWeights()),
            "sum": ee_api.List(rows).reduce(R.sum().splitWeights()),
            "variance": ee_api.List(rows).reduce(R.variance().splitWeights()),
            "stdDev": ee_api.List(rows).reduce(R.stdDev().splitWeights()),
            "outputs": R.max().forEachBand(img).getOutputs(),
            "perBand": ee_api.List(rows).reduce(R.max().forEachBand(img)),
        }
    ).getInfo()
    mean = np.average(values, weights=weights)
    variance = np.average((np.array(values) - mean) ** 2, weights=weights)
    assert got["mean"] == pytest.approx(mean)
    assert got["sum"] == pytest.approx(np.dot(values, weights))
    assert got["variance"] == pytest.approx(variance)
    assert got["stdDev"] == pytest.approx(np.sqrt(variance))
    assert got["outputs"] == ["red", "nir"]
    assert got["perBand"] == {"red": max(values), "nir": max(weights)}
    with pytest.raises(ee_api.EEException, match="no weighted input"):
        R.median().splitWeights().getInfo()


def test_on_pixels(ee_api) -> None:
    """reduceRegion over a field of the real scene: B4 and B8 as (value, weight), (x, y)."""
    region = ee_field(ee_api)
    img = image(ee_api, CLEAR).select(["B4", "B8"])
    R = ee_api.Reducer
    got = ee_api.Dictionary(
        {
            "weighted": img.reduceRegion(R.mean().splitWeights(), region, 120),
            "ridge": img.reduceRegion(R.ridgeRegression(1, 1, 0.0), region, 120),
            "hist2d": img.reduceRegion(R.fixed2DHistogram(0, 4000.5, 4, 0, 6000.5, 3), region, 120),
            "perBand": img.reduceRegion(R.minMax().forEachBand(img), region, 120),
            "covariance": img.select("B4").reduceRegion(R.covariance(), region, 120),
        }
    ).getInfo()
    red, transform = read(item(CLEAR).band_path("B4"))
    nir, _ = read(item(CLEAR).band_path("B8"))
    # Multi-input reducers take the pixels where every band is valid.
    both = inside(FIELD, red.shape, transform) & (red != 0) & (nir != 0)
    b4, b8 = red[both].astype(np.float64), nir[both].astype(np.float64)
    assert b4.size > 100
    assert got["weighted"]["mean"] == pytest.approx(np.average(b4, weights=b8), rel=1e-9)
    slope, offset = np.polyfit(b4, b8, 1)  # lambda 0: ordinary least squares
    assert np.ravel(got["ridge"]["coefficients"]) == pytest.approx([slope, offset], rel=1e-9)
    counts, _, _ = np.histogram2d(b4, b8, bins=[4, 3], range=[[0, 4000.5], [0, 6000.5]])
    assert got["hist2d"]["histogram"] == counts.astype(int).tolist()
    assert got["perBand"] == {
        "B4_min": b4.min(),
        "B4_max": b4.max(),
        "B8_min": b8.min(),
        "B8_max": b8.max(),
    }
    # A one-input reducer takes each band on its own valid pixels.
    red_only = red[inside(FIELD, red.shape, transform) & (red != 0)].astype(np.float64)
    assert np.ravel(got["covariance"]["B4"]) == pytest.approx([np.var(red_only, ddof=1)], rel=1e-9)
