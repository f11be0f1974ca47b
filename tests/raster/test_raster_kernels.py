"""The pixel kernels of the special, colour, lookup, noise and relocation modules, against
Python's math and colorsys, numpy and exact affine arithmetic."""

from __future__ import annotations

import colorsys
import math

import numpy as np
import pytest
from affine import Affine

from openee.raster.color import hsv_to_rgb, rgb_to_hsv, value_color
from openee.raster.grid import PixelGrid
from openee.raster.lookup import InterpolatedBand, RemappedBand
from openee.raster.noise import RandomBand
from openee.raster.relocate import ChangedProjectionBand
from openee.raster.sources import BandSource
from openee.raster.special import SPECIAL_UNARY, bit_count, lanczos
from openee.raster.spectral import unmix_pixels


class ColumnBand(BandSource):
    """Each pixel's value is its column's CRS x coordinate (a test input)."""

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def read(self, grid: PixelGrid):
        from openee.raster.pixels import Pixels

        cols = np.arange(grid.width) + 0.5
        x = grid.transform.c + cols * grid.transform.a
        data = np.broadcast_to(x, grid.shape).copy()
        return Pixels(data, np.ones(grid.shape, dtype=bool))


GRID = PixelGrid("EPSG:3857", Affine(10.0, 0, 1000.0, 0, -10.0, 5000.0), 64, 48)


def test_gamma_and_erf_match_math() -> None:
    x = np.linspace(0.1, 6.0, 50)
    np.testing.assert_allclose(SPECIAL_UNARY["gamma"](x), [math.gamma(v) for v in x], rtol=1e-13)
    np.testing.assert_allclose(
        SPECIAL_UNARY["erf"](x - 3), [math.erf(v - 3) for v in x], atol=1e-15
    )
    t = x + 607 / 128 + 0.5
    from_sum = math.sqrt(2 * math.pi) / x * t ** (x + 0.5) * np.exp(-t) * lanczos(x)
    np.testing.assert_allclose(from_sum, [math.gamma(v) for v in x], rtol=1e-13)


def test_inverse_error_functions_are_nan_outside_their_domain() -> None:
    y = np.array([-1.5, -0.5, 0.0, 0.5, 1.5])
    got = SPECIAL_UNARY["erfInv"](y)
    assert np.isnan(got[[0, 4]]).all()
    np.testing.assert_allclose([math.erf(v) for v in got[1:4]], y[1:4], atol=1e-15)
    assert np.isnan(SPECIAL_UNARY["erfcInv"](np.array([-0.1, 2.1]))).all()


def test_bit_count_uses_64_bit_twos_complement() -> None:
    values = np.array([0, 1, 255, -1, -2, 2**40 + 3], dtype=np.int64)
    assert bit_count(values).tolist() == [0, 1, 8, 64, 63, 3]
    assert bit_count(np.array([3.9, -1.5])).tolist() == [2, 64]


def test_colour_conversions_match_colorsys() -> None:
    rng = np.random.default_rng(1)
    r, g, b = rng.random((3, 200))
    r[:5] = g[:5] = b[:5]  # greys
    h, s, v = rgb_to_hsv(r, g, b)
    expected = np.array([colorsys.rgb_to_hsv(*p) for p in zip(r, g, b, strict=True)]).T
    np.testing.assert_allclose(np.stack([h, s, v]), expected, atol=1e-12)
    back = np.stack(hsv_to_rgb(h, s, v))
    np.testing.assert_allclose(back, np.stack([r, g, b]), atol=1e-12)


def test_value_colour_is_a_function_of_the_value() -> None:
    values = np.array([1.0, 2.0, 1.0, -0.0, 0.0])
    red = value_color(values, 0)
    assert red[0] == red[2] and red[3] == red[4]


def test_remap_interpolate_on_a_grid() -> None:
    source = ColumnBand()
    grid = PixelGrid("EPSG:3857", Affine(1.0, 0, 0.0, 0, -1.0, 0.0), 6, 1)  # x = 0.5 .. 5.5
    remapped = RemappedBand(source, (0.5, 2.5), (10.0, 20.0), None, "int32").read(grid)
    assert remapped.valid.tolist() == [[True, False, True, False, False, False]]
    assert remapped.data[0, [0, 2]].tolist() == [10, 20]
    clamped = InterpolatedBand(source, (1.0, 3.0), (0.0, 1.0), "clamp").read(grid)
    np.testing.assert_allclose(clamped.data[0], np.clip((np.arange(6) + 0.5 - 1) / 2, 0, 1))


def test_random_values_do_not_depend_on_the_chunking() -> None:
    band = RandomBand(11, "uniform")
    whole = band.read(GRID).data
    for row, col, chunk in GRID.chunks(17):
        part = band.read(chunk).data
        np.testing.assert_array_equal(
            part, whole[row : row + chunk.height, col : col + chunk.width]
        )
    assert not np.array_equal(RandomBand(12, "uniform").read(GRID).data, whole)


def test_change_proj_reads_the_mapped_grid() -> None:
    src = (10.0, 0.0, 0.0, 0.0, -10.0, 0.0)
    dst = (10.0, 0.0, 500.0, 0.0, -10.0, 0.0)  # shifted 500 units east
    moved = ChangedProjectionBand(ColumnBand(), "EPSG:3857", src, "EPSG:3857", dst).read(GRID)
    expected = GRID.transform.c - 500 + (np.arange(GRID.width) + 0.5) * 10
    np.testing.assert_allclose(moved.data[0], expected)


@pytest.mark.parametrize(("sum_to_one", "non_negative"), [(False, False), (True, True)])
def test_unmix_recovers_mixtures(sum_to_one: bool, non_negative: bool) -> None:
    members = np.array([[1.0, 0.2, 0.1], [0.1, 0.9, 0.3]])
    fractions = np.array([[0.3, 0.6, 1.0], [0.7, 0.4, 0.0]])
    x = members.T @ fractions
    got = unmix_pixels(x, members, sum_to_one, non_negative)
    np.testing.assert_allclose(got, fractions, atol=1e-6)
