"""raster.coverage against a brute-force oracle: each pixel's square intersected with the
geometry by shapely, one pixel at a time, quantized as floor(fraction * 255) / 255."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import shapely.affinity
from affine import Affine
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from openee.raster.coverage import coverage

# A 30 x 24 grid of 10-unit pixels, north up, origin (1000, 2000).
TRANSFORM = Affine(10, 0, 1000, 0, -10, 2000)
HEIGHT, WIDTH = 24, 30


def brute(shape: shapely.Geometry) -> np.ndarray:
    out = np.zeros((HEIGHT, WIDTH))
    for row in range(HEIGHT):
        for col in range(WIDTH):
            x, y = 1000 + col * 10, 2000 - row * 10
            fraction = box(x, y - 10, x + 10, y).intersection(shape).area / 100
            out[row, col] = math.floor(fraction * 255 + 1e-6) / 255
    return out


ROTATED = shapely.affinity.rotate(
    Polygon([(1023.3, 1931.1), (1157.7, 1922.2), (1171.1, 1849.9), (1082.2, 1814.4)]), 31
)
WITH_HOLE = Polygon(
    [(1005, 1995), (1285, 1990), (1280, 1770), (1010, 1775)],
    [[(1100, 1900), (1200, 1905), (1150, 1820)]],
)
# A hole within one row of pixels, a vertex on a pixel's edge.
SMALL_HOLE = Polygon(
    [(1005, 1995), (1285, 1990), (1280, 1770), (1010, 1775)],
    [[(1101.3, 1905), (1130, 1902), (1110, 1908.5)]],
)
TWO_PARTS = MultiPolygon(
    [box(1001.5, 1951.5, 1047.3, 1998.2), shapely.affinity.rotate(box(1150, 1800, 1250, 1900), 10)]
)


@pytest.mark.parametrize(
    "shape",
    [ROTATED, WITH_HOLE, SMALL_HOLE, TWO_PARTS],
    ids=["rotated", "hole", "small hole", "multi"],
)
def test_polygons_equal_the_brute_force_weights(shape: shapely.Geometry) -> None:
    got = coverage(shape, TRANSFORM, HEIGHT, WIDTH)
    expected = brute(shape)
    assert ((expected > 0) & (expected < 1)).sum() > 20
    np.testing.assert_array_equal(got, expected)


def test_a_sliver_below_one_level_weighs_nothing() -> None:
    """A pixel covered by less than 1/255 is out; one just above keeps its level."""
    thin = box(1000, 2000 - 0.03, 1300, 2000)  # 0.3 % of each pixel of the first row
    thick = box(1000, 2000 - 0.05, 1300, 2000)  # 0.5 %
    assert not coverage(thin, TRANSFORM, HEIGHT, WIDTH).any()
    assert (coverage(thick, TRANSFORM, HEIGHT, WIDTH)[0] == 1 / 255).all()


def test_points_and_lines_weigh_one_where_they_touch() -> None:
    point = coverage(Point(1034.2, 1971.7), TRANSFORM, HEIGHT, WIDTH)
    assert point.sum() == 1 and point[2, 3] == 1
    line = coverage(LineString([(1001, 1995), (1001, 1905)]), TRANSFORM, HEIGHT, WIDTH)
    assert line[:, 0].sum() == 10 and line.sum() == 10  # rows 0 (y 1990-2000) to 9


def test_empty_and_outside_give_zeros() -> None:
    assert not coverage(Polygon(), TRANSFORM, HEIGHT, WIDTH).any()
    assert not coverage(box(0, 0, 10, 10), TRANSFORM, HEIGHT, WIDTH).any()


# Invalid for GEOS, taken by Earth Engine: overlapping parts (its own samples build one,
# ee_geometry_multipolygon_*.py) and a ring that crosses itself.
OVERLAPPING = MultiPolygon(
    [box(1003.3, 1822.1, 1181.7, 1991.6), shapely.affinity.rotate(box(1120, 1790, 1270, 1930), 13)]
)
BOWTIE = Polygon([(1012.5, 1806.1), (1273.3, 1988.8), (1266.6, 1811.1), (1018.8, 1977.7)])


@pytest.mark.parametrize("shape", [OVERLAPPING, BOWTIE], ids=["overlapping parts", "bowtie"])
def test_invalid_polygons_weigh_the_points_they_cover(shape: shapely.Geometry) -> None:
    """The union of overlapping parts, the two lobes of a bowtie: what the centroid rule's
    rasterization burns."""
    assert not shape.is_valid
    covered = shapely.make_valid(shape, method="structure", keep_collapsed=False)
    got = coverage(shape, TRANSFORM, HEIGHT, WIDTH)
    np.testing.assert_array_equal(got, brute(covered))
