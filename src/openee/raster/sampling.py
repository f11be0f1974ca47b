"""Exact nearest-neighbour sampling: which source pixel holds each output pixel's centre.

Earth Engine's nearest resampling takes, for every output pixel, the source pixel that contains
the pixel's centre. Transforming every centre with pyproj is exact but is the most expensive step
of a request (about 0.4 s per million pixels). Map projections are smooth, so the source position
of a centre is almost bilinear between centres a few pixels apart: the centres are transformed on
a sparse lattice, interpolated in between, and the interpolation error is measured on the lattice
cells' midpoints. Only a pixel whose interpolated position lies within a safety margin of that
error from a source pixel edge can fall in a different pixel than its exact position, and only
those pixels are transformed exactly. The result is identical to transforming every centre.

When the output grid and the source grid share a CRS and neither is rotated or sheared, the map
is separable: a centre's source column depends only on its output column and its source row only
on its output row, so one vector per axis, computed with the same arithmetic as the exact path,
gives every centre's source pixel (docs/decisions/0058).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import cast

import cachetools
import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.windows import Window

from openee.raster.grid import PixelGrid
from openee.raster.pixels import BoxedPixels, Pixels

# Lattice spacing in output pixels: 1/256 of the centres are transformed. The lattice is a
# coarse one (twice the step) with the midpoints of its intervals added, so that the coarse
# lattice's interpolation error can be measured at the fine lattice's own points (_lattice_error).
LATTICE_STEP = 16
# Interpolation errors above this (in source pixels) mean the projection bends too much between
# lattice points (or is cut between them): transform every centre instead.
MAX_INTERPOLATION_ERROR = 0.01
# The margin multiplies the largest error seen at the midpoints (where bilinear interpolation
# errs most) and adds a floor for floating-point rounding.
ERROR_SAFETY_FACTOR = 4.0
ERROR_FLOOR = 1e-6
# A map is sparse when its window holds more than this many source pixels per output pixel: a
# grid coarser than the source with no overview to match (a read at a matching overview level
# is less than 2 times coarser a side, so under 4). Its pixels are then read one source block
# at a time (`SampleMap.distinct`) instead of as one window of full-resolution pixels.
SPARSE_RATIO = 4


@lru_cache(maxsize=64)
def transformer(src_crs: str, dst_crs: str) -> Transformer:
    return Transformer.from_crs(src_crs, dst_crs, always_xy=True)


@dataclass(frozen=True)
class SampleMap:
    """Where each output pixel's centre falls in a source grid: the source pixels to take.

    Only the box of output pixels that holds every centre inside the source is described (a
    chunk on a tile's edge is mostly outside it); `flat` points centres of the box that fall
    outside the source one past the window's last pixel, where `take` puts a fill value, so a
    sample is one gather with no masked scatter.
    """

    shape: tuple[int, int]  # the output grid's (height, width)
    box: tuple[slice, slice] | None  # output rows, columns holding every inside centre
    flat: np.ndarray  # (box height, box width) intp: row-major index in the window
    inside: np.ndarray | None  # (box height, box width) bool; None: all of the box is inside
    window: Window | None  # the source window that holds them (None: nothing inside)

    def take(self, window_values: np.ndarray, fill: float) -> np.ndarray:
        """The box's samples of the window's values (`fill` where a centre is outside)."""
        values = window_values.ravel()
        if self.inside is not None:
            padded = np.empty(values.size + 1, dtype=values.dtype)
            padded[:-1] = values
            padded[-1] = fill
            values = padded
        return values.take(self.flat)

    @property
    def sparse(self) -> bool:
        """Whether the window holds many more source pixels than the map takes (see
        SPARSE_RATIO): reading it whole would decode and hold pixels that are never used."""
        if self.window is None:
            return False
        return int(self.window.width) * int(self.window.height) > SPARSE_RATIO * self.flat.size

    @cached_property
    def distinct(self) -> tuple[np.ndarray, np.ndarray, SampleMap]:
        """The source rows and columns (absolute, each (n,) intp) of the n distinct source
        pixels the map takes, and the same map pointing into a (1 x n) window of their values
        in that order. Taking from those values gives exactly what taking from the whole
        window gives: the same source pixels, gathered first."""
        assert self.window is not None
        n_window = int(self.window.width) * int(self.window.height)
        taken = self.flat if self.inside is None else self.flat[self.inside]
        unique, inverse = np.unique(taken, return_inverse=True)
        flat = np.full(self.flat.shape, unique.size, dtype=np.intp)
        if self.inside is None:
            flat[...] = inverse.reshape(self.flat.shape)
        else:
            flat[self.inside] = inverse
        assert unique.size == 0 or unique[-1] < n_window
        rows, cols = np.divmod(unique, int(self.window.width))
        rows += int(self.window.row_off)
        cols += int(self.window.col_off)
        gathered = SampleMap(self.shape, self.box, flat, self.inside, Window(0, 0, unique.size, 1))
        return rows, cols, gathered


def sampled_pixels(
    window_values: np.ndarray,
    where: SampleMap,
    dtype: np.dtype,
    nodata: float | None,
    mask_nan: bool = False,
) -> Pixels:
    """The pixels a sample map takes from a source window's values, masked outside the source,
    where equal to `nodata`, and (if `mask_nan`) where NaN."""
    return sampled_box(window_values, where, dtype, nodata, mask_nan).full()


def sampled_box(
    window_values: np.ndarray,
    where: SampleMap,
    dtype: np.dtype,
    nodata: float | None,
    mask_nan: bool = False,
) -> BoxedPixels:
    """sampled_pixels, held in the sample map's box (everything outside it is masked)."""
    if where.box is None:
        return BoxedPixels.empty(where.shape, dtype)
    # Filling outside centres with the nodata value masks them with the same comparison.
    fill_masks = nodata is not None and _holds(window_values.dtype, nodata)
    fill = nodata if fill_masks and nodata is not None else 0
    values = where.take(window_values, fill).astype(dtype, copy=False)
    if nodata is not None and _holds(values.dtype, nodata):
        valid = values != nodata
    else:  # no value of the dtype equals it
        valid = np.ones(values.shape, dtype=bool)
    if mask_nan and values.dtype.kind == "f":
        valid &= ~np.isnan(values)
    if where.inside is not None and not fill_masks:
        valid &= where.inside
    return BoxedPixels(where.shape, where.box, Pixels(values, valid))


@dataclass(frozen=True)
class SourceWindow:
    """A file's decoded window and the sample map that takes a grid's pixels from it: a read
    not gathered yet. The files of a composite on one source grid share the sample map, so the
    composite can reduce their windows pixel by pixel and gather once, instead of gathering
    every file (docs/decisions/0048): the same values, as every output pixel reduces exactly
    the window pixels it samples."""

    where: SampleMap
    values: np.ndarray  # the window's values, as read
    dtype: np.dtype
    nodata: float | None

    def pixels(self) -> BoxedPixels:
        """The grid's pixels (sampled_box)."""
        return sampled_box(self.values, self.where, self.dtype, self.nodata)

    def window_pixels(self) -> Pixels:
        """The window's own pixels, masked where sampled_box masks the samples of them."""
        values = self.values.astype(self.dtype, copy=False)
        if self.nodata is not None and _holds(values.dtype, self.nodata):
            return Pixels(values, values != self.nodata)
        return Pixels(values, np.ones(values.shape, dtype=bool))


def gathered(where: SampleMap, window: Pixels) -> BoxedPixels:
    """The grid's pixels sampled from pixels on a sample map's window (masked outside)."""
    if where.box is None:
        return BoxedPixels.empty(where.shape, window.data.dtype)
    data = where.take(window.data, 0)
    valid = where.take(window.valid, False)
    return BoxedPixels(where.shape, where.box, Pixels(data, valid))


def _holds(dtype: np.dtype, value: float) -> bool:
    """Whether `value` is exactly representable in `dtype` (and not NaN, which never compares
    equal)."""
    if value != value:
        return False
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return float(value).is_integer() and info.min <= value <= info.max
    with np.errstate(over="ignore"):  # a value beyond the dtype's range becomes inf: not held
        return float(np.asarray(value, dtype=dtype)) == value


def _exact(
    grid: PixelGrid, src_crs: str, inverse: Affine, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fractional source (column, row) of the centres of output pixels (rows, cols)."""
    t = grid.transform
    cols = cols + 0.5
    rows = rows + 0.5
    xs = t.a * cols + t.b * rows + t.c
    ys = t.d * cols + t.e * rows + t.f
    if src_crs != grid.crs:
        xs, ys = transformer(grid.crs, src_crs).transform(xs, ys, errcheck=False)
    xs, ys = np.asarray(xs), np.asarray(ys)
    return inverse.a * xs + inverse.b * ys + inverse.c, inverse.d * xs + inverse.e * ys + inverse.f


@lru_cache(maxsize=64)
def _lattice(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lattice positions along an axis of n pixels (float64): every (2 * LATTICE_STEP)-th pixel
    and the last one (the coarse lattice), and between each two of those the midpoint (rounded
    down) where the interval holds one. Also the indices in the lattice of the coarse points
    and of the midpoints (the midpoint of coarse interval k lies between coarse points
    coarse[k] and coarse[k + 1]; intervals of one pixel have none, as they hold no centre
    between their ends)."""
    coarse = np.unique(np.r_[np.arange(0, n, 2 * LATTICE_STEP), n - 1])
    has_mid = np.diff(coarse) >= 2
    mids = (coarse[:-1] + coarse[1:]) // 2
    lattice = np.unique(np.r_[coarse, mids[has_mid]])
    coarse_at = np.searchsorted(lattice, coarse)
    # A midpoint's index, or -1 for an interval without one.
    mid_at = np.where(has_mid, coarse_at[:-1] + 1, -1)
    positions = lattice.astype(np.float64)
    _frozen(positions, coarse_at, mid_at)
    return positions, coarse_at, mid_at


def _frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays, read-only: a cached value is shared by every caller."""
    for a in arrays:
        a.flags.writeable = False
    return arrays


@lru_cache(maxsize=256)
def _axis(n: int, first: int, last: int) -> tuple[np.ndarray, ...]:
    """Lattice points first..last of an axis of n pixels (_lattice), counted from the first
    one, and for each pixel from the first to the last point its interval and weight there
    (_weights): the same for every chunk of a size, so computed once."""
    lattice = _lattice(n)[0][first : last + 1]
    lattice = lattice - lattice[0]
    return _frozen(lattice, *_weights(lattice, int(lattice[-1]) + 1))


def _weights(lattice: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each position 0..n-1: the lattice interval it lies in and its weight in there."""
    positions = np.arange(n, dtype=np.float64)
    index = np.clip(np.searchsorted(lattice, positions, side="right") - 1, 0, len(lattice) - 2)
    weight = (positions - lattice[index]) / (lattice[index + 1] - lattice[index])
    return index, weight


def _interpolate_floors(
    known: tuple[np.ndarray, np.ndarray],
    y_axis: tuple[np.ndarray, ...],
    x_axis: tuple[np.ndarray, ...],
    margin: float,
    limits: Limits,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The source pixel (column, row) of every centre of the whole grid, from the positions on
    the lattice (each axis as _axis gives it) interpolated bilinearly (as _indices: int32, clipped to
    the limits of each axis), and the flat indices of the centres whose interpolated position
    p lies within `margin` of a source pixel edge on either axis: where floor(p - margin) and
    floor(p + margin) differ. A centre not flagged floors to the same pixel anywhere within the
    margin, so to its exact position's, which is p - margin floored.

    The source column changes little along an output column between two lattice rows, and the
    source row little along an output row between two lattice columns (by the grids' relative
    rotation): each axis is worked out per such segment first (_steady_floors), and only the
    segments that cross a source pixel edge are interpolated pixel by pixel."""
    (ly, iy, wy), (lx, ix, wx) = y_axis, x_axis
    h, w = iy.size, ix.size
    kc, kr = known
    # Source columns at the lattice's output rows, for every output column; source rows at the
    # lattice's output columns, for every output row: the bilinear interpolation along one
    # axis, which _steady_floors continues along the other (exact at the lattice points).
    at_rows = kc[:, ix] * (1 - wx) + kc[:, ix + 1] * wx
    at_rows -= margin
    at_cols = kr[iy, :] * (1 - wy)[:, None] + kr[iy + 1, :] * wy[:, None]
    at_cols -= margin
    c, near_c = _steady_floors(at_rows, ly.astype(np.intp), h, margin, limits[0], along_rows=True)
    r, near_r = _steady_floors(
        at_cols.T, lx.astype(np.intp), w, margin, limits[1], along_rows=False
    )
    return c, r, np.union1d(near_c, near_r)


def _steady_floors(
    at_lattice: np.ndarray,
    lattice: np.ndarray,
    n: int,
    margin: float,
    limits: tuple[int, int],
    along_rows: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The floors (int32, clipped to `limits`) of positions that are linear between lattice
    points along one axis of the output grid, and the flat indices of those within `margin` of
    an edge. `at_lattice` (len(lattice), m) holds the positions minus the margin at the n
    pixels' lattice points along that axis, for each of the m pixels along the other axis;
    `along_rows` says the axis is the output's rows (result (n, m)) rather than its columns
    (result (m, n)).

    Between two lattice points a position goes linearly from b to e, minus the margin, so
    every exact position there lies in [min(b, e), max(b, e) + 2 * margin]. A segment whose
    interval floors to one pixel (steady) takes that pixel at every centre, none near an edge;
    the others are interpolated centre by centre, as b + t * (e - b)."""
    starts = lattice.astype(np.intp)
    counts = np.diff(starts)
    counts[-1] += 1  # the last interval holds its end point
    begin, end = at_lattice[:-1], at_lattice[1:]
    lower = np.minimum(begin, end)
    upper = np.maximum(begin, end)
    upper += 2 * margin
    np.floor(lower, out=lower)
    steady = lower == np.floor(upper, out=upper)
    floors = np.empty(lower.shape, dtype=np.int32)
    _indices(lower, limits, floors)
    if along_rows:
        out = np.repeat(floors, counts, axis=0)
    else:  # repeating along the last axis of a contiguous array is twice as fast
        out = np.repeat(np.ascontiguousarray(floors.T), counts, axis=1)
    m = at_lattice.shape[1]
    segments, others = np.nonzero(~steady)
    flagged = [np.zeros(0, dtype=np.intp)]
    edge = 1.0 - 2.0 * margin
    # Intervals are LATTICE_STEP long but for those near the end, and the last one holds its
    # end point too: a few kinds of interval, each of one length and one count of centres.
    spans = np.diff(starts)
    kind_of = spans * (spans.max() + 2) + counts
    kinds = kind_of[segments]
    # Flat index of a segment's first centre, and the steps to its next ones.
    first, step = (starts * m, m) if along_rows else (starts, 1)
    for kind in np.unique(kind_of):
        group = kinds == kind
        if not group.any():
            continue
        k, j = segments[group], others[group]
        span = float(spans[k[0]])
        count = int(counts[k[0]])
        t = np.arange(count, dtype=np.float64)
        b = begin[k, j][:, None]
        p = (t / span)[None, :] * (end[k, j][:, None] - b)
        p += b  # position - margin at each centre of each segment
        floored = np.floor(p)
        p -= floored
        near = p >= edge
        values = np.empty(floored.shape, dtype=np.int32)
        _indices(floored, limits, values)
        base = first[k] + (j if along_rows else j * n)
        flat = base[:, None] + np.arange(0, count * step, step, dtype=np.intp)[None, :]
        out.ravel()[flat] = values  # a flat scatter: cheaper than a 2-D one
        flagged.append(flat[near])
    return out, np.concatenate(flagged)


def _indices(floored: np.ndarray, limits: tuple[int, int], out: np.ndarray) -> None:
    """Floored source positions as int32 pixel indices into `out`, clipped to `limits` (low,
    high): a position beyond a source edge stays beyond it, and a centre the projection cannot
    carry (NaN) gets `low`. Overwrites `floored`."""
    low, high = limits
    np.fmax(floored, low, out=floored)  # fmax and fmin take the number where one is NaN
    np.fmin(floored, high, out=floored)
    np.copyto(out, floored, casting="unsafe")


def _lattice_error(
    lattice: tuple[np.ndarray, np.ndarray],
    coarse_at: tuple[np.ndarray, np.ndarray],
    mid_at: tuple[np.ndarray, np.ndarray],
    known: tuple[np.ndarray, np.ndarray],
) -> float:
    """An estimate of the largest difference between exact and interpolated source positions
    inside the lattice's cells (in source pixels); inf if any position is not finite.

    Bilinear interpolation errs by a combination of the curvatures along the two axes, each
    largest halfway between lattice points: the largest error over a cell lies at one of three
    kinds of midpoint (the centre, where both add up, or an edge midpoint, where one acts alone
    if they cancel at the centre). The lattice's own midpoints are those of the coarse
    lattice's cells, where the exact positions are known: the error of interpolating between
    the coarse points is measured there, and the fine lattice's is a quarter of it, as the
    error of a bilinear interpolation grows with the square of the spacing (the map's second
    derivatives barely change over a coarse cell). A cut in the projection between two fine
    points shows too: a coarse midpoint then lies on the other side of it than one of its ends
    (docs/decisions/0063).
    """
    error = 0.0
    (ly, lx), (cy, cx), (my, mx) = lattice, coarse_at, mid_at
    ty = (ly[my] - ly[cy[:-1]]) / (ly[cy[1:]] - ly[cy[:-1]])
    tx = (lx[mx] - lx[cx[:-1]]) / (lx[cx[1:]] - lx[cx[:-1]])
    hy, hx = my >= 0, mx >= 0
    ty, tx, my, mx = ty[hy][:, None], tx[hx][None, :], my[hy], mx[hx]
    for values in known:
        corner = values[np.ix_(cy, cx)]
        # Along x at coarse rows, along y at coarse columns, and at the cells' centres.
        along_x = corner[:, :-1][:, hx] * (1 - tx) + corner[:, 1:][:, hx] * tx
        along_y = corner[:-1][hy] * (1 - ty) + corner[1:][hy] * ty
        centre = along_x[:-1][hy] * (1 - ty) + along_x[1:][hy] * ty
        for exact, interpolated in (
            (values[np.ix_(cy, mx)], along_x),
            (values[np.ix_(my, cx)], along_y),
            (values[np.ix_(my, mx)], centre),
        ):
            diff = np.abs(exact - interpolated)
            if not np.isfinite(diff).all():
                return float("inf")
            if diff.size:
                error = max(error, float(diff.max()))
    return error / 4


def source_positions(
    grid: PixelGrid, src_crs: str, src_transform: Affine
) -> tuple[np.ndarray, np.ndarray]:
    """The source pixel (column, row) of every output pixel's centre: floor() of its exact
    position (as int32)."""
    located = _floors(grid, src_crs, src_transform, None)
    assert located is not None  # without a source size, every centre is located
    return located[1], located[2]


Box = tuple[slice, slice]
# Per axis (column, row), the (low, high) bounds source pixel indices are clipped to.
Limits = tuple[tuple[int, int], tuple[int, int]]
_NO_LIMIT = int(np.iinfo(np.int32).max)


def _floors(
    grid: PixelGrid, src_crs: str, src_transform: Affine, size: tuple[int, int] | None
) -> tuple[Box, np.ndarray, np.ndarray, Limits | None] | None:
    """The source pixel (column, row) of the centres in a box of the grid: floor() of their
    exact positions, as int32; with a source `size`, clipped to [-1, width] and [-1, height]
    (-1 also where the projection cannot carry a centre). Also, from the lattice when there is
    one, (low, high) bounds on each axis of every centre's pixel in the box, before clipping.

    With a source `size` (width, height), the box leaves out lattice cells that lie wholly
    outside the source (a chunk on a tile's edge), and None means that every centre does."""
    h, w = grid.height, grid.width
    limits: Limits = (
        ((-1, size[0]), (-1, size[1]))
        if size is not None
        else ((-_NO_LIMIT, _NO_LIMIT), (-_NO_LIMIT, _NO_LIMIT))
    )
    inverse = ~src_transform
    whole = (slice(0, h), slice(0, w))
    if src_crs == grid.crs and (axes := _separable_floors(grid, inverse, limits)) is not None:
        cols, rows = axes
        return whole, np.broadcast_to(cols, (h, w)), np.broadcast_to(rows[:, None], (h, w)), None
    if src_crs == grid.crs or h < 2 * LATTICE_STEP or w < 2 * LATTICE_STEP:
        return whole, *_exact_floors(grid, src_crs, inverse, limits), None
    (ly, cy, my), (lx, cx, mx) = _lattice(h), _lattice(w)
    rows, cols = np.meshgrid(ly, lx, indexing="ij")
    known = _exact(grid, src_crs, inverse, rows, cols)
    error = _lattice_error((ly, lx), (cy, cx), (my, mx), known)
    if not error <= MAX_INTERPOLATION_ERROR:
        return whole, *_exact_floors(grid, src_crs, inverse, limits), None
    (i0, i1), (j0, j1) = (0, ly.size - 1), (0, lx.size - 1)
    if size is not None:
        cells = _cells_meeting(known, *size)
        if cells is None:
            return None
        (i0, i1), (j0, j1) = cells
        known = (known[0][i0 : i1 + 1, j0 : j1 + 1], known[1][i0 : i1 + 1, j0 : j1 + 1])
    row0, col0 = int(ly[i0]), int(lx[j0])
    hb, wb = int(ly[i1]) + 1 - row0, int(lx[j1]) + 1 - col0
    margin = ERROR_SAFETY_FACTOR * error + ERROR_FLOOR
    # A centre's interpolated position is a weighted mean of its cell's corners, and its exact
    # one within the margin of that (what makes every floor exact): the lattice bounds them all.
    bounds = cast(
        Limits,
        tuple((int(np.floor(k.min() - margin)), int(np.floor(k.max() + margin))) for k in known),
    )
    c, r, near = _interpolate_floors(known, _axis(h, i0, i1), _axis(w, j0, j1), margin, limits)
    if near.size:
        rows_e, cols_e = np.divmod(near, wb)
        exact = _exact(
            grid,
            src_crs,
            inverse,
            (rows_e + row0).astype(np.float64),
            (cols_e + col0).astype(np.float64),
        )
        for out, values, limit in zip((c, r), exact, limits, strict=True):
            index = np.empty(values.shape, dtype=np.int32)
            _indices(np.floor(values), limit, index)
            out.ravel()[near] = index
    return (slice(row0, row0 + hb), slice(col0, col0 + wb)), c, r, bounds


def _separable_floors(
    grid: PixelGrid, inverse: Affine, limits: Limits
) -> tuple[np.ndarray, np.ndarray] | None:
    """The source column of each output column and the source row of each output row ((w,)
    and (h,) int32, clipped as _indices), for a grid in the source's CRS when neither affine
    is rotated or sheared; None otherwise.

    They are the numbers _exact computes for every centre, not an approximation of them: with
    b = d = 0 in both affines, the terms _exact adds for the other axis (t.b * rows, t.d * cols,
    inverse.b * ys, inverse.d * xs) are zeros (of either sign), and adding a zero to a finite
    number leaves its value unchanged, so the remaining operations are the same ones, on the
    same operands, in the same order (docs/decisions/0058)."""
    t = grid.transform
    if t.b != 0 or t.d != 0 or inverse.b != 0 or inverse.d != 0:
        return None
    centres_x = np.arange(grid.width, dtype=np.float64) + 0.5
    centres_y = np.arange(grid.height, dtype=np.float64) + 0.5
    cols = inverse.a * (t.a * centres_x + t.c) + inverse.c
    rows = inverse.e * (t.e * centres_y + t.f) + inverse.f
    # A non-finite coordinate times the other axis's zero term would be NaN in _exact, not 0.
    if not (np.isfinite(cols).all() and np.isfinite(rows).all()):
        return None
    out = []
    for values, limit in zip((cols, rows), limits, strict=True):
        index = np.empty(values.shape, dtype=np.int32)
        _indices(np.floor(values), limit, index)
        out.append(index)
    return out[0], out[1]


def _separable_map(
    shape: tuple[int, int], cols: np.ndarray, rows: np.ndarray, width: int, height: int
) -> SampleMap:
    """The sample map of a separable grid (_separable_floors) in a (width x height) source.

    Each axis's indices are a floor of a product and a sum of its pixel position with fixed
    operands, and rounding is monotonic, so they never decrease or never increase along the
    axis: the centres inside the source are a contiguous range of columns times a contiguous
    range of rows. The box is that rectangle, all inside it is inside the source, and `flat` is
    an outer sum of one row offset per row and one column offset per column."""
    empty = SampleMap(shape, None, np.zeros((0, 0), dtype=np.intp), None, None)
    inside_cols = np.flatnonzero(cols.view(np.uint32) < width)
    inside_rows = np.flatnonzero(rows.view(np.uint32) < height)
    if inside_cols.size == 0 or inside_rows.size == 0:
        return empty
    box = (
        slice(int(inside_rows[0]), int(inside_rows[-1]) + 1),
        slice(int(inside_cols[0]), int(inside_cols[-1]) + 1),
    )
    assert inside_rows.size == box[0].stop - box[0].start, "monotonic rows"
    assert inside_cols.size == box[1].stop - box[1].start, "monotonic columns"
    c, r = cols[box[1]], rows[box[0]]
    c0, c1, r0, r1 = int(c.min()), int(c.max()), int(r.min()), int(r.max())
    window = Window(c0, r0, c1 + 1 - c0, r1 + 1 - r0)
    row_offsets = np.multiply(r - r0, c1 + 1 - c0, dtype=np.intp)
    flat = np.add.outer(row_offsets, (c - c0).astype(np.intp))
    return SampleMap(shape, box, flat, None, window)


def _exact_floors(
    grid: PixelGrid, src_crs: str, inverse: Affine, limits: Limits
) -> tuple[np.ndarray, np.ndarray]:
    """The source pixel of every centre of the grid, each transformed exactly."""
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width].astype(np.float64)
    out = []
    for values, limit in zip(_exact(grid, src_crs, inverse, rows, cols), limits, strict=True):
        floored = np.floor(values)
        index = np.empty(floored.shape, dtype=np.int32)
        _indices(floored, limit, index)
        out.append(index)
    return out[0], out[1]


def _cells_meeting(
    known: tuple[np.ndarray, np.ndarray], width: int, height: int
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The range of lattice rows and columns whose cells may hold centres inside a (width x
    height) source; None if none may.

    Inside a cell, interpolated positions are weighted means of its corners' and the exact
    ones differ from them by far less than a pixel (MAX_INTERPOLATION_ERROR): a cell whose
    four corners lie more than a pixel beyond the same edge of the source lies wholly outside.
    A corner the projection cannot carry (NaN) keeps its cells."""
    outside = np.zeros(known[0].shape[0] - 1, dtype=bool)[:, None]
    for values, limit in zip(known, (width, height), strict=True):
        corners = (values[:-1, :-1], values[:-1, 1:], values[1:, :-1], values[1:, 1:])
        highest = np.maximum.reduce(corners)
        lowest = np.minimum.reduce(corners)
        outside = outside | (highest < -1) | (lowest > limit + 1)
    meeting = ~outside
    cell_rows = np.flatnonzero(meeting.any(axis=1))
    if cell_rows.size == 0:
        return None
    cell_cols = np.flatnonzero(meeting.any(axis=0))
    return (int(cell_rows[0]), int(cell_rows[-1]) + 1), (int(cell_cols[0]), int(cell_cols[-1]) + 1)


def _bounds(values: np.ndarray, outside: np.ndarray | None) -> tuple[int, int]:
    """The smallest and largest of the values not `outside` (every value if None; there is one
    not outside). Copies with the outside ones replaced are faster to reduce than a masked
    reduction (`np.min(where=)`)."""
    if outside is None:
        return int(values.min()), int(values.max())
    info = np.iinfo(values.dtype)
    kept = values.copy()
    np.copyto(kept, info.max, where=outside)
    low = int(kept.min())
    np.copyto(kept, values)
    np.copyto(kept, info.min, where=outside)
    return low, int(kept.max())


# Sample maps kept for reuse by later requests, at most this many bytes of them (the most
# recently used): a 1024 x 1024 chunk's map is 8 MiB, a 256 x 256 tile's 0.5 MiB. Bounded by
# bytes, not by count: a count of large maps would hold hundreds of MiB, and a server asked for
# new grids would keep growing into fresh pages until the cache is full (docs/decisions/0064).
MAP_CACHE_BYTES = 32 * 2**20


def _map_bytes(where: SampleMap) -> int:
    return int(where.flat.nbytes) + (0 if where.inside is None else int(where.inside.nbytes))


class _MapCache:
    """Sample maps by (chunk grid, source grid): those still held anywhere (the reads of a
    chunk in flight keep theirs: its files on one source grid must share one map object,
    ReducedBand.read_boxed) and, for later requests, the most recently used up to
    MAP_CACHE_BYTES. A map is computed once however many threads ask at the same time."""

    def __init__(self, max_bytes: int) -> None:
        self._recent: cachetools.LRUCache[Hashable, SampleMap] = cachetools.LRUCache(
            max_bytes, getsizeof=_map_bytes
        )
        self._live: weakref.WeakValueDictionary[Hashable, SampleMap] = weakref.WeakValueDictionary()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def _get(self, key: Hashable) -> SampleMap | None:
        with self._lock:
            found = self._recent.get(key)
            return found if found is not None else self._live.get(key)

    def get(self, key: Hashable, compute: Callable[[], SampleMap]) -> SampleMap:
        found = self._get(key)
        if found is not None:
            return found
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found = self._get(key)
            if found is None:
                found = compute()
                with self._lock:
                    self._live[key] = found
                    if _map_bytes(found) <= self._recent.maxsize:
                        self._recent[key] = found
            with self._lock:
                self._computing.pop(key, None)
        return found

    def clear(self) -> None:
        with self._lock:
            self._recent.clear()
            self._live.clear()


_maps = _MapCache(MAP_CACHE_BYTES)


def sample_map(
    grid: PixelGrid, src_crs: str, src_transform: Affine, width: int, height: int
) -> SampleMap:
    """The sample map of `grid` in a (width x height) source grid, computed once per (chunk
    grid, source grid) while it is in use or recent (_MapCache): every band and image on the
    same source grid shares it (a composite of one tile reads many files on one grid)."""
    key = (grid, src_crs, src_transform, width, height)
    return _maps.get(key, lambda: _sample_map(grid, src_crs, src_transform, width, height))


def _sample_map(
    grid: PixelGrid, src_crs: str, src_transform: Affine, width: int, height: int
) -> SampleMap:
    if src_crs == grid.crs:
        axes = _separable_floors(grid, ~src_transform, ((-1, width), (-1, height)))
        if axes is not None:
            return _separable_map(grid.shape, *axes, width, height)
    located = _floors(grid, src_crs, src_transform, (width, height))
    empty = SampleMap(grid.shape, None, np.zeros((0, 0), dtype=np.intp), None, None)
    if located is None:
        return empty
    (rows_at, cols_at), c, r, bounds = located
    if bounds is not None and all(
        lo >= 0 and hi < n for (lo, hi), n in zip(bounds, (width, height), strict=True)
    ):
        # The lattice bounds every centre's pixel inside the source: no mask to work out.
        (c0, c1), (r0, r1) = bounds
        inside = outside = None
        box = (rows_at, cols_at)
    else:
        # Indices are clipped to [-1, size]: as unsigned, -1 is beyond every size too.
        inside = c.view(np.uint32) < width
        inside &= r.view(np.uint32) < height
        rows = np.flatnonzero(inside.any(axis=1))
        if rows.size == 0:
            return empty
        cols = np.flatnonzero(inside.any(axis=0))
        outside = None if inside.all() else ~inside
        if bounds is not None:
            # The lattice's bounds, within the source: the window holds every centre inside,
            # and at most the pixels its cells on the source's edge reach beyond them (a pixel
            # or so; a read of the same values, not other ones), without four passes over the
            # pixels.
            (c0, c1), (r0, r1) = (
                (max(lo, 0), min(hi, n - 1))
                for (lo, hi), n in zip(bounds, (width, height), strict=True)
            )
        else:
            # Reductions over contiguous arrays are twice as fast as over the box's strided
            # views (cropped below), and the pixels outside the box are all outside the source.
            (c0, c1), (r0, r1) = _bounds(c, outside), _bounds(r, outside)
        inner = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
        c, r, inside = c[inner], r[inner], inside[inner]
        if outside is not None:
            outside = outside[inner]
        box = (
            slice(rows_at.start + inner[0].start, rows_at.start + inner[0].stop),
            slice(cols_at.start + inner[1].start, cols_at.start + inner[1].stop),
        )
    where = None if inside is None or inside.all() else inside
    window = Window(c0, r0, c1 + 1 - c0, r1 + 1 - r0)
    # Row-major index in the window; outside centres point one past the window's last pixel.
    # Worked out in int32 when every intermediate fits (indices are clipped to [-1, size]):
    # half the memory traffic of intp, and one conversion at the end.
    size = window.width * window.height
    largest = (height + 1) * window.width + width + 1
    index_type = np.int32 if largest <= np.iinfo(np.int32).max else np.intp
    flat = np.multiply(r, window.width, dtype=index_type)
    flat += c
    flat -= r0 * window.width + c0
    if where is not None:
        assert outside is not None
        np.copyto(flat, size, where=outside)
    flat = flat.astype(np.intp, copy=False)
    return SampleMap(grid.shape, box, flat, where, window)
