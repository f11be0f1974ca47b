"""Connected components: groups of neighbouring unmasked pixels with equal values.

A recipe reads a halo of `max_size` pixels. An object whose extent (width or height of its
bounding box) is at most `max_size` and that has a pixel in the chunk lies wholly inside the
grown window; an object touching the window's edge is therefore larger than `max_size`, which
every recipe here treats as "too large". So chunks agree exactly with the whole grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from openee.raster.grid import PixelGrid
from openee.raster.halo import HaloBand, UnaryHaloBand, global_index
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.reducers.registry import grouped_kernel

FOUR = ((0, 1), (1, 0))
EIGHT = ((0, 1), (1, 0), (1, 1), (1, -1))
# Label encoding: global row * ROW_STRIDE + global column (unique across chunks).
ROW_STRIDE = 1 << 31


@dataclass(frozen=True)
class Components:
    """`ids[r, c]` is the component of each pixel (-1: masked); per component its pixel count,
    its bounding-box extent and whether it touches the window's edge."""

    ids: np.ndarray
    count: int
    sizes: np.ndarray
    extent: np.ndarray
    touches_edge: np.ndarray

    def too_large(self, max_size: int) -> np.ndarray:
        """Per component: larger than max_size in width or height, or possibly so."""
        return (self.extent > max_size) | self.touches_edge


def label(
    values: np.ndarray, valid: np.ndarray, offsets: tuple[tuple[int, int], ...]
) -> Components:
    """Components of equal-valued unmasked pixels joined along `offsets` (and their reverses)."""
    h, w = values.shape
    index = np.arange(h * w).reshape(h, w)
    rows, cols = [], []
    for dr, dc in offsets:
        a = (slice(0, h - dr), slice(max(0, -dc), w - max(0, dc)))
        b = (slice(dr, h), slice(max(0, dc), w - max(0, -dc)))
        join = valid[a] & valid[b] & (values[a] == values[b])
        rows.append(index[a][join])
        cols.append(index[b][join])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(r.size, dtype=np.int8), (r, c)), shape=(h * w, h * w))
    _, raw = connected_components(graph, directed=False)
    # Renumber the components of valid pixels 0..n-1; masked pixels get -1.
    flat = np.where(valid.ravel(), raw, -1)
    kept, ids = np.unique(flat[flat >= 0], return_inverse=True)
    out = np.full(h * w, -1, dtype=np.int64)
    out[flat >= 0] = ids
    ids2 = out.reshape(h, w)
    n = kept.size
    sizes = np.bincount(ids2[valid], minlength=n)
    rr, cc = np.nonzero(valid)
    lab = ids2[valid]
    extent = np.zeros(n, dtype=np.int64)
    if n:
        rmin = np.full(n, h)
        rmax = np.full(n, -1)
        cmin = np.full(n, w)
        cmax = np.full(n, -1)
        np.minimum.at(rmin, lab, rr)
        np.maximum.at(rmax, lab, rr)
        np.minimum.at(cmin, lab, cc)
        np.maximum.at(cmax, lab, cc)
        extent = np.maximum(rmax - rmin, cmax - cmin) + 1
        touches = (rmin == 0) | (cmin == 0) | (rmax == h - 1) | (cmax == w - 1)
    else:
        touches = np.zeros(0, dtype=bool)
    return Components(ids2, n, sizes, extent, touches)


def offsets_of_kernel(weights: np.ndarray, fx: int, fy: int) -> tuple[tuple[int, int], ...]:
    """The neighbour offsets of a connectedness kernel (its non-zero cells but the focus)."""
    out = []
    for r, c in zip(*np.nonzero(weights), strict=True):
        dr, dc = int(r) - fy, int(c) - fx
        if (dr, dc) == (0, 0):
            continue
        if dr < 0 or (dr == 0 and dc < 0):
            dr, dc = -dr, -dc
        if (dr, dc) not in out:
            out.append((dr, dc))
    return tuple(out)


@dataclass(frozen=True)
class ComponentLabelBand(UnaryHaloBand):
    """connectedComponents: each object's label is a number unique to it (from the position of
    its first pixel in row-major order on the grid's CRS); objects larger than `max_size`
    pixels in width or height are masked, as are masked pixels."""

    offsets: tuple[tuple[int, int], ...]
    max_size: int

    dtype = np.dtype(np.int64)

    def halo(self, grid: PixelGrid) -> int:
        return self.max_size

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        comp = label(p.data, p.valid, self.offsets)
        grows, gcols = global_index(outer)
        code = grows * ROW_STRIDE + gcols
        first = np.full(comp.count, np.iinfo(np.int64).max)
        np.minimum.at(first, comp.ids[p.valid], code[p.valid])
        keep = np.zeros(comp.ids.shape, dtype=bool)
        keep[p.valid] = ~comp.too_large(self.max_size)[comp.ids[p.valid]]
        labels = np.zeros(comp.ids.shape, dtype=np.int64)
        labels[keep] = first[comp.ids[keep]]
        return Pixels(labels, keep)


@dataclass(frozen=True)
class PixelCountBand(UnaryHaloBand):
    """connectedPixelCount: the number of pixels of each pixel's object (itself included),
    at most `max_size` (an object that may be larger reads `max_size`)."""

    max_size: int
    eight: bool = True

    dtype = np.dtype(np.int32)

    def halo(self, grid: PixelGrid) -> int:
        return self.max_size

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        comp = label(p.data, p.valid, EIGHT if self.eight else FOUR)
        sizes = np.where(comp.too_large(self.max_size), self.max_size, comp.sizes)
        counts = np.zeros(comp.ids.shape, dtype=np.int64)
        counts[p.valid] = np.minimum(sizes[comp.ids[p.valid]], self.max_size)
        return Pixels(counts, p.valid)


@dataclass(frozen=True)
class ComponentReduceBand(HaloBand):
    """reduceConnectedComponents: `reducer` over the unmasked `value` pixels of each 8-connected
    object of `labels`, given to every pixel of the object; objects larger than `max_size` in
    width or height are masked."""

    labels: BandSource
    value: BandSource
    reducer: str
    max_size: int

    def __post_init__(self) -> None:
        grouped_kernel(self.reducer)  # refuses a reducer without one

    @property
    def dtype(self) -> np.dtype:
        return grouped_kernel(self.reducer).dtype(self.value.dtype)

    def inputs(self) -> tuple[BandSource, ...]:
        return (self.labels, self.value)

    def halo(self, grid: PixelGrid) -> int:
        return self.max_size

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        lab, val = layers
        comp = label(lab.data, lab.valid, EIGHT)
        n = comp.count
        if n == 0:
            return Pixels.empty(lab.data.shape, self.dtype)
        members = lab.valid & val.valid
        ids = np.where(members, comp.ids + 1, 0)  # scipy's labels: 0 is left out
        index = np.arange(1, n + 1)
        v = val.data.astype(np.float64)
        counts = ndimage.sum_labels(np.ones_like(v), ids, index)
        kernel = grouped_kernel(self.reducer)
        result = np.asarray(kernel.run(v, ids, index), dtype=np.float64)
        good = ~comp.too_large(self.max_size) & ((counts > 0) | kernel.everywhere)
        where = lab.valid.copy()
        where[lab.valid] = good[comp.ids[lab.valid]]
        out = np.zeros(lab.data.shape)
        out[where] = result[comp.ids[where]]
        return Pixels(out, where)
