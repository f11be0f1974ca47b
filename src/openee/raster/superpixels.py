"""SNIC superpixels (Achanta & Süsstrunk, "Superpixels and Polygons using Simple Non-Iterative
Clustering", CVPR 2017), as Earth Engine's Image.Segmentation.SNIC serves them.

One priority queue holds candidate (distance, pixel, cluster) triples; the nearest is popped, the
pixel joins its cluster if still free, the cluster's centroid (position and band values) is
updated online, and the pixel's free neighbours (4- or 8-connected) are pushed with their
distance to that centroid. The distance is the paper's
`sum((value - mean)^2) + (dx^2 + dy^2) * (compactness / size)^2` (the reference code's
`colour + xy * m^2 / S^2`, with S = the seed spacing). A cluster therefore only ever grows by a
neighbour of a pixel it holds: each cluster is connected, and its mean is the mean of its pixels.

Tiles: as Earth Engine does, the segmentation is computed on fixed 256-pixel tiles, here of
the grid's CRS pixel lattice, each grown by `neighborhoodSize` pixels (a halo, ADR 0012) to avoid
tile-boundary artefacts. A pixel's result therefore depends on its tile only, not on the request
window or the chunking, and a window's memory is bounded. Cluster ids come from the position of
their seed on the lattice, so a cluster crossing a tile border keeps its id on both sides; its
shape and mean near the border can differ from side to side (each side saw a different
window), as in Earth Engine's own tiles; ADR 0032.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from openee.raster.components import ROW_STRIDE
from openee.raster.grid import PixelGrid
from openee.raster.halo import MAX_HALO, global_index
from openee.raster.neighborhood import read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

_FOUR = ((-1, 0), (0, -1), (0, 1), (1, 0))
_EIGHT = (*_FOUR, (-1, -1), (-1, 1), (1, -1), (1, 1))

TILE = 256
# The bands of one segmentation share one computation per tile: the results of the last tiles,
# per thread (a chunk's bands are read one after the other in one thread; a 1024-pixel chunk
# holds 16 tiles).
_recent = threading.local()
_RECENT_TILES = 16


@dataclass(frozen=True)
class Segmentation:
    """`labels[r, c]`: index of the pixel's cluster (-1: none); per cluster its band means;
    `seeds[r, c]`: 1 + the index of the cluster a seed pixel started (0: not a seed)."""

    labels: np.ndarray
    means: np.ndarray  # (clusters, bands)
    seeds: np.ndarray


def snic(
    values: np.ndarray,
    valid: np.ndarray,
    seeds: np.ndarray,
    compactness: float,
    size: int,
    eight: bool,
) -> Segmentation:
    """SNIC of `values` (bands, height, width) over the `valid` pixels, grown from `seeds`
    (height, width) of non-zero pixels; seed pixels that touch form one cluster."""
    bands, h, w = values.shape
    structure = ndimage.generate_binary_structure(2, 2 if eight else 1)
    seed_ids, n = ndimage.label((seeds != 0) & valid, structure=structure)
    labels = np.full((h, w), -1, dtype=np.int64)
    if n == 0:
        return Segmentation(labels, np.zeros((0, bands)), seed_ids)
    weight = (compactness / size) ** 2 if size else 0.0
    # Plain Python lists: the loop touches single pixels, where numpy's per-call cost dominates.
    pixel = values.reshape(bands, -1).T.tolist()
    sums = [[0.0] * bands for _ in range(n)]
    xy = [[0.0, 0.0] for _ in range(n)]
    counts = [0] * n
    heap: list[tuple[float, int, int]] = []
    steps = [(dr, dc, dr * w + dc) for dr, dc in (_EIGHT if eight else _FOUR)]
    lab = labels.ravel().tolist()
    ok = valid.ravel().tolist()
    # The smallest distance queued for each pixel: a candidate no nearer can never be the one
    # that claims the pixel (the nearer one pops first), so it is not queued.
    best = [math.inf] * (h * w)
    push = heapq.heappush

    def join(i: int, k: int) -> None:
        """Pixel i joins cluster k; its free neighbours become candidates of k."""
        lab[i] = k
        r, c = divmod(i, w)
        total, centre = sums[k], xy[k]
        for b, v in enumerate(pixel[i]):
            total[b] += v
        centre[0] += r
        centre[1] += c
        counts[k] += 1
        q = counts[k]
        mean = [t / q for t in total]
        cy, cx = centre[0] / q, centre[1] / q
        for dr, dc, step in steps:
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w:
                j = i + step
                if lab[j] < 0 and ok[j]:
                    d = ((rr - cy) ** 2 + (cc - cx) ** 2) * weight
                    for v, m in zip(pixel[j], mean, strict=True):
                        d += (v - m) ** 2
                    if d < best[j]:
                        best[j] = d
                        push(heap, (d, j, k))

    # Every seed pixel belongs to its seed's cluster before any cluster grows.
    seed_flat = seed_ids.ravel().tolist()
    starts = [i for i, s in enumerate(seed_flat) if s]
    for i in starts:
        lab[i] = seed_flat[i] - 1
    for i in starts:
        lab[i] = -1
        join(i, seed_flat[i] - 1)
    pop = heapq.heappop
    while heap:
        _, i, k = pop(heap)
        if lab[i] < 0:
            join(i, k)
    labels = np.asarray(lab, dtype=np.int64).reshape(h, w)
    means = np.asarray(sums) / np.maximum(np.asarray(counts), 1)[:, None]
    return Segmentation(labels, means, seed_ids)


@dataclass(frozen=True)
class SnicBand(BandSource):
    """One output band of SNIC on `inputs`: `output` -1 is 'clusters' (the id of each pixel's
    cluster: its first seed pixel's row * 2^31 + column on the CRS pixel lattice), `output` i
    the cluster means of input band i. Pixels masked in any input are left out (masked)."""

    inputs_: tuple[BandSource, ...]
    seeds: BandSource
    output: int
    size: int
    compactness: float
    eight: bool
    neighborhood: int

    reads_other_grid = True

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.int64 if self.output < 0 else np.float64)

    @property
    def rank(self) -> int:
        return 0

    def inputs(self) -> tuple[BandSource, ...]:
        return (*self.inputs_, self.seeds)

    def read(self, grid: PixelGrid) -> Pixels:
        """The pixels of `grid`, assembled from the lattice's tiles that it overlaps."""
        rows, cols = global_index(grid.subgrid(0, 0, 1, 1))
        row0, col0 = int(rows[0, 0]), int(cols[0, 0])
        data = np.zeros(grid.shape, dtype=self.dtype)
        valid = np.zeros(grid.shape, dtype=bool)
        for top in range((row0 // TILE) * TILE, row0 + grid.height, TILE):
            for left in range((col0 // TILE) * TILE, col0 + grid.width, TILE):
                r, c = top - row0, left - col0
                tile_data, tile_valid = self._tile(grid.subgrid(r, c, TILE, TILE))
                r0, r1 = max(r, 0), min(r + TILE, grid.height)
                c0, c1 = max(c, 0), min(c + TILE, grid.width)
                part = (slice(r0 - r, r1 - r), slice(c0 - c, c1 - c))
                data[r0:r1, c0:c1] = tile_data[part]
                valid[r0:r1, c0:c1] = tile_valid[part]
        return Pixels(data, valid)

    def _tile(self, tile: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
        """This output band on one tile (values, mask), segmenting the grown tile once for
        all the bands of the segmentation."""
        n = min(self.neighborhood, MAX_HALO)
        key = (self.inputs_, self.seeds, self.size, self.compactness, self.eight, tile, n)
        recent: OrderedDict[tuple[object, ...], tuple[Segmentation, np.ndarray]] | None
        recent = getattr(_recent, "tiles", None)
        if recent is None:
            recent = _recent.tiles = OrderedDict()
        if key not in recent:
            outer = tile.subgrid(-n, -n, TILE + 2 * n, TILE + 2 * n)
            layers = [read_expanded(s, tile, n, n, n, n) for s in self.inputs()]
            recent[key] = self._segment(layers, outer)
            if len(recent) > _RECENT_TILES:
                recent.popitem(last=False)
        seg, ids = recent[key]
        inner = (slice(n, n + TILE), slice(n, n + TILE))
        member = seg.labels[inner] >= 0
        if self.output < 0:
            return ids[inner], member
        out = np.zeros(member.shape)
        out[member] = seg.means[seg.labels[inner][member], self.output]
        return out, member

    def _segment(self, layers: list[Pixels], outer: PixelGrid) -> tuple[Segmentation, np.ndarray]:
        """The segmentation of the window and each pixel's cluster id."""
        *bands, seed = layers
        valid = np.logical_and.reduce([b.valid for b in bands])
        values = np.stack([b.data.astype(np.float64) for b in bands])
        seeds = np.where(seed.valid, seed.data, 0)
        seg = snic(values, valid, seeds, self.compactness, self.size, self.eight)
        grows, gcols = global_index(outer)
        code = grows * ROW_STRIDE + gcols
        first = np.full(seg.means.shape[0], np.iinfo(np.int64).max)
        at = seg.seeds > 0
        np.minimum.at(first, seg.seeds[at] - 1, code[at])
        member = seg.labels >= 0
        ids = np.zeros(seg.labels.shape, dtype=np.int64)
        ids[member] = first[seg.labels[member]]
        return seg, ids
