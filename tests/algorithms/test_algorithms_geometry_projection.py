"""Geometry constructors given a projection with a transform: the coordinates are in that
projection's units (pixels of its grid), as the stock client relies on when it sends
`Export.image(crs, crsTransform, dimensions)` as a clip to Rectangle([0, 0, w, h],
proj=image.projection()) (ee/image.py, _apply_crs_and_affine)."""

from __future__ import annotations

import pytest

from openee.algorithms.geometry import point, rectangle
from openee.values.projection import Projection

UTM_120M = Projection("EPSG:32633", (120.0, 0.0, 500000.0, 0.0, -120.0, 5100000.0))


def test_rectangle_in_pixels_of_a_grid_is_that_block_of_the_grid() -> None:
    geometry = rectangle([0, 0, 200, 130], UTM_120M, False)
    assert geometry.crs == "EPSG:32633"
    # pixel (200, 130) of the grid: x = 500000 + 200 * 120, y = 5100000 - 130 * 120
    assert geometry.shape.bounds == pytest.approx((500000.0, 5084400.0, 524000.0, 5100000.0))


def test_point_in_a_scaled_projection() -> None:
    geometry = point([1.5, 2], UTM_120M)
    assert (geometry.shape.x, geometry.shape.y) == pytest.approx((500180.0, 5099760.0))


def test_a_plain_crs_keeps_its_coordinates() -> None:
    geometry = rectangle([500000, 5084400, 524000, 5100000], Projection("EPSG:32633"), False)
    assert geometry.shape.bounds == (500000.0, 5084400.0, 524000.0, 5100000.0)
