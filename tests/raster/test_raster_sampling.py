"""The lattice sampling of raster/sampling.py picks exactly the source pixels that transforming
every output centre with pyproj picks (the definition of Earth Engine's nearest resampling)."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest
from affine import Affine
from pyproj import Transformer

from openee.raster import sampling
from openee.raster.grid import PixelGrid
from openee.raster.sampling import sample_map, sampled_pixels, source_positions

# The 120 m grid of the demo's tile 33TWL (UTM 33N).
SRC_CRS = "EPSG:32633"
SRC_TRANSFORM = Affine(120.0, 0.0, 499980.0, 0.0, -120.0, 5100000.0)
SRC_SIZE = 915


def apply(t: Affine, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return t.a * xs + t.b * ys + t.c, t.d * xs + t.e * ys + t.f


def every_centre(grid: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
    """The oracle: source pixel (column, row) of every centre, each transformed by pyproj."""
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    xs, ys = apply(grid.transform, cols, rows)
    if grid.crs != SRC_CRS:
        transformer = Transformer.from_crs(grid.crs, SRC_CRS, always_xy=True)
        xs, ys = transformer.transform(xs, ys)
    col, row = apply(~SRC_TRANSFORM, np.asarray(xs), np.asarray(ys))
    return np.floor(col), np.floor(row)


def deg(metres: float) -> float:
    return metres / 111319.49


GRIDS = {
    "wgs84 100 m": PixelGrid("EPSG:4326", Affine(deg(100), 0, 15.2, 0, -deg(100), 45.9), 700, 600),
    "wgs84 7 m (finer than the source)": PixelGrid(
        "EPSG:4326", Affine(deg(7), 0, 15.5, 0, -deg(7), 45.6), 300, 257
    ),
    "web mercator 150 m": PixelGrid("EPSG:3857", Affine(150, 0, 1.70e6, 0, -150, 5.75e6), 512, 512),
    "utm 34 rotated 30 degrees": PixelGrid(
        "EPSG:32634",
        Affine.translation(30000, 5.07e6) @ Affine.rotation(30) @ Affine.scale(110, -110),
        400,
        333,
    ),
    "utm 33 sheared": PixelGrid("EPSG:32633", Affine(100, 17, 500000, 9, -100, 5.09e6), 300, 300),
    "lambert conformal conic": PixelGrid(
        "+proj=lcc +lat_1=44 +lat_2=47 +lat_0=45 +lon_0=15.5 +datum=WGS84 +units=m",
        Affine(95, 0, -20000, 0, -95, 60000),
        450,
        450,
    ),
    "partly outside": PixelGrid(
        "EPSG:4326", Affine(deg(300), 0, 16.2, 0, -deg(300), 46.2), 200, 120
    ),
}


@pytest.mark.parametrize("name", GRIDS)
def test_same_source_pixels_as_transforming_every_centre(name: str) -> None:
    grid = GRIDS[name]
    c, r = source_positions(grid, SRC_CRS, SRC_TRANSFORM)
    expected_c, expected_r = every_centre(grid)
    np.testing.assert_array_equal(np.floor(c), expected_c)
    np.testing.assert_array_equal(np.floor(r), expected_r)


def test_lattice_is_used_and_edges_are_rechecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The speed-up is real (far fewer exact transforms than pixels), and the pixels whose
    interpolated position is near an edge are the ones transformed exactly."""
    transformed: list[int] = []
    real = sampling._exact

    def counting(grid, src_crs, inverse, rows, cols):  # type: ignore[no-untyped-def]
        transformed.append(int(np.size(rows)))
        return real(grid, src_crs, inverse, rows, cols)

    monkeypatch.setattr(sampling, "_exact", counting)
    grid = GRIDS["wgs84 100 m"]
    source_positions(grid, SRC_CRS, SRC_TRANSFORM)
    assert sum(transformed) < grid.width * grid.height / 50
    # The lattice (whose own points measure its error: no midpoints transformed), then the
    # pixels near an edge.
    assert len(transformed) == 2
    assert transformed[0] < grid.width * grid.height / 200


@pytest.mark.parametrize("width", [32, 33, 34, 47, 63, 64, 65, 97, 1000])
def test_every_lattice_shape_gives_the_exact_pixels(width: int) -> None:
    """Sizes whose last lattice intervals are short (one pixel: no midpoint; odd lengths: a
    midpoint off centre) sample as transforming every centre does."""
    grid = PixelGrid(
        "EPSG:4326", Affine(deg(110), 0, 15.31, 0, -deg(97), 45.83), width, width // 2 + 17
    )
    c, r = source_positions(grid, SRC_CRS, SRC_TRANSFORM)
    expected_c, expected_r = every_centre(grid)
    np.testing.assert_array_equal(c, expected_c)
    np.testing.assert_array_equal(r, expected_r)


def test_a_cut_in_the_projection_between_lattice_points_falls_back_to_every_centre() -> None:
    """A grid across the antimeridian of a Mercator source: positions jump by the world's width
    between two lattice points, which the lattice's error check sees."""
    src = "+proj=merc +lon_0=0 +datum=WGS84 +units=m"
    transform = Affine(5000, 0, -20037508.34, 0, -5000, 8e6)
    grid = PixelGrid("EPSG:4326", Affine(0.05, 0, 179.123, 0, -0.05, 10.0), 96, 64)
    c, r = source_positions(grid, src, transform)
    rows, cols = np.mgrid[0:64, 0:96] + 0.5
    xs, ys = apply(grid.transform, cols, rows)
    x, y = Transformer.from_crs("EPSG:4326", src, always_xy=True).transform(xs, ys)
    expected_c, expected_r = apply(~transform, np.asarray(x), np.asarray(y))
    assert np.ptp(expected_c) > 1000  # the cut is inside the grid
    np.testing.assert_array_equal(c, np.floor(expected_c))
    np.testing.assert_array_equal(r, np.floor(expected_r))


def test_strongly_curved_mapping_falls_back_to_every_centre() -> None:
    """A grid near the pole of a polar projection bends too much for the lattice: the result
    is still the exact one."""
    grid = PixelGrid("EPSG:3413", Affine(20000, 0, -100000, 0, -20000, 100000), 40, 40)
    src = "EPSG:4326"
    transform = Affine(0.5, 0, -180, 0, -0.5, 90)
    c, r = source_positions(grid, src, transform)
    rows, cols = np.mgrid[0:40, 0:40] + 0.5
    xs, ys = apply(grid.transform, cols, rows)
    lon, lat = Transformer.from_crs("EPSG:3413", src, always_xy=True).transform(xs, ys)
    np.testing.assert_array_equal(np.floor(c), np.floor((lon + 180) / 0.5))
    np.testing.assert_array_equal(np.floor(r), np.floor((90 - lat) / 0.5))


def test_sample_map_window_and_flat_indices() -> None:
    grid = GRIDS["partly outside"]
    where = sample_map(grid, SRC_CRS, SRC_TRANSFORM, SRC_SIZE, SRC_SIZE)
    c, r = every_centre(grid)
    inside = (c >= 0) & (c < SRC_SIZE) & (r >= 0) & (r < SRC_SIZE)
    assert where.box is not None and where.window is not None and where.inside is not None
    rows, cols = np.nonzero(inside)
    assert where.box == (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    np.testing.assert_array_equal(where.inside, inside[where.box])
    col0, row0 = where.window.col_off, where.window.row_off
    assert col0 == c[inside].min() and row0 == r[inside].min()
    assert where.window.width == c[inside].max() - col0 + 1
    assert where.window.height == r[inside].max() - row0 + 1
    expected = (r - row0) * where.window.width + (c - col0)
    outside = where.window.width * where.window.height
    expected = np.where(inside, expected, outside)[where.box]
    np.testing.assert_array_equal(where.flat, expected.astype(np.intp))


# Chunks on and beyond the tile's edge: the sample map leaves out the lattice cells wholly
# outside the source.
EDGE_GRIDS = {
    **GRIDS,
    "the tile in a corner": PixelGrid(
        "EPSG:4326", Affine(deg(100), 0, 16.25, 0, -deg(100), 45.35), 700, 600
    ),
    "wholly outside": PixelGrid("EPSG:4326", Affine(deg(100), 0, 17.0, 0, -deg(100), 45.3), 80, 90),
}


@pytest.mark.parametrize("name", EDGE_GRIDS)
def test_sampled_pixels_mask_outside_and_nodata(name: str) -> None:
    """Every output pixel takes the source pixel holding its centre; pixels outside the source
    or at nodata are masked, whatever the nodata value."""
    grid = EDGE_GRIDS[name]
    where = sample_map(grid, SRC_CRS, SRC_TRANSFORM, SRC_SIZE, SRC_SIZE)
    c, r = every_centre(grid)
    inside = (c >= 0) & (c < SRC_SIZE) & (r >= 0) & (r < SRC_SIZE)
    if not inside.any():
        assert where.window is None and where.box is None
        return
    assert where.window is not None
    source = np.arange(SRC_SIZE * SRC_SIZE, dtype=np.int32).reshape(SRC_SIZE, SRC_SIZE) % 97
    w = where.window
    window = source[w.row_off : w.row_off + w.height, w.col_off : w.col_off + w.width]
    expected = np.zeros(grid.shape, dtype=np.int32)
    expected[inside] = source[r[inside].astype(int), c[inside].astype(int)]
    cases = [(np.int32, nodata) for nodata in (None, 0, 5, -9999, 1e10)]
    cases += [(np.float32, nodata) for nodata in (None, 0.0, 5.0, 1e40)]  # 1e40: beyond float32
    for dtype, nodata in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warning for an unrepresentable nodata
            pixels = sampled_pixels(window.astype(dtype), where, np.dtype(dtype), nodata)
        valid = inside & (expected != nodata) if nodata is not None else inside
        np.testing.assert_array_equal(pixels.valid, valid)
        np.testing.assert_array_equal(pixels.data[valid], expected[valid].astype(dtype))


def test_the_map_cache_is_bounded_by_bytes_and_keeps_maps_in_use() -> None:
    """Maps are kept up to a number of bytes (the most recent), and a map still held by a
    reader is found again (the same object) even when the byte budget has dropped it."""
    computed: list[PixelGrid] = []

    def compute(grid: PixelGrid) -> sampling.SampleMap:
        computed.append(grid)
        return sampling._sample_map(grid, SRC_CRS, SRC_TRANSFORM, SRC_SIZE, SRC_SIZE)

    grids = [
        PixelGrid(
            "EPSG:4326", Affine(deg(100), 0, 15.2 + k * deg(37), 0, -deg(100), 45.9), 256, 256
        )
        for k in range(6)
    ]
    one = compute(grids[0]).flat.nbytes
    computed.clear()
    cache = sampling._MapCache(3 * one)  # room for three maps
    held = cache.get(grids[0], lambda: compute(grids[0]))
    for g in grids[1:]:
        cache.get(g, lambda g=g: compute(g))
    assert computed == grids
    assert cache.get(grids[0], lambda: compute(grids[0])) is held  # dropped by the budget, in use
    assert cache.get(grids[5], lambda: compute(grids[5])) is not None
    assert computed == grids  # the most recent one: not computed again
    del held
    gc.collect()
    cache.get(grids[0], lambda: compute(grids[0]))
    cache.get(grids[1], lambda: compute(grids[1]))
    assert computed == [*grids, grids[0], grids[1]]  # neither recent nor in use: computed again
