"""Recipes that move pixels: an image displaced by a per-pixel vector (Image.displace), and the
displacement that registers one image to another (Image.displacement)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.halo import shifted
from openee.raster.neighborhood import metres_per_pixel, read_expanded
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

ORDERS = {"nearest": 0, "bilinear": 1, "bicubic": 3}
# A displacement wider than this many pixels is refused (it would read a huge window).
MAX_DISPLACEMENT_PX = 1024


@dataclass(frozen=True)
class DisplacedBand(BandSource):
    """`input` sampled at each pixel moved by (dx east, dy north) metres, read from the
    displacement bands; metres become pixels with the grid's nominal pixel size. Interpolated
    with `mode`; masked where the displacement or an input pixel used is masked."""

    input: BandSource
    dx: BandSource
    dy: BandSource
    mode: str = "bicubic"
    max_offset: float | None = None  # metres; read from the displacement when not given

    reads_other_grid = True

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype if self.mode == "nearest" else np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        dx, dy = self.dx.read(grid), self.dy.read(grid)
        ok = dx.valid & dy.valid
        scale = metres_per_pixel(grid)
        cols = np.where(ok, dx.data, 0).astype(np.float64) / scale
        rows = -np.where(ok, dy.data, 0).astype(np.float64) / scale
        reach = self.max_offset / scale if self.max_offset is not None else 0.0
        if ok.any():
            reach = max(reach, float(np.abs(cols[ok]).max()), float(np.abs(rows[ok]).max()))
        n = math.ceil(reach) + 2
        if n > MAX_DISPLACEMENT_PX:
            raise InvalidArgumentError(
                f"displace: displacements of more than {MAX_DISPLACEMENT_PX} pixels are refused."
            )
        outer = read_expanded(self.input, grid, n, n, n, n)
        r, c = np.mgrid[0 : grid.height, 0 : grid.width].astype(np.float64)
        where = np.stack([r + rows + n, c + cols + n])
        order = ORDERS[self.mode]
        values = ndimage.map_coordinates(
            outer.data.astype(np.float64), where, order=order, mode="nearest"
        )
        valid = ok & self._support_valid(outer.valid, where, order)
        data = np.where(valid, values, 0)
        if self.mode == "nearest":
            data = data.astype(self.dtype)
        return Pixels(data, valid)

    @staticmethod
    def _support_valid(valid: np.ndarray, where: np.ndarray, order: int) -> np.ndarray:
        """Whether every input pixel the interpolation at `where` uses is valid: the nearest
        one, the 2x2 (bilinear) or the 4x4 (bicubic) around the position."""
        h, w = valid.shape
        if order == 0:
            base, offsets = np.round(where).astype(np.int64), [0]
        else:
            base = np.floor(where).astype(np.int64)
            offsets = [0, 1] if order == 1 else [-1, 0, 1, 2]
        out = np.ones(where.shape[1:], dtype=bool)
        for dr in offsets:
            for dc in offsets:
                rr, cc = base[0] + dr, base[1] + dc
                inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
                out &= inside & valid[np.clip(rr, 0, h - 1), np.clip(cc, 0, w - 1)]
        return out


@lru_cache(maxsize=8)
def _best_offsets(
    image: tuple[BandSource, ...],
    reference: tuple[BandSource, ...],
    reach: int,
    patch: int,
    outer: PixelGrid,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel of the window: the (row, column) offset in [-reach, reach] minimising the mean
    squared difference between image(q + offset) and reference(q) over the (2 patch + 1)^2
    patch around it, summed over bands; and whether any offset had a valid patch."""
    imgs = [s.read(outer) for s in image]
    refs = [s.read(outer) for s in reference]
    shape = refs[0].data.shape
    best = np.full(shape, np.inf)
    best_r = np.zeros(shape, dtype=np.int64)
    best_c = np.zeros(shape, dtype=np.int64)
    size = 2 * patch + 1
    minimum = (size * size + 1) // 2  # at least half the patch must be valid
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            total = np.zeros(shape)
            count = np.zeros(shape)
            for a, b in zip(imgs, refs, strict=True):
                moved = shifted(a.data.astype(np.float64), dr, dc)
                ok = shifted(a.valid, dr, dc, False) & b.valid
                diff = np.where(ok, moved - b.data.astype(np.float64), 0.0)
                total += ndimage.uniform_filter(diff * diff, size, mode="constant")
                count += ndimage.uniform_filter(ok.astype(np.float64), size, mode="constant")
            n = count * size * size
            score = np.where(n >= minimum - 1e-9, total / np.maximum(count, 1e-12), np.inf)
            better = score < best
            best = np.where(better, score, best)
            best_r = np.where(better, dr, best_r)
            best_c = np.where(better, dc, best_c)
    return best_r, best_c, np.isfinite(best)


@dataclass(frozen=True)
class DisplacementBand(BandSource):
    """Image.displacement by block matching: for each pixel, the whole-pixel offset of at most
    `max_offset` metres that best aligns `image` to `reference` over a square patch
    (`patch_width` metres wide), as metres east ('dx') or north ('dy'). Pixels whose patch
    never has half its pixels valid are masked."""

    image: tuple[BandSource, ...]
    reference: tuple[BandSource, ...]
    max_offset: float
    patch_width: float
    axis: str  # "dx" or "dy"

    reads_other_grid = True

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        scale = metres_per_pixel(grid)
        reach = math.floor(self.max_offset / scale + 1e-9)
        patch = max(1, math.ceil(self.patch_width / scale / 2 - 1e-9))
        if reach > 32 or patch > 64:
            raise InvalidArgumentError(
                "displacement: maxOffset must be at most 32 pixels and patchWidth at most 129 "
                "pixels of the requested grid."
            )
        n = reach + patch
        outer = grid.subgrid(-n, -n, grid.height + 2 * n, grid.width + 2 * n)
        rows, cols, ok = _best_offsets(self.image, self.reference, reach, patch, outer)
        inner = (slice(n, n + grid.height), slice(n, n + grid.width))
        value = cols[inner] * scale if self.axis == "dx" else -rows[inner] * scale
        valid = ok[inner]
        return Pixels(np.where(valid, value, 0.0), valid.copy())
