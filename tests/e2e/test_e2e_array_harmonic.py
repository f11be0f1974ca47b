"""The harmonic regression of Earth Engine's arrays guide (samples/python/guides/arrays04.py)
over a 60-image collection, its coefficients found the three ways the guide shows
(matrixInverse of the normal equations, matrixPseudoInverse, matrixSolve), through the stock
client (issue 11, item 14).

Oracle: numpy least squares per pixel on the scenes read with rasterio. The 60 images cycle
the five 33TWM scenes with times 23 days apart, so the design is well conditioned.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from oracle import Grid, load_items

pytestmark = pytest.mark.e2e

ROW0, COL0, HEIGHT, WIDTH = 505, 160, 4, 5
GRID = Grid("EPSG:32633", Affine(120, 0, 499980 + 120 * COL0, 0, -120, 5200020 - 120 * ROW0),
            WIDTH, HEIGHT)  # fmt: skip
N_IMAGES = 60
T0_MS = 1_546_300_800_000
STEP_MS = 23 * 86_400_000
YEAR_MS = 365.25 * 86_400_000
NAMES = ["constant", "t", "sin", "cos"]


def _scenes(band: str) -> np.ndarray:
    items = sorted((i for i in load_items() if "33TWM" in i.id), key=lambda i: i.time_start_ms)
    layers = []
    for item in items:
        with rasterio.open(item.band_path(band)) as src:
            layers.append(src.read(1, window=((ROW0, ROW0 + HEIGHT), (COL0, COL0 + WIDTH))))
    return np.stack(layers).astype(np.float64)


def _oracle() -> np.ndarray:
    """(row, col, 4) least-squares coefficients of NDVI on [1, t, sin 2πt, cos 2πt]."""
    b4, b8 = _scenes("B4"), _scenes("B8")
    scene = np.arange(N_IMAGES) % len(b4)
    t = np.arange(N_IMAGES) * STEP_MS / YEAR_MS
    design = np.stack([np.ones_like(t), t, np.sin(2 * math.pi * t), np.cos(2 * math.pi * t)], 1)
    out = np.zeros((HEIGHT, WIDTH, 4))
    for r in range(HEIGHT):
        for c in range(WIDTH):
            valid = (b4[scene, r, c] != 0) & (b8[scene, r, c] != 0)
            nir, red = b8[scene, r, c], b4[scene, r, c]
            ndvi = (nir - red) / (nir + red)
            out[r, c] = np.linalg.lstsq(design[valid], ndvi[valid], rcond=None)[0]
    return out


def _coefficients(ee):
    scenes = (
        ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
        .filter(ee.Filter.stringContains("system:index", "33TWM"))
        .sort("system:time_start")
        .toList(5)
    )
    images = [
        ee.Image(scenes.get(i % 5)).set("system:time_start", T0_MS + i * STEP_MS)
        for i in range(N_IMAGES)
    ]

    def variables(image):
        years = ee.Number(image.get("system:time_start")).subtract(T0_MS).divide(YEAR_MS)
        season = ee.Image.constant(years).multiply(2 * math.pi)
        return (
            image.select([])
            .addBands(ee.Image(1))
            .addBands(ee.Image.constant(years).rename("t"))
            .addBands(season.sin().rename("sin"))
            .addBands(season.cos().rename("cos"))
            .addBands(image.normalizedDifference(["B8", "B4"]).rename("NDVI"))
            .toFloat()
        )

    array = ee.ImageCollection(images).map(variables).toArray()
    x, y = array.arraySlice(1, 0, 4), array.arraySlice(1, 4)
    ways = {
        "inv": x.arrayTranspose().matrixMultiply(x).matrixInverse()
        .matrixMultiply(x.arrayTranspose()).matrixMultiply(y),
        "pinv": x.matrixPseudoInverse().matrixMultiply(y),
        "solve": x.matrixSolve(y),
    }  # fmt: skip
    flat = [
        c.arrayProject([0]).arrayFlatten([[f"{way}_{n}" for n in NAMES]]) for way, c in ways.items()
    ]
    return ee.Image.cat(flat)


def test_harmonic_regression_three_ways_match_numpy(ee_api) -> None:
    ee = ee_api
    image = _coefficients(ee)
    request = {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    got = ee.data.computePixels(request)
    want = _oracle()
    for way in ("inv", "pinv", "solve"):
        for i, n in enumerate(NAMES):
            np.testing.assert_allclose(got[f"{way}_{n}"], want[..., i], atol=1e-6, err_msg=way)
    # Its speed (each file read once, the collection array computed once per chunk) is a
    # benchmark, not a test: bench/harmonic_regression.py; tests/raster/test_raster_shared_reads.py
    # counts the reads.
