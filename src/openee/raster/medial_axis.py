"""Image.medialAxis: the discrete medial axis of the zero-valued pixels (ADR 0018).

The boundary is the set of valid non-zero pixels (as for fastDistanceTransform); every other
pixel belongs to the zero set. For each pixel p:

- its power point f(p) is the nearest boundary pixel (squared Euclidean distance D(p)); among
  several at the same distance, the one whose offset f(p) - p = (dy, dx) is smallest in
  (dy, dx) order, rows counted downwards. This rule depends on offsets only, so a chunk and the
  whole grid agree;
- xlabel = dx and ylabel = dy (pixels; 0 on the boundary);
- medial: the integer medial axis of Hesselink & Roerdink (2008, IEEE TPAMI 30(12)), with
  gamma = 1: for every pair of 4-adjacent zero-set pixels p, q whose power points are more
  than one pixel apart, the pixel of the pair nearer to the perpendicular bisector of f(p) and
  f(q) (both when equally near) is a medial pixel; its value is its distance sqrt(D), and 0
  elsewhere;
- coverage: on medial pixels, the number of distinct power points of the zero-set pixels of
  its 3x3 neighbourhood (itself included): the boundary points its maximal disc touches; 0
  elsewhere.

Every band is masked where no boundary pixel lies within `neighborhood` pixels; the halo read
is neighborhood + 1, so pairs and 3x3 neighbourhoods at the chunk's edge see their power points.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

from openee.raster.distance import targets
from openee.raster.grid import PixelGrid
from openee.raster.halo import UnaryHaloBand
from openee.raster.pixels import Pixels

BANDS = ("medial", "coverage", "xlabel", "ylabel")

# The four bands share one computation: the last window's result, per thread (a request reads
# the bands of a chunk one after the other in the same thread), dropped once all four are read.
_last = threading.local()


@lru_cache(maxsize=4)
def _offsets(max_d2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (dy, dx) with dy^2 + dx^2 <= max_d2 sorted by (d2, dy, dx); and for each d2 the
    first index of its offsets and how many there are."""
    r = int(np.floor(np.sqrt(max_d2)))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    dy, dx = dy.ravel(), dx.ravel()
    d2 = dy * dy + dx * dx
    keep = d2 <= max_d2
    dy, dx, d2 = dy[keep], dx[keep], d2[keep]
    order = np.lexsort((dx, dy, d2))
    dy, dx, d2 = dy[order], dx[order], d2[order]
    start = np.searchsorted(d2, np.arange(max_d2 + 1), side="left")
    count = np.searchsorted(d2, np.arange(max_d2 + 1), side="right") - start
    return dy, dx, start, count


def power_points(boundary: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squared distance to the nearest boundary pixel and its canonical offset (dy, dx);
    D = -1 where none lies within `limit` pixels."""
    h, w = boundary.shape
    d2 = np.full((h, w), -1, dtype=np.int64)
    oy = np.zeros((h, w), dtype=np.int64)
    ox = np.zeros((h, w), dtype=np.int64)
    if not boundary.any():
        return d2, oy, ox
    _, (ir, ic) = ndimage.distance_transform_edt(~boundary, return_indices=True)
    rows, cols = np.mgrid[0:h, 0:w]
    exact = (ir - rows).astype(np.int64) ** 2 + (ic - cols).astype(np.int64) ** 2
    within = exact <= limit * limit
    d2[within] = exact[within]
    todo_r, todo_c = np.nonzero(within & (exact > 0))
    if todo_r.size:
        dys, dxs, start, count = _offsets(int(exact[within].max()))
        d = exact[todo_r, todo_c]
        first, n = start[d], count[d]
        found = np.zeros(todo_r.size, dtype=bool)
        for k in range(int(n.max())):
            idx = np.nonzero(~found & (n > k))[0]
            if idx.size == 0:
                break
            cand_dy, cand_dx = dys[first[idx] + k], dxs[first[idx] + k]
            r, c = todo_r[idx] + cand_dy, todo_c[idx] + cand_dx
            inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
            hit = np.zeros(idx.size, dtype=bool)
            hit[inside] = boundary[r[inside], c[inside]]
            take = idx[hit]
            oy[todo_r[take], todo_c[take]] = cand_dy[hit]
            ox[todo_r[take], todo_c[take]] = cand_dx[hit]
            found[take] = True
    return d2, oy, ox


def medial_axis(boundary: np.ndarray, limit: int) -> dict[str, np.ndarray]:
    """The four bands (and 'valid') on a window; see the module docstring."""
    d2, oy, ox = power_points(boundary, limit)
    valid = d2 >= 0
    zero = valid & ~boundary
    h, w = boundary.shape
    rows, cols = np.mgrid[0:h, 0:w]
    fy, fx = rows + oy, cols + ox
    medial = np.zeros((h, w), dtype=bool)
    for ay, ax in ((0, 1), (1, 0)):
        # p = (r, c), q = (r + ay, c + ax)
        p = (slice(0, h - ay), slice(0, w - ax))
        q = (slice(ay, h), slice(ax, w))
        pair = zero[p] & zero[q]
        vy, vx = fy[p] - fy[q], fx[p] - fx[q]
        pair &= vy * vy + vx * vx > 1
        sy, sx = fy[p] + fy[q], fx[p] + fx[q]
        # twice the signed distances (times |v|) of p and q to the bisector of f(p), f(q)
        side_p = vy * (2 * rows[p] - sy) + vx * (2 * cols[p] - sx)
        side_q = vy * (2 * rows[q] - sy) + vx * (2 * cols[q] - sx)
        mark_p = pair & (np.abs(side_p) <= np.abs(side_q))
        mark_q = pair & (np.abs(side_q) <= np.abs(side_p))
        medial[p] |= mark_p
        medial[q] |= mark_q
    coverage = np.zeros((h, w), dtype=np.int32)
    mr, mc = np.nonzero(medial)
    if mr.size:
        # power points of the 3x3 neighbourhood as integer keys; -1 for non-zero-set pixels
        key = np.where(zero, fy * w + fx, -1)
        padded = np.pad(key, 1, constant_values=-1)
        stack = np.stack(
            [padded[mr + 1 + dy, mc + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=1
        )
        stack.sort(axis=1)
        distinct = (stack >= 0) & np.concatenate(
            [np.ones((mr.size, 1), bool), stack[:, 1:] != stack[:, :-1]], axis=1
        )
        coverage[mr, mc] = distinct.sum(axis=1)
    return {
        "medial": np.where(medial, np.sqrt(np.maximum(d2, 0)), 0.0),
        "coverage": coverage,
        "xlabel": np.where(valid, ox, 0).astype(np.int32),
        "ylabel": np.where(valid, oy, 0).astype(np.int32),
        "valid": valid,
    }


@dataclass(frozen=True)
class MedialAxisBand(UnaryHaloBand):
    """One band (`name` in BANDS) of the medial axis of `input`'s zero-valued pixels."""

    neighborhood: int
    name: str

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64) if self.name == "medial" else np.dtype(np.int32)

    def halo(self, grid: PixelGrid) -> int:
        return self.neighborhood + 1

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        key = (self.input, self.neighborhood, outer)
        cached = getattr(_last, "entry", None)
        if cached is None or cached[0] != key:
            cached = (key, medial_axis(targets(p), self.neighborhood), set[str]())
            _last.entry = cached
        bands, served = cached[1], cached[2]
        served.add(self.name)
        if len(served) == len(BANDS):  # all four read: free the window's arrays
            _last.entry = None
        return Pixels(bands[self.name], bands["valid"])
