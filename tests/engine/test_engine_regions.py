"""Regions on pixel grids: which pixels are in a geometry, and maxPixels / bestEffort, against
shapely on the pixel centres."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from openee.engine.regions import Region, TooManyPixelsError, fit_region
from openee.values.geometry import Geometry
from openee.values.projection import Projection

UTM = "EPSG:32633"
PROJECTION = Projection(UTM, (10.0, 0.0, 500_000.0, 0.0, -10.0, 5_100_000.0))
TRIANGLE = Polygon([(500_013, 5_099_987), (500_487, 5_099_950), (500_200, 5_099_603)])


def centres_inside(region: Region, polygon: Polygon) -> np.ndarray:
    rows, cols = np.mgrid[0 : region.height, 0 : region.width] + 0.5
    t = PROJECTION.transform
    xs = t[0] * (cols + region.col0) + t[2]
    ys = t[4] * (rows + region.row0) + t[5]
    return shapely.contains_xy(polygon, xs, ys)


def test_polygon_takes_the_pixels_whose_centres_are_inside() -> None:
    region = Region.of(Geometry(TRIANGLE, UTM, False), PROJECTION)
    mask = region.mask(0, 0, region.height, region.width)
    np.testing.assert_array_equal(mask, centres_inside(region, TRIANGLE))
    assert region.count() == int(mask.sum()) > 500


def test_point_takes_its_pixel_and_a_line_the_pixels_it_crosses() -> None:
    point = Region.of(Geometry(Point(500_015, 5_099_975), UTM, False), PROJECTION)
    assert (point.col0, point.row0, point.width, point.height) == (1, 2, 1, 1)
    assert point.count() == 1
    line = Region.of(
        Geometry(LineString([(500_005, 5_099_995), (500_095, 5_099_995)]), UTM), PROJECTION
    )
    assert line.count() == 10  # centre of column 0 to centre of column 9


def test_max_pixels_and_best_effort() -> None:
    geometry = Geometry(TRIANGLE, UTM, False)
    found = Region.of(geometry, PROJECTION).count()
    with pytest.raises(TooManyPixelsError, match=f"Found {found}, but maxPixels allows only 100."):
        fit_region(geometry, PROJECTION, 100, False)
    coarse = fit_region(geometry, PROJECTION, 100, True)
    assert coarse.projection.transform[0] == 40.0  # 10 m -> 20 m -> 40 m
    assert (
        coarse.count()
        <= 100
        < Region.of(geometry, Projection(UTM, (20.0, 0, 500_000.0, 0, -20.0, 5_100_000.0))).count()
    )
