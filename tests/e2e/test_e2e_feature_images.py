"""Images from feature collections through the stock client: Collection.reduceToImage, distance,
draw and style, computed on a 10 m UTM grid with computePixels.

Oracles: shapely point-in-polygon and distance tests on the pixel centres, and geodesic
distances from pyproj.Geod."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine
from oracle import Grid
from shapely.geometry import LineString, Point, Polygon

pytestmark = pytest.mark.e2e

CRS = "EPSG:32633"
X0, Y0, PIXEL, WIDTH, HEIGHT = 520_000.0, 5_130_000.0, 10.0, 40, 30
GRID = Grid(CRS, Affine(PIXEL, 0, X0, 0, -PIXEL, Y0), WIDTH, HEIGHT)
# Edges and points sit off the pixel centres' lattice, so no centre lies on an edge.
SQUARE = Polygon(
    [(X0 + 23, Y0 - 27), (X0 + 213, Y0 - 27), (X0 + 213, Y0 - 197), (X0 + 23, Y0 - 197)]
)
TRIANGLE = Polygon([(X0 + 143, Y0 - 83), (X0 + 377, Y0 - 123), (X0 + 201, Y0 - 283)])
POINT = Point(X0 + 302.5, Y0 - 43.5)
LINE = LineString([(X0 + 12, Y0 - 250.3), (X0 + 180, Y0 - 250.3)])


def centres() -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH] + 0.5
    return X0 + cols * PIXEL, Y0 - rows * PIXEL


def ee_geometry(ee, shape):
    coords = shapely.geometry.mapping(shape)["coordinates"]
    if shape.geom_type == "Polygon":
        return ee.Geometry.Polygon([list(map(list, coords[0]))], CRS, False)
    if shape.geom_type == "Point":
        return ee.Geometry.Point(list(coords), CRS)
    return ee.Geometry.LineString([list(c) for c in coords], CRS, False)


def compute(ee, image) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    )


def test_reduce_to_image(ee_api) -> None:
    ee = ee_api
    fc = ee.FeatureCollection(
        [
            ee.Feature(ee_geometry(ee, SQUARE), {"v": 4.0}),
            ee.Feature(ee_geometry(ee, TRIANGLE), {"v": 10.0}),
            ee.Feature(ee_geometry(ee, POINT), {"v": 7.0}),
            ee.Feature(ee_geometry(ee, TRIANGLE), {"other": 1}),  # no 'v': skipped
        ]
    )
    R = ee.Reducer
    image = (
        fc.reduceToImage(["v"], R.sum()).rename("sum")
        .addBands(fc.reduceToImage(["v"], R.mean()).rename("mean"))
        .addBands(fc.reduceToImage(["v"], R.max()).rename("max"))
        .addBands(fc.reduceToImage(["v"], R.first()).rename("first"))
        .addBands(fc.reduceToImage(["v"], R.min()).rename("min"))
        .addBands(fc.reduceToImage(["v"], R.last()).rename("last"))
        .addBands(fc.reduceToImage(["v"], R.median()).rename("median"))
        .addBands(fc.reduceToImage(["v"], R.count()).rename("count"))
        .unmask(-1)
    )  # fmt: skip
    assert fc.reduceToImage(["v"], R.percentile([10, 90])).bandNames().getInfo() == ["p10", "p90"]
    got = compute(ee, image)
    x, y = centres()
    in_square = shapely.contains_xy(SQUARE, x, y)
    in_triangle = shapely.contains_xy(TRIANGLE, x, y)
    at_point = np.zeros_like(in_square)
    at_point[int((Y0 - POINT.y) // PIXEL), int((POINT.x - X0) // PIXEL)] = True
    layers = [(in_square, 4.0), (in_triangle, 10.0), (at_point, 7.0)]
    count = sum(m.astype(int) for m, _ in layers)
    total = sum(np.where(m, v, 0.0) for m, v in layers)
    assert (count == 2).any() and (count == 1).any()
    none = count == 0
    np.testing.assert_array_equal(got["count"], count)
    np.testing.assert_allclose(got["sum"], np.where(none, -1, total))
    np.testing.assert_allclose(got["mean"], np.where(none, -1, total / np.maximum(count, 1)))
    best = np.max([np.where(m, v, -np.inf) for m, v in layers], axis=0)
    np.testing.assert_allclose(got["max"], np.where(none, -1, best))
    first = np.where(in_square, 4.0, np.where(in_triangle, 10.0, np.where(at_point, 7.0, -1)))
    np.testing.assert_allclose(got["first"], first)
    low = np.min([np.where(m, v, np.inf) for m, v in layers], axis=0)
    np.testing.assert_allclose(got["min"], np.where(none, -1, low))
    last = np.where(at_point, 7.0, np.where(in_triangle, 10.0, np.where(in_square, 4.0, -1)))
    np.testing.assert_allclose(got["last"], last)
    np.testing.assert_allclose(got["median"], np.where(none, -1, total / np.maximum(count, 1)))


def test_distance(ee_api) -> None:
    ee = ee_api
    fc = ee.FeatureCollection(
        [ee.Feature(ee_geometry(ee, POINT)), ee.Feature(ee_geometry(ee, SQUARE))]
    )
    radius = 150.0
    got = compute(ee, fc.distance(radius).unmask(-1))["distance"]
    x, y = centres()
    to_wgs84 = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(x, y)
    plon, plat = to_wgs84.transform(POINT.x, POINT.y)
    geod = pyproj.Geod(ellps="WGS84")
    _, _, to_point = geod.inv(lon, lat, np.full(lon.shape, plon), np.full(lat.shape, plat))
    # The square's boundary: UTM distance over the grid's point scale factor (pyproj).
    factors = pyproj.Proj(CRS).get_factors(float(np.mean(lon)), float(np.mean(lat)))
    to_square = shapely.distance(shapely.points(x, y), SQUARE.boundary) / factors.meridional_scale
    nearest = np.minimum(to_point, to_square)
    inside = nearest <= radius
    assert inside.any() and (~inside).any()
    assert (got[~inside] == -1).all()
    np.testing.assert_allclose(got[inside], nearest[inside], atol=0.05)


def test_draw(ee_api) -> None:
    ee = ee_api
    fc = ee.FeatureCollection([ee.Feature(ee_geometry(ee, s)) for s in (TRIANGLE, LINE, POINT)])
    drawn = fc.draw("ff8000", 3, 2)
    image = drawn.unmask(0).addBands(drawn.select("vis-red").mask().rename("m"))
    got = compute(ee, image)
    assert drawn.bandNames().getInfo() == ["vis-red", "vis-green", "vis-blue"]
    cx, cy = centres()
    # In pixel units (the grid's pixel is 10 m): fill, 1-pixel half-width strokes, radius 3.
    pts = shapely.points(cx, cy)
    d_tri = shapely.distance(pts, TRIANGLE.boundary) / PIXEL
    d_line = shapely.distance(pts, LINE) / PIXEL
    d_point = shapely.distance(pts, POINT) / PIXEL
    painted = shapely.contains_xy(TRIANGLE, cx, cy) | (d_tri <= 1) | (d_point <= 3)
    painted |= (d_line <= 1) & (cx >= LINE.coords[0][0]) & (cx <= LINE.coords[1][0])
    ties = (np.abs(d_tri - 1) < 0.01) | (np.abs(d_line - 1) < 0.01) | (np.abs(d_point - 3) < 0.01)
    ok = ~ties
    assert painted[ok].sum() > 50
    np.testing.assert_array_equal(got["m"][ok].astype(bool), painted[ok])
    assert (got["vis-red"][painted & ok] == 255).all()
    assert (got["vis-green"][painted & ok] == 128).all()
    assert (got["vis-blue"][painted] == 0).all()


def test_style(ee_api) -> None:
    ee = ee_api
    fc = ee.FeatureCollection(
        [
            ee.Feature(ee_geometry(ee, SQUARE), {"s": {"color": "0000ff", "width": 4}}),
            ee.Feature(ee_geometry(ee, POINT), {"s": {"pointShape": "square", "pointSize": 4}}),
        ]
    )
    styled = fc.style(color="red", fillColor="00000000", styleProperty="s")
    got = compute(ee, styled.unmask(0).addBands(styled.select(0).mask().rename("m")))
    cx, cy = centres()
    pts = shapely.points(cx, cy)
    d_edge = shapely.distance(pts, SQUARE.boundary) / PIXEL
    outline = d_edge <= 2
    square_point = (np.abs(cx - POINT.x) <= 2 * PIXEL) & (np.abs(cy - POINT.y) <= 2 * PIXEL)
    ok = np.abs(d_edge - 2) > 0.01
    # The outline is blue (per-feature style), the transparent fill is not painted, the square
    # point takes the default red.
    np.testing.assert_array_equal(got["m"][ok].astype(bool), (outline | square_point)[ok])
    assert (got["vis-blue"][outline & ok] == 255).all()
    assert (got["vis-red"][square_point] == 255).all()
    inner = shapely.contains_xy(SQUARE, cx, cy) & ~outline
    assert inner.any() and (got["m"][inner] == 0).all()
    with pytest.raises(ee.EEException, match="Point shape 'star5' is not supported"):
        compute(ee, fc.style(pointShape="star5"))
