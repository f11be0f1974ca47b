"""Point interpolation recipes do not depend on how a request is cut into chunks, and honour
their exact-at-the-points and masking rules."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import Transformer

from openee.raster.grid import PixelGrid
from openee.raster.interpolate import InverseDistanceBand, KrigingBand, PointSet, semivariance

GRID = PixelGrid("EPSG:32633", Affine(250.0, 0, 500_000.0, 0, -250.0, 5_100_000.0), 40, 30)
TO_LONLAT = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
# Values at a few pixel centres (col, row) and one point off the lattice.
SITES = [(3, 4, 2.0), (20, 10, 8.0), (35, 25, 5.0), (12, 22, 3.5)]
ON_PIXELS = [
    (*TO_LONLAT.transform(500_000 + (c + 0.5) * 250, 5_100_000 - (r + 0.5) * 250), v)
    for c, r, v in SITES
]
POINTS = (*ON_PIXELS, (*TO_LONLAT.transform(505_123.0, 5_096_456.0), 6.0))
BANDS = [
    InverseDistanceBand(PointSet(POINTS), 3000.0, 5.0, 1.0),
    KrigingBand(PointSet(POINTS), "spherical", 6000.0, 4.0, 0.5, 6000.0),
    KrigingBand(PointSet(POINTS), "gaussian", 5000.0, 2.0, 0.0, 4000.0),
]


@pytest.mark.parametrize("band", BANDS)
def test_chunks_agree_with_the_whole(band) -> None:
    whole = band.read(GRID)
    for row, col, chunk in GRID.chunks(16):
        part = band.read(chunk)
        h, w = chunk.shape
        np.testing.assert_array_equal(part.valid, whole.valid[row : row + h, col : col + w])
        np.testing.assert_allclose(
            part.data, whole.data[row : row + h, col : col + w], rtol=0, atol=1e-9
        )


@pytest.mark.parametrize("band", BANDS)
def test_exact_at_the_points(band) -> None:
    got = band.read(GRID)
    for col, row, value in SITES:
        assert got.valid[row, col]
        assert got.data[row, col] == pytest.approx(value, abs=1e-9)


def test_masked_beyond_every_window() -> None:
    band = InverseDistanceBand(PointSet(POINTS[:1]), 1000.0, 0.0, 1.0)
    valid = band.read(GRID).valid
    rows, cols = np.nonzero(valid)
    # Only pixel centres within 1 km of the point at (col 3, row 4): at most 4 pixels away.
    assert valid.sum() > 0
    assert np.all(np.hypot(rows - 4, cols - 3) * 250 < 1000 * 1.01)


@pytest.mark.parametrize("shape", ["spherical", "exponential", "gaussian"])
def test_semivariogram_shape(shape) -> None:
    h = np.array([0.0, 1e-6, 1000.0, 10_000.0])
    g = semivariance(shape, h, 1000.0, 3.0, 0.5)
    assert g[0] == 0.0
    assert g[1] == pytest.approx(0.5, abs=1e-5)  # the nugget just off zero
    assert g[2] == pytest.approx(3.0 if shape == "spherical" else 0.5 + 2.5 * (1 - np.exp(-3)))
    assert g[3] == pytest.approx(3.0, abs=1e-9)
