"""Image algorithms about place through the stock client: random (statistics, determinism,
tiling invariance), pixelCoordinates (pyproj), changeProj and translate (the GeoTIFF's own
pixels, read with rasterio), geometry (the STAC footprint), clipToCollection and paint (shapely
on pixel centres)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from oracle import Grid, coverage_weights, load_items
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, box, shape

NATIVE_CRS = "EPSG:32633"


def item():
    return next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)


def compute(ee, image, grid: Grid) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    return t.c + cols * t.a + rows * t.b, t.f + cols * t.d + rows * t.e


def native_b4() -> tuple[np.ndarray, Affine]:
    with rasterio.open(item().band_path("B4")) as ds:
        return ds.read(1), ds.transform


def native_window(row: int, col: int, height: int, width: int, scale: int = 1) -> Grid:
    _, t = native_b4()
    lattice = Affine(t.a * scale, 0, t.c, 0, t.e * scale, t.f)
    return Grid(NATIVE_CRS, lattice @ Affine.translation(col, row), width, height)


# -- Image.random ---------------------------------------------------------------------------

RANDOM_GRID = Grid("EPSG:3857", Affine(30.0, 0, 1_500_000.0, 0, -30.0, 5_700_000.0), 200, 200)


def test_random_uniform_and_normal_statistics(ee_api) -> None:
    ee = ee_api
    image = ee.Image.random(7).addBands(ee.Image.random(7, "normal").rename("normal"))
    assert image.bandNames().getInfo() == ["random", "normal"]
    arr = compute(ee, image, RANDOM_GRID)
    u, z = arr["random"].astype(np.float64), arr["normal"].astype(np.float64)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01  # 7 standard errors for 40,000 samples
    assert abs(u.var() - 1 / 12) < 0.003
    counts, _ = np.histogram(u, bins=20, range=(0, 1))
    chi2 = ((counts - 2000) ** 2 / 2000).sum()
    assert chi2 < 60  # 19 degrees of freedom: p < 1e-5 beyond 55
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    assert abs((np.abs(z) < 1).mean() - 0.6827) < 0.015
    # Neighbours are uncorrelated.
    assert abs(np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]) < 0.03
    assert abs(np.corrcoef(u[:-1].ravel(), u[1:].ravel())[0, 1]) < 0.03


def test_random_is_a_function_of_seed_and_place(ee_api) -> None:
    ee = ee_api
    whole = compute(ee, ee.Image.random(3), RANDOM_GRID)["random"]
    again = compute(ee, ee.Image.random(3), RANDOM_GRID)["random"]
    np.testing.assert_array_equal(whole, again)
    # A window of the grid (as a chunk would be) sees the same values at the same pixels.
    t = RANDOM_GRID.transform
    window = Grid("EPSG:3857", t @ Affine.translation(37, 11), 50, 40)
    part = compute(ee, ee.Image.random(3), window)["random"]
    np.testing.assert_array_equal(part, whole[11:51, 37:87])
    other = compute(ee, ee.Image.random(4), RANDOM_GRID)["random"]
    assert (other != whole).mean() > 0.99
    assert abs(np.corrcoef(other.ravel(), whole.ravel())[0, 1]) < 0.03


def test_random_rejects_an_unknown_distribution(ee_api) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match="unknown distribution 'poisson'"):
        ee.Image.random(1, "poisson").bandNames().getInfo()


# -- pixel coordinates and moving pixels -----------------------------------------------------------


def test_pixel_coordinates_in_a_projection(ee_api) -> None:
    ee = ee_api
    proj = ee.Projection("EPSG:32633", [10, 0, 500000, 0, -10, 5000000])
    grid = Grid.centered("EPSG:4326", 15.3, 45.4, 0.01, 12, 9)
    arr = compute(ee, ee.Image.pixelCoordinates(proj), grid)
    lon, lat = centres(grid)
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform(lon, lat)
    np.testing.assert_allclose(arr["x"], (e - 500000) / 10, atol=1e-6)
    np.testing.assert_allclose(arr["y"], (n - 5000000) / -10, atol=1e-6)


def test_translate_by_pixels_and_meters(ee_api) -> None:
    ee = ee_api
    b4 = ee.Image(item().image_id).select("B4")
    grid = native_window(100, 200, 20, 30)
    by_pixels = b4.translate(2, 1, "pixels")  # 2 pixels east, 1 pixel south (y scale is -120)
    by_meters = b4.translate(240, 120, "meters")  # 2 pixels east, 1 pixel north
    arr = compute(ee, by_pixels.rename("p").addBands(by_meters.rename("m")), grid)
    data, _ = native_b4()
    np.testing.assert_array_equal(arr["p"], data[99:119, 198:228])
    np.testing.assert_array_equal(arr["m"], data[101:121, 198:228])


def test_change_proj_moves_pixels_between_projections(ee_api) -> None:
    ee = ee_api
    data, t = native_b4()
    src = ee.Projection(NATIVE_CRS, list(t)[:6])
    double = Affine(t.a * 2, 0, t.c, 0, t.e * 2, t.f)
    dst = ee.Projection(NATIVE_CRS, list(double)[:6])
    stretched = ee.Image(item().image_id).select("B4").changeProj(src, dst)
    # Pixel (r, c) of the doubled lattice is the original pixel (r, c).
    arr = compute(ee, stretched, native_window(60, 80, 16, 24, scale=2))
    np.testing.assert_array_equal(arr["B4"], data[60:76, 80:104])
    proj = stretched.projection().getInfo()
    assert proj["transform"][0] == pytest.approx(240.0)


# -- footprints, clipping, painting -------------------------------------------------------------


def test_geometry_is_the_footprint(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id)
    got = shape(img.geometry().getInfo())
    footprint = item().footprint
    assert got.symmetric_difference(footprint).area < 1e-9 * footprint.area
    in_utm = img.geometry(None, ee.Projection(NATIVE_CRS)).getInfo()
    assert in_utm["crs"]["properties"]["name"] == NATIVE_CRS
    to_utm = Transformer.from_crs("EPSG:4326", NATIVE_CRS, always_xy=True).transform
    expected = shapely.transform(footprint, lambda xy: np.column_stack(to_utm(xy[:, 0], xy[:, 1])))
    assert shape(in_utm).symmetric_difference(expected).area < 1e-6 * expected.area
    world = ee.Image(1).geometry().getInfo()
    assert shape(world).equals(box(-180, -90, 180, 90))


PAINT_GRID = Grid("EPSG:4326", Affine(0.01, 0, 10.0, 0, -0.01, 46.0), 40, 30)
SQUARE = Polygon([(10.053, 45.947), (10.171, 45.951), (10.166, 45.833), (10.049, 45.838)])
TRIANGLE = Polygon([(10.203, 45.902), (10.377, 45.896), (10.291, 45.723)])
LINE = LineString([(10.013, 45.775), (10.221, 45.757)])


def features(ee):
    return ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Polygon(list(SQUARE.exterior.coords)), {"v": 5, "w": 2}),
            ee.Feature(ee.Geometry.Polygon(list(TRIANGLE.exterior.coords)), {"v": 9, "w": 3}),
        ]
    )


def test_clip_to_collection_masks_outside_the_union(ee_api) -> None:
    ee = ee_api
    clipped = ee.Image(1).clipToCollection(features(ee))
    arr = compute(ee, clipped.mask().rename("m"), PAINT_GRID)
    # A pixel the union covers at all keeps a (fractional) mask (ADR 0054).
    size = (PAINT_GRID.height, PAINT_GRID.width)
    covered = coverage_weights(SQUARE.union(TRIANGLE), size, PAINT_GRID.transform) > 0
    lon, lat = centres(PAINT_GRID)
    inside = shapely.contains_xy(SQUARE.union(TRIANGLE), lon, lat)
    assert inside.sum() > 50 and (covered & ~inside).sum() > 10
    np.testing.assert_array_equal(arr["m"] > 0, covered)


def test_paint_fills_outlines_and_draws_lines(ee_api) -> None:
    ee = ee_api
    base = ee.Image(0).toUint8()
    filled = base.paint(features(ee), "v")
    outlined = base.paint(features(ee), 1, 2)
    line = (
        ee.Image()
        .toUint8()
        .paint(ee.FeatureCollection([ee.Feature(ee.Geometry.LineString(list(LINE.coords)))]), 7)
    )
    image = filled.rename("fill").addBands(outlined.rename("outline")).addBands(line.rename("line"))
    image = image.addBands(line.mask().rename("line_m"))
    arr = compute(ee, image, PAINT_GRID)
    assert arr["fill"].dtype == np.uint8
    lon, lat = centres(PAINT_GRID)
    expected = np.select(
        [shapely.contains_xy(TRIANGLE, lon, lat), shapely.contains_xy(SQUARE, lon, lat)], [9, 5], 0
    )
    np.testing.assert_array_equal(arr["fill"], expected)
    # A 2-pixel outline: every pixel whose centre is within 0.3 px of an edge is painted, and
    # none farther than 1 px + half a diagonal.
    edges = SQUARE.boundary.union(TRIANGLE.boundary)
    distance = shapely.distance(edges, shapely.points(lon, lat)) / 0.01
    painted = arr["outline"] == 1
    assert painted[distance < 0.3].all() and not painted[distance > 1.72].any()
    # A line paints every pixel it touches, and only those; elsewhere stays masked.
    touched = np.array(
        [
            [LINE.intersects(box(*cell_bounds(PAINT_GRID, r, c))) for c in range(40)]
            for r in range(30)
        ]
    )
    np.testing.assert_array_equal(arr["line_m"] == 1, touched)
    assert np.all(arr["line"][touched] == 7)


def cell_bounds(grid: Grid, row: int, col: int) -> tuple[float, float, float, float]:
    t = grid.transform
    x0, y0 = t @ (col, row)
    x1, y1 = t @ (col + 1, row + 1)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def test_paint_with_a_missing_property_is_a_clean_error(ee_api) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match="color must be a number"):
        ee.Image(0).paint(features(ee), "nope").getInfo()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ee: ee.Image(1).translate(1, 1, "furlongs"), "units must be meters or pixels"),
        (lambda ee: ee.Image(1).paint(features(ee), 1, -2), "width must be positive"),
        (
            lambda ee: ee.Image(1).changeProj(
                ee.Projection("EPSG:4326"), ee.Projection("EPSG:4326", [0, 0, 0, 0, 0, 0])
            ),
            "must be invertible",
        ),
    ],
)
def test_bad_place_arguments_are_clean_errors(ee_api, make, message: str) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        make(ee).bandNames().getInfo()
