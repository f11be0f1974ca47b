"""getPixels' `region` grid: the grid's whole pixels covering the region's bounds, rescaled to
`dimensions` when given. The oracle is rasterio's window arithmetic on the same transform."""

from __future__ import annotations

import math

import pytest
import rasterio.windows
import shapely.geometry
from affine import Affine

from openee.services.pixels import region_grid
from openee.values.geometry import Geometry

UTM = "EPSG:32633"
NATIVE = Affine(120.0, 0.0, 499980.0, 0.0, -120.0, 5200020.0)


def _box(xmin: float, ymin: float, xmax: float, ymax: float) -> Geometry:
    return Geometry(shapely.geometry.box(xmin, ymin, xmax, ymax), UTM, False)


def _window(xmin: float, ymin: float, xmax: float, ymax: float) -> tuple[int, int, int, int]:
    w = rasterio.windows.from_bounds(xmin, ymin, xmax, ymax, NATIVE)
    col0, row0 = math.floor(w.col_off + 1e-9), math.floor(w.row_off + 1e-9)
    col1 = math.ceil(w.col_off + w.width - 1e-9)
    row1 = math.ceil(w.row_off + w.height - 1e-9)
    return col0, row0, col1 - col0, row1 - row0


@pytest.mark.parametrize(
    "bounds",
    [
        (510_000.0, 5_150_000.0, 512_000.0, 5_152_000.0),  # inside pixels
        (
            499_980.0 + 120 * 10,
            5_200_020.0 - 120 * 30,
            499_980.0 + 120 * 25,
            5_200_020.0 - 120 * 12,
        ),
    ],
)
def test_window_of_whole_pixels(bounds: tuple[float, float, float, float]) -> None:
    col0, row0, width, height = _window(*bounds)
    grid = region_grid(UTM, NATIVE, None, _box(*bounds))
    assert (grid.width, grid.height) == (width, height)
    assert grid.transform == NATIVE @ Affine.translation(col0, row0)


def test_bounds_on_pixel_edges_add_no_pixel() -> None:
    x0, y0 = 499_980.0 + 120 * 10, 5_200_020.0 - 120 * 12
    grid = region_grid(UTM, NATIVE, None, _box(x0, y0 - 120 * 18, x0 + 120 * 15, y0))
    assert (grid.width, grid.height) == (15, 18)


def test_a_point_is_one_pixel() -> None:
    point = Geometry(shapely.geometry.Point(510_001.0, 5_150_001.0), UTM, False)
    grid = region_grid(UTM, NATIVE, None, point)
    assert (grid.width, grid.height) == (1, 1)
    col, row = ~grid.transform @ (510_001.0, 5_150_001.0)
    assert 0 <= col < 1 and 0 <= row < 1


def test_dimensions_rescale_the_covering_window() -> None:
    bounds = (510_000.0, 5_150_000.0, 512_000.0, 5_152_000.0)
    col0, row0, width, height = _window(*bounds)
    grid = region_grid(UTM, NATIVE, (64, 32), _box(*bounds))
    assert (grid.width, grid.height) == (64, 32)
    left, top = NATIVE @ (col0, row0)
    right, bottom = NATIVE @ (col0 + width, row0 + height)
    assert grid.transform @ (0, 0) == pytest.approx((left, top))
    assert grid.transform @ (64, 32) == pytest.approx((right, bottom))
