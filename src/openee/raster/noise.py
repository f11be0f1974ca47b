"""Image.random: pseudo-random pixels that are a pure function of (seed, pixel location).

A pixel's value hashes the seed with the index of the pixel-sized cell that contains its centre
on the CRS's own lattice (x / pixel width, y / pixel height, floored), plus the pixel size and
the CRS. Any chunking of a request grid therefore gives every pixel the same value, and two
requests with the same grid agree; a different scale or CRS gives a fresh field.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from openee.raster.grid import PixelGrid, pixel_centres
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

DISTRIBUTIONS = ("uniform", "normal")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: Any) -> Any:
    """SplitMix64's finalizer: a bijective scramble of 64-bit words."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _word(value: int) -> np.uint64:
    return np.uint64(value & 0xFFFFFFFFFFFFFFFF)


def unit_interval(h: np.ndarray) -> np.ndarray:
    """The top 53 bits of each word as a double in [0, 1)."""
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


@dataclass(frozen=True)
class RandomBand(BandSource):
    """Uniform [0, 1) or standard normal values, seeded, as a function of pixel location."""

    seed: int
    distribution: str

    dtype = np.dtype(np.float64)

    def cell_hash(self, grid: PixelGrid) -> np.ndarray:
        x, y = pixel_centres(grid)
        t = grid.transform
        width, height = np.hypot(t.a, t.d), np.hypot(t.b, t.e)
        ix = np.floor(x / width).astype(np.int64).view(np.uint64)
        iy = np.floor(y / height).astype(np.int64).view(np.uint64)
        size_bits = np.array([width, height], dtype=np.float64).view(np.uint64)
        with np.errstate(over="ignore"):  # the arithmetic is modulo 2**64 on purpose
            key = mix64(_word(self.seed) ^ _word(zlib.crc32(grid.crs.encode())) * _GOLDEN)
            key = mix64(key ^ size_bits[0]) ^ mix64(size_bits[1] + _GOLDEN)
            return mix64(mix64(ix + key) ^ (iy * _GOLDEN))

    def read(self, grid: PixelGrid) -> Pixels:
        h = self.cell_hash(grid)
        if self.distribution == "uniform":
            data = unit_interval(h)
        else:
            # Box-Muller on two independent words of the cell.
            u1 = 1.0 - unit_interval(h)  # (0, 1], so the logarithm is finite
            u2 = unit_interval(mix64(h ^ _GOLDEN))
            data = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        return Pixels(data, np.ones(grid.shape, dtype=bool))
