"""Small-neighbourhood recipes: derivatives, gradients, zero crossings, neighbours as bands and
windowed entropy. Each reads a fixed halo, so chunks are exact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.halo import UnaryHaloBand, shifted
from openee.raster.neighborhood import metres_per_pixel
from openee.raster.pixels import Pixels
from openee.raster.runs import value_counts
from openee.values.kernel import Kernel, KernelMatrix

# Member values held at once by a stacked computation (entropy), in row strips.
_STACK_BUDGET = 1 << 22


def _members(m: KernelMatrix) -> list[tuple[int, int]]:
    """(dy, dx) offsets from the focus of the kernel cells with a non-zero weight, row-major."""
    w = m.array()
    return [(int(r) - m.y, int(c) - m.x) for r, c in zip(*np.nonzero(w), strict=True)]


def kernel_matrix(kernel: Kernel, grid: PixelGrid) -> KernelMatrix:
    return kernel.matrix(metres_per_pixel(grid) if kernel.metric else None)


def kernel_reach(m: KernelMatrix) -> int:
    return max(m.x, m.y, m.width - 1 - m.x, m.height - 1 - m.y)


@dataclass(frozen=True)
class DifferenceBand(UnaryHaloBand):
    """Central difference of `input` along 'x' (columns, rightwards) or 'y'.

    In pixel units (`per_metre` False) 'y' runs down the rows (pixel coordinates); per metre
    it runs north (up the rows) and the difference is divided by the pixel size in metres."""

    axis: str
    per_metre: bool = False

    dtype = np.dtype(np.float64)

    def halo(self, grid: PixelGrid) -> int:
        return 1

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        v = p.data.astype(np.float64)
        dr, dc = (0, 1) if self.axis == "x" else (1, 0)
        after, before = shifted(v, dr, dc), shifted(v, -dr, -dc)
        ok = p.valid & shifted(p.valid, dr, dc, False) & shifted(p.valid, -dr, -dc, False)
        diff = (after - before) / 2.0
        if self.per_metre:
            diff /= metres_per_pixel(outer)
            if self.axis == "y":
                diff = -diff
        return Pixels(diff, ok)


@dataclass(frozen=True)
class ZeroCrossingBand(UnaryHaloBand):
    """1 where the value and its right or lower neighbour have opposite signs (a zero between
    them), else 0; a masked neighbour counts as no crossing."""

    dtype = np.dtype(np.uint8)

    def halo(self, grid: PixelGrid) -> int:
        return 1

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        sign = np.sign(p.data.astype(np.float64))
        crossing = np.zeros(sign.shape, dtype=bool)
        for dr, dc in ((0, 1), (1, 0)):
            other = shifted(sign, dr, dc)
            ok = shifted(p.valid, dr, dc, False)
            crossing |= ok & (sign * other < 0)
        return Pixels(crossing.astype(np.uint8), p.valid)


@dataclass(frozen=True)
class OffsetBand(UnaryHaloBand):
    """The input's value at (dx, dy) pixels from each pixel (dy down the rows)."""

    dx: int
    dy: int

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def halo(self, grid: PixelGrid) -> int:
        return max(abs(self.dx), abs(self.dy))

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        return Pixels(shifted(p.data, self.dy, self.dx), shifted(p.valid, self.dy, self.dx, False))


@dataclass(frozen=True)
class EntropyBand(UnaryHaloBand):
    """-sum(p log2 p) over the distinct values among the unmasked members of the kernel around
    each pixel, p being each value's share of the members (kernel weights are not used)."""

    kernel: Kernel

    dtype = np.dtype(np.float64)

    def halo(self, grid: PixelGrid) -> int:
        return kernel_reach(kernel_matrix(self.kernel, grid))

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        members = _members(kernel_matrix(self.kernel, outer))
        h, w = p.data.shape
        entropy = np.zeros((h, w))
        n = np.zeros((h, w))
        # Row strips keep the stack of members bounded.
        rows = max(1, _STACK_BUDGET // max(1, len(members) * w))
        data = p.data.astype(np.float64)
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            values = np.stack([shifted(data, dr, dc)[r0:r1] for dr, dc in members])
            valid = np.stack([shifted(p.valid, dr, dc, False)[r0:r1] for dr, dc in members])
            counts, ok = value_counts(values, valid)
            size = ok.sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(ok, counts / np.maximum(size, 1), 1.0)
                # -sum over members of (1/n) log2(share of the member's value) is the entropy.
                entropy[r0:r1] = -(np.log2(share)).sum(axis=0) / np.maximum(size, 1)
            n[r0:r1] = size
        return Pixels(entropy, n > 0)
