"""Filling local minima (sinks) of an elevation band, as Terrain.fillMinima does.

A pixel is raised to the lowest level at which water standing on it could flow off the window
(the request grid grown by `neighborhood` pixels on each side) through its 8-connected
neighbours: priority flood (Barnes et al. 2014) from the window's edge and from masked pixels,
which drain. `border` raises the window's edge to that value (water must pass over it).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.neighborhood import read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

_NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def priority_flood(z: np.ndarray, valid: np.ndarray, border: float | None) -> np.ndarray:
    """The elevations with every sink filled to its spill level (float64)."""
    h, w = z.shape
    out = z.astype(np.float64)
    done = ~valid.copy()
    queue: list[tuple[float, int, int]] = []

    def seed(r: int, c: int) -> None:
        if not done[r, c]:
            if border is not None:
                out[r, c] = max(out[r, c], border)
            done[r, c] = True
            heapq.heappush(queue, (out[r, c], r, c))

    for c in range(w):
        seed(0, c)
        seed(h - 1, c)
    for r in range(h):
        seed(r, 0)
        seed(r, w - 1)
    # Valid pixels next to masked ones drain into them.
    drains = valid & ~_eroded(valid)
    for r, c in zip(*np.nonzero(drains), strict=True):
        seed(int(r), int(c))
    while queue:
        level, r, c = heapq.heappop(queue)
        for dr, dc in _NEIGHBOURS:
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and not done[rr, cc]:
                done[rr, cc] = True
                out[rr, cc] = max(out[rr, cc], level)
                heapq.heappush(queue, (out[rr, cc], rr, cc))
    return out


def _eroded(mask: np.ndarray) -> np.ndarray:
    """Pixels whose 8 neighbours (inside the array) are all set."""
    padded = np.pad(mask, 1, constant_values=True)
    h, w = mask.shape
    out = mask.copy()
    for dr, dc in _NEIGHBOURS:
        out &= padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
    return out


@dataclass(frozen=True)
class FilledBand(BandSource):
    """An elevation band with its sinks filled within `neighborhood` pixels of the request."""

    input: BandSource
    neighborhood: int
    border: float | None = None

    reads_other_grid = True  # its input is read on the grid grown by `neighborhood`

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        n = self.neighborhood
        outer = read_expanded(self.input, grid, n, n, n, n)
        filled = priority_flood(outer.data, outer.valid, self.border)
        inner = (slice(n, n + grid.height), slice(n, n + grid.width))
        valid = outer.valid[inner]
        data = np.where(valid, filled[inner], 0).astype(self.dtype)
        return Pixels(data, valid)
