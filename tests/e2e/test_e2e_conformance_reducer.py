"""Conformance: the Reducer and ConfusionMatrix apidocs samples at value level, through the
stock client.

Reducer rows are the values documented in google/earthengine-community
samples/python/apidocs/ee_reducer_count.py and samples/javascript/apidocs/ee-reducer-minmax.js
(their List and Array parts; the image parts read catalog data). The ConfusionMatrix samples
(ee_confusionmatrix*.py) print the statistics of one documented 6x6 matrix without their values,
so those are checked against the textbook formulas the samples name (overall accuracy, consumer's
accuracy = 1 - commission error, producer's accuracy = 1 - omission error, Cohen's kappa),
computed with numpy, and the documented default/explicit `order`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.e2e

# The matrix of the ee_confusionmatrix*.py samples (rows actual, columns predicted).
MATRIX = [
    [32, 0, 0, 0, 1, 0],
    [0, 5, 0, 0, 1, 0],
    [0, 0, 1, 3, 0, 0],
    [0, 1, 4, 26, 8, 0],
    [0, 0, 0, 7, 15, 0],
    [0, 0, 0, 1, 0, 5],
]


def _reducer_rows(ee: Any) -> list[tuple[str, Any, Any]]:
    count = ee.Reducer.count()
    an_array = ee.Array([[1, 0, 3], [1, 2, 3]])
    return [
        ("ee_reducer_count.py", ee.List([]).reduce(count), 0),
        ("ee_reducer_count.py", ee.List([0]).reduce(count), 1),
        ("ee_reducer_count.py", ee.List([-1]).reduce(count), 1),
        ("ee_reducer_count.py", ee.List([1, None, 3]).reduce(count), 2),
        ("ee_reducer_count.py", ee.List([1, "", 3]).reduce(count), 3),
        ("ee_reducer_count.py", ee.Array([1, 0, 3]).reduce(count, [0]), [3]),
        ("ee_reducer_count.py", an_array.reduce(count, [0]), [[2, 2, 2]]),
        ("ee_reducer_count.py", an_array.reduce(count, [1]), [[3], [3]]),
        ("ee_reducer_count.py", an_array.reduce(count, [1, 0]), [[6]]),
        (
            "ee-reducer-minmax.js",
            ee.List([1, 2, 3, 4]).reduce(ee.Reducer.minMax()),
            {"max": 4, "min": 1},
        ),
        (
            "ee-reducer-minmax.js",
            ee.Array([[1], [2], [3], [4]]).reduce(ee.Reducer.minMax(), [0], 1),
            [[1, 4]],
        ),
    ]


def test_reducer_samples(ee_api) -> None:
    ee = ee_api
    rows = _reducer_rows(ee)
    got = ee.List([value for _, value, _ in rows]).getInfo()
    mismatches = [
        (sample, value, want)
        for (sample, _, want), value in zip(rows, got, strict=True)
        if value != want
    ]
    assert not mismatches


def test_confusion_matrix_samples(ee_api) -> None:
    ee = ee_api
    matrix = ee.ConfusionMatrix(ee.Array(MATRIX))
    got = ee.List(
        [
            matrix.array(),
            matrix.accuracy(),
            matrix.consumersAccuracy(),
            matrix.producersAccuracy(),
            matrix.kappa(),
            ee.ConfusionMatrix(ee.Array(MATRIX), None).order(),
            ee.ConfusionMatrix(ee.Array(MATRIX), [11, 22, 42, 52, 71, 81]).order(),
        ]
    ).getInfo()
    m = np.array(MATRIX, dtype=float)
    total = m.sum()
    diagonal = np.diag(m)
    expected_agreement = (m.sum(axis=0) * m.sum(axis=1)).sum() / total**2
    accuracy = diagonal.sum() / total
    assert got[0] == MATRIX  # ee_confusionmatrix_array.py
    assert got[1] == pytest.approx(accuracy, abs=1e-12)
    # Consumer's accuracy per predicted class (columns): one row.
    assert np.array(got[2]) == pytest.approx((diagonal / m.sum(axis=0))[None, :], abs=1e-12)
    # Producer's accuracy per actual class (rows): one column.
    assert np.array(got[3]) == pytest.approx((diagonal / m.sum(axis=1))[:, None], abs=1e-12)
    kappa = (accuracy - expected_agreement) / (1 - expected_agreement)
    assert got[4] == pytest.approx(kappa, abs=1e-12)
    # ee_confusionmatrix.py, ee_confusionmatrix_order.py: "When unspecified, the class labels
    # are assumed to be a 0-based sequence incrementing by 1".
    assert got[5] == [0, 1, 2, 3, 4, 5]
    assert got[6] == [11, 22, 42, 52, 71, 81]


def test_min_max_output_names(ee_api) -> None:
    """ee-reducer-minmax.js: over an image ('NDVI'), a neighbourhood and a collection the
    minMax outputs are bands 'NDVI_min' and 'NDVI_max' (the sample displays those bands), and a
    region reduction gives those keys. Constant images stand in for MODIS NDVI."""
    ee = ee_api
    ndvi = ee.Image.constant(5000).rename("NDVI")
    region = ee.Geometry.Point([-122.443, 37.753]).buffer(10000).bounds()
    col = ee.ImageCollection([ndvi, ee.Image.constant(7000).rename("NDVI")])
    got = ee.List(
        [
            ndvi.reduceNeighborhood(
                reducer=ee.Reducer.minMax(), kernel=ee.Kernel.square(3)
            ).bandNames(),
            col.reduce(ee.Reducer.minMax()).bandNames(),
            ndvi.reduceRegion(reducer=ee.Reducer.minMax(), geometry=region, scale=1000),
            col.reduce(ee.Reducer.minMax()).reduceRegion(
                reducer=ee.Reducer.first(), geometry=region, scale=1000
            ),
        ]
    ).getInfo()
    assert got[0] == ["NDVI_min", "NDVI_max"]
    assert got[1] == ["NDVI_min", "NDVI_max"]
    assert got[2] == {"NDVI_min": 5000, "NDVI_max": 5000}
    assert got[3] == {"NDVI_min": 5000, "NDVI_max": 7000}


def test_neighborhood_min_max_values(ee_api) -> None:
    """reduceNeighborhood(minMax) over a 3x3 square of pixelLonLat's longitude, on a 0.01 degree
    grid: the minimum is the centre's longitude minus one pixel, the maximum plus one pixel."""
    ee = ee_api
    lon = ee.Image.pixelLonLat().select("longitude").rename("NDVI")
    out = lon.reduceNeighborhood(reducer=ee.Reducer.minMax(), kernel=ee.Kernel.square(1))
    proj = ee.Projection("EPSG:4326").scale(0.01, 0.01)
    got = (
        out.addBands(lon)
        .reduceRegion(ee.Reducer.first(), ee.Geometry.Point([10.005, 45.005]), crs=proj)
        .getInfo()
    )
    assert got["NDVI"] == pytest.approx(10.005, abs=1e-9)
    assert got["NDVI_min"] == pytest.approx(9.995, abs=1e-9)
    assert got["NDVI_max"] == pytest.approx(10.015, abs=1e-9)
