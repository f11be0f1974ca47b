"""K-means segmentation of an image, cell by cell (Earth Engine's Image.Segmentation.KMeans).

The grid's CRS pixel lattice is cut into fixed square cells (`gridSize`, or 256-pixel tiles
when it is not given), so a pixel's cell — and its label — does not depend on the request
window or on the chunking. Each cell is clustered on its own, optionally on the cell grown by
`neighborhoodSize` pixels (overlap). Within a cell, clusters are numbered by their centres in
ascending order (first band, then the next), so the numbering is reproducible; with
`uniqueLabels` the cell's position is folded in so that labels differ between cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.halo import global_index
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

DEFAULT_CELL = 256
# Unique labels: ((cell row) * CELL_COLUMNS + cell column mod CELL_COLUMNS) * k + cluster.
CELL_COLUMNS = 1 << 20


def kmeans_labels(
    samples: np.ndarray, k: int, iterations: int, force_convergence: bool
) -> np.ndarray:
    """Lloyd's k-means (k-means++ start, seed 0) of `samples` (n, bands): each sample's
    cluster, clusters numbered by their centres in ascending lexicographic order."""
    distinct = np.unique(samples, axis=0)
    k = min(k, len(distinct))
    model = KMeans(n_clusters=k, n_init=1, max_iter=iterations, random_state=0, tol=0.0)
    raw = model.fit_predict(samples)
    if force_convergence and model.n_iter_ >= iterations:
        raise InvalidArgumentError(
            f"KMeans did not converge within numIterations={iterations} iterations."
        )
    centres = model.cluster_centers_
    order = np.lexsort(centres.T[::-1])
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[raw]


@dataclass(frozen=True)
class KMeansBand(BandSource):
    """The cluster of every pixel of `inputs` (masked where any input is)."""

    inputs: tuple[BandSource, ...]
    clusters: int
    iterations: int
    overlap: int
    cell: int
    force_convergence: bool
    unique: bool

    reads_other_grid = True

    dtype = np.dtype(np.int64)

    @property
    def rank(self) -> int:
        return 0

    def read(self, grid: PixelGrid) -> Pixels:
        rows, cols = global_index(grid.subgrid(0, 0, 1, 1))
        row0, col0 = int(rows[0, 0]), int(cols[0, 0])
        out = np.zeros(grid.shape, dtype=np.int64)
        valid = np.zeros(grid.shape, dtype=bool)
        n = self.cell
        for top in range((row0 // n) * n, row0 + grid.height, n):
            for left in range((col0 // n) * n, col0 + grid.width, n):
                self._cell(grid, top - row0, left - col0, out, valid, (top // n, left // n))
        return Pixels(out, valid)

    def _cell(
        self,
        grid: PixelGrid,
        r: int,
        c: int,
        out: np.ndarray,
        valid: np.ndarray,
        index: tuple[int, int],
    ) -> None:
        """Cluster the cell whose top-left is at (r, c) of `grid`; fill its part of `out`."""
        n, m = self.cell, self.overlap
        window = grid.subgrid(r - m, c - m, n + 2 * m, n + 2 * m)
        layers = [s.read(window) for s in self.inputs]
        ok = np.logical_and.reduce([p.valid for p in layers])
        if not ok.any():
            return
        samples = np.stack([p.data[ok].astype(np.float64) for p in layers], axis=1)
        labels = np.zeros(ok.shape, dtype=np.int64)
        labels[ok] = kmeans_labels(samples, self.clusters, self.iterations, self.force_convergence)
        if self.unique:
            cell = index[0] * CELL_COLUMNS + index[1] % CELL_COLUMNS
            labels += cell * self.clusters
        # The cell's own pixels (without the overlap) that fall inside the requested grid.
        r0, r1 = max(r, 0), min(r + n, grid.height)
        c0, c1 = max(c, 0), min(c + n, grid.width)
        inner = (slice(r0 - r + m, r1 - r + m), slice(c0 - c + m, c1 - c + m))
        out[r0:r1, c0:c1] = labels[inner]
        valid[r0:r1, c0:c1] = ok[inner]
