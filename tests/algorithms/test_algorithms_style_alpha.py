"""Collection.style colours with an alpha (ADR 0055): "Opacity is supported (e.g.: 'FF000088'
for 50% transparent red)" (ee.FeatureCollection.style). A colour's alpha is the mask fraction
where it is painted alone; overlapping translucent paint composites "over" what is below.
Oracle: the styled colours and the compositing formula in numpy, pixel centres by shapely."""

from __future__ import annotations

import numpy as np
import shapely
import shapely.geometry
from affine import Affine

from openee.algorithms.feature_images import style
from openee.raster.grid import PixelGrid
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import Geometry

GRID = PixelGrid("EPSG:4326", Affine(0.1, 0, 0, 0, -0.1, 3), 30, 30)
LEFT = shapely.geometry.box(0.22, 0.22, 1.88, 2.78)  # edges away from pixel centres
RIGHT = shapely.geometry.box(1.12, 0.22, 2.78, 2.78)


def painted(fc: FeatureCollection, **options: object) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) colours and the (H, W) mask fraction of the styled collection."""
    image = style(fc, **options)  # type: ignore[arg-type]
    bands = [b.source.read(GRID) for b in image.bands]
    colours = np.stack([b.data for b in bands], axis=-1)
    return colours, bands[0].fraction()


def centres_in(shape: shapely.geometry.base.BaseGeometry) -> np.ndarray:
    rows, cols = np.mgrid[0 : GRID.height, 0 : GRID.width] + 0.5
    t = GRID.transform
    return shapely.contains(shape, shapely.points(t.c + cols * t.a, t.f + rows * t.e))


def collection(*fills: tuple[shapely.geometry.base.BaseGeometry, str]) -> FeatureCollection:
    return FeatureCollection(
        tuple(
            Feature(Geometry(shape, geodesic=False), {"s": {"fillColor": fill}})
            for shape, fill in fills
        )
    )


def test_translucent_fills_composite_over_each_other() -> None:
    fc = collection((LEFT, "FF000080"), (RIGHT, "0000FF80"))
    colours, fraction = painted(fc, width=0, styleProperty="s")
    a = 0x80 / 255
    left, right = centres_in(LEFT), centres_in(RIGHT)
    only_left, only_right, both = left & ~right, right & ~left, left & right
    assert only_left.any() and only_right.any() and both.any()
    np.testing.assert_allclose(fraction[only_left], a, rtol=1e-6)
    np.testing.assert_allclose(fraction[only_right], a, rtol=1e-6)
    assert (colours[only_left] == (255, 0, 0)).all()
    assert (colours[only_right] == (0, 0, 255)).all()
    # The right square (painted later) over the left one.
    alpha = a + a * (1 - a)
    red = 255 * a * (1 - a) / alpha
    blue = 255 * a / alpha
    np.testing.assert_allclose(fraction[both], alpha, rtol=1e-6)
    assert (colours[both] == (np.floor(red + 0.5), 0, np.floor(blue + 0.5))).all()
    assert (fraction[~(left | right)] == 0).all()


def test_opaque_colours_leave_whole_masks() -> None:
    fc = collection((LEFT, "00FF00"))
    image = style(fc, width=0, styleProperty="s")
    pixels = image.bands[1].source.read(GRID)
    assert pixels.weight is None
    np.testing.assert_array_equal(pixels.valid, centres_in(LEFT))
