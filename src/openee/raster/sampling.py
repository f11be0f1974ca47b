"""Exact nearest-neighbour sampling: which source pixel holds each output pixel's centre.

Earth Engine's nearest resampling takes, for every output pixel, the source pixel that contains
the pixel's centre. Transforming every centre with pyproj is exact but is the most expensive step
of a request (about 0.4 s per million pixels). Map projections are smooth, so the source position
of a centre is almost bilinear between centres a few pixels apart: the centres are transformed on
a sparse lattice, interpolated in between, and the interpolation error is measured on the lattice
cells' midpoints. Only a pixel whose interpolated position lies within a safety margin of that
error from a source pixel edge can fall in a different pixel than its exact position, and only
those pixels are transformed exactly. The result is identical to transforming every centre.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.windows import Window

from openee.raster.grid import PixelGrid

# Lattice spacing in output pixels: 1/256 of the centres are transformed, plus the midpoints.
LATTICE_STEP = 16
# Interpolation errors above this (in source pixels) mean the projection bends too much between
# lattice points (or is cut between them): transform every centre instead.
MAX_INTERPOLATION_ERROR = 0.01
# The margin multiplies the largest error seen at the midpoints (where bilinear interpolation
# errs most) and adds a floor for floating-point rounding.
ERROR_SAFETY_FACTOR = 4.0
ERROR_FLOOR = 1e-6


@lru_cache(maxsize=64)
def transformer(src_crs: str, dst_crs: str) -> Transformer:
    return Transformer.from_crs(src_crs, dst_crs, always_xy=True)


@dataclass(frozen=True)
class SampleMap:
    """Where each output pixel's centre falls in a source grid: the source pixels to take."""

    inside: np.ndarray  # (height, width) bool: the centre falls in the source raster
    flat: np.ndarray  # index of each inside pixel's source pixel in the window, row-major (intp)
    window: Window | None  # the source window that holds them (None: nothing inside)
    all_inside: bool  # every centre is inside (then `flat` covers the grid in row-major order)


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


def _lattice(n: int) -> np.ndarray:
    """Lattice positions along an axis of n pixels: every LATTICE_STEP-th, and the last one."""
    return np.unique(np.r_[np.arange(0, n, LATTICE_STEP), n - 1]).astype(np.float64)


def _weights(lattice: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each position 0..n-1: the lattice interval it lies in and its weight in there."""
    positions = np.arange(n, dtype=np.float64)
    index = np.clip(np.searchsorted(lattice, positions, side="right") - 1, 0, len(lattice) - 2)
    weight = (positions - lattice[index]) / (lattice[index + 1] - lattice[index])
    return index, weight


def _interpolate(
    known: tuple[np.ndarray, np.ndarray],
    ly: np.ndarray,
    lx: np.ndarray,
    h: int,
    w: int,
    margin: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source (column, row) positions on the lattice (ly, lx) interpolated bilinearly onto the
    whole (h, w) grid, and where an interpolated position lies within `margin` of a source
    pixel edge. Worked through one lattice row interval at a time so that the temporaries stay
    in the CPU cache."""
    ix, wx = _weights(lx, w)
    outputs, slopes, bases = [], [], []
    for values in known:
        along_x = values[:, ix] * (1 - wx) + values[:, ix + 1] * wx  # (len(ly), w)
        bases.append(along_x)
        slopes.append(np.diff(along_x, axis=0))
        outputs.append(np.empty((h, w)))
    near_edge = np.empty((h, w), dtype=bool)
    scratch = np.empty((LATTICE_STEP + 1, w))
    flags = np.empty((LATTICE_STEP + 1, w), dtype=bool)
    starts = ly.astype(np.intp)
    for k in range(len(ly) - 1):
        r0 = starts[k]
        r1 = starts[k + 1] + 1 if k == len(ly) - 2 else starts[k + 1]
        wy = ((np.arange(r0, r1) - ly[k]) / (ly[k + 1] - ly[k]))[:, None]
        n = r1 - r0
        tmp, near = scratch[:n], near_edge[r0:r1]
        for i, (out, base, slope) in enumerate(zip(outputs, bases, slopes, strict=True)):
            block = out[r0:r1]
            np.multiply(slope[k], wy, out=block)
            block += base[k]
            # Distance to the nearest source pixel edge along this axis.
            np.round(block, out=tmp)
            np.subtract(block, tmp, out=tmp)
            np.abs(tmp, out=tmp)
            if i == 0:
                np.less(tmp, margin, out=near)
            else:
                np.less(tmp, margin, out=flags[:n])
                near |= flags[:n]
    return outputs[0], outputs[1], near_edge


def _midpoint_error(
    grid: PixelGrid,
    src_crs: str,
    inverse: Affine,
    lattice: tuple[np.ndarray, np.ndarray],
    known: tuple[np.ndarray, np.ndarray],
) -> float:
    """The largest difference between exact and interpolated source positions at the
    midpoints of the lattice cells and of their edges (in source pixels); inf if any is not
    finite.

    Bilinear interpolation errs by a combination of the curvatures along the two axes, each
    largest halfway between lattice points; the largest error over a cell lies at one of these
    three kinds of midpoint (the centre, where both add up, or an edge midpoint, where one acts
    alone if they cancel at the centre).
    """
    ly, lx = lattice
    my, mx = (ly[:-1] + ly[1:]) / 2, (lx[:-1] + lx[1:]) / 2
    error = 0.0
    for ys, xs, interpolate in (
        (my, mx, lambda v: (v[:-1, :-1] + v[:-1, 1:] + v[1:, :-1] + v[1:, 1:]) / 4),
        (ly, mx, lambda v: (v[:, :-1] + v[:, 1:]) / 2),
        (my, lx, lambda v: (v[:-1, :] + v[1:, :]) / 2),
    ):
        rows, cols = np.meshgrid(ys, xs, indexing="ij")
        for exact, at_lattice in zip(
            _exact(grid, src_crs, inverse, rows, cols), known, strict=True
        ):
            diff = np.abs(exact - interpolate(at_lattice))
            if not np.isfinite(diff).all():
                return float("inf")
            error = max(error, float(diff.max()))
    return error


def source_positions(
    grid: PixelGrid, src_crs: str, src_transform: Affine
) -> tuple[np.ndarray, np.ndarray]:
    """Source (column, row) of every output pixel's centre; floor() of each is exact."""
    h, w = grid.height, grid.width
    inverse = ~src_transform
    if src_crs == grid.crs or h < 2 * LATTICE_STEP or w < 2 * LATTICE_STEP:
        rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
        return _exact(grid, src_crs, inverse, rows, cols)
    ly, lx = _lattice(h), _lattice(w)
    rows, cols = np.meshgrid(ly, lx, indexing="ij")
    known = _exact(grid, src_crs, inverse, rows, cols)
    error = _midpoint_error(grid, src_crs, inverse, (ly, lx), known)
    if not error <= MAX_INTERPOLATION_ERROR:
        rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
        return _exact(grid, src_crs, inverse, rows, cols)
    margin = ERROR_SAFETY_FACTOR * error + ERROR_FLOOR
    c, r, near_edge = _interpolate(known, ly, lx, h, w, margin)
    if near_edge.any():
        rows_e, cols_e = np.nonzero(near_edge)
        c[near_edge], r[near_edge] = _exact(
            grid, src_crs, inverse, rows_e.astype(np.float64), cols_e.astype(np.float64)
        )
    return c, r


_computing: dict[tuple[object, ...], threading.Lock] = {}
_computing_lock = threading.Lock()


def sample_map(
    grid: PixelGrid, src_crs: str, src_transform: Affine, width: int, height: int
) -> SampleMap:
    """The sample map of `grid` in a (width x height) source grid, computed once per (chunk
    grid, source grid) for the whole process: every band and image on the same source grid
    shares it (a composite of one tile reads many files on one grid). Threads asking for the
    same map at once wait for the first one instead of computing it again."""
    key = (grid, src_crs, src_transform, width, height)
    with _computing_lock:
        lock = _computing.setdefault(key, threading.Lock())
    with lock:
        result = _sample_map(grid, src_crs, src_transform, width, height)
    with _computing_lock:
        _computing.pop(key, None)
    return result


@lru_cache(maxsize=32)
def _sample_map(
    grid: PixelGrid, src_crs: str, src_transform: Affine, width: int, height: int
) -> SampleMap:
    cf, rf = source_positions(grid, src_crs, src_transform)
    c, r = np.floor(cf), np.floor(rf)
    inside = np.isfinite(c) & np.isfinite(r) & (c >= 0) & (c < width) & (r >= 0) & (r < height)
    if not inside.any():
        return SampleMap(inside, np.zeros(0, dtype=np.intp), None, False)
    all_inside = bool(inside.all())
    c_in = (c if all_inside else c[inside]).astype(np.intp).ravel()
    r_in = (r if all_inside else r[inside]).astype(np.intp).ravel()
    r0, c0 = int(r_in.min()), int(c_in.min())
    win_w = int(c_in.max()) + 1 - c0
    window = Window(c0, r0, win_w, int(r_in.max()) + 1 - r0)
    flat = (r_in - r0) * win_w + (c_in - c0)
    return SampleMap(inside, flat, window, all_inside)
