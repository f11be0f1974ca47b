"""The fast sample maps of raster/sampling.py (separable indices on a shared CRS, the lattice
across CRSs) take exactly the source pixel that holds each output centre: compared with a
brute-force oracle written here, every centre carried on its own (the affine pair in full for a
shared CRS, pyproj for another CRS) and floored, on grids chosen to hit the edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import Transformer

from openee.raster import sampling
from openee.raster.grid import PixelGrid
from openee.raster.sampling import SampleMap

UTM = "EPSG:32633"
# A 120 m source in UTM 33N, north up (negative y resolution), 915 x 915 pixels.
NORTH_UP = Affine(120.0, 0.0, 499980.0, 0.0, -120.0, 5100000.0)
# The same area stored south up (positive y resolution) and east to west (negative x).
SOUTH_UP = Affine(120.0, 0.0, 499980.0, 0.0, 120.0, 4990200.0)
EAST_TO_WEST = Affine(-120.0, 0.0, 609780.0, 0.0, -120.0, 5100000.0)
SIZE = (915, 915)  # width, height


def oracle(
    grid: PixelGrid, src_crs: str, src_transform: Affine, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source (column, row) of every centre, each carried on its own, and where it is inside."""
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    xs = t.a * cols + t.b * rows + t.c
    ys = t.d * cols + t.e * rows + t.f
    if grid.crs != src_crs:
        transformer = Transformer.from_crs(grid.crs, src_crs, always_xy=True)
        xs, ys = (np.asarray(v) for v in transformer.transform(xs, ys))
    inverse = ~src_transform
    c = np.floor(inverse.a * xs + inverse.b * ys + inverse.c)
    r = np.floor(inverse.d * xs + inverse.e * ys + inverse.f)
    inside = (c >= 0) & (c < size[0]) & (r >= 0) & (r < size[1])
    return c, r, inside


def assert_takes_oracle_pixels(
    where: SampleMap,
    grid: PixelGrid,
    src_crs: str,
    src_transform: Affine,
    size: tuple[int, int] = SIZE,
) -> None:
    """The map's box is the tightest around the inside centres, its window holds their pixels
    (the tightest, or a pixel or two more on a side where a lattice bounds it: ADR 0063), and
    each inside centre points at its oracle pixel in the window; every other centre is left
    out."""
    c, r, inside = oracle(grid, src_crs, src_transform, size)
    if not inside.any():
        assert where.box is None and where.window is None
        return
    assert where.box is not None and where.window is not None
    rows, cols = np.nonzero(inside)
    assert where.box == (
        slice(int(rows.min()), int(rows.max()) + 1),
        slice(int(cols.min()), int(cols.max()) + 1),
    )
    w = where.window
    first, last = (w.col_off, w.row_off), (w.col_off + w.width - 1, w.row_off + w.height - 1)
    assert min(first) >= 0 and last[0] < size[0] and last[1] < size[1]  # within the source
    for axis, values in enumerate((c[inside], r[inside])):
        assert 0 <= values.min() - first[axis] <= 2
        assert 0 <= last[axis] - values.max() <= 2
    in_box = inside[where.box]
    np.testing.assert_array_equal(
        np.ones(in_box.shape, dtype=bool) if where.inside is None else where.inside, in_box
    )
    expected = (r[where.box] - w.row_off) * w.width + (c[where.box] - w.col_off)
    np.testing.assert_array_equal(where.flat[in_box], expected[in_box].astype(np.intp))
    assert (where.flat[~in_box] == w.width * w.height).all()
    assert where.flat.shape == in_box.shape


def utm(a: float, c: float, e: float, f: float, size: tuple[int, int]) -> PixelGrid:
    return PixelGrid(UTM, Affine(a, 0.0, c, 0.0, e, f), *size)


# Grids in the source's CRS, unrotated: the separable path.
SAME_CRS = {
    # 120 m centres half a pixel off the source's: every centre on a source pixel corner.
    "centres on source edges": (utm(120, 499920, -120, 5100060, (300, 200)), NORTH_UP),
    # 60 m centres: every other centre on a source edge, the others halfway inside.
    "finer, half the centres on edges": (utm(60, 499950, -60, 5099970, (400, 300)), NORTH_UP),
    # A third of the source's resolution: every third centre on an edge, where an algebraically
    # equal but differently rounded formula (inverse.a * t.a * j + a folded constant) floors
    # hundreds of them into the neighbouring pixel.
    "a third of the source, on edges": (utm(40, 499960, -40, 5100020, (1000, 600)), NORTH_UP),
    # Resolutions that are not binary fractions: centres land near edges after rounding.
    "decimal resolution near edges": (
        utm(0.1 * 1200, 499980.06, -12.0, 5099999.94, (500, 700)),
        NORTH_UP,
    ),
    "offset by fractions of a pixel": (utm(100, 500037.37, -100, 5099911.11, (640, 480)), NORTH_UP),
    "coarser than the source": (utm(1000, 499000, -1000, 5101000, (130, 120)), NORTH_UP),
    "finer than the source": (utm(7, 550003.5, -7, 5050001.75, (257, 300)), NORTH_UP),
    "partly outside (corner)": (utm(100, 590000, -100, 5000000, (400, 300)), NORTH_UP),
    "wholly outside": (utm(100, 700000, -100, 5000000, (64, 64)), NORTH_UP),
    "grid south up": (utm(100, 560000, 100, 5020000.5, (300, 256)), NORTH_UP),
    "source south up": (utm(100, 560000, -100, 5050000.5, (300, 256)), SOUTH_UP),
    "both south up, on edges": (utm(120, 499920, 120, 4990140, (300, 200)), SOUTH_UP),
    "source east to west": (utm(100, 560000, -100, 5050000, (300, 256)), EAST_TO_WEST),
    "grid east to west, partly outside": (utm(-90, 505000, -90, 5101000, (256, 300)), NORTH_UP),
}


@pytest.mark.parametrize("name", SAME_CRS)
def test_separable_map_takes_the_oracle_pixels(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    grid, src_transform = SAME_CRS[name]

    def refuse(*args: object) -> None:
        raise AssertionError("an unrotated grid in the source's CRS is separable")

    monkeypatch.setattr(sampling, "_exact_floors", refuse)
    where = sampling._sample_map(grid, UTM, src_transform, *SIZE)
    assert_takes_oracle_pixels(where, grid, UTM, src_transform)
    assert where.inside is None  # a rectangle of rows and columns is all inside


def test_separable_positions_equal_the_exact_path() -> None:
    """source_positions (the separable vectors broadcast) equals the exact path's per-centre
    arithmetic on a grid whose centres fall on source edges: the same numbers, not close ones."""
    grid, src_transform = SAME_CRS["decimal resolution near edges"]
    c, r = sampling.source_positions(grid, UTM, src_transform)
    limits = ((-sampling._NO_LIMIT, sampling._NO_LIMIT),) * 2
    exact_c, exact_r = sampling._exact_floors(grid, UTM, ~src_transform, limits)
    np.testing.assert_array_equal(c, exact_c)
    np.testing.assert_array_equal(r, exact_r)
    oracle_c, oracle_r, _ = oracle(grid, UTM, src_transform, SIZE)
    np.testing.assert_array_equal(c, oracle_c)
    np.testing.assert_array_equal(r, oracle_r)


# Grids the separable path must not take (rotated or sheared in the source's CRS) and grids in
# another CRS (the lattice): the same oracle.
OTHER = {
    "rotated in the source's CRS": PixelGrid(
        UTM,
        Affine.translation(540000, 5060000) @ Affine.rotation(10) @ Affine.scale(90, -90),
        300,
        280,
    ),
    "sheared in the source's CRS": PixelGrid(
        UTM, Affine(100, 3, 520000, 0, -100, 5080000), 256, 256
    ),
    "wgs84 100 m, offset by fractions of a pixel": PixelGrid(
        "EPSG:4326", Affine(100 / 111319.49, 0, 15.2 + 0.37e-3, 0, -100 / 111319.49, 45.9), 700, 600
    ),
    "wgs84 over the source's corner": PixelGrid(
        "EPSG:4326", Affine(100 / 111319.49, 0, 16.25, 0, -100 / 111319.49, 45.35), 700, 600
    ),
    "web mercator finer than the source": PixelGrid(
        "EPSG:3857", Affine(30, 0, 1.75e6, 0, -30, 5.72e6), 512, 384
    ),
}


@pytest.mark.parametrize("name", OTHER)
def test_other_maps_take_the_oracle_pixels(name: str) -> None:
    grid = OTHER[name]
    where = sampling._sample_map(grid, UTM, NORTH_UP, *SIZE)
    assert_takes_oracle_pixels(where, grid, UTM, NORTH_UP)


def random_grids(count: int) -> list[PixelGrid]:
    """Grids in other CRSs at random sizes (from just above the lattice's minimum), resolutions
    and fractional offsets, around the source's edges and corners: chunks whose box in the
    source is trimmed to a few lattice cells, or to the last, shorter one."""
    rng = np.random.default_rng(17)
    lon0, lat0, lon1, lat1 = Transformer.from_crs(
        UTM, "EPSG:4326", always_xy=True
    ).transform_bounds(499980.0, 4990200.0, 609780.0, 5100000.0)
    grids = []
    for _ in range(count):
        width, height = (int(v) for v in rng.integers(33, 300, size=2))
        res = float(rng.uniform(20, 400)) / 111319.49
        lon = float(rng.choice([lon0, lon1])) + float(rng.uniform(-1, 1)) * res * width
        lat = float(rng.choice([lat0, lat1])) + float(rng.uniform(-1, 1)) * res * height
        grids.append(PixelGrid("EPSG:4326", Affine(res, 0, lon, 0, -res, lat), width, height))
    return grids


@pytest.mark.parametrize("grid", random_grids(40), ids=lambda g: f"{g.width}x{g.height}")
def test_random_grids_over_the_source_edges(grid: PixelGrid) -> None:
    where = sampling._sample_map(grid, UTM, NORTH_UP, *SIZE)
    assert_takes_oracle_pixels(where, grid, UTM, NORTH_UP)


def test_flat_indices_beyond_int32() -> None:
    """A coarse grid over a 1 m source of 200000 x 200000 pixels: row times window width passes
    2**31, so the flat indices are worked out in intp, still the oracle's."""
    src_transform = Affine(1.0, 0.0, 499980.0, 0.0, -1.0, 5100000.0)
    size = (200_000, 200_000)
    res = 600 / 111319.49
    grid = PixelGrid("EPSG:4326", Affine(res, 0, 15.1, 0, -res, 44.75), 64, 48)
    where = sampling._sample_map(grid, UTM, src_transform, *size)
    assert where.window is not None
    assert where.window.row_off * where.window.width > 2**31
    assert_takes_oracle_pixels(where, grid, UTM, src_transform, size)
